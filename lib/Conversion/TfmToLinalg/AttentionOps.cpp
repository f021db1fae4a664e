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

/// The map from 5 loops to an operand of rank 4 whose dims are `dims`,
/// except that its `headDim`th dim (when not -1) is loop `headLoop` divided
/// by `group`: the KV head of a query head under grouped-query attention.
AffineMap headMap(OpBuilder &b, ArrayRef<int64_t> dims, int64_t headDim,
                  int64_t headLoop, int64_t group) {
  SmallVector<AffineExpr> exprs;
  for (auto [i, dim] : llvm::enumerate(dims))
    exprs.push_back((int64_t)i == headDim
                        ? b.getAffineDimExpr(headLoop).floorDiv(group)
                        : b.getAffineDimExpr(dim));
  return AffineMap::get(5, 0, exprs, b.getContext());
}

/// A contraction over loop 4 of 5: init[out] += lhs[lhsMap] * rhs[rhsMap]
/// in `acc` (the operands extended to it, after rounding them to bf16 when
/// `inBf16`: precision = "bf16"), as both products of attention (q kᵀ and
/// weights v) are.
Value contractHeads(OpBuilder &b, Location loc, Value lhs, AffineMap lhsMap,
                    Value rhs, AffineMap rhsMap, Value init, Type acc,
                    bool inBf16) {
  SmallVector<utils::IteratorType> iterators(5, utils::IteratorType::parallel);
  iterators[4] = utils::IteratorType::reduction;
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{init.getType()}, ValueRange{lhs, rhs},
          ValueRange{init},
          SmallVector<AffineMap>{lhsMap, rhsMap, getLoopsMap(b, 5, {0, 1, 2, 3})},
          iterators,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            auto operand = [&](Value x) {
              if (inBf16 && !x.getType().isBF16())
                x = nb.create<arith::TruncFOp>(l, nb.getBF16Type(), x);
              return extendFloat(nb, l, x, acc);
            };
            Value product =
                nb.create<arith::MulFOp>(l, operand(args[0]), operand(args[1]));
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
                                 getLoopsMap(b, 4, {0, 1, 2})},
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
    AttentionHeads split =
        splitAttentionHeads(b, loc, op, query, key, value, heads);
    Value q4 = split.query, k4 = split.key, v4 = split.value;
    int64_t group = heads / split.kvHeads;
    int64_t qLengthDim = AttentionHeads::lengthDim(split.queryHeadMajor);
    int64_t kLengthDim = AttentionHeads::lengthDim(split.keyHeadMajor);

    Value batch = dimOf(b, loc, q4, 0);
    Value queryLength = dimOf(b, loc, q4, qLengthDim);
    Value keyLength = dimOf(b, loc, k4, kLengthDim);
    auto valueType = cast<RankedTensorType>(v4.getType());
    int64_t staticBatch = resultType.getDimSize(0);
    int64_t staticLq = cast<RankedTensorType>(q4.getType()).getDimSize(qLengthDim);
    int64_t staticLk = cast<RankedTensorType>(k4.getType()).getDimSize(kLengthDim);
    if (ShapedType::isDynamic(staticLk))
      staticLk = valueType.getDimSize(
          AttentionHeads::lengthDim(split.valueHeadMajor));

    // scores[b, h, i, j] = sum_d q[b, i, h, d] k[b, j, h / group, d], with
    // loops b, h, i, j, d (a head-major operand's dims are b, h, l, d).
    SmallVector<int64_t> scoresShape = {staticBatch, heads, staticLq, staticLk};
    SmallVector<OpFoldResult> scoresDims = {batch, b.getIndexAttr(heads),
                                            queryLength, keyLength};
    Value scoresInit = createFilled(b, loc, scoresShape, acc, scoresDims, 0.0);
    AffineMap queryMap = split.queryHeadMajor
                             ? getLoopsMap(b, 5, {0, 1, 2, 4})
                             : getLoopsMap(b, 5, {0, 2, 1, 4});
    AffineMap keyMap =
        split.keyHeadMajor ? headMap(b, {0, 1, 3, 4}, 1, 1, group)
                           : headMap(b, {0, 3, 1, 4}, 2, 1, group);
    bool inBf16 = op.getPrecision() == "bf16";
    Value scores = contractHeads(b, loc, q4, queryMap, k4, keyMap, scoresInit,
                                 acc, inBf16);

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
             ValueRange{createFilled(b, loc, scoresShape, acc, scoresDims, 0.0)},
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
        createFilled(b, loc, rowShape, acc, rowDims,
               -std::numeric_limits<double>::infinity()));
    Value zero = createScalarConstant(b, loc, acc, 0.0);
    Value weights =
        b.create<linalg::GenericOp>(
             loc, TypeRange{scoresInit.getType()}, ValueRange{logits, rowMax},
             ValueRange{createFilled(b, loc, scoresShape, acc, scoresDims, 0.0)},
             SmallVector<AffineMap>{b.getMultiDimIdentityMap(4),
                                    getLoopsMap(b, 4, {0, 1, 2}),
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
        b, loc, weights, createFilled(b, loc, rowShape, acc, rowDims, 0.0));

    // out[b, i, h, e] = sum_j weights[b, h, i, j] v[b, j, h / group, e] /
    // rowSum, with loops b, i, h, e, j.
    SmallVector<int64_t> outShape = {staticBatch, staticLq, heads,
                                     valueType.getDimSize(3)};
    SmallVector<OpFoldResult> outDims = {batch, queryLength,
                                         b.getIndexAttr(heads),
                                         tensor::getMixedSize(b, loc, v4, 3)};
    AffineMap valueMap =
        split.valueHeadMajor ? headMap(b, {0, 2, 4, 3}, 1, 2, group)
                             : headMap(b, {0, 4, 2, 3}, 2, 2, group);
    Value weighted = contractHeads(
        b, loc, weights, getLoopsMap(b, 5, {0, 2, 1, 4}), v4, valueMap,
        createFilled(b, loc, outShape, acc, outDims, 0.0), acc, inBf16);
    Value normalized =
        b.create<linalg::GenericOp>(
             loc, TypeRange{RankedTensorType::get(outShape, element)},
             ValueRange{weighted, rowSum},
             ValueRange{createEmpty(b, loc,
                                    RankedTensorType::get(outShape, element),
                                    outDims)},
             SmallVector<AffineMap>{b.getMultiDimIdentityMap(4),
                                    getLoopsMap(b, 4, {0, 2, 1}),
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
    // The heads merged: static where the heads and their width are, which
    // the op's result type may not yet say (a cast then relaxes it).
    Value merged = b.create<tensor::CollapseShapeOp>(
        loc, normalized, SmallVector<ReassociationIndices>{{0}, {1}, {2, 3}});
    if (merged.getType() != resultType)
      merged = b.create<tensor::CastOp>(loc, resultType, merged);
    rewriter.replaceOp(op, merged);
    return success();
  }
};

} // namespace

