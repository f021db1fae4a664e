//===- FusionUtils.cpp - what the tfm fusion passes share -----------------===//

#include "FusionUtils.h"

#include "llvm/Support/MathExtras.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "tfm/TfmOps.h"

#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::tfc;

std::optional<double> mlir::tfc::getScalarConstant(Value value) {
  DenseElementsAttr attr;
  if (!value || !matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  if (!attr.isSplat() && attr.getNumElements() != 1)
    return std::nullopt;
  Type element = attr.getElementType();
  if (isa<FloatType>(element))
    return attr.getSplatValue<APFloat>().convertToDouble();
  if (element.isInteger(1))
    return attr.getSplatValue<APInt>().getZExtValue();
  if (isa<IntegerType>(element))
    return static_cast<double>(attr.getSplatValue<APInt>().getSExtValue());
  return std::nullopt;
}

bool mlir::tfc::isScalarConstant(Value value, double expected,
                                 double relativeTolerance) {
  std::optional<double> actual = getScalarConstant(value);
  if (!actual)
    return false;
  if (expected == 0.0)
    return *actual == 0.0;
  return std::abs(*actual - expected) <= relativeTolerance * std::abs(expected);
}

/// The attribute of the tfm.constant that defines `value`, if one does.
static Attribute getConstantAttr(Value value) {
  auto constant = value ? value.getDefiningOp<tfm::ConstantOp>() : nullptr;
  return constant ? constant.getValue() : Attribute();
}

std::optional<SmallVector<bool>> mlir::tfc::getConstantBools(Value value) {
  Attribute attr = getConstantAttr(value);
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
      dense && dense.getElementType().isInteger(1))
    return llvm::to_vector(dense.getValues<bool>());
  auto resource = dyn_cast_or_null<DenseResourceElementsAttr>(attr);
  if (!resource || !resource.getElementType().isInteger(1))
    return std::nullopt;
  std::optional<ArrayRef<char>> bytes = tfm::getWeightBytes(resource);
  if (!bytes)
    return std::nullopt;
  SmallVector<bool> values;
  for (char byte : *bytes)
    values.push_back(byte != 0);
  return values;
}

std::optional<SmallVector<float>> mlir::tfc::getConstantFloats(Value value) {
  Attribute attr = getConstantAttr(value);
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(attr);
      dense && dense.getElementType().isF32())
    return llvm::to_vector(dense.getValues<float>());
  if (auto resource = dyn_cast_or_null<DenseF32ResourceElementsAttr>(attr))
    if (tfm::getWeightBytes(resource))
      if (std::optional<ArrayRef<float>> values = resource.tryGetAsArrayRef())
        return SmallVector<float>(*values);
  return std::nullopt;
}

Value mlir::tfc::createWeightConstant(OpBuilder &b, Location loc,
                                      RankedTensorType type,
                                      ArrayRef<char> bytes, StringRef name) {
  size_t alignment =
      std::max<size_t>(alignof(float), type.getElementTypeBitWidth() / 8);
  AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      bytes, alignment, /*dataIsMutable=*/false);
  return b.create<tfm::ConstantOp>(
      loc, DenseResourceElementsAttr::get(type, name, std::move(blob)));
}

Value mlir::tfc::createTransposedWeight(OpBuilder &b, Location loc,
                                        Value weight) {
  auto type = cast<RankedTensorType>(weight.getType());
  if (type.getRank() < 2 || !type.hasStaticShape())
    return {};
  std::optional<SmallVector<char>> bytes = getConstantBytes(weight);
  if (!bytes)
    return {};
  size_t elementBytes = type.getElementTypeBitWidth() / 8;
  int64_t rows = type.getDimSize(0);
  int64_t columns = type.getNumElements() / rows;
  SmallVector<char> transposed(bytes->size());
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < columns; ++j)
      std::memcpy(&transposed[(j * rows + i) * elementBytes],
                  &(*bytes)[(i * columns + j) * elementBytes], elementBytes);
  return createWeightConstant(
      b, loc, RankedTensorType::get({columns, rows}, type.getElementType()),
      transposed, "transposed_weight");
}

