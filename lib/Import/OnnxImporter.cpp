//===- OnnxImporter.cpp - ONNX models into the tfm dialect ----------------===//
//
// The import runs in four steps:
//  1. read the model (binary or text) and screen it: opsets, domains, op
//     types and that every node input is defined, so that these common
//     problems get a message naming the node rather than libonnx's;
//  2. run libonnx's checker and shape inference (when libonnx knows the
//     model's opset), applying pinned input shapes first;
//  3. build one func: arguments from graph inputs, tfm.constant ops from
//     initializers, then each node through its converter, folding as we go;
//  4. return the graph outputs and refine types to a fixpoint.
//
//===----------------------------------------------------------------------===//

#include "tfc/Import/OnnxImporter.h"

#include "OnnxImporterImpl.h"
#include "OnnxModelLoader.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/Path.h"

#include "tfm/TfmDialect.h"
#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc;
using namespace mlir::tfc::onnx_import;

//===----------------------------------------------------------------------===//
// NodeImporter
//===----------------------------------------------------------------------===//

LogicalResult NodeImporter::fail(const llvm::Twine &message) {
  if (!error.empty())
    error += "; ";
  error += message.str();
  return failure();
}

FailureOr<Value> NodeImporter::getRequiredInput(unsigned index,
                                                llvm::StringRef what) {
  if (Value value = getInput(index))
    return value;
  return fail("input " + llvm::Twine(index) + " (" + what + ") is required");
}

FailureOr<const Sequence *>
NodeImporter::getSequenceInput(unsigned index, llvm::StringRef what) {
  if (index < sequenceInputs.size() && sequenceInputs[index])
    return sequenceInputs[index];
  if (getInput(index))
    return fail("input " + llvm::Twine(index) + " (" + what +
                ") must be a sequence, got a tensor");
  return fail("input " + llvm::Twine(index) + " (" + what + ") is required");
}

FailureOr<llvm::SmallVector<int64_t>>
NodeImporter::getConstantInts(unsigned index, llvm::StringRef what) {
  FailureOr<Value> value = getRequiredInput(index, what);
  if (failed(value))
    return failure();
  FailureOr<llvm::SmallVector<int64_t>> values =
      tfm::getConstantIntValues(*value);
  if (failed(values))
    return fail("input " + llvm::Twine(index) + " (" + what +
                ") must be a constant; tfc cannot take it at run time");
  return values;
}

const onnx::AttributeProto *
NodeImporter::findAttribute(llvm::StringRef name) const {
  for (const auto &attribute : node.attribute())
    if (attribute.name() == name)
      return &attribute;
  return nullptr;
}

int64_t NodeImporter::getInt(llvm::StringRef name, int64_t defaultValue) const {
  const onnx::AttributeProto *attribute = findAttribute(name);
  return attribute ? attribute->i() : defaultValue;
}

float NodeImporter::getFloat(llvm::StringRef name, float defaultValue) const {
  const onnx::AttributeProto *attribute = findAttribute(name);
  return attribute ? attribute->f() : defaultValue;
}

std::string NodeImporter::getString(llvm::StringRef name,
                                    llvm::StringRef defaultValue) const {
  const onnx::AttributeProto *attribute = findAttribute(name);
  return attribute ? attribute->s() : defaultValue.str();
}

std::optional<llvm::SmallVector<int64_t>>
NodeImporter::getInts(llvm::StringRef name) const {
  const onnx::AttributeProto *attribute = findAttribute(name);
  if (!attribute)
    return std::nullopt;
  return llvm::SmallVector<int64_t>(attribute->ints().begin(),
                                    attribute->ints().end());
}

FailureOr<ElementsAttr> NodeImporter::getTensor(llvm::StringRef name) {
  const onnx::AttributeProto *attribute = findAttribute(name);
  if (!attribute || !attribute->has_t())
    return fail("attribute '" + name + "' must hold a tensor");
  std::string message;
  std::string blobName = node.output_size() ? node.output(0) : node.name();
  ElementsAttr value = convertTensor(attribute->t(), blobName, storage,
                                     getContext(), message);
  if (!value)
    return fail("attribute '" + name + "' " + message);
  return value;
}

Value NodeImporter::getConstant(ElementsAttr value) {
  return builder.create<tfm::ConstantOp>(loc, value.getType(), value);
}

Value NodeImporter::getI64Constant(llvm::ArrayRef<int64_t> values,
                                   bool scalar) {
  auto type = RankedTensorType::get(
      scalar ? llvm::ArrayRef<int64_t>{} : llvm::ArrayRef<int64_t>{(int64_t)values.size()},
      builder.getI64Type());
  return getConstant(DenseElementsAttr::get(type, values));
}

