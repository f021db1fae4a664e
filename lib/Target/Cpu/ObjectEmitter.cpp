//===- ObjectEmitter.cpp - LLVM IR to an object file for the host CPU -----===//

#include "tfc/Target/CpuCodegen.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/Triple.h"
#include "llvm/Transforms/Instrumentation/AddressSanitizer.h"

using namespace mlir;

/// Every code generator LLVM was built with: the host's, and the ones
/// --target-triple cross-compiles with (AArch64).
static void initializeTargets() {
  static bool initialized = [] {
    llvm::InitializeAllTargetInfos();
    llvm::InitializeAllTargets();
    llvm::InitializeAllTargetMCs();
    llvm::InitializeAllAsmPrinters();
    return true;
  }();
  (void)initialized;
}

tfc::CpuMachine mlir::tfc::getHostCpuMachine() {
  CpuMachine target;
  target.triple = llvm::sys::getDefaultTargetTriple();
  target.cpu = llvm::sys::getHostCPUName().str();
  std::vector<std::string> features;
  for (const auto &feature : llvm::sys::getHostCPUFeatures())
    features.push_back((feature.second ? "+" : "-") + feature.first().str());
  llvm::sort(features);
  target.features = llvm::join(features, ",");
  target.isHost = true;
  return target;
}

LogicalResult mlir::tfc::verifyCpuMachine(const CpuMachine &machine,
                                          std::string &error) {
  initializeTargets();
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(machine.triple, error);
  if (!llvmTarget)
    return failure();
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      llvmTarget->createMCSubtargetInfo(machine.triple, "", ""));
  if (!subtarget || machine.cpu.empty() ||
      subtarget->isCPUStringValid(machine.cpu))
    return success();
  error = "unknown CPU '" + machine.cpu + "' for " + machine.triple;
  if (llvm::Triple(machine.triple).getArch() == llvm::Triple::x86_64)
    error += " (deployment levels: x86-64, x86-64-v2, x86-64-v3 for AVX2, "
             "x86-64-v4 for AVX-512; or a CPU by LLVM's name: haswell, "
             "skylake-avx512, znver3, ...)";
  return failure();
}

std::string mlir::tfc::describeCpuMachine(const CpuMachine &machine) {
  llvm::Triple triple(machine.triple);
  std::string isa = getKernelIsa(machine);
  std::string text = triple.getArchName().str() + ", CPU " + machine.cpu;
  if (machine.isHost)
    text += " (the compiling machine's)";
  StringRef base = StringRef(isa).split('+').first;
  if (base == "avx512")
    text += ", AVX-512 kernels";
  else if (base == "avx2")
    text += ", AVX2 kernels";
  else if (isa == "neon")
    text += ", NEON kernels";
  else
    text += ", no kernels (generated code only)";
  if (StringRef(isa).contains("+vnni"))
    text += base == "avx512" ? " with VNNI" : " with AVX-VNNI";
  if (StringRef(isa).contains("+bf16"))
    text += " and AVX512-BF16";
  if (StringRef(isa).contains("+amx"))
    text += " and AMX";
  if (machine.isHost)
    return text + ": may use any instruction this CPU has; for other CPUs "
                  "compile with --target-cpu (x86-64-v3 runs on any AVX2 "
                  "CPU, x86-64-v4 on any AVX-512 one)";
  // The x86-64 levels (psABI): what a deployment target promises.
  std::string runsOn = llvm::StringSwitch<std::string>(machine.cpu)
      .Case("x86-64", "any x86-64 CPU")
      .Case("x86-64-v2", "any x86-64 CPU with SSE4.2 and POPCNT")
      .Case("x86-64-v3", "any x86-64 CPU with AVX2, FMA, BMI2 and F16C")
      .Case("x86-64-v4", "any x86-64 CPU with AVX-512 F, BW, DQ, CD and VL")
      .Case("generic", "any " + triple.getArchName().str() + " CPU")
      .Case("", "any " + triple.getArchName().str() + " CPU")
      .Default("CPUs with every feature of " + machine.cpu);
  if (!machine.features.empty())
    runsOn += " and " + machine.features;
  return text + ": runs on " + runsOn;
}

