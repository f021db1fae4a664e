//===- FuseGelu.cpp - the tfm-fuse-gelu pass ------------------------------===//
//
// ONNX has a Gelu op only from opset 20; before that exporters write it out:
//
//   erf form:  0.5 * x * (1 + erf(x / sqrt(2)))      (x * 0.7071... also)
//   tanh form: 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))
//
// with the three factors 0.5, x and (1 + ...) multiplied in any order. The
// pass anchors on the Erf or Tanh, proves the constants and the operand
// (every x must be the same value), and replaces the product with one
// tfm.gelu carrying the approximation.
//
//===----------------------------------------------------------------------===//

#include "FusionUtils.h"
#include "tfc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/Transforms/RegionUtils.h"
#include "tfm/TfmOps.h"

#include <cmath>

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSEGELU
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// x when `value` is x / sqrt(2) or x * (1 / sqrt(2)).
Value matchDivBySqrt2(Value value) {
  Operation *op = value.getDefiningOp();
  if (auto div = dyn_cast_or_null<tfm::DivOp>(op))
    return isScalarConstant(div.getRhs(), std::sqrt(2.0)) ? div.getLhs() : Value();
  if (auto mul = dyn_cast_or_null<tfm::MulOp>(op)) {
    for (auto [x, c] : {std::pair{mul.getLhs(), mul.getRhs()},
                        std::pair{mul.getRhs(), mul.getLhs()}})
      if (isScalarConstant(c, 1.0 / std::sqrt(2.0)))
        return x;
  }
  return {};
}

/// The product of `value` with a scalar constant `c`: the other factor.
Value matchScaledBy(Value value, double c) {
  auto mul = dyn_cast_or_null<tfm::MulOp>(value.getDefiningOp());
  if (!mul)
    return {};
  if (isScalarConstant(mul.getRhs(), c))
    return mul.getLhs();
  if (isScalarConstant(mul.getLhs(), c))
    return mul.getRhs();
  return {};
}

/// x when `value` is x^3: Pow(x, 3), x * x * x in either association.
Value matchCube(Value value) {
  Operation *op = value.getDefiningOp();
  if (auto pow = dyn_cast_or_null<tfm::PowOp>(op))
    return isScalarConstant(pow.getExponent(), 3.0) ? pow.getBase() : Value();
  auto mul = dyn_cast_or_null<tfm::MulOp>(op);
  if (!mul)
    return {};
  for (auto [x, square] : {std::pair{mul.getLhs(), mul.getRhs()},
                           std::pair{mul.getRhs(), mul.getLhs()}})
    if (auto sq = dyn_cast_or_null<tfm::MulOp>(square.getDefiningOp());
        sq && sq.getLhs() == x && sq.getRhs() == x)
      return x;
  return {};
}

/// x when `value` is sqrt(2/pi) * (x + 0.044715 * x^3) (or with the first
/// product distributed: sqrt(2/pi) * x + ...; not seen in exports, so not
/// matched).
Value matchTanhArgument(Value value) {
  Value inner = matchScaledBy(value, std::sqrt(2.0 / M_PI));
  auto add = dyn_cast_or_null<tfm::AddOp>(inner ? inner.getDefiningOp() : nullptr);
  if (!add)
    return {};
  for (auto [x, cubic] : {std::pair{add.getLhs(), add.getRhs()},
                          std::pair{add.getRhs(), add.getLhs()}}) {
    Value cube = matchScaledBy(cubic, 0.044715);
    if (cube && matchCube(cube) == x)
      return x;
  }
  return {};
}

/// Given `onePlus` = 1 + erf(...) or 1 + tanh(...), finds the product
/// 0.5 * x * onePlus in its orders and returns its last op.
Operation *matchHalfXTimes(Value onePlus, Value x) {
  auto first = dyn_cast_or_null<tfm::MulOp>(getSingleUser(onePlus));
  if (!first)
    return nullptr;
  Value other = getOtherOperand(first, onePlus);
  // (x * onePlus) * 0.5  or  (onePlus * 0.5) * x
  if (other == x || isScalarConstant(other, 0.5)) {
    auto second = dyn_cast_or_null<tfm::MulOp>(getSingleUser(first));
    if (!second)
      return nullptr;
    Value last = getOtherOperand(second, first.getResult());
    bool ok = other == x ? isScalarConstant(last, 0.5) : last == x;
    return ok ? second.getOperation() : nullptr;
  }
  // (x * 0.5) * onePlus
  if (matchScaledBy(other, 0.5) == x)
    return first;
  return nullptr;
}

struct FuseGeluPass : public tfc::impl::FuseGeluBase<FuseGeluPass> {
  using FuseGeluBase::FuseGeluBase;

  void runOnOperation() override {
    FusionRemarks remarks("gelu", emitRemarks);
    SmallVector<Operation *> anchors;
    getOperation().walk([&](Operation *op) {
      if (isa<tfm::ErfOp, tfm::TanhOp>(op))
        anchors.push_back(op);
    });
    for (Operation *anchor : anchors)
      if (succeeded(fuse(anchor, remarks)))
        ++numGelu;
    IRRewriter rewriter(&getContext());
    (void)runRegionDCE(rewriter, getOperation()->getRegions());
  }

  LogicalResult fuse(Operation *anchor, const FusionRemarks &remarks) {
    bool isErf = isa<tfm::ErfOp>(anchor);
    Value argument = anchor->getOperand(0);
    Value x = isErf ? matchDivBySqrt2(argument) : matchTanhArgument(argument);
    if (!x)
      return isErf ? remarks.reject(anchor, "the argument is not x / sqrt(2)")
                   : failure(); // a tanh that is just a tanh
    auto onePlus = dyn_cast_or_null<tfm::AddOp>(getSingleUser(anchor->getResult(0)));
    if (!onePlus || !isScalarConstant(getOtherOperand(onePlus, anchor->getResult(0)), 1.0))
      return remarks.reject(anchor, Twine(isErf ? "erf" : "tanh") +
                                        "(...) is not followed by + 1");
    Operation *last = matchHalfXTimes(onePlus.getResult(), x);
    if (!last)
      return remarks.reject(anchor, "1 + " + Twine(isErf ? "erf" : "tanh") +
                                        "(...) is not multiplied by 0.5 and x");
    if (last->getResult(0).getType() != x.getType())
      return remarks.reject(anchor, "the product broadcasts x to another shape");
    OpBuilder b(last);
    auto gelu = b.create<tfm::GeluOp>(last->getLoc(), x.getType(), x,
                                      b.getStringAttr(isErf ? "none" : "tanh"));
    remarks.fused(gelu, isErf ? "erf form" : "tanh form");
    last->getResult(0).replaceAllUsesWith(gelu.getResult());
    return success();
  }
};

} // namespace
