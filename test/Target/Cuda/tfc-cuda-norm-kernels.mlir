// RUN: tfc-opt %s --split-input-file --tfc-cuda-norm-kernels | FileCheck %s

// Fires: a layer norm over the last dim becomes a launch of 8 warps per
// block, a warp per row: each lane sums its columns 32 apart, the warp
// adds the lanes' sums with five xor shuffles (the mean), again for the
// centered squares (the variance), then each lane writes its columns.
// CHECK-LABEL: func.func @layer_norm
// CHECK-DAG: %[[X:.*]] = bufferization.to_memref %arg0 read_only
// CHECK-DAG: %[[GAMMA:.*]] = bufferization.to_memref %arg1 read_only
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}) {alignment = 64 : i64} : memref<?x128x768xf32>
// CHECK: gpu.launch
// CHECK: scf.if
// CHECK: %[[SUM:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: arith.divf
// CHECK: scf.for
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: math.rsqrt
// CHECK: scf.for
// CHECK: memref.load %[[GAMMA]]
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK: bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT: tfm.layer_norm
func.func @layer_norm(%x: tensor<?x128x768xf32>, %gamma: tensor<768xf32>, %beta: tensor<768xf32>) -> tensor<?x128x768xf32> {
  %0 = tfm.layer_norm %x, %gamma, %beta {axis = 2 : i64, epsilon = 9.99999996E-13 : f32}
      : (tensor<?x128x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
  return %0 : tensor<?x128x768xf32>
}

// -----

// Fires: the residual sum (a skip without the batch dim broadcasts) and
// an RMS norm (no mean: one shuffle round).
// CHECK-LABEL: func.func @add_and_rms
// CHECK: gpu.launch
// CHECK: arith.cmpi eq
// CHECK: arith.select
// CHECK: arith.addf
// CHECK: gpu.launch
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK-NOT: gpu.shuffle
// CHECK: math.rsqrt
// CHECK-NOT: tfm.add_layer_norm
// CHECK-NOT: tfm.rms_norm
func.func @add_and_rms(%x: tensor<?x?x64xf32>, %skip: tensor<?x64xf32>, %gamma: tensor<64xf32>) -> (tensor<?x?x64xf32>, tensor<?x?x64xf32>) {
  %0 = tfm.add_layer_norm %x, %skip, %gamma {axis = 2 : i64, epsilon = 1.0e-5 : f32}
      : (tensor<?x?x64xf32>, tensor<?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  %1 = tfm.rms_norm %x, %gamma {axis = -1 : i64, epsilon = 1.0e-6 : f32}
      : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  return %0, %1 : tensor<?x?x64xf32>, tensor<?x?x64xf32>
}

// -----

// Does not fire: a norm over more than the last dim, and an f16 one.
// CHECK-LABEL: func.func @not_norm_kernels
// CHECK-NOT: gpu.launch
// CHECK: tfm.layer_norm
// CHECK: tfm.layer_norm
func.func @not_norm_kernels(%x: tensor<?x8x64xf32>, %gamma: tensor<8x64xf32>, %h: tensor<?x64xf16>, %g16: tensor<64xf16>) -> (tensor<?x8x64xf32>, tensor<?x64xf16>) {
  %0 = tfm.layer_norm %x, %gamma {axis = 1 : i64}
      : (tensor<?x8x64xf32>, tensor<8x64xf32>) -> tensor<?x8x64xf32>
  %1 = tfm.layer_norm %h, %g16 {axis = 1 : i64}
      : (tensor<?x64xf16>, tensor<64xf16>) -> tensor<?x64xf16>
  return %0, %1 : tensor<?x8x64xf32>, tensor<?x64xf16>
}