FailureOr<llvm::SmallVector<Value>>
NodeImporter::create(llvm::StringRef opName, ValueRange operands,
                     llvm::ArrayRef<NamedAttribute> attributes) {
  MLIRContext *context = getContext();
  std::optional<RegisteredOperationName> name =
      RegisteredOperationName::lookup(opName, context);
  assert(name && "converters only build registered tfm ops");
  // Infer the result types before creating the op: the typed builders would
  // abort on an inference failure, and here it is the user's model at fault.
  auto *inference = name->getInterface<InferTypeOpInterface>();
  DictionaryAttr dictionary = DictionaryAttr::get(context, attributes);
  llvm::SmallVector<Type> resultTypes;
  if (failed(inference->inferReturnTypes(context, loc, operands, dictionary,
                                         OpaqueProperties(nullptr),
                                         RegionRange(), resultTypes)))
    return failure();
  // Sizes computed from these types anywhere (folders, lowering, generated
  // code) fit in int64 as long as every tensor is within this bound.
  for (Type type : resultTypes)
    if (auto tensor = dyn_cast<RankedTensorType>(type);
        tensor && !tfm::getCheckedElementCount(tensor.getShape()))
      return fail("the result " + formatDims(tensor.getShape()) +
                  " is larger than tfc supports (2^60 elements)");
  OperationState state(loc, *name);
  state.addOperands(operands);
  state.addAttributes(attributes);
  state.addTypes(resultTypes);
  Operation *op = builder.create(state);
  if (failed(verify(op))) {
    op->erase();
    return failure();
  }

  // Fold now, so that the ops built after this one see constants and can
  // infer static shapes (shape subgraphs collapse as the graph is built).
  llvm::SmallVector<Attribute> constantOperands;
  for (Value operand : op->getOperands()) {
    Attribute attr;
    matchPattern(operand, m_Constant(&attr));
    constantOperands.push_back(attr);
  }
  llvm::SmallVector<OpFoldResult> folded;
  if (failed(op->fold(constantOperands, folded)) || folded.empty())
    return llvm::SmallVector<Value>(op->getResults());
  llvm::SmallVector<Value> values;
  for (auto [result, foldResult] : llvm::zip(op->getResults(), folded)) {
    if (auto value = llvm::dyn_cast_if_present<Value>(foldResult)) {
      values.push_back(value);
      continue;
    }
    auto attr = cast<ElementsAttr>(cast<Attribute>(foldResult));
    values.push_back(getConstant(attr));
  }
  op->erase();
  return values;
}

FailureOr<Value> NodeImporter::createOne(llvm::StringRef opName,
                                         ValueRange operands,
                                         llvm::ArrayRef<NamedAttribute> attributes) {
  FailureOr<llvm::SmallVector<Value>> results =
      create(opName, operands, attributes);
  if (failed(results))
    return failure();
  return results->front();
}

//===----------------------------------------------------------------------===//
// Model-level conversion
//===----------------------------------------------------------------------===//

namespace {

/// Identifies a node in diagnostics: `node 'name' (OpType, domain ai.onnx,
/// opset 17)`.
std::string describeNode(const onnx::NodeProto &node, int64_t opset) {
  std::string name = node.name().empty() ? "<unnamed>" : node.name();
  std::string domain = node.domain().empty() ? "ai.onnx" : node.domain();
  return "node '" + name + "' (" + node.op_type() + ", domain " + domain +
         ", opset " + std::to_string(opset) + ")";
}

bool isDefaultDomain(llvm::StringRef domain) {
  return domain.empty() || domain == "ai.onnx";
}

const char *attributeTypeName(int type) {
  using A = onnx::AttributeProto;
  switch (type) {
  case A::FLOAT: return "a float";
  case A::INT: return "an int";
  case A::STRING: return "a string";
  case A::TENSOR: return "a tensor";
  case A::GRAPH: return "a graph";
  case A::SPARSE_TENSOR: return "a sparse tensor";
  case A::TYPE_PROTO: return "a type";
  case A::FLOATS: return "a list of floats";
  case A::INTS: return "a list of ints";
  case A::STRINGS: return "a list of strings";
  case A::TENSORS: return "a list of tensors";
  case A::GRAPHS: return "a list of graphs";
  case A::SPARSE_TENSORS: return "a list of sparse tensors";
  case A::TYPE_PROTOS: return "a list of types";
  default: return "of no type";
  }
}

/// What is wrong with a node's inputs, outputs and attributes against the
/// op's definition at `opset`, or "" when nothing is.
std::string checkNodeSignature(const onnx::NodeProto &node,
                               const OpConverterInfo &op, int64_t opset) {
  unsigned maxInputs = op.maxInputs;
  if (maxInputs != kVariadic && opset < op.moreInputsSince)
    --maxInputs;
  if (maxInputs != kVariadic && (unsigned)node.input_size() > maxInputs)
    return "has " + std::to_string(node.input_size()) + " inputs; " +
           node.op_type() + " takes at most " + std::to_string(maxInputs);
  if (node.output_size() == 0)
    return "has no outputs";
  if (op.maxOutputs != kVariadic && (unsigned)node.output_size() > op.maxOutputs)
    return "has " + std::to_string(node.output_size()) + " outputs; " +
           node.op_type() + " has at most " + std::to_string(op.maxOutputs);
  llvm::StringSet<> given;
  for (const auto &attribute : node.attribute()) {
    if (!given.insert(attribute.name()).second)
      return "gives attribute '" + attribute.name() + "' twice";
    const AttributeSpec *spec = nullptr;
    for (const AttributeSpec &candidate : op.attributes)
      if (candidate.name == attribute.name() && opset >= candidate.since &&
          opset < candidate.until)
        spec = &candidate;
    if (!spec)
      return "has attribute '" + attribute.name() + "', which " +
             node.op_type() + " does not have at opset " +
             std::to_string(opset);
    if (attribute.type() != spec->type)
      return "attribute '" + attribute.name() + "' is " +
             attributeTypeName(attribute.type()) + "; it must be " +
             attributeTypeName(spec->type);
    auto tooSmall = [&](int64_t value) { return value < spec->atLeast; };
    if ((spec->type == onnx::AttributeProto::INT && tooSmall(attribute.i())) ||
        (spec->type == onnx::AttributeProto::INTS &&
         llvm::any_of(attribute.ints(), tooSmall)))
      return "attribute '" + attribute.name() + "' must be at least " +
             std::to_string(spec->atLeast);
  }
  // A permutation: libonnx's inference indexes with it unchecked.
  if (node.op_type() == "Transpose")
    for (const auto &attribute : node.attribute())
      if (attribute.name() == "perm") {
        llvm::SmallVector<bool> seen(attribute.ints_size(), false);
        for (int64_t axis : attribute.ints()) {
          if (axis < 0 || axis >= attribute.ints_size() || seen[axis])
            return "attribute 'perm' is not a permutation of [0, " +
                   std::to_string(attribute.ints_size()) + ")";
          seen[axis] = true;
        }
      }
  for (const AttributeSpec &spec : op.attributes)
    if (spec.required && opset >= spec.since && opset < spec.until &&
        !given.contains(spec.name))
      return "attribute '" + spec.name.str() + "' is required";
  return {};
}

/// Calls `visit` on every node of the graphs nested in `graph`'s nodes (a
/// Loop's body, and the bodies in it), not on `graph`'s own.
void forEachNestedNode(const onnx::GraphProto &graph,
                       llvm::function_ref<void(const onnx::NodeProto &)> visit) {
  for (const auto &node : graph.node())
    for (const auto &attribute : node.attribute()) {
      llvm::SmallVector<const onnx::GraphProto *> nested;
      if (attribute.has_g())
        nested.push_back(&attribute.g());
      for (const auto &graphs : attribute.graphs())
        nested.push_back(&graphs);
      for (const onnx::GraphProto *subgraph : nested) {
        for (const auto &inner : subgraph->node())
          visit(inner);
        forEachNestedNode(*subgraph, visit);
      }
    }
}

class ModelImporter {
public:
  ModelImporter(llvm::StringRef path, const OnnxImportOptions &options,
                MLIRContext *context)
      : path(path.str()), options(options), context(context),
        builder(context),
        fileLoc(FileLineColLoc::get(context, path, 0, 0)) {}

