// RUN: tfc-opt %s --tfm-fuse-epilogues=emit-remarks --split-input-file --verify-diagnostics | FileCheck %s

// COM: The BERT MLP: matmul, bias, GELU, then the output projection with
// COM: its bias and the residual.
// CHECK-LABEL: func.func @mlp
// CHECK-NEXT: %[[H:.+]] = tfm.linear %arg0, %arg1, %arg2 {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 0>}
// CHECK-NEXT: %[[Y:.+]] = tfm.linear %[[H]], %arg3, %arg4, %arg0 {operandSegmentSizes = array<i32: 1, 1, 1, 1>}
// CHECK-NEXT: return %[[Y]]
func.func @mlp(%x: tensor<?x?x8xf32>, %w1: tensor<8x32xf32>, %b1: tensor<32xf32>, %w2: tensor<32x8xf32>, %b2: tensor<8xf32>) -> tensor<?x?x8xf32> {
  // expected-remark @+1 {{fused epilogue: bias, gelu}}
  %h = tfm.matmul %x, %w1 : (tensor<?x?x8xf32>, tensor<8x32xf32>) -> tensor<?x?x32xf32>
  %hb = tfm.add %h, %b1 : (tensor<?x?x32xf32>, tensor<32xf32>) -> tensor<?x?x32xf32>
  %g = tfm.gelu %hb : (tensor<?x?x32xf32>) -> tensor<?x?x32xf32>
  // expected-remark @+1 {{fused epilogue: bias, residual}}
  %o = tfm.matmul %g, %w2 : (tensor<?x?x32xf32>, tensor<32x8xf32>) -> tensor<?x?x8xf32>
  %ob = tfm.add %b2, %o : (tensor<8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %y = tfm.add %x, %ob : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// COM: Relu without a bias; the tanh approximation of GELU.
// CHECK-LABEL: func.func @activations
// CHECK: tfm.linear %arg0, %arg1 {activation = "relu", operandSegmentSizes = array<i32: 1, 1, 0, 0>}
// CHECK: tfm.linear %arg0, %arg1 {activation = "gelu_tanh", operandSegmentSizes = array<i32: 1, 1, 0, 0>}
func.func @activations(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  // expected-remark @+1 {{fused epilogue: relu}}
  %a = tfm.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %r = tfm.relu %a : (tensor<4x8xf32>) -> tensor<4x8xf32>
  // expected-remark @+1 {{fused epilogue: gelu_tanh}}
  %b = tfm.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %g = tfm.gelu %b {approximation = "tanh"} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %r, %g : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// COM: Must not fuse: the bias add's result is also returned with the
// COM: activation after it (so only the bias fuses), a batched matmul
// COM: (attention's, not a dense layer), an add that broadcasts the product
// COM: to a larger shape, and a bare matmul.
// CHECK-LABEL: func.func @no_fusion
// CHECK: %[[L:.+]] = tfm.linear %arg0, %arg1, %arg2 {operandSegmentSizes = array<i32: 1, 1, 1, 0>}
// CHECK-NEXT: tfm.gelu %[[L]]
// CHECK: tfm.matmul %arg3, %arg4
// CHECK: %[[W:.+]] = tfm.matmul %arg0, %arg1
// CHECK-NEXT: tfm.add %[[W]], %arg5
// CHECK: tfm.matmul %arg0, %arg1
func.func @no_fusion(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %b: tensor<8xf32>, %q: tensor<2x4x8xf32>, %k: tensor<2x8x4xf32>, %wide: tensor<3x4x8xf32>)
    -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<2x4x4xf32>, tensor<3x4x8xf32>, tensor<4x8xf32>) {
  // expected-remark @+1 {{fused epilogue: bias}}
  %a = tfm.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %ab = tfm.add %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  %g = tfm.gelu %ab : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = tfm.matmul %q, %k : (tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<2x4x4xf32>
  %c = tfm.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %cw = tfm.add %c, %wide : (tensor<4x8xf32>, tensor<3x4x8xf32>) -> tensor<3x4x8xf32>
  %d = tfm.matmul %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  return %ab, %g, %s, %cw, %d : tensor<4x8xf32>, tensor<4x8xf32>, tensor<2x4x4xf32>, tensor<3x4x8xf32>, tensor<4x8xf32>
}
