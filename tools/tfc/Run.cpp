//===- Run.cpp - tfc run --------------------------------------------------===//
//
// `tfc run model.onnx` compiles the model to a temporary shared library and
// runs it; `tfc run libmodel.so` runs a built one. Either way the model is
// loaded with dlopen and driven through the runtime API the library itself
// exports, exactly as an app would.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "ModelRunner.h"
#include "Npy.h"

#include "tfc/runtime/tfc_runtime.h"

#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <dlfcn.h>
#include <unistd.h>
#include <random>

using namespace mlir;
using namespace mlir::tfc::driver;
namespace cl = llvm::cl;

cl::SubCommand tfc::driver::runCommand(
    "run",
    "Run a model: an ONNX model (compiled on the fly) or a library built by\n"
    "  tfc compile. Inputs come from .npy files or are generated; outputs are\n"
    "  written as .npy and can be checked against references.\n"
    "  Example: tfc run bert.onnx --input input_ids=ids.npy --input "
    "attention_mask=mask.npy -o out/\n"
    "           tfc run libbert.so --dim batch=1 --dim sequence=128 --bench 20\n");

cl::OptionCategory tfc::driver::runCategory("Run options");

static cl::opt<std::string> modelPath(cl::Positional,
                                      cl::desc("<model.onnx | libmodel.so>"),
                                      cl::sub(tfc::driver::runCommand),
                                      cl::cat(tfc::driver::runCategory));

static cl::list<std::string> inputFiles(
    "input",
    cl::desc("An input as NAME=FILE.npy, or FILE.npy for the next input in "
             "order. Inputs not given are generated (random, seeded)"),
    cl::value_desc("[name=]file.npy"), cl::sub(tfc::driver::runCommand),
    cl::cat(tfc::driver::runCategory));

static cl::list<std::string> dimValues(
    "dim",
    cl::desc("The size of a symbolic dim for generated inputs, e.g. batch=2"),
    cl::value_desc("name=N"), cl::sub(tfc::driver::runCommand),
    cl::cat(tfc::driver::runCategory));

static cl::list<std::string> inputShapes(
    "input-shape",
    cl::desc("Pin an input's shape when compiling an ONNX model, e.g. "
             "input_ids=1x128; also the shape of a generated input"),
    cl::value_desc("name=DIMS"), cl::sub(tfc::driver::runCommand),
    cl::cat(tfc::driver::runCategory));

static cl::opt<std::string> outputDirectory(
    "o",
    cl::desc("Write each output to <dir>/<output name>.npy (and each generated "
             "input to <dir>/input_<name>.npy)"),
    cl::value_desc("dir"), cl::sub(tfc::driver::runCommand),
    cl::cat(tfc::driver::runCategory));

static cl::list<std::string> expectedFiles(
    "expect",
    cl::desc("Check an output against a reference: NAME=FILE.npy, or FILE.npy "
             "for the next output in order. Exits 1 on a mismatch"),
    cl::value_desc("[name=]file.npy"), cl::sub(tfc::driver::runCommand),
    cl::cat(tfc::driver::runCategory));

static cl::opt<double> relativeTolerance(
    "rtol", cl::desc("Relative tolerance of --expect (default 1e-3)"),
    cl::init(1e-3), cl::sub(tfc::driver::runCommand), cl::cat(tfc::driver::runCategory));

static cl::opt<double> absoluteTolerance(
    "atol", cl::desc("Absolute tolerance of --expect (default 1e-5)"),
    cl::init(1e-5), cl::sub(tfc::driver::runCommand), cl::cat(tfc::driver::runCategory));

static cl::opt<unsigned> benchRuns(
    "bench", cl::desc("Time N runs after two warm-up ones (the first records "
                      "the memory plan, the second touches its arena for the "
                      "first time) and print the median"),
    cl::value_desc("N"), cl::init(0), cl::sub(tfc::driver::runCommand),
    cl::cat(tfc::driver::runCategory));

static cl::opt<unsigned> decodeSteps(
    "decode",
    cl::desc("For a library compiled with --decoder: run the inputs as a "
             "prefill of all but their last N positions, then N steps of one "
             "position each (tfc_model_prefill, tfc_model_step), and print "
             "the prefill's time and the steps' median. The outputs (for -o "
             "and --expect) are the calls' outputs joined along the sequence, "
             "which must equal one run on the whole inputs"),
    cl::value_desc("N"), cl::init(0), cl::sub(tfc::driver::runCommand),
    cl::cat(tfc::driver::runCategory));

static cl::opt<int> numThreads(
    "threads", cl::desc("Threads for parallel loops (default: every core)"),
    cl::init(0), cl::sub(tfc::driver::runCommand), cl::cat(tfc::driver::runCategory));

