//===- Pruning.cpp - tfc compile --prune, measured ------------------------===//
//
// With calibration data, pruning is measured before it is applied:
//
//   1. the unpruned graph is compiled with taps (each linear's input as an
//      extra output) and run on every calibration set: the model's outputs,
//      each layer's input channel norms (Wanda's scores) and sampled rows
//      of its input;
//   2. each layer's own error at the asked sparsity and at the fallbacks
//      below it (kPruneFallbacks) is computed from those rows
//      (PruningErrorMeter: the relative L2 distance of its output, pruned
//      against unpruned); with Wanda, whose ranking needs the norms of every
//      set, a second run feeds the meters;
//   3. each layer gets the highest sparsity within the budget (--max-error),
//      or stays dense; the tfm-prune pass zeroes the blocks;
//   4. the pruned graph is compiled and run on the same sets: the model's
//      outputs against the unpruned ones, the end-to-end cost.
//
//===----------------------------------------------------------------------===//

#include "Pruning.h"

#include "Calibration.h"

#include "mlir/Pass/PassManager.h"
#include "tfc/Target/ModelSignature.h"
#include "tfc/Transforms/Passes.h"
#include "tfc/Transforms/Quantization.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatAdapters.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace mlir::tfc;
using namespace mlir::tfc::driver;

