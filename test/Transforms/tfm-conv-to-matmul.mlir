// RUN: tfc-opt %s --tfm-conv-to-matmul --split-input-file | FileCheck %s

// COM: A 2-d patch embedding (stride = kernel) with a bias and a symbolic
// COM: batch: patches gathered, one matmul by the transposed weight, the bias
// COM: add, and back to [N, M, Ho, Wo].
// CHECK-LABEL: func.func @patch_embedding
// CHECK-NEXT: %[[W:.+]] = tfm.constant dense_resource<transposed_weight> : tensor<8x2xf32>
// CHECK-NEXT: %[[S0:.+]] = tfm.constant dense<[0, 2, 3, 2, 2, 2]> : tensor<6xi64>
// CHECK-NEXT: %[[X0:.+]] = tfm.reshape %arg0, %[[S0]] : (tensor<?x2x6x4xf32>, tensor<6xi64>) -> tensor<?x2x3x2x2x2xf32>
// CHECK-NEXT: %[[X1:.+]] = tfm.transpose %[[X0]] {perm = array<i64: 0, 2, 4, 1, 3, 5>} : (tensor<?x2x3x2x2x2xf32>) -> tensor<?x3x2x2x2x2xf32>
// CHECK-NEXT: %[[S1:.+]] = tfm.constant dense<[0, 6, 8]> : tensor<3xi64>
// CHECK-NEXT: %[[X2:.+]] = tfm.reshape %[[X1]], %[[S1]] : (tensor<?x3x2x2x2x2xf32>, tensor<3xi64>) -> tensor<?x6x8xf32>
// CHECK-NEXT: %[[M:.+]] = tfm.matmul %[[X2]], %[[W]] : (tensor<?x6x8xf32>, tensor<8x2xf32>) -> tensor<?x6x2xf32>
// CHECK-NEXT: %[[B:.+]] = tfm.add %[[M]], %arg1 : (tensor<?x6x2xf32>, tensor<2xf32>) -> tensor<?x6x2xf32>
// CHECK-NEXT: %[[S2:.+]] = tfm.constant dense<[0, 3, 2, 2]> : tensor<4xi64>
// CHECK-NEXT: %[[Y0:.+]] = tfm.reshape %[[B]], %[[S2]] : (tensor<?x6x2xf32>, tensor<4xi64>) -> tensor<?x3x2x2xf32>
// CHECK-NEXT: %[[Y:.+]] = tfm.transpose %[[Y0]] {perm = array<i64: 0, 3, 1, 2>} : (tensor<?x3x2x2xf32>) -> tensor<?x2x3x2xf32>
// CHECK-NEXT: return %[[Y]]
// CHECK-NOT: tfm.conv
// COM: Weight [M=2, C=2, 2, 2] holds 0..15; row k of the transposed weight is
// COM: (w[0][k], w[1][k]): 0, 8, 1, 9, ... (after the blob's alignment word).
// CHECK: transposed_weight: "0x0400000000000000000000410000803F000010410000004000002041000040400000304100008040000040410000A040000050410000C040000060410000E04000007041"
func.func @patch_embedding(%x: tensor<?x2x6x4xf32>, %b: tensor<2xf32>) -> tensor<?x2x3x2xf32> {
  %w = tfm.constant dense<[[[[0.0, 1.0], [2.0, 3.0]], [[4.0, 5.0], [6.0, 7.0]]],
                           [[[8.0, 9.0], [10.0, 11.0]], [[12.0, 13.0], [14.0, 15.0]]]]> : tensor<2x2x2x2xf32>
  %y = tfm.conv %x, %w, %b {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
      : (tensor<?x2x6x4xf32>, tensor<2x2x2x2xf32>, tensor<2xf32>) -> tensor<?x2x3x2xf32>
  return %y : tensor<?x2x3x2xf32>
}

// -----

// COM: bf16 the same way, the weight transposed two bytes an element: [M=2,
// COM: C=1, 1, 2] holds 1, 2 (row 0) and 3, 4 (row 1), so the transposed
// COM: [2, 2] is 1, 3, 2, 4 (bf16 0x3F80, 0x4040, 0x4000, 0x4080).
// CHECK-LABEL: func.func @patch_embedding_bf16
// CHECK: tfm.constant dense_resource<transposed_weight> : tensor<2x2xbf16>
// CHECK: tfm.matmul {{.+}} -> tensor<1x2x2xbf16>
// CHECK-NOT: tfm.conv
// CHECK: transposed_weight: "0x04000000803F404000408040"
func.func @patch_embedding_bf16(%x: tensor<1x1x2x2xbf16>) -> tensor<1x2x2x1xbf16> {
  %w = tfm.constant dense<[[[[1.0, 2.0]]], [[[3.0, 4.0]]]]> : tensor<2x1x1x2xbf16>
  %y = tfm.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 2>}
      : (tensor<1x1x2x2xbf16>, tensor<2x1x1x2xbf16>) -> tensor<1x2x2x1xbf16>
  return %y : tensor<1x2x2x1xbf16>
}

