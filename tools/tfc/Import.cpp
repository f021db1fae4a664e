//===- Import.cpp - tfc import --------------------------------------------===//
//
// `tfc import model.onnx`: the tfm IR of a model, or a summary of it.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/ToolOutputFile.h"

#include "tfc/Import/OnnxImporter.h"
#include "tfc/Transforms/Sparsity.h"
#include "tfm/TfmDialect.h"
#include "tfm/TfmOps.h"

using namespace mlir;
using namespace mlir::tfc;
namespace cl = llvm::cl;

cl::SubCommand tfc::driver::importCommand(
    "import",
    "Import an ONNX model (binary .onnx or ONNX text) into tfm IR.\n"
    "  Symbolic dims (batch, sequence) stay symbolic unless --input-shape\n"
    "  pins them; weights become dense_resource blobs that alias the model\n"
    "  file and print elided.\n"
    "  Example: tfc import bert.onnx --input-shape input_ids=1x128 -o bert.mlir\n");

cl::OptionCategory tfc::driver::importCategory("Import options");

static cl::opt<std::string> inputFilename(cl::Positional,
                                          cl::desc("<model.onnx>"),
                                          cl::sub(tfc::driver::importCommand),
                                          cl::cat(tfc::driver::importCategory));

static cl::opt<std::string> outputFilename(
    "o", cl::desc("Write the IR (or summary) to <file> instead of stdout"),
    cl::value_desc("file"), cl::init("-"), cl::sub(tfc::driver::importCommand),
    cl::cat(tfc::driver::importCategory));

static cl::list<std::string> inputShapes(
    "input-shape",
    cl::desc("Pin a graph input's shape, e.g. input_ids=1x128 ('?' keeps a "
             "dim symbolic). Repeat for several inputs"),
    cl::value_desc("name=DIMS"), cl::sub(tfc::driver::importCommand),
    cl::cat(tfc::driver::importCategory));

static cl::opt<bool> printSummary(
    "summary",
    cl::desc("Print a summary (inputs, outputs, weights, op counts) instead "
             "of the IR"),
    cl::sub(tfc::driver::importCommand), cl::cat(tfc::driver::importCategory));

static cl::opt<bool> printWeights(
    "print-weights",
    cl::desc("Print the weights' bytes in the IR (hex) instead of eliding "
             "them; the output can then be read back by tfc-opt"),
    cl::sub(tfc::driver::importCommand), cl::cat(tfc::driver::importCategory));

static cl::opt<bool> skipOnnxChecker(
    "no-onnx-checker",
    cl::desc("Skip libonnx's model checker and shape inference"),
    cl::sub(tfc::driver::importCommand), cl::cat(tfc::driver::importCategory));

static cl::opt<bool> listOps(
    "list-ops", cl::desc("List the ONNX operators tfc imports, then exit"),
    cl::sub(tfc::driver::importCommand), cl::cat(tfc::driver::importCategory));

static cl::opt<bool> showTiming(
    "time", cl::desc("Report the time each stage took, on stderr"),
    cl::sub(tfc::driver::importCommand), cl::cat(tfc::driver::importCategory));

//===----------------------------------------------------------------------===//

static std::string typeText(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return os.str();
}

static std::string dimsText(DictionaryAttr attrs) {
  auto dims = attrs ? attrs.getAs<ArrayAttr>(tfm::TfmDialect::kDimParamsAttrName)
                    : ArrayAttr();
  if (!dims)
    return "";
  std::string text = "  dims [";
  llvm::raw_string_ostream os(text);
  llvm::interleaveComma(dims, os, [&](Attribute a) {
    StringRef name = cast<StringAttr>(a).getValue();
    os << (name.empty() ? "-" : name);
  });
  os << "]";
  return os.str();
}

/// The zeros of each constant weight a product multiplies by (MatMul's
/// right operand, Gemm's B, a linear's weight), for models pruned while
/// training: the weights with at least a tenth of their blocks of some
/// shape all zero, by graph node.
static void printSparsity(func::FuncOp func, llvm::raw_ostream &os) {
  int64_t matrices = 0;
  std::vector<std::pair<std::string, WeightSparsity>> sparse;
  func.walk([&](Operation *op) {
    Value weight;
    bool transposed = false;
    if (auto matmul = dyn_cast<tfm::MatMulOp>(op)) {
      weight = matmul.getRhs();
    } else if (auto gemm = dyn_cast<tfm::GemmOp>(op)) {
      weight = gemm.getB();
      transposed = gemm.getTransB();
    } else if (auto linear = dyn_cast<tfm::LinearOp>(op)) {
      weight = linear.getWeight();
    } else {
      return;
    }
    std::optional<WeightSparsity> measured = measureSparsity(weight, transposed);
    if (!measured)
      return;
    ++matrices;
    if (llvm::any_of(measured->blockZeros, [](double f) { return f >= 0.1; })) {
      std::string node = tfm::describeNodes(op->getLoc());
      sparse.push_back({node.empty() ? op->getName().getStringRef().str() : node,
                        std::move(*measured)});
    }
  });
  if (!matrices)
    return;
  os << "sparsity: " << sparse.size() << " of " << matrices
     << " weight matrices have a tenth or more of their blocks zero";
  if (sparse.empty()) {
    os << "\n";
    return;
  }
  os << " (blocks of k rows x n columns of the [K, N] they multiply by):\n";
  for (const auto &[node, measured] : sparse) {
    os << "  " << node << " [" << measured.rows << ", " << measured.cols
       << "]: zeros " << llvm::format("%.1f%%", 100 * measured.zeros);
    for (auto [shape, fraction] :
         llvm::zip(getSparseBlockShapes(), measured.blockZeros))
      os << ", " << shape.rows << "x" << shape.cols << " "
         << llvm::format("%.1f%%", 100 * fraction);
    os << "\n";
  }
}

