//===- SinkTransposes.cpp - the tfm-sink-transposes pass ------------------===//
//
// Models written sequence-first (PyTorch's nn.TransformerEncoder without
// batch_first, as torchvision's ViT) go from [B, L, D] to [L, B, D] around
// every attention block, and the attention fusion takes its operands back to
// [B, L, D]. Each layer then copies the hidden state six times:
//
//   x -> transpose -> linear (QKV) -> split -> 3 x transpose -> attention
//     -> transpose -> linear (out) -> transpose -> residual add
//
// A matmul by a weight, a bias add and a split or slice along the last dim
// work row by row, so they commute with any transpose that keeps the last
// dim in place (and unary elementwise ops, activations, with any): matmul(transpose(x), W) is transpose(matmul(x, W)). This pass moves such a transpose down through
// them until it meets its inverse, where both vanish. It moves one only
// when every path from it ends in an inverse transpose, so it never adds a
// copy (a transpose moved past a matmul would otherwise copy N columns
// instead of K). It runs after the epilogue fusion has made the exporters'
// reshape-Gemm-reshape projections linears, and the epilogue fusion runs
// again after it for the residual adds it brings next to their linears.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Passes.h"

#include "FusionUtils.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/TypeSwitch.h"
#include "tfm/TfmOps.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_SINKTRANSPOSES
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// Whether `second` undoes `first`: second[first[i]]... composes to the
/// identity.
bool isInverse(ArrayRef<int64_t> first, ArrayRef<int64_t> second) {
  if (first.size() != second.size())
    return false;
  for (auto [i, p] : llvm::enumerate(second))
    if (first[p] != (int64_t)i)
      return false;
  return true;
}

/// All dims of `a` and `b` but `skip` are the same (static or `?` alike).
bool sameDimsExcept(RankedTensorType a, RankedTensorType b, int64_t skip) {
  if (a.getRank() != b.getRank())
    return false;
  for (int64_t i = 0; i < a.getRank(); ++i)
    if (i != skip && a.getDimSize(i) != b.getDimSize(i))
      return false;
  return true;
}

