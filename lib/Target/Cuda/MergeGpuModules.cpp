//===- MergeGpuModules.cpp - one GPU module per model ---------------------===//
//
// tfc-cuda-merge-gpu-modules. See the pass's comment.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace mlir::tfc::cuda;

namespace {

/// Gathers the kernels that outlining put in a GPU module each into the
/// first of them, and points every launch at it: one PTX module per model.
/// Outlining names each module uniquely but may give their kernels one
/// name, so each kernel takes its module's name.
struct MergeGpuModules : PassWrapper<MergeGpuModules, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(MergeGpuModules)
  StringRef getArgument() const final { return "tfc-cuda-merge-gpu-modules"; }
  StringRef getDescription() const final {
    return "Gathers the outlined kernels into one GPU module, each named after its module";
  }
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUModuleOp> gpuModules(module.getOps<gpu::GPUModuleOp>());
    if (gpuModules.size() < 2)
      return;
    gpu::GPUModuleOp into = gpuModules.front();
    StringAttr intoName = into.getSymNameAttr();
    // (module, kernel) -> the kernel's name in the merged module.
    llvm::DenseMap<std::pair<StringAttr, StringAttr>, StringAttr> renamed;
    for (gpu::GPUModuleOp from : gpuModules) {
      for (gpu::GPUFuncOp kernel : from.getOps<gpu::GPUFuncOp>()) {
        StringAttr name = from.getSymNameAttr();
        if (!renamed.try_emplace({name, SymbolTable::getSymbolName(kernel)}, name).second) {
          from.emitError("a GPU module with two kernels cannot be merged");
          return signalPassFailure();
        }
      }
    }
    module.walk([&](gpu::LaunchFuncOp launch) {
      auto it = renamed.find({launch.getKernelModuleName(), launch.getKernelName()});
      if (it == renamed.end())
        return;
      launch.setKernelAttr(
          SymbolRefAttr::get(intoName, {FlatSymbolRefAttr::get(it->second)}));
    });
    Block &body = into.getBodyRegion().front();
    for (gpu::GPUModuleOp from : gpuModules) {
      for (gpu::GPUFuncOp kernel :
           llvm::make_early_inc_range(from.getOps<gpu::GPUFuncOp>())) {
        SymbolTable::setSymbolName(kernel, from.getSymNameAttr());
        if (from != into)
          kernel->moveBefore(body.getTerminator());
      }
    }
    for (gpu::GPUModuleOp from : llvm::drop_begin(gpuModules))
      from.erase();
  }
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::cuda::createMergeGpuModulesPass() {
  return std::make_unique<MergeGpuModules>();
}
