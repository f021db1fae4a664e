//===- TfmOps.cpp - tfm result-type inference and verifiers --------------===//
//
// Each op's inferReturnTypes is also its verifier: MLIR checks a stored result
// type against the inferred one (isRefinementOf), so every rule below is
// enforced both when the importer builds an op and when IR is parsed.
//
//===----------------------------------------------------------------------===//

#include "tfm/TfmOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallSet.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::tfm;

static constexpr int64_t kDynamic = ShapedType::kDynamic;

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

bool mlir::tfm::isRefinementOf(TypeRange inferred, TypeRange actual) {
  if (inferred.size() != actual.size())
    return false;
  for (auto [want, have] : llvm::zip(inferred, actual)) {
    auto wantTensor = dyn_cast<RankedTensorType>(want);
    auto haveTensor = dyn_cast<RankedTensorType>(have);
    if (!wantTensor || !haveTensor) {
      if (want != have)
        return false;
      continue;
    }
    if (wantTensor.getElementType() != haveTensor.getElementType() ||
        failed(verifyCompatibleShape(wantTensor, haveTensor)))
      return false;
  }
  return true;
}

FailureOr<SmallVector<int64_t>>
mlir::tfm::broadcastShapes(ArrayRef<int64_t> lhs, ArrayRef<int64_t> rhs) {
  size_t rank = std::max(lhs.size(), rhs.size());
  SmallVector<int64_t> result(rank);
  for (size_t i = 0; i < rank; ++i) {
    // Align from the trailing dim; a missing leading dim acts as 1.
    int64_t a = i < rank - lhs.size() ? 1 : lhs[i - (rank - lhs.size())];
    int64_t b = i < rank - rhs.size() ? 1 : rhs[i - (rank - rhs.size())];
    if (a == 1)
      result[i] = b;
    else if (b == 1)
      result[i] = a;
    else if (ShapedType::isDynamic(a))
      result[i] = b;
    else if (ShapedType::isDynamic(b) || a == b)
      result[i] = a;
    else
      return failure();
  }
  return result;
}

bool mlir::tfm::broadcastsTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
  FailureOr<SmallVector<int64_t>> merged = broadcastShapes(to, from);
  return from.size() <= to.size() && succeeded(merged) &&
         succeeded(verifyCompatibleShape(*merged, to));
}

std::optional<int64_t> mlir::tfm::getCheckedElementCount(ArrayRef<int64_t> shape) {
  int64_t bound = 8, count = 1;
  for (int64_t dim : shape) {
    if (ShapedType::isDynamic(dim))
      continue;
    if (dim < 0 || llvm::MulOverflow(bound, std::max<int64_t>(dim, 1), bound))
      return std::nullopt;
    count *= dim; // Cannot overflow: count <= bound / 8.
  }
  return count;
}

std::optional<int64_t> mlir::tfm::normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return std::nullopt;
  return axis < 0 ? axis + rank : axis;
}

/// Integer constants of more elements than this are data, not the axes,
/// sizes or shapes getConstantIntValues is for.
static constexpr int64_t kMaxConstantIntValues = 4096;

/// The values of an integer `dense_resource` constant (the importer stores
/// tensors of more than 16 elements so: a Split into 20 parts has its sizes
/// there), little-endian as ONNX's raw data.
static FailureOr<SmallVector<int64_t>>
getResourceIntValues(DenseResourceElementsAttr resource) {
  auto type = resource.getType();
  Type element = type.getElementType();
  if (!element.isSignlessInteger() || !type.hasStaticShape() ||
      type.getNumElements() > kMaxConstantIntValues)
    return failure();
  std::optional<ArrayRef<char>> bytes = getWeightBytes(resource);
  if (!bytes)
    return failure();
  unsigned width = element.isInteger(1) ? 8 : element.getIntOrFloatBitWidth();
  size_t size = width / 8;
  SmallVector<int64_t> values;
  for (int64_t i = 0; i < type.getNumElements(); ++i) {
    uint64_t raw = 0;
    std::memcpy(&raw, bytes->data() + i * size, size);
    values.push_back(element.isInteger(1) ? raw != 0
                                          : llvm::SignExtend64(raw, width));
  }
  return values;
}

std::optional<SmallVector<char>> mlir::tfm::getConstantBytes(Value value) {
  auto constant = value ? value.getDefiningOp<tfm::ConstantOp>() : nullptr;
  Attribute attr = constant ? constant.getValue() : Attribute();
  auto type = dyn_cast_or_null<ShapedType>(
      attr ? cast<TypedAttr>(attr).getType() : Type());
  if (!type || !type.hasStaticShape() ||
      !type.getElementType().isIntOrFloat() ||
      type.getElementTypeBitWidth() % 8 != 0)
    return std::nullopt;
  size_t elementBytes = type.getElementTypeBitWidth() / 8;
  size_t size = type.getNumElements() * elementBytes;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    ArrayRef<char> raw = dense.getRawData();
    if (dense.isSplat()) {
      if (raw.size() != elementBytes)
        return std::nullopt;
      SmallVector<char> bytes;
      bytes.reserve(size);
      for (int64_t i = 0; i < type.getNumElements(); ++i)
        bytes.append(raw.begin(), raw.end());
      return bytes;
    }
    if (raw.size() != size)
      return std::nullopt;
    return SmallVector<char>(raw.begin(), raw.end());
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
    if (std::optional<ArrayRef<char>> bytes = getWeightBytes(resource))
      if (bytes->size() == size)
        return SmallVector<char>(bytes->begin(), bytes->end());
  return std::nullopt;
}

FailureOr<SmallVector<int64_t>> mlir::tfm::getConstantIntValues(Value value) {
  Attribute constant;
  if (!value || !matchPattern(value, m_Constant(&constant)))
    return failure();
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(constant))
    return getResourceIntValues(resource);
  auto attr = dyn_cast<DenseIntElementsAttr>(constant);
  if (!attr || attr.getNumElements() > kMaxConstantIntValues)
    return failure();
  SmallVector<int64_t> values;
  values.reserve(attr.getNumElements());
  for (const APInt &v : attr.getValues<APInt>())
    values.push_back(attr.getElementType().isInteger(1) ? v.getZExtValue()
                                                        : v.getSExtValue());
  return values;
}

FailureOr<SmallVector<double>> mlir::tfm::getConstantFloatValues(Value value) {
  Attribute constant;
  if (!value || !matchPattern(value, m_Constant(&constant)))
    return failure();
  SmallVector<double> values;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(constant)) {
    auto type = resource.getType();
    std::optional<ArrayRef<char>> bytes = getWeightBytes(resource);
    if (!type.getElementType().isF32() || !type.hasStaticShape() || !bytes ||
        type.getNumElements() > kMaxConstantIntValues)
      return failure();
    for (int64_t i = 0; i < type.getNumElements(); ++i) {
      float element;
      std::memcpy(&element, bytes->data() + i * sizeof(float), sizeof(float));
      values.push_back(element);
    }
    return values;
  }
  auto attr = dyn_cast<DenseFPElementsAttr>(constant);
  if (!attr || attr.getNumElements() > kMaxConstantIntValues)
    return failure();
  for (const APFloat &v : attr.getValues<APFloat>())
    values.push_back(v.convertToDouble());
  return values;
}

/// A shape as `[?, 128, 768]`, for diagnostics.
static std::string shapeText(ArrayRef<int64_t> shape) {
  std::string text = "[";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(shape, os, [&](int64_t d) {
    if (ShapedType::isDynamic(d))
      os << '?';
    else
      os << d;
  });
  os << ']';
  return os.str();
}

static RankedTensorType tensorOf(Value v) {
  return cast<RankedTensorType>(v.getType());
}

static FailureOr<int64_t> mergeDims(std::optional<Location> loc, int64_t a,
                                    int64_t b, StringRef what);
static LogicalResult verifyNormalizationParams(std::optional<Location> loc,
                                               RankedTensorType type,
                                               int64_t axisAttr,
                                               ArrayRef<Value> params);

/// Checks `axis` against `rank` (an axis may name `rank` itself when
/// `allowEnd`) and returns it non-negative.
static FailureOr<int64_t> checkAxis(std::optional<Location> loc,
                                        int64_t axis, int64_t rank,
                                        bool allowEnd = false) {
  // An axis that may name the end (Flatten's) ranges over [-rank, rank],
  // negative values still counting from rank.
  std::optional<int64_t> normalized = tfm::normalizeAxis(axis, rank);
  if (allowEnd && axis == rank)
    normalized = rank;
  if (!normalized)
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                             rank);
  return *normalized;
}

/// Normalizes a list of distinct axes.
static FailureOr<SmallVector<int64_t>>
normalizeAxes(std::optional<Location> loc, ArrayRef<int64_t> axes,
              int64_t rank) {
  SmallVector<int64_t> result;
  llvm::SmallSet<int64_t, 8> seen;
  for (int64_t axis : axes) {
    FailureOr<int64_t> normalized = checkAxis(loc, axis, rank);
    if (failed(normalized))
      return failure();
    if (!seen.insert(*normalized).second)
      return emitOptionalError(loc, "axis ", axis, " is repeated");
    result.push_back(*normalized);
  }
  return result;
}

/// The product of `dims`, `?` if one is dynamic. The dims are those of a
/// tensor within getCheckedElementCount's bound (or part of one), so the
/// product cannot overflow.
static int64_t productOrDynamic(ArrayRef<int64_t> dims) {
  int64_t product = 1;
  for (int64_t d : dims) {
    if (ShapedType::isDynamic(d))
      return kDynamic;
    product *= d;
  }
  return product;
}

/// Fails, naming the op's result, when `shape` is past the largest tensor
/// tfc represents (see getCheckedElementCount). For result shapes built from
/// values in the model (reshape targets, pads, split sizes).
static LogicalResult checkResultSize(std::optional<Location> loc,
                                     ArrayRef<int64_t> shape) {
  if (getCheckedElementCount(shape))
    return success();
  return emitOptionalError(loc, "the result ", shapeText(shape),
                           " is larger than tfc supports (2^60 elements)");
}

/// Broadcasts the shapes of `operands` and returns a tensor of `elementType`.
static LogicalResult inferBroadcast(std::optional<Location> loc,
                                    ValueRange operands, Type elementType,
                                    SmallVectorImpl<Type> &results) {
  SmallVector<int64_t> shape;
  for (Value operand : operands) {
    ArrayRef<int64_t> next = tensorOf(operand).getShape();
    FailureOr<SmallVector<int64_t>> merged = broadcastShapes(shape, next);
    if (failed(merged))
      return emitOptionalError(loc, "shapes ", shapeText(shape), " and ",
                               shapeText(next), " do not broadcast");
    shape = std::move(*merged);
  }
  results.push_back(RankedTensorType::get(shape, elementType));
  return success();
}

static LogicalResult verifySameElementType(std::optional<Location> loc,
                                           ValueRange operands) {
  Type first = tensorOf(operands.front()).getElementType();
  for (Value operand : operands.drop_front())
    if (tensorOf(operand).getElementType() != first)
      return emitOptionalError(loc, "operands have different element types: ",
                               first, " and ",
                               tensorOf(operand).getElementType());
  return success();
}

