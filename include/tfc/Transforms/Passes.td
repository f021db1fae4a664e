//===- Passes.td - tfc graph passes ------------------------*- tablegen -*-===//

#ifndef TFC_TRANSFORMS_PASSES_TD
#define TFC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def RefineShapes : Pass<"tfm-refine-shapes", "func::FuncOp"> {
  let summary = "Folds shape computations and re-infers result types to a fixpoint";
  let description = [{
    Exporters compute reshape targets at run time from the input's shape
    (`Shape -> Gather -> Unsqueeze -> Concat -> Reshape`). Once the dims those
    chains read are static, for example after an input's symbolic dims were
    pinned, the chains fold to constants and the ops downstream can know
    their shapes. This pass alternates folding and result-type inference
    until nothing changes, then updates the function's result types.

    Only refinement happens: a type becomes more static, never different,
    so the pass cannot change what a program computes.

    Before (after pinning `%x` to `2x8x768`):

    ```mlir
    %s = tfm.shape %x {end = 3 : i64, start = 0 : i64} : (tensor<2x8x768xf32>) -> tensor<3xi64>
    %b = tfm.gather %s, %c0 {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
    %t = tfm.concat %b, %tail {axis = 0 : i64} : (tensor<1xi64>, tensor<3xi64>) -> tensor<4xi64>
    %r = tfm.reshape %x, %t : (tensor<2x8x768xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
    ```

    After:

    ```mlir
    %t = tfm.constant dense<[2, 8, 12, 64]> : tensor<4xi64>
    %r = tfm.reshape %x, %t : (tensor<2x8x768xf32>, tensor<4xi64>) -> tensor<2x8x12x64xf32>
    ```
  }];
  let dependentDialects = ["::mlir::tfm::TfmDialect"];
}

#endif // TFC_TRANSFORMS_PASSES_TD
