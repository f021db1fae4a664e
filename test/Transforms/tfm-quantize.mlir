// RUN: tfc-opt %s --tfm-quantize --split-input-file | FileCheck %s
// RUN: tfc-opt %s --tfm-quantize=emit-remarks --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=REMARK
// RUN: tfc-opt %s --tfm-quantize="keep=/fc1/MatMul emit-remarks" --split-input-file | FileCheck %s --check-prefix=KEEP
// RUN: not tfc-opt %s --tfm-quantize=mode=int3 --split-input-file 2>&1 | FileCheck %s --check-prefix=MODE
// RUN: tfc-opt %s --tfm-quantize=mode=bf16 --split-input-file | FileCheck %s --check-prefix=BF16
// RUN: tfc-opt %s --tfm-quantize="mode=bf16 emit-remarks" --split-input-file 2>&1 >/dev/null | FileCheck %s --check-prefix=BF16-REMARK
// RUN: tfc-opt %s --tfm-quantize="mode=int8-static emit-remarks" --split-input-file 2>%t.remarks | FileCheck %s --check-prefix=STATIC
// RUN: FileCheck %s --check-prefix=STATIC-REMARK < %t.remarks
// RUN: tfc-opt %s --tfm-quantize="mode=int4 group=32 emit-remarks" --split-input-file 2>%t.int4 | FileCheck %s --check-prefix=INT4
// RUN: FileCheck %s --check-prefix=INT4-REMARK < %t.int4
// RUN: tfc-opt %s --tfm-quantize="mode=int4 group=32 zero-points" --split-input-file | FileCheck %s --check-prefix=INT4-ZERO
// RUN: not tfc-opt %s --tfm-quantize="mode=int4 group=48" --split-input-file 2>&1 | FileCheck %s --check-prefix=GROUP

