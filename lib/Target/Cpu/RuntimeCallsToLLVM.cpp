//===- RuntimeCallsToLLVM.cpp - the tfc-cpu-runtime-calls-to-llvm pass ----===//
//
// The calls of the CPU runtime that the model makes besides allocation,
// as LLVM calls of the runtime's own symbols (nothing is renamed later).
//
// A kernel call on buffers becomes the C call the runtime declares (from the
// same list, tfc_kernels.def): `tfc_rt_<kernel>(args...)`, a buffer passed
// as a pointer to its memref descriptor on the stack (the runtime's
// tfc_rt_memrefN has the descriptor's layout), an absent optional tensor as
// NULL, scalars as they are, and the flags word last.
//
// Profile markers (tfm.profile_enter/exit) become tfc_rt_profile_enter and
// tfc_rt_profile_exit with the address of the site's string, one constant
// per site: the runtime keys its sums by that address.
//
// Runs before the memref lowering: the buffers' descriptors come from the
// LLVM type converter's materializations, which that lowering resolves.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cpu/Passes.h"

#include "mlir/Conversion/LLVMCommon/ConversionTarget.h"
#include "mlir/Conversion/LLVMCommon/Pattern.h"
#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "tfc/Target/Cpu/KernelTable.h"
#include "tfm/TfmOps.h"

#include "llvm/ADT/StringMap.h"

namespace mlir::tfc::cpu {
#define GEN_PASS_DEF_CPURUNTIMECALLSTOLLVM
#include "tfc/Target/Cpu/Passes.h.inc"
} // namespace mlir::tfc::cpu

using namespace mlir;
using namespace mlir::tfc::cpu;

namespace {

/// Declares `tfc_rt_<kernel>` in `module` once: a pointer per tensor, i64
/// and f32 scalars, no result.
LLVM::LLVMFuncOp declareKernel(ModuleOp module, const KernelSignature &kernel) {
  MLIRContext *context = module.getContext();
  SmallVector<Type> params;
  for (const KernelArg &arg : kernel.args) {
    if (arg.isTensor())
      params.push_back(LLVM::LLVMPointerType::get(context));
    else if (arg.kind == KernelArg::F32)
      params.push_back(Float32Type::get(context));
    else
      params.push_back(IntegerType::get(context, 64));
  }
  return LLVM::lookupOrCreateFn(module, kernel.symbol(), params,
                                LLVM::LLVMVoidType::get(context));
}

struct UKernelCallLowering : ConvertOpToLLVMPattern<UKernelCallOp> {
  using ConvertOpToLLVMPattern::ConvertOpToLLVMPattern;

  LogicalResult
  matchAndRewrite(UKernelCallOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    const KernelSignature *kernel = lookupKernel(op.getKernel());
    std::optional<int64_t> flags =
        encodeFlags(op.getFlags(), op.getDtypes(), op.getIsa());
    if (!kernel || !flags)
      return rewriter.notifyMatchFailure(op, "the verifier refuses this call");
    auto module = op->getParentOfType<ModuleOp>();
    LLVM::LLVMFuncOp function = declareKernel(module, *kernel);
    auto pointer = LLVM::LLVMPointerType::get(rewriter.getContext());
    Value one = rewriter.create<LLVM::ConstantOp>(loc, rewriter.getI64Type(), 1);

    SmallVector<Value> args;
    auto operand = adaptor.getArgs().begin();
    for (auto [i, arg] : llvm::enumerate(kernel->args.drop_back())) {
      if (llvm::is_contained(op.getAbsent(), (int64_t)i)) {
        args.push_back(rewriter.create<LLVM::ZeroOp>(loc, pointer));
        continue;
      }
      Value value = *operand++;
      if (!arg.isTensor()) {
        args.push_back(value);
        continue;
      }
      // The descriptor (a struct of pointers, offset, sizes, strides), on
      // the stack for the call.
      Value slot =
          rewriter.create<LLVM::AllocaOp>(loc, pointer, value.getType(), one);
      rewriter.create<LLVM::StoreOp>(loc, value, slot);
      args.push_back(slot);
    }
    args.push_back(rewriter.create<LLVM::ConstantOp>(
        loc, rewriter.getI64Type(), *flags));
    rewriter.create<LLVM::CallOp>(loc, function, args);
    rewriter.eraseOp(op);
    return success();
  }
};

/// The profile markers: calls of tfc_rt_profile_enter/exit with the site's
/// string, one global per site.
template <typename MarkerOp>
struct ProfileMarkerLowering : OpConversionPattern<MarkerOp> {
  ProfileMarkerLowering(MLIRContext *context, StringRef function,
                        llvm::StringMap<LLVM::GlobalOp> &sites)
      : OpConversionPattern<MarkerOp>(context), function(function),
        sites(sites) {}

  LogicalResult
  matchAndRewrite(MarkerOp op, typename MarkerOp::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto module = op->template getParentOfType<ModuleOp>();
    MLIRContext *context = rewriter.getContext();
    LLVM::LLVMFuncOp callee = LLVM::lookupOrCreateFn(
        module, function, {LLVM::LLVMPointerType::get(context)},
        LLVM::LLVMVoidType::get(context));
    LLVM::GlobalOp &global = sites[op.getSite()];
    if (!global) {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(module.getBody());
      std::string text = op.getSite().str();
      text.push_back('\0');
      global = rewriter.create<LLVM::GlobalOp>(
          module.getLoc(),
          LLVM::LLVMArrayType::get(rewriter.getI8Type(), text.size()),
          /*isConstant=*/true, LLVM::Linkage::Internal,
          "tfc_profile_site_" + std::to_string(sites.size() - 1),
          rewriter.getStringAttr(text));
    }
    Value site = rewriter.create<LLVM::AddressOfOp>(op.getLoc(), global);
    rewriter.create<LLVM::CallOp>(op.getLoc(), callee, ValueRange{site});
    rewriter.eraseOp(op);
    return success();
  }

  std::string function;
  llvm::StringMap<LLVM::GlobalOp> &sites;
};

struct CpuRuntimeCallsToLLVMPass
    : public tfc::cpu::impl::CpuRuntimeCallsToLLVMBase<CpuRuntimeCallsToLLVMPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    LLVMTypeConverter converter(context);
    llvm::StringMap<LLVM::GlobalOp> sites;
    RewritePatternSet patterns(context);
    patterns.add<UKernelCallLowering>(converter);
    patterns.add<ProfileMarkerLowering<tfm::ProfileEnterOp>>(
        context, "tfc_rt_profile_enter", sites);
    patterns.add<ProfileMarkerLowering<tfm::ProfileExitOp>>(
        context, "tfc_rt_profile_exit", sites);
    LLVMConversionTarget target(*context);
    target.addIllegalOp<UKernelCallOp, tfm::ProfileEnterOp, tfm::ProfileExitOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
