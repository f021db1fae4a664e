//===- ScatterOps.cpp - tfm.scatter_elements and scatter_nd to loops ------===//
//
// A scatter writes where its indices say, and two indices may name the same
// place (the last write wins, or the reduction combines them in order), so
// it is not a linalg.generic over its result. Both lower to an scf.for nest
// over the indices that carries the result: scatter_elements writes one
// element per step, scatter_nd one slice (a KV-cache row) per step with
// tensor.insert_slice, which bufferizes to a copy into the result in place.
// The result starts as the input; bufferization copies it first only where
// the input is still read afterwards.
//
//===----------------------------------------------------------------------===//

#include "tfc/Conversion/LoweringUtils.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// `current` combined with `update` by a scatter's reduction (not "none").
Value combine(OpBuilder &b, Location loc, StringRef reduction, Value current,
              Value update, bool isUnsigned) {
  if (isa<FloatType>(current.getType())) {
    if (reduction == "add")
      return b.create<arith::AddFOp>(loc, current, update);
    if (reduction == "mul")
      return b.create<arith::MulFOp>(loc, current, update);
    if (reduction == "max")
      return b.create<arith::MaximumFOp>(loc, current, update);
    return b.create<arith::MinimumFOp>(loc, current, update);
  }
  if (reduction == "add")
    return b.create<arith::AddIOp>(loc, current, update);
  if (reduction == "mul")
    return b.create<arith::MulIOp>(loc, current, update);
  if (reduction == "max")
    return isUnsigned ? b.create<arith::MaxUIOp>(loc, current, update).getResult()
                      : b.create<arith::MaxSIOp>(loc, current, update).getResult();
  return isUnsigned ? b.create<arith::MinUIOp>(loc, current, update).getResult()
                    : b.create<arith::MinSIOp>(loc, current, update).getResult();
}

struct ScatterElementsPattern : OpConversionPattern<tfm::ScatterElementsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::ScatterElementsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), indices = adaptor.getIndices(),
          updates = adaptor.getUpdates();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto indicesType = cast<RankedTensorType>(indices.getType());
    auto updatesType = cast<RankedTensorType>(updates.getType());
    int64_t rank = inputType.getRank();
    int64_t axis = normalizedAxis(op.getAxis(), rank);
    bool unsignedIndices = elementTypeOf(op.getIndices()).isUnsignedInteger();
    bool unsignedValues = isUnsignedInt(elementTypeOf(op.getInput()));
    StringRef reduction = op.getReduction();

    // What inference could not settle: the dims known only at run time.
    for (int64_t i = 0; i < rank; ++i)
      if (indicesType.isDynamicDim(i) || updatesType.isDynamicDim(i))
        emitEqualCheck(rewriter, loc, op,
                       rewriter.create<tensor::DimOp>(loc, indices, i),
                       rewriter.create<tensor::DimOp>(loc, updates, i),
                       "the indices' and updates' dim " + Twine(i) + " differ");
    Value dim = checkElementIndices(rewriter, loc, op, input, indices, axis,
                                    unsignedIndices);

    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    SmallVector<Value> bounds = getValueOrCreateConstantIndexOp(rewriter, loc, getDims(rewriter, loc, indices));
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, SmallVector<Value>(rank, zero), bounds,
        SmallVector<Value>(rank, one), ValueRange{input},
        [&](OpBuilder &b, Location l, ValueRange ivs,
            ValueRange carried) -> scf::ValueVector {
          Value index = b.create<tensor::ExtractOp>(l, indices, ivs);
          SmallVector<Value> at(ivs);
          at[axis] = wrapIndex(b, l, index, dim, unsignedIndices);
          Value update = b.create<tensor::ExtractOp>(l, updates, ivs);
          if (reduction != "none")
            update = combine(b, l, reduction,
                             b.create<tensor::ExtractOp>(l, carried[0], at), update,
                             unsignedValues);
          return {b.create<tensor::InsertOp>(l, update, carried[0], at).getResult()};
        });
    rewriter.replaceOp(op, nest.results.front());
    return success();
  }
};

