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
// It also forms it from retention in RetNet's parallel form, which exports
// as the products of a [N, L, L] decay mask built from the sequence length:
//
//   p    = cast(range(0, L, 1)) to f32             L: q's sequence length
//   dist = unsqueeze(p, [1]) - unsqueeze(p, [0])   i - j
//   E    = where(dist >= 0, exp(dist * c), 0)      c [N, 1, 1]: log γ per head
//   D    = E / sqrt(reduce_sum(E, [-1], keepdims))   (or E: unnormalized)
//   out  = matmul(matmul(qt, kt) * s * D, vt)      qt, vt: [B, N, L, d] views
//                                                  of q, v [B, L, N, d], kt
//                                                  [B, N, d, L] of k
//
// which is tfm.linear_attention with decay γ = e^c, scale s and no feature
// map; the normalization divides row i of head h by sqrt(Σ_{m<=i} γ^m), a
// prefix sum over [L, N] in place of the [N, L, L] mask's row sums.
//
// And the non-causal form, φ(q) (φ(k)ᵀ v) / (φ(q) Σ_j φ(k_j) + eps) as
// matmuls on heads-first tensors (matchGlobalLinearAttention): the [dk, dv]
// product is already small there, but the op takes one pass over the keys
// and none of the transposes.
//
//===----------------------------------------------------------------------===//

#include "FusionUtils.h"
#include "tfc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/RegionUtils.h"
#include "tfm/TfmOps.h"

#include <cmath>

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

