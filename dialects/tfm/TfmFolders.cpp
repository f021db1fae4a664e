//===- TfmFolders.cpp - constant folding of tfm ops -----------------------===//
//
// Folding here serves shape computations: exporters compute reshape targets
// with Shape -> Gather -> Unsqueeze -> Concat chains on small integer tensors,
// and once the dims those chains read are static the whole chain becomes one
// constant. Folds therefore cover integer (and boolean) tensors of bounded
// size; folding float weights is the job of the optimization passes.
//
//===----------------------------------------------------------------------===//

#include "tfm/TfmOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tfm;

/// Larger integer tensors are not folded: shape vectors are tiny, and
/// anything bigger is data that belongs in the compiled code.
static constexpr int64_t kMaxFoldedElements = 4096;

namespace {
/// The values of a small integer tensor constant, widened to int64.
struct IntTensor {
  SmallVector<int64_t> shape;
  SmallVector<int64_t> values;
};
} // namespace

static std::optional<IntTensor> asIntTensor(Attribute attr) {
  auto dense = dyn_cast_or_null<DenseIntElementsAttr>(attr);
  if (!dense || dense.getNumElements() > kMaxFoldedElements)
    return std::nullopt;
  IntTensor tensor;
  tensor.shape.assign(dense.getType().getShape().begin(),
                      dense.getType().getShape().end());
  bool isBool = dense.getElementType().isInteger(1);
  for (const APInt &v : dense.getValues<APInt>())
    tensor.values.push_back(isBool ? v.getZExtValue() : v.getSExtValue());
  return tensor;
}

/// A dense attribute of `type` (static, integer elements) holding `values`.
static Attribute makeIntAttr(Type type, ArrayRef<int64_t> values) {
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!tensorType || !tensorType.hasStaticShape() ||
      !tensorType.getElementType().isIntOrIndex() ||
      tensorType.getNumElements() != (int64_t)values.size())
    return {};
  unsigned width = tensorType.getElementType().getIntOrFloatBitWidth();
  SmallVector<APInt> bits;
  for (int64_t v : values)
    bits.push_back(APInt(width, v, /*isSigned=*/width > 1));
  return DenseElementsAttr::get(tensorType, bits);
}

static bool hasStaticResult(Operation *op) {
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  return type && type.hasStaticShape() &&
         type.getNumElements() <= kMaxFoldedElements;
}

/// Flat index into a tensor of `shape` for the result index `resultIndex`
/// (in a result of `resultShape`), following numpy broadcasting.
static int64_t broadcastSourceIndex(ArrayRef<int64_t> shape,
                                    ArrayRef<int64_t> resultShape,
                                    ArrayRef<int64_t> resultIndex) {
  int64_t flat = 0;
  size_t offset = resultShape.size() - shape.size();
  for (size_t i = 0; i < shape.size(); ++i) {
    int64_t coordinate = shape[i] == 1 ? 0 : resultIndex[i + offset];
    flat = flat * shape[i] + coordinate;
  }
  return flat;
}

/// Evaluates `fn` elementwise over broadcast integer operands into the
/// (static) result type of `op`. `fn` returns nullopt to refuse a value
/// (division by zero).
static Attribute
foldIntElementwise(Operation *op, ArrayRef<Attribute> operands,
                   function_ref<std::optional<int64_t>(ArrayRef<int64_t>)> fn) {
  if (!hasStaticResult(op))
    return {};
  SmallVector<IntTensor> tensors;
  for (Attribute attr : operands) {
    std::optional<IntTensor> tensor = asIntTensor(attr);
    if (!tensor)
      return {};
    tensors.push_back(std::move(*tensor));
  }
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  ArrayRef<int64_t> resultShape = resultType.getShape();
  SmallVector<int64_t> index(resultShape.size(), 0), values, args;
  for (int64_t n = 0; n < resultType.getNumElements(); ++n) {
    args.clear();
    for (const IntTensor &t : tensors)
      args.push_back(t.values[broadcastSourceIndex(t.shape, resultShape, index)]);
    std::optional<int64_t> value = fn(args);
    if (!value)
      return {};
    values.push_back(*value);
    // Advance the row-major multi-index.
    for (int64_t d = resultShape.size() - 1; d >= 0; --d) {
      if (++index[d] < resultShape[d])
        break;
      index[d] = 0;
    }
  }
  return makeIntAttr(resultType, values);
}

