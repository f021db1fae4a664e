//===- QuantizedOps.cpp - quantization ops to linalg ----------------------===//
//
// ONNX's quantization ops (tfm.quantize_linear, tfm.dequantize_linear,
// tfm.dynamic_quantize_linear) elementwise, and tfm.quantized_linear. The
// latter is the generic lowering for targets without the int8 kernel (and
// the reference the kernel is tested against): it computes exactly what
// the kernel does, in four steps of linalg:
//
//   1. the input's quantization parameters: per row (max |x| over the last
//      dim), over the tensor (its min and max) or the op's constants;
//   2. q - zero point of every input element, as i32;
//   3. the exact i32 products with the weight less its zero point;
//   4. the epilogue: float(sum) * (weight scale * input scale) + bias,
//      activation, + residual.
//
//===----------------------------------------------------------------------===//

#include "tfc/Conversion/LoweringUtils.h"
#include "tfc/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

Value f32Constant(OpBuilder &b, Location loc, float value) {
  return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(value));
}
Value i32Constant(OpBuilder &b, Location loc, int32_t value) {
  return b.create<arith::ConstantIntOp>(loc, value, 32);
}

/// min(max(value, low), high) on i32.
Value clampI32(OpBuilder &b, Location loc, Value value, int32_t low,
               int32_t high) {
  value = b.create<arith::MaxSIOp>(loc, value, i32Constant(b, loc, low));
  return b.create<arith::MinSIOp>(loc, value, i32Constant(b, loc, high));
}

/// `scaled` rounded half to even into i32, clamped to +-2^30 first (as the
/// kernel does, so that inf and huge values do not overflow the conversion).
Value roundToI32(OpBuilder &b, Location loc, Value scaled) {
  Value limit = f32Constant(b, loc, 1073741824.0f);
  scaled = b.create<arith::MaximumFOp>(
      loc, scaled, b.create<arith::NegFOp>(loc, limit));
  scaled = b.create<arith::MinimumFOp>(loc, scaled, limit);
  return b.create<arith::FPToSIOp>(loc, b.getI32Type(),
                                   b.create<math::RoundEvenOp>(loc, scaled));
}

/// A tensor of `type` and `dims` filled with `value`.
Value filled(OpBuilder &b, Location loc, RankedTensorType type,
             ArrayRef<OpFoldResult> dims, Value value) {
  Value empty = createEmpty(b, loc, type, dims);
  return b.create<linalg::FillOp>(loc, value, empty).getResult(0);
}

/// Reduces the last dim of `input` ([.., K] f32) into [..] by `combine`
/// from `init` (every dim when `all`, into a 0-D tensor).
Value reduce(OpBuilder &b, Location loc, Value input, bool all, float init,
             function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> dims = getDims(b, loc, input);
  SmallVector<int64_t> shape(type.getShape());
  SmallVector<AffineExpr> kept;
  SmallVector<utils::IteratorType> iterators(rank, utils::IteratorType::reduction);
  if (all) {
    dims.clear();
    shape.clear();
  } else {
    dims.pop_back();
    shape.pop_back();
    for (int64_t i = 0; i + 1 < rank; ++i) {
      kept.push_back(b.getAffineDimExpr(i));
      iterators[i] = utils::IteratorType::parallel;
    }
  }
  auto resultType = RankedTensorType::get(shape, b.getF32Type());
  Value init_ = filled(b, loc, resultType, dims, f32Constant(b, loc, init));
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{resultType}, ValueRange{input}, ValueRange{init_},
          SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank),
                                 AffineMap::get(rank, 0, kept, b.getContext())},
          iterators,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            nb.create<linalg::YieldOp>(l, combine(nb, l, args[0], args[1]));
          })
      .getResult(0);
}

