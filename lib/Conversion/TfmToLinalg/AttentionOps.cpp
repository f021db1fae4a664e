//===- AttentionOps.cpp - tfm.attention as linalg ops ---------------------===//
//
// The generic form of tfm.attention, for every float type and every target:
// the scores of each head are materialized ([B, N, Lq, Lk], in f32 for the
// narrower types), softmax runs over the key dim, and the weighted sum of
// the values is normalized at the end. A target with a fused kernel for the
// op (the CPU's flash-attention kernel for f32) replaces this before it
// runs; this form is what every other dtype, shape and target compiles to.
//
// Heads are split by expanding [B, L, N * d] to [B, L, N, d] in place, so
// nothing is transposed: the contractions index the head dim directly.
//
//===----------------------------------------------------------------------===//

#include "tfc/Conversion/LoweringUtils.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "tfm/TfmOps.h"

#include <limits>

using namespace mlir;
using namespace mlir::tfc;

namespace {

Value dimOf(OpBuilder &b, Location loc, Value tensor, int64_t dim) {
  return b.create<tensor::DimOp>(loc, tensor, dim);
}

/// [B, L, N * d] as [B, L, N, d], in place.
Value splitHeads(OpBuilder &b, Location loc, Value tensor, int64_t heads,
                 Value headsIndex) {
  auto type = cast<RankedTensorType>(tensor.getType());
  int64_t hidden = type.getDimSize(2);
  int64_t headDim =
      ShapedType::isDynamic(hidden) ? ShapedType::kDynamic : hidden / heads;
  SmallVector<OpFoldResult> sizes = getDims(b, loc, tensor);
  OpFoldResult headSize =
      ShapedType::isDynamic(headDim)
          ? OpFoldResult(b.create<arith::DivUIOp>(
                             loc, toIndexValue(b, loc, sizes[2]), headsIndex)
                             .getResult())
          : OpFoldResult(b.getIndexAttr(headDim));
  sizes[2] = b.getIndexAttr(heads);
  sizes.push_back(headSize);
  auto splitType = RankedTensorType::get(
      {type.getDimSize(0), type.getDimSize(1), heads, headDim},
      type.getElementType());
  return b.create<tensor::ExpandShapeOp>(
      loc, splitType, tensor,
      SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}}, sizes);
}

AffineMap mapOf(OpBuilder &b, int64_t numDims, ArrayRef<int64_t> dims) {
  SmallVector<AffineExpr> exprs;
  for (int64_t dim : dims)
    exprs.push_back(b.getAffineDimExpr(dim));
  return AffineMap::get(numDims, 0, exprs, b.getContext());
}

Value filled(OpBuilder &b, Location loc, ArrayRef<int64_t> shape, Type element,
             ArrayRef<OpFoldResult> dims, double value) {
  Value empty = createEmpty(b, loc, RankedTensorType::get(shape, element), dims);
  return b
      .create<linalg::FillOp>(loc, createScalarConstant(b, loc, element, value),
                              empty)
      .getResult(0);
}

/// A contraction over loop 4 of 5: init[out] += lhs[lhsDims] * rhs[rhsDims]
/// in `acc` (the operands extended to it), as both products of attention
/// (q kᵀ and weights v) are.
Value contractHeads(OpBuilder &b, Location loc, Value lhs,
                    ArrayRef<int64_t> lhsDims, Value rhs,
                    ArrayRef<int64_t> rhsDims, Value init, Type acc) {
  SmallVector<utils::IteratorType> iterators(5, utils::IteratorType::parallel);
  iterators[4] = utils::IteratorType::reduction;
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
          ValueRange{init},
          SmallVector<AffineMap>{mapOf(b, 5, lhsDims), mapOf(b, 5, rhsDims),
                                 mapOf(b, 5, {0, 1, 2, 3})},
          iterators,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value product =
                nb.create<arith::MulFOp>(l, extendFloat(nb, l, args[0], acc),
                                         extendFloat(nb, l, args[1], acc));
            nb.create<linalg::YieldOp>(
                l, ValueRange{nb.create<arith::AddFOp>(l, args[2], product)});
          })
      .getResult(0);
}

/// The rows of a [B, N, Lq, Lk] tensor reduced over Lk into `init`
/// ([B, N, Lq]) with `CombineOp` (arith.maximumf, arith.addf).
template <typename CombineOp>
Value reduceKeys(OpBuilder &b, Location loc, Value input, Value init) {
  SmallVector<utils::IteratorType> iterators(4, utils::IteratorType::parallel);
  iterators[3] = utils::IteratorType::reduction;
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{init.getType()}, ValueRange{input}, ValueRange{init},
          SmallVector<AffineMap>{b.getMultiDimIdentityMap(4),
                                 mapOf(b, 4, {0, 1, 2})},
          iterators,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            nb.create<linalg::YieldOp>(
                l, ValueRange{nb.create<CombineOp>(l, args[0], args[1])});
          })
      .getResult(0);
}

