//===- FuseElementwise.cpp - elementwise fusion without recomputation -----===//
//
// tfc-cuda-fuse-elementwise. See the pass's comment.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

namespace {

/// Linalg's elementwise fusion (producers into their consumers, on
/// tensors), limited to producers whose every element the consumer reads
/// once: its operand's indexing map is a permutation of the loops. Fused
/// into a matmul (whose input a thread reads along k for every output
/// column), or broadcast along a dim, a producer would be computed again
/// for each element of the dims its map leaves out: a GELU before a
/// linear, 3072 times per element, and the product could no longer go to
/// the tensor cores.
struct FuseElementwise
    : PassWrapper<FuseElementwise, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FuseElementwise)
  StringRef getArgument() const final { return "tfc-cuda-fuse-elementwise"; }
  StringRef getDescription() const final {
    return "Fuses elementwise producers into the consumers that read each of their elements once";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<affine::AffineDialect, linalg::LinalgDialect,
                    tensor::TensorDialect>();
  }
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    linalg::ControlFusionFn readsOnce = [](OpOperand *operand) {
      Operation *producer = operand->get().getDefiningOp();
      auto consumer = dyn_cast<linalg::LinalgOp>(operand->getOwner());
      return producer && consumer && producer->hasOneUse() &&
             consumer.getMatchingIndexingMap(operand).isPermutation();
    };
    RewritePatternSet patterns(context);
    linalg::populateElementwiseOpsFusionPatterns(patterns, readsOnce);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns, readsOnce);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, context);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, context);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, context);
    context->getLoadedDialect<linalg::LinalgDialect>()
        ->getCanonicalizationPatterns(patterns);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::cuda::createFuseElementwisePass() {
  return std::make_unique<FuseElementwise>();
}
