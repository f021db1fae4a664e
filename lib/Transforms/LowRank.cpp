//===- LowRank.cpp - the tfm-low-rank pass --------------------------------===//
//
// Greenformers-style low-rank factorization: a linear whose weight is
// nearly of low rank becomes two thinner linears, where that cuts the
// multiply-adds at least in half. The SVD is LowRankUtils.cpp's.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Passes.h"

#include "FusionUtils.h"
#include "tfc/Transforms/LowRank.h"
#include "tfc/Transforms/Quantization.h"
#include "tfc/Transforms/Sparsity.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "tfm/TfmOps.h"
#include "llvm/Support/FormatVariadic.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_LOWRANK
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

struct LowRankPass : public tfc::impl::LowRankBase<LowRankPass> {
  using LowRankBase::LowRankBase;

  void runOnOperation() override {
    if (!(energy > 0.0 && energy <= 1.0)) {
      getOperation().emitError()
          << "tfm-low-rank: the energy must be above 0 and at most 1";
      return signalPassFailure();
    }
    for (Operation *op : getLinears(getOperation()))
      factor(op);
  }

  void remark(Operation *op, const Twine &text) {
    if (emitRemarks)
      op->emitRemark(text);
  }

  void factor(Operation *op) {
    std::string name = getLayerName(op);
    if (std::string reason = whyNotPrunable(op); !reason.empty()) {
      remark(op, "kept whole: " + name + ": " + reason);
      return;
    }
    LinearParts parts = *getLinearParts(op);
    auto type = cast<RankedTensorType>(parts.weight.getType());
    int64_t depth = type.getDimSize(0), cols = type.getDimSize(1);
    std::optional<SmallVector<float>> values = getConstantFloats(parts.weight);
    if (!values)
      return;
    int64_t rank;
    if (auto given = op->getAttrOfType<IntegerAttr>(kLowRankAttr)) {
      rank = given.getInt();
      if (rank <= 0) {
        remark(op, "kept whole: " + name + ": kept by the error budget");
        return;
      }
    } else {
      rank = rankForEnergy(singularValues(*values, depth, cols), energy);
    }
    if (!isLowRankFaster(depth, cols, rank)) {
      remark(op, "kept whole: " + name + ": rank " + Twine(rank) + " of " +
                     Twine(depth) + "x" + Twine(cols) +
                     " would not halve the multiply-adds");
      return;
    }
    LowRankFactors factors = factorLowRank(*values, depth, cols, rank);
    std::string blob = "low_rank";
    Attribute attr;
    if (matchPattern(parts.weight, m_Constant(&attr)))
      if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
        blob = resource.getRawHandle().getKey().str();
    OpBuilder b(op);
    Location loc = op->getLoc();
    auto bytes = [](const std::vector<float> &v) {
      return ArrayRef<char>(reinterpret_cast<const char *>(v.data()),
                            v.size() * sizeof(float));
    };
    Value a = createWeightConstant(
        b, parts.weight.getLoc(),
        RankedTensorType::get({depth, rank}, b.getF32Type()), bytes(factors.a),
        blob + ".low_rank_a");
    Value bWeight = createWeightConstant(
        b, parts.weight.getLoc(),
        RankedTensorType::get({rank, cols}, b.getF32Type()), bytes(factors.b),
        blob + ".low_rank_b");
    auto thin = b.create<tfm::LinearOp>(
        loc, withLastDim(parts.input.getType(), rank), parts.input, a, Value(),
        Value(), b.getStringAttr("none"));
    auto wide = b.create<tfm::LinearOp>(
        loc, op->getResult(0).getType(), thin.getResult(), bWeight, parts.bias,
        parts.residual, b.getStringAttr(parts.activation));
    op->getResult(0).replaceAllUsesWith(wide.getResult());
    Value old = parts.weight;
    op->erase();
    if (old.use_empty())
      old.getDefiningOp()->erase();
    ++numFactored;
    double kept = 0, total = 0;
    for (auto [i, s] : llvm::enumerate(factors.singularValues)) {
      total += s * s;
      if (static_cast<int64_t>(i) < rank)
        kept += s * s;
    }
    remark(wide, "factored: " + name + ": " + Twine(depth) + "x" + Twine(cols) +
                     " as rank " + Twine(rank) + " (" +
                     llvm::formatv("{0:f1}", total > 0 ? 100 * kept / total : 100.0)
                         .str() +
                     "% of the energy), " +
                     llvm::formatv("{0:f2}", double(rank) * (depth + cols) /
                                                 (double(depth) * cols))
                         .str() +
                     "x the multiply-adds");
  }
};

} // namespace