/// Verifies the adaptor's attributes (presence, kinds) before inference reads
/// them, so that a malformed op is a diagnostic and not a crash.
template <typename Adaptor>
static LogicalResult verifyAttributes(MLIRContext *ctx,
                                      std::optional<Location> loc,
                                      Adaptor &adaptor) {
  return adaptor.verify(loc ? *loc : UnknownLoc::get(ctx));
}

//===----------------------------------------------------------------------===//
// Constants and elementwise ops
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *ctx,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  auto type = dyn_cast<RankedTensorType>(adaptor.getValue().getType());
  if (!type)
    return emitOptionalError(loc, "value must be a ranked tensor");
  results.push_back(type);
  return success();
}

int64_t mlir::tfm::getWeightByteSize(ShapedType type) {
  Type elementType = type.getElementType();
  int64_t elementBytes =
      elementType.isInteger(1)
          ? 1
          : llvm::divideCeil(elementType.getIntOrFloatBitWidth(), 8);
  return type.getNumElements() * elementBytes;
}

std::optional<ArrayRef<char>>
mlir::tfm::getWeightBytes(DenseResourceElementsAttr weight) {
  AsmResourceBlob *blob = weight.getRawHandle().getBlob();
  if (!blob || (int64_t)blob->getData().size() !=
                   getWeightByteSize(weight.getType()))
    return std::nullopt;
  return blob->getData();
}

/// A `dense_resource` weight holds the bytes its type needs, or none (IR
/// printed with elided weights, see getWeightBytes): every reader takes the
/// blob as that many elements, so any other size is refused here rather
/// than read past its end.
LogicalResult ConstantOp::verify() {
  auto resource = dyn_cast<DenseResourceElementsAttr>(getValue());
  if (!resource)
    return success();
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  int64_t actual = blob ? blob->getData().size() : 0;
  int64_t expected = getWeightByteSize(resource.getType());
  if (actual == 0 || actual == expected)
    return success();
  return emitOpError() << "weight '" << resource.getRawHandle().getKey()
                       << "' holds " << actual << " bytes, but its type "
                       << resource.getType() << " needs " << expected;
}

/// Binary ops on operands of one element type, broadcast, with that type.
static LogicalResult inferSameTypeBroadcast(std::optional<Location> loc,
                                            ValueRange operands,
                                            SmallVectorImpl<Type> &results) {
  if (failed(verifySameElementType(loc, operands)))
    return failure();
  return inferBroadcast(loc, operands,
                        tensorOf(operands.front()).getElementType(), results);
}

#define TFM_INFER_BROADCAST_ARITH(OpClass)                                     \
  LogicalResult OpClass::inferReturnTypes(                                     \
      MLIRContext *, std::optional<Location> loc, Adaptor adaptor,             \
      SmallVectorImpl<Type> &results) {                                        \
    return inferSameTypeBroadcast(loc, adaptor.getOperands(), results);        \
  }
TFM_INFER_BROADCAST_ARITH(AddOp)
TFM_INFER_BROADCAST_ARITH(SubOp)
TFM_INFER_BROADCAST_ARITH(MulOp)
TFM_INFER_BROADCAST_ARITH(DivOp)
TFM_INFER_BROADCAST_ARITH(MaxOp)
TFM_INFER_BROADCAST_ARITH(MinOp)
#undef TFM_INFER_BROADCAST_ARITH

LogicalResult PowOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  return inferBroadcast(loc, adaptor.getOperands(),
                        tensorOf(adaptor.getBase()).getElementType(), results);
}

#define TFM_INFER_COMPARISON(OpClass)                                          \
  LogicalResult OpClass::inferReturnTypes(                                     \
      MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,          \
      SmallVectorImpl<Type> &results) {                                        \
    if (failed(verifySameElementType(loc, adaptor.getOperands())))             \
      return failure();                                                        \
    return inferBroadcast(loc, adaptor.getOperands(),                          \
                          IntegerType::get(ctx, 1), results);                  \
  }
TFM_INFER_COMPARISON(EqualOp)
TFM_INFER_COMPARISON(LessOp)
TFM_INFER_COMPARISON(LessOrEqualOp)
TFM_INFER_COMPARISON(GreaterOp)
TFM_INFER_COMPARISON(GreaterOrEqualOp)
#undef TFM_INFER_COMPARISON

#define TFM_INFER_LOGICAL(OpClass)                                             \
  LogicalResult OpClass::inferReturnTypes(                                     \
      MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,          \
      SmallVectorImpl<Type> &results) {                                        \
    for (Value operand : adaptor.getOperands())                                \
      if (!tensorOf(operand).getElementType().isInteger(1))                    \
        return emitOptionalError(loc, "operands must be tensors of i1, got ",  \
                                 operand.getType());                           \
    return inferBroadcast(loc, adaptor.getOperands(),                          \
                          IntegerType::get(ctx, 1), results);                  \
  }
TFM_INFER_LOGICAL(AndOp)
TFM_INFER_LOGICAL(OrOp)
TFM_INFER_LOGICAL(XorOp)
#undef TFM_INFER_LOGICAL

/// Unary ops keep their operand's type. `requirement` restricts the element
/// type: floats for transcendental functions, i1 for `not`.
enum class ElementKind { Any, Float, Signed, Number, Bool };

static LogicalResult inferUnary(std::optional<Location> loc, Value input,
                                ElementKind requirement,
                                SmallVectorImpl<Type> &results) {
  Type element = tensorOf(input).getElementType();
  switch (requirement) {
  case ElementKind::Any:
    break;
  case ElementKind::Float:
    if (!isa<FloatType>(element))
      return emitOptionalError(loc, "expects a floating-point tensor, got ",
                               input.getType());
    break;
  case ElementKind::Signed:
    if (!isa<FloatType>(element) && !element.isSignlessInteger())
      return emitOptionalError(loc, "expects a float or signed integer tensor, got ",
                               input.getType());
    break;
  case ElementKind::Number:
    if (element.isInteger(1))
      return emitOptionalError(loc, "expects a numeric tensor, got ",
                               input.getType());
    break;
  case ElementKind::Bool:
    if (!element.isInteger(1))
      return emitOptionalError(loc, "expects a tensor of i1, got ",
                               input.getType());
    break;
  }
  results.push_back(input.getType());
  return success();
}

#define TFM_INFER_UNARY(OpClass, Kind)                                         \
  LogicalResult OpClass::inferReturnTypes(                                     \
      MLIRContext *, std::optional<Location> loc, Adaptor adaptor,             \
      SmallVectorImpl<Type> &results) {                                        \
    return inferUnary(loc, adaptor.getInput(), ElementKind::Kind, results);    \
  }
TFM_INFER_UNARY(NotOp, Bool)
TFM_INFER_UNARY(NegOp, Signed)
TFM_INFER_UNARY(AbsOp, Signed)
TFM_INFER_UNARY(SqrtOp, Float)
TFM_INFER_UNARY(ExpOp, Float)
TFM_INFER_UNARY(LogOp, Float)
TFM_INFER_UNARY(ErfOp, Float)
TFM_INFER_UNARY(TanhOp, Float)
TFM_INFER_UNARY(SinOp, Float)
TFM_INFER_UNARY(CosOp, Float)
TFM_INFER_UNARY(FloorOp, Float)
TFM_INFER_UNARY(CeilOp, Float)
TFM_INFER_UNARY(ReciprocalOp, Float)
TFM_INFER_UNARY(ReluOp, Signed)
TFM_INFER_UNARY(SigmoidOp, Float)
TFM_INFER_UNARY(TanOp, Float)
TFM_INFER_UNARY(AsinOp, Float)
TFM_INFER_UNARY(AcosOp, Float)
TFM_INFER_UNARY(AtanOp, Float)
TFM_INFER_UNARY(SinhOp, Float)
TFM_INFER_UNARY(CoshOp, Float)
TFM_INFER_UNARY(AsinhOp, Float)
TFM_INFER_UNARY(AcoshOp, Float)
TFM_INFER_UNARY(AtanhOp, Float)
TFM_INFER_UNARY(RoundOp, Float)
TFM_INFER_UNARY(SignOp, Number)
TFM_INFER_UNARY(IdentityOp, Any)
TFM_INFER_UNARY(DropoutOp, Any)
#undef TFM_INFER_UNARY

/// IsNaN and IsInf: a float tensor in, i1 of its shape out.
static LogicalResult inferFloatTest(MLIRContext *ctx, std::optional<Location> loc,
                                    Value input, SmallVectorImpl<Type> &results) {
  RankedTensorType type = tensorOf(input);
  if (!isa<FloatType>(type.getElementType()))
    return emitOptionalError(loc, "expects a floating-point tensor, got ", type);
  results.push_back(type.clone(IntegerType::get(ctx, 1)));
  return success();
}

LogicalResult IsNaNOp::inferReturnTypes(MLIRContext *ctx,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  return inferFloatTest(ctx, loc, adaptor.getInput(), results);
}

LogicalResult IsInfOp::inferReturnTypes(MLIRContext *ctx,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  return inferFloatTest(ctx, loc, adaptor.getInput(), results);
}

LogicalResult ModOp::inferReturnTypes(MLIRContext *ctx,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  Type element = tensorOf(adaptor.getLhs()).getElementType();
  if (element.isInteger(1))
    return emitOptionalError(loc, "expects numeric tensors, got ",
                             adaptor.getLhs().getType());
  if (isa<FloatType>(element) && !adaptor.getFmod())
    return emitOptionalError(loc, "a floating-point remainder needs fmod = true");
  return inferSameTypeBroadcast(loc, adaptor.getOperands(), results);
}

LogicalResult BitShiftOp::inferReturnTypes(MLIRContext *ctx,
                                           std::optional<Location> loc,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  StringRef direction = adaptor.getDirection();
  if (direction != "left" && direction != "right")
    return emitOptionalError(loc, "direction must be \"left\" or \"right\", got \"",
                             direction, "\"");
  Type element = tensorOf(adaptor.getLhs()).getElementType();
  if (!element.isUnsignedInteger())
    return emitOptionalError(loc, "expects unsigned integer tensors, got ",
                             adaptor.getLhs().getType());
  return inferSameTypeBroadcast(loc, adaptor.getOperands(), results);
}

// Activations: floats only; the attributes are typed by their definitions.
#define TFM_INFER_ACTIVATION(OpClass)                                          \
  LogicalResult OpClass::inferReturnTypes(                                     \
      MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,          \
      SmallVectorImpl<Type> &results) {                                        \
    if (failed(verifyAttributes(ctx, loc, adaptor)))                           \
      return failure();                                                        \
    return inferUnary(loc, adaptor.getInput(), ElementKind::Float, results);   \
  }
TFM_INFER_ACTIVATION(EluOp)
TFM_INFER_ACTIVATION(CeluOp)
TFM_INFER_ACTIVATION(SeluOp)
TFM_INFER_ACTIVATION(LeakyReluOp)
TFM_INFER_ACTIVATION(ThresholdedReluOp)
TFM_INFER_ACTIVATION(HardSigmoidOp)
TFM_INFER_ACTIVATION(HardSwishOp)
TFM_INFER_ACTIVATION(SoftplusOp)
TFM_INFER_ACTIVATION(SoftsignOp)
TFM_INFER_ACTIVATION(MishOp)
#undef TFM_INFER_ACTIVATION

