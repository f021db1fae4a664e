/*===- tfc_abi.h - what generated code and the runtime share -----*- C -*-===*
 *
 * Internal to tfc: the layout of the model definition that `tfc compile`
 * emits into the object file, and the functions the generated code calls.
 * Apps use tfc_runtime.h only. Any change here bumps TFC_ABI_VERSION, which
 * every model definition records and tfc_model_create checks.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TFC_ABI_H
#define TFC_ABI_H

#include "tfc_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* An input as the entry function reads it. */
typedef struct tfc_abi_input {
  const void *data;
  const int64_t *dims;
} tfc_abi_input;

/* An output as the entry function writes it: `allocated` is the block to
 * release with tfc_rt_free, `data` the first element; `dims` points to
 * storage for the output's rank, provided by the runtime. */
typedef struct tfc_abi_output {
  void *allocated;
  void *data;
  int64_t *dims;
} tfc_abi_output;

typedef void (*tfc_entry_fn)(const tfc_abi_input *inputs,
                             tfc_abi_output *outputs);

/* The GPU part of a model compiled with --target=cuda. */
typedef struct tfc_gpu_weight {
  const void *data; /* in the library's read-only data */
  uint64_t bytes;
} tfc_gpu_weight;
typedef struct tfc_gpu_program {
  const char *ptx;  /* the kernels, one module, JIT-compiled at create */
  const char *arch; /* what the PTX targets, e.g. "sm_90" */
  uint32_t num_kernels;
  const char *const *kernels; /* tfc_rt_cuda_launch's kernel indices */
  uint32_t num_weights;
  /* Uploaded to the device at create; the entry passes their device
   * copies, in this order, from tfc_rt_cuda_weights(). */
  const tfc_gpu_weight *weights;
} tfc_gpu_program;

struct tfc_model_def {
  uint32_t abi_version;
  uint32_t num_inputs;
  uint32_t num_outputs;
  const char *name;
  const tfc_tensor_info *inputs;
  const tfc_tensor_info *outputs;
  tfc_entry_fn entry;
  /* --weights=file: the file name recorded at compile time, the byte size
   * and id (a hash of the contents, also in the file's header) the file must
   * have, and the pointer the generated code reads the weights through (the
   * start of the mapped file). All zero/NULL for embedded weights. */
  const char *weights_file;
  uint64_t weights_size;
  uint64_t weights_id;
  const void **weights_base;
  /* What the model was compiled for, one line (tfc_model_target), and the
   * instruction set of its kernels (TFC_RT_ISA_*, 0 for none; the
   * extensions they use, TFC_RT_FEATURE_*, in bits 8-15), which
   * tfc_model_create checks this CPU for: a model compiled for AVX-512 on
   * an AVX2 CPU is an error, not an illegal instruction. */
  const char *target;
  uint32_t isa;
  /* The kernels and weights of a GPU model; NULL for a CPU model. */
  const tfc_gpu_program *gpu;
  /* --decoder: the states the sequence keeps (one per causal linear
   * attention, numbered as the kernel calls' `sequence_state`); 0
   * otherwise. The tensors' sequence dims are in their tfc_tensor_info. */
  uint32_t num_sequence_states;
};

/* Called by generated code. */
void *tfc_rt_aligned_alloc(size_t alignment, size_t size);
void *tfc_rt_alloc(size_t size);
void tfc_rt_free(void *ptr);
/* A check in the model failed: ends the run with `message`. */
void tfc_rt_check_failed(const char *message);
/* A check that two values (dims) agree failed: ends the run with `message`
 * and the two values. */
void tfc_rt_check_failed_values(const char *message, int64_t lhs, int64_t rhs);
/* Runs body(context, begin, end) over chunks of [0, n) on the pool. */
typedef void (*tfc_rt_parallel_body)(void *context, int64_t begin,
                                     int64_t end);
void tfc_rt_parallel_for(tfc_rt_parallel_body body, void *context, int64_t n);
/* Strided copies between memrefs of any layout (MLIR's memrefCopy ABI). */
void tfc_rt_memref_copy(int64_t element_size, void *source, void *target);

