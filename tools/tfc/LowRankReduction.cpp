//===- LowRankReduction.cpp - tfc compile --low-rank ----------------------===//
//
// Low-rank factorization with its report: each linear's singular values
// give the rank that holds --low-rank's energy; the layers where two
// products of that rank halve the multiply-adds are factored (the
// tfm-low-rank pass, told each rank). With calibration data each layer's
// error is measured on its captured inputs, and under --max-error a layer
// over the budget takes a larger rank (up to the largest that still halves
// its multiply-adds) or stays whole; the factored model then runs against
// the whole one.
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

namespace {

/// One linear of the model: what its SVD offers and what was chosen.
struct FactoredLayer {
  std::string name, note;
  int64_t depth = 0, cols = 0;
  int64_t rank = 0;   // the rank chosen, or the energy's where kept whole
  double energy = 1;  // of the squared singular values at `rank`
  bool factored = false;
  std::optional<double> error; // measured at `rank` (calibration data)
  std::vector<double> singular;
  // Measuring: the candidate ranks' meter and the tap of its input.
  std::optional<LowRankErrorMeter> meter;
  int64_t tap = -1;
};

/// The share of squared singular values the first `rank` hold.
double energyAt(ArrayRef<double> singular, int64_t rank) {
  double kept = 0, total = 0;
  for (size_t i = 0; i < singular.size(); ++i) {
    total += singular[i] * singular[i];
    if (static_cast<int64_t>(i) < rank)
      kept += singular[i] * singular[i];
  }
  return total > 0 ? kept / total : 1.0;
}

/// The ranks a layer may take under a budget: the energy's rank, then
/// larger ones up to the largest that still halves the multiply-adds
/// (half way and all the way), the smallest within the budget chosen.
std::vector<int64_t> candidateRanks(int64_t energyRank, int64_t maxRank,
                                    bool budget) {
  if (energyRank > maxRank)
    return {};
  std::vector<int64_t> ranks = {energyRank};
  if (budget)
    for (int64_t rank : {energyRank + (maxRank - energyRank) / 2, maxRank})
      if (rank > ranks.back())
        ranks.push_back(rank);
  return ranks;
}

} // namespace

