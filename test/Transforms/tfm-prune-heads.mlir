// RUN: tfc-opt %s --tfm-prune-heads="fraction=0.5" --split-input-file | FileCheck %s
// RUN: tfc-opt %s --tfm-prune-heads="fraction=0.5 emit-remarks" --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: not tfc-opt %s --tfm-prune-heads="fraction=-0.5" --split-input-file 2>&1 | FileCheck %s --check-prefix=FRACTION

// COM: Two heads of one channel each from a merged projection [2, 6]
// COM: (q 0-1, k 2-3, v 4-5). Head h's importance is |v column| x |O row|:
// COM: v columns [1.08, 1.21], O rows [1, 5]: head 1 stays. The projection keeps
// COM: columns 1, 3 and 5 ([[0.1, 0.3, 0.5], [0.7, 0.9, 1.1]]) and their
// COM: bias, the split 1/1/1, the attention one head, O row 1 ([3, 4]).
// CHECK-LABEL: func.func @merged
// CHECK: %[[W:.+]] = tfm.constant dense_resource<[[WNAME:.+]]> : tensor<2x3xf32>
// CHECK: %[[P:.+]] = tfm.linear %arg0, %[[W]], %{{.+}} {{.*}} -> tensor<?x?x3xf32>
// CHECK: %[[S:.+]]:3 = tfm.split %[[P]] {axis = 2 : i64, num_outputs = 3 : i64, sizes = array<i64: 1, 1, 1>}
// CHECK: %[[A:.+]] = tfm.attention %[[S]]#0, %[[S]]#1, %[[S]]#2, %arg1 {num_heads = 1 : i64, scale = 1.000000e+00 : f32} : {{.*}} -> tensor<?x?x1xf32>
// CHECK: %[[O:.+]] = tfm.constant dense_resource<[[ONAME:.+]]> : tensor<1x2xf32>
// CHECK: tfm.linear %[[A]], %[[O]]
// CHECK: [[WNAME]]: "0x04000000CDCCCC3D9A99993E0000003F3333333F6666663FCDCC8C3F"
// CHECK: [[ONAME]]: "0x040000000000404000008040"
// REMARK: remark: {{.*}}: pruned heads: /attn/Softmax: 1 of 2 heads kept
func.func @merged(%x: tensor<?x?x2xf32>, %mask: tensor<?x1x1x?xf32>) -> tensor<?x?x2xf32> {
  %w = tfm.constant dense<[[0.0, 0.1, 0.2, 0.3, 0.4, 0.5], [0.6, 0.7, 0.8, 0.9, 1.0, 1.1]]> : tensor<2x6xf32>
  %wb = tfm.constant dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]> : tensor<6xf32>
  %p = tfm.linear %x, %w, %wb {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x?x2xf32>, tensor<2x6xf32>, tensor<6xf32>) -> tensor<?x?x6xf32>
  %s:3 = tfm.split %p {axis = 2 : i64, num_outputs = 3 : i64, sizes = array<i64: 2, 2, 2>} : (tensor<?x?x6xf32>) -> (tensor<?x?x2xf32>, tensor<?x?x2xf32>, tensor<?x?x2xf32>)
  %a = tfm.attention %s#0, %s#1, %s#2, %mask {num_heads = 2 : i64, scale = 1.0 : f32} : (tensor<?x?x2xf32>, tensor<?x?x2xf32>, tensor<?x?x2xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x2xf32> loc("/attn/Softmax")
  %o = tfm.constant dense<[[1.0, 0.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %y = tfm.linear %a, %o, %x {operandSegmentSizes = array<i32: 1, 1, 0, 1>} : (tensor<?x?x2xf32>, tensor<2x2xf32>, tensor<?x?x2xf32>) -> tensor<?x?x2xf32>
  return %y : tensor<?x?x2xf32>
}

// -----

// COM: Three projections of two heads of 2 channels; calibrated norms on O
// COM: ([0, 0, 1, 1] x equal rows) keep head 1: each projection keeps
// COM: columns 2 and 3.
// CHECK-LABEL: func.func @separate
// CHECK-COUNT-3: tfm.linear %arg0, %{{.+}} {{.*}} -> tensor<?x?x2xf32>
// CHECK: tfm.attention {{.*}} {causal = true, num_heads = 1 : i64, scale = 5.000000e-01 : f32}
// CHECK-NOT: tfc.input_norms
func.func @separate(%x: tensor<?x?x4xf32>) -> tensor<?x?x4xf32> {
  %wq = tfm.constant dense<1.0> : tensor<4x4xf32>
  %wk = tfm.constant dense<2.0> : tensor<4x4xf32>
  %wv = tfm.constant dense<[[1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0], [1.0, 2.0, 3.0, 4.0]]> : tensor<4x4xf32>
  %q = tfm.linear %x, %wq {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x?x4xf32>, tensor<4x4xf32>) -> tensor<?x?x4xf32>
  %k = tfm.linear %x, %wk {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x?x4xf32>, tensor<4x4xf32>) -> tensor<?x?x4xf32>
  %v = tfm.linear %x, %wv {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x?x4xf32>, tensor<4x4xf32>) -> tensor<?x?x4xf32>
  %a = tfm.attention %q, %k, %v {num_heads = 2 : i64, scale = 0.5 : f32, causal = true} : (tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  %o = tfm.constant dense<1.0> : tensor<4x4xf32>
  %y = tfm.linear %a, %o {operandSegmentSizes = array<i32: 1, 1, 0, 0>, tfc.input_norms = array<f32: 0.0, 0.0, 1.0, 1.0>} : (tensor<?x?x4xf32>, tensor<4x4xf32>) -> tensor<?x?x4xf32>
  return %y : tensor<?x?x4xf32>
}

// -----

// COM: Left alone: a mask with a dim per head (ALiBi-like), and an
// COM: attention whose result is also returned.
// CHECK-LABEL: func.func @left
// CHECK-COUNT-2: num_heads = 2
func.func @left(%x: tensor<?x?x4xf32>, %mask: tensor<1x2x?x?xf32>) -> (tensor<?x?x4xf32>, tensor<?x?x4xf32>) {
  %w = tfm.constant dense<1.0> : tensor<4x12xf32>
  %p = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x?x4xf32>, tensor<4x12xf32>) -> tensor<?x?x12xf32>
  %s:3 = tfm.split %p {axis = 2 : i64, num_outputs = 3 : i64, sizes = array<i64: 4, 4, 4>} : (tensor<?x?x12xf32>) -> (tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>)
  %a = tfm.attention %s#0, %s#1, %s#2, %mask {num_heads = 2 : i64, scale = 1.0 : f32} : (tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<1x2x?x?xf32>) -> tensor<?x?x4xf32>
  %o = tfm.constant dense<1.0> : tensor<4x4xf32>
  %y = tfm.linear %a, %o {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x?x4xf32>, tensor<4x4xf32>) -> tensor<?x?x4xf32>
  %w2 = tfm.constant dense<1.0> : tensor<4x12xf32>
  %p2 = tfm.linear %x, %w2 {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x?x4xf32>, tensor<4x12xf32>) -> tensor<?x?x12xf32>
  %s2:3 = tfm.split %p2 {axis = 2 : i64, num_outputs = 3 : i64, sizes = array<i64: 4, 4, 4>} : (tensor<?x?x12xf32>) -> (tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>)
  %a2 = tfm.attention %s2#0, %s2#1, %s2#2 {num_heads = 2 : i64, scale = 1.0 : f32} : (tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  %o2 = tfm.constant dense<1.0> : tensor<4x4xf32>
  %y2 = tfm.linear %a2, %o2 {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x?x4xf32>, tensor<4x4xf32>) -> tensor<?x?x4xf32>
  %sum = tfm.add %y2, %a2 : (tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  return %y, %sum : tensor<?x?x4xf32>, tensor<?x?x4xf32>
}

// FRACTION: error: tfm-prune-heads: the fraction must be 0 or more and below 1
