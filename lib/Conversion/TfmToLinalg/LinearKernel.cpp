//===- LinearKernel.cpp - tfm.linear to the runtime's matmul kernel -------===//
//
// A tfm.linear whose weight is a constant f32 [K, N] runs as one call of the
// runtime's tfc_rt_linear_f32 (lib/Runtime/linear.c): register-blocked
// AVX-512/AVX2 tiles over weights packed once, here, at compile time, into
// the panel layout the tiles read at unit stride ([panels][K][32]). The
// epilogue (bias, activation, residual) is applied in the kernel to each
// finished tile, so the output is written once in its final form.
//
// The kernel takes the input, residual and result as [B, L, X] views with
// any strides (a rank-2 operand gets a unit batch), so nothing is copied. What the kernel does not take falls
// back to the linalg lowering in ContractionOps.cpp (a lower benefit): a
// non-constant or non-f32 weight, a bias of dynamic size, or a residual
// that broadcasts.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringSwitch.h"
#include "tfc/runtime/tfc_abi.h"
#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// The runtime's tfc_rt_linear_f32 (see getOrDeclareKernel).
constexpr StringLiteral kKernelName = "tfc_kernel_linear_f32";
constexpr int64_t kPanel = TFC_RT_LINEAR_PANEL;

/// The f32 values of a constant's attribute, in place, or nothing.
std::optional<ArrayRef<float>> constantFloats(Attribute value) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    std::optional<ArrayRef<char>> bytes = tfm::getWeightBytes(resource);
    if (!bytes || !resource.getElementType().isF32())
      return std::nullopt;
    return ArrayRef<float>(reinterpret_cast<const float *>(bytes->data()),
                           bytes->size() / sizeof(float));
  }
  if (auto dense = dyn_cast<DenseElementsAttr>(value))
    if (!dense.isSplat())
      return ArrayRef<float>(
          reinterpret_cast<const float *>(dense.getRawData().data()),
          dense.getNumElements());
  return std::nullopt;
}

/// `weight` ([K, N] f32, constant) packed as the kernel reads it, as a new
/// constant [panels, K, 32]; null when the weight is not such a constant.
/// Packing is the one copy of a weight the compiler makes: the original
/// constant is dropped once nothing else uses it. (A weight that several
/// linears share is packed for each.)
Value packWeight(OpBuilder &b, Location loc, Value weight) {
  auto type = dyn_cast<RankedTensorType>(weight.getType());
  Attribute value;
  if (!type || type.getRank() != 2 || !type.hasStaticShape() ||
      !type.getElementType().isF32() || !matchPattern(weight, m_Constant(&value)))
    return {};
  // A splat (all weights equal, as in small tests) has no array to read.
  float splatValue = 0.0f;
  std::optional<ArrayRef<float>> values;
  if (auto splat = dyn_cast<SplatElementsAttr>(value))
    splatValue = splat.getSplatValue<float>();
  else if (!(values = constantFloats(value)))
    return {};
  int64_t depth = type.getDimSize(0), cols = type.getDimSize(1);
  int64_t panels = (cols + kPanel - 1) / kPanel;
  AsmResourceBlob blob = HeapAsmResourceBlob::allocate(
      panels * depth * kPanel * sizeof(float), alignof(float) * 16,
      /*dataIsMutable=*/true);
  MutableArrayRef<float> packed(
      reinterpret_cast<float *>(blob.getMutableData().data()),
      panels * depth * kPanel);
  for (int64_t panel = 0; panel < panels; ++panel)
    for (int64_t k = 0; k < depth; ++k)
      for (int64_t j = 0; j < kPanel; ++j) {
        int64_t col = panel * kPanel + j;
        float element = 0.0f;
        if (col < cols)
          element = values ? (*values)[k * cols + col] : splatValue;
        packed[(panel * depth + k) * kPanel + j] = element;
      }
  auto packedType = RankedTensorType::get({panels, depth, kPanel}, b.getF32Type());
  return b.create<arith::ConstantOp>(
      loc, DenseResourceElementsAttr::get(packedType, "packed_weight",
                                          std::move(blob)));
}

