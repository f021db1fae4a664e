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
    auto branch = b.create<scf::IfOp>(
        loc, inBounds,
        [&](OpBuilder &then, Location l) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(then.getInsertionBlock(), then.getInsertionPoint());
          Value element = b.create<memref::LoadOp>(l, buffer, indices);
          b.create<scf::YieldOp>(l, bf16Bits(element, scale));
        },
        [&](OpBuilder &orElse, Location l) {
          orElse.create<scf::YieldOp>(
              l, orElse.create<arith::ConstantIntOp>(l, 0, 32).getResult());
        });
    return branch.getResult(0);
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
    auto branch = b.create<scf::IfOp>(
        loc, inBounds,
        [&](OpBuilder &then, Location l) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(then.getInsertionBlock(), then.getInsertionPoint());
          Value element = b.create<memref::LoadOp>(l, buffer, indices);
          b.create<scf::YieldOp>(l, tf32Bits(element));
        },
        [&](OpBuilder &orElse, Location l) {
          orElse.create<scf::YieldOp>(
              l, orElse.create<arith::ConstantIntOp>(l, 0, 32).getResult());
        });
    return branch.getResult(0);
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

  /// `value` combined (by `combine`) with the values of the lanes whose
  /// index differs in bits 1 and 2: the four threads holding a row.
  template <typename Combine>
  Value acrossQuad(Value value, Combine combine) {
    Value width = b.create<arith::ConstantIntOp>(loc, 32, 32);
    for (int64_t offset : {1, 2}) {
      Value lane = b.create<arith::ConstantIntOp>(loc, offset, 32);
      Value other = b.create<gpu::ShuffleOp>(loc, value, lane, width,
                                             gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      value = combine(value, other);
    }
    return value;
  }

  OpBuilder &b;
  Location loc;
};

} // namespace mlir::tfc::cuda

#endif // TFC_LIB_TARGET_CUDA_KERNELBUILDER_H
