//===- tfc.cpp - the tfc command-line driver ------------------------------===//
//
// `tfc <command> [options]`. Commands:
//   import   ONNX model -> tfm IR (text), or a summary of it
//   compile  ONNX model -> object, static or shared library + C header
//   run      run a model (.onnx, compiled on the fly, or a built .so)
//   generate greedy-decode tokens with a decoder model library
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "llvm/Support/FormatVariadic.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

#include "tfm/TfmDialect.h"

using namespace mlir;
namespace cl = llvm::cl;

const char *tfc::driver::executablePath = nullptr;


//===----------------------------------------------------------------------===//
// Diagnostics
//===----------------------------------------------------------------------===//

/// `text` with control characters (bar newlines and tabs) as \xNN: names
/// in messages come from the model, and an escape sequence in one would
/// reach the user's terminal.
static std::string printable(StringRef text) {
  std::string result;
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
      result += llvm::formatv("\\x{0:x-2}", c).str();
    else
      result.push_back(c);
  }
  return result;
}

/// Prints `file: error: message`: the node (when any) is named in the
/// message, and ONNX files have no line numbers worth printing.
static LogicalResult printDiagnostic(Diagnostic &diag) {
  llvm::raw_ostream &os = llvm::errs();
  if (auto file = diag.getLocation()->findInstanceOf<FileLineColLoc>()) {
    os << file.getFilename().getValue();
    if (file.getLine() != 0)
      os << ':' << file.getLine() << ':' << file.getColumn();
    os << ": ";
  } else {
    os << "tfc: ";
  }
  switch (diag.getSeverity()) {
  case DiagnosticSeverity::Error:
    os << "error: ";
    break;
  case DiagnosticSeverity::Warning:
    os << "warning: ";
    break;
  default:
    os << "note: ";
    break;
  }
  os << printable(diag.str()) << '\n';
  for (Diagnostic &note : diag.getNotes())
    os << "  note: " << printable(note.str()) << '\n';
  return success();
}

LogicalResult tfc::driver::parseInputShapes(ArrayRef<std::string> specs,
                                            OnnxImportOptions &options) {
  for (const std::string &spec : specs) {
    auto [name, dims] = StringRef(spec).split('=');
    std::optional<SmallVector<int64_t>> shape = tfc::parseShape(dims);
    if (name.empty() || !StringRef(spec).contains('=') || !shape) {
      llvm::errs() << "tfc: error: --input-shape expects NAME=DIMS such as "
                      "input_ids=1x128, got '"
                   << spec << "'\n";
      return failure();
    }
    options.inputShapes[name] = *shape;
  }
  return success();
}

OwningOpRef<ModuleOp> tfc::driver::loadModel(StringRef path,
                                             const OnnxImportOptions &options,
                                             MLIRContext &context) {
  if (!path.ends_with(".mlir"))
    return tfc::importOnnxModel(path, options, &context);
  context.loadDialect<tfm::TfmDialect, func::FuncDialect>();
  return parseSourceFile<ModuleOp>(path, &context);
}

std::string tfc::driver::findRuntimeLibrary(StringRef arch) {
  if (auto fromEnv = llvm::sys::Process::GetEnv("TFC_RUNTIME_LIB"))
    return *fromEnv;
  std::string executable = llvm::sys::fs::getMainExecutable(
      executablePath, reinterpret_cast<void *>(&findRuntimeLibrary));
  llvm::SmallString<256> path(llvm::sys::path::parent_path(executable));
  llvm::sys::path::append(path, "..", "lib");
  if (!arch.empty())
    llvm::sys::path::append(path, arch);
  llvm::sys::path::append(path, "libtfc_runtime.a");
  return std::string(path);
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  tfc::driver::executablePath = argv[0];
  cl::HideUnrelatedOptions({&tfc::driver::importCategory,
                            &tfc::driver::compileCategory,
                            &tfc::driver::runCategory,
                            &tfc::driver::generateCategory});
  cl::ParseCommandLineOptions(
      argc, argv,
      "tfc: an ahead-of-time compiler for transformer models\n\n"
      "Commands (run `tfc <command> --help` for each):\n"
      "  import    ONNX model -> tfm IR, or a summary of it (--summary)\n"
      "  compile   ONNX model -> shared/static library or object + C header\n"
      "  run       run a model on .npy inputs (or generated ones); --bench N\n"
      "  generate  greedy-decode token ids with a decoder model library\n");

  DialectRegistry registry;
  tfc::registerCpuCodegenDialects(registry);
  MLIRContext context(registry);
  context.getDiagEngine().registerHandler(printDiagnostic);

  if (tfc::driver::importCommand)
    return tfc::driver::runImport(context);
  if (tfc::driver::compileCommand)
    return tfc::driver::runCompile(context);
  if (tfc::driver::runCommand)
    return tfc::driver::runRun(context);
  if (tfc::driver::generateCommand)
    return tfc::driver::runGenerate(context);
  llvm::errs() << "tfc: error: no command given; run `tfc --help`\n";
  return 1;
}
