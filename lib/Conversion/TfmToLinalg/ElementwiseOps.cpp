//===- ElementwiseOps.cpp - tfm elementwise ops to linalg.generic ---------===//
//
// Every elementwise tfm op becomes one linalg.generic whose body is the
// scalar computation below. The scalar builders see signless values and get
// the original tfm element type to recover integer signedness.
//
//===----------------------------------------------------------------------===//

#include "tfc/Conversion/LoweringUtils.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// What a scalar builder knows: the builder, the scalars, the op and the
/// original (tfm) element type of its first operand.
struct ScalarContext {
  OpBuilder &b;
  Location loc;
  ValueRange args;
  Type originalType;

  bool isFloat() const { return isa<FloatType>(args[0].getType()); }
  bool isUnsigned() const {
    return originalType.isUnsignedInteger() || originalType.isInteger(1);
  }
  Value constant(double value) const {
    return createScalarConstant(b, loc, args[0].getType(), value);
  }
};

/// Applies `fn` in f32 when `x` is a narrower float: libm and the math
/// dialect's lowerings only cover f32 and f64.
template <typename Fn>
Value inWideFloat(OpBuilder &b, Location loc, Value x, Fn fn) {
  auto type = cast<FloatType>(x.getType());
  if (type.getWidth() >= 32)
    return fn(x);
  Value wide = b.create<arith::ExtFOp>(loc, b.getF32Type(), x);
  return b.create<arith::TruncFOp>(loc, type, fn(wide));
}

Value buildScalar(tfm::AddOp, const ScalarContext &c) {
  if (c.isFloat())
    return c.b.create<arith::AddFOp>(c.loc, c.args[0], c.args[1]);
  return c.b.create<arith::AddIOp>(c.loc, c.args[0], c.args[1]);
}
Value buildScalar(tfm::SubOp, const ScalarContext &c) {
  if (c.isFloat())
    return c.b.create<arith::SubFOp>(c.loc, c.args[0], c.args[1]);
  return c.b.create<arith::SubIOp>(c.loc, c.args[0], c.args[1]);
}
Value buildScalar(tfm::MulOp, const ScalarContext &c) {
  if (c.isFloat())
    return c.b.create<arith::MulFOp>(c.loc, c.args[0], c.args[1]);
  return c.b.create<arith::MulIOp>(c.loc, c.args[0], c.args[1]);
}
Value buildScalar(tfm::DivOp, const ScalarContext &c) {
  OpBuilder &b = c.b;
  Location loc = c.loc;
  Value lhs = c.args[0], rhs = c.args[1];
  if (c.isFloat())
    return b.create<arith::DivFOp>(loc, lhs, rhs);
  // Integer division by zero traps on x86; ONNX leaves it undefined, and a
  // bad input must not crash the app, so the result is 0 there. INT_MIN / -1
  // traps too; it is computed as a wrapping negation.
  Value zero = c.constant(0);
  Value isZero = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, rhs, zero);
  Value safeRhs = b.create<arith::SelectOp>(loc, isZero, c.constant(1), rhs);
  Value quotient;
  if (c.isUnsigned()) {
    quotient = b.create<arith::DivUIOp>(loc, lhs, safeRhs);
  } else {
    Value minusOne = c.constant(-1);
    Value isMinusOne =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, safeRhs, minusOne);
    Value divisor = b.create<arith::SelectOp>(loc, isMinusOne, c.constant(1), safeRhs);
    Value divided = b.create<arith::DivSIOp>(loc, lhs, divisor);
    Value negated = b.create<arith::SubIOp>(loc, zero, lhs);
    quotient = b.create<arith::SelectOp>(loc, isMinusOne, negated, divided);
  }
  return b.create<arith::SelectOp>(loc, isZero, zero, quotient);
}
Value buildScalar(tfm::MaxOp, const ScalarContext &c) {
  if (c.isFloat())
    return c.b.create<arith::MaximumFOp>(c.loc, c.args[0], c.args[1]);
  if (c.isUnsigned())
    return c.b.create<arith::MaxUIOp>(c.loc, c.args[0], c.args[1]);
  return c.b.create<arith::MaxSIOp>(c.loc, c.args[0], c.args[1]);
}
Value buildScalar(tfm::MinOp, const ScalarContext &c) {
  if (c.isFloat())
    return c.b.create<arith::MinimumFOp>(c.loc, c.args[0], c.args[1]);
  if (c.isUnsigned())
    return c.b.create<arith::MinUIOp>(c.loc, c.args[0], c.args[1]);
  return c.b.create<arith::MinSIOp>(c.loc, c.args[0], c.args[1]);
}

