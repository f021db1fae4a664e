//===- LowRankUtils.cpp - low-rank factors of a linear's weight -----------===//
//
// See tfc/Transforms/LowRank.h. The SVD comes from the symmetric
// eigenproblem of the smaller Gram matrix (WᵀW or W Wᵀ, in double): its
// eigenvalues are the squared singular values, its eigenvectors the right
// (or left) singular vectors. That squares the condition number, which
// costs the smallest singular values their precision; truncation drops
// exactly those, so the factors keep what matters.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/LowRank.h"

#include "FusionUtils.h"
#include "tfc/Transforms/Quantization.h"
#include "tfc/Transforms/Sparsity.h"
#include "mlir/IR/BuiltinTypes.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

using namespace mlir::tfc;

namespace {

/// Reduces the symmetric `a` (n x n, row-major) to tridiagonal form by
/// Householder reflections, H = I - 2 v vᵀ one column at a time:
/// `diagonal` and `offDiagonal` (offDiagonal[i] couples i and i + 1) are
/// the result, `q` (n x n) the product of the reflections (Qᵀ A Q = T).
void tridiagonalize(std::vector<double> &a, int64_t n,
                    std::vector<double> &diagonal,
                    std::vector<double> &offDiagonal, std::vector<double> &q) {
  q.assign(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    q[i * n + i] = 1.0;
  std::vector<double> v(n), p(n);
  for (int64_t k = 0; k + 2 < n; ++k) {
    // The column below the diagonal becomes (alpha, 0, ..., 0).
    double norm = 0;
    for (int64_t i = k + 1; i < n; ++i)
      norm += a[i * n + k] * a[i * n + k];
    norm = std::sqrt(norm);
    if (norm == 0)
      continue;
    double alpha = a[(k + 1) * n + k] > 0 ? -norm : norm;
    double vNorm = 0;
    for (int64_t i = k + 1; i < n; ++i) {
      v[i] = a[i * n + k] - (i == k + 1 ? alpha : 0.0);
      vNorm += v[i] * v[i];
    }
    vNorm = std::sqrt(vNorm);
    if (vNorm == 0)
      continue;
    for (int64_t i = k + 1; i < n; ++i)
      v[i] /= vNorm;
    // A <- H A H on the trailing block: with p = A v and c = vᵀ p,
    // A - 2 v wᵀ - 2 w vᵀ where w = p - c v.
    double c = 0;
    for (int64_t i = k + 1; i < n; ++i) {
      double sum = 0;
      for (int64_t j = k + 1; j < n; ++j)
        sum += a[i * n + j] * v[j];
      p[i] = sum;
      c += v[i] * sum;
    }
    for (int64_t i = k + 1; i < n; ++i)
      p[i] -= c * v[i];
    for (int64_t i = k + 1; i < n; ++i)
      for (int64_t j = k + 1; j < n; ++j)
        a[i * n + j] -= 2 * (v[i] * p[j] + p[i] * v[j]);
    for (int64_t i = k + 2; i < n; ++i)
      a[i * n + k] = a[k * n + i] = 0.0;
    a[(k + 1) * n + k] = a[k * n + k + 1] = alpha;
    // Q <- Q H.
    for (int64_t row = 0; row < n; ++row) {
      double dot = 0;
      for (int64_t j = k + 1; j < n; ++j)
        dot += q[row * n + j] * v[j];
      for (int64_t j = k + 1; j < n; ++j)
        q[row * n + j] -= 2 * dot * v[j];
    }
  }
  diagonal.resize(n);
  offDiagonal.assign(n, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    diagonal[i] = a[i * n + i];
    if (i + 1 < n)
      offDiagonal[i] = a[(i + 1) * n + i];
  }
}

/// Diagonalizes the symmetric tridiagonal (diagonal, offDiagonal) by
/// implicit QL steps with Wilkinson-like shifts, rotating the columns of
/// `z` (n x n) along: the eigenvalues end on the diagonal, the
/// eigenvectors in z's columns.
void diagonalizeTridiagonal(std::vector<double> &d, std::vector<double> &e,
                            std::vector<double> &z, int64_t n) {
  const double eps = std::numeric_limits<double>::epsilon();
  for (int64_t l = 0; l < n; ++l) {
    for (int iteration = 0; iteration < 64; ++iteration) {
      // The first negligible coupling at or after l splits the matrix.
      int64_t m = l;
      for (; m + 1 < n; ++m)
        if (std::fabs(e[m]) <= eps * (std::fabs(d[m]) + std::fabs(d[m + 1])))
          break;
      if (m == l)
        break;
      // The shift: the eigenvalue of the leading 2 x 2 nearer d[l].
      double g = (d[l + 1] - d[l]) / (2.0 * e[l]);
      double r = std::hypot(g, 1.0);
      g = d[m] - d[l] + e[l] / (g + (g >= 0 ? r : -r));
      double s = 1.0, c = 1.0, p = 0.0;
      bool underflow = false;
      for (int64_t i = m - 1; i >= l; --i) {
        double f = s * e[i], b = c * e[i];
        r = std::hypot(f, g);
        e[i + 1] = r;
        if (r == 0.0) {
          d[i + 1] -= p;
          e[m] = 0.0;
          underflow = true;
          break;
        }
        s = f / r;
        c = g / r;
        g = d[i + 1] - p;
        r = (d[i] - g) * s + 2.0 * c * b;
        p = s * r;
        d[i + 1] = g + p;
        g = c * r - b;
        for (int64_t k = 0; k < n; ++k) {
          double zi = z[k * n + i], zi1 = z[k * n + i + 1];
          z[k * n + i + 1] = s * zi + c * zi1;
          z[k * n + i] = c * zi - s * zi1;
        }
      }
      if (underflow)
        continue;
      d[l] -= p;
      e[l] = g;
      e[m] = 0.0;
    }
  }
}

/// The Gram matrix of the smaller side: WᵀW [cols, cols] when depth >=
/// cols, else W Wᵀ [depth, depth].
std::vector<double> gramOfSmallerSide(llvm::ArrayRef<float> w, int64_t depth,
                                      int64_t cols, int64_t &n) {
  bool right = depth >= cols;
  n = right ? cols : depth;
  std::vector<double> gram(n * n, 0.0);
  if (right) {
    // Row by row of W: the inner loop runs along a row.
    for (int64_t k = 0; k < depth; ++k) {
      const float *row = w.data() + k * cols;
      for (int64_t i = 0; i < cols; ++i) {
        double x = row[i];
        if (x == 0)
          continue;
        double *out = gram.data() + i * n;
        for (int64_t j = 0; j < cols; ++j)
          out[j] += x * row[j];
      }
    }
  } else {
    for (int64_t i = 0; i < depth; ++i)
      for (int64_t j = i; j < depth; ++j) {
        double sum = 0;
        for (int64_t c = 0; c < cols; ++c)
          sum += double(w[i * cols + c]) * w[j * cols + c];
        gram[i * n + j] = gram[j * n + i] = sum;
      }
  }
  return gram;
}

/// Eigenvalues and eigenvectors of the smaller Gram matrix, descending.
void gramEigen(llvm::ArrayRef<float> w, int64_t depth, int64_t cols,
               int64_t &n, std::vector<double> &values,
               std::vector<double> &vectors) {
  std::vector<double> gram = gramOfSmallerSide(w, depth, cols, n);
  eigenSymmetric(std::move(gram), n, values, vectors);
}

} // namespace

void mlir::tfc::eigenSymmetric(std::vector<double> matrix, int64_t n,
                               std::vector<double> &values,
                               std::vector<double> &vectors) {
  std::vector<double> d, e, z;
  tridiagonalize(matrix, n, d, e, z);
  diagonalizeTridiagonal(d, e, z, n);
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int64_t a, int64_t b) { return d[a] > d[b]; });
  values.resize(n);
  vectors.assign(n * n, 0.0);
  for (int64_t j = 0; j < n; ++j) {
    values[j] = d[order[j]];
    for (int64_t i = 0; i < n; ++i)
      vectors[i * n + j] = z[i * n + order[j]];
  }
}

