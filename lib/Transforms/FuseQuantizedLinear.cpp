//===- FuseQuantizedLinear.cpp - the tfm-fuse-quantized-linear pass -------===//
//
// Models quantized before they reach tfc (ONNX Runtime's quantizer, QDQ
// exporters) import as generic ops: the quantization written out around an
// integer or float MatMul. This pass proves those chains compute what
// tfm.quantized_linear does and replaces them with it, so that they run in
// the int8 kernel rather than in generic loops over i32:
//
//   ONNX Runtime's dynamic form (DynamicQuantizeLinear + MatMulInteger):
//     q, s, z = dynamic_quantize_linear(x)
//     y = cast<f32>(matmul(cast<i32>(q) - cast<i32>(z),
//                          cast<i32>(W) [- w_zero])) * (s * w_scale)
//   becomes quantized_linear(x, W, w_scale, w_zero) with
//   input_quantization = "tensor" (DynamicQuantizeLinear's own rule);
//
//   QDQ and QLinearMatMul (which imports as the same dequantize, matmul,
//   quantize):
//     y = matmul(dequantize_linear(A, a_scale, a_zero),
//                dequantize_linear(W, w_scale, w_zero))
//   becomes quantized_linear(x, W, w_scale, w_zero) with the static input
//   quantization (a_scale, a_zero); x is the f32 tensor A quantized when A
//   is quantize_linear(x) with the same parameters, else A dequantized
//   (which the static quantization turns back into A exactly).
//
//   4-bit weights in QDQ (ONNX Runtime's int4 quantizer, QDQ format):
//     y = matmul(x, dequantize_linear(W, w_scale, w_zero))
//   with x f32 and W's values and zero points within 4 bits becomes the
//   weight-only quantized_linear(x, W, w_scale, w_zero) with weight_bits 4,
//   the int4 kernel's op; a scale blocked along K ([K / B, N]) stays as it
//   is, group-wise.
//
// An Add of a constant [N] bias that is the product's only user joins as
// the bias. W must be a constant i8 or ui8 [K, N]; its scale and zero point
// constants per tensor or per column (N), or blocked along K (4-bit); the
// activation's parameters 0-D constants (the static form).
//
//===----------------------------------------------------------------------===//

#include "FusionUtils.h"
#include "tfc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SmallPtrSet.h"
#include "tfm/TfmOps.h"

#include <cstring>

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSEQUANTIZEDLINEAR
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

RankedTensorType tensorType(Value value) {
  return cast<RankedTensorType>(value.getType());
}

/// The operand of a tfm.cast to `to`, or null.
Value matchCastTo(Value value, Type to) {
  auto cast = dyn_cast_or_null<tfm::CastOp>(value.getDefiningOp());
  return cast && cast.getTo() == to ? cast.getInput() : Value();
}

/// A constant i8 or ui8 [K, N] weight.
bool isInt8Matrix(Value value) {
  auto type = tensorType(value);
  return type.getRank() == 2 && type.hasStaticShape() &&
         type.getElementType().isInteger(8) && matchPattern(value, m_Constant());
}

/// A constant per tensor (one element, any shape) or per column (N
/// elements along the last dim, every other dim 1).
bool isPerTensorOrColumn(Value value, int64_t cols) {
  if (!value || !matchPattern(value, m_Constant()))
    return false;
  auto type = tensorType(value);
  if (!type.hasStaticShape())
    return false;
  if (type.getNumElements() == 1)
    return true;
  return type.getRank() >= 1 && type.getShape().back() == cols &&
         type.getNumElements() == cols;
}

