//===- FuseEpilogues.cpp - the tfm-fuse-epilogues pass --------------------===//
//
// A transformer's dense layers are MatMul, then Add of the bias, maybe an
// activation (GELU in the MLP), maybe Add of the residual. Unfused, each op
// reads and writes the whole [tokens, N] output; fused into tfm.linear, the
// output is written by the product and touched once more at most. The pass
// anchors on each MatMul by a 2-D weight and takes, in order, each of these
// that is the only user of what came before:
//
//   Add of a [N] bias  ->  Relu or Gelu  ->  Add of a result-shaped residual
//
//===----------------------------------------------------------------------===//

#include "FusionUtils.h"
#include "tfc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringExtras.h"
#include "mlir/Transforms/RegionUtils.h"
#include "tfm/TfmOps.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSEEPILOGUES
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

struct FuseEpiloguesPass
    : public tfc::impl::FuseEpiloguesBase<FuseEpiloguesPass> {
  using FuseEpiloguesBase::FuseEpiloguesBase;

  void runOnOperation() override {
    FusionRemarks remarks("epilogue", emitRemarks);
    SmallVector<tfm::MatMulOp> matmuls;
    getOperation().walk([&](tfm::MatMulOp op) { matmuls.push_back(op); });
    for (tfm::MatMulOp matmul : matmuls)
      if (succeeded(fuse(matmul, remarks)))
        ++numEpilogues;
    IRRewriter rewriter(&getContext());
    (void)runRegionDCE(rewriter, getOperation()->getRegions());
  }

  LogicalResult fuse(tfm::MatMulOp matmul, const FusionRemarks &remarks) {
    auto weightType = cast<RankedTensorType>(matmul.getRhs().getType());
    auto inputType = cast<RankedTensorType>(matmul.getLhs().getType());
    if (weightType.getRank() != 2 || inputType.getRank() < 2 ||
        !isa<FloatType>(inputType.getElementType()))
      return failure(); // batched products (attention's) are not dense layers
    Type resultType = matmul.getType();
    Value current = matmul.getResult();
    Value bias, residual;
    StringRef activation = "none";
    SmallVector<StringRef> parts;

    if (auto add = dyn_cast_or_null<tfm::AddOp>(getSingleUser(current))) {
      Value other = getOtherOperand(add, current);
      auto otherType = cast<RankedTensorType>(other.getType());
      if (add.getType() == resultType && otherType.getRank() == 1 &&
          otherType.getDimSize(0) == weightType.getDimSize(1)) {
        bias = other;
        current = add.getResult();
        parts.push_back("bias");
      }
    }
    Operation *next = getSingleUser(current);
    if (auto gelu = dyn_cast_or_null<tfm::GeluOp>(next)) {
      activation = gelu.getApproximation() == "tanh" ? "gelu_tanh" : "gelu";
      current = gelu.getResult();
      parts.push_back(activation);
    } else if (auto relu = dyn_cast_or_null<tfm::ReluOp>(next)) {
      activation = "relu";
      current = relu.getResult();
      parts.push_back("relu");
    }
    if (auto add = dyn_cast_or_null<tfm::AddOp>(getSingleUser(current))) {
      Value other = getOtherOperand(add, current);
      // The residual must not widen the output (then it would be the
      // broadcast, not the product, that sets the shape).
      if (add.getType() == resultType && other != current &&
          other.getType() == resultType) {
        residual = other;
        current = add.getResult();
        parts.push_back("residual");
      }
    }
    if (parts.empty())
      return failure(); // a bare matmul: nothing to fuse

    Operation *last = current.getDefiningOp();
    // The residual may be computed after the matmul; the fused op goes where
    // the last op of the chain was, where every operand is available.
    OpBuilder b(last);
    auto linear = b.create<tfm::LinearOp>(
        last->getLoc(), resultType, matmul.getLhs(), matmul.getRhs(), bias,
        residual, b.getStringAttr(activation));
    remarks.fused(matmul, llvm::join(parts, ", "));
    current.replaceAllUsesWith(linear.getResult());
    return success();
  }
};

} // namespace