/// The kernel call for `op` (a tfm.linear, or a bare tfm.matmul by a
/// constant weight): out = act(input @ weight + bias) + residual, bias and
/// residual optional.
LogicalResult lowerToLinearKernel(Operation *op, Value input, Value weight,
                                  Value bias, Value residual,
                                  StringRef activationName,
                                  RankedTensorType resultType,
                                  ConversionPatternRewriter &rewriter) {
  Location loc = op->getLoc();
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rank = resultType.getRank();
  if (!resultType.getElementType().isF32() || rank < 2 || rank > 3 ||
      inputType.getRank() != rank)
    return rewriter.notifyMatchFailure(op, "not an f32 product of rank 2 or 3");
  int64_t cols = resultType.getDimSize(rank - 1);
  if (ShapedType::isDynamic(cols))
    return rewriter.notifyMatchFailure(op, "dynamic output columns");
  // The bias ([N], the verifier says) with its N known.
  if (bias && !cast<RankedTensorType>(bias.getType()).hasStaticShape())
    return rewriter.notifyMatchFailure(op, "the bias has a dynamic size");
  // The residual: exactly the result's shape (dynamic dims are checked
  // against the input's below).
  if (residual) {
    auto residualType = cast<RankedTensorType>(residual.getType());
    if (residualType.getRank() != rank)
      return rewriter.notifyMatchFailure(op, "the residual broadcasts");
    for (int64_t i = 0; i < rank; ++i) {
      int64_t size = residualType.getDimSize(i),
              want = resultType.getDimSize(i);
      if (!ShapedType::isDynamic(size) && !ShapedType::isDynamic(want) &&
          size != want)
        return rewriter.notifyMatchFailure(op, "the residual broadcasts");
      if (!ShapedType::isDynamic(size) && ShapedType::isDynamic(want) &&
          size == 1)
        return rewriter.notifyMatchFailure(op, "the residual may broadcast");
    }
  }
  Value packed = packWeight(rewriter, loc, weight);
  if (!packed)
    return rewriter.notifyMatchFailure(
        op, "the weight is not a constant f32 matrix");
  int64_t depth = cast<RankedTensorType>(weight.getType()).getDimSize(0);
  if (inputType.isDynamicDim(rank - 1)) {
    Value k = rewriter.create<tensor::DimOp>(loc, input, rank - 1);
    emitCheck(rewriter, loc,
              rewriter.create<arith::CmpIOp>(
                  loc, arith::CmpIPredicate::eq, k,
                  rewriter.create<arith::ConstantIndexOp>(loc, depth)),
              op, "the contracted dims of the input and weight differ");
  }

  // The result's dims: the input's rows, then N.
  SmallVector<OpFoldResult> resultDims = getDims(rewriter, loc, input);
  resultDims.back() = rewriter.getIndexAttr(cols);
  if (residual) {
    auto residualType = cast<RankedTensorType>(residual.getType());
    for (int64_t i = 0; i + 1 < rank; ++i) {
      if (!residualType.isDynamicDim(i))
        continue;
      Value size = rewriter.create<tensor::DimOp>(loc, residual, i);
      emitCheck(rewriter, loc,
                rewriter.create<arith::CmpIOp>(
                    loc, arith::CmpIPredicate::eq, size,
                    toIndexValue(rewriter, loc, resultDims[i])),
                op, "the residual does not match the result's shape");
    }
  }

  MLIRContext *context = rewriter.getContext();
  Type f32 = rewriter.getF32Type();
  MemRefType rows3 = getKernelMemRefType(context, 3, f32);
  MemRefType vector = getKernelMemRefType(context, 1, f32);
  // (input, packed weight, bias, residual, result, flags); the input,
  // residual and result as [B, L, X].
  auto kernelType = rewriter.getFunctionType(
      {rows3, rows3, vector, rows3, rows3, rewriter.getI64Type()}, {});
  func::FuncOp kernel = getOrDeclareKernel(
      rewriter, op->getParentOfType<ModuleOp>(), kKernelName, kernelType);

  Value biasView = getKernelPlaceholder(rewriter, loc, vector);
  Value residualView = getKernelPlaceholder(rewriter, loc, rows3);
  int64_t flags = 0;
  if (bias) {
    biasView = getKernelReadOnlyView(rewriter, loc, bias);
    flags |= TFC_RT_LINEAR_HAS_BIAS;
  }
  if (residual) {
    residualView =
        getKernelReadOnlyView(rewriter, loc, toRank3(rewriter, loc, residual));
    flags |= TFC_RT_LINEAR_HAS_RESIDUAL;
  }
  int64_t activation = llvm::StringSwitch<int64_t>(activationName)
                           .Case("relu", TFC_RT_LINEAR_RELU)
                           .Case("gelu", TFC_RT_LINEAR_GELU)
                           .Case("gelu_tanh", TFC_RT_LINEAR_GELU_TANH)
                           .Default(TFC_RT_LINEAR_NONE);
  flags |= activation << TFC_RT_LINEAR_ACTIVATION_SHIFT;

  Value resultView;
  Value result =
      allocKernelResult(rewriter, loc, resultType, resultDims, resultView);
  rewriter.create<func::CallOp>(
      loc, kernel,
      ValueRange{
          getKernelReadOnlyView(rewriter, loc, toRank3(rewriter, loc, input)),
          getKernelReadOnlyView(rewriter, loc, packed), biasView, residualView,
          resultView, rewriter.create<arith::ConstantIntOp>(loc, flags, 64)});
  rewriter.replaceOpWithNewOp<bufferization::ToTensorOp>(
      op, resultType, result, /*restrict=*/true, /*writable=*/true);
  return success();
}

struct LinearKernelPattern : OpConversionPattern<tfm::LinearOp> {
  LinearKernelPattern(TypeConverter &converter, MLIRContext *context)
      : OpConversionPattern(converter, context, /*benefit=*/2) {}

  LogicalResult
  matchAndRewrite(tfm::LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return lowerToLinearKernel(
        op, adaptor.getInput(), adaptor.getWeight(), adaptor.getBias(),
        adaptor.getResidual(), op.getActivation(),
        cast<RankedTensorType>(getTypeConverter()->convertType(op.getType())),
        rewriter);
  }
};

/// A matmul by a constant matrix that no epilogue joined (GPT-2's LM head,
/// 128 x 768 x 50257, the largest product of the model) is the kernel's
/// too, with an empty epilogue.
struct MatMulKernelPattern : OpConversionPattern<tfm::MatMulOp> {
  MatMulKernelPattern(TypeConverter &converter, MLIRContext *context)
      : OpConversionPattern(converter, context, /*benefit=*/2) {}

  LogicalResult
  matchAndRewrite(tfm::MatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto weightType = dyn_cast<RankedTensorType>(adaptor.getRhs().getType());
    if (!weightType || weightType.getRank() != 2)
      return rewriter.notifyMatchFailure(op, "not a product by a matrix");
    return lowerToLinearKernel(
        op, adaptor.getLhs(), adaptor.getRhs(), Value(), Value(), "none",
        cast<RankedTensorType>(getTypeConverter()->convertType(op.getType())),
        rewriter);
  }
};

} // namespace

void mlir::tfc::populateLinearKernelPatterns(TypeConverter &converter,
                                             RewritePatternSet &patterns) {
  patterns.add<LinearKernelPattern, MatMulKernelPattern>(converter,
                                                         patterns.getContext());
}
