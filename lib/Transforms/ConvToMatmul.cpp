//===- ConvToMatmul.cpp - the tfm-conv-to-matmul pass ---------------------===//
//
// Vision transformers cut an image into patches with a Conv whose stride is
// its kernel (ViT's 16x16 patch embedding): the windows do not overlap, so
// every output position is one patch, flattened, times the [M, C*K1*K2]
// weight. Written as a matmul by a constant weight the op runs in the linear
// kernel (tens of GFLOP/s per core) instead of a generic loop nest, and its
// bias add fuses as any other projection's does. The patch gather is one
// reshape-transpose-reshape of the input, which is a small fraction of the
// matmul's traffic (each input element is read once).
//
// The rewrite, for x [N, C, H, W] and weight [M, C, kh, kw], H = Ho * kh and
// W = Wo * kw:
//   x -> [N, C, Ho, kh, Wo, kw] -> [N, Ho, Wo, C, kh, kw] -> [N, Ho*Wo, C*kh*kw]
//     @ weight as [C*kh*kw, M] (+ bias) -> [N, Ho, Wo, M] -> [N, M, Ho, Wo]
// and likewise for 1-d and 3-d convs.
//
//===----------------------------------------------------------------------===//

#include "FusionUtils.h"
#include "tfc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "tfm/TfmOps.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_CONVTOMATMUL
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// Whether `conv` reads each input element once, in windows that tile the
/// input exactly: stride = kernel, no padding or dilation, one group, and
/// static spatial dims that the kernel divides. Also a float conv with
/// static channels, so that the patch width is known.
bool hasNonOverlappingWindows(tfm::ConvOp conv) {
  auto inputType = cast<RankedTensorType>(conv.getInput().getType());
  auto weightType = cast<RankedTensorType>(conv.getWeight().getType());
  int64_t spatialRank = inputType.getRank() - 2;
  if (spatialRank < 1 || conv.getGroup() != 1 ||
      !isa<FloatType>(inputType.getElementType()) || !weightType.hasStaticShape() ||
      inputType.isDynamicDim(1) ||
      (int64_t)conv.getStrides().size() != spatialRank ||
      (int64_t)conv.getDilations().size() != spatialRank ||
      (int64_t)conv.getPads().size() != 2 * spatialRank)
    return false;
  ArrayRef<int64_t> kernel = weightType.getShape().drop_front(2);
  for (int64_t i = 0; i < spatialRank; ++i) {
    int64_t size = inputType.getDimSize(i + 2);
    if (conv.getStrides()[i] != kernel[i] || conv.getDilations()[i] != 1 ||
        ShapedType::isDynamic(size) || size % kernel[i] != 0)
      return false;
  }
  return llvm::all_of(conv.getPads(), [](int64_t pad) { return pad == 0; });
}

Value shapeConstant(OpBuilder &b, Location loc, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get({(int64_t)shape.size()}, b.getI64Type());
  return b.create<tfm::ConstantOp>(loc, DenseIntElementsAttr::get(type, shape));
}

/// Rewrites `conv` as patches @ weight (+ bias); false when it does not
/// qualify (see hasNonOverlappingWindows) or its weight is not a constant.
bool rewriteAsMatmul(tfm::ConvOp conv) {
  if (!hasNonOverlappingWindows(conv))
    return false;
  OpBuilder b(conv);
  Location loc = conv.getLoc();
  // [M, C, K1..Kn] read as [M, C*K1*..*Kn], transposed.
  Value weight = createTransposedWeight(b, loc, conv.getWeight());
  if (!weight)
    return false;

  auto inputType = cast<RankedTensorType>(conv.getInput().getType());
  auto weightType = cast<RankedTensorType>(conv.getWeight().getType());
  int64_t spatialRank = inputType.getRank() - 2;
  int64_t channels = inputType.getDimSize(1);
  int64_t outputChannels = weightType.getDimSize(0);
  ArrayRef<int64_t> kernel = weightType.getShape().drop_front(2);

  // Split each spatial dim into (windows, offset in window); the reshape's 0
  // copies the batch dim, which may be symbolic.
  SmallVector<int64_t> split = {0, channels};
  SmallVector<int64_t> windows;
  for (int64_t i = 0; i < spatialRank; ++i) {
    windows.push_back(inputType.getDimSize(i + 2) / kernel[i]);
    split.append({windows.back(), kernel[i]});
  }
  // Window dims first, then channels and the offsets: a patch is contiguous.
  SmallVector<int64_t> patchOrder = {0};
  for (int64_t i = 0; i < spatialRank; ++i)
    patchOrder.push_back(2 + 2 * i);
  patchOrder.push_back(1);
  for (int64_t i = 0; i < spatialRank; ++i)
    patchOrder.push_back(3 + 2 * i);
  int64_t patchCount = 1, patchSize = channels;
  for (int64_t i = 0; i < spatialRank; ++i) {
    patchCount *= windows[i];
    patchSize *= kernel[i];
  }

  Value input = b.create<tfm::ReshapeOp>(loc, conv.getInput(),
                                         shapeConstant(b, loc, split));
  input = b.create<tfm::TransposeOp>(loc, input,
                                     b.getDenseI64ArrayAttr(patchOrder));
  input = b.create<tfm::ReshapeOp>(
      loc, input, shapeConstant(b, loc, {0, patchCount, patchSize}));
  Value result = b.create<tfm::MatMulOp>(loc, input, weight);
  if (Value bias = conv.getBias())
    result = b.create<tfm::AddOp>(loc, result, bias);

  // [N, windows..., M] back to the conv's [N, M, windows...].
  SmallVector<int64_t> unflattened = {0};
  llvm::append_range(unflattened, windows);
  unflattened.push_back(outputChannels);
  result = b.create<tfm::ReshapeOp>(loc, result,
                                    shapeConstant(b, loc, unflattened));
  SmallVector<int64_t> channelsFirst = {0, spatialRank + 1};
  for (int64_t i = 0; i < spatialRank; ++i)
    channelsFirst.push_back(1 + i);
  result = b.create<tfm::TransposeOp>(loc, result,
                                      b.getDenseI64ArrayAttr(channelsFirst));
  // The types agree by construction; should a conv's declared type say
  // less (or other) than the rewrite infers, keep the conv rather than
  // change what its users see.
  if (result.getType() != conv.getType()) {
    // Everything built sits between the new weight and the conv.
    SmallVector<Operation *> built;
    for (Operation *op = weight.getDefiningOp(); op != conv.getOperation();
         op = op->getNextNode())
      built.push_back(op);
    for (Operation *op : llvm::reverse(built))
      op->erase();
    return false;
  }
  conv.getResult().replaceAllUsesWith(result);
  Operation *oldWeight = conv.getWeight().getDefiningOp();
  conv.erase();
  // The transposed copy replaces the weight: do not hold it twice.
  if (oldWeight && oldWeight->use_empty())
    oldWeight->erase();
  return true;
}

struct ConvToMatmulPass
    : public tfc::impl::ConvToMatmulBase<ConvToMatmulPass> {
  void runOnOperation() override {
    SmallVector<tfm::ConvOp> convs;
    getOperation().walk([&](tfm::ConvOp conv) { convs.push_back(conv); });
    for (tfm::ConvOp conv : convs)
      if (rewriteAsMatmul(conv))
        ++numRewritten;
  }
};

} // namespace
