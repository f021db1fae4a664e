// RUN: tfc-opt %s --convert-tfm-to-linalg --canonicalize --split-input-file | FileCheck %s

// COM: LinearKernel.cpp: tfm.linear with a constant f32 weight becomes a call
// COM: of the runtime's matmul kernel; what the kernel does not take keeps
// COM: the linalg lowering of ContractionOps.cpp.

// COM: tfm.linear with a constant f32 weight: the weight is packed at compile
// COM: time into 32-column panels ([2, 8, 32] for 8x40: the last panel padded)
// COM: and the runtime's kernel computes product and epilogue in one call,
// COM: on [B, L, X] views (a rank-2 input gets a unit batch). Flags: bias (1)
// COM: and relu (1 << 2). (A weight that is an argument keeps the linalg
// COM: lowering: @linear_argument_weight below.)
// CHECK-LABEL: func.func @linear_kernel
// CHECK-DAG: arith.constant dense_resource<packed_weight> : tensor<2x8x32xf32>
// CHECK-DAG: %[[FLAGS:.+]] = arith.constant 5 : i64
// CHECK-DAG: tensor.expand_shape %arg0 {{\[}}[0, 1], [2]] output_shape [1, %{{.+}}, 8] : tensor<?x8xf32> into tensor<1x?x8xf32>
// CHECK-DAG: %[[RESULT:.+]] = memref.alloc(%{{.+}}) {alignment = 64 : i64} : memref<?x40xf32>
// CHECK: call @tfc_kernel_linear_f32({{.+}}, %[[FLAGS]])
// CHECK: bufferization.to_tensor %[[RESULT]]
// CHECK-NOT: linalg.generic
func.func @linear_kernel(%x: tensor<?x8xf32>) -> tensor<?x40xf32> {
  %w = tfm.constant dense<0.5> : tensor<8x40xf32>
  %b = tfm.constant dense<0.25> : tensor<40xf32>
  %y = tfm.linear %x, %w, %b {activation = "relu", operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x8xf32>, tensor<8x40xf32>, tensor<40xf32>) -> tensor<?x40xf32>
  return %y : tensor<?x40xf32>
}

// -----

// COM: A residual that broadcasts (one row for every batch) is not the
// COM: kernel's [B, L, N]: the linalg lowering takes it.
// CHECK-LABEL: func.func @linear_broadcast_residual
// CHECK-NOT: call @tfc_kernel_linear_f32
// CHECK: linalg.generic
func.func @linear_broadcast_residual(%x: tensor<?x?x8xf32>, %r: tensor<1x1x32xf32>) -> tensor<?x?x32xf32> {
  %w = tfm.constant dense<0.5> : tensor<8x32xf32>
  %y = tfm.linear %x, %w, %r {activation = "none", operandSegmentSizes = array<i32: 1, 1, 0, 1>} : (tensor<?x?x8xf32>, tensor<8x32xf32>, tensor<1x1x32xf32>) -> tensor<?x?x32xf32>
  return %y : tensor<?x?x32xf32>
}

// -----

// COM: A weight that is not a constant cannot be packed at compile time.
// CHECK-LABEL: func.func @linear_argument_weight
// CHECK-NOT: call @tfc_kernel_linear_f32
// CHECK: linalg.generic
func.func @linear_argument_weight(%x: tensor<?x8xf32>, %w: tensor<8x32xf32>) -> tensor<?x32xf32> {
  %y = tfm.linear %x, %w {activation = "none", operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x8xf32>, tensor<8x32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// COM: A bare matmul by a constant matrix (GPT-2's LM head) calls the
// COM: kernel with no epilogue (flags 0).
// CHECK-LABEL: func.func @matmul_constant_weight
// CHECK-DAG: arith.constant dense_resource<packed_weight> : tensor<1x16x32xf32>
// CHECK-DAG: %[[FLAGS:.+]] = arith.constant 0 : i64
// CHECK: call @tfc_kernel_linear_f32({{.+}}, %[[FLAGS]])
// CHECK-NOT: linalg.generic
func.func @matmul_constant_weight(%x: tensor<?x?x16xf32>) -> tensor<?x?x32xf32> {
  %w = tfm.constant dense<0.5> : tensor<16x32xf32>
  %y = tfm.matmul %x, %w : (tensor<?x?x16xf32>, tensor<16x32xf32>) -> tensor<?x?x32xf32>
  return %y : tensor<?x?x32xf32>
}

// -----

// COM: Batched products (attention's, both operands activations) and
// COM: matmuls by a weight that is an argument keep the linalg lowering.
// CHECK-LABEL: func.func @matmul_not_kernel
// CHECK-NOT: call @tfc_kernel_linear_f32
// CHECK: linalg.generic
// CHECK-NOT: call @tfc_kernel_linear_f32
// CHECK: linalg.generic
// CHECK-NOT: call @tfc_kernel_linear_f32
func.func @matmul_not_kernel(%a: tensor<2x4x16xf32>, %b: tensor<2x16x8xf32>, %w: tensor<16x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x4x8xf32>) {
  %y = tfm.matmul %a, %b : (tensor<2x4x16xf32>, tensor<2x16x8xf32>) -> tensor<2x4x8xf32>
  %z = tfm.matmul %a, %w : (tensor<2x4x16xf32>, tensor<16x8xf32>) -> tensor<2x4x8xf32>
  return %y, %z : tensor<2x4x8xf32>, tensor<2x4x8xf32>
}
