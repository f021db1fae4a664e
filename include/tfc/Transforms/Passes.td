//===- Passes.td - tfc graph passes ------------------------*- tablegen -*-===//

#ifndef TFC_TRANSFORMS_PASSES_TD
#define TFC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def RefineShapes : Pass<"tfm-refine-shapes", "func::FuncOp"> {
  let summary = "Folds shape computations and re-infers result types to a fixpoint";
  let description = [{
    Exporters compute reshape targets at run time from the input's shape
    (`Shape -> Gather -> Unsqueeze -> Concat -> Reshape`). Once the dims those
    chains read are static, for example after an input's symbolic dims were
    pinned, the chains fold to constants and the ops downstream can know
    their shapes. This pass alternates folding and result-type inference
    until nothing changes, then updates the function's result types.

    Only refinement happens: a type becomes more static, never different,
    so the pass cannot change what a program computes.

    Before (after pinning `%x` to `2x8x768`):

    ```mlir
    %s = tfm.shape %x {end = 3 : i64, start = 0 : i64} : (tensor<2x8x768xf32>) -> tensor<3xi64>
    %b = tfm.gather %s, %c0 {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
    %t = tfm.concat %b, %tail {axis = 0 : i64} : (tensor<1xi64>, tensor<3xi64>) -> tensor<4xi64>
    %r = tfm.reshape %x, %t : (tensor<2x8x768xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
    ```

    After:

    ```mlir
    %t = tfm.constant dense<[2, 8, 12, 64]> : tensor<4xi64>
    %r = tfm.reshape %x, %t : (tensor<2x8x768xf32>, tensor<4xi64>) -> tensor<2x8x12x64xf32>
    ```
  }];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
}

def Canonicalize : Pass<"tfm-canonicalize", "func::FuncOp"> {
  let summary = "Folds constant subgraphs and simplifies the graph for fusion";
  let description = [{
    Runs before the fusion passes so that they see the graph in one form:

    * shape subgraphs fold and result types refine (as `tfm-refine-shapes`);
    * float arithmetic on constants folds (`Add`, `Sub`, `Mul`, `Div`, `Pow`,
      `Sqrt`, `Neg`, `Reciprocal`): GPT-2 exports compute the attention
      scale as `Pow(16, 0.5) + 0`;
    * transposes of constants fold into new constants (`x @ W.t()` becomes a
      plain weight; the old one is dropped when nothing else reads it), and
      reshapes of weights keep the same blob under the new shape;
    * `transpose(transpose(x))` becomes one transpose, or `x`.

    ```mlir
    %s = tfm.pow %c16, %c05 : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %d = tfm.div %scores, %s : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
    ```

    becomes

    ```mlir
    %c4 = tfm.constant dense<4.000000e+00> : tensor<f32>
    %d = tfm.div %scores, %c4 : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
    ```
  }];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
  let statistics = [Statistic<"numFolded", "folded", "Ops folded into constants">];
}

