//===- TensorCoreMatmul.cpp - linears on tensor cores ---------------------===//
//
// tfc-cuda-tensor-core-matmul. See the pass's comment.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/Passes.h"

#include "KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

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
// Shared tiles hold bf16 pairs (consecutive k) as 32-bit words, rows padded
// from 16 to 20 words so that a fragment's 32 loads hit 32 banks.
constexpr int64_t kPairsK = kBlockK / 2, kRowWords = kPairsK + 4;

/// A linear that the tensor-core kernel computes: C[m, n] += sum_k
/// round(A[m, k]) * B[k, n], A f32 (rounded to bf16, as tfc compile
/// --quantize=bf16 lowers it) or bf16, B bf16, C f32.
struct LinearOperands {
  Value a, b, c;
  bool roundA; // A is f32, rounded to bf16 as it is loaded
};

/// Whether `value` is block argument `index` of `body`, extended from bf16
/// to f32, after rounding from f32 when `roundFromF32` is set.
static bool isWidenedBf16(Value value, Block *body, unsigned index,
                          bool &roundFromF32) {
  auto extend = value.getDefiningOp<arith::ExtFOp>();
  if (!extend || !extend.getIn().getType().isBF16() ||
      !extend.getType().isF32())
    return false;
  Value narrow = extend.getIn();
  roundFromF32 = false;
  if (auto round = narrow.getDefiningOp<arith::TruncFOp>()) {
    if (!round.getIn().getType().isF32())
      return false;
    narrow = round.getIn();
    roundFromF32 = true;
  }
  return narrow == body->getArgument(index);
}

/// The operands of `op` when it is a linear the kernel computes: loops
/// (rows..., k, n), maps (rows..., k), (k, n), (rows..., n), and the body
/// `c + widen(a) * widen(b)`; buffers with identity layouts.
static std::optional<LinearOperands> matchLinear(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1)
    return std::nullopt;
  unsigned loops = op.getNumLoops();
  if (loops < 3)
    return std::nullopt;
  unsigned kDim = loops - 2, nDim = loops - 1;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned i = 0; i < loops; ++i)
    if ((iterators[i] == utils::IteratorType::reduction) != (i == kDim))
      return std::nullopt;
  MLIRContext *context = op.getContext();
  SmallVector<AffineExpr> rowsK, rowsN;
  for (unsigned i = 0; i < kDim; ++i) {
    rowsK.push_back(getAffineDimExpr(i, context));
    rowsN.push_back(getAffineDimExpr(i, context));
  }
  rowsK.push_back(getAffineDimExpr(kDim, context));
  rowsN.push_back(getAffineDimExpr(nDim, context));
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  if (maps[0] != AffineMap::get(loops, 0, rowsK, context) ||
      maps[1] != AffineMap::get(loops, 0,
                                {getAffineDimExpr(kDim, context),
                                 getAffineDimExpr(nDim, context)},
                                context) ||
      maps[2] != AffineMap::get(loops, 0, rowsN, context))
    return std::nullopt;

  LinearOperands operands{op.getDpsInputs()[0], op.getDpsInputs()[1],
                          op.getDpsInits()[0], false};
  for (Value buffer : {operands.a, operands.b, operands.c}) {
    auto type = dyn_cast<MemRefType>(buffer.getType());
    if (!type || !type.getLayout().isIdentity() ||
        type.getMemorySpace())
      return std::nullopt;
  }
  auto elementOf = [](Value buffer) {
    return cast<MemRefType>(buffer.getType()).getElementType();
  };
  if (!elementOf(operands.c).isF32() || !elementOf(operands.b).isBF16() ||
      !(elementOf(operands.a).isF32() || elementOf(operands.a).isBF16()))
    return std::nullopt;

  // c + a' * b', in either order.
  Block *body = op.getBody();
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto sum = yield.getValues()[0].getDefiningOp<arith::AddFOp>();
  if (!sum)
    return std::nullopt;
  Value accumulator = sum.getLhs(), product = sum.getRhs();
  if (accumulator != body->getArgument(2))
    std::swap(accumulator, product);
  auto multiply = product.getDefiningOp<arith::MulFOp>();
  if (accumulator != body->getArgument(2) || !multiply)
    return std::nullopt;
  bool roundA = false, roundB = false;
  Value x = multiply.getLhs(), w = multiply.getRhs();
  if (!isWidenedBf16(x, body, 0, roundA))
    std::swap(x, w);
  if (!isWidenedBf16(x, body, 0, roundA) || !isWidenedBf16(w, body, 1, roundB) ||
      roundB || roundA != elementOf(operands.a).isF32())
    return std::nullopt;
  operands.roundA = roundA;
  return operands;
}

