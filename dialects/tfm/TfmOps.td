//===- TfmOps.td - tfm operation definitions ---------------*- tablegen -*-===//
//
// Conventions shared by every op:
//  * operands and results are ranked tensors; symbolic dims are `?`;
//  * result types are inferred (InferTypeOpInterface); a stored result type
//    may refine the inferred one (a static dim where inference gives `?`);
//  * axes are stored normalized to non-negative values;
//  * the assembly format is `operands attr-dict : functional-type`.
//
//===----------------------------------------------------------------------===//

#ifndef TFM_OPS_TD
#define TFM_OPS_TD

include "TfmDialect.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

//===----------------------------------------------------------------------===//
// Base classes
//===----------------------------------------------------------------------===//

def Tfm_Tensor : RankedTensorOf<[AnyType]>;
def Tfm_IndexTensor : RankedTensorOf<[I64], [HasAnyRankOfPred<[0, 1]>],
                                     "0-D or 1-D tensor of 64-bit integers">;
def Tfm_BoolTensor : RankedTensorOf<[I1]>;

// Every tfm op is side-effect free and infers its result types. The shared
// isCompatibleReturnTypes accepts a result type that refines the inferred
// one, so that known shapes (from ONNX value_info or a pinned input shape)
// may be kept where local inference only knows `?`.
class Tfm_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tfm_Dialect, mnemonic,
         !listconcat(traits, [Pure, InferTypeOpAdaptorWithIsCompatible])> {
  let extraClassDefinition = [{
    bool $cppClass::isCompatibleReturnTypes(::mlir::TypeRange inferred,
                                            ::mlir::TypeRange actual) {
      return ::mlir::tfm::isRefinementOf(inferred, actual);
    }
  }];
  let assemblyFormat =
      "operands attr-dict `:` functional-type(operands, results)";
}

// Numpy-broadcasting binary ops whose result has the operands' element type.
class Tfm_BroadcastArithOp<string mnemonic, string summaryText,
                           string onnxName, list<Trait> traits = []>
    : Tfm_Op<mnemonic, traits> {
  let summary = summaryText;
  let description = "Elementwise `" # onnxName # "` of two tensors with "
      # "numpy-style broadcasting (ONNX `" # onnxName # "`). Both operands "
      # "have the same element type.\n\n"
      # "Example:\n\n```mlir\n%r = tfm." # mnemonic
      # " %a, %b : (tensor<?x128x768xf32>, tensor<768xf32>) -> "
      # "tensor<?x128x768xf32>\n```";
  let arguments = (ins Tfm_Tensor:$lhs, Tfm_Tensor:$rhs);
  let results = (outs Tfm_Tensor:$result);
}

// Numpy-broadcasting comparisons and logical ops: the result is i1.
class Tfm_BroadcastPredicateOp<string mnemonic, string summaryText,
                               string onnxName, list<Trait> traits = []>
    : Tfm_Op<mnemonic, traits> {
  let summary = summaryText;
  let description = "Elementwise `" # onnxName # "` with numpy-style "
      # "broadcasting (ONNX `" # onnxName # "`); the result is a tensor of "
      # "i1.\n\nExample:\n\n```mlir\n%r = tfm." # mnemonic
      # " %a, %b : (tensor<?x?xi64>, tensor<i64>) -> tensor<?x?xi1>\n```";
  let arguments = (ins Tfm_Tensor:$lhs, Tfm_Tensor:$rhs);
  let results = (outs Tfm_BoolTensor:$result);
}

// Elementwise unary ops: the result has the operand's type.
class Tfm_UnaryOp<string mnemonic, string summaryText, string onnxName,
                  list<Trait> traits = []>
    : Tfm_Op<mnemonic, !listconcat(traits, [SameOperandsAndResultElementType])> {
  let summary = summaryText;
  let description = "Elementwise `" # onnxName # "` (ONNX `" # onnxName
      # "`); the result has the operand's type.\n\nExample:\n\n```mlir\n"
      # "%r = tfm." # mnemonic
      # " %x : (tensor<?x128xf32>) -> tensor<?x128xf32>\n```";
  let arguments = (ins Tfm_Tensor:$input);
  let results = (outs Tfm_Tensor:$result);
}

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def Tfm_ConstantOp : Tfm_Op<"constant", [ConstantLike]> {
  let summary = "A constant tensor: a weight or a folded value";
  let description = [{
    Holds an elements attribute. Initializers of an imported model are
    `dense_resource` blobs that alias the model's bytes (no copy, elided when
    printed); small constants (shape vectors, epsilons) are `dense`.

    ```mlir
    %w = tfm.constant dense_resource<encoder.0.attn.q.weight> : tensor<768x768xf32>
    %s = tfm.constant dense<[0, 0, 12, 64]> : tensor<4xi64>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Tfm_Tensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise arithmetic
//===----------------------------------------------------------------------===//

def Tfm_AddOp : Tfm_BroadcastArithOp<"add", "Elementwise addition", "Add", [Commutative]> {
  let hasFolder = 1;
}
def Tfm_SubOp : Tfm_BroadcastArithOp<"sub", "Elementwise subtraction", "Sub"> {
  let hasFolder = 1;
}
def Tfm_MulOp : Tfm_BroadcastArithOp<"mul", "Elementwise multiplication", "Mul", [Commutative]> {
  let hasFolder = 1;
}
def Tfm_DivOp : Tfm_BroadcastArithOp<"div", "Elementwise division", "Div"> {
  let hasFolder = 1;
}
def Tfm_MaxOp : Tfm_BroadcastArithOp<"max", "Elementwise maximum", "Max", [Commutative]>;
def Tfm_MinOp : Tfm_BroadcastArithOp<"min", "Elementwise minimum", "Min", [Commutative]>;

def Tfm_PowOp : Tfm_Op<"pow"> {
  let summary = "Elementwise power";
  let description = [{
    `base ^ exponent` with numpy-style broadcasting (ONNX `Pow`). The exponent
    may have another element type than the base; the result has the base's.

    ```mlir
    %sq = tfm.pow %x, %two : (tensor<?x128x768xf32>, tensor<f32>) -> tensor<?x128x768xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$base, Tfm_Tensor:$exponent);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_ModOp : Tfm_Op<"mod"> {
  let summary = "Elementwise remainder";
  let description = [{
    The remainder of `lhs / rhs` with numpy-style broadcasting (ONNX `Mod`):
    with the divisor's sign (Python's `%`) for integers, or with the
    dividend's (C's `fmod`) when `fmod` is set, which floats require. An
    integer remainder by 0 is 0 (ONNX leaves it undefined; tfc never traps).

    ```mlir
    %r = tfm.mod %a, %b : (tensor<?x4xi64>, tensor<i64>) -> tensor<?x4xi64>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$lhs, Tfm_Tensor:$rhs,
                       DefaultValuedAttr<BoolAttr, "false">:$fmod);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_BitShiftOp : Tfm_Op<"bit_shift"> {
  let summary = "Elementwise shift of unsigned integers";
  let description = [{
    `lhs << rhs` (`direction = "left"`) or `lhs >> rhs` (`"right"`) with
    numpy-style broadcasting (ONNX `BitShift`), on unsigned integers. A shift
    by the width or more gives 0 (LLVM leaves it undefined).

    ```mlir
    %r = tfm.bit_shift %x, %n {direction = "right"} : (tensor<4xui32>, tensor<ui32>) -> tensor<4xui32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$lhs, Tfm_Tensor:$rhs, StrAttr:$direction);
  let results = (outs Tfm_Tensor:$result);
}

