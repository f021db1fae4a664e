//===- LoweringUtils.cpp - shared helpers of the tfm to linalg lowering ---===//

#include "tfc/Conversion/LoweringUtils.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/AffineMap.h"
#include "tfm/TfmDialect.h"

using namespace mlir;
using namespace mlir::tfc;

TfmTypeConverter::TfmTypeConverter() {
  addConversion([](Type type) { return type; });
  addConversion([](IntegerType type) -> Type {
    if (type.isSignless())
      return type;
    return IntegerType::get(type.getContext(), type.getWidth());
  });
  addConversion([this](RankedTensorType type) -> Type {
    Type element = convertType(type.getElementType());
    return type.clone(element);
  });
}

Type mlir::tfc::getAccumulatorType(Type element) {
  auto type = dyn_cast<FloatType>(element);
  if (type && type.getWidth() < 32)
    return Float32Type::get(element.getContext());
  return element;
}

Value mlir::tfc::extendFloat(OpBuilder &b, Location loc, Value value,
                             Type to) {
  if (value.getType() == to)
    return value;
  return b.create<arith::ExtFOp>(loc, to, value);
}

std::string mlir::tfc::describeOp(Operation *op) {
  // A fused op carries the locations of the nodes it replaced.
  std::string nodes = tfm::describeNodes(op->getLoc());
  std::string opName = op->getName().getStringRef().str();
  return nodes.empty() ? opName : nodes + " (" + opName + ")";
}

void mlir::tfc::emitCheck(OpBuilder &b, Location loc, Value cond,
                          Operation *op, const Twine &message) {
  // A check that folds to true costs nothing; one that folds to false is a
  // program that can never run, which the runtime reports on first use.
  if (auto constant = getConstantIntValue(cond); constant && *constant != 0)
    return;
  b.create<cf::AssertOp>(loc, cond, (describeOp(op) + ": " + message).str());
}

void mlir::tfc::emitEqualCheck(OpBuilder &b, Location loc, Operation *op,
                               Value lhs, Value rhs, const Twine &message) {
  emitCheck(b, loc,
            b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, lhs, rhs),
            op, message);
}

SmallVector<OpFoldResult> mlir::tfc::getDims(OpBuilder &b, Location loc,
                                             Value tensor) {
  return tensor::getMixedSizes(b, loc, tensor);
}

Value mlir::tfc::toIndexValue(OpBuilder &b, Location loc, OpFoldResult ofr) {
  return getValueOrCreateConstantIndexOp(b, loc, ofr);
}

Value mlir::tfc::createEmpty(OpBuilder &b, Location loc, RankedTensorType type,
                             ArrayRef<OpFoldResult> dims) {
  SmallVector<Value> dynamicSizes;
  for (auto [i, size] : llvm::enumerate(type.getShape()))
    if (ShapedType::isDynamic(size))
      dynamicSizes.push_back(toIndexValue(b, loc, dims[i]));
  return b.create<tensor::EmptyOp>(loc, type.getShape(), type.getElementType(),
                                   dynamicSizes);
}

Value mlir::tfc::createFilled(OpBuilder &b, Location loc,
                              ArrayRef<int64_t> shape, Type element,
                              ArrayRef<OpFoldResult> dims, double value) {
  Value empty = createEmpty(b, loc, RankedTensorType::get(shape, element), dims);
  return b
      .create<linalg::FillOp>(loc, createScalarConstant(b, loc, element, value),
                              empty)
      .getResult(0);
}

AffineMap mlir::tfc::getLoopsMap(OpBuilder &b, int64_t loops,
                                 ArrayRef<int64_t> dims) {
  SmallVector<AffineExpr> exprs;
  for (int64_t dim : dims)
    exprs.push_back(b.getAffineDimExpr(dim));
  return AffineMap::get(loops, 0, exprs, b.getContext());
}

Value mlir::tfc::extractScalarAsIndex(OpBuilder &b, Location loc, Value tensor,
                                      int64_t position) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> indices;
  if (type.getRank() == 1)
    indices.push_back(b.create<arith::ConstantIndexOp>(loc, position));
  Value element = b.create<tensor::ExtractOp>(loc, tensor, indices);
  return b.create<arith::IndexCastOp>(loc, b.getIndexType(), element);
}