/* tfc compile --profile: the generated code calls these around each graph
 * op, with the op's site string (one constant per op). */
/* The host code of a GPU model (lib/Runtime/cuda_model.c): buffers in
 * device memory, kept for the run; launches of the program's kernels by
 * index, `site` naming the graph nodes for errors; a value read back from
 * device memory (after the kernels launched before it), zero-extended; the
 * device copies of the weights. */
void *tfc_rt_cuda_alloc(size_t size);
void tfc_rt_cuda_free(void *ptr);
void tfc_rt_cuda_launch(int32_t kernel, int64_t grid_x, int64_t grid_y,
                        int64_t grid_z, int64_t block_x, int64_t block_y,
                        int64_t block_z, void **params, const char *site);
uint64_t tfc_rt_cuda_read(uint64_t address, int64_t bytes);
void *const *tfc_rt_cuda_weights(void);

void tfc_rt_profile_enter(const char *site);
void tfc_rt_profile_exit(const char *site);

/* MLIR's memref descriptors (what the kernel calls pass a pointer to), with
 * the element type erased: the flags of each call say what `aligned` points
 * to. */
#define TFC_RT_MEMREF(rank)                                                    \
  typedef struct tfc_rt_memref##rank {                                         \
    void *allocated;                                                           \
    void *aligned;                                                             \
    int64_t offset;                                                            \
    int64_t sizes[rank];                                                       \
    int64_t strides[rank];                                                     \
  } tfc_rt_memref##rank;
TFC_RT_MEMREF(1)
TFC_RT_MEMREF(2)
TFC_RT_MEMREF(3)
TFC_RT_MEMREF(4)
#undef TFC_RT_MEMREF

/* The kernels, declared from tfc_kernels.def (their arguments below). */
#define TFC_KERNEL(name, ...) void tfc_rt_##name(__VA_ARGS__);
#define TFC_KERNEL_IN(rank, arg) const tfc_rt_memref##rank *arg
#define TFC_KERNEL_OPT(rank, arg) const tfc_rt_memref##rank *arg
#define TFC_KERNEL_OUT(rank, arg) const tfc_rt_memref##rank *arg
#define TFC_KERNEL_I64(arg) int64_t arg
#define TFC_KERNEL_F32(arg) float arg
#include "tfc_kernels.def"
#undef TFC_KERNEL
#undef TFC_KERNEL_IN
#undef TFC_KERNEL_OPT
#undef TFC_KERNEL_OUT
#undef TFC_KERNEL_I64
#undef TFC_KERNEL_F32

/* Bits 8-15 of every kernel's flags: the element types of the call, as
 * input, weight and accumulator types where they differ. */
enum {
  TFC_RT_DTYPE_SHIFT = 8,
  TFC_RT_DTYPE_F32 = 1,
  TFC_RT_DTYPE_BF16 = 2,
  TFC_RT_DTYPE_S8S8S32 = 3,
  TFC_RT_DTYPE_U8S8S32 = 4,  /* vpdpbusd: u8 activations, s8 weights */
  TFC_RT_DTYPE_S16S16S32 = 5, /* vpmaddwd: both widened to s16 */
  TFC_RT_DTYPE_S4F32 = 6,     /* 4-bit weights, f32 inputs and sums */
  TFC_RT_DTYPE_I64 = 7,       /* integers: sequence_offset */
};
/* Bits 16-23: the instruction set the compiler chose for the model (the
 * code around the call is compiled for it too); the runtime runs that
 * variant of the kernel without asking the CPU again. */
