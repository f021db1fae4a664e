//===- Linearization.cpp - tfc compile --linearize ------------------------===//
//
// Softmax attention linearized after training, with its report: the whole
// model runs on the calibration data with each attention's q, k, v and
// output tapped; each layer's meter (Linearize.h) measures the error of
// Performer's features at the feature count asked for and at 2x and 4x
// it, drawn and (unless --linearize-fit=false) with weights on the
// features fitted on the calibration data (LinearizeFit.cpp; the model
// then runs twice over the sets: once to fit, once to measure each
// sequence with the weights fitted on the other half). A layer takes the
// smallest count within the per-layer budget (--max-error, or
// kDefaultLinearizeMaxError), fitted where that measured lower, or keeps
// its softmax. The tfm-linearize pass then converts the chosen layers, and
// the converted model runs against the softmax one for the outputs' error.
//
//===----------------------------------------------------------------------===//

#include "Pruning.h"

#include "Calibration.h"

#include "mlir/Pass/PassManager.h"
#include "tfc/Target/ModelSignature.h"
#include "tfc/Transforms/Linearize.h"
#include "tfc/Transforms/Passes.h"
#include "tfc/Transforms/Quantization.h"
#include "tfm/TfmOps.h"
#include "llvm/Support/FormatAdapters.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

#include <tuple>

using namespace mlir;
using namespace mlir::tfc;
using namespace mlir::tfc::driver;

namespace {

/// One attention of the model: what was measured and chosen.
struct LinearizedLayer {
  std::string name, note;
  int64_t heads = 0, headDim = 0;
  bool causal = false;
  int64_t features = 0; // chosen; 0: kept softmax
  bool fitted = false;  // the chosen features' weights fitted
  std::optional<double> error;
  std::optional<LinearizeErrorMeter> meter;
  int64_t tapQuery = -1, tapKey = -1, tapValue = -1, tapOutput = -1;
};

/// The feature counts a layer may take: the one asked for, then 2x and 4x
/// (within the kernel's largest).
std::vector<int64_t> candidateFeatures(int64_t features) {
  std::vector<int64_t> counts;
  for (int64_t count : {features, 2 * features, 4 * features})
    if (count <= kMaxLinearizeFeatures)
      counts.push_back(count);
  return counts;
}

} // namespace

std::optional<LinearizeSpec>
mlir::tfc::driver::parseLinearizeSpec(StringRef text, std::string &error) {
  auto [method, rest] = text.split(':');
  LinearizeSpec spec;
  StringRef count = rest;
  if (method == "hybrid") {
    StringRef window;
    std::tie(window, count) = rest.split(':');
    if (window.getAsInteger(10, spec.window) || spec.window < 1 ||
        spec.window > tfm::kMaxLinearAttentionWindow) {
      error = "hybrid:W needs the window W, a whole number of keys from 1 to " +
              std::to_string(tfm::kMaxLinearAttentionWindow) + ", not '" +
              window.str() + "'";
      return std::nullopt;
    }
  } else if (method != "performer") {
    error = "the method must be performer (Performer's FAVOR+ random "
            "features) or hybrid:W (exact softmax within W keys, the "
            "features beyond), not '" +
            method.str() + "'";
    return std::nullopt;
  }
  if (count.empty())
    return spec;
  if (count.getAsInteger(10, spec.features) || spec.features < 1 ||
      spec.features > kMaxLinearizeFeatures) {
    error = "the feature count must be a whole number from 1 to " +
            std::to_string(kMaxLinearizeFeatures) + ", not '" + count.str() +
            "'";
    return std::nullopt;
  }
  return spec;
}

