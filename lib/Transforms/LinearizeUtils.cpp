//===- LinearizeUtils.cpp - Performer features and their error -----------===//
//
// What tfm-linearize and tfc compile --linearize share (Linearize.h): the
// draw of the random features, the test of which attentions qualify, and
// the meter that measures a layer's error on captured q, k, v.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Linearize.h"

#include "tfm/TfmOps.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// splitmix64: small, and the same sequence everywhere (std::normal_distribution
/// is not specified bit for bit), so a model linearized on one machine is
/// the model linearized on another.
struct FeatureRandom {
  uint64_t state;
  explicit FeatureRandom(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Uniform in (0, 1).
  double uniform() { return (static_cast<double>(next() >> 11) + 0.5) / 9007199254740992.0; }
  /// Standard normal (Box-Muller; the radius's draw first: the two calls
  /// are sequenced, so every compiler draws the same).
  double normal() {
    double radius = std::sqrt(-2.0 * std::log(uniform()));
    return radius * std::cos(6.283185307179586 * uniform());
  }
};

} // namespace

std::vector<float> mlir::tfc::drawPerformerFeatures(int64_t dim,
                                                    int64_t features,
                                                    uint64_t seed,
                                                    int64_t layer) {
  FeatureRandom random(seed * 0x100000001b3ull + static_cast<uint64_t>(layer));
  std::vector<float> w(static_cast<size_t>(features * dim));
  std::vector<double> block(static_cast<size_t>(dim * dim));
  for (int64_t start = 0; start < features; start += dim) {
    for (double &x : block)
      x = random.normal();
    // Modified Gram-Schmidt on the block's rows: d orthonormal directions.
    for (int64_t r = 0; r < dim; ++r) {
      double *row = &block[r * dim];
      for (int64_t p = 0; p < r; ++p) {
        const double *prev = &block[p * dim];
        double dot = 0;
        for (int64_t i = 0; i < dim; ++i)
          dot += row[i] * prev[i];
        for (int64_t i = 0; i < dim; ++i)
          row[i] -= dot * prev[i];
      }
      double norm = 0;
      for (int64_t i = 0; i < dim; ++i)
        norm += row[i] * row[i];
      norm = std::sqrt(norm);
      for (int64_t i = 0; i < dim; ++i)
        row[i] /= norm;
    }
    // Each direction gets the length of a Gaussian vector, as an
    // unstructured draw's rows have.
    for (int64_t r = 0; r < dim && start + r < features; ++r) {
      double length = 0;
      for (int64_t i = 0; i < dim; ++i) {
        double g = random.normal();
        length += g * g;
      }
      length = std::sqrt(length);
      for (int64_t i = 0; i < dim; ++i)
        w[(start + r) * dim + i] = static_cast<float>(block[r * dim + i] * length);
    }
  }
  return w;
}

std::string mlir::tfc::whyNotLinearizable(Operation *op) {
  auto attention = dyn_cast<tfm::AttentionOp>(op);
  if (!attention)
    return "not a tfm.attention";
  if (attention.getMask())
    return "it has a mask (padding masks are not carried into linear attention)";
  if (attention.getPrecision() != "f32")
    return "its products are " + attention.getPrecision().str();
  int64_t heads = static_cast<int64_t>(attention.getNumHeads());
  for (Value operand : {attention.getQuery(), attention.getKey(),
                        attention.getValue()}) {
    auto type = dyn_cast<RankedTensorType>(operand.getType());
    if (!type || !type.getElementType().isF32())
      return "q, k and v are not f32";
    if (type.getRank() != 3)
      return "q, k and v are head-major (rank 4): not linearized yet";
    if (type.isDynamicDim(2) || type.getDimSize(2) % heads != 0)
      return "its head dims are not static";
  }
  auto keyType = cast<RankedTensorType>(attention.getKey().getType());
  auto queryType = cast<RankedTensorType>(attention.getQuery().getType());
  if (keyType.getDimSize(2) != queryType.getDimSize(2))
    return "its keys have fewer heads than its queries (grouped-query)";
  return "";
}

std::optional<LinearizeErrorMeter>
LinearizeErrorMeter::create(Operation *op, llvm::ArrayRef<int64_t> features,
                            uint64_t seed, int64_t layer, int64_t window) {
  if (!whyNotLinearizable(op).empty() || features.empty())
    return std::nullopt;
  auto attention = cast<tfm::AttentionOp>(op);
  LinearizeErrorMeter meter;
  meter.heads = static_cast<int64_t>(attention.getNumHeads());
  meter.keyDim =
      cast<RankedTensorType>(attention.getKey().getType()).getDimSize(2) /
      meter.heads;
  meter.valueDim =
      cast<RankedTensorType>(attention.getValue().getType()).getDimSize(2) /
      meter.heads;
  meter.scale = attention.getScale().convertToDouble();
  meter.causal = attention.getCausal();
  meter.window = window;
  meter.features.assign(features.begin(), features.end());
  for (int64_t count : features)
    meter.draws.push_back(drawPerformerFeatures(meter.keyDim, count, seed, layer));
  meter.errorSquares.assign(features.size(), 0.0);
  return meter;
}