LogicalResult
mlir::tfc::driver::lowRankModel(ModuleOp module, Target &target,
                                const LowRankReductionOptions &options) {
  func::FuncOp graph = graphOf(module);
  FailureOr<ModelSignature> signature = getModelSignature(graph);
  if (failed(signature))
    return failure();
  const bool budget = options.maxError.has_value();
  std::vector<FactoredLayer> layers;
  MLIRContext *context = module->getContext();
  for (Operation *op : getLinears(graph)) {
    FactoredLayer layer;
    layer.name = getLayerName(op);
    auto type = cast<RankedTensorType>(getLinearParts(op)->weight.getType());
    layer.depth = type.getDimSize(0);
    layer.cols = type.getDimSize(1);
    layer.note = whyNotPrunable(op);
    std::optional<std::vector<double>> values;
    if (layer.note.empty())
      values = getSingularValues(getLinearParts(op)->weight);
    if (values) {
      layer.singular = std::move(*values);
      layer.rank = rankForEnergy(layer.singular, options.energy);
      layer.factored = isLowRankFaster(layer.depth, layer.cols, layer.rank);
      if (!layer.factored)
        layer.note = "kept whole: rank " + std::to_string(layer.rank) +
                     " would not halve the multiply-adds";
    }
    layers.push_back(std::move(layer));
  }

  // With calibration data: the whole model's outputs, and each layer's
  // input into its meter (the error of each candidate rank).
  std::vector<std::vector<HostTensor>> referenceOutputs;
  std::vector<OutputError> outputErrors = makeOutputErrors(*signature);
  CalibrationData calibration;
  if (failed(calibration.open(options.calibrationData, *signature)))
    return failure();
  if (!calibration.empty()) {
    OwningOpRef<ModuleOp> tapped = module.clone();
    func::FuncOp tappedGraph = graphOf(*tapped);
    SmallVector<Value> taps;
    for (auto [layer, op] : llvm::zip(layers, getLinears(tappedGraph))) {
      if (!layer.factored)
        continue;
      layer.meter = LowRankErrorMeter::create(
          op, candidateRanks(layer.rank,
                             getMaxFasterRank(layer.depth, layer.cols), budget));
      if (!layer.meter)
        continue;
      layer.tap = tapIndex(taps, getLinearParts(op)->input);
    }
    addTaps(tappedGraph, taps);
    const size_t numOutputs = signature->outputs.size();
    if (failed(calibration.run(
            *tapped, target, "whole", options.threads,
            [&](size_t, std::vector<HostTensor> &outputs) {
              for (FactoredLayer &layer : layers) {
                if (layer.tap < 0)
                  continue;
                const HostTensor &input = outputs[numOutputs + layer.tap];
                int64_t rows = input.numElements() / layer.depth;
                const float *data =
                    reinterpret_cast<const float *>(input.bytes.data());
                int64_t step = std::max<int64_t>(1, rows / kMaxRowsPerSet);
                for (int64_t r = 0; r < rows; r += step)
                  layer.meter->addRows(data + r * layer.depth, 1);
              }
              outputs.resize(numOutputs);
              referenceOutputs.push_back(std::move(outputs));
            })))
      return failure();
    // Each layer's rank: the energy's, or under --max-error the smallest
    // candidate within it (none: kept whole).
    for (FactoredLayer &layer : layers) {
      if (!layer.meter)
        continue;
      ArrayRef<int64_t> ranks = layer.meter->getRanks();
      size_t chosen = 0;
      if (budget) {
        while (chosen < ranks.size() &&
               layer.meter->relativeError(chosen) > *options.maxError)
          ++chosen;
        if (chosen == ranks.size()) {
          layer.factored = false;
          layer.note = llvm::formatv("kept whole: error {0:e2} at rank {1} "
                                     "(the most that halves the multiply-adds) "
                                     "is over the budget",
                                     layer.meter->relativeError(ranks.size() - 1),
                                     ranks.back())
                           .str();
          layer.error = 0.0;
          continue;
        }
        if (chosen > 0)
          layer.note = llvm::formatv("budget: error {0:e2} at rank {1}",
                                     layer.meter->relativeError(0), ranks[0])
                           .str();
      }
      layer.rank = ranks[chosen];
      layer.error = layer.meter->relativeError(chosen);
    }
  }
  for (auto [layer, op] : llvm::zip(layers, getLinears(graph))) {
    if (layer.factored)
      layer.energy = energyAt(layer.singular, layer.rank);
    op->setAttr(kLowRankAttr,
                IntegerAttr::get(IntegerType::get(context, 64),
                                 layer.factored ? layer.rank : 0));
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
    if (failed(calibration.compare(*factored, target, "factored",
                                   options.threads, referenceOutputs,
                                   outputErrors)))
      return failure();
  }
  if (!options.printReport)
    return success();

  llvm::raw_ostream &os = llvm::outs();
  os << "reduction report for " << options.modelName
     << ": --low-rank=" << llvm::format("%g", options.energy)
     << " (each linear's SVD truncated to that share of its squared singular "
        "values, where two products halve the multiply-adds)";
  if (budget)
    os << ", --max-error=" << llvm::format("%g", *options.maxError);
  os << "\n";
  if (calibration.empty())
    os << "  (no --calibration-data: errors not measured)\n";
  size_t width = 5;
  for (const FactoredLayer &layer : layers)
    width = std::max(width, layer.name.size());
  os << llvm::formatv("  {0} {1,11} {2,6} {3,7} {4,9} {5,-9} {6}\n",
                      llvm::fmt_align("layer", llvm::AlignStyle::Left, width),
                      "K x N", "rank", "energy", "MACs", "error", "note");
  double before = 0, after = 0;
  for (const FactoredLayer &layer : layers) {
    double whole = double(layer.depth) * layer.cols;
    double now = layer.factored
                     ? double(layer.rank) * (layer.depth + layer.cols)
                     : whole;
    before += whole;
    after += now;
    os << llvm::formatv(
        "  {0} {1,11} {2,6} {3,7} {4,9} {5,-9} {6}\n",
        llvm::fmt_align(layer.name, llvm::AlignStyle::Left, width),
        std::to_string(layer.depth) + "x" + std::to_string(layer.cols),
        layer.factored ? std::to_string(layer.rank) : std::string("-"),
        layer.factored ? llvm::formatv("{0:f1}%", 100 * layer.energy).str()
                       : std::string("-"),
        llvm::formatv("{0:f2}x", now / whole).str(),
        layer.factored && layer.error
            ? llvm::formatv("{0:e2}", *layer.error).str()
            : std::string("-"),
        layer.note);
  }
  if (!calibration.empty()) {
    printOutputErrors(os, outputErrors, calibration.sets.size(),
                      "the whole model");
  }
  os << llvm::formatv("  linears' multiply-adds per token: {0:f2}x\n",
                      before > 0 ? after / before : 1.0);
  return success();
}