RankedTensorType typeOf(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// Whether `op` is a unary elementwise op, which commutes with every
/// transpose (an activation between a conv rewritten as a matmul and the
/// transpose back to channels-first).
bool isUnaryElementwise(Operation *op) {
  return isa<tfm::GeluOp, tfm::ReluOp, tfm::SigmoidOp, tfm::TanhOp, tfm::ErfOp,
             tfm::ExpOp, tfm::NegOp, tfm::AbsOp, tfm::SqrtOp, tfm::EluOp,
             tfm::LeakyReluOp, tfm::HardSwishOp, tfm::HardSigmoidOp,
             tfm::MishOp, tfm::SoftplusOp, tfm::IdentityOp>(op);
}

/// Whether the transpose `perm` keeps the last dim in place, as moving it
/// past a row-wise op needs.
bool keepsLastDim(ArrayRef<int64_t> perm) {
  return !perm.empty() && perm.back() == (int64_t)perm.size() - 1;
}

/// Whether `op` works row by row on `input` (one of its operands) along
/// the last dim, so that it commutes with a transpose of `input` that keeps
/// the last dim in place: a linear or a matmul by a matrix on their input,
/// an arithmetic op with a vector or scalar (a bias), a split or a slice
/// along the last dim. Each result's other dims must follow the input's
/// exactly, so that the moved op's types are the old ones permuted.
bool isRowWise(Operation *op, Value input) {
  int64_t rank = typeOf(input).getRank();
  auto onLastDim = [&](int64_t axis) {
    std::optional<int64_t> normalized = tfm::normalizeAxis(axis, rank);
    return normalized && *normalized == rank - 1;
  };
  bool rowWise =
      llvm::TypeSwitch<Operation *, bool>(op)
          .Case([&](tfm::LinearOp linear) {
            return linear.getInput() == input && linear.getWeight() != input &&
                   linear.getBias() != input && !linear.getResidual();
          })
          .Case([&](tfm::MatMulOp matmul) {
            return matmul.getLhs() == input && matmul.getRhs() != input &&
                   typeOf(matmul.getRhs()).getRank() == 2;
          })
          .Case<tfm::AddOp, tfm::SubOp, tfm::MulOp, tfm::DivOp>(
              [&](Operation *arith) {
                Value other = arith->getOperand(0) == input
                                  ? arith->getOperand(1)
                                  : arith->getOperand(0);
                return other != input && typeOf(other).getRank() <= 1;
              })
          .Case([&](tfm::SplitOp split) { return onLastDim(split.getAxis()); })
          .Case([&](tfm::SliceOp slice) {
            FailureOr<SmallVector<int64_t>> axes =
                tfm::getConstantIntValues(slice.getAxes());
            return slice.getInput() == input && succeeded(axes) &&
                   llvm::all_of(*axes, onLastDim);
          })
          .Default([](Operation *) { return false; });
  return rowWise && llvm::all_of(op->getResults(), [&](Value result) {
           return sameDimsExcept(typeOf(input), typeOf(result), rank - 1);
         });
}

/// `type` with its dims put back where transpose(·, perm) took them from.
RankedTensorType permutedBack(RankedTensorType type, ArrayRef<int64_t> perm) {
  SmallVector<int64_t> shape(type.getRank());
  for (auto [i, p] : llvm::enumerate(perm))
    shape[p] = type.getDimSize(i);
  return type.clone(shape);
}

/// Whether every use of `value`, read as transpose(source, perm), reaches a
/// transpose that undoes `perm` through row-wise ops only.
bool endsInInverse(Value value, ArrayRef<int64_t> perm) {
  for (Operation *user : value.getUsers()) {
    if (auto transpose = dyn_cast<tfm::TransposeOp>(user)) {
      if (!isInverse(perm, transpose.getPerm()))
        return false;
      continue;
    }
    // Exporters read dims off the transposed value; those are the source's
    // dims, permuted (see sinkInto).
    if (auto shape = dyn_cast<tfm::ShapeOp>(user)) {
      if (shape.getStart() > shape.getEnd() || shape.getEnd() > perm.size())
        return false;
      continue;
    }
    if (!isUnaryElementwise(user) && !(keepsLastDim(perm) && isRowWise(user, value)))
      return false;
    for (Value result : user->getResults())
      if (!endsInInverse(result, perm))
        return false;
  }
  return true;
}

/// Rewrites the users of `transposed` (= transpose(source, perm)) on
/// `source`: row-wise ops are cloned onto it, with their result types
/// permuted back, and their results followed; inverse transposes are
/// replaced by it (and added to `erased`). endsInInverse held.
void sinkInto(Value transposed, Value source, ArrayRef<int64_t> perm,
              DenseSet<Operation *> &erased) {
  for (Operation *user : llvm::make_early_inc_range(transposed.getUsers())) {
    if (isa<tfm::TransposeOp>(user)) {
      user->getResult(0).replaceAllUsesWith(source);
      erased.insert(user);
      user->erase();
      continue;
    }
    OpBuilder b(user);
    if (auto shape = dyn_cast<tfm::ShapeOp>(user)) {
      // shape(transpose(x))[start:end] = shape(x)[perm[start:end]].
      Location loc = shape.getLoc();
      int64_t rank = perm.size();
      Value whole = b.create<tfm::ShapeOp>(loc, source, b.getI64IntegerAttr(0),
                                           b.getI64IntegerAttr(rank));
      ArrayRef<int64_t> picked =
          perm.slice(shape.getStart(), shape.getEnd() - shape.getStart());
      auto indicesType =
          RankedTensorType::get({(int64_t)picked.size()}, b.getI64Type());
      Value indices = b.create<tfm::ConstantOp>(
          loc, DenseIntElementsAttr::get(indicesType, picked));
      Value dims = b.create<tfm::GatherOp>(loc, whole, indices,
                                           b.getI64IntegerAttr(0));
      shape.getResult().replaceAllUsesWith(dims);
      shape.erase();
      continue;
    }
    Operation *moved = b.clone(*user);
    for (OpOperand &operand : moved->getOpOperands())
      if (operand.get() == transposed)
        operand.set(source);
    for (Value result : moved->getResults())
      result.setType(permutedBack(typeOf(result), perm));
    for (auto [old, result] :
         llvm::zip_equal(user->getResults(), moved->getResults()))
      sinkInto(old, result, perm, erased);
    user->erase();
  }
}

/// A transpose, a reshape that flattens its trailing dims, and a transpose
/// that puts the dims back: ViT's patch embedding, whose conv result (NCHW,
/// from tfm-conv-to-matmul's [B, H, W, C] by perm [0, 3, 1, 2]) is
/// flattened to [B, C, H W] and transposed to [B, H W, C]. When the dims
/// the reshape merges come from consecutive dims of the source, in order,
/// the whole is a reshape of the source (no copy), which replaces `last`.
/// Returns whether it did.
bool foldFlattenedRoundTrip(tfm::TransposeOp last) {
  auto reshape = last.getInput().getDefiningOp<tfm::ReshapeOp>();
  auto first = reshape ? reshape.getInput().getDefiningOp<tfm::TransposeOp>()
                       : tfm::TransposeOp();
  if (!first)
    return false;
  RankedTensorType sourceType = typeOf(first.getInput());
  int64_t rank = sourceType.getRank();
  int64_t kept = typeOf(reshape.getResult()).getRank() - 1;
  ArrayRef<int64_t> firstPerm = first.getPerm();
  if (kept < 1 || kept >= rank - 1 || !reshapeKeepsLeadingDims(reshape, kept))
    return false;
  // The merged dims [kept, rank) of the transposed value must be source dims
  // groupStart, groupStart + 1, ..., in that order.
  int64_t groupStart = firstPerm[kept], groupSize = rank - kept;
  for (int64_t i = kept; i < rank; ++i)
    if (firstPerm[i] != groupStart + (i - kept))
      return false;
  // Source dim d as a dim of the source with the group merged.
  auto merged = [&](int64_t d) {
    return d < groupStart ? d : d < groupStart + groupSize ? groupStart
                                                           : d - groupSize + 1;
  };
  // The reshape's dim i is merged-source dim mergedPerm[i]; `last` must
  // take them back to merged-source order.
  SmallVector<int64_t> mergedPerm;
  for (int64_t i = 0; i < kept; ++i)
    mergedPerm.push_back(merged(firstPerm[i]));
  mergedPerm.push_back(groupStart);
  ArrayRef<int64_t> lastPerm = last.getPerm();
  for (auto [j, p] : llvm::enumerate(lastPerm))
    if (mergedPerm[p] != (int64_t)j)
      return false;
  // The target shape: a dynamic dim before the group is copied (0, same
  // index); the group is its product or -1; the dims after it are static.
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < groupStart; ++d)
    shape.push_back(sourceType.isDynamicDim(d) ? 0 : sourceType.getDimSize(d));
  int64_t product = 1;
  for (int64_t d = groupStart; d < groupStart + groupSize; ++d)
    product = sourceType.isDynamicDim(d) || product < 0
                  ? -1
                  : product * sourceType.getDimSize(d);
  shape.push_back(product);
  for (int64_t d = groupStart + groupSize; d < rank; ++d) {
    if (sourceType.isDynamicDim(d))
      return false;
    shape.push_back(sourceType.getDimSize(d));
  }
  OpBuilder b(last);
  auto shapeType = RankedTensorType::get({(int64_t)shape.size()}, b.getI64Type());
  Value shapeValue = b.create<tfm::ConstantOp>(
      last.getLoc(), shapeType, DenseIntElementsAttr::get(shapeType, shape));
  Value replacement = b.create<tfm::ReshapeOp>(
      last.getLoc(), last.getType(), first.getInput(), shapeValue);
  last.replaceAllUsesWith(replacement);
  last.erase();
  return true;
}

