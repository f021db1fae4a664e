//===- InsertProfileMarkers.cpp - the tfm-insert-profile-markers pass -----===//
//
// `tfc run --profile` answers "where does the time go" per graph op: after
// the graph passes, every op that will become a kernel or a loop nest is
// bracketed by two markers that name it, which the target lowers to its
// runtime's timer calls. The name (the site) is a constant string, so the
// CPU runtime keys its sums by the string's address and needs no table
// from the compiler; the string says what the op is and which ONNX nodes it
// came from, which is what a user looks for.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "tfm/TfmOps.h"


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

/// Ops that take no time of their own worth a line: constants, the
/// function's terminator, and markers already there.
bool isTimed(Operation *op) {
  return isa<tfm::TfmDialect>(op->getDialect()) &&
         !isa<tfm::ConstantOp, tfm::ProfileEnterOp, tfm::ProfileExitOp>(op);
}

struct InsertProfileMarkers
    : tfc::impl::InsertProfileMarkersBase<InsertProfileMarkers> {
  void runOnOperation() override {
    SmallVector<Operation *> timed;
    for (auto graph : getOperation().getOps<func::FuncOp>())
      graph.walk([&](Operation *op) {
        if (isTimed(op))
          timed.push_back(op);
      });
    OpBuilder b(&getContext());
    for (Operation *op : timed) {
      std::string site = describeSite(op);
      b.setInsertionPoint(op);
      b.create<tfm::ProfileEnterOp>(op->getLoc(), site);
      b.setInsertionPointAfter(op);
      b.create<tfm::ProfileExitOp>(op->getLoc(), site);
      ++numSites;
    }
  }
};

} // namespace
