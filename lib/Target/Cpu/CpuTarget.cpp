//===- CpuTarget.cpp - the CPU code generation target ---------------------===//
//
// The CPU target strings its steps together (CpuCodegen.h): the lowering
// pipeline with kernels for the machine's instruction set, the weights
// (embedded, or a file beside the library), LLVM IR with the runtime's
// entry point, an object optimized for the machine, and the library: the
// object with the runtime's archive, written in-process (.a) or linked by
// the system's C compiler driver (.so).
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cpu/CpuTarget.h"
#include "tfc/Target/Cpu/KernelTable.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Object/Archive.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"

#include <vector>

using namespace mlir;
using namespace mlir::tfc;

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

/// lib<name>.so, linked by the C compiler driver ($TFC_LINKER, else cc; for
/// another architecture, clang with that target and lld, which find the
/// architecture's C library where Debian's cross packages put it).
static LogicalResult writeSharedLibrary(StringRef path, StringRef objectPath,
                                        StringRef runtimePath,
                                        const llvm::Triple &triple) {
  bool cross = triple.getArch() !=
               llvm::Triple(llvm::sys::getDefaultTargetTriple()).getArch();
  std::string driver = cross ? "clang-19" : "cc";
  if (auto fromEnv = llvm::sys::Process::GetEnv("TFC_LINKER"))
    driver = *fromEnv;
  auto program = llvm::sys::findProgramByName(driver);
  if (!program && cross && driver == "clang-19")
    program = llvm::sys::findProgramByName("clang");
  if (!program) {
    llvm::errs() << "tfc: error: cannot find the linker driver '" << driver
                 << "' on PATH; install a C compiler, set TFC_LINKER, or use "
                    "--emit=lib or --emit=obj\n";
    return failure();
  }
  if (!llvm::sys::fs::exists(runtimePath)) {
    llvm::errs() << "tfc: error: cannot find the runtime library '" << runtimePath
                 << "' (use --runtime-lib or TFC_RUNTIME_LIB"
                 << (cross ? "; the build cross-compiles a runtime for "
                             "aarch64 only, when its C library "
                             "(libc6-dev-arm64-cross) is installed"
                           : "")
                 << ")\n";
    return failure();
  }
  std::string targetFlag = "--target=" + triple.str();
  SmallVector<StringRef> args = {*program};
  if (cross)
    args.append({targetFlag, "-fuse-ld=lld"});
  args.append({"-shared", "-o", path, objectPath, "-Wl,--whole-archive",
               runtimePath, "-Wl,--no-whole-archive", "-lm", "-lpthread", "-ldl"});
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(*program, args, std::nullopt, {}, 0, 0, &error);
  if (rc != 0) {
    llvm::errs() << "tfc: error: linking '" << path << "' with " << *program
                 << " failed" << (error.empty() ? "" : ": " + error) << "\n";
    return failure();
  }
  return success();
}

