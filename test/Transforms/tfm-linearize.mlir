// RUN: tfc-opt %s --tfm-linearize=features=8 --split-input-file | FileCheck %s
// RUN: tfc-opt %s --tfm-linearize="features=8 emit-remarks" --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: not tfc-opt %s --tfm-linearize=features=0 --split-input-file 2>&1 | FileCheck %s --check-prefix=FEATURES
// RUN: tfc-opt %s --tfm-linearize="features=8 window=3" --split-input-file | FileCheck %s --check-prefix=HYBRID
// RUN: tfc-opt %s --tfm-linearize="features=8 window=3 emit-remarks" --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=HYBRID-REMARK
// RUN: not tfc-opt %s --tfm-linearize="features=8 window=2000" --split-input-file 2>&1 | FileCheck %s --check-prefix=WINDOW

// COM: Causal attention, 2 heads of 4: q and k each become the exponents of
// COM: φ(x) [B, L, 2, 8] (rows [B, L * 2, 4] by sqrt(scale) Wᵀ [4, 8], minus
// COM: |x|² scale / 2, reshaped to heads, minus a maximum: each query row's
// COM: own; for the keys the rows' maxima's maximum over the sequence, per
// COM: head), v is split into heads, and a normalized causal
// COM: tfm.linear_attention with the exp feature map replaces the softmax;
// COM: its result merges the heads back into the attention's type.
// CHECK-LABEL: func.func @causal
// CHECK: %[[W:.+]] = tfm.constant dense_resource<performer_features_0> : tensor<4x8xf32>
// CHECK: %[[V:.+]] = tfm.reshape %arg2, %{{.+}} : (tensor<?x?x8xf32>, tensor<4xi64>) -> tensor<?x?x2x4xf32>
// CHECK: %[[QR:.+]] = tfm.reshape %arg0, %{{.+}} : (tensor<?x?x8xf32>, tensor<3xi64>) -> tensor<?x?x4xf32>
// CHECK: %[[QP:.+]] = tfm.linear %[[QR]], %[[W]] {{.*}} -> tensor<?x?x8xf32>
// CHECK: %[[QS:.+]] = tfm.reduce_sum %{{.+}} {axes = array<i64: 2>}
// CHECK: %[[HALF:.+]] = tfm.constant dense<2.500000e-01> : tensor<f32>
// CHECK: tfm.mul %[[QS]], %[[HALF]]
// CHECK: %[[QE:.+]] = tfm.reshape %{{.+}} -> tensor<?x?x2x8xf32>
// CHECK: %[[QM:.+]] = tfm.reduce_max %[[QE]] {axes = array<i64: 3>}
// CHECK: %[[PQ:.+]] = tfm.sub %[[QE]], %[[QM]]
// CHECK: tfm.linear %{{.+}}, %[[W]]
// CHECK: %[[KE:.+]] = tfm.reshape %{{.+}} -> tensor<?x?x2x8xf32>
// CHECK: %[[KR:.+]] = tfm.reduce_max %[[KE]] {axes = array<i64: 3>}
// CHECK: %[[KM:.+]] = tfm.reduce_max %[[KR]] {axes = array<i64: 1>} : (tensor<?x?x2x1xf32>) -> tensor<?x1x2x1xf32>
// CHECK: %[[PK:.+]] = tfm.sub %[[KE]], %[[KM]]
// CHECK-NOT: tfm.exp
// CHECK: %[[O:.+]] = tfm.linear_attention %[[PQ]], %[[PK]], %[[V]] {causal = true, epsilon = 1.000000e-30 : f32, feature_map = "exp"} : (tensor<?x?x2x8xf32>, tensor<?x?x2x8xf32>, tensor<?x?x2x4xf32>) -> tensor<?x?x2x4xf32>
// CHECK: %[[R:.+]] = tfm.reshape %[[O]], %{{.+}} : (tensor<?x?x2x4xf32>, tensor<3xi64>) -> tensor<?x?x8xf32>
// CHECK-NOT: tfm.attention
// CHECK: return %[[R]]
// REMARK: remark: {{.*}}: linearized: /causal/Softmax: 2 heads of 4, 8 random features, causal

