//===- Target.cpp - what every target shares ------------------------------===//

#include "tfc/Target/Target.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
using namespace mlir::tfc;

Target::~Target() = default;

std::string EmitOptions::pathFor(const Twine &file) const {
  llvm::SmallString<256> path(llvm::sys::path::parent_path(outputStem));
  llvm::sys::path::append(path, file);
  return std::string(path);
}

LogicalResult mlir::tfc::writeOutputFile(StringRef path, StringRef contents) {
  std::string error;
  auto file = openOutputFile(path, &error);
  if (!file) {
    llvm::errs() << "tfc: error: " << error << "\n";
    return failure();
  }
  file->os() << contents;
  file->keep();
  return success();
}
