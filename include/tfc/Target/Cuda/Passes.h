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

#include <cstdint>
#include <memory>

namespace mlir::tfc::cuda {

/// Threads per block of the loop-nest kernels: the innermost dim of each
/// nest is tiled by this.
constexpr int64_t kThreadsPerBlock = 256;

/// Whether `op` only stores into i1 flags (the generic lowering's range
/// checks over the inputs' indices), which stay on the host.
bool onlySetsHostFlags(Operation *op);

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

/// Registers the four with the pass registry (tfc-opt).
void registerCudaPasses();

} // namespace mlir::tfc::cuda

#endif // TFC_TARGET_CUDA_PASSES_H