Operation *mlir::tfc::getSingleUser(Value value) {
  if (!value || !value.hasOneUse())
    return nullptr;
  return *value.getUsers().begin();
}

Value mlir::tfc::getOtherOperand(Operation *op, Value known) {
  if (!op || op->getNumOperands() != 2)
    return {};
  if (op->getOperand(0) == known)
    return op->getOperand(1);
  if (op->getOperand(1) == known)
    return op->getOperand(0);
  return {};
}

//===----------------------------------------------------------------------===//
// SymbolicDim
//===----------------------------------------------------------------------===//

SymbolicDim SymbolicDim::ofConstant(int64_t constant) {
  SymbolicDim result;
  result.constant = constant;
  return result;
}

SymbolicDim SymbolicDim::ofDim(Value value, int64_t dim) {
  SymbolicDim result;
  result.terms.push_back({value, dim, 1});
  return result;
}

/// Merges equal terms, drops zero ones and orders them, so that equal
/// expressions have equal term lists.
static SymbolicDim normalized(SymbolicDim dim) {
  SymbolicDim result;
  result.constant = dim.constant;
  for (const SymbolicDim::Term &term : dim.terms) {
    auto it = llvm::find_if(result.terms, [&](const SymbolicDim::Term &t) {
      return t.value == term.value && t.dim == term.dim && t.name == term.name;
    });
    if (it == result.terms.end())
      result.terms.push_back(term);
    else
      it->coefficient += term.coefficient;
  }
  llvm::erase_if(result.terms,
                 [](const SymbolicDim::Term &t) { return t.coefficient == 0; });
  llvm::sort(result.terms, [](const SymbolicDim::Term &a,
                              const SymbolicDim::Term &b) {
    if (a.name != b.name)
      return a.name.getAsOpaquePointer() < b.name.getAsOpaquePointer();
    if (a.value != b.value)
      return a.value.getAsOpaquePointer() < b.value.getAsOpaquePointer();
    return a.dim < b.dim;
  });
  return result;
}

SymbolicDim SymbolicDim::operator+(const SymbolicDim &other) const {
  SymbolicDim sum = *this;
  sum.constant += other.constant;
  llvm::append_range(sum.terms, other.terms);
  return normalized(sum);
}

std::optional<SymbolicDim> SymbolicDim::scaled(int64_t factor) const {
  SymbolicDim product = *this;
  if (llvm::MulOverflow(constant, factor, product.constant))
    return std::nullopt;
  for (Term &term : product.terms)
    if (llvm::MulOverflow(term.coefficient, factor, term.coefficient))
      return std::nullopt;
  return normalized(product);
}

SymbolicDim SymbolicDim::operator-(const SymbolicDim &other) const {
  SymbolicDim negated = other;
  negated.constant = -negated.constant;
  for (Term &term : negated.terms)
    term.coefficient = -term.coefficient;
  return *this + negated;
}

bool SymbolicDim::operator==(const SymbolicDim &other) const {
  SymbolicDim a = normalized(*this), b = normalized(other);
  if (a.constant != b.constant || a.terms.size() != b.terms.size())
    return false;
  for (auto [x, y] : llvm::zip(a.terms, b.terms))
    if (x.value != y.value || x.dim != y.dim || x.name != y.name ||
        x.coefficient != y.coefficient)
      return false;
  return true;
}

