//===- AttentionKernel.cpp - tfm.attention to the runtime's fused kernel --===//
//
// An f32 tfm.attention runs as one call into the runtime's flash-attention kernel
// (tfc_rt_attention_f32 in lib/Runtime/attention.c): a tiled loop with an
// online softmax that never holds a head's Lq x Lk scores. Expressing that in
// linalg would mean materializing the scores, which is what the fusion is
// there to avoid, so the lowering leaves tensors here: the operands are read
// through bufferization.to_memref (read-only, any strides: the kernel takes
// the row strides it is given, so slices of a merged QKV projection are not
// copied), and the result is a fresh buffer the kernel fills.
//
// The shape rules that can only be checked at run time are checked here, as
// for every other op, so the message names the node; the kernel trusts them.
// Other element types take the generic form in AttentionOps.cpp.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// The runtime's tfc_rt_attention_f32 (see getOrDeclareKernel).
constexpr StringLiteral kKernelName = "tfc_kernel_attention_f32";

/// Flags word of the kernel call (mirrors TFC_RT_ATTENTION_* in the runtime).
enum AttentionFlags : int64_t { kHasMask = 1, kCausal = 2 };

/// Declares the kernel in `module` once.
func::FuncOp getOrDeclareAttentionKernel(OpBuilder &b, ModuleOp module) {
  MLIRContext *context = b.getContext();
  Type f32 = b.getF32Type();
  MemRefType tensor3 = getKernelMemRefType(context, 3, f32);
  MemRefType tensor4 = getKernelMemRefType(context, 4, f32);
  // (query, key, value, mask, result, num_heads, scale, flags)
  auto type = b.getFunctionType(
      {tensor3, tensor3, tensor3, tensor4, tensor3, b.getI64Type(), f32,
       b.getI64Type()},
      {});
  return getOrDeclareKernel(b, module, kKernelName, type);
}

Value dimOf(OpBuilder &b, Location loc, Value tensor, int64_t dim) {
  return b.create<tensor::DimOp>(loc, tensor, dim);
}

struct AttentionKernelPattern : OpConversionPattern<tfm::AttentionOp> {
  AttentionKernelPattern(TypeConverter &converter, MLIRContext *context)
      : OpConversionPattern(converter, context, /*benefit=*/2) {}

  LogicalResult
  matchAndRewrite(tfm::AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value query = adaptor.getQuery(), key = adaptor.getKey(),
          value = adaptor.getValue(), mask = adaptor.getMask();
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!resultType.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "only f32 attention has a kernel");
    auto module = op->getParentOfType<ModuleOp>();
    func::FuncOp kernel = getOrDeclareAttentionKernel(rewriter, module);
    int64_t heads = static_cast<int64_t>(op.getNumHeads());

    // Shapes that the verifier could not settle statically.
    checkAttentionShapes(rewriter, loc, op, query, key, value, heads);
    Value batch = dimOf(rewriter, loc, query, 0);
    Value queryLength = dimOf(rewriter, loc, query, 1);
    Value keyLength = dimOf(rewriter, loc, key, 1);
    Value valueHidden = dimOf(rewriter, loc, value, 2);
    Value headsIndex = rewriter.create<arith::ConstantIndexOp>(loc, heads);

    Type f32 = rewriter.getF32Type();
    MLIRContext *context = rewriter.getContext();
    // The mask as [B', N', Lq', Lk'], each dim 1 (broadcast) or the full
    // size; without a mask the kernel gets a placeholder it never reads.
    Value maskMemRef;
    if (mask) {
      auto maskType = cast<RankedTensorType>(mask.getType());
      int64_t rank = maskType.getRank();
      Value scoreDims[4] = {batch, headsIndex, queryLength, keyLength};
      Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
      for (int64_t j = 0; j < rank; ++j) {
        if (maskType.getDimSize(j) == 1)
          continue;
        Value size = dimOf(rewriter, loc, mask, j);
        Value full = scoreDims[4 - rank + j];
        Value ok = rewriter.create<arith::OrIOp>(
            loc,
            rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, size,
                                           one),
            rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, size,
                                           full));
        emitCheck(rewriter, loc, ok, op,
                  "mask dim " + Twine(j) +
                      " is neither 1 nor the scores' size");
      }
      SmallVector<int64_t> shape4(4 - rank, 1);
      llvm::append_range(shape4, maskType.getShape());
      SmallVector<ReassociationIndices> groups;
      if (rank > 0) {
        // The added unit dims join the first of the mask's own dims.
        ReassociationIndices first;
        for (int64_t i = 0; i <= 4 - rank; ++i)
          first.push_back(i);
        groups.push_back(first);
        for (int64_t i = 5 - rank; i < 4; ++i)
          groups.push_back({i});
      }
      SmallVector<OpFoldResult> sizes4(4 - rank, rewriter.getIndexAttr(1));
      llvm::append_range(sizes4, getDims(rewriter, loc, mask));
      Value mask4 = rewriter.create<tensor::ExpandShapeOp>(
          loc, RankedTensorType::get(shape4, f32), mask, groups, sizes4);
      maskMemRef = getKernelReadOnlyView(rewriter, loc, mask4);
    } else {
      maskMemRef = getKernelPlaceholder(
          rewriter, loc, getKernelMemRefType(context, 4, f32));
    }

    auto resultBufferType =
        MemRefType::get(resultType.getShape(), resultType.getElementType());
    SmallVector<Value> dynamicSizes;
    Value resultDims[3] = {batch, queryLength, valueHidden};
    for (int64_t i = 0; i < 3; ++i)
      if (resultType.isDynamicDim(i))
        dynamicSizes.push_back(resultDims[i]);
    Value result = rewriter.create<memref::AllocOp>(
        loc, resultBufferType, dynamicSizes, rewriter.getI64IntegerAttr(64));

    int64_t flags = (mask ? kHasMask : 0) | (op.getCausal() ? kCausal : 0);
    rewriter.create<func::CallOp>(
        loc, kernel,
        ValueRange{getKernelReadOnlyView(rewriter, loc, query),
                   getKernelReadOnlyView(rewriter, loc, key),
                   getKernelReadOnlyView(rewriter, loc, value),
                   maskMemRef,
                   rewriter.create<memref::CastOp>(
                       loc, getKernelMemRefType(context, 3, f32), result),
                   rewriter.create<arith::ConstantIntOp>(loc, heads, 64),
                   rewriter.create<arith::ConstantOp>(loc, op.getScaleAttr()),
                   rewriter.create<arith::ConstantIntOp>(loc, flags, 64)});
    rewriter.replaceOpWithNewOp<bufferization::ToTensorOp>(
        op, resultType, result, /*restrict=*/true, /*writable=*/true);
    return success();
  }
};

} // namespace

void mlir::tfc::populateAttentionKernelPatterns(TypeConverter &converter,
                                                RewritePatternSet &patterns) {
  patterns.add<AttentionKernelPattern>(converter, patterns.getContext());
}
