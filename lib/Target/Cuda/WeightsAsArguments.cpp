//===- WeightsAsArguments.cpp - the weights as device buffers -------------===//
//
// tfc-cuda-weights-as-arguments. See the pass's comment.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/MapVector.h"

using namespace mlir;
using namespace mlir::tfc::cuda;

namespace {

/// On the host, memref.get_global is the address of the weights in the
/// library's data: host memory, which the kernels cannot read. The runtime
/// uploads every global the graph uses once, when the model is created;
/// this pass makes each a trailing argument of the graph function
/// (kWeightsAttr lists their globals in order), for the library's entry
/// to pass the device copies. Kernels never see a global: outlining passed
/// each as a kernel argument.
struct WeightsAsArguments
    : PassWrapper<WeightsAsArguments, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(WeightsAsArguments)
  StringRef getArgument() const final { return "tfc-cuda-weights-as-arguments"; }
  StringRef getDescription() const final {
    return "Makes the weights the graph function reads trailing arguments, for the runtime to pass their device copies";
  }
  void runOnOperation() override {
    func::FuncOp function = getOperation();
    if (function.isDeclaration())
      return;
    llvm::MapVector<StringAttr, SmallVector<memref::GetGlobalOp>> uses;
    function.walk([&](memref::GetGlobalOp get) {
      uses[get.getNameAttr().getAttr()].push_back(get);
    });
    if (uses.empty())
      return;
    SmallVector<Attribute> globals;
    for (auto &[name, gets] : uses) {
      unsigned index = function.getNumArguments();
      function.insertArgument(index, gets.front().getType(), DictionaryAttr(),
                              function.getLoc());
      BlockArgument argument = function.getArgument(index);
      globals.push_back(FlatSymbolRefAttr::get(name));
      for (memref::GetGlobalOp get : gets) {
        get.replaceAllUsesWith(argument);
        get.erase();
      }
    }
    function->setAttr(kWeightsAttr, ArrayAttr::get(&getContext(), globals));
  }
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::cuda::createWeightsAsArgumentsPass() {
  return std::make_unique<WeightsAsArguments>();
}
