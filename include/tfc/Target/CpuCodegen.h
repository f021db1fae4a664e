//===- CpuCodegen.h - the CPU target's steps ---------------------*- C++ -*-===//
//
// What the CPU target (Cpu/CpuTarget.h) does with an optimized graph: lower
// it to the LLVM dialect, place the weights, translate to LLVM IR with an
// entry point and a model definition the runtime reads, optimize for the
// machine and emit an object file. Each step is usable alone (tfc-opt, the
// tests); CpuTarget strings them together.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_TARGET_CPUCODEGEN_H
#define TFC_TARGET_CPUCODEGEN_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"
#include "tfc/Target/ModelSignature.h"
#include "tfc/Target/Target.h"

#include <memory>
#include <string>
#include <vector>

namespace llvm {
class LLVMContext;
class Triple;
class Module;
class raw_pwrite_stream;
} // namespace llvm

namespace mlir::tfc {

/// Registers the dialects and external interface models (bufferization,
/// deallocation) that the CPU pipeline needs in `registry`.
void registerCpuCodegenDialects(DialectRegistry &registry);

/// The machine to generate code for: the host's CPU and features unless
/// overridden (`cpu`, `features` in LLVM's "+avx2,-avx512f" syntax).
struct CpuMachine {
  std::string triple;
  std::string cpu;
  std::string features;
  /// The CPU and features are this machine's (no --target-cpu): the code
  /// may use anything this CPU has, and runs only on CPUs that have it too.
  bool isHost = false;
};
CpuMachine getHostCpuMachine();

/// Checks that LLVM knows `machine`'s triple and CPU; else sets `error`
/// (naming the x86-64 levels people deploy to) and fails.
LogicalResult verifyCpuMachine(const CpuMachine &machine, std::string &error);

/// One line for the model's header and definition: what the model was
/// compiled for and where it runs, e.g. "x86_64, CPU x86-64-v3, AVX2
/// kernels: runs on any x86-64 CPU with AVX2 and FMA".
std::string describeCpuMachine(const CpuMachine &machine);

/// The instruction set whose kernels a model compiled for `target` calls:
/// "avx512" (AVX-512 F, BW, DQ, VL: x86-64-v4), "avx2" (AVX2 and FMA:
/// x86-64-v3), "neon" (every AArch64 CPU), or, where the runtime has no
/// kernels ("x86-64" before AVX2, other architectures), that name; the
/// model then runs on generated code alone.
std::string getKernelIsa(const CpuMachine &machine);

/// What kernel selection is told beyond the instruction set.
struct KernelSelectionOptions {
  /// A remark per op: the kernel chosen and what it found (a sparse
  /// weight), or why none (--kernel-report).
  bool remarks = false;
  /// The fraction of zero blocks (1x16 for f32, 4x16 for int8) from which
  /// a weight runs in a block-sparse kernel (--sparse-threshold; above 1:
  /// never; negative: each kernel's measured break-even on the instruction
  /// set).
  double sparseThreshold = -1;
};

/// Where the block-sparse linear kernel of `kernelIsa` starts to beat the
/// dense one: the fraction of zero 1x16 blocks (of zero 4x16 blocks for the
/// int8 kernels) from which kernel selection takes it unless told otherwise
/// (bench/sparse-break-even [--int8] measures it).
double getDefaultSparseThreshold(StringRef kernelIsa, bool int8 = false);

/// Adds the passes that take a module of tfm ops to the LLVM dialect:
/// kernel selection for `kernelIsa` (see getKernelIsa), tfm -> linalg on
/// tensors -> buffers -> loops -> LLVM dialect.
void buildCpuLoweringPipeline(OpPassManager &pm, StringRef kernelIsa,
                              const KernelSelectionOptions &selection = {});

/// Where the weights of a compiled model live.
struct WeightsFile {
  std::string fileName;   // recorded in the model; empty when embedded
  uint64_t size = 0;      // bytes of the file, header included
  uint64_t id = 0;        // hash of the contents, also in the file's header
  size_t numTensors = 0;
};

/// Moves the weights of `lowered` (LLVM dialect) of at least `minBytes`
/// into the file `path`: their globals become offsets from
/// `<name>_weights_base`, a pointer the runtime sets to the file's mapping.
/// The file starts with a 64-byte header (magic "TFCWGHTS", version, id,
/// size); each tensor starts at a multiple of 64 bytes.
FailureOr<WeightsFile> externalizeWeights(ModuleOp lowered, StringRef name,
                                          StringRef path, uint64_t minBytes);

/// The bytes of the weights `lowered` would embed (globals of at least
/// `minBytes`), to choose between embedding and a weights file.
uint64_t countWeightBytes(ModuleOp lowered, uint64_t minBytes);

/// What the library of a GPU model adds to its definition (tfc_abi.h's
/// tfc_gpu_program): the kernels' PTX, the kernels the host code launches
/// by index, and the weights the runtime uploads, which the graph function
/// takes as trailing arguments (tfc-cuda-weights-as-arguments).
struct GpuProgram {
  std::string ptx;
  std::string arch;
  std::vector<std::string> kernels;
  /// The LLVM globals of the weights, in the order of the arguments.
  std::vector<std::string> weights;
};

/// What a model definition records of its build.
struct ModelBuild {
  /// describeCpuMachine's line (tfc_model_target at run time).
  std::string target;
  /// The kernels' instruction set (TFC_RT_ISA_*; 0 for none), which
  /// tfc_model_create checks the CPU for.
  uint32_t isa = 0;
  /// The GPU part of a model compiled for the GPU; null for the CPU.
  const GpuProgram *gpu = nullptr;
};

/// Translates `lowered` (LLVM dialect, with the graph function `graphName`)
/// to LLVM IR and adds what the runtime needs: `<name>_entry`, the model
/// definition and `<name>_model_def()`. The graph function becomes internal.
FailureOr<std::unique_ptr<llvm::Module>>
buildModelModule(ModuleOp lowered, StringRef graphName,
                 const ModelSignature &signature, StringRef name,
                 const WeightsFile &weights, const ModelBuild &build,
                 llvm::LLVMContext &context);

/// How the object is built beyond its target.
struct ObjectOptions {
  /// Instrument the model's code with AddressSanitizer (`tfc compile
  /// --sanitize=address`): for testing, linked into a program built with
  /// -fsanitize=address and a runtime built with it too.
  bool addressSanitizer = false;
};

/// Writes what `output.emit` asks of the translated `module`: the LLVM IR
/// (name.ll), or, optimized for `machine`, the object, lib<name>.a (the object and the runtime archive's members,
/// written in process) or lib<name>.so (linked by the C compiler driver).
/// Both targets' libraries end here: a GPU model's host code is CPU code.
LogicalResult emitModelLibrary(llvm::Module &module, const CpuMachine &machine,
                               const ObjectOptions &objectOptions,
                               StringRef runtimeLibrary,
                               const EmitOptions &output, TimingScope &timing,
                               std::string &producedPath);

/// Optimizes `module` for `machine` and writes an object file to `out`.
LogicalResult emitObjectFile(llvm::Module &module, const CpuMachine &machine,
                             llvm::raw_pwrite_stream &out, std::string &error,
                             const ObjectOptions &options = {});

} // namespace mlir::tfc

#endif // TFC_TARGET_CPUCODEGEN_H
