// RUN: tfc-opt %s --tfc-cpu-runtime-calls-to-llvm --split-input-file | FileCheck %s

// COM: A kernel call becomes the C call of the runtime's tfc_rt_<kernel>,
// COM: declared from the kernel table: a pointer per tensor argument (the
// COM: memref descriptor stored on the stack), NULL for an absent one,
// COM: scalars as they are, and the flags word last with the element types
// COM: (f32 = 1, bits 8-15) and the instruction set (avx2 = 2, avx512 = 3,
// COM: bits 16-23): layer_norm with flags 0 is 0x20100 = 131328 for avx2.
// CHECK: llvm.func @tfc_rt_layer_norm(!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, f32, i64)
// CHECK-LABEL: func.func @layer_norm
// CHECK: %[[X:.+]] = llvm.alloca %{{.+}} x !llvm.struct<(ptr, ptr, i64, array<3 x i64>, array<3 x i64>)> : (i64) -> !llvm.ptr
// CHECK: llvm.store %{{.+}}, %[[X]]
// CHECK: %[[NULL1:.+]] = llvm.mlir.zero : !llvm.ptr
// CHECK: %[[G:.+]] = llvm.alloca %{{.+}} x !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)>
// CHECK: %[[NULL3:.+]] = llvm.mlir.zero : !llvm.ptr
// CHECK: %[[O:.+]] = llvm.alloca
// CHECK: %[[FLAGS:.+]] = llvm.mlir.constant(131328 : i64) : i64
// CHECK: llvm.call @tfc_rt_layer_norm(%[[X]], %[[NULL1]], %[[G]], %[[NULL3]], %[[O]], %arg3, %[[FLAGS]]) : (!llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, !llvm.ptr, f32, i64) -> ()
// CHECK-NOT: tfc_cpu.ukernel_call
func.func @layer_norm(%x: memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, %g: memref<?xf32, strided<[?], offset: ?>>,
                      %out: memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, %eps: f32) {
  tfc_cpu.ukernel_call "layer_norm"(%x, %g, %out, %eps) {absent = array<i64: 1, 3>, dtypes = "f32", isa = "avx2"}
      : memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>, memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, f32
  return
}

// -----

// COM: Linear for avx512 with bias and gelu (flags 1 | 2 << 2 = 9):
// COM: 0x30109 = 196873.
// CHECK-LABEL: func.func @linear
// CHECK: llvm.mlir.constant(196873 : i64) : i64
// CHECK: llvm.call @tfc_rt_linear(
func.func @linear(%x: memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, %b: memref<?xf32, strided<[?], offset: ?>>) {
  tfc_cpu.ukernel_call "linear"(%x, %x, %b, %x) {absent = array<i64: 3>, dtypes = "f32", flags = 9 : i64, isa = "avx512"}
      : memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>, memref<?xf32, strided<[?], offset: ?>>, memref<?x?x?xf32, strided<[?, ?, ?], offset: ?>>
  return
}

// -----

// COM: Profile markers call the runtime's timers with the address of one
// COM: constant string per site, shared by a site's two ends.
// CHECK-DAG: llvm.func @tfc_rt_profile_enter(!llvm.ptr)
// CHECK-DAG: llvm.func @tfc_rt_profile_exit(!llvm.ptr)
// CHECK-DAG: llvm.mlir.global internal constant @[[SITE:tfc_profile_site_0]]("neg  n\00")
// CHECK-LABEL: func.func @markers
// CHECK: %[[A:.+]] = llvm.mlir.addressof @[[SITE]] : !llvm.ptr
// CHECK-NEXT: llvm.call @tfc_rt_profile_enter(%[[A]])
// CHECK: %[[B:.+]] = llvm.mlir.addressof @[[SITE]] : !llvm.ptr
// CHECK-NEXT: llvm.call @tfc_rt_profile_exit(%[[B]])
// CHECK-NOT: tfm.profile
func.func @markers() {
  tfm.profile_enter "neg  n"
  tfm.profile_exit "neg  n"
  return
}

// -----

// COM: Must not touch other calls or buffers: no kernel or timer is
// COM: declared, no descriptor goes on the stack.
// CHECK-LABEL: func.func @no_runtime_calls
// CHECK-NOT: llvm.alloca
// CHECK-NOT: tfc_rt_
// CHECK: call @helper(%arg0) : (memref<4xf32>) -> ()
func.func private @helper(memref<4xf32>)
func.func @no_runtime_calls(%x: memref<4xf32>) {
  call @helper(%x) : (memref<4xf32>) -> ()
  return
}
