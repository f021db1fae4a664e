// RUN: tfc-opt %s --tfm-sink-transposes --split-input-file | FileCheck %s

// COM: A sequence-first attention block as the fusions leave it: into
// COM: [L, B, D], a QKV projection sliced three ways, back to [B, L, D] for
// COM: the attention, into [L, B, D] for the output projection, and back.
// COM: Every transpose goes; the dims read off the transposed input come from
// COM: the input, permuted.
// CHECK-LABEL: func.func @sequence_first_block
// CHECK-NOT: tfm.transpose
// CHECK: %[[S:.+]] = tfm.shape %arg0 {end = 3 : i64, start = 0 : i64}
// CHECK: %[[I:.+]] = tfm.constant dense<[1, 0]> : tensor<2xi64>
// CHECK: %[[D:.+]] = tfm.gather %[[S]], %[[I]] {axis = 0 : i64}
// CHECK: %[[QKV:.+]] = tfm.linear %arg0, %arg1, %arg2 {{.+}} : (tensor<?x5x4xf32>, tensor<4x12xf32>, tensor<12xf32>) -> tensor<?x5x12xf32>
// CHECK: %[[Q:.+]] = tfm.slice %[[QKV]], {{.+}} -> tensor<?x5x4xf32>
// CHECK: %[[K:.+]] = tfm.slice %[[QKV]], {{.+}} -> tensor<?x5x4xf32>
// CHECK: %[[V:.+]] = tfm.slice %[[QKV]], {{.+}} -> tensor<?x5x4xf32>
// CHECK: %[[A:.+]] = tfm.attention %[[Q]], %[[K]], %[[V]]
// CHECK: %[[O:.+]] = tfm.linear %[[A]], %arg3, %arg4 {{.+}} -> tensor<?x5x4xf32>
// CHECK: return %[[O]], %[[D]]
// CHECK-NOT: tfm.transpose
func.func @sequence_first_block(%x: tensor<?x5x4xf32>, %wqkv: tensor<4x12xf32>, %bqkv: tensor<12xf32>, %wo: tensor<4x4xf32>, %bo: tensor<4xf32>)
    -> (tensor<?x5x4xf32>, tensor<2xi64>) {
  %c0 = tfm.constant dense<0> : tensor<1xi64>
  %c4 = tfm.constant dense<4> : tensor<1xi64>
  %c8 = tfm.constant dense<8> : tensor<1xi64>
  %c12 = tfm.constant dense<12> : tensor<1xi64>
  %last = tfm.constant dense<-1> : tensor<1xi64>
  %one = tfm.constant dense<1> : tensor<1xi64>
  %t = tfm.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<?x5x4xf32>) -> tensor<5x?x4xf32>
  %dims = tfm.shape %t {end = 2 : i64, start = 0 : i64} : (tensor<5x?x4xf32>) -> tensor<2xi64>
  %qkv = tfm.linear %t, %wqkv, %bqkv {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<5x?x4xf32>, tensor<4x12xf32>, tensor<12xf32>) -> tensor<5x?x12xf32>
  %q = tfm.slice %qkv, %c0, %c4, %last, %one : (tensor<5x?x12xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5x?x4xf32>
  %k = tfm.slice %qkv, %c4, %c8, %last, %one : (tensor<5x?x12xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5x?x4xf32>
  %v = tfm.slice %qkv, %c8, %c12, %last, %one : (tensor<5x?x12xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5x?x4xf32>
  %qb = tfm.transpose %q {perm = array<i64: 1, 0, 2>} : (tensor<5x?x4xf32>) -> tensor<?x5x4xf32>
  %kb = tfm.transpose %k {perm = array<i64: 1, 0, 2>} : (tensor<5x?x4xf32>) -> tensor<?x5x4xf32>
  %vb = tfm.transpose %v {perm = array<i64: 1, 0, 2>} : (tensor<5x?x4xf32>) -> tensor<?x5x4xf32>
  %a = tfm.attention %qb, %kb, %vb {num_heads = 2 : i64, scale = 0.7 : f32} : (tensor<?x5x4xf32>, tensor<?x5x4xf32>, tensor<?x5x4xf32>) -> tensor<?x5x4xf32>
  %at = tfm.transpose %a {perm = array<i64: 1, 0, 2>} : (tensor<?x5x4xf32>) -> tensor<5x?x4xf32>
  %o = tfm.linear %at, %wo, %bo {operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<5x?x4xf32>, tensor<4x4xf32>, tensor<4xf32>) -> tensor<5x?x4xf32>
  %ob = tfm.transpose %o {perm = array<i64: 1, 0, 2>} : (tensor<5x?x4xf32>) -> tensor<?x5x4xf32>
  return %ob, %dims : tensor<?x5x4xf32>, tensor<2xi64>
}

// -----

// COM: A matmul by a matrix and a bias add move too; a split on the last dim
// COM: hands each part its own path.
// CHECK-LABEL: func.func @matmul_bias_split
// CHECK-NOT: tfm.transpose
// CHECK: %[[M:.+]] = tfm.matmul %arg0, %arg1 : (tensor<2x3x4xf32>, tensor<4x6xf32>) -> tensor<2x3x6xf32>
// CHECK: %[[B:.+]] = tfm.add %[[M]], %arg2 : (tensor<2x3x6xf32>, tensor<6xf32>) -> tensor<2x3x6xf32>
// CHECK: %[[P:.+]]:2 = tfm.split %[[B]] {axis = 2 : i64, num_outputs = 2 : i64} : (tensor<2x3x6xf32>) -> (tensor<2x3x3xf32>, tensor<2x3x3xf32>)
// CHECK: return %[[P]]#0, %[[P]]#1
func.func @matmul_bias_split(%x: tensor<2x3x4xf32>, %w: tensor<4x6xf32>, %b: tensor<6xf32>) -> (tensor<2x3x3xf32>, tensor<2x3x3xf32>) {
  %t = tfm.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  %m = tfm.matmul %t, %w : (tensor<3x2x4xf32>, tensor<4x6xf32>) -> tensor<3x2x6xf32>
  %mb = tfm.add %m, %b : (tensor<3x2x6xf32>, tensor<6xf32>) -> tensor<3x2x6xf32>
  %p:2 = tfm.split %mb {axis = 2 : i64, num_outputs = 2 : i64} : (tensor<3x2x6xf32>) -> (tensor<3x2x3xf32>, tensor<3x2x3xf32>)
  %p0 = tfm.transpose %p#0 {perm = array<i64: 1, 0, 2>} : (tensor<3x2x3xf32>) -> tensor<2x3x3xf32>
  %p1 = tfm.transpose %p#1 {perm = array<i64: 1, 0, 2>} : (tensor<3x2x3xf32>) -> tensor<2x3x3xf32>
  return %p0, %p1 : tensor<2x3x3xf32>, tensor<2x3x3xf32>
}

// -----

// COM: Must not move: a path that does not end in the inverse (the
// COM: transposed product is returned), a transpose that moves the last dim,
// COM: a linear with a residual, an add of a full tensor, and a transpose
// COM: that is not the inverse.
// CHECK-LABEL: func.func @stays
// CHECK-COUNT-9: tfm.transpose
// CHECK-NOT: tfm.transpose
func.func @stays(%x: tensor<2x3x4xf32>, %w: tensor<4x4xf32>, %r: tensor<3x2x4xf32>, %y: tensor<2x3x4x5xf32>)
    -> (tensor<3x2x4xf32>, tensor<2x3x4xf32>, tensor<2x4x3xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<5x3x2x4xf32>) {
  %t1 = tfm.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  %m1 = tfm.matmul %t1, %w : (tensor<3x2x4xf32>, tensor<4x4xf32>) -> tensor<3x2x4xf32>
  %b1 = tfm.transpose %m1 {perm = array<i64: 1, 0, 2>} : (tensor<3x2x4xf32>) -> tensor<2x3x4xf32>
  %t2 = tfm.transpose %x {perm = array<i64: 0, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x4x3xf32>
  %t3 = tfm.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  %l3 = tfm.linear %t3, %w, %r {operandSegmentSizes = array<i32: 1, 1, 0, 1>} : (tensor<3x2x4xf32>, tensor<4x4xf32>, tensor<3x2x4xf32>) -> tensor<3x2x4xf32>
  %b3 = tfm.transpose %l3 {perm = array<i64: 1, 0, 2>} : (tensor<3x2x4xf32>) -> tensor<2x3x4xf32>
  %t4 = tfm.transpose %x {perm = array<i64: 1, 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  %a4 = tfm.add %t4, %r : (tensor<3x2x4xf32>, tensor<3x2x4xf32>) -> tensor<3x2x4xf32>
  %b4 = tfm.transpose %a4 {perm = array<i64: 1, 0, 2>} : (tensor<3x2x4xf32>) -> tensor<2x3x4xf32>
  %t5 = tfm.transpose %y {perm = array<i64: 1, 0, 2, 3>} : (tensor<2x3x4x5xf32>) -> tensor<3x2x4x5xf32>
  %b5 = tfm.transpose %t5 {perm = array<i64: 3, 0, 1, 2>} : (tensor<3x2x4x5xf32>) -> tensor<5x3x2x4xf32>
  return %m1, %b1, %t2, %b3, %b4, %b5 : tensor<3x2x4xf32>, tensor<2x3x4xf32>, tensor<2x4x3xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<5x3x2x4xf32>
}

// -----

// COM: ViT's patch embedding after tfm-conv-to-matmul: [B, H, W, C] to NCHW,
// COM: flattened from dim 2 (torch's flatten(2): the shape read off the
// COM: transposed value) and transposed to [B, H W, C]. The round trip is a
// COM: reshape of the source; the transposes and the shape reads go.
// CHECK-LABEL: func.func @flatten_round_trip
// CHECK-NOT: tfm.transpose
// CHECK-NOT: tfm.shape
// CHECK: %[[SHAPE:.+]] = tfm.constant dense<[0, 6, 8]> : tensor<3xi64>
// CHECK: %[[R:.+]] = tfm.reshape %arg0, %[[SHAPE]] : (tensor<?x2x3x8xf32>, tensor<3xi64>) -> tensor<?x?x8xf32>
// CHECK: return %[[R]]
func.func @flatten_round_trip(%x: tensor<?x2x3x8xf32>) -> tensor<?x?x8xf32> {
  %start = tfm.constant dense<0> : tensor<1xi64>
  %end = tfm.constant dense<2> : tensor<1xi64>
  %axis = tfm.constant dense<0> : tensor<1xi64>
  %step = tfm.constant dense<1> : tensor<1xi64>
  %rest = tfm.constant dense<-1> : tensor<1xi64>
  %nchw = tfm.transpose %x {perm = array<i64: 0, 3, 1, 2>} : (tensor<?x2x3x8xf32>) -> tensor<?x8x2x3xf32>
  %dims = tfm.shape %nchw {end = 4 : i64, start = 0 : i64} : (tensor<?x8x2x3xf32>) -> tensor<4xi64>
  %kept = tfm.slice %dims, %start, %end, %axis, %step : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %target = tfm.concat %kept, %rest {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<3xi64>
  %flat = tfm.reshape %nchw, %target : (tensor<?x8x2x3xf32>, tensor<3xi64>) -> tensor<?x8x?xf32>
  %tokens = tfm.transpose %flat {perm = array<i64: 0, 2, 1>} : (tensor<?x8x?xf32>) -> tensor<?x?x8xf32>
  return %tokens : tensor<?x?x8xf32>
}

// -----

// COM: Not folded: the flatten merges W and H in the wrong order ([0, 3, 2,
// COM: 1] puts W before H), so the tokens are in another order than the
// COM: source's rows.
// CHECK-LABEL: func.func @flatten_other_order
// CHECK: tfm.transpose %arg0 {perm = array<i64: 0, 3, 2, 1>}
// CHECK: tfm.reshape
// CHECK: tfm.transpose {{.+}} {perm = array<i64: 0, 2, 1>}
func.func @flatten_other_order(%x: tensor<2x2x3x8xf32>) -> tensor<2x6x8xf32> {
  %target = tfm.constant dense<[2, 8, 6]> : tensor<3xi64>
  %t = tfm.transpose %x {perm = array<i64: 0, 3, 2, 1>} : (tensor<2x2x3x8xf32>) -> tensor<2x8x3x2xf32>
  %flat = tfm.reshape %t, %target : (tensor<2x8x3x2xf32>, tensor<3xi64>) -> tensor<2x8x6xf32>
  %tokens = tfm.transpose %flat {perm = array<i64: 0, 2, 1>} : (tensor<2x8x6xf32>) -> tensor<2x6x8xf32>
  return %tokens : tensor<2x6x8xf32>
}

// -----

// COM: Not folded: the second transpose does not undo the first (the
// COM: channels stay first).
// CHECK-LABEL: func.func @flatten_not_undone
// CHECK: tfm.transpose %arg0 {perm = array<i64: 0, 3, 1, 2>}
// CHECK: tfm.reshape
// CHECK: tfm.transpose {{.+}} {perm = array<i64: 1, 0, 2>}
func.func @flatten_not_undone(%x: tensor<2x2x3x8xf32>) -> tensor<8x2x6xf32> {
  %target = tfm.constant dense<[2, 8, 6]> : tensor<3xi64>
  %t = tfm.transpose %x {perm = array<i64: 0, 3, 1, 2>} : (tensor<2x2x3x8xf32>) -> tensor<2x8x2x3xf32>
  %flat = tfm.reshape %t, %target : (tensor<2x8x2x3xf32>, tensor<3xi64>) -> tensor<2x8x6xf32>
  %other = tfm.transpose %flat {perm = array<i64: 1, 0, 2>} : (tensor<2x8x6xf32>) -> tensor<8x2x6xf32>
  return %other : tensor<8x2x6xf32>
}

// -----

// COM: A unary elementwise op commutes with any transpose, including one
// COM: that moves the last dim: a conv rewritten as a matmul goes back to
// COM: channels-first, through its GELU, and back to channels-last; both
// COM: transposes vanish. Not past a binary op with a row vector when the
// COM: last dim moves.
// CHECK-LABEL: func.func @activation_between
// CHECK-NEXT: %[[G:.+]] = tfm.gelu %arg0 : (tensor<?x?x32xf32>) -> tensor<?x?x32xf32>
// CHECK-NEXT: return %[[G]]
func.func @activation_between(%x: tensor<?x?x32xf32>) -> tensor<?x?x32xf32> {
  %t = tfm.transpose %x {perm = array<i64: 0, 2, 1>} : (tensor<?x?x32xf32>) -> tensor<?x32x?xf32>
  %g = tfm.gelu %t : (tensor<?x32x?xf32>) -> tensor<?x32x?xf32>
  %b = tfm.transpose %g {perm = array<i64: 0, 2, 1>} : (tensor<?x32x?xf32>) -> tensor<?x?x32xf32>
  return %b : tensor<?x?x32xf32>
}

// CHECK-LABEL: func.func @bias_between
// CHECK: tfm.transpose
// CHECK: tfm.add
// CHECK: tfm.transpose
func.func @bias_between(%x: tensor<2x3x4xf32>, %v: tensor<3xf32>) -> tensor<2x3x4xf32> {
  %t = tfm.transpose %x {perm = array<i64: 0, 2, 1>} : (tensor<2x3x4xf32>) -> tensor<2x4x3xf32>
  %a = tfm.add %t, %v : (tensor<2x4x3xf32>, tensor<3xf32>) -> tensor<2x4x3xf32>
  %b = tfm.transpose %a {perm = array<i64: 0, 2, 1>} : (tensor<2x4x3xf32>) -> tensor<2x3x4xf32>
  return %b : tensor<2x3x4xf32>
}