enum {
  TFC_RT_ISA_SHIFT = 16,
  TFC_RT_ISA_X86_64 = 1, /* baseline x86-64 (SSE2) */
  TFC_RT_ISA_AVX2 = 2,   /* AVX2 and FMA (x86-64-v3) */
  TFC_RT_ISA_AVX512 = 3, /* AVX-512 F, BW, DQ, VL (x86-64-v4) */
  TFC_RT_ISA_NEON = 4,   /* AArch64's Advanced SIMD (every AArch64 CPU) */
};
/* Bits 24-31: extensions of the instruction set the compiler chose, which
 * some kernels use (the model definition's `isa` holds them in bits 8-15,
 * and tfc_model_create checks the CPU for them too). */
enum {
  TFC_RT_FEATURE_SHIFT = 24,
  /* 8-bit dot products, vpdpbusd: AVX512-VNNI with AVX-512, AVX-VNNI with
   * AVX2. */
  TFC_RT_FEATURE_VNNI = 1,
  /* bf16 dot products, vdpbf16ps (AVX512-BF16). */
  TFC_RT_FEATURE_BF16 = 2,
  /* Intel AMX tile products (AMX-TILE, AMX-BF16 and AMX-INT8, with
   * AVX-512): the bf16 and u8 x s8 linear kernels multiply blocks of rows
   * with tdpbf16ps and tdpbusd. tfc_model_create asks Linux for the tiles'
   * state (arch_prctl ARCH_REQ_XCOMP_PERM) and fails where it is refused. */
  TFC_RT_FEATURE_AMX = 4,
};

/* Flags of tfc_rt_attention, bits 0-7. *_HEAD_MAJOR: that operand is
 * [B, heads, L, head_dim] rather than [B, L, heads, head_dim]. */
enum {
  TFC_RT_ATTENTION_HAS_MASK = 1,
  TFC_RT_ATTENTION_CAUSAL = 2,
  TFC_RT_ATTENTION_Q_HEAD_MAJOR = 4,
  TFC_RT_ATTENTION_K_HEAD_MAJOR = 8,
  TFC_RT_ATTENTION_V_HEAD_MAJOR = 16,
};

/* tfc_rt_attention: out = softmax(q k^T * scale + mask) v per head (see
 * tfm.attention). q, k and v are [B, L, heads, head_dim] views, any
 * strides with unit-stride head_dim preferred (or [B, heads, L, head_dim]
 * under their *_HEAD_MAJOR flag); k and v may have fewer heads than q,
 * a divisor of num_heads (grouped-query attention). out is
 * [B, Lq, num_heads * dv]. `mask`, when TFC_RT_ATTENTION_HAS_MASK is set, is
 * [B', N', Lq', Lk'] with each dim 1 or the full size. Kernels: f32. The
 * generated code has checked the shapes.
 * `sequence_state` (causal ops of a --decoder model without a mask; else
 * -1): the index of the instance's KV cache. A prefill stores k and v in
 * it, a step appends them, and both attend to every key the cache holds
 * (the queries being its last Lq positions); a plain run ignores it.
 * `max_context` > 0 allocates the cache for that many positions at the
 * prefill and refuses a step past them; 0 grows it as the sequence does. */

/* Flags of tfc_rt_linear_attention, bits 0-7: the feature map in bits 0-1,
 * then causal, normalized (divided by the weights' sums plus `epsilon`),
 * and a `decay` operand. */
enum {
  TFC_RT_LINEAR_ATTENTION_IDENTITY = 0,
  TFC_RT_LINEAR_ATTENTION_ELU_PLUS_ONE = 1,
  TFC_RT_LINEAR_ATTENTION_RELU = 2,
  TFC_RT_LINEAR_ATTENTION_EXP = 3,
  TFC_RT_LINEAR_ATTENTION_MAP_MASK = 3,
  TFC_RT_LINEAR_ATTENTION_CAUSAL = 4,
  TFC_RT_LINEAR_ATTENTION_NORMALIZE = 8,
  TFC_RT_LINEAR_ATTENTION_HAS_DECAY = 16,
};

