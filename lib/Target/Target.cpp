//===- Target.cpp - what every target shares ------------------------------===//

#include "tfc/Target/Target.h"

#include "mlir/Dialect/Bufferization/Transforms/OneShotAnalysis.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
using namespace mlir::tfc;

Target::~Target() = default;

void mlir::tfc::addModelBufferization(OpPassManager &pm) {
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  pm.addPass(bufferization::createEmptyTensorToAllocTensorPass());
  bufferization::OneShotBufferizationOptions options;
  options.bufferizeFunctionBoundaries = true;
  options.setFunctionBoundaryTypeConversion(
      bufferization::LayoutMapOption::IdentityLayoutMap);
  options.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(options));
}

std::string EmitOptions::pathFor(const Twine &file) const {
  llvm::SmallString<256> path(llvm::sys::path::parent_path(outputStem));
  llvm::sys::path::append(path, file);
  return std::string(path);
}

/// Opens `path` and lets `write` fill it, printing the error (tfc: error:
/// ...) when it cannot be opened.
static LogicalResult
writeFile(StringRef path, llvm::function_ref<void(llvm::raw_ostream &)> write) {
  std::string error;
  auto file = openOutputFile(path, &error);
  if (!file) {
    llvm::errs() << "tfc: error: " << error << "\n";
    return failure();
  }
  write(file->os());
  file->keep();
  return success();
}

LogicalResult mlir::tfc::writeOutputFile(StringRef path, StringRef contents) {
  return writeFile(path, [&](llvm::raw_ostream &os) { os << contents; });
}

LogicalResult mlir::tfc::writeModuleFile(StringRef path, ModuleOp module) {
  return writeFile(path, [&](llvm::raw_ostream &os) {
    module.print(os, OpPrintingFlags().elideLargeElementsAttrs(16));
  });
}