struct AttentionPattern : OpConversionPattern<tfm::AttentionOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    OpBuilder &b = rewriter;
    Location loc = op.getLoc();
    Value query = adaptor.getQuery(), key = adaptor.getKey(),
          value = adaptor.getValue(), mask = adaptor.getMask();
    auto resultType = cast<RankedTensorType>(op.getType());
    Type element = resultType.getElementType();
    Type acc = getAccumulatorType(element);
    int64_t heads = static_cast<int64_t>(op.getNumHeads());
    Value headsIndex = b.create<arith::ConstantIndexOp>(loc, heads);
    checkAttentionShapes(b, loc, op, query, key, value, heads);

    Value batch = dimOf(b, loc, query, 0);
    Value queryLength = dimOf(b, loc, query, 1);
    Value keyLength = dimOf(b, loc, key, 1);
    auto queryType = cast<RankedTensorType>(query.getType());
    auto keyType = cast<RankedTensorType>(key.getType());
    auto valueType = cast<RankedTensorType>(value.getType());
    int64_t staticBatch = resultType.getDimSize(0);
    int64_t staticLq = queryType.getDimSize(1);
    int64_t staticLk = keyType.getDimSize(1);
    if (ShapedType::isDynamic(staticLk))
      staticLk = valueType.getDimSize(1);

    Value q4 = splitHeads(b, loc, query, heads, headsIndex);
    Value k4 = splitHeads(b, loc, key, heads, headsIndex);
    Value v4 = splitHeads(b, loc, value, heads, headsIndex);

    // scores[b, h, i, j] = sum_d q[b, i, h, d] k[b, j, h, d]
    SmallVector<int64_t> scoresShape = {staticBatch, heads, staticLq, staticLk};
    SmallVector<OpFoldResult> scoresDims = {batch, b.getIndexAttr(heads),
                                            queryLength, keyLength};
    Value scoresInit = filled(b, loc, scoresShape, acc, scoresDims, 0.0);
    // Loops: b, h, i, j, d.
    Value scores = contractHeads(b, loc, q4, {0, 2, 1, 4}, k4, {0, 3, 1, 4},
                                 scoresInit, acc);

    // Scaled, masked scores; a key hidden by `causal` gets -inf.
    SmallVector<Value> logitInputs = {scores};
    SmallVector<AffineMap> logitMaps = {b.getMultiDimIdentityMap(4)};
    if (mask) {
      auto maskType = cast<RankedTensorType>(mask.getType());
      int64_t rank = maskType.getRank();
      SmallVector<AffineExpr> exprs;
      for (int64_t j = 0; j < rank; ++j) {
        int64_t i = j + 4 - rank;
        if (maskType.getDimSize(j) == 1 && scoresShape[i] != 1) {
          exprs.push_back(b.getAffineConstantExpr(0));
          continue;
        }
        exprs.push_back(b.getAffineDimExpr(i));
        if (maskType.isDynamicDim(j))
          emitEqualCheck(b, loc, op, dimOf(b, loc, mask, j),
                         toIndexValue(b, loc, scoresDims[i]),
                         "mask dim " + Twine(j) +
                             " is not the scores' size (a mask dim that "
                             "broadcasts must be 1 in the model's shapes)");
      }
      logitInputs.push_back(mask);
      logitMaps.push_back(AffineMap::get(4, 0, exprs, b.getContext()));
    }
    logitMaps.push_back(b.getMultiDimIdentityMap(4));
    SmallVector<utils::IteratorType> parallel4(4, utils::IteratorType::parallel);
    Value scale = createScalarConstant(
        b, loc, acc, op.getScaleAttr().getValue().convertToDouble());
    Value negativeInfinity = createScalarConstant(
        b, loc, acc, -std::numeric_limits<double>::infinity());
    // A query i sees key j when j <= i + (Lk - Lq).
    Value causalOffset =
        op.getCausal()
            ? b.create<arith::SubIOp>(loc, keyLength, queryLength).getResult()
            : Value();
    Value logits =
        b.create<linalg::GenericOp>(
             loc, TypeRange{scoresInit.getType()}, logitInputs,
             ValueRange{filled(b, loc, scoresShape, acc, scoresDims, 0.0)},
             logitMaps, parallel4,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value logit = nb.create<arith::MulFOp>(l, args[0], scale);
               if (mask)
                 logit = nb.create<arith::AddFOp>(l, logit,
                                                  extendFloat(nb, l, args[1], acc));
               if (causalOffset) {
                 Value i = nb.create<linalg::IndexOp>(l, 2);
                 Value j = nb.create<linalg::IndexOp>(l, 3);
                 Value last = nb.create<arith::AddIOp>(l, i, causalOffset);
                 Value visible = nb.create<arith::CmpIOp>(
                     l, arith::CmpIPredicate::sle, j, last);
                 logit = nb.create<arith::SelectOp>(l, visible, logit,
                                                    negativeInfinity);
               }
               nb.create<linalg::YieldOp>(l, logit);
             })
            .getResult(0);

    // The softmax over j: the row maximum, exp(logit - max) (0 for a row
    // that sees no key, whose maximum is -inf), and the row sums.
    SmallVector<int64_t> rowShape = {staticBatch, heads, staticLq};
    SmallVector<OpFoldResult> rowDims = {batch, b.getIndexAttr(heads),
                                         queryLength};
    Value rowMax = reduceKeys<arith::MaximumFOp>(
        b, loc, logits,
        filled(b, loc, rowShape, acc, rowDims,
               -std::numeric_limits<double>::infinity()));
    Value zero = createScalarConstant(b, loc, acc, 0.0);
    Value weights =
        b.create<linalg::GenericOp>(
             loc, TypeRange{scoresInit.getType()}, ValueRange{logits, rowMax},
             ValueRange{filled(b, loc, scoresShape, acc, scoresDims, 0.0)},
             SmallVector<AffineMap>{b.getMultiDimIdentityMap(4),
                                    mapOf(b, 4, {0, 1, 2}),
                                    b.getMultiDimIdentityMap(4)},
             parallel4,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value shifted = nb.create<arith::SubFOp>(l, args[0], args[1]);
               Value weight = nb.create<math::ExpOp>(l, shifted);
               Value seesNone = nb.create<arith::CmpFOp>(
                   l, arith::CmpFPredicate::OEQ, args[1], negativeInfinity);
               nb.create<linalg::YieldOp>(
                   l, ValueRange{nb.create<arith::SelectOp>(l, seesNone, zero,
                                                            weight)});
             })
            .getResult(0);
    Value rowSum = reduceKeys<arith::AddFOp>(
        b, loc, weights, filled(b, loc, rowShape, acc, rowDims, 0.0));

    // out[b, i, h, e] = sum_j weights[b, h, i, j] v[b, j, h, e] / rowSum.
    int64_t staticHeadDim = ShapedType::isDynamic(valueType.getDimSize(2))
                                ? ShapedType::kDynamic
                                : valueType.getDimSize(2) / heads;
    SmallVector<int64_t> outShape = {staticBatch, staticLq, heads,
                                     staticHeadDim};
    SmallVector<OpFoldResult> outDims = {batch, queryLength,
                                         b.getIndexAttr(heads),
                                         tensor::getMixedSize(b, loc, v4, 3)};
    // Loops: b, i, h, e, j.
    Value weighted = contractHeads(
        b, loc, weights, {0, 2, 1, 4}, v4, {0, 4, 2, 3},
        filled(b, loc, outShape, acc, outDims, 0.0), acc);
    Value normalized =
        b.create<linalg::GenericOp>(
             loc, TypeRange{RankedTensorType::get(outShape, element)},
             ValueRange{weighted, rowSum},
             ValueRange{createEmpty(b, loc,
                                    RankedTensorType::get(outShape, element),
                                    outDims)},
             SmallVector<AffineMap>{b.getMultiDimIdentityMap(4),
                                    mapOf(b, 4, {0, 2, 1}),
                                    b.getMultiDimIdentityMap(4)},
             parallel4,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               // A row that sees no key sums to 0 and yields zeros.
               Value positive = nb.create<arith::CmpFOp>(
                   l, arith::CmpFPredicate::OGT, args[1], zero);
               Value quotient = nb.create<arith::DivFOp>(l, args[0], args[1]);
               Value out =
                   nb.create<arith::SelectOp>(l, positive, quotient, zero);
               if (out.getType() != element)
                 out = nb.create<arith::TruncFOp>(l, element, out);
               nb.create<linalg::YieldOp>(l, out);
             })
            .getResult(0);
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, resultType, normalized,
        SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
    return success();
  }
};

} // namespace

