//===- TensorCoreLinear.cpp - bf16 linears on tensor cores ----------------===//
//
// tfc-cuda-tensor-core-linear. See the pass's comment.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/Passes.h"

#include "KernelBuilder.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "tfc/Conversion/LoweringUtils.h"
#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc::cuda;

namespace {

// The kernel's tiles: a block of 8 warps computes 128 x 128 of the result,
// each warp 64 x 32 (2 warps down, 4 across) as 4 x 4 tiles of the
// m16n8k16 instruction, stepping through k by 32.
constexpr int64_t kBlockM = 128, kBlockN = 128, kBlockK = 32;
constexpr int64_t kThreads = 256;
constexpr int64_t kWarpTilesM = 4, kWarpTilesN = 4; // of 16 x 8
constexpr int64_t kWarpM = 16 * kWarpTilesM, kWarpN = 8 * kWarpTilesN;
constexpr int64_t kWarpsN = kBlockN / kWarpN; // 4
// Staging A: two threads a row, each half of the row's k.
constexpr int64_t kThreadsPerRow = kThreads / kBlockM;

/// The element type of the products: shared tiles hold 32-bit words along
/// k, a bf16 pair or one TF32 value each, rows padded by 4 words so that a
/// fragment's 32 loads hit 32 banks; one mma.sync step takes 8 words.
struct Precision {
  bool tf32;
  int64_t elementsPerWord() const { return tf32 ? 1 : 2; }
  int64_t words() const { return kBlockK / elementsPerWord(); }
  int64_t rowWords() const { return words() + 4; }
};

/// The indices of `row` in the leading dims `sizes` (the last varying
/// fastest).
SmallVector<Value> unflatten(KernelBuilder &k, Value row, ArrayRef<Value> sizes) {
  SmallVector<Value> indices(sizes.size());
  for (int64_t d = sizes.size() - 1; d >= 0; --d) {
    indices[d] = k.b.create<arith::RemUIOp>(k.loc, row, sizes[d]);
    row = k.b.create<arith::DivUIOp>(k.loc, row, sizes[d]);
  }
  return indices;
}

/// The precision `op` is computed in, when the kernel computes it: a bf16
/// weight [K, N] by an f32 (rounded to bf16) or bf16 input, an f32 or bf16
/// result; or with `tf32`, f32 by f32 into f32 as TF32 products. A bias of
/// N and a residual that broadcasts to the result.
std::optional<Precision> precisionOf(tfm::LinearOp op, bool tf32) {
  std::optional<Precision> none;
  auto typeOf = [](Value v) { return dyn_cast<RankedTensorType>(v.getType()); };
  auto input = typeOf(op.getInput()), weight = typeOf(op.getWeight());
  auto result = typeOf(op.getResult());
  if (!input || !weight || !result || weight.getRank() != 2 ||
      input.getRank() < 2 || result.getRank() != input.getRank())
    return none;
  Type in = input.getElementType(), w = weight.getElementType(),
       out = result.getElementType();
  Precision precision{false};
  if (w.isBF16() && (in.isF32() || in.isBF16()) && (out.isF32() || out.isBF16()))
    precision.tf32 = false;
  else if (tf32 && w.isF32() && in.isF32() && out.isF32())
    precision.tf32 = true;
  else
    return none;
  StringRef activation = op.getActivation();
  if (activation != "none" && activation != "relu" && activation != "gelu" &&
      activation != "gelu_tanh")
    return none;
  if (Value bias = op.getBias()) {
    auto type = typeOf(bias);
    if (!type || type.getRank() != 1 || !isa<FloatType>(type.getElementType()))
      return none;
  }
  if (Value residual = op.getResidual()) {
    auto type = typeOf(residual);
    if (!type || type.getRank() > result.getRank() ||
        !isa<FloatType>(type.getElementType()))
      return none;
  }
  return precision;
}

void buildKernel(tfm::LinearOp op, Precision precision) {
  const int64_t words = precision.words();
  const int64_t wordsPerThread = words / kThreadsPerRow;
  const int64_t perWord = precision.elementsPerWord();
  OpBuilder b(op);
  Location loc = op.getLoc();
  KernelBuilder k(b, loc);
  auto resultType = cast<RankedTensorType>(op.getType());
  int64_t rank = resultType.getRank();
  Value input = readOnlyView(b, loc, op.getInput());
  Value weight = readOnlyView(b, loc, op.getWeight());
  Value bias = op.getBias() ? readOnlyView(b, loc, op.getBias()) : Value();
  Value residual = op.getResidual() ? readOnlyView(b, loc, op.getResidual()) : Value();

  // Rows: the input's leading dims, flattened.
  SmallVector<Value> leadingSizes, outDims;
  Value m = k.index(1);
  for (int64_t d = 0; d + 1 < rank; ++d) {
    leadingSizes.push_back(b.create<memref::DimOp>(loc, input, d));
    m = k.mul(m, leadingSizes.back());
    if (resultType.isDynamicDim(d))
      outDims.push_back(leadingSizes.back());
  }
  Value kSize = b.create<memref::DimOp>(loc, weight, 0);
  Value n = b.create<memref::DimOp>(loc, weight, 1);
  if (resultType.isDynamicDim(rank - 1))
    outDims.push_back(n);
  SmallVector<Value> residualSizes;
  if (residual)
    for (int64_t d = 0; d < cast<MemRefType>(residual.getType()).getRank(); ++d)
      residualSizes.push_back(b.create<memref::DimOp>(loc, residual, d));
  Type outElement = resultType.getElementType();
  Value out = b.create<memref::AllocOp>(
      loc, MemRefType::get(resultType.getShape(), outElement), outDims,
      b.getI64IntegerAttr(64));
  // The input's columns must match the weight's rows (the generic lowering
  // checks the same).
  tfc::checkDimsEqual(b, loc, op, op.getInput(), rank - 1, op.getWeight(), 0,
                 "the contracted dims of the input and weight differ");

  MLIRContext *context = op.getContext();
  auto sharedType = MemRefType::get(
      {kBlockM, precision.rowWords()}, b.getI32Type(), MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(context, gpu::AddressSpace::Workgroup));
  Value one = k.index(1);
  auto launch = beginLaunch(k, {k.ceilDiv(n, kBlockN), k.ceilDiv(m, kBlockM), one},
                            kThreads, TypeRange{sharedType, sharedType});
  Value aTile = launch.getWorkgroupAttributions()[0];
  Value bTile = launch.getWorkgroupAttributions()[1];

  Value thread = launch.getThreadIds().x;
  Value row0 = k.mul(launch.getBlockIds().y, kBlockM);
  Value col0 = k.mul(launch.getBlockIds().x, kBlockN);
  Value warp = k.div(thread, 32), lane = k.rem(thread, 32);
  Value group = k.div(lane, 4), inGroup = k.rem(lane, 4);
  Value warpRow = k.mul(k.div(warp, kWarpsN), kWarpM);
  Value warpCol = k.mul(k.rem(warp, kWarpsN), kWarpN);

  // The row this thread stages, and its indices in the input's leading
  // dims (found once: the division is not cheap).
  Value stagedRow = k.div(thread, kThreadsPerRow);
  Value firstWord = k.mul(k.rem(thread, kThreadsPerRow), wordsPerThread);
  Value stagedGlobalRow = k.add(row0, stagedRow);
  Value stagedRowOk = k.less(stagedGlobalRow, m);
  SmallVector<Value> stagedIndices =
      unflatten(k, k.select(stagedRowOk, stagedGlobalRow, k.index(0)), leadingSizes);

  Value zero = k.f32(0.0f);
  constexpr int64_t kAccumulators = kWarpTilesM * kWarpTilesN * 4;
  SmallVector<Value> initial(kAccumulators, zero);
  auto steps = b.create<scf::ForOp>(
      loc, k.index(0), k.ceilDiv(kSize, kBlockK), one, initial,
      [&](OpBuilder &lb, Location l, Value step, ValueRange accumulators) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(lb.getInsertionBlock(), lb.getInsertionPoint());
        Value k0 = k.mul(step, kBlockK);
        // Global to shared. A: the thread's row, half its k (rounded to
        // bf16 or TF32 as loaded). B: threads along n.
        auto word = [&](Value buffer, auto at, Value ok, Value position) {
          // The word of elements position, position + 1 (bf16) or of
          // element position (TF32).
          if (precision.tf32)
            return k.loadTf32Bits(buffer, at(position), k.both(ok, k.less(position, kSize)));
          Value next = k.add(position, 1);
          Value lo = k.loadBf16Bits(buffer, at(position), k.both(ok, k.less(position, kSize)));
          Value hi = k.loadBf16Bits(buffer, at(next), k.both(ok, k.less(next, kSize)));
          return k.pack(lo, hi);
        };
        k.forEach(wordsPerThread, [&](Value i) {
          Value w = k.add(firstWord, i);
          auto at = [&](Value col) {
            SmallVector<Value> indices(stagedIndices);
            indices.push_back(col);
            return indices;
          };
          Value bits = word(input, at, stagedRowOk, k.add(k0, k.mul(w, perWord)));
          b.create<memref::StoreOp>(l, bits, aTile, ValueRange{stagedRow, w});
        });
        k.forEach(kBlockN * words / kThreads, [&](Value i) {
          Value p = k.add(thread, k.mul(i, kThreads));
          Value column = k.rem(p, kBlockN), w = k.div(p, kBlockN);
          Value globalCol = k.add(col0, column);
          auto at = [&](Value depth) { return SmallVector<Value>{depth, globalCol}; };
          Value bits = word(weight, at, k.less(globalCol, n), k.add(k0, k.mul(w, perWord)));
          b.create<memref::StoreOp>(l, bits, bTile, ValueRange{column, w});
        });
        b.create<gpu::BarrierOp>(l);

        // Steps of 8 words (k16 in bf16, k8 in TF32) of 4 x 4 tiles.
        // Fragments (PTX's layouts, g = lane / 4, t = lane % 4): A's
        // registers hold rows g and g + 8 at words t and t + 4; B's, column
        // g at words t and t + 4.
        SmallVector<Value> sums(accumulators.begin(), accumulators.end());
        for (int64_t half = 0; half < words / 8; ++half) {
          Value word = k.add(inGroup, half * 8), word4 = k.add(inGroup, half * 8 + 4);
          SmallVector<FragmentA> aFragments;
          for (int64_t mi = 0; mi < kWarpTilesM; ++mi) {
            Value r = k.add(warpRow, k.add(group, mi * 16)), r8 = k.add(r, 8);
            aFragments.push_back(
                {b.create<memref::LoadOp>(l, aTile, ValueRange{r, word}).getResult(),
                 b.create<memref::LoadOp>(l, aTile, ValueRange{r8, word}).getResult(),
                 b.create<memref::LoadOp>(l, aTile, ValueRange{r, word4}).getResult(),
                 b.create<memref::LoadOp>(l, aTile, ValueRange{r8, word4}).getResult()});
          }
          SmallVector<FragmentB> bFragments;
          for (int64_t ni = 0; ni < kWarpTilesN; ++ni) {
            Value col = k.add(warpCol, k.add(group, ni * 8));
            bFragments.push_back(
                {b.create<memref::LoadOp>(l, bTile, ValueRange{col, word}).getResult(),
                 b.create<memref::LoadOp>(l, bTile, ValueRange{col, word4}).getResult()});
          }
          for (int64_t mi = 0; mi < kWarpTilesM; ++mi)
            for (int64_t ni = 0; ni < kWarpTilesN; ++ni) {
              int64_t first = (mi * kWarpTilesN + ni) * 4;
              Accumulator acc{sums[first], sums[first + 1], sums[first + 2],
                              sums[first + 3]};
              acc = k.mma(aFragments[mi], bFragments[ni], acc, precision.tf32);
              for (int64_t j = 0; j < 4; ++j)
                sums[first + j] = acc[j];
            }
        }
        b.create<gpu::BarrierOp>(l);
        b.create<scf::YieldOp>(l, sums);
      });

