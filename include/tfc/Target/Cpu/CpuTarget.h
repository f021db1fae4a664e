//===- CpuTarget.h - the CPU code generation target -------------*- C++ -*-===//

#ifndef TFC_TARGET_CPU_CPUTARGET_H
#define TFC_TARGET_CPU_CPUTARGET_H

#include "tfc/Target/CpuCodegen.h"
#include "tfc/Target/Target.h"

#include <memory>
#include <string>

namespace mlir::tfc {

struct CpuTargetOptions {
  /// The machine (getHostCpuMachine() for this one); it decides the
  /// kernels' instruction set (getKernelIsa).
  CpuMachine machine;
  /// libtfc_runtime.a, linked into the libraries the target writes.
  std::string runtimeLibrary;
  /// --sanitize=address (objects only).
  ObjectOptions object;
  /// --kernel-report, --sparse-threshold.
  KernelSelectionOptions selection;
};

/// The CPU target: kernel selection and the generic lowering to the LLVM
/// dialect, then weights placement, LLVM IR with the runtime's entry point,
/// an object for the machine, and a static or shared library with the
/// runtime.
std::unique_ptr<Target> createCpuTarget(CpuTargetOptions options);

} // namespace mlir::tfc

#endif // TFC_TARGET_CPU_CPUTARGET_H
