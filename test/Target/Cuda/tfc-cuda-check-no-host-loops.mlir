// RUN: tfc-opt %s --split-input-file --verify-diagnostics --tfc-cuda-check-no-host-loops | FileCheck %s

// Fires: a loop that computes a tensor on the host.
func.func @host_loop(%x: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %one = arith.constant 1.0 : f32
  // expected-error @below {{this loop nest could not be mapped onto GPU blocks and threads}}
  scf.for %i = %c0 to %c4 step %c1 {
    memref.store %one, %x[%i] : memref<4xf32>
  }
  return
}

// -----

// Fires: a lone store on the host.
func.func @host_store(%x: memref<f32>) {
  %one = arith.constant 1.0 : f32
  // expected-error @below {{this store would run on the host}}
  memref.store %one, %x[] : memref<f32>
  return
}

// -----

// Does not fire: stores inside a launch, and a range check that only sets
// an i1 flag on the host.
// CHECK-LABEL: func.func @on_device
func.func @on_device(%x: memref<4xf32>, %ids: memref<4xi64>, %flag: memref<i1>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %one = arith.constant 1.0 : f32
  %limit = arith.constant 100 : i64
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    memref.store %one, %x[%tx] : memref<4xf32>
    gpu.terminator
  }
  // CHECK: scf.for
  scf.for %i = %c0 to %c4 step %c1 {
    %id = memref.load %ids[%i] : memref<4xi64>
    %ok = arith.cmpi slt, %id, %limit : i64
    %all = memref.load %flag[] : memref<i1>
    %both = arith.andi %ok, %all : i1
    memref.store %both, %flag[] : memref<i1>
  }
  return
}
