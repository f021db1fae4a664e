// RUN: tfc-opt %s --tfm-fuse-quantized-linear --split-input-file | FileCheck %s
// RUN: tfc-opt %s --tfm-fuse-quantized-linear=emit-remarks --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK

// COM: ONNX Runtime's dynamic form, as MatMulInteger imports it: the chain
// COM: and its bias add become one quantized_linear quantizing its input per
// COM: tensor; the 0-D weight scale becomes [1], the i32 zero point the
// COM: weight's own type. Nothing of the chain is left.
// CHECK-LABEL: func.func @dynamic
// CHECK-DAG: %[[W:.+]] = tfm.constant dense<{{.+}}> : tensor<4x3xi8>
// CHECK-DAG: %[[B:.+]] = tfm.constant dense<{{.+}}> : tensor<3xf32>
// CHECK-DAG: %[[S:.+]] = tfm.constant dense_resource<{{.+}}> : tensor<1xf32>
// CHECK-DAG: %[[Z:.+]] = tfm.constant dense_resource<{{.+}}> : tensor<1xi8>
// CHECK: %[[Y:.+]] = tfm.quantized_linear %arg0, %[[W]], %[[S]], %[[Z]], %[[B]] {input_quantization = "tensor", operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0>} : (tensor<?x4xf32>, tensor<4x3xi8>, tensor<1xf32>, tensor<1xi8>, tensor<3xf32>) -> tensor<?x3xf32>
// CHECK-NOT: dynamic_quantize_linear
// CHECK-NOT: tfm.matmul
// CHECK: return %[[Y]]
// REMARK: remark: fused quantized_linear: dynamic (DynamicQuantizeLinear + MatMulInteger), weight 4x3 'i8', bias
func.func @dynamic(%x: tensor<?x4xf32>) -> tensor<?x3xf32> {
  %w = tfm.constant dense<[[1, -2, 3], [4, 5, -6], [7, 8, 9], [-10, 11, 12]]> : tensor<4x3xi8>
  %wz = tfm.constant dense<2> : tensor<i32>
  %ws = tfm.constant dense<0.5> : tensor<f32>
  %b = tfm.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %q, %s, %z = tfm.dynamic_quantize_linear %x : (tensor<?x4xf32>) -> (tensor<?x4xui8>, tensor<f32>, tensor<ui8>)
  %qi = tfm.cast %q {to = i32} : (tensor<?x4xui8>) -> tensor<?x4xi32>
  %zi = tfm.cast %z {to = i32} : (tensor<ui8>) -> tensor<i32>
  %a = tfm.sub %qi, %zi : (tensor<?x4xi32>, tensor<i32>) -> tensor<?x4xi32>
  %wi = tfm.cast %w {to = i32} : (tensor<4x3xi8>) -> tensor<4x3xi32>
  %wd = tfm.sub %wi, %wz : (tensor<4x3xi32>, tensor<i32>) -> tensor<4x3xi32>
  %p = tfm.matmul %a, %wd : (tensor<?x4xi32>, tensor<4x3xi32>) -> tensor<?x3xi32>
  %f = tfm.cast %p {to = f32} : (tensor<?x3xi32>) -> tensor<?x3xf32>
  %ss = tfm.mul %s, %ws : (tensor<f32>, tensor<f32>) -> tensor<f32>
  %y = tfm.mul %ss, %f : (tensor<f32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  %yb = tfm.add %y, %b : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  return %yb : tensor<?x3xf32>
}

// -----

// COM: QDQ: the input quantized and dequantized with one scale and zero
// COM: point, the weight dequantized per column (axis 1): a static
// COM: quantized_linear of the f32 input with the weight's [N] scales and
// COM: zero points.
// CHECK-LABEL: func.func @qdq
// CHECK: %[[Y:.+]] = tfm.quantized_linear %arg0, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} {input_quantization = "static", operandSegmentSizes = array<i32: 1, 1, 1, 1, 0, 0, 1, 1>} : (tensor<2x?x4xf32>, tensor<4x3xui8>, tensor<3xf32>, tensor<3xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x?x3xf32>
// CHECK-NOT: quantize_linear
// CHECK: return %[[Y]]
// REMARK: remark: fused quantized_linear: QDQ (dequantized input and weight), weight 4x3 'ui8'
func.func @qdq(%x: tensor<2x?x4xf32>) -> tensor<2x?x3xf32> {
  %xs = tfm.constant dense<0.05> : tensor<f32>
  %xz = tfm.constant dense<128> : tensor<ui8>
  %w = tfm.constant dense<[[1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]]> : tensor<4x3xui8>
  %ws = tfm.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %wz = tfm.constant dense<[5, 6, 7]> : tensor<3xui8>
  %xq = tfm.quantize_linear %x, %xs, %xz {axis = 1 : i64, to = ui8} : (tensor<2x?x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x?x4xui8>
  %xd = tfm.dequantize_linear %xq, %xs, %xz {axis = 1 : i64} : (tensor<2x?x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x?x4xf32>
  %wd = tfm.dequantize_linear %w, %ws, %wz {axis = 1 : i64} : (tensor<4x3xui8>, tensor<3xf32>, tensor<3xui8>) -> tensor<4x3xf32>
  %y = tfm.matmul %xd, %wd : (tensor<2x?x4xf32>, tensor<4x3xf32>) -> tensor<2x?x3xf32>
  return %y : tensor<2x?x3xf32>
}

// -----

// COM: QLinearMatMul's import: the input is already 8-bit, so the fused op
// COM: reads it dequantized (requantized exactly by the same parameters);
// COM: the output's quantize_linear stays.
// CHECK-LABEL: func.func @qlinear
// CHECK: %[[D:.+]] = tfm.dequantize_linear %arg0
// CHECK: %[[Y:.+]] = tfm.quantized_linear %[[D]], {{.+}}input_quantization = "static"
// CHECK: tfm.quantize_linear %[[Y]]
func.func @qlinear(%a: tensor<3x4xi8>) -> tensor<3x3xui8> {
  %as = tfm.constant dense<0.02> : tensor<f32>
  %az = tfm.constant dense<-3> : tensor<i8>
  %w = tfm.constant dense<3> : tensor<4x3xi8>
  %ws = tfm.constant dense<0.01> : tensor<f32>
  %ys = tfm.constant dense<0.1> : tensor<f32>
  %yz = tfm.constant dense<100> : tensor<ui8>
  %ad = tfm.dequantize_linear %a, %as, %az {axis = 1 : i64} : (tensor<3x4xi8>, tensor<f32>, tensor<i8>) -> tensor<3x4xf32>
  %wd = tfm.dequantize_linear %w, %ws {axis = 1 : i64} : (tensor<4x3xi8>, tensor<f32>) -> tensor<4x3xf32>
  %p = tfm.matmul %ad, %wd : (tensor<3x4xf32>, tensor<4x3xf32>) -> tensor<3x3xf32>
  %y = tfm.quantize_linear %p, %ys, %yz {axis = 1 : i64, to = ui8} : (tensor<3x3xf32>, tensor<f32>, tensor<ui8>) -> tensor<3x3xui8>
  return %y : tensor<3x3xui8>
}

// -----

// COM: Must not fire: a weight computed at run time, a per-row (axis 0)
// COM: weight scale, an input scale that is not a constant, an i32 product
// COM: not scaled by the input's scale, and a float matmul of plain
// COM: tensors (no remark: not quantized at all).
// CHECK-LABEL: func.func @not_fused
// CHECK-NOT: tfm.quantized_linear
// CHECK: return
// REMARK: remark: not fused as quantized_linear: the weight is not a constant i8 or ui8 matrix
// REMARK: remark: not fused as quantized_linear: the weight's scale or zero point is not a constant per tensor or per column
// REMARK: remark: not fused as quantized_linear: the input is not 8-bit with a constant scale and zero point per tensor
// REMARK: remark: not fused as quantized_linear: the product is not scaled by the input's scale times a constant weight scale
// REMARK-NOT: not fused
func.func @not_fused(%x: tensor<?x4xf32>, %wa: tensor<4x3xi8>, %xs: tensor<f32>, %y: tensor<4x3xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>) {
  %s1 = tfm.constant dense<0.1> : tensor<f32>
  %z1 = tfm.constant dense<0> : tensor<ui8>
  %w = tfm.constant dense<3> : tensor<4x3xi8>
  %rows = tfm.constant dense<[0.1, 0.2, 0.3, 0.4]> : tensor<4xf32>
  %xq = tfm.quantize_linear %x, %s1, %z1 {axis = 1 : i64, to = ui8} : (tensor<?x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<?x4xui8>
  %xd = tfm.dequantize_linear %xq, %s1, %z1 {axis = 1 : i64} : (tensor<?x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x4xf32>
  %wad = tfm.dequantize_linear %wa, %s1 {axis = 1 : i64} : (tensor<4x3xi8>, tensor<f32>) -> tensor<4x3xf32>
  %0 = tfm.matmul %xd, %wad : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %wrd = tfm.dequantize_linear %w, %rows {axis = 0 : i64} : (tensor<4x3xi8>, tensor<4xf32>) -> tensor<4x3xf32>
  %1 = tfm.matmul %xd, %wrd : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %xd2 = tfm.dequantize_linear %xq, %xs, %z1 {axis = 1 : i64} : (tensor<?x4xui8>, tensor<f32>, tensor<ui8>) -> tensor<?x4xf32>
  %wd = tfm.dequantize_linear %w, %s1 {axis = 1 : i64} : (tensor<4x3xi8>, tensor<f32>) -> tensor<4x3xf32>
  %2 = tfm.matmul %xd2, %wd : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %q, %s, %z = tfm.dynamic_quantize_linear %x : (tensor<?x4xf32>) -> (tensor<?x4xui8>, tensor<f32>, tensor<ui8>)
  %qi = tfm.cast %q {to = i32} : (tensor<?x4xui8>) -> tensor<?x4xi32>
  %zi = tfm.cast %z {to = i32} : (tensor<ui8>) -> tensor<i32>
  %a = tfm.sub %qi, %zi : (tensor<?x4xi32>, tensor<i32>) -> tensor<?x4xi32>
  %wi = tfm.cast %w {to = i32} : (tensor<4x3xi8>) -> tensor<4x3xi32>
  %p = tfm.matmul %a, %wi : (tensor<?x4xi32>, tensor<4x3xi32>) -> tensor<?x3xi32>
  %f = tfm.cast %p {to = f32} : (tensor<?x3xi32>) -> tensor<?x3xf32>
  %3 = tfm.mul %f, %s1 : (tensor<?x3xf32>, tensor<f32>) -> tensor<?x3xf32>
  %4 = tfm.matmul %x, %y : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %0, %1, %2, %3, %4 : tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>
}

// -----

// COM: 4-bit weights in QDQ (ONNX's INT4 and UINT4, imported a value to a
// COM: byte): an f32 input times a dequantized weight whose values and zero
// COM: points fit 4 bits is weight-only int4. Blocked along K (axis 0,
// COM: blocks of 2 rows) the [K / 2, N] scale and zero point stay as they
// COM: are, group-wise; per column they become [N] constants; the bias add
// COM: joins.
// CHECK-LABEL: func.func @four_bit
// CHECK-DAG: %[[W:.+]] = tfm.constant dense<{{.+}}> : tensor<4x3xi8>
// CHECK-DAG: %[[S:.+]] = tfm.constant dense<{{.+}}> : tensor<2x3xf32>
// CHECK-DAG: %[[Z:.+]] = tfm.constant dense<{{.+}}> : tensor<2x3xi8>
// CHECK-DAG: %[[B:.+]] = tfm.constant dense<{{.+}}> : tensor<3xf32>
// CHECK: %[[Y0:.+]] = tfm.quantized_linear %arg0, %[[W]], %[[S]], %[[Z]], %[[B]] {input_quantization = "none", operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0>, weight_bits = 4 : i64} : (tensor<?x4xf32>, tensor<4x3xi8>, tensor<2x3xf32>, tensor<2x3xi8>, tensor<3xf32>) -> tensor<?x3xf32>
// CHECK: %[[Y1:.+]] = tfm.quantized_linear %arg0, %{{.+}}, %{{.+}} {input_quantization = "none", operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>, weight_bits = 4 : i64} : (tensor<?x4xf32>, tensor<4x3xui8>, tensor<3xf32>) -> tensor<?x3xf32>
// CHECK-NOT: dequantize_linear
// CHECK-NOT: tfm.matmul
// CHECK: return %[[Y0]], %[[Y1]]
// REMARK: remark: fused quantized_linear: QDQ 4-bit weight-only (dequantized weight), weight 4x3 'i8', groups of 2 rows, bias
// REMARK: remark: fused quantized_linear: QDQ 4-bit weight-only (dequantized weight), weight 4x3 'ui8'
func.func @four_bit(%x: tensor<?x4xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>) {
  %w = tfm.constant dense<[[-8, 7, 0], [1, -2, 3], [4, 5, -6], [7, -8, 2]]> : tensor<4x3xi8>
  %s = tfm.constant dense<[[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]]> : tensor<2x3xf32>
  %z = tfm.constant dense<[[1, -1, 0], [7, -8, 2]]> : tensor<2x3xi8>
  %b = tfm.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %wd = tfm.dequantize_linear %w, %s, %z {axis = 0 : i64, block_size = 2 : i64} : (tensor<4x3xi8>, tensor<2x3xf32>, tensor<2x3xi8>) -> tensor<4x3xf32>
  %p = tfm.matmul %x, %wd : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %y0 = tfm.add %p, %b : (tensor<?x3xf32>, tensor<3xf32>) -> tensor<?x3xf32>
  %u = tfm.constant dense<[[0, 15, 3], [9, 1, 2], [4, 5, 6], [7, 8, 14]]> : tensor<4x3xui8>
  %us = tfm.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %ud = tfm.dequantize_linear %u, %us {axis = 1 : i64} : (tensor<4x3xui8>, tensor<3xf32>) -> tensor<4x3xf32>
  %y1 = tfm.matmul %x, %ud : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %y0, %y1 : tensor<?x3xf32>, tensor<?x3xf32>
}

// -----

// COM: Must not fire for an f32 input: weight values beyond 4 bits (8-bit
// COM: weight-only has no kernel), a zero point beyond 4 bits, blocks along
// COM: N (axis 1), blocks that do not divide K (a short last one), and a
// COM: blocked weight of a dequantized (8-bit) input.
// CHECK-LABEL: func.func @four_bit_not_fused
// CHECK-NOT: tfm.quantized_linear
// CHECK: return
// REMARK: remark: not fused as quantized_linear: a dequantized weight of an f32 input fuses only with 4-bit values and zero points (weight-only int4)
// REMARK: remark: not fused as quantized_linear: a dequantized weight of an f32 input fuses only with 4-bit values and zero points (weight-only int4)
// REMARK: remark: not fused as quantized_linear: the weight's blocks are not whole groups of rows along K with a constant scale
// REMARK: remark: not fused as quantized_linear: the weight's blocks are not whole groups of rows along K with a constant scale
// REMARK: remark: not fused as quantized_linear: blocked weight scales need an f32 input (weight-only)
// REMARK-NOT: not fused
func.func @four_bit_not_fused(%x: tensor<?x4xf32>, %x6: tensor<?x6xf32>) -> (tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>) {
  %wide = tfm.constant dense<[[-9, 7, 0], [1, -2, 3], [4, 5, -6], [7, -8, 2]]> : tensor<4x3xi8>
  %w = tfm.constant dense<[[-8, 7, 0], [1, -2, 3], [4, 5, -6], [7, -8, 2]]> : tensor<4x3xi8>
  %s = tfm.constant dense<0.1> : tensor<3xf32>
  %s2 = tfm.constant dense<0.1> : tensor<2x3xf32>
  %zwide = tfm.constant dense<[8, 0, 0]> : tensor<3xi8>
  %d0 = tfm.dequantize_linear %wide, %s {axis = 1 : i64} : (tensor<4x3xi8>, tensor<3xf32>) -> tensor<4x3xf32>
  %0 = tfm.matmul %x, %d0 : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %d1 = tfm.dequantize_linear %w, %s, %zwide {axis = 1 : i64} : (tensor<4x3xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<4x3xf32>
  %1 = tfm.matmul %x, %d1 : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %sn = tfm.constant dense<0.1> : tensor<4x2xf32>
  %d2 = tfm.dequantize_linear %w, %sn {axis = 1 : i64, block_size = 2 : i64} : (tensor<4x3xi8>, tensor<4x2xf32>) -> tensor<4x3xf32>
  %2 = tfm.matmul %x, %d2 : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  %w6 = tfm.constant dense<1> : tensor<6x3xi8>
  %d3 = tfm.dequantize_linear %w6, %s2 {axis = 0 : i64, block_size = 4 : i64} : (tensor<6x3xi8>, tensor<2x3xf32>) -> tensor<6x3xf32>
  %3 = tfm.matmul %x6, %d3 : (tensor<?x6xf32>, tensor<6x3xf32>) -> tensor<?x3xf32>
  %xs = tfm.constant dense<0.05> : tensor<f32>
  %xz = tfm.constant dense<0> : tensor<i8>
  %xq = tfm.quantize_linear %x, %xs, %xz {axis = 1 : i64, to = i8} : (tensor<?x4xf32>, tensor<f32>, tensor<i8>) -> tensor<?x4xi8>
  %xd = tfm.dequantize_linear %xq, %xs, %xz {axis = 1 : i64} : (tensor<?x4xi8>, tensor<f32>, tensor<i8>) -> tensor<?x4xf32>
  %d4 = tfm.dequantize_linear %w, %s2 {axis = 0 : i64, block_size = 2 : i64} : (tensor<4x3xi8>, tensor<2x3xf32>) -> tensor<4x3xf32>
  %4 = tfm.matmul %xd, %d4 : (tensor<?x4xf32>, tensor<4x3xf32>) -> tensor<?x3xf32>
  return %0, %1, %2, %3, %4 : tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>, tensor<?x3xf32>
}