// COM: The hybrid (window=3): after the features' exponents, q and k carry
// COM: the window's rows, sqrt(scale) x per head and, for q, log M (log 8)
// COM: less the query's and the keys' stabilizers, for k a 1: the op's
// COM: window_dim is the head dim + 1.
// HYBRID-LABEL: func.func @causal
// HYBRID: %[[QE:.+]] = tfm.reshape %{{.+}} -> tensor<?x?x2x8xf32>
// HYBRID: %[[QM:.+]] = tfm.reduce_max %[[QE]] {axes = array<i64: 3>}
// HYBRID: %[[PQ:.+]] = tfm.sub %[[QE]], %[[QM]]
// HYBRID: %[[KE:.+]] = tfm.reshape %{{.+}} -> tensor<?x?x2x8xf32>
// HYBRID: %[[KR:.+]] = tfm.reduce_max %[[KE]] {axes = array<i64: 3>}
// HYBRID: %[[KM:.+]] = tfm.reduce_max %[[KR]] {axes = array<i64: 1>}
// HYBRID: %[[PK:.+]] = tfm.sub %[[KE]], %[[KM]]
// HYBRID: %[[LOGM:.+]] = tfm.constant dense<2.07944{{[0-9]+}}> : tensor<f32>
// HYBRID: %[[OQ:.+]] = tfm.sub %[[LOGM]], %[[QM]]
// HYBRID: %[[OFFSET:.+]] = tfm.sub %[[OQ]], %[[KM]] : (tensor<?x?x2x1xf32>, tensor<?x1x2x1xf32>) -> tensor<?x?x2x1xf32>
// HYBRID: %[[ONES:.+]] = tfm.add %{{.+}}, %{{.+}} : (tensor<?x?x2x1xf32>, tensor<f32>) -> tensor<?x?x2x1xf32>
// HYBRID: %[[SQ:.+]] = tfm.mul %{{.+}}, %{{.+}} : (tensor<?x?x2x4xf32>, tensor<f32>) -> tensor<?x?x2x4xf32>
// HYBRID: %[[WQ:.+]] = tfm.concat %[[PQ]], %[[SQ]], %[[OFFSET]] {axis = 3 : i64} : (tensor<?x?x2x8xf32>, tensor<?x?x2x4xf32>, tensor<?x?x2x1xf32>) -> tensor<?x?x2x13xf32>
// HYBRID: %[[SK:.+]] = tfm.mul %{{.+}}, %{{.+}} : (tensor<?x?x2x4xf32>, tensor<f32>) -> tensor<?x?x2x4xf32>
// HYBRID: %[[WK:.+]] = tfm.concat %[[PK]], %[[SK]], %[[ONES]] {axis = 3 : i64}
// HYBRID: tfm.linear_attention %[[WQ]], %[[WK]], %{{.+}} {causal = true, epsilon = 1.000000e-30 : f32, feature_map = "exp", window = 3 : i64, window_dim = 5 : i64} : (tensor<?x?x2x13xf32>, tensor<?x?x2x13xf32>, tensor<?x?x2x4xf32>) -> tensor<?x?x2x4xf32>
// HYBRID-REMARK: remark: {{.*}}: linearized: /causal/Softmax: 2 heads of 4, 8 random features, exact within 3 keys, causal
// WINDOW: error: tfm-linearize: window must be 0 to 1024
func.func @causal(%q: tensor<?x?x8xf32>, %k: tensor<?x?x8xf32>, %v: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %o = tfm.attention %q, %k, %v {causal = true, num_heads = 2 : i64, scale = 5.000000e-01 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32> loc("/causal/Softmax")
  return %o : tensor<?x?x8xf32>
}

// -----

// COM: Not causal: the same, without causal; each layer draws its own
// COM: features (the second attention's constant is another blob).
// CHECK-LABEL: func.func @global
// CHECK: tfm.constant dense_resource<performer_features_0> : tensor<4x8xf32>
// CHECK: tfm.linear_attention %{{.+}}, %{{.+}}, %{{.+}} {epsilon = 1.000000e-30 : f32, feature_map = "exp"} : (tensor<2x6x2x8xf32>, tensor<2x6x2x8xf32>, tensor<2x6x2x4xf32>) -> tensor<2x6x2x4xf32>
// CHECK: tfm.constant dense_resource<performer_features_1> : tensor<4x8xf32>
// CHECK: tfm.linear_attention
// CHECK-NOT: tfm.attention
// REMARK: remark: {{.*}}: linearized: /global/Softmax: 2 heads of 4, 8 random features
// REMARK: remark: {{.*}}: linearized: /second/Softmax: 2 heads of 4, 8 random features
func.func @global(%q: tensor<2x6x8xf32>, %k: tensor<2x6x8xf32>, %v: tensor<2x6x8xf32>) -> (tensor<2x6x8xf32>, tensor<2x6x8xf32>) {
  %o = tfm.attention %q, %k, %v {num_heads = 2 : i64, scale = 5.000000e-01 : f32} : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>) -> tensor<2x6x8xf32> loc("/global/Softmax")
  %p = tfm.attention %o, %k, %v {num_heads = 2 : i64, scale = 5.000000e-01 : f32} : (tensor<2x6x8xf32>, tensor<2x6x8xf32>, tensor<2x6x8xf32>) -> tensor<2x6x8xf32> loc("/second/Softmax")
  return %o, %p : tensor<2x6x8xf32>, tensor<2x6x8xf32>
}

// -----