/// DynamicQuantizeLinear's scale and zero point (i32) of an f32 `input`:
/// its range widened to hold 0, scale = range / 255, zero point
/// round(-min / scale) in [0, 255]; a range of width 0 takes scale 1 and
/// zero point 0.
std::pair<Value, Value> tensorQuantization(OpBuilder &b, Location loc,
                                           Value input) {
  Value lowest = reduce(b, loc, input, /*all=*/true, INFINITY,
                        [](OpBuilder &nb, Location l, Value x, Value acc) -> Value {
                          return nb.create<arith::MinimumFOp>(l, acc, x);
                        });
  Value highest = reduce(b, loc, input, /*all=*/true, -INFINITY,
                         [](OpBuilder &nb, Location l, Value x, Value acc) -> Value {
                           return nb.create<arith::MaximumFOp>(l, acc, x);
                         });
  Value lo = b.create<tensor::ExtractOp>(loc, lowest, ValueRange{});
  Value hi = b.create<tensor::ExtractOp>(loc, highest, ValueRange{});
  Value fzero = f32Constant(b, loc, 0.0f);
  lo = b.create<arith::MinimumFOp>(loc, lo, fzero);
  hi = b.create<arith::MaximumFOp>(loc, hi, fzero);
  Value width = b.create<arith::SubFOp>(loc, hi, lo);
  Value positive =
      b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT, width, fzero);
  Value scale = b.create<arith::SelectOp>(
      loc, positive, b.create<arith::DivFOp>(loc, width, f32Constant(b, loc, 255.0f)),
      f32Constant(b, loc, 1.0f));
  Value z = roundToI32(
      b, loc, b.create<arith::DivFOp>(loc, b.create<arith::NegFOp>(loc, lo), scale));
  Value zero = b.create<arith::SelectOp>(loc, positive, clampI32(b, loc, z, 0, 255),
                                         i32Constant(b, loc, 0));
  return {scale, zero};
}

/// The indexing map of a quantization parameter of `rank`-D data: 0-D, or
/// 1-D along `axis`, or with `blockSize` > 0 the data's rank, index i along
/// `axis` reading parameter i / blockSize.
AffineMap parameterMap(OpBuilder &b, Value parameter, int64_t rank,
                       int64_t axis, int64_t blockSize) {
  if (axis < 0)
    axis += rank;
  if (blockSize > 0) {
    SmallVector<AffineExpr> results;
    for (int64_t d = 0; d < rank; ++d)
      results.push_back(d == axis ? b.getAffineDimExpr(d).floorDiv(blockSize)
                                  : b.getAffineDimExpr(d));
    return AffineMap::get(rank, 0, results, b.getContext());
  }
  if (cast<RankedTensorType>(parameter.getType()).getRank() == 0)
    return AffineMap::get(rank, 0, {}, b.getContext());
  return AffineMap::get(rank, 0, b.getAffineDimExpr(axis));
}

