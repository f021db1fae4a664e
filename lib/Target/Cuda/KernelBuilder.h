//===- KernelBuilder.h - hand-tiled kernels in a gpu.launch ---*- C++ -*-===//
//
// The arithmetic, guarded loads and tensor-core products that the cuda
// target's hand-tiled kernels (tfc-cuda-tensor-core-linear,
// tfc-cuda-flash-attention, tfc-cuda-norm-kernels) are written in: index arithmetic that folds
// constants, bf16 pairs packed into 32-bit words (the operand registers of
// mma.sync), and the m16n8k16 bf16 product through its NVVM intrinsic
// (MLIR 19's nvgpu and nvvm mma ops do not take bf16).
//
//===----------------------------------------------------------------------===//

#ifndef TFC_LIB_TARGET_CUDA_KERNELBUILDER_H
#define TFC_LIB_TARGET_CUDA_KERNELBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"

#include <array>

namespace mlir::tfc::cuda {

/// The four f32 sums a thread holds of an m16n8 tile: rows g and g + 8
/// (g = lane / 4), columns 2t and 2t + 1 (t = lane % 4).
using Accumulator = std::array<Value, 4>;
/// A thread's registers of an m16k16 bf16 operand: rows g, g + 8 at pairs
/// t (k = 2t, 2t + 1), then at pairs t + 4.
using FragmentA = std::array<Value, 4>;
/// A thread's registers of a k16n8 bf16 operand: column g, pairs t, t + 4.
using FragmentB = std::array<Value, 2>;

class KernelBuilder {
public:
  KernelBuilder(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value index(int64_t value) {
    return b.create<arith::ConstantIndexOp>(loc, value);
  }
  Value f32(float value) {
    return b.create<arith::ConstantFloatOp>(loc, APFloat(value), b.getF32Type());
  }
  Value add(Value x, Value y) { return b.createOrFold<arith::AddIOp>(loc, x, y); }
  Value sub(Value x, Value y) { return b.createOrFold<arith::SubIOp>(loc, x, y); }
  Value mul(Value x, Value y) { return b.createOrFold<arith::MulIOp>(loc, x, y); }
  Value add(Value x, int64_t y) { return add(x, index(y)); }
  Value mul(Value x, int64_t y) { return mul(x, index(y)); }
  Value div(Value x, int64_t y) {
    return b.createOrFold<arith::DivUIOp>(loc, x, index(y));
  }
  Value rem(Value x, int64_t y) {
    return b.createOrFold<arith::RemUIOp>(loc, x, index(y));
  }
  Value ceilDiv(Value x, int64_t y) {
    return b.createOrFold<arith::CeilDivUIOp>(loc, x, index(y));
  }
  Value less(Value x, Value y) {
    return b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, x, y);
  }
  Value both(Value x, Value y) { return b.create<arith::AndIOp>(loc, x, y); }
  Value select(Value condition, Value x, Value y) {
    return b.create<arith::SelectOp>(loc, condition, x, y);
  }

  /// `buffer[indices]` where `inBounds`, else `otherwise`: the load only
  /// runs where it is in bounds.
  Value guardedLoad(Value buffer, ValueRange indices, Value inBounds,
                    Value otherwise) {
    auto branch = b.create<scf::IfOp>(
        loc, inBounds,
        [&](OpBuilder &then, Location l) {
          then.create<scf::YieldOp>(
              l, then.create<memref::LoadOp>(l, buffer, indices).getResult());
        },
        [&](OpBuilder &orElse, Location l) {
          orElse.create<scf::YieldOp>(l, otherwise);
        });
    return branch.getResult(0);
  }

  /// The bits of `value` (f32, multiplied by `scale` when given, then
  /// rounded to bf16, nearest even; or bf16) in the low half of an i32.
  Value bf16Bits(Value value, Value scale = {}) {
    if (value.getType().isF32()) {
      if (scale)
        value = b.create<arith::MulFOp>(loc, value, scale);
      value = b.create<arith::TruncFOp>(loc, b.getBF16Type(), value);
    }
    Value bits = b.create<arith::BitcastOp>(loc, b.getI16Type(), value);
    return b.create<arith::ExtUIOp>(loc, b.getI32Type(), bits);
  }

