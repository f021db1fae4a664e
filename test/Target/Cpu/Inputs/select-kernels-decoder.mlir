// Cases of tfc-cpu-select-kernels for --decoder models (tfm-sequence-state's
// marks), run by ../tfc-cpu-select-kernels.mlir: without kernels they are
// errors, so they cannot share that file's runs.

// COM: An attention with a KV cache: its state index and --max-context go
// COM: to the kernel (the arguments after the scale); the call's start
// COM: position is the sequence_offset kernel's one i64.
// CHECK-LABEL: func.func @kv_cache
// CHECK-DAG: %[[STATE:.+]] = arith.constant 3 : i64
// CHECK-DAG: %[[LIMIT:.+]] = arith.constant 128 : i64
// CHECK: tfc_cpu.ukernel "attention"(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[STATE]], %[[LIMIT]])
// CHECK: tfc_cpu.ukernel "sequence_offset"() {dtypes = "i64", isa = "avx512"} : () -> tensor<1xi64>
// NONE: error: --decoder needs a kernel to keep this op's state in the instance, and there is none here: no kernels for instruction set 'x86-64'
func.func @kv_cache(%q: tensor<?x?x64xf32>) -> (tensor<?x?x64xf32>, tensor<1xi64>) {
  // expected-remark @+1 {{kernel attention (f32, avx512, KV cache in the instance)}}
  %r = tfm.attention %q, %q, %q {num_heads = 4 : i64, scale = 0.25 : f32, causal = true, tfm.sequence_state = 3 : i64, tfm.max_context = 128 : i64} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  // expected-remark @+1 {{kernel sequence_offset}}
  %start = tfm.sequence_offset : tensor<1xi64>
  return %r, %start : tensor<?x?x64xf32>, tensor<1xi64>
}

// -----

// COM: The cache keeps f32 keys and values: bf16 products with one are
// COM: refused, an error rather than a generic lowering that keeps none.
func.func @kv_cache_bf16(%q: tensor<?x?x64xf32>) -> tensor<?x?x64xf32> {
  // expected-error @+1 {{--decoder needs a kernel to keep this op's state in the instance, and there is none here: the KV cache is kept for f32 products only, not bf16}}
  %r = tfm.attention %q, %q, %q {num_heads = 4 : i64, scale = 0.25 : f32, causal = true, precision = "bf16", tfm.sequence_state = 0 : i64} : (tensor<?x?x64xf32>, tensor<?x?x64xf32>, tensor<?x?x64xf32>) -> tensor<?x?x64xf32>
  return %r : tensor<?x?x64xf32>
}
