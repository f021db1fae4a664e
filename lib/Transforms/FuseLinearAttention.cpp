//===- FuseLinearAttention.cpp - the tfm-fuse-linear-attention pass -------===//
//
// Forms tfm.linear_attention from causal linear attention as exporters write
// it with prefix sums (Katharopoulos et al.'s formulation in torch):
//
//   φq = φ(q), φk = φ(k)                       q, k, v: [B, L, N, d]
//   kv = cumsum(unsqueeze(φk, 4) * unsqueeze(v, 3), axis 1)   [B, L, N, dk, dv]
//   num = reduce_sum(unsqueeze(φq, 4) * kv, axes [3], keepdims 0)
//   den = reduce_sum(φq * cumsum(φk, axis 1), axes [3], keepdims 1) + eps
//   o = num / den                              (or num alone: unnormalized)
//
// with φ one of elu(x) + 1 (alpha 1), relu(x) or the identity, the same for
// q and k. Every step is proven: the unsqueezes put dk and dv on the axes
// the reduction expects, the prefix sums run forwards over the sequence
// (dim 1) and include the current position, the products broadcast only
// the unsqueezed dims (their batch, sequence and head dims are the same,
// symbolically when dynamic), and eps is a scalar constant. The op replaces
// the [B, L, N, dk, dv] prefix tensor, the largest in the model, by a
// kernel that carries a dk x dv state.
//
//===----------------------------------------------------------------------===//

#include "FusionUtils.h"
#include "tfc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/RegionUtils.h"
#include "tfm/TfmOps.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSELINEARATTENTION
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// A value read through a feature map: φ's name and its input.
struct FeatureMapped {
  Value input;
  StringRef map;
};

FeatureMapped peelFeatureMap(Value value) {
  if (auto add = value.getDefiningOp<tfm::AddOp>()) {
    for (auto [x, c] : {std::pair{add.getLhs(), add.getRhs()},
                        std::pair{add.getRhs(), add.getLhs()}}) {
      auto elu = x.getDefiningOp<tfm::EluOp>();
      if (elu && isScalarConstant(c, 1.0) && elu.getType() == add.getType() &&
          elu.getAlpha().convertToDouble() == 1.0)
        return {elu.getInput(), "elu_plus_one"};
    }
  }
  if (auto relu = value.getDefiningOp<tfm::ReluOp>())
    return {relu.getInput(), "relu"};
  return {value, "none"};
}

