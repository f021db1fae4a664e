//===- LayerNormKernel.cpp - layer norms to the runtime's kernel ----------===//
//
// tfm.layer_norm and tfm.add_layer_norm over the last dim, of f32 tensors of
// rank 2 or 3 with a [D] scale and bias, run as one call of the runtime's
// tfc_rt_layer_norm_f32 (lib/Runtime/layer_norm.c). The linalg lowering in
// NormalizationOps.cpp reduces each row with a scalar loop-carried sum,
// which LLVM may not reassociate into vectors: BERT-base spent 4.5 ms of
// 79 in its 24 layer norms that way, the kernel a fraction of that.
//
// What the kernel does not take falls back to that lowering (a lower
// benefit): other element types or ranks, a normalization over several
// dims, a scale or bias that is not a vector, a skip that broadcasts.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "tfc/runtime/tfc_abi.h"
#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// The runtime's tfc_rt_layer_norm_f32 (see getOrDeclareKernel).
constexpr StringLiteral kKernelName = "tfc_kernel_layer_norm_f32";

/// Emits a run-time check that dim `i` of `a` equals `size`.
void checkDim(OpBuilder &b, Location loc, Operation *op, Value a, int64_t i,
              OpFoldResult size, const Twine &message) {
  Value same = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                       b.create<tensor::DimOp>(loc, a, i),
                                       toIndexValue(b, loc, size));
  emitCheck(b, loc, same, op, message);
}

/// The kernel call for a layer norm of `input` (+ `skip`) over its last
/// dim, or failure (and nothing emitted) when the kernel does not take it.
LogicalResult lowerToLayerNormKernel(Operation *op, Value input, Value skip,
                                     Value scale, Value bias, uint64_t axis,
                                     float epsilon,
                                     ConversionPatternRewriter &rewriter) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  if (!type.getElementType().isF32() || rank < 2 || rank > 3)
    return rewriter.notifyMatchFailure(op, "not an f32 tensor of rank 2 or 3");
  if (normalizedAxis(axis, rank) != rank - 1)
    return rewriter.notifyMatchFailure(op, "normalizes more than the last dim");
  int64_t depth = type.getDimSize(rank - 1);
  // Scale and bias: vectors of the normalized dim (statically, when both
  // sizes are known; else checked at run time below).
  for (Value param : {scale, bias}) {
    if (!param)
      continue;
    auto paramType = cast<RankedTensorType>(param.getType());
    if (paramType.getRank() != 1 ||
        (!paramType.isDynamicDim(0) && !ShapedType::isDynamic(depth) &&
         paramType.getDimSize(0) != depth) ||
        paramType.getDimSize(0) == 1)
      return rewriter.notifyMatchFailure(op, "scale or bias is not a [D] vector");
  }
  // The skip: the input's shape, dim for dim (a broadcast one is not taken).
  if (skip) {
    auto skipType = cast<RankedTensorType>(skip.getType());
    if (skipType.getRank() != rank)
      return rewriter.notifyMatchFailure(op, "the skip broadcasts");
    for (int64_t i = 0; i < rank; ++i) {
      int64_t size = skipType.getDimSize(i), want = type.getDimSize(i);
      if (ShapedType::isDynamic(size) != ShapedType::isDynamic(want) ||
          (!ShapedType::isDynamic(size) && size != want))
        return rewriter.notifyMatchFailure(op, "the skip may broadcast");
    }
  }

  Location loc = op->getLoc();
  SmallVector<OpFoldResult> dims = getDims(rewriter, loc, input);
  for (Value param : {scale, bias})
    if (param && cast<RankedTensorType>(param.getType()).isDynamicDim(0))
      checkDim(rewriter, loc, op, param, 0, dims.back(),
               "scale or bias's dim 0 does not match the input's last "
               "(scale or bias vs input)");
  if (skip)
    for (int64_t i = 0; i < rank; ++i)
      if (type.isDynamicDim(i))
        checkDim(rewriter, loc, op, skip, i, dims[i],
                 "the residual's dim " + Twine(i) +
                     " does not match the input's (residual vs input)");

  MLIRContext *context = rewriter.getContext();
  Type f32 = rewriter.getF32Type();
  MemRefType rows3 = getKernelMemRefType(context, 3, f32);
  MemRefType vector = getKernelMemRefType(context, 1, f32);
  // (input, skip, scale, bias, result, epsilon, flags)
  auto kernelType = rewriter.getFunctionType(
      {rows3, rows3, vector, vector, rows3, f32, rewriter.getI64Type()}, {});
  func::FuncOp kernel = getOrDeclareKernel(
      rewriter, op->getParentOfType<ModuleOp>(), kKernelName, kernelType);

  int64_t flags = 0;
  Value skipView = getKernelPlaceholder(rewriter, loc, rows3);
  Value biasView = getKernelPlaceholder(rewriter, loc, vector);
  if (skip) {
    skipView = getKernelReadOnlyView(rewriter, loc, toRank3(rewriter, loc, skip));
    flags |= TFC_RT_LAYER_NORM_HAS_SKIP;
  }
  if (bias) {
    biasView = getKernelReadOnlyView(rewriter, loc, bias);
    flags |= TFC_RT_LAYER_NORM_HAS_BIAS;
  }
  Value resultView;
  Value result = allocKernelResult(rewriter, loc, type, dims, resultView);
  rewriter.create<func::CallOp>(
      loc, kernel,
      ValueRange{
          getKernelReadOnlyView(rewriter, loc, toRank3(rewriter, loc, input)),
          skipView, getKernelReadOnlyView(rewriter, loc, scale), biasView,
          resultView,
          rewriter.create<arith::ConstantOp>(loc,
                                             rewriter.getF32FloatAttr(epsilon)),
          rewriter.create<arith::ConstantIntOp>(loc, flags, 64)});
  rewriter.replaceOpWithNewOp<bufferization::ToTensorOp>(
      op, type, result, /*restrict=*/true, /*writable=*/true);
  return success();
}

struct LayerNormKernelPattern : OpConversionPattern<tfm::LayerNormOp> {
  LayerNormKernelPattern(TypeConverter &converter, MLIRContext *context)
      : OpConversionPattern(converter, context, /*benefit=*/2) {}

  LogicalResult
  matchAndRewrite(tfm::LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return lowerToLayerNormKernel(
        op, adaptor.getInput(), Value(), adaptor.getScale(), adaptor.getBias(),
        op.getAxis(), op.getEpsilon().convertToFloat(), rewriter);
  }
};

struct AddLayerNormKernelPattern : OpConversionPattern<tfm::AddLayerNormOp> {
  AddLayerNormKernelPattern(TypeConverter &converter, MLIRContext *context)
      : OpConversionPattern(converter, context, /*benefit=*/2) {}

  LogicalResult
  matchAndRewrite(tfm::AddLayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    return lowerToLayerNormKernel(
        op, adaptor.getInput(), adaptor.getSkip(), adaptor.getScale(),
        adaptor.getBias(), op.getAxis(), op.getEpsilon().convertToFloat(),
        rewriter);
  }
};

} // namespace

void mlir::tfc::populateLayerNormKernelPatterns(TypeConverter &converter,
                                                RewritePatternSet &patterns) {
  patterns.add<LayerNormKernelPattern, AddLayerNormKernelPattern>(
      converter, patterns.getContext());
}
