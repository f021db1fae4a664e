//===- Reduction.h - tfc compile's reductions, measured ----------*- C++ -*-===//
//
// `tfc compile --quantize` with its measurements: calibration (the fp32
// model compiled with taps on each linear's input and run on the user's
// inputs), the error each layer's quantization causes, the error budget
// (--max-error: layers above it stay f32) and the reduction report.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_TOOLS_TFC_REDUCTION_H
#define TFC_TOOLS_TFC_REDUCTION_H

#include "tfc/Pipeline/Compiler.h"
#include "tfc/Target/Target.h"

#include <optional>
#include <string>

namespace mlir::tfc::driver {

struct ReductionOptions {
  std::string quantize;        // --quantize: int8, int8-static, bf16, int4
  int64_t int4Group = 128;     // --int4-group
  bool int4ZeroPoints = false; // --int4-zero-points
  bool int4Gptq = false;       // --int4-rounding=gptq (with calibration data)
  std::string calibrationData; // --calibration-data DIR, "" for none
  bool printReport = false;    // --reduction-report
  std::string reportJson;      // --reduction-report=FILE.json
  std::optional<double> maxError; // --max-error
  std::optional<double> smoothAlpha; // --smooth-alpha (int8-static)
  std::string kernelIsa;       // what the target's kernels use ("avx512+vnni")
  std::string modelName;
  int threads = 0;             // for the calibration runs (0: every core)
};

/// Quantizes the optimized graph `module` as `options` say, measuring and
/// reporting what it cost when calibration data is given. Compiles variants
/// of the graph for `target` into a temporary directory to run them.
LogicalResult reduceModel(ModuleOp module, Target &target,
                          const ReductionOptions &options);

} // namespace mlir::tfc::driver

#endif // TFC_TOOLS_TFC_REDUCTION_H