Value compare(const ScalarContext &c, arith::CmpFPredicate floatPredicate,
              arith::CmpIPredicate signedPredicate,
              arith::CmpIPredicate unsignedPredicate) {
  if (c.isFloat())
    return c.b.create<arith::CmpFOp>(c.loc, floatPredicate, c.args[0], c.args[1]);
  return c.b.create<arith::CmpIOp>(c.loc,
                                   c.isUnsigned() ? unsignedPredicate : signedPredicate,
                                   c.args[0], c.args[1]);
}
Value buildScalar(tfm::EqualOp, const ScalarContext &c) {
  return compare(c, arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq,
                 arith::CmpIPredicate::eq);
}
Value buildScalar(tfm::LessOp, const ScalarContext &c) {
  return compare(c, arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
                 arith::CmpIPredicate::ult);
}
Value buildScalar(tfm::LessOrEqualOp, const ScalarContext &c) {
  return compare(c, arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle,
                 arith::CmpIPredicate::ule);
}
Value buildScalar(tfm::GreaterOp, const ScalarContext &c) {
  return compare(c, arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
                 arith::CmpIPredicate::ugt);
}
Value buildScalar(tfm::GreaterOrEqualOp, const ScalarContext &c) {
  return compare(c, arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge,
                 arith::CmpIPredicate::uge);
}
Value buildScalar(tfm::AndOp, const ScalarContext &c) {
  return c.b.create<arith::AndIOp>(c.loc, c.args[0], c.args[1]);
}
Value buildScalar(tfm::OrOp, const ScalarContext &c) {
  return c.b.create<arith::OrIOp>(c.loc, c.args[0], c.args[1]);
}
Value buildScalar(tfm::XorOp, const ScalarContext &c) {
  return c.b.create<arith::XOrIOp>(c.loc, c.args[0], c.args[1]);
}
Value buildScalar(tfm::NotOp, const ScalarContext &c) {
  return c.b.create<arith::XOrIOp>(c.loc, c.args[0], c.constant(1));
}

Value buildScalar(tfm::NegOp, const ScalarContext &c) {
  if (c.isFloat())
    return c.b.create<arith::NegFOp>(c.loc, c.args[0]);
  return c.b.create<arith::SubIOp>(c.loc, c.constant(0), c.args[0]);
}
Value buildScalar(tfm::AbsOp, const ScalarContext &c) {
  if (c.isFloat())
    return c.b.create<math::AbsFOp>(c.loc, c.args[0]);
  if (c.isUnsigned())
    return c.args[0];
  return c.b.create<math::AbsIOp>(c.loc, c.args[0]);
}