std::vector<double> mlir::tfc::singularValues(llvm::ArrayRef<float> weight,
                                              int64_t depth, int64_t cols) {
  int64_t n;
  std::vector<double> values, vectors;
  gramEigen(weight, depth, cols, n, values, vectors);
  for (double &value : values)
    value = std::sqrt(std::max(value, 0.0));
  return values;
}

int64_t mlir::tfc::rankForEnergy(llvm::ArrayRef<double> singularValues,
                                 double energy) {
  double total = 0;
  for (double s : singularValues)
    total += s * s;
  if (!(total > 0))
    return 0;
  double kept = 0;
  for (size_t r = 0; r < singularValues.size(); ++r) {
    kept += singularValues[r] * singularValues[r];
    if (kept >= energy * total)
      return r + 1;
  }
  return singularValues.size();
}

LowRankFactors mlir::tfc::factorLowRank(llvm::ArrayRef<float> w, int64_t depth,
                                        int64_t cols, int64_t rank) {
  int64_t n;
  std::vector<double> values, vectors;
  gramEigen(w, depth, cols, n, values, vectors);
  LowRankFactors factors;
  factors.rank = rank = std::clamp<int64_t>(rank, 0, n);
  for (double value : values)
    factors.singularValues.push_back(std::sqrt(std::max(value, 0.0)));
  factors.a.assign(depth * rank, 0.0f);
  factors.b.assign(rank * cols, 0.0f);
  if (depth >= cols) {
    // W ~ (W V_r) V_rᵀ: A = W V_r, B = V_rᵀ.
    for (int64_t k = 0; k < depth; ++k)
      for (int64_t r = 0; r < rank; ++r) {
        double sum = 0;
        for (int64_t j = 0; j < cols; ++j)
          sum += double(w[k * cols + j]) * vectors[j * n + r];
        factors.a[k * rank + r] = static_cast<float>(sum);
      }
    for (int64_t r = 0; r < rank; ++r)
      for (int64_t j = 0; j < cols; ++j)
        factors.b[r * cols + j] = static_cast<float>(vectors[j * n + r]);
  } else {
    // W ~ U_r (U_rᵀ W): A = U_r, B = U_rᵀ W.
    for (int64_t k = 0; k < depth; ++k)
      for (int64_t r = 0; r < rank; ++r)
        factors.a[k * rank + r] = static_cast<float>(vectors[k * n + r]);
    std::vector<double> row(cols);
    for (int64_t r = 0; r < rank; ++r) {
      std::fill(row.begin(), row.end(), 0.0);
      for (int64_t k = 0; k < depth; ++k) {
        double u = vectors[k * n + r];
        for (int64_t j = 0; j < cols; ++j)
          row[j] += u * w[k * cols + j];
      }
      for (int64_t j = 0; j < cols; ++j)
        factors.b[r * cols + j] = static_cast<float>(row[j]);
    }
  }
  return factors;
}

