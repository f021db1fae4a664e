// RUN: tfc-opt %s -split-input-file -verify-diagnostics
// COM: One case per rule of each op's verifier (its result-type inference).

func.func @add_no_broadcast(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error @+2 {{shapes [2, 3] and [4] do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}
// -----

func.func @add_element_types(%a: tensor<3xf32>, %b: tensor<3xi64>) {
  // expected-error @+2 {{operands have different element types: 'f32' and 'i64'}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.add %a, %b : (tensor<3xf32>, tensor<3xi64>) -> tensor<3xf32>
  return
}
// -----

func.func @add_wrong_result(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{incompatible with return type(s)}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x4xf32>
  return
}
// -----

func.func @pow_no_broadcast(%a: tensor<2x3xf32>, %b: tensor<2xf32>) {
  // expected-error @+2 {{do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.pow %a, %b : (tensor<2x3xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  return
}
// -----

func.func @equal_result_not_bool(%a: tensor<3xi64>) {
  // expected-error @+1 {{result #0 must be ranked tensor of 1-bit signless integer values}}
  %r = tfm.equal %a, %a : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  return
}
// -----

func.func @and_not_bool(%a: tensor<3xi64>) {
  // expected-error @+2 {{operands must be tensors of i1}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.and %a, %a : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi1>
  return
}
// -----

func.func @not_not_bool(%a: tensor<3xf32>) {
  // expected-error @+2 {{expects a tensor of i1}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.not %a : (tensor<3xf32>) -> tensor<3xf32>
  return
}
// -----

func.func @sqrt_of_int(%a: tensor<3xi64>) {
  // expected-error @+2 {{expects a floating-point tensor}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.sqrt %a : (tensor<3xi64>) -> tensor<3xi64>
  return
}
// -----

func.func @neg_of_unsigned(%a: tensor<3xui8>) {
  // expected-error @+2 {{expects a float or signed integer tensor}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.neg %a : (tensor<3xui8>) -> tensor<3xui8>
  return
}
// -----

func.func @elu_of_integers(%a: tensor<3xi32>) {
  // expected-error @+2 {{expects a floating-point tensor}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.elu %a : (tensor<3xi32>) -> tensor<3xi32>
  return
}
// -----

func.func @prelu_of_integers(%a: tensor<3xi32>, %s: tensor<3xi32>) {
  // expected-error @+2 {{expects floating-point tensors}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.prelu %a, %s : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  return
}
// -----

func.func @float_mod_without_fmod(%a: tensor<3xf32>) {
  // expected-error @+2 {{a floating-point remainder needs fmod = true}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.mod %a, %a : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}
// -----

func.func @arg_max_axis(%a: tensor<3x4xf32>) {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.arg_max %a {axis = 2 : i64} : (tensor<3x4xf32>) -> tensor<3x4xi64>
  return
}
// -----

func.func @cumsum_of_bools(%a: tensor<3xi1>) {
  // expected-error @+2 {{expects a float or integer tensor}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.cumsum %a {axis = 0 : i64} : (tensor<3xi1>) -> tensor<3xi1>
  return
}
// -----

func.func @gelu_approximation(%a: tensor<3xf32>) {
  // expected-error @+2 {{approximation must be "none" or "tanh"}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.gelu %a {approximation = "fast"} : (tensor<3xf32>) -> tensor<3xf32>
  return
}
// -----

func.func @matmul_contracting(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+2 {{contracting dims differ: lhs [2, 3] has 3, rhs [4, 5] has 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}
// -----

func.func @matmul_batch(%a: tensor<2x4x3xf32>, %b: tensor<3x3x5xf32>) {
  // expected-error @+2 {{batch dims of [2, 4, 3] and [3, 3, 5] do not broadcast}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.matmul %a, %b : (tensor<2x4x3xf32>, tensor<3x3x5xf32>) -> tensor<2x4x5xf32>
  return
}
// -----

func.func @matmul_scalar(%a: tensor<f32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{operands must have rank >= 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.matmul %a, %b : (tensor<f32>, tensor<3xf32>) -> tensor<f32>
  return
}
// -----

func.func @gemm_rank(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+2 {{operands a and b must be 2-D}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.gemm %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}
// -----

func.func @gemm_contracting(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+2 {{contracting dims differ: 3 vs 5}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.gemm %a, %b {trans_b = true} : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x4xf32>
  return
}
// -----

func.func @gemm_c(%a: tensor<2x3xf32>, %b: tensor<3x5xf32>, %c: tensor<4xf32>) {
  // expected-error @+2 {{c of shape [4] does not broadcast to the result [2, 5]}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.gemm %a, %b, %c : (tensor<2x3xf32>, tensor<3x5xf32>, tensor<4xf32>) -> tensor<2x5xf32>
  return
}
// -----

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x2x2xf32>) {
  // expected-error @+2 {{input has 3 channels but weight expects 2 x 1 groups}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x2x2x2xf32>) -> tensor<1x4x7x7xf32>
  return
}
// -----

func.func @conv_attrs(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x2x2xf32>) {
  // expected-error @+2 {{expects 2 strides, 2 dilations and 4 pads}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.conv %x, %w {dilations = array<i64: 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x2x2xf32>) -> tensor<1x4x7x7xf32>
  return
}
// -----

func.func @conv_kernel_too_big(%x: tensor<1x3x4x4xf32>, %w: tensor<4x3x8x8xf32>) {
  // expected-error @+2 {{kernel of size 8 does not fit spatial dim 0 of size 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x4x4xf32>, tensor<4x3x8x8xf32>) -> tensor<1x4x1x1xf32>
  return
}
// -----

func.func @conv_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x2x2xf32>, %b: tensor<5xf32>) {
  // expected-error @+2 {{bias must be [4], got [5]}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.conv %x, %w, %b {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x2x2xf32>, tensor<5xf32>) -> tensor<1x4x7x7xf32>
  return
}
// -----

func.func @softmax_axis(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.softmax %a {axis = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}
// -----

func.func @softmax_missing_axis(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{requires attribute 'axis'}}
  %r = tfm.softmax %a : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}
// -----

func.func @layer_norm_scale(%x: tensor<2x8x16xf32>, %g: tensor<8xf32>) {
  // expected-error @+2 {{scale/bias of shape [8] does not broadcast to the normalized dims [16]}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.layer_norm %x, %g {axis = 2 : i64} : (tensor<2x8x16xf32>, tensor<8xf32>) -> tensor<2x8x16xf32>
  return
}
// -----

func.func @reduce_repeated_axis(%x: tensor<2x8xf32>) {
  // expected-error @+2 {{axis 1 is repeated}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.reduce_mean %x {axes = array<i64: 1, 1>} : (tensor<2x8xf32>) -> tensor<2x1xf32>
  return
}
// -----

func.func @reduce_axis_range(%x: tensor<2x8xf32>) {
  // expected-error @+2 {{axis 3 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.reduce_sum %x {axes = array<i64: 3>} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}
// -----

func.func @transpose_perm(%x: tensor<2x8xf32>) {
  // expected-error @+2 {{perm is not a permutation of [0, 2)}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.transpose %x {perm = array<i64: 0, 0>} : (tensor<2x8xf32>) -> tensor<2x2xf32>
  return
}
// -----

func.func @transpose_perm_size(%x: tensor<2x8xf32>) {
  // expected-error @+2 {{perm has 1 entries for a tensor of rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.transpose %x {perm = array<i64: 0>} : (tensor<2x8xf32>) -> tensor<2xf32>
  return
}
// -----

func.func @reshape_count(%x: tensor<2x8xf32>) {
  %s = tfm.constant dense<[3, 5]> : tensor<2xi64>
  // expected-error @+2 {{cannot reshape [2, 8] (16 elements) to [3, 5] (15 elements)}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.reshape %x, %s : (tensor<2x8xf32>, tensor<2xi64>) -> tensor<3x5xf32>
  return
}
// -----

func.func @reshape_two_minus_one(%x: tensor<2x8xf32>) {
  %s = tfm.constant dense<[-1, -1]> : tensor<2xi64>
  // expected-error @+2 {{shape has more than one -1 entry}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.reshape %x, %s : (tensor<2x8xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return
}
// -----

func.func @reshape_dynamic_length(%x: tensor<2x8xf32>, %s: tensor<?xi64>) {
  // expected-error @+2 {{shape operand must be a 1-D tensor of static length}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.reshape %x, %s : (tensor<2x8xf32>, tensor<?xi64>) -> tensor<?x?xf32>
  return
}
// -----

func.func @flatten_axis(%x: tensor<2x8xf32>) {
  // expected-error @+2 {{axis 3 is out of range for rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.flatten %x {axis = 3 : i64} : (tensor<2x8xf32>) -> tensor<16x1xf32>
  return
}
// -----

func.func @squeeze_not_one(%x: tensor<2x8xf32>) {
  // expected-error @+2 {{cannot squeeze dim 0 of size 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.squeeze %x {axes = array<i64: 0>} : (tensor<2x8xf32>) -> tensor<8xf32>
  return
}
// -----

func.func @unsqueeze_axis(%x: tensor<2x8xf32>) {
  // expected-error @+2 {{axis 5 is out of range for rank 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.unsqueeze %x {axes = array<i64: 5>} : (tensor<2x8xf32>) -> tensor<2x8x1xf32>
  return
}
// -----

func.func @concat_dims(%a: tensor<2x8xf32>, %b: tensor<3x4xf32>) {
  // expected-error @+2 {{operands differ in dim 1 (not the concat axis): [2, 8] and [3, 4]}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.concat %a, %b {axis = 0 : i64} : (tensor<2x8xf32>, tensor<3x4xf32>) -> tensor<5x8xf32>
  return
}
// -----

func.func @concat_ranks(%a: tensor<2x8xf32>, %b: tensor<8xf32>) {
  // expected-error @+2 {{operands have different ranks}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.concat %a, %b {axis = 0 : i64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
  return
}
// -----

func.func @split_sizes(%x: tensor<2x9xf32>) {
  // expected-error @+2 {{sizes add up to 8 but the split dim is 9}}
  // expected-error @+1 {{failed to infer returned types}}
  %a, %b = tfm.split %x {axis = 1 : i64, num_outputs = 2 : i64, sizes = array<i64: 4, 4>} : (tensor<2x9xf32>) -> (tensor<2x4xf32>, tensor<2x4xf32>)
  return
}
// -----

func.func @split_count(%x: tensor<2x9xf32>) {
  // expected-error @+2 {{sizes has 1 entries for 2 outputs}}
  // expected-error @+1 {{failed to infer returned types}}
  %a, %b = tfm.split %x {axis = 1 : i64, num_outputs = 2 : i64, sizes = array<i64: 9>} : (tensor<2x9xf32>) -> (tensor<2x9xf32>, tensor<2x0xf32>)
  return
}
// -----

func.func @slice_zero_step(%x: tensor<2x9xf32>) {
  %z = tfm.constant dense<0> : tensor<1xi64>
  %e = tfm.constant dense<4> : tensor<1xi64>
  // expected-error @+2 {{steps must be non-zero}}
  // expected-error @+1 {{failed to infer returned types}}
  %s = tfm.slice %x, %z, %e, %z, %z : (tensor<2x9xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x9xf32>
  return
}
// -----

func.func @slice_lengths(%x: tensor<2x9xf32>) {
  %z = tfm.constant dense<0> : tensor<1xi64>
  %e = tfm.constant dense<[4, 4]> : tensor<2xi64>
  // expected-error @+2 {{starts, ends and steps must be 1-D with 1 entries, one per axis}}
  // expected-error @+1 {{failed to infer returned types}}
  %s = tfm.slice %x, %z, %e, %z, %z : (tensor<2x9xf32>, tensor<1xi64>, tensor<2xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x9xf32>
  return
}
// -----

func.func @gather_indices_type(%x: tensor<10x4xf32>, %i: tensor<3xf32>) {
  // expected-error @+2 {{indices must be i32 or i64}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.gather %x, %i {axis = 0 : i64} : (tensor<10x4xf32>, tensor<3xf32>) -> tensor<3x4xf32>
  return
}
// -----

func.func @cast_to_non_scalar(%x: tensor<3xf32>) {
  // expected-error @+2 {{cannot cast to 'tensor<2xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.cast %x {to = tensor<2xf32>} : (tensor<3xf32>) -> tensor<3xf32>
  return
}
// -----

func.func @where_condition(%c: tensor<3xf32>, %x: tensor<3xf32>) {
  // expected-error @+1 {{operand #0 must be ranked tensor of 1-bit signless integer values}}
  %r = tfm.where %c, %x, %x : (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}
// -----

func.func @expand_shape(%x: tensor<3x4xf32>) {
  %s = tfm.constant dense<[2, 5]> : tensor<2xi64>
  // expected-error @+2 {{cannot expand [3, 4] to [2, 5]}}
  // expected-error @+1 {{failed to infer returned types}}
  %e = tfm.expand %x, %s : (tensor<3x4xf32>, tensor<2xi64>) -> tensor<3x4xf32>
  return
}
// -----

func.func @trilu_rank(%x: tensor<3xf32>, %k: tensor<i64>) {
  // expected-error @+2 {{input must have rank >= 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.trilu %x, %k : (tensor<3xf32>, tensor<i64>) -> tensor<3xf32>
  return
}
// -----

func.func @sequence_offset_type() {
  // COM: The call's start is one i64, known only at run time.
  // expected-error @+2 {{'tfm.sequence_offset' op inferred type(s) 'tensor<1xi64>' are incompatible with return type(s) of operation 'tensor<2xi64>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %start = tfm.sequence_offset : tensor<2xi64>
  return
}
// -----

func.func @shape_window(%x: tensor<3x4xf32>) {
  // expected-error @+2 {{window [0, 3) is not within the rank 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.shape %x {end = 3 : i64, start = 0 : i64} : (tensor<3x4xf32>) -> tensor<3xi64>
  return
}
// -----

func.func @constant_of_shape_value(%s: tensor<2xi64>) {
  // expected-error @+2 {{value must hold exactly one element}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.constant_of_shape %s {value = dense<[1.0, 2.0]> : tensor<2xf32>} : (tensor<2xi64>) -> tensor<?x?xf32>
  return
}
// -----

func.func @range_rank(%a: tensor<1xi64>) {
  // expected-error @+2 {{start, limit and delta must be 0-D}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.range %a, %a, %a : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?xi64>
  return
}
// -----

func.func @range_zero_delta() {
  %a = tfm.constant dense<0> : tensor<i64>
  %b = tfm.constant dense<4> : tensor<i64>
  // expected-error @+2 {{delta must be non-zero}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.range %a, %b, %a : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return
}

// -----

func.func @rms_norm_scale(%x: tensor<2x8x16xf32>, %g: tensor<8xf32>) {
  // expected-error @+2 {{scale of shape [8] does not broadcast to the normalized dims [16]}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.rms_norm %x, %g {axis = 2 : i64} : (tensor<2x8x16xf32>, tensor<8xf32>) -> tensor<2x8x16xf32>
  return
}

// -----

func.func @attention_rank(%x: tensor<2x8x4x2x16xf32>) {
  // expected-error @+2 {{query must be [B, L, heads * d] or [B, heads, L, d], got [2, 8, 4, 2, 16]}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.attention %x, %x, %x {num_heads = 4 : i64, scale = 0.25 : f32} : (tensor<2x8x4x2x16xf32>, tensor<2x8x4x2x16xf32>, tensor<2x8x4x2x16xf32>) -> tensor<2x8x64xf32>
  return
}

// -----

// A head-major q is [B, heads, L, d]: [2, 8, 4, 16] has 8 heads.
func.func @attention_head_major_heads(%x: tensor<2x8x4x16xf32>) {
  // expected-error @+2 {{query has 8 heads, expected 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.attention %x, %x, %x {num_heads = 4 : i64, scale = 0.25 : f32} : (tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>) -> tensor<2x4x128xf32>
  return
}

// -----

func.func @attention_head_major_dynamic(%q: tensor<2x4x8x?xf32>, %k: tensor<2x4x8x16xf32>) {
  // expected-error @+2 {{query is head-major [B, heads, L, d] with dynamic heads or d: [2, 4, 8, ?]}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.attention %q, %k, %k {num_heads = 4 : i64, scale = 0.25 : f32} : (tensor<2x4x8x?xf32>, tensor<2x4x8x16xf32>, tensor<2x4x8x16xf32>) -> tensor<2x8x64xf32>
  return
}

// -----

// Grouped-query attention: the key's heads must divide the query's.
func.func @attention_kv_heads(%q: tensor<2x8x64xf32>, %k: tensor<2x3x8x16xf32>) {
  // expected-error @+2 {{num_heads 4 is not a multiple of the key's 3 heads}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.attention %q, %k, %k {num_heads = 4 : i64, scale = 0.25 : f32} : (tensor<2x8x64xf32>, tensor<2x3x8x16xf32>, tensor<2x3x8x16xf32>) -> tensor<2x8x64xf32>
  return
}

// -----

func.func @attention_head_dims(%q: tensor<2x8x64xf32>, %k: tensor<2x4x8x8xf32>) {
  // expected-error @+2 {{key head dim 8 differs from 16}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.attention %q, %k, %k {num_heads = 4 : i64, scale = 0.25 : f32} : (tensor<2x8x64xf32>, tensor<2x4x8x8xf32>, tensor<2x4x8x8xf32>) -> tensor<2x8x64xf32>
  return
}

// -----

func.func @attention_value_heads(%q: tensor<2x8x64xf32>, %k: tensor<2x8x32xf32>, %v: tensor<2x4x8x16xf32>) {
  // expected-error @+2 {{value has 4 heads, expected 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.attention %q, %k, %v {num_heads = 4 : i64, scale = 0.25 : f32} : (tensor<2x8x64xf32>, tensor<2x8x32xf32>, tensor<2x4x8x16xf32>) -> tensor<2x8x64xf32>
  return
}

// -----

func.func @attention_heads(%x: tensor<2x8x64xf32>) {
  // expected-error @+2 {{hidden size 64 is not a multiple of num_heads 5}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.attention %x, %x, %x {num_heads = 5 : i64, scale = 0.25 : f32} : (tensor<2x8x64xf32>, tensor<2x8x64xf32>, tensor<2x8x64xf32>) -> tensor<2x8x64xf32>
  return
}

// -----

func.func @attention_key_length(%q: tensor<2x8x64xf32>, %k: tensor<2x9x64xf32>, %v: tensor<2x10x64xf32>) {
  // expected-error @+2 {{key and value sequence lengths differ: 9 vs 10}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.attention %q, %k, %v {num_heads = 4 : i64, scale = 0.25 : f32} : (tensor<2x8x64xf32>, tensor<2x9x64xf32>, tensor<2x10x64xf32>) -> tensor<2x8x64xf32>
  return
}

// -----

func.func @attention_mask(%x: tensor<2x8x64xf32>, %m: tensor<2x1x8x9xf32>) {
  // expected-error @+2 {{mask of shape [2, 1, 8, 9] does not broadcast to the scores [2, 4, 8, 8]}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.attention %x, %x, %x, %m {num_heads = 4 : i64, scale = 0.25 : f32} : (tensor<2x8x64xf32>, tensor<2x8x64xf32>, tensor<2x8x64xf32>, tensor<2x1x8x9xf32>) -> tensor<2x8x64xf32>
  return
}

// -----

func.func @linear_activation(%x: tensor<2x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error @+2 {{unknown activation "swish" (none, relu, gelu, gelu_tanh)}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear %x, %w {activation = "swish", operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_contraction(%x: tensor<2x8xf32>, %w: tensor<6x4xf32>) {
  // expected-error @+2 {{contracting dims differ: 8 vs 6}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<2x8xf32>, tensor<6x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_mixed_floats(%x: tensor<2x8xf16>, %w: tensor<8x4xf32>) {
  // expected-error @+2 {{expects float input and weight of one type, an f32 input with a bf16 weight, or an i8 or ui8 input with an i8 weight; got 'f16' and 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<2x8xf16>, tensor<8x4xf32>) -> tensor<2x4xf16>
  return
}

// -----

func.func @linear_float_by_int8(%x: tensor<2x8xf32>, %w: tensor<8x4xi8>) {
  // expected-error @+2 {{got 'f32' and 'i8'}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<2x8xf32>, tensor<8x4xi8>) -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_int8_bias(%x: tensor<2x8xi8>, %w: tensor<8x4xi8>, %b: tensor<4xi8>) {
  // expected-error @+2 {{bias and residual must be 'i32' tensors, got 'tensor<4xi8>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear %x, %w, %b {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<2x8xi8>, tensor<8x4xi8>, tensor<4xi8>) -> tensor<2x4xi32>
  return
}

// -----

func.func @linear_int8_gelu(%x: tensor<2x8xi8>, %w: tensor<8x4xi8>) {
  // expected-error @+2 {{activation "gelu" needs a float result, got 'i32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear %x, %w {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<2x8xi8>, tensor<8x4xi8>) -> tensor<2x4xi32>
  return
}

// -----

func.func @add_layer_norm_skip(%x: tensor<2x8x16xf32>, %s: tensor<2x9x16xf32>, %g: tensor<16xf32>) {
  // expected-error @+2 {{skip of shape [2, 9, 16] does not broadcast to the input's [2, 8, 16]}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.add_layer_norm %x, %s, %g {axis = 2 : i64} : (tensor<2x8x16xf32>, tensor<2x9x16xf32>, tensor<16xf32>) -> tensor<2x8x16xf32>
  return
}
// -----

// A weight blob of the wrong size is refused, not read past its end (an
// empty blob, a weight printed elided, is valid: see tfm-canonicalize.mlir).
func.func @constant_short_weight() -> tensor<2xf32> {
  // expected-error @+1 {{weight 'v' holds 4 bytes, but its type 'tensor<2xf32>' needs 8}}
  %v = tfm.constant dense_resource<v> : tensor<2xf32>
  return %v : tensor<2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      v: "0x040000000000803F"
    }
  }
#-}
// -----

func.func @constant_whole_weight() -> tensor<2xf32> {
  %v = tfm.constant dense_resource<v> : tensor<2xf32>
  return %v : tensor<2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      v: "0x040000000000803F00000040"
    }
  }
#-}
// -----

func.func @pad_mode(%a: tensor<3xf32>, %p: tensor<2xi64>) {
  // expected-error @+2 {{mode must be constant, edge, reflect or wrap, got "symmetric"}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.pad %a, %p {mode = "symmetric"} : (tensor<3xf32>, tensor<2xi64>) -> tensor<?xf32>
  return
}
// -----

func.func @pad_length(%a: tensor<3x4xf32>, %p: tensor<2xi64>) {
  // expected-error @+2 {{pads must have 2 * rank = 4 entries, got 2}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.pad %a, %p {mode = "edge"} : (tensor<3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return
}
// -----

func.func @pad_too_negative(%a: tensor<3xf32>) {
  %p = tfm.constant dense<[-2, -2]> : tensor<2xi64>
  // expected-error @+2 {{pads -2 and -2 remove more than dim 0's 3 elements}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.pad %a, %p {mode = "constant"} : (tensor<3xf32>, tensor<2xi64>) -> tensor<?xf32>
  return
}
// -----

func.func @pad_reflect_empty(%a: tensor<0xf32>) {
  %p = tfm.constant dense<[1, 0]> : tensor<2xi64>
  // expected-error @+2 {{dim 0 is empty; reflect padding has no element to repeat}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.pad %a, %p {mode = "reflect"} : (tensor<0xf32>, tensor<2xi64>) -> tensor<?xf32>
  return
}
// -----

func.func @scatter_reduction(%a: tensor<3xf32>, %i: tensor<2xi64>, %u: tensor<2xf32>) {
  // expected-error @+2 {{reduction must be none, add, mul, max or min, got "mean"}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.scatter_elements %a, %i, %u {axis = 0 : i64, reduction = "mean"} : (tensor<3xf32>, tensor<2xi64>, tensor<2xf32>) -> tensor<3xf32>
  return
}
// -----

func.func @scatter_elements_shapes(%a: tensor<3x4xf32>, %i: tensor<2x2xi64>, %u: tensor<2x3xf32>) {
  // expected-error @+2 {{indices and updates dims differ: 2 vs 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.scatter_elements %a, %i, %u {axis = 0 : i64} : (tensor<3x4xf32>, tensor<2x2xi64>, tensor<2x3xf32>) -> tensor<3x4xf32>
  return
}
// -----

func.func @scatter_nd_updates(%a: tensor<3x4x5xf32>, %i: tensor<2x2xi64>, %u: tensor<2x4xf32>) {
  // expected-error @+2 {{updates must be [2, 5], got [2, 4]}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.scatter_nd %a, %i, %u : (tensor<3x4x5xf32>, tensor<2x2xi64>, tensor<2x4xf32>) -> tensor<3x4x5xf32>
  return
}
// -----

func.func @scatter_nd_depth(%a: tensor<3xf32>, %i: tensor<2x2xi64>, %u: tensor<2xf32>) {
  // expected-error @+2 {{indices rows of 2 entries do not index an input of rank 1}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.scatter_nd %a, %i, %u : (tensor<3xf32>, tensor<2x2xi64>, tensor<2xf32>) -> tensor<3xf32>
  return
}
// -----

func.func @top_k_too_many(%a: tensor<3x4xf32>) {
  %k = tfm.constant dense<5> : tensor<1xi64>
  // expected-error @+2 {{k (5) exceeds the dim's 4 elements}}
  // expected-error @+1 {{failed to infer returned types}}
  %v, %i = tfm.top_k %a, %k {axis = 1 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x5xf32>, tensor<3x5xi64>)
  return
}
// -----

func.func @resize_mode(%a: tensor<1x1x4x4xf32>, %s: tensor<4xi64>, %f: tensor<4xf32>) {
  // expected-error @+2 {{coordinate_mode "tf_crop_and_resize" is not one tfc implements}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.resize %a, %s, %f {mode = "linear", coordinate_mode = "tf_crop_and_resize"} : (tensor<1x1x4x4xf32>, tensor<4xi64>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
  return
}
// -----

func.func @resize_linear_ints(%a: tensor<1x1x4x4xi32>, %s: tensor<4xi64>, %f: tensor<4xf32>) {
  // expected-error @+2 {{linear interpolation needs floats, got 'i32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.resize %a, %s, %f {mode = "linear", coordinate_mode = "half_pixel"} : (tensor<1x1x4x4xi32>, tensor<4xi64>, tensor<4xf32>) -> tensor<?x?x?x?xi32>
  return
}

// -----

func.func @quantized_linear_float_weight(%x: tensor<4x8xf32>, %w: tensor<8x16xf32>, %s: tensor<16xf32>) {
  // expected-error @+2 {{expects an i8 or ui8 [K, N] weight, got 'tensor<8x16xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.quantized_linear %x, %w, %s {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<4x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  return
}
// -----

func.func @quantized_linear_scale_shape(%x: tensor<4x8xf32>, %w: tensor<8x16xi8>, %s: tensor<8xf32>) {
  // expected-error @+2 {{weight_scale must be 'f32' [N] or [1], got 'tensor<8xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.quantized_linear %x, %w, %s {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<4x8xf32>, tensor<8x16xi8>, tensor<8xf32>) -> tensor<4x16xf32>
  return
}
// -----

func.func @quantized_linear_zero_type(%x: tensor<4x8xf32>, %w: tensor<8x16xi8>, %s: tensor<16xf32>, %z: tensor<16xui8>) {
  // expected-error @+2 {{weight_zero_point must be 'i8' [N] or [1], got 'tensor<16xui8>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.quantized_linear %x, %w, %s, %z {operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0>} : (tensor<4x8xf32>, tensor<8x16xi8>, tensor<16xf32>, tensor<16xui8>) -> tensor<4x16xf32>
  return
}
// -----

func.func @quantized_linear_static_without_scale(%x: tensor<4x8xf32>, %w: tensor<8x16xi8>, %s: tensor<16xf32>) {
  // expected-error @+2 {{input_scale is given exactly when input_quantization is "static"}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.quantized_linear %x, %w, %s {input_quantization = "static", operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<4x8xf32>, tensor<8x16xi8>, tensor<16xf32>) -> tensor<4x16xf32>
  return
}
// -----

func.func @quantized_linear_mode(%x: tensor<4x8xf32>, %w: tensor<8x16xi8>, %s: tensor<16xf32>) {
  // expected-error @+2 {{unknown input_quantization "channel" (row, tensor, static, none)}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.quantized_linear %x, %w, %s {input_quantization = "channel", operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<4x8xf32>, tensor<8x16xi8>, tensor<16xf32>) -> tensor<4x16xf32>
  return
}
// -----

func.func @quantized_linear_group_mode(%x: tensor<4x64xf32>, %w: tensor<64x16xi8>, %s: tensor<2x16xf32>) {
  // expected-error @+2 {{group-wise weight scales need input_quantization "none"}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.quantized_linear %x, %w, %s {weight_bits = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<4x64xf32>, tensor<64x16xi8>, tensor<2x16xf32>) -> tensor<4x16xf32>
  return
}
// -----

func.func @quantized_linear_group_size(%x: tensor<4x64xf32>, %w: tensor<64x16xi8>, %s: tensor<3x16xf32>) {
  // expected-error @+2 {{group-wise weight_scale must be f32 [K / G, N] with G dividing K = 64, got 'tensor<3x16xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.quantized_linear %x, %w, %s {input_quantization = "none", weight_bits = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<4x64xf32>, tensor<64x16xi8>, tensor<3x16xf32>) -> tensor<4x16xf32>
  return
}
// -----

func.func @quantized_linear_group_zero(%x: tensor<4x64xf32>, %w: tensor<64x16xui8>, %s: tensor<2x16xf32>, %z: tensor<16xui8>) {
  // expected-error @+2 {{weight_zero_point must be 'ui8' of weight_scale's shape, got 'tensor<16xui8>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.quantized_linear %x, %w, %s, %z {input_quantization = "none", weight_bits = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0>} : (tensor<4x64xf32>, tensor<64x16xui8>, tensor<2x16xf32>, tensor<16xui8>) -> tensor<4x16xf32>
  return
}
// -----

func.func @quantized_linear_bits(%x: tensor<4x8xf32>, %w: tensor<8x16xi8>, %s: tensor<16xf32>) {
  // expected-error @+2 {{weight_bits must be 4 or 8, got 3}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.quantized_linear %x, %w, %s {weight_bits = 3 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<4x8xf32>, tensor<8x16xi8>, tensor<16xf32>) -> tensor<4x16xf32>
  return
}
// -----

func.func @quantized_linear_depth(%x: tensor<4x7xf32>, %w: tensor<8x16xi8>, %s: tensor<16xf32>) {
  // expected-error @+2 {{contracting dims}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.quantized_linear %x, %w, %s {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>} : (tensor<4x7xf32>, tensor<8x16xi8>, tensor<16xf32>) -> tensor<4x16xf32>
  return
}
// -----

func.func @quantize_linear_to_f32(%x: tensor<4x8xf32>, %s: tensor<f32>) {
  // expected-error @+2 {{quantizes to i8, ui8, i16 or ui16, not 'f32'}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.quantize_linear %x, %s {axis = 1 : i64, to = f32} : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  return
}
// -----

func.func @quantize_linear_axis_scale(%x: tensor<4x8xf32>, %s: tensor<4xf32>) {
  // expected-error @+2 {{the per-axis scale and the input's axis}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.quantize_linear %x, %s {axis = 1 : i64, to = i8} : (tensor<4x8xf32>, tensor<4xf32>) -> tensor<4x8xi8>
  return
}
// -----

func.func @dequantize_linear_zero_type(%x: tensor<4x8xi8>, %s: tensor<f32>, %z: tensor<ui8>) {
  // expected-error @+2 {{zero_point must be 'i8' of the scale's shape, got 'tensor<ui8>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.dequantize_linear %x, %s, %z {axis = 1 : i64} : (tensor<4x8xi8>, tensor<f32>, tensor<ui8>) -> tensor<4x8xf32>
  return
}
// -----

func.func @dequantize_linear_blocked_rank(%x: tensor<4x8xi8>, %s: tensor<4xf32>) {
  // expected-error @+2 {{a blocked scale must be an f32 tensor of the input's rank 2, got 'tensor<4xf32>'}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.dequantize_linear %x, %s {axis = 1 : i64, block_size = 2 : i64} : (tensor<4x8xi8>, tensor<4xf32>) -> tensor<4x8xf32>
  return
}
// -----

func.func @dequantize_linear_blocked_count(%x: tensor<4x9xi8>, %s: tensor<4x4xf32>) {
  // expected-error @+2 {{the blocked scale and the input's blocks}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.dequantize_linear %x, %s {axis = 1 : i64, block_size = 2 : i64} : (tensor<4x9xi8>, tensor<4x4xf32>) -> tensor<4x9xf32>
  return
}
// -----

func.func @dequantize_linear_blocked_other_dim(%x: tensor<4x8xi8>, %s: tensor<2x4xf32>) {
  // expected-error @+2 {{the blocked scale and the input}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.dequantize_linear %x, %s {axis = 1 : i64, block_size = 2 : i64} : (tensor<4x8xi8>, tensor<2x4xf32>) -> tensor<4x8xf32>
  return
}
// -----

func.func @dequantize_linear_blocked_negative(%x: tensor<4x8xi8>, %s: tensor<f32>) {
  // expected-error @+2 {{block_size must not be negative, got -2}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.dequantize_linear %x, %s {axis = 1 : i64, block_size = -2 : i64} : (tensor<4x8xi8>, tensor<f32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @linear_attention_rank(%x: tensor<2x8x64xf32>) {
  // expected-error @+2 {{query must be [B, L, heads, d] with static heads and d, got [2, 8, 64]}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear_attention %x, %x, %x : (tensor<2x8x64xf32>, tensor<2x8x64xf32>, tensor<2x8x64xf32>) -> tensor<2x8x64xf32>
  return
}

// -----

func.func @linear_attention_feature_map(%x: tensor<2x8x4x16xf32>) {
  // expected-error @+2 {{unknown feature_map "softmax" (none, elu_plus_one, relu, exp)}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear_attention %x, %x, %x {feature_map = "softmax"} : (tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>) -> tensor<2x8x4x16xf32>
  return
}

// -----

func.func @linear_attention_heads(%q: tensor<2x8x4x16xf32>, %k: tensor<2x8x2x16xf32>) {
  // expected-error @+2 {{query, key and value heads differ: 4, 2, 4}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear_attention %q, %k, %q : (tensor<2x8x4x16xf32>, tensor<2x8x2x16xf32>, tensor<2x8x4x16xf32>) -> tensor<2x8x4x16xf32>
  return
}

// -----

func.func @linear_attention_causal_lengths(%q: tensor<2x9x4x16xf32>, %k: tensor<2x8x4x16xf32>) {
  // expected-error @+2 {{causal with more queries (9) than keys (8)}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear_attention %q, %k, %k {causal = true} : (tensor<2x9x4x16xf32>, tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>) -> tensor<2x9x4x16xf32>
  return
}

// -----

func.func @linear_attention_decay_not_causal(%x: tensor<2x8x4x16xf32>, %g: tensor<4xf32>) {
  // expected-error @+2 {{decay needs causal}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear_attention %x, %x, %x, %g : (tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<4xf32>) -> tensor<2x8x4x16xf32>
  return
}

// -----

func.func @linear_attention_decay_shape(%x: tensor<2x8x4x16xf32>, %g: tensor<3xf32>) {
  // expected-error @+2 {{decay must be [4], got [3]}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear_attention %x, %x, %x, %g {causal = true} : (tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<3xf32>) -> tensor<2x8x4x16xf32>
  return
}

// -----

func.func @linear_attention_window_dim(%x: tensor<2x8x4x16xf32>) {
  // expected-error @+2 {{window_dim must leave features of the head dim 16, got 16}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear_attention %x, %x, %x {window = 4 : i64, window_dim = 16 : i64} : (tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>) -> tensor<2x8x4x16xf32>
  return
}

// -----

func.func @linear_attention_window_dim_alone(%x: tensor<2x8x4x16xf32>) {
  // expected-error @+2 {{window_dim without a window}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear_attention %x, %x, %x {window_dim = 3 : i64} : (tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>) -> tensor<2x8x4x16xf32>
  return
}

// -----

func.func @linear_attention_window_size(%x: tensor<2x8x4x16xf32>) {
  // expected-error @+2 {{window must be 0 to 1024, got 2048}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear_attention %x, %x, %x {window = 2048 : i64, window_dim = 3 : i64} : (tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>) -> tensor<2x8x4x16xf32>
  return
}

// -----

func.func @linear_attention_window_decay(%x: tensor<2x8x4x16xf32>, %g: tensor<4xf32>) {
  // expected-error @+2 {{a window with decay}}
  // expected-error @+1 {{failed to infer returned types}}
  %r = tfm.linear_attention %x, %x, %x, %g {causal = true, window = 4 : i64, window_dim = 3 : i64} : (tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<2x8x4x16xf32>, tensor<4xf32>) -> tensor<2x8x4x16xf32>
  return
}
