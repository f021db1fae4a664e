//===- Linearize.h - softmax attention as linear attention -------*- C++ -*-===//
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

/// The most random features a layer may take: the linear_attention
/// kernel's largest key dim.
constexpr int64_t kMaxLinearizeFeatures = 1024;

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

/// The error that linearizing one attention with each of several feature
/// counts causes, measured on q, k, v the driver captured from the whole
/// model and the attention's own output there: the relative L2 distance
/// between the softmax output and Performer's, over every set given. With
/// `window` > 0 the hybrid's (tfm-linearize's window): the keys within the
/// window of each query keep their exact weights.
class LinearizeErrorMeter {
public:
  /// nullopt when `attention` is not linearizable or `features` is empty.
  static std::optional<LinearizeErrorMeter>
  create(Operation *attention, llvm::ArrayRef<int64_t> features, uint64_t seed,
         int64_t layer, int64_t window = 0);

  /// One batch as the graph had it: q [batch, queries, heads * dk], k and v
  /// [batch, keys, heads * d], `output` [batch, queries, heads * dv].
  void addSet(const float *q, const float *k, const float *v,
              const float *output, int64_t batch, int64_t queries,
              int64_t keys);

  llvm::ArrayRef<int64_t> getFeatures() const { return features; }
  double relativeError(size_t candidate) const;

private:
  LinearizeErrorMeter() = default;
  int64_t heads = 0, keyDim = 0, valueDim = 0, window = 0;
  double scale = 1;
  bool causal = false;
  std::vector<int64_t> features;
  std::vector<std::vector<float>> draws; // W per candidate
  std::vector<double> errorSquares;
  double referenceSquares = 0;
};

} // namespace mlir::tfc

#endif // TFC_TRANSFORMS_LINEARIZE_H
