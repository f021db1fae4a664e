// RUN: tfc-opt %s --split-input-file --tfc-cuda-host-reads | FileCheck %s

// Fires: the host's loads become reads through the runtime, of the
// element's bytes at the buffer's aligned address plus its offset: a flag
// (one byte, truncated to i1), an f32 (four bytes, bitcast).
// CHECK-LABEL: func.func @reads
// CHECK-SAME: (%[[FLAG:.*]]: memref<i1>, %[[X:.*]]: memref<4x8xf32>)
// CHECK-NOT: memref.load
// CHECK: %{{.*}}, %[[OFFSET:.*]] = memref.extract_strided_metadata %[[FLAG]]
// CHECK: %[[BASE:.*]] = memref.extract_aligned_pointer_as_index %[[FLAG]]
// CHECK: %[[ADDRESS:.*]] = arith.addi %[[BASE]], %[[OFFSET]] : index
// CHECK: %[[A64:.*]] = arith.index_castui %[[ADDRESS]] : index to i64
// CHECK: %[[ONE:.*]] = arith.constant 1 : i64
// CHECK: %[[BITS:.*]] = call @tfc_rt_cuda_read(%[[A64]], %[[ONE]]) : (i64, i64) -> i64
// CHECK: %[[OK:.*]] = arith.trunci %[[BITS]] : i64 to i1
// CHECK: %{{.*}}, %[[XOFF:.*]], %{{.*}}:2, %[[STRIDES:.*]]:2 = memref.extract_strided_metadata %[[X]]
// CHECK: arith.muli %[[STRIDES]]#0
// CHECK: arith.muli %[[STRIDES]]#1
// CHECK: %[[FOUR:.*]] = arith.constant 4 : i64
// CHECK: %[[FBITS:.*]] = call @tfc_rt_cuda_read(%{{.*}}, %[[FOUR]])
// CHECK: %[[F32BITS:.*]] = arith.trunci %[[FBITS]] : i64 to i32
// CHECK: %[[V:.*]] = arith.bitcast %[[F32BITS]] : i32 to f32
// CHECK: return %[[OK]], %[[V]]
// CHECK: func.func private @tfc_rt_cuda_read(i64, i64) -> i64
func.func @reads(%flag: memref<i1>, %x: memref<4x8xf32>) -> (i1, f32) {
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %ok = memref.load %flag[] : memref<i1>
  %v = memref.load %x[%c1, %c2] : memref<4x8xf32>
  return %ok, %v : i1, f32
}

// -----

// Fires: a reshape to a shape held in a buffer reads the shape's dynamic
// dims (index or i64 elements) and becomes a cast with row-major strides.
// CHECK-LABEL: func.func @reshape
// CHECK-SAME: (%[[SRC:.*]]: memref<?xf32>, %[[SHAPE:.*]]: memref<3xi64>)
// CHECK-NOT: memref.reshape
// CHECK: %[[B0:.*]] = call @tfc_rt_cuda_read
// CHECK: %[[D0:.*]] = arith.index_cast %[[B0]] : i64 to index
// CHECK: %[[B2:.*]] = call @tfc_rt_cuda_read
// CHECK: %[[D2:.*]] = arith.index_cast %[[B2]] : i64 to index
// CHECK: %[[TWO:.*]] = arith.constant 2 : index
// CHECK: %[[S0:.*]] = arith.muli %[[D2]], %[[TWO]] : index
// CHECK: memref.reinterpret_cast %[[SRC]] to offset: [0], sizes: [%[[D0]], 2, %[[D2]]], strides: [%[[S0]], %[[D2]], 1] : memref<?xf32> to memref<?x2x?xf32>
func.func @reshape(%src: memref<?xf32>, %shape: memref<3xi64>) -> memref<?x2x?xf32> {
  %r = memref.reshape %src(%shape) : (memref<?xf32>, memref<3xi64>) -> memref<?x2x?xf32>
  return %r : memref<?x2x?xf32>
}

// -----

// Does not fire: loads in a kernel read device memory where they run, and
// a host function without loads is left alone (no runtime declaration).
// CHECK-LABEL: gpu.module @kernels
// CHECK: memref.load
// CHECK-LABEL: func.func @no_reads
// CHECK-NOT: tfc_rt_cuda_read
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @kernel(%x: memref<4xf32>, %y: memref<4xf32>) kernel {
      %i = gpu.thread_id x
      %v = memref.load %x[%i] : memref<4xf32>
      memref.store %v, %y[%i] : memref<4xf32>
      gpu.return
    }
  }
  func.func @no_reads(%x: memref<4xf32>) -> index {
    %c0 = arith.constant 0 : index
    %d = memref.dim %x, %c0 : memref<4xf32>
    return %d : index
  }
}
