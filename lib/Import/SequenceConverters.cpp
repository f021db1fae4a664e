//===- SequenceConverters.cpp - ONNX sequence ops as import-time lists ----===//
//
// Exporters emit sequences where a model keeps a Python list of tensors:
// `x.split(k)` or `x.unbind(d)` into a list (SplitToSequence), a list built
// in a scripted loop (SequenceEmpty, SequenceInsert), `torch.cat` or
// `torch.stack` of it (ConcatFromSequence). tfc has no sequence type: each
// sequence is the list of its tensors while importing, so that every
// position and length must be known then. The ops on it become list
// operations, and only the tensors (the splits, the concatenation) become
// tfm ops.
//
//===----------------------------------------------------------------------===//

#include "OnnxImporterImpl.h"

#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc::onnx_import;

namespace {

/// A position input (a 0-D or 1-element integer constant) as an index into
/// a sequence of `length`, negative ones counting from the end; `inserting`
/// allows `length` itself (after the last).
FailureOr<int64_t> getPosition(NodeImporter &node, unsigned index, int64_t length,
                               bool inserting) {
  FailureOr<llvm::SmallVector<int64_t>> values =
      node.getConstantInts(index, "position");
  if (failed(values))
    return failure();
  if (values->size() != 1)
    return node.fail("position must be one value, got " +
                     llvm::Twine(values->size()));
  int64_t position = values->front();
  int64_t end = inserting ? length + 1 : length;
  if (position < -length || position >= end)
    return node.fail("position " + llvm::Twine(position) +
                     " is out of range for a sequence of " + llvm::Twine(length) +
                     (length == 1 ? " tensor" : " tensors"));
  return position < 0 ? position + length : position;
}

} // namespace

bool mlir::tfc::onnx_import::acceptsSequenceInputs(llvm::StringRef opType) {
  return llvm::is_contained({"SequenceAt", "SequenceInsert", "SequenceErase",
                             "SequenceLength", "ConcatFromSequence", "Identity",
                             "Loop"},
                            opType);
}

LogicalResult mlir::tfc::onnx_import::convertSequenceConstruct(NodeImporter &node) {
  Sequence elements;
  for (unsigned i = 0; i < node.getNumInputs(); ++i) {
    FailureOr<Value> input = node.getRequiredInput(i, "tensor");
    if (failed(input))
      return failure();
    if (!elements.empty() &&
        llvm::cast<RankedTensorType>(input->getType()).getElementType() !=
            llvm::cast<RankedTensorType>(elements.front().getType()).getElementType())
      return node.fail("input " + llvm::Twine(i) +
                       " has another element type than input 0");
    elements.push_back(*input);
  }
  node.setSequenceResult(0, elements);
  return success();
}

LogicalResult mlir::tfc::onnx_import::convertSequenceEmpty(NodeImporter &node) {
  node.setSequenceResult(0, {});
  return success();
}

LogicalResult mlir::tfc::onnx_import::convertSequenceAt(NodeImporter &node) {
  FailureOr<const Sequence *> sequence = node.getSequenceInput(0, "input_sequence");
  if (failed(sequence))
    return failure();
  FailureOr<int64_t> position =
      getPosition(node, 1, (*sequence)->size(), /*inserting=*/false);
  if (failed(position))
    return failure();
  node.setResults((**sequence)[*position]);
  return success();
}

LogicalResult mlir::tfc::onnx_import::convertSequenceInsert(NodeImporter &node) {
  FailureOr<const Sequence *> sequence = node.getSequenceInput(0, "input_sequence");
  FailureOr<Value> tensor = node.getRequiredInput(1, "tensor");
  if (failed(sequence) || failed(tensor))
    return failure();
  Sequence elements = **sequence;
  int64_t position = elements.size();
  if (node.getInput(2)) {
    FailureOr<int64_t> given = getPosition(node, 2, elements.size(), /*inserting=*/true);
    if (failed(given))
      return failure();
    position = *given;
  }
  elements.insert(elements.begin() + position, *tensor);
  node.setSequenceResult(0, elements);
  return success();
}

LogicalResult mlir::tfc::onnx_import::convertSequenceErase(NodeImporter &node) {
  FailureOr<const Sequence *> sequence = node.getSequenceInput(0, "input_sequence");
  if (failed(sequence))
    return failure();
  Sequence elements = **sequence;
  if (elements.empty())
    return node.fail("erases from an empty sequence");
  int64_t position = elements.size() - 1;
  if (node.getInput(1)) {
    FailureOr<int64_t> given = getPosition(node, 1, elements.size(), /*inserting=*/false);
    if (failed(given))
      return failure();
    position = *given;
  }
  elements.erase(elements.begin() + position);
  node.setSequenceResult(0, elements);
  return success();
}

LogicalResult mlir::tfc::onnx_import::convertSequenceLength(NodeImporter &node) {
  FailureOr<const Sequence *> sequence = node.getSequenceInput(0, "input_sequence");
  if (failed(sequence))
    return failure();
  node.setResults(node.getI64Constant({(int64_t)(*sequence)->size()}, /*scalar=*/true));
  return success();
}

