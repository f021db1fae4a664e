//===- StructuredPruning.cpp - tfc compile --prune-heads, --prune-ffn -----===//
//
// Structured pruning with its measurements. With calibration data the
// unpruned graph is compiled with taps on every linear's input and run on
// the sets: each input channel's L2 norm ranks attention heads (the output
// projection's input) and FFN neurons (the second linear's input), as
// tfc.input_norms for the tfm-prune-heads and tfm-prune-ffn passes; then the
// smaller model runs on the same sets against the unpruned outputs. Under
// --max-output-error the fractions asked are tried first, then eighths of
// them by bisection, and the largest whose outputs stay within it is
// kept. Without calibration data the passes rank by the weights alone.
//
//===----------------------------------------------------------------------===//

#include "Pruning.h"

#include "Calibration.h"

#include "mlir/Pass/PassManager.h"
#include "tfc/Target/ModelSignature.h"
#include "tfc/Transforms/Passes.h"
#include "tfc/Transforms/Quantization.h"
#include "tfm/TfmOps.h"
#include "llvm/Support/FormatAdapters.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>

using namespace mlir;
using namespace mlir::tfc;
using namespace mlir::tfc::driver;

namespace {

/// A linear's weight shape, before and after.
struct LayerShape {
  std::string name;
  int64_t depth = 0, cols = 0, newDepth = 0, newCols = 0;
};

std::pair<int64_t, int64_t> weightShape(Operation *linear) {
  auto type = cast<RankedTensorType>(getLinearParts(linear)->weight.getType());
  return {type.getDimSize(0), type.getDimSize(1)};
}

SmallVector<int64_t> headCounts(func::FuncOp graph) {
  SmallVector<int64_t> heads;
  graph.walk([&](tfm::AttentionOp op) { heads.push_back(op.getNumHeads()); });
  return heads;
}

std::string joinCounts(ArrayRef<int64_t> counts) {
  std::string text;
  for (auto [i, count] : llvm::enumerate(counts))
    text += (i ? "+" : "") + std::to_string(count);
  return text.empty() ? "none" : text;
}

} // namespace