Value mlir::tfc::createScalarConstant(OpBuilder &b, Location loc, Type type,
                                      double value) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return b.create<arith::ConstantOp>(loc, b.getFloatAttr(floatType, value));
  if (type.isIndex())
    return b.create<arith::ConstantIndexOp>(loc, static_cast<int64_t>(value));
  return b.create<arith::ConstantOp>(
      loc, b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

SmallVector<OpFoldResult>
mlir::tfc::broadcastResultDims(OpBuilder &b, Location loc, Operation *op,
                               ValueRange operands,
                               RankedTensorType resultType) {
  int64_t rank = resultType.getRank();
  SmallVector<OpFoldResult> dims;
  // Which operand each dynamic result dim is read from (it needs no check).
  SmallVector<int64_t> source(rank, -1);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t staticSize = resultType.getDimSize(i);
    if (!ShapedType::isDynamic(staticSize)) {
      dims.push_back(b.getIndexAttr(staticSize));
      continue;
    }
    // The first operand with a dynamic dim here gives the size; inference
    // would have made the result dim static if any operand had a static dim
    // other than 1 here.
    OpFoldResult size = b.getIndexAttr(1);
    for (auto [k, operand] : llvm::enumerate(operands)) {
      auto type = cast<RankedTensorType>(operand.getType());
      int64_t j = i - (rank - type.getRank());
      if (j >= 0 && type.isDynamicDim(j)) {
        size = b.create<tensor::DimOp>(loc, operand, j).getResult();
        source[i] = k;
        break;
      }
    }
    dims.push_back(size);
  }

  // Every dynamic operand dim must match the result: numpy broadcasting of a
  // dim that turns out to be 1 at run time is not supported.
  for (auto [k, operand] : llvm::enumerate(operands)) {
    auto type = cast<RankedTensorType>(operand.getType());
    for (int64_t j = 0; j < type.getRank(); ++j) {
      int64_t i = j + rank - type.getRank();
      if (!type.isDynamicDim(j) || source[i] == (int64_t)k)
        continue;
      Value actual = b.create<tensor::DimOp>(loc, operand, j);
      Value expected = toIndexValue(b, loc, dims[i]);
      if (actual == expected)
        continue;
      Value same = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                           actual, expected);
      emitCheck(b, loc, same, op,
                "dim " + Twine(j) + " of operand " + Twine(k) +
                    " does not match the broadcast result (dynamic dims must "
                    "agree at run time)");
    }
  }
  return dims;
}

Value mlir::tfc::buildBroadcastElementwise(OpBuilder &b, Location loc,
                                           Operation *op, ValueRange operands,
                                           RankedTensorType resultType,
                                           ScalarBuilder body) {
  int64_t rank = resultType.getRank();
  SmallVector<OpFoldResult> dims =
      broadcastResultDims(b, loc, op, operands, resultType);
  Value init = createEmpty(b, loc, resultType, dims);

  SmallVector<AffineMap> maps;
  for (Value operand : operands) {
    auto type = cast<RankedTensorType>(operand.getType());
    SmallVector<AffineExpr> exprs;
    for (int64_t j = 0; j < type.getRank(); ++j) {
      int64_t i = j + rank - type.getRank();
      bool broadcasts = type.getDimSize(j) == 1 && resultType.getDimSize(i) != 1;
      exprs.push_back(broadcasts ? b.getAffineConstantExpr(0)
                                 : b.getAffineDimExpr(i));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, b.getContext()));
  }
  maps.push_back(b.getMultiDimIdentityMap(rank));
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = b.create<linalg::GenericOp>(
      loc, TypeRange{resultType}, operands, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        Value result = body(nb, nloc, args.drop_back());
        nb.create<linalg::YieldOp>(nloc, result);
      });
  return generic.getResult(0);
}

Value mlir::tfc::convertScalar(OpBuilder &b, Location loc, Value value,
                               Type toType, bool fromUnsigned,
                               bool toUnsigned) {
  Type fromType = value.getType();
  if (fromType == toType)
    return value;
  auto fromFloat = dyn_cast<FloatType>(fromType);
  auto toFloat = dyn_cast<FloatType>(toType);
  if (fromFloat && toFloat) {
    if (fromFloat.getWidth() < toFloat.getWidth())
      return b.create<arith::ExtFOp>(loc, toType, value);
    return b.create<arith::TruncFOp>(loc, toType, value);
  }
  if (fromFloat) {
    if (toType.isInteger(1)) {
      Value zero = createScalarConstant(b, loc, fromType, 0.0);
      return b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::UNE, value,
                                     zero);
    }
    if (toUnsigned)
      return b.create<arith::FPToUIOp>(loc, toType, value);
    return b.create<arith::FPToSIOp>(loc, toType, value);
  }
  if (toFloat) {
    if (fromUnsigned || fromType.isInteger(1))
      return b.create<arith::UIToFPOp>(loc, toType, value);
    return b.create<arith::SIToFPOp>(loc, toType, value);
  }
  unsigned fromWidth = fromType.getIntOrFloatBitWidth();
  unsigned toWidth = toType.getIntOrFloatBitWidth();
  if (toWidth == 1) {
    Value zero = createScalarConstant(b, loc, fromType, 0);
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ne, value, zero);
  }
  if (fromWidth < toWidth) {
    if (fromUnsigned || fromWidth == 1)
      return b.create<arith::ExtUIOp>(loc, toType, value);
    return b.create<arith::ExtSIOp>(loc, toType, value);
  }
  return b.create<arith::TruncIOp>(loc, toType, value);
}