template <typename MathOp>
Value floatMath(const ScalarContext &c) {
  return inWideFloat(c.b, c.loc, c.args[0], [&](Value x) -> Value {
    return c.b.create<MathOp>(c.loc, x);
  });
}
Value buildScalar(tfm::SqrtOp, const ScalarContext &c) { return floatMath<math::SqrtOp>(c); }
Value buildScalar(tfm::ExpOp, const ScalarContext &c) { return floatMath<math::ExpOp>(c); }
Value buildScalar(tfm::LogOp, const ScalarContext &c) { return floatMath<math::LogOp>(c); }
Value buildScalar(tfm::ErfOp, const ScalarContext &c) { return floatMath<math::ErfOp>(c); }
Value buildScalar(tfm::TanhOp, const ScalarContext &c) { return floatMath<math::TanhOp>(c); }
Value buildScalar(tfm::SinOp, const ScalarContext &c) { return floatMath<math::SinOp>(c); }
Value buildScalar(tfm::CosOp, const ScalarContext &c) { return floatMath<math::CosOp>(c); }
Value buildScalar(tfm::FloorOp, const ScalarContext &c) { return floatMath<math::FloorOp>(c); }
Value buildScalar(tfm::CeilOp, const ScalarContext &c) { return floatMath<math::CeilOp>(c); }
Value buildScalar(tfm::TanOp, const ScalarContext &c) { return floatMath<math::TanOp>(c); }
Value buildScalar(tfm::AsinOp, const ScalarContext &c) { return floatMath<math::AsinOp>(c); }
Value buildScalar(tfm::AcosOp, const ScalarContext &c) { return floatMath<math::AcosOp>(c); }
Value buildScalar(tfm::AtanOp, const ScalarContext &c) { return floatMath<math::AtanOp>(c); }
Value buildScalar(tfm::SinhOp, const ScalarContext &c) { return floatMath<math::SinhOp>(c); }
Value buildScalar(tfm::CoshOp, const ScalarContext &c) { return floatMath<math::CoshOp>(c); }
Value buildScalar(tfm::AsinhOp, const ScalarContext &c) { return floatMath<math::AsinhOp>(c); }
Value buildScalar(tfm::AcoshOp, const ScalarContext &c) { return floatMath<math::AcoshOp>(c); }
Value buildScalar(tfm::AtanhOp, const ScalarContext &c) { return floatMath<math::AtanhOp>(c); }
/// ONNX rounds halves to even (numpy's round).
Value buildScalar(tfm::RoundOp, const ScalarContext &c) {
  return floatMath<math::RoundEvenOp>(c);
}

/// -1, 0 or 1 by the sign; a float NaN passes through.
Value buildScalar(tfm::SignOp, const ScalarContext &c) {
  OpBuilder &b = c.b;
  Location loc = c.loc;
  Value x = c.args[0];
  Value zero = c.constant(0), one = c.constant(1);
  if (c.isFloat()) {
    Value positive = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, x, zero);
    Value negative = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x, zero);
    Value isNaN = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNO, x, x);
    Value sign = b.create<arith::SelectOp>(
        loc, positive, one,
        b.create<arith::SelectOp>(loc, negative, c.constant(-1), zero));
    return b.create<arith::SelectOp>(loc, isNaN, x, sign);
  }
  Value positive = b.create<arith::CmpIOp>(
      loc, c.isUnsigned() ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt,
      x, zero);
  if (c.isUnsigned())
    return b.create<arith::SelectOp>(loc, positive, one, zero);
  Value negative = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, x, zero);
  return b.create<arith::SelectOp>(
      loc, positive, one,
      b.create<arith::SelectOp>(loc, negative, c.constant(-1), zero));
}

Value buildScalar(tfm::IsNaNOp, const ScalarContext &c) {
  return c.b.create<arith::CmpFOp>(c.loc, arith::CmpFPredicate::UNO, c.args[0],
                                   c.args[0]);
}
Value buildScalar(tfm::IsInfOp op, const ScalarContext &c) {
  OpBuilder &b = c.b;
  Location loc = c.loc;
  Type type = c.args[0].getType();
  auto infinity = [&](bool negative) -> Value {
    auto floatType = cast<FloatType>(type);
    return b.create<arith::ConstantOp>(
        loc, b.getFloatAttr(floatType, APFloat::getInf(floatType.getFloatSemantics(),
                                                       negative)));
  };
  Value result = b.create<arith::ConstantIntOp>(loc, 0, 1);
  if (op.getDetectPositive())
    result = b.create<arith::OrIOp>(
        loc, result,
        b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, c.args[0],
                                infinity(false)));
  if (op.getDetectNegative())
    result = b.create<arith::OrIOp>(
        loc, result,
        b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, c.args[0],
                                infinity(true)));
  return result;
}