/// The inputs and indexing maps of an elementwise (de)quantization of
/// `rank`-D data: the data, its scale and its zero point if any, then the
/// result's map.
void quantizationOperands(OpBuilder &b, Value data, Value scale, Value zero,
                          int64_t rank, int64_t axis, SmallVector<Value> &inputs,
                          SmallVector<AffineMap> &maps, int64_t blockSize = 0) {
  inputs = {data, scale};
  maps = {b.getMultiDimIdentityMap(rank),
          parameterMap(b, scale, rank, axis, blockSize)};
  if (zero) {
    inputs.push_back(zero);
    maps.push_back(parameterMap(b, zero, rank, axis, blockSize));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
}

/// The clamping range of integers of `type`'s width and signedness.
std::pair<int32_t, int32_t> integerRange(Type type) {
  auto integer = cast<IntegerType>(type);
  unsigned width = integer.getWidth();
  if (integer.isUnsigned())
    return {0, static_cast<int32_t>((1u << width) - 1)};
  return {-static_cast<int32_t>(1u << (width - 1)),
          static_cast<int32_t>((1u << (width - 1)) - 1)};
}

struct QuantizeLinearPattern : OpConversionPattern<tfm::QuantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::QuantizeLinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    OpBuilder &b = rewriter;
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto resultType =
        cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    int64_t rank = inputType.getRank();
    Type to = op.getTo();
    bool toUnsigned = to.isUnsignedInteger();
    std::pair<int32_t, int32_t> range = integerRange(to);
    int32_t low = range.first, high = range.second;
    Value zeroPoint = adaptor.getZeroPoint();
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    quantizationOperands(b, input, adaptor.getScale(), zeroPoint, rank,
                         op.getAxis(), inputs, maps);
    Value result =
        b.create<linalg::GenericOp>(
             loc, TypeRange{resultType}, inputs,
             ValueRange{createEmpty(b, loc, resultType, getDims(b, loc, input))},
             maps, SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value x = extendFloat(nb, l, args[0], nb.getF32Type());
               Value q = roundToI32(nb, l, nb.create<arith::DivFOp>(l, x, args[1]));
               if (zeroPoint)
                 q = nb.create<arith::AddIOp>(
                     l, q, convertScalar(nb, l, args[2], nb.getI32Type(), toUnsigned,
                                         false));
               q = clampI32(nb, l, q, low, high);
               nb.create<linalg::YieldOp>(
                   l, nb.create<arith::TruncIOp>(l, resultType.getElementType(), q)
                          .getResult());
             })
            .getResult(0);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct DequantizeLinearPattern : OpConversionPattern<tfm::DequantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::DequantizeLinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    OpBuilder &b = rewriter;
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    int64_t rank = inputType.getRank();
    bool isUnsigned = isUnsignedInt(elementTypeOf(op.getInput()));
    Value zeroPoint = adaptor.getZeroPoint();
    SmallVector<Value> inputs;
    SmallVector<AffineMap> maps;
    quantizationOperands(b, input, adaptor.getScale(), zeroPoint, rank,
                         op.getAxis(), inputs, maps, op.getBlockSize());
    Value result =
        b.create<linalg::GenericOp>(
             loc, TypeRange{resultType}, inputs,
             ValueRange{createEmpty(b, loc, resultType, getDims(b, loc, input))},
             maps, SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               // In i64, exact for every input type (i32 less its zero
               // point included).
               Value x = convertScalar(nb, l, args[0], nb.getI64Type(), isUnsigned, false);
               if (zeroPoint)
                 x = nb.create<arith::SubIOp>(
                     l, x, convertScalar(nb, l, args[2], nb.getI64Type(), isUnsigned,
                                         false));
               Value f = nb.create<arith::SIToFPOp>(l, nb.getF32Type(), x);
               nb.create<linalg::YieldOp>(
                   l, nb.create<arith::MulFOp>(l, f, args[1]).getResult());
             })
            .getResult(0);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct DynamicQuantizeLinearPattern
    : OpConversionPattern<tfm::DynamicQuantizeLinearOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::DynamicQuantizeLinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    OpBuilder &b = rewriter;
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    int64_t rank = inputType.getRank();
    std::pair<Value, Value> parameters = tensorQuantization(b, loc, input);
    Value scale = parameters.first, zero = parameters.second;
    auto resultType = RankedTensorType::get(inputType.getShape(), b.getI8Type());
    Value result =
        b.create<linalg::GenericOp>(
             loc, TypeRange{resultType}, ValueRange{input},
             ValueRange{createEmpty(b, loc, resultType, getDims(b, loc, input))},
             SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank),
                                    b.getMultiDimIdentityMap(rank)},
             SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value q = roundToI32(nb, l, nb.create<arith::DivFOp>(l, args[0], scale));
               q = clampI32(nb, l, nb.create<arith::AddIOp>(l, q, zero), 0, 255);
               nb.create<linalg::YieldOp>(
                   l, nb.create<arith::TruncIOp>(l, nb.getI8Type(), q).getResult());
             })
            .getResult(0);
    Value scaleTensor = b.create<tensor::FromElementsOp>(
        loc, RankedTensorType::get({}, b.getF32Type()), ValueRange{scale});
    Value zeroTensor = b.create<tensor::FromElementsOp>(
        loc, RankedTensorType::get({}, b.getI8Type()),
        ValueRange{b.create<arith::TruncIOp>(loc, b.getI8Type(), zero)});
    rewriter.replaceOp(op, {result, scaleTensor, zeroTensor});
    return success();
  }
};

