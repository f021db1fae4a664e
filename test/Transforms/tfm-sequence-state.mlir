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

// COM: Causal softmax attention without a mask keeps a KV cache in the
// COM: instance: a state like linear attention's.
// CHECK-LABEL: func.func @softmax
// CHECK: tfm.attention {{.*}}tfm.sequence_state = 0 : i64
func.func @softmax(%q: tensor<?x?x8xf32> {tfm.dim_params = ["batch", "sequence", ""]}) -> tensor<?x?x8xf32> {
  %a = tfm.attention %q, %q, %q {causal = true, num_heads = 2 : i64, scale = 0.5 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  return %a : tensor<?x?x8xf32>
}

// -----

// COM: Non-causal attention: every position sees later keys.
func.func @softmax_not_causal(%q: tensor<?x?x8xf32> {tfm.dim_params = ["batch", "sequence", ""]}) -> tensor<?x?x8xf32> {
  // expected-error @+1 {{'tfm.attention' cannot run along the sequence: it is not causal}}
  %a = tfm.attention %q, %q, %q {num_heads = 2 : i64, scale = 0.5 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  return %a : tensor<?x?x8xf32>
}

// -----

// COM: A mask over the keys is not kept with the cache.
func.func @softmax_masked(%q: tensor<?x?x8xf32> {tfm.dim_params = ["batch", "sequence", ""]}, %mask: tensor<?x1x1x?xf32>) -> tensor<?x?x8xf32> {
  // expected-error @+1 {{'tfm.attention' cannot run along the sequence: it adds a mask over the keys}}
  %a = tfm.attention %q, %q, %q, %mask {causal = true, num_heads = 2 : i64, scale = 0.5 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x8xf32>
  return %a : tensor<?x?x8xf32>
}

// -----

// COM: A model with past keys and values, stacked per layer ([layers,
// COM: batch, heads, past, dim], one layer picked by a Gather): the
// COM: attention takes the new keys and values with a KV cache, the past's
// COM: length (Shape, Gather 3) becomes the call's start position, which
// COM: counts the positions with Range(start, start + length, 1); the past
// COM: inputs and the present output leave the signature.
// CHECK-LABEL: func.func @past_keys
// CHECK-SAME: (%[[X:.+]]: tensor<?x?x8xf32> {tfm.dim_params = ["batch", "sequence", ""], tfm.sequence_dim = 1 : i64})
// CHECK-SAME: -> (tensor<?x?x8xf32> {tfm.sequence_dim = 1 : i64})
// CHECK-SAME: attributes {tfm.sequence_states = 1 : i64}
// CHECK: %[[START:.+]] = tfm.sequence_offset : tensor<1xi64>
// CHECK: %[[PAST:.+]] = tfm.squeeze %[[START]]
// CHECK: tfm.range %[[PAST]]
// CHECK: %[[H:.+]] = tfm.transpose
// CHECK-NOT: tfm.concat
// CHECK: tfm.attention %[[H]], %[[H]], %[[H]] {causal = true, num_heads = 2 : i64, scale = 5.000000e-01 : f32, tfm.sequence_state = 0 : i64}
// CHECK-NOT: tfm.concat
func.func @past_keys(%x: tensor<?x?x8xf32> {tfm.dim_params = ["batch", "sequence", ""]},
                     %pk: tensor<2x?x2x?x4xf32> {tfm.dim_params = ["", "batch", "", "past", ""]},
                     %pv: tensor<2x?x2x?x4xf32> {tfm.dim_params = ["", "batch", "", "past", ""]})
    -> (tensor<?x?x8xf32>, tensor<?x2x?x4xf32>) {
  %table = tfm.constant dense<0.5> : tensor<64x8xf32>
  %c0 = tfm.constant dense<0> : tensor<i64>
  %c1 = tfm.constant dense<1> : tensor<i64>
  %c3 = tfm.constant dense<3> : tensor<i64>
  %heads = tfm.constant dense<[0, 0, 2, 4]> : tensor<4xi64>
  %shape = tfm.shape %pk {end = 5 : i64, start = 0 : i64} : (tensor<2x?x2x?x4xf32>) -> tensor<5xi64>
  %past = tfm.gather %shape, %c3 {axis = 0 : i64} : (tensor<5xi64>, tensor<i64>) -> tensor<i64>
  %s = tfm.shape %x {end = 2 : i64, start = 1 : i64} : (tensor<?x?x8xf32>) -> tensor<1xi64>
  %l = tfm.squeeze %s {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %end = tfm.add %past, %l : (tensor<i64>, tensor<i64>) -> tensor<i64>
  %positions = tfm.range %past, %end, %c1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %p = tfm.gather %table, %positions {axis = 0 : i64} : (tensor<64x8xf32>, tensor<?xi64>) -> tensor<?x8xf32>
  %y = tfm.add %x, %p : (tensor<?x?x8xf32>, tensor<?x8xf32>) -> tensor<?x?x8xf32>
  %r = tfm.reshape %y, %heads : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x4xf32>
  %h = tfm.transpose %r {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %k0 = tfm.gather %pk, %c0 {axis = 0 : i64} : (tensor<2x?x2x?x4xf32>, tensor<i64>) -> tensor<?x2x?x4xf32>
  %v0 = tfm.gather %pv, %c0 {axis = 0 : i64} : (tensor<2x?x2x?x4xf32>, tensor<i64>) -> tensor<?x2x?x4xf32>
  %k = tfm.concat %k0, %h {axis = 2 : i64} : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %v = tfm.concat %v0, %h {axis = 2 : i64} : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %a = tfm.attention %h, %k, %v {causal = true, num_heads = 2 : i64, scale = 0.5 : f32} : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x?x8xf32>
  return %a, %k : tensor<?x?x8xf32>, tensor<?x2x?x4xf32>
}

// -----

// COM: The past read other than through the attention's cache or its
// COM: length (here, an output of its own): refused, not dropped.
func.func @past_read_otherwise(%x: tensor<?x?x8xf32> {tfm.dim_params = ["batch", "sequence", ""]},
                               %pk: tensor<?x2x?x4xf32> {tfm.name = "past_keys"}) -> (tensor<?x?x8xf32>, tensor<?x2x?x4xf32>) {
  %heads = tfm.constant dense<[0, 0, 2, 4]> : tensor<4xi64>
  %r = tfm.reshape %x, %heads : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x4xf32>
  %h = tfm.transpose %r {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %k = tfm.concat %pk, %h {axis = 2 : i64} : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %a = tfm.attention %h, %k, %k {causal = true, num_heads = 2 : i64, scale = 0.5 : f32} : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x?x8xf32>
  // expected-error @+1 {{--decoder: 'tfm.mul' reads past input 'past_keys' other than as the attention's cache or its length}}
  %doubled = tfm.mul %pk, %pk : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  return %a, %doubled : tensor<?x?x8xf32>, tensor<?x2x?x4xf32>
}

// -----

// COM: The past's length used other than as positions' start.
func.func @past_length_as_data(%x: tensor<?x?x8xf32> {tfm.dim_params = ["batch", "sequence", ""]},
                               %pk: tensor<?x2x?x4xf32>) -> tensor<?x?x8xf32> {
  %heads = tfm.constant dense<[0, 0, 2, 4]> : tensor<4xi64>
  %shape = tfm.shape %pk {end = 3 : i64, start = 2 : i64} : (tensor<?x2x?x4xf32>) -> tensor<1xi64>
  %f = tfm.cast %shape {to = f32} : (tensor<1xi64>) -> tensor<1xf32>
  // expected-error @+1 {{'tfm.mul' cannot run along the sequence: it uses the position the call starts at (the past length) other than as a Range's bounds}}
  %y = tfm.mul %x, %f : (tensor<?x?x8xf32>, tensor<1xf32>) -> tensor<?x?x8xf32>
  %r = tfm.reshape %y, %heads : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x4xf32>
  %h = tfm.transpose %r {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %k = tfm.concat %pk, %h {axis = 2 : i64} : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %a = tfm.attention %h, %k, %k {causal = true, num_heads = 2 : i64, scale = 0.5 : f32} : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x?x8xf32>
  return %a : tensor<?x?x8xf32>
}

// -----

// COM: Positions counted from 0 to the sequence's length (Range over
// COM: Shape) count from the call's start instead: Range(offset, offset +
// COM: length, 1), which is the same in a whole-sequence run.
// CHECK-LABEL: func.func @positions_from_length
// CHECK: %[[L:.+]] = tfm.squeeze
// CHECK: %[[START:.+]] = tfm.sequence_offset : tensor<1xi64>
// CHECK: %[[OFFSET:.+]] = tfm.squeeze %[[START]] {axes = array<i64: 0>}
// CHECK: %[[END:.+]] = tfm.add %[[OFFSET]], %[[L]]
// CHECK: tfm.range %[[OFFSET]], %[[END]], %{{.+}} :
func.func @positions_from_length(%x: tensor<?x?x8xf32> {tfm.dim_params = ["batch", "sequence", ""]}) -> tensor<?x?x8xf32> {
  %table = tfm.constant dense<0.5> : tensor<64x8xf32>
  %c0 = tfm.constant dense<0> : tensor<i64>
  %c1 = tfm.constant dense<1> : tensor<i64>
  %s = tfm.shape %x {end = 2 : i64, start = 1 : i64} : (tensor<?x?x8xf32>) -> tensor<1xi64>
  %l = tfm.squeeze %s {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %positions = tfm.range %c0, %l, %c1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %p = tfm.gather %table, %positions {axis = 0 : i64} : (tensor<64x8xf32>, tensor<?xi64>) -> tensor<?x8xf32>
  %y = tfm.add %x, %p : (tensor<?x?x8xf32>, tensor<?x8xf32>) -> tensor<?x?x8xf32>
  %a = tfm.attention %y, %y, %y {causal = true, num_heads = 2 : i64, scale = 0.5 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32>
  return %a : tensor<?x?x8xf32>
}

// -----

// COM: The sequence's length used as data (a position table as long as the
// COM: sequence): a step of one token would see a different table.
func.func @length_as_data(%x: tensor<?x?x8xf32> {tfm.dim_params = ["batch", "sequence", ""]}) -> tensor<?x?x8xf32> {
  %s = tfm.shape %x {end = 2 : i64, start = 1 : i64} : (tensor<?x?x8xf32>) -> tensor<1xi64>
  %f = tfm.cast %s {to = f32} : (tensor<1xi64>) -> tensor<1xf32>
  // expected-error @+1 {{'tfm.mul' cannot run along the sequence: it combines the data with a value computed from the sequence's length or start}}
  %y = tfm.mul %x, %f : (tensor<?x?x8xf32>, tensor<1xf32>) -> tensor<?x?x8xf32>
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
