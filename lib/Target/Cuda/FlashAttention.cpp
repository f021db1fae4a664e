//===- FlashAttention.cpp - tfm.attention as one tensor-core kernel -------===//
//
// tfc-cuda-flash-attention. See the pass's comment.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/Passes.h"

#include "KernelBuilder.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "tfm/TfmOps.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfc::cuda;

namespace {

// A block of 4 warps takes 64 queries of one head (16 per warp) through
// the keys 64 at a time.
constexpr int64_t kQueries = 64, kKeys = 64, kThreads = 128;

/// Where element (batch, head, position, d) of q, k or v lies: token-major
/// ([B, L, heads * D]) or head-major ([B, heads, L, D]).
struct HeadLayout {
  Value buffer;
  bool headMajor;
  int64_t headDim;
  SmallVector<Value, 4> indices(KernelBuilder &k, Value batch, Value head,
                                Value position, Value d) const {
    if (headMajor)
      return {batch, head, position, d};
    return {batch, position, k.add(k.mul(head, headDim), d)};
  }
  Value length(KernelBuilder &k) const {
    return k.b.create<memref::DimOp>(k.loc, buffer, headMajor ? 2 : 1);
  }
  Value heads(KernelBuilder &k) const {
    if (headMajor)
      return k.b.create<memref::DimOp>(k.loc, buffer, 1);
    return k.div(k.b.create<memref::DimOp>(k.loc, buffer, 2), headDim);
  }
};

/// The head dim of a q, k or v type, when static.
std::optional<int64_t> headDimOf(RankedTensorType type, int64_t heads) {
  int64_t last = type.getShape().back();
  if (ShapedType::isDynamic(last))
    return std::nullopt;
  if (type.getRank() == 4)
    return last;
  if (type.getRank() == 3 && last % heads == 0)
    return last / heads;
  return std::nullopt;
}

class FlashAttentionBuilder {
public:
  FlashAttentionBuilder(tfm::AttentionOp op, int64_t headDim)
      : op(op), headDim(headDim), pairs(headDim / 2) {}

