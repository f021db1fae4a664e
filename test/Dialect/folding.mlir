// RUN: tfc-opt %s --canonicalize --split-input-file | FileCheck %s
// COM: The folders on small integer tensors that shape subgraphs rely on.

// CHECK-LABEL: func.func @int_arithmetic
// CHECK-DAG: tfm.constant dense<[5, 7]> : tensor<2xi64>
// CHECK-DAG: tfm.constant dense<-3> : tensor<2xi64>
// CHECK-DAG: tfm.constant dense<[4, 10]> : tensor<2xi64>
// CHECK-DAG: tfm.constant dense<0> : tensor<2xi64>
// CHECK-DAG: tfm.constant dense<[false, true]> : tensor<2xi1>
// CHECK-NOT: tfm.add
// CHECK-NOT: tfm.div
func.func @int_arithmetic() -> (tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi1>) {
  %a = tfm.constant dense<[1, 2]> : tensor<2xi64>
  %b = tfm.constant dense<[4, 5]> : tensor<2xi64>
  %0 = tfm.add %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %1 = tfm.sub %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %2 = tfm.mul %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %3 = tfm.div %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  %two = tfm.constant dense<2> : tensor<i64>
  %4 = tfm.equal %a, %two : (tensor<2xi64>, tensor<i64>) -> tensor<2xi1>
  return %0, %1, %2, %3, %4 : tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi1>
}

// -----

// COM: Negation of a shape piece folds (ONNX's expanded LayerNorm negates
// COM: its axis into a length); INT_MIN wraps, as the compiled code's does.
// CHECK-LABEL: func.func @neg
// CHECK-DAG: tfm.constant dense<[1, -2]> : tensor<2xi64>
// CHECK-DAG: tfm.constant dense<-128> : tensor<1xi8>
// CHECK-NOT: tfm.neg
func.func @neg() -> (tensor<2xi64>, tensor<1xi8>) {
  %a = tfm.constant dense<[-1, 2]> : tensor<2xi64>
  %0 = tfm.neg %a : (tensor<2xi64>) -> tensor<2xi64>
  %m = tfm.constant dense<[-128]> : tensor<1xi8>
  %1 = tfm.neg %m : (tensor<1xi8>) -> tensor<1xi8>
  return %0, %1 : tensor<2xi64>, tensor<1xi8>
}

// -----

// COM: Division by zero is left for run time, not folded.
// CHECK-LABEL: func.func @div_by_zero
// CHECK: tfm.div
func.func @div_by_zero() -> tensor<1xi64> {
  %a = tfm.constant dense<[1]> : tensor<1xi64>
  %z = tfm.constant dense<[0]> : tensor<1xi64>
  %0 = tfm.div %a, %z : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  return %0 : tensor<1xi64>
}

// -----

