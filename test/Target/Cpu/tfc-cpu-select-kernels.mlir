// RUN: tfc-opt %s --tfc-cpu-select-kernels="isa=avx512 emit-remarks" --split-input-file --verify-diagnostics | FileCheck %s
// RUN: tfc-opt %s --tfc-cpu-select-kernels="isa=avx2" --split-input-file | FileCheck %s --check-prefix=AVX2
// RUN: tfc-opt %s --tfc-cpu-select-kernels="isa=x86-64" --split-input-file | FileCheck %s --check-prefix=NONE
// RUN: tfc-opt %s --tfc-cpu-select-kernels="isa=riscv64" --split-input-file | FileCheck %s --check-prefix=NONE
// RUN: tfc-opt %s --tfc-cpu-select-kernels="isa=neon" --split-input-file | FileCheck %s --check-prefix=NEON
// RUN: tfc-opt %s --tfc-cpu-select-kernels="isa=avx512+vnni" --split-input-file | FileCheck %s --check-prefix=VNNI
// RUN: tfc-opt %s --tfc-cpu-select-kernels="isa=avx512+sve" --split-input-file | FileCheck %s --check-prefix=NONE
// RUN: tfc-opt %S/Inputs/select-kernels-decoder.mlir --tfc-cpu-select-kernels="isa=avx512 emit-remarks" --split-input-file --verify-diagnostics | FileCheck %S/Inputs/select-kernels-decoder.mlir
// RUN: not tfc-opt %S/Inputs/select-kernels-decoder.mlir --tfc-cpu-select-kernels="isa=x86-64" --split-input-file 2>&1 | FileCheck %S/Inputs/select-kernels-decoder.mlir --check-prefix=NONE

// COM: Kernel selection fires where the CPU target has a kernel for the op,
// COM: its element types and the instruction set, and leaves everything
// COM: else to the generic lowering: every case here is either a
// COM: tfc_cpu.ukernel or the tfm op it was. For x86-64 before AVX2 and for
// COM: architectures other than x86-64 and AArch64 there are no kernels,
// COM: nor for an extension the runtime does not know (avx512+sve).
// NONE-NOT: tfc_cpu.ukernel

// COM: tfm.linear with a constant f32 weight: the weight is packed here into
// COM: panels as wide as the instruction set's register tile: 32 columns
// COM: for AVX-512 ([2, 8, 32] for 8x40: the last panel padded), 16 for AVX2
// COM: ([3, 8, 16]), and the
// COM: kernel takes the product and its epilogue, on [B, L, X] (a rank-2
// COM: input gets a unit batch, the result is collapsed back). Flags: bias
// COM: (1) and relu (1 << 2); the residual (argument 3) is absent.
// CHECK-LABEL: func.func @linear_kernel
// CHECK: %[[PACKED:.+]] = tfm.constant dense_resource<packed_weight> : tensor<2x8x32xf32>
// CHECK: %[[X3:.+]] = tensor.expand_shape %arg0 {{\[}}[0, 1], [2]] output_shape [1, %{{.+}}, 8] : tensor<?x8xf32> into tensor<1x?x8xf32>
// CHECK: %[[Y3:.+]] = tfc_cpu.ukernel "linear"(%[[X3]], %[[PACKED]], %{{.+}}) dims(%{{.+}}) {absent = array<i64: 3>, dtypes = "f32", flags = 5 : i64, isa = "avx512"} : (tensor<1x?x8xf32>, tensor<2x8x32xf32>, tensor<40xf32>) -> tensor<1x?x40xf32>
// CHECK: %[[Y:.+]] = tensor.collapse_shape %[[Y3]] {{\[}}[0, 1], [2]] : tensor<1x?x40xf32> into tensor<?x40xf32>
// CHECK: return %[[Y]]
// AVX2-LABEL: func.func @linear_kernel
// AVX2: tfm.constant dense_resource<packed_weight> : tensor<3x8x16xf32>
// AVX2: tfc_cpu.ukernel "linear"({{.*}}isa = "avx2"{{.*}}tensor<3x8x16xf32>
// NEON-LABEL: func.func @linear_kernel
// NEON: tfm.constant dense_resource<packed_weight> : tensor<3x8x16xf32>
// NEON: tfc_cpu.ukernel "linear"({{.*}}isa = "neon"{{.*}}tensor<3x8x16xf32>
func.func @linear_kernel(%x: tensor<?x8xf32>) -> tensor<?x40xf32> {
  %w = tfm.constant dense<0.5> : tensor<8x40xf32>
  %b = tfm.constant dense<0.25> : tensor<40xf32>
  // expected-remark @+1 {{kernel linear (f32, avx512): weight 8x40 packed into 2 panels of 32 columns}}
  %y = tfm.linear %x, %w, %b {activation = "relu", operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x8xf32>, tensor<8x40xf32>, tensor<40xf32>) -> tensor<?x40xf32>
  return %y : tensor<?x40xf32>
}