LogicalResult PReluOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  if (!isa<FloatType>(tensorOf(adaptor.getLhs()).getElementType()))
    return emitOptionalError(loc, "expects floating-point tensors, got ",
                             adaptor.getLhs().getType());
  return inferSameTypeBroadcast(loc, adaptor.getOperands(), results);
}

LogicalResult GeluOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  StringRef approximation = adaptor.getApproximation();
  if (approximation != "none" && approximation != "tanh")
    return emitOptionalError(loc, "approximation must be \"none\" or \"tanh\", got \"",
                             approximation, "\"");
  return inferUnary(loc, adaptor.getInput(), ElementKind::Float, results);
}

//===----------------------------------------------------------------------===//
// Contractions and convolution
//===----------------------------------------------------------------------===//

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  if (failed(verifySameElementType(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType lhsType = tensorOf(adaptor.getLhs());
  RankedTensorType rhsType = tensorOf(adaptor.getRhs());
  if (lhsType.getRank() == 0 || rhsType.getRank() == 0)
    return emitOptionalError(loc, "operands must have rank >= 1");
  // Promote 1-D operands to matrices, as numpy does, and remember to drop the
  // added dim from the result.
  SmallVector<int64_t> lhs(lhsType.getShape()), rhs(rhsType.getShape());
  bool lhsVector = lhs.size() == 1, rhsVector = rhs.size() == 1;
  if (lhsVector)
    lhs.insert(lhs.begin(), 1);
  if (rhsVector)
    rhs.push_back(1);
  int64_t lhsK = lhs.back(), rhsK = rhs[rhs.size() - 2];
  if (!ShapedType::isDynamic(lhsK) && !ShapedType::isDynamic(rhsK) &&
      lhsK != rhsK)
    return emitOptionalError(loc, "contracting dims differ: lhs ",
                             shapeText(lhsType.getShape()), " has ", lhsK,
                             ", rhs ", shapeText(rhsType.getShape()), " has ",
                             rhsK);
  FailureOr<SmallVector<int64_t>> batch = broadcastShapes(
      ArrayRef(lhs).drop_back(2), ArrayRef(rhs).drop_back(2));
  if (failed(batch))
    return emitOptionalError(loc, "batch dims of ", shapeText(lhsType.getShape()),
                             " and ", shapeText(rhsType.getShape()),
                             " do not broadcast");
  SmallVector<int64_t> shape = *batch;
  if (!lhsVector)
    shape.push_back(lhs[lhs.size() - 2]);
  if (!rhsVector)
    shape.push_back(rhs.back());
  results.push_back(RankedTensorType::get(shape, lhsType.getElementType()));
  return success();
}

/// The element type of a linear's result for its input and weight types:
/// the float type both share, f32 for an f32 input by a bf16 weight
/// (--quantize=bf16), or i32 for an integer product (an i8 or ui8 input by
/// an i8 weight, accumulated exactly).
static FailureOr<Type> getLinearResultElementType(std::optional<Location> loc,
                                                  Type input, Type weight) {
  if (isa<FloatType>(input) && input == weight)
    return input;
  if (input.isF32() && weight.isBF16())
    return input;
  if (input.isInteger(8) && weight.isSignlessInteger(8))
    return Type(IntegerType::get(input.getContext(), 32));
  return emitOptionalError(loc, "expects float input and weight of one type, "
                           "an f32 input with a bf16 weight, "
                           "or an i8 or ui8 input with an i8 weight; got ",
                           input, " and ", weight);
}

LogicalResult LinearOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType input = tensorOf(adaptor.getInput());
  RankedTensorType weight = tensorOf(adaptor.getWeight());
  FailureOr<Type> resultElement = getLinearResultElementType(
      loc, input.getElementType(), weight.getElementType());
  if (failed(resultElement))
    return failure();
  // The epilogue operands come in the result's type.
  for (Value operand : {adaptor.getBias(), adaptor.getResidual()})
    if (operand && tensorOf(operand).getElementType() != *resultElement)
      return emitOptionalError(loc, "bias and residual must be ",
                               *resultElement, " tensors, got ",
                               tensorOf(operand));
  if (input.getRank() < 1 || weight.getRank() != 2)
    return emitOptionalError(loc, "expects an input of rank >= 1 and a [K, N] weight, got ",
                             shapeText(input.getShape()), " and ",
                             shapeText(weight.getShape()));
  if (failed(mergeDims(loc, input.getShape().back(), weight.getDimSize(0),
                       "contracting dims")))
    return failure();
  SmallVector<int64_t> shape(input.getShape());
  shape.back() = weight.getDimSize(1);
  if (Value bias = adaptor.getBias()) {
    ArrayRef<int64_t> biasShape = tensorOf(bias).getShape();
    if (biasShape.size() != 1 ||
        failed(mergeDims(loc, biasShape[0], shape.back(), "bias and output widths")))
      return emitOptionalError(loc, "bias must be [N], got ", shapeText(biasShape));
  }
  if (Value residual = adaptor.getResidual()) {
    ArrayRef<int64_t> residualShape = tensorOf(residual).getShape();
    if (!broadcastsTo(residualShape, shape))
      return emitOptionalError(loc, "residual of shape ", shapeText(residualShape),
                               " does not broadcast to the result ", shapeText(shape));
  }
  StringRef activation = adaptor.getActivation();
  if (!llvm::is_contained({"none", "relu", "gelu", "gelu_tanh"}, activation))
    return emitOptionalError(loc, "unknown activation \"", activation,
                             "\" (none, relu, gelu, gelu_tanh)");
  if (!isa<FloatType>(*resultElement) && activation != "none" &&
      activation != "relu")
    return emitOptionalError(loc, "activation \"", activation,
                             "\" needs a float result, got ", *resultElement);
  results.push_back(RankedTensorType::get(shape, *resultElement));
  return success();
}

/// The scale and zero point of a (de)quantization of `input` along `axis`:
/// 0-D, or 1-D with the size of that dim, or with `blockSize` > 0 the
/// input's shape with ceil(D / blockSize) along `axis`; the zero point of
/// `zeroType`.
static LogicalResult verifyQuantizationParameters(std::optional<Location> loc,
                                                  RankedTensorType input,
                                                  Value scale, Value zero,
                                                  int64_t axis, Type zeroType,
                                                  int64_t blockSize = 0) {
  RankedTensorType scaleType = tensorOf(scale);
  if (blockSize < 0)
    return emitOptionalError(loc, "block_size must not be negative, got ",
                             blockSize);
  if (blockSize > 0) {
    int64_t rank = input.getRank();
    if (axis < -rank || axis >= rank)
      return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                               rank);
    int64_t blockedAxis = axis < 0 ? axis + rank : axis;
    if (!scaleType.getElementType().isF32() || scaleType.getRank() != rank)
      return emitOptionalError(loc, "a blocked scale must be an f32 tensor of "
                               "the input's rank ", rank, ", got ", scaleType);
    for (int64_t d = 0; d < rank; ++d) {
      int64_t size = input.getDimSize(d);
      // ceil(size / blockSize) without overflow.
      if (d == blockedAxis && !ShapedType::isDynamic(size))
        size = size / blockSize + (size % blockSize != 0);
      if (failed(mergeDims(loc, scaleType.getDimSize(d), size,
                           d == blockedAxis ? "the blocked scale and the input's blocks"
                                            : "the blocked scale and the input")))
        return failure();
    }
  } else if (!scaleType.getElementType().isF32() || scaleType.getRank() > 1) {
    return emitOptionalError(loc, "scale must be a 0-D or 1-D f32 tensor, got ",
                             scaleType);
  }
  if (blockSize == 0 && scaleType.getRank() == 1) {
    int64_t rank = input.getRank();
    if (axis < -rank || axis >= rank)
      return emitOptionalError(loc, "axis ", axis, " is out of range for rank ",
                               rank);
    int64_t dim = input.getDimSize(axis < 0 ? axis + rank : axis);
    if (failed(mergeDims(loc, scaleType.getDimSize(0), dim,
                         "the per-axis scale and the input's axis")))
      return failure();
  }
  if (zero) {
    RankedTensorType zeroTensor = tensorOf(zero);
    if (zeroTensor.getElementType() != zeroType ||
        zeroTensor.getShape() != scaleType.getShape())
      return emitOptionalError(loc, "zero_point must be ", zeroType,
                               " of the scale's shape, got ", zeroTensor);
  }
  return success();
}

static bool isQuantizedIntegerType(Type type, bool allowI32) {
  auto integer = dyn_cast<IntegerType>(type);
  if (!integer)
    return false;
  unsigned width = integer.getWidth();
  if (width == 32)
    return allowI32 && !integer.isUnsigned();
  return width == 8 || width == 16;
}

LogicalResult QuantizeLinearOp::inferReturnTypes(MLIRContext *ctx,
                                                 std::optional<Location> loc,
                                                 Adaptor adaptor,
                                                 SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType input = tensorOf(adaptor.getInput());
  Type to = adaptor.getTo();
  if (!isa<FloatType>(input.getElementType()))
    return emitOptionalError(loc, "expects a float input, got ", input);
  if (!isQuantizedIntegerType(to, /*allowI32=*/false))
    return emitOptionalError(loc, "quantizes to i8, ui8, i16 or ui16, not ", to);
  if (failed(verifyQuantizationParameters(loc, input, adaptor.getScale(),
                                          adaptor.getZeroPoint(),
                                          adaptor.getAxis(), to)))
    return failure();
  results.push_back(input.clone(to));
  return success();
}

LogicalResult DequantizeLinearOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType input = tensorOf(adaptor.getInput());
  if (!isQuantizedIntegerType(input.getElementType(), /*allowI32=*/true))
    return emitOptionalError(loc, "dequantizes i8, ui8, i16, ui16 or i32, not ",
                             input.getElementType());
  if (failed(verifyQuantizationParameters(loc, input, adaptor.getScale(),
                                          adaptor.getZeroPoint(),
                                          adaptor.getAxis(),
                                          input.getElementType(),
                                          // (Absent when built from an
                                          // attribute dictionary without it.)
                                          adaptor.getBlockSizeAttr()
                                              ? adaptor.getBlockSize()
                                              : 0)))
    return failure();
  results.push_back(input.clone(Float32Type::get(ctx)));
  return success();
}

LogicalResult DynamicQuantizeLinearOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  RankedTensorType input = tensorOf(adaptor.getInput());
  if (!input.getElementType().isF32())
    return emitOptionalError(loc, "expects an f32 input, got ", input);
  Type u8 = IntegerType::get(ctx, 8, IntegerType::Unsigned);
  results.push_back(input.clone(u8));
  results.push_back(RankedTensorType::get({}, Float32Type::get(ctx)));
  results.push_back(RankedTensorType::get({}, u8));
  return success();
}

