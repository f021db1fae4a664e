//===- ResizeOps.cpp - tfm.resize to a gathering linalg.generic -----------===//
//
// Each result element reads its input neighbourhood: per resized dim, the
// coordinate transformation maps the result position to an input
// coordinate, from which nearest takes one index, linear two and cubic four
// with their weights; the element is the weighted sum over every
// combination of the dims' taps (four for bilinear, sixteen for bicubic).
// Taps past an edge read the edge. A dim that keeps its size at scale 1
// (the batch and channels of an image) reads its own index.
//
//===----------------------------------------------------------------------===//

#include "tfc/Conversion/LoweringUtils.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// One input index a result element reads along a dim, and its weight
/// (null: 1).
struct Tap {
  Value index;
  Value weight;
};

struct ResizePattern : OpConversionPattern<tfm::ResizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::ResizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto type = cast<RankedTensorType>(getTypeConverter()->convertType(op.getType()));
    int64_t rank = inputType.getRank();
    StringRef mode = op.getMode();
    Type element = type.getElementType();
    Type f32 = rewriter.getF32Type();
    Value zero = rewriter.create<arith::ConstantIndexOp>(loc, 0);

    FailureOr<SmallVector<double>> constantScales =
        tfm::getConstantFloatValues(op.getScales());
    SmallVector<OpFoldResult> inputDims = getDims(rewriter, loc, input);
    SmallVector<OpFoldResult> dims;
    SmallVector<bool> resized;
    for (int64_t i = 0; i < rank; ++i) {
      OpFoldResult dim;
      if (!type.isDynamicDim(i)) {
        dim = rewriter.getIndexAttr(type.getDimSize(i));
      } else {
        Value size = extractScalarAsIndex(rewriter, loc, adaptor.getSizes(), i);
        emitCheck(rewriter, loc,
                  rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, size,
                                                 zero),
                  op, "size of dim " + Twine(i) + " is negative");
        dim = size;
      }
      dims.push_back(dim);
      bool same = !type.isDynamicDim(i) && !inputType.isDynamicDim(i) &&
                  type.getDimSize(i) == inputType.getDimSize(i) &&
                  succeeded(constantScales) && (*constantScales)[i] == 1.0;
      resized.push_back(!same);
      if (same)
        continue;
      // Every result element reads the input: an empty input dim has
      // nothing to read unless the result is empty too.
      Value readable = rewriter.createOrFold<arith::OrIOp>(
          loc,
          rewriter.createOrFold<arith::CmpIOp>(
              loc, arith::CmpIPredicate::sgt, toIndexValue(rewriter, loc, inputDims[i]),
              zero),
          rewriter.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                               toIndexValue(rewriter, loc, dim), zero));
      emitCheck(rewriter, loc, readable, op,
                "dim " + Twine(i) + " is empty and cannot be resized");
    }
    int64_t taps = 1;
    for (bool r : resized)
      taps *= !r ? 1 : mode == "nearest" ? 1 : mode == "linear" ? 2 : 4;
    if (taps > 256)
      return rewriter.notifyMatchFailure(op, "more than 256 taps per element");

    // What each resized dim's coordinate needs, computed once outside the
    // loops: the scale, and the input and result lengths as floats.
    auto asFloat = [&](OpBuilder &b, Location l, Value index) -> Value {
      return b.create<arith::SIToFPOp>(
          l, f32, b.create<arith::IndexCastOp>(l, b.getI64Type(), index));
    };
    SmallVector<Value> scales(rank), inputLengths(rank), resultLengths(rank),
        lastIndices(rank);
    for (int64_t i = 0; i < rank; ++i) {
      if (!resized[i])
        continue;
      Value position = rewriter.create<arith::ConstantIndexOp>(loc, i);
      scales[i] = rewriter.create<tensor::ExtractOp>(loc, adaptor.getScales(),
                                                     ValueRange{position});
      Value inputDim = toIndexValue(rewriter, loc, inputDims[i]);
      inputLengths[i] = asFloat(rewriter, loc, inputDim);
      resultLengths[i] = asFloat(rewriter, loc, toIndexValue(rewriter, loc, dims[i]));
      lastIndices[i] = rewriter.create<arith::SubIOp>(
          loc, inputDim, rewriter.create<arith::ConstantIndexOp>(loc, 1));
    }

    Value init = createEmpty(rewriter, loc, type, dims);
    Type accumulator = getAccumulatorType(element);
    auto generic = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{type}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<SmallVector<Tap>> perDim;
          for (int64_t i = 0; i < rank; ++i) {
            Value position = b.create<linalg::IndexOp>(l, i);
            if (!resized[i]) {
              perDim.push_back({{position, Value()}});
              continue;
            }
            Value x = coordinate(b, l, op.getCoordinateMode(), asFloat(b, l, position),
                                 scales[i], inputLengths[i], resultLengths[i]);
            perDim.push_back(taps1D(b, l, op, x, inputLengths[i], lastIndices[i]));
          }
          // The weighted sum over every combination of the dims' taps.
          Value sum;
          SmallVector<size_t> choice(rank, 0);
          while (true) {
            SmallVector<Value> at;
            Value weight;
            for (int64_t i = 0; i < rank; ++i) {
              const Tap &tap = perDim[i][choice[i]];
              at.push_back(tap.index);
              if (tap.weight)
                weight = weight ? b.create<arith::MulFOp>(l, weight, tap.weight).getResult()
                                : tap.weight;
            }
            Value value = b.create<tensor::ExtractOp>(l, input, at);
            if (mode == "nearest") {
              sum = value;
            } else {
              value = extendFloat(b, l, value, accumulator);
              if (weight)
                value = b.create<arith::MulFOp>(
                    l, value, extendFloat(b, l, weight, accumulator));
              sum = sum ? b.create<arith::AddFOp>(l, sum, value).getResult() : value;
            }
            int64_t i = rank - 1;
            for (; i >= 0; --i) {
              if (++choice[i] < perDim[i].size())
                break;
              choice[i] = 0;
            }
            if (i < 0)
              break;
          }
          if (mode != "nearest" && sum.getType() != element)
            sum = b.create<arith::TruncFOp>(l, element, sum);
          b.create<linalg::YieldOp>(l, sum);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }

  /// The input coordinate (f32) result position `x` maps to. As ONNX
  /// defines them, align_corners and pytorch_half_pixel measure the result
  /// by dim * scale (not the whole number of pixels it has), which differs
  /// when the scale does not divide the dim.
  static Value coordinate(OpBuilder &b, Location l, StringRef mode, Value x, Value scale,
                          Value inputLength, Value resultLength) {
    auto constant = [&](double value) -> Value {
      return b.create<arith::ConstantOp>(l, b.getF32FloatAttr(value));
    };
    Value scaledLength = b.create<arith::MulFOp>(l, inputLength, scale);
    Value half = constant(0.5);
    // (x + 0.5) / scale - 0.5: the centres of the pixels aligned.
    Value centred = b.create<arith::SubFOp>(
        l, b.create<arith::DivFOp>(l, b.create<arith::AddFOp>(l, x, half), scale), half);
    if (mode == "asymmetric")
      return b.create<arith::DivFOp>(l, x, scale);
    if (mode == "half_pixel")
      return centred;
    if (mode == "pytorch_half_pixel")
      return b.create<arith::SelectOp>(
          l,
          b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, scaledLength,
                                  constant(1.0)),
          centred, constant(0.0));
    if (mode == "align_corners") {
      Value one = constant(1.0);
      Value single = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, scaledLength, one);
      // A denominator made safe where the select discards it anyway.
      Value denominator = b.create<arith::SelectOp>(
          l, single, one, b.create<arith::SubFOp>(l, scaledLength, one));
      Value spread = b.create<arith::DivFOp>(
          l, b.create<arith::MulFOp>(l, x, b.create<arith::SubFOp>(l, inputLength, one)),
          denominator);
      return b.create<arith::SelectOp>(l, single, constant(0.0), spread);
    }
    // half_pixel_symmetric: half_pixel shifted so that the resized extent
    // (a whole number of pixels, which dim * scale need not be) stays
    // centred.
    Value adjustment = b.create<arith::DivFOp>(
        l, resultLength, b.create<arith::MulFOp>(l, inputLength, scale));
    Value offset = b.create<arith::MulFOp>(
        l, b.create<arith::MulFOp>(l, inputLength, half),
        b.create<arith::SubFOp>(l, constant(1.0), adjustment));
    return b.create<arith::AddFOp>(l, offset, centred);
  }

  /// The taps of one dim at input coordinate `x` (f32).
  static SmallVector<Tap> taps1D(OpBuilder &b, Location l, tfm::ResizeOp op, Value x,
                                 Value inputLength, Value last) {
    StringRef mode = op.getMode();
    Value zero = b.create<arith::ConstantIndexOp>(l, 0);
    auto clampIndex = [&](Value index) -> Value {
      return b.create<arith::MinSIOp>(l, b.create<arith::MaxSIOp>(l, index, zero), last);
    };
    auto toIndex = [&](Value whole) -> Value {
      return b.create<arith::IndexCastOp>(
          l, b.getIndexType(), b.create<arith::FPToSIOp>(l, b.getI64Type(), whole));
    };
    auto constant = [&](double value) -> Value {
      return b.create<arith::ConstantOp>(l, b.getF32FloatAttr(value));
    };
    if (mode == "nearest") {
      StringRef rounding = op.getNearestMode();
      Value whole;
      if (rounding == "floor")
        whole = b.create<math::FloorOp>(l, x);
      else if (rounding == "ceil")
        whole = b.create<math::CeilOp>(l, x);
      else if (rounding == "round_prefer_ceil")
        whole = b.create<math::FloorOp>(l, b.create<arith::AddFOp>(l, x, constant(0.5)));
      else // round_prefer_floor
        whole = b.create<math::CeilOp>(l, b.create<arith::SubFOp>(l, x, constant(0.5)));
      return {{clampIndex(toIndex(whole)), Value()}};
    }
    if (mode == "linear") {
      // The coordinate held within the input, so that both neighbours and
      // the weight come from inside (the same as reading the edge).
      Value held = b.create<arith::MinimumFOp>(
          l, b.create<arith::MaximumFOp>(l, x, constant(0.0)),
          b.create<arith::SubFOp>(l, inputLength, constant(1.0)));
      Value below = b.create<math::FloorOp>(l, held);
      Value upper = b.create<arith::SubFOp>(l, held, below);
      Value lower = b.create<arith::SubFOp>(l, constant(1.0), upper);
      Value first = clampIndex(toIndex(below));
      Value second = clampIndex(b.create<arith::AddIOp>(
          l, first, b.create<arith::ConstantIndexOp>(l, 1)));
      return {{first, lower}, {second, upper}};
    }
    // Cubic: four neighbours around floor(x) with Keys' weights for
    // coefficient a.
    double a = op.getCubicCoeffA().convertToDouble();
    Value below = b.create<math::FloorOp>(l, x);
    Value s = b.create<arith::SubFOp>(l, x, below);
    Value base = toIndex(below);
    auto mul = [&](Value p, Value q) -> Value { return b.create<arith::MulFOp>(l, p, q); };
    auto add = [&](Value p, Value q) -> Value { return b.create<arith::AddFOp>(l, p, q); };
    auto sub = [&](Value p, Value q) -> Value { return b.create<arith::SubFOp>(l, p, q); };
    // |t| in [1, 2]: ((a|t| - 5a)|t| + 8a)|t| - 4a; |t| <= 1:
    // ((a + 2)|t| - (a + 3))|t|^2 + 1.
    auto outer = [&](Value t) {
      return sub(mul(add(mul(sub(mul(constant(a), t), constant(5 * a)), t), constant(8 * a)),
                     t),
                 constant(4 * a));
    };
    auto inner = [&](Value t) {
      return add(mul(sub(mul(constant(a + 2), t), constant(a + 3)), mul(t, t)),
                 constant(1.0));
    };
    Value one = constant(1.0);
    Value weights[4] = {outer(add(s, one)), inner(s), inner(sub(one, s)),
                        outer(sub(constant(2.0), s))};
    SmallVector<Tap> taps;
    SmallVector<Value> inside;
    for (int64_t k = 0; k < 4; ++k) {
      Value index = b.create<arith::AddIOp>(l, base, b.create<arith::ConstantIndexOp>(l, k - 1));
      Value weight = weights[k];
      if (op.getExcludeOutside()) {
        Value within = b.create<arith::AndIOp>(
            l, b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, index, zero),
            b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sle, index, last));
        weight = b.create<arith::SelectOp>(l, within, weight, constant(0.0));
      }
      taps.push_back({clampIndex(index), weight});
    }
    if (op.getExcludeOutside()) {
      // The weights left, renormalized to sum to one.
      Value total = add(add(taps[0].weight, taps[1].weight), add(taps[2].weight, taps[3].weight));
      for (Tap &tap : taps)
        tap.weight = b.create<arith::DivFOp>(l, tap.weight, total);
    }
    return taps;
  }
};

} // namespace

void mlir::tfc::populateResizePatterns(TypeConverter &converter,
                                       RewritePatternSet &patterns) {
  patterns.add<ResizePattern>(converter, patterns.getContext());
}
