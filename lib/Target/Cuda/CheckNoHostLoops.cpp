//===- CheckNoHostLoops.cpp - no tensor work left on the host -------------===//
//
// tfc-cuda-check-no-host-loops. See the pass's comment.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::tfc::cuda;

namespace {

/// Fails on any store, and any loop that reads or writes buffers, left on
/// the host after the mapping onto launches: it would run on the host, on
/// buffers that live on the GPU. The host may still loop over launches (a
/// scan's steps) and read single values outside loops (the flags of range
/// checks, sizes): tfc-cuda-host-reads reads them back through the
/// runtime.
struct CheckNoHostLoops
    : PassWrapper<CheckNoHostLoops, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CheckNoHostLoops)
  StringRef getArgument() const final { return "tfc-cuda-check-no-host-loops"; }
  StringRef getDescription() const final {
    return "Refuses loops and stores that would compute a tensor on the host after the launches are formed";
  }
  /// Whether `op` reads or writes a buffer outside the launches in it.
  static bool touchesBuffers(Operation *op) {
    return op
        ->walk<WalkOrder::PreOrder>([](Operation *inner) {
          if (isa<gpu::LaunchOp>(inner))
            return WalkResult::skip();
          return isa<memref::LoadOp, memref::StoreOp>(inner)
                     ? WalkResult::interrupt()
                     : WalkResult::advance();
        })
        .wasInterrupted();
  }

  void runOnOperation() override {
    // Outermost first, so that a loop is judged whole.
    getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp>(op))
        return WalkResult::skip();
      bool loop = isa<scf::ParallelOp, scf::ForOp, scf::WhileOp>(op);
      if (!isa<memref::StoreOp>(op) && !(loop && touchesBuffers(op)))
        return WalkResult::advance();
      op->emitError(isa<memref::StoreOp>(op)
                        ? "this store would run on the host (the cuda target "
                          "cannot compile this op yet)"
                        : "this loop nest could not be mapped onto GPU blocks "
                          "and threads (the cuda target cannot compile this op "
                          "yet)");
      signalPassFailure();
      return WalkResult::interrupt();
    });
  }
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::cuda::createCheckNoHostLoopsPass() {
  return std::make_unique<CheckNoHostLoops>();
}

void mlir::tfc::cuda::registerCudaPasses() {
  PassRegistration<CheckNoHostLoops>();
  registerPass(createCopiesToLinalgPass);
  registerPass(createFlashAttentionPass);
  registerPass(createNormKernelsPass);
  registerPass(createFuseElementwisePass);
  registerPass(createParallelChecksPass);
  registerPass([] { return createTensorCoreLinearPass(); });
  registerPass(createTileParallelLoopsPass);
  registerPass(createWeightsAsArgumentsPass);
  registerPass(createHostReadsPass);
  registerPass(createLaunchThroughRuntimePass);
  registerPass(createMergeGpuModulesPass);
  registerPass(createExpandMathPass);
}