  /// The bf16 bits of `buffer[indices]` (see bf16Bits), or 0 where
  /// `inBounds` is false.
  Value loadBf16Bits(Value buffer, ValueRange indices, Value inBounds,
                     Value scale = {}) {
    return loadBits(buffer, indices, inBounds,
                    [&](Value element) { return bf16Bits(element, scale); });
  }

  /// `body(i)` for i in [0, count), as a loop (not unrolled: the copies
  /// into shared memory would otherwise keep every address live at once).
  template <typename Body>
  void forEach(int64_t count, Body body) {
    b.create<scf::ForOp>(loc, index(0), index(count), index(1), ValueRange{},
                         [&](OpBuilder &lb, Location, Value i, ValueRange) {
                           OpBuilder::InsertionGuard guard(b);
                           b.setInsertionPoint(lb.getInsertionBlock(),
                                               lb.getInsertionPoint());
                           body(i);
                           b.create<scf::YieldOp>(loc);
                         });
  }

  /// lo | hi << 16: the pair (lo at the lower k) as mma.sync takes it.
  Value pack(Value lo, Value hi) {
    Value sixteen = b.create<arith::ConstantIntOp>(loc, 16, 32);
    return b.create<arith::OrIOp>(loc, lo,
                                  b.create<arith::ShLIOp>(loc, hi, sixteen));
  }

  /// The TF32 bits of an f32 `value` (rounded to nearest, ties away from
  /// zero, as cvt.rna.tf32.f32 rounds), for the TF32 product.
  Value tf32Bits(Value value) {
    return b.create<LLVM::CallIntrinsicOp>(loc, b.getI32Type(),
                                           b.getStringAttr("llvm.nvvm.f2tf32.rna"),
                                           ValueRange{value})
        .getResult(0);
  }

  /// `buffer[indices]` as TF32 bits, or 0 where `inBounds` is false.
  Value loadTf32Bits(Value buffer, ValueRange indices, Value inBounds) {
    return loadBits(buffer, indices, inBounds,
                    [&](Value element) { return tf32Bits(element); });
  }

  /// acc + a * b on the tensor cores: mma.sync.m16n8k16 on bf16 pairs, or
  /// with `tf32`, mma.sync.m16n8k8 on TF32 words (the same registers, rows
  /// and columns, one element a word); f32 sums.
  Accumulator mma(const FragmentA &a, const FragmentB &bFragment,
                  const Accumulator &acc, bool tf32 = false) {
    Type f32Type = b.getF32Type();
    auto structType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), SmallVector<Type>(4, f32Type));
    SmallVector<Value> args(a.begin(), a.end());
    args.append(bFragment.begin(), bFragment.end());
    args.append(acc.begin(), acc.end());
    Value result =
        b.create<LLVM::CallIntrinsicOp>(
             loc, structType,
             b.getStringAttr(tf32 ? "llvm.nvvm.mma.m16n8k8.row.col.tf32"
                                  : "llvm.nvvm.mma.m16n8k16.row.col.bf16"),
             args)
            .getResult(0);
    Accumulator sums;
    for (int64_t j = 0; j < 4; ++j)
      sums[j] = b.create<LLVM::ExtractValueOp>(loc, result, j);
    return sums;
  }

  /// The indices into an operand of dims `sizes` that broadcasts (numpy
  /// rules: dims right-aligned, a dim of 1 repeats) to the tensor whose
  /// element `indices` is.
  SmallVector<Value> broadcastIndices(ArrayRef<Value> indices,
                                      ArrayRef<Value> sizes) {
    SmallVector<Value> result;
    int64_t offset = indices.size() - sizes.size();
    for (auto [d, size] : llvm::enumerate(sizes)) {
      Value repeats =
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, size, index(1));
      result.push_back(select(repeats, index(0), indices[offset + d]));
    }
    return result;
  }

  /// `value` combined (by `combine`) with the values of the lanes whose
  /// index differs in bits 1 and 2: the four threads holding a row.
  template <typename Combine>
  Value acrossQuad(Value value, Combine combine) {
    return acrossLanes(value, combine, {1, 2});
  }
  /// ... and across the whole warp: every lane gets the combination.
  template <typename Combine>
  Value acrossWarp(Value value, Combine combine) {
    return acrossLanes(value, combine, {16, 8, 4, 2, 1});
  }

  OpBuilder &b;
  Location loc;