// COM: A linear by a constant weight: int8 weights per output column,
// COM: symmetric, rounded half to even (0.5 * 127 = 63.5 -> 64, -2 / (4 /
// COM: 127) = -63.5 -> -64): [[127, -64], [64, 127]]; scales 1/127 and
// COM: 4/127. The bias and the activation stay in the epilogue; the f32
// COM: weight is gone.
// CHECK-LABEL: func.func @linear
// CHECK-DAG: %[[B:.+]] = tfm.constant dense<[5.000000e-01, 1.000000e+00]> : tensor<2xf32>
// CHECK-DAG: %[[W:.+]] = tfm.constant dense_resource<[[WNAME:.+]]> : tensor<2x2xi8>
// CHECK-DAG: %[[S:.+]] = tfm.constant dense_resource<[[SNAME:.+]]> : tensor<2xf32>
// CHECK: tfm.quantized_linear %arg0, %[[W]], %[[S]], %[[B]] {activation = "relu", operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 0>}
// CHECK-NOT: tensor<2x2xf32>
// CHECK: [[WNAME]]: "0x040000007FC0407F"
// CHECK: [[SNAME]]: "0x040000000402013C0402013D"
// KEEP-LABEL: func.func @linear
// KEEP: tfm.quantized_linear
func.func @linear(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %w = tfm.constant dense<[[1.0, -2.0], [0.5, 4.0]]> : tensor<2x2xf32>
  %b = tfm.constant dense<[0.5, 1.0]> : tensor<2xf32>
  // REMARK: remark: {{.*}}: quantized: /fc0/MatMul: int8 weights 2x2 per channel, activations per row
  %y = tfm.linear %x, %w, %b {activation = "relu", operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<?x2xf32> loc(fused["/fc0/MatMul", "/fc0/Relu"])
  return %y : tensor<?x2xf32>
}

// -----

// COM: A bare matmul by a constant matrix (an LM head) quantizes too, with
// COM: no epilogue; a residual is kept. A column of zeros takes scale 1.
// COM: The weight the two share is rounded once.
// CHECK-LABEL: func.func @matmul_and_residual
// CHECK: %[[W:.+]] = tfm.constant dense_resource<{{.+}}> : tensor<4x4xi8>
// CHECK: %[[S:.+]] = tfm.constant dense_resource<{{.+}}> : tensor<4xf32>
// CHECK-NOT: tfm.constant
// CHECK: tfm.quantized_linear %arg0, %[[W]], %[[S]] {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>}
// CHECK: tfm.quantized_linear %arg0, %[[W]], %[[S]], %arg0 {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 1, 0, 0>}
// BF16-LABEL: func.func @matmul_and_residual
// BF16: %[[W:.+]] = tfm.constant dense_resource<{{.+}}> : tensor<4x4xbf16>
// BF16-NOT: tfm.constant
// BF16: tfm.linear %arg0, %[[W]] {operandSegmentSizes = array<i32: 1, 1, 0, 0>}
// BF16: tfm.linear %arg0, %[[W]], %arg0 {operandSegmentSizes = array<i32: 1, 1, 0, 1>}
// KEEP-LABEL: func.func @matmul_and_residual
// KEEP: tfm.quantized_linear
// KEEP-NOT: tfm.quantized_linear
// KEEP: tfm.linear
func.func @matmul_and_residual(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
  %w = tfm.constant dense<[[1.0, 0.0, 2.0, 3.0], [0.5, 0.0, 1.0, 1.0], [0.25, 0.0, -1.0, 2.0], [1.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
  // REMARK: remark: {{.*}}: quantized: /head/MatMul: int8 weights 4x4 per channel, activations per row
  %a = tfm.matmul %x, %w : (tensor<2x3x4xf32>, tensor<4x4xf32>) -> tensor<2x3x4xf32> loc("/head/MatMul")
  // REMARK: remark: {{.*}}: quantized: /fc1/MatMul: int8 weights 4x4 per channel, activations per row
  %b = tfm.linear %x, %w, %x {operandSegmentSizes = array<i32: 1, 1, 0, 1>} : (tensor<2x3x4xf32>, tensor<4x4xf32>, tensor<2x3x4xf32>) -> tensor<2x3x4xf32> loc("/fc1/MatMul")
  return %a, %b : tensor<2x3x4xf32>, tensor<2x3x4xf32>
}

// -----

// COM: Must not fire: a weight computed at run time, a batched matmul of
// COM: two activations, an f16 linear.
// CHECK-LABEL: func.func @not_quantized
// CHECK-NOT: tfm.quantized_linear
// CHECK: return
func.func @not_quantized(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>, %q: tensor<2x4x8xf32>, %k: tensor<2x8x4xf32>, %h: tensor<4x8xf16>) -> (tensor<4x8xf32>, tensor<2x4x4xf32>, tensor<4x8xf16>) {
  // REMARK: remark: {{.*}}: kept f32: /dyn/MatMul: the weight is not a constant
  %a = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32> loc("/dyn/MatMul")
  %s = tfm.matmul %q, %k : (tensor<2x4x8xf32>, tensor<2x8x4xf32>) -> tensor<2x4x4xf32>
  %hw = tfm.constant dense<1.0> : tensor<8x8xf16>
  // REMARK: remark: {{.*}}: kept f32: /half/MatMul: not an f32 linear
  %c = tfm.linear %h, %hw {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<4x8xf16>, tensor<8x8xf16>) -> tensor<4x8xf16> loc("/half/MatMul")
  return %a, %s, %c : tensor<4x8xf32>, tensor<2x4x4xf32>, tensor<4x8xf16>
}

// -----

// COM: mode=bf16: a linear's weight rounded to bf16, nearest with ties to
// COM: even (1 + 2^-8 -> 1.0 = 0x3F80, 1 + 3 * 2^-8 -> 1 + 2^-6 = 0x3F82),
// COM: the op still a tfm.linear (f32 input by bf16 weight), its epilogue
// COM: kept; attention multiplies in bf16. mode=int8 leaves attention
// COM: alone.
// CHECK-LABEL: func.func @bf16_rounding
// CHECK-NOT: precision
// CHECK: return
// BF16-LABEL: func.func @bf16_rounding
// BF16: %[[W:.+]] = tfm.constant dense_resource<[[WNAME:.+]]> : tensor<1x2xbf16>
// BF16: tfm.linear %arg0, %[[W]], %{{.+}} {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x1xf32>, tensor<1x2xbf16>, tensor<2xf32>) -> tensor<?x2xf32>
// BF16: tfm.attention {{.+}} precision = "bf16"
// BF16: [[WNAME]]: "0x04000000803F823F"
// BF16-REMARK: remark: {{.*}}: quantized: /fc/MatMul: bf16 weights 1x2, activations rounded to bf16
// BF16-REMARK: remark: {{.*}}: quantized: /attn: attention products in bf16
func.func @bf16_rounding(%x: tensor<?x1xf32>, %q: tensor<1x4x8xf32>) -> (tensor<?x2xf32>, tensor<1x4x8xf32>) {
  %w = tfm.constant dense<[[1.00390625, 1.01171875]]> : tensor<1x2xf32>
  %b = tfm.constant dense<[0.5, 1.0]> : tensor<2xf32>
  %y = tfm.linear %x, %w, %b {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x1xf32>, tensor<1x2xf32>, tensor<2xf32>) -> tensor<?x2xf32> loc("/fc/MatMul")
  %o = tfm.attention %q, %q, %q {num_heads = 2 : i64, scale = 0.5 : f32} : (tensor<1x4x8xf32>, tensor<1x4x8xf32>, tensor<1x4x8xf32>) -> tensor<1x4x8xf32> loc("/attn")
  return %y, %o : tensor<?x2xf32>, tensor<1x4x8xf32>
}

// -----

// COM: mode=int8-static: a linear with its calibrated input range
// COM: [-1, 3] gets the static uint8 quantization of that range (scale
// COM: 4 / 255, zero point round(255 / 4) = 64); one without a range stays
// COM: f32. Other modes ignore the range.
// STATIC-LABEL: func.func @int8_static
// STATIC-DAG: %[[S:.+]] = tfm.constant dense<0.0156862754> : tensor<f32>
// STATIC-DAG: %[[Z:.+]] = tfm.constant dense<64> : tensor<ui8>
// STATIC: tfm.quantized_linear %arg0, %{{.+}}, %{{.+}}, %[[S]], %[[Z]] {input_quantization = "static", operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 1, 1>}
// STATIC: tfm.linear %arg0
// STATIC-NOT: tfc.input_range
// STATIC-REMARK: remark: {{.*}}: quantized: /ranged/MatMul: int8 weights 2x2 per channel, activations static (calibrated range)
// STATIC-REMARK: remark: {{.*}}: kept f32: /unranged/MatMul: no calibrated input range (int8-static needs calibration data)
// CHECK-LABEL: func.func @int8_static
// CHECK-COUNT-3: tfm.quantized_linear %arg0, %{{.+}}, %{{.+}} {operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0>}
// COM: A layer the budget keeps in f32 loses the driver's attributes.
// KEEP-LABEL: func.func @int8_static
// KEEP: tfm.linear %arg0, %{{.+}} {operandSegmentSizes = array<i32: 1, 1, 0, 0>} :
// KEEP-NOT: tfc.input_range
func.func @int8_static(%x: tensor<?x2xf32>) -> (tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>) {
  %w = tfm.constant dense<[[1.0, -2.0], [0.5, 4.0]]> : tensor<2x2xf32>
  %a = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>, tfc.input_range = array<f32: -1.0, 3.0>} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32> loc("/ranged/MatMul")
  %b = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32> loc("/unranged/MatMul")
  %c = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>, tfc.input_range = array<f32: -1.0, 3.0>} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32> loc("/fc1/MatMul")
  return %a, %b, %c : tensor<?x2xf32>, tensor<?x2xf32>, tensor<?x2xf32>
}

// -----

// COM: int8-static with SmoothQuant's factors (tfc.smoothing, s = [2, 0.5]):
// COM: the input is multiplied by 1 / s = [0.5, 2] as it runs, the weight's
// COM: rows by s before rounding: [[2, -4], [0.25, 2]] per column scales
// COM: 2/127 and 4/127 -> [[127, -127], [16, 64]] (63.5 to even).
// STATIC-LABEL: func.func @smoothed
// STATIC-DAG: %[[D:.+]] = tfm.constant dense<[5.000000e-01, 2.000000e+00]> : tensor<2xf32>
// STATIC-DAG: %[[W:.+]] = tfm.constant dense_resource<[[WNAME:.+]]> : tensor<2x2xi8>
// STATIC: %[[X:.+]] = tfm.mul %arg0, %[[D]]
// STATIC: tfm.quantized_linear %[[X]], %[[W]], {{.+}}input_quantization = "static"
// STATIC: [[WNAME]]: "0x040000007F811040"
func.func @smoothed(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %w = tfm.constant dense<[[1.0, -2.0], [0.5, 4.0]]> : tensor<2x2xf32>
  %a = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>, tfc.input_range = array<f32: -1.0, 3.0>, tfc.smoothing = array<f32: 2.0, 0.5>} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32> loc("/smoothed/MatMul")
  return %a : tensor<?x2xf32>
}

