//===- Reduction.cpp - tfc compile's reductions, measured -----------------===//
//
// With calibration data, a reduction is measured before it is applied:
//
//   1. the optimized fp32 graph is compiled with taps (each linear's input
//      as an extra output) and run on every calibration set: the model's
//      fp32 outputs, and each layer's inputs with their statistics;
//   2. each layer's own error is computed from its captured inputs: the
//      relative L2 distance of its output, quantized against fp32
//      (LinearErrorMeter), so that one layer's figure does not depend on
//      which others are quantized;
//   3. layers above the error budget (--max-error) stay f32; the others are
//      quantized (the tfm-quantize pass);
//   4. the quantized graph is compiled and run on the same sets: the
//      model's outputs against fp32, the end-to-end cost.
//
// The report says per layer what changed and why, its error, and the
// totals. Without calibration data the report still says what changed;
// nothing is measured.
//
//===----------------------------------------------------------------------===//

#include "Reduction.h"

#include "Calibration.h"
#include "ModelRunner.h"
#include "Npy.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Pass/PassManager.h"
#include "tfc/Target/ModelSignature.h"
#include "tfc/Transforms/Passes.h"
#include "tfc/Transforms/Quantization.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatAdapters.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unistd.h>

using namespace mlir;
using namespace mlir::tfc;
using namespace mlir::tfc::driver;

