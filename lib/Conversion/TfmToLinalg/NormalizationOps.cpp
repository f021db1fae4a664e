//===- NormalizationOps.cpp - softmax, layer_norm and reductions ----------===//
//
// Each lowers to reductions (linalg.generic with reduction iterators into a
// tensor without the reduced dims) and elementwise generics that read the
// reduced values back through maps that drop those dims; top_k to a loop of
// such reductions.
//
//===----------------------------------------------------------------------===//

#include "tfc/Conversion/LoweringUtils.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

using Combiner =
    function_ref<Value(OpBuilder &b, Location loc, ValueRange inputs, Value acc)>;

bool contains(ArrayRef<int64_t> axes, int64_t dim) {
  return llvm::is_contained(axes, dim);
}

/// The identity map of `rank` loops without the `axes`: how a tensor reduced
/// over `axes` is read inside a loop nest over the full shape.
AffineMap droppingAxes(OpBuilder &b, int64_t rank, ArrayRef<int64_t> axes) {
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < rank; ++i)
    if (!contains(axes, i))
      exprs.push_back(b.getAffineDimExpr(i));
  return AffineMap::get(rank, 0, exprs, b.getContext());
}

/// Reduces over `axes` of `shapeSource`, reading `inputs` (the first has the
/// full shape; the others are read through `extraMaps`), starting from
/// `init`. The result drops the reduced dims.
Value reduce(OpBuilder &b, Location loc, Value shapeSource,
             ArrayRef<int64_t> axes, ValueRange inputs,
             ArrayRef<AffineMap> inputMaps, Value init, Combiner combine) {
  auto type = cast<RankedTensorType>(shapeSource.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> dims;
  SmallVector<OpFoldResult> allDims = getDims(b, loc, shapeSource);
  for (int64_t i = 0; i < rank; ++i) {
    if (contains(axes, i))
      continue;
    shape.push_back(type.getDimSize(i));
    dims.push_back(allDims[i]);
  }
  auto resultType = RankedTensorType::get(shape, init.getType());
  Value empty = createEmpty(b, loc, resultType, dims);
  Value filled = b.create<linalg::FillOp>(loc, init, empty).getResult(0);

  SmallVector<AffineMap> maps(inputMaps);
  maps.push_back(droppingAxes(b, rank, axes));
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < rank; ++i)
    iterators.push_back(contains(axes, i) ? utils::IteratorType::reduction
                                          : utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{resultType}, inputs, ValueRange{filled}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        nb.create<linalg::YieldOp>(
            nloc, combine(nb, nloc, args.drop_back(), args.back()));
      });
  return generic.getResult(0);
}

/// The number of elements over `axes` of `tensor`, as a scalar of `type`.
Value countOver(OpBuilder &b, Location loc, Value tensor,
                ArrayRef<int64_t> axes, Type type) {
  Value count = b.create<arith::ConstantIndexOp>(loc, 1);
  for (int64_t axis : axes)
    count = b.create<arith::MulIOp>(loc, count,
                                    b.create<tensor::DimOp>(loc, tensor, axis));
  Value asInt = b.create<arith::IndexCastOp>(loc, b.getI64Type(), count);
  if (isa<FloatType>(type))
    return b.create<arith::SIToFPOp>(loc, type, asInt);
  return convertScalar(b, loc, asInt, type, false, false);
}

/// Puts back the reduced `axes` as dims of size 1 (keepdims).
Value keepReducedDims(OpBuilder &b, Location loc, Value reduced,
                      RankedTensorType resultType, ArrayRef<int64_t> axes) {
  int64_t rank = resultType.getRank();
  SmallVector<ReassociationIndices> reassociation;
  SmallVector<OpFoldResult> outputShape;
  int64_t sourceDim = 0;
  ReassociationIndices pending;
  for (int64_t i = 0; i < rank; ++i) {
    if (contains(axes, i)) {
      outputShape.push_back(b.getIndexAttr(1));
      pending.push_back(i);
      continue;
    }
    outputShape.push_back(tensor::getMixedSize(b, loc, reduced, sourceDim++));
    pending.push_back(i);
    reassociation.push_back(pending);
    pending.clear();
  }
  // Unit dims after the last kept dim join its group.
  if (!pending.empty() && !reassociation.empty())
    reassociation.back().append(pending.begin(), pending.end());
  return b.create<tensor::ExpandShapeOp>(loc, resultType, reduced,
                                         reassociation, outputShape);
}

