//===- LoweringUtils.h - shared helpers of the tfm to linalg lowering -----===//
//
// The tfm ops carry ONNX semantics (numpy broadcasting, negative axes,
// unsigned element types); linalg and arith do not. These helpers bridge the
// two so that each op's pattern reads as what the op computes. Targets use
// them too, where they replace tfm ops with their own (kernel calls).
//
//===----------------------------------------------------------------------===//

#ifndef TFC_CONVERSION_LOWERINGUTILS_H
#define TFC_CONVERSION_LOWERINGUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::tfc {

/// Maps the tfm types to what linalg and arith accept: unsigned integers
/// become signless (ops keep the signedness from the original tfm types).
class TfmTypeConverter : public TypeConverter {
public:
  TfmTypeConverter();
};

/// What the lowering knows about an element type beyond its bits.
inline bool isUnsignedInt(Type type) {
  return type.isUnsignedInteger();
}
inline Type elementTypeOf(Value value) {
  return cast<ShapedType>(value.getType()).getElementType();
}

/// The type a float computation of `element` accumulates in: f32 for the
/// 16-bit floats (whose 8 or 11 bits of mantissa would lose long sums of
/// products), else `element` itself.
Type getAccumulatorType(Type element);

/// `value` (a float) extended to the float type `to` when narrower.
Value extendFloat(OpBuilder &b, Location loc, Value value, Type to);

/// `axis` (as an I64Attr getter returns it: unsigned, so a negative axis
/// comes back huge) made non-negative for a tensor of `rank`. The importer
/// normalizes axes already; IR written by hand may not.
inline int64_t normalizedAxis(uint64_t axis, int64_t rank) {
  int64_t value = static_cast<int64_t>(axis);
  return value < 0 ? value + rank : value;
}

/// A short description of `op` for run-time error messages: the ONNX node
/// name when the importer recorded one, and the op name.
std::string describeOp(Operation *op);

/// Emits a run-time check that `cond` holds; the runtime stops the run with
/// `message` (prefixed with the node) when it does not.
void emitCheck(OpBuilder &b, Location loc, Value cond, Operation *op,
               const Twine &message);

/// emitCheck that the index values `lhs` and `rhs` (dims, mostly) are equal;
/// a failure reports both.
void emitEqualCheck(OpBuilder &b, Location loc, Operation *op, Value lhs,
                    Value rhs, const Twine &message);

/// The size of each dim of `tensor`: constants where static, tensor.dim where
/// not.
SmallVector<OpFoldResult> getDims(OpBuilder &b, Location loc, Value tensor);

/// Checks at run time that dim `lhsDim` of `lhs` and `rhsDim` of `rhs`
/// agree (nothing when both are static).
void checkDimsEqual(OpBuilder &b, Location loc, Operation *op, Value lhs,
                    int64_t lhsDim, Value rhs, int64_t rhsDim,
                    const Twine &what);

/// An index value for `ofr`.
Value toIndexValue(OpBuilder &b, Location loc, OpFoldResult ofr);

/// tensor.empty of `type`'s shape, with `dims` giving the size of each dim
/// (only the dynamic ones are read).
Value createEmpty(OpBuilder &b, Location loc, RankedTensorType type,
                  ArrayRef<OpFoldResult> dims);

/// A tensor of `shape` (dynamic sizes from `dims`) and `element` type, every
/// element `value`: a linalg.fill of createEmpty.
Value createFilled(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   Type element, ArrayRef<OpFoldResult> dims, double value);

/// The affine map from `loops` loops to the operand whose dims are loops
/// `dims`, in order (a linalg.generic's indexing map).
AffineMap getLoopsMap(OpBuilder &b, int64_t loops, ArrayRef<int64_t> dims);

/// Emits one run-time check that every element of `indices` (unless empty)
/// lies in [-dim, dim) (or [0, dim) when unsigned), `dimAsElement` being dim
/// in the indices' element type: a reduction over the indices, then a single
/// check naming the op, so that no access through them goes out of bounds.
void checkIndicesInRange(OpBuilder &b, Location loc, Operation *op,
                         Value indices, Value dimAsElement, bool unsignedIndices);

/// The run-time checks of GatherElements' and ScatterElements' indices
/// against `input`: along every dim but `axis` the indices may not be longer
/// than the input (where a dim is dynamic; inference checked the static
/// ones), and every index lies in [-dim, dim) of `axis`. Returns that dim.
Value checkElementIndices(OpBuilder &b, Location loc, Operation *op, Value input,
                          Value indices, int64_t axis, bool unsignedIndices);

