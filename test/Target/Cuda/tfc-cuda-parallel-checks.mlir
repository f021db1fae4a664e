// RUN: tfc-opt %s --split-input-file --tfc-cuda-parallel-checks | FileCheck %s

// Fires: the generic lowering's range check over a 2-D index tensor (each
// element's test anded into an i1 flag, in sequence) becomes a parallel
// loop in which each failing element clears the flag.
// CHECK-LABEL: func.func @range_check
// CHECK-SAME: (%[[IDS:.*]]: memref<?x?xi64>, %[[FLAG:.*]]: memref<i1>)
// CHECK-NOT: scf.for
// CHECK: scf.parallel (%[[I:.*]], %[[J:.*]]) = (%{{.*}}, %{{.*}}) to (%{{.*}}, %{{.*}}) step (%{{.*}}, %{{.*}}) {
// CHECK-NEXT: %[[ID:.*]] = memref.load %[[IDS]][%[[I]], %[[J]]]
// CHECK-NEXT: %[[OK:.*]] = arith.cmpi slt, %[[ID]]
// CHECK-NEXT: %[[TRUE:.*]] = arith.constant true
// CHECK-NEXT: %[[BAD:.*]] = arith.xori %[[OK]], %[[TRUE]] : i1
// CHECK-NEXT: scf.if %[[BAD]] {
// CHECK-NEXT: %[[FALSE:.*]] = arith.constant false
// CHECK-NEXT: memref.store %[[FALSE]], %[[FLAG]][] : memref<i1>
// CHECK-NEXT: }
// CHECK-NEXT: scf.reduce
// CHECK: memref.load %[[FLAG]][] : memref<i1>
func.func @range_check(%ids: memref<?x?xi64>, %flag: memref<i1>) -> i1 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %limit = arith.constant 100 : i64
  %d0 = memref.dim %ids, %c0 : memref<?x?xi64>
  %d1 = memref.dim %ids, %c1 : memref<?x?xi64>
  scf.for %i = %c0 to %d0 step %c1 {
    scf.for %j = %c0 to %d1 step %c1 {
      %id = memref.load %ids[%i, %j] : memref<?x?xi64>
      %all = memref.load %flag[] : memref<i1>
      %ok = arith.cmpi slt, %id, %limit : i64
      %both = arith.andi %all, %ok : i1
      memref.store %both, %flag[] : memref<i1>
    }
  }
  %r = memref.load %flag[] : memref<i1>
  return %r : i1
}

// -----

// Does not fire: a loop that writes a tensor (not a flag), a triangular
// nest (the inner bound depends on the outer index), and a flag loop that
// also writes elsewhere.
// CHECK-LABEL: func.func @not_checks
// CHECK-NOT: scf.parallel
// CHECK-COUNT-4: scf.for
// CHECK-NOT: scf.parallel
func.func @not_checks(%x: memref<8xf32>, %ids: memref<8x8xi64>, %flag: memref<i1>, %count: memref<i64>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %one = arith.constant 1.0 : f32
  %limit = arith.constant 100 : i64
  scf.for %i = %c0 to %c8 step %c1 {
    memref.store %one, %x[%i] : memref<8xf32>
  }
  scf.for %i = %c0 to %c8 step %c1 {
    scf.for %j = %c0 to %i step %c1 {
      %id = memref.load %ids[%i, %j] : memref<8x8xi64>
      %all = memref.load %flag[] : memref<i1>
      %ok = arith.cmpi slt, %id, %limit : i64
      %both = arith.andi %ok, %all : i1
      memref.store %both, %flag[] : memref<i1>
    }
  }
  scf.for %i = %c0 to %c8 step %c1 {
    %id = memref.load %ids[%i, %c0] : memref<8x8xi64>
    %all = memref.load %flag[] : memref<i1>
    %ok = arith.cmpi slt, %id, %limit : i64
    %both = arith.andi %ok, %all : i1
    memref.store %both, %flag[] : memref<i1>
    memref.store %id, %count[] : memref<i64>
  }
  return
}
