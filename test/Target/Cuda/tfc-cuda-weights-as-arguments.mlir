// RUN: tfc-opt %s --split-input-file --tfc-cuda-weights-as-arguments | FileCheck %s

// Fires: each global the graph reads becomes one trailing argument (a
// global read twice, one argument), listed in tfc.cuda.weights in order;
// the globals stay, for the library to upload.
// CHECK: memref.global "private" constant @weight
// CHECK: memref.global "private" constant @bias
// CHECK-LABEL: func.func @graph
// CHECK-SAME: (%[[X:.*]]: memref<4xf32>, %[[W:.*]]: memref<4x8xf32>, %[[B:.*]]: memref<8xf32>) -> memref<8xf32>
// CHECK-SAME: attributes {tfc.cuda.weights = [@weight, @bias]}
// CHECK-NOT: memref.get_global
// CHECK: memref.load %[[W]]
// CHECK: memref.load %[[W]]
// CHECK: return %[[B]]
module {
  memref.global "private" constant @weight : memref<4x8xf32> = dense<1.0>
  memref.global "private" constant @bias : memref<8xf32> = dense<2.0>
  func.func @graph(%x: memref<4xf32>) -> memref<8xf32> {
    %w = memref.get_global @weight : memref<4x8xf32>
    %b = memref.get_global @bias : memref<8xf32>
    %w2 = memref.get_global @weight : memref<4x8xf32>
    %c0 = arith.constant 0 : index
    %v = memref.load %w[%c0, %c0] : memref<4x8xf32>
    %u = memref.load %w2[%c0, %c0] : memref<4x8xf32>
    return %b : memref<8xf32>
  }
}

// -----

// Does not fire: a graph without weights keeps its signature and gets no
// attribute.
// CHECK-LABEL: func.func @no_weights(%{{.*}}: memref<4xf32>) -> memref<4xf32> {
// CHECK-NEXT: return
func.func @no_weights(%x: memref<4xf32>) -> memref<4xf32> {
  return %x : memref<4xf32>
}