// -----

// COM: A residual of the result's shape, dynamic dims checked at run time
// COM: against the input's; gelu_tanh is activation 3 (flags 2 | 3 << 2).
// CHECK-LABEL: func.func @linear_residual
// CHECK: cf.assert %{{.+}}, "tfm.linear: the residual does not match the result's shape"
// CHECK: tfc_cpu.ukernel "linear"(%arg0, %{{.+}}, %arg1) dims(%{{.+}}, %{{.+}}) {absent = array<i64: 2>, dtypes = "f32", flags = 14 : i64, isa = "avx512"}
func.func @linear_residual(%x: tensor<?x?x16xf32>, %r: tensor<?x?x32xf32>) -> tensor<?x?x32xf32> {
  %w = tfm.constant dense<0.5> : tensor<16x32xf32>
  // expected-remark @+1 {{kernel linear}}
  %y = tfm.linear %x, %w, %r {activation = "gelu_tanh", operandSegmentSizes = array<i32: 1, 1, 0, 1>} : (tensor<?x?x16xf32>, tensor<16x32xf32>, tensor<?x?x32xf32>) -> tensor<?x?x32xf32>
  return %y : tensor<?x?x32xf32>
}

// -----

// COM: A bare matmul by a constant matrix (GPT-2's LM head) is the linear
// COM: kernel's with no epilogue (flags 0, not printed).
// CHECK-LABEL: func.func @matmul_constant_weight
// CHECK: tfc_cpu.ukernel "linear"({{.+}}) dims({{.+}}) {absent = array<i64: 2, 3>, dtypes = "f32", isa = "avx512"} : (tensor<?x?x16xf32>, tensor<1x16x32xf32>) -> tensor<?x?x32xf32>
func.func @matmul_constant_weight(%x: tensor<?x?x16xf32>) -> tensor<?x?x32xf32> {
  %w = tfm.constant dense<0.5> : tensor<16x32xf32>
  // expected-remark @+1 {{kernel linear}}
  %y = tfm.matmul %x, %w : (tensor<?x?x16xf32>, tensor<16x32xf32>) -> tensor<?x?x32xf32>
  return %y : tensor<?x?x32xf32>
}

// -----

// COM: An f32 input by a bf16 weight (--quantize=bf16) is the bf16 linear
// COM: kernel's: the weight packed in pairs of k, [panels, K / 2, 2 * 32].
// CHECK-LABEL: func.func @linear_bf16_weight
// CHECK: tfc_cpu.ukernel "linear_bf16"({{.+}}) dims({{.+}}) {absent = array<i64: 3>, dtypes = "bf16", flags = 1 : i64, isa = "avx512"} : (tensor<?x?x15xf32>, tensor<1x8x64xbf16>, tensor<32xf32>) -> tensor<?x?x32xf32>
func.func @linear_bf16_weight(%x: tensor<?x?x15xf32>) -> tensor<?x?x32xf32> {
  %w = tfm.constant dense<0.5> : tensor<15x32xbf16>
  %b = tfm.constant dense<0.25> : tensor<32xf32>
  // expected-remark @+1 {{kernel linear_bf16 (bf16, avx512): weight 15x32 packed into 1 panels of 32 columns}}
  %y = tfm.linear %x, %w, %b {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x?x15xf32>, tensor<15x32xbf16>, tensor<32xf32>) -> tensor<?x?x32xf32>
  return %y : tensor<?x?x32xf32>
}

// -----

