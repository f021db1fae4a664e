//===- CudaTarget.cpp - the GPU (CUDA) code generation target -------------===//
//
// The lowering: the generic tfm-to-linalg lowering the CPU target also
// has, bufferized; every linalg op becomes a parallel loop nest whose
// outer loop is tiled by kThreadsPerBlock and mapped onto blocks and
// threads; the launches are outlined into kernels, which are gathered
// into one GPU module (one PTX file: one JIT at run time, one module for
// the device layer to load) and lowered by MLIR's NVVM pipeline to PTX for
// the chosen architecture by LLVM's NVPTX backend. No CUDA toolkit is
// involved.
//
// This first part writes the PTX (--emit=ptx) and the lowered module
// (--emit=mlir). The host side of the lowered module still calls MLIR's
// GPU runtime wrappers (mgpu*) on host buffers: the library, which
// launches through the runtime's device layer (lib/Runtime/cuda_device.c)
// on device buffers, comes next.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/CudaTarget.h"
#include "tfc/Target/Cuda/Passes.h"
#include "tfc/Target/CpuCodegen.h"

#include "mlir/Conversion/BufferizationToMemRef/BufferizationToMemRef.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/Transforms/OptimizeForNVVM.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Transforms/Passes.h"
#include "tfc/Conversion/Passes.h"
#include "tfc/Target/Cpu/Passes.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Path.h"
#include "llvm/TargetParser/Triple.h"
#include "llvm/Support/Threading.h"

// LLVM's NVPTX backend, which the host's code generation does not
// initialize (libLLVM has it; its header would declare every backend's).
extern "C" {
void LLVMInitializeNVPTXTargetInfo();
void LLVMInitializeNVPTXTarget();
void LLVMInitializeNVPTXTargetMC();
void LLVMInitializeNVPTXAsmPrinter();
}

using namespace mlir;
using namespace mlir::tfc;

namespace {

ArrayRef<StringRef> cudaArchitectures() {
  static const StringRef archs[] = {"sm_80", "sm_89", "sm_90"};
  return archs;
}

class CudaTarget : public Target {
public:
  explicit CudaTarget(CudaTargetOptions options) : options(std::move(options)) {}

  StringRef getName() const override { return "cuda"; }

  std::string describe() const override {
    return "NVIDIA GPUs, " + options.gpuArch +
           " (PTX compiled by the CUDA driver when the model is created" +
           (options.tf32 ? "; f32 linears as TF32 products)" : ")");
  }

  std::string describeRequirements() const override {
    return "tfc_model_create loads the CUDA driver, libcuda.so.1, and fails "
           "with TFC_ERROR_DEVICE where there is none or no GPU; "
           "tfc_options.gpu_device picks the GPU";
  }

  void registerDialects(DialectRegistry &registry) const override {
    registerCudaCodegenDialects(registry);
  }

  void buildLoweringPipeline(OpPassManager &pm) const override {
    pm.addNestedPass<func::FuncOp>(cuda::createFlashAttentionPass());
    pm.addNestedPass<func::FuncOp>(cuda::createNormKernelsPass());
    pm.addNestedPass<func::FuncOp>(cuda::createTensorCoreLinearPass(options.tf32));
    pm.addPass(tfc::createConvertTfmToLinalg());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    pm.addNestedPass<func::FuncOp>(cuda::createFuseElementwisePass());
    pm.addPass(createCanonicalizerPass());

    addModelBufferization(pm);
    pm.addPass(createBufferizationToMemRefPass());
    pm.addPass(createCanonicalizerPass());
    pm.addNestedPass<func::FuncOp>(cuda::createCopiesToLinalgPass());

    // Loops onto blocks and threads, outlined into kernels.
    pm.addPass(createConvertLinalgToParallelLoopsPass());
    pm.addNestedPass<func::FuncOp>(cuda::createParallelChecksPass());
    pm.addNestedPass<func::FuncOp>(cuda::createTileParallelLoopsPass());
    pm.addNestedPass<func::FuncOp>(createParallelLoopToGpuPass());
    pm.addNestedPass<func::FuncOp>(cuda::createCheckNoHostLoopsPass());
    pm.addPass(createLowerAffinePass());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createGpuKernelOutliningPass());
    pm.addPass(cuda::createMergeGpuModulesPass());
    pm.addNestedPass<gpu::GPUModuleOp>(cuda::createExpandMathPass());