AttentionHeads mlir::tfc::splitAttentionHeads(OpBuilder &b, Location loc,
                                              Operation *op, Value query,
                                              Value key, Value value,
                                              int64_t heads) {
  AttentionHeads split;
  split.heads = heads;
  auto rankOf = [](Value v) { return cast<RankedTensorType>(v.getType()).getRank(); };
  split.queryHeadMajor = rankOf(query) == 4;
  split.keyHeadMajor = rankOf(key) == 4;
  split.valueHeadMajor = rankOf(value) == 4;
  // The KV heads, as the verifier derived them: a head-major k's, else k's
  // hidden size over q's head dim when both are static, else q's heads.
  auto keyType = cast<RankedTensorType>(key.getType());
  auto queryType = cast<RankedTensorType>(query.getType());
  int64_t keyDim = split.queryHeadMajor ? queryType.getDimSize(3)
                   : queryType.isDynamicDim(2)
                       ? ShapedType::kDynamic
                       : queryType.getDimSize(2) / heads;
  split.kvHeads = heads;
  if (split.keyHeadMajor)
    split.kvHeads = keyType.getDimSize(1);
  else if (!keyType.isDynamicDim(2) && !ShapedType::isDynamic(keyDim))
    split.kvHeads = keyType.getDimSize(2) / keyDim;

  Value zero = b.create<arith::ConstantIndexOp>(loc, 0);
  auto toHeads = [&](Value tensor, bool headMajor, int64_t count) -> Value {
    if (headMajor)
      return tensor;
    Value countIndex = b.create<arith::ConstantIndexOp>(loc, count);
    if (cast<RankedTensorType>(tensor.getType()).isDynamicDim(2))
      emitEqualCheck(b, loc, op,
                     b.create<arith::RemUIOp>(loc, dimOf(b, loc, tensor, 2),
                                              countIndex),
                     zero, "hidden size is not a multiple of the heads");
    return splitHeads(b, loc, tensor, count, countIndex);
  };
  split.query = toHeads(query, split.queryHeadMajor, heads);
  split.key = toHeads(key, split.keyHeadMajor, split.kvHeads);
  split.value = toHeads(value, split.valueHeadMajor, split.kvHeads);

  Value batch = dimOf(b, loc, split.query, 0);
  emitEqualCheck(b, loc, op, dimOf(b, loc, split.key, 0), batch,
                 "key batch does not match the query's");
  emitEqualCheck(b, loc, op, dimOf(b, loc, split.value, 0), batch,
                 "value batch does not match the query's");
  emitEqualCheck(
      b, loc, op,
      dimOf(b, loc, split.value, AttentionHeads::lengthDim(split.valueHeadMajor)),
      dimOf(b, loc, split.key, AttentionHeads::lengthDim(split.keyHeadMajor)),
      "key and value sequence lengths differ");
  emitEqualCheck(b, loc, op, dimOf(b, loc, split.query, 3),
                 dimOf(b, loc, split.key, 3),
                 "query and key head dims differ");
  return split;
}

void mlir::tfc::populateAttentionPatterns(TypeConverter &converter,
                                          RewritePatternSet &patterns) {
  patterns.add<AttentionPattern>(converter, patterns.getContext());
}
