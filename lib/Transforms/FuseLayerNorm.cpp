//===- FuseLayerNorm.cpp - the tfm-fuse-layer-norm pass -------------------===//
//
// Before opset 17 ONNX had no LayerNormalization, and RMSNormalization came
// only in opset 23, so exporters spell both out:
//
//   layer norm: m = mean(x); d = x - m; v = mean(d^2);
//               y = d / sqrt(v + eps) * gamma + beta
//   RMS norm:   y = x * 1 / sqrt(mean(x^2) + eps) * gamma
//
// with the mean over the trailing dims (keepdims), d^2 as Pow(d, 2) or
// Mul(d, d), the division as Div, Mul by Reciprocal, or Mul by Div(1, ·),
// and gamma/beta optional. Each match becomes one tfm.layer_norm or
// tfm.rms_norm: one pass over the row instead of eight.
//
//===----------------------------------------------------------------------===//

#include "FusionUtils.h"
#include "tfc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/Transforms/RegionUtils.h"
#include "tfm/TfmOps.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSELAYERNORM
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// The first normalized dim when `mean` reduces exactly the trailing dims
/// [axis, rank) and keeps them.
std::optional<int64_t> trailingMeanAxis(tfm::ReduceMeanOp mean) {
  auto type = cast<RankedTensorType>(mean.getInput().getType());
  int64_t rank = type.getRank();
  if (!mean.getKeepdims() || rank == 0)
    return std::nullopt;
  SmallVector<int64_t> axes;
  for (int64_t axis : mean.getAxes())
    axes.push_back(axis < 0 ? axis + rank : axis);
  if (axes.empty()) // all dims
    return 0;
  llvm::sort(axes);
  for (auto [i, axis] : llvm::enumerate(axes))
    if (axis != rank - (int64_t)axes.size() + (int64_t)i)
      return std::nullopt;
  return axes.front();
}

/// Whether `op` squares `x`: Pow(x, 2) or Mul(x, x).
bool isSquareOf(Operation *op, Value x) {
  if (auto pow = dyn_cast_or_null<tfm::PowOp>(op))
    return pow.getBase() == x && isScalarConstant(pow.getExponent(), 2.0);
  if (auto mul = dyn_cast_or_null<tfm::MulOp>(op))
    return mul.getLhs() == x && mul.getRhs() == x;
  return false;
}

/// The value that squares `x` among its users' results, if one does.
Operation *findSquare(Value x) {
  for (Operation *user : x.getUsers())
    if (isSquareOf(user, x))
      return user;
  return nullptr;
}

/// What the statistics part of a normalization matched.
struct Normalization {
  Value input;           // what is normalized (x, or x - mean)
  int64_t axis = 0;      // first normalized dim
  double epsilon = 0.0;
  Operation *normalized; // the op whose result is input / rms
};

/// From `square` (input^2), matches mean(square) + eps -> sqrt -> the
/// division of `input` by it, in its three spellings. Returns failure with
/// a reason in `why`.
FailureOr<Normalization> matchDivisionByRms(Operation *square, Value input,
                                            std::string &why) {
  auto variance = dyn_cast_or_null<tfm::ReduceMeanOp>(
      getSingleUser(square->getResult(0)));
  if (!variance) {
    why = "the square is not averaged by one ReduceMean";
    return failure();
  }
  std::optional<int64_t> axis = trailingMeanAxis(variance);
  if (!axis) {
    why = "the mean of squares is not over trailing dims with keepdims";
    return failure();
  }
  auto addEps = dyn_cast_or_null<tfm::AddOp>(getSingleUser(variance));
  Value epsValue = getOtherOperand(addEps, variance);
  std::optional<double> epsilon = getScalarConstant(epsValue);
  if (!addEps || !epsilon) {
    why = "the variance is not followed by Add of a constant epsilon";
    return failure();
  }
  auto sqrt = dyn_cast_or_null<tfm::SqrtOp>(getSingleUser(addEps));
  if (!sqrt) {
    why = "variance + epsilon is not followed by Sqrt";
    return failure();
  }
  Operation *next = getSingleUser(sqrt);
  // input / sqrt(...)
  if (auto div = dyn_cast_or_null<tfm::DivOp>(next);
      div && div.getLhs() == input && div.getRhs() == sqrt.getResult())
    return Normalization{input, *axis, *epsilon, div};
  // input * reciprocal(sqrt(...)) or input * (1 / sqrt(...))
  Value inverse;
  if (auto reciprocal = dyn_cast_or_null<tfm::ReciprocalOp>(next))
    inverse = reciprocal.getResult();
  else if (auto div = dyn_cast_or_null<tfm::DivOp>(next);
           div && div.getRhs() == sqrt.getResult() &&
           isScalarConstant(div.getLhs(), 1.0))
    inverse = div.getResult();
  if (inverse)
    if (auto mul = dyn_cast_or_null<tfm::MulOp>(getSingleUser(inverse));
        mul && getOtherOperand(mul, inverse) == input)
      return Normalization{input, *axis, *epsilon, mul};
  why = "sqrt(variance + epsilon) does not divide the normalized input";
  return failure();
}

