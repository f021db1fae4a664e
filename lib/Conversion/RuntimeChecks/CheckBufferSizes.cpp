//===- CheckBufferSizes.cpp - the tfc-check-buffer-sizes pass -------------===//
//
// memref.alloc's lowering multiplies its dims into a byte size in plain
// 64-bit arithmetic. Dims chosen at run time can make that product wrap (a
// [2^32, 2^32] f32 buffer asks for 0 bytes), and the loops that fill the
// buffer then write far past it. This pass guards every allocation whose
// size depends on run-time dims with a check that the size fits in int64,
// and rejects at compile time a static size that does not.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "tfc/Conversion/Passes.h"
#include "tfm/TfmDialect.h"

#include "llvm/Support/MathExtras.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_CHECKBUFFERSIZES
#include "tfc/Conversion/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;

namespace {

/// "node '/MatMul'" from the op's location, or the op's name without one.
std::string describeSite(Operation *op) {
  std::string nodes = tfm::describeNodes(op->getLoc());
  return nodes.empty() ? op->getName().getStringRef().str() : nodes;
}

/// The bytes of one element as the LLVM lowering stores it.
int64_t elementBytes(Type type) {
  if (type.isIntOrFloat())
    return std::max<int64_t>(1, llvm::divideCeil(type.getIntOrFloatBitWidth(), 8));
  // index and anything else: at most a 64-bit word.
  return 8;
}

struct CheckBufferSizesPass
    : public tfc::impl::CheckBufferSizesBase<CheckBufferSizesPass> {
  void runOnOperation() override {
    bool failedStatic = false;
    getOperation()->walk([&](memref::AllocOp alloc) {
      if (failed(guard(alloc)))
        failedStatic = true;
    });
    if (failedStatic)
      signalPassFailure();
  }

  /// The static part of the size is known here; each run-time dim
  /// multiplies it with a check that no high bits are lost. Zero dims count
  /// as one, so that a zero cannot hide a product that overflowed before it
  /// (later code computes strides from the same dims).
  LogicalResult guard(memref::AllocOp alloc) {
    MemRefType type = alloc.getType();
    int64_t staticBytes = elementBytes(type.getElementType());
    for (int64_t dim : type.getShape()) {
      if (ShapedType::isDynamic(dim))
        continue;
      if (llvm::MulOverflow(staticBytes, std::max<int64_t>(dim, 1), staticBytes))
        return alloc.emitError()
               << describeSite(alloc) << ": a buffer of type " << type
               << " has more than 2^63 bytes";
    }
    if (alloc.getDynamicSizes().empty())
      return success();

    OpBuilder b(alloc);
    Location loc = alloc.getLoc();
    Type i64 = b.getI64Type();
    Value one = b.create<arith::ConstantIntOp>(loc, 1, i64);
    Value zero = b.create<arith::ConstantIntOp>(loc, 0, i64);
    Value bytes = b.create<arith::ConstantIntOp>(loc, staticBytes, i64);
    Value fits = b.create<arith::ConstantIntOp>(loc, 1, b.getI1Type());
    for (Value size : alloc.getDynamicSizes()) {
      Value dim = b.create<arith::IndexCastUIOp>(loc, i64, size);
      dim = b.create<arith::MaxUIOp>(loc, dim, one);
      auto product = b.create<arith::MulUIExtendedOp>(loc, bytes, dim);
      Value noCarry = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                              product.getHigh(), zero);
      fits = b.create<arith::AndIOp>(loc, fits, noCarry);
      bytes = product.getLow();
    }
    // Signed: the allocator and every offset computation take int64.
    Value inRange =
        b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, bytes, zero);
    fits = b.create<arith::AndIOp>(loc, fits, inRange);
    b.create<cf::AssertOp>(
        loc, fits,
        describeSite(alloc) +
            ": the dims chosen at run time make a buffer of more than 2^63 "
            "bytes");
    return success();
  }
};

} // namespace