namespace {

/// One linear of the graph and what the reduction did with it.
struct Layer {
  std::string name;
  int64_t depth = 0, cols = 0;
  bool quantized = false;
  std::string note; // why it stayed f32
  std::optional<LinearErrorMeter> meter;
  int tap = -1; // output index of its input in the tapped variant
  // Statistics of its input over the calibration sets.
  double low = INFINITY, high = -INFINITY;
  int64_t rows = 0;
  // Per input channel, for --smooth-alpha: its least and greatest value,
  // and the smoothing factors made from them.
  std::vector<float> channelLow, channelHigh, smoothing;
};

/// The multiply-adds of a quantized linear per f32 one that the target's
/// dot product does in the same time: the ratio of the peaks bench/peak
/// measures (int8 with VNNI: 4 per lane per instruction where an FMA does
/// one; vpmaddwd on s16: about 1.75 on AVX2 and AVX-512 machines; bf16 with
/// vdpbf16ps: 2; bf16 widened to f32: 1).
double reducedSpeedup(QuantizedPrecision precision, StringRef kernelIsa) {
  if (precision == QuantizedPrecision::Bf16)
    return kernelIsa.starts_with("avx512") && kernelIsa.contains("+bf16") ? 2.0
                                                                          : 1.0;
  if (kernelIsa.contains("+vnni"))
    return 4.0;
  if (kernelIsa.starts_with("avx512") || kernelIsa.starts_with("avx2"))
    return 1.75;
  return 1.0;
}

/// What a mode does to weights and to activations, in words.
std::string describeWeights(const ReductionOptions &options,
                            QuantizedPrecision precision) {
  if (precision == QuantizedPrecision::Int4)
    return "int4 in groups of " + std::to_string(options.int4Group) +
           " rows of K, " +
           (options.int4ZeroPoints ? "with zero points" : "symmetric") + ", " +
           (options.int4Gptq ? "GPTQ-rounded on the calibration data"
                             : "rounded to nearest");
  return isInt8(precision) ? "int8, symmetric, per output channel"
                           : "bf16, rounded to nearest even";
}
StringRef describeActivations(QuantizedPrecision precision) {
  switch (precision) {
  case QuantizedPrecision::Int8:
    return "int8, symmetric, per row, at run time";
  case QuantizedPrecision::Int8Static:
    return "uint8, per tensor, scale and zero point from the calibrated range";
  case QuantizedPrecision::Int4:
    return "f32 (weight-only), f32 sums";
  case QuantizedPrecision::Bf16:
    break;
  }
  return "bf16, rounded at run time, f32 sums; attention in bf16";
}

std::string formatError(const std::optional<double> &error) {
  if (!error)
    return "-";
  return llvm::formatv("{0:e2}", *error).str();
}

void printReport(llvm::raw_ostream &os, const ReductionOptions &options,
                 ArrayRef<Layer> layers, ArrayRef<OutputError> outputs,
                 size_t numSets, int64_t f32Bytes, int64_t reducedBytes,
                 double quantizedShare, double predictedSpeedup) {
  QuantizedPrecision precision = *parseQuantizedPrecision(options.quantize);
  os << "reduction report for " << options.modelName << ": --quantize="
     << options.quantize;
  if (precision == QuantizedPrecision::Int4)
    os << " (weights " << describeWeights(options, precision)
       << "; activations f32)";
  else
    os << (precision == QuantizedPrecision::Int8
               ? " (int8 weights per output channel, activations per row)"
           : precision == QuantizedPrecision::Int8Static
               ? " (int8 weights per output channel, activations per tensor "
                 "from the calibrated ranges)"
               : " (bf16 weights and activations, f32 sums; attention in bf16)");
  if (options.smoothAlpha)
    os << ", --smooth-alpha=" << llvm::format("%g", *options.smoothAlpha);
  if (options.maxError)
    os << ", --max-error=" << llvm::format("%g", *options.maxError);
  os << "\n";
  if (numSets == 0)
    os << "  (no --calibration-data: errors not measured)\n";
  size_t width = 5;
  for (const Layer &layer : layers)
    width = std::max(width, layer.name.size());
  os << llvm::formatv("  {0} {1,11} {2,-9} {3,-9} {4}\n",
                      llvm::fmt_align("layer", llvm::AlignStyle::Left, width),
                      "K x N", "precision", "error", "note");
  for (const Layer &layer : layers) {
    std::optional<double> error;
    if (layer.meter && layer.meter->relativeError() >= 0 && numSets)
      error = layer.meter->relativeError();
    os << llvm::formatv(
        "  {0} {1,11} {2,-9} {3,-9} {4}\n",
        llvm::fmt_align(layer.name, llvm::AlignStyle::Left, width),
        std::to_string(layer.depth) + "x" + std::to_string(layer.cols),
        layer.quantized ? getPrecisionName(precision) : "f32",
        formatError(error), layer.note);
  }
  if (numSets) {
    printOutputErrors(os, outputs, numSets, "fp32");
  }
  if (precision == QuantizedPrecision::Int4) {
    // Weight-only: the products stay f32, so what int4 saves is the bytes
    // a memory-bound step (decoding a token) reads.
    os << llvm::formatv("  linear weights: {0:f2} MB f32 -> {1:f2} MB ({2:f2}x "
                        "fewer bytes for a decode step to read); {3:f1}% of "
                        "the linears' weights in int4; products stay f32\n",
                        f32Bytes / 1e6, reducedBytes / 1e6,
                        reducedBytes ? double(f32Bytes) / reducedBytes : 1.0,
                        quantizedShare * 100);
    return;
  }
  os << llvm::formatv("  linear weights: {0:f2} MB f32 -> {1:f2} MB; {2:f1}% of "
                      "the linears' multiply-adds per token in {5}; predicted "
                      "linear speedup {3:f2}x ({4} kernels)\n",
                      f32Bytes / 1e6, reducedBytes / 1e6, quantizedShare * 100,
                      predictedSpeedup, options.kernelIsa,
                      getPrecisionName(precision));
}

LogicalResult writeJson(StringRef path, const ReductionOptions &options,
                        ArrayRef<Layer> layers, ArrayRef<OutputError> outputs,
                        ArrayRef<std::string> setNames, int64_t f32Bytes,
                        int64_t reducedBytes, double quantizedShare,
                        double predictedSpeedup) {
  std::error_code ec;
  llvm::raw_fd_ostream file(path, ec);
  if (ec) {
    llvm::errs() << "tfc: error: --reduction-report: cannot write '" << path
                 << "': " << ec.message() << "\n";
    return failure();
  }
  QuantizedPrecision precision = *parseQuantizedPrecision(options.quantize);
  llvm::json::OStream json(file, 2);
  json.object([&] {
    json.attribute("model", options.modelName);
    json.attribute("reduction", options.quantize);
    json.attribute("weights", describeWeights(options, precision));
    json.attribute("activations", describeActivations(precision));
    if (options.maxError)
      json.attribute("max_error", *options.maxError);
    if (options.smoothAlpha)
      json.attribute("smooth_alpha", *options.smoothAlpha);
    json.attribute("kernels", options.kernelIsa);
    json.attributeArray("calibration_sets", [&] {
      for (const std::string &name : setNames)
        json.value(name);
    });
    json.attributeArray("layers", [&] {
      for (const Layer &layer : layers)
        json.object([&] {
          json.attribute("name", layer.name);
          json.attribute("k", layer.depth);
          json.attribute("n", layer.cols);
          json.attribute("precision",
                         layer.quantized ? getPrecisionName(precision) : "f32");
          if (!layer.quantized)
            json.attribute("reason", layer.note);
          if (layer.meter && !setNames.empty()) {
            json.attribute("relative_l2_error", layer.meter->relativeError());
            json.attributeObject("input", [&] {
              json.attribute("min", layer.low);
              json.attribute("max", layer.high);
              json.attribute("absmax", std::max(std::fabs(layer.low), std::fabs(layer.high)));
              json.attribute("rows", layer.rows);
            });
          }
        });
    });
    writeOutputErrorsJson(json, outputs, !setNames.empty());
    json.attributeObject("totals", [&] {
      json.attribute("linear_weight_bytes_f32", f32Bytes);
      json.attribute("linear_weight_bytes_reduced", reducedBytes);
      json.attribute("reduced_share_of_linear_macs", quantizedShare);
      // (int4 is weight-only: f32 products, no compute speedup to predict.)
      if (precision != QuantizedPrecision::Int4)
        json.attribute("predicted_linear_speedup", predictedSpeedup);
    });
  });
  file << "\n";
  return success();
}

/// For --int4-rounding=gptq: runs the graph on the calibration sets with a
/// tap on each int4 candidate's input (a linear of constant weight whose K
/// is a multiple of the group) and gives each such linear the sum of x x^T
/// over its input rows (kInt4HessianAttr), which the quantize pass's GPTQ
/// rounding reads.
LogicalResult attachInt4Hessians(ModuleOp module, Target &target,
                                 const ReductionOptions &options,
                                 const ModelSignature &signature) {
  CalibrationData calibration;
  if (failed(calibration.open(options.calibrationData, signature)))
    return failure();
  func::FuncOp graph = graphOf(module);
  SmallVector<Operation *> linears = getLinears(graph);
  OwningOpRef<ModuleOp> tapped = module.clone();
  SmallVector<Operation *> tappedLinears = getLinears(graphOf(*tapped));
  SmallVector<Value> taps;
  std::vector<int64_t> tapOf(linears.size(), -1), depthOf(linears.size(), 0);
  for (auto [i, op] : llvm::enumerate(tappedLinears)) {
    if (!whyNotQuantizable(op, QuantizedPrecision::Bf16).empty())
      continue;
    LinearParts parts = *getLinearParts(op);
    int64_t depth = cast<RankedTensorType>(parts.weight.getType()).getDimSize(0);
    if (depth % options.int4Group != 0)
      continue;
    depthOf[i] = depth;
    tapOf[i] = tapIndex(taps, parts.input);
  }
  addTaps(graphOf(*tapped), taps);
  // One sum per tap (layers reading the same input share it), in double.
  std::vector<std::vector<double>> sums(taps.size());
  std::vector<int64_t> tapDepth(taps.size(), 0);
  for (size_t i = 0; i < linears.size(); ++i)
    if (tapOf[i] >= 0)
      tapDepth[tapOf[i]] = depthOf[i];
  const size_t numOutputs = signature.outputs.size();
  auto accumulate = [&](size_t, std::vector<HostTensor> &outputs) {
    for (size_t t = 0; t < taps.size(); ++t) {
      const int64_t depth = tapDepth[t];
      const HostTensor &input = outputs[numOutputs + t];
      const float *x = reinterpret_cast<const float *>(input.bytes.data());
      int64_t rows = depth ? input.numElements() / depth : 0;
      std::vector<double> &sum = sums[t];
      sum.resize(depth * depth, 0.0);
      for (int64_t r = 0; r < rows; ++r) {
        const float *row = x + r * depth;
        for (int64_t a = 0; a < depth; ++a) {
          double xa = row[a];
          if (xa == 0.0)
            continue;
          double *line = sum.data() + a * depth;
          for (int64_t c = 0; c <= a; ++c)
            line[c] += xa * row[c];
        }
      }
    }
  };
  if (failed(calibration.run(*tapped, target, "int4-gptq", options.threads,
                             accumulate)))
    return failure();
  MLIRContext *context = module->getContext();
  for (auto [i, op] : llvm::enumerate(linears)) {
    if (tapOf[i] < 0)
      continue;
    const int64_t depth = depthOf[i];
    const std::vector<double> &sum = sums[tapOf[i]];
    if (sum.size() != static_cast<size_t>(depth * depth))
      continue;
    std::vector<float> hessian(depth * depth);
    for (int64_t a = 0; a < depth; ++a)
      for (int64_t c = 0; c <= a; ++c)
        hessian[a * depth + c] = hessian[c * depth + a] =
            static_cast<float>(sum[a * depth + c]);
    auto type = RankedTensorType::get({depth, depth}, Float32Type::get(context));
    AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        ArrayRef<char>(reinterpret_cast<const char *>(hessian.data()),
                       hessian.size() * sizeof(float)),
        /*align=*/64, /*dataIsMutable=*/false);
    op->setAttr(kInt4HessianAttr,
                DenseResourceElementsAttr::get(type, "int4_hessian", std::move(blob)));
  }
  return success();
}

} // namespace

