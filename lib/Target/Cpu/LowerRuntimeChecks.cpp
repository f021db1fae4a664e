//===- LowerRuntimeChecks.cpp - the tfc-cpu-lower-runtime-checks pass -----===//

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "tfc/Target/Cpu/Passes.h"

namespace mlir::tfc::cpu {
#define GEN_PASS_DEF_CPULOWERRUNTIMECHECKS
#include "tfc/Target/Cpu/Passes.h.inc"
} // namespace mlir::tfc::cpu

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kCheckFailed = "tfc_rt_check_failed";
constexpr llvm::StringLiteral kCheckFailedValues = "tfc_rt_check_failed_values";

/// The two sides of a check that compares two integers (most checks: dims
/// that must agree, a size large enough), to print with its message; null
/// when the check is something else, or `!=` (against 0, where the value
/// says nothing the message does not).
std::pair<Value, Value> comparedValues(cf::AssertOp op) {
  auto cmp = op.getArg().getDefiningOp<arith::CmpIOp>();
  if (!cmp || cmp.getPredicate() == arith::CmpIPredicate::ne)
    return {};
  Type type = cmp.getLhs().getType();
  if (!type.isIndex() && !(type.isSignlessInteger() &&
                           type.getIntOrFloatBitWidth() <= 64))
    return {};
  return {cmp.getLhs(), cmp.getRhs()};
}

Value toI64(OpBuilder &b, Location loc, Value value) {
  Type i64 = b.getI64Type();
  if (value.getType().isIndex())
    return b.create<arith::IndexCastOp>(loc, i64, value);
  if (value.getType().getIntOrFloatBitWidth() < 64)
    return b.create<arith::ExtSIOp>(loc, i64, value);
  return value;
}

struct LowerRuntimeChecksPass
    : public tfc::cpu::impl::CpuLowerRuntimeChecksBase<LowerRuntimeChecksPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<cf::AssertOp> asserts;
    module.walk([&](cf::AssertOp op) { asserts.push_back(op); });
    if (asserts.empty())
      return;

    MLIRContext *context = &getContext();
    auto ptrType = LLVM::LLVMPointerType::get(context);
    OpBuilder builder(context);
    builder.setInsertionPointToEnd(module.getBody());
    LLVM::LLVMFuncOp handler = LLVM::lookupOrCreateFn(
        module, kCheckFailed, {ptrType}, LLVM::LLVMVoidType::get(context));
    auto i64Type = IntegerType::get(context, 64);
    LLVM::LLVMFuncOp valuesHandler = LLVM::lookupOrCreateFn(
        module, kCheckFailedValues, {ptrType, i64Type, i64Type},
        LLVM::LLVMVoidType::get(context));

    // One string per distinct message.
    llvm::StringMap<std::string> globalNames;
    for (cf::AssertOp op : asserts) {
      Block *before = op->getBlock();
      if (!isa<FunctionOpInterface>(before->getParentOp())) {
        op.emitOpError("must be in a function body in CFG form; run "
                       "convert-scf-to-cf first");
        return signalPassFailure();
      }
      Location loc = op.getLoc();
      auto [lhs, rhs] = comparedValues(op);
      Block *after = before->splitBlock(op->getIterator());
      Block *failed = builder.createBlock(after);

      builder.setInsertionPointToEnd(before);
      builder.create<cf::CondBranchOp>(loc, op.getArg(), after, failed);

      builder.setInsertionPointToEnd(failed);
      std::string &name = globalNames[op.getMsg()];
      Value message;
      if (name.empty()) {
        name = "tfc_check_message_" + std::to_string(globalNames.size() - 1);
        // The handler reads a C string.
        std::string text = op.getMsg().str();
        text.push_back('\0');
        message = LLVM::createGlobalString(loc, builder, name, text,
                                           LLVM::Linkage::Private);
      } else {
        message = builder.create<LLVM::AddressOfOp>(loc, ptrType, name);
      }
      if (lhs)
        builder.create<LLVM::CallOp>(
            loc, valuesHandler,
            ValueRange{message, toI64(builder, loc, lhs), toI64(builder, loc, rhs)});
      else
        builder.create<LLVM::CallOp>(loc, handler, ValueRange{message});
      builder.create<LLVM::UnreachableOp>(loc);
      op.erase();
    }
  }
};

} // namespace