    // The host side on device buffers: the weights passed in, values read
    // back through the runtime.
    pm.addNestedPass<func::FuncOp>(cuda::createWeightsAsArgumentsPass());
    pm.addPass(cuda::createHostReadsPass());

    // MLIR's NVVM pipeline (gpu-lower-to-nvvm-pipeline), step by step: the
    // host's checks become calls of the runtime's check handler once the
    // host code is a CFG, and the launches calls of the runtime's launch
    // once it is in the LLVM dialect.
    // ceildivsi and the like, which the LLVM lowerings do not take.
    pm.addPass(arith::createArithExpandOpsPass());
    pm.addPass(createConvertSCFToCFPass());
    pm.addPass(cpu::createCpuLowerRuntimeChecks());
    pm.addPass(createConvertFuncToLLVMPass());
    pm.addPass(memref::createExpandStridedMetadataPass());
    GpuNVVMAttachTargetOptions target;
    target.chip = options.gpuArch;
    target.optLevel = 3;
    pm.addPass(createGpuNVVMAttachTarget(target));
    pm.addPass(createLowerAffinePass());
    pm.addPass(createArithToLLVMConversionPass());
    pm.addPass(createConvertIndexToLLVMPass());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());

    OpPassManager &kernels = pm.nest<gpu::GPUModuleOp>();
    kernels.addPass(createStripDebugInfoPass());
    kernels.addPass(createConvertGpuOpsToNVVMOps());
    kernels.addPass(NVVM::createOptimizeForTargetPass());
    kernels.addPass(createCanonicalizerPass());
    kernels.addPass(createCSEPass());
    kernels.addPass(createReconcileUnrealizedCastsPass());

    pm.addPass(createGpuToLLVMConversionPass());
    GpuModuleToBinaryPassOptions binary;
    binary.compilationTarget = "isa"; // PTX, for the driver to compile
    pm.addPass(createGpuModuleToBinaryPass(binary));
    pm.addPass(createConvertMathToLLVMPass());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    pm.addPass(createReconcileUnrealizedCastsPass());
    pm.addPass(cuda::createLaunchThroughRuntimePass());
  }

  LogicalResult emit(ModuleOp lowered, StringRef graphName,
                     const ModelSignature &signature, const EmitOptions &output,
                     TimingScope &timing, std::string &producedPath) override;

private:
  CudaTargetOptions options;
};

} // namespace

/// The PTX of the module's one gpu.binary (MergeGpuModules left one module,
/// serialized for one architecture); empty when the model has no kernels.
static FailureOr<std::string> takePtx(ModuleOp lowered) {
  SmallVector<gpu::BinaryOp> binaries(lowered.getOps<gpu::BinaryOp>());
  if (binaries.empty())
    return std::string();
  if (binaries.size() != 1 || binaries.front().getObjects().size() != 1) {
    llvm::errs() << "tfc: error: the kernels were not lowered to one PTX "
                    "module\n";
    return failure();
  }
  std::string ptx = cast<gpu::ObjectAttr>(binaries.front().getObjects()[0])
                        .getObject()
                        .getValue()
                        .str();
  // The serialized assembly is a C string: its NUL is not PTX.
  while (!ptx.empty() && ptx.back() == '\0')
    ptx.pop_back();
  return ptx;
}

/// The CPU the host code is compiled for: the architecture's baseline, so
/// that a library built here runs on whatever CPU the GPU's machine has
/// (the host code only launches kernels).
static CpuMachine baselineHostMachine() {
  CpuMachine machine = getHostCpuMachine();
  machine.cpu = llvm::Triple(machine.triple).getArch() == llvm::Triple::x86_64
                    ? "x86-64"
                    : "generic";
  machine.features.clear();
  machine.isHost = false;
  return machine;
}

