//===- Passes.td - tfc conversion passes -------------------*- tablegen -*-===//

#ifndef TFC_CONVERSION_PASSES_TD
#define TFC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTfmToLinalg : Pass<"convert-tfm-to-linalg", "ModuleOp"> {
  let summary = "Lowers tfm ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Rewrites every tfm op into the upstream tensor-level dialects that the
    code generator bufferizes and compiles:

    - elementwise ops, casts and `where` become one `linalg.generic` each,
      with numpy broadcasting expressed in the indexing maps;
    - `matmul`, `gemm` and `conv` become `linalg.generic` contractions
      accumulating into a zero-filled tensor;
    - `softmax`, `layer_norm` and the reductions become reduction generics
      plus elementwise generics that read the reduced values back;
    - reshapes become `tensor.collapse_shape`/`expand_shape` (or
      `tensor.reshape` when a dim comes from data), slices
      `tensor.extract_slice`, concat `tensor.insert_slice` chains, and
      gather, expand, trilu and range index-computing generics;
    - `cumsum` an `scf.for` along its axis, adding one slice at a time.

    Unsigned element types become signless; each op keeps its signedness
    in the arith ops it picks (`divui`, `cmpi ult`, ...).

    The fused ops have generic forms, for every element type: `linear` a
    contraction and one elementwise epilogue, `attention` the scores of each
    head materialized (in f32 for 16-bit floats), softmax over the keys and
    the weighted sum of the values, `layer_norm` reductions. 16-bit float
    products accumulate in f32. This pass decides nothing about kernels: a
    target replaces the ops it has kernels for before it runs (the CPU's
    `--tfc-cpu-select-kernels`), and ops of other dialects are left as they
    are.

    Where a dim is only known at run time and the op needs it to agree with
    another (a broadcast, a contraction, a reshape's element count, a gather
    index in range), the pass emits a `cf.assert` naming the ONNX node. The
    runtime turns a failed check into an error status for the caller: a
    program never reads or writes out of bounds on bad input.

    ```mlir
    %r = tfm.add %a, %b : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
    ```

    becomes

    ```mlir
    %c0 = arith.constant 0 : index
    %dim = tensor.dim %a, %c0 : tensor<?x4xf32>
    %e = tensor.empty(%dim) : tensor<?x4xf32>
    %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                          affine_map<(d0, d1) -> (d1)>,
                                          affine_map<(d0, d1) -> (d0, d1)>],
                         iterator_types = ["parallel", "parallel"]}
        ins(%a, %b : tensor<?x4xf32>, tensor<4xf32>) outs(%e : tensor<?x4xf32>) {
    ^bb0(%x: f32, %y: f32, %out: f32):
      %s = arith.addf %x, %y : f32
      linalg.yield %s : f32
    } -> tensor<?x4xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::bufferization::BufferizationDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::func::FuncDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def CheckBufferSizes : Pass<"tfc-check-buffer-sizes", "ModuleOp"> {
  let summary = "Guards each allocation sized at run time against overflow";
  let description = [{
    The LLVM lowering of `memref.alloc` multiplies the dims into a byte
    size in wrapping 64-bit arithmetic. Dims chosen at run time could make
    that product wrap to a small number (a `[2^32, 2^32]` f32 buffer asks
    for 0 bytes) and the code that fills the buffer would write far past
    it. Before every allocation with dynamic sizes this pass emits a
    `cf.assert` that the size in bytes fits in int64 (the runtime then fails
    the run with the message, naming the ONNX node), and it rejects a static
    size that does not fit at compile time. Zero dims count as one in the
    product, so that a zero cannot hide a product that wrapped.

    ```mlir
    %a = memref.alloc(%n, %m) : memref<?x?xf32>
    ```

    becomes

    ```mlir
    %n64 = arith.index_castui %n : index to i64
    %n1 = arith.maxui %n64, %c1 : i64
    %lo, %hi = arith.mului_extended %c4, %n1 : i64
    ...
    cf.assert %fits, "node 'X': the dims chosen at run time make a buffer of more than 2^63 bytes"
    %a = memref.alloc(%n, %m) : memref<?x?xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::memref::MemRefDialect"
  ];
}

#endif // TFC_CONVERSION_PASSES_TD
