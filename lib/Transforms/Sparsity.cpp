//===- Sparsity.cpp - the zeros in a model's weights ----------------------===//

#include "tfc/Transforms/Sparsity.h"

#include "FusionUtils.h"
#include "tfc/Transforms/Quantization.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "tfm/TfmOps.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::tfc;

ArrayRef<BlockShape> mlir::tfc::getSparseBlockShapes() {
  static const BlockShape shapes[] = {{1, 16}, {4, 16}, {16, 1}};
  return shapes;
}

WeightSparsity mlir::tfc::measureSparsity(ArrayRef<float> values, int64_t rows,
                                          int64_t cols, bool transposed) {
  // As the product reads it: element (k, n) of [K, N].
  int64_t depth = transposed ? cols : rows, width = transposed ? rows : cols;
  auto at = [&](int64_t k, int64_t n) {
    return transposed ? values[n * cols + k] : values[k * cols + n];
  };
  WeightSparsity result;
  result.rows = depth;
  result.cols = width;
  int64_t zeros = 0;
  for (float value : values)
    zeros += value == 0.0f;
  result.zeros = values.empty() ? 0 : double(zeros) / double(values.size());
  for (BlockShape shape : getSparseBlockShapes()) {
    int64_t blocks = 0, empty = 0;
    for (int64_t k0 = 0; k0 < depth; k0 += shape.rows)
      for (int64_t n0 = 0; n0 < width; n0 += shape.cols) {
        ++blocks;
        bool allZero = true;
        for (int64_t k = k0; k < std::min(depth, k0 + shape.rows) && allZero; ++k)
          for (int64_t n = n0; n < std::min(width, n0 + shape.cols); ++n)
            if (at(k, n) != 0.0f) {
              allZero = false;
              break;
            }
        empty += allZero;
      }
    result.blockZeros.push_back(blocks ? double(empty) / double(blocks) : 0);
  }
  return result;
}

std::optional<WeightSparsity> mlir::tfc::measureSparsity(Value weight,
                                                         bool transposed) {
  Attribute attr;
  if (!matchPattern(weight, m_Constant(&attr)))
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(weight.getType());
  if (!type || type.getRank() != 2 || !type.getElementType().isF32() ||
      !type.hasStaticShape())
    return std::nullopt;
  ArrayRef<char> raw;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    std::optional<ArrayRef<char>> bytes = tfm::getWeightBytes(resource);
    if (!bytes)
      return std::nullopt;
    raw = *bytes;
  } else if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (dense.isSplat())
      return std::nullopt;
    raw = dense.getRawData();
  } else {
    return std::nullopt;
  }
  int64_t count = type.getNumElements();
  if (raw.size() != static_cast<size_t>(count) * sizeof(float))
    return std::nullopt;
  SmallVector<float> values(count);
  std::memcpy(values.data(), raw.data(), raw.size());
  return measureSparsity(values, type.getDimSize(0), type.getDimSize(1),
                         transposed);
}

//===----------------------------------------------------------------------===//
// Pruning
//===----------------------------------------------------------------------===//

StringRef mlir::tfc::getPruneScoreName(PruneScore score) {
  return score == PruneScore::Wanda ? "wanda" : "magnitude";
}

std::string mlir::tfc::formatBlockShape(BlockShape block) {
  return std::to_string(block.rows) + "x" + std::to_string(block.cols);
}

std::optional<PruneSpec> mlir::tfc::parsePruneSpec(StringRef text,
                                                   std::string &error) {
  SmallVector<StringRef, 3> parts;
  text.split(parts, ':');
  if (parts.size() < 2 || parts.size() > 3) {
    error = "expected SCORE:SPARSITY[:BLOCK], e.g. magnitude:0.8 or wanda:0.5:4x16";
    return std::nullopt;
  }
  PruneSpec spec;
  if (parts[0] == "magnitude") {
    spec.score = PruneScore::Magnitude;
  } else if (parts[0] == "wanda") {
    spec.score = PruneScore::Wanda;
  } else {
    error = "unknown score '" + parts[0].str() + "' (magnitude or wanda)";
    return std::nullopt;
  }
  // (StringRef::getAsDouble accepts "nan" and "inf"; the range check below
  // refuses them.)
  if (parts[1].getAsDouble(spec.sparsity) || !(spec.sparsity > 0.0) ||
      !(spec.sparsity < 1.0)) {
    error = "the sparsity '" + parts[1].str() +
            "' is not a fraction of blocks above 0 and below 1";
    return std::nullopt;
  }
  if (parts.size() == 3) {
    auto [rows, cols] = parts[2].split('x');
    unsigned r = 0, c = 0;
    if (rows.getAsInteger(10, r) || cols.getAsInteger(10, c) || r == 0 ||
        c == 0 || r > 256 || c > 256) {
      error = "the block '" + parts[2].str() +
              "' is not ROWSxCOLUMNS of 1 to 256 each (e.g. 1x16, 4x16, 16x1)";
      return std::nullopt;
    }
    spec.block = {r, c};
  }
  return spec;
}

