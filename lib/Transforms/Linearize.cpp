//===- Linearize.cpp - the tfm-linearize pass -----------------------------===//
//
// Softmax attention after training becomes linear attention with
// Performer's positive random features (Linearize.h): for each head,
//
//   φ(x) = exp(W x' - |x'|² / 2 - c),  x' = sqrt(scale) x,
//
// then tfm.linear_attention on φ(q), φ(k) and v (its `exp` feature map on
// the exponents), normalized, causal when the attention was. The stabilizer c
// is each query row's own maximum and, for the keys, one maximum per head over
// the whole sequence: both cancel in the normalization (as does Performer's 1 /
// sqrt(M), left out), and keep exp from overflowing. Costs time linear in the
// sequence instead of quadratic, at the price of an approximation the driver
// measures.
//
// With a window (the hybrid, --linearize=hybrid:W): the keys within W
// positions of each query keep their exact weights through the op's
// window rows. Those weights must be on the features' scale, so there the
// stabilizers and M do not cancel: the query's row carries log M - c_q -
// c_k. Trained attention puts most of its weight near the query, where
// the features' estimate is worst.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Passes.h"

#include "FusionUtils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "tfc/Transforms/Linearize.h"
#include "tfc/Transforms/Quantization.h"
#include "tfm/TfmOps.h"

#include <cmath>

namespace mlir::tfc {
#define GEN_PASS_DEF_LINEARIZE
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

Value createShape(OpBuilder &b, Location loc, ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get({static_cast<int64_t>(shape.size())},
                                    b.getI64Type());
  return b.create<tfm::ConstantOp>(loc, type,
                                   DenseIntElementsAttr::get(type, shape));
}

Value createScalar(OpBuilder &b, Location loc, float value) {
  auto type = RankedTensorType::get({}, b.getF32Type());
  return b.create<tfm::ConstantOp>(loc, type,
                                   DenseElementsAttr::get(type, value));
}

/// log φ(x) for x [B, L, N * d]: `exponents` [B, L, N, M], what
/// tfm.linear_attention's `exp` feature map raises (in the kernel, as it
/// reads each row: no [B, L, N, M] tensor of features is written), less
/// `stabilizer`. `wScaled` is sqrt(scale) Wᵀ [d, M]; `halfScale` is
/// scale / 2 (|x'|² / 2 = |x|² scale / 2). The stabilizer is each row's
/// maximum ([B, L, N, 1]; `rowMaximum`), and with `perHead` then the
/// maximum of those over the sequence ([B, 1, N, 1]: two reductions, each
/// over one axis, are far cheaper than one over two). The product and the
/// squares run on [B, L * N, d] (rank 3: the linear kernel's). Fitted
/// feature weights come as `logWeights` [N, M], added before the maximum.
struct Exponents {
  Value exponents, stabilizer, rowMaximum;
};
Exponents createExponents(OpBuilder &b, Location loc, Value x, Value wScaled,
                          int64_t heads, int64_t dim, int64_t features,
                          float halfScale, bool perHead, Value logWeights) {
  Value rows =
      b.create<tfm::ReshapeOp>(loc, x, createShape(b, loc, {0, -1, dim}));
  Value projected = b.create<tfm::LinearOp>(loc, rows, wScaled, Value(),
                                            Value(), b.getStringAttr("none"));
  Value squares = b.create<tfm::ReduceSumOp>(
      loc, b.create<tfm::MulOp>(loc, rows, rows), b.getDenseI64ArrayAttr({2}),
      b.getBoolAttr(true));
  Value exponent = b.create<tfm::SubOp>(
      loc, projected,
      b.create<tfm::MulOp>(loc, squares, createScalar(b, loc, halfScale)));
  exponent = b.create<tfm::ReshapeOp>(
      loc, exponent, createShape(b, loc, {0, -1, heads, features}));
  if (logWeights)
    exponent = b.create<tfm::AddOp>(loc, exponent, logWeights);
  Value rowMaximum = b.create<tfm::ReduceMaxOp>(
      loc, exponent, b.getDenseI64ArrayAttr({3}), b.getBoolAttr(true));
  Value stabilizer = rowMaximum;
  if (perHead)
    stabilizer = b.create<tfm::ReduceMaxOp>(
        loc, stabilizer, b.getDenseI64ArrayAttr({1}), b.getBoolAttr(true));
  return {b.create<tfm::SubOp>(loc, exponent, stabilizer), stabilizer,
          rowMaximum};
}

struct LinearizePass : public tfc::impl::LinearizeBase<LinearizePass> {
  using LinearizeBase::LinearizeBase;

