//===- TfmShapeRefinement.cpp - folding and type inference to a fixpoint --===//
//
// Folding and type inference feed each other: a folded Shape makes a Reshape's
// target constant, which makes the Reshape's result static, which lets the
// next Shape fold. refineShapes runs both until neither changes anything; the
// importer runs it on every graph it builds, the graph passes after their
// rewrites.
//
//===----------------------------------------------------------------------===//

#include "TfmOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;

/// The type that knows what both `current` and `inferred` know. They are
/// compatible: the op verified against its inferred type before.
static Type meetTypes(Type current, Type inferred) {
  auto a = dyn_cast<RankedTensorType>(current);
  auto b = dyn_cast<RankedTensorType>(inferred);
  if (!a || !b || a.getRank() != b.getRank())
    return current;
  SmallVector<int64_t> shape(a.getShape());
  for (int64_t i = 0; i < a.getRank(); ++i)
    if (ShapedType::isDynamic(shape[i]))
      shape[i] = b.getDimSize(i);
  return a.clone(shape);
}

/// Re-infers every op's result types once, in program order. Returns whether
/// a type changed, or failure with the op's diagnostic.
static FailureOr<bool> inferOnce(func::FuncOp func) {
  bool changed = false;
  WalkResult walk = func.walk([&](InferTypeOpInterface op) {
    SmallVector<Type> inferred;
    if (failed(op.inferReturnTypes(
            op->getContext(), op->getLoc(), op->getOperands(),
            op->getAttrDictionary(), op->getPropertiesStorage(),
            op->getRegions(), inferred)))
      return WalkResult::interrupt();
    for (auto [result, type] : llvm::zip(op->getResults(), inferred)) {
      Type refined = meetTypes(result.getType(), type);
      if (refined != result.getType()) {
        result.setType(refined);
        changed = true;
      }
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  return changed;
}

LogicalResult mlir::tfm::refineShapes(func::FuncOp func) {
  // Each round makes at least one type more static, so the loop ends; the cap
  // only guards against a folder that keeps rewriting without progress.
  constexpr int kMaxRounds = 64;
  for (int round = 0; round < kMaxRounds; ++round) {
    bool folded = false;
    GreedyRewriteConfig config;
    if (failed(applyPatternsAndFoldGreedily(
            func, FrozenRewritePatternSet(RewritePatternSet(func.getContext())),
            config, &folded)))
      return func.emitError("folding did not converge");
    FailureOr<bool> refined = inferOnce(func);
    if (failed(refined))
      return failure();
    if (!folded && !*refined)
      break;
  }
  // The function's results take the refined types of what it returns.
  if (func.isExternal())
    return success();
  Operation *terminator = func.getBody().back().getTerminator();
  func.setType(FunctionType::get(func.getContext(), func.getArgumentTypes(),
                                 terminator->getOperandTypes()));
  return success();
}