void mlir::tfc::checkAttentionShapes(OpBuilder &b, Location loc, Operation *op,
                                     Value query, Value key, Value value,
                                     int64_t heads) {
  Value batch = dimOf(b, loc, query, 0);
  Value keyLength = dimOf(b, loc, key, 1);
  Value keyHidden = dimOf(b, loc, key, 2);
  Value valueHidden = dimOf(b, loc, value, 2);
  emitEqualCheck(b, loc, op, dimOf(b, loc, key, 0), batch,
                 "key batch does not match the query's");
  emitEqualCheck(b, loc, op, dimOf(b, loc, value, 0), batch,
                 "value batch does not match the query's");
  emitEqualCheck(b, loc, op, dimOf(b, loc, value, 1), keyLength,
                 "key and value sequence lengths differ");
  emitEqualCheck(b, loc, op, dimOf(b, loc, query, 2), keyHidden,
                 "query and key hidden sizes differ");
  Value headsIndex = b.create<arith::ConstantIndexOp>(loc, heads);
  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  for (Value hidden : {keyHidden, valueHidden})
    emitEqualCheck(b, loc, op,
                   b.create<arith::RemUIOp>(loc, hidden, headsIndex), zero,
                   "hidden size is not a multiple of num_heads");
}

void mlir::tfc::populateAttentionPatterns(TypeConverter &converter,
                                          RewritePatternSet &patterns) {
  patterns.add<AttentionPattern>(converter, patterns.getContext());
}
