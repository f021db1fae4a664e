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
// A 1-d conv whose windows overlap (Whisper's and wav2vec's audio front
// ends: kernel 3, padding 1, stride 1 or 2, over a length known only at run
// time) becomes the same matmul over im2col columns: the zero-padded input,
// one strided slice per kernel tap stacked behind the channels,
//   x -> pad -> [N, C, K, Lo] (K slices) -> [N, Lo, C, K] -> [N, Lo, C*K]
//     @ weight as [C*K, M] (+ bias) -> [N, Lo, M] -> [N, M, Lo]
// The columns are K times the input, still small next to the matmul.
//
//===----------------------------------------------------------------------===//

#include "FusionUtils.h"
#include "tfc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "tfm/TfmOps.h"

#include <limits>

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

/// Erases the ops built before `conv` after `start` (the op before the
/// first one built, or null when that was the block's first), last first.
void eraseBuilt(Operation *start, tfm::ConvOp conv) {
  SmallVector<Operation *> built;
  for (Operation *op = start ? start->getNextNode() : &conv->getBlock()->front();
       op != conv.getOperation(); op = op->getNextNode())
    built.push_back(op);
  for (Operation *op : llvm::reverse(built))
    op->erase();
}

/// Replaces `conv` by `result`, and drops its weight when the transposed
/// copy was its only other reader (a weight is not held twice).
void replaceConv(tfm::ConvOp conv, Value result) {
  conv.getResult().replaceAllUsesWith(result);
  Operation *oldWeight = conv.getWeight().getDefiningOp();
  conv.erase();
  if (oldWeight && oldWeight->use_empty())
    oldWeight->erase();
}

/// Rewrites `conv` as patches @ weight (+ bias); false when it does not
/// qualify (see hasNonOverlappingWindows) or its weight is not a constant.
bool rewriteAsMatmul(tfm::ConvOp conv) {
  if (!hasNonOverlappingWindows(conv))
    return false;
  OpBuilder b(conv);
  Location loc = conv.getLoc();
  Operation *start = conv->getPrevNode();
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
    eraseBuilt(start, conv);
    return false;
  }
  replaceConv(conv, result);
  return true;
}

/// Whether `conv` is a 1-d conv the im2col rewrite takes: one group, no
/// dilation, float, static channels and kernel (the length may be dynamic).
bool isIm2colConv1d(tfm::ConvOp conv) {
  auto inputType = cast<RankedTensorType>(conv.getInput().getType());
  auto weightType = cast<RankedTensorType>(conv.getWeight().getType());
  return inputType.getRank() == 3 && conv.getGroup() == 1 &&
         isa<FloatType>(inputType.getElementType()) && weightType.hasStaticShape() &&
         !inputType.isDynamicDim(1) && conv.getStrides().size() == 1 &&
         conv.getDilations().size() == 1 && conv.getDilations()[0] == 1 &&
         conv.getPads().size() == 2 && conv.getStrides()[0] >= 1 &&
         weightType.getDimSize(1) == inputType.getDimSize(1);
}

Value i64Constant(OpBuilder &b, Location loc, int64_t value) {
  return shapeConstant(b, loc, {value});
}

/// `pad` zeros of `input`'s type along dim 2, for an input [N, C, L]:
/// [1, C, pad] zeros expanded to the batch.
Value zeroColumns(OpBuilder &b, Location loc, Value input, int64_t pad) {
  auto type = cast<RankedTensorType>(input.getType());
  auto zerosType = RankedTensorType::get({1, type.getDimSize(1), pad},
                                         type.getElementType());
  Value zeros = b.create<tfm::ConstantOp>(
      loc, DenseElementsAttr::get(zerosType, b.getZeroAttr(type.getElementType())));
  if (type.getDimSize(0) == 1)
    return zeros;
  auto i64 = b.getI64Type();
  Value batch = b.create<tfm::ShapeOp>(loc, RankedTensorType::get({1}, i64), input,
                                       b.getI64IntegerAttr(0), b.getI64IntegerAttr(1));
  Value shape = b.create<tfm::ConcatOp>(
      loc, RankedTensorType::get({3}, i64),
      ValueRange{batch, shapeConstant(b, loc, {type.getDimSize(1), pad})},
      b.getI64IntegerAttr(0));
  auto expandedType = RankedTensorType::get(
      {type.getDimSize(0), type.getDimSize(1), pad}, type.getElementType());
  return b.create<tfm::ExpandOp>(loc, expandedType, zeros, shape);
}