LogicalResult mlir::tfc::emitModelLibrary(llvm::Module &module,
                                          const CpuMachine &machine,
                                          const ObjectOptions &objectOptions,
                                          StringRef runtimeLibrary,
                                          const EmitOptions &output,
                                          TimingScope &timing,
                                          std::string &producedPath) {
  StringRef stem = llvm::sys::path::filename(output.outputStem);
  if (output.emit == EmitKind::LlvmIr) {
    producedPath = output.pathFor(stem + ".ll");
    std::string text;
    llvm::raw_string_ostream os(text);
    module.print(os, nullptr);
    return writeOutputFile(producedPath, text);
  }
  // The object: the product itself, or a temporary for the libraries.
  TimingScope codegenTimer = timing.nest("Optimize and emit code");
  std::string objectPath = output.pathFor(stem + ".o");
  llvm::SmallString<128> temporaryObject;
  if (output.emit != EmitKind::Object) {
    if (std::error_code ec = llvm::sys::fs::createTemporaryFile(
            "tfc-" + output.modelName, "o", temporaryObject)) {
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
    if (failed(emitObjectFile(module, machine, object->os(), error,
                              objectOptions))) {
      llvm::errs() << "tfc: error: code generation failed: " << error << "\n";
      return failure();
    }
    object->keep();
  }
  codegenTimer.stop();

  TimingScope writeTimer = timing.nest("Write the library");
  llvm::Triple triple(machine.triple);
  switch (output.emit) {
  case EmitKind::Object:
    producedPath = objectPath;
    return success();
  case EmitKind::StaticLibrary:
    producedPath = output.pathFor("lib" + stem + ".a");
    return writeStaticLibrary(producedPath, objectPath, runtimeLibrary);
  case EmitKind::SharedLibrary:
    producedPath = output.pathFor("lib" + stem + ".so");
    return writeSharedLibrary(producedPath, objectPath, runtimeLibrary, triple);
  default:
    llvm::errs() << "tfc: error: this kind of output is not an object or a "
                    "library\n";
    return failure();
  }
}

namespace {

class CpuTarget : public Target {
public:
  explicit CpuTarget(CpuTargetOptions options)
      : options(std::move(options)),
        kernelIsa(getKernelIsa(this->options.machine)),
        description(describeCpuMachine(this->options.machine)) {}

  StringRef getName() const override { return "cpu"; }

  std::string describe() const override { return description; }

  void registerDialects(DialectRegistry &registry) const override {
    registerCpuCodegenDialects(registry);
  }

  void buildLoweringPipeline(OpPassManager &pm) const override {
    buildCpuLoweringPipeline(pm, kernelIsa, options.selection);
  }

  LogicalResult emit(ModuleOp lowered, StringRef graphName,
                     const ModelSignature &signature,
                     const EmitOptions &output, TimingScope &timing,
                     std::string &producedPath) override;

private:
  CpuTargetOptions options;
  std::string kernelIsa;
  /// describeCpuMachine's line, for the header and the model definition.
  std::string description;
};

} // namespace

LogicalResult CpuTarget::emit(ModuleOp lowered, StringRef graphName,
                              const ModelSignature &signature,
                              const EmitOptions &output, TimingScope &timing,
                              std::string &producedPath) {
  StringRef stem = llvm::sys::path::filename(output.outputStem);
  if (options.object.addressSanitizer && output.emit != EmitKind::Object) {
    // The libraries link the runtime as shipped, without the sanitizer's.
    llvm::errs() << "tfc: error: --sanitize=address needs --emit=obj: link "
                    "the object with a runtime and a program built with "
                    "-fsanitize=address\n";
    return failure();
  }

  // Weights: a file beside the library when asked, or when embedding them
  // would make an object too large to link comfortably.
  constexpr uint64_t kSmallConstantBytes = 1024; // stay in the code
  constexpr uint64_t kEmbedLimitBytes = uint64_t(1) << 30;
  WeightsFile weights;
  bool weightsToFile =
      output.weights == WeightsPlacement::File ||
      (output.weights == WeightsPlacement::Auto &&
       countWeightBytes(lowered, kSmallConstantBytes) > kEmbedLimitBytes);
  if (weightsToFile) {
    TimingScope weightsTimer = timing.nest("Write the weights file");
    auto written = externalizeWeights(lowered, output.modelName,
                                      output.pathFor(stem + ".weights"),
                                      kSmallConstantBytes);
    if (failed(written))
      return failure();
    weights = *written;
  }

  if (output.emit == EmitKind::Mlir) {
    producedPath = output.pathFor(stem + ".mlir");
    return writeModuleFile(producedPath, lowered);
  }

  TimingScope translateTimer = timing.nest("Translate to LLVM IR");
  llvm::LLVMContext llvmContext;
  ModelBuild build{description, static_cast<uint32_t>(
                                   cpu::encodeIsa(kernelIsa).value_or(0))};
  auto llvmModule = buildModelModule(lowered, graphName, signature,
                                     output.modelName, weights, build,
                                     llvmContext);
  if (failed(llvmModule))
    return failure();
  translateTimer.stop();

  return emitModelLibrary(**llvmModule, options.machine, options.object,
                          options.runtimeLibrary, output, timing, producedPath);
}

std::unique_ptr<Target> mlir::tfc::createCpuTarget(CpuTargetOptions options) {
  return std::make_unique<CpuTarget>(std::move(options));
}
