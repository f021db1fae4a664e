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

/// Identity of a tensor, or of a sequence (the same list).
LogicalResult convertIdentity(NodeImporter &node) {
  if (!node.getInput(0)) {
    FailureOr<const Sequence *> sequence = node.getSequenceInput(0, "input");
    if (failed(sequence))
      return failure();
    node.setSequenceResult(0, **sequence);
    return success();
  }
  return convertSame(node, "tfm.identity");
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
/// `value` as a 0-D tensor when it is a 1-D tensor of one element (how
/// exporters often write a scalar parameter), else as it is.
FailureOr<Value> scalarIfSingleElement(NodeImporter &node, Value value) {
  auto type = llvm::cast<RankedTensorType>(value.getType());
  if (type.getRank() != 1 || type.getDimSize(0) != 1)
    return value;
  return node.createOne("tfm.reshape", {value, node.getI64Constant({})});
}

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
    FailureOr<Value> scalar = scalarIfSingleElement(node, bound);
    if (failed(scalar))
      return failure();
    bound = *scalar;
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

/// A 0-D constant of `type` holding `value` (integer or float).
Value scalarConstant(NodeImporter &node, Type type, double value) {
  auto tensorType = RankedTensorType::get({}, type);
  if (auto floatType = llvm::dyn_cast<FloatType>(type)) {
    APFloat converted(value);
    bool losesInfo = false;
    converted.convert(floatType.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                      &losesInfo);
    return node.getConstant(DenseElementsAttr::get(tensorType, converted));
  }
  return node.getConstant(DenseElementsAttr::get(
      tensorType, APInt(type.getIntOrFloatBitWidth(), static_cast<int64_t>(value),
                        /*isSigned=*/true)));
}

/// Sum and Mean take any number of operands: a chain of tfm.add, then for
/// Mean a division by the count.
LogicalResult convertSumOrMean(NodeImporter &node, bool mean) {
  Value result = node.getInput(0);
  for (unsigned i = 1; i < node.getNumInputs(); ++i) {
    FailureOr<Value> next = node.createOne("tfm.add", {result, node.getInput(i)});
    if (failed(next))
      return failure();
    result = *next;
  }
  if (!mean || node.getNumInputs() == 1)
    return setOne(node, node.createOne("tfm.identity", result));
  Type element = llvm::cast<RankedTensorType>(result.getType()).getElementType();
  if (!llvm::isa<FloatType>(element))
    return node.fail("Mean is defined for floating-point tensors");
  Value divisor = scalarConstant(node, element, node.getNumInputs());
  return setOne(node, node.createOne("tfm.div", {result, divisor}));
}

LogicalResult convertIsInf(NodeImporter &node) {
  return setOne(node, node.createOne(
                          "tfm.is_inf", node.getInput(0),
                          {node.namedBool("detect_positive",
                                          node.getInt("detect_positive", 1)),
                           node.namedBool("detect_negative",
                                          node.getInt("detect_negative", 1))}));
}

LogicalResult convertBitShift(NodeImporter &node) {
  std::string direction = node.getString("direction", "");
  if (direction != "LEFT" && direction != "RIGHT")
    return node.fail("direction must be \"LEFT\" or \"RIGHT\", got \"" +
                     direction + "\"");
  return setOne(node, node.createOne(
                          "tfm.bit_shift", {node.getInput(0), node.getInput(1)},
                          {node.builder.getNamedAttr(
                              "direction", node.builder.getStringAttr(
                                               direction == "LEFT" ? "left" : "right"))}));
}

LogicalResult convertMod(NodeImporter &node) {
  return setOne(node, node.createOne("tfm.mod",
                                     {node.getInput(0), node.getInput(1)},
                                     {node.namedBool("fmod", node.getInt("fmod", 0))}));
}

template <const char *OpName>
LogicalResult convertArgReduction(NodeImporter &node) {
  FailureOr<int64_t> axis = normalizeAxis(node, node.getInt("axis", 0),
                                          node.getInputType(0).getRank());
  if (failed(axis))
    return failure();
  return setOne(node, node.createOne(
                          OpName, node.getInput(0),
                          {node.namedI64("axis", *axis),
                           node.namedBool("keepdims", node.getInt("keepdims", 1)),
                           node.namedBool("select_last_index",
                                          node.getInt("select_last_index", 0))}));
}

/// CastLike(x, like): a cast to like's element type.
LogicalResult convertGatherElements(NodeImporter &node) {
  FailureOr<int64_t> axis = normalizeAxis(node, node.getInt("axis", 0),
                                          node.getInputType(0).getRank());
  if (failed(axis))
    return failure();
  return setOne(node, node.createOne("tfm.gather_elements",
                                     {node.getInput(0), node.getInput(1)},
                                     {node.namedI64("axis", *axis)}));
}

/// TopK: k is an input (a 1-element tensor), largest and sorted attributes
/// since opset 11.
/// QuantizeLinear and DequantizeLinear: the scale and zero point 0-D (per
/// tensor; a 1-element 1-D one is taken as such) or 1-D along `axis`, or
/// (DequantizeLinear only, `blocked`) opset 21's blocked form, of the
/// input's rank; the op verifies their shapes.
FailureOr<SmallVector<Value>> quantizationOperands(NodeImporter &node,
                                                   bool blocked = false) {
  SmallVector<Value> operands = {node.getInput(0)};
  if (blocked) {
    for (unsigned index : {1u, 2u})
      if (Value value = node.getInput(index))
        operands.push_back(value);
    return operands;
  }
  for (unsigned index : {1u, 2u}) {
    Value value = node.getInput(index);
    if (!value)
      continue;
    auto type = llvm::cast<RankedTensorType>(value.getType());
    if (type.getRank() > 1) {
      (void)node.fail(llvm::Twine(index == 1 ? "the scale" : "the zero point") +
                      " must be 0-D or 1-D, got shape " +
                      formatDims(type.getShape()));
      return failure();
    }
    operands.push_back(value);
  }
  // A per-axis scale of one element on a dim of another size is a
  // per-tensor scale that the exporter wrote as 1-D.
  auto inputType = llvm::cast<RankedTensorType>(operands[0].getType());
  auto scaleType = llvm::cast<RankedTensorType>(operands[1].getType());
  int64_t axis = node.getInt("axis", 1);
  if (scaleType.getRank() == 1 && scaleType.getDimSize(0) == 1) {
    int64_t rank = inputType.getRank();
    int64_t normalized = axis < 0 ? axis + rank : axis;
    if (normalized < 0 || normalized >= rank ||
        inputType.getDimSize(normalized) != 1)
      for (unsigned i = 1; i < operands.size(); ++i) {
        FailureOr<Value> scalar = scalarIfSingleElement(node, operands[i]);
        if (failed(scalar))
          return failure();
        operands[i] = *scalar;
      }
  }
  return operands;
}

LogicalResult convertQuantizeLinear(NodeImporter &node) {
  if (node.getInt("block_size", 0) != 0)
    return node.fail("blocked quantization (block_size) is not supported");
  // INT4 and UINT4 tensors import as bytes: a 4-bit zero point would
  // saturate to 8 bits.
  int64_t outputType = node.getInt("output_dtype", 0);
  if (outputType == kOnnxInt4 || outputType == kOnnxUint4 ||
      node.isFourBitInput(2))
    return node.fail("quantizing to 4 bits (INT4 or UINT4) is not supported");
  FailureOr<SmallVector<Value>> operands = quantizationOperands(node);
  if (failed(operands))
    return failure();
  // The result type is the zero point's, else output_dtype (opset 21), else
  // ui8.
  Type to = node.builder.getIntegerType(8, /*isSigned=*/false);
  if (operands->size() > 2)
    to = llvm::cast<RankedTensorType>((*operands)[2].getType()).getElementType();
  else if (int64_t dtype = node.getInt("output_dtype", 0)) {
    to = convertElementType(dtype, node.getContext());
    if (!to)
      return node.fail("output_dtype " + onnxTypeName(dtype) + " is not supported");
  }
  return setOne(node, node.createOne("tfm.quantize_linear", *operands,
                                     {node.namedI64("axis", node.getInt("axis", 1)),
                                      node.builder.getNamedAttr("to", TypeAttr::get(to))}));
}

LogicalResult convertDequantizeLinear(NodeImporter &node) {
  int64_t blockSize = node.getInt("block_size", 0);
  if (blockSize < 0)
    return node.fail("block_size must not be negative, got " + Twine(blockSize));
  FailureOr<SmallVector<Value>> operands =
      quantizationOperands(node, /*blocked=*/blockSize > 0);
  if (failed(operands))
    return failure();
  SmallVector<NamedAttribute> attributes = {
      node.namedI64("axis", node.getInt("axis", 1))};
  if (blockSize > 0)
    attributes.push_back(node.namedI64("block_size", blockSize));
  return setOne(node, node.createOne("tfm.dequantize_linear", *operands, attributes));
}

LogicalResult convertDynamicQuantizeLinear(NodeImporter &node) {
  FailureOr<llvm::SmallVector<Value>> results =
      node.create("tfm.dynamic_quantize_linear", node.getInput(0));
  if (failed(results))
    return failure();
  node.setResults(*results);
  return success();
}

/// An integer operand of MatMulInteger as i32, less its zero point (0-D,
/// or 1-D: per row of A, per column of B).
FailureOr<Value> shiftedInteger(NodeImporter &node, unsigned index,
                                unsigned zeroIndex, bool isLhs) {
  Type i32 = node.builder.getI32Type();
  FailureOr<Value> value = node.createOne(
      "tfm.cast", node.getInput(index),
      {node.builder.getNamedAttr("to", TypeAttr::get(i32))});
  Value zero = node.getInput(zeroIndex);
  if (failed(value) || !zero)
    return value;
  auto zeroType = llvm::cast<RankedTensorType>(zero.getType());
  FailureOr<Value> zero32 = node.createOne(
      "tfm.cast", zero, {node.builder.getNamedAttr("to", TypeAttr::get(i32))});
  if (failed(zero32))
    return failure();
  if (zeroType.getRank() == 1 && isLhs) {
    // One zero point per row of A: [M] as [M, 1].
    zero32 = node.createOne("tfm.unsqueeze", *zero32, {node.namedI64Array("axes", {1})});
    if (failed(zero32))
      return failure();
  } else if (zeroType.getRank() > 1) {
    (void)node.fail("zero points must be 0-D or 1-D");
    return failure();
  }
  return node.createOne("tfm.sub", {*value, *zero32});
}

/// MatMulInteger: (A - a_zero_point) @ (B - b_zero_point), exactly, in i32.
LogicalResult convertMatMulInteger(NodeImporter &node) {
  FailureOr<Value> lhs = shiftedInteger(node, 0, 2, /*isLhs=*/true);
  FailureOr<Value> rhs = shiftedInteger(node, 1, 3, /*isLhs=*/false);
  if (failed(lhs) || failed(rhs))
    return failure();
  return setOne(node, node.createOne("tfm.matmul", {*lhs, *rhs}));
}

/// QLinearMatMul: quantize(dequantize(a) @ dequantize(b)) with the output's
/// scale and zero point.
LogicalResult convertQLinearMatMul(NodeImporter &node) {
  auto dequantize = [&](unsigned index) -> FailureOr<Value> {
    SmallVector<Value> operands = {node.getInput(index), node.getInput(index + 1),
                                   node.getInput(index + 2)};
    for (unsigned i = 1; i < 3; ++i) {
      FailureOr<Value> scalar = scalarIfSingleElement(node, operands[i]);
      if (failed(scalar))
        return failure();
      operands[i] = *scalar;
      // Per-column scales of b: along its last axis.
      int64_t rank = llvm::cast<RankedTensorType>(operands[i].getType()).getRank();
      if (rank != 0 && (index != 3 || rank != 1)) {
        (void)node.fail("QLinearMatMul's scales and zero points must be "
                        "per tensor (per column for b)");
        return failure();
      }
    }
    int64_t axis = llvm::cast<RankedTensorType>(operands[0].getType()).getRank() - 1;
    return node.createOne("tfm.dequantize_linear", operands,
                          {node.namedI64("axis", axis)});
  };
  FailureOr<Value> a = dequantize(0);
  FailureOr<Value> b = dequantize(3);
  if (failed(a) || failed(b))
    return failure();
  FailureOr<Value> product = node.createOne("tfm.matmul", {*a, *b});
  if (failed(product))
    return failure();
  SmallVector<Value> operands = {*product, node.getInput(6), node.getInput(7)};
  for (unsigned i = 1; i < 3; ++i) {
    FailureOr<Value> scalar = scalarIfSingleElement(node, operands[i]);
    if (failed(scalar))
      return failure();
    operands[i] = *scalar;
    if (llvm::cast<RankedTensorType>(operands[i].getType()).getRank() != 0)
      return node.fail("QLinearMatMul's output scale and zero point must be per tensor");
  }
  Type to = llvm::cast<RankedTensorType>(operands[2].getType()).getElementType();
  return setOne(node, node.createOne("tfm.quantize_linear", operands,
                                     {node.namedI64("axis", 1),
                                      node.builder.getNamedAttr("to", TypeAttr::get(to))}));
}

LogicalResult convertTopK(NodeImporter &node) {
  FailureOr<int64_t> axis = normalizeAxis(node, node.getInt("axis", -1),
                                          node.getInputType(0).getRank());
  if (failed(axis))
    return failure();
  FailureOr<Value> k = node.getRequiredInput(1, "K");
  if (failed(k))
    return failure();
  FailureOr<llvm::SmallVector<Value>> results = node.create(
      "tfm.top_k", {node.getInput(0), *k},
      {node.namedI64("axis", *axis),
       node.namedBool("largest", node.getInt("largest", 1) != 0),
       node.namedBool("sorted", node.getInt("sorted", 1) != 0)});
  if (failed(results))
    return failure();
  node.setResults(*results);
  return success();
}

/// ScatterElements and ScatterND: the reduction attribute (opset 16; max and min 18) made explicit.
LogicalResult convertScatter(NodeImporter &node, bool elements) {
  std::string reduction = node.getString("reduction", "none");
  if (reduction != "none" && reduction != "add" && reduction != "mul" &&
      !((reduction == "max" || reduction == "min") && node.opset >= 18))
    return node.fail("reduction must be \"none\", \"add\", \"mul\"" +
                     llvm::Twine(node.opset >= 18 ? ", \"max\" or \"min\"" : "") +
                     ", got \"" + reduction + "\"");
  llvm::SmallVector<NamedAttribute> attributes = {node.builder.getNamedAttr(
      "reduction", node.builder.getStringAttr(reduction))};
  if (elements) {
    FailureOr<int64_t> axis = normalizeAxis(node, node.getInt("axis", 0),
                                            node.getInputType(0).getRank());
    if (failed(axis))
      return failure();
    attributes.push_back(node.namedI64("axis", *axis));
  }
  return setOne(node, node.createOne(elements ? "tfm.scatter_elements"
                                              : "tfm.scatter_nd",
                                     {node.getInput(0), node.getInput(1),
                                      node.getInput(2)},
                                     attributes));
}

/// log(softmax(x)) along `axis`: (x - m) - log(sum(exp(x - m))), m the
/// maximum there (so exp cannot overflow and the log sees at least 1).
FailureOr<Value> buildLogSoftmax(NodeImporter &node, Value x, int64_t axis) {
  llvm::SmallVector<NamedAttribute> reduction = {
      node.namedI64Array("axes", {axis}), node.namedBool("keepdims", true)};
  FailureOr<Value> maximum = node.createOne("tfm.reduce_max", x, reduction);
  if (failed(maximum))
    return failure();
  FailureOr<Value> shifted = node.createOne("tfm.sub", {x, *maximum});
  if (failed(shifted))
    return failure();
  FailureOr<Value> exponentials = node.createOne("tfm.exp", *shifted);
  if (failed(exponentials))
    return failure();
  FailureOr<Value> total =
      node.createOne("tfm.reduce_sum", *exponentials, reduction);
  if (failed(total))
    return failure();
  FailureOr<Value> logarithm = node.createOne("tfm.log", *total);
  if (failed(logarithm))
    return failure();
  return node.createOne("tfm.sub", {*shifted, *logarithm});
}

/// The positions 0..n-1 along dim `dim` of `x` (n read at run time when
/// dynamic), a 1-D i64 tensor.
FailureOr<Value> positionsAlong(NodeImporter &node, Value x, int64_t dim) {
  FailureOr<Value> extent = node.createOne(
      "tfm.shape", x, {node.namedI64("start", dim), node.namedI64("end", dim + 1)});
  if (failed(extent))
    return failure();
  FailureOr<Value> length =
      node.createOne("tfm.reshape", {*extent, node.getI64Constant({})},
                     {node.namedBool("allow_zero", false)});
  if (failed(length))
    return failure();
  return node.createOne("tfm.range",
                        {node.getI64Constant({0}, /*scalar=*/true), *length,
                         node.getI64Constant({1}, /*scalar=*/true)});
}

/// The mean of `x` over `axes` (kept as dims of 1), `x` minus it, and the
/// mean of that squared: what the normalizations share.
struct Moments {
  Value mean, centered, variance;
};
FailureOr<Moments> buildMoments(NodeImporter &node, Value x,
                                llvm::ArrayRef<int64_t> axes) {
  llvm::SmallVector<NamedAttribute> reduction = {
      node.namedI64Array("axes", axes), node.namedBool("keepdims", true)};
  FailureOr<Value> mean = node.createOne("tfm.reduce_mean", x, reduction);
  if (failed(mean))
    return failure();
  FailureOr<Value> centered = node.createOne("tfm.sub", {x, *mean});
  if (failed(centered))
    return failure();
  FailureOr<Value> square = node.createOne("tfm.mul", {*centered, *centered});
  if (failed(square))
    return failure();
  FailureOr<Value> variance = node.createOne("tfm.reduce_mean", *square, reduction);
  if (failed(variance))
    return failure();
  return Moments{*mean, *centered, *variance};
}

/// sqrt(variance + epsilon), epsilon of the variance's element type.
FailureOr<Value> buildStandardDeviation(NodeImporter &node, Value variance,
                                        float epsilon) {
  Type element = llvm::cast<RankedTensorType>(variance.getType()).getElementType();
  FailureOr<Value> shifted = node.createOne(
      "tfm.add", {variance, scalarConstant(node, element, epsilon)});
  if (failed(shifted))
    return failure();
  return node.createOne("tfm.sqrt", *shifted);
}

/// (x - mean) / sqrt(variance + epsilon) over `axes` (kept as dims of 1),
/// epsilon the node's attribute (default 1e-5): the instance and group
/// norms' normalization.
FailureOr<Value> buildStandardized(NodeImporter &node, Value x,
                                   llvm::ArrayRef<int64_t> axes) {
  FailureOr<Moments> moments = buildMoments(node, x, axes);
  if (failed(moments))
    return failure();
  FailureOr<Value> deviation = buildStandardDeviation(
      node, moments->variance, node.getFloat("epsilon", 1e-5f));
  if (failed(deviation))
    return failure();
  return node.createOne("tfm.div", {moments->centered, *deviation});
}

/// x * scale + bias.
FailureOr<Value> buildScaleShift(NodeImporter &node, Value x, Value scale,
                                 Value bias) {
  FailureOr<Value> scaled = node.createOne("tfm.mul", {x, scale});
  if (failed(scaled))
    return failure();
  return node.createOne("tfm.add", {*scaled, bias});
}

/// The negative log-likelihood of `target` classes under `logProb`
/// ([N, C, d...], classes on axis 1), as ONNX's NegativeLogLikelihoodLoss
/// defines it: -logProb[n, target[n, d...], d...] times the class's weight,
/// 0 where the target is `ignore_index`; then the sum, the weighted mean
/// (sum over the sum of the weights used) or nothing (`reduction`).
/// Ignored targets are replaced by class 0 before anything is gathered, so
/// an ignore_index outside [0, C) reads nothing out of range.
FailureOr<Value> buildNegativeLogLikelihood(NodeImporter &node, Value logProb,
                                            Value target, Value weight) {
  std::string reduction = node.getString("reduction", "mean");
  if (reduction != "mean" && reduction != "sum" && reduction != "none")
    return node.fail("reduction must be \"mean\", \"sum\" or \"none\", got \"" +
                     reduction + "\"");
  auto logProbType = llvm::cast<RankedTensorType>(logProb.getType());
  auto targetType = llvm::cast<RankedTensorType>(target.getType());
  if (logProbType.getRank() < 2 || targetType.getRank() != logProbType.getRank() - 1)
    return node.fail("expects scores of rank >= 2 ([N, C, ...]) and a target of "
                     "one rank less, got ranks " +
                     llvm::Twine(logProbType.getRank()) + " and " +
                     llvm::Twine(targetType.getRank()));
  Type element = logProbType.getElementType();
  Value valid;
  if (const onnx::AttributeProto *ignore = node.findAttribute("ignore_index")) {
    Value ignored = scalarConstant(node, targetType.getElementType(), ignore->i());
    FailureOr<Value> isIgnored = node.createOne("tfm.equal", {target, ignored});
    if (failed(isIgnored))
      return failure();
    FailureOr<Value> isValid = node.createOne("tfm.not", *isIgnored);
    if (failed(isValid))
      return failure();
    valid = *isValid;
    FailureOr<Value> safe = node.createOne(
        "tfm.where",
        {valid, target, scalarConstant(node, targetType.getElementType(), 0)});
    if (failed(safe))
      return failure();
    target = *safe;
  }
  FailureOr<Value> column =
      node.createOne("tfm.unsqueeze", target, {node.namedI64Array("axes", {1})});
  if (failed(column))
    return failure();
  FailureOr<Value> picked = node.createOne("tfm.gather_elements",
                                           {logProb, *column},
                                           {node.namedI64("axis", 1)});
  if (failed(picked))
    return failure();
  FailureOr<Value> flat =
      node.createOne("tfm.squeeze", *picked, {node.namedI64Array("axes", {1})});
  if (failed(flat))
    return failure();
  FailureOr<Value> loss = node.createOne("tfm.neg", *flat);
  if (failed(loss))
    return failure();
  // The weight of each target (null: 1 everywhere).
  Value targetWeight;
  if (weight) {
    FailureOr<Value> gathered =
        node.createOne("tfm.gather", {weight, target}, {node.namedI64("axis", 0)});
    if (failed(gathered))
      return failure();
    targetWeight = *gathered;
  }
  if (valid) {
    FailureOr<Value> masked =
        targetWeight
            ? node.createOne("tfm.where",
                             {valid, targetWeight, scalarConstant(node, element, 0)})
            : node.createOne("tfm.cast", valid,
                             {node.builder.getNamedAttr("to", TypeAttr::get(element))});
    if (failed(masked))
      return failure();
    targetWeight = *masked;
  }
  if (targetWeight) {
    loss = node.createOne("tfm.mul", {*loss, targetWeight});
    if (failed(loss))
      return failure();
  }
  if (reduction == "none")
    return loss;
  llvm::SmallVector<NamedAttribute> all = {node.namedI64Array("axes", {}),
                                           node.namedBool("keepdims", false)};
  if (reduction == "sum")
    return node.createOne("tfm.reduce_sum", *loss, all);
  if (!targetWeight)
    return node.createOne("tfm.reduce_mean", *loss, all);
  FailureOr<Value> total = node.createOne("tfm.reduce_sum", *loss, all);
  FailureOr<Value> weightTotal = node.createOne("tfm.reduce_sum", targetWeight, all);
  if (failed(total) || failed(weightTotal))
    return failure();
  return node.createOne("tfm.div", {*total, *weightTotal});
}

LogicalResult convertNegativeLogLikelihoodLoss(NodeImporter &node) {
  return setOne(node, buildNegativeLogLikelihood(node, node.getInput(0),
                                                 node.getInput(1), node.getInput(2)));
}

/// SoftmaxCrossEntropyLoss: LogSoftmax over the classes (axis 1), then the
/// negative log-likelihood; the log-probabilities are its second output.
LogicalResult convertSoftmaxCrossEntropyLoss(NodeImporter &node) {
  FailureOr<Value> logProb = buildLogSoftmax(node, node.getInput(0), 1);
  if (failed(logProb))
    return failure();
  FailureOr<Value> loss = buildNegativeLogLikelihood(node, *logProb, node.getInput(1),
                                                     node.getInput(2));
  if (failed(loss))
    return failure();
  node.setResults({*loss, *logProb});
  return success();
}

/// DepthToSpace and SpaceToDepth as ONNX defines them: a reshape to six
/// dims, a transpose and a reshape back. The channel and spatial dims must
/// be static (the batch may not be).
LogicalResult convertDepthSpace(NodeImporter &node, bool toSpace) {
  RankedTensorType type = node.getInputType(0);
  if (type.getRank() != 4)
    return node.fail("expects a 4-D [N, C, H, W] input, got rank " +
                     llvm::Twine(type.getRank()));
  int64_t block = node.getInt("blocksize", 0);
  if (block < 1)
    return node.fail("blocksize must be at least 1, got " + llvm::Twine(block));
  if (type.isDynamicDim(1) || type.isDynamicDim(2) || type.isDynamicDim(3))
    return node.fail("needs static channel and spatial dims, got " +
                     formatDims(type.getShape()));
  int64_t c = type.getDimSize(1), h = type.getDimSize(2), w = type.getDimSize(3);
  llvm::SmallVector<int64_t> split, perm, merged;
  if (toSpace) {
    if (c % (block * block) != 0)
      return node.fail("channels (" + llvm::Twine(c) +
                       ") are not a multiple of blocksize^2 (" +
                       llvm::Twine(block * block) + ")");
    int64_t depth = c / (block * block);
    std::string mode = node.getString("mode", "DCR");
    if (mode == "DCR") {
      split = {-1, block, block, depth, h, w};
      perm = {0, 3, 4, 1, 5, 2};
    } else if (mode == "CRD") {
      split = {-1, depth, block, block, h, w};
      perm = {0, 1, 4, 2, 5, 3};
    } else {
      return node.fail("mode must be \"DCR\" or \"CRD\", got \"" + mode + "\"");
    }
    merged = {-1, depth, h * block, w * block};
  } else {
    if (h % block != 0 || w % block != 0)
      return node.fail("spatial dims " + formatDims({h, w}) +
                       " are not multiples of blocksize " + llvm::Twine(block));
    split = {-1, c, h / block, block, w / block, block};
    perm = {0, 3, 5, 1, 2, 4};
    merged = {-1, c * block * block, h / block, w / block};
  }
  NamedAttribute keepZeros = node.namedBool("allow_zero", false);
  FailureOr<Value> blocks = node.createOne(
      "tfm.reshape", {node.getInput(0), node.getI64Constant(split)}, {keepZeros});
  if (failed(blocks))
    return failure();
  FailureOr<Value> moved =
      node.createOne("tfm.transpose", *blocks, {node.namedI64Array("perm", perm)});
  if (failed(moved))
    return failure();
  return setOne(node, node.createOne("tfm.reshape",
                                     {*moved, node.getI64Constant(merged)}, {keepZeros}));
}

LogicalResult convertCastLike(NodeImporter &node) {
  Type to = node.getInputType(1).getElementType();
  return setOne(node, node.createOne("tfm.cast", node.getInput(0),
                                     {node.builder.getNamedAttr(
                                         "to", TypeAttr::get(to))}));
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

LogicalResult convertLogSoftmax(NodeImporter &node) {
  int64_t rank = node.getInputType(0).getRank();
  FailureOr<int64_t> axis = normalizeAxis(node, node.getInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  return setOne(node, buildLogSoftmax(node, node.getInput(0), *axis));
}

/// Hardmax: 1 at the first maximum along the axis, 0 elsewhere, as
/// cast(equal(positions along the axis, ArgMax keeping the axis)).
LogicalResult convertHardmax(NodeImporter &node) {
  Value x = node.getInput(0);
  auto type = node.getInputType(0);
  int64_t rank = type.getRank();
  FailureOr<int64_t> axis = normalizeAxis(node, node.getInt("axis", -1), rank);
  if (failed(axis))
    return failure();
  FailureOr<Value> best = node.createOne(
      "tfm.arg_max", x,
      {node.namedI64("axis", *axis), node.namedBool("keepdims", true),
       node.namedBool("select_last_index", false)});
  if (failed(best))
    return failure();
  FailureOr<Value> positions = positionsAlong(node, x, *axis);
  if (failed(positions))
    return failure();
  // [n, 1, ..., 1]: the axis, then a 1 per trailing dim, so that it
  // broadcasts along the axis.
  llvm::SmallVector<int64_t> column(rank - *axis, 1);
  column[0] = -1;
  FailureOr<Value> aligned =
      node.createOne("tfm.reshape", {*positions, node.getI64Constant(column)},
                     {node.namedBool("allow_zero", false)});
  if (failed(aligned))
    return failure();
  FailureOr<Value> hit = node.createOne("tfm.equal", {*aligned, *best});
  if (failed(hit))
    return failure();
  return setOne(node, node.createOne("tfm.cast", *hit,
                                     {node.builder.getNamedAttr(
                                         "to", TypeAttr::get(type.getElementType()))}));
}

/// EyeLike: ones where column - row = k in the input's 2-D shape, zeros
/// elsewhere, of `dtype` (default: the input's type).
LogicalResult convertEyeLike(NodeImporter &node) {
  Value x = node.getInput(0);
  RankedTensorType type = node.getInputType(0);
  if (type.getRank() != 2)
    return node.fail("expects a 2-D input, got rank " + llvm::Twine(type.getRank()));
  Type element = type.getElementType();
  if (const onnx::AttributeProto *dtype = node.findAttribute("dtype")) {
    element = convertElementType(dtype->i(), node.getContext());
    if (!element)
      return node.fail("dtype " + onnxTypeName(dtype->i()) +
                       " is not supported by tfc");
  }
  // A [n, 1] column of rows against a [m] row of columns.
  FailureOr<Value> rows = positionsAlong(node, x, 0);
  FailureOr<Value> columns = positionsAlong(node, x, 1);
  if (failed(rows) || failed(columns))
    return failure();
  FailureOr<Value> rowColumn =
      node.createOne("tfm.unsqueeze", *rows, {node.namedI64Array("axes", {1})});
  if (failed(rowColumn))
    return failure();
  FailureOr<Value> shifted = node.createOne(
      "tfm.add", {*rowColumn, node.getI64Constant({node.getInt("k", 0)}, /*scalar=*/true)});
  if (failed(shifted))
    return failure();
  FailureOr<Value> diagonal = node.createOne("tfm.equal", {*shifted, *columns});
  if (failed(diagonal))
    return failure();
  return setOne(node, node.createOne("tfm.cast", *diagonal,
                                     {node.builder.getNamedAttr("to", TypeAttr::get(element))}));
}

/// Size: the product of the shape, a 0-D int64.
LogicalResult convertSize(NodeImporter &node) {
  int64_t rank = node.getInputType(0).getRank();
  FailureOr<Value> shape =
      node.createOne("tfm.shape", node.getInput(0),
                     {node.namedI64("start", 0), node.namedI64("end", rank)});
  if (failed(shape))
    return failure();
  return setOne(node, node.createOne("tfm.reduce_prod", *shape,
                                     {node.namedI64Array("axes", {0}),
                                      node.namedBool("keepdims", false)}));
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
  float epsilon = node.getFloat("epsilon", 1e-5f);
  FailureOr<Value> normalized =
      node.createOne("tfm.layer_norm", operands,
                     {node.namedI64("axis", *axis), node.namedF32("epsilon", epsilon)});
  if (failed(normalized))
    return failure();
  bool wantsStatistics = false;
  for (int i = 1; i < node.node.output_size(); ++i)
    wantsStatistics |= !node.node.output(i).empty();
  if (!wantsStatistics) {
    node.setResults(*normalized);
    return success();
  }
  // Mean and InvStdDev, which exports for training keep: computed apart from
  // the fused op (which never materializes them), in f32 (stash_type 1).
  if (node.getInt("stash_type", 1) != 1)
    return node.fail("stash_type " + llvm::Twine(node.getInt("stash_type", 1)) +
                     " is not supported for the Mean and InvStdDev outputs "
                     "(only 1, float)");
  Value x = node.getInput(0);
  auto type = llvm::cast<RankedTensorType>(x.getType());
  Type f32 = node.builder.getF32Type();
  if (type.getElementType() != f32) {
    FailureOr<Value> wide = node.createOne(
        "tfm.cast", x, {node.builder.getNamedAttr("to", TypeAttr::get(f32))});
    if (failed(wide))
      return failure();
    x = *wide;
  }
  llvm::SmallVector<int64_t> axes;
  for (int64_t i = *axis; i < rank; ++i)
    axes.push_back(i);
  FailureOr<Moments> moments = buildMoments(node, x, axes);
  if (failed(moments))
    return failure();
  FailureOr<Value> deviation =
      buildStandardDeviation(node, moments->variance, epsilon);
  if (failed(deviation))
    return failure();
  FailureOr<Value> inverse = node.createOne("tfm.reciprocal", *deviation);
  if (failed(inverse))
    return failure();
  node.setResults({*normalized, moments->mean, *inverse});
  return success();
}

/// A per-channel [C] parameter as [C, 1, ...] against an [N, C, ...] input
/// of rank `rank`.
FailureOr<Value> perChannel(NodeImporter &node, Value parameter, int64_t rank) {
  if (rank <= 2)
    return parameter;
  llvm::SmallVector<int64_t> trailing;
  for (int64_t i = 1; i < rank - 1; ++i)
    trailing.push_back(i);
  return node.createOne("tfm.unsqueeze", parameter,
                        {node.namedI64Array("axes", trailing)});
}

/// BatchNormalization at inference: y = x * s + (B - mean * s) per channel,
/// s = scale / sqrt(var + epsilon), the [C] vectors computed first.
LogicalResult convertBatchNorm(NodeImporter &node) {
  if (node.getInt("training_mode", 0))
    return node.fail("training_mode is set; tfc compiles inference only");
  for (int i = 1; i < node.node.output_size(); ++i)
    if (!node.node.output(i).empty())
      return node.fail("the running mean and variance outputs exist in training "
                       "mode only");
  Value x = node.getInput(0);
  int64_t rank = node.getInputType(0).getRank();
  if (rank < 2)
    return node.fail("expects an [N, C, ...] input, got rank " + llvm::Twine(rank));
  FailureOr<Value> deviation = buildStandardDeviation(
      node, node.getInput(4), node.getFloat("epsilon", 1e-5f));
  if (failed(deviation))
    return failure();
  FailureOr<Value> factor = node.createOne("tfm.div", {node.getInput(1), *deviation});
  if (failed(factor))
    return failure();
  FailureOr<Value> meanScaled = node.createOne("tfm.mul", {node.getInput(3), *factor});
  if (failed(meanScaled))
    return failure();
  FailureOr<Value> offset = node.createOne("tfm.sub", {node.getInput(2), *meanScaled});
  if (failed(offset))
    return failure();
  FailureOr<Value> factorColumn = perChannel(node, *factor, rank);
  FailureOr<Value> offsetColumn = perChannel(node, *offset, rank);
  if (failed(factorColumn) || failed(offsetColumn))
    return failure();
  return setOne(node, buildScaleShift(node, x, *factorColumn, *offsetColumn));
}

/// The spatial axes [2, rank) of input 0, an [N, C, spatial...] tensor; an
/// error naming the node when it has fewer than three dims.
FailureOr<llvm::SmallVector<int64_t>> spatialAxes(NodeImporter &node) {
  int64_t rank = node.getInputType(0).getRank();
  if (rank < 3)
    return node.fail("expects an [N, C, spatial...] input, got rank " +
                     llvm::Twine(rank));
  return llvm::to_vector(llvm::seq<int64_t>(2, rank));
}

/// InstanceNormalization: each (n, c) normalized over the spatial dims,
/// then scaled and shifted per channel.
LogicalResult convertInstanceNorm(NodeImporter &node) {
  Value x = node.getInput(0);
  int64_t rank = node.getInputType(0).getRank();
  FailureOr<llvm::SmallVector<int64_t>> spatial = spatialAxes(node);
  if (failed(spatial))
    return failure();
  FailureOr<Value> normalized = buildStandardized(node, x, *spatial);
  if (failed(normalized))
    return failure();
  FailureOr<Value> scale = perChannel(node, node.getInput(1), rank);
  FailureOr<Value> bias = perChannel(node, node.getInput(2), rank);
  if (failed(scale) || failed(bias))
    return failure();
  return setOne(node, buildScaleShift(node, *normalized, *scale, *bias));
}

/// GroupNormalization: the channels split into `num_groups` groups, each
/// (n, group) normalized over its channels and the spatial dims, then scaled
/// and shifted: per group at opset 18 (scale and bias of [num_groups]), per
/// channel since 21 ([C], as torch's GroupNorm has them).
LogicalResult convertGroupNorm(NodeImporter &node) {
  Value x = node.getInput(0);
  RankedTensorType type = node.getInputType(0);
  int64_t rank = type.getRank();
  if (rank < 3)
    return node.fail("expects an [N, C, spatial...] input, got rank " +
                     llvm::Twine(rank));
  int64_t groups = node.getInt("num_groups", 0);
  if (groups < 1)
    return node.fail("num_groups must be at least 1, got " + llvm::Twine(groups));
  int64_t channels = type.getDimSize(1);
  if (!type.isDynamicDim(1) && channels % groups != 0)
    return node.fail("channels (" + llvm::Twine(channels) +
                     ") are not a multiple of num_groups (" +
                     llvm::Twine(groups) + ")");
  if (node.opset >= 21 && node.getInt("stash_type", 1) != 1)
    return node.fail("stash_type " + llvm::Twine(node.getInt("stash_type", 1)) +
                     " is not supported (only 1, float)");
  bool perGroup = node.opset < 21;
  int64_t parameterLength = perGroup ? groups : channels;
  for (unsigned index : {1u, 2u}) {
    RankedTensorType parameter = node.getInputType(index);
    if (parameter.getRank() != 1 ||
        (!parameter.isDynamicDim(0) && !ShapedType::isDynamic(parameterLength) &&
         parameter.getDimSize(0) != parameterLength))
      return node.fail(llvm::Twine(index == 1 ? "scale" : "bias") + " must be [" +
                       (perGroup ? "num_groups" : "C") + "] = [" +
                       (ShapedType::isDynamic(parameterLength)
                            ? std::string("?")
                            : std::to_string(parameterLength)) +
                       "] at opset " + llvm::Twine(node.opset) + ", got " +
                       formatDims(parameter.getShape()));
  }
  NamedAttribute keepZeros = node.namedBool("allow_zero", false);
  FailureOr<Value> grouped = node.createOne(
      "tfm.reshape", {x, node.getI64Constant({0, groups, -1})}, {keepZeros});
  if (failed(grouped))
    return failure();
  FailureOr<Value> normalized = buildStandardized(node, *grouped, {2});
  if (failed(normalized))
    return failure();
  Value scale = node.getInput(1), bias = node.getInput(2);
  if (perGroup) {
    // [G] against the grouped [N, G, K]: as [G, 1].
    FailureOr<Value> groupScale = node.createOne(
        "tfm.unsqueeze", scale, {node.namedI64Array("axes", {1})});
    FailureOr<Value> groupBias = node.createOne(
        "tfm.unsqueeze", bias, {node.namedI64Array("axes", {1})});
    if (failed(groupScale) || failed(groupBias))
      return failure();
    normalized = buildScaleShift(node, *normalized, *groupScale, *groupBias);
    if (failed(normalized))
      return failure();
  }
  FailureOr<Value> shape =
      node.createOne("tfm.shape", x,
                     {node.namedI64("start", 0), node.namedI64("end", rank)});
  if (failed(shape))
    return failure();
  FailureOr<Value> restored =
      node.createOne("tfm.reshape", {*normalized, *shape}, {keepZeros});
  if (failed(restored) || perGroup)
    return setOne(node, restored);
  FailureOr<Value> channelScale = perChannel(node, scale, rank);
  FailureOr<Value> channelBias = perChannel(node, bias, rank);
  if (failed(channelScale) || failed(channelBias))
    return failure();
  return setOne(node, buildScaleShift(node, *restored, *channelScale, *channelBias));
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

/// GlobalAveragePool and GlobalMaxPool: the mean or maximum over every dim
/// after [N, C], kept as dims of size 1.
template <const char *OpName>
LogicalResult convertGlobalPool(NodeImporter &node) {
  FailureOr<llvm::SmallVector<int64_t>> spatial = spatialAxes(node);
  if (failed(spatial))
    return failure();
  return setOne(node, createReduction(node, OpName, node.getInput(0), *spatial,
                                      /*keepdims=*/true));
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

/// Pad: the pads (an attribute before opset 11, then an input) expanded to
/// every dim where opset 18's `axes` names some; the constant (an attribute
/// before 11, then an optional input) left out where it is zero by default.
LogicalResult convertPad(NodeImporter &node) {
  int64_t rank = node.getInputType(0).getRank();
  std::string mode = node.getString("mode", "constant");
  if (mode != "constant" && mode != "edge" && mode != "reflect" &&
      !(mode == "wrap" && node.opset >= 19))
    return node.fail("mode must be \"constant\", \"edge\", \"reflect\"" +
                     llvm::Twine(node.opset >= 19 ? " or \"wrap\"" : "") +
                     ", got \"" + mode + "\"");
  Value pads, value;
  if (node.opset < 11) {
    std::optional<llvm::SmallVector<int64_t>> given = node.getInts("pads");
    if (!given)
      return node.fail("has no pads attribute");
    pads = node.getI64Constant(*given);
    Type element = node.getInputType(0).getElementType();
    if (float constant = node.getFloat("value", 0.0f); constant != 0.0f) {
      if (!llvm::isa<FloatType>(element))
        return node.fail("value is a float but the input's elements are not");
      value = node.getConstant(DenseElementsAttr::get(
          RankedTensorType::get({}, element),
          node.builder.getFloatAttr(element, constant)));
    }
  } else {
    FailureOr<Value> given = node.getRequiredInput(1, "pads");
    if (failed(given))
      return failure();
    pads = *given;
    value = node.getInput(2);
  }
  auto padsType = llvm::cast<RankedTensorType>(pads.getType());
  if (padsType.getRank() != 1 || padsType.isDynamicDim(0))
    return node.fail("pads must be a 1-D tensor of static length, got shape " +
                     formatDims(padsType.getShape()));
  if (node.getInput(3)) {
    // Opset 18: the pads cover only `axes`; the others get 0 before and
    // after. Entry j of the full list reads entry source[j] of the given
    // pads with a 0 appended (source[j] = that 0 for an axis not named).
    FailureOr<llvm::SmallVector<int64_t>> given = node.getConstantInts(3, "axes");
    if (failed(given))
      return failure();
    FailureOr<llvm::SmallVector<int64_t>> axes = normalizeAxes(node, *given, rank);
    if (failed(axes))
      return failure();
    int64_t count = axes->size();
    if (padsType.getDimSize(0) != 2 * count)
      return node.fail("pads has " + llvm::Twine(padsType.getDimSize(0)) +
                       " entries for " + llvm::Twine(count) +
                       " axes (it needs twice as many)");
    llvm::SmallVector<int64_t> source(2 * rank, 2 * count);
    for (int64_t i = 0; i < count; ++i) {
      int64_t axis = (*axes)[i];
      if (source[axis] != 2 * count)
        return node.fail("axis " + llvm::Twine(axis) + " is named twice");
      source[axis] = i;
      source[rank + axis] = count + i;
    }
    FailureOr<Value> extended =
        node.createOne("tfm.concat", {pads, node.getI64Constant({0})},
                       {node.namedI64("axis", 0)});
    if (failed(extended))
      return failure();
    FailureOr<Value> full = node.createOne(
        "tfm.gather", {*extended, node.getI64Constant(source)},
        {node.namedI64("axis", 0)});
    if (failed(full))
      return failure();
    pads = *full;
  } else if (padsType.getDimSize(0) != 2 * rank) {
    return node.fail("pads has " + llvm::Twine(padsType.getDimSize(0)) +
                     " entries for an input of rank " + llvm::Twine(rank) +
                     " (it needs " + llvm::Twine(2 * rank) + ")");
  }
  llvm::SmallVector<Value> operands = {node.getInput(0), pads};
  if (value && mode == "constant")
    operands.push_back(value);
  return setOne(node, node.createOne("tfm.pad", operands,
                                     {node.builder.getNamedAttr(
                                         "mode", node.builder.getStringAttr(mode))}));
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
               kSigmoid[] = "tfm.sigmoid", 
               kMatMul[] = "tfm.matmul", kWhere[] = "tfm.where",
               kExpand[] = "tfm.expand", kRange[] = "tfm.range",
               kReduceMean[] = "tfm.reduce_mean",
               kReduceSum[] = "tfm.reduce_sum", kReduceMax[] = "tfm.reduce_max",
               kReduceMin[] = "tfm.reduce_min", kReduceProd[] = "tfm.reduce_prod",
               kHardSwish[] = "tfm.hard_swish", kSoftplus[] = "tfm.softplus",
               kSoftsign[] = "tfm.softsign", kMish[] = "tfm.mish",
               kPRelu[] = "tfm.prelu", kTan[] = "tfm.tan", kAsin[] = "tfm.asin",
               kAcos[] = "tfm.acos", kAtan[] = "tfm.atan", kSinh[] = "tfm.sinh",
               kCosh[] = "tfm.cosh", kAsinh[] = "tfm.asinh",
               kAcosh[] = "tfm.acosh", kAtanh[] = "tfm.atanh",
               kRound[] = "tfm.round", kSign[] = "tfm.sign",
               kIsNaN[] = "tfm.is_nan", kArgMax[] = "tfm.arg_max",
               kArgMin[] = "tfm.arg_min";

} // namespace

std::string mlir::tfc::onnx_import::getConverterKey(const onnx::NodeProto &node) {
  if (node.domain().empty() || node.domain() == "ai.onnx")
    return node.op_type();
  return node.domain() + "." + node.op_type();
}

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
    add("Identity", convertIdentity, 1, 1, 1);
    add("Where", convertDirect<kWhere>, 3, 3, 1);
    add("Expand", convertDirect<kExpand>, 2, 2, 1);
    add("Range", convertDirect<kRange>, 3, 3, 1);
    add("MatMul", convertDirect<kMatMul>, 2, 2, 1);
    add("Einsum", convertEinsum, 1, kVariadic, 1, {{"equation", A::STRING, true}});
    add("Resize", convertResize, 1, 4, 1,
        {{"antialias", A::INT, false, 18},
         {"axes", A::INTS, false, 18},
         {"coordinate_transformation_mode", A::STRING},
         {"cubic_coeff_a", A::FLOAT},
         {"exclude_outside", A::INT},
         {"extrapolation_value", A::FLOAT},
         {"keep_aspect_ratio_policy", A::STRING, false, 18},
         {"mode", A::STRING},
         {"nearest_mode", A::STRING}});
    // Sequences (lists known while importing) and the loops that build them.
    add("SequenceConstruct", convertSequenceConstruct, 1, kVariadic, 1);
    add("SequenceEmpty", convertSequenceEmpty, 0, 0, 1, {{"dtype", A::INT}});
    add("SequenceAt", convertSequenceAt, 2, 2, 1);
    add("SequenceInsert", convertSequenceInsert, 2, 3, 1);
    add("SequenceErase", convertSequenceErase, 1, 2, 1);
    add("SequenceLength", convertSequenceLength, 1, 1, 1);
    add("SplitToSequence", convertSplitToSequence, 1, 2, 1,
        {{"axis", A::INT}, {"keepdims", A::INT}});
    add("ConcatFromSequence", convertConcatFromSequence, 1, 1, 1,
        {{"axis", A::INT, true}, {"new_axis", A::INT}});
    // The driver unrolls Loop itself (it imports the body once per
    // iteration), before any converter would run; this entry gives its
    // signature to the screening.
    add("Loop", [](NodeImporter &node) -> LogicalResult {
      return node.fail("Loop is unrolled by the importer's driver");
    }, 0, kVariadic, kVariadic, {{"body", A::GRAPH, true}});

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
    add("Tan", convertDirect<kTan>, 1, 1, 1);
    add("Asin", convertDirect<kAsin>, 1, 1, 1);
    add("Acos", convertDirect<kAcos>, 1, 1, 1);
    add("Atan", convertDirect<kAtan>, 1, 1, 1);
    add("Sinh", convertDirect<kSinh>, 1, 1, 1);
    add("Cosh", convertDirect<kCosh>, 1, 1, 1);
    add("Asinh", convertDirect<kAsinh>, 1, 1, 1);
    add("Acosh", convertDirect<kAcosh>, 1, 1, 1);
    add("Atanh", convertDirect<kAtanh>, 1, 1, 1);
    add("Round", convertDirect<kRound>, 1, 1, 1);
    add("Sign", convertDirect<kSign>, 1, 1, 1);
    add("IsNaN", convertDirect<kIsNaN>, 1, 1, 1);
    add("IsInf", convertIsInf, 1, 1, 1,
        {{"detect_negative", A::INT}, {"detect_positive", A::INT}});
    add("Mod", convertMod, 2, 2, 1, {{"fmod", A::INT}});
    add("BitShift", convertBitShift, 2, 2, 1, {{"direction", A::STRING, true}});
    add("Sum", [](NodeImporter &node) { return convertSumOrMean(node, false); },
        1, kVariadic, 1);
    add("Mean", [](NodeImporter &node) { return convertSumOrMean(node, true); },
        1, kVariadic, 1);
    const AttributeSpec argReductionAttributes[] = {
        {"axis", A::INT}, {"keepdims", A::INT}, {"select_last_index", A::INT}};
    add("ArgMax", convertArgReduction<kArgMax>, 1, 1, 1, argReductionAttributes);
    add("ArgMin", convertArgReduction<kArgMin>, 1, 1, 1, argReductionAttributes);
    add("CastLike", convertCastLike, 2, 2, 1, {{"saturate", A::INT, false, 19}});
    add("GatherElements", convertGatherElements, 2, 2, 1, {{"axis", A::INT}});
    add("ScatterElements", [](NodeImporter &node) {
      return convertScatter(node, /*elements=*/true);
    }, 3, 3, 1, {{"axis", A::INT}, {"reduction", A::STRING, false, 16}});
    // Quantization: ONNX Runtime's dynamic form (DynamicQuantizeLinear,
    // MatMulInteger), QDQ and QLinearMatMul, in the generic ops the
    // quantized-linear fusion recognizes.
    add("QuantizeLinear", convertQuantizeLinear, 2, 3, 1,
        {{"axis", A::INT}, {"saturate", A::INT, false, 19},
         {"block_size", A::INT, false, 21}, {"output_dtype", A::INT, false, 21}});
    add("DequantizeLinear", convertDequantizeLinear, 2, 3, 1,
        {{"axis", A::INT}, {"block_size", A::INT, false, 21}});
    add("DynamicQuantizeLinear", convertDynamicQuantizeLinear, 1, 1, 3);
    add("MatMulInteger", convertMatMulInteger, 2, 4, 1);
    add("QLinearMatMul", convertQLinearMatMul, 8, 8, 1);
    // ONNX Runtime's int4 weights (its contrib domain).
    add("com.microsoft.MatMulNBits", convertMatMulNBits, 3, 6, 1,
        {{"K", A::INT, true}, {"N", A::INT, true}, {"bits", A::INT},
         {"block_size", A::INT, true}, {"accuracy_level", A::INT}});
    add("TopK", convertTopK, 2, 2, 2,
        {{"axis", A::INT}, {"largest", A::INT, false, 11},
         {"sorted", A::INT, false, 11}});
    add("ScatterND", [](NodeImporter &node) {
      return convertScatter(node, /*elements=*/false);
    }, 3, 3, 1, {{"reduction", A::STRING, false, 16}});
    add("GlobalAveragePool", convertGlobalPool<kReduceMean>, 1, 1, 1);
    add("GlobalMaxPool", convertGlobalPool<kReduceMax>, 1, 1, 1);
    add("DepthToSpace", [](NodeImporter &node) {
      return convertDepthSpace(node, /*toSpace=*/true);
    }, 1, 1, 1, {{"blocksize", A::INT, true, 0, INT64_MAX, 1}, {"mode", A::STRING}});
    add("SpaceToDepth", [](NodeImporter &node) {
      return convertDepthSpace(node, /*toSpace=*/false);
    }, 1, 1, 1, {{"blocksize", A::INT, true, 0, INT64_MAX, 1}});
    add("NegativeLogLikelihoodLoss", convertNegativeLogLikelihoodLoss, 2, 3, 1,
        {{"ignore_index", A::INT}, {"reduction", A::STRING}});
    add("SoftmaxCrossEntropyLoss", convertSoftmaxCrossEntropyLoss, 2, 3, 2,
        {{"ignore_index", A::INT}, {"reduction", A::STRING}});
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
    add("LogSoftmax", convertLogSoftmax, 1, 1, 1, {{"axis", A::INT}});
    add("BatchNormalization", convertBatchNorm, 5, 5, 3,
        {{"epsilon", A::FLOAT}, {"momentum", A::FLOAT},
         {"training_mode", A::INT, false, 14}});
    add("InstanceNormalization", convertInstanceNorm, 3, 3, 1,
        {{"epsilon", A::FLOAT}});
    add("GroupNormalization", convertGroupNorm, 3, 3, 1,
        {{"epsilon", A::FLOAT},
         {"num_groups", A::INT, true, 0, INT64_MAX, 1},
         {"stash_type", A::INT, false, 21}});
    add("Size", convertSize, 1, 1, 1);
    add("EyeLike", convertEyeLike, 1, 1, 1, {{"dtype", A::INT}, {"k", A::INT}});
    add("Hardmax", convertHardmax, 1, 1, 1, {{"axis", A::INT}});
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
    add("Pad", convertPad, 1, 4, 1,
        {{"mode", A::STRING}, {"pads", A::INTS, true, 0, 11},
         {"value", A::FLOAT, false, 0, 11}});
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
