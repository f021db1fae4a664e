//===- TfmOps.h - tfm operations --------------------------------*- C++ -*-===//

#ifndef TFM_TFMOPS_H
#define TFM_TFMOPS_H

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "tfm/TfmDialect.h"

namespace mlir::tfm {

/// True when each `actual` type is a ranked tensor with the element type of
/// the matching `inferred` type and a shape that agrees with it wherever both
/// are static: `actual` may know more than inference did, never something
/// else.
bool isRefinementOf(TypeRange inferred, TypeRange actual);

/// Numpy broadcast of two shapes. A `?` paired with a static dim d != 1 gives
/// d (a valid program must have d there). Fails on two different static dims
/// that are not 1.
FailureOr<SmallVector<int64_t>> broadcastShapes(ArrayRef<int64_t> lhs,
                                                ArrayRef<int64_t> rhs);

/// True when a tensor of shape `from` broadcasts (numpy-style, one way) to
/// `to` without growing it: a bias or scale that fits its target.
bool broadcastsTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to);

/// The largest tensor tfc represents: the product of the static dims (a
/// zero dim counting as one, so that it cannot hide the others' overflow)
/// times 8 bytes fits in int64. Every size computed from such shapes, in
/// the compiler and in the generated code, fits in int64 too.
/// Returns the number of elements of the static dims (0 when one is 0), or
/// nullopt for a negative dim or a shape past that bound. Dynamic dims are
/// skipped.
std::optional<int64_t> getCheckedElementCount(ArrayRef<int64_t> shape);

/// `axis` made non-negative for a tensor of `rank` (ONNX's -rank..rank-1), or
/// nullopt when out of range. Ops that insert dims pass the result's rank.
std::optional<int64_t> normalizeAxis(int64_t axis, int64_t rank);

/// What is known of the values of a 0-D or 1-D integer tensor, with `?`
/// (ShapedType::kDynamic) for the values that are not: every value of a
/// constant, the dims a tfm.shape reads, and what concat, gather, squeeze,
/// unsqueeze and reshape make of those. Exporters build reshape targets this
/// way, so the static dims are known even when the batch is not. Returns
/// nullopt for a tensor of higher rank or unknown length.
std::optional<SmallVector<int64_t>> getKnownIntValues(Value value);

/// The values of a constant integer tensor (a tfm.constant or any other
/// constant-like op), or failure when `value` is not one.
FailureOr<SmallVector<int64_t>> getConstantIntValues(Value value);

/// The values of a constant float tensor (f32 when held in a resource), or
/// failure when `value` is not one.
FailureOr<SmallVector<double>> getConstantFloatValues(Value value);

/// The bytes of a `dense_resource` weight, in place, when its blob holds
/// every element (bools one byte each); nullopt for a weight without data:
/// `tfc import` prints weights elided as empty blobs, so that IR read back
/// has the graph's structure but no values to fold, pack or compile.
std::optional<ArrayRef<char>> getWeightBytes(DenseResourceElementsAttr weight);

/// The elements of a tfm.constant of static shape and a whole-byte int or
/// float type, row-major (a splat repeated), copied; nullopt for anything
/// else, or a weight without data.
std::optional<SmallVector<char>> getConstantBytes(Value value);

/// The bytes a `dense_resource` weight of `type` holds.
int64_t getWeightByteSize(ShapedType type);

/// tfm.linear_attention's largest sliding window of exact weights: the CPU
/// kernel keeps the features of 2 windows and a chunk of keys per thread.
constexpr int64_t kMaxLinearAttentionWindow = 1024;

} // namespace mlir::tfm

namespace mlir::func {
class FuncOp;
} // namespace mlir::func

namespace mlir::tfm {

/// Refines the result types of the tfm ops in `func` and of `func` itself,
/// folding as it goes, until neither changes anything (the importer runs it
/// on every graph, the tfm-refine-shapes pass on demand). Fails when an
/// op's operands no longer admit a result type, with the op's diagnostic.
LogicalResult refineShapes(func::FuncOp func);

} // namespace mlir::tfm

#define GET_OP_CLASSES
#include "tfm/TfmOps.h.inc"

#endif // TFM_TFMOPS_H