  OwningOpRef<ModuleOp> run();

private:
  LogicalResult screenModel();
  LogicalResult reportUnsupportedNodes();
  int64_t importedOpset(llvm::StringRef domain) const;
  /// describeNode at the opset the model imports for the node's domain.
  std::string describe(const onnx::NodeProto &node) const {
    return describeNode(node, importedOpset(node.domain()));
  }
  LogicalResult applyInputShapes();
  FailureOr<RankedTensorType>
  convertValueType(const onnx::ValueInfoProto &info, llvm::StringRef role,
                   llvm::SmallVectorImpl<std::string> &dimParams);
  LogicalResult importNode(const onnx::NodeProto &node, unsigned index);
  LogicalResult importLoop(const onnx::NodeProto &node, Location loc);
  /// Binds `name` to a tensor or a sequence (one of them).
  void bind(llvm::StringRef name, Value value, const Sequence *sequence);
  void refineWithValueInfo(Value value, llvm::StringRef name);
  ArrayAttr getDimParamsAttr(llvm::ArrayRef<std::string> dimParams);

  std::string path;
  const OnnxImportOptions &options;
  MLIRContext *context;
  OpBuilder builder;
  Location fileLoc;

  std::shared_ptr<onnx::ModelProto> model;
  WeightStorage storage;
  int64_t opset = 0;
  /// ONNX value name -> its SSA value in the function being built.
  llvm::StringMap<Value> values;
  /// ONNX value name -> the tensors of a sequence (see Sequence).
  llvm::StringMap<Sequence> sequences;
  /// ONNX value_info by name (from the model and libonnx's inference).
  llvm::StringMap<const onnx::TypeProto *> valueTypes;
};

} // namespace

LogicalResult ModelImporter::screenModel() {
  const onnx::GraphProto &graph = model->graph();
  bool haveDefaultOpset = false;
  for (const auto &import : model->opset_import()) {
    if (!isDefaultDomain(import.domain()))
      continue;
    haveDefaultOpset = true;
    opset = import.version();
  }
  if (!haveDefaultOpset)
    return emitError(fileLoc) << "the model imports no opset of the default "
                                 "ONNX domain (ai.onnx)";
  if (opset > kMaxSupportedOpset)
    return emitError(fileLoc)
           << "the model uses opset " << opset
           << " of the default domain; tfc supports opsets up to "
           << kMaxSupportedOpset;

  // Every value has one name and one definition (the graph is in SSA
  // form); older exporters list initializers among the inputs too.
  llvm::StringSet<> defined, inputs, initializers;
  for (const auto &input : graph.input()) {
    if (input.name().empty())
      return emitError(fileLoc) << "a graph input has no name";
    if (!inputs.insert(input.name()).second)
      return emitError(fileLoc)
             << "graph input '" << input.name() << "' is declared twice";
    defined.insert(input.name());
  }
  for (const auto &initializer : graph.initializer()) {
    if (initializer.name().empty())
      return emitError(fileLoc) << "an initializer has no name";
    if (!initializers.insert(initializer.name()).second)
      return emitError(fileLoc)
             << "initializer '" << initializer.name() << "' is defined twice";
    defined.insert(initializer.name());
  }
  if (failed(reportUnsupportedNodes()))
    return failure();
  const auto &converters = getOpConverters();
  // A node's definition at the model's opset and its attributes and input
  // counts against it; the empty string when they are fine.
  auto checkDefinition = [&](const onnx::NodeProto &node) -> std::string {
    // Another domain's op (com.microsoft's) at that domain's opset.
    if (!isDefaultDomain(node.domain())) {
      int64_t domainOpset = importedOpset(node.domain());
      if (std::string error = checkNodeSignature(
              node, converters.at(getConverterKey(node)), domainOpset);
          !error.empty())
        return describeNode(node, domainOpset) + ": " + error;
      return {};
    }
    if (opset < kMinSupportedOpset) {
      // An older opset is fine for an op whose definition did not change
      // between it and the oldest opset tfc implements (ONNX's node tests
      // declare Sin at opset 7, which is the Sin of opset 13).
      int since = onnx_loader::opDefinitionSince(node.op_type(), opset);
      int current =
          onnx_loader::opDefinitionSince(node.op_type(), kMinSupportedOpset);
      if (since != current)
        return describe(node) + ": the model's opset " +
               std::to_string(opset) + " defines " + node.op_type() +
               " as of opset " + std::to_string(since) +
               ", and tfc implements the definitions of opsets " +
               std::to_string(kMinSupportedOpset) + " to " +
               std::to_string(kMaxSupportedOpset) + " (" + node.op_type() +
               " changed in opset " + std::to_string(current) +
               "); convert the model with onnx.version_converter";
    }
    if (std::string error =
            checkNodeSignature(node, converters.at(node.op_type()), opset);
        !error.empty())
      return describe(node) + ": " + error;
    return {};
  };
  // The nodes of loop bodies: their definitions now, their inputs (which
  // may come from the enclosing graph) as the body is imported.
  std::string nestedError;
  forEachNestedNode(graph, [&](const onnx::NodeProto &node) {
    if (nestedError.empty())
      nestedError = checkDefinition(node);
  });
  if (!nestedError.empty())
    return emitError(fileLoc) << nestedError;
  for (const auto &node : graph.node()) {
    if (std::string error = checkDefinition(node); !error.empty())
      return emitError(fileLoc) << error;
    for (const std::string &input : node.input())
      if (!input.empty() && !defined.contains(input))
        return emitError(fileLoc)
               << describe(node) << ": input '" << input
               << "' is not a graph input, an initializer or an output of an "
                  "earlier node (a missing initializer?)";
    for (const std::string &output : node.output())
      if (!output.empty() && !defined.insert(output).second)
        return emitError(fileLoc)
               << describe(node) << ": output '" << output
               << "' is already defined (by a graph input, an initializer or "
                  "an earlier node)";
  }
  llvm::StringSet<> outputs;
  for (const auto &output : graph.output()) {
    if (!defined.contains(output.name()))
      return emitError(fileLoc) << "graph output '" << output.name()
                                << "' is not produced by any node";
    if (!outputs.insert(output.name()).second)
      return emitError(fileLoc)
             << "graph output '" << output.name() << "' is listed twice";
  }
  return success();
}