/* tfc_rt_linear_attention: tfm.linear_attention. q [B, Lq, N, dk], k
 * [B, Lk, N, dk], v [B, Lk, N, dv] and out [B, Lq, N, dv], any strides;
 * `decay` [N] under TFC_RT_LINEAR_ATTENTION_HAS_DECAY. `sequence_state`
 * (causal ops of a --decoder model; else -1): the index of the state that
 * a prefill writes and a step continues (tfc_model_prefill/step); a plain
 * run ignores it. `window` > 0: the last `window_dim` values of each q and
 * k row are a sliding window's rows (tfm.linear_attention's window; not
 * with a sequence state). Kernels: f32, dk and dv up to
 * TFC_RT_LINEAR_ATTENTION_MAX_HEAD_DIM, windows up to
 * TFC_RT_LINEAR_ATTENTION_MAX_WINDOW. The generated code has checked the
 * shapes. */
enum {
  TFC_RT_LINEAR_ATTENTION_MAX_HEAD_DIM = 1024,
  TFC_RT_LINEAR_ATTENTION_MAX_WINDOW = 1024
};

/* tfc_rt_matmul: out[b] = lhs[b] @ rhs[b] for [B, M, K] @ [B, K, N] ->
 * [B, M, N]; a batch dim of 1 in lhs or rhs broadcasts. Kernels: f32, the
 * linear kernel's tiles. The generated code has checked the shapes. */

/* tfm.linear's weights as the kernel reads them: [K, N] cut into panels of
 * PANEL columns, each stored k-major ([panels][K][PANEL]), the last
 * zero-padded. The compiler packs constant weights so, PANEL wide for the
 * instruction set it compiles for (each set's register tile is that wide);
 * the runtime refuses a packing of another width. */
enum {
  TFC_RT_LINEAR_PANEL_AVX512 = 32,
  TFC_RT_LINEAR_PANEL_AVX2 = 16,
  TFC_RT_LINEAR_PANEL_NEON = 16,
};
/* Flags of tfc_rt_linear, bits 0-7: which epilogue operands are present,
 * and the activation in bits 2-3. */
enum {
  TFC_RT_LINEAR_HAS_BIAS = 1,
  TFC_RT_LINEAR_HAS_RESIDUAL = 2,
  TFC_RT_LINEAR_ACTIVATION_SHIFT = 2,
};
enum {
  TFC_RT_LINEAR_NONE = 0,
  TFC_RT_LINEAR_RELU = 1,
  TFC_RT_LINEAR_GELU = 2,
  TFC_RT_LINEAR_GELU_TANH = 3,
};

/* tfc_rt_linear: out[b, l, :] = act(input[b, l, :] @ W + bias) +
 * residual[b, l, :] on [B, L, X] views with any strides, W packed (see
 * TFC_RT_LINEAR_PANEL_*; `packed` is [panels, K, PANEL]), `bias` [N] and
 * `residual` [B, L, N] read only when their flags are set. Kernels: f32.
 * The generated code has checked the shapes. */

/* tfc_rt_linear_bf16: out = act(bf16(input) @ W + bias) + residual
 * (tfm.linear of an f32 input by a bf16 weight): the input rows rounded to
 * bf16 (nearest, ties to even) as the call runs, products of bf16 summed in
 * f32. W is bf16 [K, N] packed in pairs of k: `packed` is [panels, K / 2
 * rounded up, PANEL * 2] bf16 (TFC_RT_LINEAR_PANEL_*), each 32-bit pair
 * holding k = 2g in its low half and k = 2g + 1 (or 0 past K) in its high
 * half, the layout of vdpbf16ps. Its flags' dtype is TFC_RT_DTYPE_BF16;
 * with TFC_RT_FEATURE_BF16 the AVX-512 kernel uses vdpbf16ps, else each
 * pair is widened to f32. bias, residual and the flags' bits 0-7 as for
 * tfc_rt_linear. The generated code has checked the shapes. */

