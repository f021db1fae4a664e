//===- ResizeConverter.cpp - ONNX Resize to tfm.resize --------------------===//
//
// A Resize node gives either scales or output sizes (opset 18: for some
// axes only); tfm.resize takes both, one per dim, because the coordinate
// transformation reads the scale and the result's shape is the sizes. The
// missing one is derived here: output size floor(dim * scale), or scale
// size / dim. Where the dims and the given values are constants the derived
// ones are constants too, so that the result keeps static dims.
//
//===----------------------------------------------------------------------===//

#include "OnnxImporterImpl.h"

#include "tfm/TfmOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfc::onnx_import;

namespace {

/// A 1-D f32 constant.
Value getF32Constant(NodeImporter &node, llvm::ArrayRef<double> values) {
  llvm::SmallVector<float> narrowed(values.begin(), values.end());
  return node.getConstant(DenseElementsAttr::get(
      RankedTensorType::get({(int64_t)values.size()}, node.builder.getF32Type()),
      llvm::ArrayRef<float>(narrowed)));
}

/// `value` (a tensor) cast to `element`.
FailureOr<Value> castTo(NodeImporter &node, Value value, Type element) {
  return node.createOne("tfm.cast", value,
                        {node.builder.getNamedAttr("to", TypeAttr::get(element))});
}

} // namespace