int64_t ModelImporter::importedOpset(llvm::StringRef domain) const {
  for (const auto &import : model->opset_import())
    if (isDefaultDomain(import.domain()) ? isDefaultDomain(domain)
                                         : import.domain() == domain)
      return import.version();
  return 0;
}

/// Every node whose operator tfc lacks, in one diagnostic: someone porting a
/// model learns the whole gap from one run rather than one op per run. One
/// such node gets the usual node diagnostic; more are listed by operator
/// (in the order they first appear), with up to three node names each.
LogicalResult ModelImporter::reportUnsupportedNodes() {
  const auto &converters = getOpConverters();
  // Keyed by "domain op type".
  llvm::MapVector<llvm::StringRef, llvm::SmallVector<const onnx::NodeProto *>>
      byOperator;
  llvm::StringSet<> keys;
  size_t count = 0;
  auto screen = [&](const onnx::NodeProto &node) {
    if (converters.count(getConverterKey(node)))
      return;
    std::string domain = isDefaultDomain(node.domain()) ? "ai.onnx" : node.domain();
    llvm::StringRef key = keys.insert(domain + " " + node.op_type()).first->getKey();
    byOperator[key].push_back(&node);
    ++count;
  };
  for (const auto &node : model->graph().node())
    screen(node);
  forEachNestedNode(model->graph(), screen);
  if (count == 0)
    return success();
  auto reason = [](const onnx::NodeProto &node) -> std::string {
    if (node.domain() == "com.microsoft")
      return "unsupported operator '" + node.op_type() +
             "' of domain 'com.microsoft' (tfc reads its MatMulNBits only)";
    if (!isDefaultDomain(node.domain()))
      return "domain '" + node.domain() +
             "' is not supported; tfc reads the default ONNX domain and "
             "com.microsoft's MatMulNBits";
    return "unsupported operator '" + node.op_type() +
           "' (run `tfc import --list-ops` for the supported ones)";
  };
  if (count == 1) {
    const onnx::NodeProto &node = *byOperator.front().second.front();
    return emitError(fileLoc)
           << describeNode(node, importedOpset(node.domain())) << ": "
           << reason(node);
  }
  InFlightDiagnostic diagnostic = emitError(fileLoc);
  diagnostic << count << " nodes use " << byOperator.size()
             << (byOperator.size() == 1 ? " operator" : " operators")
             << " tfc does not support (`tfc import --list-ops` lists the "
                "supported ones; tfc reads the default ONNX domain and "
                "com.microsoft's MatMulNBits):";
  for (const auto &[key, nodes] : byOperator) {
    auto [domain, opType] = key.split(' ');
    diagnostic << "\n  " << opType << " (domain " << domain << ", opset "
               << importedOpset(nodes.front()->domain()) << "): ";
    diagnostic << (nodes.size() == 1 ? "node " : std::to_string(nodes.size()) + " nodes, ");
    constexpr size_t kNamesShown = 3;
    for (size_t i = 0; i < nodes.size() && i < kNamesShown; ++i) {
      const std::string &name = nodes[i]->name();
      diagnostic << (i ? ", " : "") << "'" << (name.empty() ? "<unnamed>" : name)
                 << "'";
    }
    if (nodes.size() > kNamesShown)
      diagnostic << ", ...";
  }
  return diagnostic;
}

