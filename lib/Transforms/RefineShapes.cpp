//===- RefineShapes.cpp - the tfm-refine-shapes pass ----------------------===//
//
// The pass form of tfm::refineShapes (dialects/tfm/TfmShapeRefinement.cpp):
// folding and type inference to a fixpoint.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "tfm/TfmOps.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_REFINESHAPES
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;

namespace {
struct RefineShapesPass
    : public mlir::tfc::impl::RefineShapesBase<RefineShapesPass> {
  void runOnOperation() override {
    if (failed(tfm::refineShapes(getOperation())))
      signalPassFailure();
  }
};
} // namespace
