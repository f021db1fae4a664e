//===- OnnxOpConverters.cpp - one converter per ONNX op type --------------===//
//
// Each converter reads one node, applies its opset's attribute defaults and
// input conventions (an attribute in one opset is an input in the next), and
// builds tfm ops whose attributes are explicit and normalized. The tfm op's
// own inference then checks shapes and types.
//
//===----------------------------------------------------------------------===//

#include "OnnxImporterImpl.h"

#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc::onnx_import;

namespace {

/// Normalizes a possibly negative axis against `rank` (or `rank + 1` for ops
/// that insert dims), failing with the node's diagnostic.
FailureOr<int64_t> normalizeAxis(NodeImporter &node, int64_t axis,
                                 int64_t rank) {
  std::optional<int64_t> normalized = tfm::normalizeAxis(axis, rank);
  if (!normalized)
    return node.fail("axis " + llvm::Twine(axis) +
                     " is out of range for rank " + llvm::Twine(rank));
  return *normalized;
}

FailureOr<llvm::SmallVector<int64_t>>
normalizeAxes(NodeImporter &node, llvm::ArrayRef<int64_t> axes, int64_t rank) {
  llvm::SmallVector<int64_t> result;
  for (int64_t axis : axes) {
    FailureOr<int64_t> normalized = normalizeAxis(node, axis, rank);
    if (failed(normalized))
      return failure();
    result.push_back(*normalized);
  }
  return result;
}

LogicalResult setOne(NodeImporter &node, FailureOr<Value> value) {
  if (failed(value))
    return failure();
  node.setResults(*value);
  return success();
}

LogicalResult convertSame(NodeImporter &node, llvm::StringRef opName) {
  llvm::SmallVector<Value> operands;
  for (unsigned i = 0; i < node.getNumInputs(); ++i) {
    FailureOr<Value> input = node.getRequiredInput(i, "operand");
    if (failed(input))
      return failure();
    operands.push_back(*input);
  }
  return setOne(node, node.createOne(opName, operands));
}

template <const char *OpName>
LogicalResult convertDirect(NodeImporter &node) {
  return convertSame(node, OpName);
}

/// Max and Min take any number of operands; tfm's take two.
template <const char *OpName>
LogicalResult convertVariadic(NodeImporter &node) {
  if (node.getNumInputs() == 0)
    return node.fail("needs at least one input");
  Value result = node.getInput(0);
  if (node.getNumInputs() == 1)
    return setOne(node, node.createOne("tfm.identity", result));
  for (unsigned i = 1; i < node.getNumInputs(); ++i) {
    FailureOr<Value> next = node.createOne(OpName, {result, node.getInput(i)});
    if (failed(next))
      return failure();
    result = *next;
  }
  node.setResults(result);
  return success();
}

LogicalResult convertGelu(NodeImporter &node) {
  std::string approximate = node.getString("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    return node.fail("approximate must be \"none\" or \"tanh\", got \"" +
                     approximate + "\"");
  return setOne(node, node.createOne("tfm.gelu", node.getInput(0),
                                     {node.builder.getNamedAttr(
                                         "approximation",
                                         node.builder.getStringAttr(approximate))}));
}

/// An activation whose float attributes are written out with their ONNX
/// defaults where the node omits them.
struct FloatAttributeDefault {
  const char *name;
  float value;
};

LogicalResult convertActivation(NodeImporter &node, llvm::StringRef opName,
                                llvm::ArrayRef<FloatAttributeDefault> defaults) {
  llvm::SmallVector<NamedAttribute> attributes;
  for (const FloatAttributeDefault &attribute : defaults)
    attributes.push_back(node.namedF32(
        attribute.name, node.getFloat(attribute.name, attribute.value)));
  return setOne(node, node.createOne(opName, node.getInput(0), attributes));
}

/// Clip(x, min, max) = min(max(x, min), max), each bound optional and a
/// scalar: NaN stays NaN, and min > max gives max everywhere, as ONNX says.
LogicalResult convertClip(NodeImporter &node) {
  Value result = node.getInput(0);
  bool bounded = false;
  for (unsigned index : {1u, 2u}) {
    Value bound = node.getInput(index);
    if (!bound)
      continue;
    auto type = llvm::cast<RankedTensorType>(bound.getType());
    if (type.getRank() > 1 || (type.getRank() == 1 && type.getDimSize(0) != 1))
      return node.fail(llvm::Twine(index == 1 ? "min" : "max") +
                       " must be a scalar, got a tensor of shape " +
                       formatDims(type.getShape()));
    if (type.getRank() == 1) {
      FailureOr<Value> scalar =
          node.createOne("tfm.reshape", {bound, node.getI64Constant({})});
      if (failed(scalar))
        return failure();
      bound = *scalar;
    }
    FailureOr<Value> clipped =
        node.createOne(index == 1 ? "tfm.max" : "tfm.min", {result, bound});
    if (failed(clipped))
      return failure();
    result = *clipped;
    bounded = true;
  }
  if (!bounded)
    return setOne(node, node.createOne("tfm.identity", result));
  node.setResults(result);
  return success();
}

LogicalResult convertDropout(NodeImporter &node) {
  // Inputs since opset 12: data, ratio, training_mode. Inference only.
  if (Value training = node.getInput(2)) {
    FailureOr<llvm::SmallVector<int64_t>> mode =
        node.getConstantInts(2, "training_mode");
    if (failed(mode))
      return failure();
    if (!mode->empty() && (*mode)[0] != 0)
      return node.fail("training_mode is true; tfc compiles inference only");
  }
  return setOne(node, node.createOne("tfm.dropout", node.getInput(0)));
}

LogicalResult convertGemm(NodeImporter &node) {
  llvm::SmallVector<Value> operands = {node.getInput(0), node.getInput(1)};
  if (Value c = node.getInput(2))
    operands.push_back(c);
  return setOne(node, node.createOne(
                          "tfm.gemm", operands,
                          {node.namedF32("alpha", node.getFloat("alpha", 1.0f)),
                           node.namedF32("beta", node.getFloat("beta", 1.0f)),
                           node.namedBool("trans_a", node.getInt("transA", 0)),
                           node.namedBool("trans_b", node.getInt("transB", 0))}));
}

LogicalResult convertConv(NodeImporter &node) {
  RankedTensorType input = node.getInputType(0);
  RankedTensorType weight = node.getInputType(1);
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1 || weight.getRank() != input.getRank())
    return node.fail("input and weight must have the same rank >= 3");
  auto orDefault = [&](llvm::StringRef name, int64_t count, int64_t value) {
    return node.getInts(name).value_or(llvm::SmallVector<int64_t>(count, value));
  };
  llvm::SmallVector<int64_t> strides = orDefault("strides", spatial, 1);
  llvm::SmallVector<int64_t> dilations = orDefault("dilations", spatial, 1);
  llvm::SmallVector<int64_t> pads = orDefault("pads", 2 * spatial, 0);
  if ((int64_t)strides.size() != spatial ||
      (int64_t)dilations.size() != spatial ||
      (int64_t)pads.size() != 2 * spatial)
    return node.fail("strides, dilations and pads do not match the " +
                     llvm::Twine(spatial) + " spatial dims");
  if (auto kernel = node.getInts("kernel_shape")) {
    for (int64_t i = 0; i < spatial; ++i)
      if (i < (int64_t)kernel->size() && !weight.isDynamicDim(i + 2) &&
          (*kernel)[i] != weight.getDimSize(i + 2))
        return node.fail("kernel_shape disagrees with the weight's shape");
  }
  std::string autoPad = node.getString("auto_pad", "NOTSET");
  if (autoPad == "VALID") {
    pads.assign(2 * spatial, 0);
  } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
    // Output = ceil(input / stride); the padding that achieves it goes to
    // the end (upper) or the start (lower) when odd.
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t in = input.getDimSize(i + 2), k = weight.getDimSize(i + 2);
      if (ShapedType::isDynamic(in) || ShapedType::isDynamic(k))
        return node.fail("auto_pad " + autoPad +
                         " needs static spatial dims; pin them with "
                         "--input-shape");
      int64_t out = (in + strides[i] - 1) / strides[i];
      int64_t total = std::max<int64_t>(
          0, (out - 1) * strides[i] + dilations[i] * (k - 1) + 1 - in);
      int64_t small = total / 2, large = total - small;
      pads[i] = autoPad == "SAME_UPPER" ? small : large;
      pads[i + spatial] = autoPad == "SAME_UPPER" ? large : small;
    }
  } else if (autoPad != "NOTSET") {
    return node.fail("unknown auto_pad '" + autoPad + "'");
  }
  llvm::SmallVector<Value> operands = {node.getInput(0), node.getInput(1)};
  if (Value bias = node.getInput(2))
    operands.push_back(bias);
  return setOne(node,
                node.createOne("tfm.conv", operands,
                               {node.namedI64Array("strides", strides),
                                node.namedI64Array("pads", pads),
                                node.namedI64Array("dilations", dilations),
                                node.namedI64("group", node.getInt("group", 1))}));
}

