//===- InsertProfileMarkers.cpp - the tfm-insert-profile-markers pass -----===//
//
// `tfc run --profile` answers "where does the time go" per graph op: after
// the graph passes, every op that will become a kernel or a loop nest is
// bracketed by two runtime calls that name it. The name (the site) is a
// constant string, so the runtime keys its sums by the string's address and
// needs no table from the compiler; the string says what the op is and
// which ONNX nodes it came from, which is what a user looks for.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "tfm/TfmOps.h"

#include "llvm/ADT/StringMap.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_INSERTPROFILEMARKERS
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;

namespace {

/// "linear  /encoder/layer.0/attention/output/dense/MatMul (+2 fused)": the
/// op without its dialect prefix, then its first node.
std::string describeSite(Operation *op) {
  std::string site = op->getName().stripDialect().str();
  SmallVector<std::string> names = tfm::getNodeNames(op->getLoc());
  if (names.empty()) {
    std::string text;
    llvm::raw_string_ostream os(text);
    op->getLoc().print(os);
    return site + "  " + text;
  }
  site += "  " + names.front();
  if (names.size() > 1)
    site += " (+" + std::to_string(names.size() - 1) + " fused)";
  return site;
}

/// Ops that take no time of their own worth a line: constants, and the
/// function's terminator.
bool isTimed(Operation *op) {
  return isa<tfm::TfmDialect>(op->getDialect()) && !isa<tfm::ConstantOp>(op);
}

struct InsertProfileMarkers
    : tfc::impl::InsertProfileMarkersBase<InsertProfileMarkers> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    OpBuilder b(context);
    Type ptrType = LLVM::LLVMPointerType::get(context);
    auto markerType = b.getFunctionType({ptrType}, {});

    // The runtime's entry points, declared once (the kernel naming makes
    // the translation call tfc_rt_profile_enter and tfc_rt_profile_exit).
    auto declare = [&](StringRef name) {
      if (auto existing = module.lookupSymbol<func::FuncOp>(name))
        return existing;
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(module.getBody());
      auto marker = b.create<func::FuncOp>(module.getLoc(), name, markerType);
      marker.setPrivate();
      marker->setAttr("llvm.emit_c_interface", b.getUnitAttr());
      return marker;
    };

    llvm::StringMap<LLVM::GlobalOp> sites;
    auto siteGlobal = [&](const std::string &site) {
      auto &global = sites[site];
      if (global)
        return global;
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(module.getBody());
      std::string text = site;
      text.push_back('\0');
      auto type = LLVM::LLVMArrayType::get(b.getI8Type(), text.size());
      global = b.create<LLVM::GlobalOp>(
          module.getLoc(), type, /*isConstant=*/true, LLVM::Linkage::Internal,
          "tfc_profile_site_" + std::to_string(sites.size() - 1),
          b.getStringAttr(text));
      return global;
    };

    SmallVector<Operation *> timed;
    for (auto graph : module.getOps<func::FuncOp>())
      graph.walk([&](Operation *op) {
        if (isTimed(op))
          timed.push_back(op);
      });
    if (timed.empty())
      return;
    func::FuncOp enter = declare("tfc_kernel_profile_enter");
    func::FuncOp exit = declare("tfc_kernel_profile_exit");
    for (Operation *op : timed) {
      LLVM::GlobalOp global = siteGlobal(describeSite(op));
      Location loc = op->getLoc();
      b.setInsertionPoint(op);
      Value site = b.create<LLVM::AddressOfOp>(loc, global);
      b.create<func::CallOp>(loc, enter, ValueRange{site});
      b.setInsertionPointAfter(op);
      b.create<func::CallOp>(loc, exit, ValueRange{site});
      ++numSites;
    }
  }
};

} // namespace
