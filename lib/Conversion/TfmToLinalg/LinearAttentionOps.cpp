//===- LinearAttentionOps.cpp - tfm.linear_attention as linalg ops --------===//
//
// The generic form of tfm.linear_attention, for every float type and every
// target: the feature maps applied to q and k, the weights of each head
// materialized ([B, N, Lq, Lk], in f32 for the narrower types) with the
// causal triangle and the decay applied, then their products with v and,
// when normalized, their row sums. This costs time and memory quadratic in
// the sequence; the CPU target replaces the op by its chunked kernel (linear
// in the sequence) before this runs. Nothing is transposed: the operands
// stay [B, L, N, d] and the contractions index the head dim.
//
//===----------------------------------------------------------------------===//

#include "tfc/Conversion/LoweringUtils.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// φ(x) elementwise in `acc` (the feature map named by tfm.linear_attention's
/// feature_map attribute).
Value applyFeatureMap(OpBuilder &b, Location loc, Value x, StringRef map,
                      Type acc) {
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<utils::IteratorType> parallel(4, utils::IteratorType::parallel);
  Value init = createEmpty(b, loc, RankedTensorType::get(type.getShape(), acc),
                           getDims(b, loc, x));
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{init.getType()}, ValueRange{x}, ValueRange{init},
          SmallVector<AffineMap>(2, b.getMultiDimIdentityMap(4)), parallel,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value v = extendFloat(nb, l, args[0], acc);
            Value zero = createScalarConstant(nb, l, acc, 0.0);
            Value one = createScalarConstant(nb, l, acc, 1.0);
            if (map == "relu") {
              v = nb.create<arith::MaximumFOp>(l, v, zero);
            } else if (map == "exp") {
              v = nb.create<math::ExpOp>(l, v);
            } else if (map == "elu_plus_one") {
              // x + 1 for x > 0, else elu(x) + 1 = (exp(x) - 1) + 1,
              // rounded as the exported graph rounds it (see the op's
              // feature_map): not folded to exp(x).
              Value positive =
                  nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, v, zero);
              Value elu = nb.create<arith::SubFOp>(
                  l, nb.create<math::ExpOp>(l, v), one);
              v = nb.create<arith::SelectOp>(l, positive,
                                             nb.create<arith::AddFOp>(l, v, one),
                                             nb.create<arith::AddFOp>(l, elu, one));
            }
            nb.create<linalg::YieldOp>(l, v);
          })
      .getResult(0);
}