// -----

// COM: 1-d, no bias, static batch: the reshapes still copy dim 0.
// CHECK-LABEL: func.func @frames_1d
// CHECK: tfm.reshape %arg0, %{{.+}} : (tensor<2x3x8xf32>, tensor<4xi64>) -> tensor<2x3x2x4xf32>
// CHECK: tfm.transpose %{{.+}} {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x3x2x4xf32>) -> tensor<2x2x3x4xf32>
// CHECK: tfm.matmul %{{.+}}, %{{.+}} : (tensor<2x2x12xf32>, tensor<12x5xf32>) -> tensor<2x2x5xf32>
// CHECK-NOT: tfm.add
// CHECK: tfm.transpose %{{.+}} {perm = array<i64: 0, 2, 1>} : (tensor<2x2x5xf32>) -> tensor<2x5x2xf32>
// CHECK-NOT: tfm.conv
func.func @frames_1d(%x: tensor<2x3x8xf32>) -> tensor<2x5x2xf32> {
  %w = tfm.constant dense<1.0> : tensor<5x3x4xf32>
  %y = tfm.conv %x, %w {dilations = array<i64: 1>, pads = array<i64: 0, 0>, strides = array<i64: 4>}
      : (tensor<2x3x8xf32>, tensor<5x3x4xf32>) -> tensor<2x5x2xf32>
  return %y : tensor<2x5x2xf32>
}

// -----

