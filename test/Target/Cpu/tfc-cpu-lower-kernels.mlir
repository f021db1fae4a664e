// RUN: tfc-opt %s --tfc-cpu-lower-kernels --split-input-file | FileCheck %s

// COM: A kernel call on tensors becomes one on buffers: read-only views of
// COM: the tensor arguments in the kernels' fully dynamic strided type (no
// COM: copies), a fresh 64-byte aligned buffer for the result, passed where
// COM: the kernel declares its output (argument 4 of linear), and the
// COM: result tensor made from that buffer. Scalars pass as they are.
// CHECK-LABEL: func.func @linear
// CHECK: %[[OUT:.+]] = memref.alloc(%arg1) {alignment = 64 : i64} : memref<1x?x40xf32>
// CHECK: %[[X:.+]] = bufferization.to_memref %arg0 read_only : memref<1x?x8xf32, strided<[?, ?, ?], offset: ?>>
// CHECK: %[[XV:.+]] = memref.cast %[[X]] : memref<1x?x8xf32, strided<[?, ?, ?], offset: ?>> to memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
// CHECK: %[[OV:.+]] = memref.cast %[[OUT]] : memref<1x?x40xf32> to memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
// CHECK: tfc_cpu.ukernel_call "linear"(%[[XV]], %{{.+}}, %{{.+}}, %[[OV]]) {absent = array<i64: 3>, dtypes = "f32", flags = 5 : i64, isa = "avx512"}
// CHECK: %[[R:.+]] = bufferization.to_tensor %[[OUT]] restrict writable : memref<1x?x40xf32>
// CHECK: return %[[R]]
// CHECK-NOT: tfc_cpu.ukernel "
func.func @linear(%x: tensor<1x?x8xf32>, %rows: index, %p: tensor<2x8x32xf32>, %b: tensor<40xf32>) -> tensor<1x?x40xf32> {
  %y = tfc_cpu.ukernel "linear"(%x, %p, %b) dims(%rows) {absent = array<i64: 3>, dtypes = "f32", flags = 5 : i64, isa = "avx512"}
      : (tensor<1x?x8xf32>, tensor<2x8x32xf32>, tensor<40xf32>) -> tensor<1x?x40xf32>
  return %y : tensor<1x?x40xf32>
}

// -----

// COM: Attention: the output (argument 4) sits between the tensors and the
// COM: scalars.
// CHECK-LABEL: func.func @attention
// CHECK: %[[OUT:.+]] = memref.alloc() {alignment = 64 : i64} : memref<1x8x16xf32>
// CHECK: %[[OV:.+]] = memref.cast %[[OUT]]
// CHECK: tfc_cpu.ukernel_call "attention"(%{{.+}}, %{{.+}}, %{{.+}}, %[[OV]], %arg1, %arg2, %arg3, %arg3) {absent = array<i64: 3>, dtypes = "f32", isa = "avx2"}
func.func @attention(%q: tensor<1x8x2x8xf32>, %heads: i64, %scale: f32, %state: i64) -> tensor<1x8x16xf32> {
  %y = tfc_cpu.ukernel "attention"(%q, %q, %q, %heads, %scale, %state, %state) {absent = array<i64: 3>, dtypes = "f32", isa = "avx2"}
      : (tensor<1x8x2x8xf32>, tensor<1x8x2x8xf32>, tensor<1x8x2x8xf32>, i64, f32, i64, i64) -> tensor<1x8x16xf32>
  return %y : tensor<1x8x16xf32>
}

// -----

// COM: Must not touch anything but kernel calls: a function without one
// COM: keeps its ops and allocates nothing.
// CHECK-LABEL: func.func @no_kernel
// CHECK-NOT: memref.alloc
// CHECK-NOT: tfc_cpu.ukernel_call
// CHECK: tensor.empty
// CHECK: return
func.func @no_kernel(%n: index) -> tensor<?x4xf32> {
  %e = tensor.empty(%n) : tensor<?x4xf32>
  return %e : tensor<?x4xf32>
}
