//===- LinearizeFit.cpp - feature weights fitted in closed form -----------===//
//
// Performer's estimate of a query's weight on a key is the mean over M
// random features, Σ_m φ_m(q) φ_m(k) / M: every feature counts the same,
// which is what makes it unbiased for any q and k. A trained layer's q and
// k are not any: on its calibration data some features estimate the
// exact weights far better than others. Giving each feature of a head a
// weight d_m >= 0,
//
//   Σ_m d_m φ_m(q) φ_m(k) ≈ exp(q' · k')   (on the features' scale),
//
// is linear in d, so d minimizing the squared error over the calibration
// pairs solves M x M normal equations. Each pair is divided by its query's
// exact sum, so that every query's row counts as its softmax does, and
// only the pairs the features weigh count (beyond a hybrid's window). The
// weights cost nothing at run time: log d_m is a bias on the queries'
// exponents (tfm-linearize adds it before the row maximum).
//
// Least squares over a few thousand pairs with M unknowns overfits, so the
// solve is a ridge toward d = 1 (Performer's estimate) whose strength is
// chosen by the two folds: each fold's fit scores on the other's normal
// equations. A feature whose weight would go negative (the estimate would
// not be a positive weight any more) is fixed at a small floor and the
// rest solved again.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Linearize.h"

#include <cmath>

using namespace mlir::tfc;

namespace {

/// The smallest weight a feature keeps (its log is the bias): small enough
/// that the feature no longer counts, large enough that its log is finite.
constexpr double kWeightFloor = 1e-4;

/// The ridge strengths the folds choose from, as fractions of the normal
/// matrix's mean diagonal.
constexpr double kRidgeStrengths[] = {1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0, 100.0};
/// The strength when there is one fold only (one calibration sequence).
constexpr double kDefaultRidge = 1e-2;

/// The full symmetric matrix of an upper triangle.
std::vector<double> symmetric(const std::vector<double> &upper, int64_t m) {
  std::vector<double> full(upper);
  for (int64_t r = 0; r < m; ++r)
    for (int64_t c = 0; c < r; ++c)
      full[r * m + c] = full[c * m + r];
  return full;
}

/// Solves a x = b for symmetric positive definite a [n, n] (Cholesky, in
/// place); false when a is not positive definite.
bool solveCholesky(std::vector<double> &a, std::vector<double> &b, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double *rowJ = &a[j * n];
    double diagonal = rowJ[j];
    for (int64_t p = 0; p < j; ++p)
      diagonal -= rowJ[p] * rowJ[p];
    if (!(diagonal > 0))
      return false;
    diagonal = std::sqrt(diagonal);
    rowJ[j] = diagonal;
    for (int64_t i = j + 1; i < n; ++i) {
      double *rowI = &a[i * n];
      double sum = rowI[j];
      for (int64_t p = 0; p < j; ++p)
        sum -= rowI[p] * rowJ[p];
      rowI[j] = sum / diagonal;
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    double sum = b[i];
    for (int64_t p = 0; p < i; ++p)
      sum -= a[i * n + p] * b[p];
    b[i] = sum / a[i * n + i];
  }
  for (int64_t i = n - 1; i >= 0; --i) {
    double sum = b[i];
    for (int64_t p = i + 1; p < n; ++p)
      sum -= a[p * n + i] * b[p];
    b[i] = sum / a[i * n + i];
  }
  return true;
}

/// d minimizing dᵀ G d - 2 rᵀ d + ridge |d - 1|² (ridge as a fraction of
/// G's mean diagonal) with d >= kWeightFloor; all ones when G is empty.
std::vector<double> solveWeights(const std::vector<double> &gram,
                                 const std::vector<double> &moment, int64_t m,
                                 double ridge) {
  std::vector<double> weights(m, 1.0);
  double trace = 0;
  for (int64_t i = 0; i < m; ++i)
    trace += gram[i * m + i];
  if (!(trace > 0))
    return weights;
  const double lambda = ridge * trace / static_cast<double>(m);
  std::vector<bool> fixed(m, false);
  // Each round fixes the features that went below the floor; a round
  // that fixes none is the answer (m rounds at most).
  for (int64_t round = 0; round < m; ++round) {
    std::vector<int64_t> free;
    for (int64_t i = 0; i < m; ++i)
      if (!fixed[i])
        free.push_back(i);
    const int64_t n = static_cast<int64_t>(free.size());
    if (n == 0)
      break;
    std::vector<double> a(n * n), b(n);
    for (int64_t r = 0; r < n; ++r) {
      const double *row = &gram[free[r] * m];
      b[r] = moment[free[r]] + lambda;
      for (int64_t c = 0; c < m; ++c)
        if (fixed[c])
          b[r] -= row[c] * kWeightFloor;
      for (int64_t c = 0; c < n; ++c)
        a[r * n + c] = row[free[c]];
      a[r * n + r] += lambda;
    }
    if (!solveCholesky(a, b, n))
      return std::vector<double>(m, 1.0);
    bool fixedMore = false;
    for (int64_t r = 0; r < n; ++r) {
      weights[free[r]] = b[r];
      if (b[r] < kWeightFloor) {
        fixed[free[r]] = true;
        weights[free[r]] = kWeightFloor;
        fixedMore = true;
      }
    }
    if (!fixedMore)
      break;
  }
  return weights;
}

/// dᵀ G d - 2 rᵀ d: the squared error of weights d on the pairs of G and r,
/// less a constant (the targets' squares).
double fitLoss(const std::vector<double> &gram,
               const std::vector<double> &moment,
               const std::vector<double> &weights, int64_t m) {
  double loss = 0;
  for (int64_t r = 0; r < m; ++r) {
    double row = 0;
    for (int64_t c = 0; c < m; ++c)
      row += gram[r * m + c] * weights[c];
    loss += weights[r] * (row - 2 * moment[r]);
  }
  return loss;
}

std::vector<double> logOf(const std::vector<double> &weights) {
  std::vector<double> logs(weights.size());
  for (size_t i = 0; i < weights.size(); ++i)
    logs[i] = std::log(weights[i]);
  return logs;
}

} // namespace

