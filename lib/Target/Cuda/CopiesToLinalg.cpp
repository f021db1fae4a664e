//===- CopiesToLinalg.cpp - buffer copies as GPU work ---------------------===//
//
// tfc-cuda-copies-to-linalg. See the pass's comment.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

using namespace mlir;

namespace {

/// Bufferization copies buffers with memref.copy (a constant into a buffer
/// an op writes in place, a value kept before it is overwritten). Lowered
/// as it is, a copy becomes a memcpy on the host, of buffers that live on
/// the GPU; as linalg.copy it becomes a loop nest like any other op's,
/// mapped onto a launch.
struct CopiesToLinalg
    : PassWrapper<CopiesToLinalg, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CopiesToLinalg)
  StringRef getArgument() const final { return "tfc-cuda-copies-to-linalg"; }
  StringRef getDescription() const final {
    return "Turns memref.copy into linalg.copy, so that copies between GPU buffers become kernels";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<linalg::LinalgDialect>();
  }
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    for (memref::CopyOp copy : copies) {
      OpBuilder builder(copy);
      builder.create<linalg::CopyOp>(copy.getLoc(), copy.getSource(),
                                     copy.getTarget());
      copy.erase();
    }
  }
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::cuda::createCopiesToLinalgPass() {
  return std::make_unique<CopiesToLinalg>();
}