// COM: Must not fire: a residual that broadcasts, a weight that is an
// COM: argument (nothing to pack at compile time), products of rank 4, and
// COM: f16, bf16 and int8 products (no kernel for those element types).
// CHECK-LABEL: func.func @linear_refused
// CHECK-NOT: tfc_cpu.ukernel
// CHECK: return
func.func @linear_refused(%x: tensor<?x?x8xf32>, %r: tensor<1x1x32xf32>, %wa: tensor<8x32xf32>,
                          %x4: tensor<2x2x3x8xf32>, %h: tensor<4x8xf16>, %bf: tensor<4x8xbf16>,
                          %s8: tensor<4x8xi8>)
    -> (tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<2x2x3x32xf32>, tensor<4x32xf16>, tensor<4x32xbf16>, tensor<4x32xi32>) {
  %w = tfm.constant dense<0.5> : tensor<8x32xf32>
  %wh = tfm.constant dense<0.5> : tensor<8x32xf16>
  %wb = tfm.constant dense<0.5> : tensor<8x32xbf16>
  %w8 = tfm.constant dense<3> : tensor<8x32xi8>
  // expected-remark @+1 {{no kernel: the residual may broadcast}}
  %0 = tfm.linear %x, %w, %r {operandSegmentSizes = array<i32: 1, 1, 0, 1>} : (tensor<?x?x8xf32>, tensor<8x32xf32>, tensor<1x1x32xf32>) -> tensor<?x?x32xf32>
  // expected-remark @+1 {{no kernel: the weight is not a constant matrix of static shape}}
  %1 = tfm.linear %x, %wa {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x?x8xf32>, tensor<8x32xf32>) -> tensor<?x?x32xf32>
  // expected-remark @+1 {{no kernel: the linear kernel takes products of rank 2 or 3}}
  %2 = tfm.linear %x4, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<2x2x3x8xf32>, tensor<8x32xf32>) -> tensor<2x2x3x32xf32>
  // expected-remark @+1 {{no kernel: no linear kernel for f16 by f16 (only f32 by f32 or bf16)}}
  %3 = tfm.linear %h, %wh {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<4x8xf16>, tensor<8x32xf16>) -> tensor<4x32xf16>
  // expected-remark @+1 {{no kernel: no linear kernel for bf16 by bf16 (only f32 by f32 or bf16)}}
  %4 = tfm.linear %bf, %wb {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<4x8xbf16>, tensor<8x32xbf16>) -> tensor<4x32xbf16>
  // expected-remark @+1 {{no kernel: no linear kernel for i8 by i8 (only f32 by f32 or bf16)}}
  %5 = tfm.linear %s8, %w8 {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<4x8xi8>, tensor<8x32xi8>) -> tensor<4x32xi32>
  return %0, %1, %2, %3, %4, %5 : tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<2x2x3x32xf32>, tensor<4x32xf16>, tensor<4x32xbf16>, tensor<4x32xi32>
}

// -----

// COM: A product of two computed tensors is the batched matmul kernel's: the
// COM: batch dims collapsed into one (and expanded back), a dynamic batch
// COM: checked to agree, an lhs whose batch dims are all 1 broadcast.
// CHECK-LABEL: func.func @batched_matmul
// CHECK: cf.assert %{{.+}}, "tfm.matmul: batch dim 0 differs between the operands"
// CHECK: tfc_cpu.ukernel "matmul"(%arg0, %arg1) dims(%{{.+}}) {dtypes = "f32", isa = "avx512"} : (tensor<?x4x8xf32>, tensor<?x8x5xf32>) -> tensor<?x4x5xf32>
// CHECK: %[[Q:.+]] = tensor.collapse_shape %arg2 {{\[}}[0, 1], [2], [3]] : tensor<2x3x6x8xf32> into tensor<6x6x8xf32>
// CHECK: %[[K:.+]] = tensor.collapse_shape %arg3 {{\[}}[0, 1], [2], [3]] : tensor<2x3x8x6xf32> into tensor<6x8x6xf32>
// CHECK: %[[S:.+]] = tfc_cpu.ukernel "matmul"(%[[Q]], %[[K]]) {dtypes = "f32", isa = "avx512"} : (tensor<6x6x8xf32>, tensor<6x8x6xf32>) -> tensor<6x6x6xf32>
// CHECK: tensor.expand_shape %[[S]] {{\[}}[0, 1], [2], [3]] output_shape [2, 3, 6, 6] : tensor<6x6x6xf32> into tensor<2x3x6x6xf32>
// CHECK: tfc_cpu.ukernel "matmul"(%arg4, %arg1) {{.+}} : (tensor<1x4x8xf32>, tensor<?x8x5xf32>) -> tensor<?x4x5xf32>
// AVX2-LABEL: func.func @batched_matmul
// AVX2: tfc_cpu.ukernel "matmul"({{.*}}isa = "avx2"
// NONE-LABEL: func.func @batched_matmul
// NONE-NOT: tfc_cpu.ukernel
func.func @batched_matmul(%a: tensor<?x4x8xf32>, %b: tensor<?x8x5xf32>, %q: tensor<2x3x6x8xf32>,
                          %k: tensor<2x3x8x6xf32>, %one: tensor<1x4x8xf32>)
    -> (tensor<?x4x5xf32>, tensor<2x3x6x6xf32>, tensor<?x4x5xf32>) {
  // expected-remark @+1 {{kernel matmul (f32, avx512): rhs packed at run time}}
  %0 = tfm.matmul %a, %b : (tensor<?x4x8xf32>, tensor<?x8x5xf32>) -> tensor<?x4x5xf32>
  // expected-remark @+1 {{kernel matmul}}
  %1 = tfm.matmul %q, %k : (tensor<2x3x6x8xf32>, tensor<2x3x8x6xf32>) -> tensor<2x3x6x6xf32>
  // expected-remark @+1 {{kernel matmul}}
  %2 = tfm.matmul %one, %b : (tensor<1x4x8xf32>, tensor<?x8x5xf32>) -> tensor<?x4x5xf32>
  return %0, %1, %2 : tensor<?x4x5xf32>, tensor<2x3x6x6xf32>, tensor<?x4x5xf32>
}

