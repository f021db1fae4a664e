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

// A loop nest with no parallel dim, a lone store, and a loop that sets an
// i1 flag each get a parallel loop of one iteration (one thread of a
// launch), mapped onto blocks and threads.
// CHECK-LABEL: func.func @serial
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: memref.store %{{.*}}, %{{.*}}[] : memref<f32>
// CHECK: processor = thread_x
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: scf.for
// CHECK: processor = thread_x
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: scf.for
// CHECK: memref.store %{{.*}}, %{{.*}}[] : memref<i1>
// CHECK: processor = thread_x
// CHECK-NOT: scf.for
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

// -----

// A one-element copy: the store takes its load into the launch, which
// would otherwise read device memory on the host.
// CHECK-LABEL: func.func @copy_one
// CHECK-NOT: memref.load
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: scf.if
// CHECK-NEXT: %[[V:.*]] = memref.load %{{.*}}[] : memref<i1>
// CHECK-NEXT: memref.store %[[V]], %{{.*}}[] : memref<i1>
func.func @copy_one(%from: memref<i1>, %to: memref<i1>) {
  %v = memref.load %from[] : memref<i1>
  memref.store %v, %to[] : memref<i1>
  return
}

// -----

// A sequential loop around parallel work (a scan's steps) stays on the
// host, launching the parallel loop at each step.
// CHECK-LABEL: func.func @scan_steps
// CHECK: scf.for %{{.*}} iter_args
// CHECK: scf.parallel
// CHECK: scf.parallel
// CHECK: processor = thread_x
// CHECK: processor = block_x
// CHECK: scf.yield
func.func @scan_steps(%x: memref<16x256xf32>, %running: memref<256xf32>) -> memref<256xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %c256 = arith.constant 256 : index
  %r = scf.for %step = %c0 to %c16 step %c1 iter_args(%acc = %running) -> memref<256xf32> {
    scf.parallel (%j) = (%c0) to (%c256) step (%c1) {
      %a = memref.load %acc[%j] : memref<256xf32>
      %v = memref.load %x[%step, %j] : memref<16x256xf32>
      %s = arith.addf %a, %v : f32
      memref.store %s, %acc[%j] : memref<256xf32>
      scf.reduce
    }
    scf.yield %acc : memref<256xf32>
  }
  return %r : memref<256xf32>
}