/// The identity of max (`highest` false) or min: -inf / +inf, or the
/// type's extreme integer.
Value extremeValue(OpBuilder &b, Location loc, Type type, bool isUnsigned,
                   bool highest) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return b.create<arith::ConstantOp>(
        loc, b.getFloatAttr(floatType, APFloat::getInf(floatType.getFloatSemantics(),
                                                       /*Negative=*/!highest)));
  unsigned width = type.getIntOrFloatBitWidth();
  APInt value = highest ? (isUnsigned ? APInt::getMaxValue(width)
                                      : APInt::getSignedMaxValue(width))
                        : (isUnsigned ? APInt::getMinValue(width)
                                      : APInt::getSignedMinValue(width));
  return b.create<arith::ConstantOp>(loc, b.getIntegerAttr(type, value));
}

Value add(OpBuilder &b, Location loc, Value x, Value y) {
  if (isa<FloatType>(x.getType()))
    return b.create<arith::AddFOp>(loc, x, y);
  return b.create<arith::AddIOp>(loc, x, y);
}

template <typename OpTy>
struct ReducePattern : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto resultType = cast<RankedTensorType>(
        this->getTypeConverter()->convertType(op.getType()));
    Type elementType = inputType.getElementType();
    bool isUnsigned = elementTypeOf(op.getInput()).isUnsignedInteger();
    int64_t rank = inputType.getRank();

    SmallVector<int64_t> axes;
    for (int64_t axis : op.getAxes())
      axes.push_back(axis < 0 ? axis + rank : axis);
    if (axes.empty())
      for (int64_t i = 0; i < rank; ++i)
        axes.push_back(i);
    llvm::sort(axes);
    axes.erase(std::unique(axes.begin(), axes.end()), axes.end());

    constexpr bool isMax = std::is_same_v<OpTy, tfm::ReduceMaxOp>;
    constexpr bool isMin = std::is_same_v<OpTy, tfm::ReduceMinOp>;
    constexpr bool isProd = std::is_same_v<OpTy, tfm::ReduceProdOp>;
    Value init =
        isMax || isMin
            ? extremeValue(rewriter, loc, elementType, isUnsigned, isMin)
            : createScalarConstant(rewriter, loc, elementType, isProd ? 1.0 : 0.0);
    bool isFloat = isa<FloatType>(elementType);
    Value reduced = reduce(
        rewriter, loc, input, axes, input, rewriter.getMultiDimIdentityMap(rank),
        init, [&](OpBuilder &b, Location l, ValueRange in, Value acc) -> Value {
          if constexpr (isMax) {
            if (isFloat)
              return b.create<arith::MaximumFOp>(l, in[0], acc);
            if (isUnsigned)
              return b.create<arith::MaxUIOp>(l, in[0], acc);
            return b.create<arith::MaxSIOp>(l, in[0], acc);
          } else if constexpr (isMin) {
            if (isFloat)
              return b.create<arith::MinimumFOp>(l, in[0], acc);
            if (isUnsigned)
              return b.create<arith::MinUIOp>(l, in[0], acc);
            return b.create<arith::MinSIOp>(l, in[0], acc);
          } else if constexpr (isProd) {
            if (isFloat)
              return b.create<arith::MulFOp>(l, in[0], acc);
            return b.create<arith::MulIOp>(l, in[0], acc);
          } else {
            return add(b, l, in[0], acc);
          }
        });

    if constexpr (std::is_same_v<OpTy, tfm::ReduceMeanOp>) {
      Value count = countOver(rewriter, loc, input, axes, elementType);
      auto reducedType = cast<RankedTensorType>(reduced.getType());
      reduced = buildBroadcastElementwise(
          rewriter, loc, op, reduced, reducedType,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            if (isa<FloatType>(elementType))
              return b.create<arith::DivFOp>(l, args[0], count);
            if (isUnsigned)
              return b.create<arith::DivUIOp>(l, args[0], count);
            return b.create<arith::DivSIOp>(l, args[0], count);
          });
    }
    if (op.getKeepdims())
      reduced = keepReducedDims(rewriter, loc, reduced, resultType, axes);
    rewriter.replaceOp(op, reduced);
    return success();
  }
};