LogicalResult mlir::tfc::onnx_import::convertResize(NodeImporter &node) {
  Value x = node.getInput(0);
  RankedTensorType type = node.getInputType(0);
  int64_t rank = type.getRank();
  std::string mode = node.getString("mode", "nearest");
  std::string coordinates =
      node.getString("coordinate_transformation_mode", "half_pixel");
  if (coordinates == "tf_crop_and_resize")
    return node.fail("coordinate_transformation_mode tf_crop_and_resize (a crop "
                     "by roi) is not supported");
  if (node.getInt("antialias", 0) != 0)
    return node.fail("antialias is not supported");
  std::string policy = node.getString("keep_aspect_ratio_policy", "stretch");
  if (policy != "stretch")
    return node.fail("keep_aspect_ratio_policy \"" + policy +
                     "\" is not supported (only stretch)");

  // Scales may be given as an empty tensor next to sizes.
  Value scales = node.getInput(2), sizes = node.getInput(3);
  if (scales) {
    auto scalesType = llvm::cast<RankedTensorType>(scales.getType());
    if (scalesType.hasStaticShape() && scalesType.getNumElements() == 0)
      scales = Value();
  }
  if (!scales == !sizes)
    return node.fail("needs exactly one of scales and sizes");
  Value given = scales ? scales : sizes;
  auto givenType = llvm::cast<RankedTensorType>(given.getType());
  if (givenType.getRank() != 1 || givenType.isDynamicDim(0))
    return node.fail(llvm::Twine(scales ? "scales" : "sizes") +
                     " must be a 1-D tensor of static length");

  // Opset 18's axes: the values given are for those dims; the others keep
  // scale 1 and their size.
  llvm::SmallVector<int64_t> axes;
  if (std::optional<llvm::SmallVector<int64_t>> named = node.getInts("axes")) {
    for (int64_t axis : *named) {
      if (axis < -rank || axis >= rank)
        return node.fail("axis " + llvm::Twine(axis) + " is out of range for rank " +
                         llvm::Twine(rank));
      axes.push_back(axis < 0 ? axis + rank : axis);
    }
  } else {
    axes = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  }
  if (givenType.getDimSize(0) != (int64_t)axes.size())
    return node.fail(llvm::Twine(scales ? "scales" : "sizes") + " has " +
                     llvm::Twine(givenType.getDimSize(0)) + " entries for " +
                     llvm::Twine(axes.size()) + " dims");
  bool allAxes = (int64_t)axes.size() == rank;

  FailureOr<Value> shape = node.createOne(
      "tfm.shape", x, {node.namedI64("start", 0), node.namedI64("end", rank)});
  if (failed(shape))
    return failure();
  Type f32 = node.builder.getF32Type();
  Value fullScales, fullSizes;
  if (scales) {
    FailureOr<llvm::SmallVector<double>> values = tfm::getConstantFloatValues(scales);
    // Every dim's scale, when the given ones are constants.
    llvm::SmallVector<double> full(rank, 1.0);
    if (succeeded(values)) {
      for (auto [i, axis] : llvm::enumerate(axes))
        full[axis] = (*values)[i];
      for (double scale : full)
        if (!(scale > 0.0))
          return node.fail("scales must be positive, got " + std::to_string(scale));
      // floor(dim * scale) becomes an int64 size below: a product past the
      // largest tensor tfc represents (2^60 elements) is refused first.
      for (int64_t i = 0; i < rank; ++i)
        if (!type.isDynamicDim(i) &&
            !(type.getDimSize(i) * full[i] < std::ldexp(1.0, 60)))
          return node.fail("scale " + std::to_string(full[i]) + " of dim " +
                           llvm::Twine(i) + " makes a size past 2^60");
      fullScales = getF32Constant(node, full);
      if (type.hasStaticShape()) {
        llvm::SmallVector<int64_t> dims;
        for (int64_t i = 0; i < rank; ++i)
          dims.push_back((int64_t)std::floor(type.getDimSize(i) * full[i]));
        fullSizes = node.getI64Constant(dims);
      }
    } else if (!allAxes) {
      return node.fail("scales for some axes must be constants");
    } else {
      fullScales = scales;
    }
    if (!fullSizes) {
      // floor(dim * scale), from the shape at run time.
      FailureOr<Value> dims = castTo(node, *shape, f32);
      if (failed(dims))
        return failure();
      FailureOr<Value> scaled = node.createOne("tfm.mul", {*dims, fullScales});
      if (failed(scaled))
        return failure();
      FailureOr<Value> floored = node.createOne("tfm.floor", *scaled);
      if (failed(floored))
        return failure();
      FailureOr<Value> asSizes = castTo(node, *floored, node.builder.getI64Type());
      if (failed(asSizes))
        return failure();
      fullSizes = *asSizes;
      // The dims that are static with a constant scale (an image's batch
      // and channels) as constants, so that they stay static.
      if (succeeded(values)) {
        llvm::SmallVector<Value> pieces;
        bool anyKnown = false;
        for (int64_t i = 0; i < rank; ++i) {
          if (!type.isDynamicDim(i)) {
            pieces.push_back(node.getI64Constant(
                {(int64_t)std::floor(type.getDimSize(i) * full[i])}));
            anyKnown = true;
            continue;
          }
          FailureOr<Value> piece = node.createOne(
              "tfm.gather", {fullSizes, node.getI64Constant({i})},
              {node.namedI64("axis", 0)});
          if (failed(piece))
            return failure();
          pieces.push_back(*piece);
        }
        if (anyKnown) {
          FailureOr<Value> joined =
              node.createOne("tfm.concat", pieces, {node.namedI64("axis", 0)});
          if (failed(joined))
            return failure();
          fullSizes = *joined;
        }
      }
    }
  } else {
    FailureOr<llvm::SmallVector<int64_t>> values = tfm::getConstantIntValues(sizes);
    if (succeeded(values)) {
      llvm::SmallVector<int64_t> full(type.getShape());
      for (auto [i, axis] : llvm::enumerate(axes))
        full[axis] = (*values)[i];
      if (llvm::any_of(full, ShapedType::isDynamic))
        return node.fail("sizes for some axes need the other dims static, got " +
                         formatDims(type.getShape()));
      fullSizes = node.getI64Constant(full);
      if (type.hasStaticShape()) {
        llvm::SmallVector<double> ratios;
        for (int64_t i = 0; i < rank; ++i)
          ratios.push_back(type.getDimSize(i) == 0
                               ? 1.0
                               : (double)full[i] / (double)type.getDimSize(i));
        fullScales = getF32Constant(node, ratios);
      }
    } else if (!allAxes) {
      return node.fail("sizes for some axes must be constants");
    } else {
      fullSizes = sizes;
    }
    if (!fullScales) {
      // size / dim, from the shape at run time.
      FailureOr<Value> wanted = castTo(node, fullSizes, f32);
      FailureOr<Value> dims = castTo(node, *shape, f32);
      if (failed(wanted) || failed(dims))
        return failure();
      FailureOr<Value> ratios = node.createOne("tfm.div", {*wanted, *dims});
      if (failed(ratios))
        return failure();
      fullScales = *ratios;
    }
  }

  llvm::SmallVector<NamedAttribute> attributes = {
      node.builder.getNamedAttr("mode", node.builder.getStringAttr(mode)),
      node.builder.getNamedAttr("coordinate_mode",
                                node.builder.getStringAttr(coordinates)),
      node.builder.getNamedAttr(
          "nearest_mode",
          node.builder.getStringAttr(node.getString("nearest_mode", "round_prefer_floor"))),
      node.namedF32("cubic_coeff_a", node.getFloat("cubic_coeff_a", -0.75f)),
      node.namedBool("exclude_outside", node.getInt("exclude_outside", 0) != 0)};
  FailureOr<Value> resized =
      node.createOne("tfm.resize", {x, fullSizes, fullScales}, attributes);
  if (failed(resized))
    return failure();
  node.setResults(*resized);
  return success();
}
