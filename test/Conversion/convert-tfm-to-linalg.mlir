// RUN: tfc-opt %s --convert-tfm-to-linalg --canonicalize --split-input-file --verify-diagnostics | FileCheck %s

// COM: Broadcasting is in the indexing maps: a static 1 (or a missing dim)
// COM: reads index 0; the dynamic batch is read from the operand that has it
// COM: and needs no check.
// CHECK-DAG: #[[ID2:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @add_bias
// CHECK-NOT: cf.assert
// CHECK: %[[DIM:.+]] = tensor.dim %arg0
// CHECK: %[[INIT:.+]] = tensor.empty(%[[DIM]]) : tensor<?x4xf32>
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ROW]], #[[ID2]]], iterator_types = ["parallel", "parallel"]}
// CHECK-SAME: ins(%arg0, %arg1 : tensor<?x4xf32>, tensor<4xf32>) outs(%[[INIT]] : tensor<?x4xf32>)
// CHECK: arith.addf
func.func @add_bias(%a: tensor<?x4xf32>, %b: tensor<4xf32>) -> tensor<?x4xf32> {
  %r = tfm.add %a, %b : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// -----

// COM: Two dynamic dims must agree at run time: one check, naming the op.
// CHECK-LABEL: func.func @add_dynamic
// CHECK: %[[A:.+]] = tensor.dim %arg0
// CHECK: %[[B:.+]] = tensor.dim %arg1
// CHECK: %[[SAME:.+]] = arith.cmpi eq, %[[B]], %[[A]]
// CHECK: cf.assert %[[SAME]], "tfm.add: dim 0 of operand 1 does not match the broadcast result
// CHECK-NOT: cf.assert
func.func @add_dynamic(%a: tensor<?xf32>, %b: tensor<?xf32>) -> tensor<?xf32> {
  %r = tfm.add %a, %b : (tensor<?xf32>, tensor<?xf32>) -> tensor<?xf32>
  return %r : tensor<?xf32>
}

// -----

// COM: Unsigned types become signless; the op keeps the signedness, and an
// COM: integer division by zero gives 0 instead of trapping.
// CHECK-LABEL: func.func @div_unsigned(%arg0: tensor<4xi8>, %arg1: tensor<4xi8>) -> tensor<4xi8>
// CHECK: %[[ZERO:.+]] = arith.cmpi eq, %{{.+}}, %c0_i8
// CHECK: arith.select %[[ZERO]], %c1_i8
// CHECK: arith.divui
// CHECK-NOT: arith.divsi
func.func @div_unsigned(%a: tensor<4xui8>, %b: tensor<4xui8>) -> tensor<4xui8> {
  %r = tfm.div %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %r : tensor<4xui8>
}

// -----

// COM: MatMul: batch, m, k (the reduction), n; the weight broadcasts over
// COM: the batch; the result starts from zeros.
// CHECK-DAG: #[[LHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-DAG: #[[RHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d2, d3)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-LABEL: func.func @matmul
// CHECK-NOT: cf.assert
// CHECK: %[[ZEROS:.+]] = linalg.fill
// CHECK: linalg.generic {indexing_maps = [#[[LHS]], #[[RHS]], #[[OUT]]], iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
// CHECK-SAME: outs(%[[ZEROS]] : tensor<?x8x32xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @matmul(%a: tensor<?x8x16xf32>, %w: tensor<16x32xf32>) -> tensor<?x8x32xf32> {
  %r = tfm.matmul %a, %w : (tensor<?x8x16xf32>, tensor<16x32xf32>) -> tensor<?x8x32xf32>
  return %r : tensor<?x8x32xf32>
}

// -----