LogicalResult QuantizedLinearOp::inferReturnTypes(MLIRContext *ctx,
                                                  std::optional<Location> loc,
                                                  Adaptor adaptor,
                                                  SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType input = tensorOf(adaptor.getInput());
  RankedTensorType weight = tensorOf(adaptor.getWeight());
  Type element = input.getElementType();
  if (!isa<FloatType>(element))
    return emitOptionalError(loc, "expects a float input, got ", input);
  if (!weight.getElementType().isInteger(8) || weight.getRank() != 2)
    return emitOptionalError(loc, "expects an i8 or ui8 [K, N] weight, got ",
                             weight);
  if (input.getRank() < 1)
    return emitOptionalError(loc, "expects an input of rank >= 1");
  if (failed(mergeDims(loc, input.getShape().back(), weight.getDimSize(0),
                       "contracting dims")))
    return failure();
  SmallVector<int64_t> shape(input.getShape());
  shape.back() = weight.getDimSize(1);
  // Per-channel parameters: [N] or [1].
  auto perChannel = [&](Value value, Type want, StringRef what) -> LogicalResult {
    RankedTensorType type = tensorOf(value);
    if (type.getElementType() != want || type.getRank() != 1 ||
        (type.getDimSize(0) != 1 && type.getDimSize(0) != shape.back()))
      return emitOptionalError(loc, what, " must be ", want, " [N] or [1], got ",
                               type);
    return success();
  };
  // Group-wise ones: [K / G, N], G a whole number of rows.
  RankedTensorType scaleType = tensorOf(adaptor.getWeightScale());
  const bool groupWise = scaleType.getRank() == 2;
  StringRef mode = adaptor.getInputQuantization();
  if (groupWise) {
    int64_t groups = scaleType.getDimSize(0), depth = weight.getDimSize(0);
    if (!scaleType.getElementType().isF32() ||
        scaleType.getDimSize(1) != weight.getDimSize(1) ||
        ShapedType::isDynamic(groups) || ShapedType::isDynamic(depth) ||
        groups < 1 || depth % groups != 0)
      return emitOptionalError(loc, "group-wise weight_scale must be f32 "
                               "[K / G, N] with G dividing K = ",
                               depth, ", got ", scaleType);
    if (mode != "none")
      return emitOptionalError(loc, "group-wise weight scales need "
                               "input_quantization \"none\"");
    if (Value zero = adaptor.getWeightZeroPoint()) {
      RankedTensorType zeroType = tensorOf(zero);
      if (zeroType.getElementType() != weight.getElementType() ||
          zeroType.getShape() != scaleType.getShape())
        return emitOptionalError(loc, "weight_zero_point must be ",
                                 weight.getElementType(), " of weight_scale's "
                                 "shape, got ", zeroType);
    }
  } else {
    if (failed(perChannel(adaptor.getWeightScale(), Float32Type::get(ctx),
                          "weight_scale")))
      return failure();
    if (Value zero = adaptor.getWeightZeroPoint())
      if (failed(perChannel(zero, weight.getElementType(), "weight_zero_point")))
        return failure();
  }
  int64_t bits = adaptor.getWeightBits();
  if (bits != 4 && bits != 8)
    return emitOptionalError(loc, "weight_bits must be 4 or 8, got ", bits);
  if (Value bias = adaptor.getBias())
    if (failed(perChannel(bias, element, "bias")) ||
        tensorOf(bias).getDimSize(0) != shape.back())
      return emitOptionalError(loc, "bias must be [N]");
  if (Value residual = adaptor.getResidual()) {
    RankedTensorType type = tensorOf(residual);
    if (type.getElementType() != element || !broadcastsTo(type.getShape(), shape))
      return emitOptionalError(loc, "residual ", type,
                               " does not broadcast to the result ",
                               shapeText(shape));
  }
  if (!llvm::is_contained({"row", "tensor", "static", "none"}, mode))
    return emitOptionalError(loc, "unknown input_quantization \"", mode,
                             "\" (row, tensor, static, none)");
  Value inputScale = adaptor.getInputScale(), inputZero = adaptor.getInputZeroPoint();
  if ((mode == "static") != bool(inputScale))
    return emitOptionalError(loc, "input_scale is given exactly when "
                             "input_quantization is \"static\"");
  if (inputZero && !inputScale)
    return emitOptionalError(loc, "input_zero_point needs input_scale");
  if (inputScale && (tensorOf(inputScale).getRank() != 0 ||
                     !tensorOf(inputScale).getElementType().isF32()))
    return emitOptionalError(loc, "input_scale must be a 0-D f32 tensor");
  if (inputZero && (tensorOf(inputZero).getRank() != 0 ||
                    !tensorOf(inputZero).getElementType().isInteger(8)))
    return emitOptionalError(loc, "input_zero_point must be a 0-D i8 or ui8 tensor");
  StringRef activation = adaptor.getActivation();
  if (!llvm::is_contained({"none", "relu", "gelu", "gelu_tanh"}, activation))
    return emitOptionalError(loc, "unknown activation \"", activation,
                             "\" (none, relu, gelu, gelu_tanh)");
  results.push_back(RankedTensorType::get(shape, element));
  return success();
}