LogicalResult
mlir::tfc::driver::pruneStructure(ModuleOp module, Target &target,
                                  const StructuredPruningOptions &options) {
  func::FuncOp graph = graphOf(module);
  FailureOr<ModelSignature> signature = getModelSignature(graph);
  if (failed(signature))
    return failure();
  std::vector<LayerShape> layers;
  for (Operation *op : getLinears(graph)) {
    auto [depth, cols] = weightShape(op);
    layers.push_back({getLayerName(op), depth, cols, depth, cols});
  }
  SmallVector<int64_t> headsBefore = headCounts(graph);

  std::vector<std::vector<HostTensor>> referenceOutputs;
  std::vector<OutputError> outputErrors = makeOutputErrors(*signature);
  CalibrationData calibration;
  if (failed(calibration.open(options.calibrationData, *signature)))
    return failure();
  if (!calibration.empty()) {
    // Every linear's input channel norms, from a tapped run.
    OwningOpRef<ModuleOp> tapped = module.clone();
    SmallVector<Value> taps;
    SmallVector<int> tapOf;
    for (Operation *op : getLinears(graphOf(*tapped)))
      tapOf.push_back(tapIndex(taps, getLinearParts(op)->input));
    addTaps(graphOf(*tapped), taps);
    size_t numOutputs = signature->outputs.size();
    std::vector<std::vector<double>> squares(layers.size());
    if (failed(calibration.run(
            *tapped, target, "tapped", options.threads,
            [&](size_t, std::vector<HostTensor> &outputs) {
              for (size_t i = 0; i < layers.size(); ++i) {
                const HostTensor &input = outputs[numOutputs + tapOf[i]];
                int64_t depth = layers[i].depth;
                const float *data =
                    reinterpret_cast<const float *>(input.bytes.data());
                int64_t rows = depth ? input.numElements() / depth : 0;
                squares[i].resize(depth, 0.0);
                for (int64_t r = 0; r < rows; ++r)
                  for (int64_t k = 0; k < depth; ++k)
                    squares[i][k] +=
                        double(data[r * depth + k]) * data[r * depth + k];
              }
              outputs.resize(numOutputs);
              referenceOutputs.push_back(std::move(outputs));
            })))
      return failure();
    for (auto [op, layerSquares] : llvm::zip(getLinears(graph), squares)) {
      SmallVector<float> norms;
      for (double s : layerSquares)
        norms.push_back(static_cast<float>(std::sqrt(s)));
      op->setAttr(kInputNormsAttr,
                  DenseF32ArrayAttr::get(module->getContext(), norms));
    }
  }

  // The passes at `eighths` / 8 of the fractions asked.
  auto prune = [&](ModuleOp target, int eighths) -> LogicalResult {
    PassManager pm(target->getContext());
    if (options.headFraction > 0 && eighths > 0) {
      PruneHeadsOptions heads;
      heads.fraction = options.headFraction * eighths / 8;
      pm.addNestedPass<func::FuncOp>(createPruneHeads(heads));
    }
    if (options.ffnFraction > 0 && eighths > 0) {
      PruneFfnOptions ffn;
      ffn.fraction = options.ffnFraction * eighths / 8;
      pm.addNestedPass<func::FuncOp>(createPruneFfn(ffn));
    }
    return pm.run(target);
  };
  int eighths = 8;
  int trials = 0;
  bool outputsMeasured = false;
  if (!calibration.empty() && options.maxOutputError) {
    // A trial: a pruned copy against the unpruned outputs. Nothing pruned
    // (0 eighths) is within any budget; bisection between it and the
    // largest share known to fail.
    std::vector<OutputError> trial, best = makeOutputErrors(*signature);
    auto within = [&](int share) -> FailureOr<bool> {
      OwningOpRef<ModuleOp> copy = module.clone();
      if (failed(prune(*copy, share)))
        return failure();
      trial = makeOutputErrors(*signature);
      if (failed(calibration.compare(
              *copy, target, "structured_" + std::to_string(trials++),
              options.threads, referenceOutputs, trial)))
        return failure();
      return worstOutputError(trial) <= *options.maxOutputError;
    };
    int low = 0, high = 8;
    FailureOr<bool> asked = within(8);
    if (failed(asked))
      return failure();
    if (*asked) {
      low = 8;
      best = trial;
    }
    while (high - low > 1 && low < 8) {
      int middle = (low + high) / 2;
      FailureOr<bool> ok = within(middle);
      if (failed(ok))
        return failure();
      if (*ok) {
        low = middle;
        best = trial;
      } else {
        high = middle;
      }
    }
    eighths = low;
    outputErrors = best;
    outputsMeasured = true;
  }
  if (failed(prune(module, eighths)))
    return failure();
  // The norms have served (a later reduction measures the smaller model).
  graph.walk([](Operation *op) { op->removeAttr(kInputNormsAttr); });
  SmallVector<Operation *> after = getLinears(graph);
  if (after.size() != layers.size()) {
    llvm::errs() << "tfc: error: structured pruning changed the number of "
                    "linears (a bug)\n";
    return failure();
  }
  for (auto [layer, op] : llvm::zip(layers, after))
    std::tie(layer.newDepth, layer.newCols) = weightShape(op);
  SmallVector<int64_t> headsAfter = headCounts(graph);

  if (!calibration.empty() && !outputsMeasured) {
    OwningOpRef<ModuleOp> pruned = module.clone();
    if (failed(calibration.compare(*pruned, target, "structured",
                                   options.threads, referenceOutputs,
                                   outputErrors)))
      return failure();
  }
  if (!options.printReport && options.reportJson.empty())
    return success();

  double macsBefore = 0, macsAfter = 0;
  for (const LayerShape &layer : layers) {
    macsBefore += double(layer.depth) * layer.cols;
    macsAfter += double(layer.newDepth) * layer.newCols;
  }
  std::string ranking = calibration.empty()
                            ? "ranked by the weights (no --calibration-data)"
                            : "ranked by calibrated norms";
  if (options.printReport) {
    llvm::raw_ostream &os = llvm::outs();
    os << "reduction report for " << options.modelName << ":";
    if (options.headFraction > 0)
      os << " --prune-heads=" << llvm::format("%g", options.headFraction);
    if (options.ffnFraction > 0)
      os << " --prune-ffn=" << llvm::format("%g", options.ffnFraction);
    os << " (" << ranking << ")";
    if (options.maxOutputError && !calibration.empty())
      os << ", --max-output-error="
         << llvm::format("%g", *options.maxOutputError);
    os << "\n";
    if (options.maxOutputError && !calibration.empty())
      os << llvm::formatv(
          "  budget: {0} of the fractions asked (heads {1}, FFN neurons "
          "{2}), the largest of {3} trials whose outputs' error stays "
          "within {4}\n",
          eighths == 8 ? std::string("all") : std::to_string(eighths) + "/8",
          llvm::format("%g", options.headFraction * eighths / 8),
          llvm::format("%g", options.ffnFraction * eighths / 8), trials,
          llvm::format("%g", *options.maxOutputError));
    size_t width = 5;
    for (const LayerShape &layer : layers)
      width = std::max(width, layer.name.size());
    os << llvm::formatv("  {0} {1,11}    {2}\n",
                        llvm::fmt_align("layer", llvm::AlignStyle::Left, width),
                        "K x N", "now");
    for (const LayerShape &layer : layers)
      os << llvm::formatv(
          "  {0} {1,11} -> {2}\n",
          llvm::fmt_align(layer.name, llvm::AlignStyle::Left, width),
          std::to_string(layer.depth) + "x" + std::to_string(layer.cols),
          layer.newDepth == layer.depth && layer.newCols == layer.cols
              ? std::string("(unchanged)")
              : std::to_string(layer.newDepth) + "x" +
                    std::to_string(layer.newCols));
    os << "  attention heads: " << joinCounts(headsBefore) << " -> "
       << joinCounts(headsAfter) << "\n";
    if (!calibration.empty()) {
      printOutputErrors(os, outputErrors, calibration.sets.size(),
                        "the unpruned model");
    }
    os << llvm::formatv("  linear weights: {0:f2} MB -> {1:f2} MB f32; their "
                        "multiply-adds per token {2:f2}x\n",
                        macsBefore * 4 / 1e6, macsAfter * 4 / 1e6,
                        macsBefore > 0 ? macsAfter / macsBefore : 1.0);
  }
  if (options.reportJson.empty())
    return success();
  std::error_code ec;
  llvm::raw_fd_ostream file(options.reportJson, ec);
  if (ec) {
    llvm::errs() << "tfc: error: --reduction-report: cannot write '"
                 << options.reportJson << "': " << ec.message() << "\n";
    return failure();
  }
  llvm::json::OStream json(file, 2);
  json.object([&] {
    json.attribute("model", options.modelName);
    json.attribute("reduction", "structured");
    json.attribute("head_fraction", options.headFraction * eighths / 8);
    json.attribute("ffn_fraction", options.ffnFraction * eighths / 8);
    if (options.maxOutputError && !calibration.empty()) {
      json.attribute("asked_head_fraction", options.headFraction);
      json.attribute("asked_ffn_fraction", options.ffnFraction);
      json.attribute("max_output_error", *options.maxOutputError);
    }
    json.attribute("ranking",
                   calibration.empty() ? "weights" : "calibrated norms");
    json.attributeArray("layers", [&] {
      for (const LayerShape &layer : layers)
        json.object([&] {
          json.attribute("name", layer.name);
          json.attribute("k", layer.depth);
          json.attribute("n", layer.cols);
          json.attribute("k_now", layer.newDepth);
          json.attribute("n_now", layer.newCols);
        });
    });
    json.attributeArray("heads", [&] {
      for (size_t i = 0; i < headsBefore.size() && i < headsAfter.size(); ++i)
        json.object([&] {
          json.attribute("heads", headsBefore[i]);
          json.attribute("heads_now", headsAfter[i]);
        });
    });
    writeOutputErrorsJson(json, outputErrors, !calibration.empty());
    json.attribute("linear_macs_ratio",
                   macsBefore > 0 ? macsAfter / macsBefore : 1.0);
  });
  file << "\n";
  return success();
}
