//===- ShapeOps.cpp - tfm data movement and shape ops to tensor/linalg ----===//
//
// Reshapes become collapse/expand when the dims line up (views after
// bufferization), tensor.reshape when a dim comes from data; slices become
// tensor.extract_slice when their steps are constant and positive; gathers,
// expands and the shape-producing ops become linalg.generic or
// tensor.from_elements. Index operands that are constants fold to static
// offsets and sizes.
//
//===----------------------------------------------------------------------===//

#include "tfc/Conversion/LoweringUtils.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

Value index(OpBuilder &b, Location loc, int64_t value) {
  return b.create<arith::ConstantIndexOp>(loc, value);
}

/// Element `position` of the 1-D (or 0-D) integer tensor `converted` as an
/// index, folded to a constant where the original tfm value is known.
OpFoldResult indexElement(OpBuilder &b, Location loc, Value original,
                          Value converted, int64_t position) {
  if (auto known = tfm::getKnownIntValues(original))
    if (position < (int64_t)known->size() &&
        !ShapedType::isDynamic((*known)[position]))
      return b.getIndexAttr((*known)[position]);
  return extractScalarAsIndex(b, loc, converted, position);
}

/// The product of `dims` as an index value.
Value product(OpBuilder &b, Location loc, ArrayRef<OpFoldResult> dims) {
  Value result = index(b, loc, 1);
  for (OpFoldResult dim : dims)
    result = b.createOrFold<arith::MulIOp>(loc, result, toIndexValue(b, loc, dim));
  return result;
}

/// `input` with the shape of `resultType` (dims `dims`), same elements in
/// the same order: collapse/expand when the dims group, else tensor.reshape.
Value reshapeTo(OpBuilder &b, Location loc, Operation *op, Value input,
                RankedTensorType resultType, ArrayRef<OpFoldResult> dims) {
  auto inputType = cast<RankedTensorType>(input.getType());
  if (inputType == resultType && inputType.hasStaticShape())
    return input;
  if (!inputType.hasStaticShape() || !resultType.hasStaticShape()) {
    Value same = b.createOrFold<arith::CmpIOp>(
        loc, arith::CmpIPredicate::eq, product(b, loc, getDims(b, loc, input)),
        product(b, loc, dims));
    emitCheck(b, loc, same, op,
              "the target shape does not have as many elements as the input");
  } else if (inputType.getNumElements() != resultType.getNumElements()) {
    return {};
  }
  if (inputType.getRank() != resultType.getRank()) {
    if (auto reassociation =
            getReassociationIndicesForReshape(inputType, resultType)) {
      if (inputType.getRank() > resultType.getRank())
        return b.create<tensor::CollapseShapeOp>(loc, resultType, input,
                                                 *reassociation);
      return b.create<tensor::ExpandShapeOp>(loc, resultType, input,
                                             *reassociation, dims);
    }
  }
  SmallVector<Value> dimValues;
  for (OpFoldResult dim : dims)
    dimValues.push_back(toIndexValue(b, loc, dim));
  Value shape = b.create<tensor::FromElementsOp>(loc, dimValues);
  return b.create<tensor::ReshapeOp>(loc, resultType, input, shape);
}

struct ConstantPattern : OpConversionPattern<tfm::ConstantOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::ConstantOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    Attribute value = op.getValue();
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(value);
        resource && !tfm::getWeightBytes(resource))
      return op.emitOpError()
             << "weight '" << resource.getRawHandle().getKey()
             << "' has no data: IR printed with elided weights describes the "
                "graph but cannot be compiled (print it with `tfc import "
                "--print-weights`, or compile the ONNX model)";
    if (type.getElementType().isInteger(1))
      return lowerBoolConstant(op, type, value, rewriter);
    if (cast<ElementsAttr>(value).getType() != type) {
      if (auto dense = dyn_cast<DenseElementsAttr>(value))
        value = dense.bitcast(type.getElementType());
      else if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
        value = DenseResourceElementsAttr::get(type, resource.getRawHandle());
      else
        return op.emitOpError("has a constant of an unsupported kind");
    }
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, type, cast<TypedAttr>(value));
    return success();
  }

  /// LLVM cannot hold a global of i1 elements from MLIR's attributes, so a
  /// bool constant is stored as bytes (ONNX stores bools one per byte too;
  /// a resource blob is reused as is) and compared with 0 where it is read.
  LogicalResult lowerBoolConstant(tfm::ConstantOp op, RankedTensorType type,
                                  Attribute value,
                                  ConversionPatternRewriter &rewriter) const {
    Location loc = op.getLoc();
    auto byteType = type.clone(rewriter.getI8Type());
    Attribute bytes;
    if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
      if (dense.isSplat()) {
        rewriter.replaceOpWithNewOp<arith::ConstantOp>(
            op, type, DenseElementsAttr::get(type, dense.getSplatValue<bool>()));
        return success();
      }
      SmallVector<int8_t> values;
      for (bool element : dense.getValues<bool>())
        values.push_back(element);
      bytes = DenseElementsAttr::get(byteType, ArrayRef(values));
    } else if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
      bytes = DenseResourceElementsAttr::get(byteType, resource.getRawHandle());
    } else {
      return op.emitOpError("has a constant of an unsupported kind");
    }
    Value stored = rewriter.create<arith::ConstantOp>(loc, byteType, cast<TypedAttr>(bytes));
    Value init = createEmpty(rewriter, loc, type, {});
    int64_t rank = type.getRank();
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{stored}, ValueRange{init},
        SmallVector<AffineMap>(2, rewriter.getMultiDimIdentityMap(rank)),
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [](OpBuilder &b, Location l, ValueRange args) {
          Value zero = b.create<arith::ConstantIntOp>(l, 0, 8);
          b.create<linalg::YieldOp>(
              l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::ne, args[0], zero)
                     .getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct TransposePattern : OpConversionPattern<tfm::TransposeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    SmallVector<OpFoldResult> inputDims = getDims(rewriter, loc, adaptor.getInput());
    SmallVector<OpFoldResult> dims;
    for (int64_t p : op.getPerm())
      dims.push_back(inputDims[p]);
    Value init = createEmpty(rewriter, loc, type, dims);
    rewriter.replaceOp(op, rewriter.create<linalg::TransposeOp>(
                               loc, adaptor.getInput(), init, op.getPerm())
                               ->getResult(0));
    return success();
  }
};