/// ArgMax/ArgMin: one reduction generic with two outputs, the best value so
/// far and its index (linalg.index of the axis). The axis is the reduction
/// loop, which runs in order, so a strict comparison keeps the first of equal
/// values and a non-strict one (select_last_index) the last. Ordered float
/// comparisons never prefer NaN.
template <typename OpTy>
struct ArgReducePattern : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    constexpr bool isMax = std::is_same_v<OpTy, tfm::ArgMaxOp>;
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto resultType = cast<RankedTensorType>(
        this->getTypeConverter()->convertType(op.getType()));
    Type element = inputType.getElementType();
    bool isUnsigned = elementTypeOf(op.getInput()).isUnsignedInteger();
    bool isFloat = isa<FloatType>(element);
    bool keepLast = op.getSelectLastIndex();
    int64_t rank = inputType.getRank();
    int64_t axis = op.getAxis();

    SmallVector<int64_t> shape;
    SmallVector<OpFoldResult> dims;
    SmallVector<OpFoldResult> allDims = getDims(rewriter, loc, input);
    for (int64_t i = 0; i < rank; ++i) {
      if (i == axis)
        continue;
      shape.push_back(inputType.getDimSize(i));
      dims.push_back(allDims[i]);
    }
    Type indexType = rewriter.getI64Type();
    auto valuesType = RankedTensorType::get(shape, element);
    auto indicesType = RankedTensorType::get(shape, indexType);
    // The values start at the extreme the comparison never prefers (-inf
    // for ArgMax), the indices at 0: a row holding only that extreme gives
    // index 0, or its last index with select_last_index.
    Value values =
        rewriter
            .create<linalg::FillOp>(
                loc, extremeValue(rewriter, loc, element, isUnsigned, !isMax),
                createEmpty(rewriter, loc, valuesType, dims))
            .getResult(0);
    Value indices =
        rewriter
            .create<linalg::FillOp>(
                loc, createScalarConstant(rewriter, loc, indexType, 0),
                createEmpty(rewriter, loc, indicesType, dims))
            .getResult(0);

    AffineMap reducedMap = droppingAxes(rewriter, rank, {axis});
    SmallVector<AffineMap> maps = {rewriter.getMultiDimIdentityMap(rank),
                                   reducedMap, reducedMap};
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators[axis] = utils::IteratorType::reduction;
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{valuesType, indicesType}, input,
        ValueRange{values, indices}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value candidate = args[0], best = args[1], bestIndex = args[2];
          Value better;
          if (isFloat) {
            auto predicate = isMax ? (keepLast ? arith::CmpFPredicate::OGE
                                               : arith::CmpFPredicate::OGT)
                                   : (keepLast ? arith::CmpFPredicate::OLE
                                               : arith::CmpFPredicate::OLT);
            better = b.create<arith::CmpFOp>(l, predicate, candidate, best);
          } else {
            arith::CmpIPredicate predicate;
            if (isMax)
              predicate = keepLast ? (isUnsigned ? arith::CmpIPredicate::uge
                                                 : arith::CmpIPredicate::sge)
                                   : (isUnsigned ? arith::CmpIPredicate::ugt
                                                 : arith::CmpIPredicate::sgt);
            else
              predicate = keepLast ? (isUnsigned ? arith::CmpIPredicate::ule
                                                 : arith::CmpIPredicate::sle)
                                   : (isUnsigned ? arith::CmpIPredicate::ult
                                                 : arith::CmpIPredicate::slt);
            better = b.create<arith::CmpIOp>(l, predicate, candidate, best);
          }
          Value position = b.create<arith::IndexCastOp>(
              l, indexType, b.create<linalg::IndexOp>(l, axis));
          b.create<linalg::YieldOp>(
              l, ValueRange{b.create<arith::SelectOp>(l, better, candidate, best),
                            b.create<arith::SelectOp>(l, better, position,
                                                      bestIndex)});
        });
    Value result = generic.getResult(1);
    if (op.getKeepdims())
      result = keepReducedDims(rewriter, loc, result, resultType, {axis});
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// A map reading a tensor that broadcasts (numpy, aligned right) into a loop
/// nest over `fullType`.
AffineMap broadcastingMap(OpBuilder &b, RankedTensorType operandType,
                          RankedTensorType fullType) {
  int64_t rank = fullType.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t j = 0; j < operandType.getRank(); ++j) {
    int64_t i = j + rank - operandType.getRank();
    bool broadcasts = operandType.getDimSize(j) == 1 && fullType.getDimSize(i) != 1;
    exprs.push_back(broadcasts ? b.getAffineConstantExpr(0) : b.getAffineDimExpr(i));
  }
  return AffineMap::get(rank, 0, exprs, b.getContext());
}

