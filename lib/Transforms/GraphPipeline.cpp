//===- GraphPipeline.cpp - the graph-level optimization pipeline ----------===//

#include "tfc/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

void mlir::tfc::buildGraphOptimizationPipeline(
    OpPassManager &pm, const GraphOptimizationOptions &options) {
  OpPassManager &graph = pm.nest<func::FuncOp>();
  graph.addPass(createCanonicalize());
  auto enabled = [&](StringRef name) {
    return !llvm::is_contained(options.disabled, name);
  };
  // Before the convs become matmuls, which would put a reshape between a
  // conv and its BatchNorm.
  if (options.fuse && enabled("batch-norm"))
    graph.addPass(createFoldBatchNorm());
  // Not a fusion: it picks the matmul kernel for patch-embedding convs, so
  // --no-fuse keeps it.
  graph.addPass(createConvToMatmul());
  if (!options.fuse)
    return;
  // The order matters where one fusion's result is another's input: GELU
  // before the epilogues (which take a tfm.gelu), the projection merge and
  // the attention fusion before the epilogues (which would take the matmuls
  // and bias adds they look for).
  // Before the epilogues, which would take a dequantized matmul's bias add.
  if (enabled("quantized-linear"))
    graph.addPass(createFuseQuantizedLinear({options.emitRemarks}));
  if (enabled("layer-norm"))
    graph.addPass(createFuseLayerNorm({options.emitRemarks}));
  if (enabled("gelu"))
    graph.addPass(createFuseGelu({options.emitRemarks}));
  if (enabled("projections"))
    graph.addPass(createMergeProjections());
  if (enabled("attention"))
    graph.addPass(createFuseAttention({options.emitRemarks}));
  if (enabled("linear-attention"))
    graph.addPass(createFuseLinearAttention({options.emitRemarks}));
  if (enabled("epilogues"))
    graph.addPass(createFuseEpilogues({options.emitRemarks}));
  // On the fused graph (the attention fusion adds the transposes it cancels,
  // the epilogue fusion forms the linears it moves them through); then the
  // residual adds it brings next to their linears fuse too.
  graph.addPass(createSinkTransposes());
  if (enabled("epilogues"))
    graph.addPass(createFuseEpilogues({options.emitRemarks}));
}

ArrayRef<StringRef> mlir::tfc::getFusionNames() {
  static constexpr StringRef kNames[] = {"batch-norm", "quantized-linear",
                                         "layer-norm", "gelu", "projections",
                                         "attention", "linear-attention",
                                         "epilogues"};
  return kNames;
}

void mlir::tfc::registerGraphOptimizationPipeline() {
  PassPipelineRegistration<>(
      "tfm-optimize",
      "The graph passes of `tfc compile`: tfm-canonicalize, "
      "tfm-fold-batch-norm, tfm-conv-to-matmul, then the fusions (quantized "
      "linears, layer norm, GELU, merged projections, attention, epilogues), tfm-sink-transposes "
      "and the epilogues again",
      [](OpPassManager &pm) {
        buildGraphOptimizationPipeline(pm, GraphOptimizationOptions());
      });
}