/// The name of dim `dim` of a graph input (its ONNX dim_param, kept by the
/// importer as tfm.dim_params), as a term: inputs that name a dim alike have
/// it equal at run time, which the runtime checks before a run.
static std::optional<SymbolicDim> namedInputDim(Value value, int64_t dim) {
  auto argument = dyn_cast<BlockArgument>(value);
  auto func = argument ? dyn_cast<FunctionOpInterface>(
                             argument.getOwner()->getParentOp())
                       : nullptr;
  if (!func || argument.getOwner() != &func.getFunctionBody().front())
    return std::nullopt;
  auto names = func.getArgAttrOfType<ArrayAttr>(argument.getArgNumber(),
                                                "tfm.dim_params");
  if (!names || dim >= (int64_t)names.size())
    return std::nullopt;
  auto name = dyn_cast<StringAttr>(names[dim]);
  if (!name || name.getValue().empty())
    return std::nullopt;
  SymbolicDim result;
  result.terms.push_back({Value(), 0, 1, name});
  return result;
}

bool mlir::tfc::isBroadcastingElementwise(Operation *op) {
  return isa<tfm::AddOp, tfm::SubOp, tfm::MulOp, tfm::DivOp, tfm::MaxOp,
             tfm::MinOp, tfm::PowOp, tfm::EqualOp, tfm::LessOp,
             tfm::LessOrEqualOp, tfm::GreaterOp, tfm::GreaterOrEqualOp,
             tfm::AndOp, tfm::OrOp, tfm::XorOp, tfm::NotOp, tfm::NegOp,
             tfm::AbsOp, tfm::SqrtOp, tfm::ExpOp, tfm::LogOp, tfm::ErfOp,
             tfm::TanhOp, tfm::SinOp, tfm::CosOp, tfm::FloorOp, tfm::CeilOp,
             tfm::ReciprocalOp, tfm::ReluOp, tfm::SigmoidOp, tfm::IdentityOp,
             tfm::DropoutOp, tfm::GeluOp, tfm::CastOp, tfm::WhereOp,
             tfm::SoftmaxOp, tfm::LayerNormOp, tfm::RmsNormOp, tfm::EluOp,
             tfm::CeluOp, tfm::SeluOp, tfm::LeakyReluOp,
             tfm::ThresholdedReluOp, tfm::HardSigmoidOp, tfm::HardSwishOp,
             tfm::SoftplusOp, tfm::SoftsignOp, tfm::MishOp, tfm::PReluOp,
             tfm::TanOp, tfm::AsinOp, tfm::AcosOp, tfm::AtanOp, tfm::SinhOp,
             tfm::CoshOp, tfm::AsinhOp, tfm::AcoshOp, tfm::AtanhOp,
             tfm::RoundOp, tfm::SignOp, tfm::IsNaNOp, tfm::IsInfOp,
             tfm::ModOp, tfm::BitShiftOp>(op);
}

/// Dim `dim` of a result of rank `rank` that broadcasts `operands`: the
/// first operand's dynamic dim at that position (tfm refuses to broadcast a
/// dynamic dim, so all of them are equal at run time).
static std::optional<SymbolicDim>
broadcastDim(ValueRange operands, int64_t rank, int64_t dim) {
  for (Value operand : operands) {
    auto type = cast<RankedTensorType>(operand.getType());
    int64_t aligned = dim - (rank - type.getRank());
    if (aligned >= 0 && type.isDynamicDim(aligned))
      return getSymbolicDim(operand, aligned);
  }
  return std::nullopt;
}

