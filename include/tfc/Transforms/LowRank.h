//===- LowRank.h - low-rank factors of a linear's weight --------*- C++ -*-===//
//
// A weight W [K, N] whose singular values fall off fast is nearly the
// product of two thin matrices: W ~ A B with A [K, r] and B [r, N], from
// its SVD truncated to the r largest singular values. Two thin products
// cost r (K + N) multiply-adds per row where W costs K N. What the
// tfm-low-rank pass and the driver that measures it (tfc compile
// --low-rank) share.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_TRANSFORMS_LOWRANK_H
#define TFC_TRANSFORMS_LOWRANK_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::tfc {

/// The attribute by which a driver gives tfm-low-rank a linear's rank (an
/// i64; 0 keeps it whole).
inline constexpr char kLowRankAttr[] = "tfc.low_rank";

/// The factors of a matrix from its SVD: A [K, rank] and B [rank, N]
/// (row-major) with W ~ A B, and the singular values, largest first.
struct LowRankFactors {
  int64_t rank = 0;
  std::vector<float> a, b;
  std::vector<double> singularValues;
};

/// The eigenvalues (descending) and eigenvectors (columns of `vectors`,
/// row-major n x n, in the same order) of the symmetric n x n matrix
/// `matrix`: Householder reduction to tridiagonal form, then implicit QL.
void eigenSymmetric(std::vector<double> matrix, int64_t n,
                    std::vector<double> &values, std::vector<double> &vectors);

/// The singular values of `weight` [depth, cols] (row-major), largest first.
std::vector<double> singularValues(llvm::ArrayRef<float> weight, int64_t depth,
                                   int64_t cols);

/// The singular values of `weight`, a constant f32 [K, N] matrix; nullopt
/// when it is not one.
std::optional<std::vector<double>> getSingularValues(Value weight);

/// The smallest rank whose singular values hold `energy` (a fraction) of
/// the sum of their squares.
int64_t rankForEnergy(llvm::ArrayRef<double> singularValues, double energy);

/// `weight` [depth, cols] factored at `rank` (from the eigenvectors of the
/// smaller Gram matrix: WᵀW or W Wᵀ).
LowRankFactors factorLowRank(llvm::ArrayRef<float> weight, int64_t depth,
                             int64_t cols, int64_t rank);

/// Whether two products of `rank` are worth it against one [depth, cols]:
/// their multiply-adds at most half of the whole weight's (two thin
/// products run below the dense kernel's rate).
bool isLowRankFaster(int64_t depth, int64_t cols, int64_t rank);

/// The largest rank that isLowRankFaster allows for [depth, cols] (0 when
/// none does).
int64_t getMaxFasterRank(int64_t depth, int64_t cols);

/// The error factoring one linear at each of several ranks causes,
/// measured on inputs the driver captured from the whole model: the
/// relative L2 distance between act(x W + b) and act(x A_r B_r + b) over
/// every row given. The truncated SVDs are nested (rank r is the first r
/// components of the largest), so one factorization serves every rank.
class LowRankErrorMeter {
public:
  /// nullopt when `linear` is not a linear by a constant f32 matrix with a
  /// constant bias, or `ranks` is empty.
  static std::optional<LowRankErrorMeter> create(Operation *linear,
                                                 llvm::ArrayRef<int64_t> ranks);

  /// Adds `rows` rows of the linear's input ([rows, K], row-major).
  void addRows(const float *input, int64_t rows);

  /// The error at getRanks()[i] (0 before any row).
  double relativeError(size_t i) const;
  llvm::ArrayRef<int64_t> getRanks() const { return ranks; }

private:
  int64_t depth = 0, cols = 0;
  llvm::ArrayRef<float> weightInPlace; // a weights blob, read where it lies
  std::vector<float> weightCopy;       // or a copy of a small constant
  std::vector<float> bias;
  std::string activation;
  std::vector<int64_t> ranks; // ascending
  LowRankFactors factors;     // at the largest rank
  std::vector<double> errorSquares;
  double referenceSquares = 0;
  llvm::ArrayRef<float> weight() const {
    return weightCopy.empty() ? weightInPlace : llvm::ArrayRef<float>(weightCopy);
  }
};

} // namespace mlir::tfc

#endif // TFC_TRANSFORMS_LOWRANK_H
