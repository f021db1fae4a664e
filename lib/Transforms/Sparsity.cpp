//===- Sparsity.cpp - the zeros in a model's weights ----------------------===//

#include "tfc/Transforms/Sparsity.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Matchers.h"
#include "tfm/TfmOps.h"

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