LogicalResult GemmOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)) ||
      failed(verifySameElementType(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType aType = tensorOf(adaptor.getA());
  RankedTensorType bType = tensorOf(adaptor.getB());
  if (aType.getRank() != 2 || bType.getRank() != 2)
    return emitOptionalError(loc, "operands a and b must be 2-D, got ",
                             shapeText(aType.getShape()), " and ",
                             shapeText(bType.getShape()));
  int64_t m = aType.getDimSize(adaptor.getTransA() ? 1 : 0);
  int64_t aK = aType.getDimSize(adaptor.getTransA() ? 0 : 1);
  int64_t bK = bType.getDimSize(adaptor.getTransB() ? 1 : 0);
  int64_t n = bType.getDimSize(adaptor.getTransB() ? 0 : 1);
  if (!ShapedType::isDynamic(aK) && !ShapedType::isDynamic(bK) && aK != bK)
    return emitOptionalError(loc, "contracting dims differ: ", aK, " vs ", bK);
  SmallVector<int64_t> shape = {m, n};
  if (Value c = adaptor.getC()) {
    ArrayRef<int64_t> cShape = tensorOf(c).getShape();
    if (!broadcastsTo(cShape, shape))
      return emitOptionalError(loc, "c of shape ", shapeText(cShape),
                               " does not broadcast to the result ",
                               shapeText(shape));
  }
  results.push_back(RankedTensorType::get(shape, aType.getElementType()));
  return success();
}

LogicalResult ConvOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)) ||
      failed(verifySameElementType(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType inputType = tensorOf(adaptor.getInput());
  RankedTensorType weightType = tensorOf(adaptor.getWeight());
  int64_t rank = inputType.getRank();
  if (rank < 3 || weightType.getRank() != rank)
    return emitOptionalError(loc, "input and weight must have the same rank "
                                  ">= 3, got ",
                             shapeText(inputType.getShape()), " and ",
                             shapeText(weightType.getShape()));
  size_t spatial = rank - 2;
  ArrayRef<int64_t> strides = adaptor.getStrides(),
                    pads = adaptor.getPads(),
                    dilations = adaptor.getDilations();
  if (strides.size() != spatial || dilations.size() != spatial ||
      pads.size() != 2 * spatial)
    return emitOptionalError(loc, "expects ", spatial, " strides, ", spatial,
                             " dilations and ", 2 * spatial, " pads");
  if (llvm::any_of(strides, [](int64_t s) { return s < 1; }) ||
      llvm::any_of(dilations, [](int64_t d) { return d < 1; }) ||
      llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return emitOptionalError(loc, "strides and dilations must be positive, "
                                  "pads non-negative");
  int64_t group = adaptor.getGroup();
  int64_t channels = inputType.getDimSize(1);
  int64_t filters = weightType.getDimSize(0);
  int64_t perGroup = weightType.getDimSize(1);
  if (group < 1)
    return emitOptionalError(loc, "group must be positive, got ", group);
  int64_t groupedChannels;
  if (!ShapedType::isDynamic(channels) && !ShapedType::isDynamic(perGroup) &&
      (llvm::MulOverflow(perGroup, group, groupedChannels) ||
       channels != groupedChannels))
    return emitOptionalError(loc, "input has ", channels,
                             " channels but weight expects ", perGroup, " x ",
                             group, " groups");
  if (!ShapedType::isDynamic(filters) && filters % group != 0)
    return emitOptionalError(loc, "filter count ", filters,
                             " is not a multiple of group ", group);
  if (Value bias = adaptor.getBias()) {
    ArrayRef<int64_t> biasShape = tensorOf(bias).getShape();
    if (biasShape.size() != 1 ||
        failed(verifyCompatibleShape(biasShape, ArrayRef<int64_t>{filters})))
      return emitOptionalError(loc, "bias must be [", filters, "], got ",
                               shapeText(biasShape));
  }
  SmallVector<int64_t> shape = {inputType.getDimSize(0), filters};
  for (size_t i = 0; i < spatial; ++i) {
    int64_t in = inputType.getDimSize(i + 2);
    int64_t kernel = weightType.getDimSize(i + 2);
    if (ShapedType::isDynamic(in) || ShapedType::isDynamic(kernel)) {
      shape.push_back(kDynamic);
      continue;
    }
    // in + pads - dilation * (kernel - 1) - 1, with pads and dilations from
    // the model: any of them may be huge.
    int64_t padded, reach, extent;
    if (llvm::AddOverflow(in, pads[i], padded) ||
        llvm::AddOverflow(padded, pads[i + spatial], padded) ||
        llvm::MulOverflow(dilations[i], std::max<int64_t>(kernel - 1, 0), reach) ||
        llvm::SubOverflow(padded, reach, extent) || --extent < 0)
      return emitOptionalError(loc, "kernel of size ", kernel,
                               " does not fit spatial dim ", i, " of size ", in);
    shape.push_back(extent / strides[i] + 1);
  }
  if (failed(checkResultSize(loc, shape)))
    return failure();
  results.push_back(RankedTensorType::get(shape, inputType.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Normalization and reductions
//===----------------------------------------------------------------------===//

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType type = tensorOf(adaptor.getInput());
  if (failed(checkAxis(loc, adaptor.getAxis(), type.getRank())))
    return failure();
  return inferUnary(loc, adaptor.getInput(), ElementKind::Float, results);
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)) ||
      failed(verifySameElementType(loc, adaptor.getOperands())) ||
      failed(verifyNormalizationParams(loc, tensorOf(adaptor.getInput()),
                                       adaptor.getAxis(),
                                       {adaptor.getScale(), adaptor.getBias()})))
    return failure();
  return inferUnary(loc, adaptor.getInput(), ElementKind::Float, results);
}

/// The axis of a normalization of `type` is in range, and its scale and bias
/// (when present) broadcast to the normalized dims [axis, rank).
static LogicalResult verifyNormalizationParams(std::optional<Location> loc,
                                               RankedTensorType type,
                                               int64_t axisAttr,
                                               ArrayRef<Value> params) {
  FailureOr<int64_t> axis = checkAxis(loc, axisAttr, type.getRank());
  if (failed(axis))
    return failure();
  ArrayRef<int64_t> normalized = type.getShape().drop_front(*axis);
  for (Value param : params) {
    if (!param)
      continue;
    ArrayRef<int64_t> paramShape = tensorOf(param).getShape();
    if (!broadcastsTo(paramShape, normalized))
      return emitOptionalError(loc, "scale/bias of shape ", shapeText(paramShape),
                               " does not broadcast to the normalized dims ",
                               shapeText(normalized));
  }
  return success();
}

LogicalResult AddLayerNormOp::inferReturnTypes(MLIRContext *ctx,
                                               std::optional<Location> loc,
                                               Adaptor adaptor,
                                               SmallVectorImpl<Type> &results) {
  RankedTensorType input = tensorOf(adaptor.getInput());
  RankedTensorType skip = tensorOf(adaptor.getSkip());
  if (!broadcastsTo(skip.getShape(), input.getShape()))
    return emitOptionalError(loc, "skip of shape ", shapeText(skip.getShape()),
                             " does not broadcast to the input's ",
                             shapeText(input.getShape()));
  if (failed(verifyAttributes(ctx, loc, adaptor)) ||
      failed(verifySameElementType(loc, adaptor.getOperands())) ||
      failed(verifyNormalizationParams(loc, input, adaptor.getAxis(),
                                       {adaptor.getScale(), adaptor.getBias()})))
    return failure();
  return inferUnary(loc, adaptor.getInput(), ElementKind::Float, results);
}

LogicalResult RmsNormOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)) ||
      failed(verifySameElementType(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType type = tensorOf(adaptor.getInput());
  FailureOr<int64_t> axis = checkAxis(loc, adaptor.getAxis(), type.getRank());
  if (failed(axis))
    return failure();
  ArrayRef<int64_t> normalized = type.getShape().drop_front(*axis);
  ArrayRef<int64_t> scaleShape = tensorOf(adaptor.getScale()).getShape();
  if (!broadcastsTo(scaleShape, normalized))
    return emitOptionalError(loc, "scale of shape ", shapeText(scaleShape),
                             " does not broadcast to the normalized dims ",
                             shapeText(normalized));
  return inferUnary(loc, adaptor.getInput(), ElementKind::Float, results);
}

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

/// Two dims that must be equal: the static one when only one is known.
static FailureOr<int64_t> mergeDims(std::optional<Location> loc, int64_t a,
                                    int64_t b, StringRef what) {
  if (ShapedType::isDynamic(a))
    return b;
  if (!ShapedType::isDynamic(b) && a != b)
    return emitOptionalError(loc, what, " differ: ", a, " vs ", b);
  return a;
}

/// One operand's [B, L, heads, d] from its type: token-major (rank 3, with
/// `heads` given, or derived from `headDim`) or head-major (rank 4).
static LogicalResult readAttentionOperand(std::optional<Location> loc,
                                          RankedTensorType type, StringRef role,
                                          int64_t &heads, int64_t &headDim,
                                          int64_t &batch, int64_t &length) {
  batch = type.getDimSize(0);
  if (type.getRank() == 4) {
    if (type.isDynamicDim(1) || type.isDynamicDim(3))
      return emitOptionalError(loc, role,
                               " is head-major [B, heads, L, d] with dynamic "
                               "heads or d: ", shapeText(type.getShape()));
    if (heads > 0 && type.getDimSize(1) != heads)
      return emitOptionalError(loc, role, " has ", type.getDimSize(1),
                               " heads, expected ", heads);
    if (!ShapedType::isDynamic(headDim) && headDim > 0 &&
        type.getDimSize(3) != headDim)
      return emitOptionalError(loc, role, " head dim ", type.getDimSize(3),
                               " differs from ", headDim);
    heads = type.getDimSize(1);
    headDim = type.getDimSize(3);
    length = type.getDimSize(2);
    return success();
  }
  if (type.getRank() != 3)
    return emitOptionalError(loc, role,
                             " must be [B, L, heads * d] or [B, heads, L, d], "
                             "got ", shapeText(type.getShape()));
  length = type.getDimSize(1);
  int64_t hidden = type.getDimSize(2);
  if (ShapedType::isDynamic(hidden))
    return success(); // heads and headDim stay as given
  if (heads <= 0) {
    // The heads of a token-major k: its hidden size over q's head dim, or
    // q's heads when that is not known.
    if (ShapedType::isDynamic(headDim))
      return emitOptionalError(loc, role, "'s heads are unknown");
    if (hidden % headDim != 0)
      return emitOptionalError(loc, role, " hidden size ", hidden,
                               " is not a multiple of the head dim ", headDim);
    heads = hidden / headDim;
    return success();
  }
  if (hidden % heads != 0)
    return emitOptionalError(loc, "hidden size ", hidden,
                             " is not a multiple of num_heads ", heads);
  int64_t dim = hidden / heads;
  if (!ShapedType::isDynamic(headDim) && headDim > 0 && dim != headDim)
    return emitOptionalError(loc, role, " head dim ", dim, " differs from ",
                             headDim);
  headDim = dim;
  return success();
}

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)) ||
      failed(verifySameElementType(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType q = tensorOf(adaptor.getQuery());
  RankedTensorType k = tensorOf(adaptor.getKey());
  RankedTensorType v = tensorOf(adaptor.getValue());
  if (!isa<FloatType>(q.getElementType()))
    return emitOptionalError(loc, "expects floating-point tensors, got ", q);
  // (Absent while a builder infers the type before defaults are set.)
  StringRef precision =
      adaptor.getPrecisionAttr() ? adaptor.getPrecisionAttr().getValue() : "f32";
  if (precision != "f32" && precision != "bf16")
    return emitOptionalError(loc, "unknown precision \"", precision,
                             "\" (f32, bf16)");
  if (precision == "bf16" && !q.getElementType().isF32())
    return emitOptionalError(loc, "precision \"bf16\" needs f32 tensors, got ",
                             q);
  int64_t heads = static_cast<int64_t>(adaptor.getNumHeads());
  if (heads <= 0)
    return emitOptionalError(loc, "num_heads must be positive, got ", heads);
  int64_t qHeads = heads, keyDim = ShapedType::kDynamic;
  int64_t qBatch, kBatch, vBatch, qLength, kLength, vLength;
  if (failed(readAttentionOperand(loc, q, "query", qHeads, keyDim, qBatch,
                                  qLength)))
    return failure();
  // A token-major k whose head dim is unknown has q's heads.
  int64_t kvHeads = k.getRank() == 3 && ShapedType::isDynamic(keyDim) ? heads : 0;
  if (failed(readAttentionOperand(loc, k, "key", kvHeads, keyDim, kBatch,
                                  kLength)))
    return failure();
  if (kvHeads <= 0)
    kvHeads = heads;
  if (heads % kvHeads != 0)
    return emitOptionalError(loc, "num_heads ", heads,
                             " is not a multiple of the key's ", kvHeads,
                             " heads");
  int64_t valueHeads = kvHeads, valueDim = ShapedType::kDynamic;
  if (failed(readAttentionOperand(loc, v, "value", valueHeads, valueDim,
                                  vBatch, vLength)))
    return failure();
  FailureOr<int64_t> batch = mergeDims(loc, qBatch, kBatch, "query and key batch");
  if (succeeded(batch))
    batch = mergeDims(loc, *batch, vBatch, "key and value batch");
  FailureOr<int64_t> keyLength =
      mergeDims(loc, kLength, vLength, "key and value sequence lengths");
  if (failed(batch) || failed(keyLength))
    return failure();
  if (Value mask = adaptor.getMask()) {
    ArrayRef<int64_t> maskShape = tensorOf(mask).getShape();
    SmallVector<int64_t> scores = {*batch, heads, qLength, *keyLength};
    if (!broadcastsTo(maskShape, scores))
      return emitOptionalError(loc, "mask of shape ", shapeText(maskShape),
                               " does not broadcast to the scores ",
                               shapeText(scores));
  }
  int64_t outHidden = ShapedType::isDynamic(valueDim) ? ShapedType::kDynamic
                                                       : heads * valueDim;
  results.push_back(RankedTensorType::get({*batch, qLength, outHidden},
                                          q.getElementType()));
  return success();
}

LogicalResult LinearAttentionOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)) ||
      failed(verifySameElementType(loc, adaptor.getOperands())))
    return failure();
  RankedTensorType q = tensorOf(adaptor.getQuery());
  RankedTensorType k = tensorOf(adaptor.getKey());
  RankedTensorType v = tensorOf(adaptor.getValue());
  if (!isa<FloatType>(q.getElementType()))
    return emitOptionalError(loc, "expects floating-point tensors, got ", q);
  for (auto [type, role] : {std::pair{q, "query"}, {k, "key"}, {v, "value"}})
    if (type.getRank() != 4 || type.isDynamicDim(2) || type.isDynamicDim(3))
      return emitOptionalError(loc, role,
                               " must be [B, L, heads, d] with static heads "
                               "and d, got ",
                               shapeText(type.getShape()));
  // (Absent while a builder infers the type before defaults are set.)
  StringRef featureMap = adaptor.getFeatureMapAttr()
                             ? adaptor.getFeatureMapAttr().getValue()
                             : "none";
  if (featureMap != "none" && featureMap != "elu_plus_one" &&
      featureMap != "relu" && featureMap != "exp")
    return emitOptionalError(loc, "unknown feature_map \"", featureMap,
                             "\" (none, elu_plus_one, relu, exp)");
  int64_t heads = q.getDimSize(2);
  if (k.getDimSize(2) != heads || v.getDimSize(2) != heads)
    return emitOptionalError(loc, "query, key and value heads differ: ", heads,
                             ", ", k.getDimSize(2), ", ", v.getDimSize(2));
  if (k.getDimSize(3) != q.getDimSize(3))
    return emitOptionalError(loc, "query and key head dims differ: ",
                             q.getDimSize(3), " vs ", k.getDimSize(3));
  FailureOr<int64_t> batch =
      mergeDims(loc, q.getDimSize(0), k.getDimSize(0), "query and key batch");
  if (succeeded(batch))
    batch = mergeDims(loc, *batch, v.getDimSize(0), "key and value batch");
  if (failed(batch) ||
      failed(mergeDims(loc, k.getDimSize(1), v.getDimSize(1),
                       "key and value sequence lengths")))
    return failure();
  bool causal = adaptor.getCausalAttr() && adaptor.getCausalAttr().getValue();
  if (causal && !q.isDynamicDim(1) && !k.isDynamicDim(1) &&
      q.getDimSize(1) > k.getDimSize(1))
    return emitOptionalError(loc, "causal with more queries (", q.getDimSize(1),
                             ") than keys (", k.getDimSize(1), ")");
  if (Value decay = adaptor.getDecay()) {
    if (!causal)
      return emitOptionalError(loc, "decay needs causal");
    RankedTensorType decayType = tensorOf(decay);
    if (decayType.getRank() != 1 ||
        (!decayType.isDynamicDim(0) && decayType.getDimSize(0) != heads))
      return emitOptionalError(loc, "decay must be [", heads, "], got ",
                               shapeText(decayType.getShape()));
  }
  if (auto epsilon = adaptor.getEpsilonAttr())
    if (!(epsilon.getValueAsDouble() >= 0.0))
      return emitOptionalError(loc, "epsilon must be >= 0, got ",
                               epsilon.getValueAsDouble());
  int64_t window = adaptor.getWindowAttr() ? adaptor.getWindowAttr().getInt() : 0;
  int64_t windowDim =
      adaptor.getWindowDimAttr() ? adaptor.getWindowDimAttr().getInt() : 0;
  if (window < 0 || window > kMaxLinearAttentionWindow)
    return emitOptionalError(loc, "window must be 0 to ",
                             kMaxLinearAttentionWindow, ", got ", window);
  if (window == 0 && windowDim != 0)
    return emitOptionalError(loc, "window_dim without a window");
  if (window > 0) {
    if (windowDim < 1 || windowDim >= q.getDimSize(3))
      return emitOptionalError(
          loc, "window_dim must leave features of the head dim ",
          q.getDimSize(3), ", got ", windowDim);
    if (adaptor.getDecay())
      return emitOptionalError(loc, "a window with decay");
  }
  results.push_back(RankedTensorType::get(
      {*batch, q.getDimSize(1), heads, v.getDimSize(3)}, q.getElementType()));
  return success();
}

