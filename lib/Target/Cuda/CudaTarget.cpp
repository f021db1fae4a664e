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

#include "mlir/Conversion/BufferizationToMemRef/BufferizationToMemRef.h"
#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Transforms/BufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/Transforms/FuncBufferizableOpInterfaceImpl.h"
#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Pipelines/Passes.h"
#include "mlir/Dialect/GPU/Transforms/ParallelLoopMapper.h"
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
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
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
#include "llvm/ADT/STLExtras.h"
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

/// Threads per block of the elementwise and loop-nest kernels: the outer
/// parallel loop of each nest is tiled by this, the tiles spread over the
/// blocks.
constexpr int64_t kThreadsPerBlock = 256;

ArrayRef<StringRef> cudaArchitectures() {
  static const StringRef archs[] = {"sm_80", "sm_89", "sm_90"};
  return archs;
}

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
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<gpu::GPUDialect>();
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
    SmallVector<scf::ParallelOp> outermost;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (!loop->getParentOfType<scf::ParallelOp>())
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

/// Fails on any loop left on the host after the mapping onto launches that
/// computes a tensor: it would run on the host, on buffers that will live on
/// the GPU. Loops that only reduce into an i1 flag (the range checks of
/// the generic lowering, over the inputs' indices) stay on the host, where
/// the library will run them on the inputs before it uploads them.
struct CheckNoHostLoops
    : PassWrapper<CheckNoHostLoops, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(CheckNoHostLoops)
  StringRef getArgument() const final { return "tfc-cuda-check-no-host-loops"; }
  static bool onlySetsFlags(Operation *loop) {
    WalkResult stores = loop->walk([](memref::StoreOp store) {
      MemRefType type = store.getMemRefType();
      return type.getRank() == 0 && type.getElementType().isInteger(1)
                 ? WalkResult::advance()
                 : WalkResult::interrupt();
    });
    return !stores.wasInterrupted();
  }
  void runOnOperation() override {
    getOperation().walk([&](Operation *op) {
      if (op->getParentOfType<gpu::LaunchOp>() ||
          !isa<scf::ParallelOp, scf::ForOp>(op))
        return WalkResult::advance();
      if (onlySetsFlags(op))
        return WalkResult::skip();
      op->emitError("this loop nest could not be mapped onto GPU blocks and "
                    "threads (the cuda target cannot compile this op yet)");
      signalPassFailure();
      return WalkResult::interrupt();
    });
  }
};

/// A math op of f32 as an NVPTX intrinsic, which the backend emits as one
/// PTX instruction.
template <typename MathOp>
struct MathToNvptxIntrinsic : OpRewritePattern<MathOp> {
  MathToNvptxIntrinsic(MLIRContext *context, StringRef intrinsic)
      : OpRewritePattern<MathOp>(context), intrinsic(intrinsic) {}
  LogicalResult matchAndRewrite(MathOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return failure();
    rewriter.replaceOpWithNewOp<LLVM::CallIntrinsicOp>(
        op, op.getType(), intrinsic, op->getOperands());
    return success();
  }
  StringRef intrinsic;
};

/// Expands erf, tanh, exp and the other math functions into polynomials
/// and arithmetic in the kernels, and turns abs, floor, fma, sqrt and the
/// like into NVPTX's instructions: MLIR's NVVM lowering would make them calls into
/// libdevice, which only a CUDA toolkit provides and which the driver's
/// JIT cannot resolve.
struct ExpandMathInKernels
    : PassWrapper<ExpandMathInKernels, OperationPass<gpu::GPUModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ExpandMathInKernels)
  StringRef getArgument() const final { return "tfc-cuda-expand-math"; }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<LLVM::LLVMDialect>();
  }
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    populateMathPolynomialApproximationPatterns(patterns);
    // (By name: MLIR's NVVM lowering turns the LLVM dialect's own ops for
    // some of these into libdevice calls too.)
    patterns.add<MathToNvptxIntrinsic<math::AbsFOp>>(context, "llvm.fabs.f32");
    patterns.add<MathToNvptxIntrinsic<math::CeilOp>>(context, "llvm.ceil.f32");
    patterns.add<MathToNvptxIntrinsic<math::CopySignOp>>(context, "llvm.copysign.f32");
    patterns.add<MathToNvptxIntrinsic<math::FloorOp>>(context, "llvm.floor.f32");
    patterns.add<MathToNvptxIntrinsic<math::FmaOp>>(context, "llvm.fma.f32");
    patterns.add<MathToNvptxIntrinsic<math::RoundEvenOp>>(context, "llvm.roundeven.f32");
    patterns.add<MathToNvptxIntrinsic<math::RoundOp>>(context, "llvm.round.f32");
    patterns.add<MathToNvptxIntrinsic<math::RsqrtOp>>(context,
                                                       "llvm.nvvm.rsqrt.approx.f");
    patterns.add<MathToNvptxIntrinsic<math::SqrtOp>>(context, "llvm.nvvm.sqrt.rn.f");
    patterns.add<MathToNvptxIntrinsic<math::TruncOp>>(context, "llvm.trunc.f32");
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

/// Gathers the kernels that outlining put in a GPU module each into the
/// first of them, and points every launch at it: one PTX module per model.
/// Outlining names each module uniquely but may give their kernels one
/// name, so each kernel takes its module's name.
struct MergeGpuModules : PassWrapper<MergeGpuModules, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(MergeGpuModules)
  StringRef getArgument() const final { return "tfc-cuda-merge-gpu-modules"; }
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

class CudaTarget : public Target {
public:
  explicit CudaTarget(CudaTargetOptions options) : options(std::move(options)) {}

  StringRef getName() const override { return "cuda"; }

  std::string describe() const override {
    return "NVIDIA GPUs, " + options.gpuArch +
           " (PTX compiled by the CUDA driver when the model is created)";
  }

  void registerDialects(DialectRegistry &registry) const override {
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
    pm.addNestedPass<func::FuncOp>(std::make_unique<TileParallelLoops>());
    pm.addNestedPass<func::FuncOp>(createParallelLoopToGpuPass());
    pm.addNestedPass<func::FuncOp>(std::make_unique<CheckNoHostLoops>());
    pm.addPass(createLowerAffinePass());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createGpuKernelOutliningPass());
    pm.addPass(std::make_unique<MergeGpuModules>());
    pm.addNestedPass<gpu::GPUModuleOp>(std::make_unique<ExpandMathInKernels>());

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

ArrayRef<StringRef> mlir::tfc::getCudaArchitectures() {
  return cudaArchitectures();
}

std::unique_ptr<Target> mlir::tfc::createCudaTarget(CudaTargetOptions options) {
  return std::make_unique<CudaTarget>(std::move(options));
}
