//===- Calibration.cpp - running variants of a model on calibration data --===//
//
// See Calibration.h.
//
//===----------------------------------------------------------------------===//

#include "Calibration.h"

#include "ModelRunner.h"

#include "mlir/IR/Diagnostics.h"
#include "tfc/Pipeline/Compiler.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cstring>
#include <unistd.h>

using namespace mlir;
using namespace mlir::tfc;
using namespace mlir::tfc::driver;

namespace {

uint64_t memoryLimit() {
  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && pageSize > 0 ? (uint64_t)pages * (uint64_t)pageSize
                                   : (uint64_t)1 << 34;
}

/// Compiles `variant` (an optimized graph) into a shared library in `dir`;
/// returns its path.
FailureOr<std::string> compileVariant(ModuleOp variant, Target &target,
                                      StringRef dir, StringRef name) {
  CompileOptions compile;
  compile.output.modelName = name.str();
  compile.output.outputStem = (dir + "/" + name).str();
  compile.output.emit = EmitKind::SharedLibrary;
  compile.optimizeGraph = false;
  // A variant is not what the user compiles: kernel selection's remarks
  // (--kernel-report) are for the model, not for each variant measured.
  ScopedDiagnosticHandler quietRemarks(variant.getContext(), [](Diagnostic &d) {
    return success(d.getSeverity() == DiagnosticSeverity::Remark);
  });
  std::string produced;
  if (failed(compileModel(variant, target, compile, produced)))
    return failure();
  return produced;
}

} // namespace

LogicalResult mlir::tfc::driver::readCalibrationSets(
    StringRef dir, const ModelSignature &signature,
    std::vector<std::vector<HostTensor>> &sets,
    std::vector<std::string> &setNames) {
  std::error_code ec;
  std::vector<std::string> folders;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    if (llvm::sys::fs::is_directory(it->path()))
      folders.push_back(it->path());
  if (ec) {
    llvm::errs() << "tfc: error: --calibration-data: cannot read '" << dir
                 << "': " << ec.message() << "\n";
    return failure();
  }
  std::sort(folders.begin(), folders.end());
  if (folders.empty())
    folders.push_back(dir.str());
  for (const std::string &folder : folders) {
    std::vector<HostTensor> inputs(signature.inputs.size());
    for (auto [i, input] : llvm::enumerate(signature.inputs)) {
      SmallString<256> path(folder);
      llvm::sys::path::append(path, input.name + ".npy");
      std::string error;
      if (!readNpy(path.str().str(), inputs[i], error, memoryLimit())) {
        llvm::errs() << "tfc: error: --calibration-data: set '" << folder
                     << "' needs the model's input '" << input.name << "' as "
                     << input.name << ".npy: " << error << "\n";
        return failure();
      }
      if (inputs[i].dtype != input.onnxDtype) {
        llvm::errs() << "tfc: error: --calibration-data: '" << path
                     << "' holds " << dtypeName(inputs[i].dtype)
                     << "; the model's input '" << input.name << "' is "
                     << getOnnxDtypeName(input.onnxDtype) << "\n";
        return failure();
      }
    }
    sets.push_back(std::move(inputs));
    setNames.push_back(llvm::sys::path::filename(folder).str());
  }
  return success();
}

void mlir::tfc::driver::addTaps(func::FuncOp graph, ArrayRef<Value> values) {
  auto ret = cast<func::ReturnOp>(graph.getBody().back().getTerminator());
  SmallVector<Value> results(ret.getOperands());
  SmallVector<DictionaryAttr> attrs;
  for (unsigned i = 0; i < graph.getNumResults(); ++i)
    attrs.push_back(graph.getResultAttrDict(i)
                        ? graph.getResultAttrDict(i)
                        : DictionaryAttr::get(graph.getContext()));
  Builder b(graph.getContext());
  for (auto [i, value] : llvm::enumerate(values)) {
    results.push_back(value);
    attrs.push_back(b.getDictionaryAttr(b.getNamedAttr(
        "tfm.name", b.getStringAttr("tfc_tap_" + std::to_string(i)))));
  }
  ret->setOperands(results);
  graph.setType(FunctionType::get(graph.getContext(), graph.getArgumentTypes(),
                                  ValueRange(results).getTypes()));
  graph.setAllResultAttrs(attrs);
}

/// runOnSets, `rounds` times over the sets with one compile.
static LogicalResult runRoundsOnSets(
    ModuleOp variant, Target &target, StringRef dir, StringRef name,
    int threads, ArrayRef<std::vector<HostTensor>> sets,
    ArrayRef<std::string> setNames, unsigned rounds,
    function_ref<void(unsigned, size_t, std::vector<HostTensor> &)> consume) {
  FailureOr<std::string> library = compileVariant(variant, target, dir, name);
  if (failed(library))
    return failure();
  ModelSession session;
  std::string error;
  if (!session.open(*library, name, threads, error)) {
    llvm::errs() << "tfc: error: calibration: " << error << "\n";
    return failure();
  }
  for (unsigned round = 0; round < rounds; ++round)
    for (auto [setIndex, inputs] : llvm::enumerate(sets)) {
      std::vector<HostTensor> outputs;
      if (!session.run(inputs, outputs, error)) {
        llvm::errs() << "tfc: error: calibration set '" << setNames[setIndex]
                     << "': " << error << "\n";
        return failure();
      }
      consume(round, setIndex, outputs);
    }
  return success();
}