/// An index element in [-dim, dim) (checked before) as the index value it
/// addresses: negative ones count from the end.
Value wrapIndex(OpBuilder &b, Location loc, Value index, Value dim,
                bool unsignedIndices);

/// The element of a 0-D or 1-element tensor of integers as an index value
/// (for shape operands: k, axes, sizes).
Value extractScalarAsIndex(OpBuilder &b, Location loc, Value tensor,
                           int64_t position = 0);

/// A constant of `type` (float or integer) with the value `value`.
Value createScalarConstant(OpBuilder &b, Location loc, Type type,
                           double value);

/// The body of an elementwise computation: gets the operands' scalar values
/// (already in the converted, signless types).
using ScalarBuilder =
    function_ref<Value(OpBuilder &b, Location loc, ValueRange args)>;

/// `body` applied elementwise to `operands` with numpy broadcasting into a
/// tensor of `resultType` (converted). Static dims of size 1 broadcast; a
/// dynamic dim must equal the result's dim at run time (checked), since one
/// cannot tell at compile time whether it broadcasts.
Value buildBroadcastElementwise(OpBuilder &b, Location loc, Operation *op,
                                ValueRange operands,
                                RankedTensorType resultType,
                                ScalarBuilder body);

/// The result dims of broadcasting `operands` (numpy rules) to `resultType`,
/// with run-time checks as for buildBroadcastElementwise.
SmallVector<OpFoldResult> broadcastResultDims(OpBuilder &b, Location loc,
                                              Operation *op,
                                              ValueRange operands,
                                              RankedTensorType resultType);

/// Converts a scalar between element types with ONNX Cast semantics.
/// `fromUnsigned`/`toUnsigned` give the signedness of integer types.
Value convertScalar(OpBuilder &b, Location loc, Value value, Type toType,
                    bool fromUnsigned, bool toUnsigned);

/// `activation` (none, relu, gelu, gelu_tanh, as tfm.linear names them)
/// applied to the float scalar `x`.
Value buildActivation(OpBuilder &b, Location loc, Value x, StringRef activation);

/// tfm.attention's q, k and v as rank-4 tensors: a token-major operand
/// ([B, L, heads * d]) expanded in place to [B, L, heads, d], a head-major
/// one ([B, heads, L, d]) as it is, flagged.
struct AttentionHeads {
  Value query, key, value;
  bool queryHeadMajor, keyHeadMajor, valueHeadMajor;
  int64_t heads, kvHeads;
  /// The dim of a rank-4 operand that holds its sequence.
  static int64_t lengthDim(bool headMajor) { return headMajor ? 2 : 1; }
  static int64_t headDim(bool headMajor) { return headMajor ? 1 : 2; }
};

/// Splits tfm.attention `op`'s operands into heads (AttentionHeads), with
/// run-time checks of what the verifier could not settle (dynamic dims):
/// batches, key and value lengths, hidden sizes against the heads.
AttentionHeads splitAttentionHeads(OpBuilder &b, Location loc, Operation *op,
                                   Value query, Value key, Value value,
                                   int64_t heads);

/// Registers the patterns of each op family.
void populateElementwisePatterns(TypeConverter &converter,
                                 RewritePatternSet &patterns);
void populateContractionPatterns(TypeConverter &converter,
                                 RewritePatternSet &patterns);
void populateNormalizationPatterns(TypeConverter &converter,
                                   RewritePatternSet &patterns);
void populateScanPatterns(TypeConverter &converter,
                          RewritePatternSet &patterns);
void populateShapePatterns(TypeConverter &converter,
                           RewritePatternSet &patterns);
void populateLinearAttentionPatterns(TypeConverter &converter,
                                     RewritePatternSet &patterns);
void populateAttentionPatterns(TypeConverter &converter,
                               RewritePatternSet &patterns);
void populateScatterPatterns(TypeConverter &converter,
                             RewritePatternSet &patterns);
void populateQuantizedPatterns(TypeConverter &converter,
                               RewritePatternSet &patterns);
void populateResizePatterns(TypeConverter &converter,
                            RewritePatternSet &patterns);

} // namespace mlir::tfc

#endif // TFC_CONVERSION_LOWERINGUTILS_H