struct ReshapePattern : OpConversionPattern<tfm::ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    int64_t rank = type.getRank();
    SmallVector<OpFoldResult> inputDims = getDims(rewriter, loc, input);

    // A 0 copies the input's dim (unless allow_zero); one -1 takes what is
    // left of the element count.
    SmallVector<Value> requested;
    Value knownProduct = index(rewriter, loc, 1);
    Value zero = index(rewriter, loc, 0), minusOne = index(rewriter, loc, -1);
    for (int64_t i = 0; i < rank; ++i) {
      Value value = toIndexValue(
          rewriter, loc, indexElement(rewriter, loc, op.getShape(), adaptor.getShape(), i));
      if (!op.getAllowZero() && i < (int64_t)inputDims.size()) {
        Value isZero = rewriter.createOrFold<arith::CmpIOp>(
            loc, arith::CmpIPredicate::eq, value, zero);
        value = rewriter.createOrFold<arith::SelectOp>(
            loc, isZero, toIndexValue(rewriter, loc, inputDims[i]), value);
      }
      requested.push_back(value);
      Value isInferred = rewriter.createOrFold<arith::CmpIOp>(
          loc, arith::CmpIPredicate::eq, value, minusOne);
      knownProduct = rewriter.createOrFold<arith::MulIOp>(
          loc, knownProduct,
          rewriter.createOrFold<arith::SelectOp>(loc, isInferred,
                                                 index(rewriter, loc, 1), value));
    }
    Value total = product(rewriter, loc, inputDims);
    Value safeKnown = rewriter.createOrFold<arith::MaxSIOp>(
        loc, knownProduct, index(rewriter, loc, 1));
    Value inferred = rewriter.createOrFold<arith::DivSIOp>(loc, total, safeKnown);
    SmallVector<OpFoldResult> dims;
    for (int64_t i = 0; i < rank; ++i) {
      if (!type.isDynamicDim(i)) {
        dims.push_back(rewriter.getIndexAttr(type.getDimSize(i)));
        continue;
      }
      Value isInferred = rewriter.createOrFold<arith::CmpIOp>(
          loc, arith::CmpIPredicate::eq, requested[i], minusOne);
      Value dim = rewriter.createOrFold<arith::SelectOp>(loc, isInferred, inferred,
                                                         requested[i]);
      Value nonNegative = rewriter.createOrFold<arith::CmpIOp>(
          loc, arith::CmpIPredicate::sge, dim, zero);
      emitCheck(rewriter, loc, nonNegative, op, "a target dim is negative");
      dims.push_back(getAsOpFoldResult(dim));
    }
    Value result = reshapeTo(rewriter, loc, op, input, type, dims);
    if (!result)
      return op.emitOpError("cannot reshape ") << input.getType() << " to " << type;
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// Flatten, Squeeze and Unsqueeze: reshapes whose target dims follow from
/// the input's dims.
template <typename OpTy>
struct ReshapeLikePattern : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(
        this->getTypeConverter()->convertType(op.getType()));
    SmallVector<OpFoldResult> inputDims = getDims(rewriter, loc, input);
    int64_t inputRank = inputDims.size();
    SmallVector<OpFoldResult> dims;
    if constexpr (std::is_same_v<OpTy, tfm::FlattenOp>) {
      int64_t axis = normalizedAxis(op.getAxis(), inputRank);
      dims = {getAsOpFoldResult(product(rewriter, loc, ArrayRef(inputDims).take_front(axis))),
              getAsOpFoldResult(product(rewriter, loc, ArrayRef(inputDims).drop_front(axis)))};
    } else if constexpr (std::is_same_v<OpTy, tfm::SqueezeOp>) {
      SmallVector<int64_t> axes;
      for (int64_t axis : op.getAxes())
        axes.push_back(axis < 0 ? axis + inputRank : axis);
      for (int64_t i = 0; i < inputRank; ++i) {
        bool squeezed = axes.empty() ? isConstantIntValue(inputDims[i], 1)
                                     : llvm::is_contained(axes, i);
        if (!squeezed) {
          dims.push_back(inputDims[i]);
          continue;
        }
        if (!isConstantIntValue(inputDims[i], 1)) {
          Value isOne = rewriter.create<arith::CmpIOp>(
              loc, arith::CmpIPredicate::eq, toIndexValue(rewriter, loc, inputDims[i]),
              index(rewriter, loc, 1));
          emitCheck(rewriter, loc, isOne, op, "a squeezed dim is not 1");
        }
      }
    } else {
      int64_t rank = type.getRank();
      SmallVector<int64_t> axes;
      for (int64_t axis : op.getAxes())
        axes.push_back(axis < 0 ? axis + rank : axis);
      int64_t next = 0;
      for (int64_t i = 0; i < rank; ++i)
        dims.push_back(llvm::is_contained(axes, i) ? rewriter.getIndexAttr(1)
                                                   : inputDims[next++]);
    }
    Value result = reshapeTo(rewriter, loc, op, input, type, dims);
    if (!result)
      return op.emitOpError("cannot reshape ") << input.getType() << " to " << type;
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct ConcatPattern : OpConversionPattern<tfm::ConcatOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    int64_t rank = type.getRank();
    int64_t axis = normalizedAxis(op.getAxis(), rank);
    ValueRange inputs = adaptor.getInputs();

    SmallVector<OpFoldResult> dims = getDims(rewriter, loc, inputs.front());
    Value extent = index(rewriter, loc, 0);
    for (Value input : inputs) {
      SmallVector<OpFoldResult> inputDims = getDims(rewriter, loc, input);
      for (int64_t i = 0; i < rank; ++i) {
        if (i == axis || (!isa<Value>(inputDims[i]) && !isa<Value>(dims[i])))
          continue;
        Value same = rewriter.create<arith::CmpIOp>(
            loc, arith::CmpIPredicate::eq, toIndexValue(rewriter, loc, inputDims[i]),
            toIndexValue(rewriter, loc, dims[i]));
        emitCheck(rewriter, loc, same, op,
                  "the inputs differ in dim " + Twine(i));
      }
      extent = rewriter.createOrFold<arith::AddIOp>(
          loc, extent, toIndexValue(rewriter, loc, inputDims[axis]));
    }
    dims[axis] = getAsOpFoldResult(extent);
    Value result = createEmpty(rewriter, loc, type, dims);
    Value offset = index(rewriter, loc, 0);
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
    for (Value input : inputs) {
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      offsets[axis] = getAsOpFoldResult(offset);
      SmallVector<OpFoldResult> sizes = getDims(rewriter, loc, input);
      result = rewriter.create<tensor::InsertSliceOp>(loc, input, result, offsets,
                                                      sizes, strides);
      offset = rewriter.createOrFold<arith::AddIOp>(
          loc, offset, toIndexValue(rewriter, loc, sizes[axis]));
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// A slice of `input`, cast to `type` where the static sizes are less known.
Value extractSlice(OpBuilder &b, Location loc, Value input, RankedTensorType type,
                   ArrayRef<OpFoldResult> offsets, ArrayRef<OpFoldResult> sizes,
                   ArrayRef<OpFoldResult> strides) {
  Value slice = b.create<tensor::ExtractSliceOp>(loc, input, offsets, sizes, strides);
  if (slice.getType() != type)
    slice = b.create<tensor::CastOp>(loc, type, slice);
  return slice;
}

struct SplitPattern : OpConversionPattern<tfm::SplitOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::SplitOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    int64_t rank = inputType.getRank();
    int64_t axis = normalizedAxis(op.getAxis(), rank);
    int64_t parts = op.getNumResults();
    SmallVector<OpFoldResult> dims = getDims(rewriter, loc, input);
    Value extent = toIndexValue(rewriter, loc, dims[axis]);

    // Equal parts of ceil(extent / parts), the last one what is left.
    Value chunk = rewriter.createOrFold<arith::CeilDivSIOp>(loc, extent,
                                                            index(rewriter, loc, parts));
    Value offset = index(rewriter, loc, 0);
    SmallVector<Value> results;
    for (int64_t i = 0; i < parts; ++i) {
      Value size;
      if (auto sizes = op.getSizes()) {
        size = index(rewriter, loc, (*sizes)[i]);
      } else {
        Value left = rewriter.createOrFold<arith::SubIOp>(loc, extent, offset);
        size = rewriter.createOrFold<arith::MinSIOp>(loc, chunk, left);
      }
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      offsets[axis] = getAsOpFoldResult(offset);
      SmallVector<OpFoldResult> sizes(dims);
      sizes[axis] = getAsOpFoldResult(size);
      auto type = cast<RankedTensorType>(
          getTypeConverter()->convertType(op.getResult(i).getType()));
      results.push_back(extractSlice(rewriter, loc, input, type, offsets, sizes,
                                     SmallVector<OpFoldResult>(rank, rewriter.getIndexAttr(1))));
      offset = rewriter.createOrFold<arith::AddIOp>(loc, offset, size);
    }
    if (op.getSizes()) {
      Value same = rewriter.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                                        offset, extent);
      emitCheck(rewriter, loc, same, op, "the split sizes do not add up to the dim");
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct SlicePattern : OpConversionPattern<tfm::SliceOp> {
  using OpConversionPattern::OpConversionPattern;

  /// The offset, size and step that slice entry (start, end, step) selects
  /// from a dim of extent `dim`: negative bounds count from the end; then
  /// they clamp to [0, dim] for a positive step, [-1, dim - 1] for a
  /// negative one; size = max(ceil((end - start) / step), 0).
  static std::tuple<Value, Value, Value> resolve(OpBuilder &b, Location loc,
                                                 Value start, Value end,
                                                 Value step, Value dim) {
    Value zero = index(b, loc, 0), one = index(b, loc, 1);
    auto fromEnd = [&](Value v) {
      Value negative = b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, v, zero);
      return b.createOrFold<arith::SelectOp>(loc, negative,
                                             b.createOrFold<arith::AddIOp>(loc, v, dim), v);
    };
    auto clamp = [&](Value v, Value lo, Value hi) {
      return b.createOrFold<arith::MinSIOp>(loc, b.createOrFold<arith::MaxSIOp>(loc, v, lo), hi);
    };
    Value forward = b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt, step, zero);
    Value dimMinusOne = b.createOrFold<arith::SubIOp>(loc, dim, one);
    Value hi = b.createOrFold<arith::SelectOp>(loc, forward, dim, dimMinusOne);
    Value endLo = b.createOrFold<arith::SelectOp>(loc, forward, zero, index(b, loc, -1));
    Value clampedStart = clamp(fromEnd(start), zero, hi);
    Value clampedEnd = clamp(fromEnd(end), endLo, hi);
    Value span = b.createOrFold<arith::SubIOp>(loc, clampedEnd, clampedStart);
    // A zero step is reported by the caller's check; divide by 1 meanwhile.
    Value isZero = b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, step, zero);
    Value safeStep = b.createOrFold<arith::SelectOp>(loc, isZero, one, step);
    Value count = b.createOrFold<arith::CeilDivSIOp>(loc, span, safeStep);
    return {clampedStart, b.createOrFold<arith::MaxSIOp>(loc, count, zero), safeStep};
  }

  LogicalResult
  matchAndRewrite(tfm::SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto type = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    int64_t rank = inputType.getRank();
    int64_t entries = cast<RankedTensorType>(op.getStarts().getType()).getDimSize(0);
    if (ShapedType::isDynamic(entries))
      return op.emitOpError("needs starts, ends, axes and steps of static length");

    SmallVector<OpFoldResult> dims = getDims(rewriter, loc, input);
    SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes(dims);
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
    Value zero = index(rewriter, loc, 0);
    auto element = [&](Value original, Value converted, int64_t i) {
      return toIndexValue(rewriter, loc, indexElement(rewriter, loc, original, converted, i));
    };
    FailureOr<SmallVector<int64_t>> constantAxes = tfm::getConstantIntValues(op.getAxes());
    for (int64_t i = 0; i < entries; ++i) {
      Value start = element(op.getStarts(), adaptor.getStarts(), i);
      Value end = element(op.getEnds(), adaptor.getEnds(), i);
      Value step = element(op.getSteps(), adaptor.getSteps(), i);
      Value nonZero = rewriter.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::ne,
                                                           step, zero);
      emitCheck(rewriter, loc, nonZero, op, "a step is 0");
      if (succeeded(constantAxes)) {
        int64_t axis = (*constantAxes)[i] < 0 ? (*constantAxes)[i] + rank : (*constantAxes)[i];
        auto [offset, size, stride] =
            resolve(rewriter, loc, start, end, step, toIndexValue(rewriter, loc, dims[axis]));
        offsets[axis] = getAsOpFoldResult(offset);
        sizes[axis] = getAsOpFoldResult(size);
        strides[axis] = getAsOpFoldResult(stride);
        continue;
      }
      // Axes known only at run time: entry i applies to the dim it names.
      Value axis = element(op.getAxes(), adaptor.getAxes(), i);
      Value inRange = rewriter.create<arith::AndIOp>(
          loc,
          rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, axis,
                                         index(rewriter, loc, -rank)),
          rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, axis,
                                         index(rewriter, loc, rank)));
      emitCheck(rewriter, loc, inRange, op, "an axis is out of range");
      for (int64_t d = 0; d < rank; ++d) {
        Value names = rewriter.create<arith::OrIOp>(
            loc,
            rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, axis,
                                           index(rewriter, loc, d)),
            rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, axis,
                                           index(rewriter, loc, d - rank)));
        auto [offset, size, stride] =
            resolve(rewriter, loc, start, end, step, toIndexValue(rewriter, loc, dims[d]));
        auto pick = [&](Value chosen, OpFoldResult current) {
          return getAsOpFoldResult(rewriter.createOrFold<arith::SelectOp>(
              loc, names, chosen, toIndexValue(rewriter, loc, current)));
        };
        offsets[d] = pick(offset, offsets[d]);
        sizes[d] = pick(size, sizes[d]);
        strides[d] = pick(stride, strides[d]);
      }
    }

    bool positiveSteps = llvm::all_of(strides, [](OpFoldResult s) {
      auto constant = getConstantIntValue(s);
      return constant && *constant > 0;
    });
    if (positiveSteps) {
      rewriter.replaceOp(op, extractSlice(rewriter, loc, input, type, offsets,
                                          sizes, strides));
      return success();
    }
    // Negative or run-time steps: read input[offset + i * step] per element.
    Value init = createEmpty(rewriter, loc, type, sizes);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> indices;
          for (int64_t d = 0; d < rank; ++d) {
            Value i = b.create<linalg::IndexOp>(l, d);
            Value scaled = b.create<arith::MulIOp>(l, i, toIndexValue(b, l, strides[d]));
            indices.push_back(
                b.create<arith::AddIOp>(l, scaled, toIndexValue(b, l, offsets[d])));
          }
          b.create<linalg::YieldOp>(l, b.create<tensor::ExtractOp>(l, input, indices).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct GatherPattern : OpConversionPattern<tfm::GatherOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::GatherOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), indices = adaptor.getIndices();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto indicesType = cast<RankedTensorType>(indices.getType());
    auto type = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    int64_t rank = inputType.getRank(), indexRank = indicesType.getRank();
    int64_t axis = normalizedAxis(op.getAxis(), rank);
    bool unsignedIndices = elementTypeOf(op.getIndices()).isUnsignedInteger();
    Type indexElementType = indicesType.getElementType();

    Value dim = rewriter.create<tensor::DimOp>(loc, input, axis);
    Value dimAsElement = rewriter.create<arith::IndexCastOp>(loc, indexElementType, dim);

    // Every index must lie in [-dim, dim): one pass over the indices, then
    // a single check, so that no read goes out of bounds.
    // Constant indices into a static dim are checked here, once.
    bool checked = false;
    if (auto constants = tfm::getConstantIntValues(op.getIndices());
        succeeded(constants) && !constants->empty()) {
      int64_t highest = *llvm::max_element(*constants);
      int64_t lowest = *llvm::min_element(*constants);
      // The dim must hold index `highest` and -`lowest` (negative indices
      // count from the end).
      int64_t needed = std::max<int64_t>(highest == INT64_MAX ? INT64_MAX : highest + 1,
                                         lowest == INT64_MIN ? INT64_MAX : -lowest);
      if (!inputType.isDynamicDim(axis)) {
        int64_t extent = inputType.getDimSize(axis);
        if (needed > extent)
          return op.emitOpError("index ")
                 << (highest + 1 == needed ? highest : lowest)
                 << " is out of range for a dim of " << extent;
      } else if (!unsignedIndices) {
        // A size chosen at run time: one comparison, reported with both
        // numbers (an empty sequence into a model that takes its first
        // token).
        Value enough = rewriter.create<arith::CmpIOp>(
            loc, arith::CmpIPredicate::sge, dim,
            rewriter.create<arith::ConstantIndexOp>(loc, needed));
        emitCheck(rewriter, loc, enough, op,
                  "the input's dim " + Twine(axis) +
                      " is too small for the constant indices (its size vs "
                      "the size they need)");
      }
      checked = !inputType.isDynamicDim(axis) || !unsignedIndices;
    }
    if (!checked)
      checkIndicesInRange(rewriter, loc, op, indices, dimAsElement, unsignedIndices);

    SmallVector<OpFoldResult> inputDims = getDims(rewriter, loc, input);
    // One constant index (x[i] of a stacked tensor: a layer's past keys of a
    // KV cache): a view of that slice, no copy.
    if (auto constants = tfm::getConstantIntValues(op.getIndices());
        succeeded(constants) && indexRank == 0 && constants->size() == 1 &&
        !unsignedIndices) {
      int64_t index = constants->front();
      OpFoldResult offset =
          index >= 0 ? OpFoldResult(rewriter.getIndexAttr(index))
                     : OpFoldResult(rewriter.create<arith::AddIOp>(
                                        loc, dim,
                                        rewriter.create<arith::ConstantIndexOp>(loc, index))
                                        .getResult());
      SmallVector<OpFoldResult> offsets(rank, rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes(inputDims);
      SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
      offsets[axis] = offset;
      sizes[axis] = rewriter.getIndexAttr(1);
      Value slice = rewriter.create<tensor::ExtractSliceOp>(
          loc, type, input, offsets, sizes, strides);
      rewriter.replaceOp(op, slice);
      return success();
    }
    SmallVector<OpFoldResult> indexDims = getDims(rewriter, loc, indices);
    SmallVector<OpFoldResult> dims(inputDims.begin(), inputDims.begin() + axis);
    dims.append(indexDims);
    dims.append(inputDims.begin() + axis + 1, inputDims.end());
    int64_t resultRank = type.getRank();
    SmallVector<AffineExpr> indexExprs;
    for (int64_t i = 0; i < indexRank; ++i)
      indexExprs.push_back(rewriter.getAffineDimExpr(axis + i));
    Value init = createEmpty(rewriter, loc, type, dims);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{indices}, ValueRange{init},
        SmallVector<AffineMap>{AffineMap::get(resultRank, 0, indexExprs, getContext()),
                    rewriter.getMultiDimIdentityMap(resultRank)},
        SmallVector<utils::IteratorType>(resultRank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value wrapped = wrapIndex(b, l, args[0], dim, unsignedIndices);
          SmallVector<Value> at;
          for (int64_t i = 0; i < axis; ++i)
            at.push_back(b.create<linalg::IndexOp>(l, i));
          at.push_back(wrapped);
          for (int64_t i = axis + 1; i < rank; ++i)
            at.push_back(b.create<linalg::IndexOp>(l, i - 1 + indexRank));
          b.create<linalg::YieldOp>(l, b.create<tensor::ExtractOp>(l, input, at).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// GatherElements: out[p] = input[p with p[axis] = indices[p]], over the
/// indices' shape; each other dim of the indices must fit in the input's.
struct GatherElementsPattern : OpConversionPattern<tfm::GatherElementsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::GatherElementsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), indices = adaptor.getIndices();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto type = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    int64_t rank = inputType.getRank();
    int64_t axis = op.getAxis();
    bool unsignedIndices = elementTypeOf(op.getIndices()).isUnsignedInteger();

    Value dim = checkElementIndices(rewriter, loc, op, input, indices, axis,
                                    unsignedIndices);

    Value init = createEmpty(rewriter, loc, type, getDims(rewriter, loc, indices));
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{indices}, ValueRange{init},
        SmallVector<AffineMap>(2, rewriter.getMultiDimIdentityMap(rank)),
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          SmallVector<Value> at;
          for (int64_t i = 0; i < rank; ++i)
            at.push_back(i == axis ? wrapIndex(b, l, args[0], dim, unsignedIndices)
                                   : b.create<linalg::IndexOp>(l, i).getResult());
          b.create<linalg::YieldOp>(l, b.create<tensor::ExtractOp>(l, input, at).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct ExpandPattern : OpConversionPattern<tfm::ExpandOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::ExpandOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto type = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    int64_t rank = type.getRank(), inputRank = inputType.getRank();
    int64_t shapeLength = cast<RankedTensorType>(op.getShape().getType()).getDimSize(0);
    Value one = index(rewriter, loc, 1);

    // result = shape where the input dim is 1, else the input dim (and the
    // shape value must then be 1 or equal).
    SmallVector<OpFoldResult> dims;
    for (int64_t i = 0; i < rank; ++i) {
      int64_t s = i - (rank - shapeLength), d = i - (rank - inputRank);
      Value requested = s >= 0 ? toIndexValue(rewriter, loc,
                                              indexElement(rewriter, loc, op.getShape(),
                                                           adaptor.getShape(), s))
                               : one;
      Value inputDim = d >= 0 ? rewriter.createOrFold<tensor::DimOp>(loc, input, d) : one;
      Value inputIsOne = rewriter.createOrFold<arith::CmpIOp>(
          loc, arith::CmpIPredicate::eq, inputDim, one);
      Value dim = rewriter.createOrFold<arith::SelectOp>(loc, inputIsOne, requested,
                                                         inputDim);
      Value requestedOk = rewriter.createOrFold<arith::OrIOp>(
          loc,
          rewriter.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                               requested, one),
          rewriter.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                               requested, dim));
      emitCheck(rewriter, loc, requestedOk, op,
                "the target shape does not broadcast with the input in dim " +
                    Twine(i));
      dims.push_back(type.isDynamicDim(i) ? getAsOpFoldResult(dim)
                                          : rewriter.getIndexAttr(type.getDimSize(i)));
    }
    Value init = createEmpty(rewriter, loc, type, dims);
    SmallVector<AffineExpr> exprs;
    for (int64_t j = 0; j < inputRank; ++j) {
      int64_t i = j + rank - inputRank;
      bool broadcasts = inputType.getDimSize(j) == 1 && type.getDimSize(i) != 1;
      exprs.push_back(broadcasts ? rewriter.getAffineConstantExpr(0)
                                 : rewriter.getAffineDimExpr(i));
      if (inputType.isDynamicDim(j)) {
        Value same = rewriter.create<arith::CmpIOp>(
            loc, arith::CmpIPredicate::eq, rewriter.create<tensor::DimOp>(loc, input, j),
            toIndexValue(rewriter, loc, dims[i]));
        emitCheck(rewriter, loc, same, op,
                  "a dynamic input dim must equal the expanded dim " + Twine(i));
      }
    }
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{input}, ValueRange{init},
        SmallVector<AffineMap>{AffineMap::get(rank, 0, exprs, getContext()),
                    rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [](OpBuilder &b, Location l, ValueRange args) {
          b.create<linalg::YieldOp>(l, args[0]);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct TriluPattern : OpConversionPattern<tfm::TriluOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::TriluOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    int64_t rank = type.getRank();
    Value k = toIndexValue(rewriter, loc,
                           indexElement(rewriter, loc, op.getK(), adaptor.getK(), 0));
    bool upper = op.getUpper();
    Value init = createEmpty(rewriter, loc, type, getDims(rewriter, loc, input));
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{input}, ValueRange{init},
        SmallVector<AffineMap>{identity, identity},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value row = b.create<linalg::IndexOp>(l, rank - 2);
          Value col = b.create<linalg::IndexOp>(l, rank - 1);
          Value diagonal = b.create<arith::SubIOp>(l, col, row);
          Value keep = b.create<arith::CmpIOp>(
              l, upper ? arith::CmpIPredicate::sge : arith::CmpIPredicate::sle,
              diagonal, k);
          Value zero = createScalarConstant(b, l, type.getElementType(), 0.0);
          b.create<linalg::YieldOp>(
              l, b.create<arith::SelectOp>(l, keep, args[0], zero).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

struct ShapePattern : OpConversionPattern<tfm::ShapeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::ShapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    SmallVector<Value> elements;
    for (int64_t i = static_cast<int64_t>(op.getStart()); i < static_cast<int64_t>(op.getEnd()); ++i) {
      Value dim = rewriter.createOrFold<tensor::DimOp>(loc, adaptor.getInput(), i);
      elements.push_back(rewriter.create<arith::IndexCastOp>(loc, rewriter.getI64Type(), dim));
    }
    auto type = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, type, elements);
    return success();
  }
};

struct ConstantOfShapePattern : OpConversionPattern<tfm::ConstantOfShapeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::ConstantOfShapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    SmallVector<OpFoldResult> dims;
    for (int64_t i = 0; i < type.getRank(); ++i) {
      if (!type.isDynamicDim(i)) {
        dims.push_back(rewriter.getIndexAttr(type.getDimSize(i)));
        continue;
      }
      Value dim = toIndexValue(rewriter, loc, indexElement(rewriter, loc, op.getShape(),
                                                           adaptor.getShape(), i));
      Value nonNegative = rewriter.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::sge, dim, index(rewriter, loc, 0));
      emitCheck(rewriter, loc, nonNegative, op, "a requested dim is negative");
      dims.push_back(dim);
    }
    auto value = cast<ElementsAttr>(op.getValue());
    Type elementType = type.getElementType();
    TypedAttr scalar;
    if (isa<FloatType>(elementType))
      scalar = rewriter.getFloatAttr(elementType,
                                     *value.tryGetValues<APFloat>()->begin());
    else
      scalar = rewriter.getIntegerAttr(elementType,
                                       *value.tryGetValues<APInt>()->begin());
    Value fill = rewriter.create<arith::ConstantOp>(loc, scalar);
    Value empty = createEmpty(rewriter, loc, type, dims);
    rewriter.replaceOp(op, rewriter.create<linalg::FillOp>(loc, fill, empty).getResult(0));
    return success();
  }
};

