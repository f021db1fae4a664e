//===- ScanOps.cpp - tfm.cumsum to a loop of slices ------------------------===//
//
// A scan's element i depends on element i - 1, which no linalg.generic can
// express; a triangular sum over a second copy of the axis could, at n^2
// cost, which a causal linear-attention model's cumsum over thousands of
// positions cannot afford. So cumsum is an scf.for along its axis that keeps
// the running sum as one slice (the input's shape with the axis at 1), adds
// the next slice of the input to it with an elementwise generic, and inserts
// it into the result: n steps of one slice's work each.
//
//===----------------------------------------------------------------------===//

#include "tfc/Conversion/LoweringUtils.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

struct CumSumPattern : OpConversionPattern<tfm::CumSumOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::CumSumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    int64_t rank = type.getRank();
    int64_t axis = op.getAxis();
    Type element = type.getElementType();
    bool isFloat = isa<FloatType>(element);

    SmallVector<OpFoldResult> dims = getDims(rewriter, loc, input);
    SmallVector<OpFoldResult> sliceSizes(dims);
    sliceSizes[axis] = rewriter.getIndexAttr(1);
    SmallVector<int64_t> sliceShape(type.getShape());
    sliceShape[axis] = 1;
    auto sliceType = RankedTensorType::get(sliceShape, element);
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));

    Value result = createEmpty(rewriter, loc, type, dims);
    Value zero = createScalarConstant(rewriter, loc, element, 0.0);
    Value running =
        rewriter
            .create<linalg::FillOp>(loc, zero,
                                    createEmpty(rewriter, loc, sliceType, sliceSizes))
            .getResult(0);
    Value length = toIndexValue(rewriter, loc, dims[axis]);
    Value c0 = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value c1 = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    bool exclusive = op.getExclusive(), reverse = op.getReverse();

    auto loop = rewriter.create<scf::ForOp>(
        loc, c0, length, c1, ValueRange{result, running},
        [&](OpBuilder &b, Location l, Value step, ValueRange carried) {
          // The position this step fills: from the front, or the back.
          Value position = step;
          if (reverse)
            position = b.create<arith::SubIOp>(
                l, b.create<arith::SubIOp>(l, length, c1), step);
          SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
          offsets[axis] = position;
          Value slice = b.create<tensor::ExtractSliceOp>(
              l, sliceType, input, offsets, sliceSizes, strides);
          Value sum = buildBroadcastElementwise(
              b, l, op, ValueRange{carried[1], slice}, sliceType,
              [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
                if (isFloat)
                  return nb.create<arith::AddFOp>(nl, args[0], args[1]);
                return nb.create<arith::AddIOp>(nl, args[0], args[1]);
              });
          // Exclusive: the sum before this position's element.
          Value written = exclusive ? carried[1] : sum;
          Value updated = b.create<tensor::InsertSliceOp>(
              l, written, carried[0], offsets, sliceSizes, strides);
          b.create<scf::YieldOp>(l, ValueRange{updated, sum});
        });
    rewriter.replaceOp(op, loop.getResult(0));
    return success();
  }
};

} // namespace

void mlir::tfc::populateScanPatterns(TypeConverter &converter,
                                     RewritePatternSet &patterns) {
  patterns.add<CumSumPattern>(converter, patterns.getContext());
}
