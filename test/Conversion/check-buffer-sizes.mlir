// RUN: split-file %s %t
// RUN: tfc-opt %t/fire.mlir --split-input-file --tfc-check-buffer-sizes | FileCheck %s
// RUN: not tfc-opt %t/too-large.mlir --tfc-check-buffer-sizes 2>&1 | FileCheck %s --check-prefix=TOO-LARGE

//--- fire.mlir

// COM: Each run-time dim multiplies the size in bytes (4 per f32, times the
// COM: static 3) with a check on the high half; zero dims count as one; the
// COM: product must stay below 2^63. One assert names the node.
// CHECK-LABEL: func.func @dynamic
// CHECK-DAG: %[[BYTES:.+]] = arith.constant 12 : i64
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1 : i64
// CHECK: %[[N:.+]] = arith.index_castui %arg0 : index to i64
// CHECK: %[[N1:.+]] = arith.maxui %[[N]], %[[ONE]] : i64
// CHECK: %[[LOW:.+]], %[[HIGH:.+]] = arith.mului_extended %[[BYTES]], %[[N1]] : i64
// CHECK: arith.cmpi eq, %[[HIGH]]
// CHECK: arith.mului_extended %[[LOW]]
// CHECK: arith.cmpi sge
// CHECK: cf.assert %{{.+}}, "node '/MatMul': the dims chosen at run time make a buffer of more than 2^63 bytes"
// CHECK-NEXT: memref.alloc(%arg0, %arg1) : memref<?x3x?xf32>
func.func @dynamic(%n: index, %m: index) -> memref<?x3x?xf32> {
  %a = memref.alloc(%n, %m) : memref<?x3x?xf32> loc(#loc)
  return %a : memref<?x3x?xf32>
}
#loc = loc("/MatMul")

// -----

// COM: A static buffer needs no check, even a large one that fits.
// CHECK-LABEL: func.func @static
// CHECK-NOT: cf.assert
// CHECK: memref.alloc() : memref<1024x1048576xf32>
func.func @static() -> memref<1024x1048576xf32> {
  %a = memref.alloc() : memref<1024x1048576xf32>
  return %a : memref<1024x1048576xf32>
}

//--- too-large.mlir
// COM: A static size past 2^63 bytes is refused at compile time.
// TOO-LARGE: error: loc("Expand_7"): node 'Expand_7': a buffer of type 'memref<4611686018427387904x2xf32>' has more than 2^63 bytes
func.func @too_large() -> memref<4611686018427387904x2xf32> {
  %a = memref.alloc() : memref<4611686018427387904x2xf32> loc("Expand_7")
  return %a : memref<4611686018427387904x2xf32>
}