LogicalResult convertSoftmax(NodeImporter &node) {
  // Opset 13 changed Softmax from "flatten to 2-D at axis, default 1" to
  // "along axis, default -1"; tfc reads opsets >= 13 only.
  int64_t rank = node.getInputType(0).getRank();
  FailureOr<int64_t> axis = normalizeAxis(node, node.getInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  return setOne(node, node.createOne("tfm.softmax", node.getInput(0),
                                     {node.namedI64("axis", *axis)}));
}

LogicalResult convertLayerNorm(NodeImporter &node) {
  int64_t rank = node.getInputType(0).getRank();
  FailureOr<int64_t> axis = normalizeAxis(node, node.getInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  FailureOr<Value> scale = node.getRequiredInput(1, "scale");
  if (failed(scale))
    return failure();
  llvm::SmallVector<Value> operands = {node.getInput(0), *scale};
  if (Value bias = node.getInput(2))
    operands.push_back(bias);
  return setOne(node, node.createOne(
                          "tfm.layer_norm", operands,
                          {node.namedI64("axis", *axis),
                           node.namedF32("epsilon",
                                         node.getFloat("epsilon", 1e-5f))}));
}

/// The axes of a reduction node, normalized and sorted (empty: all dims):
/// an attribute until opset `axesInputSince` (18; ReduceSum's 13), then an
/// optional input with `noop_with_empty_axes`, where no axes make the node
/// reduce nothing (std::nullopt).
FailureOr<std::optional<llvm::SmallVector<int64_t>>>
reductionAxes(NodeImporter &node, int64_t axesInputSince) {
  int64_t rank = node.getInputType(0).getRank();
  llvm::SmallVector<int64_t> axes;
  if (node.opset >= axesInputSince) {
    if (node.getInput(1)) {
      FailureOr<llvm::SmallVector<int64_t>> given =
          node.getConstantInts(1, "axes");
      if (failed(given))
        return failure();
      axes = *given;
    }
    if (axes.empty() && node.getInt("noop_with_empty_axes", 0))
      return std::optional<llvm::SmallVector<int64_t>>();
  } else if (auto given = node.getInts("axes")) {
    axes = *given;
  }
  FailureOr<llvm::SmallVector<int64_t>> normalized =
      normalizeAxes(node, axes, rank);
  if (failed(normalized))
    return failure();
  llvm::sort(*normalized);
  return std::optional<llvm::SmallVector<int64_t>>(*normalized);
}

FailureOr<Value> createReduction(NodeImporter &node, llvm::StringRef opName,
                                 Value input, llvm::ArrayRef<int64_t> axes,
                                 bool keepdims) {
  return node.createOne(opName, input,
                        {node.namedI64Array("axes", axes),
                         node.namedBool("keepdims", keepdims)});
}

template <const char *OpName, int64_t AxesInputSince>
LogicalResult convertReduction(NodeImporter &node) {
  auto axes = reductionAxes(node, AxesInputSince);
  if (failed(axes))
    return failure();
  if (!*axes)
    return setOne(node, node.createOne("tfm.identity", node.getInput(0)));
  return setOne(node, createReduction(node, OpName, node.getInput(0), **axes,
                                      node.getInt("keepdims", 1)));
}

/// The reductions ONNX defines as a sum between elementwise steps (axes an
/// input since opset 18):
///   ReduceL1 = sum |x|, ReduceL2 = sqrt(sum x^2), ReduceSumSquare = sum x^2,
///   ReduceLogSum = log(sum x),
///   ReduceLogSumExp = log(sum exp(x - m)) + m with m the maximum (so exp
///   does not overflow).
/// With noop_with_empty_axes and no axes, the elementwise steps still apply
/// (as in ONNX's reference: ReduceSumSquare gives x^2).
enum class SumReduction { L1, L2, SumSquare, LogSum, LogSumExp };

template <SumReduction Kind>
LogicalResult convertSumReduction(NodeImporter &node) {
  auto axes = reductionAxes(node, 18);
  if (failed(axes))
    return failure();
  bool keepdims = node.getInt("keepdims", 1);
  Value x = node.getInput(0);
  auto sum = [&](Value value) -> FailureOr<Value> {
    if (!*axes)
      return value;
    return createReduction(node, "tfm.reduce_sum", value, **axes, keepdims);
  };
  FailureOr<Value> result = failure();
  switch (Kind) {
  case SumReduction::L1: {
    FailureOr<Value> magnitude = node.createOne("tfm.abs", x);
    if (succeeded(magnitude))
      result = sum(*magnitude);
    break;
  }
  case SumReduction::L2:
  case SumReduction::SumSquare: {
    FailureOr<Value> square = node.createOne("tfm.mul", {x, x});
    if (succeeded(square))
      result = sum(*square);
    if (Kind == SumReduction::L2 && succeeded(result))
      result = node.createOne("tfm.sqrt", *result);
    break;
  }
  case SumReduction::LogSum:
    result = sum(x);
    if (succeeded(result))
      result = node.createOne("tfm.log", *result);
    break;
  case SumReduction::LogSumExp: {
    if (!*axes) {
      result = x; // log(exp(x))
      break;
    }
    FailureOr<Value> shift =
        createReduction(node, "tfm.reduce_max", x, **axes, /*keepdims=*/true);
    if (failed(shift))
      break;
    FailureOr<Value> shifted = node.createOne("tfm.sub", {x, *shift});
    if (failed(shifted))
      break;
    FailureOr<Value> exponentials = node.createOne("tfm.exp", *shifted);
    if (failed(exponentials))
      break;
    FailureOr<Value> total = sum(*exponentials);
    if (failed(total))
      break;
    FailureOr<Value> logarithm = node.createOne("tfm.log", *total);
    if (failed(logarithm))
      break;
    FailureOr<Value> maximum =
        keepdims ? shift
                 : createReduction(node, "tfm.reduce_max", x, **axes, false);
    if (succeeded(maximum))
      result = node.createOne("tfm.add", {*logarithm, *maximum});
    break;
  }
  }
  return setOne(node, result);
}

LogicalResult convertCumSum(NodeImporter &node) {
  FailureOr<llvm::SmallVector<int64_t>> axis = node.getConstantInts(1, "axis");
  if (failed(axis))
    return failure();
  if (axis->size() != 1)
    return node.fail("axis must hold one value, got " +
                     llvm::Twine(axis->size()));
  FailureOr<int64_t> normalized =
      normalizeAxis(node, axis->front(), node.getInputType(0).getRank());
  if (failed(normalized))
    return failure();
  return setOne(node, node.createOne(
                          "tfm.cumsum", node.getInput(0),
                          {node.namedI64("axis", *normalized),
                           node.namedBool("exclusive", node.getInt("exclusive", 0)),
                           node.namedBool("reverse", node.getInt("reverse", 0))}));
}

LogicalResult convertTranspose(NodeImporter &node) {
  int64_t rank = node.getInputType(0).getRank();
  llvm::SmallVector<int64_t> perm;
  if (auto given = node.getInts("perm"))
    perm = *given;
  else
    for (int64_t i = rank - 1; i >= 0; --i)
      perm.push_back(i);
  return setOne(node, node.createOne("tfm.transpose", node.getInput(0),
                                     {node.namedI64Array("perm", perm)}));
}

LogicalResult convertReshape(NodeImporter &node) {
  FailureOr<Value> shape = node.getRequiredInput(1, "shape");
  if (failed(shape))
    return failure();
  return setOne(node, node.createOne(
                          "tfm.reshape", {node.getInput(0), *shape},
                          {node.namedBool("allow_zero", node.getInt("allowzero", 0))}));
}

LogicalResult convertFlatten(NodeImporter &node) {
  // Flatten's axis ranges over [-rank, rank]: it may name the end.
  int64_t rank = node.getInputType(0).getRank();
  int64_t given = node.getInt("axis", 1);
  std::optional<int64_t> axis =
      given == rank ? std::optional<int64_t>(rank) : tfm::normalizeAxis(given, rank);
  if (!axis)
    return node.fail("axis " + llvm::Twine(given) +
                     " is out of range for rank " + llvm::Twine(rank));
  return setOne(node, node.createOne("tfm.flatten", node.getInput(0),
                                     {node.namedI64("axis", *axis)}));
}

LogicalResult convertSqueeze(NodeImporter &node) {
  RankedTensorType type = node.getInputType(0);
  llvm::SmallVector<int64_t> axes;
  if (node.getInput(1)) {
    FailureOr<llvm::SmallVector<int64_t>> given = node.getConstantInts(1, "axes");
    if (failed(given))
      return failure();
    FailureOr<llvm::SmallVector<int64_t>> normalized =
        normalizeAxes(node, *given, type.getRank());
    if (failed(normalized))
      return failure();
    axes = *normalized;
  } else {
    // Without axes, every dim of size 1 goes; a `?` could be 1 or not.
    for (int64_t i = 0; i < type.getRank(); ++i) {
      if (type.isDynamicDim(i))
        return node.fail("has no axes and dim " + llvm::Twine(i) +
                         " is symbolic, so which dims to remove is unknown; "
                         "pin the shape with --input-shape");
      if (type.getDimSize(i) == 1)
        axes.push_back(i);
    }
  }
  return setOne(node, node.createOne("tfm.squeeze", node.getInput(0),
                                     {node.namedI64Array("axes", axes)}));
}

LogicalResult convertUnsqueeze(NodeImporter &node) {
  FailureOr<llvm::SmallVector<int64_t>> axes = node.getConstantInts(1, "axes");
  if (failed(axes))
    return failure();
  int64_t rank = node.getInputType(0).getRank() + axes->size();
  FailureOr<llvm::SmallVector<int64_t>> normalized =
      normalizeAxes(node, *axes, rank);
  if (failed(normalized))
    return failure();
  llvm::sort(*normalized);
  return setOne(node, node.createOne("tfm.unsqueeze", node.getInput(0),
                                     {node.namedI64Array("axes", *normalized)}));
}

LogicalResult convertConcat(NodeImporter &node) {
  llvm::SmallVector<Value> inputs;
  for (unsigned i = 0; i < node.getNumInputs(); ++i)
    if (Value input = node.getInput(i))
      inputs.push_back(input);
  if (inputs.empty())
    return node.fail("needs at least one input");
  int64_t rank = cast<RankedTensorType>(inputs[0].getType()).getRank();
  FailureOr<int64_t> axis = normalizeAxis(node, node.getInt("axis", 0), rank);
  if (failed(axis))
    return failure();
  return setOne(node, node.createOne("tfm.concat", inputs,
                                     {node.namedI64("axis", *axis)}));
}

LogicalResult convertSplit(NodeImporter &node) {
  // Opsets 13-17: sizes from the optional `split` input, the part count
  // from the node's outputs. Opset 18 adds `num_outputs` for equal parts.
  int64_t rank = node.getInputType(0).getRank();
  FailureOr<int64_t> axis = normalizeAxis(node, node.getInt("axis", 0), rank);
  if (failed(axis))
    return failure();
  int64_t parts = node.node.output_size();
  if (node.opset >= 18)
    if (const auto *attr = node.findAttribute("num_outputs")) {
      if (attr->i() != parts)
        return node.fail("num_outputs is " + llvm::Twine(attr->i()) +
                         " but the node has " + llvm::Twine(parts) + " outputs");
    }
  llvm::SmallVector<NamedAttribute> attributes = {
      node.namedI64("axis", *axis), node.namedI64("num_outputs", parts)};
  if (node.getInput(1)) {
    FailureOr<llvm::SmallVector<int64_t>> sizes = node.getConstantInts(1, "split");
    if (failed(sizes))
      return failure();
    attributes.push_back(node.namedI64Array("sizes", *sizes));
  }
  FailureOr<llvm::SmallVector<Value>> results =
      node.create("tfm.split", node.getInput(0), attributes);
  if (failed(results))
    return failure();
  node.setResults(*results);
  return success();
}

LogicalResult convertSlice(NodeImporter &node) {
  FailureOr<Value> starts = node.getRequiredInput(1, "starts");
  FailureOr<Value> ends = node.getRequiredInput(2, "ends");
  if (failed(starts) || failed(ends))
    return failure();
  auto startsType = cast<RankedTensorType>(starts->getType());
  if (startsType.getRank() != 1 || startsType.isDynamicDim(0))
    return node.fail("starts must be a 1-D tensor of static length");
  int64_t count = startsType.getDimSize(0);
  // tfm.slice takes all four index operands; materialize the defaults.
  auto asI64 = [&](Value v) -> FailureOr<Value> {
    auto type = cast<RankedTensorType>(v.getType());
    if (type.getElementType().isInteger(64))
      return v;
    return node.createOne("tfm.cast", v,
                          {node.builder.getNamedAttr(
                              "to", TypeAttr::get(node.builder.getI64Type()))});
  };
  Value axes = node.getInput(3);
  if (!axes) {
    llvm::SmallVector<int64_t> all;
    for (int64_t i = 0; i < count; ++i)
      all.push_back(i);
    axes = node.getI64Constant(all);
  }
  Value steps = node.getInput(4);
  if (!steps)
    steps = node.getI64Constant(llvm::SmallVector<int64_t>(count, 1));
  llvm::SmallVector<Value> operands = {node.getInput(0)};
  for (Value v : {*starts, *ends, axes, steps}) {
    FailureOr<Value> converted = asI64(v);
    if (failed(converted))
      return failure();
    operands.push_back(*converted);
  }
  return setOne(node, node.createOne("tfm.slice", operands));
}

LogicalResult convertGather(NodeImporter &node) {
  int64_t rank = node.getInputType(0).getRank();
  FailureOr<int64_t> axis = normalizeAxis(node, node.getInt("axis", 0), rank);
  if (failed(axis))
    return failure();
  return setOne(node, node.createOne("tfm.gather",
                                     {node.getInput(0), node.getInput(1)},
                                     {node.namedI64("axis", *axis)}));
}

LogicalResult convertCast(NodeImporter &node) {
  const onnx::AttributeProto *to = node.findAttribute("to");
  if (!to)
    return node.fail("attribute 'to' is required");
  Type element = convertElementType(to->i(), node.getContext());
  if (!element)
    return node.fail("cannot cast to " + onnxTypeName(to->i()) +
                     ", which tfc does not support");
  return setOne(node, node.createOne("tfm.cast", node.getInput(0),
                                     {node.builder.getNamedAttr(
                                         "to", TypeAttr::get(element))}));
}

LogicalResult convertShape(NodeImporter &node) {
  // Opset 15 adds a [start, end) window with Python-style clamping.
  int64_t rank = node.getInputType(0).getRank();
  auto clampIndex = [&](int64_t index) {
    if (index < 0)
      index += rank;
    return std::clamp<int64_t>(index, 0, rank);
  };
  int64_t start = clampIndex(node.getInt("start", 0));
  int64_t end = clampIndex(node.getInt("end", rank));
  end = std::max(start, end);
  return setOne(node, node.createOne("tfm.shape", node.getInput(0),
                                     {node.namedI64("start", start),
                                      node.namedI64("end", end)}));
}

LogicalResult convertConstantOfShape(NodeImporter &node) {
  Attribute value;
  if (node.findAttribute("value")) {
    FailureOr<ElementsAttr> given = node.getTensor("value");
    if (failed(given))
      return failure();
    value = *given;
  } else {
    value = DenseElementsAttr::get(
        RankedTensorType::get({1}, node.builder.getF32Type()), 0.0f);
  }
  return setOne(node, node.createOne("tfm.constant_of_shape", node.getInput(0),
                                     {node.builder.getNamedAttr("value", value)}));
}

LogicalResult convertTrilu(NodeImporter &node) {
  Value k = node.getInput(1);
  if (!k)
    k = node.getI64Constant({0}, /*scalar=*/true);
  return setOne(node, node.createOne("tfm.trilu", {node.getInput(0), k},
                                     {node.namedBool("upper", node.getInt("upper", 1))}));
}

LogicalResult convertConstant(NodeImporter &node) {
  // Exactly one of the value attributes is set.
  Builder &b = node.builder;
  if (node.findAttribute("value")) {
    FailureOr<ElementsAttr> value = node.getTensor("value");
    if (failed(value))
      return failure();
    node.setResults(node.getConstant(*value));
    return success();
  }
  if (const auto *attr = node.findAttribute("value_float")) {
    node.setResults(node.getConstant(DenseElementsAttr::get(
        RankedTensorType::get({}, b.getF32Type()), attr->f())));
    return success();
  }
  if (const auto *attr = node.findAttribute("value_floats")) {
    llvm::SmallVector<float> values(attr->floats().begin(), attr->floats().end());
    node.setResults(node.getConstant(DenseElementsAttr::get(
        RankedTensorType::get({(int64_t)values.size()}, b.getF32Type()),
        llvm::ArrayRef<float>(values))));
    return success();
  }
  if (const auto *attr = node.findAttribute("value_int")) {
    node.setResults(node.getI64Constant({attr->i()}, /*scalar=*/true));
    return success();
  }
  if (auto values = node.getInts("value_ints")) {
    node.setResults(node.getI64Constant(*values));
    return success();
  }
  return node.fail("only tensor, float(s) and int(s) values are supported "
                   "(not sparse or string constants)");
}

// Op names as template arguments need linkage.
constexpr char kAdd[] = "tfm.add", kSub[] = "tfm.sub", kMul[] = "tfm.mul",
               kDiv[] = "tfm.div", kPow[] = "tfm.pow", kMax[] = "tfm.max",
               kMin[] = "tfm.min", kEqual[] = "tfm.equal",
               kLess[] = "tfm.less", kLessOrEqual[] = "tfm.less_or_equal",
               kGreater[] = "tfm.greater",
               kGreaterOrEqual[] = "tfm.greater_or_equal", kAnd[] = "tfm.and",
               kOr[] = "tfm.or", kXor[] = "tfm.xor", kNot[] = "tfm.not",
               kNeg[] = "tfm.neg", kAbs[] = "tfm.abs", kSqrt[] = "tfm.sqrt",
               kExp[] = "tfm.exp", kLog[] = "tfm.log", kErf[] = "tfm.erf",
               kTanh[] = "tfm.tanh", kSin[] = "tfm.sin", kCos[] = "tfm.cos",
               kFloor[] = "tfm.floor", kCeil[] = "tfm.ceil",
               kReciprocal[] = "tfm.reciprocal", kRelu[] = "tfm.relu",
               kSigmoid[] = "tfm.sigmoid", kIdentity[] = "tfm.identity",
               kMatMul[] = "tfm.matmul", kWhere[] = "tfm.where",
               kExpand[] = "tfm.expand", kRange[] = "tfm.range",
               kReduceMean[] = "tfm.reduce_mean",
               kReduceSum[] = "tfm.reduce_sum", kReduceMax[] = "tfm.reduce_max",
               kReduceMin[] = "tfm.reduce_min", kReduceProd[] = "tfm.reduce_prod",
               kHardSwish[] = "tfm.hard_swish", kSoftplus[] = "tfm.softplus",
               kSoftsign[] = "tfm.softsign", kMish[] = "tfm.mish",
               kPRelu[] = "tfm.prelu";

} // namespace

const llvm::StringMap<OpConverterInfo> &
mlir::tfc::onnx_import::getOpConverters() {
  // Each entry: the converter, the inputs it requires and allows, the
  // outputs allowed, and the op's attributes in the standard.
  using A = onnx::AttributeProto;
  static const llvm::StringMap<OpConverterInfo> converters = [] {
    llvm::StringMap<OpConverterInfo> map;
    auto add = [&](llvm::StringRef opType, OpConverter convert,
                   unsigned requiredInputs, unsigned maxInputs,
                   unsigned maxOutputs,
                   llvm::ArrayRef<AttributeSpec> attributes = {},
                   int64_t moreInputsSince = 0) {
      map[opType] = {convert,    requiredInputs,  maxInputs,
                     maxOutputs, moreInputsSince, {attributes.begin(), attributes.end()}};
    };
    // Elementwise ops: no attributes.
    add("Add", convertDirect<kAdd>, 2, 2, 1);
    add("Sub", convertDirect<kSub>, 2, 2, 1);
    add("Mul", convertDirect<kMul>, 2, 2, 1);
    add("Div", convertDirect<kDiv>, 2, 2, 1);
    add("Pow", convertDirect<kPow>, 2, 2, 1);
    add("Max", convertVariadic<kMax>, 1, kVariadic, 1);
    add("Min", convertVariadic<kMin>, 1, kVariadic, 1);
    add("Equal", convertDirect<kEqual>, 2, 2, 1);
    add("Less", convertDirect<kLess>, 2, 2, 1);
    add("LessOrEqual", convertDirect<kLessOrEqual>, 2, 2, 1);
    add("Greater", convertDirect<kGreater>, 2, 2, 1);
    add("GreaterOrEqual", convertDirect<kGreaterOrEqual>, 2, 2, 1);
    add("And", convertDirect<kAnd>, 2, 2, 1);
    add("Or", convertDirect<kOr>, 2, 2, 1);
    add("Xor", convertDirect<kXor>, 2, 2, 1);
    add("Not", convertDirect<kNot>, 1, 1, 1);
    add("Neg", convertDirect<kNeg>, 1, 1, 1);
    add("Abs", convertDirect<kAbs>, 1, 1, 1);
    add("Sqrt", convertDirect<kSqrt>, 1, 1, 1);
    add("Exp", convertDirect<kExp>, 1, 1, 1);
    add("Log", convertDirect<kLog>, 1, 1, 1);
    add("Erf", convertDirect<kErf>, 1, 1, 1);
    add("Tanh", convertDirect<kTanh>, 1, 1, 1);
    add("Sin", convertDirect<kSin>, 1, 1, 1);
    add("Cos", convertDirect<kCos>, 1, 1, 1);
    add("Floor", convertDirect<kFloor>, 1, 1, 1);
    add("Ceil", convertDirect<kCeil>, 1, 1, 1);
    add("Reciprocal", convertDirect<kReciprocal>, 1, 1, 1);
    add("Relu", convertDirect<kRelu>, 1, 1, 1);
    add("Sigmoid", convertDirect<kSigmoid>, 1, 1, 1);
    add("Identity", convertDirect<kIdentity>, 1, 1, 1);
    add("Where", convertDirect<kWhere>, 3, 3, 1);
    add("Expand", convertDirect<kExpand>, 2, 2, 1);
    add("Range", convertDirect<kRange>, 3, 3, 1);
    add("MatMul", convertDirect<kMatMul>, 2, 2, 1);

    add("Gelu", convertGelu, 1, 1, 1, {{"approximate", A::STRING}});
    // Activations (their attributes' ONNX defaults in the converters).
    add("Elu", [](NodeImporter &node) {
      return convertActivation(node, "tfm.elu", {{"alpha", 1.0f}});
    }, 1, 1, 1, {{"alpha", A::FLOAT}});
    add("Celu", [](NodeImporter &node) {
      return convertActivation(node, "tfm.celu", {{"alpha", 1.0f}});
    }, 1, 1, 1, {{"alpha", A::FLOAT}});
    add("Selu", [](NodeImporter &node) {
      return convertActivation(node, "tfm.selu",
                               {{"alpha", 1.67326319217681884765625f},
                                {"gamma", 1.05070102214813232421875f}});
    }, 1, 1, 1, {{"alpha", A::FLOAT}, {"gamma", A::FLOAT}});
    add("LeakyRelu", [](NodeImporter &node) {
      return convertActivation(node, "tfm.leaky_relu", {{"alpha", 0.01f}});
    }, 1, 1, 1, {{"alpha", A::FLOAT}});
    add("ThresholdedRelu", [](NodeImporter &node) {
      return convertActivation(node, "tfm.thresholded_relu", {{"alpha", 1.0f}});
    }, 1, 1, 1, {{"alpha", A::FLOAT}});
    add("HardSigmoid", [](NodeImporter &node) {
      return convertActivation(node, "tfm.hard_sigmoid",
                               {{"alpha", 0.2f}, {"beta", 0.5f}});
    }, 1, 1, 1, {{"alpha", A::FLOAT}, {"beta", A::FLOAT}});
    add("HardSwish", convertDirect<kHardSwish>, 1, 1, 1);
    add("Softplus", convertDirect<kSoftplus>, 1, 1, 1);
    add("Softsign", convertDirect<kSoftsign>, 1, 1, 1);
    add("Mish", convertDirect<kMish>, 1, 1, 1);
    add("PRelu", convertDirect<kPRelu>, 2, 2, 1);
    add("Clip", convertClip, 1, 3, 1);
    add("Dropout", convertDropout, 1, 3, 2, {{"seed", A::INT}});
    add("Gemm", convertGemm, 2, 3, 1,
        {{"alpha", A::FLOAT}, {"beta", A::FLOAT}, {"transA", A::INT},
         {"transB", A::INT}});
    add("Conv", convertConv, 2, 3, 1,
        {{"auto_pad", A::STRING},
         {"dilations", A::INTS, false, 0, INT64_MAX, 1},
         {"group", A::INT, false, 0, INT64_MAX, 1},
         {"kernel_shape", A::INTS, false, 0, INT64_MAX, 1},
         {"pads", A::INTS, false, 0, INT64_MAX, 0},
         {"strides", A::INTS, false, 0, INT64_MAX, 1}});
    add("Softmax", convertSoftmax, 1, 1, 1, {{"axis", A::INT}});
    add("LayerNormalization", convertLayerNorm, 2, 3, 3,
        {{"axis", A::INT}, {"epsilon", A::FLOAT}, {"stash_type", A::INT}});
    // The axes of the reductions became an input in opset 18 (ReduceSum's
    // in 13).
    const AttributeSpec reduceAttributes[] = {
        {"axes", A::INTS, false, 0, 18},
        {"keepdims", A::INT},
        {"noop_with_empty_axes", A::INT, false, 18}};
    add("ReduceMean", convertReduction<kReduceMean, 18>, 1, 2, 1,
        reduceAttributes, /*moreInputsSince=*/18);
    add("ReduceMax", convertReduction<kReduceMax, 18>, 1, 2, 1,
        reduceAttributes, /*moreInputsSince=*/18);
    add("ReduceSum", convertReduction<kReduceSum, 13>, 1, 2, 1,
        {{"keepdims", A::INT}, {"noop_with_empty_axes", A::INT}});
    add("ReduceMin", convertReduction<kReduceMin, 18>, 1, 2, 1,
        reduceAttributes, /*moreInputsSince=*/18);
    add("ReduceProd", convertReduction<kReduceProd, 18>, 1, 2, 1,
        reduceAttributes, /*moreInputsSince=*/18);
    add("ReduceL1", convertSumReduction<SumReduction::L1>, 1, 2, 1,
        reduceAttributes, /*moreInputsSince=*/18);
    add("ReduceL2", convertSumReduction<SumReduction::L2>, 1, 2, 1,
        reduceAttributes, /*moreInputsSince=*/18);
    add("ReduceSumSquare", convertSumReduction<SumReduction::SumSquare>, 1, 2,
        1, reduceAttributes, /*moreInputsSince=*/18);
    add("ReduceLogSum", convertSumReduction<SumReduction::LogSum>, 1, 2, 1,
        reduceAttributes, /*moreInputsSince=*/18);
    add("ReduceLogSumExp", convertSumReduction<SumReduction::LogSumExp>, 1, 2,
        1, reduceAttributes, /*moreInputsSince=*/18);
    add("CumSum", convertCumSum, 2, 2, 1,
        {{"exclusive", A::INT}, {"reverse", A::INT}});
    add("Transpose", convertTranspose, 1, 1, 1, {{"perm", A::INTS}});
    add("Reshape", convertReshape, 2, 2, 1, {{"allowzero", A::INT, false, 14}});
    add("Flatten", convertFlatten, 1, 1, 1, {{"axis", A::INT}});
    add("Squeeze", convertSqueeze, 1, 2, 1);
    add("Unsqueeze", convertUnsqueeze, 2, 2, 1);
    add("Concat", convertConcat, 1, kVariadic, 1, {{"axis", A::INT, true}});
    add("Split", convertSplit, 1, 2, kVariadic,
        {{"axis", A::INT}, {"num_outputs", A::INT, false, 18}});
    add("Slice", convertSlice, 3, 5, 1);
    add("Gather", convertGather, 2, 2, 1, {{"axis", A::INT}});
    add("Cast", convertCast, 1, 1, 1,
        {{"to", A::INT, true}, {"saturate", A::INT, false, 19}});
    add("Shape", convertShape, 1, 1, 1,
        {{"start", A::INT, false, 15}, {"end", A::INT, false, 15}});
    add("ConstantOfShape", convertConstantOfShape, 1, 1, 1,
        {{"value", A::TENSOR}});
    add("Trilu", convertTrilu, 1, 2, 1, {{"upper", A::INT}});
    add("Constant", convertConstant, 0, 0, 1,
        {{"value", A::TENSOR},
         {"sparse_value", A::SPARSE_TENSOR},
         {"value_float", A::FLOAT},
         {"value_floats", A::FLOATS},
         {"value_int", A::INT},
         {"value_ints", A::INTS},
         {"value_string", A::STRING},
         {"value_strings", A::STRINGS}});
    return map;
  }();
  return converters;
}