struct SoftmaxPattern : OpConversionPattern<tfm::SoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto type = cast<RankedTensorType>(input.getType());
    Type elementType = type.getElementType();
    if (!isa<FloatType>(elementType))
      return op.emitOpError("is only defined for floating-point tensors");
    int64_t rank = type.getRank();
    int64_t axis = normalizedAxis(op.getAxis(), rank);
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    AffineMap reducedMap = droppingAxes(rewriter, rank, {axis});
    SmallVector<utils::IteratorType> parallel(rank, utils::IteratorType::parallel);
    SmallVector<OpFoldResult> dims = getDims(rewriter, loc, input);

    // max, then exp(x - max), then its sum, then the quotient.
    Value max = reduce(rewriter, loc, input, {axis}, input, identity,
                       extremeValue(rewriter, loc, elementType, false, /*highest=*/false),
                       [](OpBuilder &b, Location l, ValueRange in, Value acc) -> Value {
                         return b.create<arith::MaximumFOp>(l, in[0], acc);
                       });
    // f(x, r) over the full shape, r read through the map that drops the axis.
    auto withReduced = [&](Value full, Value reduced,
                           function_ref<Value(OpBuilder &, Location, Value, Value)> f) {
      return rewriter
          .create<linalg::GenericOp>(
              loc, TypeRange{type}, ValueRange{full, reduced},
              ValueRange{createEmpty(rewriter, loc, type, dims)},
              SmallVector<AffineMap>{identity, reducedMap, identity}, parallel,
              [&](OpBuilder &b, Location l, ValueRange args) {
                b.create<linalg::YieldOp>(l, f(b, l, args[0], args[1]));
              })
          .getResult(0);
    };
    Value exps = withReduced(input, max, [](OpBuilder &b, Location l, Value x, Value m) {
      return b.create<math::ExpOp>(l, b.create<arith::SubFOp>(l, x, m)).getResult();
    });
    Value sum = reduce(rewriter, loc, input, {axis}, exps, identity,
                       createScalarConstant(rewriter, loc, elementType, 0.0),
                       [](OpBuilder &b, Location l, ValueRange in, Value acc) {
                         return add(b, l, in[0], acc);
                       });
    Value result = withReduced(exps, sum, [](OpBuilder &b, Location l, Value e, Value t) {
      return b.create<arith::DivFOp>(l, e, t).getResult();
    });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// The dims a normalization from `axis` reduces: [axis, rank).
static SmallVector<int64_t> trailingDims(int64_t axis, int64_t rank) {
  return llvm::to_vector(llvm::seq<int64_t>(axis, rank));
}