std::string mlir::tfc::getKernelIsa(const CpuMachine &target) {
  llvm::Triple triple(target.triple);
  // Advanced SIMD is part of every AArch64 CPU (the ABI passes floats in its
  // registers).
  if (triple.getArch() == llvm::Triple::aarch64)
    return "neon";
  if (triple.getArch() != llvm::Triple::x86_64)
    return triple.getArchName().str();
  initializeTargets();
  std::string error;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(target.triple, error);
  if (!llvmTarget)
    return "none";
  std::unique_ptr<llvm::MCSubtargetInfo> subtarget(
      llvmTarget->createMCSubtargetInfo(target.triple, target.cpu,
                                        target.features));
  if (!subtarget)
    return "none";
  // What the kernel variants are compiled with (lib/Kernels/CMakeLists.txt).
  // Then the extensions some kernels use (int8 and bf16 dot products).
  if (subtarget->checkFeatures("+avx512f,+avx512bw,+avx512dq,+avx512vl,+fma")) {
    std::string isa = "avx512";
    if (subtarget->checkFeatures("+avx512vnni"))
      isa += "+vnni";
    if (subtarget->checkFeatures("+avx512bf16"))
      isa += "+bf16";
    // The tile products of the bf16 and int8 linear kernels (amx.h) use
    // all three.
    if (subtarget->checkFeatures("+amx-tile,+amx-bf16,+amx-int8"))
      isa += "+amx";
    return isa;
  }
  if (subtarget->checkFeatures("+avx2,+fma"))
    return subtarget->checkFeatures("+avxvnni") ? "avx2+vnni" : "avx2";
  return "x86-64";
}

LogicalResult mlir::tfc::emitObjectFile(llvm::Module &module,
                                        const CpuMachine &target,
                                        llvm::raw_pwrite_stream &out,
                                        std::string &error,
                                        const ObjectOptions &objectOptions) {
  initializeTargets();
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(target.triple, error);
  if (!llvmTarget)
    return failure();
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      target.triple, target.cpu, target.features, options, llvm::Reloc::PIC_,
      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine) {
    error = "cannot create a target machine for " + target.triple + " (cpu " +
            target.cpu + ")";
    return failure();
  }
  module.setDataLayout(machine->createDataLayout());
  module.setTargetTriple(target.triple);
  // The optimizer's cost models (vector widths above all) read these.
  for (llvm::Function &function : module) {
    if (function.isDeclaration())
      continue;
    function.addFnAttr("target-cpu", target.cpu);
    function.addFnAttr("target-features", target.features);
    // The sanitizer instruments only the functions that ask for it.
    if (objectOptions.addressSanitizer)
      function.addFnAttr(llvm::Attribute::SanitizeAddress);
  }

  llvm::LoopAnalysisManager loopAnalyses;
  llvm::FunctionAnalysisManager functionAnalyses;
  llvm::CGSCCAnalysisManager cgsccAnalyses;
  llvm::ModuleAnalysisManager moduleAnalyses;
  llvm::PassBuilder passBuilder(machine.get());
  passBuilder.registerModuleAnalyses(moduleAnalyses);
  passBuilder.registerCGSCCAnalyses(cgsccAnalyses);
  passBuilder.registerFunctionAnalyses(functionAnalyses);
  passBuilder.registerLoopAnalyses(loopAnalyses);
  passBuilder.crossRegisterProxies(loopAnalyses, functionAnalyses,
                                   cgsccAnalyses, moduleAnalyses);
  if (objectOptions.addressSanitizer)
    passBuilder.registerOptimizerLastEPCallback(
        [](llvm::ModulePassManager &passes, llvm::OptimizationLevel) {
          passes.addPass(llvm::AddressSanitizerPass(llvm::AddressSanitizerOptions()));
        });
  llvm::ModulePassManager optimizer =
      passBuilder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  optimizer.run(module, moduleAnalyses);

  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, out, nullptr,
                                   llvm::CodeGenFileType::ObjectFile)) {
    error = "the target cannot emit object files";
    return failure();
  }
  codegen.run(module);
  return success();
}