static cl::opt<std::string> weightsPath(
    "weights",
    cl::desc("The weights file of a library compiled with --weights=file "
             "(default: beside the library)"),
    cl::value_desc("file"), cl::sub(tfc::driver::runCommand),
    cl::cat(tfc::driver::runCategory));

static cl::opt<std::string> librarySymbolName(
    "name",
    cl::desc("The model's C name inside a library (default: from lib<name>.so)"),
    cl::value_desc("identifier"), cl::sub(tfc::driver::runCommand),
    cl::cat(tfc::driver::runCategory));

static cl::opt<bool> profileOps(
    "profile",
    cl::desc("Print the time per graph op (kernel): over the --bench runs, "
             "over the --decode steps, else over the one run. An ONNX model "
             "is compiled with "
             "profiling; a library must come from tfc compile --profile"),
    cl::sub(tfc::driver::runCommand), cl::cat(tfc::driver::runCategory));

static cl::opt<unsigned> profileLines(
    "profile-lines",
    cl::desc("How many of the slowest ops --profile lists (default 15)"),
    cl::init(15), cl::sub(tfc::driver::runCommand),
    cl::cat(tfc::driver::runCategory));

static cl::opt<bool> quiet(
    "quiet", cl::desc("Print only errors and check failures"),
    cl::sub(tfc::driver::runCommand), cl::cat(tfc::driver::runCategory));

static cl::opt<unsigned> seed("seed", cl::desc("Seed of generated inputs"),
                              cl::init(0), cl::sub(tfc::driver::runCommand),
                              cl::cat(tfc::driver::runCategory));

static cl::opt<bool> skipOnnxChecker(
    "no-onnx-checker", cl::desc("Skip libonnx's checker when compiling"),
    cl::sub(tfc::driver::runCommand), cl::cat(tfc::driver::runCategory));

