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
