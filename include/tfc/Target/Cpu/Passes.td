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
    lowering (`--convert-tfm-to-linalg`). The kernels today, for
    `avx2`, `avx512` and `neon` (AArch64), each with register tiles of its
    own:

    - `linear`: `tfm.linear`, and a `tfm.matmul` by a constant matrix, of
      rank 2 or 3 with a constant `[K, N]` weight, a static `N`, a bias of
      static size and a residual of the result's shape. The weight is
      packed here, at compile time, into the kernel's layout (panels of P
      columns, k-major, P the width of the instruction set's register tile:
      32 for `avx512`, 16 for `avx2` and `neon`): a new constant
      `<name>.packed` of shape `[N / P, K, P]` replaces it.
      A weight with at least `sparse-threshold` of its 1x16 blocks (one
      input row by 16 output columns) all zero goes instead to
      `linear_sparse` (by default from where it measured faster than the
      dense kernel: 30% for `avx512`, 20% for `avx2`), packed as the nonzero blocks of each 16-column panel
      (`<name>.sparse_values`, `.sparse_ks`, `.sparse_first`).
    - `linear_q8`: `tfm.quantized_linear` by a constant int8 weight, packed
      for the target's dot product (vpdpbusd with VNNI, else vpmaddwd).
      A weight with at least `sparse-threshold` of its 4x16 blocks (four
      input rows by 16 output columns) stored as zeros goes instead to
      `linear_sparse_q8` (by default from its measured break-even: 85%
      against AMX tiles, 40% with VNNI, 20% for `avx512` and 10% for
      `avx2` without), packed as each 16-column panel's nonzero blocks
      (`<name>.sparse_u8s8` or `.sparse_s16`, with `_ks` and `_first`).
    - `linear_q4`: a weight-only `tfm.quantized_linear` by a constant 4-bit
      weight (`weight_bits = 4`, `input_quantization = "none"`: `tfc compile
      --quantize=int4`, imported MatMulNBits), scales per group of rows or
      per column. The values are packed two to a byte, as codes 0..15 (a
      signed value plus 8), per k of each panel of P columns column j in the
      low nibble and column P / 2 + j in the high one (`<name>.packed_q4`,
      `[N / P, K, P / 2]`), the groups' scales and zero points in panels too
      (`.scales_q4`, `.zeros_q4`; no zero points where all are 8). 8-bit
      weight-only linears keep the generic lowering.
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
           "neon, or any other (x86-64, none) for which there are no "
           "kernels">,
    Option<"emitRemarks", "emit-remarks", "bool", /*default=*/"false",
           "Report, for each op a kernel could take, the kernel chosen or "
           "why none was">,
    Option<"sparseThreshold", "sparse-threshold", "double", /*default=*/"-1",
           "The fraction of zero blocks (1x16 for f32, 4x16 for int8) from "
           "which a weight runs in a block-sparse kernel (above 1: never; "
           "negative: each kernel's measured break-even)">,
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

def CpuLowerRuntimeChecks : Pass<"tfc-cpu-lower-runtime-checks", "ModuleOp"> {
  let summary = "Turns cf.assert into calls to the CPU runtime's check handler";
  let description = [{
    The lowering emits `cf.assert` where a property of the input is only
    known at run time (dims that must agree, indices in range). Upstream,
    a failed assert aborts the process; an app embedding a model needs an
    error status instead. This pass branches on each condition to a block
    that calls `tfc_rt_check_failed(message)`, which ends the run and makes
    `tfc_model_run` return `TFC_ERROR_MODEL_CHECK` with the message.

    A check that compares two integers (`arith.cmpi`, other than `ne`: most
    checks compare dims) reports both, through
    `tfc_rt_check_failed_values(message, lhs, rhs)`, so that the message
    says which sizes disagreed: "the residual's dim 1 does not match the
    input's (the residual vs input) (128 vs 130)".

    It runs once the function bodies are in CFG form (after
    `convert-scf-to-cf`), since it splits blocks.

    ```mlir
    cf.assert %ok, "node 'Add_3' (tfm.add): dim 0 of operand 1 does not match"
    ```

    becomes

    ```mlir
      cf.cond_br %ok, ^continue, ^failed
    ^failed:
      %msg = llvm.mlir.addressof @tfc_check_message_0 : !llvm.ptr
      llvm.call @tfc_rt_check_failed(%msg) : (!llvm.ptr) -> ()
      llvm.unreachable
    ^continue:
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::cf::ControlFlowDialect",
    "::mlir::LLVM::LLVMDialect"
  ];
}

def CpuOutlineParallelLoops : Pass<"tfc-cpu-outline-parallel-loops", "ModuleOp"> {
  let summary = "Runs each outermost scf.parallel on the runtime's thread pool";
  let description = [{
    Moves the body of every outermost `scf.parallel` without reductions into
    its own function `(ctx, begin, end)` and replaces the loop with a call to
    `tfc_rt_parallel_for(fn, ctx, n)`, which splits `[0, n)` into chunks
    over the pool's threads. The values the body uses from outside travel in
    a stack struct `ctx` (memrefs as their LLVM descriptors); constants and
    globals are re-created inside the function instead.

    All dims but the innermost are flattened into the chunked index (the
    innermost stays a loop, for the vectorizer), so a batch of 1 still
    spreads over the sequence.

    A side effect matters for compile time: the graph function no longer
    holds every loop nest of the model, and LLVM optimizes many small
    functions much faster than one huge one.

    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%m, %n) step (%c1, %c1) {
      ... memref.store %v, %out[%i, %j] ...
    }
    ```

    becomes a call `llvm.call @tfc_rt_parallel_for(%fn, %ctx, %m)` with `%fn`
    the address of a new `llvm.func` whose body loops over its chunk of
    `%i` and over all of `%j`.
  }];
  let dependentDialects = [
    "::mlir::LLVM::LLVMDialect",
    "::mlir::scf::SCFDialect",
    "::mlir::arith::ArithDialect",
    "::mlir::func::FuncDialect"
  ];
}

#endif // TFC_TARGET_CPU_PASSES_TD