namespace {

std::string shapeText(ArrayRef<int64_t> dims) {
  std::string text = "[";
  for (auto [i, dim] : llvm::enumerate(dims))
    text += (i ? ", " : "") + (dim < 0 ? std::string("?") : std::to_string(dim));
  return text + "]";
}

/// The machine's memory: no input is read or generated beyond it (the
/// allocation would succeed and the system kill tfc when it is touched).
uint64_t physicalMemory() {
  long pages = sysconf(_SC_PHYS_PAGES), pageSize = sysconf(_SC_PAGESIZE);
  return pages > 0 && pageSize > 0 ? uint64_t(pages) * uint64_t(pageSize)
                                   : UINT64_MAX;
}

/// Generated data: floats uniform in [-1, 1), integers in [0, 10) (valid
/// token ids for any vocabulary), and all ones for an input named like a
/// mask, since a random mask makes attention meaningless.
void fillRandom(HostTensor &tensor, StringRef name, std::mt19937 &random) {
  int64_t count = tensor.numElements();
  tensor.bytes.assign(count * dtypeBytes(tensor.dtype), 0);
  auto store = [&](int64_t i, auto value) {
    std::memcpy(tensor.bytes.data() + i * sizeof(value), &value, sizeof(value));
  };
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  std::uniform_int_distribution<int> small(0, 9);
  bool isMask = StringRef(name).contains_insensitive("mask");
  for (int64_t i = 0; i < count; ++i) {
    switch (tensor.dtype) {
    case 1: store(i, float(real(random))); break;
    case 11: store(i, double(real(random))); break;
    case 2: case 3: store(i, uint8_t(isMask ? 1 : small(random))); break;
    case 9: store(i, uint8_t(isMask ? 1 : small(random) & 1)); break;
    case 4: case 5: store(i, uint16_t(isMask ? 1 : small(random))); break;
    case 6: case 12: store(i, uint32_t(isMask ? 1 : small(random))); break;
    case 7: case 13: store(i, uint64_t(isMask ? 1 : small(random))); break;
    default: break; // float16/bfloat16 inputs are zeros
    }
  }
}

/// Splits "name=value" (or "value" with an empty name).
std::pair<std::string, std::string> splitBinding(StringRef spec) {
  if (!spec.contains('='))
    return {"", spec.str()};
  auto [name, value] = spec.split('=');
  return {name.str(), value.str()};
}

/// maxRelative is the largest error relative to the reference's largest
/// magnitude: per-element relative errors blow up near zero and say little.
struct Comparison {
  double maxAbsolute = 0, maxRelative = 0, maxReference = 0;
  int64_t mismatches = 0, firstMismatch = -1;
};

Comparison compare(const HostTensor &actual, const HostTensor &expected,
                   double rtol, double atol) {
  Comparison result;
  bool exact = !(actual.dtype == 1 || actual.dtype == 10 || actual.dtype == 11 ||
                 actual.dtype == 16);
  for (int64_t i = 0, e = actual.numElements(); i < e; ++i) {
    double a = elementAsDouble(actual, i), b = elementAsDouble(expected, i);
    if (std::isnan(a) && std::isnan(b))
      continue;
    double difference = std::fabs(a - b);
    if (std::isinf(a) && std::isinf(b) && (a > 0) == (b > 0))
      difference = 0;
    result.maxAbsolute = std::max(result.maxAbsolute, difference);
    if (std::isfinite(b))
      result.maxReference = std::max(result.maxReference, std::fabs(b));
    bool ok = exact ? difference == 0 : difference <= atol + rtol * std::fabs(b);
    if (!ok || std::isnan(a) != std::isnan(b)) {
      if (result.firstMismatch < 0)
        result.firstMismatch = i;
      ++result.mismatches;
    }
  }
  if (result.maxReference > 0)
    result.maxRelative = result.maxAbsolute / result.maxReference;
  return result;
}

/// Positions [begin, end) of `tensor` along `dim`, as a tensor of its own.
static HostTensor slicePositions(const HostTensor &tensor, int64_t dim,
                                 int64_t begin, int64_t end) {
  HostTensor slice;
  slice.dtype = tensor.dtype;
  slice.dims = tensor.dims;
  slice.dims[dim] = end - begin;
  size_t outer = 1, inner = dtypeBytes(tensor.dtype);
  for (int64_t d = 0; d < dim; ++d)
    outer *= tensor.dims[d];
  for (size_t d = dim + 1; d < tensor.dims.size(); ++d)
    inner *= tensor.dims[d];
  size_t rows = tensor.dims[dim];
  slice.bytes.resize(outer * (end - begin) * inner);
  for (size_t o = 0; o < outer; ++o)
    std::memcpy(slice.bytes.data() + o * (end - begin) * inner,
                tensor.bytes.data() + (o * rows + begin) * inner,
                (end - begin) * inner);
  return slice;
}

/// Writes `piece` into `joined` at position `at` along `dim`, `joined`
/// holding `total` positions there (sized by the first piece: the calls'
/// outputs differ only in that dim).
static bool placePositions(HostTensor &joined, const tfc_tensor &piece,
                           int64_t dim, int64_t at, int64_t total,
                           std::string &error) {
  if (dim >= piece.rank) {
    error = "an output's sequence dim is past its rank";
    return false;
  }
  size_t elementBytes = dtypeBytes(piece.dtype);
  if (joined.bytes.empty()) {
    joined.dtype = piece.dtype;
    joined.dims.assign(piece.dims, piece.dims + piece.rank);
    joined.dims[dim] = total;
    std::optional<uint64_t> bytes = byteSize(joined.dims, joined.dtype);
    if (!bytes) {
      error = "the joined outputs' size overflows";
      return false;
    }
    joined.bytes.resize(*bytes);
  }
  if ((int64_t)joined.dims.size() != piece.rank || at + piece.dims[dim] > total) {
    error = "the calls' outputs differ in rank or length";
    return false;
  }
  size_t outer = 1, inner = elementBytes;
  for (int64_t d = 0; d < piece.rank; ++d) {
    if (d != dim && joined.dims[d] != piece.dims[d]) {
      error = "the calls' outputs differ in a dim other than the sequence's";
      return false;
    }
    if (d < dim)
      outer *= piece.dims[d];
    if (d > dim)
      inner *= piece.dims[d];
  }
  size_t added = piece.dims[dim];
  for (size_t o = 0; o < outer; ++o)
    std::memcpy(joined.bytes.data() + (o * total + at) * inner,
                static_cast<const uint8_t *>(piece.data) + o * added * inner,
                added * inner);
  return true;
}

/// --decode: a prefill on all but the last `steps` positions of `inputs`,
/// then one step per position; `outputs` gets the calls' outputs joined
/// along the sequence (the last call's where an output has no sequence
/// dim). Prints the times; `stepsMs` gets the steps' total. With
/// `profileSteps`, the profile is cleared after the prefill, so that it
/// holds the steps' ops. False after printing an error.
static bool runDecode(RuntimeApi &api, tfc_model *model,
                      const std::vector<HostTensor> &inputs, unsigned steps,
                      bool profileSteps, std::vector<HostTensor> &outputs,
                      double &stepsMs) {
  size_t numInputs = api.numInputs(model), numOutputs = api.numOutputs(model);
  if (!api.prefill || !api.step) {
    llvm::errs() << "tfc: error: --decode: the library's runtime has no "
                    "tfc_model_prefill (built by an older tfc)\n";
    return false;
  }
  int64_t length = -1;
  for (size_t i = 0; i < numInputs; ++i) {
    int32_t dim = api.input(model, i)->sequence_dim;
    if (dim < 0)
      continue;
    if (dim >= (int32_t)inputs[i].dims.size()) {
      llvm::errs() << "tfc: error: --decode: input '" << api.input(model, i)->name
                   << "' has rank " << inputs[i].dims.size()
                   << "; its sequence is dim " << dim << "\n";
      return false;
    }
    int64_t size = inputs[i].dims[dim];
    if (length >= 0 && size != length) {
      llvm::errs() << "tfc: error: --decode: the inputs' sequences differ in "
                      "length\n";
      return false;
    }
    length = size;
  }
  if (length < 0) {
    llvm::errs() << "tfc: error: --decode: no input has a sequence dim; "
                    "compile the model with tfc compile --decoder\n";
    return false;
  }
  if (length <= (int64_t)steps) {
    llvm::errs() << "tfc: error: --decode " << steps << ": the inputs hold "
                 << length << " positions; the prefill needs at least one "
                 << "more than the steps\n";
    return false;
  }
  outputs.assign(numOutputs, HostTensor());
  std::vector<double> stepMs;
  double prefillMs = 0;
  for (unsigned call = 0; call <= steps; ++call) {
    int64_t begin = call == 0 ? 0 : length - steps + call - 1;
    int64_t end = call == 0 ? length - steps : begin + 1;
    std::vector<HostTensor> pieces(numInputs);
    std::vector<tfc_tensor> tensors(numInputs);
    for (size_t i = 0; i < numInputs; ++i) {
      int32_t dim = api.input(model, i)->sequence_dim;
      pieces[i] = dim < 0 ? inputs[i] : slicePositions(inputs[i], dim, begin, end);
      tfc_tensor &t = tensors[i];
      std::memset(&t, 0, sizeof(t));
      t.name = api.input(model, i)->name;
      t.dtype = (tfc_dtype)pieces[i].dtype;
      t.rank = pieces[i].dims.size();
      std::copy(pieces[i].dims.begin(), pieces[i].dims.end(), t.dims);
      t.data = pieces[i].bytes.data();
      t.capacity = pieces[i].bytes.size();
    }
    std::vector<tfc_tensor> results(numOutputs);
    std::memset(results.data(), 0, results.size() * sizeof(tfc_tensor));
    auto start = std::chrono::steady_clock::now();
    tfc_status status =
        (call == 0 ? api.prefill : api.step)(model, tensors.data(), numInputs,
                                             results.data(), numOutputs);
    double ms = std::chrono::duration<double, std::milli>(
                    std::chrono::steady_clock::now() - start)
                    .count();
    if (status != TFC_OK) {
      llvm::errs() << "tfc: error: " << api.lastError() << "\n";
      return false;
    }
    (call == 0 ? prefillMs : stepMs.emplace_back()) = ms;
    if (call == 0 && profileSteps && api.clearProfile)
      api.clearProfile(model);
    std::string error;
    bool ok = true;
    for (size_t i = 0; i < numOutputs; ++i) {
      int32_t dim = api.output(model, i)->sequence_dim;
      if (dim >= 0) {
        ok = ok && placePositions(outputs[i], results[i], dim, begin, length,
                                  error);
      } else {
        HostTensor &out = outputs[i];
        out.dtype = results[i].dtype;
        out.dims.assign(results[i].dims, results[i].dims + results[i].rank);
        auto *data = static_cast<uint8_t *>(results[i].data);
        out.bytes.assign(data, data + out.numElements() * dtypeBytes(out.dtype));
      }
      api.freeData(results[i].data);
    }
    if (!ok) {
      llvm::errs() << "tfc: error: --decode: " << error << "\n";
      return false;
    }
  }
  std::vector<double> sorted = stepMs;
  std::sort(sorted.begin(), sorted.end());
  stepsMs = 0;
  for (double ms : stepMs)
    stepsMs += ms;
  llvm::outs() << "decode: prefill of " << length - steps << " positions "
               << llvm::format("%.3f", prefillMs) << " ms; " << steps
               << " steps of one position: median "
               << llvm::format("%.3f", sorted[sorted.size() / 2])
               << " ms, min " << llvm::format("%.3f", sorted.front())
               << " ms\n";
  return true;
}

/// The --profile report: time per op kind, then the slowest sites, per run.
void printProfile(const tfc_profile_entry *entries, size_t count,
                  unsigned runs, double wallMs, llvm::raw_ostream &os) {
  double totalMs = 0;
  llvm::StringMap<std::pair<double, unsigned>> byKind;
  std::vector<const tfc_profile_entry *> sites;
  for (size_t i = 0; i < count; ++i) {
    double ms = entries[i].seconds * 1e3 / runs;
    totalMs += ms;
    StringRef kind = StringRef(entries[i].site).split(' ').first;
    byKind[kind].first += ms;
    byKind[kind].second += 1;
    sites.push_back(&entries[i]);
  }
  os << llvm::format("profile: %u run%s, %.3f ms per run: %.3f ms in %zu ops, "
                     "%.3f ms between them (inputs, outputs, allocation)\n",
                     runs, runs == 1 ? "" : "s", wallMs, totalMs, count,
                     std::max(0.0, wallMs - totalMs));
  std::vector<std::pair<std::string, std::pair<double, unsigned>>> kinds;
  for (const auto &entry : byKind)
    kinds.push_back({entry.getKey().str(), entry.getValue()});
  llvm::sort(kinds, [](const auto &a, const auto &b) {
    return a.second.first > b.second.first;
  });
  os << "  by op:          ms/run      %   ops\n";
  for (const auto &[kind, time] : kinds)
    os << llvm::format("    %-14s %8.3f %6.1f %5u\n", kind.c_str(), time.first,
                       wallMs > 0 ? 100 * time.first / wallMs : 0.0,
                       time.second);
  llvm::sort(sites, [](const tfc_profile_entry *a, const tfc_profile_entry *b) {
    return a->seconds > b->seconds;
  });
  os << "  slowest ops:    ms/run      %   op and ONNX node\n";
  for (size_t i = 0; i < sites.size() && i < profileLines; ++i) {
    double ms = sites[i]->seconds * 1e3 / runs;
    os << llvm::format("                 %8.3f %6.1f   %s\n", ms,
                       wallMs > 0 ? 100 * ms / wallMs : 0.0, sites[i]->site);
  }
}

} // namespace

