// RUN: tfc-opt %s --split-input-file --tfc-cuda-tensor-core-matmul | FileCheck %s

// Fires: a linear of an f32 input (rounded to bf16) by a bf16 weight, as
// tfc compile --quantize=bf16 lowers it. The leading dims collapse into
// the rows; a launch of 256 threads per 128 x 128 tile of the result
// stages the operands in shared memory as bf16 pairs and multiplies them
// with 32 mma.sync (m16n8k16, bf16) per step of 32 along k.
// CHECK-LABEL: func.func @rounded_input
// CHECK-SAME: (%[[A:.*]]: memref<?x?x64xf32>, %[[W:.*]]: memref<64x96xbf16>, %[[C:.*]]: memref<?x?x96xf32>)
// CHECK-DAG: %[[A2:.*]] = memref.collapse_shape %[[A]] {{\[}}[0, 1], [2]]
// CHECK-DAG: %[[C2:.*]] = memref.collapse_shape %[[C]] {{\[}}[0, 1], [2]]
// CHECK-DAG: %[[M:.*]] = memref.dim %[[C2]], %{{.*}} : memref<?x96xf32>
// CHECK-DAG: %[[N:.*]] = memref.dim %[[C2]], %{{.*}} : memref<?x96xf32>
// CHECK-DAG: %[[GX:.*]] = arith.ceildivui %[[N]], %{{.*}} : index
// CHECK-DAG: %[[GY:.*]] = arith.ceildivui %[[M]], %{{.*}} : index
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[GX]], %{{.*}} = %[[GY]], %{{.*}} = %{{.*}}) threads(%{{.*}}) in (%{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) workgroup(%[[ATILE:.*]] : memref<128x20xi32, #gpu.address_space<workgroup>>, %[[BTILE:.*]] : memref<128x20xi32, #gpu.address_space<workgroup>>)
// CHECK: scf.for {{.*}} -> (f32, f32,
// CHECK: memref.load %[[A2]]
// CHECK-NEXT: arith.truncf %{{.*}} : f32 to bf16
// CHECK: memref.store %{{.*}}, %[[ATILE]]
// CHECK: memref.load %[[W]]
// CHECK-NOT: arith.truncf
// CHECK: memref.store %{{.*}}, %[[BTILE]]
// CHECK: gpu.barrier
// CHECK-COUNT-32: llvm.call_intrinsic "llvm.nvvm.mma.m16n8k16.row.col.bf16"
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK: memref.load %[[C2]]
// CHECK-NEXT: arith.addf
// CHECK-NEXT: memref.store %{{.*}}, %[[C2]]
// CHECK: gpu.terminator
// CHECK-NOT: linalg.generic
func.func @rounded_input(%a: memref<?x?x64xf32>, %w: memref<64x96xbf16>, %c: memref<?x?x96xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>, affine_map<(d0, d1, d2, d3) -> (d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>],
                  iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
      ins(%a, %w : memref<?x?x64xf32>, memref<64x96xbf16>) outs(%c : memref<?x?x96xf32>) {
  ^bb0(%x: f32, %y: bf16, %acc: f32):
    %r = arith.truncf %x : f32 to bf16
    %xe = arith.extf %r : bf16 to f32
    %ye = arith.extf %y : bf16 to f32
    %p = arith.mulf %xe, %ye : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Fires: a bf16 input, rows already 2-D (no collapse, no rounding).
// CHECK-LABEL: func.func @bf16_input
// CHECK-NOT: memref.collapse_shape
// CHECK: gpu.launch
// CHECK-NOT: arith.truncf
// CHECK: llvm.call_intrinsic "llvm.nvvm.mma.m16n8k16.row.col.bf16"
func.func @bf16_input(%a: memref<?x64xbf16>, %w: memref<64x96xbf16>, %c: memref<?x96xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %w : memref<?x64xbf16>, memref<64x96xbf16>) outs(%c : memref<?x96xf32>) {
  ^bb0(%x: bf16, %y: bf16, %acc: f32):
    %xe = arith.extf %x : bf16 to f32
    %ye = arith.extf %y : bf16 to f32
    %p = arith.mulf %ye, %xe : f32
    %s = arith.addf %p, %acc : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Does not fire: f32 weights (no tensor-core form without TF32), an
// input with strides (a slice), and a body that is more than the product.
// CHECK-LABEL: func.func @not_linears
// CHECK-NOT: gpu.launch
// CHECK-COUNT-3: linalg.generic
// CHECK-NOT: gpu.launch
func.func @not_linears(%a: memref<?x64xf32>, %w32: memref<64x96xf32>, %w: memref<64x96xbf16>, %c: memref<?x96xf32>,
                       %strided: memref<?x64xf32, strided<[128, 1]>>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %w32 : memref<?x64xf32>, memref<64x96xf32>) outs(%c : memref<?x96xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%strided, %w : memref<?x64xf32, strided<[128, 1]>>, memref<64x96xbf16>) outs(%c : memref<?x96xf32>) {
  ^bb0(%x: f32, %y: bf16, %acc: f32):
    %r = arith.truncf %x : f32 to bf16
    %xe = arith.extf %r : bf16 to f32
    %ye = arith.extf %y : bf16 to f32
    %p = arith.mulf %xe, %ye : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %w : memref<?x64xf32>, memref<64x96xbf16>) outs(%c : memref<?x96xf32>) {
  ^bb0(%x: f32, %y: bf16, %acc: f32):
    %g = math.tanh %x : f32
    %r = arith.truncf %g : f32 to bf16
    %xe = arith.extf %r : bf16 to f32
    %ye = arith.extf %y : bf16 to f32
    %p = arith.mulf %xe, %ye : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
