// RUN: tfc-opt %s --tfc-cpu-outline-parallel-loops | FileCheck %s

// COM: The loop body moves to a function of (ctx, begin, end); the memrefs,
// COM: the scalar and the bound it reads travel in a stack struct; constants
// COM: are re-created inside. The outer dim is chunked, the inner stays a loop.
// CHECK: llvm.func @tfc_rt_parallel_for(!llvm.ptr, !llvm.ptr, i64)
// CHECK-LABEL: func.func private @scale_parallel_0(%arg0: !llvm.ptr, %arg1: i64, %arg2: i64)
// CHECK-DAG: arith.constant 64 : index
// CHECK-DAG: %[[IN:.+]] = builtin.unrealized_conversion_cast %{{.+}} : !llvm.struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)> to memref<?x64xf32>
// CHECK-DAG: %[[F:.+]] = llvm.load %{{.+}} : !llvm.ptr -> f32
// CHECK: %[[BEGIN:.+]] = arith.index_cast %arg1 : i64 to index
// CHECK: %[[END:.+]] = arith.index_cast %arg2 : i64 to index
// CHECK: scf.for %[[I:.+]] = %[[BEGIN]] to %[[END]]
// CHECK: scf.parallel (%[[J:.+]]) =
// CHECK: memref.load %[[IN]][%{{.+}}, %[[J]]]
// CHECK: arith.mulf %{{.+}}, %[[F]]
// CHECK: memref.store
// CHECK-LABEL: func.func @scale
// CHECK: %[[CTX:.+]] = llvm.alloca %{{.+}} x !llvm.struct<(struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>, f32, struct<(ptr, ptr, i64, array<2 x i64>, array<2 x i64>)>, i64)>
// CHECK-COUNT-4: llvm.store
// CHECK: %[[FN:.+]] = constant @scale_parallel_0
// CHECK: %[[PTR:.+]] = builtin.unrealized_conversion_cast %[[FN]]
// CHECK: llvm.call @tfc_rt_parallel_for(%[[PTR]], %[[CTX]], %{{.+}})
// CHECK-NOT: scf.parallel
func.func @scale(%in: memref<?x64xf32>, %out: memref<?x64xf32>, %f: f32) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %n = memref.dim %in, %c0 : memref<?x64xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%n, %c64) step (%c1, %c1) {
    %x = memref.load %in[%i, %j] : memref<?x64xf32>
    %y = arith.mulf %x, %f : f32
    memref.store %y, %out[%i, %j] : memref<?x64xf32>
    scf.reduce
  }
  return
}

// COM: A parallel loop with a reduction stays where it is.
// CHECK-LABEL: func.func @sum
// CHECK: scf.parallel
// CHECK-NOT: llvm.call @tfc_rt_parallel_for
func.func @sum(%in: memref<?xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %in, %c0 : memref<?xf32>
  %s = scf.parallel (%i) = (%c0) to (%n) step (%c1) init (%zero) -> f32 {
    %x = memref.load %in[%i] : memref<?xf32>
    scf.reduce(%x : f32) {
    ^bb0(%l: f32, %r: f32):
      %t = arith.addf %l, %r : f32
      scf.reduce.return %t : f32
    }
  }
  return %s : f32
}

// COM: When the body has loops of its own, every parallel dim is chunked.
// CHECK-LABEL: func.func private @matvec_parallel_0
// CHECK: scf.for
// CHECK-NOT: scf.parallel
// CHECK: scf.for
// CHECK: return
func.func @matvec(%a: memref<8x16xf32>, %x: memref<16xf32>, %y: memref<8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
    scf.for %k = %c0 to %c16 step %c1 {
      %v = memref.load %a[%i, %k] : memref<8x16xf32>
      %w = memref.load %x[%k] : memref<16xf32>
      %acc = memref.load %y[%i] : memref<8xf32>
      %p = arith.mulf %v, %w : f32
      %s = arith.addf %acc, %p : f32
      memref.store %s, %y[%i] : memref<8xf32>
    }
    scf.reduce
  }
  return
}