LogicalResult CudaTarget::emit(ModuleOp lowered, StringRef graphName,
                               const ModelSignature &signature,
                               const EmitOptions &output, TimingScope &timing,
                               std::string &producedPath) {
  StringRef stem = llvm::sys::path::filename(output.outputStem);
  if (output.emit == EmitKind::Mlir) {
    producedPath = output.pathFor(stem + ".mlir");
    return writeModuleFile(producedPath, lowered);
  }
  FailureOr<std::string> ptx = takePtx(lowered);
  if (failed(ptx))
    return failure();
  if (output.emit == EmitKind::Ptx) {
    if (ptx->empty()) {
      llvm::errs() << "tfc: error: the model has no GPU kernels to write\n";
      return failure();
    }
    producedPath = output.pathFor(stem + ".ptx");
    return writeOutputFile(producedPath, *ptx);
  }
  if (output.weights == WeightsPlacement::File) {
    llvm::errs() << "tfc: error: --weights=file is for the cpu target; a "
                    "GPU library embeds its weights and uploads them at "
                    "create\n";
    return failure();
  }

  GpuProgram program;
  program.ptx = std::move(*ptx);
  program.arch = options.gpuArch;
  if (auto kernels = lowered->getAttrOfType<ArrayAttr>(cuda::kKernelsAttr))
    for (Attribute kernel : kernels)
      program.kernels.push_back(cast<StringAttr>(kernel).str());
  auto graph = lowered.lookupSymbol<LLVM::LLVMFuncOp>(graphName);
  if (!graph)
    return lowered.emitError("the lowered module has no function '")
           << graphName << "'";
  if (auto weights = graph->getAttrOfType<ArrayAttr>(cuda::kWeightsAttr))
    for (Attribute weight : weights)
      program.weights.push_back(
          cast<FlatSymbolRefAttr>(weight).getValue().str());
  // What stays is the host code: the kernels travel as the PTX string.
  for (gpu::BinaryOp binary :
       llvm::make_early_inc_range(lowered.getOps<gpu::BinaryOp>()))
    binary.erase();
  lowered->removeAttr(cuda::kKernelsAttr);
  lowered->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  graph->removeAttr(cuda::kWeightsAttr);

  TimingScope translateTimer = timing.nest("Translate to LLVM IR");
  llvm::LLVMContext llvmContext;
  ModelBuild build{describe(), /*isa=*/0, &program};
  auto llvmModule = buildModelModule(lowered, graphName, signature,
                                     output.modelName, WeightsFile{}, build,
                                     llvmContext);
  if (failed(llvmModule))
    return failure();
  translateTimer.stop();

  return emitModelLibrary(**llvmModule, baselineHostMachine(), ObjectOptions{},
                          options.runtimeLibrary, output, timing, producedPath);
}

void mlir::tfc::registerCudaCodegenDialects(DialectRegistry &registry) {
  registry.insert<arith::ArithDialect, bufferization::BufferizationDialect,
                  cf::ControlFlowDialect, func::FuncDialect,
                  gpu::GPUDialect, linalg::LinalgDialect, LLVM::LLVMDialect,
                  math::MathDialect, memref::MemRefDialect,
                  NVVM::NVVMDialect, scf::SCFDialect, tensor::TensorDialect>();
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
  // gpu-module-to-binary: the NVVM target serializes through LLVM IR and
  // LLVM's NVPTX backend.
  static llvm::once_flag nvptx;
  llvm::call_once(nvptx, [] {
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
  });
  NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  registerBuiltinDialectTranslation(registry);
  registerGPUDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
}

ArrayRef<StringRef> mlir::tfc::getCudaArchitectures() {
  return cudaArchitectures();
}

std::unique_ptr<Target> mlir::tfc::createCudaTarget(CudaTargetOptions options) {
  return std::make_unique<CudaTarget>(std::move(options));
}