/// The dim a reshape infers (its target says -1) when the element count
/// pins it to one input dim: every other input dim and target entry is a
/// known constant and their products agree, so the -1 is that input dim.
/// Target dim `dim` of `reshape`, given as -1: the one input dim left when
/// each other target entry is matched to what it equals, a static size or
/// c times a dynamic input dim ([B, L, H] -> [B, -1, N, d] with H = N * d
/// leaves L; [B, N, L, d] -> [N * B, -1, d] leaves L), when the static
/// sizes on both sides multiply to the same (the element count fixes the
/// rest).
static std::optional<SymbolicDim> inferredReshapeDim(tfm::ReshapeOp reshape,
                                                     int64_t dim) {
  Value input = reshape.getInput();
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t entries = cast<RankedTensorType>(reshape.getType()).getRank();
  SmallVector<bool> matched(inputType.getRank(), false);
  int64_t targetProduct = 1;
  for (int64_t i = 0; i < entries; ++i) {
    if (i == dim)
      continue;
    std::optional<SymbolicDim> entry = getSymbolicElement(reshape.getShape(), i);
    if (!entry)
      return std::nullopt;
    if (entry->isConstant() && entry->constant == 0 && !reshape.getAllowZero())
      entry = i < inputType.getRank() ? getSymbolicDim(input, i)
                                      : SymbolicDim::ofConstant(-1);
    if (entry->isConstant()) {
      if (entry->constant <= 0)
        return std::nullopt;
      if (llvm::MulOverflow(targetProduct, entry->constant, targetProduct))
        return std::nullopt;
      continue;
    }
    // c * (one dynamic input dim): the dim is matched, c joins the product.
    if (entry->constant != 0 || entry->terms.size() != 1)
      return std::nullopt;
    int64_t factor = entry->terms.front().coefficient;
    if (factor <= 0)
      return std::nullopt;
    SymbolicDim unit = *entry;
    unit.terms.front().coefficient = 1;
    bool found = false;
    for (int64_t k = 0; k < inputType.getRank() && !found; ++k)
      if (!matched[k] && inputType.isDynamicDim(k) && getSymbolicDim(input, k) == unit)
        matched[k] = found = true;
    if (!found)
      return std::nullopt;
    if (llvm::MulOverflow(targetProduct, factor, targetProduct))
      return std::nullopt;
  }
  int64_t inputProduct = 1, left = -1;
  for (int64_t k = 0; k < inputType.getRank(); ++k) {
    if (!inputType.isDynamicDim(k)) {
      if (llvm::MulOverflow(inputProduct, inputType.getDimSize(k), inputProduct))
        return std::nullopt;
      continue;
    }
    if (matched[k])
      continue;
    if (left >= 0)
      return std::nullopt;
    left = k;
  }
  if (left < 0 || inputProduct != targetProduct)
    return std::nullopt;
  return getSymbolicDim(input, left);
}

