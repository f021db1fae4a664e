//===- LowRankReduction.cpp - tfc compile --low-rank ----------------------===//
//
// Low-rank factorization with its report: each linear's singular values
// give the rank that holds --low-rank's energy; the layers where two
// products of that rank halve the multiply-adds are factored (the
// tfm-low-rank pass, told each rank), and with calibration data the
// factored model runs against the whole one.
//
//===----------------------------------------------------------------------===//

#include "Pruning.h"

#include "Calibration.h"

#include "mlir/Pass/PassManager.h"
#include "tfc/Target/ModelSignature.h"
#include "tfc/Transforms/LowRank.h"
#include "tfc/Transforms/Passes.h"
#include "tfc/Transforms/Quantization.h"
#include "tfc/Transforms/Sparsity.h"
#include "llvm/Support/FormatAdapters.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::tfc;
using namespace mlir::tfc::driver;

LogicalResult
mlir::tfc::driver::lowRankModel(ModuleOp module, Target &target,
                                const LowRankReductionOptions &options) {
  func::FuncOp graph = graphOf(module);
  FailureOr<ModelSignature> signature = getModelSignature(graph);
  if (failed(signature))
    return failure();
  struct Layer {
    std::string name, note;
    int64_t depth = 0, cols = 0, rank = 0;
    double energy = 1;
    bool factored = false;
  };
  std::vector<Layer> layers;
  MLIRContext *context = module->getContext();
  for (Operation *op : getLinears(graph)) {
    Layer layer;
    layer.name = getLayerName(op);
    auto type = cast<RankedTensorType>(getLinearParts(op)->weight.getType());
    layer.depth = type.getDimSize(0);
    layer.cols = type.getDimSize(1);
    layer.note = whyNotPrunable(op);
    std::optional<std::vector<double>> values;
    if (layer.note.empty())
      values = getSingularValues(getLinearParts(op)->weight);
    if (values) {
      const std::vector<double> &singular = *values;
      layer.rank = rankForEnergy(singular, options.energy);
      double kept = 0, total = 0;
      for (size_t i = 0; i < singular.size(); ++i) {
        total += singular[i] * singular[i];
        if (static_cast<int64_t>(i) < layer.rank)
          kept += singular[i] * singular[i];
      }
      layer.energy = total > 0 ? kept / total : 1.0;
      layer.factored = isLowRankFaster(layer.depth, layer.cols, layer.rank);
      if (!layer.factored)
        layer.note = "kept whole: rank " + std::to_string(layer.rank) +
                     " would not halve the multiply-adds";
    }
    op->setAttr(kLowRankAttr,
                IntegerAttr::get(IntegerType::get(context, 64),
                                 layer.factored ? layer.rank : 0));
    layers.push_back(std::move(layer));
  }

  // With calibration data: the whole model's outputs first.
  std::vector<std::vector<HostTensor>> referenceOutputs;
  std::vector<OutputError> outputErrors = makeOutputErrors(*signature);
  CalibrationData calibration;
  if (failed(calibration.open(options.calibrationData, *signature)))
    return failure();
  if (!calibration.empty()) {
    OwningOpRef<ModuleOp> whole = module.clone();
    graphOf(*whole).walk([](Operation *op) { op->removeAttr(kLowRankAttr); });
    if (failed(calibration.run(*whole, target, "whole", options.threads,
                               [&](size_t, std::vector<HostTensor> &outputs) {
                                 referenceOutputs.push_back(std::move(outputs));
                               })))
      return failure();
  }
  PassManager pm(context);
  LowRankOptions pass;
  pass.energy = options.energy;
  pm.addNestedPass<func::FuncOp>(createLowRank(pass));
  if (failed(pm.run(module)))
    return failure();
  graph.walk([](Operation *op) { op->removeAttr(kLowRankAttr); });
  if (!calibration.empty()) {
    OwningOpRef<ModuleOp> factored = module.clone();
    if (failed(calibration.run(
            *factored, target, "factored", options.threads,
            [&](size_t setIndex, std::vector<HostTensor> &outputs) {
              compareOutputs(referenceOutputs[setIndex], outputs, outputErrors);
            })))
      return failure();
  }
  if (!options.printReport)
    return success();

  llvm::raw_ostream &os = llvm::outs();
  os << "reduction report for " << options.modelName
     << ": --low-rank=" << llvm::format("%g", options.energy)
     << " (each linear's SVD truncated to that share of its squared singular "
        "values, where two products halve the multiply-adds)\n";
  size_t width = 5;
  for (const Layer &layer : layers)
    width = std::max(width, layer.name.size());
  os << llvm::formatv("  {0} {1,11} {2,6} {3,7} {4,9}  {5}\n",
                      llvm::fmt_align("layer", llvm::AlignStyle::Left, width),
                      "K x N", "rank", "energy", "MACs", "note");
  double before = 0, after = 0;
  for (const Layer &layer : layers) {
    double whole = double(layer.depth) * layer.cols;
    double now = layer.factored
                     ? double(layer.rank) * (layer.depth + layer.cols)
                     : whole;
    before += whole;
    after += now;
    os << llvm::formatv(
        "  {0} {1,11} {2,6} {3,7} {4,9}  {5}\n",
        llvm::fmt_align(layer.name, llvm::AlignStyle::Left, width),
        std::to_string(layer.depth) + "x" + std::to_string(layer.cols),
        layer.factored ? std::to_string(layer.rank) : std::string("-"),
        layer.factored ? llvm::formatv("{0:f1}%", 100 * layer.energy).str()
                       : std::string("-"),
        llvm::formatv("{0:f2}x", now / whole).str(), layer.note);
  }
  if (!calibration.empty()) {
    printOutputErrors(os, outputErrors, calibration.sets.size(),
                      "the whole model");
  }
  os << llvm::formatv("  linears' multiply-adds per token: {0:f2}x\n",
                      before > 0 ? after / before : 1.0);
  return success();
}