/// Whether `param` can be a scale or bias over dims [axis, rank) of `x`.
bool fitsNormalizedDims(Value param, Value x, int64_t axis) {
  auto paramType = cast<RankedTensorType>(param.getType());
  auto type = cast<RankedTensorType>(x.getType());
  return paramType.getElementType() == type.getElementType() &&
         tfm::broadcastsTo(paramType.getShape(),
                           type.getShape().drop_front(axis));
}

/// Takes the optional `* gamma` and `+ beta` after `normalized`. Returns the
/// last op of the match.
Operation *takeAffine(Operation *normalized, Value x, int64_t axis,
                      Value &gamma, Value &beta, bool allowBias) {
  Operation *last = normalized;
  if (auto mul = dyn_cast_or_null<tfm::MulOp>(getSingleUser(last->getResult(0)))) {
    Value candidate = getOtherOperand(mul, last->getResult(0));
    if (candidate && fitsNormalizedDims(candidate, x, axis)) {
      gamma = candidate;
      last = mul;
    }
  }
  if (!allowBias)
    return last;
  if (auto add = dyn_cast_or_null<tfm::AddOp>(getSingleUser(last->getResult(0)))) {
    Value candidate = getOtherOperand(add, last->getResult(0));
    if (candidate && fitsNormalizedDims(candidate, x, axis)) {
      beta = candidate;
      last = add;
    }
  }
  return last;
}

/// A constant of ones over the normalized dims, for a match without gamma.
Value createOnes(OpBuilder &b, Location loc, Value x, int64_t axis) {
  auto type = cast<RankedTensorType>(x.getType());
  auto onesType = RankedTensorType::get(type.getShape().drop_front(axis),
                                        type.getElementType());
  if (!onesType.hasStaticShape())
    return {};
  return b.create<tfm::ConstantOp>(
      loc, DenseElementsAttr::get(
               onesType, b.getFloatAttr(type.getElementType(), 1.0)));
}