struct ScatterNDPattern : OpConversionPattern<tfm::ScatterNDOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::ScatterNDOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), indices = adaptor.getIndices(),
          updates = adaptor.getUpdates();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto indicesType = cast<RankedTensorType>(indices.getType());
    auto updatesType = cast<RankedTensorType>(updates.getType());
    int64_t rank = inputType.getRank();
    int64_t rows = indicesType.getRank() - 1; // the dims that list the rows
    int64_t depth = indicesType.getShape().back();
    bool unsignedIndices = elementTypeOf(op.getIndices()).isUnsignedInteger();
    bool unsignedValues = isUnsignedInt(elementTypeOf(op.getInput()));
    StringRef reduction = op.getReduction();

    SmallVector<OpFoldResult> inputDims = getDims(rewriter, loc, input);
    SmallVector<OpFoldResult> indexDims = getDims(rewriter, loc, indices);
    // updates = indices.shape[:-1] + input.shape[depth:], where dynamic.
    for (int64_t i = 0; i < updatesType.getRank(); ++i) {
      bool fromIndices = i < rows;
      Value other = fromIndices ? indices : input;
      int64_t otherDim = fromIndices ? i : depth + i - rows;
      if (!updatesType.isDynamicDim(i) &&
          !cast<RankedTensorType>(other.getType()).isDynamicDim(otherDim))
        continue;
      emitEqualCheck(rewriter, loc, op, rewriter.create<tensor::DimOp>(loc, updates, i),
                     rewriter.create<tensor::DimOp>(loc, other, otherDim),
                     "the updates' dim " + Twine(i) + " differs from the " +
                         (fromIndices ? "indices'" : "input's") + " dim " +
                         Twine(otherDim));
    }

    // The slice each row writes: input.shape[depth:], at a position in the
    // first `depth` dims.
    SmallVector<int64_t> sliceShape(inputType.getShape().drop_front(depth));
    auto sliceType = RankedTensorType::get(sliceShape, inputType.getElementType());
    SmallVector<OpFoldResult> targetSizes(depth, rewriter.getIndexAttr(1));
    targetSizes.append(inputDims.begin() + depth, inputDims.end());
    SmallVector<OpFoldResult> updateSizes(rows, rewriter.getIndexAttr(1));
    updateSizes.append(inputDims.begin() + depth, inputDims.end());
    SmallVector<OpFoldResult> targetStrides(rank, rewriter.getIndexAttr(1));
    SmallVector<OpFoldResult> updateStrides(updatesType.getRank(),
                                            rewriter.getIndexAttr(1));

    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    SmallVector<Value> bounds =
        getValueOrCreateConstantIndexOp(rewriter, loc,
                                        ArrayRef<OpFoldResult>(indexDims).drop_back());
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, SmallVector<Value>(rows, zero), bounds,
        SmallVector<Value>(rows, one), ValueRange{input},
        [&](OpBuilder &b, Location l, ValueRange ivs,
            ValueRange carried) -> scf::ValueVector {
          SmallVector<OpFoldResult> offsets;
          for (int64_t j = 0; j < depth; ++j) {
            SmallVector<Value> at(ivs);
            at.push_back(b.create<arith::ConstantIndexOp>(l, j));
            Value raw = unsignedIndices
                            ? b.create<arith::IndexCastUIOp>(
                                   l, b.getIndexType(),
                                   b.create<tensor::ExtractOp>(l, indices, at))
                                  .getResult()
                            : b.create<arith::IndexCastOp>(
                                   l, b.getIndexType(),
                                   b.create<tensor::ExtractOp>(l, indices, at))
                                  .getResult();
            Value extent = toIndexValue(b, l, inputDims[j]);
            // Each entry of a row has its own dim to fit: checked here, in
            // the loop, with the row's other entries.
            Value below = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, raw,
                                                  extent);
            Value above = b.create<arith::CmpIOp>(
                l, arith::CmpIPredicate::sge, raw,
                b.create<arith::SubIOp>(l, b.create<arith::ConstantIndexOp>(l, 0),
                                        extent));
            emitCheck(b, l, b.create<arith::AndIOp>(l, below, above), op,
                      "an index is out of range for dim " + Twine(j));
            Value negative = b.create<arith::CmpIOp>(
                l, arith::CmpIPredicate::slt, raw,
                b.create<arith::ConstantIndexOp>(l, 0));
            offsets.push_back(b.create<arith::SelectOp>(
                                   l, negative, b.create<arith::AddIOp>(l, raw, extent), raw)
                                  .getResult());
          }
          offsets.append(rank - depth, b.getIndexAttr(0));
          SmallVector<OpFoldResult> updateOffsets(ivs.begin(), ivs.end());
          updateOffsets.append(rank - depth, b.getIndexAttr(0));
          Value slice = b.create<tensor::ExtractSliceOp>(
              l, sliceType, updates, updateOffsets, updateSizes, updateStrides);
          if (reduction != "none") {
            Value current = b.create<tensor::ExtractSliceOp>(
                l, sliceType, carried[0], offsets, targetSizes, targetStrides);
            slice = buildBroadcastElementwise(
                b, l, op, ValueRange{current, slice}, sliceType,
                [&](OpBuilder &nb, Location nl, ValueRange args) -> Value {
                  return combine(nb, nl, reduction, args[0], args[1], unsignedValues);
                });
          }
          return {b.create<tensor::InsertSliceOp>(l, slice, carried[0], offsets,
                                                  targetSizes, targetStrides)
                      .getResult()};
        });
    rewriter.replaceOp(op, nest.results.front());
    return success();
  }
};

} // namespace

void mlir::tfc::populateScatterPatterns(TypeConverter &converter,
                                        RewritePatternSet &patterns) {
  patterns.add<ScatterElementsPattern, ScatterNDPattern>(converter,
                                                         patterns.getContext());
}