int tfc::driver::runRun(MLIRContext &context) {
  if (modelPath.empty()) {
    llvm::errs() << "tfc: error: no model given; usage: tfc run <model.onnx | "
                    "libmodel.so> [--input name=file.npy]... [-o dir]\n";
    return 1;
  }
  OnnxImportOptions importOptions;
  importOptions.runOnnxChecker = !skipOnnxChecker;
  if (failed(parseInputShapes(inputShapes, importOptions)))
    return 1;

  // A library to load: the one given, or one compiled now.
  std::string libraryPath = modelPath;
  std::string symbolName = librarySymbolName;
  llvm::SmallString<128> temporaryDirectory;
  auto cleanup = llvm::make_scope_exit([&] {
    if (!temporaryDirectory.empty())
      llvm::sys::fs::remove_directories(temporaryDirectory);
  });
  if (!StringRef(modelPath).ends_with(".so")) {
    if (std::error_code ec =
            llvm::sys::fs::createUniqueDirectory("tfc-run", temporaryDirectory)) {
      llvm::errs() << "tfc: error: cannot create a temporary directory: "
                   << ec.message() << "\n";
      return 1;
    }
    OwningOpRef<ModuleOp> module = loadModel(modelPath, importOptions, context);
    if (!module)
      return 1;
    CompileOptions compile;
    symbolName = "model";
    compile.output.modelName = symbolName;
    compile.output.outputStem = (temporaryDirectory + "/model").str();
    compile.output.emit = EmitKind::SharedLibrary;
    compile.profile = profileOps;
    CpuTargetOptions cpu;
    cpu.machine = getHostCpuMachine();
    cpu.runtimeLibrary = findRuntimeLibrary();
    std::unique_ptr<Target> target = createCpuTarget(std::move(cpu));
    if (failed(compileModel(*module, *target, compile, libraryPath)))
      return 1;
  } else if (symbolName.empty()) {
    StringRef stem = llvm::sys::path::stem(modelPath);
    stem.consume_front("lib");
    symbolName = toCIdentifier(stem);
  }

  RuntimeApi api;
  std::string error;
  // dlopen would block on a FIFO, and reads anything else as it comes.
  if (llvm::sys::fs::file_status status;
      llvm::sys::fs::status(libraryPath, status) ||
      !llvm::sys::fs::is_regular_file(status)) {
    llvm::errs() << "tfc: error: '" << libraryPath
                 << "' is not a regular file (a model library or an ONNX "
                    "model)\n";
    return 1;
  }
  if (!api.load(libraryPath, symbolName, error)) {
    llvm::errs() << "tfc: error: cannot load '" << libraryPath << "': " << error << "\n";
    return 1;
  }
  tfc_options options;
  std::memset(&options, 0, sizeof(options));
  options.num_threads = numThreads;
  if (!weightsPath.empty())
    options.weights_path = weightsPath.c_str();
  tfc_model *model = nullptr;
  if (api.create(api.modelDef(), &options, &model) != TFC_OK) {
    llvm::errs() << "tfc: error: " << api.lastError() << "\n";
    return 1;
  }
  auto destroy = llvm::make_scope_exit([&] { api.destroy(model); });
  if (!quiet)
    llvm::outs() << "target: " << api.target(model) << "\n";
  size_t numInputs = api.numInputs(model), numOutputs = api.numOutputs(model);
  auto inputIndex = [&](StringRef name) -> int {
    for (size_t i = 0; i < numInputs; ++i)
      if (name == api.input(model, i)->name)
        return i;
    return -1;
  };

  // Inputs: from files, else generated from the declared and given dims.
  std::vector<HostTensor> inputs(numInputs);
  std::vector<bool> given(numInputs, false);
  size_t nextPositional = 0;
  for (const std::string &spec : inputFiles) {
    auto [name, path] = splitBinding(spec);
    int index = name.empty() ? (int)nextPositional++ : inputIndex(name);
    if (index < 0 || index >= (int)numInputs) {
      llvm::errs() << "tfc: error: --input " << spec << ": the model has no "
                   << (name.empty() ? "more inputs" : "input named '" + name + "'")
                   << "\n";
      return 1;
    }
    if (!readNpy(path, inputs[index], error, physicalMemory())) {
      llvm::errs() << "tfc: error: " << error << "\n";
      return 1;
    }
    // NumPy has no bfloat16; such tensors are saved as their uint16 bits.
    if (api.input(model, index)->dtype == TFC_DTYPE_BFLOAT16 &&
        inputs[index].dtype == TFC_DTYPE_UINT16)
      inputs[index].dtype = TFC_DTYPE_BFLOAT16;
    given[index] = true;
  }
  llvm::StringMap<int64_t> dims;
  for (const std::string &spec : dimValues) {
    auto [name, value] = StringRef(spec).split('=');
    int64_t size;
    if (name.empty() || value.getAsInteger(10, size) || size < 0) {
      llvm::errs() << "tfc: error: --dim expects NAME=N such as batch=2, got '"
                   << spec << "'\n";
      return 1;
    }
    dims[name] = size;
  }
  std::mt19937 random(seed);
  uint64_t generatedBytes = 0;
  for (size_t i = 0; i < numInputs; ++i) {
    if (given[i])
      continue;
    const tfc_tensor_info *info = api.input(model, i);
    HostTensor &tensor = inputs[i];
    tensor.dtype = info->dtype;
    auto pinned = importOptions.inputShapes.find(info->name);
    for (int32_t d = 0; d < info->rank; ++d) {
      int64_t size = info->dims[d];
      if (size < 0 && pinned != importOptions.inputShapes.end() &&
          d < (int32_t)pinned->second.size())
        size = pinned->second[d];
      if (size < 0 && info->dim_names && dims.count(info->dim_names[d]))
        size = dims.lookup(info->dim_names[d]);
      if (size < 0) {
        std::string dimName = info->dim_names ? info->dim_names[d] : "";
        llvm::errs() << "tfc: error: input '" << info->name << "' has a dim "
                     << d << (dimName.empty() ? "" : " ('" + dimName + "')")
                     << " chosen at run time; give it with "
                     << (dimName.empty() ? "--input-shape" : "--dim " + dimName + "=N")
                     << " or pass the input as a .npy file\n";
        return 1;
      }
      tensor.dims.push_back(size);
    }
    std::optional<uint64_t> bytes = byteSize(tensor.dims, tensor.dtype);
    if (!bytes) {
      llvm::errs() << "tfc: error: input '" << info->name << "' of shape "
                   << shapeText(tensor.dims)
                   << " has more bytes than 64 bits count; give smaller dims\n";
      return 1;
    }
    if (__builtin_add_overflow(generatedBytes, *bytes, &generatedBytes) ||
        generatedBytes > physicalMemory()) {
      llvm::errs() << "tfc: error: generating input '" << info->name
                   << "' of shape " << shapeText(tensor.dims) << " ("
                   << *bytes << " bytes) would take more than this machine's "
                   << physicalMemory() << " bytes of memory; give smaller dims\n";
      return 1;
    }
    fillRandom(tensor, info->name, random);
  }

  std::vector<tfc_tensor> inputTensors(numInputs);
  for (size_t i = 0; i < numInputs; ++i) {
    tfc_tensor &t = inputTensors[i];
    std::memset(&t, 0, sizeof(t));
    t.name = api.input(model, i)->name;
    t.dtype = (tfc_dtype)inputs[i].dtype;
    t.rank = inputs[i].dims.size();
    if (t.rank > TFC_MAX_RANK) {
      llvm::errs() << "tfc: error: input '" << t.name << "' has rank " << t.rank
                   << ", above the runtime's " << TFC_MAX_RANK << "\n";
      return 1;
    }
    std::copy(inputs[i].dims.begin(), inputs[i].dims.end(), t.dims);
    t.data = inputs[i].bytes.data();
    t.capacity = inputs[i].bytes.size();
  }
  std::vector<tfc_tensor> outputTensors(numOutputs);
  // The first run allocates the outputs; later ones (--bench) write into the
  // same buffers, as an application calling a model again and again would.
  auto runOnce = [&]() -> bool {
    for (tfc_tensor &t : outputTensors) {
      void *data = t.data;
      size_t capacity = t.capacity;
      std::memset(&t, 0, sizeof(t));
      t.data = data;
      t.capacity = capacity;
    }
    if (api.run(model, inputTensors.data(), numInputs, outputTensors.data(),
                numOutputs) != TFC_OK) {
      llvm::errs() << "tfc: error: " << api.lastError() << "\n";
      return false;
    }
    return true;
  };
  auto freeOutputs = llvm::make_scope_exit([&] {
    for (tfc_tensor &t : outputTensors)
      if (t.data)
        api.freeData(t.data);
  });
  double firstRunMs = 0;
  std::vector<tfc_profile_entry> firstRunProfile;
  std::vector<HostTensor> outputs(numOutputs);
  if (decodeSteps > 0) {
    if (benchRuns > 0) {
      llvm::errs() << "tfc: error: --decode times its own calls; drop --bench "
                      "(--profile gives the steps' ops)\n";
      return 1;
    }
    // --profile: the steps' ops, per step.
    if (!runDecode(api, model, inputs, decodeSteps, profileOps, outputs,
                   firstRunMs))
      return 1;
  } else {
    auto start = std::chrono::steady_clock::now();
    if (!runOnce())
      return 1;
    firstRunMs = std::chrono::duration<double, std::milli>(
                     std::chrono::steady_clock::now() - start)
                     .count();
  }
  if (profileOps) {
    size_t count = 0;
    if (api.profile)
      api.profile(model, &count);
    if (count == 0) {
      llvm::errs() << "tfc: error: --profile: '" << libraryPath
                   << "' was compiled without profiling; compile it with "
                      "tfc compile --profile\n";
      return 1;
    }
    // Printed after the outputs; the bench runs, after the warm-up ones,
    // are the ones profiled.
    const tfc_profile_entry *entries = api.profile(model, &count);
    firstRunProfile.assign(entries, entries + count);
    api.clearProfile(model);
  }

  for (size_t i = 0; i < numOutputs && decodeSteps == 0; ++i) {
    tfc_tensor &t = outputTensors[i];
    outputs[i].dtype = t.dtype;
    outputs[i].dims.assign(t.dims, t.dims + t.rank);
    auto *data = static_cast<uint8_t *>(t.data);
    outputs[i].bytes.assign(data, data + outputs[i].numElements() * dtypeBytes(t.dtype));
  }
  for (size_t i = 0; i < numOutputs && !quiet; ++i)
    llvm::outs() << "output " << api.output(model, i)->name << ": "
                 << dtypeName(outputs[i].dtype) << " "
                 << shapeText(outputs[i].dims) << "\n";

  if (profileOps && benchRuns == 0) {
    unsigned runs = decodeSteps > 0 ? decodeSteps : 1;
    printProfile(firstRunProfile.data(), firstRunProfile.size(), runs,
                 firstRunMs / runs, llvm::outs());
  }

  int status = 0;
  if (!outputDirectory.empty()) {
    if (std::error_code ec = llvm::sys::fs::create_directories(outputDirectory)) {
      llvm::errs() << "tfc: error: cannot create '" << outputDirectory
                   << "': " << ec.message() << "\n";
      return 1;
    }
    auto fileName = [](std::string name) {
      for (char &c : name)
        if (c == '/' || c == '\\')
          c = '_';
      return name;
    };
    for (size_t i = 0; i < numOutputs; ++i) {
      std::string path = outputDirectory + "/" + fileName(api.output(model, i)->name) + ".npy";
      if (!writeNpy(path, outputs[i], error)) {
        llvm::errs() << "tfc: error: " << error << "\n";
        return 1;
      }
    }
    // Generated inputs too, so that the run can be reproduced elsewhere.
    for (size_t i = 0; i < numInputs; ++i) {
      if (given[i])
        continue;
      std::string path =
          outputDirectory + "/input_" + fileName(api.input(model, i)->name) + ".npy";
      if (!writeNpy(path, inputs[i], error)) {
        llvm::errs() << "tfc: error: " << error << "\n";
        return 1;
      }
    }
  }

  size_t nextExpected = 0;
  for (const std::string &spec : expectedFiles) {
    auto [name, path] = splitBinding(spec);
    int index = -1;
    if (name.empty()) {
      index = nextExpected++;
    } else {
      for (size_t i = 0; i < numOutputs; ++i)
        if (name == api.output(model, i)->name)
          index = i;
    }
    if (index < 0 || index >= (int)numOutputs) {
      llvm::errs() << "tfc: error: --expect " << spec << ": the model has no "
                   << (name.empty() ? "more outputs" : "output named '" + name + "'")
                   << "\n";
      return 1;
    }
    HostTensor expected;
    if (!readNpy(path, expected, error)) {
      llvm::errs() << "tfc: error: " << error << "\n";
      return 1;
    }
    const char *outputName = api.output(model, index)->name;
    const HostTensor &actual = outputs[index];
    if (actual.dtype == TFC_DTYPE_BFLOAT16 && expected.dtype == TFC_DTYPE_UINT16)
      expected.dtype = TFC_DTYPE_BFLOAT16;
    if (expected.dims != actual.dims || expected.dtype != actual.dtype) {
      llvm::outs() << "MISMATCH " << outputName << ": got " << dtypeName(actual.dtype)
                   << " " << shapeText(actual.dims) << ", expected "
                   << dtypeName(expected.dtype) << " " << shapeText(expected.dims)
                   << "\n";
      status = 1;
      continue;
    }
    Comparison result = compare(actual, expected, relativeTolerance, absoluteTolerance);
    if (result.mismatches) {
      int64_t i = result.firstMismatch;
      llvm::outs() << "MISMATCH " << outputName << ": " << result.mismatches << " of "
                   << actual.numElements() << " elements differ; first at "
                   << i << ": got " << elementAsDouble(actual, i) << ", expected "
                   << elementAsDouble(expected, i) << " (max abs error "
                   << result.maxAbsolute << ")\n";
      status = 1;
    } else if (!quiet) {
      llvm::outs() << "match " << outputName << ": max abs error "
                   << llvm::format("%.3g", result.maxAbsolute) << ", max rel error "
                   << llvm::format("%.3g", result.maxRelative) << " (of max |reference|)\n";
    }
  }

  if (benchRuns > 0) {
    // A second warm-up: the first run recorded the memory plan, and this one
    // is the first to use its arena, whose pages the system maps in on first
    // touch (a run of ViT-S at batch 8 took four times as long). Both are
    // once per input shape; the timed runs are the steady state.
    if (!runOnce())
      return 1;
    if (profileOps)
      api.clearProfile(model);
    std::vector<double> times;
    for (unsigned i = 0; i < benchRuns; ++i) {
      auto start = std::chrono::steady_clock::now();
      if (!runOnce())
        return 1;
      auto end = std::chrono::steady_clock::now();
      times.push_back(std::chrono::duration<double, std::milli>(end - start).count());
    }
    // Runs after the first replay its memory plan (buffers placed in one
    // arena by lifetime): a plan that overlapped two live buffers would
    // show here, so the last run must compute what the first did, bit for
    // bit (every kernel's order of operations is fixed).
    for (size_t i = 0; i < numOutputs; ++i) {
      const tfc_tensor &t = outputTensors[i];
      if (std::memcmp(t.data, outputs[i].bytes.data(), outputs[i].bytes.size())) {
        llvm::errs() << "tfc: error: output '" << api.output(model, i)->name
                     << "' of the last --bench run differs from the first "
                        "run's\n";
        return 1;
      }
    }
    double totalMs = 0;
    for (double ms : times)
      totalMs += ms;
    std::sort(times.begin(), times.end());
    if (profileOps) {
      size_t count = 0;
      const tfc_profile_entry *entries = api.profile(model, &count);
      printProfile(entries, count, benchRuns, totalMs / benchRuns, llvm::outs());
    }
    llvm::outs() << "bench: " << benchRuns << " runs, median "
                 << llvm::format("%.3f", times[times.size() / 2]) << " ms, min "
                 << llvm::format("%.3f", times.front()) << " ms\n";
  }
  return status;
}
