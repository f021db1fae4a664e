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

// -----

// COM: GPT-2's Conv1D: the rows flattened for a Gemm and unflattened after
// COM: (the target read from the input's shape). It becomes a matmul on the
// COM: [B, L, K] input, so the GELU after it fuses. A transposed Gemm
// COM: weight that is a constant is transposed at compile time.
// CHECK-LABEL: func.func @flattened_rows
// CHECK: %[[W:.+]] = tfm.constant dense_resource<transposed_weight> : tensor<8x4xf32>
// CHECK: tfm.linear %arg0, %[[W]], %arg1 {activation = "gelu_tanh", operandSegmentSizes = array<i32: 1, 1, 1, 0>}
// CHECK-SAME: (tensor<?x?x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
// CHECK-NOT: tfm.gemm
func.func @flattened_rows(%x: tensor<?x?x8xf32>, %b: tensor<4xf32>) -> tensor<?x?x4xf32> {
  %w = tfm.constant dense<1.0> : tensor<4x8xf32>
  %flat = tfm.constant dense<[-1, 8]> : tensor<2xi64>
  %c0 = tfm.constant dense<0> : tensor<1xi64>
  %c1 = tfm.constant dense<1> : tensor<1xi64>
  %n = tfm.constant dense<4> : tensor<1xi64>
  %x2 = tfm.reshape %x, %flat : (tensor<?x?x8xf32>, tensor<2xi64>) -> tensor<?x8xf32>
  // expected-remark @+1 {{fused epilogue: bias, gelu_tanh}}
  %y2 = tfm.gemm %x2, %w, %b {trans_b = true} : (tensor<?x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  %s = tfm.shape %x {end = 2 : i64, start = 0 : i64} : (tensor<?x?x8xf32>) -> tensor<2xi64>
  %target = tfm.concat %s, %n {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<3xi64>
  %y = tfm.reshape %y2, %target : (tensor<?x4xf32>, tensor<3xi64>) -> tensor<?x?x4xf32>
  %g = tfm.gelu %y {approximation = "tanh"} : (tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  return %g : tensor<?x?x4xf32>
}

// -----

// COM: BERT's embeddings: word + position (which lacks the batch), then a
// COM: layer norm: one tfm.add_layer_norm. A sum that is also returned stays.
// CHECK-LABEL: func.func @residual_norm
// CHECK: %[[N:.+]] = tfm.add_layer_norm %arg0, %arg1, %arg2, %arg3 {axis = 2 : i64}
// CHECK: %[[S:.+]] = tfm.add %arg0, %arg0
// CHECK: tfm.layer_norm %[[S]]
func.func @residual_norm(%x: tensor<?x?x8xf32>, %p: tensor<1x?x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) {
  // expected-remark @+1 {{fused epilogue: residual add, layer_norm}}
  %s = tfm.add %x, %p : (tensor<?x?x8xf32>, tensor<1x?x8xf32>) -> tensor<?x?x8xf32>
  %n = tfm.layer_norm %s, %g, %b {axis = 2 : i64} : (tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %s2 = tfm.add %x, %x : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %n2 = tfm.layer_norm %s2, %g, %b {axis = 2 : i64} : (tensor<?x?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %n, %n2, %s2 : tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>
}

// -----

// COM: A linear without a residual, then an add of one (what
// COM: tfm-sink-transposes leaves): the add joins it. Not when the linear has
// COM: another user, nor when the addend broadcasts.
// CHECK-LABEL: func.func @late_residual
// CHECK: %[[L:.+]] = tfm.linear %arg0, %arg1, %arg2, %arg3 {operandSegmentSizes = array<i32: 1, 1, 1, 1>}
// CHECK: %[[SHARED:.+]] = tfm.linear %arg0, %arg1, %arg2 {operandSegmentSizes = array<i32: 1, 1, 1, 0>}
// CHECK: tfm.add %[[SHARED]], %arg3
// CHECK: %[[ROW:.+]] = tfm.linear %arg0, %arg1, %arg2 {operandSegmentSizes = array<i32: 1, 1, 1, 0>}
// CHECK: tfm.add %[[ROW]], %arg4
func.func @late_residual(%x: tensor<?x?x8xf32>, %w: tensor<8x4xf32>, %b: tensor<4xf32>, %r: tensor<?x?x4xf32>, %row: tensor<1x1x4xf32>)
    -> (tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) {
  // expected-remark @+1 {{fused epilogue: residual}}
  %l = tfm.linear %x, %w, %b {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x?x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
  %y = tfm.add %r, %l : (tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  %shared = tfm.linear %x, %w, %b {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x?x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
  %y2 = tfm.add %shared, %r : (tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  %l3 = tfm.linear %x, %w, %b {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x?x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
  %y3 = tfm.add %l3, %row : (tensor<?x?x4xf32>, tensor<1x1x4xf32>) -> tensor<?x?x4xf32>
  return %y, %y2, %shared, %y3 : tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>
}

// -----

// COM: A linear without an activation, then a GELU or ReLU (the conv-as-
// COM: matmul of an audio front end, once tfm-sink-transposes has taken the
// COM: transposes between them away): the activation joins it, and a
// COM: residual add after it too. Not when the linear has another user, nor
// COM: when it has a residual already.
// CHECK-LABEL: func.func @late_activation
// CHECK: tfm.linear %arg0, %arg1, %arg2 {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 0>}
// CHECK: tfm.linear %arg0, %arg1, %arg2, %arg3 {activation = "relu", operandSegmentSizes = array<i32: 1, 1, 1, 1>}
// CHECK: %[[SHARED:.+]] = tfm.linear %arg0, %arg1, %arg2 {operandSegmentSizes = array<i32: 1, 1, 1, 0>}
// CHECK: tfm.gelu %[[SHARED]]
// CHECK: %[[RES:.+]] = tfm.linear %arg0, %arg1, %arg2, %arg3 {operandSegmentSizes = array<i32: 1, 1, 1, 1>}
// CHECK: tfm.relu %[[RES]]
func.func @late_activation(%x: tensor<?x?x8xf32>, %w: tensor<8x4xf32>, %b: tensor<4xf32>, %r: tensor<?x?x4xf32>)
    -> (tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) {
  // expected-remark @+1 {{fused epilogue: gelu}}
  %l = tfm.linear %x, %w, %b {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x?x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
  %g = tfm.gelu %l : (tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  // expected-remark @+2 {{fused epilogue: relu}}
  // expected-remark @+1 {{fused epilogue: residual}}
  %l2 = tfm.linear %x, %w, %b {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x?x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
  %g2 = tfm.relu %l2 : (tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  %y2 = tfm.add %g2, %r : (tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  %shared = tfm.linear %x, %w, %b {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x?x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<?x?x4xf32>
  %g3 = tfm.gelu %shared : (tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  %res = tfm.linear %x, %w, %b, %r {operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<?x?x8xf32>, tensor<8x4xf32>, tensor<4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  %g4 = tfm.relu %res : (tensor<?x?x4xf32>) -> tensor<?x?x4xf32>
  return %g, %y2, %g3, %shared, %g4 : tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>
}

// -----

// COM: A plain Gemm by a constant weight (a pooler, a classifier head) is a
// COM: matmul by the transposed weight with a bias. Not when the weight is
// COM: an activation or alpha scales the product.
// CHECK-LABEL: func.func @plain_gemm
// CHECK: %[[W:.+]] = tfm.constant dense_resource<transposed_weight> : tensor<3x2xf32>
// CHECK: tfm.linear %arg0, %[[W]], %arg1 {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
// CHECK: tfm.gemm %arg0, %arg2, %arg1 {trans_b = true}
// CHECK: tfm.gemm %arg0, %{{.+}}, %arg1 {alpha = 2.000000e+00 : f32, trans_b = true}
func.func @plain_gemm(%x: tensor<?x3xf32>, %b: tensor<2xf32>, %act: tensor<2x3xf32>) -> (tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>) {
  %w = tfm.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  // expected-remark @+1 {{fused epilogue: bias}}
  %y = tfm.gemm %x, %w, %b {trans_b = true} : (tensor<?x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  %y2 = tfm.gemm %x, %act, %b {trans_b = true} : (tensor<?x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  %y3 = tfm.gemm %x, %w, %b {alpha = 2.0 : f32, trans_b = true} : (tensor<?x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y, %y2, %y3 : tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>
}

// -----

// COM: A weight-only int4 quantized_linear as the importer makes it
// COM: (ONNX Runtime's MatMulNBits, bias added after) takes the chain one op
// COM: at a time: bias, GELU, residual. Not an op used twice, a second
// COM: activation, or a bias after the activation.
// CHECK-LABEL: func.func @int4_chain
// CHECK-NEXT: %[[Y:.+]] = tfm.quantized_linear %arg0, %arg1, %arg2, %arg3, %arg0 {activation = "gelu", input_quantization = "none", operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 1, 0, 0>, weight_bits = 4 : i64}
// CHECK-NEXT: %[[S:.+]] = tfm.quantized_linear %arg0, %arg1, %arg2 {input_quantization = "none", operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>, weight_bits = 4 : i64}
// CHECK-NEXT: tfm.gelu %[[S]]
// CHECK-NEXT: %[[R:.+]] = tfm.quantized_linear %arg0, %arg1, %arg2 {activation = "relu", input_quantization = "none", operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>, weight_bits = 4 : i64}
// CHECK-NEXT: tfm.relu %[[R]]
// CHECK-NEXT: %[[A:.+]] = tfm.quantized_linear %arg0, %arg1, %arg2 {activation = "relu", input_quantization = "none", operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>, weight_bits = 4 : i64}
// CHECK-NEXT: tfm.add %[[A]], %arg3
func.func @int4_chain(%x: tensor<?x?x8xf32>, %w: tensor<8x8xi8>, %s: tensor<1x8xf32>, %b: tensor<8xf32>) -> (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) {
  // expected-remark @+3 {{fused epilogue: bias}}
  // expected-remark @+2 {{fused epilogue: gelu}}
  // expected-remark @+1 {{fused epilogue: residual}}
  %q = tfm.quantized_linear %x, %w, %s {input_quantization = "none", weight_bits = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<?x?x8xf32>, tensor<8x8xi8>, tensor<1x8xf32>) -> tensor<?x?x8xf32>
  %qb = tfm.add %q, %b : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  %g = tfm.gelu %qb : (tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %y = tfm.add %x, %g : (tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %shared = tfm.quantized_linear %x, %w, %s {input_quantization = "none", weight_bits = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<?x?x8xf32>, tensor<8x8xi8>, tensor<1x8xf32>) -> tensor<?x?x8xf32>
  %g2 = tfm.gelu %shared : (tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  // expected-remark @+1 {{fused epilogue: relu}}
  %r = tfm.quantized_linear %x, %w, %s {input_quantization = "none", weight_bits = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<?x?x8xf32>, tensor<8x8xi8>, tensor<1x8xf32>) -> tensor<?x?x8xf32>
  %r1 = tfm.relu %r : (tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %r2 = tfm.relu %r1 : (tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  // expected-remark @+1 {{fused epilogue: relu}}
  %a = tfm.quantized_linear %x, %w, %s {input_quantization = "none", weight_bits = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<?x?x8xf32>, tensor<8x8xi8>, tensor<1x8xf32>) -> tensor<?x?x8xf32>
  %a1 = tfm.relu %a : (tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %a2 = tfm.add %a1, %b : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %y, %g2, %shared, %r2, %a2 : tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>
}

// -----

// COM: An int8 quantized_linear (a pre-quantized graph's) keeps the GELU
// COM: after it: the graph's own arithmetic, which matches ONNX Runtime's.
// CHECK-LABEL: func.func @int8_kept
// CHECK-NEXT: %[[Q:.+]] = tfm.quantized_linear
// CHECK-NEXT: tfm.gelu %[[Q]]
func.func @int8_kept(%x: tensor<?x8xf32>, %w: tensor<8x8xi8>, %s: tensor<8xf32>) -> tensor<?x8xf32> {
  %q = tfm.quantized_linear %x, %w, %s {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<?x8xf32>, tensor<8x8xi8>, tensor<8xf32>) -> tensor<?x8xf32>
  %g = tfm.gelu %q : (tensor<?x8xf32>) -> tensor<?x8xf32>
  return %g : tensor<?x8xf32>
}