// CHECK-LABEL: func.func @shape_pieces
// CHECK-DAG: tfm.constant dense<[128, 768]> : tensor<2xi64>
// CHECK-DAG: tfm.constant dense<768> : tensor<1xi64>
// CHECK-DAG: tfm.constant dense<[0, 1, 2, 3]> : tensor<4xi64>
// CHECK-DAG: tfm.constant dense<1.000000e+00> : tensor<2x3xf32>
// CHECK-DAG: tfm.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
func.func @shape_pieces(%x: tensor<?x128x768xf32>) -> (tensor<2xi64>, tensor<1xi64>, tensor<4xi64>, tensor<2x3xf32>, tensor<2xf32>) {
  // COM: The static dims of a partly symbolic shape fold.
  %s = tfm.shape %x {end = 3 : i64, start = 1 : i64} : (tensor<?x128x768xf32>) -> tensor<2xi64>
  %full = tfm.shape %x {end = 3 : i64, start = 0 : i64} : (tensor<?x128x768xf32>) -> tensor<3xi64>
  %i = tfm.constant dense<[2]> : tensor<1xi64>
  %g = tfm.gather %full, %i {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %c0 = tfm.constant dense<0> : tensor<i64>
  %c4 = tfm.constant dense<4> : tensor<i64>
  %c1 = tfm.constant dense<1> : tensor<i64>
  %r = tfm.range %c0, %c4, %c1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<4xi64>
  %shape = tfm.constant dense<[2, 3]> : tensor<2xi64>
  %ones = tfm.constant_of_shape %shape {value = dense<1.0> : tensor<1xf32>} : (tensor<2xi64>) -> tensor<2x3xf32>
  %ints = tfm.constant dense<[1, 2]> : tensor<2xi64>
  %f = tfm.cast %ints {to = f32} : (tensor<2xi64>) -> tensor<2xf32>
  return %s, %g, %r, %ones, %f : tensor<2xi64>, tensor<1xi64>, tensor<4xi64>, tensor<2x3xf32>, tensor<2xf32>
}

// -----

// COM: The call's start position is a run-time value: a range counted
// COM: from it does not fold.
// CHECK-LABEL: func.func @sequence_offset_stays
// CHECK: %[[START:.+]] = tfm.sequence_offset : tensor<1xi64>
// CHECK: tfm.range
func.func @sequence_offset_stays() -> tensor<?xi64> {
  %start = tfm.sequence_offset : tensor<1xi64>
  %first = tfm.squeeze %start {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %c1 = tfm.constant dense<1> : tensor<i64>
  %c4 = tfm.constant dense<4> : tensor<i64>
  %end = tfm.add %first, %c4 : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %r = tfm.range %first, %end, %c1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %r : tensor<?xi64>
}

// -----

// COM: A gather that picks the symbolic batch does not fold.
// CHECK-LABEL: func.func @symbolic_pick
// CHECK: tfm.gather
func.func @symbolic_pick(%x: tensor<?x128xf32>) -> tensor<1xi64> {
  %s = tfm.shape %x {end = 2 : i64, start = 0 : i64} : (tensor<?x128xf32>) -> tensor<2xi64>
  %i = tfm.constant dense<[0]> : tensor<1xi64>
  %g = tfm.gather %s, %i {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  return %g : tensor<1xi64>
}

// -----

// CHECK-LABEL: func.func @identities
// CHECK-NEXT: return %arg0
func.func @identities(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = tfm.identity %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = tfm.dropout %0 : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %2 = tfm.transpose %1 {perm = array<i64: 0, 1>} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %2 : tensor<4x8xf32>
}

// -----

// COM: A concat folds through Gather/Unsqueeze of static dims even while the
// COM: batch is symbolic; one that includes the batch does not.
// CHECK-LABEL: func.func @concat_of_static_dims
// CHECK-DAG: %[[K:.+]] = tfm.constant dense<[128, 12, 64]> : tensor<3xi64>
// CHECK-DAG: %[[B:.+]] = tfm.unsqueeze
// CHECK: %[[ALL:.+]] = tfm.concat %[[B]], %[[K]]
// CHECK: return %[[K]], %[[ALL]]
func.func @concat_of_static_dims(%x: tensor<?x128x768xf32>) -> (tensor<3xi64>, tensor<4xi64>) {
  %s = tfm.shape %x {end = 3 : i64, start = 0 : i64} : (tensor<?x128x768xf32>) -> tensor<3xi64>
  %c0 = tfm.constant dense<0> : tensor<i64>
  %c1 = tfm.constant dense<1> : tensor<i64>
  %seq = tfm.gather %s, %c1 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %batch = tfm.gather %s, %c0 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %useq = tfm.unsqueeze %seq {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %ubatch = tfm.unsqueeze %batch {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %heads = tfm.constant dense<[12, 64]> : tensor<2xi64>
  %k = tfm.concat %useq, %heads {axis = 0 : i64} : (tensor<1xi64>, tensor<2xi64>) -> tensor<3xi64>
  %all = tfm.concat %ubatch, %k {axis = 0 : i64} : (tensor<1xi64>, tensor<3xi64>) -> tensor<4xi64>
  return %k, %all : tensor<3xi64>, tensor<4xi64>
}
