// RUN: tfc-opt %s --tfm-fuse-gelu=emit-remarks --split-input-file --verify-diagnostics | FileCheck %s

// COM: The erf form as torch exports it: Div by sqrt(2), Erf, Add 1,
// COM: Mul x, Mul 0.5.
// CHECK-LABEL: func.func @erf_form
// CHECK-NEXT: %[[Y:.+]] = tfm.gelu %arg0 : (tensor<?x256xf32>) -> tensor<?x256xf32>
// CHECK-NEXT: return %[[Y]]
func.func @erf_form(%x: tensor<?x256xf32>) -> tensor<?x256xf32> {
  %sqrt2 = tfm.constant dense<1.41421354> : tensor<f32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %half = tfm.constant dense<0.5> : tensor<f32>
  %d = tfm.div %x, %sqrt2 : (tensor<?x256xf32>, tensor<f32>) -> tensor<?x256xf32>
  %e = tfm.erf %d : (tensor<?x256xf32>) -> tensor<?x256xf32>
  %a = tfm.add %e, %one : (tensor<?x256xf32>, tensor<f32>) -> tensor<?x256xf32>
  %m = tfm.mul %x, %a : (tensor<?x256xf32>, tensor<?x256xf32>) -> tensor<?x256xf32>
  // expected-remark @+1 {{fused gelu: erf form}}
  %y = tfm.mul %m, %half : (tensor<?x256xf32>, tensor<f32>) -> tensor<?x256xf32>
  return %y : tensor<?x256xf32>
}

// -----

// COM: Other orders: (0.5 * x) * (1 + erf(x * 0.7071)), and
// COM: ((1 + erf) * 0.5) * x.
// CHECK-LABEL: func.func @erf_orders
// CHECK-NEXT: %[[A:.+]] = tfm.gelu %arg0
// CHECK-NEXT: %[[B:.+]] = tfm.gelu %arg0
// CHECK-NEXT: return %[[A]], %[[B]]
func.func @erf_orders(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %rsqrt2 = tfm.constant dense<0.707106769> : tensor<f32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %half = tfm.constant dense<0.5> : tensor<f32>
  %d = tfm.mul %x, %rsqrt2 : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %e = tfm.erf %d : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %a = tfm.add %one, %e : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %hx = tfm.mul %half, %x : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // expected-remark @+1 {{fused gelu: erf form}}
  %y1 = tfm.mul %hx, %a : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %d2 = tfm.mul %x, %rsqrt2 : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %e2 = tfm.erf %d2 : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %a2 = tfm.add %e2, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %h2 = tfm.mul %a2, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  // expected-remark @+1 {{fused gelu: erf form}}
  %y2 = tfm.mul %h2, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %y1, %y2 : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// COM: GPT-2's tanh form: 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))).
// CHECK-LABEL: func.func @tanh_form
// CHECK-NEXT: %[[Y:.+]] = tfm.gelu %arg0 {approximation = "tanh"}
// CHECK-NEXT: return %[[Y]]
func.func @tanh_form(%x: tensor<?x?x256xf32>) -> tensor<?x?x256xf32> {
  %three = tfm.constant dense<3.0> : tensor<f32>
  %c = tfm.constant dense<0.044715> : tensor<f32>
  %k = tfm.constant dense<0.797884583> : tensor<f32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %half = tfm.constant dense<0.5> : tensor<f32>
  %hx = tfm.mul %half, %x : (tensor<f32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %p = tfm.pow %x, %three : (tensor<?x?x256xf32>, tensor<f32>) -> tensor<?x?x256xf32>
  %cp = tfm.mul %c, %p : (tensor<f32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %s = tfm.add %x, %cp : (tensor<?x?x256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %ks = tfm.mul %k, %s : (tensor<f32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %t = tfm.tanh %ks : (tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  %a = tfm.add %one, %t : (tensor<f32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  // expected-remark @+1 {{fused gelu: tanh form}}
  %y = tfm.mul %hx, %a : (tensor<?x?x256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  return %y : tensor<?x?x256xf32>
}

// -----

// COM: Must not fire: the constant is 1.5, not sqrt(2); the final factor is
// COM: 0.25, not 0.5; the x inside is not the x outside. A tanh alone is
// COM: not a candidate and is not reported.
// CHECK-LABEL: func.func @near_misses
// CHECK-NOT: tfm.gelu
func.func @near_misses(%x: tensor<8xf32>, %z: tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %c15 = tfm.constant dense<1.5> : tensor<f32>
  %sqrt2 = tfm.constant dense<1.41421354> : tensor<f32>
  %one = tfm.constant dense<1.0> : tensor<f32>
  %quarter = tfm.constant dense<0.25> : tensor<f32>
  %half = tfm.constant dense<0.5> : tensor<f32>
  %d = tfm.div %x, %c15 : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  // expected-remark @+1 {{not fused as gelu: the argument is not x / sqrt(2)}}
  %e = tfm.erf %d : (tensor<8xf32>) -> tensor<8xf32>
  %d2 = tfm.div %x, %sqrt2 : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  // expected-remark @+1 {{not fused as gelu: 1 + erf(...) is not multiplied by 0.5 and x}}
  %e2 = tfm.erf %d2 : (tensor<8xf32>) -> tensor<8xf32>
  %a2 = tfm.add %e2, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %m2 = tfm.mul %x, %a2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %y2 = tfm.mul %m2, %quarter : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %d3 = tfm.div %x, %sqrt2 : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  // expected-remark @+1 {{not fused as gelu: 1 + erf(...) is not multiplied by 0.5 and x}}
  %e3 = tfm.erf %d3 : (tensor<8xf32>) -> tensor<8xf32>
  %a3 = tfm.add %e3, %one : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %m3 = tfm.mul %z, %a3 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %y3 = tfm.mul %m3, %half : (tensor<8xf32>, tensor<f32>) -> tensor<8xf32>
  %t = tfm.tanh %x : (tensor<8xf32>) -> tensor<8xf32>
  return %e, %y2, %y3, %t : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}
