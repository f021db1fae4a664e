// RUN: tfc-opt %s --tfm-fold-batch-norm --split-input-file | FileCheck %s

// COM: A conv without bias, then BatchNorm's scale and shift per channel:
// COM: the weight's rows scaled (1, 2 by 2, 3: 2, 6), the shift the new
// COM: bias (10, 20).
// CHECK-LABEL: func.func @conv
// CHECK-DAG: %[[W:.+]] = tfm.constant dense_resource<batch_norm_folded_weight> : tensor<2x1x1xf32>
// CHECK-DAG: %[[B:.+]] = tfm.constant dense_resource<batch_norm_folded_bias> : tensor<2xf32>
// CHECK: %[[Y:.+]] = tfm.conv %arg0, %[[W]], %[[B]]
// CHECK-NEXT: return %[[Y]]
// CHECK: batch_norm_folded_weight: "0x04000000000000400000C040"
// CHECK: batch_norm_folded_bias: "0x04000000000020410000A041"
func.func @conv(%x: tensor<?x1x?xf32>) -> tensor<?x2x?xf32> {
  %w = tfm.constant dense<[[[1.0]], [[2.0]]]> : tensor<2x1x1xf32>
  %scale = tfm.constant dense<[[2.0], [3.0]]> : tensor<2x1xf32>
  %shift = tfm.constant dense<[[10.0], [20.0]]> : tensor<2x1xf32>
  %y = tfm.conv %x, %w {dilations = array<i64: 1>, pads = array<i64: 0, 0>, strides = array<i64: 1>}
      : (tensor<?x1x?xf32>, tensor<2x1x1xf32>) -> tensor<?x2x?xf32>
  %s = tfm.mul %y, %scale : (tensor<?x2x?xf32>, tensor<2x1xf32>) -> tensor<?x2x?xf32>
  %n = tfm.add %s, %shift : (tensor<?x2x?xf32>, tensor<2x1xf32>) -> tensor<?x2x?xf32>
  return %n : tensor<?x2x?xf32>
}

// -----

// COM: BatchNorm1d over [N, C, L] after a Linear over [N, L, C]: through the
// COM: transpose, the weight's columns scaled ([[1, 2], [3, 4]] by 2, 3:
// COM: [[2, 6], [6, 12]]), the bias (1, 1) scaled and shifted: 12, 23.
// CHECK-LABEL: func.func @linear_transposed
// CHECK-DAG: %[[W:.+]] = tfm.constant dense_resource<batch_norm_folded_weight> : tensor<2x2xf32>
// CHECK-DAG: %[[B:.+]] = tfm.constant dense_resource<batch_norm_folded_bias> : tensor<2xf32>
// CHECK: %[[M:.+]] = tfm.matmul %arg0, %[[W]]
// CHECK-NEXT: %[[A:.+]] = tfm.add %[[M]], %[[B]]
// CHECK-NEXT: %[[T:.+]] = tfm.transpose %[[A]]
// CHECK-NEXT: return %[[T]]
// CHECK: batch_norm_folded_weight: "0x04000000000000400000C0400000C04000004041"
// CHECK: batch_norm_folded_bias: "0x04000000000040410000B841"
func.func @linear_transposed(%x: tensor<?x?x2xf32>) -> tensor<?x2x?xf32> {
  %w = tfm.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %b = tfm.constant dense<[1.0, 1.0]> : tensor<2xf32>
  %scale = tfm.constant dense<[[2.0], [3.0]]> : tensor<2x1xf32>
  %shift = tfm.constant dense<[[10.0], [20.0]]> : tensor<2x1xf32>
  %y = tfm.matmul %x, %w : (tensor<?x?x2xf32>, tensor<2x2xf32>) -> tensor<?x?x2xf32>
  %yb = tfm.add %y, %b : (tensor<?x?x2xf32>, tensor<2xf32>) -> tensor<?x?x2xf32>
  %t = tfm.transpose %yb {perm = array<i64: 0, 2, 1>} : (tensor<?x?x2xf32>) -> tensor<?x2x?xf32>
  %s = tfm.mul %t, %scale : (tensor<?x2x?xf32>, tensor<2x1xf32>) -> tensor<?x2x?xf32>
  %n = tfm.add %s, %shift : (tensor<?x2x?xf32>, tensor<2x1xf32>) -> tensor<?x2x?xf32>
  return %n : tensor<?x2x?xf32>
}

// -----

// COM: Must not fire: the scaled values are also returned (folding would
// COM: change them); the scale varies along the rows, not the channels; the
// COM: scale is not a constant.
// CHECK-LABEL: func.func @not_foldable
// CHECK-COUNT-3: tfm.mul
// CHECK-NOT: batch_norm_folded
func.func @not_foldable(%x: tensor<4x2xf32>, %v: tensor<2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>) {
  %w = tfm.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %cols = tfm.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %rows = tfm.constant dense<[[1.0], [2.0], [3.0], [4.0]]> : tensor<4x1xf32>
  %y1 = tfm.matmul %x, %w : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  %s1 = tfm.mul %y1, %cols : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %y2 = tfm.matmul %x, %w : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  %s2 = tfm.mul %y2, %rows : (tensor<4x2xf32>, tensor<4x1xf32>) -> tensor<4x2xf32>
  %y3 = tfm.matmul %x, %w : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  %s3 = tfm.mul %y3, %v : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  return %y1, %s1, %s2, %s3 : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>
}
