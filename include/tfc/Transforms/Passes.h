//===- Passes.h - tfc graph passes ------------------------------*- C++ -*-===//

#ifndef TFC_TRANSFORMS_PASSES_H
#define TFC_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "tfm/TfmDialect.h"

namespace mlir::tfc {

#define GEN_PASS_DECL
#include "tfc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tfc/Transforms/Passes.h.inc"

/// tfm-sequence-state's marks (tfc compile --decoder): on each causal
/// tfm.linear_attention and each tfm.attention with a KV cache, the index
/// of the state the instance keeps for it (and on the latter, with
/// --max-context, the positions its cache is allocated for); on the graph's
/// arguments and results, the dim that runs along the sequence; on the
/// graph function, the number of states.
inline constexpr llvm::StringLiteral kSequenceStateAttr = "tfm.sequence_state";
inline constexpr llvm::StringLiteral kMaxContextAttr = "tfm.max_context";
inline constexpr llvm::StringLiteral kSequenceDimAttr = "tfm.sequence_dim";
inline constexpr llvm::StringLiteral kSequenceStatesAttr = "tfm.sequence_states";

struct GraphOptimizationOptions {
  /// Run the fusion passes (`tfc compile --no-fuse` turns them off, to
  /// measure what they bring).
  bool fuse = true;
  /// Report each fusion and rejected candidate as a remark
  /// (`--fusion-report`).
  bool emitRemarks = false;
  /// Fusions to skip, by name: batch-norm, layer-norm, gelu, projections, attention,
  /// epilogues (`tfc compile --disable-fusion`, to find which one changes a
  /// model's numerics or speed).
  SmallVector<std::string> disabled;
};

/// The graph-level passes `tfc compile` runs before lowering: canonicalize
/// and fold, then the fusions.
void buildGraphOptimizationPipeline(OpPassManager &pm,
                                    const GraphOptimizationOptions &options);

/// The names `GraphOptimizationOptions::disabled` takes.
ArrayRef<StringRef> getFusionNames();

/// Registers the pipeline as `--tfm-optimize` (for tfc-opt).
void registerGraphOptimizationPipeline();

} // namespace mlir::tfc

#endif // TFC_TRANSFORMS_PASSES_H