/// SplitToSequence: parts of one element (no split), of a given size (a
/// scalar split; the last one smaller), or of given sizes (a 1-D split).
/// keepdims 0 drops the axis from parts of one element unless the sizes are
/// listed (as ONNX Runtime reads it: torch's `unbind` passes a scalar split
/// of 1 with keepdims 0). The part count must be known, so the split dim
/// must be static unless the sizes are listed.
LogicalResult mlir::tfc::onnx_import::convertSplitToSequence(NodeImporter &node) {
  RankedTensorType type = node.getInputType(0);
  int64_t rank = type.getRank();
  int64_t axis = node.getInt("axis", 0);
  if (axis < -rank || axis >= rank)
    return node.fail("axis " + llvm::Twine(axis) + " is out of range for rank " +
                     llvm::Twine(rank));
  if (axis < 0)
    axis += rank;
  int64_t extent = type.getDimSize(axis);
  llvm::SmallVector<int64_t> sizes;
  bool squeeze = node.getInt("keepdims", 1) == 0;
  if (Value split = node.getInput(1)) {
    FailureOr<llvm::SmallVector<int64_t>> given = node.getConstantInts(1, "split");
    if (failed(given))
      return failure();
    if (llvm::cast<RankedTensorType>(split.getType()).getRank() == 0) {
      int64_t size = given->front();
      if (size < 1)
        return node.fail("split must be at least 1, got " + llvm::Twine(size));
      if (ShapedType::isDynamic(extent))
        return node.fail("splits dim " + llvm::Twine(axis) +
                         ", whose size is known only at run time, into parts of " +
                         llvm::Twine(size) +
                         "; tfc needs the part count when importing (pin the "
                         "input shape with --input-shape)");
      for (int64_t start = 0; start < extent; start += size)
        sizes.push_back(std::min(size, extent - start));
    } else {
      sizes = *given;
      squeeze = false;
    }
  } else {
    if (ShapedType::isDynamic(extent))
      return node.fail("splits dim " + llvm::Twine(axis) +
                       ", whose size is known only at run time, into its "
                       "elements; tfc needs the part count when importing (pin "
                       "the input shape with --input-shape)");
    sizes.assign(extent, 1);
  }
  if (sizes.empty())
    return node.fail("splits an empty dim: the sequence would be empty");
  if (squeeze && llvm::any_of(sizes, [](int64_t size) { return size != 1; }))
    return node.fail("keepdims is 0 but the parts are not of one element along "
                     "the axis, so it cannot be dropped");
  FailureOr<llvm::SmallVector<Value>> parts = node.create(
      "tfm.split", node.getInput(0),
      {node.namedI64("axis", axis), node.namedI64("num_outputs", sizes.size()),
       node.namedI64Array("sizes", sizes)});
  if (failed(parts))
    return failure();
  Sequence elements;
  for (Value part : *parts) {
    if (squeeze) {
      FailureOr<Value> squeezed =
          node.createOne("tfm.squeeze", part, {node.namedI64Array("axes", {axis})});
      if (failed(squeezed))
        return failure();
      part = *squeezed;
    }
    elements.push_back(part);
  }
  node.setSequenceResult(0, elements);
  return success();
}

/// ConcatFromSequence: torch.cat of the list, or torch.stack (new_axis 1:
/// each tensor gains a dim at `axis` first).
LogicalResult mlir::tfc::onnx_import::convertConcatFromSequence(NodeImporter &node) {
  FailureOr<const Sequence *> sequence = node.getSequenceInput(0, "input_sequence");
  if (failed(sequence))
    return failure();
  if ((*sequence)->empty())
    return node.fail("concatenates an empty sequence");
  bool stack = node.getInt("new_axis", 0) != 0;
  int64_t rank = llvm::cast<RankedTensorType>((*sequence)->front().getType()).getRank();
  int64_t resultRank = stack ? rank + 1 : rank;
  int64_t axis = node.getInt("axis", 0);
  if (axis < -resultRank || axis >= resultRank)
    return node.fail("axis " + llvm::Twine(axis) + " is out of range for rank " +
                     llvm::Twine(resultRank));
  if (axis < 0)
    axis += resultRank;
  llvm::SmallVector<Value> parts;
  for (Value element : **sequence) {
    if (stack) {
      FailureOr<Value> expanded =
          node.createOne("tfm.unsqueeze", element, {node.namedI64Array("axes", {axis})});
      if (failed(expanded))
        return failure();
      element = *expanded;
    }
    parts.push_back(element);
  }
  if (parts.size() == 1) {
    node.setResults(parts.front());
    return success();
  }
  FailureOr<Value> joined =
      node.createOne("tfm.concat", parts, {node.namedI64("axis", axis)});
  if (failed(joined))
    return failure();
  node.setResults(*joined);
  return success();
}
