//===- OnnxImporterImpl.h - importer internals ------------------*- C++ -*-===//
//
// Shared by the importer's driver (OnnxImporter.cpp), the per-op converters
// (OnnxOpConverters.cpp, EinsumConverter.cpp, ResizeConverter.cpp,
// SequenceConverters.cpp) and
// the tensor conversion (OnnxTensors.cpp).
//
//===----------------------------------------------------------------------===//

#ifndef TFC_LIB_IMPORT_ONNXIMPORTERIMPL_H
#define TFC_LIB_IMPORT_ONNXIMPORTERIMPL_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

#include "onnx/onnx_pb.h"

#include <map>
#include <memory>
#include <string>

namespace mlir::tfc::onnx_import {

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

/// The MLIR element type of an ONNX TensorProto data type, or null when tfm
/// has none (strings, complex numbers, 8-bit floats).
Type convertElementType(int32_t onnxType, MLIRContext *context);

/// ONNX's name of a data type ("FLOAT", "INT64", ...), for diagnostics.
std::string onnxTypeName(int32_t onnxType);

/// "[2, 3]", for diagnostics.
std::string formatDims(llvm::ArrayRef<int64_t> dims);

/// A read-only memory mapping of an external-data file, shared by every
/// weight that lives in it.
class MappedFile;

/// Owns what imported weights alias: the parsed model (whose raw_data strings
/// hold inline weights) and the mappings of external-data files. Each weight
/// blob keeps a reference, so the bytes live as long as the MLIR context
/// uses them; nothing is copied.
struct WeightStorage {
  std::shared_ptr<const onnx::ModelProto> model;
  std::string modelDir;
  llvm::StringMap<std::shared_ptr<MappedFile>> mappedFiles;
  /// The tensors (initializers, Constant outputs) read from ONNX's INT4 and
  /// UINT4 types, which import a value to a byte: what must not be taken
  /// for 8-bit (QuantizeLinear's zero point, which sets its range).
  llvm::StringSet<> fourBitTensors;
};

/// ONNX's 4-bit types (onnx 1.16's TensorProto::UINT4 and INT4; Debian's
/// onnx headers predate them).
constexpr int32_t kOnnxUint4 = 21;
constexpr int32_t kOnnxInt4 = 22;

/// Tensors with at most this many elements become `dense` attributes (their
/// values are visible in the IR and to folders); larger ones are
/// `dense_resource` blobs.
constexpr int64_t kMaxInlineElements = 16;

/// Converts a TensorProto to an elements attribute: a `dense_resource` blob
/// aliasing the model's bytes or an external-data mapping, or a `dense`
/// attribute when small. On failure, returns null and sets `error`.
ElementsAttr convertTensor(const onnx::TensorProto &tensor,
                           llvm::StringRef blobName, WeightStorage &storage,
                           MLIRContext *context, std::string &error);

//===----------------------------------------------------------------------===//
// Nodes
//===----------------------------------------------------------------------===//

/// An ONNX sequence: tfc keeps one as the list of its tensors, known while
/// importing (exporters build them from splits of static dims, or in loops
/// the importer unrolls); a sequence never reaches the compiled code.
using Sequence = llvm::SmallVector<Value, 4>;

/// What a converter sees of one ONNX node while it builds tfm ops for it.
/// Errors are collected here and reported once, with the node's identity, by
/// the driver.
class NodeImporter {
public:
  NodeImporter(const onnx::NodeProto &node, int64_t opset, OpBuilder &builder,
               Location loc, llvm::ArrayRef<Value> inputs,
               WeightStorage &storage,
               llvm::ArrayRef<const Sequence *> sequenceInputs = {})
      : node(node), opset(opset), builder(builder), loc(loc), inputs(inputs),
        storage(storage), sequenceInputs(sequenceInputs) {}

  const onnx::NodeProto &node;
  /// The opset of the node's domain the model imports.
  const int64_t opset;
  OpBuilder &builder;
  const Location loc;