private:
  /// `convert(buffer[indices])` (an i32) where `inBounds`, else 0; the load
  /// only runs where it is in bounds.
  template <typename Convert>
  Value loadBits(Value buffer, ValueRange indices, Value inBounds,
                 Convert convert) {
    auto branch = b.create<scf::IfOp>(
        loc, inBounds,
        [&](OpBuilder &then, Location l) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(then.getInsertionBlock(), then.getInsertionPoint());
          Value element = b.create<memref::LoadOp>(l, buffer, indices);
          b.create<scf::YieldOp>(l, convert(element));
        },
        [&](OpBuilder &orElse, Location l) {
          orElse.create<scf::YieldOp>(
              l, orElse.create<arith::ConstantIntOp>(l, 0, 32).getResult());
        });
    return branch.getResult(0);
  }

  /// A butterfly over the lanes `offsets` apart (xor shuffles).
  template <typename Combine>
  Value acrossLanes(Value value, Combine combine, ArrayRef<int64_t> offsets) {
    Value width = b.create<arith::ConstantIntOp>(loc, 32, 32);
    for (int64_t offset : offsets) {
      Value lane = b.create<arith::ConstantIntOp>(loc, offset, 32);
      Value other = b.create<gpu::ShuffleOp>(loc, value, lane, width,
                                             gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      value = combine(value, other);
    }
    return value;
  }
};

/// A read-only view of `tensor` in place, any strides: how the kernels
/// built on the graph read their operands (bufferization then sees a read
/// of an existing tensor).
inline Value readOnlyView(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  auto layout = StridedLayoutAttr::get(
      b.getContext(), ShapedType::kDynamic,
      SmallVector<int64_t>(type.getRank(), ShapedType::kDynamic));
  auto viewType = MemRefType::get(type.getShape(), type.getElementType(), layout);
  return b.create<bufferization::ToMemrefOp>(loc, viewType, tensor,
                                             /*read_only=*/true);
}

/// A gpu.launch of `grid` blocks of `threads` threads in x, with shared
/// buffers of `workgroup` types; `b` is left at the start of its body.
inline gpu::LaunchOp beginLaunch(KernelBuilder &k, std::array<Value, 3> grid,
                                 int64_t threads, TypeRange workgroup = {}) {
  Value one = k.index(1);
  auto launch = k.b.create<gpu::LaunchOp>(
      k.loc, grid[0], grid[1], grid[2], k.index(threads), one, one,
      /*dynamicSharedMemorySize=*/nullptr, /*asyncTokenType=*/nullptr,
      ValueRange{}, workgroup);
  Block &body = launch.getBody().front();
  k.b.setInsertionPointToStart(&body);
  k.b.create<gpu::TerminatorOp>(k.loc);
  k.b.setInsertionPointToStart(&body);
  return launch;
}

/// Replaces graph op `op`'s one result by `buffer`, which the kernel wrote,
/// as a new tensor of `type`.
inline void replaceWithBuffer(Operation *op, Value buffer, RankedTensorType type) {
  OpBuilder b(op);
  Value result = b.create<bufferization::ToTensorOp>(
      op->getLoc(), type, buffer, /*restrict=*/true, /*writable=*/true);
  op->getResult(0).replaceAllUsesWith(result);
  op->erase();
}

} // namespace mlir::tfc::cuda

#endif // TFC_LIB_TARGET_CUDA_KERNELBUILDER_H
