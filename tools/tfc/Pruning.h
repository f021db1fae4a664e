//===- Pruning.h - tfc compile --prune, measured ----------------*- C++ -*-===//
//
// Post-training block pruning with its measurements: with calibration
// data, each layer's error is measured at the asked sparsity and at lower
// ones, the error budget (--max-error) picks each layer's sparsity, and the
// reduction report says what every layer got and what it cost.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_TOOLS_TFC_PRUNING_H
#define TFC_TOOLS_TFC_PRUNING_H

#include "tfc/Target/Target.h"
#include "tfc/Transforms/Sparsity.h"

#include <optional>
#include <string>

namespace mlir::tfc::driver {

struct PruningOptions {
  std::string specText;        // --prune as given
  PruneSpec spec;              // ... parsed
  std::string calibrationData; // --calibration-data DIR, "" for none
  bool printReport = false;    // --reduction-report
  std::string reportJson;      // --reduction-report=FILE.json
  std::optional<double> maxError; // --max-error: each layer's own
  /// --max-output-error: the model outputs' relative L2 error; the layers'
  /// limit is searched for (when --max-error is not given).
  std::optional<double> maxOutputError;
  /// --quantize=int8 follows: the int8 sparse kernel's 4x16 blocks count.
  bool int8 = false;
  double sparseThreshold = 0;  // the block-sparse kernel's (for the report)
  std::string kernelIsa;
  std::string modelName;
  int threads = 0;
};

/// The fractions of the asked sparsity a layer over the error budget falls
/// back to: it keeps the highest that fits, or stays dense. (One meter
/// measures them all in one pass: eighths cost little more than halves.)
inline constexpr double kPruneFallbacks[] = {1.0,   0.875, 0.75, 0.625,
                                             0.5,   0.375, 0.25, 0.125};

/// The output budget when none is given: the model's outputs within 5%
/// (relative L2) of the unpruned model's on the calibration data. On the
/// trained fixtures this kept the loss within 1 point of accuracy and 2% of
/// bits per character (docs/Pruning.md).
constexpr double kDefaultMaxOutputError = 0.05;

/// What --prune-heads and --prune-ffn ask for.
struct StructuredPruningOptions {
  double headFraction = 0; // of each attention's heads to remove
  double ffnFraction = 0;  // of each FFN's neurons to remove
  std::string calibrationData;
  /// --max-output-error: the outputs' relative L2 error against the
  /// unpruned model; over it, the largest eighth of both fractions within
  /// it is removed instead.
  std::optional<double> maxOutputError;
  bool printReport = false;
  std::string reportJson; // written when no other reduction writes it
  std::string modelName;
  int threads = 0;
};

/// Removes the least important attention heads and FFN neurons of the
/// optimized graph `module` (ranked by calibrated input norms when
/// calibration data is given, else by the weights), under an output budget
/// when given, and reports the smaller shapes and, with calibration data,
/// the outputs' error.
LogicalResult pruneStructure(ModuleOp module, Target &target,
                             const StructuredPruningOptions &options);

/// What --low-rank asks for.
struct LowRankReductionOptions {
  double energy = 0.9; // of each weight's squared singular values kept
  std::string calibrationData;
  std::optional<double> maxError; // --max-error: each layer's own
  bool printReport = false;
  std::string modelName;
  int threads = 0;
};

/// Factors the linears of the optimized graph `module` whose SVD at
/// `energy` halves their multiply-adds (tfm-low-rank), at a larger rank or
/// not at all where a layer's error is over `maxError`, and reports each
/// layer's rank and, with calibration data, the layers' and outputs'
/// errors.
LogicalResult lowRankModel(ModuleOp module, Target &target,
                           const LowRankReductionOptions &options);

/// Random features per head when --linearize names none.
constexpr int64_t kDefaultLinearizeFeatures = 256;
/// Each linearized layer's relative L2 error at most, when --max-error is
/// not given.
constexpr double kDefaultLinearizeMaxError = 0.05;

struct LinearizationOptions {
  int64_t features = kDefaultLinearizeFeatures; // --linearize=performer:M
  int64_t window = 0; // --linearize=hybrid:W[:M]; 0: performer
  bool fit = true; // --linearize-fit: also fit weights on the features
  uint64_t seed = 1;
  std::string calibrationData; // --calibration-data DIR (required)
  std::optional<double> maxError; // --max-error: each layer's own
  bool printReport = false;
  std::string modelName;
  int threads = 0;
};

/// What --linearize's value asks for: "performer[:M]" or "hybrid:W[:M]".
struct LinearizeSpec {
  int64_t features = kDefaultLinearizeFeatures;
  int64_t window = 0; // exact softmax within W keys; 0: none
};
/// --linearize's value parsed, or nullopt with `error` set.
std::optional<LinearizeSpec> parseLinearizeSpec(llvm::StringRef text,
                                                std::string &error);

/// Linearizes the optimized graph `module`'s softmax attentions (tfm-linearize)
/// where the error measured on the calibration data allows, and reports
/// each layer's choice and error and the outputs' error.
LogicalResult linearizeModel(ModuleOp module, Target &target,
                             const LinearizationOptions &options);

/// Prunes the optimized graph `module` as `options` say, measuring each
/// layer's error when calibration data is given (variants compiled for
/// `target` into a temporary directory and run).
LogicalResult pruneModel(ModuleOp module, Target &target,
                         const PruningOptions &options);

} // namespace mlir::tfc::driver

#endif // TFC_TOOLS_TFC_PRUNING_H