// -----

// COM: Must not fire: batch dims that broadcast against each other, ranks
// COM: that differ, f16.
// CHECK-LABEL: func.func @batched_matmul_refused
// CHECK-NOT: tfc_cpu.ukernel
// CHECK: return
func.func @batched_matmul_refused(%a: tensor<2x1x4x8xf32>, %b: tensor<1x3x8x4xf32>, %v: tensor<8x4xf32>,
                                  %h: tensor<2x4x8xf16>, %hb: tensor<2x8x4xf16>)
    -> (tensor<2x3x4x4xf32>, tensor<2x1x4x4xf32>, tensor<2x4x4xf16>) {
  // expected-remark @+1 {{no kernel: batch dims broadcast}}
  %0 = tfm.matmul %a, %b : (tensor<2x1x4x8xf32>, tensor<1x3x8x4xf32>) -> tensor<2x3x4x4xf32>
  // expected-remark @+1 {{no kernel: the operands' ranks differ (a broadcast of whole dims)}}
  %1 = tfm.matmul %a, %v : (tensor<2x1x4x8xf32>, tensor<8x4xf32>) -> tensor<2x1x4x4xf32>
  // expected-remark @+1 {{no kernel: no matmul kernel for f16 (only f32)}}
  %2 = tfm.matmul %h, %hb : (tensor<2x4x8xf16>, tensor<2x8x4xf16>) -> tensor<2x4x4xf16>
  return %0, %1, %2 : tensor<2x3x4x4xf32>, tensor<2x1x4x4xf32>, tensor<2x4x4xf16>
}

// -----

// COM: tfm.attention in f32 is the fused kernel's: q, k and v split into
// COM: [B, L, N, d] views in place, the shapes that only hold at run time
// COM: checked, a 2-D mask made [1, 1, Lq, Lk] with each of its dynamic dims
// COM: checked to be 1 or the scores' size. Flags: mask (1) and causal (2).
// CHECK-LABEL: func.func @attention
// CHECK-DAG: %[[Q4:.+]] = tensor.expand_shape %arg0 {{\[}}[0], [1], [2, 3]] output_shape [%{{.+}}, %{{.+}}, 4, 16] : tensor<?x?x64xf32> into tensor<?x?x4x16xf32>
// CHECK-DAG: %[[K4:.+]] = tensor.expand_shape %arg1 {{\[}}[0], [1], [2, 3]]
// CHECK: cf.assert %{{.+}}, "tfm.attention: key batch does not match the query's"
// CHECK: cf.assert %{{.+}}, "tfm.attention: mask dim 0 is neither 1 nor the scores' size"
// CHECK: %[[MASK4:.+]] = tensor.expand_shape %arg2 {{\[}}[0, 1, 2], [3]] output_shape [1, 1, %{{.+}}, %{{.+}}]
// CHECK-DAG: %[[HEADS:.+]] = arith.constant 4 : i64
// CHECK-DAG: %[[SCALE:.+]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[NO_STATE:.+]] = arith.constant -1 : i64
// CHECK-DAG: %[[NO_LIMIT:.+]] = arith.constant 0 : i64
// CHECK: tfc_cpu.ukernel "attention"(%[[Q4]], %[[K4]], %{{.+}}, %[[MASK4]], %[[HEADS]], %[[SCALE]], %[[NO_STATE]], %[[NO_LIMIT]]) dims(%{{.+}}, %{{.+}}) {dtypes = "f32", flags = 3 : i64, isa = "avx512"} : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<1x1x?x?xf32>, i64, f32, i64, i64) -> tensor<?x?x64xf32>
// AVX2-LABEL: func.func @attention
// AVX2: tfc_cpu.ukernel "attention"({{.*}}isa = "avx2"
func.func @attention(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %m: tensor<?x?xf32>) -> tensor<?x?x64xf32> {
  // expected-remark @+1 {{kernel attention (f32, avx512)}}
  %r = tfm.attention %q, %k, %k, %m {num_heads = 4 : i64, scale = 0.25 : f32, causal = true} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?xf32>) -> tensor<?x?x64xf32>
  return %r : tensor<?x?x64xf32>
}

