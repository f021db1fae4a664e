// RUN: tfc-opt %s --tfm-canonicalize --split-input-file | FileCheck %s

// COM: GPT-2's scale, Pow(16, 0.5) + 0, folds to one constant.
// CHECK-LABEL: func.func @scalar_arithmetic
// CHECK-NEXT: %[[C:.+]] = tfm.constant dense<4.000000e+00> : tensor<f32>
// CHECK-NEXT: %[[D:.+]] = tfm.div %arg0, %[[C]]
// CHECK-NEXT: return %[[D]]
func.func @scalar_arithmetic(%s: tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32> {
  %c16 = tfm.constant dense<16.0> : tensor<f32>
  %half = tfm.constant dense<0.5> : tensor<f32>
  %zero = tfm.constant dense<0.0> : tensor<f32>
  %p = tfm.pow %c16, %half : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %a = tfm.add %p, %zero : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %d = tfm.div %s, %a : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  return %d : tensor<?x4x?x?xf32>
}

// -----

// COM: A transposed weight becomes a constant in the new layout; the
// COM: original goes, so the weight is held once.
// CHECK-LABEL: func.func @transposed_weight
// CHECK-NEXT: %[[W:.+]] = tfm.constant dense<{{\[}}[1.000000e+00, 3.000000e+00, 5.000000e+00], [2.000000e+00, 4.000000e+00, 6.000000e+00]]> : tensor<2x3xf32>
// CHECK-NEXT: tfm.matmul %arg0, %[[W]]
// CHECK-NOT: tfm.constant
func.func @transposed_weight(%x: tensor<?x2xf32>) -> tensor<?x3xf32> {
  %w = tfm.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %wt = tfm.transpose %w {perm = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  %y = tfm.matmul %x, %wt : (tensor<?x2xf32>, tensor<2x3xf32>) -> tensor<?x3xf32>
  return %y : tensor<?x3xf32>
}

// -----

// COM: Broadcasting folds elementwise: [2, 1] + [3] -> [2, 3].
// CHECK-LABEL: func.func @broadcast_fold
// CHECK-NEXT: tfm.constant dense<{{\[}}[1.100000e+01, 2.100000e+01, 3.100000e+01], [1.200000e+01, 2.200000e+01, 3.200000e+01]]> : tensor<2x3xf32>
func.func @broadcast_fold() -> tensor<2x3xf32> {
  %a = tfm.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
  %b = tfm.constant dense<[10.0, 20.0, 30.0]> : tensor<3xf32>
  %s = tfm.add %a, %b : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %s : tensor<2x3xf32>
}

// -----

// COM: Two transposes compose: into one, or into nothing.
// CHECK-LABEL: func.func @transposes
// CHECK-NEXT: %[[T:.+]] = tfm.transpose %arg0 {perm = array<i64: 0, 2, 3, 1>}
// CHECK-NEXT: return %[[T]], %arg0
func.func @transposes(%x: tensor<2x3x4x5xf32>) -> (tensor<2x4x5x3xf32>, tensor<2x3x4x5xf32>) {
  %a = tfm.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x3x4x5xf32>) -> tensor<2x4x3x5xf32>
  %b = tfm.transpose %a {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x3x5xf32>) -> tensor<2x4x5x3xf32>
  %c = tfm.transpose %a {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x4x3x5xf32>) -> tensor<2x3x4x5xf32>
  return %b, %c : tensor<2x4x5x3xf32>, tensor<2x3x4x5xf32>
}

// -----

// COM: Must not fold: an operand that is not constant, and a transpose of a
// COM: graph input.
// CHECK-LABEL: func.func @not_constant
// CHECK: tfm.add %arg0
// CHECK: tfm.transpose %arg1
func.func @not_constant(%x: tensor<3xf32>, %y: tensor<2x3xf32>) -> (tensor<3xf32>, tensor<3x2xf32>) {
  %one = tfm.constant dense<1.0> : tensor<f32>
  %a = tfm.add %x, %one : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %t = tfm.transpose %y {perm = array<i64: 1, 0>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %a, %t : tensor<3xf32>, tensor<3x2xf32>
}

// -----

// COM: A weight printed elided (an empty blob, as `tfc import` prints weights)
// COM: has no values to fold: its transpose stays.
// CHECK-LABEL: func.func @elided_weight
// CHECK: %[[W:.+]] = tfm.constant dense_resource<w> : tensor<3x2xf32>
// CHECK: tfm.transpose %[[W]]
func.func @elided_weight() -> tensor<2x3xf32> {
  %w = tfm.constant dense_resource<w> : tensor<3x2xf32>
  %t = tfm.transpose %w {perm = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  return %t : tensor<2x3xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x04000000"
    }
  }
#-}
