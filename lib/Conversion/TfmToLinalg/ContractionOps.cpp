//===- ContractionOps.cpp - tfm matmul, gemm and conv to linalg -----------===//
//
// Contractions lower to linalg.generic ops with a reduction dim, accumulating
// into a zero-filled tensor. This is the correct, general form (any batch
// broadcasting, any element type); the performance work packs and tiles
// these later in the pipeline.
//
//===----------------------------------------------------------------------===//

#include "tfc/Conversion/LoweringUtils.h"

#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc;

namespace {

Value zeroFilled(OpBuilder &b, Location loc, RankedTensorType type,
                 ArrayRef<OpFoldResult> dims) {
  Value empty = createEmpty(b, loc, type, dims);
  Value zero = createScalarConstant(b, loc, type.getElementType(), 0.0);
  return b.create<linalg::FillOp>(loc, zero, empty).getResult(0);
}

/// `acc + lhs * rhs` in the element type.
Value multiplyAccumulate(OpBuilder &b, Location loc, Value lhs, Value rhs,
                         Value acc) {
  if (isa<FloatType>(acc.getType())) {
    Value product = b.create<arith::MulFOp>(loc, lhs, rhs);
    return b.create<arith::AddFOp>(loc, acc, product);
  }
  Value product = b.create<arith::MulIOp>(loc, lhs, rhs);
  return b.create<arith::AddIOp>(loc, acc, product);
}

/// ONNX MatMul (numpy matmul): 1-D operands are promoted and their dim
/// dropped from the result, batch dims broadcast.
struct MatMulPattern : OpConversionPattern<tfm::MatMulOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::MatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    auto lhsType = cast<RankedTensorType>(lhs.getType());
    auto rhsType = cast<RankedTensorType>(rhs.getType());
    auto resultType = cast<RankedTensorType>(
        getTypeConverter()->convertType(op.getType()));
    int64_t lhsRank = lhsType.getRank(), rhsRank = rhsType.getRank();
    bool hasM = lhsRank > 1, hasN = rhsRank > 1;
    int64_t batchRank = resultType.getRank() - hasM - hasN;
    int64_t lhsBatch = std::max<int64_t>(lhsRank - 2, 0);
    int64_t rhsBatch = std::max<int64_t>(rhsRank - 2, 0);

    // Loop dims: batch..., m, k, n (m and n only when present). The
    // reduction sits outside n so that the innermost loop walks rows of the
    // rhs and the result, which vectorizes without reassociating sums.
    int64_t numLoops = batchRank + hasM + hasN + 1;
    int64_t mDim = batchRank, kDim = batchRank + hasM, nDim = kDim + 1;
    int64_t lhsK = lhsRank - 1, rhsK = rhsRank == 1 ? 0 : rhsRank - 2;
    checkDimsEqual(rewriter, loc, op, lhs, lhsK, rhs, rhsK,
                   "the contracted dims of the operands differ");

    auto batchMap = [&](RankedTensorType type, int64_t operandBatch) {
      SmallVector<AffineExpr> exprs;
      for (int64_t j = 0; j < operandBatch; ++j) {
        int64_t i = j + batchRank - operandBatch;
        bool broadcasts = type.getDimSize(j) == 1 && resultType.getDimSize(i) != 1;
        exprs.push_back(broadcasts ? rewriter.getAffineConstantExpr(0)
                                   : rewriter.getAffineDimExpr(i));
      }
      return exprs;
    };
    SmallVector<AffineExpr> lhsExprs = batchMap(lhsType, lhsBatch);
    if (hasM)
      lhsExprs.push_back(rewriter.getAffineDimExpr(mDim));
    lhsExprs.push_back(rewriter.getAffineDimExpr(kDim));
    SmallVector<AffineExpr> rhsExprs = batchMap(rhsType, rhsBatch);
    rhsExprs.push_back(rewriter.getAffineDimExpr(kDim));
    if (hasN)
      rhsExprs.push_back(rewriter.getAffineDimExpr(nDim));
    SmallVector<AffineExpr> resultExprs;
    for (int64_t i = 0; i < batchRank; ++i)
      resultExprs.push_back(rewriter.getAffineDimExpr(i));
    if (hasM)
      resultExprs.push_back(rewriter.getAffineDimExpr(mDim));
    if (hasN)
      resultExprs.push_back(rewriter.getAffineDimExpr(nDim));