/// Shifts by the width or more give 0.
Value buildScalar(tfm::BitShiftOp op, const ScalarContext &c) {
  OpBuilder &b = c.b;
  Location loc = c.loc;
  Value value = c.args[0], amount = c.args[1];
  unsigned width = value.getType().getIntOrFloatBitWidth();
  Value tooFar = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::uge, amount,
                                         c.constant(width));
  Value shifted = op.getDirection() == "left"
                      ? b.create<arith::ShLIOp>(loc, value, amount).getResult()
                      : b.create<arith::ShRUIOp>(loc, value, amount).getResult();
  return b.create<arith::SelectOp>(loc, tooFar, c.constant(0), shifted);
}

/// Mod: floats take C's fmod (frem); integers the remainder with the
/// divisor's sign unless `fmod`, 0 for a divisor of 0 (no trap), and
/// INT_MIN % -1 = 0 without the division that traps.
Value buildScalar(tfm::ModOp op, const ScalarContext &c) {
  OpBuilder &b = c.b;
  Location loc = c.loc;
  Value lhs = c.args[0], rhs = c.args[1];
  if (c.isFloat())
    return inWideFloat(b, loc, lhs, [&](Value x) -> Value {
      Value y = rhs.getType() == x.getType()
                    ? rhs
                    : b.create<arith::ExtFOp>(loc, x.getType(), rhs);
      return b.create<arith::RemFOp>(loc, x, y);
    });
  Value zero = c.constant(0);
  Value isZero = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, rhs, zero);
  if (c.isUnsigned()) {
    Value safeRhs = b.create<arith::SelectOp>(loc, isZero, c.constant(1), rhs);
    Value remainder = b.create<arith::RemUIOp>(loc, lhs, safeRhs);
    return b.create<arith::SelectOp>(loc, isZero, zero, remainder);
  }
  // A divisor of 0 or -1 leaves no remainder; dividing by 1 instead avoids
  // both the trap on 0 and the one on INT_MIN / -1.
  Value isMinusOne =
      b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, rhs, c.constant(-1));
  Value noRemainder = b.create<arith::OrIOp>(loc, isZero, isMinusOne);
  Value safeRhs = b.create<arith::SelectOp>(loc, noRemainder, c.constant(1), rhs);
  Value remainder = b.create<arith::RemSIOp>(loc, lhs, safeRhs);
  if (!op.getFmod()) {
    // Python's %: a nonzero remainder whose sign differs from the divisor's
    // moves by one divisor.
    Value nonzero =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, remainder, zero);
    Value remainderNegative =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, remainder, zero);
    Value divisorNegative =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, safeRhs, zero);
    Value signsDiffer = b.create<arith::XOrIOp>(loc, remainderNegative, divisorNegative);
    Value adjust = b.create<arith::AndIOp>(loc, nonzero, signsDiffer);
    remainder = b.create<arith::SelectOp>(
        loc, adjust, b.create<arith::AddIOp>(loc, remainder, safeRhs), remainder);
  }
  return b.create<arith::SelectOp>(loc, noRemainder, zero, remainder);
}

Value buildScalar(tfm::ReciprocalOp, const ScalarContext &c) {
  return c.b.create<arith::DivFOp>(c.loc, c.constant(1.0), c.args[0]);
}
Value buildScalar(tfm::ReluOp, const ScalarContext &c) {
  if (c.isFloat())
    return c.b.create<arith::MaximumFOp>(c.loc, c.args[0], c.constant(0.0));
  if (c.isUnsigned())
    return c.args[0];
  return c.b.create<arith::MaxSIOp>(c.loc, c.args[0], c.constant(0));
}
Value buildScalar(tfm::SigmoidOp, const ScalarContext &c) {
  return inWideFloat(c.b, c.loc, c.args[0], [&](Value x) -> Value {
    OpBuilder &b = c.b;
    Type type = x.getType();
    Value one = createScalarConstant(b, c.loc, type, 1.0);
    Value expNeg = b.create<math::ExpOp>(c.loc, b.create<arith::NegFOp>(c.loc, x));
    return b.create<arith::DivFOp>(c.loc, one,
                                   b.create<arith::AddFOp>(c.loc, one, expNeg));
  });
}

