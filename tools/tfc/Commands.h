//===- Commands.h - the subcommands of the tfc driver -----------*- C++ -*-===//

#ifndef TFC_TOOLS_TFC_COMMANDS_H
#define TFC_TOOLS_TFC_COMMANDS_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"

#include "tfc/Import/OnnxImporter.h"
#include "tfc/Target/CpuCodegen.h"

#include <string>
#include <vector>

namespace mlir::tfc::driver {

extern llvm::cl::SubCommand importCommand, compileCommand, runCommand;
extern llvm::cl::OptionCategory importCategory, compileCategory, runCategory;

int runImport(MLIRContext &context);
int runCompile(MLIRContext &context);
int runRun(MLIRContext &context);

/// Reads `--input-shape name=DIMS` specs into `options`; prints an error and
/// fails on a malformed one.
LogicalResult parseInputShapes(ArrayRef<std::string> specs,
                               OnnxImportOptions &options);

/// Drops the bytes behind every weight blob of `module`, so that printing it
/// is cheap (the blobs print elided).
void releaseWeightBlobs(ModuleOp module);

/// Loads a model: ONNX (binary or text) through the importer, or tfm IR
/// from a .mlir file.
OwningOpRef<ModuleOp> loadModel(StringRef path, const OnnxImportOptions &options,
                                MLIRContext &context);

/// What `tfc compile` writes.
enum class EmitKind { Object, StaticLibrary, SharedLibrary, Tfm, Mlir, LlvmIr };

/// Where the weights go: the object's read-only data, a file beside it, or
/// whichever suits their size.
enum class WeightsPlacement { Auto, Embed, File };

struct CompileRequest {
  std::string outputStem;   // out/model: out/model.o, out/libmodel.so, ...
  std::string modelName;    // C identifier, prefix of the exported symbols
  EmitKind emit = EmitKind::SharedLibrary;
  CpuTarget target;
  std::string runtimeLibrary; // libtfc_runtime.a
  WeightsPlacement weights = WeightsPlacement::Auto;
  bool showTiming = false;
  bool quiet = false;
  bool fuse = true;          // --no-fuse turns the fusion passes off
  bool fusionReport = false; // --fusion-report
  bool profile = false;      // --profile: time each graph op at run time
  ObjectOptions object;      // --sanitize=address
  std::vector<std::string> disabledFusions; // --disable-fusion
};

/// Compiles an imported model; on success `producedPath` is the library,
/// object or IR file written (the header goes next to it).
LogicalResult compileModel(ModuleOp module, const CompileRequest &request,
                           std::string &producedPath);

/// The runtime library next to the tfc executable (../lib/libtfc_runtime.a),
/// or the one TFC_RUNTIME_LIB names.
std::string findRuntimeLibrary();

/// Set by main: argv[0], for finding files installed next to tfc.
extern const char *executablePath;

} // namespace mlir::tfc::driver

#endif // TFC_TOOLS_TFC_COMMANDS_H
