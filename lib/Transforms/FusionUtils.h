//===- FusionUtils.h - what the tfm fusion passes share ----------*- C++ -*-===//
//
// The fusion passes recognize decompositions that exporters emit and must
// prove, not guess, that a candidate computes what the fused op computes:
// constants with the right values, reductions over the right axes, and
// reshapes that split or merge exactly the dims the fused op assumes. With
// symbolic batch and sequence dims, the last needs a small symbolic algebra
// over dims: SymbolicDim says "dim i of value v, plus a constant", traced back
// through the ops that keep a dim (transposes, elementwise ops, reshapes
// whose target copies it), so that two dims read through different paths
// compare equal when they are the same.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_LIB_TRANSFORMS_FUSIONUTILS_H
#define TFC_LIB_TRANSFORMS_FUSIONUTILS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Value.h"
#include "tfm/TfmOps.h"

#include <optional>
#include <vector>

namespace mlir::tfc {

/// The single element of a constant that holds one value everywhere (a
/// splat of any shape, float or integer), as a double.
std::optional<double> getScalarConstant(Value value);

/// Whether `value` is a scalar constant within `relativeTolerance` of
/// `expected` (exporters print constants such as 1/sqrt(2) to float
/// precision).
bool isScalarConstant(Value value, double expected,
                      double relativeTolerance = 1e-6);

/// The elements of a constant boolean tensor, inline or a blob (one byte per
/// element, as ONNX stores them), or nullopt.
std::optional<SmallVector<bool>> getConstantBools(Value value);

/// The elements of a constant f32 tensor, inline or a blob, or nullopt.
std::optional<SmallVector<float>> getConstantFloats(Value value);

/// Reads a constant f32 tensor of `count` elements where it lies when it is
/// a weights blob (`inPlace`: a large model's weights are not copied), or
/// else into `copy`. False when `value` is not such a constant.
bool readConstantFloats(Value value, int64_t count, ArrayRef<float> &inPlace,
                        std::vector<float> &copy);

/// A linear's bias as `cols` values: zeros without one, a scalar bias
/// repeated. False when it is not a constant of 1 or `cols` elements.
bool readLinearBias(Value bias, int64_t cols, std::vector<float> &values);

/// The passes read constants' bytes with the dialect's reader (TfmOps.h).
using tfm::getConstantBytes;

/// A new tfm.constant holding `bytes` (the elements of `type`, row-major)
/// as a weights blob named `name` (the blob owns a copy).
Value createWeightConstant(OpBuilder &b, Location loc, RankedTensorType type,
                           ArrayRef<char> bytes, StringRef name);

/// The constant `weight` (any element type getConstantBytes reads), read
/// as a matrix of [dim 0, the other dims flattened], transposed to [the
/// other dims, dim 0] as a new weights blob; null when `weight` is not such
/// a constant. [N, K] gives [K, N]; a conv weight [M, C, K1, K2] gives
/// [C * K1 * K2, M].
Value createTransposedWeight(OpBuilder &b, Location loc, Value weight);

/// The op that is the only user of `value`, or null when there are none or
/// several.
Operation *getSingleUser(Value value);

/// For a commutative binary op with operands (a, b): the operand that is not
/// `known`, or null when neither is.
Value getOtherOperand(Operation *op, Value known);

/// A dim as an affine expression: `constant` plus the sum of `coefficient *
/// size(value, dim)` (or of a named input dim) over `terms`. Two dims that print the same are equal at
/// run time (tfm's dynamic dims never broadcast, so an elementwise result's
/// dim is its operands').
struct SymbolicDim {
  /// A dim of a value, or a named symbolic dim of the graph's inputs
  /// (ONNX dim_param, which the runtime checks to agree across inputs):
  /// `name` set and `value` null.
  struct Term {
    Value value;
    int64_t dim;
    int64_t coefficient;
    StringAttr name = {};
  };
  int64_t constant = 0;
  SmallVector<Term, 2> terms;

  static SymbolicDim ofConstant(int64_t constant);
  static SymbolicDim ofDim(Value value, int64_t dim);
  bool isConstant() const { return terms.empty(); }
  SymbolicDim operator+(const SymbolicDim &other) const;
  /// This times `factor`; nullopt when a coefficient overflows.
  std::optional<SymbolicDim> scaled(int64_t factor) const;
  SymbolicDim operator-(const SymbolicDim &other) const;
  bool operator==(const SymbolicDim &other) const;
  bool operator!=(const SymbolicDim &other) const { return !(*this == other); }
};

/// Whether `op` is elementwise with numpy broadcasting: its result dims are
/// its operands' (norms and softmax included: they broadcast their scale
/// and bias only).
bool isBroadcastingElementwise(Operation *op);

/// Dim `dim` of the ranked tensor `value`, traced to its origin.
SymbolicDim getSymbolicDim(Value value, int64_t dim);

/// Element `index` of a 0-D or 1-D integer tensor that holds dims (a reshape
/// target, a slice bound), or nullopt when it is not computed from dims and
/// constants in a way the analysis follows.
std::optional<SymbolicDim> getSymbolicElement(Value shape, int64_t index);

/// Whether `reshape` (a tfm.reshape) keeps dims [0, count) of its input as
/// dims [0, count) of its result, as a head split [B, L, H] -> [B, L, N, d]
/// or a head merge [B, L, N, d] -> [B, L, N * d] does.
bool reshapeKeepsLeadingDims(Operation *reshape, int64_t count);

/// Reports what a fusion pass did: with `enabled`, each fusion and each
/// rejected candidate becomes a remark on the op, which `tfc compile
/// --fusion-report` collects and lit tests check with -verify-diagnostics.
/// Remarks start with the fusion's kind so that a report can group them:
/// "fused <kind>: <detail>" and "not fused as <kind>: <reason>".
class FusionRemarks {
public:
  FusionRemarks(StringRef kind, bool enabled) : kind(kind), enabled(enabled) {}
  void fused(Operation *op, const Twine &detail) const;
  /// Returns failure, so that a matcher can `return remarks.reject(...)`.
  LogicalResult reject(Operation *op, const Twine &reason) const;

private:
  std::string kind;
  bool enabled;
};

} // namespace mlir::tfc

#endif // TFC_LIB_TRANSFORMS_FUSIONUTILS_H