  // The epilogue, as the generic lowering orders it: + bias, activation,
  // + residual, rounded to the result's type. A thread's sums of a tile
  // are rows g and g + 8, columns 2t and 2t + 1.
  StringRef activation = op.getActivation();
  for (int64_t mi = 0; mi < kWarpTilesM; ++mi)
    for (int64_t rowHalf = 0; rowHalf < 2; ++rowHalf) {
      Value row = k.add(row0, k.add(warpRow, k.add(group, mi * 16 + rowHalf * 8)));
      Value rowOk = k.less(row, m);
      b.create<scf::IfOp>(loc, rowOk, [&](OpBuilder &then, Location l) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(then.getInsertionBlock(), then.getInsertionPoint());
        SmallVector<Value> leading = unflatten(k, row, leadingSizes);
        for (int64_t ni = 0; ni < kWarpTilesN; ++ni)
          for (int64_t e = 0; e < 2; ++e) {
            Value col = k.add(col0, k.add(warpCol, k.add(k.mul(inGroup, 2), ni * 8 + e)));
            Value value = steps.getResult((mi * kWarpTilesN + ni) * 4 + rowHalf * 2 + e);
            b.create<scf::IfOp>(l, k.less(col, n), [&](OpBuilder &inner, Location il) {
              OpBuilder::InsertionGuard innerGuard(b);
              b.setInsertionPoint(inner.getInsertionBlock(), inner.getInsertionPoint());
              Value v = value;
              auto widened = [&](Value x) {
                return x.getType().isF32() ? x
                                           : b.create<arith::ExtFOp>(il, b.getF32Type(), x)
                                                 .getResult();
              };
              if (bias)
                v = b.create<arith::AddFOp>(
                    il, v, widened(b.create<memref::LoadOp>(il, bias, ValueRange{col})));
              v = tfc::buildActivation(b, il, v, activation);
              SmallVector<Value> at(leading);
              at.push_back(col);
              if (residual)
                v = b.create<arith::AddFOp>(
                    il, v, widened(b.create<memref::LoadOp>(
                               il, residual, k.broadcastIndices(at, residualSizes))));
              if (!outElement.isF32())
                v = b.create<arith::TruncFOp>(il, outElement, v);
              b.create<memref::StoreOp>(il, v, out, at);
              b.create<scf::YieldOp>(il);
            });
          }
        b.create<scf::YieldOp>(l);
      });
    }

  replaceWithBuffer(op, out, resultType);
}