    // Result dims: broadcast batch dims (checked), then m and n.
    SmallVector<OpFoldResult> dims;
    SmallVector<Value> source(batchRank); // the operand a dim is read from
    for (int64_t i = 0; i < batchRank; ++i) {
      if (!resultType.isDynamicDim(i)) {
        dims.push_back(rewriter.getIndexAttr(resultType.getDimSize(i)));
        continue;
      }
      OpFoldResult size = rewriter.getIndexAttr(1);
      for (auto [operand, operandBatch] :
           {std::pair{lhs, lhsBatch}, std::pair{rhs, rhsBatch}}) {
        int64_t j = i - (batchRank - operandBatch);
        auto type = cast<RankedTensorType>(operand.getType());
        if (j >= 0 && type.isDynamicDim(j)) {
          size = rewriter.create<tensor::DimOp>(loc, operand, j).getResult();
          source[i] = operand;
          break;
        }
      }
      dims.push_back(size);
    }
    for (auto [operand, operandBatch] :
         {std::pair{lhs, lhsBatch}, std::pair{rhs, rhsBatch}}) {
      auto type = cast<RankedTensorType>(operand.getType());
      for (int64_t j = 0; j < operandBatch; ++j) {
        int64_t i = j + batchRank - operandBatch;
        if (!type.isDynamicDim(j) || source[i] == operand)
          continue;
        Value actual = rewriter.create<tensor::DimOp>(loc, operand, j);
        Value expected = toIndexValue(rewriter, loc, dims[i]);
        if (actual == expected)
          continue;
        Value same = rewriter.create<arith::CmpIOp>(
            loc, arith::CmpIPredicate::eq, actual, expected);
        emitCheck(rewriter, loc, same, op,
                  "batch dim " + Twine(j) +
                      " of an operand does not match the broadcast batch");
      }
    }
    if (hasM)
      dims.push_back(tensor::getMixedSize(rewriter, loc, lhs, lhsRank - 2));
    if (hasN)
      dims.push_back(tensor::getMixedSize(rewriter, loc, rhs, rhsRank - 1));

    // 16-bit floats accumulate in f32, rounded once at the end.
    Type element = resultType.getElementType();
    Type acc = getAccumulatorType(element);
    auto accType = resultType.clone(acc);
    Value init = zeroFilled(rewriter, loc, accType, dims);
    SmallVector<AffineMap> maps = {
        AffineMap::get(numLoops, 0, lhsExprs, getContext()),
        AffineMap::get(numLoops, 0, rhsExprs, getContext()),
        AffineMap::get(numLoops, 0, resultExprs, getContext())};
    SmallVector<utils::IteratorType> iterators(numLoops,
                                               utils::IteratorType::parallel);
    iterators[kDim] = utils::IteratorType::reduction;
    Value product =
        rewriter
            .create<linalg::GenericOp>(
                loc, TypeRange{accType}, ValueRange{lhs, rhs}, ValueRange{init},
                maps, iterators,
                [&](OpBuilder &b, Location loc, ValueRange args) {
                  b.create<linalg::YieldOp>(
                      loc, multiplyAccumulate(
                               b, loc, extendFloat(b, loc, args[0], acc),
                               extendFloat(b, loc, args[1], acc), args[2]));
                })
            .getResult(0);
    if (acc != element)
      product = buildBroadcastElementwise(
          rewriter, loc, op, product, resultType,
          [&](OpBuilder &b, Location l, ValueRange args) -> Value {
            return b.create<arith::TruncFOp>(l, element, args[0]);
          });
    rewriter.replaceOp(op, product);
    return success();
  }
};

