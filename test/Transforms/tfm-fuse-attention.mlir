// RUN: tfc-opt %s --tfm-fuse-attention=emit-remarks --split-input-file --verify-diagnostics | FileCheck %s

// COM: HF BERT eager attention with symbolic batch and sequence: the head
// COM: splits and the merge compute their targets from the projections' shapes,
// COM: which the pass reads to prove they keep [B, L]. The padding mask
// COM: becomes the op's mask; the merge's own shape read is redirected to
// COM: the query's dims, so no head transpose survives.
// CHECK-LABEL: func.func @bert
// CHECK-SAME: (%[[H:[^:]+]]: tensor<?x?x64xf32>, %[[WQ:[^:]+]]: tensor<64x64xf32>, %[[WK:[^:]+]]: tensor<64x64xf32>, %[[WV:[^:]+]]: tensor<64x64xf32>, %[[M:[^:]+]]: tensor<?x1x1x?xf32>)
// CHECK-DAG: %[[Q:.+]] = tfm.matmul %[[H]], %[[WQ]]
// CHECK-DAG: %[[K:.+]] = tfm.matmul %[[H]], %[[WK]]
// CHECK-DAG: %[[V:.+]] = tfm.matmul %[[H]], %[[WV]]
// CHECK: %[[O:.+]] = tfm.attention %[[Q]], %[[K]], %[[V]], %[[M]] {num_heads = 4 : i64, scale = 2.500000e-01 : f32}
// CHECK-NOT: tfm.transpose
// CHECK-NOT: tfm.softmax
// CHECK: return %[[O]], %{{.+}} : tensor<?x?x64xf32>, tensor<3xi64>
func.func @bert(%h: tensor<?x?x64xf32>, %wq: tensor<64x64xf32>, %wk: tensor<64x64xf32>, %wv: tensor<64x64xf32>, %mask: tensor<?x1x1x?xf32>) -> (tensor<?x?x64xf32>, tensor<3xi64>) {
  %c0 = tfm.constant dense<0> : tensor<i64>
  %c1 = tfm.constant dense<1> : tensor<i64>
  %heads = tfm.constant dense<4> : tensor<1xi64>
  %dim = tfm.constant dense<16> : tensor<1xi64>
  %hidden = tfm.constant dense<64> : tensor<1xi64>
  %four = tfm.constant dense<4.0> : tensor<f32>
  %q = tfm.matmul %h, %wq : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  %k = tfm.matmul %h, %wk : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  %v = tfm.matmul %h, %wv : (tensor<?x?x64xf32>, tensor<64x64xf32>) -> tensor<?x?x64xf32>
  %sq = tfm.shape %q {end = 3 : i64, start = 0 : i64} : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %b = tfm.gather %sq, %c0 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %l = tfm.gather %sq, %c1 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %b1 = tfm.unsqueeze %b {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %l1 = tfm.unsqueeze %l {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %split = tfm.concat %b1, %l1, %heads, %dim {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %q4 = tfm.reshape %q, %split : (tensor<?x?x64xf32>, tensor<4xi64>) -> tensor<?x?x4x16xf32>
  %qt = tfm.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %sk = tfm.shape %k {end = 3 : i64, start = 0 : i64} : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %kb = tfm.gather %sk, %c0 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %kl = tfm.gather %sk, %c1 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %kb1 = tfm.unsqueeze %kb {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %kl1 = tfm.unsqueeze %kl {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %ksplit = tfm.concat %kb1, %kl1, %heads, %dim {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %k4 = tfm.reshape %k, %ksplit : (tensor<?x?x64xf32>, tensor<4xi64>) -> tensor<?x?x4x16xf32>
  %sv = tfm.shape %v {end = 3 : i64, start = 0 : i64} : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %vb = tfm.gather %sv, %c0 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %vl = tfm.gather %sv, %c1 {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %vb1 = tfm.unsqueeze %vb {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %vl1 = tfm.unsqueeze %vl {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %vsplit = tfm.concat %vb1, %vl1, %heads, %dim {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %v4 = tfm.reshape %v, %vsplit : (tensor<?x?x64xf32>, tensor<4xi64>) -> tensor<?x?x4x16xf32>
  %vt = tfm.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x?x16xf32>
  %kt = tfm.transpose %k4 {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x4x16xf32>) -> tensor<?x4x16x?xf32>
  %s = tfm.matmul %qt, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %sd = tfm.div %s, %four : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %sm = tfm.add %sd, %mask : (tensor<?x4x?x?xf32>, tensor<?x1x1x?xf32>) -> tensor<?x4x?x?xf32>
  // expected-remark @+1 {{fused attention: 4 heads of 16, scale 2.500000e-01, masked}}
  %p = tfm.softmax %sm {axis = 3 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = tfm.matmul %p, %vt : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  %ot = tfm.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x4x?x16xf32>) -> tensor<?x?x4x16xf32>
  %so = tfm.shape %ot {end = 4 : i64, start = 0 : i64} : (tensor<?x?x4x16xf32>) -> tensor<4xi64>
  %ob = tfm.gather %so, %c0 {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %ol = tfm.gather %so, %c1 {axis = 0 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %ob1 = tfm.unsqueeze %ob {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %ol1 = tfm.unsqueeze %ol {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %merge = tfm.concat %ob1, %ol1, %hidden {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xi64>
  %r = tfm.reshape %ot, %merge : (tensor<?x?x4x16xf32>, tensor<3xi64>) -> tensor<?x?x64xf32>
  return %r, %merge : tensor<?x?x64xf32>, tensor<3xi64>
}

// -----

// COM: GPT-2: one projection split three ways, the scale on the scores, and
// COM: the causal mask as rows [Lk - Lq, Lk) and columns [0, Lk) of a
// COM: lower-triangular table, with the bounds read from q's and k's
// COM: shapes. The Where becomes the causal flag.
// CHECK-LABEL: func.func @gpt2_causal
// CHECK: %[[QKV:.+]]:3 = tfm.split
// CHECK: tfm.attention %[[QKV]]#0, %[[QKV]]#1, %[[QKV]]#2 {causal = true, num_heads = 2 : i64, scale = 0.353553385 : f32}
// CHECK-NOT: tfm.where
func.func @gpt2_causal(%x: tensor<1x?x48xf32>) -> tensor<1x?x16xf32> {
  %table = tfm.constant dense<[[true, false, false, false], [true, true, false, false], [true, true, true, false], [true, true, true, true]]> : tensor<4x4xi1>
  %target = tfm.constant dense<[1, -1, 2, 8]> : tensor<4xi64>
  %merge = tfm.constant dense<[1, -1, 16]> : tensor<3xi64>
  %minus2 = tfm.constant dense<-2> : tensor<1xi64>
  %minus1 = tfm.constant dense<-1> : tensor<1xi64>
  %zero = tfm.constant dense<0> : tensor<1xi64>
  %one = tfm.constant dense<1> : tensor<1xi64>
  %axis0 = tfm.constant dense<0> : tensor<1xi64>
  %axis1 = tfm.constant dense<1> : tensor<1xi64>
  %scale = tfm.constant dense<2.82842708> : tensor<f32>
  %fill = tfm.constant dense<-3.40282347E+38> : tensor<f32>
  %qkv:3 = tfm.split %x {axis = 2 : i64, num_outputs = 3 : i64} : (tensor<1x?x48xf32>) -> (tensor<1x?x16xf32>, tensor<1x?x16xf32>, tensor<1x?x16xf32>)
  %q4 = tfm.reshape %qkv#0, %target : (tensor<1x?x16xf32>, tensor<4xi64>) -> tensor<1x?x2x8xf32>
  %k4 = tfm.reshape %qkv#1, %target : (tensor<1x?x16xf32>, tensor<4xi64>) -> tensor<1x?x2x8xf32>
  %v4 = tfm.reshape %qkv#2, %target : (tensor<1x?x16xf32>, tensor<4xi64>) -> tensor<1x?x2x8xf32>
  %qt = tfm.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x?x2x8xf32>) -> tensor<1x2x?x8xf32>
  %kt = tfm.transpose %k4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x?x2x8xf32>) -> tensor<1x2x?x8xf32>
  %vt = tfm.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x?x2x8xf32>) -> tensor<1x2x?x8xf32>
  %ktt = tfm.transpose %kt {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x2x?x8xf32>) -> tensor<1x2x8x?xf32>
  %s = tfm.matmul %qt, %ktt : (tensor<1x2x?x8xf32>, tensor<1x2x8x?xf32>) -> tensor<1x2x?x?xf32>
  %sd = tfm.div %s, %scale : (tensor<1x2x?x?xf32>, tensor<f32>) -> tensor<1x2x?x?xf32>
  %shq = tfm.shape %qt {end = 4 : i64, start = 0 : i64} : (tensor<1x2x?x8xf32>) -> tensor<4xi64>
  %lq = tfm.slice %shq, %minus2, %minus1, %axis0, %one : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %shk = tfm.shape %kt {end = 4 : i64, start = 0 : i64} : (tensor<1x2x?x8xf32>) -> tensor<4xi64>
  %lk = tfm.slice %shk, %minus2, %minus1, %axis0, %one : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %start = tfm.sub %lk, %lq : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %rows = tfm.slice %table, %start, %lk, %axis0, %one : (tensor<4x4xi1>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4xi1>
  %cond = tfm.slice %rows, %zero, %lk, %axis1, %one : (tensor<?x4xi1>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xi1>
  %masked = tfm.where %cond, %sd, %fill : (tensor<?x?xi1>, tensor<1x2x?x?xf32>, tensor<f32>) -> tensor<1x2x?x?xf32>
  // expected-remark @+1 {{fused attention: 2 heads of 8, scale 3.535534e-01, causal}}
  %p = tfm.softmax %masked {axis = 3 : i64} : (tensor<1x2x?x?xf32>) -> tensor<1x2x?x?xf32>
  %o = tfm.matmul %p, %vt : (tensor<1x2x?x?xf32>, tensor<1x2x?x8xf32>) -> tensor<1x2x?x8xf32>
  %ot = tfm.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x?x8xf32>) -> tensor<1x?x2x8xf32>
  %r = tfm.reshape %ot, %merge : (tensor<1x?x2x8xf32>, tensor<3xi64>) -> tensor<1x?x16xf32>
  return %r : tensor<1x?x16xf32>
}

// -----

// COM: GPT-2 with a past, as torch code writes its mask at run time:
// COM: ones(Lk, Lk, bool).tril(), rows [Lk - Lq, Lk) and columns [0, Lk),
// COM: Lk the keys' length (past and new; the keys are the values here). The Where becomes the causal
// COM: flag. Not with the diagonal moved (Trilu k = 1: each query would see
// COM: one key ahead): that stays a mask.
// CHECK-LABEL: func.func @runtime_causal_table
// CHECK: tfm.attention %arg0, %arg1, %arg1 {causal = true, num_heads = 1 : i64, scale = 1.000000e+00 : f32}
// CHECK-NOT: tfm.trilu
// CHECK-LABEL: func.func @runtime_table_shifted
// CHECK: tfm.trilu
// CHECK: tfm.attention %arg0, %arg1, %arg1, %{{.+}} {num_heads = 1 : i64, scale = 1.000000e+00 : f32}
func.func @runtime_causal_table(%q: tensor<1x1x?x8xf32>, %k: tensor<1x1x?x8xf32>) -> tensor<1x?x8xf32> {
  %merge = tfm.constant dense<[1, -1, 8]> : tensor<3xi64>
  %minus2 = tfm.constant dense<-2> : tensor<1xi64>
  %minus1 = tfm.constant dense<-1> : tensor<1xi64>
  %zero = tfm.constant dense<0> : tensor<1xi64>
  %one = tfm.constant dense<1> : tensor<1xi64>
  %axis0 = tfm.constant dense<0> : tensor<1xi64>
  %axis1 = tfm.constant dense<1> : tensor<1xi64>
  %diagonal = tfm.constant dense<0> : tensor<i64>
  %fill = tfm.constant dense<-3.40282347E+38> : tensor<f32>
  %kt = tfm.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x1x?x8xf32>) -> tensor<1x1x8x?xf32>
  %s = tfm.matmul %q, %kt : (tensor<1x1x?x8xf32>, tensor<1x1x8x?xf32>) -> tensor<1x1x?x?xf32>
  %shq = tfm.shape %q {end = 4 : i64, start = 0 : i64} : (tensor<1x1x?x8xf32>) -> tensor<4xi64>
  %lq = tfm.slice %shq, %minus2, %minus1, %axis0, %one : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %shk = tfm.shape %k {end = 4 : i64, start = 0 : i64} : (tensor<1x1x?x8xf32>) -> tensor<4xi64>
  %lk = tfm.slice %shk, %minus2, %minus1, %axis0, %one : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %square = tfm.concat %lk, %lk {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %ones = tfm.constant_of_shape %square {value = dense<true> : tensor<1xi1>} : (tensor<2xi64>) -> tensor<?x?xi1>
  %table = tfm.trilu %ones, %diagonal {upper = false} : (tensor<?x?xi1>, tensor<i64>) -> tensor<?x?xi1>
  %start = tfm.sub %lk, %lq : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %rows = tfm.slice %table, %start, %lk, %axis0, %one : (tensor<?x?xi1>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xi1>
  %cond = tfm.slice %rows, %zero, %lk, %axis1, %one : (tensor<?x?xi1>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xi1>
  %masked = tfm.where %cond, %s, %fill : (tensor<?x?xi1>, tensor<1x1x?x?xf32>, tensor<f32>) -> tensor<1x1x?x?xf32>
  // expected-remark @+1 {{fused attention: 1 heads of 8, scale 1.000000e+00, head-major q, k, v, causal}}
  %p = tfm.softmax %masked {axis = 3 : i64} : (tensor<1x1x?x?xf32>) -> tensor<1x1x?x?xf32>
  %o = tfm.matmul %p, %k : (tensor<1x1x?x?xf32>, tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32>
  %ot = tfm.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x1x?x8xf32>) -> tensor<1x?x1x8xf32>
  %r = tfm.reshape %ot, %merge : (tensor<1x?x1x8xf32>, tensor<3xi64>) -> tensor<1x?x8xf32>
  return %r : tensor<1x?x8xf32>
}

func.func @runtime_table_shifted(%q: tensor<1x1x?x8xf32>, %k: tensor<1x1x?x8xf32>) -> tensor<1x?x8xf32> {
  %merge = tfm.constant dense<[1, -1, 8]> : tensor<3xi64>
  %minus2 = tfm.constant dense<-2> : tensor<1xi64>
  %minus1 = tfm.constant dense<-1> : tensor<1xi64>
  %zero = tfm.constant dense<0> : tensor<1xi64>
  %one = tfm.constant dense<1> : tensor<1xi64>
  %axis0 = tfm.constant dense<0> : tensor<1xi64>
  %axis1 = tfm.constant dense<1> : tensor<1xi64>
  %diagonal = tfm.constant dense<1> : tensor<i64>
  %fill = tfm.constant dense<-3.40282347E+38> : tensor<f32>
  %kt = tfm.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x1x?x8xf32>) -> tensor<1x1x8x?xf32>
  %s = tfm.matmul %q, %kt : (tensor<1x1x?x8xf32>, tensor<1x1x8x?xf32>) -> tensor<1x1x?x?xf32>
  %shq = tfm.shape %q {end = 4 : i64, start = 0 : i64} : (tensor<1x1x?x8xf32>) -> tensor<4xi64>
  %lq = tfm.slice %shq, %minus2, %minus1, %axis0, %one : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %shk = tfm.shape %k {end = 4 : i64, start = 0 : i64} : (tensor<1x1x?x8xf32>) -> tensor<4xi64>
  %lk = tfm.slice %shk, %minus2, %minus1, %axis0, %one : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %square = tfm.concat %lk, %lk {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %ones = tfm.constant_of_shape %square {value = dense<true> : tensor<1xi1>} : (tensor<2xi64>) -> tensor<?x?xi1>
  %table = tfm.trilu %ones, %diagonal {upper = false} : (tensor<?x?xi1>, tensor<i64>) -> tensor<?x?xi1>
  %start = tfm.sub %lk, %lq : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  %rows = tfm.slice %table, %start, %lk, %axis0, %one : (tensor<?x?xi1>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xi1>
  %cond = tfm.slice %rows, %zero, %lk, %axis1, %one : (tensor<?x?xi1>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xi1>
  %masked = tfm.where %cond, %s, %fill : (tensor<?x?xi1>, tensor<1x1x?x?xf32>, tensor<f32>) -> tensor<1x1x?x?xf32>
  // expected-remark @+1 {{fused attention: 1 heads of 8, scale 1.000000e+00, head-major q, k, v, masked}}
  %p = tfm.softmax %masked {axis = 3 : i64} : (tensor<1x1x?x?xf32>) -> tensor<1x1x?x?xf32>
  %o = tfm.matmul %p, %k : (tensor<1x1x?x?xf32>, tensor<1x1x?x8xf32>) -> tensor<1x1x?x8xf32>
  %ot = tfm.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x1x?x8xf32>) -> tensor<1x?x1x8xf32>
  %r = tfm.reshape %ot, %merge : (tensor<1x?x1x8xf32>, tensor<3xi64>) -> tensor<1x?x8xf32>
  return %r : tensor<1x?x8xf32>
}

// -----

// COM: scaled_dot_product_attention style: q and k each scaled by a
// COM: constant (the scales multiply: 0.353553385^2 rounds to 0.124999993),
// COM: and a boolean mask from the caller
// COM: through Where, which becomes an additive mask. The merge reshape is
// COM: not provably the head merge (its target is a graph input), so it
// COM: stays and reads the fused result.
// CHECK-LABEL: func.func @sdpa_bool_mask
// CHECK-DAG: %[[ZERO:.+]] = tfm.constant dense<0.000000e+00> : tensor<f32>
// CHECK-DAG: %[[NEGINF:.+]] = tfm.constant dense<0xFF800000> : tensor<f32>
// CHECK: %[[MASK:.+]] = tfm.where %arg3, %[[ZERO]], %[[NEGINF]]
// CHECK: %[[O:.+]] = tfm.attention %arg0, %arg1, %arg2, %[[MASK]] {num_heads = 2 : i64, scale = 0.124999993 : f32}
// CHECK: tfm.reshape %[[O]], %arg4
func.func @sdpa_bool_mask(%q: tensor<2x8x32xf32>, %k: tensor<2x8x32xf32>, %v: tensor<2x8x32xf32>, %keep: tensor<2x1x8x8xi1>, %shape: tensor<3xi64>) -> tensor<?x?x?xf32> {
  %target = tfm.constant dense<[2, 8, 2, 16]> : tensor<4xi64>
  %c = tfm.constant dense<0.353553385> : tensor<f32>
  %ninf = tfm.constant dense<0xFF800000> : tensor<f32>
  %q4 = tfm.reshape %q, %target : (tensor<2x8x32xf32>, tensor<4xi64>) -> tensor<2x8x2x16xf32>
  %k4 = tfm.reshape %k, %target : (tensor<2x8x32xf32>, tensor<4xi64>) -> tensor<2x8x2x16xf32>
  %v4 = tfm.reshape %v, %target : (tensor<2x8x32xf32>, tensor<4xi64>) -> tensor<2x8x2x16xf32>
  %qt = tfm.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x8x2x16xf32>) -> tensor<2x2x8x16xf32>
  %qs = tfm.mul %qt, %c : (tensor<2x2x8x16xf32>, tensor<f32>) -> tensor<2x2x8x16xf32>
  %kt = tfm.transpose %k4 {perm = array<i64: 0, 2, 3, 1>} : (tensor<2x8x2x16xf32>) -> tensor<2x2x16x8xf32>
  %ks = tfm.mul %kt, %c : (tensor<2x2x16x8xf32>, tensor<f32>) -> tensor<2x2x16x8xf32>
  %vt = tfm.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x8x2x16xf32>) -> tensor<2x2x8x16xf32>
  %s = tfm.matmul %qs, %ks : (tensor<2x2x8x16xf32>, tensor<2x2x16x8xf32>) -> tensor<2x2x8x8xf32>
  %m = tfm.where %keep, %s, %ninf : (tensor<2x1x8x8xi1>, tensor<2x2x8x8xf32>, tensor<f32>) -> tensor<2x2x8x8xf32>
  // expected-remark @+1 {{fused attention: 2 heads of 16, scale 1.250000e-01, masked}}
  %p = tfm.softmax %m {axis = 3 : i64} : (tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %o = tfm.matmul %p, %vt : (tensor<2x2x8x8xf32>, tensor<2x2x8x16xf32>) -> tensor<2x2x8x16xf32>
  %ot = tfm.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x2x8x16xf32>) -> tensor<2x8x2x16xf32>
  %r = tfm.reshape %ot, %shape : (tensor<2x8x2x16xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  return %r : tensor<?x?x?xf32>
}

// -----

// COM: The same in f16, masked with f16's lowest value (what torch fills an
// COM: f16 mask with): fusion does not depend on which kernels exist. The
// COM: scale is the product of the two f16-rounded factors.
// CHECK-LABEL: func.func @sdpa_bool_mask_f16
// CHECK-DAG: %[[ZERO:.+]] = tfm.constant dense<0.000000e+00> : tensor<f16>
// CHECK-DAG: %[[LOWEST:.+]] = tfm.constant dense<-6.550400e+04> : tensor<f16>
// CHECK: %[[MASK:.+]] = tfm.where %arg3, %[[ZERO]], %[[LOWEST]]
// CHECK: tfm.attention %arg0, %arg1, %arg2, %[[MASK]] {num_heads = 2 : i64, scale = {{.+}} : f32} : (tensor<2x8x32xf16>
func.func @sdpa_bool_mask_f16(%q: tensor<2x8x32xf16>, %k: tensor<2x8x32xf16>, %v: tensor<2x8x32xf16>, %keep: tensor<2x1x8x8xi1>, %shape: tensor<3xi64>) -> tensor<?x?x?xf16> {
  %target = tfm.constant dense<[2, 8, 2, 16]> : tensor<4xi64>
  %c = tfm.constant dense<0.353553385> : tensor<f16>
  %ninf = tfm.constant dense<-65504.0> : tensor<f16>
  %q4 = tfm.reshape %q, %target : (tensor<2x8x32xf16>, tensor<4xi64>) -> tensor<2x8x2x16xf16>
  %k4 = tfm.reshape %k, %target : (tensor<2x8x32xf16>, tensor<4xi64>) -> tensor<2x8x2x16xf16>
  %v4 = tfm.reshape %v, %target : (tensor<2x8x32xf16>, tensor<4xi64>) -> tensor<2x8x2x16xf16>
  %qt = tfm.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x8x2x16xf16>) -> tensor<2x2x8x16xf16>
  %qs = tfm.mul %qt, %c : (tensor<2x2x8x16xf16>, tensor<f16>) -> tensor<2x2x8x16xf16>
  %kt = tfm.transpose %k4 {perm = array<i64: 0, 2, 3, 1>} : (tensor<2x8x2x16xf16>) -> tensor<2x2x16x8xf16>
  %ks = tfm.mul %kt, %c : (tensor<2x2x16x8xf16>, tensor<f16>) -> tensor<2x2x16x8xf16>
  %vt = tfm.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x8x2x16xf16>) -> tensor<2x2x8x16xf16>
  %s = tfm.matmul %qs, %ks : (tensor<2x2x8x16xf16>, tensor<2x2x16x8xf16>) -> tensor<2x2x8x8xf16>
  %m = tfm.where %keep, %s, %ninf : (tensor<2x1x8x8xi1>, tensor<2x2x8x8xf16>, tensor<f16>) -> tensor<2x2x8x8xf16>
  // expected-remark @+1 {{fused attention: 2 heads of 16, scale 1.249733e-01, masked}}
  %p = tfm.softmax %m {axis = 3 : i64} : (tensor<2x2x8x8xf16>) -> tensor<2x2x8x8xf16>
  %o = tfm.matmul %p, %vt : (tensor<2x2x8x8xf16>, tensor<2x2x8x16xf16>) -> tensor<2x2x8x16xf16>
  %ot = tfm.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x2x8x16xf16>) -> tensor<2x8x2x16xf16>
  %r = tfm.reshape %ot, %shape : (tensor<2x8x2x16xf16>, tensor<3xi64>) -> tensor<?x?x?xf16>
  return %r : tensor<?x?x?xf16>
}

// -----

// COM: torch.nn.MultiheadAttention: sequence-first [L, B, H] inputs, heads
// COM: folded into the batch ([L, B * N, d]), only q pre-scaled. The fused op
// COM: works on [B, L, H], so q, k, v and the result are transposed around it.
// CHECK-LABEL: func.func @multihead_sequence_first
// CHECK: %[[QKV:.+]]:3 = tfm.split %arg0
// CHECK: %[[QT:.+]] = tfm.transpose %[[QKV]]#0 {perm = array<i64: 1, 0, 2>}
// CHECK: %[[KT:.+]] = tfm.transpose %[[QKV]]#1 {perm = array<i64: 1, 0, 2>}
// CHECK: %[[VT:.+]] = tfm.transpose %[[QKV]]#2 {perm = array<i64: 1, 0, 2>}
// CHECK: %[[O:.+]] = tfm.attention %[[QT]], %[[KT]], %[[VT]] {num_heads = 4 : i64, scale = 2.500000e-01 : f32}
// CHECK: %[[OT:.+]] = tfm.transpose %[[O]] {perm = array<i64: 1, 0, 2>}
// CHECK: tfm.reshape %[[OT]], %{{.+}} : (tensor<10x?x64xf32>, tensor<2xi64>) -> tensor<?x64xf32>
func.func @multihead_sequence_first(%x: tensor<10x?x192xf32>) -> tensor<?x64xf32> {
  %split = tfm.constant dense<[10, -1, 16]> : tensor<3xi64>
  %flat = tfm.constant dense<[-1, 64]> : tensor<2xi64>
  %four = tfm.constant dense<4.0> : tensor<f32>
  %qkv:3 = tfm.split %x {axis = 2 : i64, num_outputs = 3 : i64} : (tensor<10x?x192xf32>) -> (tensor<10x?x64xf32>, tensor<10x?x64xf32>, tensor<10x?x64xf32>)
  %q3 = tfm.reshape %qkv#0, %split : (tensor<10x?x64xf32>, tensor<3xi64>) -> tensor<10x?x16xf32>
  %qt = tfm.transpose %q3 {perm = array<i64: 1, 0, 2>} : (tensor<10x?x16xf32>) -> tensor<?x10x16xf32>
  %qs = tfm.div %qt, %four : (tensor<?x10x16xf32>, tensor<f32>) -> tensor<?x10x16xf32>
  %k3 = tfm.reshape %qkv#1, %split : (tensor<10x?x64xf32>, tensor<3xi64>) -> tensor<10x?x16xf32>
  %kt = tfm.transpose %k3 {perm = array<i64: 1, 2, 0>} : (tensor<10x?x16xf32>) -> tensor<?x16x10xf32>
  %v3 = tfm.reshape %qkv#2, %split : (tensor<10x?x64xf32>, tensor<3xi64>) -> tensor<10x?x16xf32>
  %vt = tfm.transpose %v3 {perm = array<i64: 1, 0, 2>} : (tensor<10x?x16xf32>) -> tensor<?x10x16xf32>
  %s = tfm.matmul %qs, %kt : (tensor<?x10x16xf32>, tensor<?x16x10xf32>) -> tensor<?x10x10xf32>
  // expected-remark @+1 {{fused attention: 4 heads of 16, scale 2.500000e-01, sequence-first}}
  %p = tfm.softmax %s {axis = 2 : i64} : (tensor<?x10x10xf32>) -> tensor<?x10x10xf32>
  %o = tfm.matmul %p, %vt : (tensor<?x10x10xf32>, tensor<?x10x16xf32>) -> tensor<?x10x16xf32>
  %ot = tfm.transpose %o {perm = array<i64: 1, 0, 2>} : (tensor<?x10x16xf32>) -> tensor<10x?x16xf32>
  %r = tfm.reshape %ot, %flat : (tensor<10x?x16xf32>, tensor<2xi64>) -> tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}

// -----

// COM: A key-padding mask on the folded [B * N, 1, Lk] scores (torch's
// COM: MultiheadAttention with key_padding_mask) becomes [B, N, 1, Lk]: the
// COM: folded dim is split as (b, n); a [Lq, Lk] attn_mask gains two leading
// COM: dims of 1.
// CHECK-LABEL: func.func @multihead_masked
// CHECK: %[[TAIL:.+]] = tfm.shape %arg1 {end = 3 : i64, start = 1 : i64}
// CHECK: %[[SHAPE:.+]] = tfm.concat %{{.+}}, %[[TAIL]] {axis = 0 : i64}
// CHECK: %[[M4:.+]] = tfm.reshape %arg1, %[[SHAPE]] : (tensor<?x1x10xf32>, tensor<4xi64>) -> tensor<?x4x1x10xf32>
// CHECK: tfm.attention %{{.+}}, %{{.+}}, %{{.+}}, %[[M4]] {num_heads = 4 : i64, scale = 2.500000e-01 : f32}
// CHECK-LABEL: func.func @multihead_attn_mask
// CHECK: %[[M2:.+]] = tfm.unsqueeze %arg1 {axes = array<i64: 0>} : (tensor<10x10xf32>) -> tensor<1x10x10xf32>
// CHECK: %[[M3:.+]] = tfm.unsqueeze %[[M2]] {axes = array<i64: 1>} : (tensor<1x10x10xf32>) -> tensor<1x1x10x10xf32>
// CHECK: tfm.attention %{{.+}}, %{{.+}}, %{{.+}}, %[[M3]]
func.func @multihead_masked(%x: tensor<10x?x192xf32>, %m: tensor<?x1x10xf32>) -> tensor<?x64xf32> {
  %split = tfm.constant dense<[10, -1, 16]> : tensor<3xi64>
  %flat = tfm.constant dense<[-1, 64]> : tensor<2xi64>
  %four = tfm.constant dense<4.0> : tensor<f32>
  %qkv:3 = tfm.split %x {axis = 2 : i64, num_outputs = 3 : i64} : (tensor<10x?x192xf32>) -> (tensor<10x?x64xf32>, tensor<10x?x64xf32>, tensor<10x?x64xf32>)
  %q3 = tfm.reshape %qkv#0, %split : (tensor<10x?x64xf32>, tensor<3xi64>) -> tensor<10x?x16xf32>
  %qt = tfm.transpose %q3 {perm = array<i64: 1, 0, 2>} : (tensor<10x?x16xf32>) -> tensor<?x10x16xf32>
  %qs = tfm.div %qt, %four : (tensor<?x10x16xf32>, tensor<f32>) -> tensor<?x10x16xf32>
  %k3 = tfm.reshape %qkv#1, %split : (tensor<10x?x64xf32>, tensor<3xi64>) -> tensor<10x?x16xf32>
  %kt = tfm.transpose %k3 {perm = array<i64: 1, 2, 0>} : (tensor<10x?x16xf32>) -> tensor<?x16x10xf32>
  %v3 = tfm.reshape %qkv#2, %split : (tensor<10x?x64xf32>, tensor<3xi64>) -> tensor<10x?x16xf32>
  %vt = tfm.transpose %v3 {perm = array<i64: 1, 0, 2>} : (tensor<10x?x16xf32>) -> tensor<?x10x16xf32>
  %s = tfm.matmul %qs, %kt : (tensor<?x10x16xf32>, tensor<?x16x10xf32>) -> tensor<?x10x10xf32>
  %sm = tfm.add %s, %m : (tensor<?x10x10xf32>, tensor<?x1x10xf32>) -> tensor<?x10x10xf32>
  // expected-remark @+1 {{fused attention: 4 heads of 16, scale 2.500000e-01, sequence-first, masked}}
  %p = tfm.softmax %sm {axis = 2 : i64} : (tensor<?x10x10xf32>) -> tensor<?x10x10xf32>
  %o = tfm.matmul %p, %vt : (tensor<?x10x10xf32>, tensor<?x10x16xf32>) -> tensor<?x10x16xf32>
  %ot = tfm.transpose %o {perm = array<i64: 1, 0, 2>} : (tensor<?x10x16xf32>) -> tensor<10x?x16xf32>
  %r = tfm.reshape %ot, %flat : (tensor<10x?x16xf32>, tensor<2xi64>) -> tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}

func.func @multihead_attn_mask(%x: tensor<10x?x192xf32>, %m: tensor<10x10xf32>) -> tensor<?x64xf32> {
  %split = tfm.constant dense<[10, -1, 16]> : tensor<3xi64>
  %flat = tfm.constant dense<[-1, 64]> : tensor<2xi64>
  %qkv:3 = tfm.split %x {axis = 2 : i64, num_outputs = 3 : i64} : (tensor<10x?x192xf32>) -> (tensor<10x?x64xf32>, tensor<10x?x64xf32>, tensor<10x?x64xf32>)
  %q3 = tfm.reshape %qkv#0, %split : (tensor<10x?x64xf32>, tensor<3xi64>) -> tensor<10x?x16xf32>
  %qt = tfm.transpose %q3 {perm = array<i64: 1, 0, 2>} : (tensor<10x?x16xf32>) -> tensor<?x10x16xf32>
  %k3 = tfm.reshape %qkv#1, %split : (tensor<10x?x64xf32>, tensor<3xi64>) -> tensor<10x?x16xf32>
  %kt = tfm.transpose %k3 {perm = array<i64: 1, 2, 0>} : (tensor<10x?x16xf32>) -> tensor<?x16x10xf32>
  %v3 = tfm.reshape %qkv#2, %split : (tensor<10x?x64xf32>, tensor<3xi64>) -> tensor<10x?x16xf32>
  %vt = tfm.transpose %v3 {perm = array<i64: 1, 0, 2>} : (tensor<10x?x16xf32>) -> tensor<?x10x16xf32>
  %s = tfm.matmul %qt, %kt : (tensor<?x10x16xf32>, tensor<?x16x10xf32>) -> tensor<?x10x10xf32>
  %sm = tfm.add %s, %m : (tensor<?x10x10xf32>, tensor<10x10xf32>) -> tensor<?x10x10xf32>
  // expected-remark @+1 {{fused attention: 4 heads of 16, scale 1.000000e+00, sequence-first, masked}}
  %p = tfm.softmax %sm {axis = 2 : i64} : (tensor<?x10x10xf32>) -> tensor<?x10x10xf32>
  %o = tfm.matmul %p, %vt : (tensor<?x10x10xf32>, tensor<?x10x16xf32>) -> tensor<?x10x16xf32>
  %ot = tfm.transpose %o {perm = array<i64: 1, 0, 2>} : (tensor<?x10x16xf32>) -> tensor<10x?x16xf32>
  %r = tfm.reshape %ot, %flat : (tensor<10x?x16xf32>, tensor<2xi64>) -> tensor<?x64xf32>
  return %r : tensor<?x64xf32>
}

// COM: A scaled v is not a projection split into heads: the op takes the
// COM: scaled [B, N, L, d] tensor as it is, head-major.
// CHECK-LABEL: func.func @value_scaled
// CHECK: %[[VS:.+]] = tfm.mul
// CHECK: tfm.attention %arg0, %arg0, %[[VS]] {num_heads = 2 : i64, scale = 1.000000e+00 : f32} : (tensor<2x8x32xf32>, tensor<2x8x32xf32>, tensor<2x2x8x16xf32>) -> tensor<2x8x32xf32>
func.func @value_scaled(%q: tensor<2x8x32xf32>, %v: tensor<2x8x32xf32>) -> tensor<2x8x32xf32> {
  %target = tfm.constant dense<[2, 8, 2, 16]> : tensor<4xi64>
  %merge = tfm.constant dense<[2, 8, 32]> : tensor<3xi64>
  %c = tfm.constant dense<2.0> : tensor<f32>
  %q4 = tfm.reshape %q, %target : (tensor<2x8x32xf32>, tensor<4xi64>) -> tensor<2x8x2x16xf32>
  %qt = tfm.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x8x2x16xf32>) -> tensor<2x2x8x16xf32>
  %kt = tfm.transpose %q4 {perm = array<i64: 0, 2, 3, 1>} : (tensor<2x8x2x16xf32>) -> tensor<2x2x16x8xf32>
  %v4 = tfm.reshape %v, %target : (tensor<2x8x32xf32>, tensor<4xi64>) -> tensor<2x8x2x16xf32>
  %vt = tfm.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x8x2x16xf32>) -> tensor<2x2x8x16xf32>
  %vs = tfm.mul %vt, %c : (tensor<2x2x8x16xf32>, tensor<f32>) -> tensor<2x2x8x16xf32>
  %s = tfm.matmul %qt, %kt : (tensor<2x2x8x16xf32>, tensor<2x2x16x8xf32>) -> tensor<2x2x8x8xf32>
  // expected-remark @+1 {{fused attention: 2 heads of 16, scale 1.000000e+00, head-major v}}
  %p = tfm.softmax %s {axis = 3 : i64} : (tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %o = tfm.matmul %p, %vs : (tensor<2x2x8x8xf32>, tensor<2x2x8x16xf32>) -> tensor<2x2x8x16xf32>
  %ot = tfm.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x2x8x16xf32>) -> tensor<2x8x2x16xf32>
  %r = tfm.reshape %ot, %merge : (tensor<2x8x2x16xf32>, tensor<3xi64>) -> tensor<2x8x32xf32>
  return %r : tensor<2x8x32xf32>
}

// -----

// COM: LLaMA: rotary embeddings applied to the head-split q and k (here a
// COM: multiply by a [L, d] table) make them head-major; k and v have 2 KV
// COM: heads repeated for 4 query heads as Hugging Face's repeat_kv writes it
// COM: (unsqueeze, expand, reshape). The op takes the rotated q and the
// COM: rotated 2-head k as they are, and v token-major from its projection:
// COM: nothing is repeated.
// CHECK-LABEL: func.func @rotary_grouped
// CHECK-SAME: (%[[Q:[^:]+]]: tensor<2x8x64xf32>, %[[K:[^:]+]]: tensor<2x8x32xf32>, %[[V:[^:]+]]: tensor<2x8x32xf32>
// CHECK: %[[QR:.+]] = tfm.mul %{{.+}}, %arg3 : (tensor<2x4x8x16xf32>
// CHECK: %[[KR:.+]] = tfm.mul %{{.+}}, %arg3 : (tensor<2x2x8x16xf32>
// CHECK: tfm.attention %[[QR]], %[[KR]], %[[V]] {num_heads = 4 : i64, scale = 2.500000e-01 : f32} : (tensor<2x4x8x16xf32>, tensor<2x2x8x16xf32>, tensor<2x8x32xf32>) -> tensor<2x8x64xf32>
// CHECK-NOT: tfm.expand
// CHECK-NOT: tfm.softmax
func.func @rotary_grouped(%q: tensor<2x8x64xf32>, %k: tensor<2x8x32xf32>, %v: tensor<2x8x32xf32>, %rot: tensor<8x16xf32>) -> tensor<2x8x64xf32> {
  %qs = tfm.constant dense<[2, 8, 4, 16]> : tensor<4xi64>
  %ks = tfm.constant dense<[2, 8, 2, 16]> : tensor<4xi64>
  %es = tfm.constant dense<[2, 2, 2, 8, 16]> : tensor<5xi64>
  %rs = tfm.constant dense<[2, 4, 8, 16]> : tensor<4xi64>
  %ms = tfm.constant dense<[2, 8, 64]> : tensor<3xi64>
  %c = tfm.constant dense<4.0> : tensor<f32>
  %q4 = tfm.reshape %q, %qs : (tensor<2x8x64xf32>, tensor<4xi64>) -> tensor<2x8x4x16xf32>
  %qt = tfm.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x8x4x16xf32>) -> tensor<2x4x8x16xf32>
  %qr = tfm.mul %qt, %rot : (tensor<2x4x8x16xf32>, tensor<8x16xf32>) -> tensor<2x4x8x16xf32>
  %k4 = tfm.reshape %k, %ks : (tensor<2x8x32xf32>, tensor<4xi64>) -> tensor<2x8x2x16xf32>
  %kt = tfm.transpose %k4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x8x2x16xf32>) -> tensor<2x2x8x16xf32>
  %kr = tfm.mul %kt, %rot : (tensor<2x2x8x16xf32>, tensor<8x16xf32>) -> tensor<2x2x8x16xf32>
  %ku = tfm.unsqueeze %kr {axes = array<i64: 2>} : (tensor<2x2x8x16xf32>) -> tensor<2x2x1x8x16xf32>
  %ke = tfm.expand %ku, %es : (tensor<2x2x1x8x16xf32>, tensor<5xi64>) -> tensor<2x2x2x8x16xf32>
  %kg = tfm.reshape %ke, %rs : (tensor<2x2x2x8x16xf32>, tensor<4xi64>) -> tensor<2x4x8x16xf32>
  %v4 = tfm.reshape %v, %ks : (tensor<2x8x32xf32>, tensor<4xi64>) -> tensor<2x8x2x16xf32>
  %vt = tfm.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x8x2x16xf32>) -> tensor<2x2x8x16xf32>
  %vu = tfm.unsqueeze %vt {axes = array<i64: 2>} : (tensor<2x2x8x16xf32>) -> tensor<2x2x1x8x16xf32>
  %ve = tfm.expand %vu, %es : (tensor<2x2x1x8x16xf32>, tensor<5xi64>) -> tensor<2x2x2x8x16xf32>
  %vg = tfm.reshape %ve, %rs : (tensor<2x2x2x8x16xf32>, tensor<4xi64>) -> tensor<2x4x8x16xf32>
  %kT = tfm.transpose %kg {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x4x8x16xf32>) -> tensor<2x4x16x8xf32>
  %s = tfm.matmul %qr, %kT : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %ss = tfm.div %s, %c : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  // expected-remark @+1 {{fused attention: 4 heads of 16, scale 2.500000e-01, 2 KV heads, head-major q, k}}
  %p = tfm.softmax %ss {axis = 3 : i64} : (tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  %o = tfm.matmul %p, %vg : (tensor<2x4x8x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32>
  %ot = tfm.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x4x8x16xf32>) -> tensor<2x8x4x16xf32>
  %r = tfm.reshape %ot, %ms : (tensor<2x8x4x16xf32>, tensor<3xi64>) -> tensor<2x8x64xf32>
  return %r : tensor<2x8x64xf32>
}

// -----

// COM: Decoding with a KV cache: the past keys and values ([B, N, P, d],
// COM: graph inputs with a named length) concatenated in front of the new
// COM: ones. The op reads the concatenations head-major; the lengths of k
// COM: and v are both past + new, which the pass proves from the concat.
// CHECK-LABEL: func.func @kv_cache
// CHECK: %[[KC:.+]] = tfm.concat %arg1
// CHECK: %[[VC:.+]] = tfm.concat %arg2
// CHECK: tfm.attention %arg0, %[[KC]], %[[VC]] {num_heads = 2 : i64, scale = 2.500000e-01 : f32} : (tensor<?x?x32xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) -> tensor<?x?x32xf32>
func.func @kv_cache(%x: tensor<?x?x32xf32> {tfm.dim_params = ["batch", "sequence", ""]},
                    %pk: tensor<?x2x?x16xf32> {tfm.dim_params = ["batch", "", "past", ""]},
                    %pv: tensor<?x2x?x16xf32> {tfm.dim_params = ["batch", "", "past", ""]}) -> tensor<?x?x32xf32> {
  %c2 = tfm.constant dense<[2, 16]> : tensor<2xi64>
  %c = tfm.constant dense<4.0> : tensor<f32>
  %sx = tfm.shape %x {end = 2 : i64, start = 0 : i64} : (tensor<?x?x32xf32>) -> tensor<2xi64>
  %target = tfm.concat %sx, %c2 {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %x4 = tfm.reshape %x, %target : (tensor<?x?x32xf32>, tensor<4xi64>) -> tensor<?x?x2x16xf32>
  %xt = tfm.transpose %x4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x16xf32>) -> tensor<?x2x?x16xf32>
  %k = tfm.concat %pk, %xt {axis = 2 : i64} : (tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) -> tensor<?x2x?x16xf32>
  %v = tfm.concat %pv, %xt {axis = 2 : i64} : (tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) -> tensor<?x2x?x16xf32>
  %kT = tfm.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x2x?x16xf32>) -> tensor<?x2x16x?xf32>
  %s = tfm.matmul %xt, %kT : (tensor<?x2x?x16xf32>, tensor<?x2x16x?xf32>) -> tensor<?x2x?x?xf32>
  %ss = tfm.div %s, %c : (tensor<?x2x?x?xf32>, tensor<f32>) -> tensor<?x2x?x?xf32>
  // expected-remark @+1 {{fused attention: 2 heads of 16, scale 2.500000e-01, head-major k, v}}
  %p = tfm.softmax %ss {axis = 3 : i64} : (tensor<?x2x?x?xf32>) -> tensor<?x2x?x?xf32>
  %o = tfm.matmul %p, %v : (tensor<?x2x?x?xf32>, tensor<?x2x?x16xf32>) -> tensor<?x2x?x16xf32>
  %ot = tfm.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x2x?x16xf32>) -> tensor<?x?x2x16xf32>
  %sm = tfm.shape %x {end = 3 : i64, start = 0 : i64} : (tensor<?x?x32xf32>) -> tensor<3xi64>
  %r = tfm.reshape %ot, %sm : (tensor<?x?x2x16xf32>, tensor<3xi64>) -> tensor<?x?x32xf32>
  return %r : tensor<?x?x32xf32>
}

// -----

// COM: timm's packed qkv: [B, L, 3 * N * d] reshaped to [B, L, 3, N, d],
// COM: permuted (2, 0, 3, 1, 4) and unbound (split + squeeze). Each of q, k
// COM: and v is a third of the packed projection's columns: the op takes
// COM: split views of it, token-major, and the permute's copy goes away.
// CHECK-LABEL: func.func @packed_qkv
// CHECK: %[[P:.+]]:3 = tfm.split %arg0 {axis = 2 : i64, num_outputs = 3 : i64, sizes = array<i64: 32, 32, 32>}
// CHECK: tfm.attention %[[P]]#0, %{{.+}}#1, %{{.+}}#2 {num_heads = 2 : i64, scale = 2.500000e-01 : f32} : (tensor<2x8x32xf32>, tensor<2x8x32xf32>, tensor<2x8x32xf32>) -> tensor<2x8x32xf32>
// CHECK-NOT: tfm.transpose
func.func @packed_qkv(%qkv: tensor<2x8x96xf32>) -> tensor<2x8x32xf32> {
  %t5 = tfm.constant dense<[2, 8, 3, 2, 16]> : tensor<5xi64>
  %ms = tfm.constant dense<[2, 8, 32]> : tensor<3xi64>
  %c = tfm.constant dense<0.25> : tensor<f32>
  %x5 = tfm.reshape %qkv, %t5 : (tensor<2x8x96xf32>, tensor<5xi64>) -> tensor<2x8x3x2x16xf32>
  %xp = tfm.transpose %x5 {perm = array<i64: 2, 0, 3, 1, 4>} : (tensor<2x8x3x2x16xf32>) -> tensor<3x2x2x8x16xf32>
  %parts:3 = tfm.split %xp {axis = 0 : i64, num_outputs = 3 : i64, sizes = array<i64: 1, 1, 1>} : (tensor<3x2x2x8x16xf32>) -> (tensor<1x2x2x8x16xf32>, tensor<1x2x2x8x16xf32>, tensor<1x2x2x8x16xf32>)
  %q = tfm.squeeze %parts#0 {axes = array<i64: 0>} : (tensor<1x2x2x8x16xf32>) -> tensor<2x2x8x16xf32>
  %k = tfm.squeeze %parts#1 {axes = array<i64: 0>} : (tensor<1x2x2x8x16xf32>) -> tensor<2x2x8x16xf32>
  %v = tfm.squeeze %parts#2 {axes = array<i64: 0>} : (tensor<1x2x2x8x16xf32>) -> tensor<2x2x8x16xf32>
  %kT = tfm.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<2x2x8x16xf32>) -> tensor<2x2x16x8xf32>
  %s = tfm.matmul %q, %kT : (tensor<2x2x8x16xf32>, tensor<2x2x16x8xf32>) -> tensor<2x2x8x8xf32>
  %ss = tfm.mul %s, %c : (tensor<2x2x8x8xf32>, tensor<f32>) -> tensor<2x2x8x8xf32>
  // expected-remark @+1 {{fused attention: 2 heads of 16, scale 2.500000e-01}}
  %p = tfm.softmax %ss {axis = 3 : i64} : (tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %o = tfm.matmul %p, %v : (tensor<2x2x8x8xf32>, tensor<2x2x8x16xf32>) -> tensor<2x2x8x16xf32>
  %ot = tfm.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x2x8x16xf32>) -> tensor<2x8x2x16xf32>
  %r = tfm.reshape %ot, %ms : (tensor<2x8x2x16xf32>, tensor<3xi64>) -> tensor<2x8x32xf32>
  return %r : tensor<2x8x32xf32>
}

// -----

// COM: BART and Whisper: heads folded into the batch for 3-D bmm,
// COM: view(B * N, -1, d), with the targets computed from the shapes (B * N
// COM: as a product, the length as -1). The pass unfolds them and traces q,
// COM: k and v to their projections, token-major.
// CHECK-LABEL: func.func @bmm_folded
// CHECK: tfm.attention %arg0, %arg0, %arg0 {num_heads = 2 : i64, scale = 1.000000e+00 : f32} : (tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>) -> tensor<?x?x32xf32>
func.func @bmm_folded(%x: tensor<?x?x32xf32>) -> tensor<?x?x32xf32> {
  %c2 = tfm.constant dense<[2, 16]> : tensor<2xi64>
  %heads = tfm.constant dense<2> : tensor<i64>
  %minus1 = tfm.constant dense<[-1, 16]> : tensor<2xi64>
  %unfold = tfm.constant dense<[2, -1, 16]> : tensor<3xi64>
  %sx = tfm.shape %x {end = 2 : i64, start = 0 : i64} : (tensor<?x?x32xf32>) -> tensor<2xi64>
  %target = tfm.concat %sx, %c2 {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %x4 = tfm.reshape %x, %target : (tensor<?x?x32xf32>, tensor<4xi64>) -> tensor<?x?x2x16xf32>
  %xt = tfm.transpose %x4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x16xf32>) -> tensor<?x2x?x16xf32>
  %b = tfm.shape %x {end = 1 : i64, start = 0 : i64} : (tensor<?x?x32xf32>) -> tensor<1xi64>
  %bn = tfm.mul %b, %heads : (tensor<1xi64>, tensor<i64>) -> tensor<1xi64>
  %flat = tfm.concat %bn, %minus1 {axis = 0 : i64} : (tensor<1xi64>, tensor<2xi64>) -> tensor<3xi64>
  %x3 = tfm.reshape %xt, %flat : (tensor<?x2x?x16xf32>, tensor<3xi64>) -> tensor<?x?x16xf32>
  %kT = tfm.transpose %x3 {perm = array<i64: 0, 2, 1>} : (tensor<?x?x16xf32>) -> tensor<?x16x?xf32>
  %s = tfm.matmul %x3, %kT : (tensor<?x?x16xf32>, tensor<?x16x?xf32>) -> tensor<?x?x?xf32>
  // expected-remark @+1 {{fused attention: 2 heads of 16, scale 1.000000e+00, 3-D}}
  %p = tfm.softmax %s {axis = 2 : i64} : (tensor<?x?x?xf32>) -> tensor<?x?x?xf32>
  %o = tfm.matmul %p, %x3 : (tensor<?x?x?xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %o4s = tfm.concat %b, %unfold {axis = 0 : i64} : (tensor<1xi64>, tensor<3xi64>) -> tensor<4xi64>
  %o4 = tfm.reshape %o, %o4s : (tensor<?x?x16xf32>, tensor<4xi64>) -> tensor<?x2x?x16xf32>
  %ot = tfm.transpose %o4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x2x?x16xf32>) -> tensor<?x?x2x16xf32>
  %sm = tfm.shape %x {end = 3 : i64, start = 0 : i64} : (tensor<?x?x32xf32>) -> tensor<3xi64>
  %r = tfm.reshape %ot, %sm : (tensor<?x?x2x16xf32>, tensor<3xi64>) -> tensor<?x?x32xf32>
  return %r : tensor<?x?x32xf32>
}

// -----

// COM: BART's decoder self-attention: the mask ([B, 1, Lq, Lk], causal and
// COM: padding together) is added to the 3-D scores viewed as [B, N, Lq,
// COM: Lk], which are then folded back for the softmax. The mask becomes the
// COM: op's, as it is.
// CHECK-LABEL: func.func @bmm_masked_view
// CHECK: tfm.attention %arg0, %arg0, %arg0, %arg1 {num_heads = 2 : i64, scale = 1.000000e+00 : f32} : (tensor<2x8x32xf32>, tensor<2x8x32xf32>, tensor<2x8x32xf32>, tensor<2x1x8x8xf32>) -> tensor<2x8x32xf32>
func.func @bmm_masked_view(%x: tensor<2x8x32xf32>, %mask: tensor<2x1x8x8xf32>) -> tensor<2x8x32xf32> {
  %split = tfm.constant dense<[2, 8, 2, 16]> : tensor<4xi64>
  %flat = tfm.constant dense<[4, 8, 16]> : tensor<3xi64>
  %view = tfm.constant dense<[2, 2, 8, 8]> : tensor<4xi64>
  %fold = tfm.constant dense<[4, 8, 8]> : tensor<3xi64>
  %unfold = tfm.constant dense<[2, 2, 8, 16]> : tensor<4xi64>
  %merge = tfm.constant dense<[2, 8, 32]> : tensor<3xi64>
  %x4 = tfm.reshape %x, %split : (tensor<2x8x32xf32>, tensor<4xi64>) -> tensor<2x8x2x16xf32>
  %xt = tfm.transpose %x4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x8x2x16xf32>) -> tensor<2x2x8x16xf32>
  %x3 = tfm.reshape %xt, %flat : (tensor<2x2x8x16xf32>, tensor<3xi64>) -> tensor<4x8x16xf32>
  %kT = tfm.transpose %x3 {perm = array<i64: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s = tfm.matmul %x3, %kT : (tensor<4x8x16xf32>, tensor<4x16x8xf32>) -> tensor<4x8x8xf32>
  %s4 = tfm.reshape %s, %view : (tensor<4x8x8xf32>, tensor<4xi64>) -> tensor<2x2x8x8xf32>
  %sm = tfm.add %s4, %mask : (tensor<2x2x8x8xf32>, tensor<2x1x8x8xf32>) -> tensor<2x2x8x8xf32>
  %s3 = tfm.reshape %sm, %fold : (tensor<2x2x8x8xf32>, tensor<3xi64>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{fused attention: 2 heads of 16, scale 1.000000e+00, 3-D, masked}}
  %p = tfm.softmax %s3 {axis = 2 : i64} : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %o = tfm.matmul %p, %x3 : (tensor<4x8x8xf32>, tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  %o4 = tfm.reshape %o, %unfold : (tensor<4x8x16xf32>, tensor<4xi64>) -> tensor<2x2x8x16xf32>
  %ot = tfm.transpose %o4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x2x8x16xf32>) -> tensor<2x8x2x16xf32>
  %r = tfm.reshape %ot, %merge : (tensor<2x8x2x16xf32>, tensor<3xi64>) -> tensor<2x8x32xf32>
  return %r : tensor<2x8x32xf32>
}

// -----

// COM: LLaMA's causal mask built at run time, full((L, L), -inf).triu(1)
// COM: unsqueezed to [1, 1, L, L], with L the sequence of the scores: the
// COM: causal flag, no mask operand.
// CHECK-LABEL: func.func @runtime_causal_mask
// CHECK: tfm.attention %arg0, %arg0, %arg0 {causal = true, num_heads = 2 : i64, scale = 1.000000e+00 : f32}
func.func @runtime_causal_mask(%x: tensor<1x?x32xf32>) -> tensor<1x?x32xf32> {
  %heads = tfm.constant dense<[2, 16]> : tensor<2xi64>
  %k = tfm.constant dense<1> : tensor<i64>
  %sx = tfm.shape %x {end = 2 : i64, start = 0 : i64} : (tensor<1x?x32xf32>) -> tensor<2xi64>
  %target = tfm.concat %sx, %heads {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %merge = tfm.shape %x {end = 3 : i64, start = 0 : i64} : (tensor<1x?x32xf32>) -> tensor<3xi64>
  %len = tfm.shape %x {end = 2 : i64, start = 1 : i64} : (tensor<1x?x32xf32>) -> tensor<1xi64>
  %square = tfm.concat %len, %len {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %full = tfm.constant_of_shape %square {value = dense<0xFF800000> : tensor<1xf32>} : (tensor<2xi64>) -> tensor<?x?xf32>
  %upper = tfm.trilu %full, %k : (tensor<?x?xf32>, tensor<i64>) -> tensor<?x?xf32>
  %mask = tfm.unsqueeze %upper {axes = array<i64: 0, 1>} : (tensor<?x?xf32>) -> tensor<1x1x?x?xf32>
  %x4 = tfm.reshape %x, %target : (tensor<1x?x32xf32>, tensor<4xi64>) -> tensor<1x?x2x16xf32>
  %qt = tfm.transpose %x4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x?x2x16xf32>) -> tensor<1x2x?x16xf32>
  %kt = tfm.transpose %x4 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x?x2x16xf32>) -> tensor<1x2x16x?xf32>
  %s = tfm.matmul %qt, %kt : (tensor<1x2x?x16xf32>, tensor<1x2x16x?xf32>) -> tensor<1x2x?x?xf32>
  %sm = tfm.add %s, %mask : (tensor<1x2x?x?xf32>, tensor<1x1x?x?xf32>) -> tensor<1x2x?x?xf32>
  // expected-remark @+1 {{fused attention: 2 heads of 16, scale 1.000000e+00, causal}}
  %p = tfm.softmax %sm {axis = 3 : i64} : (tensor<1x2x?x?xf32>) -> tensor<1x2x?x?xf32>
  %o = tfm.matmul %p, %qt : (tensor<1x2x?x?xf32>, tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32>
  %ot = tfm.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x?x16xf32>) -> tensor<1x?x2x16xf32>
  %r = tfm.reshape %ot, %merge : (tensor<1x?x2x16xf32>, tensor<3xi64>) -> tensor<1x?x32xf32>
  return %r : tensor<1x?x32xf32>
}

// -----

// COM: The same with triu(0): the diagonal is hidden too, which is not the
// COM: causal flag, so the mask stays an operand.
// CHECK-LABEL: func.func @runtime_triu_zero
// CHECK: tfm.attention %arg0, %arg0, %arg0, %{{.+}} {num_heads = 2 : i64, scale = 1.000000e+00 : f32}
func.func @runtime_triu_zero(%x: tensor<1x?x32xf32>) -> tensor<1x?x32xf32> {
  %heads = tfm.constant dense<[2, 16]> : tensor<2xi64>
  %k = tfm.constant dense<0> : tensor<i64>
  %sx = tfm.shape %x {end = 2 : i64, start = 0 : i64} : (tensor<1x?x32xf32>) -> tensor<2xi64>
  %target = tfm.concat %sx, %heads {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %merge = tfm.shape %x {end = 3 : i64, start = 0 : i64} : (tensor<1x?x32xf32>) -> tensor<3xi64>
  %len = tfm.shape %x {end = 2 : i64, start = 1 : i64} : (tensor<1x?x32xf32>) -> tensor<1xi64>
  %square = tfm.concat %len, %len {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %full = tfm.constant_of_shape %square {value = dense<0xFF800000> : tensor<1xf32>} : (tensor<2xi64>) -> tensor<?x?xf32>
  %upper = tfm.trilu %full, %k : (tensor<?x?xf32>, tensor<i64>) -> tensor<?x?xf32>
  %mask = tfm.unsqueeze %upper {axes = array<i64: 0, 1>} : (tensor<?x?xf32>) -> tensor<1x1x?x?xf32>
  %x4 = tfm.reshape %x, %target : (tensor<1x?x32xf32>, tensor<4xi64>) -> tensor<1x?x2x16xf32>
  %qt = tfm.transpose %x4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x?x2x16xf32>) -> tensor<1x2x?x16xf32>
  %kt = tfm.transpose %x4 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x?x2x16xf32>) -> tensor<1x2x16x?xf32>
  %s = tfm.matmul %qt, %kt : (tensor<1x2x?x16xf32>, tensor<1x2x16x?xf32>) -> tensor<1x2x?x?xf32>
  %sm = tfm.add %s, %mask : (tensor<1x2x?x?xf32>, tensor<1x1x?x?xf32>) -> tensor<1x2x?x?xf32>
  // expected-remark @+1 {{fused attention: 2 heads of 16, scale 1.000000e+00, masked}}
  %p = tfm.softmax %sm {axis = 3 : i64} : (tensor<1x2x?x?xf32>) -> tensor<1x2x?x?xf32>
  %o = tfm.matmul %p, %qt : (tensor<1x2x?x?xf32>, tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32>
  %ot = tfm.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x?x16xf32>) -> tensor<1x?x2x16xf32>
  %r = tfm.reshape %ot, %merge : (tensor<1x?x2x16xf32>, tensor<3xi64>) -> tensor<1x?x32xf32>
  return %r : tensor<1x?x32xf32>
}

// -----

// COM: ALiBi: a per-head linear bias slope[h] * (j - i), built at run time
// COM: from the positions, added to the scaled scores: the op's mask as it
// COM: is ([1, N, L, L]), next to the causal flag.
// CHECK-LABEL: func.func @alibi
// CHECK: %[[BIAS:.+]] = tfm.mul %{{.+}}, %{{.+}} : (tensor<2x1x1xf32>, tensor<?x?xf32>) -> tensor<2x?x?xf32>
// CHECK: %[[MASK:.+]] = tfm.unsqueeze %[[BIAS]]
// CHECK: tfm.attention %arg0, %arg0, %arg0, %[[MASK]] {causal = true, num_heads = 2 : i64, scale = 2.500000e-01 : f32}
func.func @alibi(%x: tensor<1x?x32xf32>) -> tensor<1x?x32xf32> {
  %heads = tfm.constant dense<[2, 16]> : tensor<2xi64>
  %slopes = tfm.constant dense<[[[0.5]], [[0.25]]]> : tensor<2x1x1xf32>
  %quarter = tfm.constant dense<0.25> : tensor<f32>
  %k = tfm.constant dense<1> : tensor<i64>
  %c0 = tfm.constant dense<0> : tensor<i64>
  %c1 = tfm.constant dense<1> : tensor<i64>
  %sx = tfm.shape %x {end = 2 : i64, start = 0 : i64} : (tensor<1x?x32xf32>) -> tensor<2xi64>
  %target = tfm.concat %sx, %heads {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %merge = tfm.shape %x {end = 3 : i64, start = 0 : i64} : (tensor<1x?x32xf32>) -> tensor<3xi64>
  %len1 = tfm.shape %x {end = 2 : i64, start = 1 : i64} : (tensor<1x?x32xf32>) -> tensor<1xi64>
  %len = tfm.squeeze %len1 {axes = array<i64: 0>} : (tensor<1xi64>) -> tensor<i64>
  %pos = tfm.range %c0, %len, %c1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %posf = tfm.cast %pos {to = f32} : (tensor<?xi64>) -> tensor<?xf32>
  %row = tfm.unsqueeze %posf {axes = array<i64: 1>} : (tensor<?xf32>) -> tensor<?x1xf32>
  %rel = tfm.sub %posf, %row : (tensor<?xf32>, tensor<?x1xf32>) -> tensor<?x?xf32>
  %bias = tfm.mul %slopes, %rel : (tensor<2x1x1xf32>, tensor<?x?xf32>) -> tensor<2x?x?xf32>
  %bias4 = tfm.unsqueeze %bias {axes = array<i64: 0>} : (tensor<2x?x?xf32>) -> tensor<1x2x?x?xf32>
  %square = tfm.concat %len1, %len1 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %full = tfm.constant_of_shape %square {value = dense<0xFF800000> : tensor<1xf32>} : (tensor<2xi64>) -> tensor<?x?xf32>
  %upper = tfm.trilu %full, %k : (tensor<?x?xf32>, tensor<i64>) -> tensor<?x?xf32>
  %causal = tfm.unsqueeze %upper {axes = array<i64: 0, 1>} : (tensor<?x?xf32>) -> tensor<1x1x?x?xf32>
  %x4 = tfm.reshape %x, %target : (tensor<1x?x32xf32>, tensor<4xi64>) -> tensor<1x?x2x16xf32>
  %qt = tfm.transpose %x4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x?x2x16xf32>) -> tensor<1x2x?x16xf32>
  %kt = tfm.transpose %x4 {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x?x2x16xf32>) -> tensor<1x2x16x?xf32>
  %s = tfm.matmul %qt, %kt : (tensor<1x2x?x16xf32>, tensor<1x2x16x?xf32>) -> tensor<1x2x?x?xf32>
  %ss = tfm.mul %s, %quarter : (tensor<1x2x?x?xf32>, tensor<f32>) -> tensor<1x2x?x?xf32>
  %sb = tfm.add %ss, %bias4 : (tensor<1x2x?x?xf32>, tensor<1x2x?x?xf32>) -> tensor<1x2x?x?xf32>
  %sm = tfm.add %sb, %causal : (tensor<1x2x?x?xf32>, tensor<1x1x?x?xf32>) -> tensor<1x2x?x?xf32>
  // expected-remark @+1 {{fused attention: 2 heads of 16, scale 2.500000e-01, causal, masked}}
  %p = tfm.softmax %sm {axis = 3 : i64} : (tensor<1x2x?x?xf32>) -> tensor<1x2x?x?xf32>
  %o = tfm.matmul %p, %qt : (tensor<1x2x?x?xf32>, tensor<1x2x?x16xf32>) -> tensor<1x2x?x16xf32>
  %ot = tfm.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x?x16xf32>) -> tensor<1x?x2x16xf32>
  %r = tfm.reshape %ot, %merge : (tensor<1x?x2x16xf32>, tensor<3xi64>) -> tensor<1x?x32xf32>
  return %r : tensor<1x?x32xf32>
}

// -----

// COM: Must not fire. Each function breaks one step of the pattern.

// CHECK-LABEL: func.func @softmax_over_queries
// CHECK-NOT: tfm.attention
func.func @softmax_over_queries(%s: tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32> {
  // expected-remark @+1 {{not fused as attention: softmax is not over the keys (last axis)}}
  %p = tfm.softmax %s {axis = 2 : i64} : (tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  return %p : tensor<2x4x8x8xf32>
}

// CHECK-LABEL: func.func @not_attention_scores
// CHECK-NOT: tfm.attention
func.func @not_attention_scores(%s: tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32> {
  %e = tfm.exp %s : (tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  // expected-remark @+1 {{not fused as attention: the scores come from tfm.exp, not q·kᵀ}}
  %p = tfm.softmax %e {axis = 3 : i64} : (tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  return %p : tensor<2x4x8x8xf32>
}

// CHECK-LABEL: func.func @mask_before_scale
// CHECK-NOT: tfm.attention
func.func @mask_before_scale(%qt: tensor<2x4x8x16xf32>, %kt: tensor<2x4x16x8xf32>, %m: tensor<2x1x1x8xf32>) -> tensor<2x4x8x8xf32> {
  %c = tfm.constant dense<0.25> : tensor<f32>
  %s = tfm.matmul %qt, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %sm = tfm.add %s, %m : (tensor<2x4x8x8xf32>, tensor<2x1x1x8xf32>) -> tensor<2x4x8x8xf32>
  %ss = tfm.mul %sm, %c : (tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  // expected-remark @+1 {{not fused as attention: a mask is added before the scale}}
  %p = tfm.softmax %ss {axis = 3 : i64} : (tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  return %p : tensor<2x4x8x8xf32>
}

// CHECK-LABEL: func.func @fill_not_hidden
// CHECK-NOT: tfm.attention
func.func @fill_not_hidden(%qt: tensor<2x4x8x16xf32>, %kt: tensor<2x4x16x8xf32>, %keep: tensor<8x8xi1>) -> tensor<2x4x8x8xf32> {
  %fill = tfm.constant dense<-1.0e4> : tensor<f32>
  %s = tfm.matmul %qt, %kt : (tensor<2x4x8x16xf32>, tensor<2x4x16x8xf32>) -> tensor<2x4x8x8xf32>
  %sm = tfm.where %keep, %s, %fill : (tensor<8x8xi1>, tensor<2x4x8x8xf32>, tensor<f32>) -> tensor<2x4x8x8xf32>
  // expected-remark @+1 {{not fused as attention: the masked fill is not -inf, the type's lowest value or below -1e30}}
  %p = tfm.softmax %sm {axis = 3 : i64} : (tensor<2x4x8x8xf32>) -> tensor<2x4x8x8xf32>
  return %p : tensor<2x4x8x8xf32>
}

// COM: The split's leading dims come from another tensor's shape: they may
// COM: differ from q's at run time, so the reshape is not provably a head
// COM: split (q is then taken head-major as it is; k has no such form).
// CHECK-LABEL: func.func @split_from_other_shape
// CHECK-NOT: tfm.attention
func.func @split_from_other_shape(%q: tensor<?x?x32xf32>, %other: tensor<?x?x32xf32>) -> tensor<?x?x2x16xf32> {
  %c2 = tfm.constant dense<[2, 16]> : tensor<2xi64>
  %so = tfm.shape %other {end = 2 : i64, start = 0 : i64} : (tensor<?x?x32xf32>) -> tensor<2xi64>
  %target = tfm.concat %so, %c2 {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  %q4 = tfm.reshape %q, %target : (tensor<?x?x32xf32>, tensor<4xi64>) -> tensor<?x?x2x16xf32>
  %qt = tfm.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x16xf32>) -> tensor<?x2x?x16xf32>
  %kt = tfm.transpose %q4 {perm = array<i64: 0, 2, 3, 1>} : (tensor<?x?x2x16xf32>) -> tensor<?x2x16x?xf32>
  %vt = tfm.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x2x16xf32>) -> tensor<?x2x?x16xf32>
  %s = tfm.matmul %qt, %kt : (tensor<?x2x?x16xf32>, tensor<?x2x16x?xf32>) -> tensor<?x2x?x?xf32>
  // expected-remark @+1 {{not fused as attention: the key's reshape does not provably keep batch and sequence}}
  %p = tfm.softmax %s {axis = 3 : i64} : (tensor<?x2x?x?xf32>) -> tensor<?x2x?x?xf32>
  %o = tfm.matmul %p, %vt : (tensor<?x2x?x?xf32>, tensor<?x2x?x16xf32>) -> tensor<?x2x?x16xf32>
  %ot = tfm.transpose %o {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x2x?x16xf32>) -> tensor<?x?x2x16xf32>
  return %ot : tensor<?x?x2x16xf32>
}

// -----

// COM: A 3-D view whose "mask" is the scores themselves: not a mask.
// CHECK-LABEL: func.func @bmm_view_not_a_mask
// CHECK-NOT: tfm.attention
func.func @bmm_view_not_a_mask(%x3: tensor<4x8x16xf32>) -> tensor<4x8x16xf32> {
  %view = tfm.constant dense<[2, 2, 8, 8]> : tensor<4xi64>
  %fold = tfm.constant dense<[4, 8, 8]> : tensor<3xi64>
  %kT = tfm.transpose %x3 {perm = array<i64: 0, 2, 1>} : (tensor<4x8x16xf32>) -> tensor<4x16x8xf32>
  %s = tfm.matmul %x3, %kT : (tensor<4x8x16xf32>, tensor<4x16x8xf32>) -> tensor<4x8x8xf32>
  %s4 = tfm.reshape %s, %view : (tensor<4x8x8xf32>, tensor<4xi64>) -> tensor<2x2x8x8xf32>
  %sm = tfm.add %s4, %s4 : (tensor<2x2x8x8xf32>, tensor<2x2x8x8xf32>) -> tensor<2x2x8x8xf32>
  %s3 = tfm.reshape %sm, %fold : (tensor<2x2x8x8xf32>, tensor<3xi64>) -> tensor<4x8x8xf32>
  // expected-remark @+1 {{not fused as attention: the scores come from a tfm.reshape that is not a mask added to them viewed as [B, N, Lq, Lk]}}
  %p = tfm.softmax %s3 {axis = 2 : i64} : (tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %o = tfm.matmul %p, %x3 : (tensor<4x8x8xf32>, tensor<4x8x16xf32>) -> tensor<4x8x16xf32>
  return %o : tensor<4x8x16xf32>
}
