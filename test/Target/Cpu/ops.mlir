// RUN: tfc-opt %s --split-input-file --verify-diagnostics

// COM: The verifier checks each kernel call against the kernel table
// COM: (tfc_kernels.def): the kernel exists, each argument has the kind and
// COM: rank the kernel declares, only optional tensors are left out, and
// COM: the element types and instruction set have encodings.

func.func @unknown_kernel(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{calls an unknown kernel 'softmax'}}
  %y = tfc_cpu.ukernel "softmax"(%x) {dtypes = "f32", isa = "avx2"} : (tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

func.func @wrong_rank(%x: tensor<4x8xf32>, %p: tensor<1x8x32xf32>) -> tensor<1x4x32xf32> {
  // expected-error @+1 {{passes 'tensor<4x8xf32>' as argument 'input' of kernel 'linear', which takes a tensor of rank 3}}
  %y = tfc_cpu.ukernel "linear"(%x, %p) {absent = array<i64: 2, 3>, dtypes = "f32", isa = "avx2"} : (tensor<4x8xf32>, tensor<1x8x32xf32>) -> tensor<1x4x32xf32>
  return %y : tensor<1x4x32xf32>
}

// -----

func.func @required_left_out(%x: tensor<1x4x8xf32>) -> tensor<1x4x32xf32> {
  // expected-error @+1 {{leaves out argument 1 of kernel 'linear', which is not an optional tensor}}
  %y = tfc_cpu.ukernel "linear"(%x) {absent = array<i64: 1, 2, 3>, dtypes = "f32", isa = "avx2"} : (tensor<1x4x8xf32>) -> tensor<1x4x32xf32>
  return %y : tensor<1x4x32xf32>
}

// -----

func.func @too_few(%x: tensor<1x4x8xf32>) -> tensor<1x4x32xf32> {
  // expected-error @+1 {{has too few operands for kernel 'linear': none for its argument 'packed'}}
  %y = tfc_cpu.ukernel "linear"(%x) {absent = array<i64: 2, 3>, dtypes = "f32", isa = "avx2"} : (tensor<1x4x8xf32>) -> tensor<1x4x32xf32>
  return %y : tensor<1x4x32xf32>
}

// -----

func.func @scalar_type(%q: tensor<1x8x2x8xf32>, %heads: i32, %scale: f32) -> tensor<1x8x16xf32> {
  // expected-error @+1 {{passes 'i32' as argument 'num_heads' of kernel 'attention', which takes an i64}}
  %y = tfc_cpu.ukernel "attention"(%q, %q, %q, %heads, %scale) {absent = array<i64: 3>, dtypes = "f32", isa = "avx2"}
      : (tensor<1x8x2x8xf32>, tensor<1x8x2x8xf32>, tensor<1x8x2x8xf32>, i32, f32) -> tensor<1x8x16xf32>
  return %y : tensor<1x8x16xf32>
}

// -----

func.func @operand_rank(%q: tensor<1x8x16xf32>, %heads: i64, %scale: f32) -> tensor<1x8x16xf32> {
  // expected-error @+1 {{passes 'tensor<1x8x16xf32>' as argument 'query' of kernel 'attention', which takes a tensor of rank 4}}
  %y = tfc_cpu.ukernel "attention"(%q, %q, %q, %heads, %scale) {absent = array<i64: 3>, dtypes = "f32", isa = "avx2"}
      : (tensor<1x8x16xf32>, tensor<1x8x16xf32>, tensor<1x8x16xf32>, i64, f32) -> tensor<1x8x16xf32>
  return %y : tensor<1x8x16xf32>
}

// -----

func.func @unknown_isa(%x: tensor<1x4x8xf32>, %g: tensor<8xf32>, %eps: f32) -> tensor<1x4x8xf32> {
  // expected-error @+1 {{has flags 0, element types 'f32' and instruction set 'sse2', which the runtime does not encode}}
  %y = tfc_cpu.ukernel "layer_norm"(%x, %g, %eps) {absent = array<i64: 1, 3>, dtypes = "f32", isa = "sse2"} : (tensor<1x4x8xf32>, tensor<8xf32>, f32) -> tensor<1x4x8xf32>
  return %y : tensor<1x4x8xf32>
}

// -----

func.func @result_rank(%x: tensor<1x4x8xf32>, %g: tensor<8xf32>, %eps: f32) -> tensor<4x8xf32> {
  // expected-error @+1 {{yields a tensor of rank 2; kernel 'layer_norm' writes rank 3}}
  %y = tfc_cpu.ukernel "layer_norm"(%x, %g, %eps) {absent = array<i64: 1, 3>, dtypes = "f32", isa = "avx2"} : (tensor<1x4x8xf32>, tensor<8xf32>, f32) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

func.func @dynamic_dims(%x: tensor<1x?x8xf32>, %g: tensor<8xf32>, %eps: f32) -> tensor<1x?x8xf32> {
  // expected-error @+1 {{has 0 dynamic dims for a result with 1}}
  %y = tfc_cpu.ukernel "layer_norm"(%x, %g, %eps) {absent = array<i64: 1, 3>, dtypes = "f32", isa = "avx2"} : (tensor<1x?x8xf32>, tensor<8xf32>, f32) -> tensor<1x?x8xf32>
  return %y : tensor<1x?x8xf32>
}

// -----

func.func @call_without_output(%x: memref<?x?x?xf32>, %g: memref<?xf32>, %eps: f32) {
  // expected-error @+1 {{passes 'f32' as argument 'out' of kernel 'layer_norm', which takes a tensor of rank 3}}
  tfc_cpu.ukernel_call "layer_norm"(%x, %g, %eps) {absent = array<i64: 1, 3>, dtypes = "f32", isa = "avx2"} : memref<?x?x?xf32>, memref<?xf32>, f32
  return
}
