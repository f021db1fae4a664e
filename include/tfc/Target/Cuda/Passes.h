//===- Passes.h - the cuda target's own passes ------------------*- C++ -*-===//
//
// The passes that take the bufferized graph onto GPU launches and its
// kernels to what LLVM's NVPTX backend compiles without a CUDA toolkit
// (lib/Target/Cuda/CudaTarget.cpp strings them into the lowering). One file
// each, named after its flag; tfc-opt runs them one at a time.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_TARGET_CUDA_PASSES_H
#define TFC_TARGET_CUDA_PASSES_H

#include "mlir/Pass/Pass.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <memory>

namespace mlir::tfc::cuda {

/// Threads per block of the loop-nest kernels: the innermost dim of each
/// nest is tiled by this.
constexpr int64_t kThreadsPerBlock = 256;

/// The graph function's attribute listing the globals that
/// tfc-cuda-weights-as-arguments made its trailing arguments, in order.
constexpr llvm::StringLiteral kWeightsAttr = "tfc.cuda.weights";
/// The module's attribute listing the kernels' names in the order of the
/// indices that tfc_rt_cuda_launch calls take
/// (tfc-cuda-launch-through-runtime).
constexpr llvm::StringLiteral kKernelsAttr = "tfc.cuda.kernels";
/// The runtime functions the host code calls (lib/Runtime/cuda_model.c).
constexpr llvm::StringLiteral kLaunchFunction = "tfc_rt_cuda_launch";
constexpr llvm::StringLiteral kReadFunction = "tfc_rt_cuda_read";

/// tfc-cuda-flash-attention (func.func, on the graph): bf16 attention as
/// one tensor-core kernel.
std::unique_ptr<Pass> createFlashAttentionPass();
/// tfc-cuda-norm-kernels (func.func, on the graph): layer and RMS norms,
/// a warp per row.
std::unique_ptr<Pass> createNormKernelsPass();
/// tfc-cuda-fuse-elementwise (func.func): linalg's elementwise fusion,
/// without computing a producer again for each use of an element.
std::unique_ptr<Pass> createFuseElementwisePass();
/// tfc-cuda-copies-to-linalg (func.func): buffer copies as linalg.copy, so
/// that they become kernels.
std::unique_ptr<Pass> createCopiesToLinalgPass();
/// tfc-cuda-tensor-core-linear (func.func, on the graph): bf16-weight
/// linears, epilogue included, on tensor cores; with `tf32`, f32 ones too.
std::unique_ptr<Pass> createTensorCoreLinearPass(bool tf32 = false);
/// tfc-cuda-parallel-checks (func.func): the range checks' flag loops as
/// parallel loops.
std::unique_ptr<Pass> createParallelChecksPass();

/// tfc-cuda-tile-parallel-loops (func.func): loop nests tiled and mapped
/// for blocks and threads.
std::unique_ptr<Pass> createTileParallelLoopsPass();
/// tfc-cuda-check-no-host-loops (func.func): refuses tensor work left on
/// the host after the launches are formed.
std::unique_ptr<Pass> createCheckNoHostLoopsPass();
/// tfc-cuda-merge-gpu-modules (builtin.module): one GPU module per model.
std::unique_ptr<Pass> createMergeGpuModulesPass();
/// tfc-cuda-expand-math (gpu.module): math without libdevice.
std::unique_ptr<Pass> createExpandMathPass();

/// tfc-cuda-weights-as-arguments (func.func): the globals the graph reads
/// become trailing arguments, for the runtime's device copies.
std::unique_ptr<Pass> createWeightsAsArgumentsPass();
/// tfc-cuda-host-reads (builtin.module): the host's loads of device buffers
/// as runtime reads.
std::unique_ptr<Pass> createHostReadsPass();
/// tfc-cuda-launch-through-runtime (builtin.module, LLVM dialect): kernel
/// launches as calls of the runtime.
std::unique_ptr<Pass> createLaunchThroughRuntimePass();
/// Registers them all with the pass registry (tfc-opt).
void registerCudaPasses();

} // namespace mlir::tfc::cuda

#endif // TFC_TARGET_CUDA_PASSES_H
