//===- Sparsity.h - the zeros in a model's weights --------------*- C++ -*-===//
//
// Models pruned while training arrive as dense weights full of zeros. What
// a sparse kernel can skip is whole blocks of them, so a weight is measured
// per block shape: the fraction of its blocks that are all zero. The shapes
// are those of the block-sparse kernels (docs/Pruning.md): blocks of one
// input row by 16 output columns (a vector of the output), 4 rows by 16,
// and 16 rows by one column.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_TRANSFORMS_SPARSITY_H
#define TFC_TRANSFORMS_SPARSITY_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace mlir::tfc {

/// A block of `rows` input rows (k) by `cols` output columns (n) of a
/// weight [K, N].
struct BlockShape {
  int64_t rows, cols;
};

/// The block shapes weights are measured in: 1x16, 4x16, 16x1.
ArrayRef<BlockShape> getSparseBlockShapes();

/// The zeros of one weight [K, N]: the fraction of its elements that are
/// zero, and for each of getSparseBlockShapes() the fraction of its blocks
/// that are all zero (blocks cut short at the edges count as blocks).
struct WeightSparsity {
  int64_t rows = 0, cols = 0;
  double zeros = 0;
  SmallVector<double, 3> blockZeros;
};

/// Measures `weight`, a 2-D f32 constant, as the [K, N] matrix a product
/// multiplies by (`transposed`: it is stored [N, K], as Gemm's transB
/// reads it). nullopt for anything else.
std::optional<WeightSparsity> measureSparsity(Value weight, bool transposed);

/// The same for `count` f32 values of a [rows, cols] matrix in memory.
WeightSparsity measureSparsity(ArrayRef<float> values, int64_t rows,
                               int64_t cols, bool transposed);

} // namespace mlir::tfc

#endif // TFC_TRANSFORMS_SPARSITY_H
