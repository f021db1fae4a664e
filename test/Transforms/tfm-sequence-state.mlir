// RUN: tfc-opt %s --tfm-sequence-state --split-input-file --verify-diagnostics | FileCheck %s
// RUN: not tfc-opt %s --tfm-sequence-state=sequence-dim-name=time --split-input-file 2>&1 | FileCheck %s --check-prefix=NAMED

// COM: A decoder block as tfc imports one: token embeddings, a projection,
// COM: heads split and merged by reshapes whose targets are read from the
// COM: shape, causal linear attention, a residual linear, a norm over the
// COM: hidden dim. The attention keeps state 0; the tokens' and the
// COM: logits' sequence dim is 1.
// CHECK-LABEL: func.func @decoder_block
// CHECK-SAME: tfm.sequence_dim = 1 : i64
// CHECK-SAME: -> (tensor<?x?x8xf32> {tfm.sequence_dim = 1 : i64})
// CHECK-SAME: attributes {tfm.sequence_states = 1 : i64}
// CHECK: tfm.linear_attention {{.*}}tfm.sequence_state = 0 : i64
func.func @decoder_block(%tokens: tensor<?x?xi64> {tfm.dim_params = ["batch", "sequence"]}) -> tensor<?x?x8xf32> {
  %table = tfm.constant dense<0.5> : tensor<16x8xf32>
  %w = tfm.constant dense<0.25> : tensor<8x8xf32>
  %scale = tfm.constant dense<1.0> : tensor<8xf32>
  %heads = tfm.constant dense<[0, 0, 2, 4]> : tensor<4xi64>
  %c0 = tfm.constant dense<0> : tensor<i64>
  %c1 = tfm.constant dense<1> : tensor<i64>
  %c8 = tfm.constant dense<8> : tensor<1xi64>
  %x = tfm.gather %table, %tokens {axis = 0 : i64} : (tensor<16x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
  %p = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x?x8xf32>, tensor<8x8xf32>) -> tensor<?x?x8xf32>
  %h = tfm.reshape %p, %heads : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x4xf32>
  %a = tfm.linear_attention %h, %h, %h {causal = true, epsilon = 1.0e-6 : f32, feature_map = "elu_plus_one"} : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>) -> tensor<?x?x2x4xf32>
  %s = tfm.shape %x {end = 3 : i64, start = 0 : i64} : (tensor<?x?x8xf32>) -> tensor<3xi64>
  %b = tfm.gather %s, %c0 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %l = tfm.gather %s, %c1 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %bu = tfm.unsqueeze %b {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %lu = tfm.unsqueeze %l {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %merged = tfm.concat %bu, %lu, %c8 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %m = tfm.reshape %a, %merged : (tensor<?x?x2x4xf32>, tensor<3xi64>) -> tensor<?x?x8xf32>
  %r = tfm.linear %m, %w, %scale, %x {operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<?x?x8xf32>, tensor<8x8xf32>, tensor<8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  %n = tfm.layer_norm %r, %scale {axis = 2 : i64} : (tensor<?x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %n : tensor<?x?x8xf32>
}

// -----

// COM: --linearize's key stabilizer is a maximum over the sequence: a
// COM: statistic of every position, which a step cannot compute.
func.func @reduce_over_sequence(%k: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}) -> tensor<?x?x2x4xf32> {
  // expected-error @+1 {{--decoder: 'tfm.reduce_max' cannot run along the sequence: it reduces over the sequence}}
  %m = tfm.reduce_max %k {axes = array<i64: 1>} : (tensor<?x?x2x4xf32>) -> tensor<?x1x2x4xf32>
  %s = tfm.sub %k, %m : (tensor<?x?x2x4xf32>, tensor<?x1x2x4xf32>) -> tensor<?x?x2x4xf32>
  %a = tfm.linear_attention %s, %s, %k {causal = true, epsilon = 1.0e-6 : f32, feature_map = "exp"} : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>) -> tensor<?x?x2x4xf32>
  return %a : tensor<?x?x2x4xf32>
}

// -----

// COM: Not causal: every position sees later keys.
func.func @not_causal(%q: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}) -> tensor<?x?x2x4xf32> {
  // expected-error @+1 {{cannot run along the sequence: it is not causal}}
  %a = tfm.linear_attention %q, %q, %q {epsilon = 1.0e-6 : f32, feature_map = "relu"} : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>) -> tensor<?x?x2x4xf32>
  return %a : tensor<?x?x2x4xf32>
}