SymbolicDim mlir::tfc::getSymbolicDim(Value value, int64_t dim) {
  auto type = cast<RankedTensorType>(value.getType());
  if (!type.isDynamicDim(dim))
    return SymbolicDim::ofConstant(type.getDimSize(dim));
  Operation *def = value.getDefiningOp();
  auto opaque = SymbolicDim::ofDim(value, dim);
  if (!def)
    return namedInputDim(value, dim).value_or(opaque);
  int64_t rank = type.getRank();

  if (auto transpose = dyn_cast<tfm::TransposeOp>(def))
    return getSymbolicDim(transpose.getInput(), transpose.getPerm()[dim]);
  if (isBroadcastingElementwise(def)) {
    // Layer and RMS norm broadcast only their scale and bias, onto the
    // trailing dims; the input has every dim.
    ValueRange operands = def->getOperands();
    if (isa<tfm::LayerNormOp, tfm::RmsNormOp, tfm::SoftmaxOp>(def))
      operands = operands.take_front(1);
    return broadcastDim(operands, rank, dim).value_or(opaque);
  }
  if (auto matmul = dyn_cast<tfm::MatMulOp>(def)) {
    auto lhs = cast<RankedTensorType>(matmul.getLhs().getType());
    auto rhs = cast<RankedTensorType>(matmul.getRhs().getType());
    if (lhs.getRank() < 2 || rhs.getRank() < 2)
      return opaque;
    if (dim == rank - 1)
      return getSymbolicDim(matmul.getRhs(), rhs.getRank() - 1);
    if (dim == rank - 2)
      return getSymbolicDim(matmul.getLhs(), lhs.getRank() - 2);
    for (auto [operand, operandType] :
         {std::pair{matmul.getLhs(), lhs}, std::pair{matmul.getRhs(), rhs}}) {
      int64_t aligned = dim - (rank - operandType.getRank());
      if (aligned >= 0 && operandType.isDynamicDim(aligned))
        return getSymbolicDim(operand, aligned);
    }
    return opaque;
  }
  // A linear's rows are its input's (a pre-quantized model's projections
  // are tfm.quantized_linear before attention is fused).
  if (isa<tfm::LinearOp, tfm::QuantizedLinearOp>(def) && dim < rank - 1)
    return getSymbolicDim(def->getOperand(0), dim);
  // A triangle of a matrix keeps its dims; a tensor filled to a shape has
  // the shape's values as dims (a causal mask built at run time).
  if (auto trilu = dyn_cast<tfm::TriluOp>(def))
    return getSymbolicDim(trilu.getInput(), dim);
  if (auto filled = dyn_cast<tfm::ConstantOfShapeOp>(def))
    return getSymbolicElement(filled.getShape(), dim).value_or(opaque);
  if (auto reshape = dyn_cast<tfm::ReshapeOp>(def)) {
    std::optional<SymbolicDim> element =
        getSymbolicElement(reshape.getShape(), dim);
    if (!element)
      return opaque;
    if (element->isConstant() && element->constant == 0 &&
        !reshape.getAllowZero())
      return getSymbolicDim(reshape.getInput(), dim);
    if (element->isConstant() && element->constant < 0)
      return inferredReshapeDim(reshape, dim).value_or(opaque);
    return *element;
  }
  if (auto squeeze = dyn_cast<tfm::SqueezeOp>(def)) {
    // The input dim that is result dim `dim`: skip the squeezed axes.
    ArrayRef<int64_t> axes = squeeze.getAxes();
    int64_t inputRank = cast<RankedTensorType>(squeeze.getInput().getType()).getRank();
    for (int64_t i = 0, kept = 0; i < inputRank; ++i) {
      if (llvm::any_of(axes, [&](int64_t a) { return (a < 0 ? a + inputRank : a) == i; }))
        continue;
      if (kept++ == dim)
        return getSymbolicDim(squeeze.getInput(), i);
    }
    return opaque;
  }
  if (auto unsqueeze = dyn_cast<tfm::UnsqueezeOp>(def)) {
    ArrayRef<int64_t> axes = unsqueeze.getAxes();
    if (llvm::is_contained(axes, dim))
      return SymbolicDim::ofConstant(1);
    int64_t inserted = llvm::count_if(axes, [&](int64_t a) { return a < dim; });
    return getSymbolicDim(unsqueeze.getInput(), dim - inserted);
  }
  if (auto attention = dyn_cast<tfm::AttentionOp>(def)) {
    // [B, Lq, N * dv] from q ([B, Lq, .] or head-major [B, N, Lq, d]); the
    // last dim is v's when v is token-major with q's heads.
    auto query = cast<RankedTensorType>(attention.getQuery().getType());
    auto valueType = cast<RankedTensorType>(attention.getValue().getType());
    if (dim < 2)
      return getSymbolicDim(attention.getQuery(),
                            dim == 1 && query.getRank() == 4 ? 2 : dim);
    return valueType.getRank() == 3 && query.getRank() == 3
               ? getSymbolicDim(attention.getValue(), 2)
               : opaque;
  }
  if (auto linear = dyn_cast<tfm::LinearAttentionOp>(def))
    // [B, Lq, N, dv]: q's batch, queries and heads, v's head dim.
    return getSymbolicDim(dim < 3 ? linear.getQuery() : linear.getValue(), dim);
  if (auto split = dyn_cast<tfm::SplitOp>(def))
    return (int64_t)split.getAxis() == dim
               ? opaque
               : getSymbolicDim(split.getInput(), dim);
  if (auto slice = dyn_cast<tfm::SliceOp>(def)) {
    FailureOr<SmallVector<int64_t>> axes = tfm::getConstantIntValues(slice.getAxes());
    if (failed(axes))
      return opaque;
    for (int64_t axis : *axes)
      if ((axis < 0 ? axis + rank : axis) == dim)
        return opaque;
    return getSymbolicDim(slice.getInput(), dim);
  }
  if (auto concat = dyn_cast<tfm::ConcatOp>(def)) {
    if ((int64_t)concat.getAxis() != dim)
      return getSymbolicDim(concat.getInputs().front(), dim);
    // Along the axis, the sum (a KV cache: past + new).
    SymbolicDim sum = SymbolicDim::ofConstant(0);
    for (Value input : concat.getInputs())
      sum = sum + getSymbolicDim(input, dim);
    return sum;
  }
  if (auto gather = dyn_cast<tfm::GatherOp>(def)) {
    int64_t axis = gather.getAxis();
    int64_t indicesRank =
        cast<RankedTensorType>(gather.getIndices().getType()).getRank();
    if (dim < axis)
      return getSymbolicDim(gather.getInput(), dim);
    if (dim < axis + indicesRank)
      return getSymbolicDim(gather.getIndices(), dim - axis);
    return getSymbolicDim(gather.getInput(), dim - indicesRank + 1);
  }
  return opaque;
}