/// Replaces `op` by a gpu.launch of the tensor-core kernel.
static void buildKernel(linalg::GenericOp op, const LinearOperands &operands) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  KernelBuilder k(b, loc);
  MLIRContext *context = op.getContext();

  // The operands as matrices: A [M, K], B [K, N], C [M, N].
  auto asMatrix = [&](Value buffer) -> Value {
    auto type = cast<MemRefType>(buffer.getType());
    if (type.getRank() == 2)
      return buffer;
    ReassociationIndices rows;
    for (int64_t i = 0; i + 1 < type.getRank(); ++i)
      rows.push_back(i);
    return b.create<memref::CollapseShapeOp>(
        loc, buffer, ArrayRef<ReassociationIndices>{rows, {type.getRank() - 1}});
  };
  Value a = asMatrix(operands.a), c = asMatrix(operands.c), w = operands.b;
  Value m = b.create<memref::DimOp>(loc, c, 0);
  Value n = b.create<memref::DimOp>(loc, c, 1);
  Value kSize = b.create<memref::DimOp>(loc, a, 1);
  auto ceilDiv = [&](Value x, int64_t y) { return k.ceilDiv(x, y); };
  Value one = k.index(1);
  auto sharedType = MemRefType::get(
      {kBlockM, kRowWords}, b.getI32Type(), MemRefLayoutAttrInterface(),
      gpu::AddressSpaceAttr::get(context, gpu::AddressSpace::Workgroup));
  auto launch = b.create<gpu::LaunchOp>(
      loc, ceilDiv(n, kBlockN), ceilDiv(m, kBlockM), one, k.index(kThreads),
      one, one, /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      ValueRange{}, TypeRange{sharedType, sharedType});
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);
  b.create<gpu::TerminatorOp>(loc);
  b.setInsertionPointToStart(&body);
  Value aTile = launch.getWorkgroupAttributions()[0];
  Value bTile = launch.getWorkgroupAttributions()[1];

  Value thread = launch.getThreadIds().x;
  Value row0 = k.mul(launch.getBlockIds().y, k.index(kBlockM));
  Value col0 = k.mul(launch.getBlockIds().x, k.index(kBlockN));
  Value warp = k.div(thread, 32), lane = k.rem(thread, 32);
  Value group = k.div(lane, 4), inGroup = k.rem(lane, 4);
  Value warpRow = k.mul(k.div(warp, kWarpsN), k.index(kWarpM));
  Value warpCol = k.mul(k.rem(warp, kWarpsN), k.index(kWarpN));

  Value zero = k.f32(0.0f);
  constexpr int64_t kAccumulators = kWarpTilesM * kWarpTilesN * 4;
  SmallVector<Value> initial(kAccumulators, zero);
  auto steps = b.create<scf::ForOp>(
      loc, k.index(0), ceilDiv(kSize, kBlockK), one, initial,
      [&](OpBuilder &lb, Location l, Value step, ValueRange accumulators) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(lb.getInsertionBlock(), lb.getInsertionPoint());
        Value k0 = k.mul(step, k.index(kBlockK));
        // Global to shared: each thread packs 8 pairs of A (16 threads a
        // row, along k) and 8 of B (along n, so that a warp reads a row).
        k.forEach(kBlockM * kPairsK / kThreads, [&](Value i) {
          Value pair = k.add(thread, k.mul(i, kThreads));
          Value row = k.div(pair, kPairsK), word = k.rem(pair, kPairsK);
          Value globalRow = k.add(row0, row);
          Value col = k.add(k0, k.mul(word, k.index(2)));
          Value rowOk = k.less(globalRow, m);
          Value lo = k.loadBf16Bits(a, {globalRow, col}, k.both(rowOk, k.less(col, kSize)));
          Value col1 = k.add(col, one);
          Value hi = k.loadBf16Bits(a, {globalRow, col1}, k.both(rowOk, k.less(col1, kSize)));
          b.create<memref::StoreOp>(l, k.pack(lo, hi), aTile, ValueRange{row, word});
        });
        k.forEach(kBlockN * kPairsK / kThreads, [&](Value i) {
          Value pair = k.add(thread, k.mul(i, kThreads));
          Value column = k.rem(pair, kBlockN), word = k.div(pair, kBlockN);
          Value globalCol = k.add(col0, column);
          Value depth = k.add(k0, k.mul(word, k.index(2)));
          Value colOk = k.less(globalCol, n);
          Value lo = k.loadBf16Bits(w, {depth, globalCol}, k.both(colOk, k.less(depth, kSize)));
          Value depth1 = k.add(depth, one);
          Value hi = k.loadBf16Bits(w, {depth1, globalCol}, k.both(colOk, k.less(depth1, kSize)));
          b.create<memref::StoreOp>(l, k.pack(lo, hi), bTile, ValueRange{column, word});
        });
        b.create<gpu::BarrierOp>(l);

        // Two k16 steps of 4 x 4 tiles. Fragments (PTX's m16n8k16 layout,
        // g = lane / 4, t = lane % 4): A's registers hold rows g and g + 8
        // at pair t and t + 4; B's, column g at pair t and t + 4.
        SmallVector<Value> sums(accumulators.begin(), accumulators.end());
        for (int64_t half = 0; half < kPairsK / 8; ++half) {
          Value word = k.add(inGroup, k.index(half * 8));
          Value word4 = k.add(word, k.index(4));
          SmallVector<FragmentA> aFragments;
          for (int64_t mi = 0; mi < kWarpTilesM; ++mi) {
            Value r = k.add(warpRow, k.add(k.index(mi * 16), group));
            Value r8 = k.add(r, k.index(8));
            aFragments.push_back(
                {b.create<memref::LoadOp>(l, aTile, ValueRange{r, word}).getResult(),
                 b.create<memref::LoadOp>(l, aTile, ValueRange{r8, word}).getResult(),
                 b.create<memref::LoadOp>(l, aTile, ValueRange{r, word4}).getResult(),
                 b.create<memref::LoadOp>(l, aTile, ValueRange{r8, word4}).getResult()});
          }
          SmallVector<FragmentB> bFragments;
          for (int64_t ni = 0; ni < kWarpTilesN; ++ni) {
            Value col = k.add(warpCol, k.add(k.index(ni * 8), group));
            bFragments.push_back(
                {b.create<memref::LoadOp>(l, bTile, ValueRange{col, word}).getResult(),
                 b.create<memref::LoadOp>(l, bTile, ValueRange{col, word4}).getResult()});
          }
          for (int64_t mi = 0; mi < kWarpTilesM; ++mi)
            for (int64_t ni = 0; ni < kWarpTilesN; ++ni) {
              int64_t first = (mi * kWarpTilesN + ni) * 4;
              Accumulator acc{sums[first], sums[first + 1], sums[first + 2],
                              sums[first + 3]};
              acc = k.mma(aFragments[mi], bFragments[ni], acc);
              for (int64_t j = 0; j < 4; ++j)
                sums[first + j] = acc[j];
            }
        }
        b.create<gpu::BarrierOp>(l);
        b.create<scf::YieldOp>(l, sums);
      });

  // Epilogue: C += the sums. A thread's four sums of a tile are rows g and
  // g + 8, columns 2t and 2t + 1.
  for (int64_t mi = 0; mi < kWarpTilesM; ++mi)
    for (int64_t ni = 0; ni < kWarpTilesN; ++ni)
      for (int64_t j = 0; j < 4; ++j) {
        Value row = k.add(row0, k.add(warpRow, k.add(k.index(mi * 16 + (j / 2) * 8), group)));
        Value col = k.add(col0, k.add(warpCol, k.add(k.index(ni * 8 + j % 2),
                                                     k.mul(inGroup, k.index(2)))));
        Value sum = steps.getResult((mi * kWarpTilesN + ni) * 4 + j);
        b.create<scf::IfOp>(loc, k.both(k.less(row, m), k.less(col, n)),
                            [&](OpBuilder &then, Location l) {
                              Value old = then.create<memref::LoadOp>(l, c, ValueRange{row, col});
                              Value updated = then.create<arith::AddFOp>(l, old, sum);
                              then.create<memref::StoreOp>(l, updated, c, ValueRange{row, col});
                              then.create<scf::YieldOp>(l);
                            });
      }
  op.erase();
}

