//===- NormKernels.cpp - layer and RMS norms, a warp per row --------------===//
//
// tfc-cuda-norm-kernels. See the pass's comment.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/Passes.h"

#include "KernelBuilder.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc::cuda;

namespace {

constexpr int64_t kWarpsPerBlock = 8;

/// What a norm op asks: `input` (+ `skip`) normalized over its last dim,
/// times `scale`, plus `bias`.
struct NormOperands {
  Operation *op;
  Value input, skip, scale, bias;
  float epsilon;
  bool rms; // x / sqrt(mean(x^2) + eps): no mean subtracted
};

/// Whether the op normalizes f32 over its last dim with a 1-D scale and
/// bias and a skip that broadcasts over leading dims only.
bool isEligible(const NormOperands &norm, int64_t axis) {
  auto type = dyn_cast<RankedTensorType>(norm.input.getType());
  if (!type || !type.getElementType().isF32() || type.getRank() < 1 ||
      axis != type.getRank() - 1)
    return false;
  for (Value vector : {norm.scale, norm.bias}) {
    if (!vector)
      continue;
    auto vectorType = dyn_cast<RankedTensorType>(vector.getType());
    if (!vectorType || vectorType.getRank() != 1 ||
        vectorType.getShape()[0] != type.getShape().back() ||
        ShapedType::isDynamic(vectorType.getShape()[0]))
      return false;
  }
  if (norm.skip) {
    auto skipType = dyn_cast<RankedTensorType>(norm.skip.getType());
    if (!skipType || skipType.getRank() > type.getRank() ||
        skipType.getShape().back() != type.getShape().back())
      return false;
  }
  return true;
}

void buildKernel(const NormOperands &norm) {
  Operation *op = norm.op;
  OpBuilder b(op);
  Location loc = op->getLoc();
  KernelBuilder k(b, loc);
  auto type = cast<RankedTensorType>(norm.input.getType());
  int64_t rank = type.getRank();
  Value input = readOnlyView(b, loc, norm.input);
  Value skip = norm.skip ? readOnlyView(b, loc, norm.skip) : Value();
  Value scale = readOnlyView(b, loc, norm.scale);
  Value bias = norm.bias ? readOnlyView(b, loc, norm.bias) : Value();

  SmallVector<Value> sizes, outDims;
  for (int64_t d = 0; d < rank; ++d) {
    sizes.push_back(b.create<memref::DimOp>(loc, input, d));
    if (type.isDynamicDim(d))
      outDims.push_back(sizes.back());
  }
  SmallVector<Value> skipSizes;
  if (skip)
    for (int64_t d = 0; d < cast<MemRefType>(skip.getType()).getRank(); ++d)
      skipSizes.push_back(b.create<memref::DimOp>(loc, skip, d));
  Value rows = k.index(1);
  for (int64_t d = 0; d + 1 < rank; ++d)
    rows = k.mul(rows, sizes[d]);
  Value width = sizes.back();
  auto outType = MemRefType::get(type.getShape(), b.getF32Type());
  Value out = b.create<memref::AllocOp>(loc, outType, outDims,
                                        b.getI64IntegerAttr(64));

  Value one = k.index(1);
  auto launch = beginLaunch(k, {k.ceilDiv(rows, kWarpsPerBlock), one, one},
                            32 * kWarpsPerBlock);
  Value thread = launch.getThreadIds().x;
  Value row = k.add(k.mul(launch.getBlockIds().x, kWarpsPerBlock), k.div(thread, 32));
  Value lane = k.rem(thread, 32);

  b.create<scf::IfOp>(loc, k.less(row, rows), [&](OpBuilder &then, Location l) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(then.getInsertionBlock(), then.getInsertionPoint());
    // The row's index in the leading dims, last dim varying fastest.
    SmallVector<Value> leading(rank - 1);
    Value rest = row;
    for (int64_t d = rank - 2; d >= 0; --d) {
      leading[d] = b.create<arith::RemUIOp>(l, rest, sizes[d]);
      rest = b.create<arith::DivUIOp>(l, rest, sizes[d]);
    }
    auto element = [&](Value column) -> Value {
      SmallVector<Value> indices(leading);
      indices.push_back(column);
      Value x = b.create<memref::LoadOp>(l, input, indices);
      if (!skip)
        return x;
      return b.create<arith::AddFOp>(
          l, x, b.create<memref::LoadOp>(l, skip, k.broadcastIndices(indices, skipSizes)));
    };
    // sum over the lane's columns (lane, lane + 32, ...) of f(x).
    auto laneSum = [&](function_ref<Value(Value)> f) -> Value {
      auto loop = b.create<scf::ForOp>(
          l, lane, width, k.index(32), ValueRange{k.f32(0.0f)},
          [&](OpBuilder &lb, Location ll, Value column, ValueRange sum) {
            OpBuilder::InsertionGuard inner(b);
            b.setInsertionPoint(lb.getInsertionBlock(), lb.getInsertionPoint());
            Value next = b.create<arith::AddFOp>(ll, sum[0], f(element(column)));
            b.create<scf::YieldOp>(ll, next);
          });
      auto addF = [&](Value x, Value y) { return b.create<arith::AddFOp>(l, x, y).getResult(); };
      return k.acrossWarp(loop.getResult(0), addF);
    };
    Value count = b.create<arith::UIToFPOp>(
        l, b.getF32Type(), b.create<arith::IndexCastUIOp>(l, b.getI64Type(), width));
    Value mean = k.f32(0.0f);
    if (!norm.rms)
      mean = b.create<arith::DivFOp>(l, laneSum([](Value x) { return x; }), count);
    Value variance = b.create<arith::DivFOp>(
        l,
        laneSum([&](Value x) {
          Value centered = b.create<arith::SubFOp>(l, x, mean);
          return b.create<arith::MulFOp>(l, centered, centered).getResult();
        }),
        count);
    Value inverse = b.create<math::RsqrtOp>(
        l, b.create<arith::AddFOp>(l, variance, k.f32(norm.epsilon)));
    b.create<scf::ForOp>(
        l, lane, width, k.index(32), ValueRange{},
        [&](OpBuilder &lb, Location ll, Value column, ValueRange) {
          OpBuilder::InsertionGuard inner(b);
          b.setInsertionPoint(lb.getInsertionBlock(), lb.getInsertionPoint());
          Value x = b.create<arith::MulFOp>(
              ll, b.create<arith::SubFOp>(ll, element(column), mean), inverse);
          Value y = b.create<arith::MulFOp>(
              ll, x, b.create<memref::LoadOp>(ll, scale, ValueRange{column}));
          if (bias)
            y = b.create<arith::AddFOp>(ll, y, b.create<memref::LoadOp>(ll, bias, ValueRange{column}));
          SmallVector<Value> indices(leading);
          indices.push_back(column);
          b.create<memref::StoreOp>(ll, y, out, indices);
          b.create<scf::YieldOp>(ll);
        });
    b.create<scf::YieldOp>(l);
  });