void mlir::tfc::checkIndicesInRange(OpBuilder &rewriter, Location loc, Operation *op,
                         Value indices, Value dimAsElement, bool unsignedIndices) {
  auto indicesType = cast<RankedTensorType>(indices.getType());
  if (indicesType.hasStaticShape() && indicesType.getNumElements() == 0)
    return;
  int64_t indexRank = indicesType.getRank();
  Type indexElementType = indicesType.getElementType();
  MLIRContext *context = rewriter.getContext();
  Value okInit = rewriter.create<tensor::EmptyOp>(loc, ArrayRef<int64_t>{},
                                                  rewriter.getI1Type());
  Value trueValue = rewriter.create<arith::ConstantIntOp>(loc, 1, 1);
  okInit = rewriter.create<linalg::FillOp>(loc, trueValue, okInit).getResult(0);
  SmallVector<utils::IteratorType> reduction(indexRank,
                                             utils::IteratorType::reduction);
  auto check = rewriter.create<linalg::GenericOp>(
      loc, TypeRange{okInit.getType()}, ValueRange{indices}, ValueRange{okInit},
      SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(indexRank),
                             AffineMap::get(indexRank, 0, {}, context)},
      reduction, [&](OpBuilder &b, Location l, ValueRange args) {
        Value inRange;
        Value below = b.create<arith::CmpIOp>(
            l, unsignedIndices ? arith::CmpIPredicate::ult : arith::CmpIPredicate::slt,
            args[0], dimAsElement);
        if (unsignedIndices) {
          inRange = below;
        } else {
          Value negDim = b.create<arith::SubIOp>(
              l, createScalarConstant(b, l, indexElementType, 0), dimAsElement);
          Value above = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge,
                                                args[0], negDim);
          inRange = b.create<arith::AndIOp>(l, below, above);
        }
        b.create<linalg::YieldOp>(l, b.create<arith::AndIOp>(l, inRange, args[1]).getResult());
      });
  Value ok = rewriter.create<tensor::ExtractOp>(loc, check.getResult(0), ValueRange{});
  emitCheck(rewriter, loc, ok, op, "an index is out of range");
}

Value mlir::tfc::wrapIndex(OpBuilder &b, Location l, Value index, Value dim,
                bool unsignedIndices) {
  Value raw = unsignedIndices
                  ? b.create<arith::IndexCastUIOp>(l, b.getIndexType(), index).getResult()
                  : b.create<arith::IndexCastOp>(l, b.getIndexType(), index).getResult();
  Value negative = b.create<arith::CmpIOp>(
      l, arith::CmpIPredicate::slt, raw, b.create<arith::ConstantIndexOp>(l, 0));
  return b.create<arith::SelectOp>(l, negative, b.create<arith::AddIOp>(l, raw, dim),
                                   raw);
}

Value mlir::tfc::checkElementIndices(OpBuilder &b, Location loc, Operation *op,
                                     Value input, Value indices, int64_t axis,
                                     bool unsignedIndices) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto indicesType = cast<RankedTensorType>(indices.getType());
  for (int64_t i = 0; i < inputType.getRank(); ++i) {
    if (i == axis || (!inputType.isDynamicDim(i) && !indicesType.isDynamicDim(i)))
      continue;
    Value fits = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ule,
                                         b.create<tensor::DimOp>(loc, indices, i),
                                         b.create<tensor::DimOp>(loc, input, i));
    emitCheck(b, loc, fits, op, "the indices' dim " + Twine(i) + " exceeds the input's");
  }
  Value dim = b.create<tensor::DimOp>(loc, input, axis);
  Value dimAsElement =
      b.create<arith::IndexCastOp>(loc, indicesType.getElementType(), dim);
  checkIndicesInRange(b, loc, op, indices, dimAsElement, unsignedIndices);
  return dim;
}

void mlir::tfc::checkDimsEqual(OpBuilder &b, Location loc, Operation *op,
                               Value lhs, int64_t lhsDim, Value rhs,
                               int64_t rhsDim, const Twine &what) {
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  if (!lhsType.isDynamicDim(lhsDim) && !rhsType.isDynamicDim(rhsDim))
    return;
  Value a = b.create<tensor::DimOp>(loc, lhs, lhsDim);
  Value c = b.create<tensor::DimOp>(loc, rhs, rhsDim);
  Value same = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, a, c);
  emitCheck(b, loc, same, op, what);
}