template <typename Adaptor>
static LogicalResult inferReduction(MLIRContext *ctx,
                                    std::optional<Location> loc,
                                    Adaptor adaptor,
                                    SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType type = tensorOf(adaptor.getInput());
  FailureOr<SmallVector<int64_t>> axes =
      normalizeAxes(loc, adaptor.getAxes(), type.getRank());
  if (failed(axes))
    return failure();
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    bool reduced = axes->empty() || llvm::is_contained(*axes, i);
    if (!reduced)
      shape.push_back(type.getDimSize(i));
    else if (adaptor.getKeepdims())
      shape.push_back(1);
  }
  results.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

#define TFM_INFER_REDUCTION(OpClass)                                           \
  LogicalResult OpClass::inferReturnTypes(                                     \
      MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,          \
      SmallVectorImpl<Type> &results) {                                        \
    return inferReduction(ctx, loc, adaptor, results);                         \
  }
TFM_INFER_REDUCTION(ReduceMeanOp)
TFM_INFER_REDUCTION(ReduceSumOp)
TFM_INFER_REDUCTION(ReduceMaxOp)
TFM_INFER_REDUCTION(ReduceMinOp)
TFM_INFER_REDUCTION(ReduceProdOp)

template <typename Adaptor>
static LogicalResult inferArgReduction(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType type = tensorOf(adaptor.getInput());
  if (type.getElementType().isInteger(1))
    return emitOptionalError(loc, "expects a numeric tensor, got ", type);
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= type.getRank())
    return emitOptionalError(loc, "axis ", axis,
                             " is out of range for rank ", type.getRank());
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    if (i != axis)
      shape.push_back(type.getDimSize(i));
    else if (adaptor.getKeepdims())
      shape.push_back(1);
  }
  results.push_back(RankedTensorType::get(shape, IntegerType::get(ctx, 64)));
  return success();
}

LogicalResult ArgMaxOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  return inferArgReduction(ctx, loc, adaptor, results);
}

LogicalResult ArgMinOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  return inferArgReduction(ctx, loc, adaptor, results);
}

LogicalResult CumSumOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType type = tensorOf(adaptor.getInput());
  Type element = type.getElementType();
  if (!isa<FloatType>(element) &&
      !(isa<IntegerType>(element) && !element.isInteger(1)))
    return emitOptionalError(loc, "expects a float or integer tensor, got ",
                             adaptor.getInput().getType());
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= type.getRank())
    return emitOptionalError(loc, "axis ", axis,
                             " is out of range for rank ", type.getRank());
  results.push_back(type);
  return success();
}
#undef TFM_INFER_REDUCTION

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType type = tensorOf(adaptor.getInput());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if ((int64_t)perm.size() != type.getRank())
    return emitOptionalError(loc, "perm has ", perm.size(),
                             " entries for a tensor of rank ", type.getRank());
  SmallVector<bool> used(perm.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= type.getRank() || used[p])
      return emitOptionalError(loc, "perm is not a permutation of [0, ",
                               type.getRank(), ")");
    used[p] = true;
    shape.push_back(type.getDimSize(p));
  }
  results.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

/// The length of a 1-D shape operand, or failure with a diagnostic.
static FailureOr<int64_t> getShapeOperandLength(std::optional<Location> loc,
                                                Value shape) {
  RankedTensorType type = tensorOf(shape);
  if (type.getRank() != 1 || type.isDynamicDim(0))
    return emitOptionalError(loc, "shape operand must be a 1-D tensor of "
                                  "static length, got ",
                             shape.getType());
  return type.getDimSize(0);
}

std::optional<SmallVector<int64_t>> mlir::tfm::getKnownIntValues(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getRank() > 1 || !type.hasStaticShape())
    return std::nullopt;
  if (FailureOr<SmallVector<int64_t>> constant = getConstantIntValues(value);
      succeeded(constant))
    return *constant;
  Operation *def = value.getDefiningOp();
  if (auto shape = dyn_cast_or_null<ShapeOp>(def)) {
    ArrayRef<int64_t> dims = tensorOf(shape.getInput()).getShape();
    return SmallVector<int64_t>(dims.slice(shape.getStart(),
                                           shape.getEnd() - shape.getStart()));
  }
  if (auto concat = dyn_cast_or_null<ConcatOp>(def)) {
    SmallVector<int64_t> values;
    for (Value piece : concat.getInputs()) {
      std::optional<SmallVector<int64_t>> known = getKnownIntValues(piece);
      if (!known)
        return std::nullopt;
      llvm::append_range(values, *known);
    }
    return values;
  }
  if (isa_and_nonnull<UnsqueezeOp, SqueezeOp, ReshapeOp>(def))
    return getKnownIntValues(def->getOperand(0));
  if (auto gather = dyn_cast_or_null<GatherOp>(def)) {
    std::optional<SmallVector<int64_t>> data =
        getKnownIntValues(gather.getInput());
    FailureOr<SmallVector<int64_t>> indices =
        getConstantIntValues(gather.getIndices());
    if (data && succeeded(indices)) {
      SmallVector<int64_t> values;
      int64_t size = data->size();
      for (int64_t index : *indices) {
        if (index < -size || index >= size)
          return std::nullopt;
        values.push_back((*data)[index < 0 ? index + size : index]);
      }
      return values;
    }
  }
  return SmallVector<int64_t>(type.getNumElements(), kDynamic);
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType type = tensorOf(adaptor.getInput());
  FailureOr<int64_t> rank = getShapeOperandLength(loc, adaptor.getShape());
  if (failed(rank))
    return failure();
  std::optional<SmallVector<int64_t>> requested =
      getKnownIntValues(adaptor.getShape());
  if (!requested || (int64_t)requested->size() != *rank)
    requested = SmallVector<int64_t>(*rank, kDynamic);
  SmallVector<int64_t> shape;
  int64_t inferredIndex = -1;
  for (auto [i, dim] : llvm::enumerate(*requested)) {
    if (dim == 0 && !adaptor.getAllowZero()) {
      if ((int64_t)i >= type.getRank())
        return emitOptionalError(loc, "shape entry ", i,
                                 " is 0 (copy) but the input has rank ",
                                 type.getRank());
      shape.push_back(type.getDimSize(i));
    } else if (ShapedType::isDynamic(dim)) {
      shape.push_back(kDynamic);
    } else if (dim == -1) {
      if (inferredIndex >= 0)
        return emitOptionalError(loc, "shape has more than one -1 entry");
      inferredIndex = i;
      shape.push_back(kDynamic);
    } else if (dim < 0) {
      return emitOptionalError(loc, "shape entry ", i, " is ", dim);
    } else {
      shape.push_back(dim);
    }
  }
  if (failed(checkResultSize(loc, shape)))
    return failure();
  int64_t inputCount = productOrDynamic(type.getShape());
  if (inferredIndex >= 0) {
    SmallVector<int64_t> known(shape);
    known.erase(known.begin() + inferredIndex);
    int64_t knownCount = productOrDynamic(known);
    if (!ShapedType::isDynamic(inputCount) &&
        !ShapedType::isDynamic(knownCount) && knownCount != 0) {
      if (inputCount % knownCount != 0)
        return emitOptionalError(loc, "cannot reshape ",
                                 shapeText(type.getShape()), " to ",
                                 shapeText(*requested));
      shape[inferredIndex] = inputCount / knownCount;
    }
  }
  int64_t outputCount = productOrDynamic(shape);
  if (!ShapedType::isDynamic(inputCount) &&
      !ShapedType::isDynamic(outputCount) && inputCount != outputCount)
    return emitOptionalError(loc, "cannot reshape ", shapeText(type.getShape()),
                             " (", inputCount, " elements) to ",
                             shapeText(shape), " (", outputCount, " elements)");
  results.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType type = tensorOf(adaptor.getInput());
  FailureOr<int64_t> axis = checkAxis(loc, adaptor.getAxis(),
                                          type.getRank(), /*allowEnd=*/true);
  if (failed(axis))
    return failure();
  ArrayRef<int64_t> dims = type.getShape();
  results.push_back(RankedTensorType::get(
      {productOrDynamic(dims.take_front(*axis)),
       productOrDynamic(dims.drop_front(*axis))},
      type.getElementType()));
  return success();
}

LogicalResult SqueezeOp::inferReturnTypes(MLIRContext *ctx,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType type = tensorOf(adaptor.getInput());
  FailureOr<SmallVector<int64_t>> axes =
      normalizeAxes(loc, adaptor.getAxes(), type.getRank());
  if (failed(axes))
    return failure();
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    int64_t dim = type.getDimSize(i);
    if (!llvm::is_contained(*axes, i)) {
      shape.push_back(dim);
      continue;
    }
    if (dim != 1 && !ShapedType::isDynamic(dim))
      return emitOptionalError(loc, "cannot squeeze dim ", i, " of size ", dim);
  }
  results.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

LogicalResult UnsqueezeOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType type = tensorOf(adaptor.getInput());
  int64_t rank = type.getRank() + adaptor.getAxes().size();
  FailureOr<SmallVector<int64_t>> axes =
      normalizeAxes(loc, adaptor.getAxes(), rank);
  if (failed(axes))
    return failure();
  SmallVector<int64_t> shape;
  auto inputDims = type.getShape().begin();
  for (int64_t i = 0; i < rank; ++i)
    shape.push_back(llvm::is_contained(*axes, i) ? 1 : *inputDims++);
  results.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  ValueRange inputs = adaptor.getInputs();
  if (inputs.empty())
    return emitOptionalError(loc, "expects at least one operand");
  if (failed(verifySameElementType(loc, inputs)))
    return failure();
  RankedTensorType first = tensorOf(inputs.front());
  FailureOr<int64_t> axis =
      checkAxis(loc, adaptor.getAxis(), first.getRank());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(first.getShape());
  for (Value input : inputs.drop_front()) {
    RankedTensorType type = tensorOf(input);
    if (type.getRank() != first.getRank())
      return emitOptionalError(loc, "operands have different ranks: ",
                               shapeText(first.getShape()), " and ",
                               shapeText(type.getShape()));
    for (int64_t i = 0; i < type.getRank(); ++i) {
      int64_t dim = type.getDimSize(i);
      if (i == *axis) {
        if (ShapedType::isDynamic(shape[i]) || ShapedType::isDynamic(dim))
          shape[i] = kDynamic;
        else if (llvm::AddOverflow(shape[i], dim, shape[i]))
          return emitOptionalError(loc, "the concatenated dim is larger than "
                                        "2^63");
      } else if (ShapedType::isDynamic(shape[i])) {
        shape[i] = dim;
      } else if (!ShapedType::isDynamic(dim) && dim != shape[i]) {
        return emitOptionalError(loc, "operands differ in dim ", i,
                                 " (not the concat axis): ",
                                 shapeText(first.getShape()), " and ",
                                 shapeText(type.getShape()));
      }
    }
  }
  if (failed(checkResultSize(loc, shape)))
    return failure();
  results.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