// -----

// COM: Head-major operands ([B, N, L, d]: rotary embeddings, a KV cache) go
// COM: to the kernel as they are, flagged (q 4, k 8, v 16); a k and v of 2
// COM: heads serve q's 4 (grouped-query attention).
// CHECK-LABEL: func.func @attention_head_major
// CHECK: tfc_cpu.ukernel "attention"(%arg0, %arg1, %arg1, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) dims(%{{.+}}, %{{.+}}) {absent = array<i64: 3>, dtypes = "f32", flags = 28 : i64, isa = "avx512"} : (tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>, i64, f32, i64, i64) -> tensor<?x?x64xf32>
func.func @attention_head_major(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>) -> tensor<?x?x64xf32> {
  // expected-remark @+1 {{kernel attention (f32, avx512)}}
  %r = tfm.attention %q, %k, %k {num_heads = 4 : i64, scale = 0.25 : f32} : (tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) -> tensor<?x?x64xf32>
  return %r : tensor<?x?x64xf32>
}

// -----

// COM: Without a mask the kernel gets NULL for it (argument 3 absent); no flags.
// CHECK-LABEL: func.func @attention_no_mask
// CHECK: cf.assert %{{.+}}, "tfm.attention: hidden size is not a multiple of the heads"
// CHECK: tfc_cpu.ukernel "attention"(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}) dims(%{{.+}}, %{{.+}}) {absent = array<i64: 3>, dtypes = "f32", isa = "avx512"}
func.func @attention_no_mask(%q: tensor<1x?x?xf32>) -> tensor<1x?x?xf32> {
  // expected-remark @+1 {{kernel attention}}
  %r = tfm.attention %q, %q, %q {num_heads = 4 : i64, scale = 0.25 : f32} : (tensor<1x?x?xf32>, tensor<1x?x?xf32>, tensor<1x?x?xf32>) -> tensor<1x?x?xf32>
  return %r : tensor<1x?x?xf32>
}

// -----

// COM: f16 and bf16 attention have no kernel: the generic lowering takes them.
// CHECK-LABEL: func.func @attention_refused
// CHECK-NOT: tfc_cpu.ukernel
// CHECK: tfm.attention
// CHECK: tfm.attention
func.func @attention_refused(%h: tensor<1x8x16xf16>, %b: tensor<1x8x16xbf16>) -> (tensor<1x8x16xf16>, tensor<1x8x16xbf16>) {
  // expected-remark @+1 {{no kernel: no attention kernel for f16 (only f32)}}
  %0 = tfm.attention %h, %h, %h {num_heads = 2 : i64, scale = 0.25 : f32} : (tensor<1x8x16xf16>, tensor<1x8x16xf16>, tensor<1x8x16xf16>) -> tensor<1x8x16xf16>
  // expected-remark @+1 {{no kernel: no attention kernel for bf16 (only f32)}}
  %1 = tfm.attention %b, %b, %b {num_heads = 2 : i64, scale = 0.25 : f32} : (tensor<1x8x16xbf16>, tensor<1x8x16xbf16>, tensor<1x8x16xbf16>) -> tensor<1x8x16xbf16>
  return %0, %1 : tensor<1x8x16xf16>, tensor<1x8x16xbf16>
}

