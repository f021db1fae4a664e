//===- CpuPipeline.cpp - the pass pipeline from tfm to the LLVM dialect ---===//

#include "tfc/Target/CpuCodegen.h"
#include "tfc/Target/Target.h"

#include "mlir/Conversion/ArithToLLVM/ArithToLLVM.h"
#include "mlir/Conversion/ControlFlowToLLVM/ControlFlowToLLVM.h"
#include "mlir/Conversion/FuncToLLVM/ConvertFuncToLLVMPass.h"
#include "mlir/Conversion/IndexToLLVM/IndexToLLVM.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/BufferizationToMemRef/BufferizationToMemRef.h"
#include "mlir/Dialect/Arith/Transforms/BufferDeallocationOpInterfaceImpl.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/ControlFlow/Transforms/BufferDeallocationOpInterfaceImpl.h"
#include "mlir/Dialect/ControlFlow/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/MemRef/Transforms/AllocationOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/BufferDeallocationOpInterfaceImpl.h"
#include "mlir/Dialect/SCF/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Tensor/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"
#include "tfc/Conversion/Passes.h"
#include "tfc/Target/Cpu/Passes.h"

using namespace mlir;

void mlir::tfc::registerCpuCodegenDialects(DialectRegistry &registry) {
  registry.insert<cpu::TfcCpuDialect, arith::ArithDialect,
                  bufferization::BufferizationDialect,
                  cf::ControlFlowDialect, func::FuncDialect,
                  linalg::LinalgDialect, LLVM::LLVMDialect, math::MathDialect,
                  memref::MemRefDialect, scf::SCFDialect,
                  tensor::TensorDialect>();
  arith::registerBufferizableOpInterfaceExternalModels(registry);
  arith::registerBufferDeallocationOpInterfaceExternalModels(registry);
  bufferization::func_ext::registerBufferizableOpInterfaceExternalModels(registry);
  cf::registerBufferizableOpInterfaceExternalModels(registry);
  cf::registerBufferDeallocationOpInterfaceExternalModels(registry);
  linalg::registerBufferizableOpInterfaceExternalModels(registry);
  memref::registerAllocationOpInterfaceExternalModels(registry);
  scf::registerBufferizableOpInterfaceExternalModels(registry);
  scf::registerBufferDeallocationOpInterfaceExternalModels(registry);
  tensor::registerBufferizableOpInterfaceExternalModels(registry);
}

void mlir::tfc::buildCpuLoweringPipeline(OpPassManager &pm,
                                         StringRef kernelIsa,
                                         const KernelSelectionOptions &options) {
  // Graph level to tensors: the ops the runtime has kernels for become
  // kernel calls, the rest generic code.
  cpu::CpuSelectKernelsOptions selection;
  selection.isa = kernelIsa.str();
  selection.emitRemarks = options.remarks;
  selection.sparseThreshold = options.sparseThreshold;
  pm.addPass(cpu::createCpuSelectKernels(selection));
  pm.addPass(tfc::createConvertTfmToLinalg());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // No CSE after this: a kernel reads its operands through
  // bufferization.to_memref views made just before the call, which
  // bufferization counts as reads at that point. CSE would merge the views
  // of one tensor read by two kernels into the first, and bufferization
  // would then let a later op reuse the tensor's buffer before the second
  // kernel reads it.
  pm.addPass(cpu::createCpuLowerKernels());
  pm.addPass(createLinalgElementwiseOpFusionPass());
  pm.addPass(createCanonicalizerPass());

  // Tensors to buffers. Function boundaries get plain row-major memrefs, the
  // layout the entry point builds from the caller's tensors; the
  // deallocation pipeline frees every intermediate and leaves the returned
  // buffers to the caller.
  addModelBufferization(pm);
  bufferization::BufferDeallocationPipelineOptions deallocation;
  bufferization::buildBufferDeallocationPipeline(pm, deallocation);
  // The clones that deallocation inserts (returned values it does not own).
  pm.addPass(createBufferizationToMemRefPass());
  // Every buffer sized at run time: a check that its size does not wrap.
  pm.addPass(tfc::createCheckBufferSizes());

  // Buffers to loops to the LLVM dialect.
  // Parallel dims run on the runtime's thread pool, each loop nest in a
  // function of its own.
  pm.addPass(createConvertLinalgToParallelLoopsPass());
  pm.addPass(cpu::createCpuOutlineParallelLoops());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createConvertSCFToCFPass());
  pm.addPass(cpu::createCpuLowerRuntimeChecks());
  // ceildivsi, maxnumf and friends become plain arith first; so do
  // conversions to and from bf16, which LLVM would otherwise leave to
  // __truncsfbf2 on CPUs without AVX512-BF16: a libgcc function that
  // Debian 12's libgcc lacks, so the library would not load.
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(cpu::createCpuRuntimeCallsToLLVM());
  FinalizeMemRefToLLVMConversionPassOptions memrefOptions;
  // Allocations go through the runtime (renamed from MLIR's generic names
  // when the module is translated).
  memrefOptions.useGenericFunctions = true;
  memrefOptions.useAlignedAlloc = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefOptions));
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}
