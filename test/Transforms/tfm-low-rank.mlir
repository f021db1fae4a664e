// RUN: tfc-opt %s --tfm-low-rank --split-input-file | FileCheck %s
// RUN: tfc-opt %s --tfm-low-rank=emit-remarks --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: not tfc-opt %s --tfm-low-rank=energy=1.5 --split-input-file 2>&1 | FileCheck %s --check-prefix=ENERGY

// COM: A rank-1 weight (row i all i + 1): rank 1 holds all its energy, and
// COM: two products of rank 1 cost 32 multiply-adds a row against 256. The
// COM: first linear (by A [16, 1]) has no epilogue; the second (by B
// COM: [1, 16]) keeps the bias, the activation and the residual.
// CHECK-LABEL: func.func @rank_one
// CHECK-DAG: %[[A:.+]] = tfm.constant dense_resource<{{.+}}> : tensor<16x1xf32>
// CHECK-DAG: %[[B:.+]] = tfm.constant dense_resource<{{.+}}> : tensor<1x16xf32>
// CHECK: %[[T:.+]] = tfm.linear %arg0, %[[A]] {{.*}} : (tensor<?x16xf32>, tensor<16x1xf32>) -> tensor<?x1xf32>
// CHECK: tfm.linear %[[T]], %[[B]], %{{.+}}, %arg1 {activation = "gelu", {{.*}}} : (tensor<?x1xf32>, tensor<1x16xf32>, tensor<16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32>
// CHECK-NOT: tensor<16x16xf32>
// REMARK: remark: {{.*}}: factored: /fc/MatMul: 16x16 as rank 1 (100.0% of the energy), 0.12x the multiply-adds
func.func @rank_one(%x: tensor<?x16xf32>, %r: tensor<?x16xf32>) -> tensor<?x16xf32> {
  %w = tfm.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0], [4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0], [5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0], [6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0], [7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0], [8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0], [9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0], [10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0], [11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0], [12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0], [13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0], [14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0], [15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0], [16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0]]> : tensor<16x16xf32>
  %b = tfm.constant dense<0.5> : tensor<16xf32>
  %y = tfm.linear %x, %w, %b, %r {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<?x16xf32>, tensor<16x16xf32>, tensor<16xf32>, tensor<?x16xf32>) -> tensor<?x16xf32> loc("/fc/MatMul")
  return %y : tensor<?x16xf32>
}

// -----

// COM: Kept whole: a full-rank weight (its rank would not halve the
// COM: multiply-adds), a weight computed at run time, and a layer the
// COM: driver gave rank 0.
// CHECK-LABEL: func.func @whole
// CHECK: tfm.constant dense<{{\[\[}}1.000000e+00, 0.000000e+00], [0.000000e+00, 2.000000e+00]]> : tensor<2x2xf32>
// CHECK-COUNT-3: tfm.linear
// CHECK-NOT: tfm.linear
// REMARK: remark: {{.*}}: kept whole: /full/MatMul: rank 2 of 2x2 would not halve the multiply-adds
// REMARK: remark: {{.*}}: kept whole: /computed/MatMul: the weight is not a constant
// REMARK: remark: {{.*}}: kept whole: /kept/MatMul: kept by the error budget
func.func @whole(%x: tensor<?x2xf32>, %w: tensor<2x2xf32>, %x16: tensor<?x16xf32>) -> (tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x16xf32>) {
  %full = tfm.constant dense<[[1.0, 0.0], [0.0, 2.0]]> : tensor<2x2xf32>
  %y = tfm.linear %x, %full {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32> loc("/full/MatMul")
  %z = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32> loc("/computed/MatMul")
  %w16 = tfm.constant dense<[[1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0], [3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0, 3.0], [4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0], [5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0, 5.0], [6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0, 6.0], [7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0, 7.0], [8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0, 8.0], [9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0, 9.0], [10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0, 10.0], [11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0, 11.0], [12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0, 12.0], [13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0, 13.0], [14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0, 14.0], [15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0, 15.0], [16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0, 16.0]]> : tensor<16x16xf32>
  %k = tfm.linear %x16, %w16 {operandSegmentSizes = array<i32: 1, 1, 0, 0>, tfc.low_rank = 0 : i64} : (tensor<?x16xf32>, tensor<16x16xf32>) -> tensor<?x16xf32> loc("/kept/MatMul")
  return %y, %z, %k : tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x16xf32>
}

// ENERGY: error: tfm-low-rank: the energy must be above 0 and at most 1