struct LinearAttentionPattern : OpConversionPattern<tfm::LinearAttentionOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::LinearAttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    OpBuilder &b = rewriter;
    Location loc = op.getLoc();
    Value query = adaptor.getQuery(), key = adaptor.getKey(),
          value = adaptor.getValue(), decay = adaptor.getDecay();
    auto resultType = cast<RankedTensorType>(op.getType());
    Type element = resultType.getElementType();
    Type acc = getAccumulatorType(element);
    auto queryType = cast<RankedTensorType>(query.getType());
    auto keyType = cast<RankedTensorType>(key.getType());
    auto valueType = cast<RankedTensorType>(value.getType());
    int64_t heads = queryType.getDimSize(2);

    Value batch = b.create<tensor::DimOp>(loc, query, 0);
    Value queryLength = b.create<tensor::DimOp>(loc, query, 1);
    Value keyLength = b.create<tensor::DimOp>(loc, key, 1);
    emitEqualCheck(b, loc, op, b.create<tensor::DimOp>(loc, key, 0), batch,
                   "key batch does not match the query's");
    emitEqualCheck(b, loc, op, b.create<tensor::DimOp>(loc, value, 0), batch,
                   "value batch does not match the query's");
    emitEqualCheck(b, loc, op, b.create<tensor::DimOp>(loc, value, 1),
                   keyLength, "key and value sequence lengths differ");
    if (op.getCausal())
      emitCheck(b, loc,
                b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ule,
                                        queryLength, keyLength),
                op, "causal with more queries than keys");

    // A window: the features are the first dk - window_dim values of q and
    // k, the window's rows the rest.
    int64_t window = op.getWindow(), windowDim = op.getWindowDim();
    int64_t featureDim = queryType.getDimSize(3) - windowDim;
    auto headSlice = [&](Value x, int64_t offset, int64_t size) -> Value {
      SmallVector<OpFoldResult> offsets = {b.getIndexAttr(0), b.getIndexAttr(0),
                                           b.getIndexAttr(0),
                                           b.getIndexAttr(offset)};
      SmallVector<OpFoldResult> sizes = {
          b.create<tensor::DimOp>(loc, x, 0).getResult(),
          b.create<tensor::DimOp>(loc, x, 1).getResult(),
          b.getIndexAttr(heads), b.getIndexAttr(size)};
      SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
      return b.create<tensor::ExtractSliceOp>(loc, x, offsets, sizes, strides);
    };
    Value featureQuery = query, featureKey = key;
    if (window > 0) {
      featureQuery = headSlice(query, 0, featureDim);
      featureKey = headSlice(key, 0, featureDim);
    }
    StringRef map = op.getFeatureMap();
    Value fq = applyFeatureMap(b, loc, featureQuery, map, acc);
    Value fk = applyFeatureMap(b, loc, featureKey, map, acc);

    // scores[b, h, i, j] = sum_d φq[b, i, h, d] φk[b, j, h, d], loops
    // b, h, i, j, d.
    SmallVector<int64_t> scoresShape = {resultType.getDimSize(0), heads,
                                        queryType.getDimSize(1),
                                        keyType.getDimSize(1)};
    SmallVector<OpFoldResult> scoresDims = {batch, b.getIndexAttr(heads),
                                            queryLength, keyLength};
    SmallVector<utils::IteratorType> contraction(5, utils::IteratorType::parallel);
    contraction[4] = utils::IteratorType::reduction;
    auto multiplyAdd = [&](OpBuilder &nb, Location l, ValueRange args) {
      Value product = nb.create<arith::MulFOp>(l, extendFloat(nb, l, args[0], acc),
                                               extendFloat(nb, l, args[1], acc));
      nb.create<linalg::YieldOp>(
          l, ValueRange{nb.create<arith::AddFOp>(l, args[2], product)});
    };
    auto contractHeads = [&](Value x, Value y) -> Value {
      return b
          .create<linalg::GenericOp>(
              loc, TypeRange{RankedTensorType::get(scoresShape, acc)},
              ValueRange{x, y},
              ValueRange{
                  createFilled(b, loc, scoresShape, acc, scoresDims, 0.0)},
              SmallVector<AffineMap>{getLoopsMap(b, 5, {0, 2, 1, 4}),
                                     getLoopsMap(b, 5, {0, 3, 1, 4}),
                                     getLoopsMap(b, 5, {0, 1, 2, 3})},
              contraction, multiplyAdd)
          .getResult(0);
    };
    Value scores = contractHeads(fq, fk);
    // The window's exponents, qw · kw.
    Value windowScores;
    if (window > 0)
      windowScores =
          contractHeads(headSlice(query, featureDim, windowDim),
                        headSlice(key, featureDim, windowDim));

    // The weights: scaled, zero past the causal triangle, decayed by
    // γ^(i' - j) with i' = i + (Lk - Lq).
    SmallVector<Value> weightInputs = {scores};
    SmallVector<AffineMap> weightMaps = {b.getMultiDimIdentityMap(4)};
    if (decay) {
      weightInputs.push_back(decay);
      weightMaps.push_back(getLoopsMap(b, 4, {1}));
    }
    if (windowScores) {
      weightInputs.push_back(windowScores);
      weightMaps.push_back(b.getMultiDimIdentityMap(4));
    }
    weightMaps.push_back(b.getMultiDimIdentityMap(4));
    Value scale = createScalarConstant(
        b, loc, acc, op.getScaleAttr().getValue().convertToDouble());
    Value offset = b.create<arith::SubIOp>(loc, keyLength, queryLength);
    bool causal = op.getCausal();
    SmallVector<utils::IteratorType> parallel4(4, utils::IteratorType::parallel);
    Value weights =
        b.create<linalg::GenericOp>(
             loc, TypeRange{scores.getType()}, weightInputs,
             ValueRange{createFilled(b, loc, scoresShape, acc, scoresDims, 0.0)},
             weightMaps, parallel4,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value w = nb.create<arith::MulFOp>(l, args[0], scale);
               if (windowScores) {
                 // Within the window (i' - W < j <= i', or |i' - j| < W not
                 // causal): exp(qw · kw), its exponent capped at 88 as the
                 // kernel caps it.
                 Value i = nb.create<linalg::IndexOp>(l, 2);
                 Value j = nb.create<linalg::IndexOp>(l, 3);
                 Value position = nb.create<arith::AddIOp>(l, i, offset);
                 Value width = nb.create<arith::ConstantIndexOp>(l, window);
                 Value inside = nb.create<arith::CmpIOp>(
                     l, arith::CmpIPredicate::slt,
                     nb.create<arith::SubIOp>(l, position, j), width);
                 inside = nb.create<arith::AndIOp>(
                     l, inside,
                     nb.create<arith::CmpIOp>(
                         l, arith::CmpIPredicate::slt,
                         nb.create<arith::SubIOp>(l, j, position), width));
                 Value exponent = nb.create<arith::MinimumFOp>(
                     l, args[weightInputs.size() - 1],
                     createScalarConstant(nb, l, acc, 88.0));
                 w = nb.create<arith::SelectOp>(
                     l, inside, nb.create<math::ExpOp>(l, exponent), w);
               }
               if (causal) {
                 Value i = nb.create<linalg::IndexOp>(l, 2);
                 Value j = nb.create<linalg::IndexOp>(l, 3);
                 Value position = nb.create<arith::AddIOp>(l, i, offset);
                 Value visible = nb.create<arith::CmpIOp>(
                     l, arith::CmpIPredicate::sle, j, position);
                 if (decay) {
                   // γ^distance, exact 1 at distance 0 (γ may be 0).
                   Value distance = nb.create<arith::SubIOp>(l, position, j);
                   Value gamma = extendFloat(nb, l, args[1], acc);
                   Value power = nb.create<math::ExpOp>(
                       l, nb.create<arith::MulFOp>(
                              l,
                              nb.create<arith::UIToFPOp>(
                                  l, acc,
                                  nb.create<arith::IndexCastUIOp>(
                                      l, nb.getI64Type(), distance)),
                              nb.create<math::LogOp>(l, gamma)));
                   Value here = nb.create<arith::CmpIOp>(
                       l, arith::CmpIPredicate::eq, distance,
                       nb.create<arith::ConstantIndexOp>(l, 0));
                   power = nb.create<arith::SelectOp>(
                       l, here, createScalarConstant(nb, l, acc, 1.0), power);
                   w = nb.create<arith::MulFOp>(l, w, power);
                 }
                 w = nb.create<arith::SelectOp>(
                     l, visible, w, createScalarConstant(nb, l, acc, 0.0));
               }
               nb.create<linalg::YieldOp>(l, w);
             })
            .getResult(0);

    // out[b, i, h, e] = sum_j weights[b, h, i, j] v[b, j, h, e], loops
    // b, i, h, e, j.
    SmallVector<int64_t> outShape = {resultType.getDimSize(0),
                                     queryType.getDimSize(1), heads,
                                     valueType.getDimSize(3)};
    SmallVector<OpFoldResult> outDims = {batch, queryLength,
                                         b.getIndexAttr(heads),
                                         b.getIndexAttr(valueType.getDimSize(3))};
    Value weighted =
        b.create<linalg::GenericOp>(
             loc, TypeRange{RankedTensorType::get(outShape, acc)},
             ValueRange{weights, value},
             ValueRange{createFilled(b, loc, outShape, acc, outDims, 0.0)},
             SmallVector<AffineMap>{getLoopsMap(b, 5, {0, 2, 1, 4}),
                                    getLoopsMap(b, 5, {0, 4, 2, 3}),
                                    getLoopsMap(b, 5, {0, 1, 2, 3})},
             contraction, multiplyAdd)
            .getResult(0);

    // Normalized: divided by the row sums of the weights plus epsilon.
    SmallVector<Value> finalInputs = {weighted};
    SmallVector<AffineMap> finalMaps = {b.getMultiDimIdentityMap(4)};
    std::optional<APFloat> epsilon = op.getEpsilon();
    Value epsilonValue;
    if (epsilon) {
      SmallVector<int64_t> rowShape = {scoresShape[0], heads, scoresShape[2]};
      SmallVector<OpFoldResult> rowDims = {batch, b.getIndexAttr(heads),
                                           queryLength};
      SmallVector<utils::IteratorType> rowIterators(4, utils::IteratorType::parallel);
      rowIterators[3] = utils::IteratorType::reduction;
      Value rowSums =
          b.create<linalg::GenericOp>(
               loc, TypeRange{RankedTensorType::get(rowShape, acc)},
               ValueRange{weights},
               ValueRange{createFilled(b, loc, rowShape, acc, rowDims, 0.0)},
               SmallVector<AffineMap>{b.getMultiDimIdentityMap(4),
                                      getLoopsMap(b, 4, {0, 1, 2})},
               rowIterators,
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 nb.create<linalg::YieldOp>(
                     l, ValueRange{nb.create<arith::AddFOp>(l, args[0], args[1])});
               })
              .getResult(0);
      finalInputs.push_back(rowSums);
      finalMaps.push_back(getLoopsMap(b, 4, {0, 2, 1}));
      epsilonValue = createScalarConstant(b, loc, acc, epsilon->convertToDouble());
    }
    finalMaps.push_back(b.getMultiDimIdentityMap(4));
    Value result =
        b.create<linalg::GenericOp>(
             loc, TypeRange{RankedTensorType::get(outShape, element)},
             finalInputs,
             ValueRange{createEmpty(b, loc,
                                    RankedTensorType::get(outShape, element),
                                    outDims)},
             finalMaps, parallel4,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value out = args[0];
               if (epsilonValue)
                 out = nb.create<arith::DivFOp>(
                     l, out, nb.create<arith::AddFOp>(l, args[1], epsilonValue));
               if (out.getType() != element)
                 out = nb.create<arith::TruncFOp>(l, element, out);
               nb.create<linalg::YieldOp>(l, out);
             })
            .getResult(0);
    if (result.getType() != resultType)
      result = b.create<tensor::CastOp>(loc, resultType, result);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::tfc::populateLinearAttentionPatterns(TypeConverter &converter,
                                                RewritePatternSet &patterns) {
  patterns.add<LinearAttentionPattern>(converter, patterns.getContext());
}