LogicalResult ModelImporter::applyInputShapes() {
  llvm::StringSet<> known;
  for (auto &input : *model->mutable_graph()->mutable_input()) {
    known.insert(input.name());
    auto it = options.inputShapes.find(input.name());
    if (it == options.inputShapes.end())
      continue;
    const llvm::SmallVector<int64_t> &pinned = it->second;
    auto *shape = input.mutable_type()->mutable_tensor_type()->mutable_shape();
    if (shape->dim_size() != 0 && shape->dim_size() != (int)pinned.size())
      return emitError(fileLoc)
             << "--input-shape gives input '" << input.name() << "' "
             << pinned.size() << " dims, but the model declares "
             << shape->dim_size();
    for (int i = 0; i < shape->dim_size(); ++i) {
      const auto &dim = shape->dim(i);
      if (dim.has_dim_value() && !ShapedType::isDynamic(pinned[i]) &&
          dim.dim_value() != pinned[i])
        return emitError(fileLoc)
               << "--input-shape gives input '" << input.name() << "' size "
               << pinned[i] << " in dim " << i
               << ", but the model fixes it to " << dim.dim_value();
    }
    llvm::SmallVector<std::string> names;
    for (int i = 0; i < shape->dim_size(); ++i)
      names.push_back(shape->dim(i).dim_param());
    shape->clear_dim();
    for (auto [i, size] : llvm::enumerate(pinned)) {
      auto *dim = shape->add_dim();
      if (!ShapedType::isDynamic(size))
        dim->set_dim_value(size);
      else if (i < names.size() && !names[i].empty())
        dim->set_dim_param(names[i]);
    }
  }
  for (const auto &entry : options.inputShapes)
    if (!known.contains(entry.getKey()))
      return emitError(fileLoc) << "--input-shape names '" << entry.getKey()
                                << "', which is not an input of the model";
  return success();
}

FailureOr<RankedTensorType>
ModelImporter::convertValueType(const onnx::ValueInfoProto &info,
                                llvm::StringRef role,
                                llvm::SmallVectorImpl<std::string> &dimParams) {
  if (!info.type().has_tensor_type())
    return emitError(fileLoc) << role << " '" << info.name()
                              << "' is not a tensor (sequences, maps and "
                                 "optionals are not supported)";
  const auto &tensorType = info.type().tensor_type();
  Type elementType = convertElementType(tensorType.elem_type(), context);
  if (!elementType)
    return emitError(fileLoc) << role << " '" << info.name() << "' has element type "
                              << onnxTypeName(tensorType.elem_type())
                              << ", which tfc does not support";
  if (!tensorType.has_shape())
    return emitError(fileLoc) << role << " '" << info.name()
                              << "' has no shape (not even a rank); give one "
                                 "with --input-shape "
                              << info.name() << "=DIMS";
  llvm::SmallVector<int64_t> shape;
  for (const auto &dim : tensorType.shape().dim()) {
    if (dim.has_dim_value() && dim.dim_value() < 0)
      return emitError(fileLoc) << role << " '" << info.name() << "' has dim "
                                << shape.size() << " of size " << dim.dim_value()
                                << "; sizes must be non-negative";
    shape.push_back(dim.has_dim_value() ? dim.dim_value() : ShapedType::kDynamic);
    dimParams.push_back(dim.has_dim_param() ? dim.dim_param() : "");
  }
  if (!tfm::getCheckedElementCount(shape))
    return emitError(fileLoc) << role << " '" << info.name() << "' has shape "
                              << formatDims(shape)
                              << ", larger than tfc supports (2^60 elements)";
  return RankedTensorType::get(shape, elementType);
}

ArrayAttr ModelImporter::getDimParamsAttr(llvm::ArrayRef<std::string> dimParams) {
  if (llvm::all_of(dimParams, [](const std::string &p) { return p.empty(); }))
    return {};
  llvm::SmallVector<Attribute> names;
  for (const std::string &param : dimParams)
    names.push_back(builder.getStringAttr(param));
  return builder.getArrayAttr(names);
}

void ModelImporter::refineWithValueInfo(Value value, llvm::StringRef name) {
  // libonnx's inference can know a dim that local inference cannot (it
  // propagates small shape values through more ops); keep what it knows when
  // it agrees with ours.
  auto it = valueTypes.find(name);
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (it == valueTypes.end() || !type || isa<BlockArgument>(value) ||
      !it->second->has_tensor_type() ||
      !it->second->tensor_type().has_shape())
    return;
  const auto &dims = it->second->tensor_type().shape().dim();
  if (dims.size() != type.getRank())
    return;
  llvm::SmallVector<int64_t> shape(type.getShape());
  bool changed = false;
  for (int i = 0; i < dims.size(); ++i) {
    if (!dims[i].has_dim_value())
      continue;
    if (!type.isDynamicDim(i) && type.getDimSize(i) != dims[i].dim_value())
      return; // Disagreement: trust our own inference.
    if (type.isDynamicDim(i)) {
      shape[i] = dims[i].dim_value();
      changed = true;
    }
  }
  if (changed && !value.getDefiningOp<tfm::ConstantOp>())
    value.setType(type.clone(shape));
}