/// Computes each linear with a bf16 weight (tfc compile --quantize=bf16,
/// or a bf16 model), and with the `tf32` option each f32 linear (as TF32
/// products: 10-bit mantissas, f32 sums; tfc compile --gpu-tf32), on the
/// tensor cores, its epilogue included, instead of
/// the generic loop nest and elementwise kernel: a block of 8 warps
/// computes a 128 x 128 tile of the result, staging 128 x 32 of the input
/// (rounded to bf16 as it is loaded, as the generic lowering rounds it)
/// and 32 x 128 of the weight in shared memory as bf16 pairs, each warp
/// 64 x 32 as 4 x 4 mma.sync (m16n8k16, f32 sums); then adds the bias,
/// applies the activation, adds the residual and writes the result. Every
/// load and store is bounds-checked (any M, N and K) and the operands are
/// read in place, any strides (a slice of a merged projection). Runs on
/// the graph, before the lowering to linalg.
struct TensorCoreLinear
    : PassWrapper<TensorCoreLinear, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TensorCoreLinear)
  TensorCoreLinear() = default;
  TensorCoreLinear(const TensorCoreLinear &other) : PassWrapper(other) {}
  explicit TensorCoreLinear(bool tf32) { this->tf32 = tf32; }
  Option<bool> tf32{*this, "tf32",
                    llvm::cl::desc("Also f32 linears, as TF32 products (tfc "
                                   "compile --gpu-tf32)"),
                    llvm::cl::init(false)};
  StringRef getArgument() const final { return "tfc-cuda-tensor-core-linear"; }
  StringRef getDescription() const final {
    return "Computes bf16-weight tfm.linear, epilogue included, with a tensor-core (mma.sync) kernel";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, bufferization::BufferizationDialect,
                    cf::ControlFlowDialect, gpu::GPUDialect, LLVM::LLVMDialect,
                    math::MathDialect, memref::MemRefDialect, scf::SCFDialect>();
  }
  void runOnOperation() override {
    SmallVector<std::pair<tfm::LinearOp, Precision>> linears;
    getOperation().walk([&](tfm::LinearOp op) {
      if (std::optional<Precision> precision = precisionOf(op, tf32))
        linears.push_back({op, *precision});
    });
    for (auto [op, precision] : linears)
      buildKernel(op, precision);
  }
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::cuda::createTensorCoreLinearPass(bool tf32) {
  return std::make_unique<TensorCoreLinear>(tf32);
}
