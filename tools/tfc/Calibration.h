//===- Calibration.h - running variants of a model on calibration data -*- C++ -*-===//
//
// What the measured reductions (Reduction.cpp's quantization, Pruning.cpp's
// pruning) share: the user's calibration sets read against the model's
// signature; a variant of the optimized graph with taps (values made extra
// outputs: each linear's input), compiled for the target, loaded and run
// on every set; and the model's outputs compared with the fp32 ones.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_TOOLS_TFC_CALIBRATION_H
#define TFC_TOOLS_TFC_CALIBRATION_H

#include "Npy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "tfc/Target/ModelSignature.h"
#include "tfc/Target/Target.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <string>
#include <vector>

namespace mlir::tfc::driver {

/// Rows of one layer's input fed to its error meter per calibration set, at
/// most: evenly spaced, so that a long sequence is sampled throughout. The
/// meters multiply each row by the weight, so this bounds the time a large
/// model's report takes.
constexpr int64_t kMaxRowsPerSet = 512;

/// A model output's error, summed over the calibration sets.
struct OutputError {
  std::string name;
  double errorSquares = 0, referenceSquares = 0;
  int64_t mismatches = 0; // integer outputs: elements that differ
  bool isFloat = true;
  double relative() const {
    if (referenceSquares <= 0)
      return errorSquares > 0 ? INFINITY : 0.0;
    return std::sqrt(errorSquares / referenceSquares);
  }
};

/// The calibration sets of `dir`: each subdirectory is a set (in name
/// order), or `dir` itself is one when it has none. A set holds
/// <input name>.npy for every model input.
LogicalResult readCalibrationSets(StringRef dir, const ModelSignature &signature,
                                  std::vector<std::vector<HostTensor>> &sets,
                                  std::vector<std::string> &setNames);

/// Adds `values` to the graph's results, named tfc_tap_<i>.
void addTaps(func::FuncOp graph, ArrayRef<Value> values);

/// The index of `value` in `taps`, added at the end when it is not there
/// yet (layers reading the same input share its tap).
int64_t tapIndex(SmallVectorImpl<Value> &taps, Value value);

/// Compiles `variant` (an optimized graph; compiling lowers it) as `name`
/// in `dir`, loads it and runs it on every calibration set, handing each
/// set's outputs to `consume`.
LogicalResult runOnSets(ModuleOp variant, Target &target, StringRef dir,
                        StringRef name, int threads,
                        ArrayRef<std::vector<HostTensor>> sets,
                        ArrayRef<std::string> setNames,
                        function_ref<void(size_t, std::vector<HostTensor> &)> consume);

/// The calibration data of a measured reduction: the sets, read against
/// the model's signature, and a temporary folder for the variants it
/// compiles and runs (removed with it).
struct CalibrationData {
  std::vector<std::vector<HostTensor>> sets;
  std::vector<std::string> names;
  SmallString<128> workDir;

  CalibrationData() = default;
  CalibrationData(const CalibrationData &) = delete;
  CalibrationData &operator=(const CalibrationData &) = delete;
  ~CalibrationData();

  /// Reads the sets of `dir` and makes the folder; nothing when `dir` is
  /// empty (no calibration data given).
  LogicalResult open(StringRef dir, const ModelSignature &signature);
  bool empty() const { return sets.empty(); }
  /// runOnSets on these sets, in this folder.
  LogicalResult run(ModuleOp variant, Target &target, StringRef name,
                    int threads,
                    function_ref<void(size_t, std::vector<HostTensor> &)> consume) {
    return runOnSets(variant, target, workDir, name, threads, sets, names,
                     consume);
  }
  /// Compiles `variant` once and runs it on every set `rounds` times over,
  /// in the same order each round, handing `consume` the round, the set
  /// and its outputs: for a measurement whose later rounds need what the
  /// earlier ones gathered.
  LogicalResult
  runRounds(ModuleOp variant, Target &target, StringRef name, int threads,
            unsigned rounds,
            function_ref<void(unsigned, size_t, std::vector<HostTensor> &)>
                consume);
  /// Runs `variant` (a reduced model; compiling lowers it, so a copy when
  /// the caller still needs it) on these sets and adds its outputs' errors
  /// against `reference` (the unreduced model's outputs, per set) to
  /// `errors`.
  LogicalResult compare(ModuleOp variant, Target &target, StringRef name,
                        int threads,
                        ArrayRef<std::vector<HostTensor>> reference,
                        std::vector<OutputError> &errors);
};

/// One OutputError per output of `signature`, empty.
std::vector<OutputError> makeOutputErrors(const ModelSignature &signature);

/// The "outputs" array of a reduction's JSON report: each output's name
/// and relative L2 error (mismatched elements for an integer output);
/// empty when nothing was `measured`.
void writeOutputErrorsJson(llvm::json::OStream &json,
                           ArrayRef<OutputError> errors, bool measured);

/// The largest error of a model's outputs (an integer output that differs
/// counts as infinite): what an output budget bounds.
double worstOutputError(ArrayRef<OutputError> errors);

/// The reports' lines on the outputs' errors: "model outputs against
/// <against> over N calibration sets:" and one line per output.
void printOutputErrors(llvm::raw_ostream &os, ArrayRef<OutputError> errors,
                       size_t numSets, StringRef against);

/// The graph function of a module.
func::FuncOp graphOf(ModuleOp module);

/// Adds one run's outputs to the output errors against the fp32 ones.
void compareOutputs(ArrayRef<HostTensor> reference, ArrayRef<HostTensor> actual,
                    std::vector<OutputError> &errors);

} // namespace mlir::tfc::driver

#endif // TFC_TOOLS_TFC_CALIBRATION_H