std::optional<SymbolicDim> mlir::tfc::getSymbolicElement(Value shape,
                                                         int64_t index) {
  auto type = dyn_cast<RankedTensorType>(shape.getType());
  if (!type || type.getRank() > 1 || !type.hasStaticShape() || index < 0 ||
      index >= type.getNumElements() ||
      !isa<IntegerType>(type.getElementType()))
    return std::nullopt;
  if (FailureOr<SmallVector<int64_t>> values = tfm::getConstantIntValues(shape);
      succeeded(values))
    return SymbolicDim::ofConstant((*values)[index]);
  Operation *def = shape.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (auto shapeOp = dyn_cast<tfm::ShapeOp>(def))
    return getSymbolicDim(shapeOp.getInput(), shapeOp.getStart() + index);
  if (auto concat = dyn_cast<tfm::ConcatOp>(def)) {
    for (Value piece : concat.getInputs()) {
      auto pieceType = cast<RankedTensorType>(piece.getType());
      if (!pieceType.hasStaticShape())
        return std::nullopt;
      int64_t length = pieceType.getNumElements();
      if (index < length)
        return getSymbolicElement(piece, index);
      index -= length;
    }
    return std::nullopt;
  }
  if (auto gather = dyn_cast<tfm::GatherOp>(def)) {
    FailureOr<SmallVector<int64_t>> indices =
        tfm::getConstantIntValues(gather.getIndices());
    auto dataType = cast<RankedTensorType>(gather.getInput().getType());
    if (failed(indices) || gather.getAxis() != 0 || dataType.getRank() != 1 ||
        !dataType.hasStaticShape())
      return std::nullopt;
    int64_t picked = (*indices)[index];
    if (picked < 0)
      picked += dataType.getDimSize(0);
    return getSymbolicElement(gather.getInput(), picked);
  }
  if (isa<tfm::UnsqueezeOp, tfm::SqueezeOp, tfm::ReshapeOp, tfm::CastOp,
          tfm::IdentityOp>(def))
    return getSymbolicElement(def->getOperand(0), index);
  if (auto slice = dyn_cast<tfm::SliceOp>(def)) {
    FailureOr<SmallVector<int64_t>> starts =
        tfm::getConstantIntValues(slice.getStarts());
    auto dataType = cast<RankedTensorType>(slice.getInput().getType());
    FailureOr<SmallVector<int64_t>> steps =
        tfm::getConstantIntValues(slice.getSteps());
    FailureOr<SmallVector<int64_t>> axes =
        tfm::getConstantIntValues(slice.getAxes());
    if (failed(starts) || starts->size() != 1 || failed(steps) ||
        (*steps)[0] != 1 || failed(axes) || ((*axes)[0] != 0 && (*axes)[0] != -1) ||
        !dataType.hasStaticShape())
      return std::nullopt;
    int64_t start = (*starts)[0], size = dataType.getDimSize(0);
    start = std::clamp<int64_t>(start < 0 ? start + size : start, 0, size);
    return getSymbolicElement(slice.getInput(), start + index);
  }
  if (isa<tfm::AddOp, tfm::SubOp>(def)) {
    auto elementOf = [&](Value operand) -> std::optional<SymbolicDim> {
      auto operandType = cast<RankedTensorType>(operand.getType());
      bool broadcast = operandType.hasStaticShape() &&
                       operandType.getNumElements() == 1;
      return getSymbolicElement(operand, broadcast ? 0 : index);
    };
    std::optional<SymbolicDim> lhs = elementOf(def->getOperand(0));
    std::optional<SymbolicDim> rhs = elementOf(def->getOperand(1));
    if (!lhs || !rhs)
      return std::nullopt;
    return isa<tfm::AddOp>(def) ? *lhs + *rhs : *lhs - *rhs;
  }
  if (isa<tfm::MulOp>(def)) {
    // A dim times a constant (B * N where heads fold into the batch).
    std::optional<SymbolicDim> lhs = getSymbolicElement(def->getOperand(0), index);
    std::optional<SymbolicDim> rhs = getSymbolicElement(def->getOperand(1), index);
    if (!lhs || !rhs || (!lhs->isConstant() && !rhs->isConstant()))
      return std::nullopt;
    if (!lhs->isConstant())
      std::swap(lhs, rhs);
    return rhs->scaled(lhs->constant);
  }
  return std::nullopt;
}