namespace {

/// One linear of the graph and what pruning did with it.
struct PrunedLayer {
  std::string name;
  int64_t depth = 0, cols = 0;
  std::string unprunable; // why it cannot be pruned at all, or ""
  std::string budgetNote; // how the budget chose its sparsity
  const std::string &note() const {
    return unprunable.empty() ? budgetNote : unprunable;
  }
  double sparsity = 0;         // the fraction of its blocks zeroed
  int chosen = -1;             // the meter's candidate it got, -1 for none
  double kernelBlockZeros = 0; // its kernel blocks zero after pruning
  std::optional<PruningErrorMeter> meter;
  int tap = -1;
  std::vector<double> channelSquares; // per input channel, over every row
  int64_t rows = 0;
};

/// The blocks the sparse kernel that will run the layers skips: 1x16 (f32)
/// or 4x16 (int8).
BlockShape kernelBlockShape(const PruningOptions &options) {
  return options.int8 ? BlockShape{4, 16} : BlockShape{1, 16};
}

std::string percent(double fraction) {
  return llvm::formatv("{0:f1}%", 100.0 * fraction).str();
}

std::string formatError(std::optional<double> error) {
  return error ? llvm::formatv("{0:e2}", *error).str() : std::string("-");
}

/// What the run measured of a layer at the sparsity it got.
std::optional<double> chosenError(const PrunedLayer &layer, bool measured) {
  if (!measured || !layer.meter || layer.chosen < 0)
    return std::nullopt;
  return layer.meter->relativeError(layer.chosen);
}

struct Totals {
  int64_t weightBytes = 0;
  double blocks = 0, zeroBlocks = 0; // 1x16 blocks over every linear
  int sparseLayers = 0;              // at or above the kernel's threshold
};

void printReport(llvm::raw_ostream &os, const PruningOptions &options,
                 ArrayRef<PrunedLayer> layers, ArrayRef<OutputError> outputs,
                 size_t numSets, const Totals &totals, StringRef searchNote) {
  os << "reduction report for " << options.modelName
     << ": --prune=" << options.specText << " (blocks of "
     << formatBlockShape(options.spec.block) << " zeroed by "
     << getPruneScoreName(options.spec.score) << ")";
  if (options.maxError)
    os << ", --max-error=" << llvm::format("%g", *options.maxError);
  else if (options.maxOutputError && numSets)
    os << ", --max-output-error="
       << llvm::format("%g", *options.maxOutputError);
  os << "\n";
  if (numSets == 0)
    os << "  (no --calibration-data: errors not measured)\n";
  if (!searchNote.empty())
    os << "  budget: " << searchNote << "\n";
  size_t width = 5;
  for (const PrunedLayer &layer : layers)
    width = std::max(width, layer.name.size());
  os << llvm::formatv("  {0} {1,11} {2,8} {3,-9} {4}\n",
                      llvm::fmt_align("layer", llvm::AlignStyle::Left, width),
                      "K x N", "pruned", "error", "note");
  for (const PrunedLayer &layer : layers)
    os << llvm::formatv(
        "  {0} {1,11} {2,8} {3,-9} {4}\n",
        llvm::fmt_align(layer.name, llvm::AlignStyle::Left, width),
        std::to_string(layer.depth) + "x" + std::to_string(layer.cols),
        layer.sparsity > 0 ? percent(layer.sparsity) : std::string("dense"),
        formatError(chosenError(layer, numSets > 0)), layer.note());
  if (numSets) {
    printOutputErrors(os, outputs, numSets, "the unpruned model");
  }
  os << llvm::formatv(
      "  linear weights: {0:f2} MB f32, {1} of their {6} blocks zero; {2} of "
      "{3} linears at or above the {7}block-sparse kernel's threshold ({4}, "
      "{5} kernels)\n",
      totals.weightBytes / 1e6,
      percent(totals.blocks > 0 ? totals.zeroBlocks / totals.blocks : 0),
      totals.sparseLayers, layers.size(), percent(options.sparseThreshold),
      options.kernelIsa, formatBlockShape(kernelBlockShape(options)),
      options.int8 ? "int8 " : "");
}

LogicalResult writeJson(StringRef path, const PruningOptions &options,
                        ArrayRef<PrunedLayer> layers,
                        ArrayRef<OutputError> outputs,
                        ArrayRef<std::string> setNames,
                        const Totals &totals,
                        std::optional<double> layerLimit) {
  std::error_code ec;
  llvm::raw_fd_ostream file(path, ec);
  if (ec) {
    llvm::errs() << "tfc: error: --reduction-report: cannot write '" << path
                 << "': " << ec.message() << "\n";
    return failure();
  }
  llvm::json::OStream json(file, 2);
  json.object([&] {
    json.attribute("model", options.modelName);
    json.attribute("reduction", "prune=" + options.specText);
    json.attribute("score", getPruneScoreName(options.spec.score));
    json.attribute("block", formatBlockShape(options.spec.block));
    json.attribute("sparsity", options.spec.sparsity);
    if (options.maxError)
      json.attribute("max_error", *options.maxError);
    else if (options.maxOutputError && !setNames.empty())
      json.attribute("max_output_error", *options.maxOutputError);
    if (layerLimit && !setNames.empty())
      json.attribute("layer_error_limit", *layerLimit);
    json.attribute("kernels", options.kernelIsa);
    json.attribute("sparse_kernel_threshold", options.sparseThreshold);
    json.attributeArray("calibration_sets", [&] {
      for (const std::string &name : setNames)
        json.value(name);
    });
    json.attributeArray("layers", [&] {
      for (const PrunedLayer &layer : layers)
        json.object([&] {
          json.attribute("name", layer.name);
          json.attribute("k", layer.depth);
          json.attribute("n", layer.cols);
          json.attribute("sparsity", layer.sparsity);
          json.attribute(options.int8 ? "block_4x16_zeros" : "block_1x16_zeros",
                         layer.kernelBlockZeros);
          if (!layer.note().empty())
            json.attribute("note", layer.note());
          if (std::optional<double> error =
                  chosenError(layer, !setNames.empty()))
            json.attribute("relative_l2_error", *error);
          if (layer.meter && !setNames.empty())
            json.attributeArray("candidates", [&] {
              for (size_t i = 0; i < layer.meter->getSparsities().size(); ++i)
                json.object([&] {
                  json.attribute("sparsity", layer.meter->getSparsities()[i]);
                  json.attribute("relative_l2_error",
                                 layer.meter->relativeError(i));
                });
            });
        });
    });
    writeOutputErrorsJson(json, outputs, !setNames.empty());
    json.attributeObject("totals", [&] {
      json.attribute("linear_weight_bytes", totals.weightBytes);
      json.attribute("block_1x16_zeros",
                     totals.blocks > 0 ? totals.zeroBlocks / totals.blocks : 0);
      json.attribute("layers_at_sparse_threshold", totals.sparseLayers);
    });
  });
  file << "\n";
  return success();
}

/// Bisection steps of the output budget's search (each compiles and runs
/// the pruned model on the calibration sets once).
constexpr int kOutputBudgetSteps = 6;

/// Gives each measurable layer the highest candidate sparsity whose error
/// is within `limit`, or the asked one without a limit.
void assignSparsities(MutableArrayRef<PrunedLayer> layers,
                      const PruneSpec &spec, std::optional<double> limit) {
  for (PrunedLayer &layer : layers) {
    if (!layer.unprunable.empty())
      continue;
    layer.budgetNote.clear();
    layer.chosen = -1;
    layer.sparsity = 0;
    if (!layer.meter) {
      // Not measured (no calibration data): as asked.
      layer.sparsity = spec.sparsity;
      continue;
    }
    ArrayRef<double> sparsities = layer.meter->getSparsities(); // ascending
    int highest = static_cast<int>(sparsities.size()) - 1;
    if (!limit) {
      layer.chosen = highest;
      layer.sparsity = spec.sparsity;
      continue;
    }
    for (int i = highest; i >= 0; --i)
      if (layer.meter->relativeError(i) <= *limit) {
        layer.chosen = i;
        layer.sparsity = sparsities[i];
        break;
      }
    if (layer.chosen < 0)
      layer.budgetNote = "dense: error " +
                         formatError(layer.meter->relativeError(0)) + " at " +
                         percent(sparsities.front());
    else if (layer.chosen < highest)
      layer.budgetNote = "budget: error " +
                         formatError(layer.meter->relativeError(highest)) +
                         " at " + percent(spec.sparsity);
  }
}

/// Prunes `module`'s linears to their layers' sparsities (tfm-prune).
LogicalResult applyPruning(ModuleOp module, ArrayRef<PrunedLayer> layers,
                           const PruneSpec &spec) {
  MLIRContext *context = module->getContext();
  for (auto [layer, op] : llvm::zip(layers, getLinears(graphOf(module))))
    op->setAttr(kPruneSparsityAttr,
                FloatAttr::get(Float64Type::get(context), layer.sparsity));
  PruneOptions prune;
  prune.score = getPruneScoreName(spec.score).str();
  prune.block = formatBlockShape(spec.block);
  prune.sparsity = 0; // every layer has its own
  PassManager pm(context);
  pm.addNestedPass<func::FuncOp>(createPrune(prune));
  return pm.run(module);
}

} // namespace

