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

/// Runs libonnx's model checker. `modelDir` resolves external-data paths.
/// Returns an empty string when the model passes.
std::string checkModel(const onnx::ModelProto &model,
                       const std::string &modelDir);

/// Adds libonnx's inferred value_info to the graph, best effort: node-level
/// inference errors are not fatal. Returns an empty string or a warning.
std::string inferShapes(onnx::ModelProto &model);

/// The newest opset of the default domain this libonnx knows the schemas of.
int newestKnownOpset();

/// The opset that introduced the definition of `opType` (default domain) in
/// force at `opset`, or -1 when libonnx knows no such op at that opset.
int opDefinitionSince(const std::string &opType, int opset);

} // namespace mlir::tfc::onnx_loader

#endif // TFC_LIB_IMPORT_ONNXMODELLOADER_H