/// Emits run-time checks that the dynamic dims of a normalization's scale
/// and bias (trailing-aligned, as numpy broadcasts) match `input`'s.
/// (`what`'s dim i and the input's are reported when they differ.)
static void checkNormalizationParams(OpBuilder &b, Location loc, Operation *op,
                                     Value input, ArrayRef<Value> params,
                                     StringRef what = "scale or bias") {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  for (Value param : params) {
    if (!param)
      continue;
    auto paramType = cast<RankedTensorType>(param.getType());
    for (int64_t j = 0; j < paramType.getRank(); ++j) {
      int64_t i = j + rank - paramType.getRank();
      if (paramType.getDimSize(j) == 1 ||
          (!paramType.isDynamicDim(j) && !type.isDynamicDim(i)))
        continue;
      Value same = b.create<arith::CmpIOp>(
          loc, arith::CmpIPredicate::eq, b.create<tensor::DimOp>(loc, param, j),
          b.create<tensor::DimOp>(loc, input, i));
      emitCheck(b, loc, same, op,
                what + "'s dim " + Twine(j) + " does not match the input's (" +
                    what + " vs input)");
    }
  }
}

/// Layer norm of `input` (plus `skip`, when given, summed on the fly in each
/// pass so that the sum is never stored): a reduction for the sum, one for
/// the sum of squared deviations, and the normalizing pass.
Value lowerLayerNorm(ConversionPatternRewriter &rewriter, Operation *op,
                     Value input, Value skip, Value scale, Value bias,
                     uint64_t axisAttr, double epsilon) {
  Location loc = op->getLoc();
  auto type = cast<RankedTensorType>(input.getType());
  Type elementType = type.getElementType();
  int64_t rank = type.getRank();
  SmallVector<int64_t> axes = trailingDims(normalizedAxis(axisAttr, rank), rank);
  checkNormalizationParams(rewriter, loc, op, input, {scale, bias});

  AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
  AffineMap reducedMap = droppingAxes(rewriter, rank, axes);
  Value zero = createScalarConstant(rewriter, loc, elementType, 0.0);
  Value count = countOver(rewriter, loc, input, axes, elementType);
  // The operands that make up x, and x from their scalars.
  SmallVector<Value> addends = {input};
  if (skip)
    addends.push_back(skip);
  size_t n = addends.size();
  auto valueOf = [n](OpBuilder &b, Location l, ValueRange in) -> Value {
    return n == 2 ? b.create<arith::AddFOp>(l, in[0], in[1]).getResult() : in[0];
  };
  SmallVector<AffineMap> addendMaps = {identity};
  if (skip) {
    // The skip broadcasts to the input; its dynamic dims must agree.
    checkNormalizationParams(rewriter, loc, op, input, {skip}, "the residual");
    addendMaps.push_back(
        broadcastingMap(rewriter, cast<RankedTensorType>(skip.getType()), type));
  }

  Value sum = reduce(rewriter, loc, input, axes, addends, addendMaps, zero,
                     [&](OpBuilder &b, Location l, ValueRange in, Value acc) {
                       return add(b, l, valueOf(b, l, in), acc);
                     });
  SmallVector<Value> squareInputs(addends);
  squareInputs.push_back(sum);
  SmallVector<AffineMap> squareMaps(addendMaps);
  squareMaps.push_back(reducedMap);
  Value sumOfSquares = reduce(
      rewriter, loc, input, axes, squareInputs, squareMaps, zero,
      [&](OpBuilder &b, Location l, ValueRange in, Value acc) -> Value {
        Value mean = b.create<arith::DivFOp>(l, in[n], count);
        Value centered = b.create<arith::SubFOp>(l, valueOf(b, l, in), mean);
        return b.create<arith::AddFOp>(
            l, acc, b.create<arith::MulFOp>(l, centered, centered));
      });

  SmallVector<Value> inputs(addends);
  llvm::append_range(inputs, SmallVector<Value>{sum, sumOfSquares, scale});
  SmallVector<AffineMap> maps(addendMaps);
  llvm::append_range(
      maps, SmallVector<AffineMap>{
                reducedMap, reducedMap,
                broadcastingMap(rewriter, cast<RankedTensorType>(scale.getType()), type)});
  if (bias) {
    inputs.push_back(bias);
    maps.push_back(
        broadcastingMap(rewriter, cast<RankedTensorType>(bias.getType()), type));
  }
  maps.push_back(identity);
  return rewriter
      .create<linalg::GenericOp>(
          loc, TypeRange{type}, inputs,
          ValueRange{createEmpty(rewriter, loc, type, getDims(rewriter, loc, input))},
          maps, SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value mean = b.create<arith::DivFOp>(l, args[n], count);
            Value variance = b.create<arith::DivFOp>(l, args[n + 1], count);
            Value eps = createScalarConstant(b, l, elementType, epsilon);
            Value invStd = b.create<math::RsqrtOp>(
                l, b.create<arith::AddFOp>(l, variance, eps));
            Value normalized = b.create<arith::MulFOp>(
                l, b.create<arith::SubFOp>(l, valueOf(b, l, args), mean), invStd);
            Value scaled = b.create<arith::MulFOp>(l, normalized, args[n + 2]);
            if (bias)
              scaled = b.create<arith::AddFOp>(l, scaled, args[n + 3]);
            b.create<linalg::YieldOp>(l, scaled);
          })
      .getResult(0);
}

