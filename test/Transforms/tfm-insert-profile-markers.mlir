// RUN: tfc-opt %s --tfm-insert-profile-markers --split-input-file | FileCheck %s

// COM: Each graph op but constants is bracketed by the runtime's enter and
// COM: exit calls, with a site string naming the op and its ONNX node; a
// COM: fused op names its first node and how many more it replaced.
// CHECK-DAG: func.func private @tfc_kernel_profile_exit(!llvm.ptr) attributes {llvm.emit_c_interface}
// CHECK-DAG: func.func private @tfc_kernel_profile_enter(!llvm.ptr) attributes {llvm.emit_c_interface}
// CHECK-DAG: llvm.mlir.global internal constant @[[GELU:tfc_profile_site_[0-9]+]]("gelu  gelu_node\00")
// CHECK-DAG: llvm.mlir.global internal constant @[[ADD:tfc_profile_site_[0-9]+]]("add  add_node (+1 fused)\00")
// CHECK-LABEL: func.func @graph
// CHECK-NEXT: tfm.constant
// CHECK-NEXT: %[[S1:.+]] = llvm.mlir.addressof @[[GELU]] : !llvm.ptr
// CHECK-NEXT: call @tfc_kernel_profile_enter(%[[S1]]) : (!llvm.ptr) -> ()
// CHECK-NEXT: tfm.gelu
// CHECK-NEXT: call @tfc_kernel_profile_exit(%[[S1]]) : (!llvm.ptr) -> ()
// CHECK-NEXT: %[[S2:.+]] = llvm.mlir.addressof @[[ADD]] : !llvm.ptr
// CHECK-NEXT: call @tfc_kernel_profile_enter(%[[S2]]) : (!llvm.ptr) -> ()
// CHECK-NEXT: tfm.add
// CHECK-NEXT: call @tfc_kernel_profile_exit(%[[S2]]) : (!llvm.ptr) -> ()
// CHECK-NEXT: return
func.func @graph(%x: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %c = tfm.constant dense<1.0> : tensor<f32> loc("const_node")
  %g = tfm.gelu %x : (tensor<?x64xf32>) -> tensor<?x64xf32> loc("gelu_node")
  %a = tfm.add %g, %c : (tensor<?x64xf32>, tensor<f32>) -> tensor<?x64xf32> loc(fused["add_node", "other_node"])
  return %a : tensor<?x64xf32>
}

// -----

// COM: A module with no graph ops gets no declarations and no sites.
// CHECK-NOT: llvm.mlir.global
// CHECK-NOT: tfc_kernel_profile
// CHECK-LABEL: func.func @empty
func.func @empty(%x: tensor<4xf32>) -> tensor<4xf32> {
  return %x : tensor<4xf32>
}