/// `value` (a constant of one or N elements) as a new [1] or [N] constant
/// of `element` (its values converted: an i32 zero point to the weight's
/// 8-bit type), or null when a value does not fit.
Value asVector(OpBuilder &b, Location loc, Value value, Type element,
               StringRef name) {
  std::optional<SmallVector<char>> bytes = getConstantBytes(value);
  if (!bytes)
    return {};
  auto type = tensorType(value);
  int64_t count = type.getNumElements();
  Type from = type.getElementType();
  unsigned fromBytes = from.getIntOrFloatBitWidth() / 8;
  SmallVector<char> out;
  for (int64_t i = 0; i < count; ++i) {
    const char *raw = bytes->data() + i * fromBytes;
    if (element.isF32()) {
      if (!from.isF32())
        return {};
      out.append(raw, raw + 4);
      continue;
    }
    // An integer zero point: i8, ui8 or i32, fitting the weight's type.
    int64_t v;
    if (from.isInteger(8))
      v = from.isUnsignedInteger() ? static_cast<uint8_t>(*raw)
                                   : static_cast<int8_t>(*raw);
    else if (from.isInteger(32)) {
      int32_t wide;
      std::memcpy(&wide, raw, 4);
      v = wide;
    } else {
      return {};
    }
    bool isUnsigned = element.isUnsignedInteger();
    if (v < (isUnsigned ? 0 : -128) || v > (isUnsigned ? 255 : 127))
      return {};
    out.push_back(static_cast<char>(v));
  }
  return createWeightConstant(b, loc, RankedTensorType::get({count}, element),
                              out, name);
}

/// A 0-D constant of `element` holding `value`'s single element (a
/// constant of one element), or null.
Value asScalar(OpBuilder &b, Location loc, Value value, Type element,
               StringRef name) {
  if (!value || tensorType(value).getNumElements() != 1 ||
      tensorType(value).getElementType() != element)
    return {};
  std::optional<SmallVector<char>> bytes = getConstantBytes(value);
  if (!bytes)
    return {};
  return createWeightConstant(b, loc, RankedTensorType::get({}, element), *bytes,
                              name);
}

/// Whether every value of the constant i8 or ui8 `value` fits 4 bits of
/// its signedness (-8 to 7, 0 to 15).
bool fitsFourBits(Value value) {
  // A weight's blob is read where it lies; small dense constants are
  // copied.
  std::optional<ArrayRef<char>> bytes;
  std::optional<SmallVector<char>> copied;
  auto constant = value.getDefiningOp<tfm::ConstantOp>();
  if (auto blob = constant ? dyn_cast<DenseResourceElementsAttr>(constant.getValue())
                           : DenseResourceElementsAttr())
    bytes = tfm::getWeightBytes(blob);
  else if ((copied = getConstantBytes(value)))
    bytes = ArrayRef<char>(*copied);
  if (!bytes)
    return false;
  bool isUnsigned = tensorType(value).getElementType().isUnsignedInteger();
  return llvm::all_of(*bytes, [&](char byte) {
    int v = isUnsigned ? static_cast<uint8_t>(byte) : static_cast<int8_t>(byte);
    return isUnsigned ? v <= 15 : v >= -8 && v <= 7;
  });
}

/// What the pattern found, before the rewrite.
struct Match {
  Value input;                    // f32
  Value weight;                   // constant i8/ui8 [K, N]
  Value weightScale, weightZero;  // constants (zero optional), any shape
  Value inputScale, inputZero;    // static form only
  StringRef mode;                 // "tensor", "static" or "none"
  int64_t weightBits = 8;         // 4: the weight-only form
  bool groupWise = false;         // the scale is [K / B, N], kept as it is
  Operation *last = nullptr;      // the op the fused one replaces
};

/// The bias add that is `value`'s only user, when its other operand is a
/// constant [N] f32 (extends `match.last`).
Value takeBias(Value value, int64_t cols, Match &match) {
  auto add = dyn_cast_or_null<tfm::AddOp>(getSingleUser(value));
  if (!add)
    return {};
  Value bias = getOtherOperand(add, value);
  if (!bias || bias == value || !matchPattern(bias, m_Constant()))
    return {};
  auto type = tensorType(bias);
  if (type.getRank() != 1 || type.getDimSize(0) != cols ||
      !type.getElementType().isF32())
    return {};
  match.last = add;
  return bias;
}

