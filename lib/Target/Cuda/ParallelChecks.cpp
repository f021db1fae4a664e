//===- ParallelChecks.cpp - range checks as parallel loops ----------------===//
//
// tfc-cuda-parallel-checks. See the pass's comment.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;

namespace {

/// The flag update at the heart of a range check: `store (andi %ok,
/// (load %flag)), %flag` on a rank-0 i1 buffer.
struct FlagUpdate {
  memref::StoreOp store;
  memref::LoadOp load;
  arith::AndIOp conjunction;
  Value condition; // the element's own test
};

/// The generic lowering checks that every index of a gather (and the like)
/// is in range with a sequential loop nest that ands each element's test
/// into an i1 flag. On a GPU such a nest would run in one thread, element
/// after element. Each element's test is independent of the others; only
/// the order of the updates makes the nest sequential. This pass rewrites
/// the nest as a parallel loop in which each element that fails its test
/// clears the flag (every writer writes the same value), so that it maps
/// onto a launch like any other loop nest.
struct ParallelChecks
    : PassWrapper<ParallelChecks, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ParallelChecks)
  StringRef getArgument() const final { return "tfc-cuda-parallel-checks"; }
  StringRef getDescription() const final {
    return "Rewrites the range checks' sequential flag loops as parallel loops that clear the flag on failure";
  }

  /// The perfect nest of scf.for under `outer`, or empty when the nest is
  /// not perfect, yields values, or has bounds computed inside itself.
  static SmallVector<scf::ForOp> perfectNest(scf::ForOp outer) {
    SmallVector<scf::ForOp> nest;
    scf::ForOp loop = outer;
    while (true) {
      if (loop.getNumResults() != 0)
        return {};
      for (Value bound : {loop.getLowerBound(), loop.getUpperBound(), loop.getStep()}) {
        Operation *definition = bound.getDefiningOp();
        bool inside = definition ? outer->isAncestor(definition)
                                 : outer->isAncestor(
                                       bound.getParentBlock()->getParentOp());
        if (inside)
          return {};
      }
      nest.push_back(loop);
      Block *body = loop.getBody();
      if (body->getOperations().size() == 2)
        if (auto inner = dyn_cast<scf::ForOp>(body->front())) {
          loop = inner;
          continue;
        }
      return nest;
    }
  }

  /// The flag update of the innermost body, when it is the body's one
  /// side effect besides loads.
  static std::optional<FlagUpdate> findFlagUpdate(Block *body) {
    std::optional<FlagUpdate> update;
    for (Operation &op : body->without_terminator()) {
      if (isa<memref::LoadOp>(op) || isMemoryEffectFree(&op))
        continue;
      auto store = dyn_cast<memref::StoreOp>(op);
      if (!store || update)
        return std::nullopt;
      MemRefType type = store.getMemRefType();
      if (type.getRank() != 0 || !type.getElementType().isInteger(1))
        return std::nullopt;
      auto conjunction = store.getValue().getDefiningOp<arith::AndIOp>();
      if (!conjunction || !conjunction->hasOneUse() ||
          conjunction->getBlock() != body)
        return std::nullopt;
      for (unsigned side : {0u, 1u}) {
        auto load = conjunction->getOperand(side).getDefiningOp<memref::LoadOp>();
        if (load && load.getMemRef() == store.getMemRef() &&
            load->hasOneUse() && load->getBlock() == body) {
          update = FlagUpdate{store, load, conjunction,
                              conjunction->getOperand(1 - side)};
          break;
        }
      }
      if (!update)
        return std::nullopt;
    }
    return update;
  }

  static void rewrite(MutableArrayRef<scf::ForOp> nest, FlagUpdate update) {
    scf::ForOp outer = nest.front();
    OpBuilder builder(outer);
    Location loc = outer.getLoc();
    SmallVector<Value> lower, upper, steps;
    for (scf::ForOp loop : nest) {
      lower.push_back(loop.getLowerBound());
      upper.push_back(loop.getUpperBound());
      steps.push_back(loop.getStep());
    }
    auto parallel = builder.create<scf::ParallelOp>(loc, lower, upper, steps);
    IRMapping mapping;
    for (auto [loop, iv] : llvm::zip(nest, parallel.getInductionVars()))
      mapping.map(loop.getInductionVar(), iv);
    builder.setInsertionPoint(parallel.getBody()->getTerminator());
    for (Operation &op : nest.back().getBody()->without_terminator()) {
      if (&op == update.store.getOperation() ||
          &op == update.load.getOperation() ||
          &op == update.conjunction.getOperation())
        continue;
      builder.clone(op, mapping);
    }
    Value passed = mapping.lookupOrDefault(update.condition);
    Value one = builder.create<arith::ConstantIntOp>(loc, 1, 1);
    Value failedTest = builder.create<arith::XOrIOp>(loc, passed, one);
    auto ifFailed = builder.create<scf::IfOp>(loc, failedTest, /*withElse=*/false);
    builder.setInsertionPoint(ifFailed.thenBlock()->getTerminator());
    Value zero = builder.create<arith::ConstantIntOp>(loc, 0, 1);
    builder.create<memref::StoreOp>(update.store.getLoc(), zero,
                                    update.store.getMemRef());
    outer.erase();
  }

  void runOnOperation() override {
    SmallVector<scf::ForOp> outermost;
    getOperation().walk([&](scf::ForOp loop) {
      if (!loop->getParentOfType<scf::ForOp>() &&
          !loop->getParentOfType<scf::ParallelOp>() &&
          !loop->getParentOfType<gpu::LaunchOp>())
        outermost.push_back(loop);
    });
    for (scf::ForOp loop : outermost) {
      SmallVector<scf::ForOp> nest = perfectNest(loop);
      if (nest.empty())
        continue;
      if (std::optional<FlagUpdate> update = findFlagUpdate(nest.back().getBody()))
        rewrite(nest, *update);
    }
  }
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::cuda::createParallelChecksPass() {
  return std::make_unique<ParallelChecks>();
}