bool mlir::tfc::isLowRankFaster(int64_t depth, int64_t cols, int64_t rank) {
  return rank > 0 && 2 * rank * (depth + cols) <= depth * cols;
}

std::optional<std::vector<double>> mlir::tfc::getSingularValues(Value weight) {
  auto type = dyn_cast<RankedTensorType>(weight.getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape() ||
      !type.getElementType().isF32())
    return std::nullopt;
  std::optional<SmallVector<float>> values = getConstantFloats(weight);
  if (!values)
    return std::nullopt;
  return singularValues(*values, type.getDimSize(0), type.getDimSize(1));
}

int64_t mlir::tfc::getMaxFasterRank(int64_t depth, int64_t cols) {
  int64_t rank = depth + cols > 0 ? depth * cols / (2 * (depth + cols)) : 0;
  while (rank > 0 && !isLowRankFaster(depth, cols, rank))
    --rank;
  return rank;
}

std::optional<LowRankErrorMeter>
LowRankErrorMeter::create(Operation *linear, ArrayRef<int64_t> ranks) {
  if (ranks.empty() || !whyNotPrunable(linear).empty())
    return std::nullopt;
  LinearParts parts = *getLinearParts(linear);
  auto type = cast<RankedTensorType>(parts.weight.getType());
  LowRankErrorMeter meter;
  meter.depth = type.getDimSize(0);
  meter.cols = type.getDimSize(1);
  if (!readConstantFloats(parts.weight, meter.depth * meter.cols,
                          meter.weightInPlace, meter.weightCopy) ||
      !readLinearBias(parts.bias, meter.cols, meter.bias))
    return std::nullopt;
  meter.activation = parts.activation.str();
  meter.ranks.assign(ranks.begin(), ranks.end());
  std::sort(meter.ranks.begin(), meter.ranks.end());
  meter.factors = factorLowRank(meter.weight(), meter.depth, meter.cols,
                                meter.ranks.back());
  meter.errorSquares.assign(meter.ranks.size(), 0.0);
  return meter;
}

void LowRankErrorMeter::addRows(const float *input, int64_t rows) {
  ArrayRef<float> w = weight();
  const int64_t top = factors.rank;
  std::vector<double> reference(cols), y(cols), thin(top), factored(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float *x = input + r * depth;
    std::fill(reference.begin(), reference.end(), 0.0);
    std::fill(thin.begin(), thin.end(), 0.0);
    // k-outer: the inner loops run along rows of W and A.
    for (int64_t k = 0; k < depth; ++k) {
      double xk = x[k];
      const float *row = w.data() + k * cols;
      for (int64_t n = 0; n < cols; ++n)
        reference[n] += xk * row[n];
      const float *a = factors.a.data() + k * top;
      for (int64_t i = 0; i < top; ++i)
        thin[i] += xk * a[i];
    }
    for (int64_t n = 0; n < cols; ++n) {
      y[n] = applyLinearActivation(reference[n] + bias[n], activation);
      referenceSquares += y[n] * y[n];
    }
    // Component after component; at each rank, that rank's outputs.
    std::fill(factored.begin(), factored.end(), 0.0);
    int64_t done = 0;
    for (size_t c = 0; c < ranks.size(); ++c) {
      for (; done < std::min(ranks[c], top); ++done) {
        const float *b = factors.b.data() + done * cols;
        for (int64_t n = 0; n < cols; ++n)
          factored[n] += thin[done] * b[n];
      }
      for (int64_t n = 0; n < cols; ++n) {
        double yf = applyLinearActivation(factored[n] + bias[n], activation);
        errorSquares[c] += (yf - y[n]) * (yf - y[n]);
      }
    }
  }
}

double LowRankErrorMeter::relativeError(size_t i) const {
  if (referenceSquares <= 0)
    return errorSquares[i] > 0 ? INFINITY : 0.0;
  return std::sqrt(errorSquares[i] / referenceSquares);
}