LogicalResult
mlir::tfc::driver::linearizeModel(ModuleOp module, Target &target,
                                  const LinearizationOptions &options) {
  func::FuncOp graph = graphOf(module);
  FailureOr<ModelSignature> signature = getModelSignature(graph);
  if (failed(signature))
    return failure();
  const double budget = options.maxError.value_or(kDefaultLinearizeMaxError);
  auto attentionsOf = [](func::FuncOp f) {
    SmallVector<tfm::AttentionOp> ops;
    f.walk([&](tfm::AttentionOp op) { ops.push_back(op); });
    return ops;
  };
  std::vector<LinearizedLayer> layers;
  for (tfm::AttentionOp op : attentionsOf(graph)) {
    LinearizedLayer layer;
    layer.name = getLayerName(op);
    layer.heads = static_cast<int64_t>(op.getNumHeads());
    auto keyType = cast<RankedTensorType>(op.getKey().getType());
    // (Unknown, -1, for a dynamic one: such a layer is kept.)
    int64_t width = keyType.getDimSize(keyType.getRank() - 1);
    layer.headDim = ShapedType::isDynamic(width) ? -1
                    : keyType.getRank() == 3     ? width / layer.heads
                                                 : width;
    layer.causal = op.getCausal();
    layer.note = whyNotLinearizable(op);
    if (!layer.note.empty())
      layer.note = "kept softmax: " + layer.note;
    layers.push_back(std::move(layer));
  }

  // The softmax model's outputs, and each layer's q, k, v and output into
  // its meter.
  CalibrationData calibration;
  if (failed(calibration.open(options.calibrationData, *signature)))
    return failure();
  if (calibration.empty()) {
    // Without sets every meter would read 0: nothing may convert unmeasured.
    llvm::errs() << "tfc: error: --linearize: no calibration sets in '"
                 << options.calibrationData << "'\n";
    return failure();
  }
  std::vector<std::vector<HostTensor>> referenceOutputs;
  std::vector<OutputError> outputErrors = makeOutputErrors(*signature);
  {
    OwningOpRef<ModuleOp> tapped = module.clone();
    func::FuncOp tappedGraph = graphOf(*tapped);
    SmallVector<Value> taps;
    SmallVector<tfm::AttentionOp> tappedAttentions = attentionsOf(tappedGraph);
    for (size_t index = 0; index < layers.size(); ++index) {
      LinearizedLayer &layer = layers[index];
      tfm::AttentionOp op = tappedAttentions[index];
      if (!layer.note.empty())
        continue;
      layer.meter = LinearizeErrorMeter::create(
          op, candidateFeatures(options.features), options.seed,
          static_cast<int64_t>(index), options.window, options.fit);
      layer.tapQuery = tapIndex(taps, op.getQuery());
      layer.tapKey = tapIndex(taps, op.getKey());
      layer.tapValue = tapIndex(taps, op.getValue());
      layer.tapOutput = tapIndex(taps, op.getResult());
    }
    addTaps(tappedGraph, taps);
    const size_t numOutputs = signature->outputs.size();
    // Fitting: a first round over the sets fills the fits' normal
    // equations, solved before the round that measures.
    const unsigned fitRounds = options.fit ? 1 : 0;
    if (failed(calibration.runRounds(
            *tapped, target, "softmax", options.threads, fitRounds + 1,
            [&](unsigned round, size_t set, std::vector<HostTensor> &outputs) {
              for (LinearizedLayer &layer : layers) {
                if (!layer.meter)
                  continue;
                auto data = [&](int64_t tap) {
                  return reinterpret_cast<const float *>(
                      outputs[numOutputs + tap].bytes.data());
                };
                const HostTensor &query = outputs[numOutputs + layer.tapQuery];
                const HostTensor &key = outputs[numOutputs + layer.tapKey];
                if (round < fitRounds) {
                  layer.meter->addFitSet(data(layer.tapQuery),
                                         data(layer.tapKey), query.dims[0],
                                         query.dims[1], key.dims[1]);
                  if (set + 1 == calibration.sets.size())
                    layer.meter->fit();
                  continue;
                }
                layer.meter->addSet(data(layer.tapQuery), data(layer.tapKey),
                                    data(layer.tapValue), data(layer.tapOutput),
                                    query.dims[0], query.dims[1], key.dims[1]);
              }
              if (round < fitRounds)
                return;
              outputs.resize(numOutputs);
              referenceOutputs.push_back(std::move(outputs));
            })))
      return failure();
  }
  // Each layer's features: the smallest count within the budget, drawn or
  // fitted, whichever measured lower; or none.
  MLIRContext *context = module->getContext();
  for (LinearizedLayer &layer : layers) {
    if (!layer.meter)
      continue;
    const LinearizeErrorMeter &meter = *layer.meter;
    ArrayRef<int64_t> counts = meter.getFeatures();
    auto lowest = [&](size_t candidate) {
      return std::min(meter.relativeError(candidate),
                      meter.relativeError(candidate, /*fitted=*/true));
    };
    auto fittedIsLower = [&](size_t candidate) {
      return meter.relativeError(candidate, /*fitted=*/true) <
             meter.relativeError(candidate);
    };
    size_t chosen = 0;
    while (chosen < counts.size() && lowest(chosen) > budget)
      ++chosen;
    if (chosen == counts.size()) {
      // The nearest any candidate came, drawn or fitted.
      size_t nearest = 0;
      for (size_t candidate = 1; candidate < counts.size(); ++candidate)
        if (lowest(candidate) < lowest(nearest))
          nearest = candidate;
      bool fitted = fittedIsLower(nearest);
      layer.error = lowest(nearest);
      layer.note =
          llvm::formatv("kept softmax: error {0:e2} with {1}{2} "
                        "features is over the budget",
                        *layer.error, counts[nearest], fitted ? " fitted" : "")
              .str();
      continue;
    }
    layer.features = counts[chosen];
    layer.error = lowest(chosen);
    layer.fitted = fittedIsLower(chosen);
    if (chosen > 0)
      layer.note = llvm::formatv("budget: error {0:e2} with {1} features",
                                 lowest(0), counts[0])
                       .str();
    if (layer.fitted)
      layer.note +=
          llvm::formatv("{0}drawn: {1:e2}", layer.note.empty() ? "" : "; ",
                        meter.relativeError(chosen))
              .str();
  }
  for (auto [layer, op] : llvm::zip(layers, attentionsOf(graph))) {
    op->setAttr(kLinearizeAttr, IntegerAttr::get(IntegerType::get(context, 64),
                                                 layer.features));
    if (!layer.fitted)
      continue;
    size_t chosen = llvm::find(layer.meter->getFeatures(), layer.features) -
                    layer.meter->getFeatures().begin();
    std::vector<float> logWeights = layer.meter->logWeights(chosen);
    auto type = RankedTensorType::get({layer.heads, layer.features},
                                      Float32Type::get(context));
    op->setAttr(kLinearizeWeightsAttr,
                DenseElementsAttr::get(type, ArrayRef<float>(logWeights)));
  }
  PassManager pm(context);
  mlir::tfc::LinearizeOptions pass;
  pass.features = options.features;
  pass.seed = options.seed;
  pass.window = options.window;
  pm.addNestedPass<func::FuncOp>(createLinearize(pass));
  if (failed(pm.run(module)))
    return failure();
  graph.walk([](Operation *op) {
    op->removeAttr(kLinearizeAttr);
    op->removeAttr(kLinearizeWeightsAttr);
  });
  OwningOpRef<ModuleOp> converted = module.clone();
  if (failed(calibration.compare(*converted, target, "linearized",
                                 options.threads, referenceOutputs,
                                 outputErrors)))
    return failure();
  if (!options.printReport)
    return success();

  llvm::raw_ostream &os = llvm::outs();
  os << "reduction report for " << options.modelName << ": --linearize=";
  if (options.window > 0)
    os << "hybrid:" << options.window << ":" << options.features
       << " (exact softmax within " << options.window
       << " keys of each query, Performer's positive random features "
          "beyond; ";
  else
    os << "performer:" << options.features
       << " (softmax attention as linear attention on Performer's positive "
          "random features; ";
  if (options.fit)
    os << "weights on each head's features fitted on the calibration data "
          "where that measures lower (each sequence measured with the "
          "weights fitted on the other half); ";
  os << "a layer over the budget takes 2x or 4x the "
        "features, or keeps its softmax), "
     << (options.maxError ? "--max-error=" : "default budget ")
     << llvm::format("%g", budget) << " (each layer's relative L2 error)\n";
  size_t width = 5;
  for (const LinearizedLayer &layer : layers)
    width = std::max(width, layer.name.size());
  os << llvm::formatv("  {0} {1,7} {2,6} {3,8} {4,-7} {5,-9} {6}\n",
                      llvm::fmt_align("layer", llvm::AlignStyle::Left, width),
                      "heads", "causal", "features", "weights", "error",
                      "note");
  int64_t linearized = 0;
  for (const LinearizedLayer &layer : layers) {
    linearized += layer.features > 0;
    os << llvm::formatv(
        "  {0} {1,7} {2,6} {3,8} {4,-7} {5,-9} {6}\n",
        llvm::fmt_align(layer.name, llvm::AlignStyle::Left, width),
        std::to_string(layer.heads) + "x" +
            (layer.headDim < 0 ? std::string("?")
                               : std::to_string(layer.headDim)),
        layer.causal ? "yes" : "no",
        layer.features > 0 ? std::to_string(layer.features) : std::string("-"),
        layer.features == 0 ? "-"
        : layer.fitted      ? "fitted"
                            : "drawn",
        layer.error ? llvm::formatv("{0:e2}", *layer.error).str()
                    : std::string("-"),
        layer.note);
  }
  printOutputErrors(os, outputErrors, calibration.sets.size(),
                    "the softmax model");
  os << "  attention layers linearized: " << linearized << " of "
     << layers.size() << "\n";
  return success();
}