//===----------------------------------------------------------------------===//
// Folders
//===----------------------------------------------------------------------===//

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

// Integer arithmetic wraps, as the compiled code's does (and as C++'s
// signed arithmetic may not: that overflow is undefined).
static int64_t wrappingAdd(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
}
static int64_t wrappingSub(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
}
static int64_t wrappingMul(int64_t a, int64_t b) {
  return static_cast<int64_t>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
}

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  return foldIntElementwise(*this, adaptor.getOperands(), [](ArrayRef<int64_t> v) {
    return wrappingAdd(v[0], v[1]);
  });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldIntElementwise(*this, adaptor.getOperands(), [](ArrayRef<int64_t> v) {
    return wrappingSub(v[0], v[1]);
  });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  return foldIntElementwise(*this, adaptor.getOperands(), [](ArrayRef<int64_t> v) {
    return wrappingMul(v[0], v[1]);
  });
}

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  // (tfm.neg takes no unsigned integers, whose values this would misread.)
  return foldIntElementwise(*this, adaptor.getOperands(), [](ArrayRef<int64_t> v) {
    return wrappingSub(0, v[0]);
  });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  // Values are sign-extended to int64: unsigned division is not this.
  if (getType().getElementType().isUnsignedInteger())
    return {};
  // Integer Div truncates toward zero, as C++ does. Where the compiled code
  // defines what C++ does not (x / 0 is 0, INT_MIN / -1 wraps), no fold.
  return foldIntElementwise(
      *this, adaptor.getOperands(),
      [](ArrayRef<int64_t> v) -> std::optional<int64_t> {
        if (v[1] == 0 || (v[1] == -1 && v[0] == INT64_MIN))
          return std::nullopt;
        return v[0] / v[1];
      });
}

OpFoldResult EqualOp::fold(FoldAdaptor adaptor) {
  return foldIntElementwise(*this, adaptor.getOperands(),
                            [](ArrayRef<int64_t> v) -> std::optional<int64_t> {
                              return v[0] == v[1];
                            });
}

OpFoldResult WhereOp::fold(FoldAdaptor adaptor) {
  return foldIntElementwise(*this, adaptor.getOperands(),
                            [](ArrayRef<int64_t> v) -> std::optional<int64_t> {
                              return v[0] ? v[1] : v[2];
                            });
}

OpFoldResult IdentityOp::fold(FoldAdaptor) { return getInput(); }

OpFoldResult DropoutOp::fold(FoldAdaptor) { return getInput(); }

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  for (auto [i, p] : llvm::enumerate(getPerm()))
    if ((int64_t)i != p)
      return {};
  return getInput().getType() == getType() ? getInput() : OpFoldResult();
}

/// Reshape-like folds: a constant input takes the result's (static) shape,
/// and an op whose result type equals its input's is the identity.
static OpFoldResult foldReshapeLike(Operation *op, Value input,
                                    Attribute constantInput) {
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  if (input.getType() == resultType && resultType.hasStaticShape())
    return input;
  auto dense = dyn_cast_or_null<DenseElementsAttr>(constantInput);
  if (!dense || !resultType.hasStaticShape())
    return {};
  return dense.reshape(resultType);
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  return foldReshapeLike(*this, getInput(), adaptor.getInput());
}

OpFoldResult SqueezeOp::fold(FoldAdaptor adaptor) {
  return foldReshapeLike(*this, getInput(), adaptor.getInput());
}