// COM: Must not fire: overlapping windows (stride < kernel), padding,
// COM: dilation, two groups, a width the kernel does not divide, a weight
// COM: that is not a constant, a symbolic spatial dim.
// CHECK-LABEL: func.func @not_patches
// CHECK-COUNT-7: tfm.conv
// CHECK-NOT: tfm.matmul
func.func @not_patches(%x: tensor<1x2x6x6xf32>, %odd: tensor<1x2x6x5xf32>, %wx: tensor<2x2x2x2xf32>, %dyn: tensor<1x2x?x6xf32>)
    -> (tensor<1x2x5x5xf32>, tensor<1x2x4x4xf32>, tensor<1x2x2x2xf32>, tensor<1x2x3x3xf32>, tensor<1x2x3x2xf32>, tensor<1x2x3x3xf32>, tensor<1x2x?x3xf32>) {
  %w = tfm.constant dense<1.0> : tensor<2x2x2x2xf32>
  %wg = tfm.constant dense<1.0> : tensor<2x1x2x2xf32>
  %overlap = tfm.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
      : (tensor<1x2x6x6xf32>, tensor<2x2x2x2xf32>) -> tensor<1x2x5x5xf32>
  %padded = tfm.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
      : (tensor<1x2x6x6xf32>, tensor<2x2x2x2xf32>) -> tensor<1x2x4x4xf32>
  %dilated = tfm.conv %x, %w {dilations = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
      : (tensor<1x2x6x6xf32>, tensor<2x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %grouped = tfm.conv %x, %wg {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
      : (tensor<1x2x6x6xf32>, tensor<2x1x2x2xf32>) -> tensor<1x2x3x3xf32>
  %ragged = tfm.conv %odd, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
      : (tensor<1x2x6x5xf32>, tensor<2x2x2x2xf32>) -> tensor<1x2x3x2xf32>
  %runtime_weight = tfm.conv %x, %wx {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
      : (tensor<1x2x6x6xf32>, tensor<2x2x2x2xf32>) -> tensor<1x2x3x3xf32>
  %symbolic = tfm.conv %dyn, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
      : (tensor<1x2x?x6xf32>, tensor<2x2x2x2xf32>) -> tensor<1x2x?x3xf32>
  return %overlap, %padded, %dilated, %grouped, %ragged, %runtime_weight, %symbolic
      : tensor<1x2x5x5xf32>, tensor<1x2x4x4xf32>, tensor<1x2x2x2xf32>, tensor<1x2x3x3xf32>, tensor<1x2x3x2xf32>, tensor<1x2x3x3xf32>, tensor<1x2x?x3xf32>
}

// -----

// COM: Whisper's audio front end: a 1-d conv with overlapping windows
// COM: (kernel 3, padding 1, stride 2) over a symbolic batch and length. The
// COM: input is padded with a zero column on each side (expanded to the
// COM: batch), one strided slice per tap is stacked behind the channels, and
// COM: the [N, Lo, C*K] columns meet the transposed weight in one matmul.
// CHECK-LABEL: func.func @audio_front_end
// CHECK: %[[ZEROS:.+]] = tfm.expand %{{.+}}, %{{.+}} : (tensor<1x2x1xf32>, tensor<3xi64>) -> tensor<?x2x1xf32>
// CHECK: %[[PADDED:.+]] = tfm.concat %{{.+}}, %arg0, %{{.+}} {axis = 2 : i64} : (tensor<?x2x1xf32>, tensor<?x2x?xf32>, tensor<?x2x1xf32>) -> tensor<?x2x?xf32>
// CHECK-COUNT-3: tfm.slice %[[PADDED]]
// CHECK: tfm.concat %{{.+}}, %{{.+}}, %{{.+}} {axis = 2 : i64} : (tensor<?x2x1x?xf32>, tensor<?x2x1x?xf32>, tensor<?x2x1x?xf32>) -> tensor<?x2x3x?xf32>
// CHECK: tfm.transpose %{{.+}} {perm = array<i64: 0, 3, 1, 2>}
// CHECK: tfm.matmul %{{.+}}, %{{.+}} : (tensor<?x?x6xf32>, tensor<6x4xf32>) -> tensor<?x?x4xf32>
// CHECK: tfm.add
// CHECK: tfm.transpose %{{.+}} {perm = array<i64: 0, 2, 1>} : (tensor<?x?x4xf32>) -> tensor<?x4x?xf32>
// CHECK-NOT: tfm.conv
func.func @audio_front_end(%x: tensor<?x2x?xf32>, %b: tensor<4xf32>) -> tensor<?x4x?xf32> {
  %w = tfm.constant dense<1.0> : tensor<4x2x3xf32>
  %y = tfm.conv %x, %w, %b {dilations = array<i64: 1>, pads = array<i64: 1, 1>, strides = array<i64: 2>}
      : (tensor<?x2x?xf32>, tensor<4x2x3xf32>, tensor<4xf32>) -> tensor<?x4x?xf32>
  return %y : tensor<?x4x?xf32>
}

// -----

// COM: Must not fire as im2col: a dilated 1-d conv, a grouped (depthwise) one.
// CHECK-LABEL: func.func @not_im2col
// CHECK-COUNT-2: tfm.conv
// CHECK-NOT: tfm.matmul
func.func @not_im2col(%x: tensor<1x2x9xf32>) -> (tensor<1x2x5xf32>, tensor<1x2x9xf32>) {
  %w = tfm.constant dense<1.0> : tensor<2x2x3xf32>
  %wg = tfm.constant dense<1.0> : tensor<2x1x3xf32>
  %dilated = tfm.conv %x, %w {dilations = array<i64: 2>, pads = array<i64: 0, 0>, strides = array<i64: 1>}
      : (tensor<1x2x9xf32>, tensor<2x2x3xf32>) -> tensor<1x2x5xf32>
  %depthwise = tfm.conv %x, %wg {dilations = array<i64: 1>, group = 2 : i64, pads = array<i64: 1, 1>, strides = array<i64: 1>}
      : (tensor<1x2x9xf32>, tensor<2x1x3xf32>) -> tensor<1x2x9xf32>
  return %dilated, %depthwise : tensor<1x2x5xf32>, tensor<1x2x9xf32>
}
