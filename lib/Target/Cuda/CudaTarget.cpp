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

#include "mlir/Conversion/BufferizationToMemRef/BufferizationToMemRef.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
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
#include "llvm/Support/Path.h"
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
           " (PTX compiled by the CUDA driver when the model is created)";
  }

  void registerDialects(DialectRegistry &registry) const override {
    registerCudaCodegenDialects(registry);
  }

  void buildLoweringPipeline(OpPassManager &pm) const override {
    pm.addPass(tfc::createConvertTfmToLinalg());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    pm.addPass(createLinalgElementwiseOpFusionPass());
    pm.addPass(createCanonicalizerPass());

    addModelBufferization(pm);
    pm.addPass(createBufferizationToMemRefPass());
    pm.addPass(createCanonicalizerPass());

    // Loops onto blocks and threads, outlined into kernels.
    pm.addPass(createConvertLinalgToParallelLoopsPass());
    pm.addNestedPass<func::FuncOp>(cuda::createTileParallelLoopsPass());
    pm.addNestedPass<func::FuncOp>(createParallelLoopToGpuPass());
    pm.addNestedPass<func::FuncOp>(cuda::createCheckNoHostLoopsPass());
    pm.addPass(createLowerAffinePass());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createGpuKernelOutliningPass());
    pm.addPass(cuda::createMergeGpuModulesPass());
    pm.addNestedPass<gpu::GPUModuleOp>(cuda::createExpandMathPass());

    // Kernels to NVVM and PTX; the host side to the LLVM dialect.
    gpu::GPUToNVVMPipelineOptions nvvm;
    nvvm.cubinChip = options.gpuArch;
    nvvm.cubinFormat = "isa";
    nvvm.optLevel = 3;
    gpu::buildLowerToNVVMPassPipeline(pm, nvvm);
  }

  LogicalResult emit(ModuleOp lowered, StringRef graphName,
                     const ModelSignature &signature, const EmitOptions &output,
                     TimingScope &timing, std::string &producedPath) override {
    (void)graphName;
    (void)signature;
    (void)timing;
    StringRef stem = llvm::sys::path::filename(output.outputStem);
    if (output.emit == EmitKind::Mlir) {
      producedPath = output.pathFor(stem + ".mlir");
      return writeModuleFile(producedPath, lowered);
    }
    if (output.emit != EmitKind::Ptx) {
      llvm::errs() << "tfc: error: --target=cuda writes --emit=ptx (the "
                      "kernels) or --emit=mlir so far; its libraries are not "
                      "built yet (docs/Gpu.md)\n";
      return failure();
    }
    // MergeGpuModules left one module, serialized for one architecture.
    SmallVector<gpu::BinaryOp> binaries(lowered.getOps<gpu::BinaryOp>());
    if (binaries.empty()) {
      llvm::errs() << "tfc: error: the model has no GPU kernels to write\n";
      return failure();
    }
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
    producedPath = output.pathFor(stem + ".ptx");
    return writeOutputFile(producedPath, ptx);
  }

private:
  CudaTargetOptions options;
};

} // namespace

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
