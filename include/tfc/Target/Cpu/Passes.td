//===- Passes.td - the CPU target's passes -----------------*- tablegen -*-===//

#ifndef TFC_TARGET_CPU_PASSES_TD
#define TFC_TARGET_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def CpuSelectKernels : Pass<"tfc-cpu-select-kernels", "ModuleOp"> {
  let summary = "Replaces graph ops by calls of the CPU runtime's kernels";
  let description = [{
    Rewrites a tfm op into a `tfc_cpu.ukernel` call where, and only where,
    the CPU target has a kernel for that op, its element types and the
    instruction set given by `isa`; every other op is left for the generic
    lowering (`--convert-tfm-to-linalg`). The kernels today, all f32, for
    `avx2` and `avx512`:

    - `linear`: `tfm.linear`, and a `tfm.matmul` by a constant matrix, of
      rank 2 or 3 with a constant `[K, N]` weight, a static `N`, a bias of
      static size and a residual of the result's shape. The weight is
      packed here, at compile time, into the kernel's layout (panels of 32
      columns, k-major): a new constant `<name>.packed` of shape
      `[N / 32, K, 32]` replaces it.
    - `attention`: `tfm.attention`.
    - `layer_norm`: `tfm.layer_norm` and `tfm.add_layer_norm` over the last
      dim of a rank-2 or rank-3 tensor, with `[D]` scale and bias and a skip
      of the input's shape.

    Shape rules that only hold at run time are checked before the call
    (`cf.assert`, naming the ONNX node), as the generic lowering would.
    With `emit-remarks`, each op gets a remark saying which kernel it
    became, or why it did not.

    ```mlir
    %y = tfm.linear %x, %w, %b {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 0>}
        : (tensor<?x?x768xf32>, tensor<768x3072xf32>, tensor<3072xf32>) -> tensor<?x?x3072xf32>
    ```

    becomes, for `isa=avx512`,

    ```mlir
    %p = tfm.constant dense_resource<...> : tensor<96x768x32xf32>
    %y = tfc_cpu.ukernel "linear"(%x, %p, %b) dims(%d0, %d1)
        {absent = array<i64: 3>, dtypes = "f32", flags = 9 : i64, isa = "avx512"}
        : (tensor<?x?x768xf32>, tensor<96x768x32xf32>, tensor<3072xf32>) -> tensor<?x?x3072xf32>
    ```
  }];
  let options = [
    Option<"isa", "isa", "std::string", /*default=*/"\"avx512\"",
           "The instruction set the model is compiled for: avx512, avx2, "
           "or any other (x86-64, aarch64, none) for which there are no "
           "kernels">,
    Option<"emitRemarks", "emit-remarks", "bool", /*default=*/"false",
           "Report, for each op a kernel could take, the kernel chosen or "
           "why none was">,
  ];
  let dependentDialects = ["::mlir::tfc::cpu::TfcCpuDialect",
                           "::mlir::cf::ControlFlowDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def CpuLowerKernels : Pass<"tfc-cpu-lower-kernels", "ModuleOp"> {
  let summary = "Turns kernel calls on tensors into calls on buffers";
  let description = [{
    Rewrites each `tfc_cpu.ukernel` into a `tfc_cpu.ukernel_call` on
    read-only views of its tensor arguments (`bufferization.to_memref`, any
    strides: slices of a merged projection are not copied) and a fresh
    64-byte aligned buffer for its result, which becomes the tensor the
    op yielded (`bufferization.to_tensor restrict writable`). Runs after
    the graph is lowered to tensors and before bufferization.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect"];
}

def CpuRuntimeCallsToLLVM : Pass<"tfc-cpu-runtime-calls-to-llvm", "ModuleOp"> {
  let summary = "Emits the C calls of the runtime's kernels and timers";
  let description = [{
    Rewrites each `tfc_cpu.ukernel_call` into a call of the runtime's
    `tfc_rt_<kernel>` (declared once per module): each buffer's memref
    descriptor is stored on the stack and passed by pointer, an absent
    optional tensor as NULL, and the flags word last, with the element
    types and instruction set encoded (`tfc_abi.h`).

    Rewrites each profile marker (`tfm.profile_enter`, `tfm.profile_exit`)
    into a call of `tfc_rt_profile_enter` or `tfc_rt_profile_exit` with the
    address of its site's string (an internal constant
    `tfc_profile_site_<n>` per site).

    Runs on buffers, before the memref lowering to LLVM.

    ```mlir
    tfc_cpu.ukernel_call "layer_norm"(%x, %g, %out, %eps) {absent = array<i64: 1, 3>, dtypes = "f32", isa = "avx2"}
        : memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>,
          memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, f32
    ```

    becomes a call `llvm.call @tfc_rt_layer_norm(%x_desc, %null, %g_desc,
    %null, %out_desc, %eps, %flags)` with `%flags` = 0x20100 (f32 = 1 in
    bits 8-15, avx2 = 2 in bits 16-23).
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // TFC_TARGET_CPU_PASSES_TD