LogicalResult mlir::tfc::driver::runOnSets(
    ModuleOp variant, Target &target, StringRef dir, StringRef name,
    int threads, ArrayRef<std::vector<HostTensor>> sets,
    ArrayRef<std::string> setNames,
    function_ref<void(size_t, std::vector<HostTensor> &)> consume) {
  return runRoundsOnSets(
      variant, target, dir, name, threads, sets, setNames, 1,
      [&](unsigned, size_t set, std::vector<HostTensor> &outputs) {
        consume(set, outputs);
      });
}

LogicalResult CalibrationData::runRounds(
    ModuleOp variant, Target &target, StringRef name, int threads,
    unsigned rounds,
    function_ref<void(unsigned, size_t, std::vector<HostTensor> &)> consume) {
  return runRoundsOnSets(variant, target, workDir, name, threads, sets, names,
                         rounds, consume);
}

func::FuncOp mlir::tfc::driver::graphOf(ModuleOp module) {
  return *module.getOps<func::FuncOp>().begin();
}

void mlir::tfc::driver::compareOutputs(ArrayRef<HostTensor> reference,
                                       ArrayRef<HostTensor> actual,
                                       std::vector<OutputError> &errors) {
  for (size_t i = 0; i < errors.size(); ++i) {
    const HostTensor &ref = reference[i], &got = actual[i];
    OutputError &error = errors[i];
    if (ref.bytes.size() != got.bytes.size()) {
      error.mismatches += std::max<int64_t>(1, ref.numElements());
      continue;
    }
    if (ref.dtype == TFC_DTYPE_FLOAT32) {
      const float *r = reinterpret_cast<const float *>(ref.bytes.data());
      const float *g = reinterpret_cast<const float *>(got.bytes.data());
      for (int64_t j = 0, n = ref.numElements(); j < n; ++j) {
        double d = (double)g[j] - (double)r[j];
        error.errorSquares += d * d;
        error.referenceSquares += (double)r[j] * r[j];
      }
      continue;
    }
    error.isFloat = false;
    unsigned width = dtypeBytes(ref.dtype);
    for (size_t j = 0; width && j < ref.bytes.size(); j += width)
      if (std::memcmp(&ref.bytes[j], &got.bytes[j], width))
        ++error.mismatches;
  }
}

CalibrationData::~CalibrationData() {
  if (!workDir.empty())
    llvm::sys::fs::remove_directories(workDir);
}

LogicalResult CalibrationData::open(StringRef dir,
                                    const ModelSignature &signature) {
  if (dir.empty())
    return success();
  if (failed(readCalibrationSets(dir, signature, sets, names)))
    return failure();
  if (std::error_code ec =
          llvm::sys::fs::createUniqueDirectory("tfc-calibrate", workDir)) {
    llvm::errs() << "tfc: error: cannot create a temporary directory: "
                 << ec.message() << "\n";
    return failure();
  }
  return success();
}

std::vector<OutputError>
mlir::tfc::driver::makeOutputErrors(const ModelSignature &signature) {
  std::vector<OutputError> errors;
  for (const TensorSignature &output : signature.outputs)
    errors.push_back({output.name});
  return errors;
}

void mlir::tfc::driver::printOutputErrors(llvm::raw_ostream &os,
                                          ArrayRef<OutputError> errors,
                                          size_t numSets, StringRef against) {
  os << "  model outputs against " << against << " over " << numSets
     << " calibration set" << (numSets == 1 ? "" : "s") << ":\n";
  for (const OutputError &output : errors) {
    if (output.isFloat)
      os << llvm::formatv("    {0}: relative L2 error {1:e2}\n", output.name,
                          output.relative());
    else
      os << "    " << output.name << ": " << output.mismatches
         << " elements differ\n";
  }
}

double mlir::tfc::driver::worstOutputError(ArrayRef<OutputError> errors) {
  double worst = 0;
  for (const OutputError &error : errors)
    worst = std::max(worst, error.isFloat      ? error.relative()
                            : error.mismatches ? INFINITY
                                               : 0.0);
  return worst;
}

int64_t mlir::tfc::driver::tapIndex(SmallVectorImpl<Value> &taps, Value value) {
  auto it = llvm::find(taps, value);
  int64_t index = it - taps.begin();
  if (it == taps.end())
    taps.push_back(value);
  return index;
}

void mlir::tfc::driver::writeOutputErrorsJson(llvm::json::OStream &json,
                                              ArrayRef<OutputError> errors,
                                              bool measured) {
  json.attributeArray("outputs", [&] {
    if (!measured)
      return;
    for (const OutputError &output : errors)
      json.object([&] {
        json.attribute("name", output.name);
        if (output.isFloat)
          json.attribute("relative_l2_error", output.relative());
        else
          json.attribute("mismatched_elements", output.mismatches);
      });
  });
}

LogicalResult
CalibrationData::compare(ModuleOp variant, Target &target, StringRef name,
                         int threads,
                         ArrayRef<std::vector<HostTensor>> reference,
                         std::vector<OutputError> &errors) {
  return run(variant, target, name, threads,
             [&](size_t setIndex, std::vector<HostTensor> &outputs) {
               compareOutputs(reference[setIndex], outputs, errors);
             });
}