LogicalResult mlir::tfc::driver::pruneModel(ModuleOp module, Target &target,
                                            const PruningOptions &options) {
  func::FuncOp graph = graphOf(module);
  FailureOr<ModelSignature> signature = getModelSignature(graph);
  if (failed(signature))
    return failure();
  const PruneSpec &spec = options.spec;
  const bool wanda = spec.score == PruneScore::Wanda;
  std::vector<double> candidates;
  for (double fraction : kPruneFallbacks)
    candidates.push_back(spec.sparsity * fraction);

  std::vector<PrunedLayer> layers;
  SmallVector<Operation *> linears = getLinears(graph);
  for (Operation *op : linears) {
    PrunedLayer layer;
    layer.name = getLayerName(op);
    auto weightType =
        cast<RankedTensorType>(getLinearParts(op)->weight.getType());
    layer.depth = weightType.getDimSize(0);
    layer.cols = weightType.getDimSize(1);
    layer.unprunable = whyNotPrunable(op);
    layers.push_back(std::move(layer));
  }

  std::vector<std::vector<HostTensor>> referenceOutputs;
  std::vector<OutputError> outputErrors = makeOutputErrors(*signature);
  CalibrationData calibration;
  if (failed(calibration.open(options.calibrationData, *signature)))
    return failure();
  if (!calibration.empty()) {
    // 1. The unpruned graph with a tap on each prunable layer's input.
    OwningOpRef<ModuleOp> tapped = module.clone();
    func::FuncOp tappedGraph = graphOf(*tapped);
    SmallVector<Value> taps;
    for (auto [layer, op] : llvm::zip(layers, getLinears(tappedGraph))) {
      if (!layer.unprunable.empty())
        continue;
      // (Wanda's meters rank by the norms: made once every set has run.)
      if (!wanda) {
        layer.meter = PruningErrorMeter::create(op, spec.block, {}, candidates);
        if (!layer.meter) {
          layer.unprunable =
              "the error cannot be measured (a bias computed at run time)";
          continue;
        }
      }
      layer.tap = tapIndex(taps, getLinearParts(op)->input);
    }
    addTaps(tappedGraph, taps);
    size_t numOutputs = signature->outputs.size();
    auto layerInput = [&](const PrunedLayer &layer,
                          std::vector<HostTensor> &outputs, int64_t &rows) {
      const HostTensor &input = outputs[numOutputs + layer.tap];
      rows = layer.depth ? input.numElements() / layer.depth : 0;
      return reinterpret_cast<const float *>(input.bytes.data());
    };
    auto feedMeter = [&](PrunedLayer &layer, const float *data, int64_t rows) {
      if (!layer.meter)
        return;
      int64_t step = std::max<int64_t>(1, rows / kMaxRowsPerSet);
      for (int64_t r = 0; r < rows; r += step)
        layer.meter->addRows(data + r * layer.depth, 1);
    };
    auto measure = [&](size_t, std::vector<HostTensor> &outputs) {
      for (PrunedLayer &layer : layers) {
        if (layer.tap < 0)
          continue;
        int64_t rows;
        const float *data = layerInput(layer, outputs, rows);
        layer.channelSquares.resize(layer.depth, 0.0);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t k = 0; k < layer.depth; ++k) {
            double v = data[r * layer.depth + k];
            layer.channelSquares[k] += v * v;
          }
        layer.rows += rows;
        feedMeter(layer, data, rows);
      }
      outputs.resize(numOutputs);
      referenceOutputs.push_back(std::move(outputs));
    };
    OwningOpRef<ModuleOp> tappedAgain;
    if (wanda)
      tappedAgain = tapped->clone();
    if (failed(calibration.run(*tapped, target, "tapped", options.threads,
                               measure)))
      return failure();
    if (wanda) {
      // 2b. The norms known: each layer's meter ranks by them; a second run
      // feeds it.
      for (auto [layer, op] : llvm::zip(layers, linears)) {
        if (layer.tap < 0)
          continue;
        SmallVector<float> norms;
        for (double squares : layer.channelSquares)
          norms.push_back(static_cast<float>(std::sqrt(squares)));
        layer.meter =
            PruningErrorMeter::create(op, spec.block, norms, candidates);
        if (!layer.meter)
          layer.unprunable =
              "the error cannot be measured (a bias computed at run time)";
        else
          op->setAttr(kInputNormsAttr,
                      DenseF32ArrayAttr::get(module->getContext(), norms));
      }
      auto measureAgain = [&](size_t, std::vector<HostTensor> &outputs) {
        for (PrunedLayer &layer : layers) {
          if (layer.tap < 0)
            continue;
          int64_t rows;
          const float *data = layerInput(layer, outputs, rows);
          feedMeter(layer, data, rows);
        }
      };
      if (failed(calibration.run(*tappedAgain, target, "tapped_wanda",
                                 options.threads, measureAgain)))
        return failure();
    }
  }

  // 3. Each layer's sparsity: the asked one; under a layer budget, the
  // highest candidate within it; under an output budget, the layer budget
  // found by bisection that keeps the model's outputs within it.
  for (PrunedLayer &layer : layers)
    if (layer.unprunable.empty() && wanda && !layer.meter)
      layer.unprunable = "no calibrated input norms";
  // Prunes a copy of the graph with the layers' sparsities and measures its
  // outputs against the unpruned ones.
  int trials = 0;
  auto measurePruned = [&](std::vector<OutputError> &errors) -> LogicalResult {
    OwningOpRef<ModuleOp> pruned = module.clone();
    if (failed(applyPruning(*pruned, layers, spec)))
      return failure();
    errors.clear();
    for (const TensorSignature &output : signature->outputs)
      errors.push_back({output.name});
    return calibration.run(
        *pruned, target, "pruned_" + std::to_string(trials++), options.threads,
        [&](size_t setIndex, std::vector<HostTensor> &outputs) {
          compareOutputs(referenceOutputs[setIndex], outputs, errors);
        });
  };
  std::optional<double> layerLimit = options.maxError;
  std::string searchNote;
  bool outputsMeasured = false;
  if (!calibration.empty() && !layerLimit && options.maxOutputError) {
    // The error of every layer at the asked sparsity bounds the search: at
    // that limit nothing falls back.
    double high = 0;
    for (const PrunedLayer &layer : layers)
      if (layer.meter)
        high = std::max(high, layer.meter->relativeError(
                                  layer.meter->getSparsities().size() - 1));
    double low = 0, best = 0;
    std::vector<OutputError> trial, bestErrors;
    assignSparsities(layers, spec, high);
    if (failed(measurePruned(trial)))
      return failure();
    if (worstOutputError(trial) <= *options.maxOutputError) {
      best = high;
      bestErrors = trial;
    } else {
      for (int step = 0; step < kOutputBudgetSteps; ++step) {
        double middle = 0.5 * (low + high);
        assignSparsities(layers, spec, middle);
        if (failed(measurePruned(trial)))
          return failure();
        if (worstOutputError(trial) <= *options.maxOutputError) {
          low = best = middle;
          bestErrors = trial;
        } else {
          high = middle;
        }
      }
    }
    layerLimit = best;
    searchNote =
        llvm::formatv("layer error limit {0:e2}, the highest of {1} "
                      "trials whose outputs' error stays within {2}",
                      best, trials, llvm::format("%g", *options.maxOutputError))
            .str();
    if (!bestErrors.empty()) {
      outputErrors = bestErrors;
      outputsMeasured = true;
    }
  }
  assignSparsities(layers, spec, layerLimit);
  if (failed(applyPruning(module, layers, spec)))
    return failure();

  // 4. The pruned model against the unpruned one, on the same sets.
  if (!calibration.empty() && !outputsMeasured &&
      failed(measurePruned(outputErrors)))
    return failure();

  if (!options.printReport && options.reportJson.empty())
    return success();
  // Totals: what the block-sparse kernel will see (its 1x16 blocks, or the
  // int8 kernel's 4x16).
  const BlockShape kernelBlock = kernelBlockShape(options);
  const size_t kernelShapeIndex =
      llvm::find_if(getSparseBlockShapes(),
                    [&](BlockShape shape) {
                      return shape.rows == kernelBlock.rows &&
                             shape.cols == kernelBlock.cols;
                    }) -
      getSparseBlockShapes().begin();
  Totals totals;
  for (auto [layer, op] : llvm::zip(layers, getLinears(graph))) {
    totals.weightBytes += layer.depth * layer.cols * 4;
    double blocks = std::ceil(layer.depth / double(kernelBlock.rows)) *
                    std::ceil(layer.cols / 16.0);
    totals.blocks += blocks;
    if (std::optional<WeightSparsity> measured =
            measureSparsity(getLinearParts(op)->weight, /*transposed=*/false))
      layer.kernelBlockZeros = measured->blockZeros[kernelShapeIndex];
    totals.zeroBlocks += layer.kernelBlockZeros * blocks;
    if (layer.kernelBlockZeros >= options.sparseThreshold)
      ++totals.sparseLayers;
  }
  if (options.printReport)
    printReport(llvm::outs(), options, layers, outputErrors,
                calibration.sets.size(), totals, searchNote);
  if (!options.reportJson.empty())
    return writeJson(options.reportJson, options, layers, outputErrors,
                     calibration.names, totals, layerLimit);
  return success();
}