struct FuseQuantizedLinearPass
    : public tfc::impl::FuseQuantizedLinearBase<FuseQuantizedLinearPass> {
  using FuseQuantizedLinearBase::FuseQuantizedLinearBase;

  void runOnOperation() override {
    SmallVector<tfm::MatMulOp> matmuls;
    getOperation().walk([&](tfm::MatMulOp op) { matmuls.push_back(op); });
    for (tfm::MatMulOp op : matmuls) {
      std::string reason;
      std::optional<Match> match = tensorType(op.getResult()).getElementType().isInteger(32)
                                       ? matchDynamic(op, reason)
                                       : matchDequantized(op, reason);
      if (!match) {
        if (emitRemarks && !reason.empty())
          op->emitRemark("not fused as quantized_linear: ") << reason;
        continue;
      }
      rewrite(op, *match);
    }
  }

  /// ONNX Runtime's dynamic form, anchored at the i32 matmul.
  std::optional<Match> matchDynamic(tfm::MatMulOp op, std::string &reason) {
    Type i32 = IntegerType::get(&getContext(), 32);
    Type f32 = Float32Type::get(&getContext());
    Match match;
    // lhs: cast<i32>(q) - cast<i32>(z) of one dynamic_quantize_linear.
    auto lhs = dyn_cast_or_null<tfm::SubOp>(op.getLhs().getDefiningOp());
    if (!lhs)
      return std::nullopt; // an integer matmul of another kind: not ours
    Value q = matchCastTo(lhs.getLhs(), i32), z = matchCastTo(lhs.getRhs(), i32);
    auto dynamic = q ? dyn_cast_or_null<tfm::DynamicQuantizeLinearOp>(q.getDefiningOp())
                     : tfm::DynamicQuantizeLinearOp();
    if (!dynamic || q != dynamic.getResult() || z != dynamic.getZeroPoint())
      return std::nullopt;
    match.input = dynamic.getInput();
    // rhs: cast<i32>(W), less a zero point or not.
    Value rhs = op.getRhs();
    if (auto sub = dyn_cast_or_null<tfm::SubOp>(rhs.getDefiningOp())) {
      match.weightZero = sub.getRhs();
      if (Value narrow = matchCastTo(match.weightZero, i32))
        match.weightZero = narrow;
      rhs = sub.getLhs();
    }
    match.weight = matchCastTo(rhs, i32);
    if (!match.weight || !isInt8Matrix(match.weight)) {
      reason = "the weight is not a constant i8 or ui8 matrix";
      return std::nullopt;
    }
    int64_t cols = tensorType(match.weight).getDimSize(1);
    if (match.weightZero && !isPerTensorOrColumn(match.weightZero, cols)) {
      reason = "the weight's zero point is not a constant per tensor or column";
      return std::nullopt;
    }
    // cast<f32>(product) * (s * w_scale), each the only user of the last.
    auto toFloat = dyn_cast_or_null<tfm::CastOp>(getSingleUser(op.getResult()));
    if (!toFloat || toFloat.getTo() != f32) {
      reason = "the product is not converted to f32";
      return std::nullopt;
    }
    auto scaled = dyn_cast_or_null<tfm::MulOp>(getSingleUser(toFloat.getResult()));
    Value scales = scaled ? getOtherOperand(scaled, toFloat.getResult()) : Value();
    auto scaleProduct =
        scales ? dyn_cast_or_null<tfm::MulOp>(scales.getDefiningOp()) : tfm::MulOp();
    Value weightScale = scaleProduct
                            ? getOtherOperand(scaleProduct, dynamic.getScale())
                            : Value();
    if (!weightScale || weightScale == dynamic.getScale() ||
        !isPerTensorOrColumn(weightScale, cols) ||
        !tensorType(weightScale).getElementType().isF32()) {
      reason = "the product is not scaled by the input's scale times a "
               "constant weight scale";
      return std::nullopt;
    }
    match.weightScale = weightScale;
    match.mode = "tensor";
    match.last = scaled;
    return match;
  }

  /// The QDQ form, anchored at the f32 matmul of two dequantized operands.
  std::optional<Match> matchDequantized(tfm::MatMulOp op, std::string &reason) {
    auto weightDq =
        dyn_cast_or_null<tfm::DequantizeLinearOp>(op.getRhs().getDefiningOp());
    auto inputDq =
        dyn_cast_or_null<tfm::DequantizeLinearOp>(op.getLhs().getDefiningOp());
    if (!weightDq)
      return std::nullopt; // not quantized
    if (!inputDq)
      return matchFourBitWeight(op, weightDq, reason);
    Match match;
    match.weight = weightDq.getInput();
    if (!isInt8Matrix(match.weight)) {
      reason = "the weight is not a constant i8 or ui8 matrix";
      return std::nullopt;
    }
    if (weightDq.getBlockSize() != 0) {
      reason = "blocked weight scales need an f32 input (weight-only)";
      return std::nullopt;
    }
    int64_t cols = tensorType(match.weight).getDimSize(1);
    // Per tensor, or per column (axis 1 of the [K, N] weight).
    bool perTensor = tensorType(weightDq.getScale()).getRank() == 0;
    if ((!perTensor && weightDq.getAxis() != 1) ||
        !isPerTensorOrColumn(weightDq.getScale(), cols) ||
        (weightDq.getZeroPoint() &&
         !isPerTensorOrColumn(weightDq.getZeroPoint(), cols))) {
      reason = "the weight's scale or zero point is not a constant per tensor "
               "or per column";
      return std::nullopt;
    }
    match.weightScale = weightDq.getScale();
    match.weightZero = weightDq.getZeroPoint();
    // The input: 8-bit, one constant scale and zero point.
    Value quantized = inputDq.getInput();
    Type element = tensorType(quantized).getElementType();
    Value scale = inputDq.getScale(), zero = inputDq.getZeroPoint();
    if (!element.isInteger(8) || tensorType(scale).getRank() != 0 ||
        !matchPattern(scale, m_Constant()) ||
        (zero && !matchPattern(zero, m_Constant()))) {
      reason = "the input is not 8-bit with a constant scale and zero point "
               "per tensor";
      return std::nullopt;
    }
    match.inputScale = scale;
    match.inputZero = zero;
    match.input = inputDq.getResult();
    // Quantized from f32 with the same parameters: that f32 is the input.
    if (auto quantize = dyn_cast_or_null<tfm::QuantizeLinearOp>(quantized.getDefiningOp()))
      if (getConstantBytes(quantize.getScale()) == getConstantBytes(scale) &&
          bool(quantize.getZeroPoint()) == bool(zero) &&
          (!zero || getConstantBytes(quantize.getZeroPoint()) == getConstantBytes(zero)) &&
          tensorType(quantize.getInput()).getElementType().isF32())
        match.input = quantize.getInput();
    match.mode = "static";
    match.last = op;
    return match;
  }

  /// The weight-only 4-bit form: an f32 input times a dequantized constant
  /// weight of 4-bit values, blocked along K, per column or per tensor.
  std::optional<Match> matchFourBitWeight(tfm::MatMulOp op,
                                          tfm::DequantizeLinearOp weightDq,
                                          std::string &reason) {
    Match match;
    match.input = op.getLhs();
    match.weight = weightDq.getInput();
    if (!tensorType(match.input).getElementType().isF32())
      return std::nullopt;
    if (!isInt8Matrix(match.weight)) {
      reason = "the weight is not a constant i8 or ui8 matrix";
      return std::nullopt;
    }
    if (!fitsFourBits(match.weight) ||
        (weightDq.getZeroPoint() &&
         (!matchPattern(weightDq.getZeroPoint(), m_Constant()) ||
          !fitsFourBits(weightDq.getZeroPoint())))) {
      reason = "a dequantized weight of an f32 input fuses only with 4-bit "
               "values and zero points (weight-only int4)";
      return std::nullopt;
    }
    int64_t depth = tensorType(match.weight).getDimSize(0);
    int64_t cols = tensorType(match.weight).getDimSize(1);
    Value scale = weightDq.getScale(), zero = weightDq.getZeroPoint();
    if (int64_t block = weightDq.getBlockSize()) {
      // Blocked along K (axis 0 of [K, N]) in whole groups of rows.
      int64_t axis = weightDq.getAxis();
      if ((axis != 0 && axis != -2) || depth % block != 0 ||
          !matchPattern(scale, m_Constant())) {
        reason = "the weight's blocks are not whole groups of rows along K "
                 "with a constant scale";
        return std::nullopt;
      }
      match.groupWise = true;
    } else {
      bool perTensor = tensorType(scale).getRank() == 0;
      if ((!perTensor && weightDq.getAxis() != 1 && weightDq.getAxis() != -1) ||
          !isPerTensorOrColumn(scale, cols) ||
          (zero && !isPerTensorOrColumn(zero, cols))) {
        reason = "the weight's scale or zero point is not a constant per "
                 "tensor, per column or blocked along K";
        return std::nullopt;
      }
    }
    match.weightScale = scale;
    match.weightZero = zero;
    match.mode = "none";
    match.weightBits = 4;
    match.last = op;
    return match;
  }

  void rewrite(tfm::MatMulOp op, Match &match) {
    int64_t cols = tensorType(match.weight).getDimSize(1);
    Value bias = takeBias(match.last->getResult(0), cols, match);
    OpBuilder b(match.last);
    Location loc = match.last->getLoc();
    Type weightElement = tensorType(match.weight).getElementType();
    // Group-wise parameters are already the op's [K / B, N] constants.
    Value scales = match.groupWise
                       ? match.weightScale
                       : asVector(b, loc, match.weightScale, b.getF32Type(),
                                  "fused_weight_scale");
    Value zeros;
    if (match.weightZero)
      zeros = match.groupWise ? match.weightZero
                              : asVector(b, loc, match.weightZero, weightElement,
                                         "fused_weight_zero");
    Value inputScale, inputZero;
    if (match.mode == "static") {
      inputScale = asScalar(b, loc, match.inputScale, b.getF32Type(),
                            "fused_input_scale");
      Type zeroElement = tensorType(op.getLhs().getDefiningOp()->getOperand(0))
                             .getElementType();
      if (match.inputZero)
        inputZero = asScalar(b, loc, match.inputZero, zeroElement, "fused_input_zero");
      else
        inputZero = createWeightConstant(b, loc, RankedTensorType::get({}, zeroElement),
                                         SmallVector<char>{0}, "fused_input_zero");
    }
    if (!scales || (match.weightZero && !zeros) ||
        (match.mode == "static" && (!inputScale || !inputZero))) {
      if (emitRemarks)
        op->emitRemark("not fused as quantized_linear: a scale or zero point "
                       "does not fit its type");
      return;
    }
    auto resultType = cast<RankedTensorType>(match.last->getResult(0).getType());
    auto fused = b.create<tfm::QuantizedLinearOp>(
        loc, resultType, match.input, match.weight, scales, zeros, bias,
        /*residual=*/Value(), inputScale, inputZero, b.getStringAttr("none"),
        b.getStringAttr(match.mode), b.getI64IntegerAttr(match.weightBits));
    match.last->getResult(0).replaceAllUsesWith(fused.getResult());
    // The chain, from its end: each op whose result nothing reads now.
    SmallVector<Operation *> worklist = {match.last};
    llvm::SmallPtrSet<Operation *, 16> erased;
    while (!worklist.empty()) {
      Operation *dead = worklist.pop_back_val();
      if (erased.contains(dead) || !dead->use_empty() ||
          isa<tfm::ConstantOp>(dead) || !mlir::isPure(dead))
        continue;
      SmallVector<Value> operands(dead->getOperands());
      erased.insert(dead);
      dead->erase();
      for (Value operand : operands)
        if (Operation *def = operand.getDefiningOp())
          worklist.push_back(def);
    }
    ++numFused;
    if (emitRemarks)
      fused->emitRemark("fused quantized_linear: ")
          << (match.mode == "tensor" ? "dynamic (DynamicQuantizeLinear + MatMulInteger)"
              : match.mode == "none" ? "QDQ 4-bit weight-only (dequantized weight)"
                                     : "QDQ (dequantized input and weight)")
          << ", weight " << tensorType(match.weight).getDimSize(0) << "x" << cols
          << " " << weightElement
          << (match.groupWise ? ", groups of " +
                                    std::to_string(
                                        tensorType(match.weight).getDimSize(0) /
                                        tensorType(match.weightScale).getDimSize(0)) +
                                    " rows"
                              : std::string())
          << (bias ? ", bias" : "");
  }
};

} // namespace