static void printModelSummary(ModuleOp module, llvm::raw_ostream &os) {
  auto func = *module.getOps<func::FuncOp>().begin();
  os << "model: " << inputFilename << " (opset "
     << cast<IntegerAttr>(module->getAttr("tfm.opset")).getInt();
  if (auto producer = module->getAttrOfType<StringAttr>("tfm.producer"))
    os << ", producer " << producer.getValue();
  os << ")\n";
  auto nameOf = [](DictionaryAttr attrs) {
    auto name = attrs ? attrs.getAs<StringAttr>("tfm.name") : StringAttr();
    return name ? name.getValue().str() : std::string("?");
  };
  os << "inputs:\n";
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    os << "  " << nameOf(func.getArgAttrDict(i)) << ": "
       << typeText(func.getArgumentTypes()[i])
       << dimsText(func.getArgAttrDict(i)) << "\n";
  os << "outputs:\n";
  for (unsigned i = 0; i < func.getNumResults(); ++i)
    os << "  " << nameOf(func.getResultAttrDict(i)) << ": "
       << typeText(func.getResultTypes()[i])
       << dimsText(func.getResultAttrDict(i)) << "\n";

  int64_t weightCount = 0, weightBytes = 0, opCount = 0;
  llvm::MapVector<StringRef, int64_t> opCounts;
  func.walk([&](Operation *op) {
    if (op->getDialect() == nullptr || !isa<tfm::TfmDialect>(op->getDialect()))
      return;
    ++opCount;
    ++opCounts[op->getName().getStringRef()];
    if (auto constant = dyn_cast<tfm::ConstantOp>(op)) {
      auto type = cast<RankedTensorType>(constant.getType());
      ++weightCount;
      int64_t bits = type.getElementType().getIntOrFloatBitWidth();
      weightBytes += type.getNumElements() * std::max<int64_t>(bits / 8, 1);
    }
  });
  os << "weights: " << weightCount << " constants, "
     << llvm::format("%.2f", weightBytes / (1024.0 * 1024.0)) << " MiB\n";
  os << "ops: " << opCount << "\n";
  opCounts.remove_if([](auto &entry) { return entry.second == 0; });
  std::vector<std::pair<StringRef, int64_t>> sorted(opCounts.begin(),
                                                    opCounts.end());
  llvm::sort(sorted, [](auto &a, auto &b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  for (auto &[name, count] : sorted)
    os << "  " << llvm::left_justify(name, 24) << count << "\n";
  printSparsity(func, os);
}

/// Drops the bytes behind every weight blob of `module`. MLIR 19's printer
/// renders a blob in hex before it decides to elide it, which for a 400 MB
/// model costs seconds and a copy of the weights; a blob that is gone prints
/// as `dense_resource<key>` with no data, which is the elided form.
void tfc::driver::releaseWeightBlobs(ModuleOp module) {
  module.walk([](tfm::ConstantOp constant) {
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(constant.getValue()))
      if (auto *entry = resource.getRawHandle().getResource())
        entry->setBlob(AsmResourceBlob());
  });
}

int tfc::driver::runImport(MLIRContext &context) {
  if (listOps) {
    for (const std::string &op : tfc::getSupportedOnnxOps())
      llvm::outs() << op << "\n";
    return 0;
  }
  if (inputFilename.empty()) {
    llvm::errs() << "tfc: error: no model given; usage: tfc import "
                    "<model.onnx> [-o out.mlir]\n";
    return 1;
  }
  tfc::OnnxImportOptions options;
  options.runOnnxChecker = !skipOnnxChecker;
  if (failed(parseInputShapes(inputShapes, options)))
    return 1;

  DefaultTimingManager timing;
  timing.setEnabled(showTiming);
  TimingScope rootTimer = timing.getRootScope();
  TimingScope importTimer = rootTimer.nest("Import ONNX model");
  OwningOpRef<ModuleOp> module =
      tfc::importOnnxModel(inputFilename, options, &context);
  importTimer.stop();
  if (!module)
    return 1;

  TimingScope printTimer = rootTimer.nest("Print output");
  std::string error;
  auto output = openOutputFile(outputFilename, &error);
  if (!output) {
    llvm::errs() << "tfc: error: " << error << "\n";
    return 1;
  }
  if (printSummary) {
    printModelSummary(*module, output->os());
  } else {
    if (!printWeights)
      releaseWeightBlobs(*module);
    module->print(output->os());
  }
  output->keep();
  return 0;
}
