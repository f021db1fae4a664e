// RUN: tfc-opt %s --convert-tfm-to-linalg --canonicalize --split-input-file | FileCheck %s

// COM: LayerNormKernel.cpp: a layer norm over the last dim of an f32 tensor
// COM: of rank 2 or 3 with [D] scale and bias becomes a call of the runtime's
// COM: kernel; what the kernel does not take keeps the linalg lowering of
// COM: NormalizationOps.cpp.

// COM: Rank 3 with bias: flags 1 (bias), epsilon passed as is.
// CHECK-LABEL: func.func @layer_norm_kernel
// CHECK-DAG: %[[EPS:.+]] = arith.constant 9.99999974E-6 : f32
// CHECK-DAG: %[[FLAGS:.+]] = arith.constant 1 : i64
// CHECK-DAG: %[[RESULT:.+]] = memref.alloc(%{{.+}}, %{{.+}}) {alignment = 64 : i64} : memref<?x?x8xf32>
// CHECK: call @tfc_kernel_layer_norm_f32({{.+}}, %[[EPS]], %[[FLAGS]])
// CHECK: bufferization.to_tensor %[[RESULT]]
// CHECK-NOT: linalg.generic
func.func @layer_norm_kernel(%x: tensor<?x?x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<?x?x8xf32> {
  %y = tfm.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 1.0e-5 : f32} : (tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// COM: add_layer_norm of rank 2 without bias: flags 2 (skip), a unit batch.
// CHECK-LABEL: func.func @add_layer_norm_kernel
// CHECK-DAG: %[[FLAGS:.+]] = arith.constant 2 : i64
// CHECK-DAG: tensor.expand_shape %arg0 {{\[}}[0, 1], [2]] output_shape [1, %{{.+}}, 8] : tensor<?x8xf32> into tensor<1x?x8xf32>
// CHECK: call @tfc_kernel_layer_norm_f32({{.+}}, %[[FLAGS]])
// CHECK-NOT: linalg.generic
func.func @add_layer_norm_kernel(%x: tensor<?x8xf32>, %r: tensor<?x8xf32>, %g: tensor<8xf32>) -> tensor<?x8xf32> {
  %y = tfm.add_layer_norm %x, %r, %g {axis = 1 : i64, epsilon = 1.0e-5 : f32} : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %y : tensor<?x8xf32>
}

// -----

// COM: Must not call the kernel: two normalized dims, a skip that broadcasts,
// COM: a rank-4 input.
// CHECK-LABEL: func.func @not_the_kernel
// CHECK-NOT: tfc_kernel_layer_norm_f32
// CHECK: linalg.generic
// CHECK-NOT: tfc_kernel_layer_norm_f32
func.func @not_the_kernel(%x: tensor<2x3x8xf32>, %g2: tensor<3x8xf32>, %r: tensor<1x3x8xf32>, %g: tensor<8xf32>, %x4: tensor<2x2x3x8xf32>)
    -> (tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x2x3x8xf32>) {
  %a = tfm.layer_norm %x, %g2 {axis = 1 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x3x8xf32>, tensor<3x8xf32>) -> tensor<2x3x8xf32>
  %b = tfm.add_layer_norm %x, %r, %g {axis = 2 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x3x8xf32>, tensor<1x3x8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  %c = tfm.layer_norm %x4, %g {axis = 3 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x2x3x8xf32>, tensor<8xf32>) -> tensor<2x2x3x8xf32>
  return %a, %b, %c : tensor<2x3x8xf32>, tensor<2x3x8xf32>, tensor<2x2x3x8xf32>
}