  void runOnOperation() override {
    if (features < 1 || features > kMaxLinearizeFeatures) {
      getOperation().emitError()
          << "tfm-linearize: features must be 1 to " << kMaxLinearizeFeatures;
      return signalPassFailure();
    }
    if (window < 0 || window > tfm::kMaxLinearAttentionWindow) {
      getOperation().emitError() << "tfm-linearize: window must be 0 to "
                                 << tfm::kMaxLinearAttentionWindow;
      return signalPassFailure();
    }
    SmallVector<tfm::AttentionOp> attentions;
    getOperation().walk([&](tfm::AttentionOp op) { attentions.push_back(op); });
    // The layer number seeds each layer's draw: the driver's meter numbers
    // them the same way.
    for (auto [layer, op] : llvm::enumerate(attentions))
      linearize(op, static_cast<int64_t>(layer));
  }

  void remark(Operation *op, const Twine &text) {
    if (emitRemarks)
      op->emitRemark(text);
  }

  void linearize(tfm::AttentionOp op, int64_t layer) {
    std::string name = getLayerName(op);
    if (std::string reason = whyNotLinearizable(op); !reason.empty()) {
      remark(op, "kept softmax: " + name + ": " + reason);
      return;
    }
    int64_t count = features;
    if (auto given = op->getAttrOfType<IntegerAttr>(kLinearizeAttr)) {
      count = given.getInt();
      if (count <= 0) {
        remark(op, "kept softmax: " + name + ": kept by the error budget");
        return;
      }
      if (count > kMaxLinearizeFeatures) {
        op.emitError() << "tfm-linearize: " << name << ": " << count
                       << " features, more than " << kMaxLinearizeFeatures;
        return signalPassFailure();
      }
    }
    int64_t heads = static_cast<int64_t>(op.getNumHeads());
    int64_t keyDim =
        cast<RankedTensorType>(op.getKey().getType()).getDimSize(2) / heads;
    int64_t valueDim =
        cast<RankedTensorType>(op.getValue().getType()).getDimSize(2) / heads;
    float scale = op.getScale().convertToFloat();
    bool causal = op.getCausal();
    DenseFPElementsAttr weights;
    if (Attribute given = op->getAttr(kLinearizeWeightsAttr)) {
      weights = dyn_cast<DenseFPElementsAttr>(given);
      if (!weights || !weights.getElementType().isF32() ||
          weights.getNumElements() != heads * count) {
        op.emitError() << "tfm-linearize: " << name << ": "
                       << kLinearizeWeightsAttr << " must be f32 with " << heads
                       << " x " << count
                       << " elements (a log weight per head and feature)";
        return signalPassFailure();
      }
    }

    // sqrt(scale) Wᵀ, [d, M]: the product with x [.., d] is W x'.
    std::vector<float> w = drawPerformerFeatures(keyDim, count, seed, layer);
    std::vector<float> transposed(w.size());
    float root = std::sqrt(scale);
    for (int64_t f = 0; f < count; ++f)
      for (int64_t i = 0; i < keyDim; ++i)
        transposed[i * count + f] = root * w[f * keyDim + i];

    OpBuilder b(op);
    Location loc = op.getLoc();
    Value wScaled = createWeightConstant(
        b, loc, RankedTensorType::get({keyDim, count}, b.getF32Type()),
        ArrayRef<char>(reinterpret_cast<const char *>(transposed.data()),
                       transposed.size() * sizeof(float)),
        "performer_features_" + std::to_string(layer));
    Value v = b.create<tfm::ReshapeOp>(
        loc, op.getValue(), createShape(b, loc, {0, 0, heads, valueDim}));
    // Queries: each row's own maximum; keys: one per batch and head, over
    // the sequence and the features (a constant per head cancels).
    // Fitted weights d on the features (the driver's, LinearizeFit.cpp):
    // Σ_m d_m φ_m(q) φ_m(k) puts log d_m on the query's exponents.
    Value logWeights;
    if (weights) {
      logWeights = b.create<tfm::ConstantOp>(
          loc, RankedTensorType::get({heads, count}, b.getF32Type()),
          weights.reshape(
              RankedTensorType::get({heads, count}, b.getF32Type())));
    }
    Exponents queries = createExponents(b, loc, op.getQuery(), wScaled, heads,
                                        keyDim, count, scale / 2,
                                        /*perHead=*/false, logWeights);
    Exponents keys = createExponents(b, loc, op.getKey(), wScaled, heads,
                                     keyDim, count, scale / 2,
                                     /*perHead=*/true, Value());
    Value queryOperand = queries.exponents, keyOperand = keys.exponents;
    int64_t windowDim = 0;
    if (window > 0) {
      // The hybrid: each key within the window weighs exp(q' · k') on the
      // features' scale. φ(q)·φ(k) sums M terms each about
      // exp(q' · k' - c_q - c_k), so the window's weight is
      // exp(q' · k' + log M - c_q - c_k) = exp([q', log M - c_q - c_k] ·
      // [k', 1]): rows the op's window takes after the features.
      auto scaled = [&](Value x) -> Value {
        Value heads4 = b.create<tfm::ReshapeOp>(
            loc, x, createShape(b, loc, {0, 0, heads, keyDim}));
        return b.create<tfm::MulOp>(loc, heads4, createScalar(b, loc, root));
      };
      Value queryOffset = b.create<tfm::SubOp>(
          loc,
          b.create<tfm::SubOp>(
              loc, createScalar(b, loc, std::log(static_cast<float>(count))),
              queries.stabilizer),
          keys.stabilizer);
      // [B, Lk, N, 1] of ones (the keys' row maxima are finite).
      Value ones = b.create<tfm::AddOp>(
          loc,
          b.create<tfm::MulOp>(loc, keys.rowMaximum, createScalar(b, loc, 0)),
          createScalar(b, loc, 1));
      auto concat = [&](ValueRange parts) -> Value {
        return b.create<tfm::ConcatOp>(loc, parts, b.getI64IntegerAttr(3));
      };
      queryOperand = concat({queryOperand, scaled(op.getQuery()), queryOffset});
      keyOperand = concat({keyOperand, scaled(op.getKey()), ones});
      windowDim = keyDim + 1;
    }
    Value linear = b.create<tfm::LinearAttentionOp>(
        loc, queryOperand, keyOperand, v, Value(), b.getStringAttr("exp"),
        b.getF32FloatAttr(1.0f), b.getBoolAttr(causal),
        b.getF32FloatAttr(static_cast<float>(kLinearizeEpsilon)),
        b.getI64IntegerAttr(window), b.getI64IntegerAttr(windowDim));
    Value merged =
        b.create<tfm::ReshapeOp>(loc, op.getType(), linear,
                                 createShape(b, loc, {0, 0, heads * valueDim}));
    op.getResult().replaceAllUsesWith(merged);
    op.erase();
    ++numLinearized;
    std::string exact =
        window > 0 ? ", exact within " + std::to_string(window) + " keys" : "";
    remark(merged.getDefiningOp(),
           "linearized: " + name + ": " + Twine(heads) + " heads of " +
               Twine(keyDim) + ", " + Twine(count) +
               (weights ? " fitted" : "") + " random features" + exact +
               (causal ? ", causal" : ""));
  }
};

} // namespace
