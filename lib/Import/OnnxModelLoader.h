//===- OnnxModelLoader.h - libonnx calls that may throw ---------*- C++ -*-===//
//
// libonnx reports problems by throwing, and needs RTTI; LLVM and MLIR are
// built without either. Every call into libonnx's parser, checker and shape
// inference therefore lives in OnnxModelLoader.cpp, compiled with exceptions
// and RTTI, behind this exception-free interface. Nothing here touches MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_LIB_IMPORT_ONNXMODELLOADER_H
#define TFC_LIB_IMPORT_ONNXMODELLOADER_H

#include "onnx/onnx_pb.h"

#include <string>

namespace mlir::tfc::onnx_loader {

/// Reads `path` into `model`: ONNX's binary protobuf, or its text syntax when
/// the file starts with `<` or `#` (what libonnx's parser reads). Returns an
/// empty string on success, else what went wrong.
std::string readModel(const std::string &path, onnx::ModelProto &model);

/// Parses ONNX text syntax from memory.
std::string parseModelText(const std::string &text, onnx::ModelProto &model);

/// What libonnx's checker and shape inference made of a model.
struct LibonnxVerdict {
  /// Why the checker rejects the model; empty when it passes.
  std::string checkerError;
  /// Why shape inference stopped early (node-level inference errors are not
  /// fatal), or that it crashed; empty when it ran through.
  std::string inferenceWarning;
};

/// Runs libonnx's model checker (`modelDir` resolves external-data paths)
/// and, when it passes, shape inference, adding the inferred value_info to
/// the graph. Both run in a child process: libonnx crashes on some
/// malformed models (a Conv with stride 0 divides by zero in its shape
/// inference), and a crash there must not take the compiler with it. Only
/// the inferred types come back from the child.
LibonnxVerdict checkAndInferShapes(onnx::ModelProto &model,
                                   const std::string &modelDir);

/// The newest opset of the default domain this libonnx knows the schemas of.
int newestKnownOpset();

/// The opset that introduced the definition of `opType` (default domain) in
/// force at `opset`, or -1 when libonnx knows no such op at that opset.
int opDefinitionSince(const std::string &opType, int opset);

} // namespace mlir::tfc::onnx_loader

#endif // TFC_LIB_IMPORT_ONNXMODELLOADER_H