void LinearizeErrorMeter::addSet(const float *q, const float *k,
                                 const float *v, const float *output,
                                 int64_t batch, int64_t queries,
                                 int64_t keys) {
  const int64_t dk = keyDim, dv = valueDim;
  const int64_t width = heads * dk, valueWidth = heads * dv;
  const double root = std::sqrt(scale);
  for (size_t c = 0; c < features.size(); ++c) {
    const int64_t m = features[c];
    const std::vector<float> &w = draws[c];
    // φ of one row (scaled by sqrt(scale), as the pass scales q and k)
    // before the stabilizer: W x - |x|² / 2.
    auto exponents = [&](const float *x, double *to) {
      double squares = 0;
      for (int64_t i = 0; i < dk; ++i)
        squares += root * x[i] * root * x[i];
      for (int64_t f = 0; f < m; ++f) {
        double dot = 0;
        for (int64_t i = 0; i < dk; ++i)
          dot += static_cast<double>(w[f * dk + i]) * root * x[i];
        to[f] = dot - squares / 2;
      }
    };
    std::vector<double> keyPhi(keys * m), queryPhi(m), state(m * dv), sums(m),
        numerator(dv);
    // A window key's exact weight on the features' scale: log M of it.
    const double windowOffset = std::log(static_cast<double>(m));
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t h = 0; h < heads; ++h) {
        // Keys: one stabilizer for the whole head (it cancels).
        double keyMax = -INFINITY;
        for (int64_t j = 0; j < keys; ++j) {
          exponents(k + (b * keys + j) * width + h * dk, &keyPhi[j * m]);
          for (int64_t f = 0; f < m; ++f)
            keyMax = std::max(keyMax, keyPhi[j * m + f]);
        }
        for (double &x : keyPhi)
          x = std::exp(x - keyMax);
        std::fill(state.begin(), state.end(), 0.0);
        std::fill(sums.begin(), sums.end(), 0.0);
        auto addKey = [&](int64_t j) {
          const float *vj = v + (b * keys + j) * valueWidth + h * dv;
          for (int64_t f = 0; f < m; ++f) {
            double phi = keyPhi[j * m + f];
            sums[f] += phi;
            for (int64_t e = 0; e < dv; ++e)
              state[f * dv + e] += phi * vj[e];
          }
        };
        auto emitQuery = [&](int64_t i) {
          const float *qi = q + (b * queries + i) * width + h * dk;
          exponents(qi, queryPhi.data());
          double rowMax = *std::max_element(queryPhi.begin(), queryPhi.end());
          double denominator = kLinearizeEpsilon;
          for (int64_t f = 0; f < m; ++f) {
            queryPhi[f] = std::exp(queryPhi[f] - rowMax);
            denominator += queryPhi[f] * sums[f];
          }
          for (int64_t e = 0; e < dv; ++e) {
            numerator[e] = 0;
            for (int64_t f = 0; f < m; ++f)
              numerator[e] += queryPhi[f] * state[f * dv + e];
          }
          // The window's keys: their exact weight on the features' scale,
          // exp(q'·k' + log M - rowMax - keyMax) (exponent capped at 88 as
          // the kernel caps it), in place of the features' estimate.
          int64_t position = i + keys - queries;
          int64_t last = causal ? position : position + window - 1;
          for (int64_t j = std::max<int64_t>(0, position - window + 1);
               window > 0 && j <= std::min(last, keys - 1); ++j) {
            const float *kj = k + (b * keys + j) * width + h * dk;
            double dot = 0, linear = 0;
            for (int64_t d = 0; d < dk; ++d)
              dot += scale * static_cast<double>(qi[d]) * kj[d];
            for (int64_t f = 0; f < m; ++f)
              linear += queryPhi[f] * keyPhi[j * m + f];
            double exact =
                std::exp(std::min(88.0, dot + windowOffset - rowMax - keyMax));
            const float *vj = v + (b * keys + j) * valueWidth + h * dv;
            denominator += exact - linear;
            for (int64_t e = 0; e < dv; ++e)
              numerator[e] += (exact - linear) * vj[e];
          }
          const float *reference = output + (b * queries + i) * valueWidth + h * dv;
          for (int64_t e = 0; e < dv; ++e) {
            double error = numerator[e] / denominator - reference[e];
            errorSquares[c] += error * error;
            if (c == 0)
              referenceSquares += static_cast<double>(reference[e]) * reference[e];
          }
        };
        if (causal) {
          // Queries are the last `queries` of the `keys` positions.
          for (int64_t j = 0; j < keys; ++j) {
            addKey(j);
            if (j >= keys - queries)
              emitQuery(j - (keys - queries));
          }
        } else {
          for (int64_t j = 0; j < keys; ++j)
            addKey(j);
          for (int64_t i = 0; i < queries; ++i)
            emitQuery(i);
        }
      }
  }
}

double LinearizeErrorMeter::relativeError(size_t candidate) const {
  if (referenceSquares <= 0)
    return errorSquares[candidate] > 0 ? INFINITY : 0.0;
  return std::sqrt(errorSquares[candidate] / referenceSquares);
}