struct SinkTransposesPass
    : public tfc::impl::SinkTransposesBase<SinkTransposesPass> {
  void runOnOperation() override {
    SmallVector<tfm::TransposeOp> candidates;
    getOperation().walk([&](tfm::TransposeOp transpose) {
      if (!transpose.getPerm().empty())
        candidates.push_back(transpose);
    });
    // A candidate may be erased as another's inverse; look each up again.
    DenseSet<Operation *> erased;
    for (tfm::TransposeOp transpose : candidates) {
      if (erased.contains(transpose))
        continue;
      Value result = transpose.getResult();
      if (result.use_empty() || !endsInInverse(result, transpose.getPerm()))
        continue;
      SmallVector<int64_t> perm(transpose.getPerm());
      sinkInto(result, transpose.getInput(), perm, erased);
      transpose.erase();
      ++numSunk;
    }
    SmallVector<tfm::TransposeOp> transposes;
    getOperation().walk(
        [&](tfm::TransposeOp transpose) { transposes.push_back(transpose); });
    // A fold erases only the transpose it visits; the first transpose and
    // the shape reads feeding the flatten go with the dead code after.
    bool folded = false;
    for (tfm::TransposeOp transpose : transposes)
      if (foldFlattenedRoundTrip(transpose)) {
        numFolded += 2;
        folded = true;
      }
    if (folded) {
      IRRewriter rewriter(&getContext());
      (void)runRegionDCE(rewriter, getOperation()->getRegions());
    }
  }
};

} // namespace