LogicalResult SplitOp::inferReturnTypes(MLIRContext *ctx,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType type = tensorOf(adaptor.getInput());
  FailureOr<int64_t> axis =
      checkAxis(loc, adaptor.getAxis(), type.getRank());
  if (failed(axis))
    return failure();
  int64_t parts = adaptor.getNumOutputs();
  if (parts < 1)
    return emitOptionalError(loc, "num_outputs must be positive, got ", parts);
  int64_t dim = type.getDimSize(*axis);
  SmallVector<int64_t> sizes;
  if (std::optional<ArrayRef<int64_t>> given = adaptor.getSizes()) {
    if ((int64_t)given->size() != parts)
      return emitOptionalError(loc, "sizes has ", given->size(),
                               " entries for ", parts, " outputs");
    if (llvm::any_of(*given, [](int64_t s) { return s < 0; }))
      return emitOptionalError(loc, "sizes must be non-negative");
    int64_t total = 0;
    for (int64_t s : *given)
      if (llvm::AddOverflow(total, s, total))
        return emitOptionalError(loc, "sizes add up to more than 2^63");
    if (!ShapedType::isDynamic(dim) && total != dim)
      return emitOptionalError(loc, "sizes add up to ", total,
                               " but the split dim is ", dim);
    sizes.assign(given->begin(), given->end());
  } else if (ShapedType::isDynamic(dim)) {
    sizes.assign(parts, kDynamic);
  } else {
    // Opset-18 rule: equal parts of ceil(dim / parts), the last one smaller.
    int64_t chunk = llvm::divideCeil(dim, parts);
    for (int64_t i = 0, left = dim; i < parts; ++i, left -= std::min(chunk, left))
      sizes.push_back(std::min(chunk, left));
  }
  for (int64_t size : sizes) {
    SmallVector<int64_t> shape(type.getShape());
    shape[*axis] = size;
    results.push_back(RankedTensorType::get(shape, type.getElementType()));
  }
  return success();
}

/// The extent of `[start, end)` by `step` over a dim of static size `dim`,
/// with ONNX Slice's clamping of out-of-range and negative bounds.
static int64_t sliceExtent(int64_t dim, int64_t start, int64_t end,
                           int64_t step) {
  if (start < 0)
    start += dim;
  if (end < 0)
    end += dim;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    return end > start ? llvm::divideCeil(end - start, step) : 0;
  }
  start = std::clamp<int64_t>(start, 0, dim - 1);
  end = std::clamp<int64_t>(end, -1, dim - 1);
  // -INT64_MIN overflows; any step that large takes one element anyway.
  int64_t stride = step == INT64_MIN ? INT64_MAX : -step;
  return start > end ? llvm::divideCeil(start - end, stride) : 0;
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  RankedTensorType type = tensorOf(adaptor.getInput());
  int64_t rank = type.getRank();
  FailureOr<SmallVector<int64_t>> starts =
      getConstantIntValues(adaptor.getStarts());
  FailureOr<SmallVector<int64_t>> ends = getConstantIntValues(adaptor.getEnds());
  FailureOr<SmallVector<int64_t>> axes = getConstantIntValues(adaptor.getAxes());
  FailureOr<SmallVector<int64_t>> steps =
      getConstantIntValues(adaptor.getSteps());
  SmallVector<int64_t> shape(type.getShape());
  if (failed(axes)) {
    // Without the axes, any dim may be sliced.
    results.push_back(RankedTensorType::get(SmallVector<int64_t>(rank, kDynamic),
                                            type.getElementType()));
    return success();
  }
  FailureOr<SmallVector<int64_t>> normalized = normalizeAxes(loc, *axes, rank);
  if (failed(normalized))
    return failure();
  for (Value operand : {adaptor.getStarts(), adaptor.getEnds(),
                        adaptor.getSteps()}) {
    RankedTensorType operandType = tensorOf(operand);
    if (operandType.getRank() != 1 ||
        (!operandType.isDynamicDim(0) &&
         operandType.getDimSize(0) != (int64_t)axes->size()))
      return emitOptionalError(loc, "starts, ends and steps must be 1-D with ",
                               axes->size(), " entries, one per axis");
  }
  bool known = succeeded(starts) && succeeded(ends) && succeeded(steps);
  if (succeeded(steps) && llvm::is_contained(*steps, 0))
    return emitOptionalError(loc, "steps must be non-zero");
  for (auto [i, axis] : llvm::enumerate(*normalized)) {
    int64_t dim = type.getDimSize(axis);
    if (!known) {
      shape[axis] = kDynamic;
      continue;
    }
    int64_t start = (*starts)[i], end = (*ends)[i], step = (*steps)[i];
    // The whole dim, even when its size is not known: [0, INT_MAX) by 1.
    if (start == 0 && step == 1 && end >= std::numeric_limits<int32_t>::max())
      continue;
    shape[axis] =
        ShapedType::isDynamic(dim) ? kDynamic : sliceExtent(dim, start, end, step);
  }
  results.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

/// Gather's and GatherElements' indices are i32 or i64.
static LogicalResult verifyIndexElementType(std::optional<Location> loc,
                                            RankedTensorType indices) {
  if (indices.getElementType().isInteger(64) ||
      indices.getElementType().isInteger(32))
    return success();
  return emitOptionalError(loc, "indices must be i32 or i64, got ",
                           indices.getElementType());
}

LogicalResult GatherOp::inferReturnTypes(MLIRContext *ctx,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType type = tensorOf(adaptor.getInput());
  RankedTensorType indices = tensorOf(adaptor.getIndices());
  if (failed(verifyIndexElementType(loc, indices)))
    return failure();
  if (type.getRank() == 0)
    return emitOptionalError(loc, "input must have rank >= 1");
  FailureOr<int64_t> axis =
      checkAxis(loc, adaptor.getAxis(), type.getRank());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(type.getShape().take_front(*axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, type.getShape().drop_front(*axis + 1));
  results.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

LogicalResult GatherElementsOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType type = tensorOf(adaptor.getInput());
  RankedTensorType indices = tensorOf(adaptor.getIndices());
  if (failed(verifyIndexElementType(loc, indices)))
    return failure();
  if (type.getRank() == 0 || indices.getRank() != type.getRank())
    return emitOptionalError(loc, "indices must have the input's rank (>= 1), got ",
                             indices.getRank(), " for ", type.getRank());
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= type.getRank())
    return emitOptionalError(loc, "axis ", axis,
                             " is out of range for rank ", type.getRank());
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (i != axis && !type.isDynamicDim(i) && !indices.isDynamicDim(i) &&
        indices.getDimSize(i) > type.getDimSize(i))
      return emitOptionalError(loc, "the indices' dim ", i, " (",
                               indices.getDimSize(i), ") exceeds the input's (",
                               type.getDimSize(i), ")");
  results.push_back(indices.clone(type.getElementType()));
  return success();
}

/// A scatter's reduction and its updates' element type: the input's.
static LogicalResult verifyScatter(std::optional<Location> loc, StringRef reduction,
                                   RankedTensorType input, RankedTensorType indices,
                                   RankedTensorType updates) {
  if (reduction != "none" && reduction != "add" && reduction != "mul" &&
      reduction != "max" && reduction != "min")
    return emitOptionalError(loc, "reduction must be none, add, mul, max or "
                                  "min, got \"",
                             reduction, "\"");
  if (reduction != "none" && input.getElementType().isInteger(1))
    return emitOptionalError(loc, "reduction ", reduction,
                             " needs numbers, got booleans");
  if (failed(verifyIndexElementType(loc, indices)))
    return failure();
  if (updates.getElementType() != input.getElementType())
    return emitOptionalError(loc, "updates must have the input's element type, got ",
                             updates.getElementType(), " for ",
                             input.getElementType());
  return success();
}

LogicalResult ScatterElementsOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  RankedTensorType type = tensorOf(adaptor.getInput());
  RankedTensorType indices = tensorOf(adaptor.getIndices());
  RankedTensorType updates = tensorOf(adaptor.getUpdates());
  if (failed(verifyScatter(loc, adaptor.getReduction(), type, indices, updates)))
    return failure();
  int64_t rank = type.getRank();
  if (rank == 0 || indices.getRank() != rank || updates.getRank() != rank)
    return emitOptionalError(loc, "indices and updates must have the input's rank "
                                  "(>= 1), got ",
                             indices.getRank(), " and ", updates.getRank(),
                             " for ", rank);
  int64_t axis = adaptor.getAxis();
  if (axis < 0 || axis >= rank)
    return emitOptionalError(loc, "axis ", axis, " is out of range for rank ", rank);
  for (int64_t i = 0; i < rank; ++i) {
    if (failed(mergeDims(loc, indices.getDimSize(i), updates.getDimSize(i),
                         "indices and updates dims")))
      return failure();
    if (i != axis && !type.isDynamicDim(i) && !indices.isDynamicDim(i) &&
        indices.getDimSize(i) > type.getDimSize(i))
      return emitOptionalError(loc, "the indices' dim ", i, " (",
                               indices.getDimSize(i), ") exceeds the input's (",
                               type.getDimSize(i), ")");
  }
  results.push_back(type);
  return success();
}

LogicalResult ScatterNDOp::inferReturnTypes(MLIRContext *ctx,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  RankedTensorType type = tensorOf(adaptor.getInput());
  RankedTensorType indices = tensorOf(adaptor.getIndices());
  RankedTensorType updates = tensorOf(adaptor.getUpdates());
  if (failed(verifyScatter(loc, adaptor.getReduction(), type, indices, updates)))
    return failure();
  if (indices.getRank() == 0 || indices.isDynamicDim(indices.getRank() - 1))
    return emitOptionalError(loc, "indices must be [..., k] with a static k, got ",
                             shapeText(indices.getShape()));
  int64_t depth = indices.getShape().back();
  if (depth < 1 || depth > type.getRank())
    return emitOptionalError(loc, "indices rows of ", depth,
                             " entries do not index an input of rank ",
                             type.getRank());
  SmallVector<int64_t> expected(indices.getShape().drop_back());
  llvm::append_range(expected, type.getShape().drop_front(depth));
  if (updates.getRank() != (int64_t)expected.size())
    return emitOptionalError(loc, "updates must be ", shapeText(expected), ", got ",
                             shapeText(updates.getShape()));
  for (auto [want, got] : llvm::zip(expected, updates.getShape()))
    if (!ShapedType::isDynamic(want) && !ShapedType::isDynamic(got) && want != got)
      return emitOptionalError(loc, "updates must be ", shapeText(expected),
                               ", got ", shapeText(updates.getShape()));
  results.push_back(type);
  return success();
}

LogicalResult TopKOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  RankedTensorType type = tensorOf(adaptor.getInput());
  Type element = type.getElementType();
  if (!isa<FloatType>(element) && !(isa<IntegerType>(element) && !element.isInteger(1)))
    return emitOptionalError(loc, "expects a float or integer tensor, got ", element);
  FailureOr<int64_t> axis = checkAxis(loc, adaptor.getAxis(), type.getRank());
  if (failed(axis))
    return failure();
  RankedTensorType kType = tensorOf(adaptor.getK());
  if (!kType.hasStaticShape() || kType.getNumElements() != 1)
    return emitOptionalError(loc, "k must hold one element, got ", adaptor.getK().getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[*axis] = kDynamic;
  if (std::optional<SmallVector<int64_t>> k = getKnownIntValues(adaptor.getK());
      k && !ShapedType::isDynamic(k->front())) {
    int64_t count = k->front();
    if (count < 0)
      return emitOptionalError(loc, "k must not be negative, got ", count);
    if (!type.isDynamicDim(*axis) && count > type.getDimSize(*axis))
      return emitOptionalError(loc, "k (", count, ") exceeds the dim's ",
                               type.getDimSize(*axis), " elements");
    shape[*axis] = count;
  }
  results.push_back(RankedTensorType::get(shape, element));
  results.push_back(RankedTensorType::get(shape, IntegerType::get(ctx, 64)));
  return success();
}

