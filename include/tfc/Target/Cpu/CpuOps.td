//===- CpuOps.td - the CPU target's kernel-call ops --------*- tablegen -*-===//
//
// The CPU target replaces graph ops by calls of the runtime's kernels where,
// and only where, it has a kernel for the op, its element types and the
// instruction set; everything else lowers to generated code. These ops are
// those calls: `tfc_cpu.ukernel` on tensors, as kernel selection writes it
// (so a test can see which kernel was chosen), and `tfc_cpu.ukernel_call`
// on buffers, which becomes the C call. The kernels and their arguments are
// listed once, in include/tfc/runtime/tfc_kernels.def.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_TARGET_CPU_CPUOPS_TD
#define TFC_TARGET_CPU_CPUOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

def TfcCpu_Dialect : Dialect {
  let name = "tfc_cpu";
  let cppNamespace = "::mlir::tfc::cpu";
  let summary = "Calls of the CPU runtime's kernels";
  let description = [{
    The CPU target's own ops: calls of the runtime's kernels (matmul with
    epilogue, fused attention, layer norm) that kernel selection
    (`--tfc-cpu-select-kernels`) puts in place of graph ops. A kernel call
    names the kernel (an entry of `include/tfc/runtime/tfc_kernels.def`),
    the element types it runs on and the instruction-set variant, so the
    choice is visible in the IR.
  }];
}

class TfcCpu_Op<string mnemonic, list<Trait> traits = []>
    : Op<TfcCpu_Dialect, mnemonic, traits>;

def TfcCpu_UKernelOp : TfcCpu_Op<"ukernel", [Pure, AttrSizedOperandSegments]> {
  let summary = "A kernel call on tensors";
  let description = [{
    Calls kernel `kernel` (see `tfc_kernels.def`) and yields its output as a
    new tensor. `args` are the kernel's arguments in order, without its
    output and without the optional tensors listed in `absent` (by argument
    index; the kernel gets NULL for them) and without the trailing flags
    word, which is `flags` (the kernel's own bits) with the element types
    (`dtypes`: `f32`, `bf16`, `s8s8s32`, `u8s8s32`) and the instruction set
    (`isa`: `avx2`, `avx512`) added. Tensor arguments have the rank the
    kernel declares, as does the result; `dynamic_dims` are the result's
    dynamic sizes.

    `--tfc-cpu-lower-kernels` turns it into a `tfc_cpu.ukernel_call` on
    read-only views of the arguments and a fresh buffer for the result.

    ```mlir
    %y = tfc_cpu.ukernel "linear"(%x, %packed, %bias) dims(%b, %l)
        {absent = array<i64: 3>, dtypes = "f32", flags = 9 : i64, isa = "avx512"}
        : (tensor<?x?x768xf32>, tensor<96x768x32xf32>, tensor<3072xf32>) -> tensor<?x?x3072xf32>
    ```
  }];
  let arguments = (ins StrAttr:$kernel, Variadic<AnyType>:$args,
                       Variadic<Index>:$dynamic_dims,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$absent,
                       StrAttr:$dtypes, StrAttr:$isa,
                       DefaultValuedAttr<I64Attr, "0">:$flags);
  let results = (outs AnyRankedTensor:$result);
  let assemblyFormat = [{
    $kernel `(` $args `)` (`dims` `(` $dynamic_dims^ `)`)? attr-dict `:`
    functional-type($args, $result)
  }];
  let hasVerifier = 1;
}

def TfcCpu_UKernelCallOp : TfcCpu_Op<"ukernel_call"> {
  let summary = "A kernel call on buffers";
  let description = [{
    Calls kernel `kernel` with `args`: every argument the kernel declares,
    in order, its output included, except the optional tensors listed in
    `absent` and the trailing flags word, which is `flags` with `dtypes`
    and `isa` encoded as for `tfc_cpu.ukernel`. Buffers are passed as
    pointers to their memref descriptors (the runtime's `tfc_rt_memrefN`);
    `--tfc-cpu-runtime-calls-to-llvm` emits the C call.
  }];
  let arguments = (ins StrAttr:$kernel,
                       Arg<Variadic<AnyType>, "", [MemRead, MemWrite]>:$args,
                       DefaultValuedAttr<DenseI64ArrayAttr, "{}">:$absent,
                       StrAttr:$dtypes, StrAttr:$isa,
                       DefaultValuedAttr<I64Attr, "0">:$flags);
  let assemblyFormat = [{
    $kernel `(` $args `)` attr-dict `:` type($args)
  }];
  let hasVerifier = 1;
}

#endif // TFC_TARGET_CPU_CPUOPS_TD
