// RUN: tfc-opt %s --split-input-file --tfc-cuda-copies-to-linalg | FileCheck %s

// Fires: buffer copies (a tensor, a one-element flag) become linalg.copy,
// which the lowering turns into kernels like any other op.
// CHECK-LABEL: func.func @copies
// CHECK-SAME: (%[[A:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<4x8xf32>, %[[F:.*]]: memref<i1>, %[[G:.*]]: memref<i1>)
// CHECK-NEXT: linalg.copy ins(%[[A]] : memref<4x8xf32>) outs(%[[B]] : memref<4x8xf32>)
// CHECK-NEXT: linalg.copy ins(%[[F]] : memref<i1>) outs(%[[G]] : memref<i1>)
// CHECK-NOT: memref.copy
func.func @copies(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %f: memref<i1>, %g: memref<i1>) {
  memref.copy %a, %b : memref<4x8xf32> to memref<4x8xf32>
  memref.copy %f, %g : memref<i1> to memref<i1>
  return
}

// -----

// Does not fire: no copy; the function is left as it is.
// CHECK-LABEL: func.func @no_copy
// CHECK-NEXT: arith.constant
// CHECK-NEXT: linalg.fill
// CHECK-NEXT: return
func.func @no_copy(%a: memref<4xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%a : memref<4xf32>)
  return
}
