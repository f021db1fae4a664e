//===- PruneFfn.cpp - the tfm-prune-ffn pass ------------------------------===//
//
// Structured pruning of feed-forward blocks: the least important neurons
// of each FFN (a linear feeding only another linear) are removed, so the
// two matrices are physically smaller and every later pass and kernel
// simply sees a narrower FFN. The ranking helpers are Sparsity.cpp's.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Passes.h"

#include "tfc/Transforms/Quantization.h"
#include "tfc/Transforms/Sparsity.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "tfm/TfmOps.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/Support/MathExtras.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_PRUNEFFN
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

bool isConstantMatrix(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  return type && type.getRank() == 2 && type.hasStaticShape() &&
         type.getElementType().isF32() && matchPattern(value, m_Constant());
}


struct PruneFfnPass : public tfc::impl::PruneFfnBase<PruneFfnPass> {
  using PruneFfnBase::PruneFfnBase;

  void runOnOperation() override {
    if (!(fraction >= 0.0 && fraction < 1.0) || multiple < 1) {
      getOperation().emitError()
          << "tfm-prune-ffn: the fraction must be 0 or more and below 1, the "
             "multiple 1 or more";
      return signalPassFailure();
    }
    SmallVector<tfm::LinearOp> firsts;
    getOperation().walk([&](tfm::LinearOp linear) { firsts.push_back(linear); });
    for (tfm::LinearOp first : firsts)
      if (!erased.contains(first))
        prune(first);
  }

  /// Linears replaced (a pruned FFN's second is in the walk's list too).
  llvm::DenseSet<Operation *> erased;

  void prune(tfm::LinearOp up) {
    if (up.getResidual() || !isConstantMatrix(up.getWeight()) ||
        !up->hasOneUse())
      return;
    auto down = dyn_cast<tfm::LinearOp>(*up->getUsers().begin());
    if (!down || down.getInput() != up.getResult() ||
        !isConstantMatrix(down.getWeight()))
      return;
    auto upType = cast<RankedTensorType>(up.getWeight().getType());
    int64_t width = upType.getDimSize(1);
    if (cast<RankedTensorType>(down.getWeight().getType()).getDimSize(0) != width)
      return;
    if (up.getBias()) {
      auto biasType = dyn_cast<RankedTensorType>(up.getBias().getType());
      if (!biasType || biasType.getRank() != 1 || biasType.getDimSize(0) != width ||
          !matchPattern(up.getBias(), m_Constant()))
        return;
    }
    int64_t keep = width - static_cast<int64_t>(std::floor(fraction * width));
    keep = std::min(width, std::max<int64_t>(
                               multiple, llvm::alignTo(keep, multiple)));
    if (keep >= width)
      return;

    // Importance: the neuron's output (calibrated, or A's column) times
    // what B makes of it.
    std::vector<double> outputs;
    if (auto norms = down->getAttrOfType<DenseF32ArrayAttr>(kInputNormsAttr);
        norms && norms.size() == width)
      outputs.assign(norms.asArrayRef().begin(), norms.asArrayRef().end());
    else
      outputs = getConstantNorms(up.getWeight(), /*axis=*/1);
    std::vector<double> rows = getConstantNorms(down.getWeight(), /*axis=*/0);
    if (static_cast<int64_t>(outputs.size()) != width ||
        static_cast<int64_t>(rows.size()) != width)
      return;
    SmallVector<double> importance;
    for (int64_t j = 0; j < width; ++j)
      importance.push_back(outputs[j] * rows[j]);
    SmallVector<int64_t> kept = keepMostImportant(importance, keep);

    OpBuilder b(up);
    Location loc = up.getLoc();
    Value upWeight = selectConstantSlices(b, up.getWeight().getLoc(),
                                          up.getWeight(), 1, kept, ".ffn_kept");
    Value upBias = up.getBias() ? selectConstantSlices(b, up.getBias().getLoc(),
                                                       up.getBias(), 0, kept,
                                                       ".ffn_kept")
                                : Value();
    b.setInsertionPoint(down);
    Value downWeight = selectConstantSlices(b, down.getWeight().getLoc(),
                                            down.getWeight(), 0, kept, ".ffn_kept");
    if (!upWeight || (up.getBias() && !upBias) || !downWeight)
      return;
    b.setInsertionPoint(up);
    auto narrowUp = b.create<tfm::LinearOp>(
        loc, withLastDim(up.getType(), keep), up.getInput(), upWeight, upBias,
        Value(), up.getActivationAttr());
    copyDriverAttributes(up, narrowUp);
    b.setInsertionPoint(down);
    auto narrowDown = b.create<tfm::LinearOp>(
        down.getLoc(), down.getType(), narrowUp.getResult(), downWeight,
        down.getBias(), down.getResidual(), down.getActivationAttr());
    copyDriverAttributes(down, narrowDown);
    narrowDown->removeAttr(kInputNormsAttr);
    SmallVector<Value> oldWeights = {up.getWeight(), up.getBias(), down.getWeight()};
    down.getResult().replaceAllUsesWith(narrowDown.getResult());
    erased.insert(down);
    erased.insert(up);
    down.erase();
    up.erase();
    for (Value old : oldWeights)
      if (old && old.use_empty())
        old.getDefiningOp()->erase();
    ++numPruned;
    if (emitRemarks)
      narrowUp->emitRemark("pruned FFN: ")
          << getLayerName(narrowUp) << ": " << keep << " of " << width
          << " neurons kept";
  }
};

} // namespace