  MLIRContext *getContext() const { return builder.getContext(); }

  //===--- Inputs ---------------------------------------------------------===//

  /// The node's inputs as declared, including empty (omitted) ones.
  unsigned getNumInputs() const { return inputs.size(); }
  /// Input `index`, or null when omitted or beyond the declared inputs.
  Value getInput(unsigned index) const {
    return index < inputs.size() ? inputs[index] : Value();
  }
  /// Input `index`, failing with a diagnostic when it is omitted.
  FailureOr<Value> getRequiredInput(unsigned index, llvm::StringRef what);
  /// The values of input `index`, which must be a constant integer tensor
  /// (axes, split sizes), failing with a diagnostic naming `what` otherwise.
  FailureOr<llvm::SmallVector<int64_t>> getConstantInts(unsigned index,
                                                        llvm::StringRef what);
  RankedTensorType getInputType(unsigned index) const {
    return llvm::cast<RankedTensorType>(getInput(index).getType());
  }
  /// Whether input `index` is a tensor of ONNX's INT4 or UINT4 type (which
  /// imports as i8 or ui8, a value to a byte).
  bool isFourBitInput(unsigned index) const {
    return index < static_cast<unsigned>(node.input_size()) &&
           storage.fourBitTensors.contains(node.input(index));
  }
  /// Input `index` as a sequence, failing with a diagnostic naming `what`
  /// when it is a tensor or omitted.
  FailureOr<const Sequence *> getSequenceInput(unsigned index, llvm::StringRef what);

  //===--- Attributes -----------------------------------------------------===//

  const onnx::AttributeProto *findAttribute(llvm::StringRef name) const;
  int64_t getInt(llvm::StringRef name, int64_t defaultValue) const;
  float getFloat(llvm::StringRef name, float defaultValue) const;
  std::string getString(llvm::StringRef name,
                        llvm::StringRef defaultValue) const;
  std::optional<llvm::SmallVector<int64_t>>
  getInts(llvm::StringRef name) const;
  /// A tensor attribute (ConstantOfShape's value, Constant's value).
  FailureOr<ElementsAttr> getTensor(llvm::StringRef name);

  //===--- Building -------------------------------------------------------===//

  /// Creates the tfm op `opName`, inferring its result types, verifying it
  /// and folding it when its operands allow. Returns its results (or the
  /// values it folded to).
  FailureOr<llvm::SmallVector<Value>>
  create(llvm::StringRef opName, ValueRange operands,
         llvm::ArrayRef<NamedAttribute> attributes = {});
  /// `create` for single-result ops.
  FailureOr<Value> createOne(llvm::StringRef opName, ValueRange operands,
                             llvm::ArrayRef<NamedAttribute> attributes = {});

  /// A tfm.constant of i64 values: 1-D, or 0-D when `scalar`.
  Value getI64Constant(llvm::ArrayRef<int64_t> values, bool scalar = false);
  Value getConstant(ElementsAttr value);

  NamedAttribute namedI64(llvm::StringRef name, int64_t value) {
    return builder.getNamedAttr(name, builder.getI64IntegerAttr(value));
  }
  NamedAttribute namedI64Array(llvm::StringRef name,
                               llvm::ArrayRef<int64_t> values) {
    return builder.getNamedAttr(name, builder.getDenseI64ArrayAttr(values));
  }
  NamedAttribute namedBool(llvm::StringRef name, bool value) {
    return builder.getNamedAttr(name, builder.getBoolAttr(value));
  }
  NamedAttribute namedF32(llvm::StringRef name, float value) {
    return builder.getNamedAttr(name, builder.getF32FloatAttr(value));
  }

  //===--- Results and errors ---------------------------------------------===//

  /// Records the values of the node's outputs, in order.
  void setResults(ValueRange values) { results.assign(values.begin(), values.end()); }
  llvm::ArrayRef<Value> getResults() const { return results; }
  /// Records that output `index` is the sequence `elements`.
  void setSequenceResult(unsigned index, Sequence elements) {
    sequenceResults[index] = std::move(elements);
  }
  const std::map<unsigned, Sequence> &getSequenceResults() const {
    return sequenceResults;
  }