LogicalResult CastOp::inferReturnTypes(MLIRContext *ctx,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  Type to = adaptor.getTo();
  if (!to.isIntOrFloat())
    return emitOptionalError(loc, "cannot cast to ", to);
  results.push_back(tensorOf(adaptor.getInput()).clone(to));
  return success();
}

LogicalResult WhereOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  if (!tensorOf(adaptor.getCondition()).getElementType().isInteger(1))
    return emitOptionalError(loc, "condition must be a tensor of i1");
  if (failed(verifySameElementType(loc, {adaptor.getLhs(), adaptor.getRhs()})))
    return failure();
  return inferBroadcast(loc, adaptor.getOperands(),
                        tensorOf(adaptor.getLhs()).getElementType(), results);
}

LogicalResult ExpandOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  RankedTensorType type = tensorOf(adaptor.getInput());
  FailureOr<int64_t> length = getShapeOperandLength(loc, adaptor.getShape());
  if (failed(length))
    return failure();
  FailureOr<SmallVector<int64_t>> requested =
      getConstantIntValues(adaptor.getShape());
  SmallVector<int64_t> target;
  if (succeeded(requested)) {
    // A 1 in the requested shape keeps the input's dim, whatever it is.
    target = *requested;
    if (llvm::any_of(target, [](int64_t d) { return d < 0; }))
      return emitOptionalError(loc, "shape has a negative entry");
  } else {
    target.assign(*length, kDynamic);
  }
  FailureOr<SmallVector<int64_t>> shape =
      broadcastShapes(type.getShape(), target);
  if (failed(shape))
    return emitOptionalError(loc, "cannot expand ", shapeText(type.getShape()),
                             " to ", shapeText(target));
  if (failed(checkResultSize(loc, *shape)))
    return failure();
  if (failed(requested)) {
    // Unknown requested dims broadcast against the input: only an input dim
    // that is not 1 is known to survive.
    size_t offset = shape->size() - type.getRank();
    for (size_t i = 0; i < shape->size(); ++i) {
      int64_t in = i < offset ? 1 : type.getDimSize(i - offset);
      (*shape)[i] = (in != 1 && !ShapedType::isDynamic(in)) ? in : kDynamic;
    }
  }
  results.push_back(RankedTensorType::get(*shape, type.getElementType()));
  return success();
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  RankedTensorType type = tensorOf(adaptor.getInput());
  StringRef mode = adaptor.getMode();
  if (mode != "constant" && mode != "edge" && mode != "reflect" && mode != "wrap")
    return emitOptionalError(loc, "mode must be constant, edge, reflect or "
                                  "wrap, got \"", mode, "\"");
  int64_t rank = type.getRank();
  FailureOr<int64_t> length = getShapeOperandLength(loc, adaptor.getPads());
  if (failed(length))
    return failure();
  if (*length != 2 * rank)
    return emitOptionalError(loc, "pads must have 2 * rank = ", 2 * rank,
                             " entries, got ", *length);
  if (Value value = adaptor.getValue()) {
    RankedTensorType valueType = tensorOf(value);
    if (valueType.getNumElements() != 1 || valueType.getRank() > 1 ||
        valueType.getElementType() != type.getElementType())
      return emitOptionalError(loc, "value must be one element of the input's "
                                    "type, got ",
                               value.getType());
  }
  std::optional<SmallVector<int64_t>> pads = getKnownIntValues(adaptor.getPads());
  SmallVector<int64_t> shape(type.getShape());
  for (int64_t i = 0; i < rank; ++i) {
    int64_t before = pads ? (*pads)[i] : kDynamic;
    int64_t after = pads ? (*pads)[rank + i] : kDynamic;
    if (ShapedType::isDynamic(before) || ShapedType::isDynamic(after) ||
        ShapedType::isDynamic(shape[i])) {
      // Nothing added or removed keeps even a dynamic dim.
      if (before != 0 || after != 0)
        shape[i] = kDynamic;
      continue;
    }
    // Pads read from the model may be anything: sum them checked.
    int64_t padded;
    if (llvm::AddOverflow(shape[i], before, padded) ||
        llvm::AddOverflow(padded, after, padded))
      return emitOptionalError(loc, "the pads of dim ", i, " overflow");
    if (padded < 0)
      return emitOptionalError(loc, "pads ", before, " and ", after,
                               " remove more than dim ", i, "'s ", shape[i],
                               " elements");
    if (mode != "constant" && shape[i] == 0 && padded > 0)
      return emitOptionalError(loc, "dim ", i, " is empty; ", mode,
                               " padding has no element to repeat");
    shape[i] = padded;
  }
  if (failed(checkResultSize(loc, shape)))
    return failure();
  results.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

LogicalResult ResizeOp::inferReturnTypes(MLIRContext *, std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  RankedTensorType type = tensorOf(adaptor.getInput());
  StringRef mode = adaptor.getMode();
  if (mode != "nearest" && mode != "linear" && mode != "cubic")
    return emitOptionalError(loc, "mode must be nearest, linear or cubic, got \"",
                             mode, "\"");
  if (mode != "nearest" && !isa<FloatType>(type.getElementType()))
    return emitOptionalError(loc, mode, " interpolation needs floats, got ",
                             type.getElementType());
  StringRef coordinates = adaptor.getCoordinateMode();
  if (!llvm::is_contained({"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel",
                           "align_corners", "asymmetric"},
                          coordinates))
    return emitOptionalError(loc, "coordinate_mode \"", coordinates,
                             "\" is not one tfc implements");
  StringRef rounding = adaptor.getNearestMode();
  if (!llvm::is_contained({"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"},
                          rounding))
    return emitOptionalError(loc, "nearest_mode must be round_prefer_floor, "
                                  "round_prefer_ceil, floor or ceil, got \"",
                             rounding, "\"");
  int64_t rank = type.getRank();
  FailureOr<int64_t> length = getShapeOperandLength(loc, adaptor.getSizes());
  if (failed(length))
    return failure();
  RankedTensorType scales = tensorOf(adaptor.getScales());
  if (*length != rank || scales.getRank() != 1 || scales.getDimSize(0) != rank ||
      !scales.getElementType().isF32())
    return emitOptionalError(loc, "sizes and scales must have one entry per dim (",
                             rank, "), f32 scales, got ", adaptor.getSizes().getType(),
                             " and ", adaptor.getScales().getType());
  SmallVector<int64_t> shape(rank, kDynamic);
  if (std::optional<SmallVector<int64_t>> sizes = getKnownIntValues(adaptor.getSizes()))
    for (int64_t i = 0; i < rank; ++i) {
      if (ShapedType::isDynamic((*sizes)[i]))
        continue;
      if ((*sizes)[i] < 0)
        return emitOptionalError(loc, "size ", (*sizes)[i], " of dim ", i,
                                 " is negative");
      shape[i] = (*sizes)[i];
    }
  if (failed(checkResultSize(loc, shape)))
    return failure();
  results.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

LogicalResult TriluOp::inferReturnTypes(MLIRContext *ctx,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  RankedTensorType type = tensorOf(adaptor.getInput());
  if (type.getRank() < 2)
    return emitOptionalError(loc, "input must have rank >= 2");
  if (tensorOf(adaptor.getK()).getRank() != 0)
    return emitOptionalError(loc, "k must be a 0-D tensor");
  results.push_back(type);
  return success();
}

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

LogicalResult ShapeOp::inferReturnTypes(MLIRContext *ctx,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  int64_t rank = tensorOf(adaptor.getInput()).getRank();
  int64_t start = adaptor.getStart(), end = adaptor.getEnd();
  if (start < 0 || end > rank || start > end)
    return emitOptionalError(loc, "window [", start, ", ", end,
                             ") is not within the rank ", rank);
  results.push_back(
      RankedTensorType::get({end - start}, IntegerType::get(ctx, 64)));
  return success();
}

LogicalResult SequenceOffsetOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location>, Adaptor,
    SmallVectorImpl<Type> &results) {
  results.push_back(RankedTensorType::get({1}, IntegerType::get(ctx, 64)));
  return success();
}

LogicalResult ConstantOfShapeOp::inferReturnTypes(
    MLIRContext *ctx, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  if (failed(verifyAttributes(ctx, loc, adaptor)))
    return failure();
  ElementsAttr value = adaptor.getValue();
  if (value.getNumElements() != 1)
    return emitOptionalError(loc, "value must hold exactly one element");
  FailureOr<int64_t> rank = getShapeOperandLength(loc, adaptor.getShape());
  if (failed(rank))
    return failure();
  // Entries known without the shape being constant count too: the shape
  // of a ?x1x? mask gives a ?x1x? tensor, whose 1 then broadcasts.
  SmallVector<int64_t> shape(*rank, kDynamic);
  if (std::optional<SmallVector<int64_t>> dims =
          getKnownIntValues(adaptor.getShape());
      dims && (int64_t)dims->size() == *rank) {
    for (int64_t dim : *dims)
      if (!ShapedType::isDynamic(dim) && dim < 0)
        return emitOptionalError(loc, "shape has a negative entry");
    shape = *dims;
    if (failed(checkResultSize(loc, shape)))
      return failure();
  }
  results.push_back(RankedTensorType::get(shape, value.getElementType()));
  return success();
}

LogicalResult RangeOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  if (failed(verifySameElementType(loc, adaptor.getOperands())))
    return failure();
  for (Value operand : adaptor.getOperands())
    if (tensorOf(operand).getRank() != 0)
      return emitOptionalError(loc, "start, limit and delta must be 0-D");
  Type element = tensorOf(adaptor.getStart()).getElementType();
  int64_t count = kDynamic;
  FailureOr<SmallVector<int64_t>> start = getConstantIntValues(adaptor.getStart());
  FailureOr<SmallVector<int64_t>> limit = getConstantIntValues(adaptor.getLimit());
  FailureOr<SmallVector<int64_t>> delta = getConstantIntValues(adaptor.getDelta());
  if (succeeded(start) && succeeded(limit) && succeeded(delta)) {
    if ((*delta)[0] == 0)
      return emitOptionalError(loc, "delta must be non-zero");
    int64_t span;
    if (llvm::SubOverflow((*limit)[0], (*start)[0], span) ||
        ((*delta)[0] == -1 && span == INT64_MIN))
      return emitOptionalError(loc, "the range from ", (*start)[0], " to ",
                               (*limit)[0], " has more than 2^63 elements");
    count = std::max<int64_t>(0, llvm::divideCeilSigned(span, (*delta)[0]));
    if (failed(checkResultSize(loc, {count})))
      return failure();
  }
  results.push_back(RankedTensorType::get({count}, element));
  return success();
}

#define GET_OP_CLASSES
#include "tfm/TfmOps.cpp.inc"
