//===- ModelSignature.h - a compiled model's interface, for any target -*- C++ -*-===//
//
// What every target's output shares: the model's inputs and outputs as the
// runtime's tfc_tensor_info describes them, and the C header an app
// includes (the runtime API plus the model's own declarations).
//
//===----------------------------------------------------------------------===//

#ifndef TFC_TARGET_MODELSIGNATURE_H
#define TFC_TARGET_MODELSIGNATURE_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>

namespace mlir::tfc {

/// One input or output as the runtime's tfc_tensor_info describes it.
struct TensorSignature {
  std::string name;
  int onnxDtype = 0;              // ONNX TensorProto.DataType, as tfc_dtype
  SmallVector<int64_t> dims;      // -1 where dynamic
  SmallVector<std::string> dimNames; // "" where unnamed
  unsigned elementBytes = 0;
  int sequenceDim = -1; // --decoder: the dim along the sequence, or -1
};

struct ModelSignature {
  SmallVector<TensorSignature> inputs;
  SmallVector<TensorSignature> outputs;
  /// --decoder: the sequence states the instance keeps (tfm-sequence-state).
  unsigned sequenceStates = 0;
};

/// The most dims of a tensor the runtime passes.
constexpr int kMaxTensorRank = 8;

/// The signature of an imported graph function (tfm types, tfm.name and
/// tfm.dim_params attributes). Fails, with a diagnostic, on element types
/// or ranks the runtime cannot represent.
FailureOr<ModelSignature> getModelSignature(func::FuncOp graph);

/// The ONNX element type code of `type`, or 0 when there is none.
int getOnnxDtype(Type type);

/// The name of an ONNX element type code as the runtime prints it
/// ("float32", "int64", ...), or "unknown".
const char *getOnnxDtypeName(int dtype);

/// The bytes of one element of an ONNX element type code, or 0.
unsigned getOnnxDtypeBytes(int dtype);

/// The C header of a compiled model: the runtime API plus
/// `<name>_model_def()` and convenience wrappers. `built` says what the
/// code was compiled for (Target::describe), `requirements` what creating
/// the model checks (Target::describeRequirements).
std::string generateModelHeader(const ModelSignature &signature,
                                StringRef name, StringRef built,
                                StringRef requirements);

/// True when `name` is a valid C identifier (what --name must be).
bool isValidModelName(StringRef name);

/// `text` made a C identifier: other characters become `_`, and a name
/// that would start with a digit (or be empty) gets a `model_` prefix. What
/// `tfc compile` names a model after its file, and `tfc run` expects.
std::string toCIdentifier(StringRef text);

} // namespace mlir::tfc

#endif // TFC_TARGET_MODELSIGNATURE_H
