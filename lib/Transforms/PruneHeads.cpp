//===- PruneHeads.cpp - the tfm-prune-heads pass --------------------------===//
//
// Structured pruning of attention: the least important heads of each
// attention are removed from its projections (their columns), from the
// output projection (its rows) and from the op (num_heads), so every
// later pass and kernel sees an attention with fewer heads. The ranking
// helpers are Sparsity.cpp's.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Passes.h"

#include "tfc/Transforms/Quantization.h"
#include "tfc/Transforms/Sparsity.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "tfm/TfmOps.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_PRUNEHEADS
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// A projection the pass can narrow: a linear by a constant f32 matrix,
/// with a constant bias or none, no activation or residual, used only here.
bool isNarrowable(tfm::LinearOp linear) {
  auto type = dyn_cast<RankedTensorType>(linear.getWeight().getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape() ||
      !type.getElementType().isF32() ||
      !matchPattern(linear.getWeight(), m_Constant()) || linear.getResidual() ||
      linear.getActivation() != "none")
    return false;
  return !linear.getBias() || matchPattern(linear.getBias(), m_Constant());
}


/// The channels of the kept heads: head h is [h * size, (h + 1) * size),
/// shifted by `offset`.
SmallVector<int64_t> channelsOf(ArrayRef<int64_t> heads, int64_t size,
                                int64_t offset = 0) {
  SmallVector<int64_t> channels;
  for (int64_t head : heads)
    for (int64_t c = 0; c < size; ++c)
      channels.push_back(offset + head * size + c);
  return channels;
}

struct PruneHeadsPass : public tfc::impl::PruneHeadsBase<PruneHeadsPass> {
  using PruneHeadsBase::PruneHeadsBase;

  void runOnOperation() override {
    if (!(fraction >= 0.0 && fraction < 1.0)) {
      getOperation().emitError()
          << "tfm-prune-heads: the fraction must be 0 or more and below 1";
      return signalPassFailure();
    }
    SmallVector<tfm::AttentionOp> attentions;
    getOperation().walk([&](tfm::AttentionOp op) { attentions.push_back(op); });
    for (tfm::AttentionOp attention : attentions)
      prune(attention);
  }