std::string mlir::tfc::whyNotPrunable(Operation *op) {
  std::optional<LinearParts> parts = getLinearParts(op);
  if (!parts)
    return "not a linear";
  auto weightType = cast<RankedTensorType>(parts->weight.getType());
  if (!weightType.getElementType().isF32())
    return "not an f32 weight";
  if (weightType.getRank() != 2 || !weightType.hasStaticShape() ||
      weightType.getNumElements() == 0)
    return "the weight is not a matrix of static shape";
  Attribute attr;
  if (!matchPattern(parts->weight, m_Constant(&attr)) ||
      !getConstantFloats(parts->weight))
    return "the weight is not a constant";
  return "";
}

namespace {
/// Blocks of `block` over a [depth, cols] weight, per block row and in all.
int64_t blockColumns(int64_t cols, BlockShape block) {
  return (cols + block.cols - 1) / block.cols;
}
int64_t blockRows(int64_t depth, BlockShape block) {
  return (depth + block.rows - 1) / block.rows;
}

/// Calls `each(k, n)` for every element of block `index`.
template <typename Each>
void forEachInBlock(int64_t index, int64_t depth, int64_t cols,
                    BlockShape block, Each each) {
  int64_t perRow = blockColumns(cols, block);
  int64_t k0 = (index / perRow) * block.rows, n0 = (index % perRow) * block.cols;
  for (int64_t k = k0; k < std::min(depth, k0 + block.rows); ++k)
    for (int64_t n = n0; n < std::min(cols, n0 + block.cols); ++n)
      each(k, n);
}
} // namespace

std::vector<int64_t> mlir::tfc::rankBlocksForPruning(ArrayRef<float> weight,
                                                     int64_t depth, int64_t cols,
                                                     BlockShape block,
                                                     ArrayRef<float> inputNorms) {
  int64_t count = blockRows(depth, block) * blockColumns(cols, block);
  std::vector<double> score(count, 0.0);
  for (int64_t index = 0; index < count; ++index)
    forEachInBlock(index, depth, cols, block, [&](int64_t k, int64_t n) {
      double w = std::fabs(weight[k * cols + n]);
      score[index] += inputNorms.empty() ? w : w * inputNorms[k];
    });
  std::vector<int64_t> order(count);
  for (int64_t i = 0; i < count; ++i)
    order[i] = i;
  // NaN scores (a NaN weight) rank last: such a block is never the least
  // important.
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    double x = score[a], y = score[b];
    if (std::isnan(x) || std::isnan(y)) {
      if (std::isnan(x) != std::isnan(y))
        return std::isnan(y);
      return a < b;
    }
    return x < y || (x == y && a < b);
  });
  return order;
}

int64_t mlir::tfc::countPrunedBlocks(int64_t depth, int64_t cols,
                                     BlockShape block, double sparsity) {
  int64_t count = blockRows(depth, block) * blockColumns(cols, block);
  return std::clamp<int64_t>(std::llround(sparsity * count), 0, count);
}

void mlir::tfc::zeroBlocks(MutableArrayRef<float> weight, int64_t depth,
                           int64_t cols, BlockShape block,
                           ArrayRef<int64_t> order, int64_t count) {
  for (int64_t i = 0; i < count && i < static_cast<int64_t>(order.size()); ++i)
    forEachInBlock(order[i], depth, cols, block,
                   [&](int64_t k, int64_t n) { weight[k * cols + n] = 0.0f; });
}

std::optional<PruningErrorMeter>
PruningErrorMeter::create(Operation *linear, BlockShape block,
                          ArrayRef<float> inputNorms,
                          ArrayRef<double> sparsities) {
  if (!whyNotPrunable(linear).empty())
    return std::nullopt;
  LinearParts parts = *getLinearParts(linear);
  auto type = cast<RankedTensorType>(parts.weight.getType());
  PruningErrorMeter meter;
  meter.depth = type.getDimSize(0);
  meter.cols = type.getDimSize(1);
  meter.block = block;
  if (!inputNorms.empty() && static_cast<int64_t>(inputNorms.size()) != meter.depth)
    return std::nullopt;
  if (!readConstantFloats(parts.weight, meter.depth * meter.cols,
                          meter.weightInPlace, meter.weightCopy) ||
      !readLinearBias(parts.bias, meter.cols, meter.bias))
    return std::nullopt;
  meter.activation = parts.activation.str();
  meter.sparsities.assign(sparsities.begin(), sparsities.end());
  std::sort(meter.sparsities.begin(), meter.sparsities.end());
  for (double sparsity : meter.sparsities)
    meter.prunedCount.push_back(
        countPrunedBlocks(meter.depth, meter.cols, block, sparsity));
  meter.order = rankBlocksForPruning(meter.weight(), meter.depth, meter.cols,
                                     block, inputNorms);
  meter.order.resize(meter.prunedCount.empty() ? 0 : meter.prunedCount.back());
  meter.errorSquares.assign(meter.sparsities.size(), 0.0);
  return meter;
}