  /// Records why the node cannot be imported; returns failure.
  LogicalResult fail(const llvm::Twine &message);
  const std::string &getError() const { return error; }

private:
  llvm::ArrayRef<Value> inputs;
  WeightStorage &storage;
  llvm::ArrayRef<const Sequence *> sequenceInputs;
  llvm::SmallVector<Value> results;
  std::map<unsigned, Sequence> sequenceResults;
  std::string error;
};

/// Builds the tfm ops of one node. Runs inside a diagnostic scope, so any
/// MLIR diagnostic (from inference or verification) is part of the node's
/// error.
using OpConverter = LogicalResult (*)(NodeImporter &);

/// An attribute of an ONNX op as the standard defines it at the opsets tfc
/// reads: its type, the opsets that have it ([since, until)), and whether a
/// node must give it.
struct AttributeSpec {
  llvm::StringRef name;
  onnx::AttributeProto::AttributeType type;
  bool required = false;
  int64_t since = 0;
  int64_t until = INT64_MAX;
  /// The smallest value an INT attribute, or each value of an INTS one, may
  /// have (strides and dilations >= 1, pads >= 0).
  int64_t atLeast = INT64_MIN;
};

/// Any number of inputs or outputs.
constexpr unsigned kVariadic = ~0u;

struct OpConverterInfo {
  OpConverter convert;
  /// How many leading inputs the op requires; the driver checks them before
  /// the converter runs, so converters may use them without checking.
  unsigned requiredInputs;
  /// The most inputs and outputs a node may declare (kVariadic: any);
  /// opsets before `moreInputsSince` allow one input less (an attribute
  /// that became an input).
  unsigned maxInputs;
  unsigned maxOutputs;
  int64_t moreInputsSince = 0;
  /// Every attribute the op has in the standard. The importer refuses a node
  /// with another attribute, one of the wrong type, one given twice or a
  /// required one missing, before anything else reads the node (libonnx's
  /// checker, which does this too, knows only opsets up to 17).
  llvm::SmallVector<AttributeSpec, 4> attributes;
};

/// Einsum as transposes, sums and matmuls (EinsumConverter.cpp).
LogicalResult convertEinsum(NodeImporter &node);
/// Resize with its scales and sizes both made explicit (ResizeConverter.cpp).
LogicalResult convertResize(NodeImporter &node);
/// com.microsoft MatMulNBits as a weight-only int4 tfm.quantized_linear
/// (MatMulNBitsConverter.cpp).
LogicalResult convertMatMulNBits(NodeImporter &node);

/// True for the ops that take sequences as inputs (the importer refuses a
/// sequence anywhere else, naming the input).
bool acceptsSequenceInputs(llvm::StringRef opType);

/// The sequence converters (SequenceConverters.cpp).
LogicalResult convertSequenceConstruct(NodeImporter &node);
LogicalResult convertSequenceEmpty(NodeImporter &node);
LogicalResult convertSequenceAt(NodeImporter &node);
LogicalResult convertSequenceInsert(NodeImporter &node);
LogicalResult convertSequenceErase(NodeImporter &node);
LogicalResult convertSequenceLength(NodeImporter &node);
LogicalResult convertSplitToSequence(NodeImporter &node);
LogicalResult convertConcatFromSequence(NodeImporter &node);

/// The converters, by getConverterKey: the default domain's by op type,
/// other domains' (com.microsoft's MatMulNBits) as "domain.OpType".
const llvm::StringMap<OpConverterInfo> &getOpConverters();
/// The key of `node`'s converter in getOpConverters().
std::string getConverterKey(const onnx::NodeProto &node);

} // namespace mlir::tfc::onnx_import

#endif // TFC_LIB_IMPORT_ONNXIMPORTERIMPL_H
