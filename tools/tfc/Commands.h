//===- Commands.h - the subcommands of the tfc driver -----------*- C++ -*-===//

#ifndef TFC_TOOLS_TFC_COMMANDS_H
#define TFC_TOOLS_TFC_COMMANDS_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/CommandLine.h"

#include "tfc/Import/OnnxImporter.h"
#include "tfc/Pipeline/Compiler.h"
#include "tfc/Target/Cpu/CpuTarget.h"

#include <string>
#include <vector>

namespace mlir::tfc::driver {

extern llvm::cl::SubCommand importCommand, compileCommand, runCommand,
    generateCommand;
extern llvm::cl::OptionCategory importCategory, compileCategory, runCategory,
    generateCategory;

int runImport(MLIRContext &context);
int runCompile(MLIRContext &context);
int runRun(MLIRContext &context);
int runGenerate(MLIRContext &context);

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

/// The runtime library for code of architecture `arch` ("" for the host's):
/// $TFC_RUNTIME_LIB, else lib/libtfc_runtime.a beside tfc's bin directory,
/// or lib/<arch>/libtfc_runtime.a for another architecture.
std::string findRuntimeLibrary(StringRef arch = "");

/// Set by main: argv[0], for finding files installed next to tfc.
extern const char *executablePath;

} // namespace mlir::tfc::driver

#endif // TFC_TOOLS_TFC_COMMANDS_H
