// RUN: tfc-opt %s --tfm-refine-shapes --split-input-file | FileCheck %s

// COM: Fires: a pinned input makes the shape chain fold; the reshape, the op
// COM: after it and the function's result type become static.
// CHECK-LABEL: func.func @pinned_chain
// CHECK-SAME: -> tensor<2x8x4x4xf32>
// CHECK-NOT: tfm.shape
// CHECK-NOT: tfm.concat
// CHECK: %[[T:.+]] = tfm.constant dense<[2, 8, 4, 4]> : tensor<4xi64>
// CHECK: %[[R:.+]] = tfm.reshape %{{.+}}, %[[T]] : (tensor<2x8x16xf32>, tensor<4xi64>) -> tensor<2x8x4x4xf32>
// CHECK: tfm.relu %[[R]] : (tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32>
func.func @pinned_chain(%x: tensor<2x8x16xf32>) -> tensor<?x?x?x?xf32> {
  %s = tfm.shape %x {end = 3 : i64, start = 0 : i64} : (tensor<2x8x16xf32>) -> tensor<3xi64>
  %i = tfm.constant dense<[0, 1]> : tensor<2xi64>
  %d = tfm.gather %s, %i {axis = 0 : i64} : (tensor<3xi64>, tensor<2xi64>) -> tensor<2xi64>
  %tail = tfm.constant dense<[4, 4]> : tensor<2xi64>
  %t = tfm.concat %d, %tail {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %r = tfm.reshape %x, %t : (tensor<2x8x16xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  %y = tfm.relu %r : (tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  return %y : tensor<?x?x?x?xf32>
}

// -----

// COM: Fires partly: the batch is symbolic, so its shape entry stays; the
// COM: dims read off static input dims still become known.
// CHECK-LABEL: func.func @symbolic_batch
// CHECK: tfm.shape
// CHECK: tfm.reshape {{.+}} -> tensor<?x8x4x4xf32>
func.func @symbolic_batch(%x: tensor<?x8x16xf32>) -> tensor<?x?x?x?xf32> {
  %s = tfm.shape %x {end = 3 : i64, start = 0 : i64} : (tensor<?x8x16xf32>) -> tensor<3xi64>
  %i = tfm.constant dense<[0, 1]> : tensor<2xi64>
  %d = tfm.gather %s, %i {axis = 0 : i64} : (tensor<3xi64>, tensor<2xi64>) -> tensor<2xi64>
  %tail = tfm.constant dense<[4, 4]> : tensor<2xi64>
  %t = tfm.concat %d, %tail {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %r = tfm.reshape %x, %t : (tensor<?x8x16xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  return %r : tensor<?x?x?x?xf32>
}

// -----

// COM: Does not fire: a shape that comes from a function argument is unknown,
// COM: and nothing may be guessed.
// CHECK-LABEL: func.func @runtime_shape
// CHECK: tfm.reshape %{{.+}}, %{{.+}} : (tensor<2x8x16xf32>, tensor<2xi64>) -> tensor<?x?xf32>
// CHECK: return %{{.+}} : tensor<?x?xf32>
func.func @runtime_shape(%x: tensor<2x8x16xf32>, %t: tensor<2xi64>) -> tensor<?x?xf32> {
  %r = tfm.reshape %x, %t : (tensor<2x8x16xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// COM: Does not fire on float data: folding is for small integer shape
// COM: values; a float add of constants stays for the compiled code.
// CHECK-LABEL: func.func @float_constants
// CHECK: tfm.add
func.func @float_constants() -> tensor<2xf32> {
  %a = tfm.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %b = tfm.add %a, %a : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return %b : tensor<2xf32>
}