// COM: Kept softmax: a padding mask, head-major inputs, grouped-query keys,
// COM: bf16 products, and a layer the driver's budget kept.
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-5: tfm.attention
// CHECK-NOT: linear_attention
// REMARK: remark: {{.*}}: kept softmax: /mask/Softmax: it has a mask
// REMARK: remark: {{.*}}: kept softmax: /heads/Softmax: q, k and v are head-major (rank 4): not linearized yet
// REMARK: remark: {{.*}}: kept softmax: /gqa/Softmax: its keys have fewer heads than its queries (grouped-query)
// REMARK: remark: {{.*}}: kept softmax: /bf16/Softmax: its products are bf16
// REMARK: remark: {{.*}}: kept softmax: /budget/Softmax: kept by the error budget
func.func @kept(%q: tensor<?x?x8xf32>, %k: tensor<?x?x8xf32>, %v: tensor<?x?x8xf32>, %m: tensor<?x1x1x?xf32>,
                %qh: tensor<?x2x?x4xf32>, %kh: tensor<?x2x?x4xf32>, %vh: tensor<?x2x?x4xf32>,
                %kg: tensor<?x?x4xf32>, %vg: tensor<?x?x4xf32>)
    -> (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) {
  %a = tfm.attention %q, %k, %v, %m {num_heads = 2 : i64, scale = 5.000000e-01 : f32} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x8xf32> loc("/mask/Softmax")
  %b = tfm.attention %qh, %kh, %vh {num_heads = 2 : i64, scale = 5.000000e-01 : f32} : (tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>, tensor<?x2x?x4xf32>) -> tensor<?x?x8xf32> loc("/heads/Softmax")
  %c = tfm.attention %q, %kg, %vg {num_heads = 2 : i64, scale = 5.000000e-01 : f32} : (tensor<?x?x8xf32>, tensor<?x?x4xf32>, tensor<?x?x4xf32>) -> tensor<?x?x8xf32> loc("/gqa/Softmax")
  %d = tfm.attention %q, %k, %v {num_heads = 2 : i64, scale = 5.000000e-01 : f32, precision = "bf16"} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32> loc("/bf16/Softmax")
  %e = tfm.attention %q, %k, %v {num_heads = 2 : i64, scale = 5.000000e-01 : f32, tfc.linearize_features = 0 : i64} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32> loc("/budget/Softmax")
  return %a, %b, %c, %d, %e : tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>
}

// FEATURES: error: tfm-linearize: features must be 1 to 1024

// -----

// COM: Fitted weights (the driver's tfc.linearize_log_weights, [heads, M]
// COM: of log d): added to the queries' exponents before their row
// COM: maximum; the keys' exponents take none. The attention given 4
// COM: features has its own count (tfc.linearize_features) and weights.
// CHECK-LABEL: func.func @fitted
// CHECK: %[[LOGD:.+]] = tfm.constant dense<{{\[\[}}0.000000e+00, -1.000000e+00, 5.000000e-01, 0.000000e+00], [-2.000000e+00, 0.000000e+00, 0.000000e+00, 1.000000e+00]]> : tensor<2x4xf32>
// CHECK: %[[QE:.+]] = tfm.reshape %{{.+}} -> tensor<?x?x2x4xf32>
// CHECK: %[[QB:.+]] = tfm.add %[[QE]], %[[LOGD]] : (tensor<?x?x2x4xf32>, tensor<2x4xf32>) -> tensor<?x?x2x4xf32>
// CHECK: %[[QM:.+]] = tfm.reduce_max %[[QB]] {axes = array<i64: 3>}
// CHECK: tfm.sub %[[QB]], %[[QM]]
// CHECK: %[[KE:.+]] = tfm.reshape %{{.+}} -> tensor<?x?x2x4xf32>
// CHECK-NEXT: tfm.reduce_max %[[KE]]
// CHECK: tfm.linear_attention
// CHECK-NOT: tfc.linearize
// REMARK: remark: {{.*}}: linearized: /fitted/Softmax: 2 heads of 4, 4 fitted random features, causal
func.func @fitted(%q: tensor<?x?x8xf32>, %k: tensor<?x?x8xf32>, %v: tensor<?x?x8xf32>) -> tensor<?x?x8xf32> {
  %o = tfm.attention %q, %k, %v {causal = true, num_heads = 2 : i64, scale = 5.000000e-01 : f32, tfc.linearize_features = 4 : i64, tfc.linearize_log_weights = dense<[[0.0, -1.0, 0.5, 0.0], [-2.0, 0.0, 0.0, 1.0]]> : tensor<2x4xf32>} : (tensor<?x?x8xf32>, tensor<?x?x8xf32>, tensor<?x?x8xf32>) -> tensor<?x?x8xf32> loc("/fitted/Softmax")
  return %o : tensor<?x?x8xf32>
}
