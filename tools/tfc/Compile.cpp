//===- Compile.cpp - tfc compile ------------------------------------------===//
//
// `tfc compile model.onnx -o out/model`: the model as native code for the
// host CPU plus its C header. The object comes from LLVM in-process; a
// static library is written in-process too (the object plus the runtime's
// members); a shared library is linked by the system's C compiler driver.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "tfc/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Object/Archive.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ToolOutputFile.h"

#include <map>
#include <optional>
#include <vector>

using namespace mlir;
namespace cl = llvm::cl;
using tfc::driver::EmitKind;

cl::SubCommand tfc::driver::compileCommand(
    "compile",
    "Compile an ONNX model to native code for this machine's CPU.\n"
    "  Writes a shared library (default), static library or object file\n"
    "  plus a C header declaring <name>_create() and the tensors' layout.\n"
    "  Example: tfc compile bert.onnx -o out/bert   (out/libbert.so, out/bert.h)\n");

cl::OptionCategory tfc::driver::compileCategory("Compile options");

static cl::opt<std::string> modelPath(cl::Positional, cl::desc("<model.onnx>"),
                                      cl::sub(tfc::driver::compileCommand),
                                      cl::cat(tfc::driver::compileCategory));

static cl::opt<std::string> outputStem(
    "o",
    cl::desc("Output path without extension: -o out/bert writes out/libbert.so "
             "(or .a, bert.o, bert.ll, bert.mlir) and out/bert.h. The file it "
             "writes may be named instead (-o out/libbert.so), or a directory "
             "(-o out/: the model's file name in it). Defaults to the model's "
             "file name in the current directory"),
    cl::value_desc("path"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::opt<EmitKind> emitKind(
    "emit", cl::desc("What to write"), cl::init(EmitKind::SharedLibrary),
    cl::values(
        clEnumValN(EmitKind::SharedLibrary, "shared",
                   "lib<name>.so: the model and the runtime, ready to link"),
        clEnumValN(EmitKind::StaticLibrary, "lib",
                   "lib<name>.a: the model and the runtime's objects"),
        clEnumValN(EmitKind::Object, "obj",
                   "<name>.o: the model only; link libtfc_runtime.a with it"),
        clEnumValN(EmitKind::Tfm, "tfm",
                   "<name>.tfm.mlir: the optimized graph in the tfm dialect, "
                   "before lowering (read it back with tfc-opt)"),
        clEnumValN(EmitKind::Mlir, "mlir",
                   "<name>.mlir: the model lowered to MLIR's LLVM dialect"),
        clEnumValN(EmitKind::LlvmIr, "llvm",
                   "<name>.ll: the model as LLVM IR, before optimization")),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<bool> noFuse(
    "no-fuse",
    cl::desc("Skip the fusion passes (layer norm, GELU, projections, attention, "
             "epilogues): compile the graph op by op, to measure what fusion "
             "brings"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::list<std::string> disabledFusions(
    "disable-fusion",
    cl::desc("Skip one fusion: layer-norm, gelu, projections, attention or "
             "epilogues (repeat, or separate with commas), to find which one "
             "changes a model's outputs or speed"),
    cl::CommaSeparated, cl::value_desc("name"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<bool> fusionReport(
    "fusion-report",
    cl::desc("Print how many attention, layer_norm, rms_norm, gelu and matmul "
             "epilogue fusions fired, and each rejected candidate with the reason"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<bool> profile(
    "profile",
    cl::desc("Time every graph op at run time: the library sums the time "
             "per op, which `tfc run --profile` prints and apps read with "
             "tfc_model_profile(). Costs two clock reads per op per run"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<tfc::driver::WeightsPlacement> weightsPlacement(
    "weights", cl::desc("Where the weights go"),
    cl::init(tfc::driver::WeightsPlacement::Auto),
    cl::values(
        clEnumValN(tfc::driver::WeightsPlacement::Auto, "auto",
                   "embed up to 1 GiB of weights, else a file (default)"),
        clEnumValN(tfc::driver::WeightsPlacement::Embed, "embed",
                   "in the library's read-only data: one self-contained file"),
        clEnumValN(tfc::driver::WeightsPlacement::File, "file",
                   "in <name>.weights beside the library, memory-mapped at "
                   "create time (found next to the library, or via "
                   "tfc_options.weights_path)")),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<std::string> modelName(
    "name",
    cl::desc("The model's C name, the prefix of its exported symbols "
             "(<name>_model_def, <name>_create); two models in one app need "
             "different names. Defaults to the output file name"),
    cl::value_desc("identifier"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::list<std::string> inputShapes(
    "input-shape",
    cl::desc("Pin a graph input's shape, e.g. input_ids=1x128 ('?' keeps a "
             "dim chosen at run time). Repeat for several inputs"),
    cl::value_desc("name=DIMS"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::opt<std::string> targetCpu(
    "target-cpu",
    cl::desc("The CPU to generate code for (LLVM's names: skylake-avx512, "
             "znver3, x86-64-v3, ...). Defaults to this machine's"),
    cl::value_desc("cpu"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::opt<std::string> targetFeatures(
    "target-features",
    cl::desc("CPU features, LLVM syntax (+avx2,-avx512f). Defaults to this "
             "machine's when --target-cpu is not given, else to that CPU's"),
    cl::value_desc("features"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

enum class Sanitizer { None, Address };
static cl::opt<Sanitizer> sanitizer(
    "sanitize", cl::desc("Instrument the model's code (for testing)"),
    cl::init(Sanitizer::None),
    cl::values(clEnumValN(Sanitizer::Address, "address",
                          "AddressSanitizer: link the object into a program "
                          "built with -fsanitize=address, with a runtime "
                          "built so too (--emit=obj)")),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<bool> skipOnnxChecker(
    "no-onnx-checker",
    cl::desc("Skip libonnx's model checker and shape inference"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<bool> showTiming(
    "time", cl::desc("Report the time each stage took, on stderr"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<std::string> runtimeLibraryOption(
    "runtime-lib",
    cl::desc("The tfc runtime archive to link (default: ../lib/"
             "libtfc_runtime.a next to tfc, or $TFC_RUNTIME_LIB)"),
    cl::value_desc("path"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

//===----------------------------------------------------------------------===//

static LogicalResult writeFile(StringRef path, StringRef contents) {
  std::string error;
  auto file = openOutputFile(path, &error);
  if (!file) {
    llvm::errs() << "tfc: error: " << error << "\n";
    return failure();
  }
  file->os() << contents;
  file->keep();
  return success();
}

/// lib<name>.a: the model's object plus every member of the runtime archive.
static LogicalResult writeStaticLibrary(StringRef path, StringRef objectPath,
                                        StringRef runtimePath) {
  std::vector<llvm::NewArchiveMember> members;
  auto object = llvm::NewArchiveMember::getFile(objectPath, /*Deterministic=*/true);
  if (!object) {
    llvm::errs() << "tfc: error: " << llvm::toString(object.takeError()) << "\n";
    return failure();
  }
  members.push_back(std::move(*object));

  auto buffer = llvm::MemoryBuffer::getFile(runtimePath);
  if (!buffer) {
    llvm::errs() << "tfc: error: cannot read the runtime library '" << runtimePath
                 << "': " << buffer.getError().message()
                 << " (use --runtime-lib or TFC_RUNTIME_LIB)\n";
    return failure();
  }
  auto archive = llvm::object::Archive::create((*buffer)->getMemBufferRef());
  if (!archive) {
    llvm::errs() << "tfc: error: '" << runtimePath << "' is not an archive: "
                 << llvm::toString(archive.takeError()) << "\n";
    return failure();
  }
  llvm::Error error = llvm::Error::success();
  for (const llvm::object::Archive::Child &child : (*archive)->children(error)) {
    auto member = llvm::NewArchiveMember::getOldMember(child, true);
    if (!member) {
      llvm::errs() << "tfc: error: " << llvm::toString(member.takeError()) << "\n";
      return failure();
    }
    members.push_back(std::move(*member));
  }
  if (error) {
    llvm::errs() << "tfc: error: " << llvm::toString(std::move(error)) << "\n";
    return failure();
  }
  if (llvm::Error writeError = llvm::writeArchive(
          path, members, llvm::SymtabWritingMode::NormalSymtab,
          llvm::object::Archive::K_GNU, /*Deterministic=*/true, /*Thin=*/false)) {
    llvm::errs() << "tfc: error: cannot write '" << path
                 << "': " << llvm::toString(std::move(writeError)) << "\n";
    return failure();
  }
  return success();
}

/// lib<name>.so, linked by the C compiler driver (cc, or $TFC_LINKER).
static LogicalResult writeSharedLibrary(StringRef path, StringRef objectPath,
                                        StringRef runtimePath) {
  std::string driver = "cc";
  if (auto fromEnv = llvm::sys::Process::GetEnv("TFC_LINKER"))
    driver = *fromEnv;
  auto program = llvm::sys::findProgramByName(driver);
  if (!program) {
    llvm::errs() << "tfc: error: cannot find the linker driver '" << driver
                 << "' on PATH; install a C compiler, set TFC_LINKER, or use "
                    "--emit=lib or --emit=obj\n";
    return failure();
  }
  if (!llvm::sys::fs::exists(runtimePath)) {
    llvm::errs() << "tfc: error: cannot find the runtime library '" << runtimePath
                 << "' (use --runtime-lib or TFC_RUNTIME_LIB)\n";
    return failure();
  }
  SmallVector<StringRef> args = {*program, "-shared", "-o", path, objectPath,
                                 "-Wl,--whole-archive", runtimePath,
                                 "-Wl,--no-whole-archive", "-lm", "-lpthread"};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(*program, args, std::nullopt, {}, 0, 0, &error);
  if (rc != 0) {
    llvm::errs() << "tfc: error: linking '" << path << "' with " << *program
                 << " failed" << (error.empty() ? "" : ": " + error) << "\n";
    return failure();
  }
  return success();
}

namespace {
/// Collects the remarks of the fusion passes ("fused <kind>: <detail>",
/// "not fused as <kind>: <reason>") and prints them grouped by kind.
class FusionReport {
public:
  void add(Diagnostic &diagnostic) {
    std::string message = diagnostic.str();
    StringRef text(message);
    bool fused = text.consume_front("fused ");
    if (!fused && !text.consume_front("not fused as "))
      return;
    auto [kind, detail] = text.split(": ");
    Kind &entry = kinds[kind.str()];
    if (fused) {
      ++entry.fused;
      ++entry.details[detail.str()];
      return;
    }
    std::string where;
    llvm::raw_string_ostream os(where);
    diagnostic.getLocation().print(os);
    entry.rejected.push_back({os.str(), detail.str()});
  }

  void print(llvm::raw_ostream &os, StringRef model, bool fused) const {
    os << "fusion report for " << model << ":\n";
    if (!fused) {
      os << "  fusion is off (--no-fuse)\n";
      return;
    }
    for (StringRef kind :
         {"attention", "layer_norm", "rms_norm", "gelu", "epilogue"}) {
      auto it = kinds.find(kind.str());
      size_t fusedCount = it == kinds.end() ? 0 : it->second.fused;
      size_t rejectedCount = it == kinds.end() ? 0 : it->second.rejected.size();
      os << llvm::formatv("  {0,-11} {1,4} fused, {2} rejected\n", kind,
                          fusedCount, rejectedCount);
      if (it == kinds.end())
        continue;
      for (const auto &[detail, count] : it->second.details)
        os << "    " << count << " x " << detail << "\n";
      for (const auto &[where, reason] : it->second.rejected)
        os << "    rejected at " << where << ": " << reason << "\n";
    }
  }

private:
  struct Kind {
    size_t fused = 0;
    std::map<std::string, size_t> details;
    std::vector<std::pair<std::string, std::string>> rejected;
  };
  std::map<std::string, Kind> kinds;
};
} // namespace

LogicalResult tfc::driver::compileModel(ModuleOp module,
                                        const CompileRequest &request,
                                        std::string &producedPath) {
  DefaultTimingManager timing;
  timing.setEnabled(request.showTiming);
  TimingScope rootTimer = timing.getRootScope();

  auto graphs = module.getOps<func::FuncOp>();
  if (graphs.empty()) {
    llvm::errs() << "tfc: error: the model has no graph function\n";
    return failure();
  }
  func::FuncOp graph = *graphs.begin();
  FailureOr<ModelSignature> signature = getModelSignature(graph);
  if (failed(signature))
    return failure();
  std::string graphName = request.modelName + "_graph";
  graph.setSymName(graphName);

  StringRef directory = llvm::sys::path::parent_path(request.outputStem);
  StringRef stem = llvm::sys::path::filename(request.outputStem);
  auto pathFor = [&](const Twine &file) {
    llvm::SmallString<256> path(directory);
    llvm::sys::path::append(path, file);
    return std::string(path);
  };
  if (!directory.empty())
    if (std::error_code ec = llvm::sys::fs::create_directories(directory)) {
      llvm::errs() << "tfc: error: cannot create '" << directory
                   << "': " << ec.message() << "\n";
      return failure();
    }

  {
    TimingScope optimizeTimer = rootTimer.nest("Optimize the graph");
    FusionReport report;
    std::optional<ScopedDiagnosticHandler> collectRemarks;
    if (request.fusionReport)
      collectRemarks.emplace(module->getContext(), [&](Diagnostic &diagnostic) {
        if (diagnostic.getSeverity() != DiagnosticSeverity::Remark)
          return failure(); // errors go to the usual handler
        report.add(diagnostic);
        return success();
      });
    PassManager graphPm(module->getContext());
    graphPm.enableTiming(optimizeTimer);
    GraphOptimizationOptions graphOptions;
    graphOptions.fuse = request.fuse;
    graphOptions.emitRemarks = request.fusionReport;
    graphOptions.disabled.assign(request.disabledFusions.begin(),
                                 request.disabledFusions.end());
    buildGraphOptimizationPipeline(graphPm, graphOptions);
    if (request.profile)
      graphPm.addPass(createInsertProfileMarkers());
    if (failed(graphPm.run(module)))
      return failure();
    if (request.fusionReport)
      report.print(llvm::outs(), request.modelName, request.fuse);
  }
  if (request.emit == EmitKind::Tfm) {
    producedPath = pathFor(stem + ".tfm.mlir");
    std::string text;
    llvm::raw_string_ostream os(text);
    module.print(os, OpPrintingFlags().elideLargeElementsAttrs(16));
    return writeFile(producedPath, text);
  }

  // The signature has what the tfm attributes said (the graph passes read
  // the named dims too); LLVM has no use for them.
  for (unsigned i = 0; i < graph.getNumArguments(); ++i)
    graph.setArgAttrs(i, DictionaryAttr::get(module->getContext()));
  for (unsigned i = 0; i < graph.getNumResults(); ++i)
    graph.setResultAttrs(i, DictionaryAttr::get(module->getContext()));

  TimingScope lowerTimer = rootTimer.nest("Lower to the LLVM dialect");
  PassManager pm(module->getContext());
  pm.enableTiming(lowerTimer);
  buildCpuLoweringPipeline(pm, getKernelIsa(request.target));
  if (failed(pm.run(module)))
    return failure();
  lowerTimer.stop();

  // Weights: a file beside the library when asked, or when embedding them
  // would make an object too large to link comfortably.
  constexpr uint64_t kSmallConstantBytes = 1024; // stay in the code
  constexpr uint64_t kEmbedLimitBytes = uint64_t(1) << 30;
  WeightsFile weights;
  bool weightsToFile =
      request.weights == WeightsPlacement::File ||
      (request.weights == WeightsPlacement::Auto &&
       countWeightBytes(module, kSmallConstantBytes) > kEmbedLimitBytes);
  if (weightsToFile) {
    TimingScope weightsTimer = rootTimer.nest("Write the weights file");
    auto written = externalizeWeights(module, request.modelName,
                                      pathFor(stem + ".weights"), kSmallConstantBytes);
    if (failed(written))
      return failure();
    weights = *written;
  }

  if (request.emit == EmitKind::Mlir) {
    producedPath = pathFor(stem + ".mlir");
    std::string text;
    llvm::raw_string_ostream os(text);
    module.print(os, OpPrintingFlags().elideLargeElementsAttrs(16));
    return writeFile(producedPath, text);
  }

  TimingScope translateTimer = rootTimer.nest("Translate to LLVM IR");
  llvm::LLVMContext llvmContext;
  auto llvmModule = buildModelModule(module, graphName, *signature,
                                     request.modelName, weights, llvmContext);
  if (failed(llvmModule))
    return failure();
  translateTimer.stop();
  if (request.emit == EmitKind::LlvmIr) {
    producedPath = pathFor(stem + ".ll");
    std::string text;
    llvm::raw_string_ostream os(text);
    (*llvmModule)->print(os, nullptr);
    return writeFile(producedPath, text);
  }

  // The object: the product itself, or a temporary for the libraries.
  TimingScope codegenTimer = rootTimer.nest("Optimize and emit code");
  std::string objectPath = pathFor(stem + ".o");
  llvm::SmallString<128> temporaryObject;
  if (request.emit != EmitKind::Object) {
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "tfc-" + request.modelName, "o", temporaryObject)) {
      llvm::errs() << "tfc: error: cannot create a temporary file: "
                   << ec.message() << "\n";
      return failure();
    }
    objectPath = std::string(temporaryObject);
  }
  auto removeTemporary = llvm::make_scope_exit([&] {
    if (!temporaryObject.empty())
      llvm::sys::fs::remove(temporaryObject);
  });
  {
    std::string error;
    auto object = openOutputFile(objectPath, &error);
    if (!object) {
      llvm::errs() << "tfc: error: " << error << "\n";
      return failure();
    }
    if (failed(emitObjectFile(**llvmModule, request.target, object->os(), error,
                              request.object))) {
      llvm::errs() << "tfc: error: code generation failed: " << error << "\n";
      return failure();
    }
    object->keep();
  }
  codegenTimer.stop();

  TimingScope writeTimer = rootTimer.nest("Write the library and header");
  switch (request.emit) {
  case EmitKind::Object:
    producedPath = objectPath;
    break;
  case EmitKind::StaticLibrary:
    producedPath = pathFor("lib" + stem + ".a");
    if (failed(writeStaticLibrary(producedPath, objectPath, request.runtimeLibrary)))
      return failure();
    break;
  case EmitKind::SharedLibrary:
    producedPath = pathFor("lib" + stem + ".so");
    if (failed(writeSharedLibrary(producedPath, objectPath, request.runtimeLibrary)))
      return failure();
    break;
  default:
    break;
  }
  return writeFile(pathFor(stem + ".h"),
                   generateModelHeader(*signature, request.modelName));
}

/// The output stem (directory and name, no extension) that -o `option`
/// asks for. -o may also name a directory (the model file's name goes in
/// it) or the file --emit writes (out/libbert.so is the stem out/bert).
static std::string resolveOutputStem(StringRef option, StringRef modelFile,
                                     EmitKind emit) {
  std::string modelStem = llvm::sys::path::stem(modelFile).str();
  if (option.empty())
    return modelStem;
  if (llvm::sys::path::is_separator(option.back()) ||
      llvm::sys::fs::is_directory(option) || option == "." || option == "..") {
    SmallString<256> joined(option);
    llvm::sys::path::append(joined, modelStem);
    return std::string(joined);
  }
  StringRef directory = llvm::sys::path::parent_path(option);
  StringRef file = llvm::sys::path::filename(option);
  StringRef suffix, prefix;
  switch (emit) {
  case EmitKind::SharedLibrary:
    prefix = "lib", suffix = ".so";
    break;
  case EmitKind::StaticLibrary:
    prefix = "lib", suffix = ".a";
    break;
  case EmitKind::Object:
    suffix = ".o";
    break;
  case EmitKind::Tfm:
    suffix = ".tfm.mlir";
    break;
  case EmitKind::Mlir:
    suffix = ".mlir";
    break;
  case EmitKind::LlvmIr:
    suffix = ".ll";
    break;
  }
  if (!file.consume_back(suffix))
    return option.str();
  file.consume_front(prefix);
  if (file.empty())
    return option.str();
  SmallString<256> stem(directory);
  llvm::sys::path::append(stem, file);
  return std::string(stem);
}

int tfc::driver::runCompile(MLIRContext &context) {
  if (modelPath.empty()) {
    llvm::errs() << "tfc: error: no model given; usage: tfc compile "
                    "<model.onnx> [-o out/name] [--emit=shared|lib|obj|mlir|llvm]\n";
    return 1;
  }
  OnnxImportOptions options;
  options.runOnnxChecker = !skipOnnxChecker;
  if (failed(parseInputShapes(inputShapes, options)))
    return 1;

  CompileRequest request;
  request.outputStem = resolveOutputStem(outputStem, modelPath, emitKind);
  request.modelName =
      modelName.empty() ? toCIdentifier(llvm::sys::path::filename(request.outputStem))
                        : modelName.getValue();
  if (!isValidModelName(request.modelName)) {
    llvm::errs() << "tfc: error: --name must be a C identifier (letters, digits, "
                    "'_', not starting with a digit), got '"
                 << request.modelName << "'\n";
    return 1;
  }
  request.emit = emitKind;
  request.target = getHostCpuTarget();
  if (!targetCpu.empty()) {
    request.target.cpu = targetCpu;
    request.target.features.clear();
  }
  if (targetFeatures.getNumOccurrences())
    request.target.features = targetFeatures;
  request.runtimeLibrary = runtimeLibraryOption.empty() ? findRuntimeLibrary()
                                                        : runtimeLibraryOption.getValue();
  request.showTiming = showTiming;
  request.weights = weightsPlacement;
  request.fuse = !noFuse;
  request.profile = profile;
  request.object.addressSanitizer = sanitizer == Sanitizer::Address;
  if (request.object.addressSanitizer && emitKind != EmitKind::Object) {
    // The libraries link the runtime as shipped, without the sanitizer's.
    llvm::errs() << "tfc: error: --sanitize=address needs --emit=obj: link "
                    "the object with a runtime and a program built with "
                    "-fsanitize=address\n";
    return 1;
  }
  request.fusionReport = fusionReport;
  for (const std::string &name : disabledFusions) {
    if (!llvm::is_contained(getFusionNames(), name)) {
      llvm::errs() << "tfc: error: --disable-fusion: unknown fusion '" << name
                   << "' (layer-norm, gelu, projections, attention, epilogues)\n";
      return 1;
    }
    request.disabledFusions.push_back(name);
  }

  OwningOpRef<ModuleOp> module = loadModel(modelPath, options, context);
  if (!module)
    return 1;
  std::string produced;
  if (failed(compileModel(*module, request, produced)))
    return 1;
  return 0;
}
