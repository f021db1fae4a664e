// RUN: tfc-opt %s --tfm-merge-projections --split-input-file | FileCheck %s

// COM: Q, K, V projections with biases: one matmul with the weights side by
// COM: side (rows interleaved), one bias add, one split.
// CHECK-LABEL: func.func @qkv
// CHECK: %[[W:.+]] = tfm.constant dense_resource<merged_projection_0.weight> : tensor<2x6xf32>
// CHECK-NEXT: %[[M:.+]] = tfm.matmul %arg0, %[[W]] : (tensor<?x?x2xf32>, tensor<2x6xf32>) -> tensor<?x?x6xf32>
// CHECK-NEXT: %[[B:.+]] = tfm.constant dense_resource<merged_projection_0.bias> : tensor<6xf32>
// CHECK-NEXT: %[[MB:.+]] = tfm.add %[[M]], %[[B]]
// CHECK-NEXT: %[[P:.+]]:3 = tfm.split %[[MB]] {axis = 2 : i64, num_outputs = 3 : i64, sizes = array<i64: 2, 2, 2>}
// CHECK-NEXT: return %[[P]]#0, %[[P]]#1, %[[P]]#2
// CHECK-NOT: tfm.matmul
// COM: Row 0 is wq[0], wk[0], wv[0]; row 1 likewise (the blob's first four
// COM: bytes are its alignment).
// CHECK: merged_projection_0.weight: "0x040000000000803F0000004000004040000080400000A0400000C0400000803F0000004000004040000080400000A0400000C040"
// CHECK: merged_projection_0.bias: "0x04000000000080400000A0400000C0400000E0400000004100001041"
func.func @qkv(%x: tensor<?x?x2xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xf32>, tensor<?x?x2xf32>) {
  %wq = tfm.constant dense<[[1.0, 2.0], [1.0, 2.0]]> : tensor<2x2xf32>
  %wk = tfm.constant dense<[[3.0, 4.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %wv = tfm.constant dense<[[5.0, 6.0], [5.0, 6.0]]> : tensor<2x2xf32>
  %bq = tfm.constant dense<[4.0, 5.0]> : tensor<2xf32>
  %bk = tfm.constant dense<[6.0, 7.0]> : tensor<2xf32>
  %bv = tfm.constant dense<[8.0, 9.0]> : tensor<2xf32>
  %q = tfm.matmul %x, %wq : (tensor<?x?x2xf32>, tensor<2x2xf32>) -> tensor<?x?x2xf32>
  %qb = tfm.add %q, %bq : (tensor<?x?x2xf32>, tensor<2xf32>) -> tensor<?x?x2xf32>
  %k = tfm.matmul %x, %wk : (tensor<?x?x2xf32>, tensor<2x2xf32>) -> tensor<?x?x2xf32>
  %kb = tfm.add %bk, %k : (tensor<2xf32>, tensor<?x?x2xf32>) -> tensor<?x?x2xf32>
  %v = tfm.matmul %x, %wv : (tensor<?x?x2xf32>, tensor<2x2xf32>) -> tensor<?x?x2xf32>
  %vb = tfm.add %v, %bv : (tensor<?x?x2xf32>, tensor<2xf32>) -> tensor<?x?x2xf32>
  return %qb, %kb, %vb : tensor<?x?x2xf32>, tensor<?x?x2xf32>, tensor<?x?x2xf32>
}

// -----

// COM: Any element type merges the same way: f16 weights side by side, two
// COM: bytes an element (1.0 = 0x3C00, 2.0 = 0x4000, 3.0 = 0x4200, 4.0 =
// COM: 0x4400, little-endian).
// CHECK-LABEL: func.func @f16
// CHECK: tfm.constant dense_resource<merged_projection_0.weight> : tensor<2x4xf16>
// CHECK: tfm.matmul %arg0, %{{.+}} : (tensor<3x2xf16>, tensor<2x4xf16>) -> tensor<3x4xf16>
// CHECK: tfm.split
// CHECK: merged_projection_0.weight: "0x04000000003C004000420044003C004000420044"
func.func @f16(%x: tensor<3x2xf16>) -> (tensor<3x2xf16>, tensor<3x2xf16>) {
  %wq = tfm.constant dense<[[1.0, 2.0], [1.0, 2.0]]> : tensor<2x2xf16>
  %wk = tfm.constant dense<[[3.0, 4.0], [3.0, 4.0]]> : tensor<2x2xf16>
  %q = tfm.matmul %x, %wq : (tensor<3x2xf16>, tensor<2x2xf16>) -> tensor<3x2xf16>
  %k = tfm.matmul %x, %wk : (tensor<3x2xf16>, tensor<2x2xf16>) -> tensor<3x2xf16>
  return %q, %k : tensor<3x2xf16>, tensor<3x2xf16>
}

// -----

// COM: Only one projection has a bias: the matmuls merge, the bias add stays
// COM: on its part. Widths may differ.
// CHECK-LABEL: func.func @mixed_bias
// CHECK: %[[M:.+]] = tfm.matmul %arg0, %{{.+}} : (tensor<4x2xf32>, tensor<2x5xf32>) -> tensor<4x5xf32>
// CHECK-NEXT: %[[P:.+]]:2 = tfm.split %[[M]] {axis = 1 : i64, num_outputs = 2 : i64, sizes = array<i64: 2, 3>}
// CHECK: tfm.add %[[P]]#0, %{{.+}}
func.func @mixed_bias(%x: tensor<4x2xf32>) -> (tensor<4x2xf32>, tensor<4x3xf32>) {
  %w1 = tfm.constant dense<1.0> : tensor<2x2xf32>
  %w2 = tfm.constant dense<2.0> : tensor<2x3xf32>
  %b1 = tfm.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %a = tfm.matmul %x, %w1 : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  %ab = tfm.add %a, %b1 : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %c = tfm.matmul %x, %w2 : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %ab, %c : tensor<4x2xf32>, tensor<4x3xf32>
}

// -----

// COM: Must not merge: weights that are not constants (%a and %e share %x
// COM: with the one constant projection %b, which is then alone), and a
// COM: projection of another input.
// CHECK-LABEL: func.func @no_merge
// CHECK-COUNT-4: tfm.matmul
// CHECK-NOT: tfm.split
func.func @no_merge(%x: tensor<4x2xf32>, %y: tensor<4x2xf32>, %w: tensor<2x2xf32>) -> (tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>) {
  %c = tfm.constant dense<1.0> : tensor<2x2xf32>
  %a = tfm.matmul %x, %w : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  %b = tfm.matmul %x, %c : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  %d = tfm.matmul %y, %c : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  %e = tfm.matmul %x, %w : (tensor<4x2xf32>, tensor<2x2xf32>) -> tensor<4x2xf32>
  return %a, %b, %d, %e : tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>, tensor<4x2xf32>
}
