//===- LaunchThroughRuntime.cpp - kernel launches as runtime calls --------===//
//
// tfc-cuda-launch-through-runtime. See the pass's comment.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "tfm/TfmDialect.h"

using namespace mlir;
using namespace mlir::tfc::cuda;

namespace {

/// Rewrites each gpu.launch_func of the host code (after its lowering to
/// the LLVM dialect) into a call of the runtime's
///
///   tfc_rt_cuda_launch(kernel, grid x, y, z, block x, y, z, params, site)
///
/// where `kernel` indexes the module's kKernelsAttr (the kernels' names,
/// which the runtime looks up in the loaded PTX when the model is created),
/// `params` is the array of pointers to the arguments that cuLaunchKernel
/// takes, and `site` names the graph nodes the kernel computes, for errors.
/// MLIR's own lowering of the launch calls its GPU runtime wrappers and
/// loads the module when the program starts; tfc's runtime loads it when a
/// model is created, on the GPU the app chose, and owns the stream.
struct LaunchThroughRuntime
    : PassWrapper<LaunchThroughRuntime, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(LaunchThroughRuntime)
  StringRef getArgument() const final { return "tfc-cuda-launch-through-runtime"; }
  StringRef getDescription() const final {
    return "Turns the host's kernel launches (LLVM dialect) into calls of the runtime's tfc_rt_cuda_launch";
  }

  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<LLVM::LLVMDialect>();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    SmallVector<gpu::LaunchFuncOp> launches;
    module.walk([&](gpu::LaunchFuncOp launch) { launches.push_back(launch); });
    if (launches.empty())
      return;

    auto ptrType = LLVM::LLVMPointerType::get(context);
    auto i32 = IntegerType::get(context, 32);
    auto i64 = IntegerType::get(context, 64);
    LLVM::LLVMFuncOp launchFunction = LLVM::lookupOrCreateFn(
        module, kLaunchFunction, {i32, i64, i64, i64, i64, i64, i64, ptrType, ptrType},
        LLVM::LLVMVoidType::get(context));

    llvm::StringMap<unsigned> kernelIndex;
    SmallVector<Attribute> kernelNames;
    llvm::StringMap<std::string> siteGlobals;
    // Where each function's launch arguments end on its stack, so that
    // they are allocated in the order of the launches.
    llvm::DenseMap<Operation *, Operation *> stackEnd;
    OpBuilder builder(context);
    for (gpu::LaunchFuncOp launch : launches) {
      Location loc = launch.getLoc();
      for (Value operand : launch->getOperands())
        if (!LLVM::isCompatibleType(operand.getType())) {
          launch.emitOpError("has an operand of type ")
              << operand.getType()
              << "; lower the host code to the LLVM dialect first";
          return signalPassFailure();
        }
      if (!launch.getAsyncDependencies().empty() || launch.getAsyncToken() ||
          launch.getClusterSizeX()) {
        launch.emitOpError("is asynchronous or has clusters, which the "
                           "runtime's launch does not take");
        return signalPassFailure();
      }
      StringRef kernel = launch.getKernelName().getValue();
      auto [entry, inserted] = kernelIndex.try_emplace(kernel, kernelNames.size());
      if (inserted)
        kernelNames.push_back(StringAttr::get(context, kernel));

      // The arguments in one struct on the stack (allocated at the
      // function's entry, so that no launch grows the stack), and the
      // array of pointers to its fields.
      auto function = launch->getParentOfType<LLVM::LLVMFuncOp>();
      SmallVector<Type> argumentTypes;
      for (Value argument : launch.getKernelOperands())
        argumentTypes.push_back(argument.getType());
      auto structType = LLVM::LLVMStructType::getLiteral(context, argumentTypes);
      auto arrayType = LLVM::LLVMArrayType::get(
          ptrType, std::max<size_t>(1, argumentTypes.size()));
      Operation *&lastAlloca = stackEnd[function];
      if (lastAlloca)
        builder.setInsertionPointAfter(lastAlloca);
      else
        builder.setInsertionPointToStart(&function.getBody().front());
      Value one = builder.create<LLVM::ConstantOp>(loc, i64, 1);
      Value storage = builder.create<LLVM::AllocaOp>(loc, ptrType, structType, one);
      Value params = builder.create<LLVM::AllocaOp>(loc, ptrType, arrayType, one);
      lastAlloca = params.getDefiningOp();

      builder.setInsertionPoint(launch);
      for (auto [i, argument] : llvm::enumerate(launch.getKernelOperands())) {
        Value field = builder.create<LLVM::GEPOp>(
            loc, ptrType, structType, storage,
            ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
        builder.create<LLVM::StoreOp>(loc, argument, field);
        Value slot = builder.create<LLVM::GEPOp>(
            loc, ptrType, arrayType, params,
            ArrayRef<LLVM::GEPArg>{0, static_cast<int32_t>(i)});
        builder.create<LLVM::StoreOp>(loc, field, slot);
      }

      std::string site = tfm::describeNodes(loc);
      if (site.empty())
        site = "kernel '" + kernel.str() + "'";
      std::string &global = siteGlobals[site];
      if (global.empty()) {
        global = "tfc_launch_site_" + std::to_string(siteGlobals.size() - 1);
        OpBuilder::InsertionGuard guard(builder);
        builder.setInsertionPointToStart(module.getBody());
        std::string text = site;
        text.push_back('\0'); // the runtime reads a C string
        auto type = LLVM::LLVMArrayType::get(IntegerType::get(context, 8),
                                             text.size());
        builder.create<LLVM::GlobalOp>(loc, type, /*isConstant=*/true,
                                       LLVM::Linkage::Private, global,
                                       builder.getStringAttr(text));
      }
      Value siteAddress = builder.create<LLVM::AddressOfOp>(loc, ptrType, global);

      auto toI64 = [&](Value value) -> Value {
        if (value.getType() == i64)
          return value;
        return builder.create<LLVM::ZExtOp>(loc, i64, value);
      };
      gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
      gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
      Value index = builder.create<LLVM::ConstantOp>(
          loc, i32, static_cast<int32_t>(entry->second));
      builder.create<LLVM::CallOp>(
          loc, launchFunction,
          ValueRange{index, toI64(grid.x), toI64(grid.y), toI64(grid.z),
                     toI64(block.x), toI64(block.y), toI64(block.z), params,
                     siteAddress});
      launch.erase();
    }
    module->setAttr(kKernelsAttr, ArrayAttr::get(context, kernelNames));
  }
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::cuda::createLaunchThroughRuntimePass() {
  return std::make_unique<LaunchThroughRuntime>();
}
