//===- TileParallelLoops.cpp - loop nests onto GPU blocks and threads -----===//
//
// tfc-cuda-tile-parallel-loops. See the pass's comment.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"

using namespace mlir;
using namespace mlir::tfc::cuda;

namespace {

/// Tiles each outermost parallel loop nest for blocks and threads and maps
/// it onto a launch: its innermost dim (the contiguous one) by
/// kThreadsPerBlock onto threads x, so that a warp's loads coalesce and the
/// block is 256 x 1 x 1 (blocks allow only 64 threads in z); the next two
/// dims by 1 onto y and z; the tiles onto blocks the same way (x, whose
/// count may reach 2^31 - 1, for the innermost). Dims past three, and
/// parallel loops nested deeper, run in sequence in each thread. The tiles'
/// bounds stay constant (an if inside guards the last tile), as the mapping
/// onto a launch needs.
struct TileParallelLoops
    : PassWrapper<TileParallelLoops, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TileParallelLoops)
  StringRef getArgument() const final { return "tfc-cuda-tile-parallel-loops"; }
  StringRef getDescription() const final {
    return "Tiles loop nests for GPU blocks and threads and maps them onto launches (innermost dim onto threads x)";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, gpu::GPUDialect, scf::SCFDialect>();
  }

  /// Maps `loop`'s dims from the innermost onto `first` and the two
  /// processors after it; the rest, sequential.
  static LogicalResult map(scf::ParallelOp loop, gpu::Processor first) {
    MLIRContext *context = loop.getContext();
    AffineMap identity = AffineMap::getMultiDimIdentityMap(1, context);
    unsigned loops = loop.getNumLoops();
    SmallVector<gpu::ParallelLoopDimMappingAttr> mapping;
    for (unsigned dim = 0; dim < loops; ++dim) {
      unsigned fromInnermost = loops - 1 - dim;
      gpu::Processor processor =
          fromInnermost < 3 && first != gpu::Processor::Sequential
              ? static_cast<gpu::Processor>(static_cast<uint64_t>(first) +
                                            fromInnermost)
              : gpu::Processor::Sequential;
      mapping.push_back(gpu::ParallelLoopDimMappingAttr::get(
          context, processor, identity, identity));
    }
    return gpu::setMappingAttr(loop, mapping);
  }

  void runOnOperation() override {
    // A loop nest with no parallel dim (a sum over every element, say), or
    // a lone store (a one-element fill, a flag set), runs in one thread of
    // its own launch: slow, but on the GPU with its data. (Loops that yield
    // values are left, and refused by tfc-cuda-check-no-host-loops if
    // they touch buffers.)
    SmallVector<Operation *> sequential;
    getOperation().walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<scf::ParallelOp, gpu::LaunchOp>(op))
        return WalkResult::skip(); // mapped below, or a kernel already
      if (auto loop = dyn_cast<scf::ForOp>(op)) {
        // A loop around parallel loops (a scan's steps, say) stays on the
        // host and launches them step by step.
        bool launches = loop->walk([](scf::ParallelOp) {
                              return WalkResult::interrupt();
                            }).wasInterrupted();
        if (launches)
          return WalkResult::advance();
        if (loop.getNumResults() == 0)
          sequential.push_back(op);
        return WalkResult::skip();
      }
      if (isa<memref::StoreOp>(op))
        sequential.push_back(op);
      return WalkResult::advance();
    });
    for (Operation *op : sequential) {
      OpBuilder builder(op);
      Location loc = op->getLoc();
      Value zero = builder.create<arith::ConstantIndexOp>(loc, 0);
      Value one = builder.create<arith::ConstantIndexOp>(loc, 1);
      auto single = builder.create<scf::ParallelOp>(loc, ValueRange{zero},
                                                    ValueRange{one}, ValueRange{one});
      op->moveBefore(single.getBody()->getTerminator());
      // A store of a value loaded just for it (a one-element copy) takes
      // its load along, which would otherwise read device memory from the
      // host.
      if (auto store = dyn_cast<memref::StoreOp>(op))
        if (auto load = store.getValue().getDefiningOp<memref::LoadOp>())
          if (load->hasOneUse() && load->getBlock() == single->getBlock())
            load->moveBefore(store);
    }

    SmallVector<scf::ParallelOp> outermost;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>() &&
          !loop->getParentOfType<gpu::LaunchOp>())
        outermost.push_back(loop);
    });
    for (scf::ParallelOp loop : outermost) {
      SmallVector<int64_t> sizes(loop.getNumLoops(), 1);
      sizes.back() = kThreadsPerBlock;
      auto [blocks, threads] =
          scf::tileParallelLoop(loop, sizes, /*noMinMaxBounds=*/true);
      if (failed(map(blocks, gpu::Processor::BlockX)) ||
          failed(map(threads, gpu::Processor::ThreadX)))
        return signalPassFailure();
      // Deeper parallel loops (the output columns of a matmul nest under
      // its reduction loop, say) become plain loops in the thread: the
      // conversion to a launch takes no mapped loop under another loop.
      SmallVector<scf::ParallelOp> nested;
      threads.getBody()->walk([&](scf::ParallelOp inner) { nested.push_back(inner); });
      for (scf::ParallelOp inner : llvm::reverse(nested)) {
        if (!inner.getInitVals().empty()) {
          if (failed(map(inner, gpu::Processor::Sequential)))
            return signalPassFailure();
          continue;
        }
        toNestedFors(inner);
      }
    }
  }

  /// Replaces `loop` (no reductions) by a nest of scf.for with its bounds.
  static void toNestedFors(scf::ParallelOp loop) {
    OpBuilder builder(loop);
    Location loc = loop.getLoc();
    SmallVector<Value> ivs;
    for (auto [lower, upper, step] : llvm::zip(
             loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
      auto forOp = builder.create<scf::ForOp>(loc, lower, upper, step);
      ivs.push_back(forOp.getInductionVar());
      builder.setInsertionPoint(forOp.getBody()->getTerminator());
    }
    Block *body = loop.getBody();
    for (auto [old, replacement] : llvm::zip(loop.getInductionVars(), ivs))
      old.replaceAllUsesWith(replacement);
    Operation *yield = &*builder.getInsertionPoint();
    for (Operation &op : llvm::make_early_inc_range(body->without_terminator()))
      op.moveBefore(yield);
    loop.erase();
  }
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::cuda::createTileParallelLoopsPass() {
  return std::make_unique<TileParallelLoops>();
}