//===--- Activations --------------------------------------------------------//
// Each computed in f32 or wider (inWideFloat), exp(x) - 1 and log(1 + y)
// spelled out: MLIR lowers math.expm1 and math.log1p to the same.

/// The scalar helpers of the activations below, for one float type.
struct FloatScalars {
  OpBuilder &b;
  Location loc;
  Type type;

  Value constant(double v) { return createScalarConstant(b, loc, type, v); }
  Value add(Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.create<arith::SubFOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.create<arith::MulFOp>(loc, x, y); }
  Value div(Value x, Value y) { return b.create<arith::DivFOp>(loc, x, y); }
  Value max(Value x, Value y) { return b.create<arith::MaximumFOp>(loc, x, y); }
  Value min(Value x, Value y) { return b.create<arith::MinimumFOp>(loc, x, y); }
  Value exp(Value x) { return b.create<math::ExpOp>(loc, x); }
  Value log(Value x) { return b.create<math::LogOp>(loc, x); }
  Value abs(Value x) { return b.create<math::AbsFOp>(loc, x); }
  Value tanh(Value x) { return b.create<math::TanhOp>(loc, x); }
  Value less(Value x, Value y) {
    return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT, x, y);
  }
  Value greater(Value x, Value y) {
    return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, x, y);
  }
  Value select(Value condition, Value x, Value y) {
    return b.create<arith::SelectOp>(loc, condition, x, y);
  }
  /// log(1 + exp(x)) as max(x, 0) + log(1 + exp(-|x|)): exp never
  /// overflows, and large x give x.
  Value softplus(Value x) {
    return add(max(x, constant(0.0)),
               log(add(constant(1.0), exp(b.create<arith::NegFOp>(loc, abs(x))))));
  }
  /// min(1, max(0, alpha x + beta)).
  Value hardSigmoid(Value x, double alpha, double beta) {
    return min(constant(1.0),
               max(constant(0.0), add(mul(constant(alpha), x), constant(beta))));
  }
};

/// Runs `fn(scalars, x)` on the op's operand in f32 or wider.
template <typename Fn>
Value activation(const ScalarContext &c, Fn fn) {
  return inWideFloat(c.b, c.loc, c.args[0], [&](Value x) -> Value {
    FloatScalars f{c.b, c.loc, x.getType()};
    return fn(f, x);
  });
}