/// The input of `value` = unsqueeze(x, [axis]) (axis of the result, of
/// rank `rank`: the prefix sums' products are rank 5).
Value matchUnsqueeze(Value value, int64_t axis, int64_t rank = 5) {
  auto unsqueeze = value.getDefiningOp<tfm::UnsqueezeOp>();
  if (!unsqueeze || unsqueeze.getAxes().size() != 1 ||
      normalizeAxis(unsqueeze.getAxes()[0], rank) != axis)
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

/// `den` = x + eps with eps a scalar constant >= 0 and x of the sum's type
/// (epsilon does not broadcast): x and eps.
std::optional<std::pair<Value, double>> splitEpsilon(Value den) {
  auto add = den.getDefiningOp<tfm::AddOp>();
  if (!add)
    return std::nullopt;
  for (auto [x, c] : {std::pair{add.getLhs(), add.getRhs()},
                      std::pair{add.getRhs(), add.getLhs()}})
    if (std::optional<double> eps = getScalarConstant(c))
      if (x.getType() == add.getType() && *eps >= 0.0)
        return std::pair{x, *eps};
  return std::nullopt;
}

/// φq and φk peeled of their feature map, which must be the same.
FailureOr<std::pair<FeatureMapped, FeatureMapped>>
peelSameFeatureMap(Value phiQ, Value phiK, std::string &why) {
  FeatureMapped q = peelFeatureMap(phiQ), k = peelFeatureMap(phiK);
  if (q.map != k.map) {
    why = ("q's feature map (" + q.map + ") is not k's (" + k.map + ")").str();
    return failure();
  }
  return std::pair{q, k};
}

/// Whether each of `values` is f32 of rank 4 with static heads (dim
/// `headsDim`) and head dims (dim 3).
bool areStaticF32Heads(ArrayRef<Value> values, int64_t headsDim) {
  return llvm::all_of(values, [&](Value x) {
    auto type = cast<RankedTensorType>(x.getType());
    return type.getRank() == 4 && !type.isDynamicDim(headsDim) &&
           !type.isDynamicDim(3) && type.getElementType().isF32();
  });
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
    std::optional<std::pair<Value, double>> split = splitEpsilon(den);
    Value sum = split ? split->first : Value();
    if (split)
      match.epsilon = split->second;
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
  auto peeled = peelSameFeatureMap(phiQ, phiK, why);
  if (failed(peeled))
    return failure();
  auto [q, k] = *peeled;
  // Rank 4, static heads and head dims, and no broadcast in the products.
  if (!areStaticF32Heads({q.input, k.input, v}, /*headsDim=*/2)) {
    why = "q, k and v are not f32 [B, L, N, d] with static N and d";
    return failure();
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

/// `value` less its multiplications by scalar constants (either side, any
/// number of them), their product into `scale`.
Value peelScalarFactors(Value value, double &scale) {
  while (auto mul = value.getDefiningOp<tfm::MulOp>()) {
    Value rest;
    for (auto [x, c] : {std::pair{mul.getLhs(), mul.getRhs()},
                        std::pair{mul.getRhs(), mul.getLhs()}})
      if (std::optional<double> factor = getScalarConstant(c);
          factor && x.getType() == mul.getType()) {
        scale *= *factor;
        rest = x;
        break;
      }
    if (!rest)
      break;
    value = rest;
  }
  return value;
}

/// Whether `value` is a tensor of zeros: a splat constant or a
/// constant_of_shape of 0.
bool isZeros(Value value) {
  if (auto fill = value.getDefiningOp<tfm::ConstantOfShapeOp>()) {
    auto splat = dyn_cast<SplatElementsAttr>(fill.getValue());
    return splat && isa<FloatType>(splat.getElementType()) &&
           splat.getSplatValue<APFloat>().isZero();
  }
  return isScalarConstant(value, 0.0);
}

/// A retention's decay mask, proven.
struct DecayMask {
  SmallVector<float> logGamma; // c per head (one: every head's)
  bool normalized = false;
  Value positions; // p [L] (f32): 0, 1, .., L - 1
};

/// D (the mask the scores are multiplied by) as the header describes it,
/// for queries of sequence length `length`.
FailureOr<DecayMask> matchDecayMask(Value d, const SymbolicDim &length,
                                    std::string &why) {
  DecayMask mask;
  Value e = d;
  if (auto div = d.getDefiningOp<tfm::DivOp>()) {
    auto sqrt = div.getRhs().getDefiningOp<tfm::SqrtOp>();
    auto sum = sqrt ? sqrt.getInput().getDefiningOp<tfm::ReduceSumOp>() : nullptr;
    int64_t rank = cast<RankedTensorType>(div.getLhs().getType()).getRank();
    if (!sum || sum.getInput() != div.getLhs() || !sum.getKeepdims() ||
        sum.getAxes().size() != 1 ||
        normalizeAxis(sum.getAxes()[0], rank) != rank - 1) {
      why = "the mask is divided by something other than the square root of "
            "its row sums";
      return failure();
    }
    mask.normalized = true;
    e = div.getLhs();
  }
  auto where = e.getDefiningOp<tfm::WhereOp>();
  auto exp = where ? where.getLhs().getDefiningOp<tfm::ExpOp>() : nullptr;
  auto power = exp ? exp.getInput().getDefiningOp<tfm::MulOp>() : nullptr;
  if (!where || !exp || !power || !isZeros(where.getRhs())) {
    why = "the mask is not where(i - j >= 0, exp((i - j) * log γ), 0)";
    return failure();
  }
  Value dist, logGamma;
  for (auto [x, c] : {std::pair{power.getLhs(), power.getRhs()},
                      std::pair{power.getRhs(), power.getLhs()}})
    if (std::optional<SmallVector<float>> values = getConstantFloats(c)) {
      dist = x;
      logGamma = c;
      mask.logGamma = *values;
    }
  auto keep = where.getCondition().getDefiningOp<tfm::GreaterOrEqualOp>();
  if (!dist || !keep || keep.getLhs() != dist ||
      !isScalarConstant(keep.getRhs(), 0.0)) {
    why = "the mask is not where(i - j >= 0, exp((i - j) * log γ), 0) with "
          "one i - j and a constant log γ";
    return failure();
  }
  // c: [N, 1, 1] or one value; every γ in (0, 1].
  auto cType = cast<RankedTensorType>(logGamma.getType());
  for (int64_t dim = std::max<int64_t>(cType.getRank() - 2, 0);
       dim < cType.getRank(); ++dim)
    if (cType.getDimSize(dim) != 1) {
      why = "log γ varies along the positions";
      return failure();
    }
  for (float c : mask.logGamma)
    if (!(c <= 0.0f) || std::isinf(c)) {
      why = "a decay γ = e^c outside (0, 1]";
      return failure();
    }
  auto sub = dist.getDefiningOp<tfm::SubOp>();
  Value rows = sub ? matchUnsqueeze(sub.getLhs(), 1, /*rank=*/2) : Value();
  Value cols = sub ? matchUnsqueeze(sub.getRhs(), 0, /*rank=*/2) : Value();
  if (!rows || rows != cols) {
    why = "i - j is not unsqueeze(p, [1]) - unsqueeze(p, [0]) of one p";
    return failure();
  }
  auto toFloat = rows.getDefiningOp<tfm::CastOp>();
  auto range = toFloat ? toFloat.getInput().getDefiningOp<tfm::RangeOp>()
                       : rows.getDefiningOp<tfm::RangeOp>();
  if (!range || !isScalarConstant(range.getStart(), 0.0) ||
      !isScalarConstant(range.getDelta(), 1.0) ||
      !cast<RankedTensorType>(rows.getType()).getElementType().isF32()) {
    why = "the positions are not range(0, L, 1) as f32";
    return failure();
  }
  std::optional<SymbolicDim> limit = getSymbolicElement(range.getLimit(), 0);
  if (!limit || *limit != length) {
    why = "the positions' count is not the queries' sequence length";
    return failure();
  }
  mask.positions = rows;
  return mask;
}

/// The [B, L, N, d] value that `value` = transpose(x, perm) views.
Value matchHeadsView(Value value, ArrayRef<int64_t> perm) {
  auto transpose = value.getDefiningOp<tfm::TransposeOp>();
  if (!transpose || transpose.getPerm() != perm)
    return {};
  return transpose.getInput();
}

struct RetentionMatch {
  Value query, key, value;
  double scale = 1;
  DecayMask mask;
};

/// matmul(scores * s * D, vt) with scores = matmul(qt, kt).
FailureOr<RetentionMatch> matchRetention(tfm::MatMulOp product,
                                         std::string &why) {
  RetentionMatch match;
  Value v = matchHeadsView(product.getRhs(), {0, 2, 1, 3});
  double scale = 1;
  auto weighted = peelScalarFactors(product.getLhs(), scale)
                      .getDefiningOp<tfm::MulOp>();
  if (!v || !weighted) {
    why = "not a product of weighted scores with v's heads";
    return failure();
  }
  for (auto [scoresSide, maskSide] :
       {std::pair{weighted.getLhs(), weighted.getRhs()},
        std::pair{weighted.getRhs(), weighted.getLhs()}}) {
    double factor = scale;
    auto scores = peelScalarFactors(scoresSide, factor)
                      .getDefiningOp<tfm::MatMulOp>();
    Value q = scores ? matchHeadsView(scores.getLhs(), {0, 2, 1, 3}) : Value();
    Value k = scores ? matchHeadsView(scores.getRhs(), {0, 2, 3, 1}) : Value();
    if (!q || !k)
      continue;
    if (!areStaticF32Heads({q, k, v}, /*headsDim=*/2)) {
      why = "q, k and v are not f32 [B, L, N, d] with static N and d";
      return failure();
    }
    if (!sameLeadingDims(q, k) || !sameLeadingDims(k, v)) {
      why = "q, k and v differ in batch, sequence or heads";
      return failure();
    }
    double maskScale = 1;
    FailureOr<DecayMask> mask = matchDecayMask(
        peelScalarFactors(maskSide, maskScale), getSymbolicDim(q, 1), why);
    if (failed(mask))
      return failure();
    int64_t heads = cast<RankedTensorType>(q.getType()).getDimSize(2);
    if (mask->logGamma.size() != 1 &&
        static_cast<int64_t>(mask->logGamma.size()) != heads) {
      why = "the mask's decays are not one per head";
      return failure();
    }
    match.query = q;
    match.key = k;
    match.value = v;
    match.scale = factor * maskScale;
    match.mask = std::move(*mask);
    return match;
  }
  why = "the weights are not matmul(q's heads, k's heads transposed) times a "
        "mask";
  return failure();
}

/// Replaces `product` (a matched retention) by tfm.linear_attention; the
/// result in the product's [B, N, L, dv] layout.
Value buildRetention(OpBuilder &b, tfm::MatMulOp product,
                     const RetentionMatch &match) {
  Location loc = product.getLoc();
  int64_t heads = cast<RankedTensorType>(match.query.getType()).getDimSize(2);
  SmallVector<float> logGamma(match.mask.logGamma);
  if (logGamma.size() == 1)
    logGamma.assign(heads, logGamma[0]);
  SmallVector<float> gamma;
  for (float c : logGamma)
    gamma.push_back(std::exp(c));
  auto headsType = RankedTensorType::get({heads}, b.getF32Type());
  Value decay = b.create<tfm::ConstantOp>(
      loc, headsType, DenseElementsAttr::get(headsType, ArrayRef(gamma)));
  Value out = b.create<tfm::LinearAttentionOp>(
      loc, match.query, match.key, match.value, decay, b.getStringAttr("none"),
      b.getF32FloatAttr(static_cast<float>(match.scale)), b.getBoolAttr(true),
      FloatAttr(), b.getI64IntegerAttr(0), b.getI64IntegerAttr(0));
  if (match.mask.normalized) {
    // Row i of head h over sqrt(Σ_{m<=i} γ_h^m): the prefix sums over the
    // positions of exp(m c_h), [L, N], as [L, N, 1].
    Value c = b.create<tfm::ConstantOp>(
        loc, headsType, DenseElementsAttr::get(headsType, ArrayRef(logGamma)));
    Value exponents = b.create<tfm::MulOp>(
        loc,
        b.create<tfm::UnsqueezeOp>(loc, match.mask.positions,
                                   b.getDenseI64ArrayAttr({1})),
        c);
    Value sums = b.create<tfm::CumSumOp>(loc, b.create<tfm::ExpOp>(loc, exponents),
                                         b.getI64IntegerAttr(0),
                                         b.getBoolAttr(false), b.getBoolAttr(false));
    Value norms = b.create<tfm::UnsqueezeOp>(
        loc, b.create<tfm::SqrtOp>(loc, sums), b.getDenseI64ArrayAttr({2}));
    out = b.create<tfm::DivOp>(loc, out, norms);
  }
  return b.create<tfm::TransposeOp>(loc, out, b.getDenseI64ArrayAttr({0, 2, 1, 3}));
}

/// Non-causal linear attention as matmuls of φ(k)ᵀ v, on heads-first
/// [B, N, L, d] tensors:
///   kv  = matmul(transpose(φk, [0, 1, 3, 2]), v)      [B, N, dk, dv]
///   num = matmul(φq, kv)                               [B, N, Lq, dv]
///   den = matmul(φq, sk) + eps, sk [B, N, dk, 1] the sum of φk over the
///         keys: transpose(reduce_sum(φk, [2], keepdims), [0, 1, 3, 2]) or
///         unsqueeze(reduce_sum(φk, [2]), [3])
///   out = num / den (or num)
struct GlobalMatch {
  Value query, key, value; // heads-first, before φ
  StringRef featureMap;
  std::optional<double> epsilon;
};

/// sk = the sum of `phiK` [B, N, L, dk] over its keys as [B, N, dk, 1].
bool isKeySum(Value sk, Value phiK) {
  auto sumOf = [&](Value x, bool keepdims) {
    auto sum = x.getDefiningOp<tfm::ReduceSumOp>();
    return sum && sum.getInput() == phiK && sum.getKeepdims() == keepdims &&
           sum.getAxes().size() == 1 &&
           normalizeAxis(sum.getAxes()[0], 4) == 2;
  };
  if (Value summed = matchHeadsView(sk, {0, 1, 3, 2}))
    return sumOf(summed, /*keepdims=*/true);
  auto unsqueeze = sk.getDefiningOp<tfm::UnsqueezeOp>();
  return unsqueeze && unsqueeze.getAxes().size() == 1 &&
         normalizeAxis(unsqueeze.getAxes()[0], 4) == 3 &&
         sumOf(unsqueeze.getInput(), /*keepdims=*/false);
}

FailureOr<GlobalMatch> matchGlobalLinearAttention(tfm::MatMulOp num, Value den,
                                                  std::string &why) {
  GlobalMatch match;
  Value phiQ = num.getLhs();
  auto kv = num.getRhs().getDefiningOp<tfm::MatMulOp>();
  Value phiK = kv ? matchHeadsView(kv.getLhs(), {0, 1, 3, 2}) : Value();
  if (!phiK) {
    why = "not φq times φkᵀ v";
    return failure();
  }
  if (den) {
    std::optional<std::pair<Value, double>> split = splitEpsilon(den);
    auto product = split ? split->first.getDefiningOp<tfm::MatMulOp>() : nullptr;
    if (!product || product.getLhs() != phiQ ||
        !isKeySum(product.getRhs(), phiK)) {
      why = "the divisor is not φq times the sum of φk over the keys plus a "
            "constant epsilon";
      return failure();
    }
    match.epsilon = split->second;
  }
  auto peeled = peelSameFeatureMap(phiQ, phiK, why);
  if (failed(peeled))
    return failure();
  auto [q, k] = *peeled;
  Value v = kv.getRhs();
  if (!areStaticF32Heads({q.input, k.input, v}, /*headsDim=*/1)) {
    why = "q, k and v are not f32 [B, N, L, d] with static N and d";
    return failure();
  }
  auto same = [](Value a, Value b, int64_t dim) {
    return getSymbolicDim(a, dim) == getSymbolicDim(b, dim);
  };
  if (!same(q.input, k.input, 0) || !same(k.input, v, 0) ||
      !same(q.input, k.input, 1) || !same(k.input, v, 1) ||
      !same(k.input, v, 2) || !same(q.input, k.input, 3)) {
    why = "q, k and v differ in batch or heads, k and v in keys, or q and k "
          "in dk (the products would broadcast)";
    return failure();
  }
  match.query = q.input;
  match.key = k.input;
  match.value = v;
  match.featureMap = q.map;
  return match;
}

/// `x` [B, N, L, d] as [B, L, N, d]: the tensor it views when it is a
/// transpose of one, else a transpose.
Value tokenMajor(OpBuilder &b, Location loc, Value x) {
  if (Value tokens = matchHeadsView(x, {0, 2, 1, 3}))
    return tokens;
  return b.create<tfm::TransposeOp>(loc, x, b.getDenseI64ArrayAttr({0, 2, 1, 3}));
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
    fuseRetention(remarks);
    fuseGlobal(remarks);
    // The prefix sums and products left without users.
    IRRewriter rewriter(&getContext());
    (void)runRegionDCE(rewriter, getOperation()->getRegions());
  }

  /// Retention in the parallel form: anchored on the product of weighted
  /// scores with v whose weights are multiplied by a tensor computed from a
  /// range (a mask built from the sequence length).
  void fuseRetention(const FusionRemarks &remarks) {
    SmallVector<tfm::MatMulOp> anchors;
    getOperation().walk([&](tfm::MatMulOp product) {
      auto type = cast<RankedTensorType>(product.getType());
      double scale = 1;
      auto weighted = peelScalarFactors(product.getLhs(), scale)
                          .getDefiningOp<tfm::MulOp>();
      if (type.getRank() == 4 && weighted &&
          (dependsOnRange(weighted.getLhs()) || dependsOnRange(weighted.getRhs())))
        anchors.push_back(product);
    });
    OpBuilder b(&getContext());
    for (tfm::MatMulOp product : anchors) {
      std::string why;
      FailureOr<RetentionMatch> match = matchRetention(product, why);
      if (failed(match)) {
        (void)remarks.reject(product, "retention: " + why);
        continue;
      }
      b.setInsertionPointAfter(product);
      Value fused = buildRetention(b, product, *match);
      if (fused.getType() != product.getType()) {
        fused.getDefiningOp()->erase();
        (void)remarks.reject(product, "retention: the result's shape is not "
                                      "the fused op's");
        continue;
      }
      product.getResult().replaceAllUsesWith(fused);
      remarks.fused(fused.getDefiningOp(),
                    std::string("retention, decay") +
                        (match->mask.normalized ? ", rows normalized" : ""));
      ++numLinearAttention;
    }
  }

  /// Non-causal linear attention: anchored on φq times a product whose
  /// left side is a transpose of the last two dims (φkᵀ v).
  void fuseGlobal(const FusionRemarks &remarks) {
    SmallVector<tfm::MatMulOp> anchors;
    getOperation().walk([&](tfm::MatMulOp num) {
      auto kv = num.getRhs().getDefiningOp<tfm::MatMulOp>();
      if (cast<RankedTensorType>(num.getType()).getRank() == 4 && kv &&
          matchHeadsView(kv.getLhs(), {0, 1, 3, 2}))
        anchors.push_back(num);
    });
    OpBuilder b(&getContext());
    for (tfm::MatMulOp num : anchors) {
      auto div = dyn_cast_or_null<tfm::DivOp>(getSingleUser(num.getResult()));
      if (div && div.getLhs() != num.getResult())
        div = nullptr;
      std::string why;
      FailureOr<GlobalMatch> match =
          matchGlobalLinearAttention(num, div ? div.getRhs() : Value(), why);
      if (failed(match)) {
        (void)remarks.reject(num, "kᵀv: " + why);
        continue;
      }
      Value replaced = div ? div.getResult() : num.getResult();
      Location loc = replaced.getLoc();
      b.setInsertionPointAfter(replaced.getDefiningOp());
      SmallVector<NamedAttribute> attrs = {
          b.getNamedAttr("feature_map", b.getStringAttr(match->featureMap))};
      if (match->epsilon)
        attrs.push_back(
            b.getNamedAttr("epsilon", b.getF32FloatAttr(*match->epsilon)));
      auto fused = b.create<tfm::LinearAttentionOp>(
          loc,
          ValueRange{tokenMajor(b, loc, match->query),
                     tokenMajor(b, loc, match->key),
                     tokenMajor(b, loc, match->value)},
          attrs);
      Value result = b.create<tfm::TransposeOp>(
          loc, fused.getResult(), b.getDenseI64ArrayAttr({0, 2, 1, 3}));
      if (result.getType() != replaced.getType()) {
        (void)remarks.reject(num, "kᵀv: the result's shape is not the fused "
                                  "op's");
        continue; // the new ops have no users: the DCE below removes them
      }
      replaced.replaceAllUsesWith(result);
      remarks.fused(fused, (match->featureMap + ", not causal" +
                            (match->epsilon ? ", normalized" : ", unnormalized"))
                               .str());
      ++numLinearAttention;
    }
  }

  /// Whether `value` is computed from a tfm.range within a few elementwise
  /// steps (the decay mask's shape of computation).
  static bool dependsOnRange(Value value, int depth = 0) {
    Operation *op = value.getDefiningOp();
    if (!op || depth > 8)
      return false;
    if (isa<tfm::RangeOp>(op))
      return true;
    for (Value operand : op->getOperands())
      if (dependsOnRange(operand, depth + 1))
        return true;
    return false;
  }
};

} // namespace
