//===- OnnxImporter.h - ONNX models into the tfm dialect --------*- C++ -*-===//

#ifndef TFC_IMPORT_ONNXIMPORTER_H
#define TFC_IMPORT_ONNXIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <string>
#include <vector>

namespace mlir::tfc {

/// The lowest and highest opset of ONNX's default domain the importer reads.
constexpr int kMinSupportedOpset = 13;
constexpr int kMaxSupportedOpset = 21;

struct OnnxImportOptions {
  /// Shapes that replace graph inputs' declared ones, by input name
  /// (`--input-shape ids=1x128`): symbolic dims become static.
  llvm::StringMap<llvm::SmallVector<int64_t>> inputShapes;
  /// Run libonnx's checker and shape inference (when it knows the opset).
  bool runOnnxChecker = true;
  /// The name of the generated function.
  std::string functionName = "main";
};

/// Imports the model in `path` (binary .onnx, or ONNX text syntax) into a new
/// module holding one func of tfm ops. On failure, reports one diagnostic
/// through `context` (naming the node, op type, domain and opset where a
/// node is at fault) and returns null.
OwningOpRef<ModuleOp> importOnnxModel(llvm::StringRef path,
                                      const OnnxImportOptions &options,
                                      MLIRContext *context);

/// The ONNX op types (default domain) the importer converts, sorted.
std::vector<std::string> getSupportedOnnxOps();

/// Parses a shape like `1x128` (or `1,128`; `?` keeps a dim symbolic).
std::optional<llvm::SmallVector<int64_t>> parseShape(llvm::StringRef text);

} // namespace mlir::tfc

#endif // TFC_IMPORT_ONNXIMPORTER_H