// MODE: tfm-quantize: unknown mode 'int3' (int8, int8-static, bf16, int4)

// -----

// COM: mode=int4 (group 32): w = (k - 12) / 4 for k = 0..31, one group.
// COM: Symmetric: its largest magnitude, 4.75, lands on 7 (scale 4.75 / 7),
// COM: -3 on -4; the op is weight-only (input_quantization "none",
// COM: weight_bits 4) with the scale [1, 1]. With zero points: [-3, 4.75]
// COM: onto 0..15 (scale 7.75 / 15, zero point 6). A linear whose K (2) is
// COM: not a multiple of the group stays f32.
// INT4-LABEL: func.func @int4
// INT4-DAG: %[[W:.+]] = tfm.constant dense_resource<[[WNAME:.+]]> : tensor<32x1xi8>
// INT4-DAG: %[[S:.+]] = tfm.constant dense_resource<[[SNAME:.+]]> : tensor<1x1xf32>
// INT4: tfm.quantized_linear %arg0, %[[W]], %[[S]], %{{.+}} {activation = "relu", input_quantization = "none", operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 0>, weight_bits = 4 : i64} : (tensor<?x32xf32>, tensor<32x1xi8>, tensor<1x1xf32>, tensor<1xf32>) -> tensor<?x1xf32>
// INT4: tfm.linear %arg1
// INT4: [[WNAME]]: "0x04000000FCFCFCFDFDFDFEFEFFFFFF000000010101020203030304040405050606060707"
// INT4: [[SNAME]]: "0x04000000DBB62D3F"
// INT4-REMARK: remark: {{.*}}: quantized: /int4/MatMul: int4 weights 32x1 in groups of 32 rows, symmetric, activations f32
// INT4-REMARK: remark: {{.*}}: kept f32: /narrow/MatMul: K = 2 is not a multiple of the group, 32
// INT4-ZERO-LABEL: func.func @int4
// INT4-ZERO-DAG: %[[W:.+]] = tfm.constant dense_resource<[[WNAME:.+]]> : tensor<32x1xui8>
// INT4-ZERO-DAG: %[[S:.+]] = tfm.constant dense_resource<[[SNAME:.+]]> : tensor<1x1xf32>
// INT4-ZERO-DAG: %[[Z:.+]] = tfm.constant dense_resource<[[ZNAME:.+]]> : tensor<1x1xui8>
// INT4-ZERO: tfm.quantized_linear %arg0, %[[W]], %[[S]], %[[Z]], %{{.+}} {activation = "relu", input_quantization = "none", operandSegmentSizes = array<i32: 1, 1, 1, 1, 1, 0, 0, 0>, weight_bits = 4 : i64}
// INT4-ZERO: [[WNAME]]: "0x0400000000010102020303040405050606060707080809090A0A0B0B0C0C0D0D0E0E0F0F"
// INT4-ZERO: [[SNAME]]: "0x040000004444043F"
// INT4-ZERO: [[ZNAME]]: "0x0400000006"
// GROUP: error: tfm-quantize: int4 groups are 32, 64 or 128 rows, not 48
func.func @int4(%x: tensor<?x32xf32>, %y: tensor<?x2xf32>) -> (tensor<?x1xf32>, tensor<?x2xf32>) {
  %w = tfm.constant dense<[[-3.0], [-2.75], [-2.5], [-2.25], [-2.0], [-1.75], [-1.5], [-1.25], [-1.0], [-0.75], [-0.5], [-0.25], [0.0], [0.25], [0.5], [0.75], [1.0], [1.25], [1.5], [1.75], [2.0], [2.25], [2.5], [2.75], [3.0], [3.25], [3.5], [3.75], [4.0], [4.25], [4.5], [4.75]]> : tensor<32x1xf32>
  %b = tfm.constant dense<[0.5]> : tensor<1xf32>
  %a = tfm.linear %x, %w, %b {activation = "relu", operandSegmentSizes = array<i32: 1, 1, 1, 0>} : (tensor<?x32xf32>, tensor<32x1xf32>, tensor<1xf32>) -> tensor<?x1xf32> loc("/int4/MatMul")
  %v = tfm.constant dense<[[1.0, -2.0], [0.5, 4.0]]> : tensor<2x2xf32>
  %c = tfm.linear %y, %v {operandSegmentSizes = array<i32: 1, 1, 0, 0>} : (tensor<?x2xf32>, tensor<2x2xf32>) -> tensor<?x2xf32> loc("/narrow/MatMul")
  return %a, %c : tensor<?x1xf32>, tensor<?x2xf32>
}

