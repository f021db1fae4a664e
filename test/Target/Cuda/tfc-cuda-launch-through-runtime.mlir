// RUN: tfc-opt %s --split-input-file --verify-diagnostics --tfc-cuda-launch-through-runtime | FileCheck %s

// Fires: each launch (host code in the LLVM dialect) becomes a call of the
// runtime's launch with the kernel's index in tfc.cuda.kernels (a kernel
// launched twice keeps its index), the grid and block, the arguments'
// addresses (one struct and one pointer array on the stack, allocated at
// the function's entry) and the graph nodes' names.
// CHECK: module attributes {gpu.container_module, tfc.cuda.kernels = ["scale", "add"]}
// CHECK: llvm.mlir.global private constant @tfc_launch_site_2("node '/MatMul'\00")
// CHECK: llvm.mlir.global private constant @tfc_launch_site_1("node '/Add'\00")
// CHECK: llvm.mlir.global private constant @tfc_launch_site_0("nodes '/MatMul', '/Relu'\00")
// CHECK: llvm.func @tfc_rt_cuda_launch(i32, i64, i64, i64, i64, i64, i64, !llvm.ptr, !llvm.ptr)
// CHECK-LABEL: llvm.func @graph
// CHECK-SAME: (%[[P:.*]]: !llvm.ptr, %[[N:.*]]: i64)
// CHECK: %[[ARGS:.*]] = llvm.alloca %{{.*}} x !llvm.struct<(ptr, i64)>
// CHECK: %[[PARAMS:.*]] = llvm.alloca %{{.*}} x !llvm.array<2 x ptr>
// CHECK: %[[FIELD0:.*]] = llvm.getelementptr %[[ARGS]][0, 0]
// CHECK-NEXT: llvm.store %[[P]], %[[FIELD0]] : !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[SLOT0:.*]] = llvm.getelementptr %[[PARAMS]][0, 0]
// CHECK-NEXT: llvm.store %[[FIELD0]], %[[SLOT0]]
// CHECK-NEXT: %[[FIELD1:.*]] = llvm.getelementptr %[[ARGS]][0, 1]
// CHECK-NEXT: llvm.store %[[N]], %[[FIELD1]] : i64, !llvm.ptr
// CHECK-NEXT: %[[SLOT1:.*]] = llvm.getelementptr %[[PARAMS]][0, 1]
// CHECK-NEXT: llvm.store %[[FIELD1]], %[[SLOT1]]
// CHECK-NEXT: %[[SITE:.*]] = llvm.mlir.addressof @tfc_launch_site_0
// CHECK-NEXT: %[[K0:.*]] = llvm.mlir.constant(0 : i32)
// CHECK-NEXT: llvm.call @tfc_rt_cuda_launch(%[[K0]], %[[N]], %[[ONE:.*]], %[[ONE]], %[[THREADS:.*]], %[[ONE]], %[[ONE]], %[[PARAMS]], %[[SITE]])
// CHECK: %[[K1:.*]] = llvm.mlir.constant(1 : i32)
// CHECK-NEXT: llvm.call @tfc_rt_cuda_launch(%[[K1]],
// CHECK: %[[K0B:.*]] = llvm.mlir.constant(0 : i32)
// CHECK-NEXT: llvm.call @tfc_rt_cuda_launch(%[[K0B]],
// CHECK-NOT: gpu.launch_func
module attributes {gpu.container_module} {
  gpu.binary @kernels [#gpu.object<#nvvm.target, "">]
  llvm.func @graph(%p: !llvm.ptr, %n: i64) {
    %one = llvm.mlir.constant(1 : index) : i64
    %threads = llvm.mlir.constant(256 : index) : i64
    gpu.launch_func @kernels::@scale blocks in (%n, %one, %one) threads in (%threads, %one, %one) : i64 args(%p : !llvm.ptr, %n : i64) loc(fused["/MatMul", "/Relu"])
    gpu.launch_func @kernels::@add blocks in (%n, %one, %one) threads in (%threads, %one, %one) : i64 args(%p : !llvm.ptr) loc("/Add")
    gpu.launch_func @kernels::@scale blocks in (%n, %one, %one) threads in (%threads, %one, %one) : i64 args(%p : !llvm.ptr, %n : i64) loc("/MatMul")
    llvm.return
  }
}

// -----

// Does not fire: host code without launches is left as it is (no kernel
// list, no declaration).
// CHECK-LABEL: module {
// CHECK-NEXT: llvm.func @no_launch
// CHECK-NEXT: llvm.return
// CHECK-NEXT: }
// CHECK-NEXT: }
module {
  llvm.func @no_launch() {
    llvm.return
  }
}

// -----

// Refused: a launch whose operands are not LLVM values yet (the host code
// has not been lowered).
module attributes {gpu.container_module} {
  gpu.binary @kernels [#gpu.object<#nvvm.target, "">]
  func.func @graph(%x: memref<4xf32>) {
    %one = arith.constant 1 : index
    // expected-error @below {{has an operand of type 'index'; lower the host code to the LLVM dialect first}}
    gpu.launch_func @kernels::@scale blocks in (%one, %one, %one) threads in (%one, %one, %one) args(%x : memref<4xf32>)
    return
  }
}
