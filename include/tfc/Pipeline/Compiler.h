//===- Compiler.h - an imported model to a target's output -----*- C++ -*-===//
//
// The compile pipeline behind `tfc compile` and `tfc run`: the graph passes
// (canonicalization, folding, fusion; profile markers on request), then the
// target's lowering and emission, then the model's C header. Tools parse
// options and call compileModel; everything a compile does is here.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_PIPELINE_COMPILER_H
#define TFC_PIPELINE_COMPILER_H

#include "tfc/Target/Target.h"

#include <functional>
#include <string>
#include <vector>

namespace mlir::tfc {

struct CompileOptions {
  EmitOptions output;
  bool showTiming = false;   // --time: each stage's time on stderr
  bool fuse = true;          // --no-fuse turns the fusion passes off
  bool fusionReport = false; // --fusion-report: printed on stdout
  /// --kernel-report: the lowering's remarks (the CPU target's kernel
  /// selection: which kernel each op got, or why none), printed on stdout.
  bool kernelReport = false;
  bool profile = false;      // --profile: time each graph op at run time
  std::vector<std::string> disabledFusions; // --disable-fusion
  /// Run the graph passes. Off for a module that has been through them: a
  /// driver compiling a variant of an optimized graph (with taps, or
  /// quantized) to measure it.
  bool optimizeGraph = true;
  /// Called on the optimized graph, before lowering: the reductions
  /// (tfc compile --quantize), which may compile and run variants of it.
  std::function<LogicalResult(ModuleOp)> reduce;
  /// --decoder: prefill and step entry points with each causal linear
  /// attention's state and each causal attention's KV cache kept in the
  /// instance (tfm-sequence-state), the inputs' sequence dim named
  /// `sequenceDimName` (empty: the usual names); the caches allocated for
  /// `maxContext` positions (0: they grow).
  bool decoder = false;
  std::string sequenceDimName;
  int64_t maxContext = 0;
};

/// Compiles an imported model (one graph function of tfm ops) for `target`;
/// on success `producedPath` is the library, object or IR file written (the
/// header goes next to a library or object).
LogicalResult compileModel(ModuleOp module, Target &target,
                           const CompileOptions &options,
                           std::string &producedPath);

} // namespace mlir::tfc

#endif // TFC_PIPELINE_COMPILER_H