// -----

// COM: A sliding window of exact weights (--linearize=hybrid) needs the
// COM: window's keys, which the state does not keep.
func.func @window(%q: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}) -> tensor<?x?x2x4xf32> {
  // expected-error @+1 {{cannot run along the sequence: its sliding window of exact weights needs the window's keys}}
  %a = tfm.linear_attention %q, %q, %q {causal = true, epsilon = 1.0e-6 : f32, feature_map = "relu", window = 8 : i64, window_dim = 1 : i64} : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>) -> tensor<?x?x2x4xf32>
  return %a : tensor<?x?x2x4xf32>
}

// -----

// COM: Softmax attention needs every earlier key (a KV cache).
func.func @softmax(%q: tensor<?x?x8xf32> {tfm.dim_params = ["batch", "sequence", ""]}) -> tensor<?x?x8xf32> {
  // expected-error @+1 {{'tfm.attention' cannot run along the sequence: softmax attention needs every earlier key}}
  %a = tfm.attention %q, %q, %q {causal = true, num_heads = 2 : i64, scale = 0.5 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  return %a : tensor<?x?x8xf32>
}

// -----

// COM: Positions computed from the sequence's length (Range over Shape),
// COM: which a step of one token would restart at 0.
func.func @positions_from_length(%x: tensor<?x?x8xf32> {tfm.dim_params = ["batch", "sequence", ""]}) -> tensor<?x?x8xf32> {
  %table = tfm.constant dense<0.5> : tensor<64x8xf32>
  %c0 = tfm.constant dense<0> : tensor<i64>
  %c1 = tfm.constant dense<1> : tensor<i64>
  %s = tfm.shape %x {end = 2 : i64, start = 1 : i64} : (tensor<?x?x8xf32>) -> tensor<1xi64>
  %l = tfm.squeeze %s {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %positions = tfm.range %c0, %l, %c1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %p = tfm.gather %table, %positions {axis = 0 : i64} : (tensor<64x8xf32>, tensor<?xi64>) -> tensor<?x8xf32>
  // expected-error @+1 {{'tfm.add' cannot run along the sequence: it combines the data with a value computed from the sequence's length}}
  %y = tfm.add %x, %p : (tensor<?x?x8xf32>, tensor<?x8xf32>) -> tensor<?x?x8xf32>
  %a = tfm.reshape %y, %s : (tensor<?x?x8xf32>, tensor<1xi64>) -> tensor<?xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// COM: A reshape that merges the sequence into the batch moves data across
// COM: positions' boundaries as the length changes.
func.func @merges_sequence(%q: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}) -> tensor<?x2x4xf32> {
  %a = tfm.linear_attention %q, %q, %q {causal = true, feature_map = "relu"} : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>) -> tensor<?x?x2x4xf32>
  %shape = tfm.constant dense<[-1, 2, 4]> : tensor<3xi64>
  // expected-error @+1 {{'tfm.reshape' cannot run along the sequence: it does not provably keep the dims up to the sequence's}}
  %r = tfm.reshape %a, %shape : (tensor<?x?x2x4xf32>, tensor<3xi64>) -> tensor<?x2x4xf32>
  return %r : tensor<?x2x4xf32>
}

// -----

// COM: With sequence-dim-name=time, only a dim named "time" is the sequence:
// COM: here none is, which is an error (NAMED); by default dim 1 is.
// NAMED: error: --decoder: no input has a sequence dim (a dynamic dim named 'time')
// CHECK-LABEL: func.func @unnamed
// CHECK: tfm.sequence_state = 0
func.func @unnamed(%q: tensor<?x?x2x4xf32>) -> tensor<?x?x2x4xf32> {
  %a = tfm.linear_attention %q, %q, %q {causal = true, feature_map = "relu"} : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>) -> tensor<?x?x2x4xf32>
  return %a : tensor<?x?x2x4xf32>
}