Value buildScalar(tfm::EluOp op, const ScalarContext &c) {
  double alpha = op.getAlpha().convertToFloat();
  return activation(c, [&](FloatScalars &f, Value x) {
    Value negative = f.mul(f.constant(alpha), f.sub(f.exp(x), f.constant(1.0)));
    return f.select(f.less(x, f.constant(0.0)), negative, x);
  });
}
Value buildScalar(tfm::CeluOp op, const ScalarContext &c) {
  double alpha = op.getAlpha().convertToFloat();
  return activation(c, [&](FloatScalars &f, Value x) {
    Value scaled = f.div(x, f.constant(alpha));
    Value negative = f.mul(f.constant(alpha), f.sub(f.exp(scaled), f.constant(1.0)));
    return f.add(f.max(f.constant(0.0), x), f.min(f.constant(0.0), negative));
  });
}
Value buildScalar(tfm::SeluOp op, const ScalarContext &c) {
  double alpha = op.getAlpha().convertToFloat();
  double gamma = op.getGamma().convertToFloat();
  return activation(c, [&](FloatScalars &f, Value x) {
    Value negative = f.mul(f.constant(alpha), f.sub(f.exp(x), f.constant(1.0)));
    Value inner = f.select(f.greater(x, f.constant(0.0)), x, negative);
    return f.mul(f.constant(gamma), inner);
  });
}
Value buildScalar(tfm::LeakyReluOp op, const ScalarContext &c) {
  double alpha = op.getAlpha().convertToFloat();
  return activation(c, [&](FloatScalars &f, Value x) {
    return f.select(f.less(x, f.constant(0.0)), f.mul(f.constant(alpha), x), x);
  });
}
Value buildScalar(tfm::ThresholdedReluOp op, const ScalarContext &c) {
  double alpha = op.getAlpha().convertToFloat();
  return activation(c, [&](FloatScalars &f, Value x) {
    return f.select(f.greater(x, f.constant(alpha)), x, f.constant(0.0));
  });
}
Value buildScalar(tfm::HardSigmoidOp op, const ScalarContext &c) {
  double alpha = op.getAlpha().convertToFloat();
  double beta = op.getBeta().convertToFloat();
  return activation(c, [&](FloatScalars &f, Value x) {
    return f.hardSigmoid(x, alpha, beta);
  });
}
Value buildScalar(tfm::HardSwishOp, const ScalarContext &c) {
  return activation(c, [&](FloatScalars &f, Value x) {
    return f.mul(x, f.hardSigmoid(x, 1.0 / 6.0, 0.5));
  });
}
Value buildScalar(tfm::SoftplusOp, const ScalarContext &c) {
  return activation(c, [&](FloatScalars &f, Value x) { return f.softplus(x); });
}
Value buildScalar(tfm::SoftsignOp, const ScalarContext &c) {
  return activation(c, [&](FloatScalars &f, Value x) {
    return f.div(x, f.add(f.constant(1.0), f.abs(x)));
  });
}
Value buildScalar(tfm::MishOp, const ScalarContext &c) {
  return activation(c, [&](FloatScalars &f, Value x) {
    return f.mul(x, f.tanh(f.softplus(x)));
  });
}
Value buildScalar(tfm::PReluOp, const ScalarContext &c) {
  Value slope = c.args[1];
  return inWideFloat(c.b, c.loc, c.args[0], [&](Value x) -> Value {
    FloatScalars f{c.b, c.loc, x.getType()};
    Value wideSlope = slope.getType() == x.getType()
                          ? slope
                          : c.b.create<arith::ExtFOp>(c.loc, x.getType(), slope);
    return f.select(f.less(x, f.constant(0.0)), f.mul(wideSlope, x), x);
  });
}

/// Gelu with its approximation attribute; exact is the erf form.
Value buildGelu(const ScalarContext &c, bool tanhApproximation) {
  return inWideFloat(c.b, c.loc, c.args[0], [&](Value x) -> Value {
    OpBuilder &b = c.b;
    Location loc = c.loc;
    Type type = x.getType();
    auto constant = [&](double v) { return createScalarConstant(b, loc, type, v); };
    Value inner;
    if (tanhApproximation) {
      Value cube = b.create<arith::MulFOp>(loc, b.create<arith::MulFOp>(loc, x, x), x);
      Value poly = b.create<arith::AddFOp>(
          loc, x, b.create<arith::MulFOp>(loc, constant(0.044715), cube));
      inner = b.create<math::TanhOp>(
          loc, b.create<arith::MulFOp>(loc, constant(0.7978845608028654), poly));
    } else {
      inner = b.create<math::ErfOp>(
          loc, b.create<arith::MulFOp>(loc, x, constant(0.7071067811865476)));
    }
    Value onePlus = b.create<arith::AddFOp>(loc, constant(1.0), inner);
    Value half = b.create<arith::MulFOp>(loc, constant(0.5), x);
    return b.create<arith::MulFOp>(loc, half, onePlus);
  });
}

} // namespace

Value mlir::tfc::buildActivation(OpBuilder &b, Location loc, Value x,
                                 StringRef activation) {
  SmallVector<Value, 1> args = {x};
  ScalarContext context{b, loc, args, x.getType()};
  if (activation == "gelu" || activation == "gelu_tanh")
    return buildGelu(context, activation == "gelu_tanh");
  if (activation == "relu")
    return buildScalar(tfm::ReluOp(), context);
  return x;
}