void PruningErrorMeter::addRows(const float *input, int64_t rows) {
  ArrayRef<float> w = weight();
  std::vector<double> reference(cols), removed(cols), y(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float *x = input + r * depth;
    std::fill(reference.begin(), reference.end(), 0.0);
    std::fill(removed.begin(), removed.end(), 0.0);
    // k-outer: the inner loop runs along a row of the weight.
    for (int64_t k = 0; k < depth; ++k) {
      double xk = x[k];
      const float *row = w.data() + k * cols;
      for (int64_t n = 0; n < cols; ++n)
        reference[n] += xk * row[n];
    }
    for (int64_t n = 0; n < cols; ++n) {
      y[n] = applyLinearActivation(reference[n] + bias[n], activation);
      referenceSquares += y[n] * y[n];
    }
    // The removed blocks' part of the product, in ranking order; at each
    // sparsity's count, that sparsity's outputs are the reference less it.
    size_t next = 0;
    auto measureUpTo = [&](int64_t done) {
      for (; next < prunedCount.size() && prunedCount[next] == done; ++next)
        for (int64_t n = 0; n < cols; ++n) {
          double yp = applyLinearActivation(reference[n] - removed[n] + bias[n],
                                            activation);
          errorSquares[next] += (yp - y[n]) * (yp - y[n]);
        }
    };
    measureUpTo(0);
    for (int64_t i = 0; i < static_cast<int64_t>(order.size()); ++i) {
      forEachInBlock(order[i], depth, cols, block, [&](int64_t k, int64_t n) {
        removed[n] += static_cast<double>(x[k]) * w[k * cols + n];
      });
      measureUpTo(i + 1);
    }
  }
}

double PruningErrorMeter::relativeError(size_t i) const {
  if (referenceSquares <= 0)
    return errorSquares[i] > 0 ? INFINITY : 0.0;
  return std::sqrt(errorSquares[i] / referenceSquares);
}

//===----------------------------------------------------------------------===//
// Structured pruning
//===----------------------------------------------------------------------===//

Value mlir::tfc::selectConstantSlices(OpBuilder &b, Location loc, Value value,
                                      int64_t axis, ArrayRef<int64_t> indices,
                                      StringRef suffix) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || !type.hasStaticShape() || type.getRank() < 1 || type.getRank() > 2 ||
      axis >= type.getRank() || !type.getElementType().isF32())
    return {};
  std::optional<SmallVector<float>> values = getConstantFloats(value);
  if (!values)
    return {};
  int64_t rows = type.getDimSize(0);
  int64_t cols = type.getRank() == 2 ? type.getDimSize(1) : 1;
  SmallVector<float> kept;
  SmallVector<int64_t> shape(type.getShape());
  shape[axis] = indices.size();
  if (axis == 0) {
    for (int64_t row : indices)
      kept.append(values->begin() + row * cols, values->begin() + (row + 1) * cols);
  } else {
    for (int64_t row = 0; row < rows; ++row)
      for (int64_t col : indices)
        kept.push_back((*values)[row * cols + col]);
  }
  std::string name = "slices";
  Attribute attr;
  if (matchPattern(value, m_Constant(&attr)))
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
      name = resource.getRawHandle().getKey().str();
  return createWeightConstant(
      b, loc, RankedTensorType::get(shape, b.getF32Type()),
      ArrayRef<char>(reinterpret_cast<const char *>(kept.data()),
                     kept.size() * sizeof(float)),
      name + suffix.str());
}

std::vector<double> mlir::tfc::getConstantNorms(Value matrix, int64_t axis) {
  auto type = dyn_cast<RankedTensorType>(matrix.getType());
  if (!type || type.getRank() != 2 || !type.hasStaticShape())
    return {};
  std::optional<SmallVector<float>> values = getConstantFloats(matrix);
  if (!values)
    return {};
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  std::vector<double> norms(axis == 0 ? rows : cols, 0.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      double v = (*values)[r * cols + c];
      norms[axis == 0 ? r : c] += v * v;
    }
  for (double &norm : norms)
    norm = std::sqrt(norm);
  return norms;
}

SmallVector<int64_t> mlir::tfc::keepMostImportant(ArrayRef<double> importance,
                                                  int64_t keep) {
  SmallVector<int64_t> order;
  for (int64_t i = 0, e = importance.size(); i < e; ++i)
    order.push_back(i);
  // NaN ranks first (kept): nothing is known to make it unimportant.
  auto key = [&](int64_t i) {
    return std::isnan(importance[i]) ? INFINITY : importance[i];
  };
  std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return key(a) > key(b) || (key(a) == key(b) && a < b);
  });
  order.resize(std::min<int64_t>(keep, order.size()));
  std::sort(order.begin(), order.end());
  return order;
}

RankedTensorType mlir::tfc::withLastDim(Type type, int64_t size) {
  auto ranked = cast<RankedTensorType>(type);
  SmallVector<int64_t> shape(ranked.getShape());
  if (!ShapedType::isDynamic(shape.back()))
    shape.back() = size;
  return RankedTensorType::get(shape, ranked.getElementType());
}

void mlir::tfc::copyDriverAttributes(Operation *from, Operation *to) {
  for (NamedAttribute attr : from->getAttrs())
    if (attr.getName().strref().starts_with("tfc."))
      to->setAttr(attr.getName(), attr.getValue());
}
