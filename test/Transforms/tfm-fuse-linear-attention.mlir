// RUN: tfc-opt %s --tfm-fuse-linear-attention=emit-remarks --split-input-file --verify-diagnostics | FileCheck %s
// COM: q, k and v come from one packed tensor, as in the families suite's
// COM: model, so that their batch and sequence dims are provably the same.

// COM: Causal linear attention as torch exports Katharopoulos et al.'s
// COM: form: elu(x) + 1 on q and k, prefix sums of phi(k) v^T and of
// COM: phi(k), divided. The prefix tensors and products go.
// CHECK-LABEL: func.func @elu_normalized
// CHECK: %[[P:.+]]:3 = tfm.split %arg0
// CHECK-NEXT: %[[Q:.+]] = tfm.squeeze %[[P]]#0
// CHECK-NEXT: %[[K:.+]] = tfm.squeeze %[[P]]#1
// CHECK-NEXT: %[[V:.+]] = tfm.squeeze %[[P]]#2
// CHECK-NEXT: %[[O:.+]] = tfm.linear_attention %[[Q]], %[[K]], %[[V]] {causal = true, epsilon = 9.99999997E-7 : f32, feature_map = "elu_plus_one"}
// CHECK-NEXT: return %[[O]]
func.func @elu_normalized(%qkv: tensor<?x?x3x4x8xf32>) -> tensor<?x?x4x8xf32> {
  %parts:3 = tfm.split %qkv {axis = 2 : i64, num_outputs = 3 : i64, sizes = array<i64: 1, 1, 1>} : (tensor<?x?x3x4x8xf32>) -> (tensor<?x?x1x4x8xf32>, tensor<?x?x1x4x8xf32>, tensor<?x?x1x4x8xf32>)
  %q = tfm.squeeze %parts#0 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %k = tfm.squeeze %parts#1 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %v = tfm.squeeze %parts#2 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %eps = tfm.constant dense<1.0e-6> : tensor<f32>
  %fqe = tfm.elu %q : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %fq = tfm.add %fqe, %one : (tensor<?x?x4x8xf32>, tensor<f32>) -> tensor<?x?x4x8xf32>
  %fke = tfm.elu %k : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %fk = tfm.add %fke, %one : (tensor<?x?x4x8xf32>, tensor<f32>) -> tensor<?x?x4x8xf32>
  %uk = tfm.unsqueeze %fk {axes = array<i64: 4>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %uv = tfm.unsqueeze %v {axes = array<i64: 3>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x1x8xf32>
  %outer = tfm.mul %uk, %uv : (tensor<?x?x4x8x1xf32>, tensor<?x?x4x1x8xf32>) -> tensor<?x?x4x8x8xf32>
  %kv = tfm.cumsum %outer {axis = 1 : i64} : (tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8x8xf32>
  %uq = tfm.unsqueeze %fq {axes = array<i64: 4>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %qprod = tfm.mul %uq, %kv : (tensor<?x?x4x8x1xf32>, tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8x8xf32>
  %num = tfm.reduce_sum %qprod {axes = array<i64: 3>, keepdims = false} : (tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8xf32>
  %ck = tfm.cumsum %fk {axis = 1 : i64} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %qk = tfm.mul %fq, %ck : (tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %den0 = tfm.reduce_sum %qk {axes = array<i64: 3>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x1xf32>
  %den = tfm.add %den0, %eps : (tensor<?x?x4x1xf32>, tensor<f32>) -> tensor<?x?x4x1xf32>
  // expected-remark @+1 {{fused linear_attention: elu_plus_one, normalized}}
  %o = tfm.div %num, %den : (tensor<?x?x4x8xf32>, tensor<?x?x4x1xf32>) -> tensor<?x?x4x8xf32>
  return %o : tensor<?x?x4x8xf32>
}

// -----

// COM: relu feature map, no normalization: the sum over dk alone.
// CHECK-LABEL: func.func @relu_unnormalized
// CHECK: %[[P:.+]]:3 = tfm.split %arg0
// CHECK-NEXT: %[[Q:.+]] = tfm.squeeze %[[P]]#0
// CHECK-NEXT: %[[K:.+]] = tfm.squeeze %[[P]]#1
// CHECK-NEXT: %[[V:.+]] = tfm.squeeze %[[P]]#2
// CHECK-NEXT: %[[O:.+]] = tfm.linear_attention %[[Q]], %[[K]], %[[V]] {causal = true, feature_map = "relu"}
// CHECK-NEXT: return %[[O]]
func.func @relu_unnormalized(%qkv: tensor<?x?x3x4x8xf32>) -> tensor<?x?x4x8xf32> {
  %parts:3 = tfm.split %qkv {axis = 2 : i64, num_outputs = 3 : i64, sizes = array<i64: 1, 1, 1>} : (tensor<?x?x3x4x8xf32>) -> (tensor<?x?x1x4x8xf32>, tensor<?x?x1x4x8xf32>, tensor<?x?x1x4x8xf32>)
  %q = tfm.squeeze %parts#0 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %k = tfm.squeeze %parts#1 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %v = tfm.squeeze %parts#2 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %eps = tfm.constant dense<1.0e-6> : tensor<f32>
  %fq = tfm.relu %q : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %fk = tfm.relu %k : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %uk = tfm.unsqueeze %fk {axes = array<i64: 4>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %uv = tfm.unsqueeze %v {axes = array<i64: 3>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x1x8xf32>
  %outer = tfm.mul %uk, %uv : (tensor<?x?x4x8x1xf32>, tensor<?x?x4x1x8xf32>) -> tensor<?x?x4x8x8xf32>
  %kv = tfm.cumsum %outer {axis = 1 : i64} : (tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8x8xf32>
  %uq = tfm.unsqueeze %fq {axes = array<i64: 4>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %qprod = tfm.mul %uq, %kv : (tensor<?x?x4x8x1xf32>, tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8x8xf32>
  // expected-remark @+1 {{fused linear_attention: relu, unnormalized}}
  %num = tfm.reduce_sum %qprod {axes = array<i64: 3>, keepdims = false} : (tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8xf32>
  return %num : tensor<?x?x4x8xf32>
}

// -----

// COM: No feature map (the identity): feature_map "none", the default.
// CHECK-LABEL: func.func @identity_map
// CHECK: %[[P:.+]]:3 = tfm.split %arg0
// CHECK-NEXT: %[[Q:.+]] = tfm.squeeze %[[P]]#0
// CHECK-NEXT: %[[K:.+]] = tfm.squeeze %[[P]]#1
// CHECK-NEXT: %[[V:.+]] = tfm.squeeze %[[P]]#2
// CHECK-NEXT: %[[O:.+]] = tfm.linear_attention %[[Q]], %[[K]], %[[V]] {causal = true, epsilon = 9.99999997E-7 : f32}
// CHECK-NEXT: return %[[O]]
func.func @identity_map(%qkv: tensor<?x?x3x4x8xf32>) -> tensor<?x?x4x8xf32> {
  %parts:3 = tfm.split %qkv {axis = 2 : i64, num_outputs = 3 : i64, sizes = array<i64: 1, 1, 1>} : (tensor<?x?x3x4x8xf32>) -> (tensor<?x?x1x4x8xf32>, tensor<?x?x1x4x8xf32>, tensor<?x?x1x4x8xf32>)
  %q = tfm.squeeze %parts#0 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %k = tfm.squeeze %parts#1 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %v = tfm.squeeze %parts#2 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %eps = tfm.constant dense<1.0e-6> : tensor<f32>
  %uk = tfm.unsqueeze %k {axes = array<i64: 4>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %uv = tfm.unsqueeze %v {axes = array<i64: 3>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x1x8xf32>
  %outer = tfm.mul %uk, %uv : (tensor<?x?x4x8x1xf32>, tensor<?x?x4x1x8xf32>) -> tensor<?x?x4x8x8xf32>
  %kv = tfm.cumsum %outer {axis = 1 : i64} : (tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8x8xf32>
  %uq = tfm.unsqueeze %q {axes = array<i64: 4>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %qprod = tfm.mul %uq, %kv : (tensor<?x?x4x8x1xf32>, tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8x8xf32>
  %num = tfm.reduce_sum %qprod {axes = array<i64: 3>, keepdims = false} : (tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8xf32>
  %ck = tfm.cumsum %k {axis = 1 : i64} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %qk = tfm.mul %q, %ck : (tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %den0 = tfm.reduce_sum %qk {axes = array<i64: 3>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x1xf32>
  %den = tfm.add %den0, %eps : (tensor<?x?x4x1xf32>, tensor<f32>) -> tensor<?x?x4x1xf32>
  // expected-remark @+1 {{fused linear_attention: none, normalized}}
  %o = tfm.div %num, %den : (tensor<?x?x4x8xf32>, tensor<?x?x4x1xf32>) -> tensor<?x?x4x8xf32>
  return %o : tensor<?x?x4x8xf32>
}

// -----

// COM: Must not fire: a reverse prefix sum (anti-causal).
// CHECK-LABEL: func.func @reverse_prefix
// CHECK-NOT: tfm.linear_attention
func.func @reverse_prefix(%qkv: tensor<?x?x3x4x8xf32>) -> tensor<?x?x4x8xf32> {
  %parts:3 = tfm.split %qkv {axis = 2 : i64, num_outputs = 3 : i64, sizes = array<i64: 1, 1, 1>} : (tensor<?x?x3x4x8xf32>) -> (tensor<?x?x1x4x8xf32>, tensor<?x?x1x4x8xf32>, tensor<?x?x1x4x8xf32>)
  %q = tfm.squeeze %parts#0 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %k = tfm.squeeze %parts#1 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %v = tfm.squeeze %parts#2 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %eps = tfm.constant dense<1.0e-6> : tensor<f32>
  %fqe = tfm.elu %q : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %fq = tfm.add %fqe, %one : (tensor<?x?x4x8xf32>, tensor<f32>) -> tensor<?x?x4x8xf32>
  %fke = tfm.elu %k : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %fk = tfm.add %fke, %one : (tensor<?x?x4x8xf32>, tensor<f32>) -> tensor<?x?x4x8xf32>
  %uk = tfm.unsqueeze %fk {axes = array<i64: 4>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %uv = tfm.unsqueeze %v {axes = array<i64: 3>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x1x8xf32>
  %outer = tfm.mul %uk, %uv : (tensor<?x?x4x8x1xf32>, tensor<?x?x4x1x8xf32>) -> tensor<?x?x4x8x8xf32>
  %kv = tfm.cumsum %outer {axis = 1 : i64, reverse = true} : (tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8x8xf32>
  %uq = tfm.unsqueeze %fq {axes = array<i64: 4>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %qprod = tfm.mul %uq, %kv : (tensor<?x?x4x8x1xf32>, tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8x8xf32>
  // expected-remark @+1 {{not fused as linear_attention: the product is not unsqueeze}}
  %num = tfm.reduce_sum %qprod {axes = array<i64: 3>, keepdims = false} : (tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8xf32>
  %ck = tfm.cumsum %fk {axis = 1 : i64} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %qk = tfm.mul %fq, %ck : (tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %den0 = tfm.reduce_sum %qk {axes = array<i64: 3>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x1xf32>
  %den = tfm.add %den0, %eps : (tensor<?x?x4x1xf32>, tensor<f32>) -> tensor<?x?x4x1xf32>
  %o = tfm.div %num, %den : (tensor<?x?x4x8xf32>, tensor<?x?x4x1xf32>) -> tensor<?x?x4x8xf32>
  return %o : tensor<?x?x4x8xf32>
}

// -----

// COM: Must not fire: the prefix sum runs over the heads, not the sequence.
// CHECK-LABEL: func.func @prefix_over_heads
// CHECK-NOT: tfm.linear_attention
func.func @prefix_over_heads(%qkv: tensor<?x?x3x4x8xf32>) -> tensor<?x?x4x8xf32> {
  %parts:3 = tfm.split %qkv {axis = 2 : i64, num_outputs = 3 : i64, sizes = array<i64: 1, 1, 1>} : (tensor<?x?x3x4x8xf32>) -> (tensor<?x?x1x4x8xf32>, tensor<?x?x1x4x8xf32>, tensor<?x?x1x4x8xf32>)
  %q = tfm.squeeze %parts#0 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %k = tfm.squeeze %parts#1 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %v = tfm.squeeze %parts#2 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %eps = tfm.constant dense<1.0e-6> : tensor<f32>
  %fqe = tfm.elu %q : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %fq = tfm.add %fqe, %one : (tensor<?x?x4x8xf32>, tensor<f32>) -> tensor<?x?x4x8xf32>
  %fke = tfm.elu %k : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %fk = tfm.add %fke, %one : (tensor<?x?x4x8xf32>, tensor<f32>) -> tensor<?x?x4x8xf32>
  %uk = tfm.unsqueeze %fk {axes = array<i64: 4>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %uv = tfm.unsqueeze %v {axes = array<i64: 3>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x1x8xf32>
  %outer = tfm.mul %uk, %uv : (tensor<?x?x4x8x1xf32>, tensor<?x?x4x1x8xf32>) -> tensor<?x?x4x8x8xf32>
  %kv = tfm.cumsum %outer {axis = 2 : i64} : (tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8x8xf32>
  %uq = tfm.unsqueeze %fq {axes = array<i64: 4>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %qprod = tfm.mul %uq, %kv : (tensor<?x?x4x8x1xf32>, tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8x8xf32>
  // expected-remark @+1 {{not fused as linear_attention: the product is not unsqueeze}}
  %num = tfm.reduce_sum %qprod {axes = array<i64: 3>, keepdims = false} : (tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8xf32>
  %ck = tfm.cumsum %fk {axis = 1 : i64} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %qk = tfm.mul %fq, %ck : (tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %den0 = tfm.reduce_sum %qk {axes = array<i64: 3>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x1xf32>
  %den = tfm.add %den0, %eps : (tensor<?x?x4x1xf32>, tensor<f32>) -> tensor<?x?x4x1xf32>
  %o = tfm.div %num, %den : (tensor<?x?x4x8xf32>, tensor<?x?x4x1xf32>) -> tensor<?x?x4x8xf32>
  return %o : tensor<?x?x4x8xf32>
}

// -----

// COM: Must not fire: q and k under different feature maps.
// CHECK-LABEL: func.func @mixed_maps
// CHECK-NOT: tfm.linear_attention
func.func @mixed_maps(%qkv: tensor<?x?x3x4x8xf32>) -> tensor<?x?x4x8xf32> {
  %parts:3 = tfm.split %qkv {axis = 2 : i64, num_outputs = 3 : i64, sizes = array<i64: 1, 1, 1>} : (tensor<?x?x3x4x8xf32>) -> (tensor<?x?x1x4x8xf32>, tensor<?x?x1x4x8xf32>, tensor<?x?x1x4x8xf32>)
  %q = tfm.squeeze %parts#0 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %k = tfm.squeeze %parts#1 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %v = tfm.squeeze %parts#2 {axes = array<i64: 2>} : (tensor<?x?x1x4x8xf32>) -> tensor<?x?x4x8xf32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %eps = tfm.constant dense<1.0e-6> : tensor<f32>
  %fqe = tfm.elu %q : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %fq = tfm.add %fqe, %one : (tensor<?x?x4x8xf32>, tensor<f32>) -> tensor<?x?x4x8xf32>
  %fk = tfm.relu %k : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %uk = tfm.unsqueeze %fk {axes = array<i64: 4>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %uv = tfm.unsqueeze %v {axes = array<i64: 3>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x1x8xf32>
  %outer = tfm.mul %uk, %uv : (tensor<?x?x4x8x1xf32>, tensor<?x?x4x1x8xf32>) -> tensor<?x?x4x8x8xf32>
  %kv = tfm.cumsum %outer {axis = 1 : i64} : (tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8x8xf32>
  %uq = tfm.unsqueeze %fq {axes = array<i64: 4>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8x1xf32>
  %qprod = tfm.mul %uq, %kv : (tensor<?x?x4x8x1xf32>, tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8x8xf32>
  // expected-remark @+1 {{not fused as linear_attention: q's feature map (elu_plus_one) is not k's (relu)}}
  %num = tfm.reduce_sum %qprod {axes = array<i64: 3>, keepdims = false} : (tensor<?x?x4x8x8xf32>) -> tensor<?x?x4x8xf32>
  %ck = tfm.cumsum %fk {axis = 1 : i64} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %qk = tfm.mul %fq, %ck : (tensor<?x?x4x8xf32>, tensor<?x?x4x8xf32>) -> tensor<?x?x4x8xf32>
  %den0 = tfm.reduce_sum %qk {axes = array<i64: 3>} : (tensor<?x?x4x8xf32>) -> tensor<?x?x4x1xf32>
  %den = tfm.add %den0, %eps : (tensor<?x?x4x1xf32>, tensor<f32>) -> tensor<?x?x4x1xf32>
  %o = tfm.div %num, %den : (tensor<?x?x4x8xf32>, tensor<?x?x4x1xf32>) -> tensor<?x?x4x8xf32>
  return %o : tensor<?x?x4x8xf32>
}

// -----

// COM: Retention in RetNet's parallel form (the families suite's retnet): a
// COM: decay mask γ^(i - j) for j <= i built from range(0, L, 1) of the
// COM: queries' sequence length, its rows normalized by the square roots of
// COM: their sums, multiplied into the scaled scores. It becomes
// COM: tfm.linear_attention with decay γ = e^c per head and the scale, the
// COM: normalization a prefix sum over [L, N] of exp(m c), and the result
// COM: goes back to the product's [B, N, L, dv].
// CHECK-LABEL: func.func @retention
// CHECK: %[[G:.+]] = tfm.constant dense<[0.951229453, 0.990049839]> : tensor<2xf32>
// CHECK: %[[O:.+]] = tfm.linear_attention %arg0, %arg1, %arg2, %[[G]] {causal = true, scale = 5.000000e-01 : f32} : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<2xf32>) -> tensor<?x?x2x4xf32>
// CHECK: %[[C:.+]] = tfm.constant dense<[-5.000000e-02, -0.00999999977]> : tensor<2xf32>
// CHECK: %[[P:.+]] = tfm.unsqueeze %{{.+}} {axes = array<i64: 1>} : (tensor<?xf32>) -> tensor<?x1xf32>
// CHECK: %[[E:.+]] = tfm.mul %[[P]], %[[C]] : (tensor<?x1xf32>, tensor<2xf32>) -> tensor<?x2xf32>
// CHECK: %[[X:.+]] = tfm.exp %[[E]]
// CHECK: %[[S:.+]] = tfm.cumsum %[[X]] {axis = 0 : i64}
// CHECK: %[[R:.+]] = tfm.sqrt %[[S]]
// CHECK: %[[U:.+]] = tfm.unsqueeze %[[R]] {axes = array<i64: 2>} : (tensor<?x2xf32>) -> tensor<?x2x1xf32>
// CHECK: %[[D:.+]] = tfm.div %[[O]], %[[U]] : (tensor<?x?x2x4xf32>, tensor<?x2x1xf32>) -> tensor<?x?x2x4xf32>
// CHECK: %[[T:.+]] = tfm.transpose %[[D]] {perm = array<i64: 0, 2, 1, 3>}
// CHECK-NOT: tfm.matmul
// CHECK-NOT: tfm.where
// CHECK: return %[[T]]
func.func @retention(%q: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}, %k: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}, %v: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}) -> tensor<?x2x?x4xf32> {
  %c0 = tfm.constant dense<0> : tensor<i64>
  %c1 = tfm.constant dense<1> : tensor<i64>
  %zero = tfm.constant dense<0.0> : tensor<f32>
  %scale = tfm.constant dense<0.5> : tensor<f32>
  %loggamma = tfm.constant dense<[[[-0.05]], [[-0.01]]]> : tensor<2x1x1xf32>
  %shape = tfm.shape %q {end = 4 : i64, start = 0 : i64} : (tensor<?x?x2x4xf32>) -> tensor<4xi64>
  %l = tfm.gather %shape, %c1 {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %range = tfm.range %c0, %l, %c1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %p = tfm.cast %range {to = f32} : (tensor<?xi64>) -> tensor<?xf32>
  %rows = tfm.unsqueeze %p {axes = array<i64: 1>} : (tensor<?xf32>) -> tensor<?x1xf32>
  %cols = tfm.unsqueeze %p {axes = array<i64: 0>} : (tensor<?xf32>) -> tensor<1x?xf32>
  %dist = tfm.sub %rows, %cols : (tensor<?x1xf32>, tensor<1x?xf32>) -> tensor<?x?xf32>
  %power = tfm.mul %dist, %loggamma : (tensor<?x?xf32>, tensor<2x1x1xf32>) -> tensor<2x?x?xf32>
  %decay = tfm.exp %power : (tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
  %keep = tfm.greater_or_equal %dist, %zero : (tensor<?x?xf32>, tensor<f32>) -> tensor<?x?xi1>
  %masked = tfm.where %keep, %decay, %zero : (tensor<?x?xi1>, tensor<2x?x?xf32>, tensor<f32>) -> tensor<2x?x?xf32>
  %rowsum = tfm.reduce_sum %masked {axes = array<i64: 2>} : (tensor<2x?x?xf32>) -> tensor<2x?x1xf32>
  %root = tfm.sqrt %rowsum : (tensor<2x?x1xf32>) -> tensor<2x?x1xf32>
  %mask = tfm.div %masked, %root : (tensor<2x?x?xf32>, tensor<2x?x1xf32>) -> tensor<2x?x?xf32>
  %qt = tfm.transpose %q {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %kt = tfm.transpose %k {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x4x?xf32>
  %vt = tfm.transpose %v {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %scores = tfm.matmul %qt, %kt : (tensor<?x2x?x4xf32>, tensor<?x2x4x?xf32>) -> tensor<?x2x?x?xf32>
  %scaled = tfm.mul %scores, %scale : (tensor<?x2x?x?xf32>, tensor<f32>) -> tensor<?x2x?x?xf32>
  %weighted = tfm.mul %scaled, %mask : (tensor<?x2x?x?xf32>, tensor<2x?x?xf32>) -> tensor<?x2x?x?xf32>
  // expected-remark @+1 {{fused linear_attention: retention, decay, rows normalized}}
  %out = tfm.matmul %weighted, %vt : (tensor<?x2x?x?xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  return %out : tensor<?x2x?x4xf32>
}

// -----

// COM: Unnormalized: the mask as it is; no prefix sum.
// CHECK-LABEL: func.func @retention_unnormalized
// CHECK: tfm.linear_attention %arg0, %arg1, %arg2, %{{.+}} {causal = true, scale = 5.000000e-01 : f32}
// CHECK-NOT: tfm.cumsum
// CHECK: tfm.transpose
func.func @retention_unnormalized(%q: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}, %k: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}, %v: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}) -> tensor<?x2x?x4xf32> {
  %c0 = tfm.constant dense<0> : tensor<i64>
  %c1 = tfm.constant dense<1> : tensor<i64>
  %zero = tfm.constant dense<0.0> : tensor<f32>
  %scale = tfm.constant dense<0.5> : tensor<f32>
  %loggamma = tfm.constant dense<[[[-0.05]], [[-0.01]]]> : tensor<2x1x1xf32>
  %shape = tfm.shape %q {end = 4 : i64, start = 0 : i64} : (tensor<?x?x2x4xf32>) -> tensor<4xi64>
  %l = tfm.gather %shape, %c1 {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %range = tfm.range %c0, %l, %c1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %p = tfm.cast %range {to = f32} : (tensor<?xi64>) -> tensor<?xf32>
  %rows = tfm.unsqueeze %p {axes = array<i64: 1>} : (tensor<?xf32>) -> tensor<?x1xf32>
  %cols = tfm.unsqueeze %p {axes = array<i64: 0>} : (tensor<?xf32>) -> tensor<1x?xf32>
  %dist = tfm.sub %rows, %cols : (tensor<?x1xf32>, tensor<1x?xf32>) -> tensor<?x?xf32>
  %power = tfm.mul %dist, %loggamma : (tensor<?x?xf32>, tensor<2x1x1xf32>) -> tensor<2x?x?xf32>
  %decay = tfm.exp %power : (tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
  %keep = tfm.greater_or_equal %dist, %zero : (tensor<?x?xf32>, tensor<f32>) -> tensor<?x?xi1>
  %masked = tfm.where %keep, %decay, %zero : (tensor<?x?xi1>, tensor<2x?x?xf32>, tensor<f32>) -> tensor<2x?x?xf32>
  %qt = tfm.transpose %q {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %kt = tfm.transpose %k {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x4x?xf32>
  %vt = tfm.transpose %v {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %scores = tfm.matmul %qt, %kt : (tensor<?x2x?x4xf32>, tensor<?x2x4x?xf32>) -> tensor<?x2x?x?xf32>
  %scaled = tfm.mul %scores, %scale : (tensor<?x2x?x?xf32>, tensor<f32>) -> tensor<?x2x?x?xf32>
  %weighted = tfm.mul %scaled, %masked : (tensor<?x2x?x?xf32>, tensor<2x?x?xf32>) -> tensor<?x2x?x?xf32>
  // expected-remark @+1 {{fused linear_attention: retention, decay}}
  %out = tfm.matmul %weighted, %vt : (tensor<?x2x?x?xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  return %out : tensor<?x2x?x4xf32>
}

// -----

// COM: Must not fire: the mask keeps only j < i (i - j > 0), not the
// COM: diagonal that linear attention's causal form includes.
// CHECK-LABEL: func.func @retention_strict
// CHECK-NOT: tfm.linear_attention
func.func @retention_strict(%q: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}, %k: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}, %v: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}) -> tensor<?x2x?x4xf32> {
  %c0 = tfm.constant dense<0> : tensor<i64>
  %c1 = tfm.constant dense<1> : tensor<i64>
  %zero = tfm.constant dense<0.0> : tensor<f32>
  %scale = tfm.constant dense<0.5> : tensor<f32>
  %loggamma = tfm.constant dense<[[[-0.05]], [[-0.01]]]> : tensor<2x1x1xf32>
  %shape = tfm.shape %q {end = 4 : i64, start = 0 : i64} : (tensor<?x?x2x4xf32>) -> tensor<4xi64>
  %l = tfm.gather %shape, %c1 {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %range = tfm.range %c0, %l, %c1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %p = tfm.cast %range {to = f32} : (tensor<?xi64>) -> tensor<?xf32>
  %rows = tfm.unsqueeze %p {axes = array<i64: 1>} : (tensor<?xf32>) -> tensor<?x1xf32>
  %cols = tfm.unsqueeze %p {axes = array<i64: 0>} : (tensor<?xf32>) -> tensor<1x?xf32>
  %dist = tfm.sub %rows, %cols : (tensor<?x1xf32>, tensor<1x?xf32>) -> tensor<?x?xf32>
  %power = tfm.mul %dist, %loggamma : (tensor<?x?xf32>, tensor<2x1x1xf32>) -> tensor<2x?x?xf32>
  %decay = tfm.exp %power : (tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
  %keep = tfm.greater %dist, %zero : (tensor<?x?xf32>, tensor<f32>) -> tensor<?x?xi1>
  %masked = tfm.where %keep, %decay, %zero : (tensor<?x?xi1>, tensor<2x?x?xf32>, tensor<f32>) -> tensor<2x?x?xf32>
  %rowsum = tfm.reduce_sum %masked {axes = array<i64: 2>} : (tensor<2x?x?xf32>) -> tensor<2x?x1xf32>
  %root = tfm.sqrt %rowsum : (tensor<2x?x1xf32>) -> tensor<2x?x1xf32>
  %mask = tfm.div %masked, %root : (tensor<2x?x?xf32>, tensor<2x?x1xf32>) -> tensor<2x?x?xf32>
  %qt = tfm.transpose %q {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %kt = tfm.transpose %k {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x4x?xf32>
  %vt = tfm.transpose %v {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %scores = tfm.matmul %qt, %kt : (tensor<?x2x?x4xf32>, tensor<?x2x4x?xf32>) -> tensor<?x2x?x?xf32>
  %scaled = tfm.mul %scores, %scale : (tensor<?x2x?x?xf32>, tensor<f32>) -> tensor<?x2x?x?xf32>
  %weighted = tfm.mul %scaled, %mask : (tensor<?x2x?x?xf32>, tensor<2x?x?xf32>) -> tensor<?x2x?x?xf32>
  // expected-remark @+1 {{not fused as linear_attention: retention: the mask is not where(i - j >= 0, exp((i - j) * log γ), 0) with one i - j and a constant log γ}}
  %out = tfm.matmul %weighted, %vt : (tensor<?x2x?x?xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  return %out : tensor<?x2x?x4xf32>
}

// -----

// COM: Must not fire: the positions count to a constant 16, which the
// COM: queries' dynamic sequence length need not be.
// CHECK-LABEL: func.func @retention_fixed_length
// CHECK-NOT: tfm.linear_attention
func.func @retention_fixed_length(%q: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}, %k: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}, %v: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}) -> tensor<?x2x?x4xf32> {
  %c0 = tfm.constant dense<0> : tensor<i64>
  %c1 = tfm.constant dense<1> : tensor<i64>
  %zero = tfm.constant dense<0.0> : tensor<f32>
  %scale = tfm.constant dense<0.5> : tensor<f32>
  %loggamma = tfm.constant dense<[[[-0.05]], [[-0.01]]]> : tensor<2x1x1xf32>
  %c16 = tfm.constant dense<16> : tensor<i64>
  %shape = tfm.shape %q {end = 4 : i64, start = 0 : i64} : (tensor<?x?x2x4xf32>) -> tensor<4xi64>
  %l = tfm.gather %shape, %c1 {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %range = tfm.range %c0, %c16, %c1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %p = tfm.cast %range {to = f32} : (tensor<?xi64>) -> tensor<?xf32>
  %rows = tfm.unsqueeze %p {axes = array<i64: 1>} : (tensor<?xf32>) -> tensor<?x1xf32>
  %cols = tfm.unsqueeze %p {axes = array<i64: 0>} : (tensor<?xf32>) -> tensor<1x?xf32>
  %dist = tfm.sub %rows, %cols : (tensor<?x1xf32>, tensor<1x?xf32>) -> tensor<?x?xf32>
  %power = tfm.mul %dist, %loggamma : (tensor<?x?xf32>, tensor<2x1x1xf32>) -> tensor<2x?x?xf32>
  %decay = tfm.exp %power : (tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
  %keep = tfm.greater_or_equal %dist, %zero : (tensor<?x?xf32>, tensor<f32>) -> tensor<?x?xi1>
  %masked = tfm.where %keep, %decay, %zero : (tensor<?x?xi1>, tensor<2x?x?xf32>, tensor<f32>) -> tensor<2x?x?xf32>
  %rowsum = tfm.reduce_sum %masked {axes = array<i64: 2>} : (tensor<2x?x?xf32>) -> tensor<2x?x1xf32>
  %root = tfm.sqrt %rowsum : (tensor<2x?x1xf32>) -> tensor<2x?x1xf32>
  %mask = tfm.div %masked, %root : (tensor<2x?x?xf32>, tensor<2x?x1xf32>) -> tensor<2x?x?xf32>
  %qt = tfm.transpose %q {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %kt = tfm.transpose %k {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x4x?xf32>
  %vt = tfm.transpose %v {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %scores = tfm.matmul %qt, %kt : (tensor<?x2x?x4xf32>, tensor<?x2x4x?xf32>) -> tensor<?x2x?x?xf32>
  %scaled = tfm.mul %scores, %scale : (tensor<?x2x?x?xf32>, tensor<f32>) -> tensor<?x2x?x?xf32>
  %weighted = tfm.mul %scaled, %mask : (tensor<?x2x?x?xf32>, tensor<2x?x?xf32>) -> tensor<?x2x?x?xf32>
  // expected-remark @+1 {{not fused as linear_attention: retention: the positions' count is not the queries' sequence length}}
  %out = tfm.matmul %weighted, %vt : (tensor<?x2x?x?xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  return %out : tensor<?x2x?x4xf32>
}

// -----

// COM: Must not fire: a growing "decay" (γ = e^0.1 > 1).
// CHECK-LABEL: func.func @retention_growing
// CHECK-NOT: tfm.linear_attention
func.func @retention_growing(%q: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}, %k: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}, %v: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}) -> tensor<?x2x?x4xf32> {
  %c0 = tfm.constant dense<0> : tensor<i64>
  %c1 = tfm.constant dense<1> : tensor<i64>
  %zero = tfm.constant dense<0.0> : tensor<f32>
  %scale = tfm.constant dense<0.5> : tensor<f32>
  %loggamma = tfm.constant dense<[[[0.1]], [[-0.01]]]> : tensor<2x1x1xf32>
  %shape = tfm.shape %q {end = 4 : i64, start = 0 : i64} : (tensor<?x?x2x4xf32>) -> tensor<4xi64>
  %l = tfm.gather %shape, %c1 {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %range = tfm.range %c0, %l, %c1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %p = tfm.cast %range {to = f32} : (tensor<?xi64>) -> tensor<?xf32>
  %rows = tfm.unsqueeze %p {axes = array<i64: 1>} : (tensor<?xf32>) -> tensor<?x1xf32>
  %cols = tfm.unsqueeze %p {axes = array<i64: 0>} : (tensor<?xf32>) -> tensor<1x?xf32>
  %dist = tfm.sub %rows, %cols : (tensor<?x1xf32>, tensor<1x?xf32>) -> tensor<?x?xf32>
  %power = tfm.mul %dist, %loggamma : (tensor<?x?xf32>, tensor<2x1x1xf32>) -> tensor<2x?x?xf32>
  %decay = tfm.exp %power : (tensor<2x?x?xf32>) -> tensor<2x?x?xf32>
  %keep = tfm.greater_or_equal %dist, %zero : (tensor<?x?xf32>, tensor<f32>) -> tensor<?x?xi1>
  %masked = tfm.where %keep, %decay, %zero : (tensor<?x?xi1>, tensor<2x?x?xf32>, tensor<f32>) -> tensor<2x?x?xf32>
  %rowsum = tfm.reduce_sum %masked {axes = array<i64: 2>} : (tensor<2x?x?xf32>) -> tensor<2x?x1xf32>
  %root = tfm.sqrt %rowsum : (tensor<2x?x1xf32>) -> tensor<2x?x1xf32>
  %mask = tfm.div %masked, %root : (tensor<2x?x?xf32>, tensor<2x?x1xf32>) -> tensor<2x?x?xf32>
  %qt = tfm.transpose %q {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %kt = tfm.transpose %k {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x4x?xf32>
  %vt = tfm.transpose %v {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %scores = tfm.matmul %qt, %kt : (tensor<?x2x?x4xf32>, tensor<?x2x4x?xf32>) -> tensor<?x2x?x?xf32>
  %scaled = tfm.mul %scores, %scale : (tensor<?x2x?x?xf32>, tensor<f32>) -> tensor<?x2x?x?xf32>
  %weighted = tfm.mul %scaled, %mask : (tensor<?x2x?x?xf32>, tensor<2x?x?xf32>) -> tensor<?x2x?x?xf32>
  // expected-remark @+1 {{not fused as linear_attention: retention: a decay γ = e^c outside (0, 1]}}
  %out = tfm.matmul %weighted, %vt : (tensor<?x2x?x?xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  return %out : tensor<?x2x?x4xf32>
}

// -----

// COM: Not causal, as matmuls on heads-first tensors: φq (φkᵀ v) over
// COM: φq times the keys' sum (here unsqueeze(reduce_sum(φk, [2]), [3]))
// COM: plus eps. The op takes the token-major tensors the transposes view,
// COM: and its result goes back to heads first.
// CHECK-LABEL: func.func @global_kv
// CHECK: %[[O:.+]] = tfm.linear_attention %arg0, %arg1, %arg2 {epsilon = 9.99999997E-7 : f32, feature_map = "elu_plus_one"} : (tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>, tensor<?x?x2x4xf32>) -> tensor<?x?x2x4xf32>
// CHECK: %[[T:.+]] = tfm.transpose %[[O]] {perm = array<i64: 0, 2, 1, 3>}
// CHECK-NOT: tfm.matmul
// CHECK: return %[[T]]
func.func @global_kv(%q: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}, %k: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}, %v: tensor<?x?x2x4xf32> {tfm.dim_params = ["batch", "sequence", "", ""]}) -> tensor<?x2x?x4xf32> {
  %one = tfm.constant dense<1.0> : tensor<f32>
  %eps = tfm.constant dense<1.0e-6> : tensor<f32>
  %qh = tfm.transpose %q {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %kh = tfm.transpose %k {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %vh = tfm.transpose %v {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x4xf32>) -> tensor<?x2x?x4xf32>
  %eq = tfm.elu %qh : (tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %fq = tfm.add %eq, %one : (tensor<?x2x?x4xf32>, tensor<f32>) -> tensor<?x2x?x4xf32>
  %ek = tfm.elu %kh : (tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %fk = tfm.add %ek, %one : (tensor<?x2x?x4xf32>, tensor<f32>) -> tensor<?x2x?x4xf32>
  %kt = tfm.transpose %fk {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x2x?x4xf32>) -> tensor<?x2x4x?xf32>
  %kv = tfm.matmul %kt, %vh : (tensor<?x2x4x?xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x4x4xf32>
  %num = tfm.matmul %fq, %kv : (tensor<?x2x?x4xf32>, tensor<?x2x4x4xf32>) -> tensor<?x2x?x4xf32>
  %ks = tfm.reduce_sum %fk {axes = array<i64: 2>, keepdims = false} : (tensor<?x2x?x4xf32>) -> tensor<?x2x4xf32>
  %ksu = tfm.unsqueeze %ks {axes = array<i64: 3>} : (tensor<?x2x4xf32>) -> tensor<?x2x4x1xf32>
  %den0 = tfm.matmul %fq, %ksu : (tensor<?x2x?x4xf32>, tensor<?x2x4x1xf32>) -> tensor<?x2x?x1xf32>
  %den = tfm.add %den0, %eps : (tensor<?x2x?x1xf32>, tensor<f32>) -> tensor<?x2x?x1xf32>
  // expected-remark @+1 {{fused linear_attention: elu_plus_one, not causal, normalized}}
  %o = tfm.div %num, %den : (tensor<?x2x?x4xf32>, tensor<?x2x?x1xf32>) -> tensor<?x2x?x4xf32>
  return %o : tensor<?x2x?x4xf32>
}

// -----

// COM: Must not fire: the divisor sums φk over its head dim, not over the
// COM: keys.
// CHECK-LABEL: func.func @global_kv_wrong_sum
// CHECK-NOT: tfm.linear_attention
func.func @global_kv_wrong_sum(%qh: tensor<?x2x?x4xf32>, %kh: tensor<?x2x?x4xf32>, %vh: tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32> {
  %eps = tfm.constant dense<1.0e-6> : tensor<f32>
  %fq = tfm.relu %qh : (tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %fk = tfm.relu %kh : (tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %kt = tfm.transpose %fk {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x2x?x4xf32>) -> tensor<?x2x4x?xf32>
  %kv = tfm.matmul %kt, %vh : (tensor<?x2x4x?xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x4x4xf32>
  // expected-remark @+1 {{not fused as linear_attention: kᵀv: the divisor is not φq times the sum of φk over the keys plus a constant epsilon}}
  %num = tfm.matmul %fq, %kv : (tensor<?x2x?x4xf32>, tensor<?x2x4x4xf32>) -> tensor<?x2x?x4xf32>
  %ks = tfm.reduce_sum %fk {axes = array<i64: 3>} : (tensor<?x2x?x4xf32>) -> tensor<?x2x?x1xf32>
  %den = tfm.add %ks, %eps : (tensor<?x2x?x1xf32>, tensor<f32>) -> tensor<?x2x?x1xf32>
  %o = tfm.div %num, %den : (tensor<?x2x?x4xf32>, tensor<?x2x?x1xf32>) -> tensor<?x2x?x4xf32>
  return %o : tensor<?x2x?x4xf32>
}

// -----

// COM: Must not fire: q under ReLU, k under elu + 1.
// CHECK-LABEL: func.func @global_kv_mixed_maps
// CHECK-NOT: tfm.linear_attention
func.func @global_kv_mixed_maps(%qh: tensor<?x2x?x4xf32>, %kh: tensor<?x2x?x4xf32>, %vh: tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32> {
  %one = tfm.constant dense<1.0> : tensor<f32>
  %fq = tfm.relu %qh : (tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %ek = tfm.elu %kh : (tensor<?x2x?x4xf32>) -> tensor<?x2x?x4xf32>
  %fk = tfm.add %ek, %one : (tensor<?x2x?x4xf32>, tensor<f32>) -> tensor<?x2x?x4xf32>
  %kt = tfm.transpose %fk {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x2x?x4xf32>) -> tensor<?x2x4x?xf32>
  %kv = tfm.matmul %kt, %vh : (tensor<?x2x4x?xf32>, tensor<?x2x?x4xf32>) -> tensor<?x2x4x4xf32>
  // expected-remark @+1 {{not fused as linear_attention: kᵀv: q's feature map (relu) is not k's (elu_plus_one)}}
  %num = tfm.matmul %fq, %kv : (tensor<?x2x?x4xf32>, tensor<?x2x4x4xf32>) -> tensor<?x2x?x4xf32>
  return %num : tensor<?x2x?x4xf32>
}
