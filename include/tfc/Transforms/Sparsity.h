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

#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <string>
#include <vector>

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

//===----------------------------------------------------------------------===//
// Pruning: zeroing the least important blocks of a trained weight
// (--prune, the tfm-prune pass, and the driver that measures it).
//===----------------------------------------------------------------------===//

/// How a block's importance is scored.
enum class PruneScore {
  Magnitude, // the sum of its weights' magnitudes
  Wanda,     // the sum of |w[k, n]| x ||x_k|| (Wanda): weights that meet
             // large inputs matter more; needs calibration data
};

/// The attributes by which a driver gives tfm-prune a linear's calibrated
/// input channel norms (Wanda's scores; a dense f32 array of K) and its own
/// sparsity (an f64 float; 0: keep it dense).
constexpr StringLiteral kInputNormsAttr = "tfc.input_norms";
constexpr StringLiteral kPruneSparsityAttr = "tfc.prune_sparsity";

/// What --prune=SCORE:SPARSITY[:BLOCK] asks for: the fraction of each
/// layer's blocks to zero, and the block shape (1x16 by default: the
/// block-sparse kernel's; 4x16 zeroes whole 1x16 blocks too).
struct PruneSpec {
  PruneScore score = PruneScore::Magnitude;
  double sparsity = 0;
  BlockShape block = {1, 16};
};

/// Parses "magnitude:0.8", "wanda:0.5:4x16"; nullopt with `error` set
/// otherwise.
std::optional<PruneSpec> parsePruneSpec(StringRef text, std::string &error);
/// "magnitude", "wanda"; "4x16".
StringRef getPruneScoreName(PruneScore score);
std::string formatBlockShape(BlockShape block);

/// Why `op` cannot be pruned (not a linear by a constant f32 [K, N]
/// matrix), or "" when it can.
std::string whyNotPrunable(Operation *op);

/// The blocks of a [depth, cols] weight (row-major) in the order pruning
/// removes them, least important first (ties: the earlier block first).
/// A block's index is (k0 / block.rows) * blockColumns + n0 / block.cols.
/// `inputNorms` (one per row k, the Wanda score) may be empty: magnitude.
std::vector<int64_t> rankBlocksForPruning(ArrayRef<float> weight, int64_t depth,
                                          int64_t cols, BlockShape block,
                                          ArrayRef<float> inputNorms);

/// How many of a [depth, cols] weight's blocks `sparsity` zeroes
/// (rounded to nearest).
int64_t countPrunedBlocks(int64_t depth, int64_t cols, BlockShape block,
                          double sparsity);

/// Zeroes the first `count` blocks of `order` in `weight`.
void zeroBlocks(MutableArrayRef<float> weight, int64_t depth, int64_t cols,
                BlockShape block, ArrayRef<int64_t> order, int64_t count);

/// The error pruning causes in one linear, for several sparsities at once,
/// measured on inputs captured from the unpruned model: the relative L2
/// distance between act(x W + b) and act(x W' + b) over every row given,
/// W' the weight with its least important blocks zeroed. The sparsities'
/// pruned blocks nest (one ranking), so one pass over the removed blocks in
/// order measures them all.
class PruningErrorMeter {
public:
  /// nullopt when `linear` cannot be pruned or its bias is not constant.
  static std::optional<PruningErrorMeter>
  create(Operation *linear, BlockShape block, ArrayRef<float> inputNorms,
         ArrayRef<double> sparsities);

  /// Adds `rows` rows of the linear's input ([rows, K], row-major).
  void addRows(const float *input, int64_t rows);

  /// The error at sparsities[i] (0 before any row).
  double relativeError(size_t i) const;
  ArrayRef<double> getSparsities() const { return sparsities; }

private:
  int64_t depth = 0, cols = 0;
  BlockShape block = {1, 16};
  ArrayRef<float> weightInPlace; // a weights blob, read where it lies
  std::vector<float> weightCopy; // or a copy of a small inline constant
  std::vector<float> bias;
  std::string activation;
  std::vector<double> sparsities;   // ascending
  std::vector<int64_t> prunedCount; // blocks zeroed at each
  std::vector<int64_t> order;       // blocks, least important first
  std::vector<double> errorSquares;
  double referenceSquares = 0;
  ArrayRef<float> weight() const {
    return weightCopy.empty() ? weightInPlace : ArrayRef<float>(weightCopy);
  }
};

//===----------------------------------------------------------------------===//
// Structured pruning: whole FFN neurons and attention heads removed, the
// matrices made smaller (tfm-prune-ffn, tfm-prune-heads).
//===----------------------------------------------------------------------===//

/// A new constant holding the slices of `value` (a constant f32 tensor of
/// rank 1 or 2) at `indices` along `axis`, in their order; its blob named
/// after the source's with `suffix`. Null when `value` is not such a
/// constant.
Value selectConstantSlices(OpBuilder &b, Location loc, Value value, int64_t axis,
                           ArrayRef<int64_t> indices, StringRef suffix);

/// The L2 norm of each row (axis 0) or column (axis 1) of a constant f32
/// [K, N] matrix; empty when it cannot be read.
std::vector<double> getConstantNorms(Value matrix, int64_t axis);

/// `type` (a ranked tensor) with its last dim `size`, unless dynamic.
RankedTensorType withLastDim(Type type, int64_t size);

/// Carries a driver's attributes (tfc.*: calibrated norms, a layer's own
/// sparsity) from a rewritten op to its replacement.
void copyDriverAttributes(Operation *from, Operation *to);

/// The indices of the `keep` largest of `importance`, in increasing order
/// (ties: the earlier index).
SmallVector<int64_t> keepMostImportant(ArrayRef<double> importance, int64_t keep);

} // namespace mlir::tfc

#endif // TFC_TRANSFORMS_SPARSITY_H