LogicalResult mlir::tfc::driver::reduceModel(ModuleOp module, Target &target,
                                             const ReductionOptions &options) {
  func::FuncOp graph = graphOf(module);
  FailureOr<ModelSignature> signature = getModelSignature(graph);
  if (failed(signature))
    return failure();

  QuantizedPrecision precision = *parseQuantizedPrecision(options.quantize);
  const bool int4 = precision == QuantizedPrecision::Int4;
  // GPTQ-style int4 rounding gets each layer's input second moments from
  // the calibration data first (the meters below round as the pass will).
  if (int4 && options.int4Gptq &&
      failed(attachInt4Hessians(module, target, options, *signature)))
    return failure();
  // The layers, and which can be quantized at all.
  std::vector<Layer> layers;
  SmallVector<Operation *> linears = getLinears(graph);
  for (Operation *op : linears) {
    Layer layer;
    layer.name = getLayerName(op);
    auto weightType = cast<RankedTensorType>(getLinearParts(op)->weight.getType());
    layer.depth = weightType.getDimSize(0);
    layer.cols = weightType.getDimSize(1);
    layer.note = whyNotQuantizable(op, precision);
    if (int4 && layer.note.empty() && layer.depth % options.int4Group != 0)
      layer.note = "K = " + std::to_string(layer.depth) +
                   " is not a multiple of the group, " +
                   std::to_string(options.int4Group);
    layers.push_back(std::move(layer));
  }

  std::vector<std::vector<HostTensor>> fp32Outputs;
  std::vector<OutputError> outputErrors = makeOutputErrors(*signature);
  CalibrationData calibration;
  if (failed(calibration.open(options.calibrationData, *signature)))
    return failure();
  if (!calibration.empty()) {
    // 1. The fp32 graph with a tap on each quantizable layer's input.
    OwningOpRef<ModuleOp> tapped = module.clone();
    func::FuncOp tappedGraph = graphOf(*tapped);
    SmallVector<Operation *> tappedLinears = getLinears(tappedGraph);
    SmallVector<Value> taps;
    // int8-static measures a layer by its input's range, known only after
    // every set has run: its meters are made after this run, and a second
    // one feeds them.
    const bool isStatic = precision == QuantizedPrecision::Int8Static;
    for (auto [layer, op] : llvm::zip(layers, tappedLinears)) {
      if (!layer.note.empty())
        continue;
      // (int8-static's meters are made once the ranges are known, below.)
      if (!isStatic) {
        layer.meter = int4 ? LinearErrorMeter::createInt4(op, options.int4Group,
                                                          options.int4ZeroPoints)
                           : LinearErrorMeter::create(op, precision);
        if (!layer.meter) {
          layer.note = "the error cannot be measured (a bias computed at run time)";
          continue;
        }
      }
      layer.tap = tapIndex(taps, getLinearParts(op)->input);
    }
    addTaps(tappedGraph, taps);
    // (The meters have rounded with the second moments: the fp32 run does
    // not carry them.)
    tappedGraph.walk([](Operation *op) { op->removeAttr(kInt4HessianAttr); });
    size_t numOutputs = signature->outputs.size();
    // Each run: the layers' inputs, sampled rows to each meter.
    auto feedMeters = [&](Layer &layer, const float *data, int64_t rows) {
      if (!layer.meter)
        return;
      int64_t step = std::max<int64_t>(1, rows / kMaxRowsPerSet);
      for (int64_t r = 0; r < rows; r += step)
        layer.meter->addRows(data + r * layer.depth, 1);
    };
    auto layerInput = [&](const Layer &layer, std::vector<HostTensor> &outputs,
                          int64_t &rows) {
      const HostTensor &input = outputs[numOutputs + layer.tap];
      rows = layer.depth ? input.numElements() / layer.depth : 0;
      return reinterpret_cast<const float *>(input.bytes.data());
    };
    auto measure = [&](size_t, std::vector<HostTensor> &outputs) {
      // 2. Each layer's own error, and its input's statistics.
      for (Layer &layer : layers) {
        if (layer.tap < 0)
          continue;
        int64_t rows;
        const float *data = layerInput(layer, outputs, rows);
        for (int64_t i = 0, n = rows * layer.depth; i < n; ++i) {
          layer.low = std::min<double>(layer.low, data[i]);
          layer.high = std::max<double>(layer.high, data[i]);
        }
        if (options.smoothAlpha) {
          layer.channelLow.resize(layer.depth, INFINITY);
          layer.channelHigh.resize(layer.depth, -INFINITY);
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t k = 0; k < layer.depth; ++k) {
              float v = data[r * layer.depth + k];
              layer.channelLow[k] = std::min(layer.channelLow[k], v);
              layer.channelHigh[k] = std::max(layer.channelHigh[k], v);
            }
        }
        layer.rows += rows;
        feedMeters(layer, data, rows);
      }
      outputs.resize(numOutputs);
      fp32Outputs.push_back(std::move(outputs));
    };
    // (Compiling a variant lowers it: the second run needs its own copy.)
    OwningOpRef<ModuleOp> tappedAgain;
    if (isStatic)
      tappedAgain = tapped->clone();
    if (failed(calibration.run(*tapped, target, "tapped", options.threads, measure)))
      return failure();
    if (isStatic) {
      // 2b. The ranges known: each layer's meter (from the graph's linears:
      // the tapped ones were lowered), fed by a second run.
      for (auto [layer, op] : llvm::zip(layers, linears)) {
        if (layer.tap < 0)
          continue;
        if (options.smoothAlpha && layer.rows > 0) {
          std::vector<float> absMax(layer.depth);
          for (int64_t k = 0; k < layer.depth; ++k)
            absMax[k] = std::max(std::fabs(layer.channelLow[k]),
                                 std::fabs(layer.channelHigh[k]));
          layer.smoothing = getSmoothingFactors(op, absMax, *options.smoothAlpha);
          if (!layer.smoothing.empty()) {
            // The input divided by the factors (all positive): its range is
            // the channels' ranges divided by theirs.
            layer.low = INFINITY;
            layer.high = -INFINITY;
            for (int64_t k = 0; k < layer.depth; ++k) {
              layer.low = std::min<double>(layer.low,
                                           layer.channelLow[k] / layer.smoothing[k]);
              layer.high = std::max<double>(layer.high,
                                            layer.channelHigh[k] / layer.smoothing[k]);
            }
          }
        }
        layer.meter = LinearErrorMeter::create(
            op, precision, getStaticInputQuantization(layer.low, layer.high),
            layer.smoothing);
        if (!layer.meter)
          layer.note = "the error cannot be measured (a bias computed at run time)";
      }
      auto measureStatic = [&](size_t, std::vector<HostTensor> &outputs) {
        for (Layer &layer : layers) {
          if (layer.tap < 0)
            continue;
          int64_t rows;
          const float *data = layerInput(layer, outputs, rows);
          feedMeters(layer, data, rows);
        }
      };
      if (failed(calibration.run(*tappedAgain, target, "tapped_static",
                           options.threads, measureStatic)))
        return failure();
    }
  }

  // 3. Quantize all but the layers over the budget.
  std::vector<std::string> kept;
  for (Layer &layer : layers) {
    if (!layer.note.empty())
      continue;
    if (options.maxError && layer.meter &&
        layer.meter->relativeError() > *options.maxError) {
      layer.note = "kept: error above --max-error=" +
                   llvm::formatv("{0}", llvm::format("%g", *options.maxError)).str();
      kept.push_back(layer.name);
      continue;
    }
    layer.quantized = true;
  }
  // Layers of one name (a model may reuse a node name) share a decision:
  // keep wins, as the pass keeps every layer of a kept name.
  for (Layer &layer : layers)
    if (layer.quantized && llvm::is_contained(kept, layer.name)) {
      layer.quantized = false;
      layer.note = "kept: shares its name with a layer above the budget";
    }
  // int8-static: each layer's calibrated input range, for the pass.
  if (precision == QuantizedPrecision::Int8Static)
    for (auto [layer, op] : llvm::zip(layers, getLinears(graph)))
      if (layer.rows > 0) {
        op->setAttr(kInputRangeAttr,
                    DenseF32ArrayAttr::get(
                        module->getContext(),
                        {static_cast<float>(layer.low), static_cast<float>(layer.high)}));
        if (!layer.smoothing.empty())
          op->setAttr(kSmoothingAttr,
                      DenseF32ArrayAttr::get(module->getContext(), layer.smoothing));
      }
  QuantizeOptions quantize;
  quantize.mode = options.quantize;
  quantize.keep = kept;
  quantize.group = options.int4Group;
  quantize.zeroPoints = options.int4ZeroPoints;
  PassManager pm(module->getContext());
  pm.addNestedPass<func::FuncOp>(createQuantize(quantize));
  if (failed(pm.run(module)))
    return failure();

  // 4. The quantized model against fp32, on the same sets.
  if (!calibration.empty()) {
    OwningOpRef<ModuleOp> quantized = module.clone();
    if (failed(calibration.compare(*quantized, target, "quantized",
                                   options.threads, fp32Outputs,
                                   outputErrors)))
      return failure();
  }

  if (!options.printReport && options.reportJson.empty())
    return success();
  // Totals: the linears' weight bytes, the share of their multiply-adds
  // per token reduced, and what the target's kernels make of that.
  int64_t f32Bytes = 0, reducedBytes = 0;
  double macs = 0, reducedMacs = 0;
  for (const Layer &layer : layers) {
    int64_t weights = layer.depth * layer.cols;
    f32Bytes += weights * 4;
    // int8: a byte per weight and an f32 scale per column; bf16: 2 bytes;
    // int4: half a byte, an f32 scale (and half a byte of zero point) per
    // group of a column.
    int64_t groups = int4 ? layer.depth / options.int4Group * layer.cols : 0;
    int64_t reduced = isInt8(precision) ? weights + layer.cols * 4
                      : int4 ? (weights + 1) / 2 + groups * 4 +
                                   (options.int4ZeroPoints ? (groups + 1) / 2 : 0)
                             : weights * 2;
    reducedBytes += layer.quantized ? reduced : weights * 4;
    macs += weights;
    if (layer.quantized)
      reducedMacs += weights;
  }
  double share = macs > 0 ? reducedMacs / macs : 0;
  double speedup =
      macs > 0 ? macs / (macs - reducedMacs +
                         reducedMacs / reducedSpeedup(precision, options.kernelIsa))
               : 1.0;
  if (options.printReport)
    printReport(llvm::outs(), options, layers, outputErrors, calibration.sets.size(),
                f32Bytes, reducedBytes, share, speedup);
  if (!options.reportJson.empty())
    return writeJson(options.reportJson, options, layers, outputErrors,
                     calibration.names, f32Bytes, reducedBytes, share, speedup);
  return success();
}