OpFoldResult UnsqueezeOp::fold(FoldAdaptor adaptor) {
  return foldReshapeLike(*this, getInput(), adaptor.getInput());
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1 && getInputs()[0].getType() == getType())
    return getInputs()[0];
  if (!hasStaticResult(*this) || getType().getRank() != 1)
    return {};
  // 1-D concatenation of shape pieces; a piece may be a partially static
  // tfm.shape as long as every value it contributes is known.
  std::optional<SmallVector<int64_t>> values = getKnownIntValues(getResult());
  if (!values || llvm::any_of(*values, ShapedType::isDynamic))
    return {};
  return makeIntAttr(getType(), *values);
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  // Picks from a 1-D shape vector: fold when every picked value is known,
  // even if other dims of the shape are not.
  if (!hasStaticResult(*this))
    return {};
  std::optional<SmallVector<int64_t>> data = getKnownIntValues(getInput());
  std::optional<IntTensor> indices = asIntTensor(adaptor.getIndices());
  if (!data || !indices || getAxis() != 0)
    return {};
  int64_t size = data->size();
  SmallVector<int64_t> values;
  for (int64_t index : indices->values) {
    if (index < -size || index >= size)
      return {};
    int64_t value = (*data)[index < 0 ? index + size : index];
    if (ShapedType::isDynamic(value))
      return {};
    values.push_back(value);
  }
  return makeIntAttr(getType(), values);
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  if (!hasStaticResult(*this) || getType().getRank() != 1)
    return {};
  std::optional<SmallVector<int64_t>> data = getKnownIntValues(getInput());
  std::optional<IntTensor> starts = asIntTensor(adaptor.getStarts());
  std::optional<IntTensor> steps = asIntTensor(adaptor.getSteps());
  if (!data || !starts || !steps || starts->values.size() != 1)
    return {};
  // The result type already holds the clamped extent; walk it from the
  // normalized start.
  int64_t size = data->size(), start = starts->values[0], step = steps->values[0];
  if (start < 0)
    start += size;
  start = step > 0 ? std::clamp<int64_t>(start, 0, size)
                   : std::clamp<int64_t>(start, 0, size - 1);
  SmallVector<int64_t> values;
  for (int64_t i = 0; i < getType().getDimSize(0); ++i) {
    int64_t at;
    if (llvm::MulOverflow(i, step, at) || llvm::AddOverflow(start, at, at) ||
        at < 0 || at >= size || ShapedType::isDynamic((*data)[at]))
      return {};
    values.push_back((*data)[at]);
  }
  return makeIntAttr(getType(), values);
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  if (!hasStaticResult(*this))
    return {};
  auto dense = dyn_cast_or_null<DenseElementsAttr>(adaptor.getInput());
  if (!dense)
    return {};
  Type from = dense.getElementType(), to = getType().getElementType();
  if (from.isIntOrIndex() && to.isIntOrIndex()) {
    std::optional<IntTensor> tensor = asIntTensor(dense);
    if (!tensor)
      return {};
    if (to.isInteger(1))
      for (int64_t &v : tensor->values)
        v = v != 0;
    return makeIntAttr(getType(), tensor->values);
  }
  if (from.isIntOrIndex() && isa<FloatType>(to)) {
    std::optional<IntTensor> tensor = asIntTensor(dense);
    if (!tensor)
      return {};
    SmallVector<APFloat> values;
    for (int64_t v : tensor->values) {
      APFloat f((double)v);
      bool lostInfo;
      f.convert(cast<FloatType>(to).getFloatSemantics(),
                APFloat::rmNearestTiesToEven, &lostInfo);
      values.push_back(f);
    }
    return DenseElementsAttr::get(getType(), values);
  }
  return {};
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  auto type = cast<RankedTensorType>(getInput().getType());
  SmallVector<int64_t> dims;
  for (int64_t i = getStart(); i < (int64_t)getEnd(); ++i) {
    if (type.isDynamicDim(i))
      return {};
    dims.push_back(type.getDimSize(i));
  }
  return makeIntAttr(getType(), dims);
}

OpFoldResult ConstantOfShapeOp::fold(FoldAdaptor) {
  // A splat of any size costs one element, so there is no size limit here.
  auto type = cast<RankedTensorType>(getType());
  auto value = dyn_cast<DenseElementsAttr>(getValue());
  if (!type.hasStaticShape() || !value)
    return {};
  return DenseElementsAttr::get(type, value.getValues<Attribute>()[0]);
}

OpFoldResult RangeOp::fold(FoldAdaptor adaptor) {
  std::optional<IntTensor> start = asIntTensor(adaptor.getStart());
  std::optional<IntTensor> delta = asIntTensor(adaptor.getDelta());
  if (!start || !delta || !hasStaticResult(*this))
    return {};
  SmallVector<int64_t> values;
  for (int64_t i = 0; i < getType().getDimSize(0); ++i)
    values.push_back(wrappingAdd(start->values[0], wrappingMul(i, delta->values[0])));
  return makeIntAttr(getType(), values);
}
