//===- Compiler.cpp - an imported model to a target's output --------------===//

#include "tfc/Pipeline/Compiler.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "tfc/Transforms/Passes.h"
#include "tfm/TfmDialect.h"

#include <map>
#include <optional>
#include <vector>

using namespace mlir;
using namespace mlir::tfc;

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
    for (StringRef kind : {"attention", "layer_norm", "rms_norm", "gelu",
                           "epilogue", "quantized_linear", "linear_attention"}) {
      auto it = kinds.find(kind.str());
      // Only models that have them: pre-quantized linears, prefix-sum
      // linear attention.
      if ((kind == "quantized_linear" || kind == "linear_attention") &&
          it == kinds.end())
        continue;
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

/// --decoder: proves the graph runs along its sequence (tfm-sequence-state)
/// and records in `signature` the states and the sequence dims it found.
/// The signature is read again: a model with past keys and values loses
/// them and its presents to the instance's KV cache.
static LogicalResult markSequenceStates(ModuleOp module, func::FuncOp graph,
                                        const CompileOptions &options,
                                        ModelSignature &signature) {
  PassManager pm(module->getContext());
  SequenceStateOptions passOptions;
  passOptions.sequenceDimName = options.sequenceDimName;
  passOptions.maxContext = options.maxContext;
  pm.addNestedPass<func::FuncOp>(createSequenceState(passOptions));
  if (failed(pm.run(module)))
    return failure();
  FailureOr<ModelSignature> kept = getModelSignature(graph);
  if (failed(kept))
    return failure();
  signature = std::move(*kept);
  auto dimOf = [](DictionaryAttr attrs) -> int {
    auto dim = attrs ? attrs.getAs<IntegerAttr>(kSequenceDimAttr) : IntegerAttr();
    return dim ? static_cast<int>(dim.getInt()) : -1;
  };
  for (auto [i, input] : llvm::enumerate(signature.inputs))
    input.sequenceDim = dimOf(graph.getArgAttrDict(i));
  for (auto [i, output] : llvm::enumerate(signature.outputs))
    output.sequenceDim = dimOf(graph.getResultAttrDict(i));
  auto states = graph->getAttrOfType<IntegerAttr>(kSequenceStatesAttr);
  signature.sequenceStates = states ? states.getInt() : 0;
  return success();
}

LogicalResult mlir::tfc::compileModel(ModuleOp module, Target &target,
                                     const CompileOptions &options,
                                     std::string &producedPath) {
  DefaultTimingManager timing;
  timing.setEnabled(options.showTiming);
  TimingScope rootTimer = timing.getRootScope();
  const EmitOptions &output = options.output;

  auto graphs = module.getOps<func::FuncOp>();
  if (graphs.empty()) {
    llvm::errs() << "tfc: error: the model has no graph function\n";
    return failure();
  }
  func::FuncOp graph = *graphs.begin();
  FailureOr<ModelSignature> signature = getModelSignature(graph);
  if (failed(signature))
    return failure();
  std::string graphName = output.modelName + "_graph";
  graph.setSymName(graphName);

  StringRef directory = llvm::sys::path::parent_path(output.outputStem);
  StringRef stem = llvm::sys::path::filename(output.outputStem);
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
    if (options.fusionReport)
      collectRemarks.emplace(module->getContext(), [&](Diagnostic &diagnostic) {
        if (diagnostic.getSeverity() != DiagnosticSeverity::Remark)
          return failure(); // errors go to the usual handler
        report.add(diagnostic);
        return success();
      });
    PassManager graphPm(module->getContext());
    graphPm.enableTiming(optimizeTimer);
    GraphOptimizationOptions graphOptions;
    graphOptions.fuse = options.fuse;
    graphOptions.emitRemarks = options.fusionReport;
    graphOptions.disabled.assign(options.disabledFusions.begin(),
                                 options.disabledFusions.end());
    if (options.optimizeGraph)
      buildGraphOptimizationPipeline(graphPm, graphOptions);
    if (failed(graphPm.run(module)))
      return failure();
    if (options.fusionReport)
      report.print(llvm::outs(), output.modelName, options.fuse);
  }
  if (options.reduce) {
    TimingScope reduceTimer = rootTimer.nest("Reduce the model");
    if (failed(options.reduce(module)))
      return failure();
  }
  if (options.decoder) {
    if (target.getName() != "cpu") {
      llvm::errs() << "tfc: error: --decoder is for the CPU target: only its "
                      "attention kernels keep a state between calls\n";
      return failure();
    }
    if (failed(markSequenceStates(module, graph, options, *signature)))
      return failure();
  }
  if (options.profile) {
    PassManager profilePm(module->getContext());
    profilePm.addPass(createInsertProfileMarkers());
    if (failed(profilePm.run(module)))
      return failure();
  }
  if (output.emit == EmitKind::Tfm) {
    producedPath = output.pathFor(stem + ".tfm.mlir");
    return writeModuleFile(producedPath, module);
  }

  // The signature has what the tfm attributes said (the graph passes read
  // the named dims too); the lowering has no use for them.
  for (unsigned i = 0; i < graph.getNumArguments(); ++i)
    graph.setArgAttrs(i, DictionaryAttr::get(module->getContext()));
  for (unsigned i = 0; i < graph.getNumResults(); ++i)
    graph.setResultAttrs(i, DictionaryAttr::get(module->getContext()));

  TimingScope lowerTimer = rootTimer.nest("Lower for the " + target.getName().str() +
                                          " target");
  PassManager pm(module->getContext());
  pm.enableTiming(lowerTimer);
  target.buildLoweringPipeline(pm);
  {
    // --kernel-report: the lowering's remarks, one line per op.
    std::optional<ScopedDiagnosticHandler> printRemarks;
    if (options.kernelReport) {
      llvm::outs() << "kernel report for " << output.modelName << ":\n";
      printRemarks.emplace(module->getContext(), [&](Diagnostic &diagnostic) {
        if (diagnostic.getSeverity() != DiagnosticSeverity::Remark)
          return failure(); // errors go to the usual handler
        // The ONNX nodes an op came from; for a module written in MLIR,
        // its place in the file.
        std::string site = tfm::describeNodes(diagnostic.getLocation());
        if (site.empty()) {
          if (auto file = dyn_cast<FileLineColLoc>(diagnostic.getLocation()))
            site = llvm::formatv("{0}:{1}:{2}",
                                 llvm::sys::path::filename(file.getFilename().getValue()),
                                 file.getLine(), file.getColumn());
          else
            llvm::raw_string_ostream(site) << diagnostic.getLocation();
        }
        llvm::outs() << "  " << site << ": " << diagnostic.str() << "\n";
        return success();
      });
    }
    if (failed(pm.run(module)))
      return failure();
  }
  lowerTimer.stop();

  if (failed(target.emit(module, graphName, *signature, output, rootTimer,
                         producedPath)))
    return failure();
  if (output.emit == EmitKind::Mlir || output.emit == EmitKind::LlvmIr ||
      output.emit == EmitKind::Ptx)
    return success();
  TimingScope headerTimer = rootTimer.nest("Write the header");
  return writeOutputFile(output.pathFor(stem + ".h"),
                         generateModelHeader(*signature, output.modelName,
                                             target.describe(),
                                             target.describeRequirements()));
}