/* tfc_rt_linear_q8: out = act(dequant(quant(input) @ W) + bias) + residual
 * (tfm.quantized_linear). The input rows (f32) are quantized as the call
 * runs, by the mode in bits 4-5 of the flags:
 *
 *   ROW     per row, symmetric: scale = max |x| / 127, q in [-127, 127]
 *   TENSOR  over the whole input, asymmetric u8 as ONNX's
 *           DynamicQuantizeLinear: scale = (max(x, 0) - min(x, 0)) / 255,
 *           zero point round(-min / scale)
 *   STATIC  the call's input_scale and input_zero (u8, or s8 under
 *           TFC_RT_Q8_INPUT_SIGNED)
 *
 * W is int8 [K, N], packed by the compiler for the dot product the flags'
 * dtype names: TFC_RT_DTYPE_U8S8S32 (vpdpbusd, with the VNNI feature) in
 * groups of 4 k of s8, TFC_RT_DTYPE_S16S16S32 (vpmaddwd) in groups of 2 k
 * widened to s16 with the weights' zero points subtracted. `packed` is
 * [panels, groups, PANEL * group bytes] with PANEL the linear kernel's
 * width (TFC_RT_LINEAR_PANEL_*). weight_scale is [panels * PANEL] f32
 * (per column, zero-padded); weight_sum [panels * PANEL] s32 is each
 * column's sum of stored weights (U8S8 only: the product of the activation
 * zero point is subtracted); weight_zero, when TFC_RT_Q8_HAS_WEIGHT_ZERO is
 * set (U8S8 only), is [panels * PANEL] s32. bias [N] and residual as for
 * tfc_rt_linear. The generated code has checked the shapes; K is at most
 * TFC_RT_Q8_MAX_DEPTH, so that no sum of products overflows 32 bits. */
enum {
  TFC_RT_Q8_INPUT_SHIFT = 4,
  TFC_RT_Q8_INPUT_ROW = 0,
  TFC_RT_Q8_INPUT_TENSOR = 1,
  TFC_RT_Q8_INPUT_STATIC = 2,
  TFC_RT_Q8_HAS_WEIGHT_ZERO = 64,
  TFC_RT_Q8_INPUT_SIGNED = 128,
  TFC_RT_Q8_MAX_DEPTH = 32768,
};

/* tfc_rt_linear_q4: out = act(input @ W + bias) + residual (tfm.
 * quantized_linear with weight_bits 4, input_quantization "none"), W[k][n]
 * = (q[k][n] - zero[k / G][n]) * scale[k / G][n] with q in 0..15 (a signed
 * int4 weight plus 8, its zero point 8) and G the group: the input's depth
 * over weight_scale's second dim. `packed` is [panels, K, PANEL / 2] u8
 * (TFC_RT_LINEAR_PANEL_*): per k of a panel, byte j holds column j in its
 * low nibble and column PANEL / 2 + j in its high one, 0 past N.
 * weight_scale is [panels, K / G, PANEL] f32 (0 past N); weight_zero, when
 * TFC_RT_Q4_HAS_WEIGHT_ZERO is set, [panels, K / G, PANEL] u8, else every
 * zero point is 8. The dtype is TFC_RT_DTYPE_S4F32: products and sums in
 * f32. bias, residual and the flags' bits 0-3 as for tfc_rt_linear. The
 * generated code has checked the shapes. */
enum { TFC_RT_Q4_HAS_WEIGHT_ZERO = 64 };

/* Flags of tfc_rt_layer_norm, bits 0-7. */
enum { TFC_RT_LAYER_NORM_HAS_BIAS = 1, TFC_RT_LAYER_NORM_HAS_SKIP = 2 };

/* tfc_rt_layer_norm, over the last dim: with x = input (+ skip when
 * TFC_RT_LAYER_NORM_HAS_SKIP), out[b, l, :] = (x - mean(x)) /
 * sqrt(var(x) + epsilon) * scale (+ bias when TFC_RT_LAYER_NORM_HAS_BIAS),
 * on [B, L, D] views with any strides (each row contiguous), `scale` and
 * `bias` [D]. Kernels: f32. The generated code has checked the shapes. */

#ifdef __cplusplus
}
#endif

#endif /* TFC_ABI_H */
