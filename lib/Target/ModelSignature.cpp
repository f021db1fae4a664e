//===- ModelSignature.cpp - a compiled model's inputs and outputs ---------===//

#include "tfc/Target/ModelSignature.h"

using namespace mlir;


int mlir::tfc::getOnnxDtype(Type type) {
  if (type.isF32()) return 1;
  if (type.isUnsignedInteger(8)) return 2;
  if (type.isSignlessInteger(8)) return 3;
  if (type.isUnsignedInteger(16)) return 4;
  if (type.isSignlessInteger(16)) return 5;
  if (type.isSignlessInteger(32)) return 6;
  if (type.isSignlessInteger(64)) return 7;
  if (type.isSignlessInteger(1)) return 9;
  if (type.isF16()) return 10;
  if (type.isF64()) return 11;
  if (type.isUnsignedInteger(32)) return 12;
  if (type.isUnsignedInteger(64)) return 13;
  if (type.isBF16()) return 16;
  return 0;
}

const char *mlir::tfc::getOnnxDtypeName(int dtype) {
  switch (dtype) {
  case 1: return "float32";
  case 2: return "uint8";
  case 3: return "int8";
  case 4: return "uint16";
  case 5: return "int16";
  case 6: return "int32";
  case 7: return "int64";
  case 9: return "bool";
  case 10: return "float16";
  case 11: return "float64";
  case 12: return "uint32";
  case 13: return "uint64";
  case 16: return "bfloat16";
  }
  return "unknown";
}

unsigned mlir::tfc::getOnnxDtypeBytes(int dtype) {
  switch (dtype) {
  case 2: case 3: case 9: return 1;
  case 4: case 5: case 10: case 16: return 2;
  case 1: case 6: case 12: return 4;
  case 7: case 11: case 13: return 8;
  }
  return 0;
}

static FailureOr<tfc::TensorSignature>
describeTensor(func::FuncOp graph, Type type, DictionaryAttr attrs,
               StringRef kind, unsigned index) {
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!tensorType)
    return graph.emitError() << kind << " " << index << " is not a ranked tensor";
  tfc::TensorSignature tensor;
  auto name = attrs ? attrs.getAs<StringAttr>("tfm.name") : StringAttr();
  tensor.name = name ? name.str() : (kind + Twine("_") + Twine(index)).str();
  tensor.onnxDtype = tfc::getOnnxDtype(tensorType.getElementType());
  if (!tensor.onnxDtype)
    return graph.emitError() << kind << " '" << tensor.name
                             << "' has element type "
                             << tensorType.getElementType()
                             << ", which the runtime cannot pass";
  if (tensorType.getRank() > tfc::kMaxTensorRank)
    return graph.emitError() << kind << " '" << tensor.name << "' has rank "
                             << tensorType.getRank() << "; the runtime passes "
                             << "tensors up to rank " << tfc::kMaxTensorRank;
  tensor.elementBytes =
      std::max<unsigned>(1, tensorType.getElementTypeBitWidth() / 8);
  auto dimParams = attrs ? attrs.getAs<ArrayAttr>("tfm.dim_params") : ArrayAttr();
  for (int64_t i = 0; i < tensorType.getRank(); ++i) {
    tensor.dims.push_back(tensorType.isDynamicDim(i) ? -1
                                                     : tensorType.getDimSize(i));
    std::string dimName;
    if (dimParams && i < (int64_t)dimParams.size())
      if (auto str = dyn_cast<StringAttr>(dimParams[i]))
        dimName = str.str();
    tensor.dimNames.push_back(tensorType.isDynamicDim(i) ? dimName : "");
  }
  return tensor;
}

FailureOr<tfc::ModelSignature> mlir::tfc::getModelSignature(func::FuncOp graph) {
  ModelSignature signature;
  FunctionType type = graph.getFunctionType();
  for (unsigned i = 0; i < type.getNumInputs(); ++i) {
    auto tensor = describeTensor(graph, type.getInput(i), graph.getArgAttrDict(i),
                                 "input", i);
    if (failed(tensor))
      return failure();
    signature.inputs.push_back(*tensor);
  }
  for (unsigned i = 0; i < type.getNumResults(); ++i) {
    auto tensor = describeTensor(graph, type.getResult(i),
                                 graph.getResultAttrDict(i), "output", i);
    if (failed(tensor))
      return failure();
    signature.outputs.push_back(*tensor);
  }
  if (signature.outputs.empty())
    return graph.emitError("the graph has no outputs");
  return signature;
}

bool mlir::tfc::isValidModelName(StringRef name) {
  if (name.empty() || !(isalpha(name[0]) || name[0] == '_'))
    return false;
  return llvm::all_of(name, [](char c) { return isalnum(c) || c == '_'; });
}

