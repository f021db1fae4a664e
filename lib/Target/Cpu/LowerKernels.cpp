//===- LowerKernels.cpp - the tfc-cpu-lower-kernels pass ------------------===//
//
// A kernel call on tensors becomes one on buffers: the kernel reads its
// tensor arguments where they lie (bufferization.to_memref, read-only, any
// strides, so slices of a merged projection are not copied) and writes a
// fresh buffer, which becomes the result tensor. Bufferization then sees
// plain reads of existing tensors and a new tensor it does not own, the
// same as for a call of any function.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cpu/Passes.h"

#include "tfc/Target/Cpu/KernelTable.h"

namespace mlir::tfc::cpu {
#define GEN_PASS_DEF_CPULOWERKERNELS
#include "tfc/Target/Cpu/Passes.h.inc"
} // namespace mlir::tfc::cpu

using namespace mlir;
using namespace mlir::tfc::cpu;

namespace {

/// A memref type of `rank` with dynamic sizes, strides and offset: how a
/// kernel takes every tensor (its descriptor says the rest).
MemRefType getKernelMemRefType(MLIRContext *context, int64_t rank,
                               Type element) {
  SmallVector<int64_t> shape(rank, ShapedType::kDynamic);
  auto layout = StridedLayoutAttr::get(
      context, ShapedType::kDynamic,
      SmallVector<int64_t>(rank, ShapedType::kDynamic));
  return MemRefType::get(shape, element, layout);
}

/// A read-only view of `tensor` in place, in the kernels' memref type.
Value getReadOnlyView(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  MemRefType kernelType = getKernelMemRefType(b.getContext(), type.getRank(),
                                              type.getElementType());
  auto viewType = MemRefType::get(type.getShape(), type.getElementType(),
                                  kernelType.getLayout());
  Value view = b.create<bufferization::ToMemrefOp>(loc, viewType, tensor,
                                                   /*read_only=*/true);
  return b.create<memref::CastOp>(loc, kernelType, view);
}

void lowerKernel(UKernelOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  const KernelSignature *kernel = lookupKernel(op.getKernel());
  auto resultType = cast<RankedTensorType>(op.getType());
  auto bufferType =
      MemRefType::get(resultType.getShape(), resultType.getElementType());
  Value result = b.create<memref::AllocOp>(loc, bufferType, op.getDynamicDims(),
                                           b.getI64IntegerAttr(64));
  // The arguments in the kernel's order, the output where it declares it
  // (the verifier has matched the operands to the declaration).
  SmallVector<Value> args;
  auto operand = op.getArgs().begin();
  for (auto [i, arg] : llvm::enumerate(kernel->args.drop_back())) {
    if (llvm::is_contained(op.getAbsent(), (int64_t)i))
      continue;
    if (arg.kind == KernelArg::Output) {
      args.push_back(b.create<memref::CastOp>(
          loc,
          getKernelMemRefType(b.getContext(), arg.rank,
                              resultType.getElementType()),
          result));
      continue;
    }
    Value value = *operand++;
    args.push_back(arg.isTensor() ? getReadOnlyView(b, loc, value) : value);
  }
  b.create<UKernelCallOp>(loc, op.getKernel(), args, op.getAbsent(),
                          op.getDtypes(), op.getIsa(), op.getFlags());
  Value tensor = b.create<bufferization::ToTensorOp>(
      loc, resultType, result, /*restrict=*/true, /*writable=*/true);
  op.getResult().replaceAllUsesWith(tensor);
  op.erase();
}

struct CpuLowerKernelsPass
    : public tfc::cpu::impl::CpuLowerKernelsBase<CpuLowerKernelsPass> {
  void runOnOperation() override {
    SmallVector<UKernelOp> kernels;
    getOperation().walk([&](UKernelOp op) { kernels.push_back(op); });
    for (UKernelOp op : kernels)
      lowerKernel(op);
  }
};

} // namespace