/// The f32 value [K, N] of a quantized linear's weight: (w - zero point) *
/// scale, the parameters per channel ([N] or [1]) or per group of rows
/// ([K / G, N], row k reading row k / G).
Value dequantizeWeight(OpBuilder &b, Location loc, tfm::QuantizedLinearOp op,
                       Value weight, Value scale, Value zero) {
  MLIRContext *ctx = b.getContext();
  auto weightType = cast<RankedTensorType>(weight.getType());
  // The op's own type: the converted weight's integers are signless.
  bool isUnsigned = isUnsignedInt(elementTypeOf(op.getWeight()));
  auto d = [&](int64_t i) { return b.getAffineDimExpr(i); };
  auto parameterMap = [&](Value parameter) {
    auto type = cast<RankedTensorType>(parameter.getType());
    if (type.getRank() == 2) {
      int64_t group = weightType.getDimSize(0) / type.getDimSize(0);
      return AffineMap::get(2, 0, {d(0).floorDiv(group), d(1)}, ctx);
    }
    return AffineMap::get(2, 0,
                          type.getDimSize(0) == 1 ? b.getAffineConstantExpr(0)
                                                  : d(1),
                          ctx);
  };
  SmallVector<Value> inputs = {weight, scale};
  SmallVector<AffineMap> maps = {b.getMultiDimIdentityMap(2), parameterMap(scale)};
  if (zero) {
    inputs.push_back(zero);
    maps.push_back(parameterMap(zero));
  }
  maps.push_back(b.getMultiDimIdentityMap(2));
  auto resultType = RankedTensorType::get(weightType.getShape(), b.getF32Type());
  SmallVector<OpFoldResult> dims = getDims(b, loc, weight);
  return b
      .create<linalg::GenericOp>(
          loc, TypeRange{resultType}, inputs,
          ValueRange{createEmpty(b, loc, resultType, dims)}, maps,
          SmallVector<utils::IteratorType>(2, utils::IteratorType::parallel),
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value w = convertScalar(nb, l, args[0], nb.getI32Type(), isUnsigned,
                                    false);
            if (zero)
              w = nb.create<arith::SubIOp>(
                  l, w,
                  convertScalar(nb, l, args[2], nb.getI32Type(), isUnsigned,
                                false));
            Value value = nb.create<arith::SIToFPOp>(l, nb.getF32Type(), w);
            nb.create<linalg::YieldOp>(
                l, nb.create<arith::MulFOp>(l, value, args[1]).getResult());
          })
      .getResult(0);
}