// -----

// COM: A layer norm over the last dim of rank 3 with bias: flags 1 (bias),
// COM: the skip (argument 1) absent, epsilon as is.
// CHECK-LABEL: func.func @layer_norm_kernel
// CHECK: %[[EPS:.+]] = arith.constant 9.99999974E-6 : f32
// CHECK: tfc_cpu.ukernel "layer_norm"(%arg0, %arg1, %arg2, %[[EPS]]) dims(%{{.+}}, %{{.+}}) {absent = array<i64: 1>, dtypes = "f32", flags = 1 : i64, isa = "avx512"}
func.func @layer_norm_kernel(%x: tensor<?x?x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<?x?x8xf32> {
  // expected-remark @+1 {{kernel layer_norm (f32, avx512)}}
  %y = tfm.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-5 : f32} : (tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// COM: add_layer_norm of rank 2 without bias: flags 2 (skip), a unit batch.
// CHECK-LABEL: func.func @add_layer_norm_kernel
// CHECK: tensor.expand_shape %arg0 {{\[}}[0, 1], [2]] output_shape [1, %{{.+}}, 8] : tensor<?x8xf32> into tensor<1x?x8xf32>
// CHECK: tfc_cpu.ukernel "layer_norm"({{.+}}) dims(%{{.+}}) {absent = array<i64: 3>, dtypes = "f32", flags = 2 : i64, isa = "avx512"}
// CHECK: tensor.collapse_shape
func.func @add_layer_norm_kernel(%x: tensor<?x8xf32>, %r: tensor<?x8xf32>, %g: tensor<8xf32>) -> tensor<?x8xf32> {
  // expected-remark @+1 {{kernel layer_norm}}
  %y = tfm.add_layer_norm %x, %r, %g {axis = 1 : i64, epsilon = 1.0e-5 : f32} : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// COM: Must not fire: two normalized dims, a skip that broadcasts, a rank-4
// COM: input, an f16 input.
// CHECK-LABEL: func.func @layer_norm_refused
// CHECK-NOT: tfc_cpu.ukernel
// CHECK: return
func.func @layer_norm_refused(%x: tensor<2x3x8xf32>, %g2: tensor<3x8xf32>, %r: tensor<1x3x8xf32>, %g: tensor<8xf32>,
                              %x4: tensor<2x2x3x8xf32>, %h: tensor<2x8xf16>, %gh: tensor<8xf16>)
    -> (tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x2x3x8xf32>, tensor<2x8xf16>) {
  // expected-remark @+1 {{no kernel: the norm is over more than the last dim}}
  %a = tfm.layer_norm %x, %g2 {axis = 1 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x3x8xf32>, tensor<3x8xf32>) -> tensor<2x3x8xf32>
  // expected-remark @+1 {{no kernel: the skip may broadcast}}
  %b = tfm.add_layer_norm %x, %r, %g {axis = 2 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x3x8xf32>, tensor<1x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  // expected-remark @+1 {{no kernel: the layer_norm kernel takes tensors of rank 2 or 3}}
  %c = tfm.layer_norm %x4, %g {axis = 3 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x2x3x8xf32>, tensor<8xf32>) -> tensor<2x2x3x8xf32>
  // expected-remark @+1 {{no kernel: no layer_norm kernel for f16 (only f32)}}
  %d = tfm.layer_norm %h, %gh {axis = 1 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x8xf16>, tensor<8xf16>) -> tensor<2x8xf16>
  return %a, %b, %c, %d : tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x2x3x8xf32>, tensor<2x8xf16>
}

// -----

// COM: Without kernels for the instruction set, every op stays and says why.
// NONE-LABEL: func.func @no_kernels_for_isa
// NONE: tfm.linear
// NONE: tfm.attention
func.func @no_kernels_for_isa(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<1x4x8xf32>) {
  %w = tfm.constant dense<0.5> : tensor<8x8xf32>
  // expected-remark @+1 {{kernel linear}}
  %0 = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %x3 = tfm.unsqueeze %x {axes = array<i64: 0>} : (tensor<4x8xf32>) -> tensor<1x4x8xf32>
  // expected-remark @+1 {{kernel attention}}
  %1 = tfm.attention %x3, %x3, %x3 {num_heads = 2 : i64, scale = 0.5 : f32} : (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32>
  return %0, %1 : tensor<4x8xf32>, tensor<1x4x8xf32>
}

// -----

// COM: tfm.quantized_linear: the int8 weight packed for the instruction
// COM: set's dot product: without VNNI in groups of 2 k widened to s16
// COM: (AVX-512: [2 panels, 4 groups, 32 x 4 bytes]; AVX2 and NEON: panels
// COM: of 16), with VNNI in groups of 4 k of s8 ([2, 2, 128]); per-column
// COM: scales and sums padded to the panels. Flags: bias (1), gelu (2 << 2),
// COM: per-row input (0 << 4); absent: the weight zero point (4) and the
// COM: residual (6). The input scale and zero point are the call's scalars.
// CHECK-LABEL: func.func @quantized_linear
// CHECK-DAG: %[[PACKED:.+]] = tfm.constant dense_resource<quantized_weight.packed_s16> : tensor<2x4x128xi8>
// CHECK-DAG: %[[SCALES:.+]] = tfm.constant dense_resource<quantized_weight.scales> : tensor<64xf32>
// CHECK-DAG: %[[SUMS:.+]] = tfm.constant dense_resource<quantized_weight.sums> : tensor<64xi32>
// CHECK: tfc_cpu.ukernel "linear_q8"(%{{.+}}, %[[PACKED]], %[[SCALES]], %[[SUMS]], %{{.+}}, %{{.+}}, %{{.+}}) dims(%{{.+}}) {absent = array<i64: 4, 6>, dtypes = "s16s16s32", flags = 9 : i64, isa = "avx512"}
// VNNI-LABEL: func.func @quantized_linear
// VNNI: tfm.constant dense_resource<quantized_weight.packed_u8s8> : tensor<2x2x128xi8>
// VNNI: tfc_cpu.ukernel "linear_q8"({{.*}}dtypes = "u8s8s32", flags = 9 : i64, isa = "avx512+vnni"}
// AVX2-LABEL: func.func @quantized_linear
// AVX2: tfc_cpu.ukernel "linear_q8"({{.*}}dtypes = "s16s16s32"{{.*}}isa = "avx2"{{.*}}tensor<3x4x64xi8>
// NEON-LABEL: func.func @quantized_linear
// NEON: tfc_cpu.ukernel "linear_q8"({{.*}}dtypes = "s16s16s32"{{.*}}isa = "neon"{{.*}}tensor<3x4x64xi8>
func.func @quantized_linear(%x: tensor<?x8xf32>) -> tensor<?x40xf32> {
  %w = tfm.constant dense<3> : tensor<8x40xi8>
  %s = tfm.constant dense<0.01> : tensor<40xf32>
  %b = tfm.constant dense<0.25> : tensor<40xf32>
  // expected-remark @+1 {{kernel linear_q8 (s16s16s32, avx512): weight 8x40 packed into 2 panels of 32 columns, input quantized per row}}
  %y = tfm.quantized_linear %x, %w, %s, %b {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 0>} : (tensor<?x8xf32>, tensor<8x40xi8>, tensor<40xf32>, tensor<40xf32>) -> tensor<?x40xf32>
  return %y : tensor<?x40xf32>
}

// -----

// COM: Must not take: a weight computed at run time (the generic lowering
// COM: does), an input scale that is not a constant.
// CHECK-LABEL: func.func @quantized_not_taken
// CHECK-COUNT-2: tfm.quantized_linear
func.func @quantized_not_taken(%x: tensor<4x8xf32>, %w: tensor<8x16xi8>, %scale: tensor<f32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %s = tfm.constant dense<0.01> : tensor<16xf32>
  %c = tfm.constant dense<1> : tensor<8x16xi8>
  // expected-remark @+1 {{no kernel: the weight, its scales or zero points are not constants}}
  %a = tfm.quantized_linear %x, %w, %s {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<4x8xf32>, tensor<8x16xi8>, tensor<16xf32>) -> tensor<4x16xf32>
  // expected-remark @+1 {{no kernel: the input scale is not a constant}}
  %b = tfm.quantized_linear %x, %c, %s, %scale {input_quantization = "static", operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 1, 0>} : (tensor<4x8xf32>, tensor<8x16xi8>, tensor<16xf32>, tensor<f32>) -> tensor<4x16xf32>
  return %a, %b : tensor<4x16xf32>, tensor<4x16xf32>
}
