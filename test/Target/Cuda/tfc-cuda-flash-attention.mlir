// RUN: tfc-opt %s --split-input-file --tfc-cuda-flash-attention | FileCheck %s

// Fires: a bf16 attention (2 heads of 32, token-major, a padding mask)
// becomes one launch: a block of 128 threads per 64 queries of a head
// (grid: query tiles, heads, batch), reading q, k, v and the mask in place
// and writing a new buffer. Q is staged once (scaled, as bf16 pairs) and
// kept in registers; each step over 64 keys stages K ([key][pair]) and V
// transposed ([d][pair of keys]), multiplies q kᵀ (8 tiles x 2 steps of
// d), takes each row's max across its quad, and adds p v (4 steps of keys
// x 4 tiles of d) on the tensor cores.
// CHECK-LABEL: func.func @padding_mask
// CHECK-DAG: %[[Q:.*]] = bufferization.to_memref %arg0 read_only
// CHECK-DAG: %[[MASK:.*]] = bufferization.to_memref %arg3 read_only
// CHECK: %[[OUT:.*]] = memref.alloc(%{{.*}}, %{{.*}}) {alignment = 64 : i64} : memref<?x?x64xf32>
// CHECK: gpu.launch blocks(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %{{.*}}, %{{.*}} = %[[HEADS:.*]], %{{.*}} = %[[BATCH:.*]]) threads(%{{.*}}, %{{.*}}, %{{.*}}) in (%{{.*}} = %[[THREADS:.*]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) workgroup(%[[QK:.*]] : memref<64x20xi32, #gpu.address_space<workgroup>>, %[[V:.*]] : memref<32x36xi32, #gpu.address_space<workgroup>>)
// CHECK: memref.load %[[Q]]
// CHECK: arith.mulf
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: memref.store %{{.*}}, %[[QK]]
// CHECK: gpu.barrier
// CHECK: scf.for {{.*}} -> (f32, f32, f32, f32,
// CHECK: memref.store %{{.*}}, %[[QK]]
// CHECK: memref.store %{{.*}}, %[[V]]
// CHECK: gpu.barrier
// CHECK-COUNT-16: llvm.call_intrinsic "llvm.nvvm.mma.m16n8k16.row.col.bf16"
// CHECK: memref.load %[[MASK]]
// CHECK: gpu.shuffle  xor
// CHECK: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// CHECK-COUNT-16: llvm.call_intrinsic "llvm.nvvm.mma.m16n8k16.row.col.bf16"
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK: gpu.shuffle  xor
// CHECK: arith.divf
// CHECK: memref.store %{{.*}}, %[[OUT]]
// CHECK: gpu.terminator
// CHECK: %[[RESULT:.*]] = bufferization.to_tensor %[[OUT]] restrict writable
// CHECK-NOT: tfm.attention
// CHECK: return %[[RESULT]]
func.func @padding_mask(%q: tensor<?x?x64xf32>, %k: tensor<?x?x64xf32>, %v: tensor<?x?x64xf32>, %mask: tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32> {
  %0 = tfm.attention %q, %k, %v, %mask {num_heads = 2 : i64, scale = 1.767767e-01 : f32, precision = "bf16"}
      : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x1x1x?xf32>) -> tensor<?x?x64xf32>
  return %0 : tensor<?x?x64xf32>
}

// -----

// Fires: head-major causal attention of 2 heads of 128 with grouped KV
// heads (1): the key tiles stop at the last one the block's queries see.
// CHECK-LABEL: func.func @causal
// CHECK: gpu.launch
// CHECK-SAME: workgroup(%{{.*}} : memref<64x68xi32, #gpu.address_space<workgroup>>, %{{.*}} : memref<128x36xi32, #gpu.address_space<workgroup>>)
// CHECK: arith.cmpi sgt
// CHECK: arith.ceildivui
// CHECK: %[[TILES:.*]] = arith.minui
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[TILES]]
// CHECK: arith.cmpi sle
// CHECK-NOT: tfm.attention
func.func @causal(%q: tensor<?x2x?x128xf32>, %k: tensor<?x1x?x128xf32>, %v: tensor<?x1x?x128xf32>) -> tensor<?x?x256xf32> {
  %0 = tfm.attention %q, %k, %v {num_heads = 2 : i64, scale = 8.838835e-02 : f32, causal = true, precision = "bf16"}
      : (tensor<?x2x?x128xf32>, tensor<?x1x?x128xf32>, tensor<?x1x?x128xf32>) -> tensor<?x?x256xf32>
  return %0 : tensor<?x?x256xf32>
}

// -----

// Does not fire: f32 precision, heads of 8 (not a multiple of 16) and of
// 256 (more than 128) are left to the generic lowering.
// CHECK-LABEL: func.func @not_flash
// CHECK-NOT: gpu.launch
// CHECK-COUNT-3: tfm.attention
func.func @not_flash(%q: tensor<?x?x64xf32>, %q8: tensor<?x?x16xf32>, %q256: tensor<?x?x256xf32>) -> (tensor<?x?x64xf32>, tensor<?x?x16xf32>, tensor<?x?x256xf32>) {
  %0 = tfm.attention %q, %q, %q {num_heads = 2 : i64, scale = 1.767767e-01 : f32}
      : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  %1 = tfm.attention %q8, %q8, %q8 {num_heads = 2 : i64, scale = 0.35355339 : f32, precision = "bf16"}
      : (tensor<?x?x16xf32>, tensor<?x?x16xf32>, tensor<?x?x16xf32>) -> tensor<?x?x16xf32>
  %2 = tfm.attention %q256, %q256, %q256 {num_heads = 1 : i64, scale = 0.0625 : f32, precision = "bf16"}
      : (tensor<?x?x256xf32>, tensor<?x?x256xf32>, tensor<?x?x256xf32>) -> tensor<?x?x256xf32>
  return %0, %1, %2 : tensor<?x?x64xf32>, tensor<?x?x16xf32>, tensor<?x?x256xf32>
}
