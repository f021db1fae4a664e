// RUN: tfc-opt %s --tfm-prune="block=1x2" --split-input-file | FileCheck %s
// RUN: tfc-opt %s --tfm-prune="block=1x2 emit-remarks" --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: tfc-opt %s --tfm-prune="score=wanda block=1x2 emit-remarks" --split-input-file 2>%t.remarks | FileCheck %s --check-prefix=WANDA
// RUN: FileCheck %s --check-prefix=WANDA-REMARK < %t.remarks
// RUN: tfc-opt %s --tfm-prune="block=1x2 keep=/fc0/MatMul" --split-input-file | FileCheck %s --check-prefix=KEEP
// RUN: not tfc-opt %s --tfm-prune="block=0x16" --split-input-file 2>&1 | FileCheck %s --check-prefix=BLOCK
// RUN: not tfc-opt %s --tfm-prune="sparsity=1" --split-input-file 2>&1 | FileCheck %s --check-prefix=SPARSITY
// RUN: not tfc-opt %s --tfm-prune="score=random" --split-input-file 2>&1 | FileCheck %s --check-prefix=SCORE

// COM: Magnitude: of the weight's four 1x2 blocks (L1 norms 2, 8, 1, 5),
// COM: half are zeroed, the two smallest: [[0, 0, 4, 4], [0, 0, 2, -3]].
// COM: The new weight replaces the old, which is gone; bias, activation
// COM: and the driver's attributes (here a Wanda norm) do not stay.
// CHECK-LABEL: func.func @linear
// CHECK: %[[W:.+]] = tfm.constant dense_resource<[[WNAME:.+]]> : tensor<2x4xf32>
// CHECK-NOT: tfm.constant dense<{{.*}}> : tensor<2x4xf32>
// CHECK: tfm.linear %arg0, %[[W]], %{{.+}} {activation = "relu", operandSegmentSizes = array<i32: 1, 1, 1, 0>}
// CHECK-NOT: tfc.input_norms
// CHECK: [[WNAME]]: "0x04000000000000000000000000008040000080400000000000000000000000400000
// CHECK-SAME: 40C0"
// COM: Wanda: input channel 1's norm (10) makes its blocks (scores 10, 50)
// COM: outweigh channel 0's (2, 8): channel 0's row is zeroed.
// WANDA-LABEL: func.func @linear
// WANDA: [[WNAME:.+]]: "0x0400000000000000000000000000000000000000
// WANDA-SAME: 0000003F0000003F00000040000040C0"
// WANDA-REMARK: remark: {{.*}}: pruned: /fc0/MatMul: 2 of its 1x2 blocks zeroed (50.0%, wanda), weight 2x4
// KEEP-LABEL: func.func @linear
// KEEP: tfm.constant dense<{{\[\[}}1.000000e+00, 1.000000e+00, 4.000000e+00, 4.000000e+00]
// KEEP: tfm.linear
func.func @linear(%x: tensor<?x2xf32>) -> tensor<?x4xf32> {
  %w = tfm.constant dense<[[1.0, 1.0, 4.0, 4.0], [0.5, 0.5, 2.0, -3.0]]> : tensor<2x4xf32>
  %b = tfm.constant dense<[0.5, 1.0, 0.0, 0.0]> : tensor<4xf32>
  // REMARK: remark: {{.*}}: pruned: /fc0/MatMul: 2 of its 1x2 blocks zeroed (50.0%, magnitude), weight 2x4
  %y = tfm.linear %x, %w, %b {activation = "relu", operandSegmentSizes = array<i32: 1, 1, 1, 0>, tfc.input_norms = array<f32: 1.0, 10.0>} : (tensor<?x2xf32>, tensor<2x4xf32>, tensor<4xf32>) -> tensor<?x4xf32> loc(fused["/fc0/MatMul", "/fc0/Relu"])
  return %y : tensor<?x4xf32>
}

// -----

// COM: What stays dense: a product of two computed operands (not a linear), a layer the
// COM: driver's budget gave sparsity 0, and (Wanda) a layer without norms.
// CHECK-LABEL: func.func @dense
// CHECK: tfm.matmul %arg0, %arg1
// CHECK: tfm.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]>
// CHECK-NOT: tfc.prune_sparsity
// REMARK: remark: {{.*}}: kept dense: /fc1/MatMul: kept by the error budget
// WANDA-LABEL: func.func @dense
// WANDA: tfm.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00]]>
// WANDA-REMARK: remark: {{.*}}: kept dense: /fc1/MatMul: kept by the error budget
// WANDA-REMARK: remark: {{.*}}: kept dense: /fc2/MatMul: no calibrated input norms (wanda needs calibration data)
func.func @dense(%a: tensor<4x2xf32>, %c: tensor<2x4xf32>, %x: tensor<?x2xf32>) -> (tensor<4x4xf32>, tensor<?x2xf32>, tensor<?x2xf32>) {
  %qk = tfm.matmul %a, %c : (tensor<4x2xf32>, tensor<2x4xf32>) -> tensor<4x4xf32> loc("/qk/MatMul")
  %w = tfm.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %y = tfm.linear %x, %w {activation = "none", operandSegmentSizes = array<i32: 1, 1, 0, 0>, tfc.prune_sparsity = 0.0 : f64} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32> loc("/fc1/MatMul")
  %w2 = tfm.constant dense<[[5.0, 6.0], [7.0, 8.0]]> : tensor<2x2xf32>
  %z = tfm.linear %x, %w2 {activation = "none", operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32> loc("/fc2/MatMul")
  return %qk, %y, %z : tensor<4x4xf32>, tensor<?x2xf32>, tensor<?x2xf32>
}

// BLOCK: error: tfm-prune: the block '0x16' is not ROWSxCOLUMNS of 1 to 256 each
// SPARSITY: error: tfm-prune: the sparsity is not a fraction of blocks, 0 or more and below 1
// SCORE: error: tfm-prune: unknown score 'random' (magnitude or wanda)