  void build() {
    OpBuilder b(op);
    Location loc = op.getLoc();
    KernelBuilder k(b, loc);
    MLIRContext *context = op.getContext();
    auto rank = [](Value v) { return cast<RankedTensorType>(v.getType()).getRank(); };
    HeadLayout q{readOnlyView(b, loc, op.getQuery()), rank(op.getQuery()) == 4, headDim};
    HeadLayout key{readOnlyView(b, loc, op.getKey()), rank(op.getKey()) == 4, headDim};
    HeadLayout value{readOnlyView(b, loc, op.getValue()), rank(op.getValue()) == 4, headDim};
    Value mask = op.getMask() ? readOnlyView(b, loc, op.getMask()) : Value();
    int64_t heads = op.getNumHeads();

    Value batch = b.create<memref::DimOp>(loc, q.buffer, 0);
    Value queries = q.length(k), keys = key.length(k);
    Value group = b.create<arith::DivUIOp>(loc, k.index(heads), key.heads(k));
    auto resultType = cast<RankedTensorType>(op.getType());
    auto outType = MemRefType::get(resultType.getShape(), b.getF32Type());
    SmallVector<Value> outDims;
    if (outType.isDynamicDim(0))
      outDims.push_back(batch);
    if (outType.isDynamicDim(1))
      outDims.push_back(queries);
    Value out = b.create<memref::AllocOp>(loc, outType, outDims,
                                          b.getI64IntegerAttr(64));
    // The mask's dims, right-aligned to (batch, head, query, key); a dim
    // of 1 broadcasts.
    SmallVector<Value> maskSizes;
    if (mask)
      for (int64_t d = 0; d < cast<MemRefType>(mask.getType()).getRank(); ++d)
        maskSizes.push_back(b.create<memref::DimOp>(loc, mask, d));

    Type i32 = b.getI32Type();
    auto shared = [&](int64_t rows, int64_t words) {
      return MemRefType::get(
          {rows, words}, i32, MemRefLayoutAttrInterface(),
          gpu::AddressSpaceAttr::get(context, gpu::AddressSpace::Workgroup));
    };
    // Q's tile, then each K tile ([position][pair of d]); V's tile
    // transposed ([d][pair of keys]). Rows padded by 4 words: a fragment's
    // 32 loads then hit 32 banks.
    MemRefType qkType = shared(kQueries, pairs + 4);
    MemRefType vType = shared(headDim, kKeys / 2 + 4);
    Value one = k.index(1);
    auto launch = beginLaunch(k, {k.ceilDiv(queries, kQueries), k.index(heads), batch},
                              kThreads, TypeRange{qkType, vType});
    Value qkTile = launch.getWorkgroupAttributions()[0];
    Value vTile = launch.getWorkgroupAttributions()[1];

    Value thread = launch.getThreadIds().x;
    Value q0 = k.mul(launch.getBlockIds().x, kQueries);
    Value head = launch.getBlockIds().y, b0 = launch.getBlockIds().z;
    Value kvHead = b.create<arith::DivUIOp>(loc, head, group);
    Value warp = k.div(thread, 32), lane = k.rem(thread, 32);
    Value g = k.div(lane, 4), t = k.rem(lane, 4);
    Value warpRow = k.mul(warp, 16);
    Value scale = k.f32(op.getScale().convertToFloat());

    // Q, scaled and rounded to bf16, to shared memory, then each warp's
    // 16 rows to registers as A fragments: pairs along d.
    stageAlongD(k, q, b0, head, q0, kQueries, queries, thread, qkTile, scale);
    b.create<gpu::BarrierOp>(loc);
    SmallVector<FragmentA> qFragments;
    Value r = k.add(warpRow, g), r8 = k.add(r, 8);
    for (int64_t step = 0; step < headDim / 16; ++step) {
      Value word = k.add(t, step * 8), word4 = k.add(t, step * 8 + 4);
      qFragments.push_back(
          {b.create<memref::LoadOp>(loc, qkTile, ValueRange{r, word}).getResult(),
           b.create<memref::LoadOp>(loc, qkTile, ValueRange{r8, word}).getResult(),
           b.create<memref::LoadOp>(loc, qkTile, ValueRange{r, word4}).getResult(),
           b.create<memref::LoadOp>(loc, qkTile, ValueRange{r8, word4}).getResult()});
    }
    b.create<gpu::BarrierOp>(loc);

    // The key tiles to visit: all, or with a causal mask, those up to the
    // last key the block's last query sees (query i sees keys up to
    // i + Lk - Lq).
    Value tiles = k.ceilDiv(keys, kKeys);
    if (op.getCausal()) {
      Value seen = k.sub(k.add(k.add(q0, kQueries), keys), queries);
      // Lq > Lk + q0 + 64 cannot happen for a real block but would wrap.
      Value positive = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sgt,
                                               seen, k.index(0));
      Value needed = k.select(positive, k.ceilDiv(seen, kKeys), k.index(0));
      tiles = b.create<arith::MinUIOp>(loc, tiles, needed);
    }

    // The running state of rows g and g + 8: max, sum, outputs.
    Value minusInfinity = k.f32(-INFINITY), zero = k.f32(0.0f);
    int64_t outTiles = headDim / 8;
    SmallVector<Value> initial = {minusInfinity, minusInfinity, zero, zero};
    initial.append(outTiles * 4, zero);
    auto loop = b.create<scf::ForOp>(
        loc, k.index(0), tiles, one, initial,
        [&](OpBuilder &lb, Location l, Value tile, ValueRange state) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(lb.getInsertionBlock(), lb.getInsertionPoint());
          SmallVector<Value> next =
              keyTile(k, tile, state, key, value, mask, maskSizes, qkTile,
                      vTile, qFragments, thread, q0, head, kvHead, b0, warpRow,
                      g, t, queries, keys);
          b.create<scf::YieldOp>(l, next);
        });

    // Each row's sum over its quad, then the outputs divided by it (a
    // query that saw no key has a sum of 0 and gets zeros).
    auto addF = [&](Value x, Value y) { return b.create<arith::AddFOp>(loc, x, y).getResult(); };
    Value sums[2] = {k.acrossQuad(loop.getResult(2), addF),
                     k.acrossQuad(loop.getResult(3), addF)};
    for (int64_t half = 0; half < 2; ++half) {
      Value position = k.add(q0, k.add(r, half * 8));
      Value positive = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OGT,
                                               sums[half], zero);
      Value inverse = k.select(positive, b.create<arith::DivFOp>(loc, k.f32(1.0f), sums[half]), zero);
      b.create<scf::IfOp>(loc, k.less(position, queries), [&](OpBuilder &then, Location l) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(then.getInsertionBlock(), then.getInsertionPoint());
        for (int64_t nd = 0; nd < outTiles; ++nd)
          for (int64_t e = 0; e < 2; ++e) {
            Value d = k.add(k.mul(t, 2), nd * 8 + e);
            Value o = loop.getResult(4 + nd * 4 + half * 2 + e);
            Value column = k.add(k.mul(head, headDim), d);
            b.create<memref::StoreOp>(l, b.create<arith::MulFOp>(l, o, inverse), out,
                                      ValueRange{b0, position, column});
          }
        b.create<scf::YieldOp>(l);
      });
    }

    replaceWithBuffer(op, out, resultType);
  }