def FoldBatchNorm : Pass<"tfm-fold-batch-norm", "func::FuncOp"> {
  let summary = "Folds an inference BatchNorm's scale and shift into the conv or matmul before it";
  let description = [{
    The importer writes BatchNormalization as a `tfm.mul` by a per-channel
    constant and a `tfm.add` of another. Where the scaled values come from a
    `tfm.conv` or a `tfm.matmul` by a constant f32 weight (through the
    producer's bias add and one transpose at most, each used only there),
    the scale is folded into the weight and the shift into the bias:
    `(x @ W + b) * s + t = x @ (W * s) + (b * s + t)`. The weight and bias
    become new blobs. A residual add, a second user or a scale that varies
    along another dim than the channels leaves the ops as they are.

    ```mlir
    %y = tfm.matmul %x, %w : (tensor<?x?x16xf32>, tensor<16x32xf32>) -> tensor<?x?x32xf32>
    %yb = tfm.add %y, %b : (tensor<?x?x32xf32>, tensor<32xf32>) -> tensor<?x?x32xf32>
    %t = tfm.transpose %yb {perm = array<i64: 0, 2, 1>} : (tensor<?x?x32xf32>) -> tensor<?x32x?xf32>
    %s = tfm.mul %t, %scale : (tensor<?x32x?xf32>, tensor<32x1xf32>) -> tensor<?x32x?xf32>
    %n = tfm.add %s, %shift : (tensor<?x32x?xf32>, tensor<32x1xf32>) -> tensor<?x32x?xf32>
    ```

    becomes the matmul by the scaled weight, the add of the new bias and the
    transpose.
  }];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
  let statistics = [Statistic<"numFolded", "folded", "BatchNorms folded into their producer">];
}

def ConvToMatmul : Pass<"tfm-conv-to-matmul", "func::FuncOp"> {
  let summary = "Rewrites convs with non-overlapping windows as matmuls";
  let description = [{
    A vision transformer's patch embedding is a `tfm.conv` whose stride
    equals its kernel: the windows tile the input, so the conv is a matmul
    of the flattened patches by the weight. This pass rewrites every float
    conv with stride = kernel, no padding, no dilation, one group, a
    constant weight and static spatial dims that the kernel divides (1-, 2-
    and 3-d) into a reshape-transpose-reshape of the input that gathers the
    patches, a `tfm.matmul` by the weight transposed to
    `[C * K1 * ..., M]` (a new weights blob; the old one goes with the
    conv), the bias add, and a reshape-transpose back to `[N, M, O1, ...]`.
    The matmul is then an ordinary projection: its bias add fuses like any
    other, and a target with a matmul kernel runs it there. Other convs are
    left alone.

    Before:

    ```mlir
    %p = tfm.conv %img, %w, %b {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 16, 16>}
        : (tensor<?x3x224x224xf32>, tensor<384x3x16x16xf32>, tensor<384xf32>) -> tensor<?x384x14x14xf32>
    ```

    After (shape constants left out):

    ```mlir
    %0 = tfm.reshape %img, %s0 : (tensor<?x3x224x224xf32>, tensor<6xi64>) -> tensor<?x3x14x16x14x16xf32>
    %1 = tfm.transpose %0 {perm = array<i64: 0, 2, 4, 1, 3, 5>} : (tensor<?x3x14x16x14x16xf32>) -> tensor<?x14x14x3x16x16xf32>
    %2 = tfm.reshape %1, %s1 : (tensor<?x14x14x3x16x16xf32>, tensor<3xi64>) -> tensor<?x196x768xf32>
    %3 = tfm.matmul %2, %wt : (tensor<?x196x768xf32>, tensor<768x384xf32>) -> tensor<?x196x384xf32>
    %4 = tfm.add %3, %b : (tensor<?x196x384xf32>, tensor<384xf32>) -> tensor<?x196x384xf32>
    %5 = tfm.reshape %4, %s2 : (tensor<?x196x384xf32>, tensor<4xi64>) -> tensor<?x14x14x384xf32>
    %p = tfm.transpose %5 {perm = array<i64: 0, 3, 1, 2>} : (tensor<?x14x14x384xf32>) -> tensor<?x384x14x14xf32>
    ```
  }];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
  let statistics = [Statistic<"numRewritten", "rewritten", "Convs rewritten as matmuls">];
}

def SinkTransposes : Pass<"tfm-sink-transposes", "func::FuncOp"> {
  let summary = "Moves transposes through row-wise ops to cancel them";
  let description = [{
    Sequence-first models (PyTorch's `nn.TransformerEncoder` without
    `batch_first`, as torchvision's ViT) transpose the hidden state between
    `[B, L, D]` and `[L, B, D]` around every attention block, and the
    attention fusion transposes its operands back. A `tfm.linear` (without
    a residual) and a `tfm.split` along the last dim work row by row, so
    they commute with a transpose that keeps the last dim in place. This
    pass moves such a transpose down through them when every path from it
    ends in the inverse transpose, and drops both: no copy is added, six
    per ViT layer are removed. Run after the fusions, which form the
    linears and the attention.

    It also drops a transpose whose trailing dims a reshape flattens
    (keeping the leading ones) when another transpose then takes the dims
    back to the source's order: `transpose(reshape(transpose(x)))` becomes
    a reshape of `x`, as in ViT's patch embedding, `[B, H, W, C]` to
    `[B, C, H W]` and back to `[B, H W, C]`.

    Before:

    ```mlir
    %t = tfm.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<?x197x384xf32>) -> tensor<197x?x384xf32>
    %y = tfm.linear %t, %w, %b {operandSegmentSizes = array<i32: 1, 1, 1, 0>}
        : (tensor<197x?x384xf32>, tensor<384x384xf32>, tensor<384xf32>) -> tensor<197x?x384xf32>
    %u = tfm.transpose %y {perm = array<i64: 1, 0, 2>} : (tensor<197x?x384xf32>) -> tensor<?x197x384xf32>
    ```

    After:

    ```mlir
    %u = tfm.linear %x, %w, %b {operandSegmentSizes = array<i32: 1, 1, 1, 0>}
        : (tensor<?x197x384xf32>, tensor<384x384xf32>, tensor<384xf32>) -> tensor<?x197x384xf32>
    ```
  }];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
  let statistics = [
    Statistic<"numSunk", "sunk", "Transposes moved to their inverses and dropped">,
    Statistic<"numFolded", "folded-flatten", "Transposes dropped around a flatten of trailing dims">
  ];
}

def MergeProjections : Pass<"tfm-merge-projections", "func::FuncOp"> {
  let summary = "Merges matmuls that share an input into one, then splits";
  let description = [{
    BERT-style exports project the hidden state to Q, K and V with three
    matmuls (and three bias adds) on the same input. This pass merges every
    group of two or more `tfm.matmul`s that share their left operand and
    have constant 2-D weights of one element type: the weights are placed
    side by side in one new constant, the bias adds merge when each
    projection has a constant bias, and a `tfm.split` hands each consumer
    its part. The input is read once and the merged matmul is three times
    wider. The parts are views of the merged result; `tfm.attention` reads
    them in place.

    Before:

    ```mlir
    %q = tfm.matmul %x, %wq : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
    %qb = tfm.add %q, %bq : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
    %k = tfm.matmul %x, %wk : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
    %kb = tfm.add %k, %bk : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
    ```

    After:

    ```mlir
    %m = tfm.matmul %x, %wqk : (tensor<?x?x64xf32>, tensor<64x128xf32>) -> tensor<?x?x128xf32>
    %mb = tfm.add %m, %bqk : (tensor<?x?x128xf32>, tensor<128xf32>) -> tensor<?x?x128xf32>
    %parts:2 = tfm.split %mb {axis = 2 : i64, num_outputs = 2 : i64, sizes = array<i64: 64, 64>}
        : (tensor<?x?x128xf32>) -> (tensor<?x?x64xf32>, tensor<?x?x64xf32>)
    ```
  }];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
  let statistics = [Statistic<"numMerged", "merged", "Groups of projections merged">];
}

// The fusion passes share an option: with emit-remarks, each fusion and each
// rejected candidate is reported as a remark ("fused <kind>: ..." or "not
// fused as <kind>: <reason>"), which `tfc compile --fusion-report` collects.
class Tfm_FusionPass<string flag> : Pass<flag, "func::FuncOp"> {
  let options = [
    Option<"emitRemarks", "emit-remarks", "bool", /*default=*/"false",
           "Report each fusion and each rejected candidate as a remark">
  ];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
}

def FuseLayerNorm : Tfm_FusionPass<"tfm-fuse-layer-norm"> {
  let summary = "Forms tfm.layer_norm and tfm.rms_norm from their decompositions";
  let description = [{
    Before opset 17 (LayerNormalization) and opset 23 (RMSNormalization),
    exporters write normalization out as eight or so ops. This pass finds

    * layer norm: `d = x - mean(x)`, `d / sqrt(mean(d^2) + eps)`, then an
      optional `* gamma` and `+ beta`;
    * RMS norm: `x / sqrt(mean(x^2) + eps)` (or `x * 1/sqrt(...)`, or
      `x * reciprocal(sqrt(...))`), then an optional `* gamma`;

    with the means over the same trailing dims (keepdims), squares as
    `Pow(·, 2)` or `Mul(·, ·)`, and epsilon a constant. A match whose
    intermediate values have other users is left alone.

    Before:

    ```mlir
    %m = tfm.reduce_mean %x {axes = array<i64: 2>} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
    %d = tfm.sub %x, %m : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
    %p = tfm.pow %d, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
    %v = tfm.reduce_mean %p {axes = array<i64: 2>} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
    %e = tfm.add %v, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
    %s = tfm.sqrt %e : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
    %n = tfm.div %d, %s : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
    %g = tfm.mul %n, %gamma : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
    %y = tfm.add %g, %beta : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
    ```

    After:

    ```mlir
    %y = tfm.layer_norm %x, %gamma, %beta {axis = 2 : i64, epsilon = 9.99999996E-13 : f32}
        : (tensor<?x?x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
    ```
  }];
  let statistics = [
    Statistic<"numLayerNorm", "layer-norm", "Layer norms fused">,
    Statistic<"numRmsNorm", "rms-norm", "RMS norms fused">
  ];
}

def FuseGelu : Tfm_FusionPass<"tfm-fuse-gelu"> {
  let summary = "Forms tfm.gelu from its erf and tanh decompositions";
  let description = [{
    Before opset 20 exporters write GELU out. The pass anchors on each
    `Erf` and `Tanh` and matches

    * `0.5 * x * (1 + erf(x / sqrt(2)))` (`x * 0.70710678` also), giving
      `approximation = "none"`;
    * `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))` (`x^3` as
      `Pow(x, 3)` or `x * x * x`), giving `approximation = "tanh"`;

    with the factors 0.5, x and (1 + ...) multiplied in any order. Every
    occurrence of x must be the same value and every constant within 1e-6
    of the formula's.

    ```mlir
    %y = tfm.gelu %x {approximation = "none"} : (tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
    ```
  }];
  let statistics = [Statistic<"numGelu", "gelu", "GELUs fused">];
}

def FuseAttention : Tfm_FusionPass<"tfm-fuse-attention"> {
  let summary = "Forms tfm.attention from the multi-head attention subgraph";
  let description = [{
    Exporters write multi-head attention as per-head reshapes and
    transposes of Q, K and V, `MatMul(q, kᵀ)`, a scale (`Div` or `Mul` by a
    constant, on the scores or on q and k), masks (`Add` of an additive
    mask, `Where(cond, ·, -inf)`), `Softmax` over the keys, `MatMul(·, v)`,
    and a transpose and reshape back to `[B, L, N * d]`. The pass anchors on
    the Softmax and proves each step:

    * the reshapes split and merge only the last dim, symbolically when the
      batch and sequence are dynamic (the shape subgraphs that compute the
      reshape targets are read);
    * the transposes compose to the head layout of each operand;
    * scales are scalar constants and are applied before the masks;
    * an additive mask broadcasts to the scores and becomes the op's mask;
      `Where(cond, s, fill)` with a fill at or below -1e30 (f16: its
      lowest value) becomes an
      additive mask, or the causal flag when `cond` is provably the causal
      triangle (a constant, or GPT-2's rows `[Lk - Lq, Lk)` of a lower
      triangular table).

    A candidate that fails a step is left unchanged; with emit-remarks the
    remark says which step.

    After (HF BERT):

    ```mlir
    %o = tfm.attention %q, %k, %v, %mask {num_heads = 12 : i64, scale = 1.250000e-01 : f32}
        : (tensor<?x?x768xf32>, tensor<?x?x768xf32>, tensor<?x?x768xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x768xf32>
    ```
  }];
  let statistics = [Statistic<"numAttention", "attention", "Attention blocks fused">];
}

def FuseLinearAttention : Tfm_FusionPass<"tfm-fuse-linear-attention"> {
  let summary = "Forms tfm.linear_attention from linear attention written with prefix sums or as matmuls of K^T V, and from RetNet's retention";
  let description = [{
    Models trained with linear attention export it as prefix sums over the
    sequence (`CumSum`) of the outer products `φ(k) vᵀ` and of `φ(k)`,
    which materialize a `[B, L, N, dk, dv]` tensor. The pass finds

    ```
    num = ReduceSum(Unsqueeze(φ(q), 4) * CumSum(Unsqueeze(φ(k), 4) * Unsqueeze(v, 3), 1), [3])
    den = ReduceSum(φ(q) * CumSum(φ(k), 1), [3], keepdims) + eps
    o   = num / den          (or num alone)
    ```

    with `φ` the same for q and k: `Elu(x) + 1` (alpha 1), `Relu` or none.
    Each step is proven: the unsqueeze axes, forward inclusive prefix sums
    over dim 1, products that broadcast only the unsqueezed dims (batch,
    sequence and heads the same, symbolically when dynamic), a scalar
    constant epsilon. The result is one `tfm.linear_attention` with
    `causal`, whose CPU kernel carries a `dk x dv` state per head instead
    of the prefix tensor.

    After:

    ```mlir
    %o = tfm.linear_attention %q, %k, %v {causal = true, epsilon = 9.99999997E-7 : f32, feature_map = "elu_plus_one"}
        : (tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
    ```

    It also forms retention in RetNet's parallel form,
    `MatMul(MatMul(q, kᵀ) * s * D, v)` on heads-first views of `[B, L, N, d]`
    q, k, v, with the decay mask built from the sequence length:

    ```
    p = Cast(Range(0, L, 1));  dist = Unsqueeze(p, 1) - Unsqueeze(p, 0)
    E = Where(dist >= 0, Exp(dist * log_gamma), 0)     log_gamma [N, 1, 1] <= 0
    D = E / Sqrt(ReduceSum(E, [-1], keepdims))         (or E)
    ```

    proving that L is the queries' sequence length. The result is
    `tfm.linear_attention` with decay `γ = e^log_gamma`, and for the
    normalized mask a division by `sqrt(CumSum(Exp(p * log_gamma), 0))`
    (`[L, N]` where the graph summed `[N, L, L]`).

    And the non-causal form on heads-first tensors,
    `MatMul(φq, MatMul(Transpose(φk), v)) / (MatMul(φq, sum of φk over the
    keys as [B, N, dk, 1]) + eps)` (or without the divisor), as
    `tfm.linear_attention` without `causal`.
  }];
  let statistics = [Statistic<"numLinearAttention", "linear-attention",
                              "Linear attention blocks fused">];
}

def FuseEpilogues : Tfm_FusionPass<"tfm-fuse-epilogues"> {
  let summary = "Fuses bias, activation and residual adds into their matmul, and residual adds into layer norms";
  let description = [{
    Anchors on each `tfm.matmul` by a 2-D weight and takes what follows it,
    each step the only user of the one before: an `Add` of a `[N]` bias, a
    `Relu` or `Gelu`, an `Add` of a residual of the result's shape. The
    chain becomes one `tfm.linear`, whose output is written by the product
    and, with an activation, once more; unfused, every op reads and writes
    the whole output. Then an `Add` of two same-shaped tensors whose only
    user is a `tfm.layer_norm` becomes `tfm.add_layer_norm` (BERT's
    embeddings; residuals that no matmul took).

    ```mlir
    %h = tfm.matmul %x, %w1 : (tensor<?x?x64xf32>, tensor<64x256xf32>) -> tensor<?x?x256xf32>
    %hb = tfm.add %h, %b1 : (tensor<?x?x256xf32>, tensor<256xf32>) -> tensor<?x?x256xf32>
    %g = tfm.gelu %hb : (tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
    ```

    becomes

    ```mlir
    %g = tfm.linear %x, %w1, %b1 {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 0>}
        : (tensor<?x?x64xf32>, tensor<64x256xf32>, tensor<256xf32>) -> tensor<?x?x256xf32>
    ```
  }];
  let statistics = [Statistic<"numEpilogues", "epilogues", "Matmul epilogues fused">];
}

def FuseQuantizedLinear : Tfm_FusionPass<"tfm-fuse-quantized-linear"> {
  let summary = "Forms tfm.quantized_linear from pre-quantized ONNX (ONNX Runtime's dynamic form, QDQ, QLinearMatMul)";
  let description = [{
    Models quantized before import arrive as generic ops around an integer
    or float matmul. Two forms become one `tfm.quantized_linear`, which runs
    in the int8 kernel:

    * ONNX Runtime's dynamic quantization: `DynamicQuantizeLinear` of the
      input, `MatMulInteger` by a constant i8 or ui8 weight (with or without
      its zero point), the i32 product cast to f32 and multiplied by the
      input's scale times the weight's: `input_quantization = "tensor"`.
    * QDQ (and `QLinearMatMul`, which imports the same way): a `MatMul` of
      `DequantizeLinear` of an 8-bit input with a constant scale and zero
      point, and `DequantizeLinear` of a constant i8 or ui8 weight, per
      tensor or per column: `input_quantization = "static"` with the input's
      parameters. When the 8-bit input is `QuantizeLinear` of an f32 tensor
      by the same parameters, that tensor is the fused op's input.
    * 4-bit weights in QDQ (what ONNX Runtime's int4 quantizer writes in
      its QDQ format): a `MatMul` of an f32 input and `DequantizeLinear` of
      a constant weight whose values and zero points fit 4 bits (ONNX's
      INT4 and UINT4 import a value to a byte), blocked along K (opset 21's
      `block_size` on axis 0, B dividing K), per column or per tensor:
      weight-only (`input_quantization = "none"`, `weight_bits = 4`), the
      blocked scale and zero point `[K / B, N]` group-wise. It runs in the
      int4 kernel that `--quantize=int4` and `MatMulNBits` use.

    An `Add` of a constant `[N]` bias that is the only user of the result
    joins it. The weight is kept as it is (the target packs it); its scale
    and zero point become `[1]` or `[N]` constants.

    ```mlir
    %q, %s, %z = tfm.dynamic_quantize_linear %x : (tensor<?x64xf32>) -> (tensor<?x64xui8>, tensor<f32>, tensor<ui8>)
    %qi = tfm.cast %q {to = i32} : (tensor<?x64xui8>) -> tensor<?x64xi32>
    %zi = tfm.cast %z {to = i32} : (tensor<ui8>) -> tensor<i32>
    %a = tfm.sub %qi, %zi : (tensor<?x64xi32>, tensor<i32>) -> tensor<?x64xi32>
    %wi = tfm.cast %w {to = i32} : (tensor<64x32xi8>) -> tensor<64x32xi32>
    %p = tfm.matmul %a, %wi : (tensor<?x64xi32>, tensor<64x32xi32>) -> tensor<?x32xi32>
    %f = tfm.cast %p {to = f32} : (tensor<?x32xi32>) -> tensor<?x32xf32>
    %ss = tfm.mul %s, %ws : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %y = tfm.mul %f, %ss : (tensor<?x32xf32>, tensor<f32>) -> tensor<?x32xf32>
    ```

    becomes

    ```mlir
    %y = tfm.quantized_linear %x, %w, %ws1 {input_quantization = "tensor", ...}
        : (tensor<?x64xf32>, tensor<64x32xi8>, tensor<1xf32>) -> tensor<?x32xf32>
    ```
  }];
  let statistics = [Statistic<"numFused", "fused", "Quantized linears formed">];
}

def Quantize : Pass<"tfm-quantize", "func::FuncOp"> {
  let summary = "Quantizes linears to int8, int4 or bf16 (tfc compile --quantize)";
  let description = [{
    Each `tfm.linear` (and `tfm.matmul` by a matrix) whose weight is a
    constant f32 `[K, N]` becomes a `tfm.quantized_linear` whose weights are
    int8, symmetric, one scale per output channel (`scale = max|w| / 127`
    over the channel's column), rounded to nearest at compile time. With
    `mode=int8` the activations are quantized per row as the op runs
    (`input_quantization = "row"`, symmetric); bias, activation and
    residual stay in the epilogue, in f32. Layer norms, softmax and the
    residual stream stay f32.

    With `mode=int8-static` the activations' scale and zero point are
    constants (uint8, `input_quantization = "static"`), from the calibrated
    `[min, max]` a driver put on each linear as `tfc.input_range` (tfc
    compile --calibration-data does); a linear without it stays f32.

    With `mode=int4` the weights are int4 in groups of `group` rows of each
    column (32, 64 or 128; K must be a multiple of it), rounded to nearest:
    symmetric, each group's scale putting its largest magnitude at -8 or 7,
    or with `zero-points` its range onto 0..15 with a zero point. The op is
    weight-only (`input_quantization = "none"`, `weight_bits = 4`): the
    activations stay f32.

    With `mode=bf16` each such linear stays a `tfm.linear` whose weight is
    rounded to bf16 (nearest, ties to even): its input is rounded to bf16
    as it runs and the products are summed in f32. Every `tfm.attention`
    gets `precision = "bf16"`: q, k, v and the probabilities are rounded to
    bf16 for its two products, the softmax stays f32.

    A linear stays f32 when its weight is not a constant f32 matrix, when K
    exceeds 32768 in int8 (32-bit sums of products could overflow), or when its
    layer is named in `keep` (the error budget of `tfc compile
    --max-error` decides those). Layer names are the ONNX node names the
    linear came from (`tfc compile --reduction-report` prints them).

    ```mlir
    %y = tfm.linear %x, %w, %b {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 0>}
        : (tensor<?x?x64xf32>, tensor<64x256xf32>, tensor<256xf32>) -> tensor<?x?x256xf32>
    ```

    becomes

    ```mlir
    %y = tfm.quantized_linear %x, %wq, %ws, %b {activation = "gelu", input_quantization = "row", operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 0>}
        : (tensor<?x?x64xf32>, tensor<64x256xi8>, tensor<256xf32>, tensor<256xf32>) -> tensor<?x?x256xf32>
    ```
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"int8\"",
           "int8: int8 weights per channel, activations per row at run time; "
           "int8-static: activations per tensor from each linear's "
           "tfc.input_range; bf16: bf16 weights and products, attention in "
           "bf16; int4: int4 weights in groups of `group` rows, f32 "
           "activations (weight-only)">,
    Option<"group", "group", "int64_t", /*default=*/"128",
           "int4: rows of K per scale (32, 64 or 128)">,
    Option<"zeroPoints", "zero-points", "bool", /*default=*/"false",
           "int4: a zero point per group (values 0..15) instead of "
           "symmetric (-8..7)">,
    ListOption<"keep", "keep", "std::string",
               "Layers (ONNX node names) to leave in f32">,
    Option<"emitRemarks", "emit-remarks", "bool", /*default=*/"false",
           "Report each quantized and each kept linear as a remark">
  ];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
  let statistics = [Statistic<"numQuantized", "quantized", "Linears quantized">];
}

def Prune : Pass<"tfm-prune", "func::FuncOp"> {
  let summary = "Zeroes the least important blocks of linears' weights (tfc compile --prune)";
  let description = [{
    Post-training block pruning. Each `tfm.linear` (and `tfm.matmul` by a
    matrix) whose weight is a constant f32 `[K, N]` gets a new weight with
    `sparsity` of its `block`-shaped blocks (rows of K by columns of N,
    `1x16` by default, cut short at the edges) set to zero: those of least
    importance, scored by `score`:

    - `magnitude`: the sum of the block's |w|;
    - `wanda`: the sum of |w[k, n]| x ||x_k||, the L2 norm of input
      channel k on calibration data, which a driver puts on each linear as
      `tfc.input_norms` (Wanda's importance: a small weight that meets large
      inputs matters). A linear without norms stays dense.

    A driver may give a linear its own sparsity as `tfc.prune_sparsity`
    (tfc compile's error budget lowers it, 0 keeps the layer dense). Layers
    named in `keep` stay dense too. Nothing else changes: the block-sparse
    kernel takes the zeros from there (tfc-cpu-select-kernels).
  }];
  let options = [
    Option<"score", "score", "std::string", /*default=*/"\"magnitude\"",
           "magnitude or wanda">,
    Option<"sparsity", "sparsity", "double", /*default=*/"0.5",
           "The fraction of each weight's blocks to zero">,
    Option<"block", "block", "std::string", /*default=*/"\"1x16\"",
           "The block shape, ROWSxCOLUMNS of the [K, N] weight">,
    ListOption<"keep", "keep", "std::string",
               "Layers (ONNX node names) to leave dense">,
    Option<"emitRemarks", "emit-remarks", "bool", /*default=*/"false",
           "Report each pruned and each kept linear as a remark">
  ];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
  let statistics = [Statistic<"numPruned", "pruned", "Linears pruned">];
}

def PruneFfn : Pass<"tfm-prune-ffn", "func::FuncOp"> {
  let summary = "Removes the least important FFN neurons (tfc compile --prune-ffn)";
  let description = [{
    An FFN is a `tfm.linear` A (constant f32 weight `[D, F]`, bias `[F]` or
    none, any activation, no residual) whose result only feeds the input of
    a `tfm.linear` B (constant weight `[F, D2]`). Neuron `j` is A's column
    `j` and B's row `j`; `fraction` of the F neurons go (the kept count
    rounded up to a multiple of `multiple`, which the kernels' panels
    prefer), and A's weight and bias lose their columns, B's weight its
    rows: both matrices are physically smaller.

    A neuron's importance is `||x_j|| * ||B row j||`: `x_j` the neuron's
    output, whose L2 norm over calibration data a driver puts on B as
    `tfc.input_norms`, or without it the norm of A's column `j` (weights
    only).
  }];
  let options = [
    Option<"fraction", "fraction", "double", /*default=*/"0.5",
           "The fraction of each FFN's neurons to remove, below 1">,
    Option<"multiple", "multiple", "int64_t", /*default=*/"16",
           "The kept neurons are rounded up to a multiple of this">,
    Option<"emitRemarks", "emit-remarks", "bool", /*default=*/"false",
           "Report each FFN pruned as a remark">
  ];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
  let statistics = [Statistic<"numPruned", "pruned", "FFNs made smaller">];
}

def PruneHeads : Pass<"tfm-prune-heads", "func::FuncOp"> {
  let summary = "Removes the least important attention heads (tfc compile --prune-heads)";
  let description = [{
    A `tfm.attention` whose q, k and v are token-major (`[B, L, heads *
    d]`), with as many key and value heads as query heads, computed by
    linears by constant weights (one merged projection split three ways,
    or three projections), whose result only feeds the input of a
    `tfm.linear` O by a constant weight `[heads * dv, D]`, and whose mask
    (if any) does not vary by head. `fraction` of its heads go (at least
    one stays): the projections lose the heads' columns (and bias), O its
    rows, the attention its heads.

    A head's importance is the sum over its output channels `c` of
    `||x_c|| * ||O row c||`: `x_c` the attention's output channel, whose L2
    norm over calibration data a driver puts on O as `tfc.input_norms`, or
    without it the norm of the value projection's column `c` (weights
    only).
  }];
  let options = [
    Option<"fraction", "fraction", "double", /*default=*/"0.5",
           "The fraction of each attention's heads to remove, below 1">,
    Option<"emitRemarks", "emit-remarks", "bool", /*default=*/"false",
           "Report each attention pruned as a remark">
  ];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
  let statistics = [Statistic<"numPruned", "pruned", "Attentions made smaller">];
}

def LowRank : Pass<"tfm-low-rank", "func::FuncOp"> {
  let summary = "Replaces linears by two thinner ones from their SVD (tfc compile --low-rank)";
  let description = [{
    Each `tfm.linear` (and `tfm.matmul` by a matrix) whose weight is a
    constant f32 `[K, N]` is factored by its SVD, truncated to the smallest
    rank r whose singular values hold `energy` of the sum of their squares
    (or the rank a driver gives it as `tfc.low_rank`, 0 keeping it whole):
    `W ~ A B` with `A [K, r]` and `B [r, N]`. Where two products of rank r
    cost at most half the multiply-adds of the whole (`2 r (K + N) <= K
    N`), the linear becomes a linear by A (no epilogue) feeding a linear by
    B with the original bias, activation and residual; elsewhere it stays.
  }];
  let options = [
    Option<"energy", "energy", "double", /*default=*/"0.9",
           "The fraction of the squared singular values the factors keep">,
    Option<"emitRemarks", "emit-remarks", "bool", /*default=*/"false",
           "Report each linear factored or kept as a remark">
  ];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
  let statistics = [Statistic<"numFactored", "factored", "Linears factored">];
}

def Linearize : Pass<"tfm-linearize", "func::FuncOp"> {
  let summary = "Softmax attention as linear attention with Performer's random features (tfc compile --linearize)";
  let description = [{
    Each `tfm.attention` with token-major f32 q, k and v, no mask and as
    many key heads as query heads becomes `tfm.linear_attention` on
    Performer's positive random features (FAVOR+): per head,
    `φ(x) = exp(W x' - |x'|² / 2 - c)` with `x' = sqrt(scale) x`, W `[M, d]`
    drawn in orthogonal Gaussian blocks from `seed` and the layer's number,
    and c a stabilizer that cancels in the normalization. Causal attention
    stays causal. With `window` W > 0 the result is a hybrid: the keys
    within W positions of each query (the last W, causal) keep their exact
    softmax weights, `exp(x'_q · x'_k)` on the features' scale (the
    linear_attention op's window, its rows `[q', log M - c_q - c_k]` and
    `[k', 1]`), and only the keys beyond weigh by the features. A driver gives each layer its feature count as
    `tfc.linearize_features` (0 keeps the softmax); otherwise every
    qualifying layer takes `features`. A driver may also give a layer
    fitted weights d on its features, `tfc.linearize_log_weights` (f32,
    log d per head and feature: `Σ_m d_m φ_m(q) φ_m(k)` weighs a pair; the
    logs are added to the queries' exponents). Other attentions stay
    (remarks say why).
  }];
  let options = [
    Option<"features", "features", "int64_t", /*default=*/"256",
           "Random features per head (M)">,
    Option<"seed", "seed", "uint64_t", /*default=*/"1",
           "Seed of the features' draw">,
    Option<"window", "window", "int64_t", /*default=*/"0",
           "Keys within this many positions of a query keep their exact "
           "softmax weights (0: none)">,
    Option<"emitRemarks", "emit-remarks", "bool", /*default=*/"false",
           "Report each attention linearized or kept as a remark">
  ];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
  let statistics = [Statistic<"numLinearized", "linearized", "Attentions linearized">];
}

def SequenceState : Pass<"tfm-sequence-state", "func::FuncOp"> {
  let summary = "Proves the graph runs along its sequence and numbers the states a decoder keeps (tfc compile --decoder)";
  let description = [{
    A model compiled with `--decoder` runs as a prefill on the first tokens
    and then steps on the next ones (tfc_model_prefill, tfc_model_step),
    each step's outputs equal to the last rows of a run on the whole
    sequence so far. That holds when every op computes each position from
    that position alone, except causal `tfm.linear_attention`, which
    carries a state per head from call to call, and causal `tfm.attention`
    without a mask, which keeps a KV cache in the instance (the kernel
    appends each call's keys and values and attends to all of them).

    A model exported with past keys and values (its attention's keys and
    values are `concat(past, new)` along their length, the past read from
    graph inputs, one layer picked by a Gather) is rewritten first: the
    attention takes the new keys and values, the past inputs' length
    (a Shape read) becomes `tfm.sequence_offset`, the position the call
    starts at, and the past inputs and the outputs computed from them (the
    presents) leave the signature.

    The pass follows each value from the inputs' sequence dims (the dynamic
    dim named `sequence-dim-name`; by default one named sequence, seq,
    seq_len, sequence_length or seq_length, else a dynamic dim 1): through
    elementwise ops and norms over other dims, linears, reshapes that keep
    the dims up to the sequence's (their target may be read from the
    shape), transposes, splits, gathers of embeddings, and positions
    counted by `Range(offset, offset + length, 1)` from the call's start.
    It numbers each state and KV cache (`tfm.sequence_state`; with
    `max-context`, `tfm.max_context` on the attention), marks the
    arguments' and results' sequence dims (`tfm.sequence_dim`) and the
    count (`tfm.sequence_states` on the function). What it cannot prove is
    an error naming the op: attention that is not causal or adds a mask,
    prefix sums or reductions over the sequence, positions computed from
    its length alone (`Range(0, length)`).

    ```mlir
    // The first linear attention keeps state 0:
    %o = tfm.linear_attention %q, %k, %v {causal = true, feature_map = "elu_plus_one",
                                          tfm.sequence_state = 0 : i64} : ...
    ```
  }];
  let options = [
    Option<"sequenceDimName", "sequence-dim-name", "std::string",
           /*default=*/"\"\"",
           "The inputs' sequence dim, by its ONNX name (default: sequence, "
           "seq, seq_len, sequence_length, seq_length, else a dynamic dim 1)">,
    Option<"maxContext", "max-context", "int64_t", /*default=*/"0",
           "The positions each KV cache is allocated for at the prefill; "
           "a step past them fails (0: the caches grow)">
  ];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
}

def InsertProfileMarkers : Pass<"tfm-insert-profile-markers", "ModuleOp"> {
  let summary = "Times every graph op at run time (tfc compile --profile)";
  let description = [{
    Brackets each op of the graph function, other than constants, with
    `tfm.profile_enter` and `tfm.profile_exit`, which name the op's site: a
    string with the op's name and the ONNX node(s) it came from, for
    instance `linear  /encoder/layer.0/intermediate/dense/MatMul (+2 fused)`.
    The target lowers the markers to its runtime's timer calls (the CPU's
    `tfc_rt_profile_enter` and `tfc_rt_profile_exit`), which sum the time
    between the two per site; `tfc run --profile` prints the sums.

    Runs last, on the optimized graph, so that a site is what the lowering
    turns into one kernel. The markers have side effects, so no loop fusion
    crosses them; elementwise ops that would have been fused into their
    consumer are timed on their own.

    ```mlir
    %y = tfm.gelu %x : (tensor<?x64xf32>) -> tensor<?x64xf32> loc("gelu_node")
    ```

    becomes

    ```mlir
    tfm.profile_enter "gelu  gelu_node"
    %y = tfm.gelu %x : (tensor<?x64xf32>) -> tensor<?x64xf32>
    tfm.profile_exit "gelu  gelu_node"
    ```
  }];
  let statistics = [Statistic<"numSites", "sites", "Ops timed">];
}

#endif // TFC_TRANSFORMS_PASSES_TD
