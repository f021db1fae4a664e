// RUN: tfc-opt %s --split-input-file --tfc-cuda-tensor-core-linear | FileCheck %s

// Fires: a linear of an f32 input (rounded to bf16 as it is staged) by a
// bf16 weight, with a bias, GELU and a residual, as tfc compile
// --quantize=bf16 leaves BERT's. One launch of 256 threads per 128 x 128
// tile of the result (grid: column tiles, row tiles); the operands are
// read in place; each step of 32 along k stages both tiles in shared
// memory as bf16 pairs and issues 32 mma.sync (m16n8k16, bf16); the
// epilogue adds the bias, applies GELU (erf), adds the residual and
// writes the f32 result.
// CHECK-LABEL: func.func @bias_gelu_residual
// CHECK-DAG: %[[X:.*]] = bufferization.to_memref %arg0 read_only
// CHECK-DAG: %[[W:.*]] = bufferization.to_memref %arg1 read_only
// CHECK-DAG: %[[B:.*]] = bufferization.to_memref %arg2 read_only
// CHECK-DAG: %[[R:.*]] = bufferization.to_memref %arg3 read_only
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}, %{{.*}}) {alignment = 64 : i64} : memref<?x?x96xf32>
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%[[ATILE:.*]] : memref<128x20xi32, #gpu.address_space<workgroup>>, %[[BTILE:.*]] : memref<128x20xi32, #gpu.address_space<workgroup>>)
// CHECK: arith.remui
// CHECK: arith.divui
// CHECK: scf.for {{.*}} -> (f32, f32,
// CHECK: memref.load %[[X]]
// CHECK-NEXT: arith.truncf %{{.*}} : f32 to bf16
// CHECK: memref.store %{{.*}}, %[[ATILE]]
// CHECK: memref.load %[[W]]
// CHECK: memref.store %{{.*}}, %[[BTILE]]
// CHECK: gpu.barrier
// CHECK-COUNT-32: llvm.call_intrinsic "llvm.nvvm.mma.m16n8k16.row.col.bf16"
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK: memref.load %[[B]]
// CHECK: math.erf
// CHECK: memref.load %[[R]]
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK: gpu.terminator
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT: tfm.linear
func.func @bias_gelu_residual(%x: tensor<?x?x64xf32>, %w: tensor<64x96xbf16>, %b: tensor<96xf32>, %r: tensor<?x?x96xf32>) -> tensor<?x?x96xf32> {
  %0 = tfm.linear %x, %w, %b, %r {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 1>}
      : (tensor<?x?x64xf32>, tensor<64x96xbf16>, tensor<96xf32>, tensor<?x?x96xf32>) -> tensor<?x?x96xf32>
  return %0 : tensor<?x?x96xf32>
}

// -----

// Fires: bf16 by bf16 with a bf16 result: no rounding as staged, the sums
// rounded once, at the end.
// CHECK-LABEL: func.func @bf16_result
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK-NOT: arith.truncf
// CHECK: llvm.call_intrinsic "llvm.nvvm.mma.m16n8k16.row.col.bf16"
// CHECK: scf.yield
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: memref.store
func.func @bf16_result(%x: tensor<?x64xbf16>, %w: tensor<64x96xbf16>) -> tensor<?x96xbf16> {
  %0 = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>}
      : (tensor<?x64xbf16>, tensor<64x96xbf16>) -> tensor<?x96xbf16>
  return %0 : tensor<?x96xbf16>
}

// -----

// Does not fire: f32 weights (the generic lowering computes them), and
// integer linears.
// CHECK-LABEL: func.func @not_bf16
// CHECK-NOT: gpu.launch
// CHECK: tfm.linear
// CHECK: tfm.linear
func.func @not_bf16(%x: tensor<?x64xf32>, %w: tensor<64x96xf32>, %q: tensor<?x64xi8>, %wq: tensor<64x96xi8>) -> (tensor<?x96xf32>, tensor<?x96xi32>) {
  %0 = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>}
      : (tensor<?x64xf32>, tensor<64x96xf32>) -> tensor<?x96xf32>
  %1 = tfm.linear %q, %wq {operandSegmentSizes = array<i32: 1, 1, 0, 0>}
      : (tensor<?x64xi8>, tensor<64x96xi8>) -> tensor<?x96xi32>
  return %0, %1 : tensor<?x96xf32>, tensor<?x96xi32>
}

// -----

// RUN: tfc-opt %s --split-input-file --tfc-cuda-tensor-core-linear=tf32=true | FileCheck %s --check-prefix=TF32

// With tf32 (tfc compile --gpu-tf32), f32 linears too: TF32 words (36 to a
// row of 32 along k), rounded by cvt.rna as staged, 4 steps of the k8
// product per tile of k.
// TF32-LABEL: func.func @f32_weights
// TF32: gpu.launch
// TF32-SAME: workgroup(%{{.*}} : memref<128x36xi32, #gpu.address_space<workgroup>>, %{{.*}} : memref<128x36xi32, #gpu.address_space<workgroup>>)
// TF32: llvm.call_intrinsic "llvm.nvvm.f2tf32.rna"
// TF32-COUNT-64: llvm.call_intrinsic "llvm.nvvm.mma.m16n8k8.row.col.tf32"
// TF32-NOT: tfm.linear
func.func @f32_weights(%x: tensor<?x64xf32>, %w: tensor<64x96xf32>) -> tensor<?x96xf32> {
  %0 = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>}
      : (tensor<?x64xf32>, tensor<64x96xf32>) -> tensor<?x96xf32>
  return %0 : tensor<?x96xf32>
}
