//===- Prune.cpp - the tfm-prune pass -------------------------------------===//
//
// Post-training block pruning: each linear by a constant f32 weight gets a
// copy of it with its least important blocks zeroed (the ranking is
// Sparsity.cpp's, shared with the driver that measures each layer's error
// before choosing its sparsity). The zeros are all this pass makes; the
// CPU target's kernel selection finds them and packs the weight for its
// block-sparse kernel, as it does for a model pruned while training.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Passes.h"

#include "FusionUtils.h"
#include "tfc/Transforms/Quantization.h"
#include "tfc/Transforms/Sparsity.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "tfm/TfmOps.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_PRUNE
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

struct PrunePass : public tfc::impl::PruneBase<PrunePass> {
  using PruneBase::PruneBase;

  void runOnOperation() override {
    // The score and block as --prune spells them; the sparsity may be 0
    // here (every layer's own from the driver).
    std::string error;
    std::optional<PruneSpec> spec =
        parsePruneSpec(score + ":0.5:" + block, error);
    if (spec && !(sparsity >= 0.0 && sparsity < 1.0))
      error = "the sparsity is not a fraction of blocks, 0 or more and below 1";
    if (!spec || !error.empty()) {
      getOperation().emitError() << "tfm-prune: " << error;
      return signalPassFailure();
    }
    spec->sparsity = sparsity;
    llvm::StringSet<> kept;
    for (const std::string &name : keep)
      kept.insert(name);
    for (Operation *op : getLinears(getOperation())) {
      std::string name = getLayerName(op);
      if (kept.contains(name)) {
        remark(op, "kept dense: " + name + ": kept by the error budget");
        continue;
      }
      if (std::string reason = whyNotPrunable(op); !reason.empty()) {
        remark(op, "kept dense: " + name + ": " + reason);
        continue;
      }
      double layerSparsity = spec->sparsity;
      if (auto own = op->getAttrOfType<FloatAttr>(kPruneSparsityAttr))
        layerSparsity = own.getValueAsDouble();
      if (!(layerSparsity > 0.0)) {
        remark(op, "kept dense: " + name + ": kept by the error budget");
        continue;
      }
      ArrayRef<float> norms;
      auto normsAttr = op->getAttrOfType<DenseF32ArrayAttr>(kInputNormsAttr);
      if (spec->score == PruneScore::Wanda) {
        auto type = cast<RankedTensorType>(getLinearParts(op)->weight.getType());
        if (!normsAttr || normsAttr.size() != type.getDimSize(0)) {
          remark(op, "kept dense: " + name +
                         ": no calibrated input norms (wanda needs calibration data)");
          continue;
        }
        norms = normsAttr.asArrayRef();
      }
      prune(op, name, *spec, layerSparsity, norms);
    }
    // The driver's attributes have served.
    getOperation().walk([](Operation *op) {
      op->removeAttr(kInputNormsAttr);
      op->removeAttr(kPruneSparsityAttr);
    });
  }

  void remark(Operation *op, const Twine &text) {
    if (emitRemarks)
      op->emitRemark(text);
  }

  /// Gives `op` its weight with `layerSparsity` of its blocks zeroed.
  void prune(Operation *op, StringRef name, const PruneSpec &spec,
             double layerSparsity, ArrayRef<float> norms) {
    Value weight = getLinearParts(op)->weight;
    auto type = cast<RankedTensorType>(weight.getType());
    int64_t depth = type.getDimSize(0), cols = type.getDimSize(1);
    std::optional<SmallVector<float>> values = getConstantFloats(weight);
    if (!values)
      return; // whyNotPrunable read the same constant
    std::vector<int64_t> order =
        rankBlocksForPruning(*values, depth, cols, spec.block, norms);
    int64_t count = countPrunedBlocks(depth, cols, spec.block, layerSparsity);
    zeroBlocks(*values, depth, cols, spec.block, order, count);

    std::string blob = "pruned_weight";
    Attribute attr;
    if (matchPattern(weight, m_Constant(&attr)))
      if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
        blob = resource.getRawHandle().getKey().str() + ".pruned";
    OpBuilder b(op);
    Value pruned = createWeightConstant(
        b, weight.getLoc(), type,
        ArrayRef<char>(reinterpret_cast<const char *>(values->data()),
                       values->size() * sizeof(float)),
        blob);
    if (auto linear = dyn_cast<tfm::LinearOp>(op))
      linear.getWeightMutable().assign(pruned);
    else
      cast<tfm::MatMulOp>(op).getRhsMutable().assign(pruned);
    if (weight.use_empty())
      weight.getDefiningOp()->erase();
    ++numPruned;
    remark(op, "pruned: " + name + ": " + Twine(count) + " of its " +
                   formatBlockShape(spec.block) + " blocks zeroed (" +
                   llvm::formatv("{0:f1}", 100.0 * layerSparsity).str() + "%, " +
                   getPruneScoreName(spec.score) + "), weight " + Twine(depth) +
                   "x" + Twine(cols));
  }
};

} // namespace