/// Rewrites a 1-d conv (isIm2colConv1d) as im2col columns @ weight.
bool rewriteIm2colConv1d(tfm::ConvOp conv) {
  if (!isIm2colConv1d(conv))
    return false;
  OpBuilder b(conv);
  Location loc = conv.getLoc();
  Operation *start = conv->getPrevNode();
  Value weight = createTransposedWeight(b, loc, conv.getWeight());
  if (!weight)
    return false;
  auto weightType = cast<RankedTensorType>(conv.getWeight().getType());
  int64_t channels = weightType.getDimSize(1), kernel = weightType.getDimSize(2);
  int64_t stride = conv.getStrides()[0];
  ArrayRef<int64_t> pads = conv.getPads();

  Value input = conv.getInput();
  if (pads[0] > 0 || pads[1] > 0) {
    SmallVector<Value> pieces;
    if (pads[0] > 0)
      pieces.push_back(zeroColumns(b, loc, input, pads[0]));
    pieces.push_back(input);
    if (pads[1] > 0)
      pieces.push_back(zeroColumns(b, loc, input, pads[1]));
    input = b.create<tfm::ConcatOp>(loc, pieces, b.getI64IntegerAttr(2));
  }
  // Tap k reads positions k, k + s, ...: the slice [k, end - (K - 1 - k))
  // has Lo elements for every k.
  SmallVector<Value> taps;
  for (int64_t k = 0; k < kernel; ++k) {
    int64_t end = k == kernel - 1 ? std::numeric_limits<int64_t>::max()
                                  : -(kernel - 1 - k);
    Value tap = b.create<tfm::SliceOp>(loc, input, i64Constant(b, loc, k),
                                       i64Constant(b, loc, end), i64Constant(b, loc, 2),
                                       i64Constant(b, loc, stride));
    taps.push_back(b.create<tfm::UnsqueezeOp>(loc, tap, b.getDenseI64ArrayAttr({2})));
  }
  // [N, C, K, Lo]: each tap's rows land whole (with the taps innermost, the
  // concat wrote one element at a time and took longer than the matmul).
  Value columns = taps.size() == 1
                      ? taps.front()
                      : b.create<tfm::ConcatOp>(loc, taps, b.getI64IntegerAttr(2))
                            .getResult();
  columns = b.create<tfm::TransposeOp>(loc, columns, b.getDenseI64ArrayAttr({0, 3, 1, 2}));
  columns = b.create<tfm::ReshapeOp>(
      loc, columns, shapeConstant(b, loc, {0, -1, channels * kernel}));
  Value result = b.create<tfm::MatMulOp>(loc, columns, weight);
  if (Value bias = conv.getBias())
    result = b.create<tfm::AddOp>(loc, result, bias);
  result = b.create<tfm::TransposeOp>(loc, result, b.getDenseI64ArrayAttr({0, 2, 1}));
  if (failed(verifyCompatibleShape(result.getType(), conv.getType())) ||
      cast<RankedTensorType>(result.getType()).getElementType() !=
          cast<RankedTensorType>(conv.getType()).getElementType()) {
    eraseBuilt(start, conv);
    return false;
  }
  // A static length the conv's type knows and the slices' inference does
  // not (compatible shapes, checked above): keep the conv's type.
  if (result.getType() != conv.getType())
    result.setType(conv.getType());
  replaceConv(conv, result);
  return true;
}

struct ConvToMatmulPass
    : public tfc::impl::ConvToMatmulBase<ConvToMatmulPass> {
  void runOnOperation() override {
    SmallVector<tfm::ConvOp> convs;
    getOperation().walk([&](tfm::ConvOp conv) { convs.push_back(conv); });
    for (tfm::ConvOp conv : convs)
      if (rewriteAsMatmul(conv) || rewriteIm2colConv1d(conv))
        ++numRewritten;
  }
};

} // namespace