struct QuantizedLinearPattern : OpConversionPattern<tfm::QuantizedLinearOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::QuantizedLinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    OpBuilder &b = rewriter;
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), weight = adaptor.getWeight();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto resultType = cast<RankedTensorType>(op.getType());
    if (!inputType.getElementType().isF32())
      return rewriter.notifyMatchFailure(op, "only f32 activations");
    if (op.getInputQuantization() == "none") {
      // Weight-only: the dequantized weight multiplies the f32 input as
      // tfm.linear does, its epilogue included (lowered in turn).
      Value dequantized =
          dequantizeWeight(b, loc, op, weight, adaptor.getWeightScale(),
                           adaptor.getWeightZeroPoint());
      rewriter.replaceOpWithNewOp<tfm::LinearOp>(
          op, resultType, input, dequantized, adaptor.getBias(),
          adaptor.getResidual(), op.getActivationAttr());
      return success();
    }
    int64_t rank = inputType.getRank();
    MLIRContext *ctx = getContext();
    auto d = [&](int64_t i) { return b.getAffineDimExpr(i); };
    checkDimsEqual(rewriter, loc, op, input, rank - 1, weight, 0,
                   "the contracted dims of the input and weight differ");

    // 1. The input's scale (per row: [..], else 0-D), its inverse or
    //    whether to divide, and its zero point, low and high bounds.
    StringRef mode = op.getInputQuantization();
    Value rowScale; // [..] or 0-D
    Value zero = i32Constant(b, loc, 0);
    int32_t low = -127, high = 127;
    if (mode == "row") {
      rowScale = reduce(b, loc, input, /*all=*/false, 0.0f,
                        [](OpBuilder &nb, Location l, Value x, Value acc) -> Value {
                          return nb.create<arith::MaximumFOp>(
                              l, acc, nb.create<math::AbsFOp>(l, x));
                        });
    } else if (mode == "tensor") {
      auto [scale, tensorZero] = tensorQuantization(b, loc, input);
      zero = tensorZero;
      rowScale = b.create<tensor::FromElementsOp>(
          loc, RankedTensorType::get({}, b.getF32Type()), ValueRange{scale});
      low = 0;
      high = 255;
    } else {
      rowScale = adaptor.getInputScale();
      low = 0;
      high = 255;
      if (Value inputZero = adaptor.getInputZeroPoint()) {
        bool isUnsigned = isUnsignedInt(elementTypeOf(op.getInputZeroPoint()));
        zero = convertScalar(b, loc,
                             b.create<tensor::ExtractOp>(loc, inputZero, ValueRange{}),
                             b.getI32Type(), isUnsigned, false);
        if (!isUnsigned) {
          low = -128;
          high = 127;
        }
      }
    }
    bool perRow = mode == "row";

    // 2. q - zero point of each element, i32 [.., K].
    SmallVector<OpFoldResult> inputDims = getDims(b, loc, input);
    auto quantizedType = RankedTensorType::get(inputType.getShape(), b.getI32Type());
    SmallVector<AffineExpr> rowExprs;
    if (perRow)
      for (int64_t i = 0; i + 1 < rank; ++i)
        rowExprs.push_back(d(i));
    Value quantized =
        b.create<linalg::GenericOp>(
             loc, TypeRange{quantizedType}, ValueRange{input, rowScale},
             ValueRange{createEmpty(b, loc, quantizedType, inputDims)},
             SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank),
                                    AffineMap::get(rank, 0, rowExprs, ctx),
                                    b.getMultiDimIdentityMap(rank)},
             SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value x = args[0], scaled;
               if (perRow) {
                 // Symmetric per row, by the reciprocal as the kernel does:
                 // 127 / max|x|, or 1 for a row of zeros or infinities.
                 Value most = args[1];
                 Value usable = nb.create<arith::AndIOp>(
                     l,
                     nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, most,
                                              f32Constant(nb, l, 0.0f)),
                     nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, most,
                                              f32Constant(nb, l, INFINITY)));
                 Value inverse = nb.create<arith::DivFOp>(
                     l, f32Constant(nb, l, 127.0f),
                     nb.create<arith::SelectOp>(l, usable, most,
                                                f32Constant(nb, l, 127.0f)));
                 scaled = nb.create<arith::MulFOp>(l, x, inverse);
               } else {
                 scaled = nb.create<arith::DivFOp>(l, x, args[1]);
               }
               Value q = nb.create<arith::AddIOp>(l, roundToI32(nb, l, scaled), zero);
               q = clampI32(nb, l, q, low, high);
               nb.create<linalg::YieldOp>(l, nb.create<arith::SubIOp>(l, q, zero).getResult());
             })
            .getResult(0);
    if (perRow) {
      // The row's scale: max|x| / 127, or 1.
      auto scaleType = cast<RankedTensorType>(rowScale.getType());
      SmallVector<OpFoldResult> rowDims(inputDims.begin(), inputDims.end() - 1);
      rowScale =
          b.create<linalg::GenericOp>(
               loc, TypeRange{scaleType}, ValueRange{rowScale},
               ValueRange{createEmpty(b, loc, scaleType, rowDims)},
               SmallVector<AffineMap>{b.getMultiDimIdentityMap(rank - 1),
                                      b.getMultiDimIdentityMap(rank - 1)},
               SmallVector<utils::IteratorType>(rank - 1, utils::IteratorType::parallel),
               [&](OpBuilder &nb, Location l, ValueRange args) {
                 Value most = args[0];
                 Value usable = nb.create<arith::AndIOp>(
                     l,
                     nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, most,
                                              f32Constant(nb, l, 0.0f)),
                     nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OLT, most,
                                              f32Constant(nb, l, INFINITY)));
                 Value scale = nb.create<arith::DivFOp>(l, most, f32Constant(nb, l, 127.0f));
                 nb.create<linalg::YieldOp>(
                     l, nb.create<arith::SelectOp>(l, usable, scale,
                                                   f32Constant(nb, l, 1.0f))
                            .getResult());
               })
              .getResult(0);
    }

    // 3. The exact products: sum_k q[.., k] * (w[k, n] - zw[n]), i32.
    bool weightUnsigned = isUnsignedInt(elementTypeOf(op.getWeight()));
    int64_t cols = resultType.getDimSize(rank - 1);
    SmallVector<OpFoldResult> resultDims = inputDims;
    resultDims.back() = tensor::getMixedSize(b, loc, weight, 1);
    auto sumType = RankedTensorType::get(resultType.getShape(), b.getI32Type());
    Value sums = filled(b, loc, sumType, resultDims, i32Constant(b, loc, 0));
    int64_t loops = rank + 1, kDim = rank - 1, nDim = rank;
    SmallVector<AffineExpr> inputExprs, outExprs;
    for (int64_t i = 0; i + 1 < rank; ++i) {
      inputExprs.push_back(d(i));
      outExprs.push_back(d(i));
    }
    inputExprs.push_back(d(kDim));
    outExprs.push_back(d(nDim));
    // A per-channel vector, [N] or [1], read at n.
    auto channelMap = [&](Value vector, int64_t numLoops, int64_t n) {
      bool single = cast<RankedTensorType>(vector.getType()).getDimSize(0) == 1;
      return AffineMap::get(numLoops, 0,
                            single ? b.getAffineConstantExpr(0) : d(n), ctx);
    };
    SmallVector<Value> productInputs = {quantized, weight};
    SmallVector<AffineMap> productMaps = {
        AffineMap::get(loops, 0, inputExprs, ctx),
        AffineMap::get(loops, 0, {d(kDim), d(nDim)}, ctx)};
    Value weightZero = adaptor.getWeightZeroPoint();
    if (weightZero) {
      productInputs.push_back(weightZero);
      productMaps.push_back(channelMap(weightZero, loops, nDim));
    }
    productMaps.push_back(AffineMap::get(loops, 0, outExprs, ctx));
    SmallVector<utils::IteratorType> iterators(loops, utils::IteratorType::parallel);
    iterators[kDim] = utils::IteratorType::reduction;
    sums = b.create<linalg::GenericOp>(
                loc, TypeRange{sumType}, productInputs, ValueRange{sums},
                productMaps, iterators,
                [&](OpBuilder &nb, Location l, ValueRange args) {
                  Value w = convertScalar(nb, l, args[1], nb.getI32Type(),
                                          weightUnsigned, false);
                  if (weightZero)
                    w = nb.create<arith::SubIOp>(
                        l, w, convertScalar(nb, l, args[2], nb.getI32Type(),
                                            weightUnsigned, false));
                  Value product = nb.create<arith::MulIOp>(l, args[0], w);
                  nb.create<linalg::YieldOp>(
                      l, nb.create<arith::AddIOp>(l, args.back(), product).getResult());
                })
               .getResult(0);

    // 4. The epilogue, in f32: sum * (weight scale * input scale) + bias,
    //    the activation, + residual.
    SmallVector<Value> epilogueInputs = {sums, rowScale, adaptor.getWeightScale()};
    SmallVector<AffineExpr> rowScaleExprs;
    if (perRow)
      for (int64_t i = 0; i + 1 < rank; ++i)
        rowScaleExprs.push_back(d(i));
    SmallVector<AffineMap> epilogueMaps = {
        b.getMultiDimIdentityMap(rank), AffineMap::get(rank, 0, rowScaleExprs, ctx),
        channelMap(adaptor.getWeightScale(), rank, rank - 1)};
    Value bias = adaptor.getBias();
    if (bias) {
      epilogueInputs.push_back(bias);
      epilogueMaps.push_back(channelMap(bias, rank, rank - 1));
    }
    epilogueMaps.push_back(b.getMultiDimIdentityMap(rank));
    (void)cols;
    StringRef activation = op.getActivation();
    Value result =
        b.create<linalg::GenericOp>(
             loc, TypeRange{resultType}, epilogueInputs,
             ValueRange{createEmpty(b, loc, resultType, resultDims)}, epilogueMaps,
             SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Value value = nb.create<arith::SIToFPOp>(l, nb.getF32Type(), args[0]);
               Value scale = nb.create<arith::MulFOp>(l, args[2], args[1]);
               value = nb.create<arith::MulFOp>(l, value, scale);
               if (bias)
                 value = nb.create<arith::AddFOp>(l, value, args[3]);
               value = buildActivation(nb, l, value, activation);
               nb.create<linalg::YieldOp>(l, value);
             })
            .getResult(0);
    if (Value residual = adaptor.getResidual())
      result = buildBroadcastElementwise(
          b, loc, op, {result, residual}, resultType,
          [](OpBuilder &nb, Location l, ValueRange args) -> Value {
            return nb.create<arith::AddFOp>(l, args[0], args[1]);
          });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::tfc::populateQuantizedPatterns(TypeConverter &converter,
                                          RewritePatternSet &patterns) {
  patterns.add<QuantizeLinearPattern, DequantizeLinearPattern,
               DynamicQuantizeLinearPattern, QuantizedLinearPattern>(
      converter, patterns.getContext());
}
