// RUN: tfc-opt %s --tfm-insert-profile-markers --split-input-file | FileCheck %s

// COM: Each graph op but constants is bracketed by markers with a site
// COM: string naming the op and its ONNX node; a fused op names its first
// COM: node and how many more it replaced. The pass makes tfm ops only (the
// COM: target lowers the markers: tfc-cpu-runtime-calls-to-llvm).
// CHECK-LABEL: func.func @graph
// CHECK-NEXT: tfm.constant
// CHECK-NEXT: tfm.profile_enter "gelu  gelu_node"
// CHECK-NEXT: tfm.gelu
// CHECK-NEXT: tfm.profile_exit "gelu  gelu_node"
// CHECK-NEXT: tfm.profile_enter "add  add_node (+1 fused)"
// CHECK-NEXT: tfm.add
// CHECK-NEXT: tfm.profile_exit "add  add_node (+1 fused)"
// CHECK-NEXT: return
func.func @graph(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %c = tfm.constant dense<1.0> : tensor<f32> loc("const_node")
  %g = tfm.gelu %x : (tensor<?x64xf32>) -> tensor<?x64xf32> loc("gelu_node")
  %a = tfm.add %g, %c : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32> loc(fused["add_node", "other_node"])
  return %a : tensor<?x64xf32>
}

// -----

// COM: A module with no graph ops gets no markers; markers already there
// COM: are not timed themselves.
// CHECK-LABEL: func.func @empty
// CHECK-NOT: tfm.profile
func.func @empty(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @marked
// CHECK-NEXT: tfm.profile_enter "neg  n"
// CHECK-NEXT: tfm.profile_enter "neg  n"
// CHECK-NEXT: tfm.neg
// CHECK-NEXT: tfm.profile_exit "neg  n"
// CHECK-NEXT: tfm.profile_exit "neg  n"
// CHECK-NEXT: return
func.func @marked(%x: tensor<4xf32>) -> tensor<4xf32> {
  tfm.profile_enter "neg  n"
  %y = tfm.neg %x : (tensor<4xf32>) -> tensor<4xf32> loc("n")
  tfm.profile_exit "neg  n"
  return %y : tensor<4xf32>
}
