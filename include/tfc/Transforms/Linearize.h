//===- Linearize.h - softmax attention as linear attention -------*- C++
//-*-===//
//
// Performer's FAVOR+ (Choromanski et al.): exp(q·k) is the expectation of
// φ(q)·φ(k) for the positive random features
//
//   φ(x) = exp(W x - |x|² / 2) / sqrt(M),  W [M, d] Gaussian rows,
//
// so softmax attention becomes linear attention on φ(q), φ(k), exactly in
// expectation and approximately for one draw of W. The rows are drawn in
// orthogonal blocks (each block of d rows orthonormalized, then given the
// norms of Gaussian vectors), which lowers the variance. What the
// tfm-linearize pass and the driver that measures it (tfc compile
// --linearize) share: the draw, which attentions qualify, and the error
// meter.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_TRANSFORMS_LINEARIZE_H
#define TFC_TRANSFORMS_LINEARIZE_H

#include "mlir/IR/Operation.h"
#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::tfc {

/// The attribute by which a driver gives tfm-linearize an attention's
/// feature count (an i64; 0 keeps its softmax).
inline constexpr char kLinearizeAttr[] = "tfc.linearize_features";

/// The attribute by which a driver gives tfm-linearize an attention's
/// fitted feature weights: f32 [heads, M], log d of each head's weight d on
/// each feature (added to the queries' exponents).
inline constexpr char kLinearizeWeightsAttr[] = "tfc.linearize_log_weights";

/// The most random features a layer may take: the linear_attention
/// kernel's largest key dim.
constexpr int64_t kMaxLinearizeFeatures = 1024;

/// The most features whose weights are fitted: the fit keeps two M x M
/// normal equations per head (one per half of the calibration sequences)
/// and adds M² / 2 multiply-adds per calibration row and key, so a larger
/// count is only drawn.
constexpr int64_t kMaxFittedFeatures = 256;

/// The normalizer's epsilon of a linearized layer (tfm.linear_attention's
/// and the meter's): the sums of Performer's positive weights are never 0
/// in exact arithmetic; this only keeps a sum that underflowed from
/// dividing by zero.
constexpr double kLinearizeEpsilon = 1e-30;

/// W [features, dim] (row-major) for the attention numbered `layer` in the
/// graph: orthogonal Gaussian blocks drawn from `seed` and `layer`, the
/// same on every machine (its own generator, not the C++ library's).
std::vector<float> drawPerformerFeatures(int64_t dim, int64_t features,
                                         uint64_t seed, int64_t layer);

/// Why `op` (a tfm.attention) cannot be linearized, or "" when it can:
/// token-major f32 q, k and v with static head dims, as many key heads as
/// query heads, no mask, f32 products.
std::string whyNotLinearizable(Operation *op);

/// Weights d >= 0 on one head's M features, fitted in closed form: the
/// linear weights Σ_m d_m φ_m(q) φ_m(k) of each query's linear keys (those
/// beyond a hybrid's window) against its exact softmax weights, least
/// squares over the calibration pairs (LinearizeFit.cpp). The normal
/// equations are kept for two folds, the even and the odd calibration
/// sequences, so that each fold can be measured with the weights fitted on
/// the other.
struct FeatureWeightFit {
  int64_t size = 0;
  /// Per fold: Σ a aᵀ over the pairs' products a (only the upper triangle,
  /// row-major [size, size]) and Σ a t, t the pair's exact weight.
  std::vector<double> gram[2], moment[2];
  /// log d per fold-out (fitted on the other fold) and on both folds.
  std::vector<double> logWeightsWithout[2], logWeights;

  explicit FeatureWeightFit(int64_t size);
  /// Solves the normal equations: a ridge toward d = 1 (Performer's own
  /// estimate) whose strength the folds choose, d >= 0 kept by fixing the
  /// features that would go negative at a floor.
  void solve();
};

/// The error that linearizing one attention with each of several feature
/// counts causes, measured on q, k, v the driver captured from the whole
/// model and the attention's own output there: the relative L2 distance
/// between the softmax output and Performer's, over every set given. With
/// `window` > 0 the hybrid's (tfm-linearize's window): the keys within the
/// window of each query keep their exact weights.
///
/// With `fit`, each count up to kMaxFittedFeatures is also measured with
/// fitted weights on its features: every set goes to addFitSet first, then
/// fit(), then every set again, in the same order, to addSet, which
/// measures each calibration sequence with the weights fitted on the other
/// half of them (out of sample).
class LinearizeErrorMeter {
public:
  /// nullopt when `attention` is not linearizable or `features` is empty.
  static std::optional<LinearizeErrorMeter>
  create(Operation *attention, llvm::ArrayRef<int64_t> features, uint64_t seed,
         int64_t layer, int64_t window = 0, bool fit = false);

  /// Whether the meter fits weights (then it needs addFitSet and fit()
  /// before addSet).
  bool fits() const { return !fitted.empty(); }
  /// One batch as the graph had it, q [batch, queries, heads * dk] and k
  /// [batch, keys, heads * dk], into the fits' normal equations.
  void addFitSet(const float *q, const float *k, int64_t batch, int64_t queries,
                 int64_t keys);
  void fit();

  /// One batch as the graph had it: q [batch, queries, heads * dk], k and v
  /// [batch, keys, heads * d], `output` [batch, queries, heads * dv].
  void addSet(const float *q, const float *k, const float *v,
              const float *output, int64_t batch, int64_t queries,
              int64_t keys);

  llvm::ArrayRef<int64_t> getFeatures() const { return features; }
  /// The drawn features' error, or (`fitted`) the fitted weights' (infinite
  /// for a count that was not fitted).
  double relativeError(size_t candidate, bool fitted = false) const;
  /// log d, [heads, M] row-major, fitted on every calibration sequence;
  /// empty for a count that was not fitted.
  std::vector<float> logWeights(size_t candidate) const;

private:
  LinearizeErrorMeter() = default;
  /// Adds sequence b's errors with the candidate's features as drawn and,
  /// when it was fitted, weighted by the weights fitted without `fold`.
  void measureSequence(size_t candidate, int fold, const float *q,
                       const float *k, const float *v, const float *output,
                       int64_t b, int64_t queries, int64_t keys);
  int64_t heads = 0, keyDim = 0, valueDim = 0, window = 0;
  double scale = 1;
  bool causal = false;
  std::vector<int64_t> features;
  std::vector<std::vector<float>> draws; // W per candidate
  std::vector<double> errorSquares, fittedErrorSquares;
  /// Per candidate, per head (empty for a count not fitted).
  std::vector<std::vector<FeatureWeightFit>> fitted;
  int64_t fitSequences = 0, measuredSequences = 0;
  double referenceSquares = 0;
};

} // namespace mlir::tfc

#endif // TFC_TRANSFORMS_LINEARIZE_H
