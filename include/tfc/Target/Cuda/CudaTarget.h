//===- CudaTarget.h - the GPU (CUDA) code generation target -----*- C++ -*-===//
//
// tfc compile --target=cuda: the graph's loops mapped onto GPU blocks and
// threads, outlined into kernels, and compiled to PTX by LLVM's NVPTX
// backend in process (docs/Gpu.md). This first part writes the kernels'
// PTX (--emit=ptx) and the lowered module (--emit=mlir); the library that
// runs them through the runtime's device layer comes next.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_TARGET_CUDA_CUDATARGET_H
#define TFC_TARGET_CUDA_CUDATARGET_H

#include "tfc/Target/Target.h"

#include <memory>
#include <string>

namespace mlir::tfc {

struct CudaTargetOptions {
  /// The GPU architecture the PTX is for (sm_80, sm_89, sm_90; see
  /// getCudaArchitectures).
  std::string gpuArch = "sm_90";
  /// The runtime archive the libraries link (it has the device layer).
  std::string runtimeLibrary;
  /// f32 linears on the tensor cores as TF32 products (--gpu-tf32).
  bool tf32 = false;
};

/// The architectures --gpu-arch accepts: Ampere (sm_80), Ada (sm_89),
/// Hopper (sm_90).
ArrayRef<StringRef> getCudaArchitectures();

std::unique_ptr<Target> createCudaTarget(CudaTargetOptions options);

/// The dialects and interfaces the cuda lowering creates (GPU, NVVM, the
/// NVVM target's serialization and LLVM's NVPTX backend), for the target
/// and for tfc-opt.
void registerCudaCodegenDialects(DialectRegistry &registry);

} // namespace mlir::tfc

#endif // TFC_TARGET_CUDA_CUDATARGET_H
