// RUN: tfc-opt %s --tfm-fuse-layer-norm=emit-remarks --split-input-file --verify-diagnostics | FileCheck %s

// COM: The opset < 17 export: mean, sub, pow 2, mean, add eps, sqrt, div,
// COM: mul gamma, add beta. Everything between x and the result goes.
// CHECK-LABEL: func.func @layer_norm
// CHECK-SAME: (%[[X:.+]]: tensor<?x?x64xf32>, %[[G:.+]]: tensor<64xf32>, %[[B:.+]]: tensor<64xf32>)
// CHECK-NEXT: %[[Y:.+]] = tfm.layer_norm %[[X]], %[[G]], %[[B]] {axis = 2 : i64, epsilon = 9.99999996E-13 : f32}
// CHECK-NEXT: return %[[Y]]
func.func @layer_norm(%x: tensor<?x?x64xf32>, %g: tensor<64xf32>, %b: tensor<64xf32>) -> tensor<?x?x64xf32> {
  %two = tfm.constant dense<2.0> : tensor<f32>
  %eps = tfm.constant dense<1.0e-12> : tensor<f32>
  %m = tfm.reduce_mean %x {axes = array<i64: 2>} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %d = tfm.sub %x, %m : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %p = tfm.pow %d, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %v = tfm.reduce_mean %p {axes = array<i64: 2>} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %e = tfm.add %v, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %s = tfm.sqrt %e : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = tfm.div %d, %s : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %sc = tfm.mul %n, %g : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  // expected-remark @+1 {{fused layer_norm: mean, variance and scale and bias over dims from 2}}
  %y = tfm.add %sc, %b : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// COM: Variants: Mul(d, d) for the square, Mul by Reciprocal for the
// COM: division, gamma first in the Mul, no beta.
// CHECK-LABEL: func.func @variants
// COM: epsilon 1e-5 is the attribute's default and prints elided.
// CHECK-NEXT: %[[Y:.+]] = tfm.layer_norm %arg0, %arg1 {axis = 1 : i64}
// CHECK-NEXT: return %[[Y]]
func.func @variants(%x: tensor<8x32xf32>, %g: tensor<32xf32>) -> tensor<8x32xf32> {
  %eps = tfm.constant dense<1.0e-5> : tensor<f32>
  %m = tfm.reduce_mean %x {axes = array<i64: -1>} : (tensor<8x32xf32>) -> tensor<8x1xf32>
  %d = tfm.sub %x, %m : (tensor<8x32xf32>, tensor<8x1xf32>) -> tensor<8x32xf32>
  %p = tfm.mul %d, %d : (tensor<8x32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  %v = tfm.reduce_mean %p {axes = array<i64: 1>} : (tensor<8x32xf32>) -> tensor<8x1xf32>
  %e = tfm.add %eps, %v : (tensor<f32>, tensor<8x1xf32>) -> tensor<8x1xf32>
  %s = tfm.sqrt %e : (tensor<8x1xf32>) -> tensor<8x1xf32>
  %r = tfm.reciprocal %s : (tensor<8x1xf32>) -> tensor<8x1xf32>
  %n = tfm.mul %d, %r : (tensor<8x32xf32>, tensor<8x1xf32>) -> tensor<8x32xf32>
  // expected-remark @+1 {{fused layer_norm: mean, variance and scale over dims from 1}}
  %y = tfm.mul %g, %n : (tensor<32xf32>, tensor<8x32xf32>) -> tensor<8x32xf32>
  return %y : tensor<8x32xf32>
}

// -----

// COM: Without gamma and beta the scale is a constant of ones.
// CHECK-LABEL: func.func @no_affine
// CHECK: %[[ONES:.+]] = tfm.constant dense<1.000000e+00> : tensor<16xf32>
// CHECK-NEXT: tfm.layer_norm %arg0, %[[ONES]] {axis = 1 : i64
func.func @no_affine(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %two = tfm.constant dense<2.0> : tensor<f32>
  %eps = tfm.constant dense<1.0e-5> : tensor<f32>
  %m = tfm.reduce_mean %x {axes = array<i64: 1>} : (tensor<4x16xf32>) -> tensor<4x1xf32>
  %d = tfm.sub %x, %m : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  %p = tfm.pow %d, %two : (tensor<4x16xf32>, tensor<f32>) -> tensor<4x16xf32>
  %v = tfm.reduce_mean %p {axes = array<i64: 1>} : (tensor<4x16xf32>) -> tensor<4x1xf32>
  %e = tfm.add %v, %eps : (tensor<4x1xf32>, tensor<f32>) -> tensor<4x1xf32>
  %s = tfm.sqrt %e : (tensor<4x1xf32>) -> tensor<4x1xf32>
  // expected-remark @+1 {{fused layer_norm: mean, variance and no affine over dims from 1}}
  %n = tfm.div %d, %s : (tensor<4x16xf32>, tensor<4x1xf32>) -> tensor<4x16xf32>
  return %n : tensor<4x16xf32>
}

// -----

// COM: LLaMA's RMS norm: x * (1 / sqrt(mean(x^2) + eps)) * weight.
// CHECK-LABEL: func.func @rms_norm
// CHECK-NEXT: %[[Y:.+]] = tfm.rms_norm %arg0, %arg1 {axis = 2 : i64, epsilon = 9.99999997E-7 : f32}
// CHECK-NEXT: return %[[Y]]
func.func @rms_norm(%x: tensor<1x?x64xf32>, %w: tensor<64xf32>) -> tensor<1x?x64xf32> {
  %two = tfm.constant dense<2.0> : tensor<f32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %eps = tfm.constant dense<1.0e-6> : tensor<f32>
  %p = tfm.pow %x, %two : (tensor<1x?x64xf32>, tensor<f32>) -> tensor<1x?x64xf32>
  %v = tfm.reduce_mean %p {axes = array<i64: 2>} : (tensor<1x?x64xf32>) -> tensor<1x?x1xf32>
  %e = tfm.add %v, %eps : (tensor<1x?x1xf32>, tensor<f32>) -> tensor<1x?x1xf32>
  %s = tfm.sqrt %e : (tensor<1x?x1xf32>) -> tensor<1x?x1xf32>
  %r = tfm.div %one, %s : (tensor<f32>, tensor<1x?x1xf32>) -> tensor<1x?x1xf32>
  %n = tfm.mul %x, %r : (tensor<1x?x64xf32>, tensor<1x?x1xf32>) -> tensor<1x?x64xf32>
  // expected-remark @+1 {{fused rms_norm: mean of squares over dims from 2}}
  %y = tfm.mul %w, %n : (tensor<64xf32>, tensor<1x?x64xf32>) -> tensor<1x?x64xf32>
  return %y : tensor<1x?x64xf32>
}

// -----

// COM: Must not fire: the means reduce a leading dim.
// CHECK-LABEL: func.func @leading_axis
// CHECK-NOT: tfm.layer_norm
func.func @leading_axis(%x: tensor<8x32xf32>) -> tensor<8x32xf32> {
  %two = tfm.constant dense<2.0> : tensor<f32>
  %eps = tfm.constant dense<1.0e-5> : tensor<f32>
  // expected-remark @+1 {{not fused as layer_norm: the mean is not over trailing dims with keepdims}}
  %m = tfm.reduce_mean %x {axes = array<i64: 0>} : (tensor<8x32xf32>) -> tensor<1x32xf32>
  %d = tfm.sub %x, %m : (tensor<8x32xf32>, tensor<1x32xf32>) -> tensor<8x32xf32>
  %p = tfm.pow %d, %two : (tensor<8x32xf32>, tensor<f32>) -> tensor<8x32xf32>
  // COM: Nor as an RMS norm of the centered value.
  // expected-remark @+1 {{not fused as rms_norm: the mean of squares is not over trailing dims with keepdims}}
  %v = tfm.reduce_mean %p {axes = array<i64: 0>} : (tensor<8x32xf32>) -> tensor<1x32xf32>
  %e = tfm.add %v, %eps : (tensor<1x32xf32>, tensor<f32>) -> tensor<1x32xf32>
  %s = tfm.sqrt %e : (tensor<1x32xf32>) -> tensor<1x32xf32>
  %n = tfm.div %d, %s : (tensor<8x32xf32>, tensor<1x32xf32>) -> tensor<8x32xf32>
  return %n : tensor<8x32xf32>
}

// -----

// COM: Must not fire as a layer norm: the centered value is also returned.
// COM: What is left is an RMS norm of the centered value, which fuses.
// CHECK-LABEL: func.func @centered_escapes
// CHECK-NOT: tfm.layer_norm
// CHECK: %[[D:.+]] = tfm.sub
// CHECK: tfm.rms_norm %[[D]], %{{.+}} {axis = 1 : i64
func.func @centered_escapes(%x: tensor<8x32xf32>) -> (tensor<8x32xf32>, tensor<8x32xf32>) {
  %two = tfm.constant dense<2.0> : tensor<f32>
  %eps = tfm.constant dense<1.0e-5> : tensor<f32>
  // expected-remark @+1 {{not fused as layer_norm: x - mean(x) has other users}}
  %m = tfm.reduce_mean %x {axes = array<i64: 1>} : (tensor<8x32xf32>) -> tensor<8x1xf32>
  %d = tfm.sub %x, %m : (tensor<8x32xf32>, tensor<8x1xf32>) -> tensor<8x32xf32>
  %p = tfm.pow %d, %two : (tensor<8x32xf32>, tensor<f32>) -> tensor<8x32xf32>
  %v = tfm.reduce_mean %p {axes = array<i64: 1>} : (tensor<8x32xf32>) -> tensor<8x1xf32>
  %e = tfm.add %v, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %s = tfm.sqrt %e : (tensor<8x1xf32>) -> tensor<8x1xf32>
  // expected-remark @+1 {{fused rms_norm: mean of squares over dims from 1}}
  %n = tfm.div %d, %s : (tensor<8x32xf32>, tensor<8x1xf32>) -> tensor<8x32xf32>
  return %n, %d : tensor<8x32xf32>, tensor<8x32xf32>
}

// -----

// COM: Must not fire: epsilon is not a constant (neither form).
// CHECK-LABEL: func.func @epsilon_not_constant
// CHECK-NOT: tfm.layer_norm
// CHECK-NOT: tfm.rms_norm
func.func @epsilon_not_constant(%x: tensor<8x32xf32>, %eps: tensor<f32>) -> tensor<8x32xf32> {
  %two = tfm.constant dense<2.0> : tensor<f32>
  // expected-remark @+1 {{not fused as layer_norm: the variance is not followed by Add of a constant epsilon}}
  %m = tfm.reduce_mean %x {axes = array<i64: 1>} : (tensor<8x32xf32>) -> tensor<8x1xf32>
  %d = tfm.sub %x, %m : (tensor<8x32xf32>, tensor<8x1xf32>) -> tensor<8x32xf32>
  %p = tfm.pow %d, %two : (tensor<8x32xf32>, tensor<f32>) -> tensor<8x32xf32>
  // expected-remark @+1 {{not fused as rms_norm: the variance is not followed by Add of a constant epsilon}}
  %v = tfm.reduce_mean %p {axes = array<i64: 1>} : (tensor<8x32xf32>) -> tensor<8x1xf32>
  %e = tfm.add %v, %eps : (tensor<8x1xf32>, tensor<f32>) -> tensor<8x1xf32>
  %s = tfm.sqrt %e : (tensor<8x1xf32>) -> tensor<8x1xf32>
  %n = tfm.div %d, %s : (tensor<8x32xf32>, tensor<8x1xf32>) -> tensor<8x32xf32>
  return %n : tensor<8x32xf32>
}