//===----------------------------------------------------------------------===//
// Comparisons and logic
//===----------------------------------------------------------------------===//

def Tfm_EqualOp : Tfm_BroadcastPredicateOp<"equal", "Elementwise equality", "Equal", [Commutative]> {
  let hasFolder = 1;
}
def Tfm_LessOp : Tfm_BroadcastPredicateOp<"less", "Elementwise less-than", "Less">;
def Tfm_LessOrEqualOp : Tfm_BroadcastPredicateOp<"less_or_equal", "Elementwise less-or-equal", "LessOrEqual">;
def Tfm_GreaterOp : Tfm_BroadcastPredicateOp<"greater", "Elementwise greater-than", "Greater">;
def Tfm_GreaterOrEqualOp : Tfm_BroadcastPredicateOp<"greater_or_equal", "Elementwise greater-or-equal", "GreaterOrEqual">;
def Tfm_AndOp : Tfm_BroadcastPredicateOp<"and", "Elementwise logical and", "And", [Commutative]>;
def Tfm_OrOp : Tfm_BroadcastPredicateOp<"or", "Elementwise logical or", "Or", [Commutative]>;
def Tfm_XorOp : Tfm_BroadcastPredicateOp<"xor", "Elementwise logical xor", "Xor", [Commutative]>;

def Tfm_NotOp : Tfm_UnaryOp<"not", "Elementwise logical not", "Not">;

//===----------------------------------------------------------------------===//
// Elementwise unary math
//===----------------------------------------------------------------------===//

def Tfm_NegOp : Tfm_UnaryOp<"neg", "Elementwise negation", "Neg"> {
  let hasFolder = 1;
}
def Tfm_AbsOp : Tfm_UnaryOp<"abs", "Elementwise absolute value", "Abs">;
def Tfm_SqrtOp : Tfm_UnaryOp<"sqrt", "Elementwise square root", "Sqrt">;
def Tfm_ExpOp : Tfm_UnaryOp<"exp", "Elementwise exponential", "Exp">;
def Tfm_LogOp : Tfm_UnaryOp<"log", "Elementwise natural logarithm", "Log">;
def Tfm_ErfOp : Tfm_UnaryOp<"erf", "Elementwise error function", "Erf">;
def Tfm_TanhOp : Tfm_UnaryOp<"tanh", "Elementwise hyperbolic tangent", "Tanh">;
def Tfm_SinOp : Tfm_UnaryOp<"sin", "Elementwise sine", "Sin">;
def Tfm_CosOp : Tfm_UnaryOp<"cos", "Elementwise cosine", "Cos">;
def Tfm_FloorOp : Tfm_UnaryOp<"floor", "Elementwise floor", "Floor">;
def Tfm_CeilOp : Tfm_UnaryOp<"ceil", "Elementwise ceiling", "Ceil">;
def Tfm_ReciprocalOp : Tfm_UnaryOp<"reciprocal", "Elementwise reciprocal", "Reciprocal">;
def Tfm_ReluOp : Tfm_UnaryOp<"relu", "Rectified linear unit", "Relu">;
def Tfm_SigmoidOp : Tfm_UnaryOp<"sigmoid", "Logistic sigmoid", "Sigmoid">;
def Tfm_TanOp : Tfm_UnaryOp<"tan", "Elementwise tangent", "Tan">;
def Tfm_AsinOp : Tfm_UnaryOp<"asin", "Elementwise arcsine", "Asin">;
def Tfm_AcosOp : Tfm_UnaryOp<"acos", "Elementwise arccosine", "Acos">;
def Tfm_AtanOp : Tfm_UnaryOp<"atan", "Elementwise arctangent", "Atan">;
def Tfm_SinhOp : Tfm_UnaryOp<"sinh", "Elementwise hyperbolic sine", "Sinh">;
def Tfm_CoshOp : Tfm_UnaryOp<"cosh", "Elementwise hyperbolic cosine", "Cosh">;
def Tfm_AsinhOp : Tfm_UnaryOp<"asinh", "Elementwise inverse hyperbolic sine", "Asinh">;
def Tfm_AcoshOp : Tfm_UnaryOp<"acosh", "Elementwise inverse hyperbolic cosine", "Acosh">;
def Tfm_AtanhOp : Tfm_UnaryOp<"atanh", "Elementwise inverse hyperbolic tangent", "Atanh">;
def Tfm_RoundOp : Tfm_UnaryOp<"round", "Elementwise rounding, halves to even", "Round">;
def Tfm_SignOp : Tfm_UnaryOp<"sign", "Elementwise sign: -1, 0 or 1 (NaN stays NaN)", "Sign">;