// -----

// COM: GPTQ-style rounding: a driver gives the linear its inputs' second
// COM: moments (tfc.int4_hessian, [K, K]). All ones (every input equal):
// COM: the rows' errors are compensated in the rows after them, so the
// COM: codes differ from rounding to nearest (compare @int4's); checked
// COM: against numpy's GPTQ in float64 (1% of the mean diagonal added).
// COM: A moment matrix of another shape is ignored: rounded to nearest.
// INT4-LABEL: func.func @int4_gptq
// INT4-DAG: %[[G:.+]] = tfm.constant dense_resource<[[GNAME:.+]]> : tensor<32x1xi8>
// INT4-DAG: %[[R:.+]] = tfm.constant dense_resource<[[RNAME:.+]]> : tensor<32x1xi8>
// INT4: tfm.quantized_linear %arg0, %[[G]],
// INT4: tfm.quantized_linear %arg0, %[[R]],
// INT4-DAG: [[GNAME]]: "0x04000000FCFCFCFDFDFDFEFEFFFFFF000000010101020203030304040405050606060607"
// INT4-DAG: [[RNAME]]: "0x04000000FCFCFCFDFDFDFEFEFFFFFF000000010101020203030304040405050606060707"
// INT4-REMARK: remark: {{.*}}: quantized: /gptq/MatMul: int4 weights 32x1 in groups of 32 rows, symmetric, GPTQ-rounded, activations f32
// INT4-REMARK: remark: {{.*}}: quantized: /shape/MatMul: int4 weights 32x1 in groups of 32 rows, symmetric, activations f32
func.func @int4_gptq(%x: tensor<?x32xf32>) -> (tensor<?x1xf32>, tensor<?x1xf32>) {
  %w = tfm.constant dense<[[-3.0], [-2.75], [-2.5], [-2.25], [-2.0], [-1.75], [-1.5], [-1.25], [-1.0], [-0.75], [-0.5], [-0.25], [0.0], [0.25], [0.5], [0.75], [1.0], [1.25], [1.5], [1.75], [2.0], [2.25], [2.5], [2.75], [3.0], [3.25], [3.5], [3.75], [4.0], [4.25], [4.5], [4.75]]> : tensor<32x1xf32>
  %w2 = tfm.constant dense<[[-3.0], [-2.75], [-2.5], [-2.25], [-2.0], [-1.75], [-1.5], [-1.25], [-1.0], [-0.75], [-0.5], [-0.25], [0.0], [0.25], [0.5], [0.75], [1.0], [1.25], [1.5], [1.75], [2.0], [2.25], [2.5], [2.75], [3.0], [3.25], [3.5], [3.75], [4.0], [4.25], [4.5], [4.75]]> : tensor<32x1xf32>
  %a = tfm.linear %x, %w {operandSegmentSizes = array<i32: 1, 1, 0, 0>, tfc.int4_hessian = dense<1.0> : tensor<32x32xf32>} : (tensor<?x32xf32>, tensor<32x1xf32>) -> tensor<?x1xf32> loc("/gptq/MatMul")
  %b = tfm.linear %x, %w2 {operandSegmentSizes = array<i32: 1, 1, 0, 0>, tfc.int4_hessian = dense<1.0> : tensor<16x16xf32>} : (tensor<?x32xf32>, tensor<32x1xf32>) -> tensor<?x1xf32> loc("/shape/MatMul")
  return %a, %b : tensor<?x1xf32>, tensor<?x1xf32>
}
