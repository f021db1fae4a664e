//===- Target.h - what a code generation target provides -------*- C++ -*-===//
//
// The compile pipeline (include/tfc/Pipeline/Compiler.h) is the same for
// every target up to the optimized tfm graph; a Target takes it from there:
// its lowering passes (kernel selection, the generic lowering, its own
// dialects down to LLVM), then the files it writes. The CPU target
// (include/tfc/Target/Cpu/CpuTarget.h) is one; a GPU target is another.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_TARGET_TARGET_H
#define TFC_TARGET_TARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "tfc/Target/ModelSignature.h"

#include <string>

namespace mlir::tfc {

/// What a compile writes. The IR kinds stop the pipeline where they are
/// taken: the optimized graph (Tfm), the lowered module (Mlir), LLVM IR,
/// the GPU kernels' PTX (Ptx, the cuda target).
enum class EmitKind { Object, StaticLibrary, SharedLibrary, Tfm, Mlir, LlvmIr, Ptx };

/// Where the weights go: the object's read-only data, a file beside it, or
/// whichever suits their size.
enum class WeightsPlacement { Auto, Embed, File };

/// Where and what a target writes.
struct EmitOptions {
  std::string outputStem; // out/model: out/model.o, out/libmodel.so, ...
  std::string modelName;  // C identifier, prefix of the exported symbols
  EmitKind emit = EmitKind::SharedLibrary;
  WeightsPlacement weights = WeightsPlacement::Auto;

  /// `outputStem`'s directory joined with `file`.
  std::string pathFor(const Twine &file) const;
};

class Target {
public:
  virtual ~Target();

  /// A short name for messages ("cpu").
  virtual StringRef getName() const = 0;

  /// What the code is compiled for and where it runs, one line for the
  /// model's header and definition (e.g. "x86_64, CPU x86-64-v3, AVX2
  /// kernels: runs on any x86-64 CPU with AVX2, ...").
  virtual std::string describe() const = 0;

  /// What tfc_model_create checks of the machine, for the model's header.
  virtual std::string describeRequirements() const {
    return "tfc_model_create refuses a CPU without the kernels' instruction "
           "set; tfc_model_target() says the same at run time.";
  }

  /// The dialects and interfaces the lowering creates.
  virtual void registerDialects(DialectRegistry &registry) const = 0;

  /// Adds the passes that take the optimized tfm graph to the target's
  /// lowered form.
  virtual void buildLoweringPipeline(OpPassManager &pm) const = 0;

  /// Writes what `options.emit` asks for from the lowered module (all but
  /// the Tfm kind, which the pipeline writes) and sets `producedPath` to
  /// the file the user asked for. The graph function is `graphName`.
  /// `timing` nests the target's stages.
  virtual LogicalResult emit(ModuleOp lowered, StringRef graphName,
                             const ModelSignature &signature,
                             const EmitOptions &options, TimingScope &timing,
                             std::string &producedPath) = 0;
};

/// Adds the bufferization every target's lowering shares: empty tensors
/// made allocations, then one-shot bufferization with function boundaries
/// as plain row-major memrefs (the layout the entry point builds from the
/// caller's tensors).
void addModelBufferization(OpPassManager &pm);

/// Writes `contents` to `path`, printing the error (tfc: error: ...) when
/// it cannot.
LogicalResult writeOutputFile(StringRef path, StringRef contents);

/// Writes `module` as text to `path` (--emit=tfm, --emit=mlir), elements
/// attributes of more than 16 elements elided (the weights), printing the
/// error when it cannot.
LogicalResult writeModuleFile(StringRef path, ModuleOp module);

} // namespace mlir::tfc

#endif // TFC_TARGET_TARGET_H
