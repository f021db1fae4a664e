// RUN: tfc-opt %s --split-input-file --tfc-cuda-tile-parallel-loops | FileCheck %s

// A 2-d nest: tiles of 1 x 256, the innermost dim onto blocks x and threads
// x, the outer onto y; a constant-bounded tile with a guard inside.
// CHECK-LABEL: func.func @two_dims
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: scf.if
// CHECK: memref.store
// CHECK: {mapping = [#gpu.loop_dim_map<processor = thread_y, {{.*}}>, #gpu.loop_dim_map<processor = thread_x, {{.*}}>]}
// CHECK: {mapping = [#gpu.loop_dim_map<processor = block_y, {{.*}}>, #gpu.loop_dim_map<processor = block_x, {{.*}}>]}
func.func @two_dims(%x: memref<4x1000xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c1000 = arith.constant 1000 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i, %j) = (%c0, %c0) to (%c4, %c1000) step (%c1, %c1) {
    memref.store %one, %x[%i, %j] : memref<4x1000xf32>
  }
  return
}

// -----

// A parallel loop under a sequential one (a matmul's columns under its
// reduction) becomes a loop in the thread.
// CHECK-LABEL: func.func @nested
// CHECK: scf.for
// CHECK-NEXT: scf.for
// CHECK-NOT: scf.parallel
// CHECK: memref.store
// CHECK: processor = thread_x
func.func @nested(%x: memref<4x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.for %k = %c0 to %c4 step %c1 {
      scf.parallel (%j) = (%c0) to (%c64) step (%c1) {
        memref.store %one, %x[%i, %j] : memref<4x64xf32>
      }
    }
  }
  return
}

// -----

// A loop nest with no parallel dim, and a lone store, each get a parallel
// loop of one iteration (one thread of a launch); a range check that only
// sets an i1 flag does not.
// CHECK-LABEL: func.func @serial
// CHECK: scf.parallel
// CHECK: memref.store %{{.*}}, %{{.*}}[] : memref<f32>
// CHECK: scf.parallel
// CHECK: scf.for
// CHECK: processor = thread_x
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %{{.*}}[] : memref<i1>
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @serial(%x: memref<1000xf32>, %sum: memref<f32>, %flag: memref<i1>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c1000 = arith.constant 1000 : index
  %zero = arith.constant 0.0 : f32
  %true = arith.constant true
  memref.store %zero, %sum[] : memref<f32>
  scf.for %i = %c0 to %c1000 step %c1 {
    %v = memref.load %x[%i] : memref<1000xf32>
    %s = memref.load %sum[] : memref<f32>
    %t = arith.addf %s, %v : f32
    memref.store %t, %sum[] : memref<f32>
  }
  scf.for %i = %c0 to %c1000 step %c1 {
    memref.store %true, %flag[] : memref<i1>
  }
  return
}