private:
  /// Positions [first, first + count) of one head of `layout` to `tile`
  /// ([position][pair of d]), multiplied by `scale` when given and rounded
  /// to bf16; positions past `length`, zeros.
  void stageAlongD(KernelBuilder &k, const HeadLayout &layout, Value batch,
                   Value head, Value first, int64_t count, Value length,
                   Value thread, Value tile, Value scale = {}) {
    k.forEach(count * pairs / kThreads, [&](Value i) {
      Value p = k.add(thread, k.mul(i, kThreads));
      Value row = k.div(p, pairs), pair = k.rem(p, pairs);
      Value position = k.add(first, row);
      Value ok = k.less(position, length);
      Value d = k.mul(pair, 2);
      Value lo = k.loadBf16Bits(layout.buffer,
                                layout.indices(k, batch, head, position, d), ok, scale);
      Value hi = k.loadBf16Bits(layout.buffer,
                                layout.indices(k, batch, head, position, k.add(d, 1)),
                                ok, scale);
      k.b.create<memref::StoreOp>(k.loc, k.pack(lo, hi), tile, ValueRange{row, pair});
    });
  }

  /// One key tile: K and V to shared memory, the scores on the tensor
  /// cores, the online softmax, and the outputs' update. Returns the new
  /// state (max and sum of rows g and g + 8, then the output sums).
  SmallVector<Value> keyTile(KernelBuilder &k, Value tile, ValueRange state,
                             const HeadLayout &key, const HeadLayout &value,
                             Value mask, ArrayRef<Value> maskSizes, Value qkTile,
                             Value vTile, ArrayRef<FragmentA> qFragments,
                             Value thread, Value q0, Value head, Value kvHead,
                             Value batch, Value warpRow, Value g, Value t,
                             Value queries, Value keys) {
    OpBuilder &b = k.b;
    Location loc = k.loc;
    Value k0 = k.mul(tile, kKeys);
    // K: [key][pair of d], as the B operand of q kᵀ.
    stageAlongD(k, key, batch, kvHead, k0, kKeys, keys, thread, qkTile);
    // V transposed: [d][pair of keys], as the B operand of p v. Threads
    // take consecutive d, so a warp reads along a row of V.
    k.forEach(headDim * (kKeys / 2) / kThreads, [&](Value i) {
      Value p = k.add(thread, k.mul(i, kThreads));
      Value d = k.rem(p, headDim), pair = k.div(p, headDim);
      Value position = k.add(k0, k.mul(pair, 2));
      Value position1 = k.add(position, 1);
      Value lo = k.loadBf16Bits(value.buffer, value.indices(k, batch, kvHead, position, d),
                                k.less(position, keys));
      Value hi = k.loadBf16Bits(value.buffer, value.indices(k, batch, kvHead, position1, d),
                                k.less(position1, keys));
      b.create<memref::StoreOp>(loc, k.pack(lo, hi), vTile, ValueRange{d, pair});
    });
    b.create<gpu::BarrierOp>(loc);

    // Scores: 16 queries x 64 keys per warp, as 8 tiles of 16 x 8.
    Value zero = k.f32(0.0f), minusInfinity = k.f32(-INFINITY);
    constexpr int64_t kScoreTiles = kKeys / 8;
    SmallVector<Accumulator> scores(kScoreTiles, Accumulator{zero, zero, zero, zero});
    for (int64_t j = 0; j < kScoreTiles; ++j) {
      Value column = k.add(g, j * 8);
      for (int64_t step = 0; step < headDim / 16; ++step) {
        Value word = k.add(t, step * 8), word4 = k.add(t, step * 8 + 4);
        FragmentB kFragment{
            b.create<memref::LoadOp>(loc, qkTile, ValueRange{column, word}).getResult(),
            b.create<memref::LoadOp>(loc, qkTile, ValueRange{column, word4}).getResult()};
        scores[j] = k.mma(qFragments[step], kFragment, scores[j]);
      }
    }

    // The mask, the keys past the end and the causal limit. Element e of
    // tile j: row g + (e / 2) * 8, key 8j + 2t + e % 2.
    Value rows[2] = {k.add(q0, k.add(warpRow, g)), k.add(q0, k.add(warpRow, k.add(g, 8)))};
    Value offset = k.sub(keys, queries); // query i sees keys <= i + Lk - Lq
    for (int64_t j = 0; j < kScoreTiles; ++j)
      for (int64_t e = 0; e < 4; ++e) {
        Value row = rows[e / 2];
        Value column = k.add(k0, k.add(k.mul(t, 2), j * 8 + e % 2));
        Value visible = k.less(column, keys);
        if (op.getCausal())
          visible = k.both(visible, b.create<arith::CmpIOp>(
                                        loc, arith::CmpIPredicate::sle, column,
                                        k.add(row, offset)));
        Value score = scores[j][e];
        if (mask) {
          SmallVector<Value> indices =
              k.broadcastIndices({batch, head, row, column}, maskSizes);
          Value inRows = k.less(row, queries);
          score = b.create<arith::AddFOp>(
              loc, score, k.guardedLoad(mask, indices, k.both(visible, inRows), zero));
        }
        scores[j][e] = k.select(visible, score, minusInfinity);
      }

    // Online softmax, rows g (e = 0, 1) and g + 8 (e = 2, 3): the new max
    // over the quad, the old sums and outputs rescaled by exp(old - new),
    // the probabilities exp(score - new), in base 2.
    auto maxF = [&](Value x, Value y) { return b.create<arith::MaxNumFOp>(loc, x, y).getResult(); };
    const float log2e = 1.4426950408889634f;
    Value log2eValue = k.f32(log2e);
    // ex2.approx: 2^x to about 2 ulp, and 0 for -inf (a hidden key).
    auto exp2 = [&](Value x) {
      Value scaled = b.create<arith::MulFOp>(loc, x, log2eValue);
      return b.create<LLVM::CallIntrinsicOp>(
                  loc, b.getF32Type(), b.getStringAttr("llvm.nvvm.ex2.approx.ftz.f"),
                  ValueRange{scaled})
          .getResult(0);
    };
    SmallVector<Value> next(state.begin(), state.end());
    Value alpha[2], base[2];
    for (int64_t half = 0; half < 2; ++half) {
      Value rowMax = minusInfinity;
      for (int64_t j = 0; j < kScoreTiles; ++j)
        for (int64_t e = half * 2; e < half * 2 + 2; ++e)
          rowMax = maxF(rowMax, scores[j][e]);
      rowMax = k.acrossQuad(rowMax, maxF);
      Value newMax = maxF(state[half], rowMax);
      // Nothing seen yet: subtract 0, so that -inf - -inf is not NaN.
      Value empty = b.create<arith::CmpFOp>(loc, arith::CmpFPredicate::OEQ, newMax, minusInfinity);
      base[half] = k.select(empty, zero, newMax);
      alpha[half] = exp2(b.create<arith::SubFOp>(loc, state[half], base[half]));
      next[half] = newMax;
    }
    Value partial[2] = {zero, zero};
    for (int64_t j = 0; j < kScoreTiles; ++j)
      for (int64_t e = 0; e < 4; ++e) {
        scores[j][e] = exp2(b.create<arith::SubFOp>(loc, scores[j][e], base[e / 2]));
        partial[e / 2] = b.create<arith::AddFOp>(loc, partial[e / 2], scores[j][e]);
      }
    for (int64_t half = 0; half < 2; ++half)
      next[2 + half] = b.create<arith::AddFOp>(
          loc, b.create<arith::MulFOp>(loc, state[2 + half], alpha[half]), partial[half]);

    // The outputs: rescaled, then += p v with p rounded to bf16. A tile's
    // sums are already laid out as the A operand of the next product:
    // keys 16s .. 16s + 15 are score tiles 2s and 2s + 1.
    int64_t outTiles = headDim / 8;
    SmallVector<Accumulator> outputs;
    for (int64_t nd = 0; nd < outTiles; ++nd) {
      Accumulator o;
      for (int64_t e = 0; e < 4; ++e)
        o[e] = b.create<arith::MulFOp>(loc, state[4 + nd * 4 + e], alpha[e / 2]);
      outputs.push_back(o);
    }
    for (int64_t s = 0; s < kKeys / 16; ++s) {
      const Accumulator &left = scores[2 * s], &right = scores[2 * s + 1];
      FragmentA pFragment{k.pack(k.bf16Bits(left[0]), k.bf16Bits(left[1])),
                          k.pack(k.bf16Bits(left[2]), k.bf16Bits(left[3])),
                          k.pack(k.bf16Bits(right[0]), k.bf16Bits(right[1])),
                          k.pack(k.bf16Bits(right[2]), k.bf16Bits(right[3]))};
      Value word = k.add(t, s * 8), word4 = k.add(t, s * 8 + 4);
      for (int64_t nd = 0; nd < outTiles; ++nd) {
        Value d = k.add(g, nd * 8);
        FragmentB vFragment{
            b.create<memref::LoadOp>(loc, vTile, ValueRange{d, word}).getResult(),
            b.create<memref::LoadOp>(loc, vTile, ValueRange{d, word4}).getResult()};
        outputs[nd] = k.mma(pFragment, vFragment, outputs[nd]);
      }
    }
    for (int64_t nd = 0; nd < outTiles; ++nd)
      for (int64_t e = 0; e < 4; ++e)
        next[4 + nd * 4 + e] = outputs[nd][e];
    b.create<gpu::BarrierOp>(loc);
    return next;
  }

  tfm::AttentionOp op;
  int64_t headDim, pairs;
};