// COM: The contracted dims of dynamic operands are checked.
// CHECK-LABEL: func.func @matmul_dynamic_k
// CHECK: cf.assert %{{.+}}, "tfm.matmul: the contracted dims of the operands differ"
func.func @matmul_dynamic_k(%a: tensor<4x?xf32>, %b: tensor<?x8xf32>) -> tensor<4x8xf32> {
  %r = tfm.matmul %a, %b : (tensor<4x?xf32>, tensor<?x8xf32>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// COM: Softmax: max, exp of the difference, sum, quotient; the reduced
// COM: values are read back through maps that drop the axis.
// CHECK-LABEL: func.func @softmax
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.maximumf
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "parallel"]
// CHECK: math.exp
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK: arith.divf
func.func @softmax(%x: tensor<2x16xf32>) -> tensor<2x16xf32> {
  %r = tfm.softmax %x {axis = -1 : i64} : (tensor<2x16xf32>) -> tensor<2x16xf32>
  return %r : tensor<2x16xf32>
}

// -----

// COM: keepdims puts the reduced dim back as a unit dim (a view).
// CHECK-LABEL: func.func @reduce_mean_keepdims
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: arith.divf
// CHECK: tensor.expand_shape %{{.+}} {{\[\[}}0], [1, 2]] output_shape [%{{.+}}, 8, 1] : tensor<?x8xf32> into tensor<?x8x1xf32>
func.func @reduce_mean_keepdims(%x: tensor<?x8x64xf32>) -> tensor<?x8x1xf32> {
  %r = tfm.reduce_mean %x {axes = array<i64: -1>, keepdims = true} : (tensor<?x8x64xf32>) -> tensor<?x8x1xf32>
  return %r : tensor<?x8x1xf32>
}

// -----

// COM: A reshape whose dims group becomes expand_shape; one whose target
// COM: comes from data becomes tensor.reshape, with its element count and
// COM: dims checked at run time.
// CHECK-LABEL: func.func @reshape_heads
// CHECK: tensor.expand_shape %arg0 {{\[\[}}0], [1], [2, 3]]
// CHECK-NOT: tensor.reshape
func.func @reshape_heads(%x: tensor<?x?x64xf32>) -> tensor<?x?x4x16xf32> {
  %shape = tfm.constant dense<[0, 0, 4, 16]> : tensor<4xi64>
  %r = tfm.reshape %x, %shape : (tensor<?x?x64xf32>, tensor<4xi64>) -> tensor<?x?x4x16xf32>
  return %r : tensor<?x?x4x16xf32>
}

// CHECK-LABEL: func.func @reshape_from_data
// CHECK: tensor.extract %arg1
// CHECK: cf.assert %{{.+}}, "tfm.reshape: a target dim is negative"
// CHECK: cf.assert %{{.+}}, "tfm.reshape: the target shape does not have as many elements as the input"
// CHECK: tensor.reshape %arg0(%{{.+}}) : (tensor<6xf32>, tensor<2xindex>) -> tensor<?x?xf32>
func.func @reshape_from_data(%x: tensor<6xf32>, %shape: tensor<2xi64>) -> tensor<?x?xf32> {
  %r = tfm.reshape %x, %shape : (tensor<6xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// COM: Constant positive steps slice as a view; a negative step reads
// COM: element by element.
// CHECK-LABEL: func.func @slice_view
// CHECK: tensor.extract_slice %arg0[0, 1] [4, 3] [1, 2] : tensor<4x8xf32> to tensor<4x3xf32>
// CHECK-NOT: linalg.generic
func.func @slice_view(%x: tensor<4x8xf32>) -> tensor<4x3xf32> {
  %starts = tfm.constant dense<1> : tensor<1xi64>
  %ends = tfm.constant dense<7> : tensor<1xi64>
  %axes = tfm.constant dense<1> : tensor<1xi64>
  %steps = tfm.constant dense<2> : tensor<1xi64>
  %r = tfm.slice %x, %starts, %ends, %axes, %steps : (tensor<4x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}

// CHECK-LABEL: func.func @slice_reverse
// CHECK: linalg.generic
// CHECK: linalg.index 1
// CHECK: tensor.extract %arg0
func.func @slice_reverse(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %starts = tfm.constant dense<-1> : tensor<1xi64>
  %ends = tfm.constant dense<-9223372036854775807> : tensor<1xi64>
  %axes = tfm.constant dense<1> : tensor<1xi64>
  %steps = tfm.constant dense<-1> : tensor<1xi64>
  %r = tfm.slice %x, %starts, %ends, %axes, %steps : (tensor<4x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}

// -----

// COM: Indices from data are checked in one pass before the gather reads;
// COM: constant indices are checked at compile time.
// CHECK-LABEL: func.func @gather_embedding
// CHECK: linalg.generic {{.+}}iterator_types = ["reduction", "reduction"]
// CHECK: cf.assert %{{.+}}, "tfm.gather: an index is out of range"
// CHECK: linalg.generic
// CHECK: tensor.extract %arg0
func.func @gather_embedding(%table: tensor<100x8xf32>, %ids: tensor<?x?xi64>) -> tensor<?x?x8xf32> {
  %r = tfm.gather %table, %ids {axis = 0 : i64} : (tensor<100x8xf32>, tensor<?x?xi64>) -> tensor<?x?x8xf32>
  return %r : tensor<?x?x8xf32>
}

// COM: Constant indices into a dim chosen at run time: one comparison of
// COM: the dim with what the indices need (index 2 and index -3 need 3).
// CHECK-LABEL: func.func @gather_constant_dynamic_dim
// CHECK: %[[C3:.+]] = arith.constant 3 : index
// CHECK: %[[DIM:.+]] = tensor.dim %arg0, %c1
// CHECK: %[[OK:.+]] = arith.cmpi sge, %[[DIM]], %[[C3]] : index
// CHECK: cf.assert %[[OK]], "tfm.gather: the input's dim 1 is too small for the constant indices (its size vs the size they need)"
// CHECK-NOT: iterator_types = ["reduction"]
func.func @gather_constant_dynamic_dim(%x: tensor<4x?xf32>) -> tensor<4x2xf32> {
  %i = tfm.constant dense<[2, -3]> : tensor<2xi64>
  %r = tfm.gather %x, %i {axis = 1 : i64} : (tensor<4x?xf32>, tensor<2xi64>) -> tensor<4x2xf32>
  return %r : tensor<4x2xf32>
}

// CHECK-LABEL: func.func @gather_constant
// CHECK-NOT: cf.assert
func.func @gather_constant(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %i = tfm.constant dense<-1> : tensor<i64>
  %r = tfm.gather %x, %i {axis = 1 : i64} : (tensor<4x8xf32>, tensor<i64>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

func.func @gather_constant_out_of_range(%x: tensor<4x8xf32>) -> tensor<4xf32> {
  %i = tfm.constant dense<8> : tensor<i64>
  // expected-error @+2 {{'tfm.gather' op index 8 is out of range for a dim of 8}}
  // expected-error @+1 {{failed to legalize operation 'tfm.gather'}}
  %r = tfm.gather %x, %i {axis = 1 : i64} : (tensor<4x8xf32>, tensor<i64>) -> tensor<4xf32>
  return %r : tensor<4xf32>
}

// -----

// COM: Casts follow ONNX: int to float is sitofp (uitofp for unsigned),
// COM: to bool compares with zero.
// CHECK-LABEL: func.func @casts
// CHECK: arith.sitofp %{{.+}} : i64 to f32
// CHECK: arith.uitofp %{{.+}} : i8 to f32
// CHECK: arith.cmpf une
func.func @casts(%a: tensor<3xi64>, %b: tensor<3xui8>, %c: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xf32>, tensor<3xi1>) {
  %x = tfm.cast %a {to = f32} : (tensor<3xi64>) -> tensor<3xf32>
  %y = tfm.cast %b {to = f32} : (tensor<3xui8>) -> tensor<3xf32>
  %z = tfm.cast %c {to = i1} : (tensor<3xf32>) -> tensor<3xi1>
  return %x, %y, %z : tensor<3xf32>, tensor<3xf32>, tensor<3xi1>
}

// -----

// COM: Bool constants are stored as bytes and compared with 0 on use.
// CHECK-LABEL: func.func @bool_constant
// CHECK: arith.constant dense<[1, 0, 1]> : tensor<3xi8>
// CHECK: arith.cmpi ne
func.func @bool_constant() -> tensor<3xi1> {
  %c = tfm.constant dense<[true, false, true]> : tensor<3xi1>
  return %c : tensor<3xi1>
}

// -----

// COM: Conv splits channels into (group, per group) so that one generic
// COM: covers grouped and plain convolutions; padding inserts the input into
// COM: a zero-filled tensor.
// CHECK-LABEL: func.func @conv_grouped
// CHECK: %[[ZEROS:.+]] = linalg.fill {{.+}} -> tensor<1x4x6x6xf32>
// CHECK: tensor.insert_slice %arg0 into %[[ZEROS]][0, 0, 1, 1] [1, 4, 4, 4] [1, 1, 1, 1]
// CHECK-NOT: tensor.pad
// CHECK: tensor.expand_shape {{.+}} into tensor<1x2x2x6x6xf32>
// CHECK: tensor.expand_shape {{.+}} into tensor<2x2x2x3x3xf32>
// CHECK: linalg.generic {{.+}}iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]
// CHECK: tensor.collapse_shape {{.+}} into tensor<1x4x4x4xf32>
func.func @conv_grouped(%x: tensor<1x4x4x4xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x4x4x4xf32> {
  %r = tfm.conv %x, %w {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x4x4xf32>
  return %r : tensor<1x4x4x4xf32>
}

// -----

// COM: Padding over a length known only at run time: the padded length is
// COM: computed from the input's (no tensor.dim of a padded tensor, which
// COM: MLIR 19's bufferization of tensor.pad got wrong).
// CHECK-LABEL: func.func @conv_dynamic_padded
// CHECK: %[[LEN:.+]] = tensor.dim %arg0, %c2
// CHECK: %[[PADDED:.+]] = arith.addi %[[LEN]], %c2
// CHECK: %[[EMPTY:.+]] = tensor.empty(%{{.+}}, %[[PADDED]]) : tensor<?x8x?xf32>
// CHECK: %[[ZEROS:.+]] = linalg.fill {{.+}} outs(%[[EMPTY]]
// CHECK: tensor.insert_slice %arg0 into %[[ZEROS]][0, 0, 1] [%{{.+}}, 8, %[[LEN]]] [1, 1, 1]
// CHECK-NOT: tensor.pad
func.func @conv_dynamic_padded(%x: tensor<?x8x?xf32>, %w: tensor<16x8x3xf32>) -> tensor<?x16x?xf32> {
  %r = tfm.conv %x, %w {dilations = array<i64: 1>, pads = array<i64: 1, 1>, strides = array<i64: 1>} : (tensor<?x8x?xf32>, tensor<16x8x3xf32>) -> tensor<?x16x?xf32>
  return %r : tensor<?x16x?xf32>
}

// -----

// COM: tfm.attention takes the generic form (a target's kernel replaces it
// COM: before this pass, where the target has one: tfc-cpu-select-kernels).
// COM: In f16: heads split in place, f32 scores (5 loops: b, h, i, j, d), scaled and causally
// COM: masked logits, the row maximum, exp, the row sums, the weighted sum of
// COM: the values, and the quotient rounded to f16.
// CHECK-LABEL: func.func @attention_f16
// CHECK-NOT: call
// CHECK: tensor.expand_shape %arg0 {{\[}}[0], [1], [2, 3]] output_shape [2, 5, 2, 8] : tensor<2x5x16xf16> into tensor<2x5x2x8xf16>
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// CHECK: arith.extf %in : f16 to f32
// CHECK: } -> tensor<2x2x5x7xf32>
// CHECK: linalg.index 2
// CHECK: arith.select
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]
// CHECK: arith.divf
// CHECK: arith.truncf %{{.+}} : f32 to f16
// CHECK: tensor.collapse_shape %{{.+}} {{\[}}[0], [1], [2, 3]] : tensor<2x5x2x8xf16> into tensor<2x5x16xf16>
// CHECK-NOT: call
func.func @attention_f16(%q: tensor<2x5x16xf16>, %k: tensor<2x7x16xf16>) -> tensor<2x5x16xf16> {
  %r = tfm.attention %q, %k, %k {num_heads = 2 : i64, scale = 0.25 : f32, causal = true} : (tensor<2x5x16xf16>, tensor<2x7x16xf16>, tensor<2x7x16xf16>) -> tensor<2x5x16xf16>
  return %r : tensor<2x5x16xf16>
}

// -----

// COM: RMS norm: one reduction of squares, then x * rsqrt(mean + eps) * scale.
// CHECK-LABEL: func.func @rms_norm
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]
// CHECK: arith.mulf %in, %in
// CHECK: linalg.generic
// CHECK: arith.divf %{{.+}}, %cst{{.*}} : f32
// CHECK: math.rsqrt
func.func @rms_norm(%x: tensor<?x8xf32>, %g: tensor<8xf32>) -> tensor<?x8xf32> {
  %r = tfm.rms_norm %x, %g {axis = 1 : i64, epsilon = 1.0e-6 : f32} : (tensor<?x8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %r : tensor<?x8xf32>
}

// -----

// COM: tfm.linear: the product accumulates into zeros (loops rows, k, n),
// COM: then one elementwise pass adds the bias, applies GELU and adds the
// COM: residual, in that order.
// CHECK-LABEL: func.func @linear
// CHECK: %[[ZERO:.+]] = linalg.fill
// CHECK: %[[PRODUCT:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "reduction", "parallel"]} ins(%arg0, %arg1 : tensor<?x8xf32>, tensor<8x32xf32>) outs(%[[ZERO]] : tensor<?x32xf32>)
// CHECK: linalg.generic {{.+}} ins(%[[PRODUCT]], %arg2, %arg3 : tensor<?x32xf32>, tensor<32xf32>, tensor<?x32xf32>)
// CHECK-NEXT: ^bb0(%[[P:[^:]+]]: f32, %[[B:[^:]+]]: f32, %[[R:[^:]+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: %[[SUM:.+]] = arith.addf %[[P]], %[[B]]
// CHECK: math.erf
// CHECK: arith.mulf
// CHECK: %[[G:.+]] = arith.mulf %{{.+}}, %{{.+}} : f32
// CHECK-NEXT: %[[Y:.+]] = arith.addf %[[G]], %[[R]]
// CHECK-NEXT: linalg.yield %[[Y]]
func.func @linear(%x: tensor<?x8xf32>, %w: tensor<8x32xf32>, %b: tensor<32xf32>, %r: tensor<?x32xf32>) -> tensor<?x32xf32> {
  %y = tfm.linear %x, %w, %b, %r {activation = "gelu", operandSegmentSizes = array<i32: 1, 1, 1, 1>} : (tensor<?x8xf32>, tensor<8x32xf32>, tensor<32xf32>, tensor<?x32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// COM: tfm.add_layer_norm reads both addends in each of its three passes
// COM: (sum, squared deviations, normalize) instead of storing the sum; the
// COM: skip broadcasts (its batch is 1) and its dynamic dim is checked.
// CHECK-LABEL: func.func @add_layer_norm
// CHECK: cf.assert %{{.+}}, "tfm.add_layer_norm: the residual's dim 1 does not match the input's (the residual vs input)"
// CHECK: linalg.generic {{.+}} ins(%arg0, %arg1 : tensor<?x?x8xf32>, tensor<1x?x8xf32>)
// CHECK: linalg.generic {{.+}} ins(%arg0, %arg1, %{{.+}} : tensor<?x?x8xf32>, tensor<1x?x8xf32>, tensor<?x?xf32>)
// CHECK: linalg.generic {{.+}} ins(%arg0, %arg1, %{{.+}}, %{{.+}}, %arg2 : tensor<?x?x8xf32>, tensor<1x?x8xf32>, tensor<?x?xf32>, tensor<?x?xf32>, tensor<8xf32>)
func.func @add_layer_norm(%x: tensor<?x?x8xf32>, %p: tensor<1x?x8xf32>, %g: tensor<8xf32>) -> tensor<?x?x8xf32> {
  %y = tfm.add_layer_norm %x, %p, %g {axis = 2 : i64} : (tensor<?x?x8xf32>, tensor<1x?x8xf32>, tensor<8xf32>) -> tensor<?x?x8xf32>
  return %y : tensor<?x?x8xf32>
}

// -----

// A weight printed elided has no bytes to compile.
func.func @elided_weight() -> tensor<3x2xf32> {
  // expected-error @+2 {{weight 'w' has no data: IR printed with elided weights describes the graph but cannot be compiled}}
  // expected-error @+1 {{failed to legalize operation 'tfm.constant'}}
  %w = tfm.constant dense_resource<w> : tensor<3x2xf32>
  return %w : tensor<3x2xf32>
}

{-#
  dialect_resources: {
    builtin: {
      w: "0x04000000"
    }
  }
#-}

// -----

// COM: Activations are one linalg.generic each: Elu selects between x and
// COM: alpha * (exp(x) - 1); PRelu broadcasts its slope like a binary op.
// CHECK-LABEL: func.func @elu
// CHECK: linalg.generic
// CHECK: %[[E:.+]] = math.exp %[[X:.+]] : f32
// CHECK: %[[EM1:.+]] = arith.subf %[[E]], %{{.+}} : f32
// CHECK: %[[NEG:.+]] = arith.mulf %[[EM1]], %{{.+}} : f32
// CHECK: %[[LT:.+]] = arith.cmpf olt, %[[X]], %{{.+}} : f32
// CHECK: arith.select %[[LT]], %[[NEG]], %[[X]] : f32
func.func @elu(%a: tensor<?x4xf32>) -> tensor<?x4xf32> {
  %r = tfm.elu %a {alpha = 0.5 : f32} : (tensor<?x4xf32>) -> tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// -----

// CHECK-DAG: #[[ID2:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @prelu
// CHECK: linalg.generic {indexing_maps = [#[[ID2]], #[[ROW]], #[[ID2]]]
// CHECK: ^bb0(%[[X:.+]]: f32, %[[S:.+]]: f32, %{{.+}}: f32):
// CHECK-DAG: %[[MUL:.+]] = arith.mulf %[[S]], %[[X]] : f32
// CHECK-DAG: %[[LT:.+]] = arith.cmpf olt, %[[X]], %{{.+}} : f32
// CHECK: arith.select %[[LT]], %[[MUL]], %[[X]] : f32
func.func @prelu(%a: tensor<?x4xf32>, %s: tensor<4xf32>) -> tensor<?x4xf32> {
  %r = tfm.prelu %a, %s : (tensor<?x4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %r : tensor<?x4xf32>
}

// -----

// COM: Softplus as max(x, 0) + log(1 + exp(-|x|)) (no overflow for large x);
// COM: f16 is computed in f32.
// CHECK-LABEL: func.func @softplus_f16
// CHECK: %[[X:.+]] = arith.extf %{{.+}} : f16 to f32
// CHECK: %[[MAX:.+]] = arith.maximumf %[[X]], %{{.+}} : f32
// CHECK: %[[ABS:.+]] = math.absf %[[X]] : f32
// CHECK: %[[NEG:.+]] = arith.negf %[[ABS]] : f32
// CHECK: %[[EXP:.+]] = math.exp %[[NEG]] : f32
// CHECK: %[[ONE:.+]] = arith.addf %[[EXP]], %{{.+}} : f32
// CHECK: %[[LOG:.+]] = math.log %[[ONE]] : f32
// CHECK: %[[SUM:.+]] = arith.addf %[[MAX]], %[[LOG]] : f32
// CHECK: arith.truncf %[[SUM]] : f32 to f16
func.func @softplus_f16(%a: tensor<8xf16>) -> tensor<8xf16> {
  %r = tfm.softplus %a : (tensor<8xf16>) -> tensor<8xf16>
  return %r : tensor<8xf16>
}

// -----

// COM: ReduceMin starts from +inf, ReduceProd from 1.
// CHECK-LABEL: func.func @reduce_min_prod
// CHECK-DAG: %[[INF:.+]] = arith.constant 0x7F800000 : f32
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1 : i32
// CHECK: linalg.fill ins(%[[INF]] : f32)
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.minimumf
// CHECK: linalg.fill ins(%[[ONE]] : i32)
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]
// CHECK: arith.muli
func.func @reduce_min_prod(%a: tensor<?x4xf32>, %b: tensor<?x4xi32>) -> (tensor<?xf32>, tensor<?xi32>) {
  %min = tfm.reduce_min %a {axes = array<i64: 1>, keepdims = false} : (tensor<?x4xf32>) -> tensor<?xf32>
  %prod = tfm.reduce_prod %b {axes = array<i64: 1>, keepdims = false} : (tensor<?x4xi32>) -> tensor<?xi32>
  return %min, %prod : tensor<?xf32>, tensor<?xi32>
}

// -----

// COM: CumSum walks its axis in an scf.for, carrying the result and the
// COM: running sum (a slice of size 1 along the axis); reverse counts the
// COM: position down from the end.
// CHECK-LABEL: func.func @cumsum_reverse
// CHECK: %[[LEN:.+]] = tensor.dim %arg0, %c1
// CHECK: scf.for %[[STEP:.+]] = %c0 to %[[LEN]] step %c1 iter_args(%[[OUT:.+]] = %{{.+}}, %[[ACC:.+]] = %{{.+}}) -> (tensor<2x?xi64>, tensor<2x1xi64>)
// CHECK: %[[POS:.+]] = arith.subi %{{.+}}, %[[STEP]]
// CHECK: %[[SLICE:.+]] = tensor.extract_slice %arg0[0, %[[POS]]] [2, 1] [1, 1]
// CHECK: %[[SUM:.+]] = linalg.generic {{.*}} ins(%[[ACC]], %[[SLICE]] : tensor<2x1xi64>, tensor<2x1xi64>)
// CHECK: arith.addi
// CHECK: %[[NEW:.+]] = tensor.insert_slice %[[SUM]] into %[[OUT]][0, %[[POS]]] [2, 1] [1, 1]
// CHECK: scf.yield %[[NEW]], %[[SUM]]
func.func @cumsum_reverse(%a: tensor<2x?xi64>) -> tensor<2x?xi64> {
  %r = tfm.cumsum %a {axis = 1 : i64, reverse = true} : (tensor<2x?xi64>) -> tensor<2x?xi64>
  return %r : tensor<2x?xi64>
}

// -----

// COM: Exclusive writes the running sum from before the position's element.
// CHECK-LABEL: func.func @cumsum_exclusive
// CHECK: scf.for %[[STEP:.+]] = {{.+}} iter_args(%[[OUT:.+]] = %{{.+}}, %[[ACC:.+]] = %{{.+}})
// CHECK: %[[SUM:.+]] = linalg.generic
// CHECK: tensor.insert_slice %[[ACC]] into %[[OUT]][%[[STEP]]] [1] [1]
func.func @cumsum_exclusive(%a: tensor<5xf32>) -> tensor<5xf32> {
  %r = tfm.cumsum %a {axis = 0 : i64, exclusive = true} : (tensor<5xf32>) -> tensor<5xf32>
  return %r : tensor<5xf32>
}

// -----

// COM: Integer Mod with the divisor's sign: remsi by a divisor made safe
// COM: (0 and -1 leave no remainder), then moved by one divisor where the
// COM: signs differ.
// CHECK-LABEL: func.func @mod_python
// CHECK: linalg.generic
// CHECK: %[[SAFE:.+]] = arith.select %{{.+}}, %{{.+}}, %[[D:.+]] : i32
// CHECK: %[[REM:.+]] = arith.remsi %{{.+}}, %[[SAFE]] : i32
// CHECK: %[[DIFFER:.+]] = arith.xori
// CHECK: %[[MOVED:.+]] = arith.addi %[[REM]], %[[SAFE]] : i32
// CHECK: arith.select %{{.+}}, %[[MOVED]], %[[REM]] : i32
func.func @mod_python(%a: tensor<5xi32>, %b: tensor<5xi32>) -> tensor<5xi32> {
  %r = tfm.mod %a, %b : (tensor<5xi32>, tensor<5xi32>) -> tensor<5xi32>
  return %r : tensor<5xi32>
}

// -----

// COM: Float Mod is frem (C's fmod).
// CHECK-LABEL: func.func @mod_float
// CHECK: arith.remf
// CHECK-NOT: arith.remsi
func.func @mod_float(%a: tensor<5xf32>, %b: tensor<5xf32>) -> tensor<5xf32> {
  %r = tfm.mod %a, %b {fmod = true} : (tensor<5xf32>, tensor<5xf32>) -> tensor<5xf32>
  return %r : tensor<5xf32>
}

// -----

// COM: ArgMax: one reduction generic carrying the best value and its index;
// COM: a strict comparison keeps the first of equal values, and keepdims
// COM: expands the indices back.
// CHECK-LABEL: func.func @arg_max
// CHECK-DAG: %[[LOW:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0 : i64
// CHECK: %[[VALUES:.+]] = linalg.fill ins(%[[LOW]] : f32) outs(%{{.+}} : tensor<?xf32>)
// CHECK: %[[INDICES:.+]] = linalg.fill ins(%[[ZERO]] : i64) outs(%{{.+}} : tensor<?xi64>)
// CHECK: %[[BEST:.+]]:2 = linalg.generic {{.*}}iterator_types = ["parallel", "reduction"]} ins(%arg0 : tensor<?x4xf32>) outs(%[[VALUES]], %[[INDICES]] : tensor<?xf32>, tensor<?xi64>)
// CHECK: ^bb0(%[[IN:.+]]: f32, %[[CUR:.+]]: f32, %[[IDX:.+]]: i64):
// CHECK-DAG: %[[BETTER:.+]] = arith.cmpf ogt, %[[IN]], %[[CUR]] : f32
// CHECK-DAG: %[[POS:.+]] = linalg.index 1 : index
// CHECK: linalg.yield
// CHECK: tensor.expand_shape %[[BEST]]#1 {{\[}}[0, 1]] {{.*}} : tensor<?xi64> into tensor<?x1xi64>
func.func @arg_max(%a: tensor<?x4xf32>) -> tensor<?x1xi64> {
  %r = tfm.arg_max %a {axis = 1 : i64} : (tensor<?x4xf32>) -> tensor<?x1xi64>
  return %r : tensor<?x1xi64>
}

// -----

// COM: ArgMin with select_last_index: a non-strict comparison moves to the
// COM: last of equal values; unsigned integers compare unsigned.
// CHECK-LABEL: func.func @arg_min_last
// CHECK: arith.cmpi ule
func.func @arg_min_last(%a: tensor<3x4xui8>) -> tensor<4xi64> {
  %r = tfm.arg_min %a {axis = 0 : i64, keepdims = false, select_last_index = true} : (tensor<3x4xui8>) -> tensor<4xi64>
  return %r : tensor<4xi64>
}

// -----

// COM: Sign of a float keeps NaN; of an integer it is -1, 0 or 1.
// CHECK-LABEL: func.func @sign
// CHECK: arith.cmpf uno
// CHECK: arith.cmpi sgt
func.func @sign(%a: tensor<5xf32>, %b: tensor<5xi32>) -> (tensor<5xf32>, tensor<5xi32>) {
  %r = tfm.sign %a : (tensor<5xf32>) -> tensor<5xf32>
  %s = tfm.sign %b : (tensor<5xi32>) -> tensor<5xi32>
  return %r, %s : tensor<5xf32>, tensor<5xi32>
}

// -----

// COM: A shift by the width or more is 0, not LLVM's poison.
// CHECK-LABEL: func.func @bit_shift
// CHECK-DAG: %[[WIDTH:.+]] = arith.constant 8 : i8
// CHECK: ^bb0(%[[X:.+]]: i8, %[[N:.+]]: i8, %{{.+}}: i8):
// CHECK-DAG: %[[FAR:.+]] = arith.cmpi uge, %[[N]], %[[WIDTH]] : i8
// CHECK-DAG: %[[SHIFTED:.+]] = arith.shrui %[[X]], %[[N]] : i8
// CHECK: arith.select %[[FAR]], %{{.+}}, %[[SHIFTED]] : i8
func.func @bit_shift(%a: tensor<4xui8>, %n: tensor<4xui8>) -> tensor<4xui8> {
  %r = tfm.bit_shift %a, %n {direction = "right"} : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  return %r : tensor<4xui8>
}

// -----

// COM: Constant Pad: the value fills the result, the input is copied in at
// COM: the pads before; pads read at run time may be negative, so the input
// COM: is cropped first (by nothing when they are not).
// CHECK-LABEL: func.func @pad_constant
// CHECK: %[[FILL:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<?x?xf32>)
// CHECK: %[[KEPT:.+]] = tensor.extract_slice %arg0[%{{.+}}, %{{.+}}] [%[[ROWS:.+]], %[[COLS:.+]]] [1, 1]
// CHECK: tensor.insert_slice %[[KEPT]] into %[[FILL]][%{{.+}}, %{{.+}}] [%[[ROWS]], %[[COLS]]] [1, 1]
func.func @pad_constant(%a: tensor<2x?xf32>, %p: tensor<4xi64>) -> tensor<?x?xf32> {
  %r = tfm.pad %a, %p {mode = "constant"} : (tensor<2x?xf32>, tensor<4xi64>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}

// -----

// COM: Constant pads that add only: no crop, the input copied in whole.
// CHECK-LABEL: func.func @pad_constant_growing
// CHECK: %[[FILL:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x?xf32>)
// CHECK-NOT: tensor.extract_slice
// CHECK: tensor.insert_slice %arg0 into %[[FILL]][0, 3] [2, %{{.+}}] [1, 1]
func.func @pad_constant_growing(%a: tensor<2x?xf32>, %v: tensor<f32>) -> tensor<2x?xf32> {
  %p = tfm.constant dense<[0, 3, 0, 1]> : tensor<4xi64>
  %r = tfm.pad %a, %p, %v {mode = "constant"} : (tensor<2x?xf32>, tensor<4xi64>, tensor<f32>) -> tensor<2x?xf32>
  return %r : tensor<2x?xf32>
}

// -----

// COM: Reflect Pad reads each result element from its mirrored position:
// COM: a remainder by the period 2 * (dim - 1); the unpadded dim reads its
// COM: own index.
// CHECK-LABEL: func.func @pad_reflect
// CHECK: linalg.generic
// CHECK: %[[ROW:.+]] = linalg.index 0
// CHECK: arith.remsi
// CHECK: tensor.extract %arg0[%[[ROW]], %{{.+}}]
func.func @pad_reflect(%a: tensor<2x5xf32>) -> tensor<2x8xf32> {
  %p = tfm.constant dense<[0, 2, 0, 1]> : tensor<4xi64>
  %r = tfm.pad %a, %p {mode = "reflect"} : (tensor<2x5xf32>, tensor<4xi64>) -> tensor<2x8xf32>
  return %r : tensor<2x8xf32>
}

// -----

// COM: ScatterElements: the indices checked once, then a loop nest over
// COM: them carrying the result, one element read, combined and written
// COM: per step.
// CHECK-LABEL: func.func @scatter_elements_add
// CHECK: cf.assert %{{.+}}, "tfm.scatter_elements: an index is out of range"
// CHECK: scf.for %[[I:.+]] = {{.+}} iter_args(%[[OUTER:.+]] = %arg0)
// CHECK: scf.for %[[J:.+]] = {{.+}} iter_args(%[[OUT:.+]] = %[[OUTER]])
// CHECK: %[[IDX:.+]] = tensor.extract %arg1[%[[I]], %[[J]]]
// CHECK: %[[UPD:.+]] = tensor.extract %arg2[%[[I]], %[[J]]]
// CHECK: %[[OLD:.+]] = tensor.extract %[[OUT]][%{{.+}}, %{{.+}}]
// CHECK: %[[SUM:.+]] = arith.addf %[[OLD]], %[[UPD]]
// CHECK: tensor.insert %[[SUM]] into %[[OUT]]
func.func @scatter_elements_add(%a: tensor<3x6xf32>, %i: tensor<3x2xi64>, %u: tensor<3x2xf32>) -> tensor<3x6xf32> {
  %r = tfm.scatter_elements %a, %i, %u {axis = 1 : i64, reduction = "add"} : (tensor<3x6xf32>, tensor<3x2xi64>, tensor<3x2xf32>) -> tensor<3x6xf32>
  return %r : tensor<3x6xf32>
}

// -----

// COM: ScatterND: one step per row of indices, each writing a slice (here
// COM: a [4] key into a [1, 2, ?, 4] cache) with insert_slice; the loops
// COM: over rows dims of 1 fold away.
// CHECK-LABEL: func.func @scatter_nd_cache
// CHECK: scf.for %[[HEAD:.+]] = %c0 to %c2 step %c1 iter_args(%[[OUT:.+]] = %arg0)
// CHECK: cf.assert %{{.+}}, "tfm.scatter_nd: an index is out of range for dim 2"
// CHECK: %[[KEY:.+]] = tensor.extract_slice %arg2[0, %[[HEAD]], 0, 0] [1, 1, 1, 4] [1, 1, 1, 1] : tensor<1x2x1x4xf32> to tensor<4xf32>
// CHECK: tensor.insert_slice %[[KEY]] into %[[OUT]][%{{.+}}, %{{.+}}, %{{.+}}, 0] [1, 1, 1, 4] [1, 1, 1, 1] : tensor<4xf32> into tensor<1x2x?x4xf32>
func.func @scatter_nd_cache(%c: tensor<1x2x?x4xf32>, %i: tensor<1x2x1x3xi64>, %k: tensor<1x2x1x4xf32>) -> tensor<1x2x?x4xf32> {
  %r = tfm.scatter_nd %c, %i, %k : (tensor<1x2x?x4xf32>, tensor<1x2x1x3xi64>, tensor<1x2x1x4xf32>) -> tensor<1x2x?x4xf32>
  return %r : tensor<1x2x?x4xf32>
}

// -----

// COM: TopK: k passes of a reduction over the axis; each reads the previous
// COM: pass's pick (value and index per row) and writes its own at position
// COM: `pass` of both results.
// CHECK-LABEL: func.func @top_k
// CHECK: scf.for %[[PASS:.+]] = %c0 to %c2 step %c1 iter_args(%[[V:.+]] = %{{.+}}, %[[I:.+]] = %{{.+}}, %[[PV:.+]] = %{{.+}}, %[[PI:.+]] = %{{.+}})
// CHECK: %[[PICK:.+]]:2 = linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]} ins(%arg0, %[[PV]], %[[PI]] : tensor<3x8xf32>, tensor<3xf32>, tensor<3xi64>)
// CHECK: tensor.insert_slice %[[PICK]]#0 into %[[V]][0, %[[PASS]]] [3, 1] [1, 1]
// CHECK: tensor.insert_slice %[[PICK]]#1 into %[[I]][0, %[[PASS]]] [3, 1] [1, 1]
// CHECK: scf.yield %{{.+}}, %{{.+}}, %[[PICK]]#0, %[[PICK]]#1
func.func @top_k(%a: tensor<3x8xf32>) -> (tensor<3x2xf32>, tensor<3x2xi64>) {
  %k = tfm.constant dense<2> : tensor<1xi64>
  %v, %i = tfm.top_k %a, %k {axis = 1 : i64} : (tensor<3x8xf32>, tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
  return %v, %i : tensor<3x2xf32>, tensor<3x2xi64>
}

// -----

// COM: Bilinear Resize of the last two dims: the batch and channels (scale
// COM: 1, same size) read their own index; each resized dim gives two taps,
// COM: so four reads per element, weighted and summed.
// CHECK-LABEL: func.func @resize_bilinear
// CHECK: linalg.generic
// CHECK: %[[N:.+]] = linalg.index 0
// CHECK: %[[C:.+]] = linalg.index 1
// CHECK-COUNT-4: tensor.extract %arg0[%[[N]], %[[C]], %{{.+}}, %{{.+}}]
// CHECK-NOT: tensor.extract %arg0
// CHECK: linalg.yield
func.func @resize_bilinear(%a: tensor<1x2x4x4xf32>) -> tensor<1x2x8x8xf32> {
  %sizes = tfm.constant dense<[1, 2, 8, 8]> : tensor<4xi64>
  %scales = tfm.constant dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>
  %r = tfm.resize %a, %sizes, %scales {mode = "linear", coordinate_mode = "half_pixel"} : (tensor<1x2x4x4xf32>, tensor<4xi64>, tensor<4xf32>) -> tensor<1x2x8x8xf32>
  return %r : tensor<1x2x8x8xf32>
}

// -----

// COM: tfm.quantized_linear, per row: each row's max |x| (a reduction over
// COM: k), the elements rounded half to even into i32, each row's scale,
// COM: the exact i32 products (rows, k, n), then one epilogue that scales
// COM: each sum by the row's and the column's scales and adds the bias
// COM: before the activation.
// CHECK-LABEL: func.func @quantized_linear
// CHECK: %[[MOST:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "reduction"]} ins(%arg0 : tensor<?x8xf32>) outs(%{{.+}} : tensor<?xf32>)
// CHECK: math.absf
// CHECK: %[[Q:.+]] = linalg.generic {{.+}} ins(%arg0, %[[MOST]] : tensor<?x8xf32>, tensor<?xf32>) outs(%{{.+}} : tensor<?x8xi32>)
// CHECK: math.roundeven
// CHECK: arith.fptosi
// CHECK: %[[SCALE:.+]] = linalg.generic {{.+}} ins(%[[MOST]] : tensor<?xf32>)
// CHECK: %[[SUMS:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[Q]], %arg1 : tensor<?x8xi32>, tensor<8x32xi8>) outs(%{{.+}} : tensor<?x32xi32>)
// CHECK: arith.muli
// CHECK: linalg.generic {{.+}} ins(%[[SUMS]], %[[SCALE]], %arg2, %arg3 : tensor<?x32xi32>, tensor<?xf32>, tensor<32xf32>, tensor<32xf32>)
// CHECK: arith.sitofp
// CHECK: arith.maximumf
func.func @quantized_linear(%x: tensor<?x8xf32>, %w: tensor<8x32xi8>, %s: tensor<32xf32>, %b: tensor<32xf32>) -> tensor<?x32xf32> {
  %y = tfm.quantized_linear %x, %w, %s, %b {activation = "relu", operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 0>} : (tensor<?x8xf32>, tensor<8x32xi8>, tensor<32xf32>, tensor<32xf32>) -> tensor<?x32xf32>
  return %y : tensor<?x32xf32>
}

// -----

// COM: A blocked tfm.dequantize_linear (opset 21's block_size, here 16
// COM: along axis 0): row i reads its scale's and zero point's row i / 16,
// COM: the difference taken in i64.
// CHECK-DAG: #[[DATA:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[BLOCK:.+]] = affine_map<(d0, d1) -> (d0 floordiv 16, d1)>
// CHECK-LABEL: func.func @dequantize_blocked
// CHECK: linalg.generic {indexing_maps = [#[[DATA]], #[[BLOCK]], #[[BLOCK]], #[[DATA]]]
// CHECK: arith.extsi {{.*}} : i8 to i64
// CHECK: arith.subi
// CHECK: arith.sitofp
// CHECK: arith.mulf
func.func @dequantize_blocked(%w: tensor<40x3xi8>, %s: tensor<3x3xf32>, %z: tensor<3x3xi8>) -> tensor<40x3xf32> {
  %d = tfm.dequantize_linear %w, %s, %z {axis = 0 : i64, block_size = 16 : i64} : (tensor<40x3xi8>, tensor<3x3xf32>, tensor<3x3xi8>) -> tensor<40x3xf32>
  return %d : tensor<40x3xf32>
}
