// RUN: tfc-opt %s --pass-pipeline='builtin.module(gpu.module(tfc-cuda-expand-math))' | FileCheck %s

// In a kernel: erf and tanh become arithmetic, sqrt, abs and fma NVPTX
// intrinsics; an f64 sqrt is left (no f32 intrinsic applies); functions
// outside GPU modules are not touched.
module attributes {gpu.container_module} {
  // CHECK-LABEL: gpu.func @kernel
  // CHECK-NOT: math.erf
  // CHECK-NOT: math.tanh
  // CHECK: llvm.call_intrinsic "llvm.nvvm.sqrt.rn.f"
  // CHECK: llvm.call_intrinsic "llvm.fabs.f32"
  // CHECK: llvm.call_intrinsic "llvm.fma.f32"
  // CHECK: math.sqrt %{{.*}} : f64
  gpu.module @kernels {
    gpu.func @kernel(%x: f32, %y: f64, %out: memref<4xf32>, %out64: memref<f64>) kernel {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c2 = arith.constant 2 : index
      %c3 = arith.constant 3 : index
      %e = math.erf %x : f32
      %t = math.tanh %x : f32
      %s = math.sqrt %x : f32
      %a = math.absf %x : f32
      %f = math.fma %x, %a, %s : f32
      %d = math.sqrt %y : f64
      memref.store %e, %out[%c0] : memref<4xf32>
      memref.store %t, %out[%c1] : memref<4xf32>
      memref.store %f, %out[%c2] : memref<4xf32>
      memref.store %d, %out64[] : memref<f64>
      gpu.return
    }
  }
  // acosh, asinh and atanh through log, log1p and sqrt, cosh and sinh
  // through exp and expm1 (then expanded in turn); an f32 remainder as an fma of the truncated quotient; an f64
  // one left.
  // CHECK-LABEL: gpu.func @inverse_hyperbolic
  // CHECK-NOT: math.acosh
  // CHECK-NOT: math.asinh
  // CHECK-NOT: math.atanh
  // CHECK-NOT: math.cosh
  // CHECK-NOT: math.sinh
  // CHECK-NOT: math.exp
  // CHECK-NOT: math.log
  // CHECK-NOT: arith.remf %{{.*}} : f32
  // CHECK: llvm.call_intrinsic "llvm.trunc.f32"
  // CHECK: llvm.call_intrinsic "llvm.fma.f32"
  // CHECK: arith.remf %{{.*}} : f64
  gpu.module @more {
    gpu.func @inverse_hyperbolic(%x: f32, %y: f32, %z: f64, %out: memref<4xf32>, %out64: memref<f64>) kernel {
      %c0 = arith.constant 0 : index
      %c1 = arith.constant 1 : index
      %c2 = arith.constant 2 : index
      %c3 = arith.constant 3 : index
      %a = math.acosh %x : f32
      %b = math.asinh %x : f32
      %c0h = math.atanh %x : f32
      %ch = math.cosh %x : f32
      %sh = math.sinh %x : f32
      %h = arith.addf %ch, %sh : f32
      %c = arith.addf %c0h, %h : f32
      %r = arith.remf %x, %y : f32
      %r64 = arith.remf %z, %z : f64
      memref.store %a, %out[%c0] : memref<4xf32>
      memref.store %b, %out[%c1] : memref<4xf32>
      memref.store %c, %out[%c2] : memref<4xf32>
      memref.store %r, %out[%c3] : memref<4xf32>
      memref.store %r64, %out64[] : memref<f64>
      gpu.return
    }
  }
  // An integer |x| as a compare and select.
  // CHECK-LABEL: gpu.func @integer_abs
  // CHECK-SAME: (%[[X:.*]]: i64,
  // CHECK-NOT: math.absi
  // CHECK: %[[ZERO:.*]] = arith.constant 0 : i64
  // CHECK: %[[NEGATIVE:.*]] = arith.cmpi slt, %[[X]], %[[ZERO]] : i64
  // CHECK: %[[NEGATED:.*]] = arith.subi %[[ZERO]], %[[X]] : i64
  // CHECK: arith.select %[[NEGATIVE]], %[[NEGATED]], %[[X]] : i64
  gpu.module @integers {
    gpu.func @integer_abs(%x: i64, %out: memref<i64>) kernel {
      %a = math.absi %x : i64
      memref.store %a, %out[] : memref<i64>
      gpu.return
    }
  }
  // CHECK-LABEL: func.func @host
  // CHECK: math.erf
  // CHECK: math.absi
  func.func @host(%x: f32, %y: i64) -> (f32, i64) {
    %e = math.erf %x : f32
    %a = math.absi %y : i64
    return %e, %a : f32, i64
  }
}