LogicalResult ModelImporter::importNode(const onnx::NodeProto &node,
                                        unsigned index) {
  std::string nodeName = node.name().empty()
                             ? node.op_type() + "_" + std::to_string(index)
                             : node.name();
  Location loc = NameLoc::get(builder.getStringAttr(nodeName), fileLoc);
  llvm::SmallVector<Value> inputs;
  llvm::SmallVector<const Sequence *> sequenceInputs;
  for (auto [i, input] : llvm::enumerate(node.input())) {
    auto sequence = input.empty() ? sequences.end() : sequences.find(input);
    bool isSequence = sequence != sequences.end();
    if (isSequence && !acceptsSequenceInputs(node.op_type()))
      return emitError(loc) << describe(node) << ": input " << i
                            << " ('" << input << "') is a sequence; "
                            << node.op_type() << " takes tensors";
    Value value = input.empty() || isSequence ? Value() : values.lookup(input);
    // Screening checked the main graph's inputs; a loop body's come from it
    // and from the body, and are checked here.
    if (!input.empty() && !isSequence && !value)
      return emitError(loc) << describe(node) << ": input '" << input
                            << "' is not defined before the node";
    inputs.push_back(value);
    sequenceInputs.push_back(isSequence ? &sequence->second : nullptr);
  }

  const OpConverterInfo &converter = getOpConverters().at(getConverterKey(node));
  for (unsigned i = 0; i < converter.requiredInputs; ++i)
    if (i >= inputs.size() || (!inputs[i] && !sequenceInputs[i]))
      return emitError(loc) << describe(node) << ": input " << i
                            << " is required but missing";
  if (node.op_type() == "Loop")
    return importLoop(node, loc);

  NodeImporter importer(node, importedOpset(node.domain()), builder, loc,
                        inputs, storage, sequenceInputs);
  LogicalResult converted = success();
  {
    // Diagnostics from inference and verification become part of the
    // node's single error message.
    ScopedDiagnosticHandler capture(context, [&](Diagnostic &diag) {
      if (diag.getSeverity() == DiagnosticSeverity::Error)
        (void)importer.fail(diag.str());
      return success();
    });
    converted = converter.convert(importer);
  }
  if (failed(converted) || !importer.getError().empty())
    return emitError(loc) << describe(node) << ": "
                          << (importer.getError().empty()
                                  ? std::string("cannot be imported")
                                  : importer.getError());

  llvm::ArrayRef<Value> results = importer.getResults();
  for (auto [i, output] : llvm::enumerate(node.output())) {
    if (output.empty())
      continue;
    if (auto sequence = importer.getSequenceResults().find(i);
        sequence != importer.getSequenceResults().end()) {
      bind(output, Value(), &sequence->second);
      continue;
    }
    if (i >= results.size())
      return emitError(loc) << describe(node) << ": output " << i
                            << " ('" << output
                            << "') is not supported by tfc";
    refineWithValueInfo(results[i], output);
    bind(output, results[i], nullptr);
  }
  return success();
}

void ModelImporter::bind(llvm::StringRef name, Value value,
                         const Sequence *sequence) {
  values.erase(name);
  sequences.erase(name);
  if (sequence)
    sequences[name] = *sequence;
  else
    values[name] = value;
}

