//===- GraphPipeline.cpp - the graph-level optimization pipeline ----------===//

#include "tfc/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

void mlir::tfc::buildGraphOptimizationPipeline(
    OpPassManager &pm, const GraphOptimizationOptions &options) {
  OpPassManager &graph = pm.nest<func::FuncOp>();
  graph.addPass(createCanonicalize());
  if (!options.fuse)
    return;
  // Normalizations and GELUs first: their ops are inside the attention
  // block's neighbours, never inside its matched subgraph, so the order only
  // keeps the remarks readable.
  auto enabled = [&](StringRef name) {
    return !llvm::is_contained(options.disabled, name);
  };
  if (enabled("layer-norm"))
    graph.addPass(createFuseLayerNorm({options.emitRemarks}));
  if (enabled("gelu"))
    graph.addPass(createFuseGelu({options.emitRemarks}));
  if (enabled("projections"))
    graph.addPass(createMergeProjections());
  if (enabled("attention"))
    graph.addPass(createFuseAttention({options.emitRemarks}));
  // Last: the projection merge and the attention fusion look for plain
  // matmuls and bias adds.
  if (enabled("epilogues"))
    graph.addPass(createFuseEpilogues({options.emitRemarks}));
}

ArrayRef<StringRef> mlir::tfc::getFusionNames() {
  static constexpr StringRef kNames[] = {"layer-norm", "gelu", "projections",
                                         "attention", "epilogues"};
  return kNames;
}

void mlir::tfc::registerGraphOptimizationPipeline() {
  PassPipelineRegistration<>(
      "tfm-optimize",
      "The graph passes of `tfc compile`: tfm-canonicalize, then the fusions "
      "(layer norm, GELU, merged projections, attention, epilogues)",
      [](OpPassManager &pm) {
        buildGraphOptimizationPipeline(pm, GraphOptimizationOptions());
      });
}