/// Computes the linears whose weights are bf16 (tfc compile
/// --quantize=bf16, or a bf16 model) with the tensor cores' bf16 products
/// (mma.sync m16n8k16, f32 sums, sm_80 and later) instead of the generic
/// loop nest: each block of 8 warps stages a 128 x 32 slice of the input
/// (rounded to bf16 as it is loaded, as the generic lowering rounds it) and
/// a 32 x 128 slice of the weight in shared memory, as bf16 pairs, and
/// multiplies them into a 128 x 128 tile of f32 sums, added to the result
/// at the end. Every load and store is bounds-checked: any M, N and K.
/// Other linears are left to the generic lowering.
struct TensorCoreMatmul
    : PassWrapper<TensorCoreMatmul, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TensorCoreMatmul)
  StringRef getArgument() const final { return "tfc-cuda-tensor-core-matmul"; }
  StringRef getDescription() const final {
    return "Computes bf16-weight linears with a tensor-core (mma.sync) kernel";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, gpu::GPUDialect, LLVM::LLVMDialect,
                    memref::MemRefDialect, scf::SCFDialect>();
  }
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, LinearOperands>> linears;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<LinearOperands> operands = matchLinear(op))
        linears.push_back({op, *operands});
    });
    for (auto &[op, operands] : linears)
      buildKernel(op, operands);
  }
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::cuda::createTensorCoreMatmulPass() {
  return std::make_unique<TensorCoreMatmul>();
}