/// Loop, unrolled while importing: the trip count and the condition must be
/// known then (a constant trip count, a condition that stays a constant),
/// which they are for the loops scripted exports make of lists over static
/// dims. Each iteration imports the body once more, with the iteration
/// number as a constant and the carried values of the one before; the scan
/// outputs are stacked along a new first dim.
LogicalResult ModelImporter::importLoop(const onnx::NodeProto &node, Location loc) {
  auto fail = [&](const llvm::Twine &message) {
    return emitError(loc) << describe(node) << ": " << message;
  };
  const onnx::GraphProto *body = nullptr;
  for (const auto &attribute : node.attribute())
    if (attribute.name() == "body" && attribute.has_g())
      body = &attribute.g();
  if (!body)
    return fail("has no body graph");
  if (node.input_size() < 2)
    return fail("needs the trip count and condition inputs (either may be "
                "empty), then the carried values");
  size_t carriedCount = node.input_size() - 2;
  if (body->input_size() != (int)carriedCount + 2 ||
      body->output_size() < (int)carriedCount + 1)
    return fail("the body takes " + llvm::Twine(body->input_size()) +
                " inputs and gives " + llvm::Twine(body->output_size()) +
                " outputs for " + llvm::Twine(carriedCount) +
                " carried values (it needs 2 more inputs and 1 more output)");
  size_t scanCount = body->output_size() - carriedCount - 1;

  // The trip count and the initial condition, when given, must be constants.
  auto constantOf = [&](llvm::StringRef name) -> std::optional<int64_t> {
    Value value = values.lookup(name);
    if (!value)
      return std::nullopt;
    FailureOr<llvm::SmallVector<int64_t>> ints = tfm::getConstantIntValues(value);
    if (failed(ints) || ints->size() != 1)
      return std::nullopt;
    return ints->front();
  };
  constexpr int64_t kMostIterations = 4096;
  int64_t trips = kMostIterations;
  bool bounded = !node.input(0).empty();
  if (bounded) {
    std::optional<int64_t> count = constantOf(node.input(0));
    if (!count)
      return fail("the trip count is computed at run time; tfc unrolls loops "
                  "whose trip count is known when importing (pin the input "
                  "shapes it depends on with --input-shape)");
    if (*count > kMostIterations)
      return fail("the trip count " + llvm::Twine(*count) +
                  " is more than the " + llvm::Twine(kMostIterations) +
                  " iterations tfc unrolls");
    trips = std::max<int64_t>(*count, 0);
  }
  bool running = true;
  if (!node.input(1).empty()) {
    std::optional<int64_t> condition = constantOf(node.input(1));
    if (!condition)
      return fail("the loop condition is computed at run time; tfc unrolls "
                  "loops whose condition is known when importing");
    running = *condition != 0;
  }

  // Carried values: tensors or sequences, by position.
  struct Carried {
    Value value;
    Sequence sequence;
    bool isSequence = false;
  };
  // The tensor or sequence bound to `name`, or nullopt.
  auto lookupCarried = [&](llvm::StringRef name) -> std::optional<Carried> {
    Carried entry;
    if (auto sequence = sequences.find(name); sequence != sequences.end()) {
      entry.sequence = sequence->second;
      entry.isSequence = true;
    } else {
      entry.value = values.lookup(name);
    }
    if (!entry.value && !entry.isSequence)
      return std::nullopt;
    return entry;
  };
  llvm::SmallVector<Carried> carried;
  for (size_t i = 0; i < carriedCount; ++i) {
    std::optional<Carried> entry = lookupCarried(node.input(i + 2));
    if (!entry)
      return fail("carried value " + llvm::Twine(i) + " is missing");
    carried.push_back(*entry);
  }

  // The body's names shadow nothing outside (ONNX names are unique), but
  // they are bound again on every iteration: what they were before is put
  // back after the loop.
  llvm::StringSet<> bodyNames;
  for (const auto &input : body->input())
    bodyNames.insert(input.name());
  for (const auto &initializer : body->initializer())
    bodyNames.insert(initializer.name());
  for (const auto &bodyNode : body->node())
    for (const std::string &output : bodyNode.output())
      if (!output.empty())
        bodyNames.insert(output);
  llvm::StringMap<Value> savedValues;
  llvm::StringMap<Sequence> savedSequences;
  for (const auto &entry : bodyNames) {
    if (Value value = values.lookup(entry.getKey()))
      savedValues[entry.getKey()] = value;
    if (auto sequence = sequences.find(entry.getKey()); sequence != sequences.end())
      savedSequences[entry.getKey()] = sequence->second;
  }

  llvm::SmallVector<llvm::SmallVector<Value>> scans(scanCount);
  NodeImporter constants(node, opset, builder, loc, {}, storage);
  int64_t iteration = 0;
  for (; running && iteration < trips; ++iteration) {
    // Nothing of the iteration before is visible but what is carried.
    for (const auto &entry : bodyNames) {
      values.erase(entry.getKey());
      sequences.erase(entry.getKey());
    }
    bind(body->input(0).name(), constants.getI64Constant({iteration}, /*scalar=*/true),
         nullptr);
    bind(body->input(1).name(),
         builder.create<tfm::ConstantOp>(
             loc, DenseElementsAttr::get(RankedTensorType::get({}, builder.getI1Type()),
                                         true)),
         nullptr);
    for (size_t i = 0; i < carriedCount; ++i)
      bind(body->input(i + 2).name(), carried[i].value,
           carried[i].isSequence ? &carried[i].sequence : nullptr);
    for (const auto &initializer : body->initializer()) {
      std::string error;
      ElementsAttr value = convertTensor(initializer, initializer.name(), storage,
                                         context, error);
      if (!value)
        return fail("body initializer '" + initializer.name() + "' " + error);
      bind(initializer.name(),
           builder.create<tfm::ConstantOp>(loc, value.getType(), value), nullptr);
    }
    for (auto [index, bodyNode] : llvm::enumerate(body->node()))
      if (failed(importNode(bodyNode, index)))
        return failure();

    const std::string &conditionName = body->output(0).name();
    if (sequences.count(conditionName))
      return fail("the body's condition output is a sequence");
    std::optional<int64_t> condition = constantOf(conditionName);
    if (!condition)
      return fail("the body computes its condition at run time; tfc unrolls "
                  "loops whose condition is known when importing");
    running = *condition != 0;
    for (size_t i = 0; i < carriedCount; ++i) {
      const std::string &name = body->output(i + 1).name();
      std::optional<Carried> entry = lookupCarried(name);
      if (!entry)
        return fail("the body's output '" + name + "' is not defined");
      carried[i] = *entry;
    }
    for (size_t i = 0; i < scanCount; ++i) {
      Value scan = values.lookup(body->output(carriedCount + 1 + i).name());
      if (!scan)
        return fail("scan output " + llvm::Twine(i) + " is not a tensor");
      scans[i].push_back(scan);
    }
  }
  if (!bounded && running)
    return fail("the condition still holds after " + llvm::Twine(kMostIterations) +
                " iterations, the most tfc unrolls");

  for (const auto &entry : bodyNames) {
    values.erase(entry.getKey());
    sequences.erase(entry.getKey());
  }
  for (const auto &entry : savedValues)
    values[entry.getKey()] = entry.getValue();
  for (const auto &entry : savedSequences)
    sequences[entry.getKey()] = entry.getValue();

  // The loop's outputs: the final carried values, then each scan output's
  // iterations stacked along a new dim 0.
  for (size_t i = 0; i < carriedCount && i < (size_t)node.output_size(); ++i)
    if (!node.output(i).empty())
      bind(node.output(i), carried[i].value,
           carried[i].isSequence ? &carried[i].sequence : nullptr);
  for (size_t i = 0; i < scanCount; ++i) {
    size_t outputIndex = carriedCount + i;
    if (outputIndex >= (size_t)node.output_size() || node.output(outputIndex).empty())
      continue;
    if (scans[i].empty())
      return fail("scan output " + llvm::Twine(i) +
                  " has no iterations, so tfc cannot tell its shape");
    llvm::SmallVector<Value> rows;
    for (Value scan : scans[i]) {
      FailureOr<Value> row = constants.createOne(
          "tfm.unsqueeze", scan, {constants.namedI64Array("axes", {0})});
      if (failed(row))
        return fail(constants.getError());
      rows.push_back(*row);
    }
    FailureOr<Value> stacked =
        rows.size() == 1 ? FailureOr<Value>(rows.front())
                         : constants.createOne("tfm.concat", rows,
                                               {constants.namedI64("axis", 0)});
    if (failed(stacked))
      return fail(constants.getError());
    bind(node.output(outputIndex), *stacked, nullptr);
  }
  return success();
}