  void prune(tfm::AttentionOp attention) {
    int64_t heads = attention.getNumHeads();
    auto rank3 = [](Value v) {
      auto type = dyn_cast<RankedTensorType>(v.getType());
      return type && type.getRank() == 3 && !type.isDynamicDim(2);
    };
    if (heads < 2 || !rank3(attention.getQuery()) || !rank3(attention.getKey()) ||
        !rank3(attention.getValue()) || !attention->hasOneUse())
      return;
    auto width = [](Value v) { return cast<RankedTensorType>(v.getType()).getDimSize(2); };
    int64_t qWidth = width(attention.getQuery()), vWidth = width(attention.getValue());
    if (qWidth % heads || vWidth % heads || width(attention.getKey()) != qWidth)
      return;
    int64_t dk = qWidth / heads, dv = vWidth / heads;
    // A mask that varies by head (ALiBi) would need its heads dropped too.
    if (Value mask = attention.getMask()) {
      auto type = dyn_cast<RankedTensorType>(mask.getType());
      if (!type || (type.getRank() == 4 && type.getDimSize(1) != 1))
        return;
    }
    auto out = dyn_cast<tfm::LinearOp>(*attention->getUsers().begin());
    if (!out || out.getInput() != attention.getResult() ||
        !matchPattern(out.getWeight(), m_Constant()) ||
        cast<RankedTensorType>(out.getWeight().getType()).getDimSize(0) != vWidth)
      return;

    // Where q, k and v come from: one merged projection split three ways,
    // or three projections.
    tfm::SplitOp split;
    tfm::LinearOp merged, q, k, v;
    if ((split = attention.getQuery().getDefiningOp<tfm::SplitOp>())) {
      merged = split.getInput().getDefiningOp<tfm::LinearOp>();
      if (!merged || !isNarrowable(merged) || !merged->hasOneUse() ||
          split.getNumResults() != 3 || split.getAxis() != 2 ||
          attention.getQuery() != split.getResult(0) ||
          attention.getKey() != split.getResult(1) ||
          attention.getValue() != split.getResult(2) ||
          llvm::any_of(split.getResults(), [](Value r) { return !r.hasOneUse(); }))
        return;
    } else {
      q = attention.getQuery().getDefiningOp<tfm::LinearOp>();
      k = attention.getKey().getDefiningOp<tfm::LinearOp>();
      v = attention.getValue().getDefiningOp<tfm::LinearOp>();
      if (!q || !k || !v || q == k || k == v || q == v)
        return;
      for (tfm::LinearOp projection : {q, k, v})
        if (!isNarrowable(projection) || !projection->hasOneUse())
          return;
    }

    // Importance: each output channel (calibrated, or the value
    // projection's column) times what O makes of it, summed per head.
    std::vector<double> channels;
    if (auto norms = out->getAttrOfType<DenseF32ArrayAttr>(kInputNormsAttr);
        norms && norms.size() == vWidth) {
      channels.assign(norms.asArrayRef().begin(), norms.asArrayRef().end());
    } else if (merged) {
      std::vector<double> all = getConstantNorms(merged.getWeight(), 1);
      if (static_cast<int64_t>(all.size()) == 2 * qWidth + vWidth)
        channels.assign(all.begin() + 2 * qWidth, all.end());
    } else {
      channels = getConstantNorms(v.getWeight(), 1);
    }
    std::vector<double> rows = getConstantNorms(out.getWeight(), 0);
    if (static_cast<int64_t>(channels.size()) != vWidth ||
        static_cast<int64_t>(rows.size()) != vWidth)
      return;
    SmallVector<double> importance(heads, 0.0);
    for (int64_t c = 0; c < vWidth; ++c)
      importance[c / dv] += channels[c] * rows[c];
    int64_t keep = std::max<int64_t>(
        1, heads - static_cast<int64_t>(std::floor(fraction * heads)));
    if (keep >= heads)
      return;
    SmallVector<int64_t> kept = keepMostImportant(importance, keep);

    OpBuilder b(attention);
    Value newQ, newK, newV;
    SmallVector<Operation *> dead;
    if (merged) {
      SmallVector<int64_t> columns = channelsOf(kept, dk);
      columns.append(channelsOf(kept, dk, qWidth));
      columns.append(channelsOf(kept, dv, 2 * qWidth));
      b.setInsertionPoint(merged);
      auto narrow = narrowProjection(b, merged, columns);
      if (!narrow)
        return;
      b.setInsertionPoint(split);
      auto newSplit = b.create<tfm::SplitOp>(
          split.getLoc(),
          TypeRange{withLastDim(split.getResult(0).getType(), keep * dk),
                    withLastDim(split.getResult(1).getType(), keep * dk),
                    withLastDim(split.getResult(2).getType(), keep * dv)},
          narrow, split.getAxisAttr(), split.getNumOutputsAttr(),
          b.getDenseI64ArrayAttr({keep * dk, keep * dk, keep * dv}));
      newQ = newSplit.getResult(0);
      newK = newSplit.getResult(1);
      newV = newSplit.getResult(2);
      dead = {split, merged};
    } else {
      b.setInsertionPoint(q);
      newQ = narrowProjection(b, q, channelsOf(kept, dk));
      b.setInsertionPoint(k);
      newK = narrowProjection(b, k, channelsOf(kept, dk));
      b.setInsertionPoint(v);
      newV = narrowProjection(b, v, channelsOf(kept, dv));
      if (!newQ || !newK || !newV)
        return;
      dead = {q, k, v};
    }
    b.setInsertionPoint(attention);
    auto narrowAttention = b.create<tfm::AttentionOp>(
        attention.getLoc(), withLastDim(attention.getType(), keep * dv), newQ,
        newK, newV, attention.getMask(), b.getI64IntegerAttr(keep),
        attention.getScaleAttr(), attention.getCausalAttr(),
        attention.getPrecisionAttr());
    b.setInsertionPoint(out);
    Value outWeight = selectConstantSlices(b, out.getWeight().getLoc(),
                                           out.getWeight(), 0,
                                           channelsOf(kept, dv), ".heads_kept");
    if (!outWeight)
      return;
    auto narrowOut = b.create<tfm::LinearOp>(
        out.getLoc(), out.getType(), narrowAttention.getResult(), outWeight,
        out.getBias(), out.getResidual(), out.getActivationAttr());
    copyDriverAttributes(out, narrowOut);
    narrowOut->removeAttr(kInputNormsAttr);
    SmallVector<Value> oldConstants = {out.getWeight()};
    for (Operation *op : dead)
      if (auto linear = dyn_cast<tfm::LinearOp>(op))
        oldConstants.append({linear.getWeight(), linear.getBias()});
    out.getResult().replaceAllUsesWith(narrowOut.getResult());
    out.erase();
    attention.erase();
    for (Operation *op : dead)
      op->erase();
    for (Value old : oldConstants)
      if (old && old.use_empty())
        old.getDefiningOp()->erase();
    ++numPruned;
    if (emitRemarks)
      narrowAttention->emitRemark("pruned heads: ")
          << getLayerName(narrowAttention) << ": " << keep << " of " << heads
          << " heads kept";
  }

  /// A copy of `projection` keeping its weight's (and bias's) `columns`;
  /// null when its constants cannot be read.
  Value narrowProjection(OpBuilder &b, tfm::LinearOp projection,
                         ArrayRef<int64_t> columns) {
    Value weight = selectConstantSlices(b, projection.getWeight().getLoc(),
                                        projection.getWeight(), 1, columns,
                                        ".heads_kept");
    Value bias;
    if (projection.getBias())
      bias = selectConstantSlices(b, projection.getBias().getLoc(),
                                  projection.getBias(), 0, columns, ".heads_kept");
    if (!weight || (projection.getBias() && !bias))
      return {};
    auto narrow = b.create<tfm::LinearOp>(
        projection.getLoc(), withLastDim(projection.getType(), columns.size()),
        projection.getInput(), weight, bias, Value(),
        projection.getActivationAttr());
    copyDriverAttributes(projection, narrow);
    return narrow.getResult();
  }
};

} // namespace
