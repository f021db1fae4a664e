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

// Fires: a range check's flag loop that tfc-cuda-parallel-checks did not
// make parallel would read the GPU's buffers on the host too.
func.func @host_flag_loop(%ids: memref<4xi64>, %flag: memref<i1>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %limit = arith.constant 100 : i64
  // expected-error @below {{this loop nest could not be mapped onto GPU blocks and threads}}
  scf.for %i = %c0 to %c4 step %c1 {
    %id = memref.load %ids[%i] : memref<4xi64>
    %ok = arith.cmpi slt, %id, %limit : i64
    %all = memref.load %flag[] : memref<i1>
    %both = arith.andi %ok, %all : i1
    memref.store %both, %flag[] : memref<i1>
  }
  return
}

// -----

// Does not fire: stores inside a launch, a host loop of launches (a scan's
// steps), and the host reading a value (a check's flag), which
// tfc-cuda-host-reads reads back from the GPU.
// CHECK-LABEL: func.func @on_device
func.func @on_device(%x: memref<4xf32>, %flag: memref<i1>) -> i1 {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %one = arith.constant 1.0 : f32
  // CHECK: gpu.launch
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    memref.store %one, %x[%tx] : memref<4xf32>
    gpu.terminator
  }
  // CHECK: scf.for
  // CHECK: gpu.launch
  %c0 = arith.constant 0 : index
  scf.for %step = %c0 to %c4 step %c1 {
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
               threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
      %v = memref.load %x[%step] : memref<4xf32>
      memref.store %v, %x[%tx] : memref<4xf32>
      gpu.terminator
    }
  }
  // CHECK: memref.load
  %ok = memref.load %flag[] : memref<i1>
  return %ok : i1
}
