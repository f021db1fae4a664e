//===- LowerRuntimeChecks.cpp - the tfc-lower-runtime-checks pass ---------===//

#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "tfc/Conversion/Passes.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_LOWERRUNTIMECHECKS
#include "tfc/Conversion/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kCheckFailed = "tfc_rt_check_failed";

struct LowerRuntimeChecksPass
    : public tfc::impl::LowerRuntimeChecksBase<LowerRuntimeChecksPass> {
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
      builder.create<LLVM::CallOp>(loc, handler, ValueRange{message});
      builder.create<LLVM::UnreachableOp>(loc);
      op.erase();
    }
  }
};

} // namespace
