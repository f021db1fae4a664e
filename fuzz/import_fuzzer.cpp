//===- import_fuzzer.cpp - libFuzzer target: the ONNX importer ------------===//
//
// Each input is a model file, binary protobuf or ONNX text (built twice:
// tfc-fuzz-import takes only binary inputs, tfc-fuzz-import-text only text,
// so that each corpus stays one kind). It is imported with the options
// `tfc import` and `tfc compile` use by default (libonnx's checker and
// shape inference included), then the graph passes of `tfc compile` run on
// it and the module is verified and printed. Any crash, sanitizer report
// or hang is a bug: bad models must end in a diagnostic.
//
//===----------------------------------------------------------------------===//

#include "tfc/Import/OnnxImporter.h"
#include "tfc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <fcntl.h>
#include <string>
#include <unistd.h>

using namespace mlir;

namespace {

/// The model file the importer reads: in a directory of its own, so that
/// external-data locations resolve against an empty folder.
std::string modelPath;

/// What the importer's reader takes for ONNX text: the first non-blank byte
/// is `<` or `#`.
bool looksLikeText(const uint8_t *data, size_t size) {
  for (size_t i = 0; i < size; ++i)
    if (!isspace(data[i]))
      return data[i] == '<' || data[i] == '#';
  return false;
}

bool writeModel(const uint8_t *data, size_t size) {
  int fd = ::open(modelPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0)
    return false;
  bool ok = true;
  while (size > 0 && ok) {
    ssize_t n = ::write(fd, data, size);
    ok = n > 0;
    data += n > 0 ? n : 0;
    size -= n > 0 ? n : 0;
  }
  ::close(fd);
  return ok;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  char directory[] = "/tmp/tfc-fuzz-import-XXXXXX";
  if (!::mkdtemp(directory))
    std::abort();
  modelPath = std::string(directory) + "/model.onnx";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
#ifdef TFC_FUZZ_TEXT
  if (!looksLikeText(data, size))
    return -1; // not for this target's corpus
#else
  if (looksLikeText(data, size))
    return -1;
#endif
  if (!writeModel(data, size))
    std::abort();

  // A context per input: weights blobs and interned names do not pile up
  // across inputs. No threads: the importer forks for libonnx.
  DialectRegistry registry;
  registry.insert<func::FuncDialect, tfm::TfmDialect>();
  MLIRContext context(registry, MLIRContext::Threading::DISABLED);
  ScopedDiagnosticHandler quiet(&context, [](Diagnostic &) { return success(); });

  tfc::OnnxImportOptions options;
  OwningOpRef<ModuleOp> module = tfc::importOnnxModel(modelPath, options, &context);
  if (!module)
    return 0;
  PassManager pm(&context);
  tfc::buildGraphOptimizationPipeline(pm, tfc::GraphOptimizationOptions());
  if (succeeded(pm.run(*module)) && failed(verify(*module)))
    std::abort(); // passes must leave valid IR or fail
  module->print(llvm::nulls(), OpPrintingFlags().elideLargeElementsAttrs(16));
  return 0;
}