int64_t normalizeAxis(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

/// The input of `value` = unsqueeze(x, [axis]) (axis of the rank-5 result).
Value matchUnsqueeze(Value value, int64_t axis) {
  auto unsqueeze = value.getDefiningOp<tfm::UnsqueezeOp>();
  if (!unsqueeze || unsqueeze.getAxes().size() != 1 ||
      normalizeAxis(unsqueeze.getAxes()[0], 5) != axis)
    return {};
  return unsqueeze.getInput();
}

/// The input of a forward, inclusive prefix sum over dim 1 of `value`.
Value matchSequencePrefixSum(Value value) {
  auto cumsum = value.getDefiningOp<tfm::CumSumOp>();
  if (!cumsum || cumsum.getExclusive() || cumsum.getReverse())
    return {};
  auto type = cast<RankedTensorType>(cumsum.getType());
  if (normalizeAxis(cumsum.getAxis(), type.getRank()) != 1)
    return {};
  return cumsum.getInput();
}

/// Whether `a` and `b` have the same dims [0, 3): batch, sequence, heads.
bool sameLeadingDims(Value a, Value b) {
  for (int64_t dim = 0; dim < 3; ++dim)
    if (getSymbolicDim(a, dim) != getSymbolicDim(b, dim))
      return false;
  return true;
}

/// A reduce_sum of `value` over dim 3 alone, with `keepdims`: its input.
Value matchReduceOverDim3(Value value, bool keepdims) {
  auto reduce = value.getDefiningOp<tfm::ReduceSumOp>();
  if (!reduce || reduce.getKeepdims() != keepdims ||
      reduce.getAxes().size() != 1)
    return {};
  int64_t rank = cast<RankedTensorType>(reduce.getInput().getType()).getRank();
  if (normalizeAxis(reduce.getAxes()[0], rank) != 3)
    return {};
  return reduce.getInput();
}

/// The operands of the causal linear attention whose output is `value`.
struct LinearAttentionMatch {
  Value query, key, value;
  StringRef featureMap;
  std::optional<double> epsilon;
};

/// num = reduce_sum(unsqueeze(φq, 4) * cumsum(unsqueeze(φk, 4) *
/// unsqueeze(v, 3), 1), [3], keepdims 0): φq, φk and v.
LogicalResult matchNumerator(Value num, Value &phiQ, Value &phiK, Value &v,
                             std::string &why) {
  Value product = matchReduceOverDim3(num, /*keepdims=*/false);
  auto mul = product ? product.getDefiningOp<tfm::MulOp>() : nullptr;
  if (!mul || cast<RankedTensorType>(mul.getType()).getRank() != 5) {
    why = "not a sum over dk of a rank-5 product";
    return failure();
  }
  for (auto [query, prefix] : {std::pair{mul.getLhs(), mul.getRhs()},
                               std::pair{mul.getRhs(), mul.getLhs()}}) {
    Value outer = matchSequencePrefixSum(prefix);
    phiQ = matchUnsqueeze(query, 4);
    auto outerMul = outer ? outer.getDefiningOp<tfm::MulOp>() : nullptr;
    if (!phiQ || !outerMul)
      continue;
    for (auto [k, value] : {std::pair{outerMul.getLhs(), outerMul.getRhs()},
                            std::pair{outerMul.getRhs(), outerMul.getLhs()}}) {
      phiK = matchUnsqueeze(k, 4);
      v = matchUnsqueeze(value, 3);
      if (phiK && v)
        return success();
    }
  }
  why = "the product is not unsqueeze(φq, 4) by a forward prefix sum over "
        "the sequence of unsqueeze(φk, 4) * unsqueeze(v, 3)";
  return failure();
}

FailureOr<LinearAttentionMatch> matchLinearAttention(Value num, Value den,
                                                     std::string &why) {
  LinearAttentionMatch match;
  Value phiQ, phiK, v;
  if (failed(matchNumerator(num, phiQ, phiK, v, why)))
    return failure();
  if (den) {
    // den = reduce_sum(φq * cumsum(φk, 1), [3], keepdims 1) + eps.
    auto add = den.getDefiningOp<tfm::AddOp>();
    Value sum;
    if (add) {
      for (auto [x, c] : {std::pair{add.getLhs(), add.getRhs()},
                          std::pair{add.getRhs(), add.getLhs()}})
        if (std::optional<double> eps = getScalarConstant(c)) {
          if (x.getType() != add.getType() || *eps < 0.0)
            continue;
          match.epsilon = *eps;
          sum = x;
        }
    }
    Value product = sum ? matchReduceOverDim3(sum, /*keepdims=*/true) : Value();
    auto mul = product ? product.getDefiningOp<tfm::MulOp>() : nullptr;
    bool matched = false;
    if (mul)
      for (auto [q, prefix] : {std::pair{mul.getLhs(), mul.getRhs()},
                               std::pair{mul.getRhs(), mul.getLhs()}})
        if (q == phiQ && matchSequencePrefixSum(prefix) == phiK)
          matched = true;
    if (!matched) {
      why = "the divisor is not the sum over dk of φq * cumsum(φk) plus a "
            "constant epsilon";
      return failure();
    }
  }
  FeatureMapped q = peelFeatureMap(phiQ), k = peelFeatureMap(phiK);
  if (q.map != k.map) {
    why = ("q's feature map (" + q.map + ") is not k's (" + k.map + ")").str();
    return failure();
  }
  // Rank 4, static heads and head dims, and no broadcast in the products.
  for (Value x : {q.input, k.input, v}) {
    auto type = cast<RankedTensorType>(x.getType());
    if (type.getRank() != 4 || type.isDynamicDim(2) || type.isDynamicDim(3) ||
        !type.getElementType().isF32()) {
      why = "q, k and v are not f32 [B, L, N, d] with static N and d";
      return failure();
    }
  }
  if (!sameLeadingDims(q.input, k.input) || !sameLeadingDims(k.input, v) ||
      cast<RankedTensorType>(q.input.getType()).getDimSize(3) !=
          cast<RankedTensorType>(k.input.getType()).getDimSize(3)) {
    why = "q, k and v differ in batch, sequence, heads or dk (the products "
          "would broadcast)";
    return failure();
  }
  match.query = q.input;
  match.key = k.input;
  match.value = v;
  match.featureMap = q.map;
  return match;
}

struct FuseLinearAttentionPass
    : public tfc::impl::FuseLinearAttentionBase<FuseLinearAttentionPass> {
  using FuseLinearAttentionBase::FuseLinearAttentionBase;

  void runOnOperation() override {
    FusionRemarks remarks("linear_attention", emitRemarks);
    // The anchors: sums over dk of a product with a prefix sum, the
    // numerator; its division by the denominator when it has one.
    SmallVector<tfm::ReduceSumOp> anchors;
    getOperation().walk([&](tfm::ReduceSumOp reduce) {
      auto type = cast<RankedTensorType>(reduce.getInput().getType());
      auto mul = reduce.getInput().getDefiningOp<tfm::MulOp>();
      // Any prefix sum: one in the wrong direction or over the wrong dim is
      // a candidate rejected with its reason.
      if (type.getRank() == 5 && mul &&
          (mul.getLhs().getDefiningOp<tfm::CumSumOp>() ||
           mul.getRhs().getDefiningOp<tfm::CumSumOp>()))
        anchors.push_back(reduce);
    });
    OpBuilder b(&getContext());
    for (tfm::ReduceSumOp reduce : anchors) {
      Value num = reduce.getResult();
      Operation *user = getSingleUser(num);
      auto div = dyn_cast_or_null<tfm::DivOp>(user);
      if (div && div.getLhs() != num)
        div = nullptr;
      std::string why;
      FailureOr<LinearAttentionMatch> match =
          matchLinearAttention(num, div ? div.getRhs() : Value(), why);
      if (failed(match)) {
        (void)remarks.reject(reduce, why);
        continue;
      }
      Value replaced = div ? div.getResult() : num;
      b.setInsertionPointAfter(replaced.getDefiningOp());
      SmallVector<NamedAttribute> attrs = {
          b.getNamedAttr("feature_map", b.getStringAttr(match->featureMap)),
          b.getNamedAttr("causal", b.getBoolAttr(true))};
      if (match->epsilon)
        attrs.push_back(
            b.getNamedAttr("epsilon", b.getF32FloatAttr(*match->epsilon)));
      auto fused = b.create<tfm::LinearAttentionOp>(
          replaced.getLoc(), ValueRange{match->query, match->key, match->value},
          attrs);
      if (fused.getType() != replaced.getType()) {
        // The quotient's type may say less (or, from value_info, more) than
        // the op infers; a broadcasting divisor would make it differ.
        fused.erase();
        (void)remarks.reject(reduce, "the result's shape is not the fused op's");
        continue;
      }
      replaced.replaceAllUsesWith(fused.getResult());
      remarks.fused(fused, (match->featureMap + (match->epsilon ? ", normalized"
                                                                : ", unnormalized"))
                               .str());
      ++numLinearAttention;
    }
    // The prefix sums and products left without users.
    IRRewriter rewriter(&getContext());
    (void)runRegionDCE(rewriter, getOperation()->getRegions());
  }
};

} // namespace
