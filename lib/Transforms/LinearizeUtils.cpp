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

/// splitmix64: small, and the same sequence everywhere
/// (std::normal_distribution is not specified bit for bit), so a model
/// linearized on one machine is the model linearized on another.
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
  double uniform() {
    return (static_cast<double>(next() >> 11) + 0.5) / 9007199254740992.0;
  }
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
        w[(start + r) * dim + i] =
            static_cast<float>(block[r * dim + i] * length);
    }
  }
  return w;
}

std::string mlir::tfc::whyNotLinearizable(Operation *op) {
  auto attention = dyn_cast<tfm::AttentionOp>(op);
  if (!attention)
    return "not a tfm.attention";
  if (attention.getMask())
    return "it has a mask (padding masks are not carried into linear "
           "attention)";
  if (attention.getPrecision() != "f32")
    return "its products are " + attention.getPrecision().str();
  int64_t heads = static_cast<int64_t>(attention.getNumHeads());
  for (Value operand :
       {attention.getQuery(), attention.getKey(), attention.getValue()}) {
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

namespace {

/// One head of one sequence of a captured batch: where its rows are.
struct HeadRows {
  const float *q, *k, *v;
  int64_t dk, dv, heads, queries, keys, b, h;
  const float *query(int64_t i) const {
    return q + ((b * queries + i) * heads + h) * dk;
  }
  const float *key(int64_t j) const {
    return k + ((b * keys + j) * heads + h) * dk;
  }
  const float *value(int64_t j) const {
    return v + ((b * keys + j) * heads + h) * dv;
  }
  /// The key position of query i (queries are the last `queries` keys).
  int64_t position(int64_t i) const { return i + keys - queries; }
};

/// log φ of one row before the stabilizer, as tfm-linearize computes it
/// (x' = sqrt(scale) x): W x' - |x'|² / 2, plus `logWeights` when given.
void featureExponents(const float *x, const std::vector<float> &w, int64_t m,
                      int64_t dk, double root, const double *logWeights,
                      double *to) {
  double squares = 0;
  for (int64_t i = 0; i < dk; ++i)
    squares += root * x[i] * root * x[i];
  for (int64_t f = 0; f < m; ++f) {
    double dot = 0;
    for (int64_t i = 0; i < dk; ++i)
      dot += static_cast<double>(w[f * dk + i]) * root * x[i];
    to[f] = dot - squares / 2 + (logWeights ? logWeights[f] : 0.0);
  }
}

/// φ(k) of every key of a head, [keys, m], stabilized by one maximum for
/// the head (it cancels, as in the pass); returns that maximum.
double keyFeatures(const HeadRows &rows, const std::vector<float> &w, int64_t m,
                   double root, std::vector<double> &phi) {
  phi.resize(rows.keys * m);
  double keyMax = -INFINITY;
  for (int64_t j = 0; j < rows.keys; ++j) {
    featureExponents(rows.key(j), w, m, rows.dk, root, nullptr, &phi[j * m]);
    for (int64_t f = 0; f < m; ++f)
      keyMax = std::max(keyMax, phi[j * m + f]);
  }
  for (double &x : phi)
    x = std::exp(x - keyMax);
  return keyMax;
}

/// φ(q) of one query, stabilized by its own maximum; returns that maximum.
double queryFeatures(const float *q, const std::vector<float> &w, int64_t m,
                     int64_t dk, double root, const double *logWeights,
                     double *phi) {
  featureExponents(q, w, m, dk, root, logWeights, phi);
  double rowMax = *std::max_element(phi, phi + m);
  for (int64_t f = 0; f < m; ++f)
    phi[f] = std::exp(phi[f] - rowMax);
  return rowMax;
}

/// Adds x xᵀ's upper triangle to `gram` [m, m].
void addOuter(std::vector<double> &gram, const double *x, int64_t m) {
  for (int64_t r = 0; r < m; ++r) {
    double xr = x[r];
    double *row = &gram[r * m];
    for (int64_t c = r; c < m; ++c)
      row[c] += xr * x[c];
  }
}

} // namespace

std::optional<LinearizeErrorMeter>
LinearizeErrorMeter::create(Operation *op, llvm::ArrayRef<int64_t> features,
                            uint64_t seed, int64_t layer, int64_t window,
                            bool fit) {
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
    meter.draws.push_back(
        drawPerformerFeatures(meter.keyDim, count, seed, layer));
  meter.errorSquares.assign(features.size(), 0.0);
  meter.fittedErrorSquares.assign(features.size(), 0.0);
  if (fit) {
    meter.fitted.resize(features.size());
    for (auto [candidate, count] : llvm::enumerate(features))
      if (count <= kMaxFittedFeatures)
        meter.fitted[candidate].assign(meter.heads, FeatureWeightFit(count));
  }
  return meter;
}

void LinearizeErrorMeter::addFitSet(const float *q, const float *k,
                                    int64_t batch, int64_t queries,
                                    int64_t keys) {
  const double root = std::sqrt(scale);
  for (size_t c = 0; c < features.size(); ++c) {
    if (fitted[c].empty())
      continue;
    const int64_t m = features[c];
    const std::vector<float> &w = draws[c];
    const double logCount = std::log(static_cast<double>(m));
    std::vector<double> keyPhi, queryPhi(m), logits(keys), projection(m),
        gram(m * m), before(m * m), within(m * m), total(m * m);
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t h = 0; h < heads; ++h) {
        HeadRows rows{q,     k,       nullptr, keyDim, valueDim,
                      heads, queries, keys,    b,      h};
        FeatureWeightFit &fit = fitted[c][h];
        const int fold = static_cast<int>((fitSequences + b) % 2);
        const double keyMax = keyFeatures(rows, w, m, root, keyPhi);
        // The linear keys' Σ φ(k) φ(k)ᵀ for each query: causal, the keys
        // up to W behind it, added as the queries advance; not causal,
        // those W or more away on either side: the keys up to W behind
        // plus all those from W ahead (the total less a prefix).
        std::fill(before.begin(), before.end(), 0.0);
        std::fill(within.begin(), within.end(), 0.0);
        std::fill(total.begin(), total.end(), 0.0);
        if (!causal)
          for (int64_t j = 0; j < keys; ++j)
            addOuter(total, &keyPhi[j * m], m);
        int64_t addedBefore = 0, addedWithin = 0;
        for (int64_t i = 0; i < queries; ++i) {
          const int64_t position = rows.position(i);
          const int64_t lastBefore = std::min(keys - 1, position - window);
          for (; (causal || window > 0) && addedBefore <= lastBefore;
               ++addedBefore)
            addOuter(before, &keyPhi[addedBefore * m], m);
          const std::vector<double> *linearGram = &before;
          if (!causal && window > 0) {
            const int64_t lastWithin =
                std::min(keys - 1, position + window - 1);
            for (; addedWithin <= lastWithin; ++addedWithin)
              addOuter(within, &keyPhi[addedWithin * m], m);
            for (int64_t e = 0; e < m * m; ++e)
              gram[e] = before[e] + total[e] - within[e];
            linearGram = &gram;
          } else if (!causal) {
            linearGram = &total;
          }
          auto isLinear = [&](int64_t j) {
            if (window == 0)
              return true;
            return j <= position - window ||
                   (!causal && j >= position + window);
          };
          // The exact weights of the query's keys on the features' scale
          // (as the window's: exp(q' · k' + log M - c_q - c_k)), each
          // divided by their sum: each row's pairs weigh as its softmax.
          const float *qi = rows.query(i);
          const double rowMax =
              queryFeatures(qi, w, m, keyDim, root, nullptr, queryPhi.data());
          const int64_t lastKey =
              causal ? std::min(keys - 1, position) : keys - 1;
          double logSum = -INFINITY;
          for (int64_t j = 0; j <= lastKey; ++j) {
            const float *kj = rows.key(j);
            double dot = 0;
            for (int64_t d = 0; d < keyDim; ++d)
              dot += scale * static_cast<double>(qi[d]) * kj[d];
            logits[j] = dot + logCount - rowMax - keyMax;
            double high = std::max(logSum, logits[j]);
            logSum = high + std::log(std::exp(logSum - high) +
                                     std::exp(logits[j] - high));
          }
          std::fill(projection.begin(), projection.end(), 0.0);
          bool anyLinear = false;
          for (int64_t j = 0; j <= lastKey; ++j) {
            if (!isLinear(j))
              continue;
            anyLinear = true;
            double target = std::exp(logits[j] - logSum);
            for (int64_t f = 0; f < m; ++f)
              projection[f] += keyPhi[j * m + f] * target;
          }
          if (!anyLinear)
            continue;
          // The query's features over the same sum: a pair's product
          // φ(q)_m φ(k)_m / sum is then the row-normalized estimate.
          for (int64_t f = 0; f < m; ++f)
            queryPhi[f] *= std::exp(-logSum);
          std::vector<double> &foldGram = fit.gram[fold];
          for (int64_t r = 0; r < m; ++r) {
            fit.moment[fold][r] += queryPhi[r] * projection[r];
            const double *pairs = &(*linearGram)[r * m];
            double *row = &foldGram[r * m];
            for (int64_t col = r; col < m; ++col)
              row[col] += queryPhi[r] * queryPhi[col] * pairs[col];
          }
        }
      }
  }
  fitSequences += batch;
}

void LinearizeErrorMeter::fit() {
  for (std::vector<FeatureWeightFit> &perHead : fitted)
    for (FeatureWeightFit &fit : perHead)
      fit.solve();
}

std::vector<float> LinearizeErrorMeter::logWeights(size_t candidate) const {
  std::vector<float> weights;
  if (fitted.empty() || fitted[candidate].empty())
    return weights;
  for (const FeatureWeightFit &fit : fitted[candidate])
    weights.insert(weights.end(), fit.logWeights.begin(), fit.logWeights.end());
  return weights;
}

void LinearizeErrorMeter::measureSequence(size_t c, int fold, const float *q,
                                          const float *k, const float *v,
                                          const float *output, int64_t b,
                                          int64_t queries, int64_t keys) {
  const int64_t m = features[c];
  const std::vector<float> &w = draws[c];
  const double root = std::sqrt(scale);
  std::vector<double> keyPhi, queryPhi(m), state(m * valueDim), sums(m),
      numerator(valueDim);
  // A window key's exact weight on the features' scale: log M of it.
  const double windowOffset = std::log(static_cast<double>(m));
  // The keys' features and the state are the same for the drawn and the
  // fitted weights (those weigh the queries): one pass serves both.
  const bool isFitted = !fitted.empty() && !fitted[c].empty();
  for (int64_t h = 0; h < heads; ++h) {
    HeadRows rows{q, k, v, keyDim, valueDim, heads, queries, keys, b, h};
    const double keyMax = keyFeatures(rows, w, m, root, keyPhi);
    std::fill(state.begin(), state.end(), 0.0);
    std::fill(sums.begin(), sums.end(), 0.0);
    auto addKey = [&](int64_t j) {
      const float *vj = rows.value(j);
      for (int64_t f = 0; f < m; ++f) {
        double phi = keyPhi[j * m + f];
        sums[f] += phi;
        for (int64_t e = 0; e < valueDim; ++e)
          state[f * valueDim + e] += phi * vj[e];
      }
    };
    auto emitQuery = [&](int64_t i, const double *logWeights, double &errors,
                         bool reference) {
      const float *qi = rows.query(i);
      const double rowMax =
          queryFeatures(qi, w, m, keyDim, root, logWeights, queryPhi.data());
      double denominator = kLinearizeEpsilon;
      for (int64_t f = 0; f < m; ++f)
        denominator += queryPhi[f] * sums[f];
      for (int64_t e = 0; e < valueDim; ++e) {
        numerator[e] = 0;
        for (int64_t f = 0; f < m; ++f)
          numerator[e] += queryPhi[f] * state[f * valueDim + e];
      }
      // The window's keys: their exact weight on the features' scale,
      // exp(q'·k' + log M - rowMax - keyMax) (exponent capped at 88 as
      // the kernel caps it), in place of the features' estimate.
      int64_t position = rows.position(i);
      int64_t last = causal ? position : position + window - 1;
      for (int64_t j = std::max<int64_t>(0, position - window + 1);
           window > 0 && j <= std::min(last, keys - 1); ++j) {
        const float *kj = rows.key(j);
        double dot = 0, linear = 0;
        for (int64_t d = 0; d < keyDim; ++d)
          dot += scale * static_cast<double>(qi[d]) * kj[d];
        for (int64_t f = 0; f < m; ++f)
          linear += queryPhi[f] * keyPhi[j * m + f];
        double exact =
            std::exp(std::min(88.0, dot + windowOffset - rowMax - keyMax));
        const float *vj = rows.value(j);
        denominator += exact - linear;
        for (int64_t e = 0; e < valueDim; ++e)
          numerator[e] += (exact - linear) * vj[e];
      }
      const float *expected =
          output + ((b * queries + i) * heads + h) * valueDim;
      for (int64_t e = 0; e < valueDim; ++e) {
        double error = numerator[e] / denominator - expected[e];
        errors += error * error;
        if (reference)
          referenceSquares += static_cast<double>(expected[e]) * expected[e];
      }
    };
    // Out of sample: the fitted weights of the fold this sequence is not in.
    const double *fittedWeights =
        isFitted ? fitted[c][h].logWeightsWithout[fold].data() : nullptr;
    auto emitQueryBoth = [&](int64_t i) {
      emitQuery(i, nullptr, errorSquares[c], /*reference=*/c == 0);
      if (fittedWeights)
        emitQuery(i, fittedWeights, fittedErrorSquares[c], false);
    };
    if (causal) {
      // Queries are the last `queries` of the `keys` positions.
      for (int64_t j = 0; j < keys; ++j) {
        addKey(j);
        if (j >= keys - queries)
          emitQueryBoth(j - (keys - queries));
      }
    } else {
      for (int64_t j = 0; j < keys; ++j)
        addKey(j);
      for (int64_t i = 0; i < queries; ++i)
        emitQueryBoth(i);
    }
  }
}

void LinearizeErrorMeter::addSet(const float *q, const float *k, const float *v,
                                 const float *output, int64_t batch,
                                 int64_t queries, int64_t keys) {
  for (int64_t b = 0; b < batch; ++b) {
    // The sequence's fold: its fitted weights are those fitted on the other
    // (on both when there was one sequence).
    const int fold = static_cast<int>((measuredSequences + b) % 2);
    for (size_t c = 0; c < features.size(); ++c)
      measureSequence(c, fold, q, k, v, output, b, queries, keys);
  }
  measuredSequences += batch;
}

double LinearizeErrorMeter::relativeError(size_t candidate, bool fitted) const {
  if (fitted && (this->fitted.empty() || this->fitted[candidate].empty()))
    return INFINITY;
  double errors =
      fitted ? fittedErrorSquares[candidate] : errorSquares[candidate];
  if (referenceSquares <= 0)
    return errors > 0 ? INFINITY : 0.0;
  return std::sqrt(errors / referenceSquares);
}