struct LayerNormPattern : OpConversionPattern<tfm::LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!isa<FloatType>(elementTypeOf(adaptor.getInput())))
      return op.emitOpError("is only defined for floating-point tensors");
    rewriter.replaceOp(
        op, lowerLayerNorm(rewriter, op, adaptor.getInput(), Value(),
                           adaptor.getScale(), adaptor.getBias(), op.getAxis(),
                           op.getEpsilon().convertToDouble()));
    return success();
  }
};

/// layer_norm(input + skip): the sum is read from both operands in each
/// pass instead of being stored.
struct AddLayerNormPattern : OpConversionPattern<tfm::AddLayerNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::AddLayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!isa<FloatType>(elementTypeOf(adaptor.getInput())))
      return op.emitOpError("is only defined for floating-point tensors");
    rewriter.replaceOp(
        op, lowerLayerNorm(rewriter, op, adaptor.getInput(), adaptor.getSkip(),
                           adaptor.getScale(), adaptor.getBias(), op.getAxis(),
                           op.getEpsilon().convertToDouble()));
    return success();
  }
};

/// y = x * rsqrt(mean(x^2) + epsilon) * scale over the trailing dims.
struct RmsNormPattern : OpConversionPattern<tfm::RmsNormOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::RmsNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), scale = adaptor.getScale();
    auto type = cast<RankedTensorType>(input.getType());
    Type elementType = type.getElementType();
    if (!isa<FloatType>(elementType))
      return op.emitOpError("is only defined for floating-point tensors");
    int64_t rank = type.getRank();
    SmallVector<int64_t> axes =
        trailingDims(normalizedAxis(op.getAxis(), rank), rank);
    checkNormalizationParams(rewriter, loc, op, input, {scale});

    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    Value zero = createScalarConstant(rewriter, loc, elementType, 0.0);
    Value count = countOver(rewriter, loc, input, axes, elementType);
    Value sumOfSquares = reduce(
        rewriter, loc, input, axes, input, identity, zero,
        [](OpBuilder &b, Location l, ValueRange in, Value acc) -> Value {
          return b.create<arith::AddFOp>(
              l, acc, b.create<arith::MulFOp>(l, in[0], in[0]));
        });
    double epsilon = op.getEpsilon().convertToDouble();
    Value result =
        rewriter
            .create<linalg::GenericOp>(
                loc, TypeRange{type}, ValueRange{input, sumOfSquares, scale},
                ValueRange{createEmpty(rewriter, loc, type,
                                       getDims(rewriter, loc, input))},
                SmallVector<AffineMap>{
                    identity, droppingAxes(rewriter, rank, axes),
                    broadcastingMap(rewriter,
                                    cast<RankedTensorType>(scale.getType()),
                                    type),
                    identity},
                SmallVector<utils::IteratorType>(rank,
                                                 utils::IteratorType::parallel),
                [&](OpBuilder &b, Location l, ValueRange args) {
                  Value meanSquare = b.create<arith::DivFOp>(l, args[1], count);
                  Value eps = createScalarConstant(b, l, elementType, epsilon);
                  Value invRms = b.create<math::RsqrtOp>(
                      l, b.create<arith::AddFOp>(l, meanSquare, eps));
                  Value scaled = b.create<arith::MulFOp>(
                      l, b.create<arith::MulFOp>(l, args[0], invRms), args[2]);
                  b.create<linalg::YieldOp>(l, scaled);
                })
            .getResult(0);
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// TopK as k passes of an arg-max reduction (the rows of every other dim at
/// once, vectorizable like ArgMax): pass t picks, in each row, the best
/// element among those the order puts after pass t-1's pick, and writes it
/// at position t of the results. The order is by value (descending for
/// largest), then by index, so equal values come out lowest index first and
/// no element is picked twice. O(k * n) per row: for the k of sampling and
/// beam search, far below n.
struct TopKPattern : OpConversionPattern<tfm::TopKOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::TopKOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto valuesType = cast<RankedTensorType>(
        getTypeConverter()->convertType(op.getValues().getType()));
    auto indicesType = cast<RankedTensorType>(op.getIndices().getType());
    Type element = inputType.getElementType();
    bool isUnsigned = elementTypeOf(op.getInput()).isUnsignedInteger();
    bool isFloat = isa<FloatType>(element);
    bool largest = op.getLargest();
    int64_t rank = inputType.getRank();
    int64_t axis = normalizedAxis(op.getAxis(), rank);
    Type i64 = rewriter.getI64Type();

    SmallVector<OpFoldResult> inputDims = getDims(rewriter, loc, input);
    Value extent = toIndexValue(rewriter, loc, inputDims[axis]);
    Value k = extractScalarAsIndex(rewriter, loc, adaptor.getK());
    if (valuesType.isDynamicDim(axis)) {
      Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
      Value fits = rewriter.create<arith::AndIOp>(
          loc, rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, k, zero),
          rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sle, k, extent));
      emitCheck(rewriter, loc, fits, op, "k is negative or exceeds the dim");
    } else {
      k = rewriter.create<arith::ConstantIndexOp>(loc, valuesType.getDimSize(axis));
    }
    SmallVector<OpFoldResult> resultDims(inputDims);
    resultDims[axis] = getAsOpFoldResult(k);
    Value values = createEmpty(rewriter, loc, valuesType, resultDims);
    Value indices = createEmpty(rewriter, loc, indicesType, resultDims);

    // A row's pick: the shape without the axis.
    SmallVector<int64_t> rowShape;
    SmallVector<OpFoldResult> rowDims;
    for (int64_t i = 0; i < rank; ++i) {
      if (i == axis)
        continue;
      rowShape.push_back(inputType.getDimSize(i));
      rowDims.push_back(inputDims[i]);
    }
    auto pickValuesType = RankedTensorType::get(rowShape, element);
    auto pickIndicesType = RankedTensorType::get(rowShape, i64);
    // An index of -1: no pick yet (before the first pass, and in a pass
    // until the first candidate).
    auto fill = [&](OpBuilder &b, Location l, RankedTensorType type, Value value) {
      return b.create<linalg::FillOp>(l, value, createEmpty(b, l, type, rowDims))
          .getResult(0);
    };
    Value none = createScalarConstant(rewriter, loc, i64, -1);
    Value zeroValue = createScalarConstant(rewriter, loc, element, 0);
    Value firstValues = fill(rewriter, loc, pickValuesType, zeroValue);
    Value firstIndices = fill(rewriter, loc, pickIndicesType, none);

    AffineMap rowMap = droppingAxes(rewriter, rank, {axis});
    SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::parallel);
    iterators[axis] = utils::IteratorType::reduction;
    auto compare = [&](OpBuilder &b, Location l, bool greater, Value x, Value y) -> Value {
      if (isFloat)
        return b.create<arith::CmpFOp>(
            l, greater ? arith::CmpFPredicate::OGT : arith::CmpFPredicate::OLT, x, y);
      return b.create<arith::CmpIOp>(
          l,
          greater ? (isUnsigned ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt)
                  : (isUnsigned ? arith::CmpIPredicate::ult : arith::CmpIPredicate::slt),
          x, y);
    };
    auto equal = [&](OpBuilder &b, Location l, Value x, Value y) -> Value {
      if (isFloat)
        return b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, x, y);
      return b.create<arith::CmpIOp>(l, arith::CmpIPredicate::eq, x, y);
    };

    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);
    Value one = rewriter.create<arith::ConstantIndexOp>(loc, 1);
    SmallVector<OpFoldResult> sliceSizes(resultDims);
    sliceSizes[axis] = rewriter.getIndexAttr(1);
    SmallVector<OpFoldResult> strides(rank, rewriter.getIndexAttr(1));
    auto loop = rewriter.create<scf::ForOp>(
        loc, zero, k, one, ValueRange{values, indices, firstValues, firstIndices},
        [&](OpBuilder &b, Location l, Value pass, ValueRange carried) {
          auto pick = b.create<linalg::GenericOp>(
              l, TypeRange{pickValuesType, pickIndicesType},
              ValueRange{input, carried[2], carried[3]},
              ValueRange{fill(b, l, pickValuesType, zeroValue),
                         fill(b, l, pickIndicesType, none)},
              SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank), rowMap, rowMap,
                                     rowMap, rowMap},
              iterators, [&](OpBuilder &nb, Location nl, ValueRange args) {
                Value v = args[0], previous = args[1], previousIndex = args[2];
                Value best = args[3], bestIndex = args[4];
                Value position = nb.create<arith::IndexCastOp>(
                    nl, i64, nb.create<linalg::IndexOp>(nl, axis));
                Value zeroIndex = createScalarConstant(nb, nl, i64, 0);
                // After the previous pick in the order: worse, or as good
                // and later.
                Value first = nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::slt,
                                                       previousIndex, zeroIndex);
                Value after = nb.create<arith::OrIOp>(
                    nl, compare(nb, nl, !largest, v, previous),
                    nb.create<arith::AndIOp>(
                        nl, equal(nb, nl, v, previous),
                        nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::sgt,
                                                 position, previousIndex)));
                Value candidate = nb.create<arith::OrIOp>(nl, first, after);
                // Better than this pass's best so far: better value, or as
                // good and earlier.
                Value empty = nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::slt,
                                                       bestIndex, zeroIndex);
                Value better = nb.create<arith::OrIOp>(
                    nl, compare(nb, nl, largest, v, best),
                    nb.create<arith::AndIOp>(
                        nl, equal(nb, nl, v, best),
                        nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::slt,
                                                 position, bestIndex)));
                Value take = nb.create<arith::AndIOp>(
                    nl, candidate, nb.create<arith::OrIOp>(nl, empty, better));
                nb.create<linalg::YieldOp>(
                    nl, ValueRange{nb.create<arith::SelectOp>(nl, take, v, best),
                                   nb.create<arith::SelectOp>(nl, take, position,
                                                              bestIndex)});
              });
          SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
          offsets[axis] = pass;
          Value newValues = b.create<tensor::InsertSliceOp>(
              l, pick.getResult(0), carried[0], offsets, sliceSizes, strides);
          Value newIndices = b.create<tensor::InsertSliceOp>(
              l, pick.getResult(1), carried[1], offsets, sliceSizes, strides);
          b.create<scf::YieldOp>(
              l, ValueRange{newValues, newIndices, pick.getResult(0), pick.getResult(1)});
        });
    rewriter.replaceOp(op, {loop.getResult(0), loop.getResult(1)});
    return success();
  }
};

} // namespace

void mlir::tfc::populateNormalizationPatterns(TypeConverter &converter,
                                              RewritePatternSet &patterns) {
  patterns.add<ReducePattern<tfm::ReduceMeanOp>, ReducePattern<tfm::ReduceSumOp>,
               ReducePattern<tfm::ReduceMaxOp>, ReducePattern<tfm::ReduceMinOp>,
               ReducePattern<tfm::ReduceProdOp>, ArgReducePattern<tfm::ArgMaxOp>,
               ArgReducePattern<tfm::ArgMinOp>, SoftmaxPattern, LayerNormPattern,
               AddLayerNormPattern, RmsNormPattern, TopKPattern>(
      converter, patterns.getContext());
}