OwningOpRef<ModuleOp> ModelImporter::run() {
  context->loadDialect<tfm::TfmDialect, func::FuncDialect>();

  // 1. Read and screen.
  auto parsed = std::make_shared<onnx::ModelProto>();
  if (std::string error = onnx_loader::readModel(path, *parsed);
      !error.empty()) {
    emitError(fileLoc) << error;
    return nullptr;
  }
  model = parsed;
  storage.model = parsed;
  storage.modelDir = llvm::sys::path::parent_path(path).str();
  if (storage.modelDir.empty())
    storage.modelDir = ".";
  if (failed(screenModel()) || failed(applyInputShapes()))
    return nullptr;

  // 2. libonnx's checker and inference, for the opsets it knows. Newer
  //    opsets are imported from our own tables without them.
  if (options.runOnnxChecker && opset <= onnx_loader::newestKnownOpset()) {
    onnx_loader::LibonnxVerdict verdict =
        onnx_loader::checkAndInferShapes(*model, storage.modelDir);
    if (!verdict.checkerError.empty()) {
      emitError(fileLoc) << "the ONNX checker rejects the model: "
                         << verdict.checkerError;
      return nullptr;
    }
    if (!verdict.inferenceWarning.empty())
      mlir::emitWarning(fileLoc) << "ONNX shape inference stopped early: "
                                 << verdict.inferenceWarning;
  }
  const onnx::GraphProto &graph = model->graph();
  for (const auto &info : graph.value_info())
    valueTypes[info.name()] = &info.type();

  // 3. The function: arguments are the graph inputs that no initializer
  //    defines (older exporters list initializers as inputs too).
  llvm::StringSet<> initializerNames;
  for (const auto &initializer : graph.initializer())
    initializerNames.insert(initializer.name());
  llvm::SmallVector<Type> argumentTypes;
  llvm::SmallVector<std::string> argumentNames;
  llvm::SmallVector<ArrayAttr> argumentDims;
  for (const auto &input : graph.input()) {
    if (initializerNames.contains(input.name()))
      continue;
    llvm::SmallVector<std::string> dimParams;
    FailureOr<RankedTensorType> type =
        convertValueType(input, "graph input", dimParams);
    if (failed(type))
      return nullptr;
    argumentTypes.push_back(*type);
    argumentNames.push_back(input.name());
    argumentDims.push_back(getDimParamsAttr(dimParams));
  }

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc);
  if (!graph.name().empty())
    (*module)->setAttr("tfm.graph_name", builder.getStringAttr(graph.name()));
  (*module)->setAttr("tfm.opset", builder.getI64IntegerAttr(opset));
  if (!model->producer_name().empty())
    (*module)->setAttr("tfm.producer",
                       builder.getStringAttr(model->producer_name() + " " +
                                             model->producer_version()));
  builder.setInsertionPointToEnd(module->getBody());
  auto func = builder.create<func::FuncOp>(
      fileLoc, options.functionName, builder.getFunctionType(argumentTypes, {}));
  Block *body = func.addEntryBlock();
  for (auto [i, name] : llvm::enumerate(argumentNames)) {
    func.setArgAttr(i, "tfm.name", builder.getStringAttr(name));
    if (argumentDims[i])
      func.setArgAttr(i, tfm::TfmDialect::kDimParamsAttrName, argumentDims[i]);
    values[name] = body->getArgument(i);
  }
  builder.setInsertionPointToStart(body);

  for (const auto &initializer : graph.initializer()) {
    std::string error;
    ElementsAttr value = convertTensor(initializer, initializer.name(), storage,
                                       context, error);
    if (!value) {
      emitError(fileLoc) << "initializer '" << initializer.name() << "' "
                         << error;
      return nullptr;
    }
    values[initializer.name()] = builder.create<tfm::ConstantOp>(
        NameLoc::get(builder.getStringAttr(initializer.name()), fileLoc),
        value.getType(), value);
  }

  for (auto [index, node] : llvm::enumerate(graph.node()))
    if (failed(importNode(node, index)))
      return nullptr;

  // 4. Outputs.
  llvm::SmallVector<Value> results;
  for (const auto &output : graph.output()) {
    if (sequences.count(output.name())) {
      emitError(fileLoc) << "graph output '" << output.name()
                         << "' is a sequence; tfc's outputs are tensors";
      return nullptr;
    }
    results.push_back(values.lookup(output.name()));
  }
  builder.create<func::ReturnOp>(fileLoc, results);
  func.setType(builder.getFunctionType(argumentTypes,
                                       ValueRange(results).getTypes()));
  if (failed(tfm::refineShapes(func)) || failed(verify(*module)))
    return nullptr;
  // Name the outputs' symbolic dims where they are still dynamic after
  // refinement (a pinned input shape can make them static).
  for (auto [i, output] : llvm::enumerate(graph.output())) {
    func.setResultAttr(i, "tfm.name", builder.getStringAttr(output.name()));
    auto type = cast<RankedTensorType>(func.getResultTypes()[i]);
    llvm::SmallVector<std::string> dimParams;
    if (output.type().has_tensor_type() &&
        output.type().tensor_type().has_shape() &&
        output.type().tensor_type().shape().dim_size() == type.getRank())
      for (const auto &[d, dim] :
           llvm::enumerate(output.type().tensor_type().shape().dim()))
        dimParams.push_back(dim.has_dim_param() && type.isDynamicDim(d)
                                ? dim.dim_param()
                                : "");
    if (ArrayAttr dims = getDimParamsAttr(dimParams))
      func.setResultAttr(i, tfm::TfmDialect::kDimParamsAttrName, dims);
  }
  return module;
}

OwningOpRef<ModuleOp> mlir::tfc::importOnnxModel(llvm::StringRef path,
                                                 const OnnxImportOptions &options,
                                                 MLIRContext *context) {
  return ModelImporter(path, options, context).run();
}

std::vector<std::string> mlir::tfc::getSupportedOnnxOps() {
  std::vector<std::string> ops;
  for (const auto &entry : getOpConverters())
    ops.push_back(entry.getKey().str());
  std::sort(ops.begin(), ops.end());
  return ops;
}

std::optional<llvm::SmallVector<int64_t>>
mlir::tfc::parseShape(llvm::StringRef text) {
  llvm::SmallVector<int64_t> shape;
  if (text.empty() || text == "scalar")
    return shape;
  llvm::SmallVector<llvm::StringRef> parts;
  text.split(parts, text.contains(',') ? ',' : 'x');
  for (llvm::StringRef part : parts) {
    part = part.trim();
    int64_t dim;
    if (part == "?")
      shape.push_back(ShapedType::kDynamic);
    else if (!part.getAsInteger(10, dim) && dim >= 0)
      shape.push_back(dim);
    else
      return std::nullopt;
  }
  return shape;
}