bool mlir::tfc::reshapeKeepsLeadingDims(Operation *op, int64_t count) {
  auto reshape = dyn_cast<tfm::ReshapeOp>(op);
  if (!reshape)
    return false;
  auto input = cast<RankedTensorType>(reshape.getInput().getType());
  auto result = cast<RankedTensorType>(reshape.getType());
  if (input.getRank() < count || result.getRank() < count)
    return false;
  for (int64_t i = 0; i < count; ++i)
    if (getSymbolicDim(reshape.getResult(), i) !=
        getSymbolicDim(reshape.getInput(), i))
      return false;
  return true;
}

//===----------------------------------------------------------------------===//
// FusionRemarks
//===----------------------------------------------------------------------===//

void FusionRemarks::fused(Operation *op, const Twine &detail) const {
  if (enabled)
    op->emitRemark() << "fused " << kind << ": " << detail;
}

LogicalResult FusionRemarks::reject(Operation *op, const Twine &reason) const {
  if (enabled)
    op->emitRemark() << "not fused as " << kind << ": " << reason;
  return failure();
}

bool mlir::tfc::readConstantFloats(Value value, int64_t count,
                                   ArrayRef<float> &inPlace,
                                   std::vector<float> &copy) {
  Attribute attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return false;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
    if (std::optional<ArrayRef<char>> bytes = tfm::getWeightBytes(resource);
        bytes && bytes->size() == static_cast<size_t>(count) * sizeof(float)) {
      inPlace = ArrayRef<float>(reinterpret_cast<const float *>(bytes->data()),
                                count);
      return true;
    }
  std::optional<SmallVector<float>> values = getConstantFloats(value);
  if (!values || static_cast<int64_t>(values->size()) != count)
    return false;
  copy.assign(values->begin(), values->end());
  return true;
}

bool mlir::tfc::readLinearBias(Value bias, int64_t cols,
                               std::vector<float> &values) {
  values.assign(cols, 0.0f);
  if (!bias)
    return true;
  std::optional<SmallVector<float>> read = getConstantFloats(bias);
  if (read && static_cast<int64_t>(read->size()) == cols)
    values.assign(read->begin(), read->end());
  else if (read && read->size() == 1)
    values.assign(cols, (*read)[0]);
  else
    return false;
  return true;
}