/// Replaces each bf16 tfm.attention (tfc compile --quantize=bf16) whose
/// heads are a multiple of 16 wide, up to 128, by one flash-attention
/// kernel on the tensor
/// cores: a block of 4 warps takes 64 queries of a head through the keys
/// 64 at a time, q kᵀ and p v as mma.sync (bf16 operands, f32 sums), with
/// an online softmax in registers, so the Lq x Lk scores are never
/// written. Masks (added, broadcast), causal attention (key tiles past a
/// block's last visible key are skipped), grouped-query heads and both
/// layouts are taken. Other attentions are left to the generic lowering.
/// Runs on the graph, before the lowering to linalg; the kernel reads its
/// operands in place (bufferization.to_memref) and writes a new buffer.
struct FlashAttention
    : PassWrapper<FlashAttention, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FlashAttention)
  StringRef getArgument() const final { return "tfc-cuda-flash-attention"; }
  StringRef getDescription() const final {
    return "Computes bf16 tfm.attention with one flash-attention kernel on tensor cores";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, bufferization::BufferizationDialect,
                    gpu::GPUDialect, LLVM::LLVMDialect,
                    memref::MemRefDialect, scf::SCFDialect>();
  }
  void runOnOperation() override {
    SmallVector<std::pair<tfm::AttentionOp, int64_t>> eligible;
    getOperation().walk([&](tfm::AttentionOp op) {
      if (op.getPrecision() != "bf16")
        return;
      int64_t heads = op.getNumHeads();
      auto typeOf = [](Value v) { return dyn_cast<RankedTensorType>(v.getType()); };
      auto q = typeOf(op.getQuery()), k = typeOf(op.getKey()),
           v = typeOf(op.getValue());
      auto result = typeOf(op.getResult());
      if (!q || !k || !v || !result || !result.getElementType().isF32())
        return;
      for (RankedTensorType type : {q, k, v})
        if (!type.getElementType().isF32() ||
            (type.getRank() != 3 && type.getRank() != 4))
          return;
      std::optional<int64_t> dk = headDimOf(q, heads);
      // k and v: their own head count (grouped queries), so the head dim
      // of a token-major k or v is not known from `heads`: it must equal
      // q's.
      if (!dk || *dk % 16 != 0 || *dk > 128)
        return;
      for (RankedTensorType type : {k, v}) {
        int64_t last = type.getShape().back();
        if (ShapedType::isDynamic(last) ||
            (type.getRank() == 4 ? last != *dk : last % *dk != 0))
          return;
      }
      if (op.getMask()) {
        auto mask = typeOf(op.getMask());
        if (!mask || !mask.getElementType().isF32() || mask.getRank() > 4)
          return;
      }
      eligible.push_back({op, *dk});
    });
    for (auto [op, headDim] : eligible)
      FlashAttentionBuilder(op, headDim).build();
  }
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::cuda::createFlashAttentionPass() {
  return std::make_unique<FlashAttention>();
}