namespace {

/// Ops whose every operand must be float.
template <typename OpTy>
constexpr bool kFloatOnly =
    llvm::is_one_of<OpTy, tfm::SqrtOp, tfm::ExpOp, tfm::LogOp, tfm::ErfOp,
                    tfm::TanhOp, tfm::SinOp, tfm::CosOp, tfm::FloorOp,
                    tfm::CeilOp, tfm::ReciprocalOp, tfm::SigmoidOp,
                    tfm::GeluOp, tfm::EluOp, tfm::CeluOp, tfm::SeluOp,
                    tfm::LeakyReluOp, tfm::ThresholdedReluOp,
                    tfm::HardSigmoidOp, tfm::HardSwishOp, tfm::SoftplusOp,
                    tfm::SoftsignOp, tfm::MishOp, tfm::PReluOp, tfm::TanOp,
                    tfm::AsinOp, tfm::AcosOp, tfm::AtanOp, tfm::SinhOp,
                    tfm::CoshOp, tfm::AsinhOp, tfm::AcoshOp, tfm::AtanhOp,
                    tfm::RoundOp, tfm::IsNaNOp, tfm::IsInfOp>::value;

template <typename OpTy>
struct ElementwisePattern : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = dyn_cast_or_null<RankedTensorType>(
        this->getTypeConverter()->convertType(op.getType()));
    if (!resultType)
      return rewriter.notifyMatchFailure(op, "unsupported result type");
    Type originalType = elementTypeOf(op->getOperand(0));
    if (kFloatOnly<OpTy> && !isa<FloatType>(originalType))
      return op.emitOpError("is only defined for floating-point tensors");
    Value result = buildBroadcastElementwise(
        rewriter, op.getLoc(), op, adaptor.getOperands(), resultType,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          ScalarContext context{b, loc, args, originalType};
          if constexpr (std::is_same_v<OpTy, tfm::GeluOp>)
            return buildGelu(context, op.getApproximation() == "tanh");
          else
            return buildScalar(op, context);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Pow: the exponent may have another type; the result has the base's.
struct PowPattern : OpConversionPattern<tfm::PowOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::PowOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(
        getTypeConverter()->convertType(op.getType()));
    Type baseType = elementTypeOf(op.getBase());
    Type exponentType = elementTypeOf(op.getExponent());
    Value result = buildBroadcastElementwise(
        rewriter, op.getLoc(), op, adaptor.getOperands(), resultType,
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          // Integer powers are computed in f64 and truncated, as ONNX
          // Runtime does; float bases keep their width.
          Type computeType = isa<FloatType>(args[0].getType())
                                 ? args[0].getType()
                                 : Type(b.getF64Type());
          Value base = convertScalar(b, loc, args[0], computeType,
                                     baseType.isUnsignedInteger(), false);
          Value exponent = convertScalar(b, loc, args[1], computeType,
                                         exponentType.isUnsignedInteger(), false);
          Value power = inWideFloat(b, loc, base, [&](Value wideBase) -> Value {
            Value wideExponent =
                convertScalar(b, loc, exponent, wideBase.getType(), false, false);
            return b.create<math::PowFOp>(loc, wideBase, wideExponent);
          });
          return convertScalar(b, loc, power, args[0].getType(), false,
                               baseType.isUnsignedInteger());
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct CastPattern : OpConversionPattern<tfm::CastOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::CastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(
        getTypeConverter()->convertType(op.getType()));
    Type fromType = elementTypeOf(op.getInput());
    Type toType = op.getTo();
    Value result = buildBroadcastElementwise(
        rewriter, op.getLoc(), op, adaptor.getInput(), resultType,
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return convertScalar(b, loc, args[0], resultType.getElementType(),
                               fromType.isUnsignedInteger(),
                               toType.isUnsignedInteger());
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct WherePattern : OpConversionPattern<tfm::WhereOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::WhereOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType = cast<RankedTensorType>(
        getTypeConverter()->convertType(op.getType()));
    Value result = buildBroadcastElementwise(
        rewriter, op.getLoc(), op, adaptor.getOperands(), resultType,
        [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
          return b.create<arith::SelectOp>(loc, args[0], args[1], args[2]);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Identity and inference-time Dropout forward their input.
template <typename OpTy>
struct ForwardPattern : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value input = adaptor.getInput();
    Type resultType = this->getTypeConverter()->convertType(op.getType());
    if (input.getType() != resultType)
      input = rewriter.create<tensor::CastOp>(op.getLoc(), resultType, input);
    rewriter.replaceOp(op, input);
    return success();
  }
};

} // namespace

void mlir::tfc::populateElementwisePatterns(TypeConverter &converter,
                                            RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns.add<
      ElementwisePattern<tfm::AddOp>, ElementwisePattern<tfm::SubOp>,
      ElementwisePattern<tfm::MulOp>, ElementwisePattern<tfm::DivOp>,
      ElementwisePattern<tfm::MaxOp>, ElementwisePattern<tfm::MinOp>,
      ElementwisePattern<tfm::EqualOp>, ElementwisePattern<tfm::LessOp>,
      ElementwisePattern<tfm::LessOrEqualOp>, ElementwisePattern<tfm::GreaterOp>,
      ElementwisePattern<tfm::GreaterOrEqualOp>, ElementwisePattern<tfm::AndOp>,
      ElementwisePattern<tfm::OrOp>, ElementwisePattern<tfm::XorOp>,
      ElementwisePattern<tfm::NotOp>, ElementwisePattern<tfm::NegOp>,
      ElementwisePattern<tfm::AbsOp>, ElementwisePattern<tfm::SqrtOp>,
      ElementwisePattern<tfm::ExpOp>, ElementwisePattern<tfm::LogOp>,
      ElementwisePattern<tfm::ErfOp>, ElementwisePattern<tfm::TanhOp>,
      ElementwisePattern<tfm::SinOp>, ElementwisePattern<tfm::CosOp>,
      ElementwisePattern<tfm::FloorOp>, ElementwisePattern<tfm::CeilOp>,
      ElementwisePattern<tfm::ReciprocalOp>, ElementwisePattern<tfm::ReluOp>,
      ElementwisePattern<tfm::SigmoidOp>, ElementwisePattern<tfm::GeluOp>,
      ElementwisePattern<tfm::EluOp>, ElementwisePattern<tfm::CeluOp>,
      ElementwisePattern<tfm::SeluOp>, ElementwisePattern<tfm::LeakyReluOp>,
      ElementwisePattern<tfm::ThresholdedReluOp>,
      ElementwisePattern<tfm::HardSigmoidOp>,
      ElementwisePattern<tfm::HardSwishOp>, ElementwisePattern<tfm::SoftplusOp>,
      ElementwisePattern<tfm::SoftsignOp>, ElementwisePattern<tfm::MishOp>,
      ElementwisePattern<tfm::PReluOp>, ElementwisePattern<tfm::TanOp>,
      ElementwisePattern<tfm::AsinOp>, ElementwisePattern<tfm::AcosOp>,
      ElementwisePattern<tfm::AtanOp>, ElementwisePattern<tfm::SinhOp>,
      ElementwisePattern<tfm::CoshOp>, ElementwisePattern<tfm::AsinhOp>,
      ElementwisePattern<tfm::AcoshOp>, ElementwisePattern<tfm::AtanhOp>,
      ElementwisePattern<tfm::RoundOp>, ElementwisePattern<tfm::SignOp>,
      ElementwisePattern<tfm::IsNaNOp>, ElementwisePattern<tfm::IsInfOp>,
      ElementwisePattern<tfm::ModOp>, ElementwisePattern<tfm::BitShiftOp>,
      PowPattern, CastPattern, WherePattern, ForwardPattern<tfm::IdentityOp>,
      ForwardPattern<tfm::DropoutOp>>(converter, context);
}
