// RUN: tfc-opt %s | tfc-opt | FileCheck %s
// COM: Every tfm op parses, prints and parses back unchanged.

// CHECK-LABEL: func.func @elementwise
func.func @elementwise(%a: tensor<?x128x768xf32>, %b: tensor<768xf32>, %i: tensor<?x?xi64>, %p: tensor<?x?xi1>) -> tensor<?x128x768xf32> {
  // CHECK: tfm.add %{{.*}}, %{{.*}} : (tensor<?x128x768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
  %0 = tfm.add %a, %b : (tensor<?x128x768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.sub
  %1 = tfm.sub %0, %b : (tensor<?x128x768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.mul
  %2 = tfm.mul %1, %b : (tensor<?x128x768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.div
  %3 = tfm.div %2, %b : (tensor<?x128x768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.pow
  %c2 = tfm.constant dense<2.0> : tensor<f32>
  %4 = tfm.pow %3, %c2 : (tensor<?x128x768xf32>, tensor<f32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.max
  %5 = tfm.max %4, %b : (tensor<?x128x768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.min
  %6 = tfm.min %5, %b : (tensor<?x128x768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.sqrt
  %7 = tfm.sqrt %6 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.exp
  %8 = tfm.exp %7 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.log
  %9 = tfm.log %8 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.erf
  %10 = tfm.erf %9 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.tanh
  %11 = tfm.tanh %10 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.neg
  %12 = tfm.neg %11 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.reciprocal
  %13 = tfm.reciprocal %12 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.relu
  %14 = tfm.relu %13 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.sigmoid
  %15 = tfm.sigmoid %14 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.gelu %{{.*}} {approximation = "tanh"}
  %16 = tfm.gelu %15 {approximation = "tanh"} : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.gelu %{{.*}} :
  %17 = tfm.gelu %16 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.abs
  %18 = tfm.abs %17 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.sin
  %19 = tfm.sin %18 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.cos
  %20 = tfm.cos %19 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.floor
  %21 = tfm.floor %20 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.ceil
  %22 = tfm.ceil %21 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.identity
  %23 = tfm.identity %22 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.dropout
  %24 = tfm.dropout %23 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.elu %{{.*}} {alpha = 5.000000e-01 : f32}
  %a0 = tfm.elu %24 {alpha = 0.5 : f32} : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.selu %{{.*}} : (tensor<?x128x768xf32>)
  %a1 = tfm.selu %a0 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.hard_sigmoid %{{.*}} {beta = 0.000000e+00 : f32}
  %a2 = tfm.hard_sigmoid %a1 {beta = 0.0 : f32} : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.mish
  %a3 = tfm.mish %a2 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.prelu %{{.*}}, %{{.*}} : (tensor<?x128x768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
  %a4 = tfm.prelu %a3, %b : (tensor<?x128x768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.atanh
  %a5 = tfm.atanh %a4 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.round
  %a6 = tfm.round %a5 : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.sign %{{.*}} : (tensor<?x?xi64>) -> tensor<?x?xi64>
  %a7 = tfm.sign %i : (tensor<?x?xi64>) -> tensor<?x?xi64>
  // CHECK: tfm.is_inf %{{.*}} {detect_positive = false} : (tensor<?x128x768xf32>) -> tensor<?x128x768xi1>
  %a8 = tfm.is_inf %a6 {detect_positive = false} : (tensor<?x128x768xf32>) -> tensor<?x128x768xi1>
  // CHECK: tfm.mod %{{.*}}, %{{.*}} : (tensor<?x?xi64>, tensor<?x?xi64>) -> tensor<?x?xi64>
  %a9 = tfm.mod %i, %i : (tensor<?x?xi64>, tensor<?x?xi64>) -> tensor<?x?xi64>
  // CHECK: tfm.arg_max %{{.*}} {axis = 2 : i64, keepdims = false} : (tensor<?x128x768xf32>) -> tensor<?x128xi64>
  %a10 = tfm.arg_max %a6 {axis = 2 : i64, keepdims = false} : (tensor<?x128x768xf32>) -> tensor<?x128xi64>
  // CHECK: tfm.cumsum %{{.*}} {axis = 1 : i64, reverse = true} : (tensor<?x?xi64>) -> tensor<?x?xi64>
  %a11 = tfm.cumsum %i {axis = 1 : i64, reverse = true} : (tensor<?x?xi64>) -> tensor<?x?xi64>
  // CHECK: tfm.reduce_prod %{{.*}} {axes = array<i64: 1>} : (tensor<?x128x768xf32>) -> tensor<?x1x768xf32>
  %a12 = tfm.reduce_prod %a6 {axes = array<i64: 1>} : (tensor<?x128x768xf32>) -> tensor<?x1x768xf32>
  %pads = tfm.constant dense<[0, 1, 0, 0, 1, 2]> : tensor<6xi64>
  // CHECK: tfm.pad %{{.*}}, %{{.*}} {mode = "reflect"} : (tensor<?x128x768xf32>, tensor<6xi64>) -> tensor<?x130x770xf32>
  %a13 = tfm.pad %a6, %pads {mode = "reflect"} : (tensor<?x128x768xf32>, tensor<6xi64>) -> tensor<?x130x770xf32>
  // CHECK: tfm.scatter_elements %{{.*}}, %{{.*}}, %{{.*}} {axis = 2 : i64, reduction = "add"} : (tensor<?x128x768xf32>, tensor<?x?x1xi64>, tensor<?x?x1xf32>) -> tensor<?x128x768xf32>
  %idx3 = tfm.unsqueeze %i {axes = array<i64: 2>} : (tensor<?x?xi64>) -> tensor<?x?x1xi64>
  %upd3 = tfm.cast %idx3 {to = f32} : (tensor<?x?x1xi64>) -> tensor<?x?x1xf32>
  %a14 = tfm.scatter_elements %a6, %idx3, %upd3 {axis = 2 : i64, reduction = "add"} : (tensor<?x128x768xf32>, tensor<?x?x1xi64>, tensor<?x?x1xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.scatter_nd %{{.*}}, %{{.*}}, %{{.*}} : (tensor<?x128x768xf32>, tensor<?x?x1xi64>, tensor<?x?x128x768xf32>) -> tensor<?x128x768xf32>
  %rows = tfm.unsqueeze %upd3 {axes = array<i64: 3>} : (tensor<?x?x1xf32>) -> tensor<?x?x1x1xf32>
  %shape4 = tfm.constant dense<[1, 1, 128, 768]> : tensor<4xi64>
  %slices = tfm.expand %rows, %shape4 : (tensor<?x?x1x1xf32>, tensor<4xi64>) -> tensor<?x?x128x768xf32>
  %a15 = tfm.scatter_nd %a6, %idx3, %slices : (tensor<?x128x768xf32>, tensor<?x?x1xi64>, tensor<?x?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.top_k %{{.*}}, %{{.*}} {axis = 2 : i64, largest = false} : (tensor<?x128x768xf32>, tensor<1xi64>) -> (tensor<?x128x?xf32>, tensor<?x128x?xi64>)
  %k = tfm.shape %i {start = 1 : i64, end = 2 : i64} : (tensor<?x?xi64>) -> tensor<1xi64>
  %a16, %a17 = tfm.top_k %a6, %k {axis = 2 : i64, largest = false} : (tensor<?x128x768xf32>, tensor<1xi64>) -> (tensor<?x128x?xf32>, tensor<?x128x?xi64>)
  // CHECK: tfm.equal %{{.*}} : (tensor<?x?xi64>, tensor<?x?xi64>) -> tensor<?x?xi1>
  %e = tfm.equal %i, %i : (tensor<?x?xi64>, tensor<?x?xi64>) -> tensor<?x?xi1>
  // CHECK: tfm.less
  %l = tfm.less %i, %i : (tensor<?x?xi64>, tensor<?x?xi64>) -> tensor<?x?xi1>
  // CHECK: tfm.less_or_equal
  %le = tfm.less_or_equal %i, %i : (tensor<?x?xi64>, tensor<?x?xi64>) -> tensor<?x?xi1>
  // CHECK: tfm.greater
  %g = tfm.greater %i, %i : (tensor<?x?xi64>, tensor<?x?xi64>) -> tensor<?x?xi1>
  // CHECK: tfm.greater_or_equal
  %ge = tfm.greater_or_equal %i, %i : (tensor<?x?xi64>, tensor<?x?xi64>) -> tensor<?x?xi1>
  // CHECK: tfm.and
  %and = tfm.and %e, %p : (tensor<?x?xi1>, tensor<?x?xi1>) -> tensor<?x?xi1>
  // CHECK: tfm.or
  %or = tfm.or %and, %l : (tensor<?x?xi1>, tensor<?x?xi1>) -> tensor<?x?xi1>
  // CHECK: tfm.xor
  %xor = tfm.xor %or, %g : (tensor<?x?xi1>, tensor<?x?xi1>) -> tensor<?x?xi1>
  // CHECK: tfm.not
  %not = tfm.not %xor : (tensor<?x?xi1>) -> tensor<?x?xi1>
  return %24 : tensor<?x128x768xf32>
}

// CHECK-LABEL: func.func @contractions
func.func @contractions(%x: tensor<?x128x768xf32>, %w: tensor<768x3072xf32>, %m: tensor<?x768xf32>, %wt: tensor<3072x768xf32>, %bias: tensor<3072xf32>, %img: tensor<?x3x224x224xf32>, %pw: tensor<384x3x16x16xf32>, %pb: tensor<384xf32>) -> (tensor<?x128x3072xf32>, tensor<?x3072xf32>, tensor<?x384x14x14xf32>) {
  // CHECK: tfm.matmul %{{.*}} : (tensor<?x128x768xf32>, tensor<768x3072xf32>) -> tensor<?x128x3072xf32>
  %0 = tfm.matmul %x, %w : (tensor<?x128x768xf32>, tensor<768x3072xf32>) -> tensor<?x128x3072xf32>
  // CHECK: tfm.gemm %{{.*}} {trans_b = true}
  %1 = tfm.gemm %m, %wt, %bias {trans_b = true} : (tensor<?x768xf32>, tensor<3072x768xf32>, tensor<3072xf32>) -> tensor<?x3072xf32>
  // CHECK: tfm.conv {{.*}} -> tensor<?x384x14x14xf32>
  %2 = tfm.conv %img, %pw, %pb {dilations = array<i64: 1, 1>, group = 1 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 16, 16>} : (tensor<?x3x224x224xf32>, tensor<384x3x16x16xf32>, tensor<384xf32>) -> tensor<?x384x14x14xf32>
  return %0, %1, %2 : tensor<?x128x3072xf32>, tensor<?x3072xf32>, tensor<?x384x14x14xf32>
}

// CHECK-LABEL: func.func @normalization
func.func @normalization(%x: tensor<?x128x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>) -> (tensor<?x128x768xf32>, tensor<?x128x768xf32>, tensor<?x128x1xf32>, tensor<?x768xf32>, tensor<f32>) {
  // CHECK: tfm.softmax %{{.*}} {axis = 2 : i64}
  %0 = tfm.softmax %x {axis = 2 : i64} : (tensor<?x128x768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.layer_norm %{{.*}} {axis = 2 : i64, epsilon = 9.99999996E-13 : f32}
  %1 = tfm.layer_norm %x, %g, %b {axis = 2 : i64, epsilon = 9.99999996E-13 : f32} : (tensor<?x128x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<?x128x768xf32>
  // CHECK: tfm.reduce_mean %{{.*}} {axes = array<i64: 2>} :
  %2 = tfm.reduce_mean %x {axes = array<i64: 2>, keepdims = true} : (tensor<?x128x768xf32>) -> tensor<?x128x1xf32>
  // CHECK: tfm.reduce_sum %{{.*}} {axes = array<i64: 1>, keepdims = false}
  %3 = tfm.reduce_sum %x {axes = array<i64: 1>, keepdims = false} : (tensor<?x128x768xf32>) -> tensor<?x768xf32>
  // CHECK: tfm.reduce_max %{{.*}} {axes = array<i64>, keepdims = false}
  %4 = tfm.reduce_max %x {axes = array<i64>, keepdims = false} : (tensor<?x128x768xf32>) -> tensor<f32>
  return %0, %1, %2, %3, %4 : tensor<?x128x768xf32>, tensor<?x128x768xf32>, tensor<?x128x1xf32>, tensor<?x768xf32>, tensor<f32>
}

// CHECK-LABEL: func.func @data_movement
func.func @data_movement(%x: tensor<?x?x768xf32>, %shape: tensor<4xi64>, %ids: tensor<?x?xi64>, %table: tensor<1000x768xf32>, %qkv: tensor<?x?x2304xf32>, %mask: tensor<?x?xi1>) {
  // CHECK: tfm.reshape %{{.*}} : (tensor<?x?x768xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  %r = tfm.reshape %x, %shape : (tensor<?x?x768xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  // CHECK: tfm.transpose %{{.*}} {perm = array<i64: 0, 2, 1, 3>}
  %t = tfm.transpose %r {perm = array<i64: 0, 2, 1, 3>} : (tensor<?x?x?x?xf32>) -> tensor<?x?x?x?xf32>
  // CHECK: tfm.flatten %{{.*}} {axis = 1 : i64}
  %f = tfm.flatten %x {axis = 1 : i64} : (tensor<?x?x768xf32>) -> tensor<?x?xf32>
  // CHECK: tfm.unsqueeze %{{.*}} {axes = array<i64: 1, 2>}
  %u = tfm.unsqueeze %ids {axes = array<i64: 1, 2>} : (tensor<?x?xi64>) -> tensor<?x1x1x?xi64>
  // CHECK: tfm.squeeze %{{.*}} {axes = array<i64: 1>}
  %s = tfm.squeeze %u {axes = array<i64: 1>} : (tensor<?x1x1x?xi64>) -> tensor<?x1x?xi64>
  // CHECK: tfm.concat %{{.*}} {axis = 2 : i64} : (tensor<?x?x768xf32>, tensor<?x?x768xf32>) -> tensor<?x?x1536xf32>
  %c = tfm.concat %x, %x {axis = 2 : i64} : (tensor<?x?x768xf32>, tensor<?x?x768xf32>) -> tensor<?x?x1536xf32>
  // CHECK: tfm.split %{{.*}} {axis = 2 : i64, num_outputs = 3 : i64}
  %q, %k, %v = tfm.split %qkv {axis = 2 : i64, num_outputs = 3 : i64} : (tensor<?x?x2304xf32>) -> (tensor<?x?x768xf32>, tensor<?x?x768xf32>, tensor<?x?x768xf32>)
  // CHECK: tfm.gather %{{.*}} {axis = 0 : i64} : (tensor<1000x768xf32>, tensor<?x?xi64>) -> tensor<?x?x768xf32>
  %e = tfm.gather %table, %ids {axis = 0 : i64} : (tensor<1000x768xf32>, tensor<?x?xi64>) -> tensor<?x?x768xf32>
  %starts = tfm.constant dense<0> : tensor<1xi64>
  %ends = tfm.constant dense<1> : tensor<1xi64>
  %axes = tfm.constant dense<1> : tensor<1xi64>
  %steps = tfm.constant dense<1> : tensor<1xi64>
  // CHECK: tfm.slice {{.*}} -> tensor<?x1x768xf32>
  %sl = tfm.slice %x, %starts, %ends, %axes, %steps : (tensor<?x?x768xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x1x768xf32>
  // CHECK: tfm.cast %{{.*}} {to = f32}
  %cf = tfm.cast %ids {to = f32} : (tensor<?x?xi64>) -> tensor<?x?xf32>
  %zero = tfm.constant dense<0.0> : tensor<f32>
  // CHECK: tfm.where
  %w = tfm.where %mask, %cf, %zero : (tensor<?x?xi1>, tensor<?x?xf32>, tensor<f32>) -> tensor<?x?xf32>
  %eshape = tfm.constant dense<[2, 1, 768]> : tensor<3xi64>
  // CHECK: tfm.expand {{.*}} -> tensor<2x?x768xf32>
  %ex = tfm.expand %x, %eshape : (tensor<?x?x768xf32>, tensor<3xi64>) -> tensor<2x?x768xf32>
  %k0 = tfm.constant dense<0> : tensor<i64>
  // CHECK: tfm.trilu %{{.*}} {upper = false}
  %tri = tfm.trilu %cf, %k0 {upper = false} : (tensor<?x?xf32>, tensor<i64>) -> tensor<?x?xf32>
  return
}

// CHECK-LABEL: func.func @shapes
func.func @shapes(%x: tensor<?x128x768xf32>, %n: tensor<i64>) -> (tensor<2xi64>, tensor<?x?xf32>, tensor<?xi64>) {
  // CHECK: tfm.shape %{{.*}} {end = 2 : i64, start = 0 : i64} : (tensor<?x128x768xf32>) -> tensor<2xi64>
  %s = tfm.shape %x {end = 2 : i64, start = 0 : i64} : (tensor<?x128x768xf32>) -> tensor<2xi64>
  // CHECK: tfm.constant_of_shape %{{.*}} {value = dense<0.000000e+00> : tensor<1xf32>}
  %z = tfm.constant_of_shape %s {value = dense<0.0> : tensor<1xf32>} : (tensor<2xi64>) -> tensor<?x?xf32>
  %c0 = tfm.constant dense<0> : tensor<i64>
  %c1 = tfm.constant dense<1> : tensor<i64>
  // CHECK: tfm.range %{{.*}} : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  %r = tfm.range %c0, %n, %c1 : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %s, %z, %r : tensor<2xi64>, tensor<?x?xf32>, tensor<?xi64>
}

// CHECK-LABEL: func.func @sequence_offset
func.func @sequence_offset() -> tensor<1xi64> {
  // CHECK: tfm.sequence_offset : tensor<1xi64>
  %start = tfm.sequence_offset : tensor<1xi64>
  return %start : tensor<1xi64>
}

// CHECK-LABEL: func.func @refined_result
// COM: A stored result type may know more than inference (here the batch).
func.func @refined_result(%x: tensor<?x768xf32>, %b: tensor<768xf32>) -> tensor<4x768xf32> {
  // CHECK: -> tensor<4x768xf32>
  %0 = tfm.add %x, %b : (tensor<?x768xf32>, tensor<768xf32>) -> tensor<4x768xf32>
  return %0 : tensor<4x768xf32>
}

// CHECK-LABEL: func.func @fused
func.func @fused(%x: tensor<?x?x768xf32>, %g: tensor<768xf32>, %m: tensor<?x1x1x?xf32>) -> (tensor<?x?x768xf32>, tensor<?x?x768xf32>, tensor<?x?x768xf32>) {
  // CHECK: tfm.rms_norm %{{.*}} {axis = 2 : i64, epsilon = 9.99999997E-7 : f32}
  %0 = tfm.rms_norm %x, %g {axis = 2 : i64, epsilon = 9.99999997E-7 : f32} : (tensor<?x?x768xf32>, tensor<768xf32>) -> tensor<?x?x768xf32>
  // CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {num_heads = 12 : i64, scale = 1.250000e-01 : f32}
  %1 = tfm.attention %x, %x, %x, %m {num_heads = 12 : i64, scale = 0.125 : f32} : (tensor<?x?x768xf32>, tensor<?x?x768xf32>, tensor<?x?x768xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x768xf32>
  // CHECK: tfm.attention %{{.*}}, %{{.*}}, %{{.*}} {causal = true, num_heads = 12 : i64, scale = 1.250000e-01 : f32}
  %2 = tfm.attention %x, %x, %x {causal = true, num_heads = 12 : i64, scale = 0.125 : f32} : (tensor<?x?x768xf32>, tensor<?x?x768xf32>, tensor<?x?x768xf32>) -> tensor<?x?x768xf32>
  return %0, %1, %2 : tensor<?x?x768xf32>, tensor<?x?x768xf32>, tensor<?x?x768xf32>
}

// CHECK-LABEL: func.func @add_layer_norm
func.func @add_layer_norm(%x: tensor<?x?x768xf32>, %p: tensor<1x?x768xf32>, %g: tensor<768xf32>) -> tensor<?x?x768xf32> {
  // CHECK: tfm.add_layer_norm %{{.*}}, %{{.*}}, %{{.*}} {axis = 2 : i64, epsilon = 9.99999996E-13 : f32}
  %0 = tfm.add_layer_norm %x, %p, %g {axis = 2 : i64, epsilon = 9.99999996E-13 : f32} : (tensor<?x?x768xf32>, tensor<1x?x768xf32>, tensor<768xf32>) -> tensor<?x?x768xf32>
  return %0 : tensor<?x?x768xf32>
}

// CHECK-LABEL: func.func @linear
func.func @linear(%x: tensor<?x?x768xf32>, %w: tensor<768x3072xf32>, %b: tensor<3072xf32>, %w2: tensor<3072x768xf32>) -> tensor<?x?x768xf32> {
  // CHECK: tfm.linear %{{.*}}, %{{.*}}, %{{.*}} {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 0>}
  %0 = tfm.linear %x, %w, %b {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x?x768xf32>, tensor<768x3072xf32>, tensor<3072xf32>) -> tensor<?x?x3072xf32>
  // CHECK: tfm.linear %{{.*}}, %{{.*}}, %{{.*}} {operandSegmentSizes = array<i32: 1, 1, 0, 1>}
  %1 = tfm.linear %0, %w2, %x {operandSegmentSizes = array<i32: 1, 1, 0, 1>} : (tensor<?x?x3072xf32>, tensor<3072x768xf32>, tensor<?x?x768xf32>) -> tensor<?x?x768xf32>
  return %1 : tensor<?x?x768xf32>
}

// COM: Reduced precision: 16-bit floats keep their type; an i8 (or ui8)
// COM: input by an i8 weight is an exact i32 product.
// CHECK-LABEL: func.func @linear_dtypes
func.func @linear_dtypes(%h: tensor<4x64xf16>, %wh: tensor<64x32xf16>, %b: tensor<4x64xbf16>, %wb: tensor<64x32xbf16>,
                         %s: tensor<4x64xi8>, %u: tensor<4x64xui8>, %w8: tensor<64x32xi8>, %bias: tensor<32xi32>)
    -> (tensor<4x32xf16>, tensor<4x32xbf16>, tensor<4x32xi32>, tensor<4x32xi32>) {
  // CHECK: tfm.linear {{.*}} -> tensor<4x32xf16>
  %0 = tfm.linear %h, %wh {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<4x64xf16>, tensor<64x32xf16>) -> tensor<4x32xf16>
  // CHECK: tfm.linear {{.*}} -> tensor<4x32xbf16>
  %1 = tfm.linear %b, %wb {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<4x64xbf16>, tensor<64x32xbf16>) -> tensor<4x32xbf16>
  // CHECK: tfm.linear {{.*}} : (tensor<4x64xi8>, tensor<64x32xi8>, tensor<32xi32>) -> tensor<4x32xi32>
  %2 = tfm.linear %s, %w8, %bias {activation = "relu", operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<4x64xi8>, tensor<64x32xi8>, tensor<32xi32>) -> tensor<4x32xi32>
  // CHECK: tfm.linear {{.*}} : (tensor<4x64xui8>, tensor<64x32xi8>) -> tensor<4x32xi32>
  %3 = tfm.linear %u, %w8 {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<4x64xui8>, tensor<64x32xi8>) -> tensor<4x32xi32>
  return %0, %1, %2, %3 : tensor<4x32xf16>, tensor<4x32xbf16>, tensor<4x32xi32>, tensor<4x32xi32>
}

// CHECK-LABEL: func.func @quantized_linear_int4
func.func @quantized_linear_int4(%x: tensor<?x?x64xf32>, %w: tensor<64x32xui8>, %s: tensor<2x32xf32>, %z: tensor<2x32xui8>) -> tensor<?x?x32xf32> {
  // CHECK: tfm.quantized_linear %{{.+}} {input_quantization = "none", operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0>, weight_bits = 4 : i64} : (tensor<?x?x64xf32>, tensor<64x32xui8>, tensor<2x32xf32>, tensor<2x32xui8>) -> tensor<?x?x32xf32>
  %y = tfm.quantized_linear %x, %w, %s, %z {input_quantization = "none", weight_bits = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0>} : (tensor<?x?x64xf32>, tensor<64x32xui8>, tensor<2x32xf32>, tensor<2x32xui8>) -> tensor<?x?x32xf32>
  return %y : tensor<?x?x32xf32>
}

// CHECK-LABEL: func.func @quantized_linear
func.func @quantized_linear(%x: tensor<?x?x64xf32>, %w: tensor<64x32xi8>, %u: tensor<64x32xui8>, %s: tensor<32xf32>, %zu: tensor<1xui8>,
                            %b: tensor<32xf32>, %r: tensor<?x?x32xf32>, %is: tensor<f32>, %iz: tensor<i8>)
    -> (tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>) {
  // CHECK: tfm.quantized_linear {{.*}} {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 1, 0, 0>}
  %0 = tfm.quantized_linear %x, %w, %s, %b, %r {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 1, 0, 0>} : (tensor<?x?x64xf32>, tensor<64x32xi8>, tensor<32xf32>, tensor<32xf32>, tensor<?x?x32xf32>) -> tensor<?x?x32xf32>
  // CHECK: tfm.quantized_linear {{.*}} {input_quantization = "tensor", operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0>}
  %1 = tfm.quantized_linear %x, %u, %s, %zu {input_quantization = "tensor", operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 0, 0>} : (tensor<?x?x64xf32>, tensor<64x32xui8>, tensor<32xf32>, tensor<1xui8>) -> tensor<?x?x32xf32>
  // CHECK: tfm.quantized_linear {{.*}} {input_quantization = "static", operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 1, 1>}
  %2 = tfm.quantized_linear %x, %w, %s, %is, %iz {input_quantization = "static", operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 1, 1>} : (tensor<?x?x64xf32>, tensor<64x32xi8>, tensor<32xf32>, tensor<f32>, tensor<i8>) -> tensor<?x?x32xf32>
  return %0, %1, %2 : tensor<?x?x32xf32>, tensor<?x?x32xf32>, tensor<?x?x32xf32>
}

// CHECK-LABEL: func.func @quantization
func.func @quantization(%x: tensor<?x8xf32>, %s: tensor<f32>, %z: tensor<ui8>, %sa: tensor<8xf32>, %w: tensor<8x4xi8>, %ws: tensor<4xf32>)
    -> (tensor<?x8xf32>, tensor<8x4xf32>, tensor<?x8xui8>) {
  // CHECK: tfm.quantize_linear {{.*}} {axis = 1 : i64, to = ui8}
  %q = tfm.quantize_linear %x, %s, %z {axis = 1 : i64, to = ui8} : (tensor<?x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x8xui8>
  // CHECK: tfm.dequantize_linear {{.*}} {axis = 1 : i64}
  %d = tfm.dequantize_linear %q, %s, %z {axis = 1 : i64} : (tensor<?x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x8xf32>
  // CHECK: tfm.dequantize_linear {{.*}} : (tensor<8x4xi8>, tensor<4xf32>) -> tensor<8x4xf32>
  %wd = tfm.dequantize_linear %w, %ws {axis = 1 : i64} : (tensor<8x4xi8>, tensor<4xf32>) -> tensor<8x4xf32>
  // CHECK: tfm.dequantize_linear {{.*}} {axis = 0 : i64, block_size = 3 : i64} : (tensor<8x4xi8>, tensor<3x4xf32>) -> tensor<8x4xf32>
  %wbs = tfm.constant dense<0.5> : tensor<3x4xf32>
  %wbd = tfm.dequantize_linear %w, %wbs {axis = 0 : i64, block_size = 3 : i64} : (tensor<8x4xi8>, tensor<3x4xf32>) -> tensor<8x4xf32>
  // CHECK: tfm.dynamic_quantize_linear {{.*}} -> (tensor<?x8xui8>, tensor<f32>, tensor<ui8>)
  %y, %ys, %yz = tfm.dynamic_quantize_linear %x : (tensor<?x8xf32>) -> (tensor<?x8xui8>, tensor<f32>, tensor<ui8>)
  return %d, %wd, %y : tensor<?x8xf32>, tensor<8x4xf32>, tensor<?x8xui8>
}

// CHECK-LABEL: func.func @linear_attention
func.func @linear_attention(%x: tensor<?x?x4x16xf32>, %v: tensor<?x?x4x32xf32>, %g: tensor<4xf32>) -> (tensor<?x?x4x32xf32>, tensor<?x?x4x32xf32>, tensor<?x?x4x32xf32>, tensor<?x?x4x32xf32>) {
  // CHECK: tfm.linear_attention %{{.*}}, %{{.*}}, %{{.*}} {causal = true, epsilon = 9.99999997E-7 : f32, feature_map = "elu_plus_one"} : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x32xf32>) -> tensor<?x?x4x32xf32>
  %0 = tfm.linear_attention %x, %x, %v {causal = true, epsilon = 9.99999997E-7 : f32, feature_map = "elu_plus_one"} : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x32xf32>) -> tensor<?x?x4x32xf32>
  // CHECK: tfm.linear_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {causal = true, scale = 1.250000e-01 : f32}
  %1 = tfm.linear_attention %x, %x, %v, %g {causal = true, scale = 0.125 : f32} : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x32xf32>, tensor<4xf32>) -> tensor<?x?x4x32xf32>
  // CHECK: tfm.linear_attention %{{.*}}, %{{.*}}, %{{.*}} {epsilon = 1.000000e-30 : f32, feature_map = "exp"}
  %2 = tfm.linear_attention %x, %x, %v {epsilon = 1.0e-30 : f32, feature_map = "exp"} : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x32xf32>) -> tensor<?x?x4x32xf32>
  // CHECK: tfm.linear_attention %{{.*}}, %{{.*}}, %{{.*}} {causal = true, epsilon = 1.000000e-30 : f32, feature_map = "exp", window = 64 : i64, window_dim = 5 : i64}
  %3 = tfm.linear_attention %x, %x, %v {causal = true, epsilon = 1.0e-30 : f32, feature_map = "exp", window = 64 : i64, window_dim = 5 : i64} : (tensor<?x?x4x16xf32>, tensor<?x?x4x16xf32>, tensor<?x?x4x32xf32>) -> tensor<?x?x4x32xf32>
  return %0, %1, %2, %3 : tensor<?x?x4x32xf32>, tensor<?x?x4x32xf32>, tensor<?x?x4x32xf32>, tensor<?x?x4x32xf32>
}