struct FuseLayerNormPass
    : public tfc::impl::FuseLayerNormBase<FuseLayerNormPass> {
  using FuseLayerNormBase::FuseLayerNormBase;

  void runOnOperation() override {
    FusionRemarks layerNormRemarks("layer_norm", emitRemarks);
    FusionRemarks rmsNormRemarks("rms_norm", emitRemarks);
    SmallVector<tfm::ReduceMeanOp> means;
    getOperation().walk([&](tfm::ReduceMeanOp mean) { means.push_back(mean); });
    // Layer norms first: a layer norm's variance also looks like an RMS norm
    // of the centered input.
    DenseSet<Operation *> consumed;
    for (tfm::ReduceMeanOp mean : means)
      if (succeeded(fuseLayerNorm(mean, layerNormRemarks, consumed)))
        ++numLayerNorm;
    for (tfm::ReduceMeanOp mean : means)
      if (!consumed.contains(mean) &&
          succeeded(fuseRmsNorm(mean, rmsNormRemarks, consumed)))
        ++numRmsNorm;
    IRRewriter rewriter(&getContext());
    (void)runRegionDCE(rewriter, getOperation()->getRegions());
  }

  /// Anchored on the first mean: mean(x) feeding x - mean(x).
  LogicalResult fuseLayerNorm(tfm::ReduceMeanOp mean,
                              const FusionRemarks &remarks,
                              DenseSet<Operation *> &consumed) {
    Value x = mean.getInput();
    auto sub = dyn_cast_or_null<tfm::SubOp>(getSingleUser(mean));
    if (!sub || sub.getLhs() != x || sub.getRhs() != mean.getResult())
      return failure(); // not a layer norm's mean
    if (!isa<FloatType>(cast<RankedTensorType>(x.getType()).getElementType()))
      return remarks.reject(mean, "the input is not floating-point");
    std::optional<int64_t> axis = trailingMeanAxis(mean);
    if (!axis)
      return remarks.reject(mean, "the mean is not over trailing dims with keepdims");
    Value centered = sub.getResult();
    Operation *square = findSquare(centered);
    if (!square)
      return remarks.reject(mean, "x - mean(x) is not squared");
    std::string why;
    FailureOr<Normalization> norm = matchDivisionByRms(square, centered, why);
    if (failed(norm))
      return remarks.reject(mean, why);
    if (norm->axis != *axis)
      return remarks.reject(mean, "the two means reduce different dims");
    if (!llvm::all_of(centered.getUsers(), [&](Operation *user) {
          return user == square || user == norm->normalized;
        }))
      return remarks.reject(mean, "x - mean(x) has other users");

    Value gamma, beta;
    Operation *last = takeAffine(norm->normalized, x, *axis, gamma, beta,
                                 /*allowBias=*/true);
    StringRef affine = gamma && beta ? "scale and bias"
                       : gamma         ? "scale"
                       : beta          ? "bias"
                                       : "no affine";
    OpBuilder b(last);
    if (!gamma)
      gamma = createOnes(b, last->getLoc(), x, *axis);
    if (!gamma)
      return remarks.reject(mean, "no scale, and the normalized dims are not static");
    auto fused = b.create<tfm::LayerNormOp>(
        last->getLoc(), last->getResult(0).getType(), x, gamma, beta,
        b.getI64IntegerAttr(*axis), b.getF32FloatAttr(norm->epsilon));
    remarks.fused(fused, "mean, variance and " + affine + " over dims from " +
                             Twine(*axis));
    last->getResult(0).replaceAllUsesWith(fused.getResult());
    consumed.insert(mean);
    if (auto variance = getSingleUser(square->getResult(0)))
      consumed.insert(variance);
    return success();
  }

  /// Anchored on the mean of squares: mean(x^2) where x is not centered by
  /// a layer norm's own mean.
  LogicalResult fuseRmsNorm(tfm::ReduceMeanOp mean,
                            const FusionRemarks &remarks,
                            DenseSet<Operation *> &consumed) {
    Operation *square = mean.getInput().getDefiningOp();
    if (!square || !isa<tfm::PowOp, tfm::MulOp>(square))
      return failure();
    Value x = square->getOperand(0);
    if (!isSquareOf(square, x))
      return failure(); // not an RMS norm's mean of squares
    if (!isa<FloatType>(cast<RankedTensorType>(x.getType()).getElementType()))
      return remarks.reject(mean, "the input is not floating-point");
    std::string why;
    FailureOr<Normalization> norm = matchDivisionByRms(square, x, why);
    if (failed(norm))
      return remarks.reject(mean, why);
    Value gamma, beta;
    Operation *last = takeAffine(norm->normalized, x, norm->axis, gamma, beta,
                                 /*allowBias=*/false);
    OpBuilder b(last);
    if (!gamma)
      gamma = createOnes(b, last->getLoc(), x, norm->axis);
    if (!gamma)
      return remarks.reject(mean, "no scale, and the normalized dims are not static");
    auto fused = b.create<tfm::RmsNormOp>(
        last->getLoc(), last->getResult(0).getType(), x, gamma,
        b.getI64IntegerAttr(norm->axis), b.getF32FloatAttr(norm->epsilon));
    remarks.fused(fused, "mean of squares over dims from " + Twine(norm->axis));
    last->getResult(0).replaceAllUsesWith(fused.getResult());
    consumed.insert(mean);
    return success();
  }
};

} // namespace
