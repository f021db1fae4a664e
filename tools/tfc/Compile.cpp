//===- Compile.cpp - tfc compile ------------------------------------------===//
//
// `tfc compile model.onnx -o out/model`: the model as native code for the
// host CPU plus its C header. This file reads the options; the compile
// pipeline (lib/Pipeline) and the CPU target (lib/Target/Cpu) do the work.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "Pruning.h"
#include "Reduction.h"
#include "tfc/Target/Cuda/CudaTarget.h"
#include "tfc/Transforms/Passes.h"
#include "tfc/Transforms/Quantization.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/TargetParser/Triple.h"

using namespace mlir;
using namespace mlir::tfc;
namespace cl = llvm::cl;


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
                   "<name>.ll: the model as LLVM IR, before optimization"),
        clEnumValN(EmitKind::Ptx, "ptx",
                   "<name>.ptx: the GPU kernels' PTX (--target=cuda)")),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<bool> noFuse(
    "no-fuse",
    cl::desc("Skip the fusion passes (layer norm, GELU, projections, attention, "
             "linear attention, epilogues): compile the graph op by op, to measure what fusion "
             "brings"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::list<std::string> disabledFusions(
    "disable-fusion",
    cl::desc("Skip one fusion: batch-norm, quantized-linear, layer-norm, gelu, "
             "projections, attention, linear-attention or "
             "epilogues (repeat, or separate with commas), to find which one "
             "changes a model's outputs or speed"),
    cl::CommaSeparated, cl::value_desc("name"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<bool> fusionReport(
    "fusion-report",
    cl::desc("Print how many attention, layer_norm, rms_norm, gelu and matmul "
             "epilogue fusions fired, and each rejected candidate with the reason"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<bool> kernelReport(
    "kernel-report",
    cl::desc("Print, for each op the CPU target has kernels for, the kernel "
             "it chose (with what it found: a sparse weight's zero blocks) "
             "or why it chose none"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<double> sparseThreshold(
    "sparse-threshold",
    cl::desc("Run a weight in a block-sparse kernel when at least this "
             "fraction of its blocks is zero: 1x16 blocks for f32, 4x16 for "
             "int8 (default: where each sparse kernel measured faster than "
             "the dense one: f32 0.3 with AVX-512, 0.2 with AVX2; int8 0.85 "
             "against AMX, 0.4 with VNNI, 0.2 or 0.1 without; above 1: "
             "never)"),
    cl::init(-1.0), cl::value_desc("fraction"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<int64_t> int4Group(
    "int4-group",
    cl::desc("With --quantize=int4: rows of K per scale, 32, 64 or 128 "
             "(default 128)"),
    cl::init(128), cl::value_desc("rows"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::opt<bool> int4ZeroPoints(
    "int4-zero-points",
    cl::desc("With --quantize=int4: a zero point per group (its range onto "
             "0..15) instead of symmetric (-8..7)"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<std::string> int4Rounding(
    "int4-rounding",
    cl::desc("With --quantize=int4: nearest (default: each value to its "
             "nearest level), or gptq (GPTQ-style: the rows of K rounded in "
             "order, each one's error compensated in the rows after it by "
             "the inverse of the layer's input second moments on "
             "--calibration-data, which it needs)"),
    cl::init("nearest"), cl::value_desc("method"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<std::string> quantize(
    "quantize",
    cl::desc("Quantize the model's linears: int8 (weights int8 per output "
             "channel, activations quantized per row as the model runs, "
             "8-bit dot products with VNNI where the CPU has it, AMX tiles "
             "where it has AMX), int8-static "
             "(activations per tensor, their scale and zero point from "
             "--calibration-data) or bf16 "
             "(weights bf16, activations rounded to bf16, f32 sums; attention's "
             "products in bf16 too; vdpbf16ps where the CPU has AVX512-BF16, "
             "and AMX tile products for the linears where it has AMX), or "
             "int4 (weight-only: int4 weights in groups of --int4-group rows, "
             "rounded as --int4-rounding says, f32 activations; the int4 "
             "kernel dequantizes them in registers). "
             "Layer norms, softmax and the residual stream stay f32"),
    cl::value_desc("mode"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::opt<std::string> prune(
    "prune",
    cl::desc("Post-training block pruning: zero SPARSITY (a fraction) of the "
             "blocks of every linear's weight, those of least importance: "
             "magnitude scores a block by its weights' magnitudes, wanda by "
             "|w| times its input channel's norm on --calibration-data. "
             "BLOCK is ROWSxCOLUMNS of the [K, N] weight (default 1x16, the "
             "f32 block-sparse kernel's; 4x16, the int8 one's, with "
             "--quantize=int8, which then quantizes the pruned model). With --max-error, a layer over the "
             "budget is pruned less (7/8, 3/4, ... 1/8 of SPARSITY) or not at all"),
    cl::value_desc("magnitude|wanda:SPARSITY[:BLOCK]"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<double> pruneHeads(
    "prune-heads",
    cl::desc("Structured pruning: remove this fraction of every attention's "
             "heads, the least important (by their outputs' norms on "
             "--calibration-data times the output projection's rows, or by "
             "the weights alone): the projections become smaller"),
    cl::value_desc("F"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::opt<double> pruneFfn(
    "prune-ffn",
    cl::desc("Structured pruning: remove this fraction of every FFN's "
             "neurons (the kept count rounded up to a multiple of 16), the "
             "least important by the same measure: both FFN matrices become "
             "smaller"),
    cl::value_desc("F"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::opt<double> lowRank(
    "low-rank",
    cl::desc("Factor each linear by its SVD, truncated to the smallest rank "
             "that keeps this fraction of its squared singular values, where "
             "two thinner products halve its multiply-adds (e.g. 0.9); under "
             "--max-error a layer over the budget takes a larger rank or "
             "stays whole"),
    cl::value_desc("ENERGY"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::opt<std::string> linearize(
    "linearize",
    cl::desc("Convert softmax attention to linear attention after training, "
             "with Performer's positive random features (performer, or "
             "performer:M for M features per head; default 256): time linear "
             "in the sequence instead of quadratic. hybrid:W[:M] keeps the "
             "exact softmax weights of the keys within W positions of each "
             "query (a sliding window) and uses the features beyond it. Each "
             "layer's error is measured on --calibration-data (required); a "
             "layer over the budget (--max-error, default 0.05) takes 2x or "
             "4x the features or keeps its softmax. Attentions with a mask "
             "or head-major inputs stay softmax"),
    cl::value_desc("performer[:M]|hybrid:W[:M]"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::opt<bool> linearizeFit(
    "linearize-fit",
    cl::desc("With --linearize, also fit a weight on each head's random "
             "features on --calibration-data (least squares against the "
             "exact softmax weights, in closed form, up to 256 features) "
             "and take the fitted weights where they measure lower (the "
             "report's weights column; default true; false: the drawn "
             "features only)"),
    cl::init(true), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::opt<std::string> calibrationData(
    "calibration-data",
    cl::desc("Inputs to measure a reduction on: DIR holds one folder per "
             "set, each with <input name>.npy for every model input (or the "
             ".npy files themselves, one set). The fp32 model is compiled "
             "with taps, run on every set, and each quantized layer's error "
             "measured on what it saw"),
    cl::value_desc("dir"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::opt<std::string> reductionReport(
    "reduction-report",
    cl::desc("Print per layer what --quantize changed (precision, what stayed "
             "f32 and why) and the error it causes on the calibration data, "
             "with the model outputs' error and the totals; "
             "=FILE.json also writes it as JSON"),
    cl::value_desc("file.json"), cl::ValueOptional,
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<double> maxError(
    "max-error",
    cl::desc("The error budget of each layer, its own relative L2 error on "
             "the calibration data: over E, --quantize keeps the layer f32, "
             "--prune prunes it less or not at all, --low-rank gives it a "
             "larger rank or keeps it whole, --linearize gives it more features "
             "or keeps its softmax (the report says which). Needs "
             "--calibration-data"),
    cl::value_desc("E"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::opt<double> maxOutputError(
    "max-output-error",
    cl::desc("The error budget of --prune on the model's outputs (relative "
             "L2 against the unpruned model on --calibration-data; default "
             "0.05): the layers' error limit is searched for, pruning less "
             "where a layer costs more (--max-error gives the layers' limit "
             "instead). With --prune-heads or --prune-ffn: their fractions, "
             "or the largest eighth of them within E"),
    cl::value_desc("E"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::opt<double> smoothAlpha(
    "smooth-alpha",
    cl::desc("With --quantize=int8-static: migrate activation outliers into "
             "the weights, SmoothQuant's way: each input channel k of a "
             "linear is divided by s = max|x_k|^A / max|w_k|^(1-A) (from the "
             "calibration data) and the weight's row k multiplied by it. "
             "0.5 is the usual A; higher moves more into the weights"),
    cl::value_desc("A"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::opt<bool> profile(
    "profile",
    cl::desc("Time every graph op at run time: the library sums the time "
             "per op, which `tfc run --profile` prints and apps read with "
             "tfc_model_profile(). Costs two clock reads per op per run"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<bool> decoder(
    "decoder",
    cl::desc("Compile for decoding along the sequence: tfc_model_prefill runs "
             "the first tokens and keeps in the instance each causal "
             "attention's KV cache (and each causal linear attention's "
             "dk x dv state per head), tfc_model_step continues with the next "
             "tokens (`tfc generate` decodes with them, `tfc run --decode N` "
             "tries them). A model exported with past keys and values loses "
             "those inputs and its presents: the cache replaces them. Every "
             "other op must compute each position from that position alone; "
             "the compiler proves it or names the op that does not"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<int64_t> maxContext(
    "max-context",
    cl::desc("With --decoder: allocate each KV cache for this many positions "
             "at the prefill, and refuse a step past them (default 0: the "
             "caches grow, doubling, as the sequence does)"),
    cl::value_desc("positions"), cl::init(0),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<std::string> sequenceDim(
    "sequence-dim",
    cl::desc("With --decoder: the inputs' sequence dim, by its ONNX name "
             "(default: a dynamic dim named sequence, seq, seq_len, "
             "sequence_length or seq_length, else a dynamic dim 1)"),
    cl::value_desc("name"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

static cl::opt<tfc::WeightsPlacement> weightsPlacement(
    "weights", cl::desc("Where the weights go"),
    cl::init(tfc::WeightsPlacement::Auto),
    cl::values(
        clEnumValN(tfc::WeightsPlacement::Auto, "auto",
                   "embed up to 1 GiB of weights, else a file (default)"),
        clEnumValN(tfc::WeightsPlacement::Embed, "embed",
                   "in the library's read-only data: one self-contained file"),
        clEnumValN(tfc::WeightsPlacement::File, "file",
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

static cl::opt<std::string> targetTriple(
    "target-triple",
    cl::desc("Cross-compile for another architecture, e.g. "
             "aarch64-linux-gnu (NEON kernels; the AArch64 runtime is built "
             "when the AArch64 C library, libc6-dev-arm64-cross, is "
             "installed). Defaults to this machine's"),
    cl::value_desc("triple"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

enum class TargetKind { Cpu, Cuda };
static cl::opt<TargetKind> targetKind(
    "target", cl::desc("What the model runs on"), cl::init(TargetKind::Cpu),
    cl::values(clEnumValN(TargetKind::Cpu, "cpu",
                          "this machine's CPU, or the one --target-cpu and "
                          "--target-triple name"),
               clEnumValN(TargetKind::Cuda, "cuda",
                          "NVIDIA GPUs (--gpu-arch): the kernels' PTX with "
                          "--emit=ptx; in progress, see docs/Gpu.md")),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<std::string> gpuArch(
    "gpu-arch",
    cl::desc("The GPU architecture of --target=cuda: sm_80 (A100), sm_89 "
             "(L4, RTX 40), sm_90 (H100, H200; the default)"),
    cl::value_desc("sm_XX"), cl::init("sm_90"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<std::string> targetCpu(
    "target-cpu",
    cl::desc("The CPU to generate code for. A deployment level: x86-64, "
             "x86-64-v2, x86-64-v3 (any AVX2 CPU: AVX2 kernels), x86-64-v4 "
             "(any AVX-512 CPU: AVX-512 kernels); or a CPU by LLVM's name "
             "(haswell, skylake-avx512, znver4, ...). Defaults to this "
             "machine's CPU, whose code may not run on others"),
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

static cl::opt<bool> gpuTf32(
    "gpu-tf32",
    cl::desc("With --target=cuda: compute f32 linears on the tensor cores as "
             "TF32 products (10-bit mantissas, f32 sums): several times "
             "faster, about 1e-3 relative error instead of 1e-6"),
    cl::sub(tfc::driver::compileCommand), cl::cat(tfc::driver::compileCategory));

static cl::opt<std::string> runtimeLibraryOption(
    "runtime-lib",
    cl::desc("The tfc runtime archive to link (default: ../lib/"
             "libtfc_runtime.a next to tfc, or $TFC_RUNTIME_LIB)"),
    cl::value_desc("path"), cl::sub(tfc::driver::compileCommand),
    cl::cat(tfc::driver::compileCategory));

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
  case EmitKind::Ptx:
    suffix = ".ptx";
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

/// Imports the model and compiles it for `target`, with the target's
/// dialects registered first. Returns the exit code.
static int compileFor(Target &target, MLIRContext &context,
                      const OnnxImportOptions &options,
                      const CompileOptions &compile) {
  DialectRegistry registry;
  target.registerDialects(registry);
  context.appendDialectRegistry(registry);
  OwningOpRef<ModuleOp> module =
      tfc::driver::loadModel(modelPath, options, context);
  if (!module)
    return 1;
  std::string produced;
  return failed(compileModel(*module, target, compile, produced)) ? 1 : 0;
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

  CompileOptions compile;
  EmitOptions &output = compile.output;
  output.outputStem = resolveOutputStem(outputStem, modelPath, emitKind);
  output.modelName =
      modelName.empty() ? toCIdentifier(llvm::sys::path::filename(output.outputStem))
                        : modelName.getValue();
  if (!isValidModelName(output.modelName)) {
    llvm::errs() << "tfc: error: --name must be a C identifier (letters, digits, "
                    "'_', not starting with a digit), got '"
                 << output.modelName << "'\n";
    return 1;
  }
  output.emit = emitKind;
  output.weights = weightsPlacement;
  compile.showTiming = showTiming;
  compile.fuse = !noFuse;
  compile.profile = profile;
  compile.decoder = decoder;
  compile.sequenceDimName = sequenceDim;
  compile.maxContext = maxContext;
  if (!sequenceDim.empty() && !decoder) {
    llvm::errs() << "tfc: error: --sequence-dim names the sequence for "
                    "--decoder; add --decoder\n";
    return 1;
  }
  if (maxContext.getNumOccurrences() && (!decoder || maxContext <= 0)) {
    llvm::errs() << "tfc: error: --max-context is the positions a --decoder "
                    "model's KV caches hold: a positive count, with "
                    "--decoder\n";
    return 1;
  }
  compile.fusionReport = fusionReport;
  compile.kernelReport = kernelReport;
  const bool int4 = quantize == "int4";
  if (!quantize.empty() && !int4 && !parseQuantizedPrecision(quantize)) {
    llvm::errs() << "tfc: error: --quantize: unknown mode '" << quantize
                 << "' (int8, int8-static, bf16, int4)\n";
    return 1;
  }
  if (!int4 && (int4Group.getNumOccurrences() || int4ZeroPoints ||
                int4Rounding.getNumOccurrences())) {
    llvm::errs() << "tfc: error: --int4-group, --int4-zero-points and "
                    "--int4-rounding say how --quantize=int4 rounds: give "
                    "--quantize=int4\n";
    return 1;
  }
  if (int4Rounding != "nearest" && int4Rounding != "gptq") {
    llvm::errs() << "tfc: error: --int4-rounding takes nearest or gptq, not '"
                 << int4Rounding << "'\n";
    return 1;
  }
  const bool gptq = int4 && int4Rounding == "gptq";
  if (gptq && calibrationData.empty()) {
    llvm::errs() << "tfc: error: --int4-rounding=gptq compensates each "
                    "layer's rounding on its inputs: give --calibration-data\n";
    return 1;
  }
  if (int4 && !llvm::is_contained(kInt4Groups, int4Group.getValue())) {
    llvm::errs() << "tfc: error: --int4-group takes 32, 64 or 128 rows, not "
                 << int4Group << "\n";
    return 1;
  }
  bool structured = pruneHeads.getNumOccurrences() || pruneFfn.getNumOccurrences();
  for (cl::opt<double> *fraction : {&pruneHeads, &pruneFfn})
    if (fraction->getNumOccurrences() &&
        !(fraction->getValue() > 0.0 && fraction->getValue() < 1.0)) {
      llvm::errs() << "tfc: error: --" << fraction->ArgStr
                   << " takes a fraction above 0 and below 1\n";
      return 1;
    }
  bool factored = lowRank.getNumOccurrences() > 0;
  if (factored && !(lowRank > 0.0 && lowRank <= 1.0)) {
    llvm::errs() << "tfc: error: --low-rank takes an energy above 0 and at "
                    "most 1\n";
    return 1;
  }
  bool linearized = linearize.getNumOccurrences() > 0;
  LinearizationOptions linearization;
  if (linearized) {
    std::string error;
    std::optional<LinearizeSpec> spec = parseLinearizeSpec(linearize, error);
    if (!spec) {
      llvm::errs() << "tfc: error: --linearize=" << linearize << ": " << error
                   << "\n";
      return 1;
    }
    if (calibrationData.empty()) {
      llvm::errs() << "tfc: error: --linearize measures each layer's error on "
                      "--calibration-data before converting it: give it\n";
      return 1;
    }
    linearization.features = spec->features;
    linearization.window = spec->window;
    linearization.fit = linearizeFit;
  }
  if (!linearized && linearizeFit.getNumOccurrences()) {
    llvm::errs() << "tfc: error: --linearize-fit says how --linearize "
                    "chooses its features: give --linearize too\n";
    return 1;
  }
  if (quantize.empty() && prune.empty() && !structured && !factored &&
      !linearized &&
      (calibrationData.getNumOccurrences() ||
       reductionReport.getNumOccurrences() || maxError.getNumOccurrences())) {
    llvm::errs() << "tfc: error: --calibration-data, --reduction-report and "
                    "--max-error measure a reduction: give --quantize, "
                    "--prune, --prune-heads, --prune-ffn, --low-rank or "
                    "--linearize too\n";
    return 1;
  }
  if (prune.empty() && !structured && maxOutputError.getNumOccurrences()) {
    llvm::errs() << "tfc: error: --max-output-error is the budget of --prune, "
                    "--prune-heads and --prune-ffn: give one too\n";
    return 1;
  }
  if (structured && prune.empty() && maxOutputError.getNumOccurrences() &&
      (calibrationData.empty() || !(maxOutputError >= 0))) {
    llvm::errs() << "tfc: error: --max-output-error needs --calibration-data "
                    "and a value >= 0\n";
    return 1;
  }
  PruningOptions pruning;
  if (!prune.empty()) {
    std::string error;
    std::optional<PruneSpec> spec = parsePruneSpec(prune, error);
    if (!spec) {
      llvm::errs() << "tfc: error: --prune=" << prune << ": " << error << "\n";
      return 1;
    }
    if (!quantize.empty() && quantize != "int8") {
      // Only the int8 kernels have a block-sparse form: pruned bf16 or
      // statically quantized weights would run dense.
      llvm::errs() << "tfc: error: --prune takes --quantize=int8 (the int8 "
                      "block-sparse kernel's), not --quantize="
                   << quantize << "\n";
      return 1;
    }
    pruning.int8 = !quantize.empty();
    // The int8 kernel's blocks are 4 rows by 16 columns: the default block
    // then, so that what is pruned is what the kernel skips.
    if (pruning.int8 && StringRef(prune).count(':') < 2)
      spec->block = {4, 16};
    if (spec->score == PruneScore::Wanda && calibrationData.empty()) {
      llvm::errs() << "tfc: error: --prune=wanda scores blocks by their input "
                      "channels' norms on --calibration-data: give it\n";
      return 1;
    }
    pruning.specText = prune;
    pruning.spec = *spec;
    if (maxOutputError.getNumOccurrences() &&
        (calibrationData.empty() || !(maxOutputError >= 0) ||
         maxError.getNumOccurrences())) {
      llvm::errs() << "tfc: error: --max-output-error needs "
                      "--calibration-data and a value >= 0, and not "
                      "--max-error (a limit per layer instead)\n";
      return 1;
    }
    pruning.maxOutputError = maxOutputError.getNumOccurrences()
                                 ? maxOutputError.getValue()
                                 : kDefaultMaxOutputError;
  }
  if (quantize == "int8-static" && calibrationData.empty()) {
    llvm::errs() << "tfc: error: --quantize=int8-static takes its activations' "
                    "scales from --calibration-data: give it\n";
    return 1;
  }
  if (smoothAlpha.getNumOccurrences() &&
      (quantize != "int8-static" || !(smoothAlpha >= 0 && smoothAlpha <= 1))) {
    llvm::errs() << "tfc: error: --smooth-alpha takes a value in [0, 1] and "
                    "--quantize=int8-static\n";
    return 1;
  }
  if (maxError.getNumOccurrences() &&
      (calibrationData.empty() || !(maxError >= 0))) {
    llvm::errs() << "tfc: error: --max-error needs --calibration-data (the "
                    "errors are measured on it) and a value >= 0\n";
    return 1;
  }
  ReductionOptions reduction;
  reduction.quantize = quantize;
  reduction.int4Group = int4Group;
  reduction.int4ZeroPoints = int4ZeroPoints;
  reduction.int4Gptq = gptq;
  reduction.calibrationData = calibrationData;
  reduction.printReport = reductionReport.getNumOccurrences() > 0;
  reduction.reportJson = reductionReport;
  if (maxError.getNumOccurrences())
    reduction.maxError = maxError;
  if (smoothAlpha.getNumOccurrences())
    reduction.smoothAlpha = smoothAlpha;
  reduction.modelName = output.modelName;
  pruning.calibrationData = reduction.calibrationData;
  pruning.printReport = reduction.printReport;
  pruning.reportJson = reduction.reportJson;
  pruning.maxError = reduction.maxError;
  pruning.modelName = output.modelName;
  StructuredPruningOptions structure;
  structure.headFraction = pruneHeads.getNumOccurrences() ? pruneHeads.getValue() : 0.0;
  structure.ffnFraction = pruneFfn.getNumOccurrences() ? pruneFfn.getValue() : 0.0;
  structure.calibrationData = reduction.calibrationData;
  if (maxOutputError.getNumOccurrences())
    structure.maxOutputError = maxOutputError.getValue();
  structure.printReport = reduction.printReport;
  // (One JSON file: another reduction's, when there is one.)
  if (quantize.empty() && prune.empty())
    structure.reportJson = reduction.reportJson;
  structure.modelName = output.modelName;
  LowRankReductionOptions factoring;
  factoring.energy = factored ? lowRank.getValue() : 0.9;
  factoring.calibrationData = reduction.calibrationData;
  factoring.maxError = reduction.maxError;
  factoring.printReport = reduction.printReport;
  factoring.modelName = output.modelName;
  linearization.calibrationData = reduction.calibrationData;
  linearization.maxError = reduction.maxError;
  linearization.printReport = reduction.printReport;
  linearization.modelName = output.modelName;
  for (const std::string &name : disabledFusions) {
    if (!llvm::is_contained(getFusionNames(), name)) {
      llvm::errs() << "tfc: error: --disable-fusion: unknown fusion '" << name
                   << "' (batch-norm, quantized-linear, layer-norm, gelu, "
                      "projections, attention, linear-attention, epilogues)\n";
      return 1;
    }
    compile.disabledFusions.push_back(name);
  }

  if (sparseThreshold.getNumOccurrences() &&
      !(sparseThreshold >= 0.0)) { // NaN fails too
    llvm::errs() << "tfc: error: --sparse-threshold must be a fraction of "
                    "zero blocks, 0 or more (above 1: never sparse)\n";
    return 1;
  }
  if (targetKind == TargetKind::Cuda) {
    if (!llvm::is_contained(getCudaArchitectures(), StringRef(gpuArch))) {
      llvm::errs() << "tfc: error: --gpu-arch: '" << gpuArch
                   << "' is not an architecture tfc compiles for (sm_80, "
                      "sm_89, sm_90)\n";
      return 1;
    }
    // bf16 is a rewrite of the graph; int8 needs the CPU's kernels, and the
    // measured reductions run the model while compiling, on this machine.
    if (!quantize.empty() && quantize != "bf16") {
      llvm::errs() << "tfc: error: --quantize=" << quantize
                   << " is for the cpu target; --target=cuda takes "
                      "--quantize=bf16\n";
      return 1;
    }
    const char *cpuOnly = !calibrationData.empty()            ? "--calibration-data"
                          : profile                           ? "--profile"
                          : kernelReport                      ? "--kernel-report"
                          : !prune.empty()                    ? "--prune"
                          : structured                        ? "--prune-heads and --prune-ffn"
                          : factored                          ? "--low-rank"
                          : sparseThreshold.getNumOccurrences() ? "--sparse-threshold"
                          : sanitizer != Sanitizer::None      ? "--sanitize"
                          : !targetCpu.empty()                ? "--target-cpu"
                          : !targetTriple.empty()             ? "--target-triple"
                          : targetFeatures.getNumOccurrences() ? "--target-features"
                                                              : nullptr;
    if (cpuOnly) {
      llvm::errs() << "tfc: error: " << cpuOnly
                   << " is for the cpu target; --target=cuda does not take it "
                      "yet\n";
      return 1;
    }
    CudaTargetOptions cuda;
    cuda.gpuArch = gpuArch;
    cuda.tf32 = gpuTf32;
    cuda.runtimeLibrary = runtimeLibraryOption.empty()
                              ? findRuntimeLibrary("")
                              : runtimeLibraryOption.getValue();
    std::unique_ptr<Target> target = createCudaTarget(std::move(cuda));
    if (!quantize.empty())
      compile.reduce = [&](ModuleOp graph) {
        return reduceModel(graph, *target, reduction);
      };
    return compileFor(*target, context, options, compile);
  }
  if (gpuArch.getNumOccurrences() || gpuTf32) {
    llvm::errs() << "tfc: error: " << (gpuTf32 ? "--gpu-tf32" : "--gpu-arch")
                 << " needs --target=cuda\n";
    return 1;
  }
  if (emitKind == EmitKind::Ptx) {
    llvm::errs() << "tfc: error: --emit=ptx needs --target=cuda\n";
    return 1;
  }

  CpuTargetOptions cpu;
  cpu.machine = getHostCpuMachine();
  // Another architecture: its baseline CPU unless --target-cpu says, and
  // its runtime, cross-compiled by the build.
  std::string crossArch;
  if (!targetTriple.empty()) {
    llvm::Triple triple(llvm::Triple::normalize(targetTriple));
    if (triple.getArch() != llvm::Triple(cpu.machine.triple).getArch()) {
      crossArch = triple.getArchName().str();
      cpu.machine.triple = triple.str();
      cpu.machine.cpu = "generic";
      cpu.machine.features.clear();
      cpu.machine.isHost = false;
    }
  }
  if (!targetCpu.empty()) {
    cpu.machine.cpu = targetCpu;
    cpu.machine.features.clear();
    cpu.machine.isHost = false;
  }
  if (targetFeatures.getNumOccurrences()) {
    cpu.machine.features = targetFeatures;
    cpu.machine.isHost = false;
  }
  if (std::string error; failed(verifyCpuMachine(cpu.machine, error))) {
    llvm::errs() << "tfc: error: "
                 << (targetCpu.empty() ? "--target-triple" : "--target-cpu")
                 << ": " << error << "\n";
    return 1;
  }
  cpu.runtimeLibrary = runtimeLibraryOption.empty()
                           ? findRuntimeLibrary(crossArch)
                           : runtimeLibraryOption.getValue();
  cpu.object.addressSanitizer = sanitizer == Sanitizer::Address;
  if (cpu.object.addressSanitizer && emitKind != EmitKind::Object) {
    // The libraries link the runtime as shipped, without the sanitizer's.
    llvm::errs() << "tfc: error: --sanitize=address needs --emit=obj: link "
                    "the object with a runtime and a program built with "
                    "-fsanitize=address\n";
    return 1;
  }
  cpu.selection.remarks = kernelReport;
  cpu.selection.sparseThreshold = sparseThreshold;
  reduction.kernelIsa = getKernelIsa(cpu.machine);
  pruning.kernelIsa = reduction.kernelIsa;
  pruning.sparseThreshold =
      cpu.selection.sparseThreshold >= 0
          ? cpu.selection.sparseThreshold
          : getDefaultSparseThreshold(reduction.kernelIsa, pruning.int8);
  // Calibration runs models built for the compiling machine: the target
  // must be able to run here (another architecture cannot).
  if (!reduction.calibrationData.empty() && !crossArch.empty()) {
    llvm::errs() << "tfc: error: --calibration-data runs the model on this "
                    "machine; it cannot be used with --target-triple\n";
    return 1;
  }
  std::unique_ptr<Target> target = createCpuTarget(std::move(cpu));
  if (!quantize.empty() || !prune.empty() || structured || factored ||
      linearized)
    compile.reduce = [&](ModuleOp graph) -> LogicalResult {
      // The structure first, then the factors: the other reductions
      // measure the smaller model.
      if (structured && failed(pruneStructure(graph, *target, structure)))
        return failure();
      if (factored && failed(lowRankModel(graph, *target, factoring)))
        return failure();
      if (linearized &&
          failed(linearizeModel(graph, *target, linearization)))
        return failure();
      // Pruning before quantizing: int8 keeps a pruned block's zeros, and
      // quantization measures the pruned model.
      if (!prune.empty() && failed(pruneModel(graph, *target, pruning)))
        return failure();
      if (!quantize.empty())
        return reduceModel(graph, *target, reduction);
      return success();
    };
  return compileFor(*target, context, options, compile);
}