FeatureWeightFit::FeatureWeightFit(int64_t size) : size(size) {
  for (int fold = 0; fold < 2; ++fold) {
    gram[fold].assign(size * size, 0.0);
    moment[fold].assign(size, 0.0);
  }
}

void FeatureWeightFit::solve() {
  const int64_t m = size;
  std::vector<double> grams[2] = {symmetric(gram[0], m), symmetric(gram[1], m)};
  std::vector<double> both(m * m), bothMoment(m);
  for (int64_t i = 0; i < m * m; ++i)
    both[i] = grams[0][i] + grams[1][i];
  for (int64_t i = 0; i < m; ++i)
    bothMoment[i] = moment[0][i] + moment[1][i];
  auto isEmpty = [&](int fold) {
    for (int64_t i = 0; i < m; ++i)
      if (grams[fold][i * m + i] > 0)
        return false;
    return true;
  };
  if (isEmpty(0) || isEmpty(1)) {
    logWeights = logOf(solveWeights(both, bothMoment, m, kDefaultRidge));
    logWeightsWithout[0] = logWeightsWithout[1] = logWeights;
    return;
  }
  // The ridge whose fits score best on the fold they were not fitted on.
  double bestLoss = INFINITY, bestRidge = kDefaultRidge;
  std::vector<double> bestWithout[2];
  for (double ridge : kRidgeStrengths) {
    std::vector<double> without[2];
    double loss = 0;
    for (int fold = 0; fold < 2; ++fold) {
      without[fold] = solveWeights(grams[1 - fold], moment[1 - fold], m, ridge);
      loss += fitLoss(grams[fold], moment[fold], without[fold], m);
    }
    if (loss < bestLoss) {
      bestLoss = loss;
      bestRidge = ridge;
      bestWithout[0] = std::move(without[0]);
      bestWithout[1] = std::move(without[1]);
    }
  }
  logWeightsWithout[0] = logOf(bestWithout[0]);
  logWeightsWithout[1] = logOf(bestWithout[1]);
  logWeights = logOf(solveWeights(both, bothMoment, m, bestRidge));
}