  replaceWithBuffer(op, out, type);
}

/// Replaces tfm.layer_norm, tfm.add_layer_norm and tfm.rms_norm over the
/// last dim of f32 tensors by a kernel that gives each row to one warp:
/// the lanes read the row's columns 32 apart (coalesced), sum them and
/// exchange the sums with shuffles, so every lane has the row's mean and
/// then its variance (of the centered values, as the generic lowering
/// computes it), and each writes its columns normalized. The generic
/// lowering's reductions give a row to a thread, whose neighbours read
/// rows a row apart. Runs on the graph, before the lowering to linalg.
struct NormKernels : PassWrapper<NormKernels, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(NormKernels)
  StringRef getArgument() const final { return "tfc-cuda-norm-kernels"; }
  StringRef getDescription() const final {
    return "Computes layer norms and RMS norms over the last dim with a warp per row";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, bufferization::BufferizationDialect,
                    gpu::GPUDialect, math::MathDialect, memref::MemRefDialect,
                    scf::SCFDialect>();
  }
  void runOnOperation() override {
    SmallVector<NormOperands> norms;
    getOperation().walk([&](Operation *op) {
      NormOperands norm{op, {}, {}, {}, {}, 0.0f, false};
      int64_t axis;
      if (auto layerNorm = dyn_cast<tfm::LayerNormOp>(op)) {
        norm.input = layerNorm.getInput();
        norm.scale = layerNorm.getScale();
        norm.bias = layerNorm.getBias();
        norm.epsilon = layerNorm.getEpsilon().convertToFloat();
        axis = layerNorm.getAxis();
      } else if (auto addLayerNorm = dyn_cast<tfm::AddLayerNormOp>(op)) {
        norm.input = addLayerNorm.getInput();
        norm.skip = addLayerNorm.getSkip();
        norm.scale = addLayerNorm.getScale();
        norm.bias = addLayerNorm.getBias();
        norm.epsilon = addLayerNorm.getEpsilon().convertToFloat();
        axis = addLayerNorm.getAxis();
      } else if (auto rmsNorm = dyn_cast<tfm::RmsNormOp>(op)) {
        norm.input = rmsNorm.getInput();
        norm.scale = rmsNorm.getScale();
        norm.epsilon = rmsNorm.getEpsilon().convertToFloat();
        norm.rms = true;
        axis = rmsNorm.getAxis();
      } else {
        return;
      }
      int64_t rank = cast<RankedTensorType>(norm.input.getType()).getRank();
      if (axis < 0)
        axis += rank;
      if (isEligible(norm, axis))
        norms.push_back(norm);
    });
    for (const NormOperands &norm : norms)
      buildKernel(norm);
  }
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::cuda::createNormKernelsPass() {
  return std::make_unique<NormKernels>();
}