struct RangePattern : OpConversionPattern<tfm::RangeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::RangeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    Type elementType = type.getElementType();
    bool isFloat = isa<FloatType>(elementType);
    auto scalar = [&](Value tensor) {
      return rewriter.create<tensor::ExtractOp>(loc, tensor, ValueRange{}).getResult();
    };
    Value start = scalar(adaptor.getStart()), limit = scalar(adaptor.getLimit()),
          delta = scalar(adaptor.getDelta());
    Value count;
    if (isFloat) {
      Value zero = createScalarConstant(rewriter, loc, elementType, 0.0);
      Value nonZero = rewriter.create<arith::CmpFOp>(loc, arith::CmpFPredicate::ONE,
                                                     delta, zero);
      emitCheck(rewriter, loc, nonZero, op, "delta is 0");
      Value steps = rewriter.create<math::CeilOp>(
          loc, rewriter.create<arith::DivFOp>(
                   loc, rewriter.create<arith::SubFOp>(loc, limit, start), delta));
      // A NaN or infinite count (fptosi would make it poison), or one past
      // any buffer, fails the run.
      Value bound = createScalarConstant(rewriter, loc, elementType, 0x1p62);
      Value finite = rewriter.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OLT,
                                                    steps, bound);
      emitCheck(rewriter, loc, finite, op,
                "the range has too many elements (or a NaN bound)");
      steps = rewriter.create<arith::MaximumFOp>(loc, steps, zero);
      Value asInt = rewriter.create<arith::FPToSIOp>(loc, rewriter.getI64Type(), steps);
      count = rewriter.create<arith::IndexCastOp>(loc, rewriter.getIndexType(), asInt);
    } else {
      // In i64, where narrower types cannot overflow; limit - start of two
      // i64 can: ONNX's count is the true one, not the wrapped.
      Type i64 = rewriter.getI64Type();
      auto widen = [&](Value v) -> Value {
        if (elementType.getIntOrFloatBitWidth() == 64)
          return v;
        if (isUnsignedInt(op.getType().getElementType()))
          return rewriter.create<arith::ExtUIOp>(loc, i64, v);
        return rewriter.create<arith::ExtSIOp>(loc, i64, v);
      };
      Value start64 = widen(start), limit64 = widen(limit), delta64 = widen(delta);
      auto constant = [&](int64_t v) {
        return rewriter.create<arith::ConstantIntOp>(loc, v, i64).getResult();
      };
      Value zero = constant(0);
      Value nonZero = rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne,
                                                     delta64, zero);
      emitCheck(rewriter, loc, nonZero, op, "delta is 0");
      Value span = rewriter.create<arith::SubIOp>(loc, limit64, start64);
      // Signed overflow of limit - start: the operands' signs differ and the
      // result's sign is not the limit's.
      Value signs = rewriter.create<arith::AndIOp>(
          loc, rewriter.create<arith::XOrIOp>(loc, limit64, start64),
          rewriter.create<arith::XOrIOp>(loc, limit64, span));
      Value noOverflow = rewriter.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::sge, signs, zero);
      // INT64_MIN / -1 overflows too (and traps).
      Value minusOne = constant(-1);
      Value minimum = constant(INT64_MIN);
      Value dividesOver = rewriter.create<arith::AndIOp>(
          loc,
          rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, delta64, minusOne),
          rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, span, minimum));
      Value fits = rewriter.create<arith::AndIOp>(
          loc, noOverflow,
          rewriter.create<arith::XOrIOp>(
              loc, dividesOver,
              rewriter.create<arith::ConstantIntOp>(loc, 1, rewriter.getI1Type())));
      emitCheck(rewriter, loc, fits, op,
                "the range from start to limit has more than 2^63 elements");
      Value one = constant(1);
      Value safeDelta = rewriter.create<arith::SelectOp>(
          loc, rewriter.create<arith::AndIOp>(loc, nonZero, fits), delta64, one);
      Value steps = rewriter.create<arith::CeilDivSIOp>(loc, span, safeDelta);
      count = rewriter.create<arith::IndexCastOp>(loc, rewriter.getIndexType(), steps);
    }
    count = rewriter.create<arith::MaxSIOp>(loc, count, index(rewriter, loc, 0));
    Value init = createEmpty(rewriter, loc, type, {getAsOpFoldResult(count)});
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(1)},
        SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange) {
          Value i = b.create<linalg::IndexOp>(l, 0);
          Value asInt = b.create<arith::IndexCastOp>(l, b.getI64Type(), i);
          Value position = convertScalar(b, l, asInt, elementType, false, false);
          Value value =
              isFloat ? b.create<arith::AddFOp>(
                             l, start, b.create<arith::MulFOp>(l, position, delta))
                            .getResult()
                      : b.create<arith::AddIOp>(
                             l, start, b.create<arith::MulIOp>(l, position, delta))
                            .getResult();
          b.create<linalg::YieldOp>(l, value);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// Pad. Constant mode fills the result with the value and inserts the
/// input (cropped first where a pad is negative) at its offsets: a fill and
/// a copy, both vectorized. Edge, reflect and wrap read each result element
/// from the input position its mode maps it to.
struct PadPattern : OpConversionPattern<tfm::PadOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto type = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    int64_t rank = inputType.getRank();
    StringRef mode = op.getMode();
    Value zero = index(rewriter, loc, 0);
    // Pads read at run time are bounded so that the dim arithmetic below
    // cannot overflow; larger ones could never be allocated anyway.
    constexpr int64_t kLargestPad = int64_t(1) << 40;

    SmallVector<OpFoldResult> inputDims = getDims(rewriter, loc, input);
    SmallVector<OpFoldResult> before, after, dims;
    SmallVector<bool> untouched;
    for (int64_t i = 0; i < rank; ++i) {
      OpFoldResult b = indexElement(rewriter, loc, op.getPads(), adaptor.getPads(), i);
      OpFoldResult e =
          indexElement(rewriter, loc, op.getPads(), adaptor.getPads(), rank + i);
      before.push_back(b);
      after.push_back(e);
      untouched.push_back(isConstantIntValue(b, 0) && isConstantIntValue(e, 0));
      if (untouched.back()) {
        dims.push_back(inputDims[i]);
        continue;
      }
      for (OpFoldResult pad : {b, e}) {
        if (getConstantIntValue(pad))
          continue; // the op's inference checked it
        Value value = toIndexValue(rewriter, loc, pad);
        Value small = rewriter.create<arith::AndIOp>(
            loc,
            rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sle, value,
                                           index(rewriter, loc, kLargestPad)),
            rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, value,
                                           index(rewriter, loc, -kLargestPad)));
        emitCheck(rewriter, loc, small, op,
                  "a pad of dim " + Twine(i) + " is beyond +-2^40");
      }
      Value dim = rewriter.createOrFold<arith::AddIOp>(
          loc,
          rewriter.createOrFold<arith::AddIOp>(loc, toIndexValue(rewriter, loc, inputDims[i]),
                                               toIndexValue(rewriter, loc, b)),
          toIndexValue(rewriter, loc, e));
      if (!type.isDynamicDim(i)) {
        dims.push_back(rewriter.getIndexAttr(type.getDimSize(i)));
        continue;
      }
      Value notNegative = rewriter.createOrFold<arith::CmpIOp>(
          loc, arith::CmpIPredicate::sge, dim, zero);
      emitCheck(rewriter, loc, notNegative, op,
                "the pads of dim " + Twine(i) + " remove more elements than it has");
      if (mode != "constant") {
        // Edge, reflect and wrap read the input: an empty dim has nothing
        // to read unless the result is empty too.
        Value inputDim = toIndexValue(rewriter, loc, inputDims[i]);
        Value readable = rewriter.createOrFold<arith::OrIOp>(
            loc,
            rewriter.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt,
                                                 inputDim, zero),
            rewriter.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                                 dim, zero));
        emitCheck(rewriter, loc, readable, op,
                  "dim " + Twine(i) + " is empty; " + mode +
                      " padding has no element to repeat");
      }
      dims.push_back(dim);
    }
    Value init = createEmpty(rewriter, loc, type, dims);

    if (mode == "constant") {
      Value fill = adaptor.getValue()
                       ? rewriter.create<tensor::ExtractOp>(
                             loc, adaptor.getValue(),
                             SmallVector<Value>(
                                 cast<RankedTensorType>(adaptor.getValue().getType())
                                     .getRank(),
                                 zero))
                             .getResult()
                       : createScalarConstant(rewriter, loc, type.getElementType(), 0);
      Value filled = rewriter.create<linalg::FillOp>(loc, fill, init).getResult(0);
      // The kept part of dim i: the input less what negative pads remove
      // (at most all of it), inserted after what positive pads add.
      SmallVector<OpFoldResult> cropOffsets, keptSizes, insertOffsets;
      bool crops = false;
      for (int64_t i = 0; i < rank; ++i) {
        if (untouched[i]) {
          cropOffsets.push_back(rewriter.getIndexAttr(0));
          keptSizes.push_back(inputDims[i]);
          insertOffsets.push_back(rewriter.getIndexAttr(0));
          continue;
        }
        Value d = toIndexValue(rewriter, loc, inputDims[i]);
        Value b = toIndexValue(rewriter, loc, before[i]);
        Value e = toIndexValue(rewriter, loc, after[i]);
        Value removedBefore = rewriter.createOrFold<arith::MaxSIOp>(
            loc, rewriter.createOrFold<arith::SubIOp>(loc, zero, b), zero);
        Value removedAfter = rewriter.createOrFold<arith::MaxSIOp>(
            loc, rewriter.createOrFold<arith::SubIOp>(loc, zero, e), zero);
        Value offset = rewriter.createOrFold<arith::MinSIOp>(loc, removedBefore, d);
        Value kept = rewriter.createOrFold<arith::MaxSIOp>(
            loc,
            rewriter.createOrFold<arith::SubIOp>(
                loc, rewriter.createOrFold<arith::SubIOp>(loc, d, removedBefore),
                removedAfter),
            zero);
        crops |= !isConstantIntValue(removedBefore, 0) ||
                 !isConstantIntValue(removedAfter, 0);
        cropOffsets.push_back(getAsOpFoldResult(offset));
        keptSizes.push_back(getAsOpFoldResult(kept));
        insertOffsets.push_back(getAsOpFoldResult(
            rewriter.createOrFold<arith::MaxSIOp>(loc, b, zero)));
      }
      SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
      Value kept = input;
      if (crops)
        kept = rewriter.create<tensor::ExtractSliceOp>(loc, input, cropOffsets,
                                                       keptSizes, strides);
      rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(op, kept, filled, insertOffsets,
                                                         keptSizes, strides);
      return success();
    }

    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> at;
          for (int64_t i = 0; i < rank; ++i) {
            Value position = b.create<linalg::IndexOp>(l, i);
            if (!untouched[i])
              position = padSource(b, l, mode,
                                   b.create<arith::SubIOp>(
                                       l, position, toIndexValue(b, l, before[i])),
                                   toIndexValue(b, l, inputDims[i]));
            at.push_back(position);
          }
          b.create<linalg::YieldOp>(l, b.create<tensor::ExtractOp>(l, input, at).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }

  /// The input position (in [0, dim), dim > 0) that result position
  /// `position` (offset by the pad before: negative in front of the input,
  /// >= dim past it) reads in edge, reflect or wrap mode.
  static Value padSource(OpBuilder &b, Location l, StringRef mode, Value position,
                         Value dim) {
    Value zero = b.create<arith::ConstantIndexOp>(l, 0);
    Value one = b.create<arith::ConstantIndexOp>(l, 1);
    Value last = b.create<arith::SubIOp>(l, dim, one);
    // `value` mod `period` in [0, period).
    auto floorMod = [&](Value value, Value period) -> Value {
      Value rem = b.create<arith::RemSIOp>(l, value, period);
      Value negative = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, rem, zero);
      return b.create<arith::SelectOp>(l, negative,
                                       b.create<arith::AddIOp>(l, rem, period), rem);
    };
    if (mode == "edge")
      return b.create<arith::MinSIOp>(l, b.create<arith::MaxSIOp>(l, position, zero),
                                      last);
    if (mode == "wrap")
      return floorMod(position, dim);
    // Reflect: the input mirrored without repeating its ends repeats every
    // 2 * (dim - 1) positions; a dim of one reflects onto itself.
    Value period = b.create<arith::MaxSIOp>(
        l, b.create<arith::AddIOp>(l, last, last), one);
    Value phase = floorMod(position, period);
    Value mirrored = b.create<arith::SubIOp>(l, period, phase);
    Value inFront = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, phase, dim);
    return b.create<arith::MinSIOp>(l, b.create<arith::SelectOp>(l, inFront, phase, mirrored),
                                    last);
  }
};

} // namespace

void mlir::tfc::populateShapePatterns(TypeConverter &converter,
                                      RewritePatternSet &patterns) {
  patterns.add<ConstantPattern, TransposePattern, ReshapePattern,
               ReshapeLikePattern<tfm::FlattenOp>, ReshapeLikePattern<tfm::SqueezeOp>,
               ReshapeLikePattern<tfm::UnsqueezeOp>, ConcatPattern, SplitPattern,
               SlicePattern, GatherPattern, GatherElementsPattern, ExpandPattern,
               TriluPattern, ShapePattern, PadPattern,
               ConstantOfShapePattern, RangePattern>(converter, patterns.getContext());
}