def Tfm_IsNaNOp : Tfm_Op<"is_nan"> {
  let summary = "Elementwise test for NaN";
  let description = [{
    True where a float element is NaN (ONNX `IsNaN`).

    ```mlir
    %r = tfm.is_nan %x : (tensor<?x4xf32>) -> tensor<?x4xi1>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input);
  let results = (outs Tfm_BoolTensor:$result);
}

def Tfm_IsInfOp : Tfm_Op<"is_inf"> {
  let summary = "Elementwise test for infinities";
  let description = [{
    True where a float element is +inf (when `detect_positive`) or -inf
    (when `detect_negative`) (ONNX `IsInf`).

    ```mlir
    %r = tfm.is_inf %x {detect_negative = false} : (tensor<?x4xf32>) -> tensor<?x4xi1>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input,
                       DefaultValuedAttr<BoolAttr, "true">:$detect_positive,
                       DefaultValuedAttr<BoolAttr, "true">:$detect_negative);
  let results = (outs Tfm_BoolTensor:$result);
}

def Tfm_IdentityOp : Tfm_UnaryOp<"identity", "Identity", "Identity"> {
  let hasFolder = 1;
}

def Tfm_DropoutOp : Tfm_UnaryOp<"dropout", "Dropout at inference: the identity", "Dropout"> {
  let description = [{
    ONNX `Dropout` in inference mode, where it passes its input through. The
    op exists so that a graph can be printed as exported; it folds to its
    input, and the importer folds it away as it builds the graph. Models that
    use Dropout's mask output or training mode are rejected at import.

    ```mlir
    %y = tfm.dropout %x : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
    ```
  }];
  let hasFolder = 1;
}

def Tfm_GeluOp : Tfm_UnaryOp<"gelu", "Gaussian error linear unit", "Gelu"> {
  let description = [{
    `0.5 * x * (1 + erf(x / sqrt(2)))`, or with `approximation = "tanh"`
    `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))` (ONNX `Gelu`,
    opset 20; the fusion pass forms it from the decompositions that exporters
    emit).

    ```mlir
    %y = tfm.gelu %x {approximation = "tanh"} : (tensor<?x3072xf32>) -> tensor<?x3072xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input,
                       DefaultValuedStrAttr<StrAttr, "none">:$approximation);
}

//===----------------------------------------------------------------------===//
// Activations
//===----------------------------------------------------------------------===//

// The activation functions of ONNX, each with its float attributes and their
// ONNX defaults (the importer writes every attribute explicitly).
class Tfm_ActivationOp<string mnemonic, string summaryText, string onnxName,
                       string formula, dag attributes = (ins)>
    : Tfm_UnaryOp<mnemonic, summaryText, onnxName> {
  let description = "`" # formula # "` elementwise (ONNX `" # onnxName
      # "`), on floating-point tensors; the result has the operand's "
      # "type.\n\nExample:\n\n```mlir\n%r = tfm." # mnemonic
      # " %x : (tensor<?x128xf32>) -> tensor<?x128xf32>\n```";
  let arguments = !con((ins Tfm_Tensor:$input), attributes);
}

def Tfm_EluOp : Tfm_ActivationOp<"elu", "Exponential linear unit", "Elu",
    "x < 0 ? alpha * (exp(x) - 1) : x",
    (ins DefaultValuedAttr<F32Attr, "1.0">:$alpha)>;
def Tfm_CeluOp : Tfm_ActivationOp<"celu", "Continuously differentiable exponential linear unit",
    "Celu", "max(0, x) + min(0, alpha * (exp(x / alpha) - 1))",
    (ins DefaultValuedAttr<F32Attr, "1.0">:$alpha)>;
def Tfm_SeluOp : Tfm_ActivationOp<"selu", "Scaled exponential linear unit", "Selu",
    "x > 0 ? gamma * x : gamma * alpha * (exp(x) - 1)",
    (ins DefaultValuedAttr<F32Attr, "1.67326319217681884765625">:$alpha,
         DefaultValuedAttr<F32Attr, "1.05070102214813232421875">:$gamma)>;
def Tfm_LeakyReluOp : Tfm_ActivationOp<"leaky_relu", "Leaky rectified linear unit",
    "LeakyRelu", "x < 0 ? alpha * x : x",
    (ins DefaultValuedAttr<F32Attr, "0.01">:$alpha)>;
def Tfm_ThresholdedReluOp : Tfm_ActivationOp<"thresholded_relu",
    "Thresholded rectified linear unit", "ThresholdedRelu", "x > alpha ? x : 0",
    (ins DefaultValuedAttr<F32Attr, "1.0">:$alpha)>;
def Tfm_HardSigmoidOp : Tfm_ActivationOp<"hard_sigmoid", "Piecewise linear sigmoid",
    "HardSigmoid", "max(0, min(1, alpha * x + beta))",
    (ins DefaultValuedAttr<F32Attr, "0.2">:$alpha,
         DefaultValuedAttr<F32Attr, "0.5">:$beta)>;
def Tfm_HardSwishOp : Tfm_ActivationOp<"hard_swish", "Piecewise linear swish",
    "HardSwish", "x * max(0, min(1, x / 6 + 1 / 2))">;
def Tfm_SoftplusOp : Tfm_ActivationOp<"softplus", "Smooth rectifier", "Softplus",
    "log(1 + exp(x))">;
def Tfm_SoftsignOp : Tfm_ActivationOp<"softsign", "Softsign", "Softsign",
    "x / (1 + |x|)">;
def Tfm_MishOp : Tfm_ActivationOp<"mish", "Self-regularized activation", "Mish",
    "x * tanh(log(1 + exp(x)))">;
def Tfm_PReluOp : Tfm_BroadcastArithOp<"prelu", "Leaky rectified linear unit with learned slopes",
    "PRelu"> {
  let description = [{
    `x < 0 ? slope * x : x` elementwise (ONNX `PRelu`), the slope broadcast
    numpy-style against `x` (ONNX broadcasts it to `x`'s shape only); floats.

    ```mlir
    %r = tfm.prelu %x, %slope : (tensor<?x64x16xf32>, tensor<64x1xf32>) -> tensor<?x64x16xf32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Contractions and convolution
//===----------------------------------------------------------------------===//

def Tfm_MatMulOp : Tfm_Op<"matmul"> {
  let summary = "Matrix product with numpy semantics";
  let description = [{
    ONNX `MatMul`: a 1-D operand is promoted to a matrix (and the added dim
    removed from the result), leading dims are batch dims and broadcast.

    ```mlir
    %y = tfm.matmul %x, %w : (tensor<?x128x768xf32>, tensor<768x3072xf32>) -> tensor<?x128x3072xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$lhs, Tfm_Tensor:$rhs);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_GemmOp : Tfm_Op<"gemm"> {
  let summary = "General matrix multiply: alpha * op(a) * op(b) + beta * c";
  let description = [{
    ONNX `Gemm` on 2-D operands; `trans_a`/`trans_b` transpose the operands
    and the optional `c` broadcasts to the `[M, N]` result.

    ```mlir
    %y = tfm.gemm %x, %w, %b {trans_b = true} : (tensor<?x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>) -> tensor<?x3072xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$a, Tfm_Tensor:$b, Optional<Tfm_Tensor>:$c,
                       DefaultValuedAttr<F32Attr, "1.0">:$alpha,
                       DefaultValuedAttr<F32Attr, "1.0">:$beta,
                       DefaultValuedAttr<BoolAttr, "false">:$trans_a,
                       DefaultValuedAttr<BoolAttr, "false">:$trans_b);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_LinearOp : Tfm_Op<"linear", [AttrSizedOperandSegments]> {
  let summary = "Matrix product with its epilogue: activation(x w + bias) + residual";
  let description = [{
    `x` is `[..., K]`, `weight` is `[K, N]`, the result `[..., N]`. The
    optional `bias` (`[N]`) is added to each row, `activation` (`none`,
    `relu`, `gelu`, `gelu_tanh`) applies to the sum, and the optional
    `residual` (broadcastable to the result) is added last. The fusion pass
    `--tfm-fuse-epilogues` forms it from MatMul, Add, the activation and the
    residual Add, so that the product's output is written once instead of
    once per op.

    Element types: a float input and weight of one type (f32, f16, bf16)
    give a result of that type; an f32 input by a bf16 weight
    (`tfc compile --quantize=bf16`) gives f32: the input is rounded to bf16
    (nearest, ties to even) and the bf16 products are summed in f32, as
    AVX512-BF16's `vdpbf16ps` does; an integer input (`i8` or `ui8`) by an `i8`
    weight gives the exact `i32` product (ONNX MatMulInteger without zero
    points), with an `i32` bias and residual and no activation but `relu`.

    ```mlir
    %y = tfm.linear %x, %w, %b {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 0>}
        : (tensor<?x?x768xf32>, tensor<768x3072xf32>, tensor<3072xf32>) -> tensor<?x?x3072xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_Tensor:$weight,
                       Optional<Tfm_Tensor>:$bias, Optional<Tfm_Tensor>:$residual,
                       DefaultValuedStrAttr<StrAttr, "none">:$activation);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_QuantizeLinearOp : Tfm_Op<"quantize_linear"> {
  let summary = "Floats to integers: saturate(round(x / scale) + zero_point)";
  let description = [{
    ONNX `QuantizeLinear`: `round(x / scale) + zero_point` (rounding half
    to even), clamped to the range of `to` (`i8`, `ui8`, `i16` or `ui16`).
    `scale` (f32) and the optional `zero_point` (of type `to`; 0 when
    absent) are 0-D (per tensor) or 1-D along `axis` (per axis).

    ```mlir
    %q = tfm.quantize_linear %x, %s, %z {axis = 1 : i64, to = ui8} : (tensor<?x768xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x768xui8>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_Tensor:$scale,
                       Optional<Tfm_Tensor>:$zero_point, I64Attr:$axis,
                       TypeAttr:$to);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_DequantizeLinearOp : Tfm_Op<"dequantize_linear"> {
  let summary = "Integers to floats: (x - zero_point) * scale";
  let description = [{
    ONNX `DequantizeLinear`: `(x - zero_point) * scale` for an `i8`, `ui8`,
    `i16`, `ui16` or `i32` input, the difference taken exactly. `scale`
    (f32) and the optional `zero_point` (the input's type; 0 when absent)
    are 0-D (per tensor) or 1-D along `axis` (per axis).

    With `block_size` B > 0 (opset 21's blocked form) they have the input's
    rank instead: the input's shape with `ceil(D / B)` along `axis` (D the
    input's size there), element `i` along `axis` taking parameter `i / B`.
    ONNX's `INT4` and `UINT4` tensors import a value to a byte (`i8`, `ui8`),
    so 4-bit weights dequantize in this form:

    ```mlir
    %w = tfm.dequantize_linear %wq, %s {axis = 1 : i64} : (tensor<768x768xi8>, tensor<768xf32>) -> tensor<768x768xf32>
    %w4 = tfm.dequantize_linear %w4q, %s4, %z4 {axis = 0 : i64, block_size = 32 : i64}
        : (tensor<768x768xi8>, tensor<24x768xf32>, tensor<24x768xi8>) -> tensor<768x768xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_Tensor:$scale,
                       Optional<Tfm_Tensor>:$zero_point, I64Attr:$axis,
                       DefaultValuedAttr<I64Attr, "0">:$block_size);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_DynamicQuantizeLinearOp : Tfm_Op<"dynamic_quantize_linear"> {
  let summary = "Floats to ui8 with a scale and zero point computed from the data";
  let description = [{
    ONNX `DynamicQuantizeLinear`: over the whole input, with its range
    widened to hold 0, `scale = (max - min) / 255` and `zero_point =
    saturate(round(-min / scale))`, then `y = saturate(round(x / scale) +
    zero_point)` in `ui8`. A range of width 0 gives scale 1 and zero point 0
    (ONNX leaves it undefined). The form ONNX Runtime's dynamic quantizer
    writes before each `MatMulInteger`.

    ```mlir
    %y, %scale, %zero = tfm.dynamic_quantize_linear %x : (tensor<?x?x768xf32>) -> (tensor<?x?x768xui8>, tensor<f32>, tensor<ui8>)
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input);
  let results = (outs Tfm_Tensor:$result, Tfm_Tensor:$scale, Tfm_Tensor:$zero_point);
}

def Tfm_QuantizedLinearOp : Tfm_Op<"quantized_linear", [AttrSizedOperandSegments]> {
  let summary = "Linear with 8- or 4-bit weights, activations quantized as it runs or not";
  let description = [{
    `activation(dequant(quant(x) qweight) + bias) + residual`: `x` is a float
    `[..., K]`, `weight` an `i8` or `ui8` `[K, N]` constant with
    `weight_scale` (`f32`, `[N]` per output channel or `[1]`) and the
    optional `weight_zero_point` (the weight's type, `[N]` or `[1]`; zero
    when absent): the weight's value is `(weight - zero_point) * scale`.

    Group-wise weights (int4: `tfc compile --quantize=int4`, ONNX Runtime's
    MatMulNBits) have a scale per group of G rows of each column:
    `weight_scale` `[K / G, N]` and `weight_zero_point` the same shape, row
    k of the weight scaled by row `k / G` of both. `weight_bits` says how
    many bits the values take (8, or 4: -8 to 7 in `i8`, 0 to 15 in `ui8`,
    stored a byte each; the target packs them). Group-wise scales need
    `input_quantization = "none"`.

    The input is quantized to 8 bits as the op runs, by
    `input_quantization`:

    - `row`: per row (the last dim), symmetric: `scale = max|x| / 127`,
      values in [-127, 127] (`tfc compile --quantize=int8`);
    - `tensor`: over the whole input, asymmetric `ui8` as ONNX's
      `DynamicQuantizeLinear` (the form ONNX Runtime's dynamic quantizer
      writes);
    - `static`: by the given `input_scale` (`f32`, 0-D) and
      `input_zero_point` (0-D `i8` or `ui8`, its type the quantized type;
      `ui8` 0 when absent): calibrated or QDQ models;
    - `none`: not at all (weight-only quantization): the weight is
      dequantized and multiplies the f32 input in f32.

    Quantized inputs' products are summed exactly in 32 bits, then scaled
    by the input's and the weight's scales. `bias`, `activation` and `residual` are
    `tfm.linear`'s epilogue, in f32. `--tfm-quantize` forms the op from
    `tfm.linear`; the importer from ONNX's quantized forms.

    ```mlir
    %y = tfm.quantized_linear %x, %w, %s, %b {activation = "gelu", input_quantization = "row",
           operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 0>}
        : (tensor<?x?x768xf32>, tensor<768x3072xi8>, tensor<3072xf32>, tensor<3072xf32>) -> tensor<?x?x3072xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_Tensor:$weight,
                       Tfm_Tensor:$weight_scale,
                       Optional<Tfm_Tensor>:$weight_zero_point,
                       Optional<Tfm_Tensor>:$bias, Optional<Tfm_Tensor>:$residual,
                       Optional<Tfm_Tensor>:$input_scale,
                       Optional<Tfm_Tensor>:$input_zero_point,
                       DefaultValuedStrAttr<StrAttr, "none">:$activation,
                       DefaultValuedStrAttr<StrAttr, "row">:$input_quantization,
                       DefaultValuedAttr<I64Attr, "8">:$weight_bits);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_ConvOp : Tfm_Op<"conv"> {
  let summary = "N-d convolution (patch embeddings)";
  let description = [{
    ONNX `Conv` with explicit padding: `x` is `[N, C, D1..Dn]`, `weight` is
    `[M, C / group, K1..Kn]`, the optional `bias` is `[M]`. `pads` holds the
    begin pads of every spatial dim, then the end pads. The importer resolves
    `auto_pad` into `pads` and fills defaulted attributes.

    ```mlir
    %p = tfm.conv %img, %w, %b {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 16, 16>}
        : (tensor<?x3x224x224xf32>, tensor<384x3x16x16xf32>, tensor<384xf32>) -> tensor<?x384x14x14xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_Tensor:$weight,
                       Optional<Tfm_Tensor>:$bias,
                       DenseI64ArrayAttr:$strides, DenseI64ArrayAttr:$pads,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<I64Attr, "1">:$group);
  let results = (outs Tfm_Tensor:$result);
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

def Tfm_AttentionOp : Tfm_Op<"attention"> {
  let summary = "Multi-head scaled dot-product attention";
  let description = [{
    `softmax(q kᵀ * scale + mask) v` for each of `num_heads` heads. Each of
    `q`, `k` and `v` comes in one of two layouts:

    * token-major, rank 3: `[B, L, heads * head_dim]`, as the Q, K and V
      projections produce it, so no head transposes are needed; head `h`
      is columns `[h * d, (h + 1) * d)`;
    * head-major, rank 4: `[B, heads, L, head_dim]`, for inputs computed
      per head (rotary embeddings, a KV cache concatenated per head).

    `q` has `N = num_heads` heads of `dk`; `k` and `v` have the same number
    of heads, or fewer (grouped-query attention: `N` a multiple of theirs,
    query head `h` reading KV head `h / (N / Nkv)`), `k` of `dk`, `v` of
    `dv`. The result is `[B, Lq, N * dv]`, token-major.
    * `mask` (optional) is added to the scores; it broadcasts to
      `[B, N, Lq, Lk]` (a padding mask is `[B, 1, 1, Lk]`) and holds 0 for
      visible keys and a large negative value for hidden ones.
    * `causal` hides key `j` from query `i` when `j > i + (Lk - Lq)`: the
      queries are the last `Lq` positions of the `Lk` keys, so a prefill
      (`Lq == Lk`) sees the lower triangle. A query that sees no key gets
      zeros.

    * `precision` is the element type of the two products' operands: `f32`,
      or `bf16` (`tfc compile --quantize=bf16`): q (scaled), k, v and the
      softmax's probabilities are rounded to bf16 (nearest, ties to even)
      and their products summed in f32; the softmax itself stays f32.

    The fusion pass `--tfm-fuse-attention` forms this op from the
    MatMul/Softmax/MatMul subgraphs that exporters emit. On CPU it runs as
    one tiled kernel with an online softmax that never holds the
    `Lq x Lk` scores of a head.

    ```mlir
    %o = tfm.attention %q, %k, %v, %mask {num_heads = 12 : i64, scale = 1.250000e-01 : f32}
        : (tensor<?x?x768xf32>, tensor<?x?x768xf32>, tensor<?x?x768xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x768xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$query, Tfm_Tensor:$key, Tfm_Tensor:$value,
                       Optional<Tfm_Tensor>:$mask, I64Attr:$num_heads,
                       F32Attr:$scale,
                       DefaultValuedAttr<BoolAttr, "false">:$causal,
                       DefaultValuedStrAttr<StrAttr, "f32">:$precision);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_LinearAttentionOp : Tfm_Op<"linear_attention"> {
  let summary = "Linear attention: kernel feature maps, optional causal decay";
  let description = [{
    Attention whose weights factor through a feature map, so that it costs
    time linear in the sequence: for each of the `N` heads, query `i` gets

    ```
    w_ij  = scale * φ(q_i) · φ(k_j) * γ^(i' - j)    for visible keys j
    o_i   = Σ_j w_ij v_j                   (no epsilon)
    o_i   = Σ_j w_ij v_j / (Σ_j w_ij + ε)  (epsilon = ε: normalized)
    ```

    `q` is `[B, Lq, N, dk]`, `k` `[B, Lk, N, dk]`, `v` `[B, Lk, N, dv]`
    (token-major, heads split: the layout exporters reshape projections
    to); the result is `[B, Lq, N, dv]`.

    * `feature_map` is φ, applied to q and k elementwise: `none` (the
      identity: retention), `elu_plus_one` (elu(x) + 1, Katharopoulos et
      al.), `relu` or `exp`. `elu_plus_one` is computed as the exported graph
      computes it, `(e^x - 1) + 1` rounded in f32 for x <= 0,
      not as e^x: in f32 that is 0 below about -17, models trained in f32
      learned with it, and the trained fixture's third layer moves by 0.34
      when e^x is used instead. `exp` (e^x) is for q and k that are already
      projections: Performer's positive random features, `exp(W x -
      |x|² / 2)`, which `--tfm-linearize` builds.
    * `causal`: query `i` is position `i' = i + (Lk - Lq)` (the queries are
      the last Lq of the Lk positions) and sees keys `j <= i'`. Otherwise
      every query sees every key.
    * `decay` (optional, causal only): `[N]`, each head's γ (RetNet, gated
      linear attention's fixed gates): key `j` is weighted by `γ^(i' - j)`.
    * `window` (W > 0, with `window_dim` = E): a sliding window of exact
      weights. The last E values of each q and k row are not features but
      a row of their own (`qw_i`, `kw_j`), and the keys within W positions
      of the query (`i' - W < j <= i'` causal, `|i' - j| < W` not) weigh
      `exp(qw_i · kw_j)` instead: softmax's weight when `qw`, `kw` carry the
      scaled q and k (and the normalizer's offset, which `--tfm-linearize`
      folds in), so the hybrid is exact softmax near each query and the
      feature map's approximation beyond. The features are the first
      `dk - E` values; no decay with a window.

    The fusion pass `--tfm-fuse-linear-attention` forms this op from the
    prefix sums (CumSum) that exporters emit for causal linear attention.
    On CPU it runs as a chunked kernel carrying a `dk x dv` state per head:
    time and memory linear in the sequence. The generic lowering (other
    element types and targets) materializes the `Lq x Lk` weights.

    ```mlir
    %o = tfm.linear_attention %q, %k, %v {causal = true, epsilon = 9.99999997E-7 : f32, feature_map = "elu_plus_one"}
        : (tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$query, Tfm_Tensor:$key, Tfm_Tensor:$value,
                       Optional<Tfm_Tensor>:$decay,
                       DefaultValuedStrAttr<StrAttr, "none">:$feature_map,
                       DefaultValuedAttr<F32Attr, "1.0">:$scale,
                       DefaultValuedAttr<BoolAttr, "false">:$causal,
                       OptionalAttr<F32Attr>:$epsilon,
                       DefaultValuedAttr<I64Attr, "0">:$window,
                       DefaultValuedAttr<I64Attr, "0">:$window_dim);
  let results = (outs Tfm_Tensor:$result);
}

//===----------------------------------------------------------------------===//
// Normalization and reductions
//===----------------------------------------------------------------------===//

def Tfm_SoftmaxOp : Tfm_Op<"softmax", [SameOperandsAndResultElementType]> {
  let summary = "Softmax along one axis";
  let description = [{
    `exp(x) / sum(exp(x))` along `axis` (ONNX `Softmax` from opset 13).

    ```mlir
    %p = tfm.softmax %scores {axis = 3 : i64} : (tensor<?x12x?x?xf32>) -> tensor<?x12x?x?xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, I64Attr:$axis);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_LayerNormOp : Tfm_Op<"layer_norm", [SameOperandsAndResultElementType]> {
  let summary = "Layer normalization over the trailing dims from `axis`";
  let description = [{
    Normalizes `x` to zero mean and unit variance over dims `[axis, rank)`,
    then multiplies by `scale` and adds the optional `bias`, both
    broadcastable to those dims (ONNX `LayerNormalization`, opset 17, with
    only its first output).

    ```mlir
    %y = tfm.layer_norm %x, %gamma, %beta {axis = 2 : i64, epsilon = 9.99999996E-13 : f32}
        : (tensor<?x128x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_Tensor:$scale,
                       Optional<Tfm_Tensor>:$bias, I64Attr:$axis,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_AddLayerNormOp : Tfm_Op<"add_layer_norm", [SameOperandsAndResultElementType]> {
  let summary = "Layer normalization of a residual sum: layer_norm(x + skip)";
  let description = [{
    `layer_norm(input + skip)` over the dims from `axis`, with `scale` and the
    optional `bias` as in `tfm.layer_norm`; `skip` broadcasts to `input`'s
    shape (a position embedding may lack the batch). The sum is formed as the
    normalization reads it, never stored. The fusion
    pass `--tfm-fuse-epilogues` forms it from an `Add` whose only user is a
    layer norm (BERT's embeddings, post-norm residuals).

    ```mlir
    %y = tfm.add_layer_norm %x, %r, %gamma, %beta {axis = 2 : i64, epsilon = 9.99999996E-13 : f32}
        : (tensor<?x128x768xf32>, tensor<?x128x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_Tensor:$skip, Tfm_Tensor:$scale,
                       Optional<Tfm_Tensor>:$bias, I64Attr:$axis,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_RmsNormOp : Tfm_Op<"rms_norm", [SameOperandsAndResultElementType]> {
  let summary = "RMS normalization over the trailing dims from `axis`";
  let description = [{
    `x / sqrt(mean(x^2) + epsilon) * scale` over dims `[axis, rank)`, with
    `scale` broadcastable to those dims (ONNX `RMSNormalization`, opset 23;
    the fusion pass forms it from the decomposition that exporters emit for
    LLaMA-style models).

    ```mlir
    %y = tfm.rms_norm %x, %gamma {axis = 2 : i64, epsilon = 9.99999997E-7 : f32}
        : (tensor<?x128x768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_Tensor:$scale, I64Attr:$axis,
                       DefaultValuedAttr<F32Attr, "1.0e-5">:$epsilon);
  let results = (outs Tfm_Tensor:$result);
}

class Tfm_ReduceOp<string mnemonic, string kind, string onnxName>
    : Tfm_Op<mnemonic, [SameOperandsAndResultElementType]> {
  let summary = "Reduction by " # kind # " over a set of axes";
  let description = "Reduces `input` by " # kind # " over `axes` (all dims "
      # "when empty); `keepdims` keeps the reduced dims with size 1 (ONNX `"
      # onnxName # "`; the importer turns an axes input into the attribute)."
      # "\n\nExample:\n\n```mlir\n%m = tfm." # mnemonic
      # " %x {axes = array<i64: 2>, keepdims = true} : "
      # "(tensor<?x128x768xf32>) -> tensor<?x128x1xf32>\n```";
  let arguments = (ins Tfm_Tensor:$input, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_ReduceMeanOp : Tfm_ReduceOp<"reduce_mean", "mean", "ReduceMean">;
def Tfm_ReduceSumOp : Tfm_ReduceOp<"reduce_sum", "sum", "ReduceSum">;
def Tfm_ReduceMaxOp : Tfm_ReduceOp<"reduce_max", "maximum", "ReduceMax">;
class Tfm_ArgReduceOp<string mnemonic, string kind, string onnxName>
    : Tfm_Op<mnemonic> {
  let summary = "Index of the " # kind # " along an axis";
  let description = "The index (i64) of the " # kind # " of `input` along "
      # "`axis`, the first one or with `select_last_index` the last one "
      # "where several are equal; `keepdims` keeps the axis with size 1 "
      # "(ONNX `" # onnxName # "`). NaN is never selected over a number.\n\n"
      # "Example:\n\n```mlir\n%i = tfm." # mnemonic
      # " %logits {axis = 1 : i64, keepdims = false} : "
      # "(tensor<?x1000xf32>) -> tensor<?xi64>\n```";
  let arguments = (ins Tfm_Tensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                       DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_ArgMaxOp : Tfm_ArgReduceOp<"arg_max", "maximum", "ArgMax">;
def Tfm_ArgMinOp : Tfm_ArgReduceOp<"arg_min", "minimum", "ArgMin">;

def Tfm_TopKOp : Tfm_Op<"top_k"> {
  let summary = "The k largest (or smallest) elements along an axis";
  let description = [{
    ONNX `TopK`: `values` holds the `k` largest elements along `axis`
    (smallest without `largest`), best first, and `indices` (i64) their
    positions; of equal values the lower index comes first. `k` is a 0-D or
    1-element i64 tensor; a `k` known only at run time leaves that dim `?`
    and must lie in [0, dim]. `sorted` is kept for the record: the results
    are always sorted. NaNs are never selected ahead of numbers.

    ```mlir
    %v, %i = tfm.top_k %logits, %k {axis = 1 : i64} : (tensor<?x32000xf32>, tensor<1xi64>) -> (tensor<?x50xf32>, tensor<?x50xi64>)
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_IndexTensor:$k, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$largest,
                       DefaultValuedAttr<BoolAttr, "true">:$sorted);
  let results = (outs Tfm_Tensor:$values, Tfm_Tensor:$indices);
}

def Tfm_CumSumOp : Tfm_Op<"cumsum", [SameOperandsAndResultElementType]> {
  let summary = "Cumulative sum along an axis";
  let description = [{
    Element `i` along `axis` is the sum of the elements up to and including
    `i` (ONNX `CumSum`): with `exclusive`, up to `i` excluded (so the first
    is 0); with `reverse`, from the end instead. The importer turns the axis
    input into the attribute. Float and integer tensors (integers wrap).

    ```mlir
    %p = tfm.cumsum %mask {axis = 1 : i64} : (tensor<?x?xi64>) -> tensor<?x?xi64>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, I64Attr:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$exclusive,
                       DefaultValuedAttr<BoolAttr, "false">:$reverse);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_ReduceMinOp : Tfm_ReduceOp<"reduce_min", "minimum", "ReduceMin">;
def Tfm_ReduceProdOp : Tfm_ReduceOp<"reduce_prod", "product", "ReduceProd">;

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Tfm_TransposeOp : Tfm_Op<"transpose", [SameOperandsAndResultElementType]> {
  let summary = "Permutes the dims of a tensor";
  let description = [{
    Result dim `i` is input dim `perm[i]` (ONNX `Transpose`; the importer
    fills the default reversed permutation).

    ```mlir
    %t = tfm.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x12x64xf32>) -> tensor<?x12x?x64xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Tfm_Tensor:$result);
  let hasFolder = 1;
}

def Tfm_ReshapeOp : Tfm_Op<"reshape"> {
  let summary = "Reshapes a tensor to a shape given as a tensor";
  let description = [{
    ONNX `Reshape`: `shape` is a 1-D i64 tensor; an entry `-1` is inferred
    from the element count and `0` copies the input dim (unless
    `allow_zero`). When `shape` is not a constant, the result's rank is known
    and its dims are `?`.

    ```mlir
    %r = tfm.reshape %x, %shape : (tensor<?x?x768xf32>, tensor<4xi64>) -> tensor<?x?x12x64xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_IndexTensor:$shape,
                       DefaultValuedAttr<BoolAttr, "false">:$allow_zero);
  let results = (outs Tfm_Tensor:$result);
  let hasFolder = 1;
}

def Tfm_FlattenOp : Tfm_Op<"flatten", [SameOperandsAndResultElementType]> {
  let summary = "Flattens a tensor into a matrix at `axis`";
  let description = [{
    ONNX `Flatten`: the result is `[prod(dims[:axis]), prod(dims[axis:])]`.

    ```mlir
    %f = tfm.flatten %x {axis = 1 : i64} : (tensor<?x384x14x14xf32>) -> tensor<?x75264xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, I64Attr:$axis);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_SqueezeOp : Tfm_Op<"squeeze", [SameOperandsAndResultElementType]> {
  let summary = "Removes dims of size 1";
  let description = [{
    ONNX `Squeeze` with its axes as an attribute. Each squeezed dim must be 1
    (or `?`, then asserted to be 1 at run time).

    ```mlir
    %s = tfm.squeeze %x {axes = array<i64: 1>} : (tensor<?x1x768xf32>) -> tensor<?x768xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Tfm_Tensor:$result);
  let hasFolder = 1;
}

def Tfm_UnsqueezeOp : Tfm_Op<"unsqueeze", [SameOperandsAndResultElementType]> {
  let summary = "Inserts dims of size 1";
  let description = [{
    ONNX `Unsqueeze` with its axes (positions in the result) as an attribute.

    ```mlir
    %m = tfm.unsqueeze %mask {axes = array<i64: 1, 2>} : (tensor<?x?xi64>) -> tensor<?x1x1x?xi64>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Tfm_Tensor:$result);
  let hasFolder = 1;
}

def Tfm_ConcatOp : Tfm_Op<"concat"> {
  let summary = "Concatenates tensors along an axis";
  let description = [{
    ONNX `Concat`: operands have the same rank and element type and agree on
    every dim but `axis`.

    ```mlir
    %c = tfm.concat %a, %b {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
    ```
  }];
  let arguments = (ins Variadic<Tfm_Tensor>:$inputs, I64Attr:$axis);
  let results = (outs Tfm_Tensor:$result);
  let hasFolder = 1;
}

def Tfm_SplitOp : Tfm_Op<"split"> {
  let summary = "Splits a tensor into parts along an axis";
  let description = [{
    ONNX `Split` into `num_outputs` parts. `sizes`, when present, gives each
    part's extent; otherwise the parts are equal, the last one smaller when
    the dim does not divide (opset 18 semantics).

    ```mlir
    %q, %k, %v = tfm.split %qkv {axis = 2 : i64, num_outputs = 3 : i64, sizes = array<i64: 768, 768, 768>}
        : (tensor<?x?x2304xf32>) -> (tensor<?x?x768xf32>, tensor<?x?x768xf32>, tensor<?x?x768xf32>)
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, I64Attr:$axis, I64Attr:$num_outputs,
                       OptionalAttr<DenseI64ArrayAttr>:$sizes);
  let results = (outs Variadic<Tfm_Tensor>:$results);
}

def Tfm_SliceOp : Tfm_Op<"slice"> {
  let summary = "Strided slice along some axes";
  let description = [{
    ONNX `Slice`: for each `axes[i]`, takes `starts[i]` to `ends[i]` (clamped,
    negative values count from the end) by `steps[i]`. All four index
    operands are present (the importer materializes the defaults); when they
    are constants and the sliced dim is static, the result dim is static.

    ```mlir
    %s = tfm.slice %x, %starts, %ends, %axes, %steps
        : (tensor<1x1x1024x1024xi1>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x1x?x1024xi1>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_IndexTensor:$starts,
                       Tfm_IndexTensor:$ends, Tfm_IndexTensor:$axes,
                       Tfm_IndexTensor:$steps);
  let results = (outs Tfm_Tensor:$result);
  let hasFolder = 1;
}

def Tfm_GatherOp : Tfm_Op<"gather"> {
  let summary = "Gathers slices along an axis by index";
  let description = [{
    ONNX `Gather`: the result is `data.shape[:axis] + indices.shape +
    data.shape[axis+1:]`. Negative indices count from the end. This is how
    embeddings are looked up and how shape vectors are picked apart.

    ```mlir
    %e = tfm.gather %table, %ids {axis = 0 : i64} : (tensor<30522x768xf32>, tensor<?x?xi64>) -> tensor<?x?x768xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_Tensor:$indices, I64Attr:$axis);
  let results = (outs Tfm_Tensor:$result);
  let hasFolder = 1;
}

def Tfm_GatherElementsOp : Tfm_Op<"gather_elements"> {
  let summary = "Gathers single elements along an axis by index";
  let description = [{
    ONNX `GatherElements`: `indices` has the input's rank, and the result
    its shape, with `result[p] = input[p with p[axis] = indices[p]]`; along
    the other axes the indices may be shorter than the input. Negative
    indices count from the end; an index out of range is a run-time error.

    ```mlir
    %g = tfm.gather_elements %logp, %labels {axis = 1 : i64} : (tensor<?x10xf32>, tensor<?x1xi64>) -> tensor<?x1xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_Tensor:$indices, I64Attr:$axis);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_ScatterElementsOp : Tfm_Op<"scatter_elements"> {
  let summary = "Writes single elements along an axis by index";
  let description = [{
    ONNX `ScatterElements`: the result is `input` with, for each position
    `p` of `indices`, `result[p with p[axis] = indices[p]] = updates[p]`
    (`reduction` `add`, `mul`, `max` or `min` combines the update with what
    is there instead; `none` overwrites, the last write winning).
    `indices` and `updates` have one shape, of the input's rank, and may be
    shorter than the input along every axis. Negative indices count from
    the end; an index out of range is a run-time error.

    ```mlir
    %s = tfm.scatter_elements %x, %idx, %upd {axis = 1 : i64, reduction = "add"} : (tensor<4x10xf32>, tensor<4x2xi64>, tensor<4x2xf32>) -> tensor<4x10xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_Tensor:$indices,
                       Tfm_Tensor:$updates, I64Attr:$axis,
                       DefaultValuedAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_ScatterNDOp : Tfm_Op<"scatter_nd"> {
  let summary = "Writes slices at index tuples";
  let description = [{
    ONNX `ScatterND`: `indices` is `[..., k]`, each row a position in the
    first `k` dims of `input`; `updates` is `indices.shape[:-1] +
    input.shape[k:]`, one slice per row. The result is `input` with each
    slice written at its row (`reduction` as for `tfm.scatter_elements`).
    This is how exporters write new keys into a preallocated KV cache.
    Negative indices count from the end; one out of range is a run-time
    error.

    ```mlir
    %c = tfm.scatter_nd %cache, %rows, %keys : (tensor<1x8x512x64xf32>, tensor<1x8x1x3xi64>, tensor<1x8x1x64xf32>) -> tensor<1x8x512x64xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_Tensor:$indices,
                       Tfm_Tensor:$updates,
                       DefaultValuedAttr<StrAttr, "\"none\"">:$reduction);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_CastOp : Tfm_Op<"cast"> {
  let summary = "Converts the element type";
  let description = [{
    ONNX `Cast` to the element type `to` (float/int conversions round
    toward zero; to i1, non-zero is true).

    ```mlir
    %m = tfm.cast %mask {to = f32} : (tensor<?x?xi64>) -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, TypeAttr:$to);
  let results = (outs Tfm_Tensor:$result);
  let hasFolder = 1;
}

def Tfm_WhereOp : Tfm_Op<"where"> {
  let summary = "Selects elementwise between two tensors";
  let description = [{
    ONNX `Where`: `condition ? lhs : rhs`, the three broadcast together.

    ```mlir
    %s = tfm.where %causal, %scores, %min : (tensor<1x1x?x?xi1>, tensor<?x12x?x?xf32>, tensor<f32>) -> tensor<?x12x?x?xf32>
    ```
  }];
  let arguments = (ins Tfm_BoolTensor:$condition, Tfm_Tensor:$lhs, Tfm_Tensor:$rhs);
  let results = (outs Tfm_Tensor:$result);
  let hasFolder = 1;
}

def Tfm_ExpandOp : Tfm_Op<"expand"> {
  let summary = "Broadcasts a tensor to a shape given as a tensor";
  let description = [{
    ONNX `Expand`: the result shape is the broadcast of the input's shape and
    `shape` (a 1-D i64 tensor).

    ```mlir
    %e = tfm.expand %x, %shape : (tensor<1x1x?xf32>, tensor<3xi64>) -> tensor<?x12x?xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_IndexTensor:$shape);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_PadOp : Tfm_Op<"pad"> {
  let summary = "Pads (or crops) each dim of a tensor";
  let description = [{
    ONNX `Pad`: `pads` is a 1-D i64 tensor of `2 * rank` entries, the
    amounts added before each dim, then after each (the importer expands
    opset 18's `axes` to every dim). A negative amount removes elements.
    `mode` says what the new elements hold: `constant` (`value`, a 0-D
    tensor of the input's element type; zero when absent), `edge` (the
    nearest element), `reflect` (the elements mirrored about the edge, the
    edge itself not repeated) or `wrap` (the other end's elements). Pads that
    are not constants make the padded dims `?`; a dim that would shrink below
    zero, or an empty dim that edge, reflect or wrap would have to read, is
    a run-time error.

    ```mlir
    %p = tfm.pad %x, %pads, %zero {mode = "constant"} : (tensor<1x?x80xf32>, tensor<6xi64>, tensor<f32>) -> tensor<1x?x82xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_IndexTensor:$pads,
                       Optional<Tfm_Tensor>:$value, StrAttr:$mode);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_ResizeOp : Tfm_Op<"resize"> {
  let summary = "Resizes a tensor by interpolation";
  let description = [{
    ONNX `Resize`: the result has the dims `sizes` (1-D i64, one per dim),
    and result position x of dim i reads input coordinate
    `coordinate_mode`(x, `scales`[i]) (f32, one per dim; the importer
    derives whichever of the two the node did not give). `mode` is
    `nearest` (the coordinate rounded by `nearest_mode`: round_prefer_floor,
    round_prefer_ceil, floor or ceil), `linear` (two neighbours per dim) or
    `cubic` (four, with `cubic_coeff_a`, and `exclude_outside` dropping and
    renormalizing those past the edges); neighbours past an edge read the
    edge. `coordinate_mode` is half_pixel, half_pixel_symmetric,
    pytorch_half_pixel, align_corners or asymmetric.

    ```mlir
    %up = tfm.resize %x, %sizes, %scales {mode = "nearest", coordinate_mode = "asymmetric", nearest_mode = "floor"} : (tensor<1x64x32x32xf32>, tensor<4xi64>, tensor<4xf32>) -> tensor<1x64x64x64xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_IndexTensor:$sizes, Tfm_Tensor:$scales,
                       StrAttr:$mode, StrAttr:$coordinate_mode,
                       DefaultValuedAttr<StrAttr, "\"round_prefer_floor\"">:$nearest_mode,
                       DefaultValuedAttr<F32Attr, "-0.75">:$cubic_coeff_a,
                       DefaultValuedAttr<BoolAttr, "false">:$exclude_outside);
  let results = (outs Tfm_Tensor:$result);
}

def Tfm_TriluOp : Tfm_Op<"trilu"> {
  let summary = "Keeps the upper or lower triangle of the trailing matrices";
  let description = [{
    ONNX `Trilu`: zeroes the elements below (`upper`) or above (lower)
    diagonal `k` of each trailing 2-D matrix. `k` is a 0-D i64 tensor (the
    importer materializes the default 0). Exporters build causal masks with
    it.

    ```mlir
    %m = tfm.trilu %ones, %k {upper = false} : (tensor<?x?xf32>, tensor<i64>) -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, Tfm_IndexTensor:$k,
                       DefaultValuedAttr<BoolAttr, "true">:$upper);
  let results = (outs Tfm_Tensor:$result);
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

def Tfm_ShapeOp : Tfm_Op<"shape"> {
  let summary = "The shape of a tensor, as a 1-D i64 tensor";
  let description = [{
    ONNX `Shape`, with the opset-15 `start`/`end` window normalized. Folds to
    a constant when the dims it reads are static; `tfm.gather` and
    `tfm.slice` of it fold when the dims they pick are.

    ```mlir
    %s = tfm.shape %x {end = 2 : i64, start = 0 : i64} : (tensor<?x128x768xf32>) -> tensor<2xi64>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$input, I64Attr:$start, I64Attr:$end);
  let results = (outs RankedTensorOf<[I64]>:$result);
  let hasFolder = 1;
}

def Tfm_SequenceOffsetOp : Tfm_Op<"sequence_offset"> {
  let summary = "The positions a --decoder sequence held before this call";
  let description = [{
    In a model compiled with `tfc compile --decoder`, the number of
    positions the instance's sequence held before the current call: 0 in a
    prefill (and a plain run), the sequence's length in a step. It stands
    for the past length that a model with past keys and values reads from
    their shape (`--tfm-sequence-state` puts it there when it moves the KV
    cache into the instance), so that positions count on from the prefill.

    ```mlir
    %past = tfm.sequence_offset : tensor<1xi64>
    ```
  }];
  let results = (outs RankedTensorOf<[I64]>:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
}

def Tfm_ConstantOfShapeOp : Tfm_Op<"constant_of_shape"> {
  let summary = "A tensor of a shape given as a tensor, filled with one value";
  let description = [{
    ONNX `ConstantOfShape`: `value` is a one-element tensor giving the element
    type and the fill value.

    ```mlir
    %z = tfm.constant_of_shape %shape {value = dense<0.0> : tensor<1xf32>} : (tensor<2xi64>) -> tensor<?x?xf32>
    ```
  }];
  let arguments = (ins Tfm_IndexTensor:$shape, ElementsAttr:$value);
  let results = (outs Tfm_Tensor:$result);
  let hasFolder = 1;
}

def Tfm_RangeOp : Tfm_Op<"range"> {
  let summary = "A 1-D sequence from start to limit by delta";
  let description = [{
    ONNX `Range` on 0-D operands of one element type; the result has
    `max(ceil((limit - start) / delta), 0)` elements.

    ```mlir
    %pos = tfm.range %c0, %len, %c1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
    ```
  }];
  let arguments = (ins Tfm_Tensor:$start, Tfm_Tensor:$limit, Tfm_Tensor:$delta);
  let results = (outs Tfm_Tensor:$result);
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Profiling
//===----------------------------------------------------------------------===//

// The two ends of a timed region (tfc compile --profile): ops with a side
// effect, so that nothing removes them or moves them across each other, and
// that a target lowers to its runtime's timer calls.
class Tfm_ProfileMarkerOp<string mnemonic, string summaryText>
    : Op<Tfm_Dialect, mnemonic, [MemoryEffects<[MemWrite]>]> {
  let summary = summaryText;
  let arguments = (ins StrAttr:$site);
  let assemblyFormat = "$site attr-dict";
}

def Tfm_ProfileEnterOp : Tfm_ProfileMarkerOp<"profile_enter",
                                             "Starts timing a profile site"> {
  let description = [{
    Starts the timer of `site`, a string naming the op that follows and the
    ONNX nodes it came from (`--tfm-insert-profile-markers` puts it there).
    The runtime sums the time until the matching `tfm.profile_exit` per
    site; `tfc run --profile` prints the sums.

    ```mlir
    tfm.profile_enter "gelu  gelu_node"
    %y = tfm.gelu %x : (tensor<?x64xf32>) -> tensor<?x64xf32>
    tfm.profile_exit "gelu  gelu_node"
    ```
  }];
}

def Tfm_ProfileExitOp : Tfm_ProfileMarkerOp<"profile_exit",
                                            "Stops timing a profile site"> {
  let description = [{
    Stops the timer of `site` that the matching `tfm.profile_enter` started.
  }];
}

#endif // TFM_OPS_TD
