// RUN: tfc-opt %s --tfm-prune-ffn="fraction=0.5 multiple=1" --split-input-file | FileCheck %s
// RUN: tfc-opt %s --tfm-prune-ffn="fraction=0.5 multiple=1 emit-remarks" --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: tfc-opt %s --tfm-prune-ffn="fraction=0.5" --split-input-file | FileCheck %s --check-prefix=MULTIPLE
// RUN: not tfc-opt %s --tfm-prune-ffn="fraction=1" --split-input-file 2>&1 | FileCheck %s --check-prefix=FRACTION

// COM: Neuron j's importance is |A column j| x |B row j|: [1, 0, 3, 0.5]
// COM: times equal rows, so neurons 0 and 2 stay. A keeps columns 0 and 2
// COM: ([[1, 3], [0, 0]]) and their bias ([0.1, 0.3]), B rows 0 and 2; the
// COM: activation, B's bias and residual stay. With the kept count rounded
// COM: up to the default multiple of 16, nothing is removed.
// CHECK-LABEL: func.func @ffn
// CHECK-DAG: %[[A:.+]] = tfm.constant dense_resource<[[ANAME:.+]]> : tensor<2x2xf32>
// CHECK-DAG: %[[AB:.+]] = tfm.constant dense_resource<[[ABNAME:.+]]> : tensor<2xf32>
// CHECK: %[[H:.+]] = tfm.linear %arg0, %[[A]], %[[AB]] {activation = "gelu", {{.*}}} : (tensor<?x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
// CHECK: %[[B:.+]] = tfm.constant dense_resource<{{.+}}> : tensor<2x2xf32>
// CHECK: tfm.linear %[[H]], %[[B]], %{{.+}}, %arg0 {{.*}} : (tensor<?x2xf32>, tensor<2x2xf32>, tensor<2xf32>, tensor<?x2xf32>) -> tensor<?x2xf32>
// CHECK-NOT: tensor<2x4xf32>
// CHECK: [[ANAME]]: "0x040000000000803F000040400000000000000000"
// CHECK: [[ABNAME]]: "0x04000000CDCCCC3D9A99993E"
// REMARK: remark: {{.*}}: pruned FFN: /fc1/MatMul: 2 of 4 neurons kept
// MULTIPLE-LABEL: func.func @ffn
// MULTIPLE: tensor<2x4xf32>
func.func @ffn(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %a = tfm.constant dense<[[1.0, 0.0, 3.0, 0.5], [0.0, 0.0, 0.0, 0.0]]> : tensor<2x4xf32>
  %ab = tfm.constant dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32>
  %b = tfm.constant dense<[[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]> : tensor<4x2xf32>
  %bb = tfm.constant dense<[0.5, 0.5]> : tensor<2xf32>
  %h = tfm.linear %x, %a, %ab {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x2xf32>, tensor<2x4xf32>, tensor<4xf32>) -> tensor<?x4xf32> loc("/fc1/MatMul")
  %y = tfm.linear %h, %b, %bb, %x {operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<?x4xf32>, tensor<4x2xf32>, tensor<2xf32>, tensor<?x2xf32>) -> tensor<?x2xf32> loc("/fc2/MatMul")
  return %y : tensor<?x2xf32>
}

// -----

// COM: Calibrated norms of the neurons' outputs (on B) rank instead of A's
// COM: columns: [10, 0, 0, 10] x rows [1, 1, 1, 0.5] keeps neurons 0 and 3.
// CHECK-LABEL: func.func @calibrated
// CHECK: %[[A:.+]] = tfm.constant dense_resource<[[ANAME:.+]]> : tensor<2x2xf32>
// CHECK-NOT: tfc.input_norms
// CHECK: [[ANAME]]: "0x040000000000803F0000003F0000000000000000"
func.func @calibrated(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %a = tfm.constant dense<[[1.0, 0.0, 3.0, 0.5], [0.0, 0.0, 0.0, 0.0]]> : tensor<2x4xf32>
  %b = tfm.constant dense<[[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [0.5, 0.5]]> : tensor<4x2xf32>
  %h = tfm.linear %x, %a {activation = "relu", operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x2xf32>, tensor<2x4xf32>) -> tensor<?x4xf32>
  %y = tfm.linear %h, %b {operandSegmentSizes = array<i32: 1, 1, 0, 0>, tfc.input_norms = array<f32: 10.0, 0.0, 0.0, 10.0>} : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// COM: Not an FFN: the hidden layer has a second use; the first linear
// COM: has a residual; the second's weight is computed.
// CHECK-LABEL: func.func @not_ffn
// CHECK-COUNT-3: tensor<2x4xf32>
// CHECK-NOT: tensor<2x2xf32>
func.func @not_ffn(%x: tensor<?x2xf32>, %w: tensor<4x2xf32>, %r: tensor<?x4xf32>) -> (tensor<?x2xf32>, tensor<?x4xf32>, tensor<?x2xf32>, tensor<?x2xf32>) {
  %a = tfm.constant dense<[[1.0, 0.0, 3.0, 0.5], [0.0, 0.0, 0.0, 0.0]]> : tensor<2x4xf32>
  %b = tfm.constant dense<[[1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]]> : tensor<4x2xf32>
  %h = tfm.linear %x, %a {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x2xf32>, tensor<2x4xf32>) -> tensor<?x4xf32>
  %y = tfm.linear %h, %b {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
  %a2 = tfm.constant dense<[[1.0, 0.0, 3.0, 0.5], [0.0, 0.0, 0.0, 0.0]]> : tensor<2x4xf32>
  %h2 = tfm.linear %x, %a2, %r {operandSegmentSizes = array<i32: 1, 1, 0, 1>} : (tensor<?x2xf32>, tensor<2x4xf32>, tensor<?x4xf32>) -> tensor<?x4xf32>
  %y2 = tfm.linear %h2, %b {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
  %a3 = tfm.constant dense<[[1.0, 0.0, 3.0, 0.5], [0.0, 0.0, 0.0, 0.0]]> : tensor<2x4xf32>
  %h3 = tfm.linear %x, %a3 {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x2xf32>, tensor<2x4xf32>) -> tensor<?x4xf32>
  %y3 = tfm.linear %h3, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x4xf32>, tensor<4x2xf32>) -> tensor<?x2xf32>
  return %y, %h, %y2, %y3 : tensor<?x2xf32>, tensor<?x4xf32>, tensor<?x2xf32>, tensor<?x2xf32>
}

// FRACTION: error: tfm-prune-ffn: the fraction must be 0 or more and below 1