/// ONNX Gemm: alpha * op(A) * op(B) + beta * C, C broadcast to [M, N].
struct GemmPattern : OpConversionPattern<tfm::GemmOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::GemmOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value a = adaptor.getA(), bOperand = adaptor.getB();
    auto resultType = cast<RankedTensorType>(
        getTypeConverter()->convertType(op.getType()));
    Type elementType = resultType.getElementType();
    bool transA = op.getTransA(), transB = op.getTransB();
    int64_t aK = transA ? 0 : 1, bK = transB ? 1 : 0;
    checkDimsEqual(rewriter, loc, op, a, aK, bOperand, bK,
                   "the contracted dims of A and B differ");

    // Loops: m, k, n (the reduction outside n, as for MatMul).
    auto d = [&](int64_t i) { return rewriter.getAffineDimExpr(i); };
    AffineMap aMap = AffineMap::get(3, 0, transA ? SmallVector<AffineExpr>{d(1), d(0)}
                                                 : SmallVector<AffineExpr>{d(0), d(1)},
                                    getContext());
    AffineMap bMap = AffineMap::get(3, 0, transB ? SmallVector<AffineExpr>{d(2), d(1)}
                                                 : SmallVector<AffineExpr>{d(1), d(2)},
                                    getContext());
    AffineMap cMap = AffineMap::get(3, 0, {d(0), d(2)}, getContext());
    SmallVector<OpFoldResult> dims = {
        tensor::getMixedSize(rewriter, loc, a, transA ? 1 : 0),
        tensor::getMixedSize(rewriter, loc, bOperand, transB ? 0 : 1)};
    Value init = zeroFilled(rewriter, loc, resultType, dims);
    auto product = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{resultType}, ValueRange{a, bOperand}, ValueRange{init},
        SmallVector<AffineMap>{aMap, bMap, cMap},
        SmallVector<utils::IteratorType>{utils::IteratorType::parallel,
                                         utils::IteratorType::reduction,
                                         utils::IteratorType::parallel},
        [](OpBuilder &b, Location loc, ValueRange args) {
          b.create<linalg::YieldOp>(
              loc, multiplyAccumulate(b, loc, args[0], args[1], args[2]));
        });
    Value result = product.getResult(0);

    double alpha = op.getAlpha().convertToDouble();
    double beta = op.getBeta().convertToDouble();
    bool isFloat = isa<FloatType>(elementType);
    auto scale = [&](OpBuilder &b, Location loc, Value x, double factor) {
      if (factor == 1.0)
        return x;
      Value f = createScalarConstant(b, loc, elementType, factor);
      return isFloat ? b.create<arith::MulFOp>(loc, x, f).getResult()
                     : b.create<arith::MulIOp>(loc, x, f).getResult();
    };
    if (Value c = adaptor.getC()) {
      result = buildBroadcastElementwise(
          rewriter, loc, op, ValueRange{result, c}, resultType,
          [&](OpBuilder &b, Location loc, ValueRange args) -> Value {
            Value ab = scale(b, loc, args[0], alpha);
            Value bc = scale(b, loc, args[1], beta);
            return isFloat ? b.create<arith::AddFOp>(loc, ab, bc).getResult()
                           : b.create<arith::AddIOp>(loc, ab, bc).getResult();
          });
    } else if (alpha != 1.0) {
      result = buildBroadcastElementwise(
          rewriter, loc, op, ValueRange{result}, resultType,
          [&](OpBuilder &b, Location loc, ValueRange args) {
            return scale(b, loc, args[0], alpha);
          });
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// ONNX Conv over any number of spatial dims, with groups: the channel dims
/// are split into (group, channels per group) so that one linalg.generic
/// covers every case.
struct ConvPattern : OpConversionPattern<tfm::ConvOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::ConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), weight = adaptor.getWeight();
    auto inputType = cast<RankedTensorType>(input.getType());
    auto weightType = cast<RankedTensorType>(weight.getType());
    auto resultType = cast<RankedTensorType>(
        getTypeConverter()->convertType(op.getType()));
    Type elementType = resultType.getElementType();
    int64_t spatial = inputType.getRank() - 2;
    int64_t groups = op.getGroup();
    ArrayRef<int64_t> strides = op.getStrides(), pads = op.getPads(),
                      dilations = op.getDilations();
    if (weightType.isDynamicDim(0) || weightType.isDynamicDim(1) ||
        inputType.isDynamicDim(1))
      return op.emitOpError("needs static channel counts");
    int64_t outChannels = weightType.getDimSize(0);
    int64_t inPerGroup = weightType.getDimSize(1);
    if (outChannels % groups || inputType.getDimSize(1) != inPerGroup * groups)
      return op.emitOpError("channel counts do not match the group count");

    // Zero padding: the input inserted into a zero-filled tensor of the
    // padded dims (computed here, as values). MLIR 19's one-shot
    // bufferization of a dynamically shaped tensor.pad sized the pad's
    // buffer by that buffer's own dims: a Conv1d with padding over a
    // symbolic length failed with "operand #0 does not dominate this use".
    SmallVector<OpFoldResult> inputDims = getDims(rewriter, loc, input);
    if (llvm::any_of(pads, [](int64_t p) { return p != 0; })) {
      SmallVector<OpFoldResult> offsets(2, rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes(inputDims);
      SmallVector<int64_t> paddedShape(inputType.getShape());
      for (int64_t i = 0; i < spatial; ++i) {
        int64_t extra = pads[i] + pads[spatial + i];
        offsets.push_back(rewriter.getIndexAttr(pads[i]));
        if (!inputType.isDynamicDim(i + 2)) {
          paddedShape[i + 2] += extra;
          inputDims[i + 2] = rewriter.getIndexAttr(paddedShape[i + 2]);
          continue;
        }
        inputDims[i + 2] =
            rewriter
                .create<arith::AddIOp>(loc, toIndexValue(rewriter, loc, inputDims[i + 2]),
                                       rewriter.create<arith::ConstantIndexOp>(loc, extra))
                .getResult();
      }
      SmallVector<OpFoldResult> unitStrides(inputType.getRank(),
                                            rewriter.getIndexAttr(1));
      Value zeros = zeroFilled(rewriter, loc, inputType.clone(paddedShape), inputDims);
      input = rewriter.create<tensor::InsertSliceOp>(loc, input, zeros, offsets,
                                                     sizes, unitStrides);
      inputType = cast<RankedTensorType>(input.getType());
    }

    // Split channels into (group, per group).
    auto splitChannels = [&](Value value, ArrayRef<OpFoldResult> dims,
                             int64_t channelDim, int64_t perGroup) {
      auto type = cast<RankedTensorType>(value.getType());
      SmallVector<int64_t> shape;
      SmallVector<ReassociationIndices> reassociation;
      SmallVector<OpFoldResult> outputShape;
      for (int64_t i = 0; i < type.getRank(); ++i) {
        if (i == channelDim) {
          reassociation.push_back({(int64_t)shape.size(), (int64_t)shape.size() + 1});
          shape.append({groups, perGroup});
          outputShape.append({rewriter.getIndexAttr(groups),
                              rewriter.getIndexAttr(perGroup)});
          continue;
        }
        reassociation.push_back({(int64_t)shape.size()});
        shape.push_back(type.getDimSize(i));
        outputShape.push_back(dims[i]);
      }
      return rewriter.create<tensor::ExpandShapeOp>(
          loc, type.clone(shape), value, reassociation, outputShape);
    };
    Value groupedInput = splitChannels(input, inputDims, 1, inPerGroup);
    Value groupedWeight = splitChannels(weight, getDims(rewriter, loc, weight), 0,
                                        outChannels / groups);

    // Output dims: batch, group, per group, spatial (from the result type,
    // or computed for a dynamic input extent).
    SmallVector<int64_t> groupedShape = {resultType.getDimSize(0), groups,
                                         outChannels / groups};
    SmallVector<OpFoldResult> groupedDims = {
        inputDims[0],
        rewriter.getIndexAttr(groups), rewriter.getIndexAttr(outChannels / groups)};
    for (int64_t i = 0; i < spatial; ++i) {
      groupedShape.push_back(resultType.getDimSize(i + 2));
      if (!resultType.isDynamicDim(i + 2)) {
        groupedDims.push_back(rewriter.getIndexAttr(resultType.getDimSize(i + 2)));
        continue;
      }
      // floor((padded - dilation * (k - 1) - 1) / stride) + 1
      Value padded = toIndexValue(rewriter, loc, inputDims[i + 2]);
      int64_t window = dilations[i] * (weightType.getDimSize(i + 2) - 1) + 1;
      Value span = rewriter.create<arith::SubIOp>(
          loc, padded, rewriter.create<arith::ConstantIndexOp>(loc, window));
      Value steps = rewriter.create<arith::DivSIOp>(
          loc, span, rewriter.create<arith::ConstantIndexOp>(loc, strides[i]));
      groupedDims.push_back(
          rewriter
              .create<arith::AddIOp>(loc, steps,
                                     rewriter.create<arith::ConstantIndexOp>(loc, 1))
              .getResult());
    }
    auto groupedType = RankedTensorType::get(groupedShape, elementType);
    Value init = zeroFilled(rewriter, loc, groupedType, groupedDims);

    // Loops: n, g, m, o1..on (parallel), c, k1..kn (reduction).
    int64_t numLoops = 3 + spatial + 1 + spatial;
    auto d = [&](int64_t i) { return rewriter.getAffineDimExpr(i); };
    int64_t cLoop = 3 + spatial;
    SmallVector<AffineExpr> inputExprs = {d(0), d(1), d(cLoop)};
    SmallVector<AffineExpr> weightExprs = {d(1), d(2), d(cLoop)};
    SmallVector<AffineExpr> outExprs = {d(0), d(1), d(2)};
    for (int64_t i = 0; i < spatial; ++i) {
      AffineExpr o = d(3 + i), k = d(cLoop + 1 + i);
      inputExprs.push_back(o * strides[i] + k * dilations[i]);
      weightExprs.push_back(k);
      outExprs.push_back(o);
    }
    SmallVector<utils::IteratorType> iterators(3 + spatial,
                                               utils::IteratorType::parallel);
    iterators.append(1 + spatial, utils::IteratorType::reduction);
    auto conv = rewriter.create<linalg::GenericOp>(
        loc, TypeRange{groupedType}, ValueRange{groupedInput, groupedWeight},
        ValueRange{init},
        SmallVector<AffineMap>{AffineMap::get(numLoops, 0, inputExprs, getContext()),
                    AffineMap::get(numLoops, 0, weightExprs, getContext()),
                    AffineMap::get(numLoops, 0, outExprs, getContext())},
        iterators, [](OpBuilder &b, Location loc, ValueRange args) {
          b.create<linalg::YieldOp>(
              loc, multiplyAccumulate(b, loc, args[0], args[1], args[2]));
        });

    SmallVector<ReassociationIndices> merge = {{0}, {1, 2}};
    for (int64_t i = 0; i < spatial; ++i)
      merge.push_back({3 + i});
    Value result = rewriter.create<tensor::CollapseShapeOp>(
        loc, resultType, conv.getResult(0), merge);

    if (Value bias = adaptor.getBias()) {
      // bias[m] added along the channel dim.
      int64_t rank = resultType.getRank();
      SmallVector<AffineMap> maps = {
          rewriter.getMultiDimIdentityMap(rank),
          AffineMap::get(rank, 0, {d(1)}, getContext()),
          rewriter.getMultiDimIdentityMap(rank)};
      Value empty = createEmpty(rewriter, loc, resultType,
                                tensor::getMixedSizes(rewriter, loc, result));
      result = rewriter
                   .create<linalg::GenericOp>(
                       loc, TypeRange{resultType}, ValueRange{result, bias},
                       ValueRange{empty}, maps,
                       SmallVector<utils::IteratorType>(
                           rank, utils::IteratorType::parallel),
                       [](OpBuilder &b, Location loc, ValueRange args) {
                         Value sum =
                             isa<FloatType>(args[0].getType())
                                 ? b.create<arith::AddFOp>(loc, args[0], args[1])
                                       .getResult()
                                 : b.create<arith::AddIOp>(loc, args[0], args[1])
                                       .getResult();
                         b.create<linalg::YieldOp>(loc, sum);
                       })
                   .getResult(0);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// tfm.linear: the product accumulates into zeros, then one elementwise
/// pass adds the bias, applies the activation and adds the residual.
/// Starting from the bias and residual instead would save that pass but add
/// every product term to a larger value: BERT-base then drifts 8x further
/// from ONNX Runtime. Loops: the input's leading dims, then k, then n, as
/// for MatMul.
///
/// 16-bit floats accumulate in f32 and are rounded once, after the
/// epilogue. An f32 input by a bf16 weight is rounded to bf16 first, as the
/// bf16 kernel rounds it, so that both compute the same products. An
/// integer linear (i8 or ui8 input, i8 weight) accumulates
/// exactly in its i32 result.
struct LinearPattern : OpConversionPattern<tfm::LinearOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(tfm::LinearOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), weight = adaptor.getWeight();
    Value bias = adaptor.getBias(), residual = adaptor.getResidual();
    auto resultType = cast<RankedTensorType>(
        getTypeConverter()->convertType(op.getType()));
    Type element = resultType.getElementType();
    bool isFloat = isa<FloatType>(element);
    Type acc = getAccumulatorType(element);
    bool inputUnsigned = isUnsignedInt(elementTypeOf(op.getInput()));
    bool weightUnsigned = isUnsignedInt(elementTypeOf(op.getWeight()));
    bool roundInputToBf16 = elementTypeOf(op.getInput()).isF32() &&
                            elementTypeOf(op.getWeight()).isBF16();
    int64_t rank = resultType.getRank();
    StringRef activation = op.getActivation();
    checkDimsEqual(rewriter, loc, op, input, rank - 1, weight, 0,
                   "the contracted dims of the input and weight differ");

    SmallVector<OpFoldResult> dims = getDims(rewriter, loc, input);
    dims.back() = tensor::getMixedSize(rewriter, loc, weight, 1);
    auto accType = resultType.clone(acc);
    Value init = zeroFilled(rewriter, loc, accType, dims);

    // d0..d(rank-2): the rows, then k, then n.
    int64_t numLoops = rank + 1;
    int64_t kDim = rank - 1, nDim = rank;
    SmallVector<AffineExpr> inputExprs, outputExprs;
    for (int64_t i = 0; i < rank - 1; ++i) {
      inputExprs.push_back(rewriter.getAffineDimExpr(i));
      outputExprs.push_back(rewriter.getAffineDimExpr(i));
    }
    inputExprs.push_back(rewriter.getAffineDimExpr(kDim));
    outputExprs.push_back(rewriter.getAffineDimExpr(nDim));
    SmallVector<AffineMap> maps = {
        AffineMap::get(numLoops, 0, inputExprs, rewriter.getContext()),
        AffineMap::get(numLoops, 0,
                       {rewriter.getAffineDimExpr(kDim), rewriter.getAffineDimExpr(nDim)},
                       rewriter.getContext()),
        AffineMap::get(numLoops, 0, outputExprs, rewriter.getContext())};
    SmallVector<utils::IteratorType> iterators(numLoops, utils::IteratorType::parallel);
    iterators[kDim] = utils::IteratorType::reduction;
    Value product =
        rewriter
            .create<linalg::GenericOp>(
                loc, TypeRange{accType}, ValueRange{input, weight}, ValueRange{init},
                maps, iterators,
                [&](OpBuilder &b, Location l, ValueRange args) {
                  Value x = args[0], w = args[1];
                  if (isFloat) {
                    if (roundInputToBf16)
                      x = b.create<arith::TruncFOp>(l, b.getBF16Type(), x);
                    x = extendFloat(b, l, x, acc);
                    w = extendFloat(b, l, w, acc);
                  } else {
                    x = convertScalar(b, l, x, acc, inputUnsigned, false);
                    w = convertScalar(b, l, w, acc, weightUnsigned, false);
                  }
                  b.create<linalg::YieldOp>(
                      l, multiplyAccumulate(b, l, x, w, args[2]));
                })
            .getResult(0);
    if (!bias && !residual && activation == "none" && acc == element) {
      rewriter.replaceOp(op, product);
      return success();
    }
    SmallVector<Value> epilogueOperands = {product};
    if (bias)
      epilogueOperands.push_back(bias);
    if (residual)
      epilogueOperands.push_back(residual);
    auto add = [&](OpBuilder &b, Location l, Value x, Value y) -> Value {
      if (!isFloat)
        return b.create<arith::AddIOp>(l, x, y);
      return b.create<arith::AddFOp>(l, x, extendFloat(b, l, y, acc));
    };
    Value result = buildBroadcastElementwise(
        rewriter, loc, op, epilogueOperands, resultType,
        [&](OpBuilder &b, Location l, ValueRange args) -> Value {
          Value value = args[0];
          if (bias)
            value = add(b, l, value, args[1]);
          value = buildActivation(b, l, value, activation);
          if (residual)
            value = add(b, l, value, args.back());
          if (value.getType() != element)
            value = b.create<arith::TruncFOp>(l, element, value);
          return value;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::tfc::populateContractionPatterns(TypeConverter &converter,
                                            RewritePatternSet &patterns) {
  patterns.add<MatMulPattern, GemmPattern, ConvPattern, LinearPattern>(
      converter, patterns.getContext());
}
