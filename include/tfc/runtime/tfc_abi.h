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
void tfc_rt_profile_enter(const char *site);
void tfc_rt_profile_exit(const char *site);

/* MLIR's memref descriptors of f32 (what llvm.emit_c_interface passes). */
typedef struct tfc_rt_memref1_f32 {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[1];
  int64_t strides[1];
} tfc_rt_memref1_f32;
typedef struct tfc_rt_memref2_f32 {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[2];
  int64_t strides[2];
} tfc_rt_memref2_f32;
typedef struct tfc_rt_memref3_f32 {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[3];
  int64_t strides[3];
} tfc_rt_memref3_f32;
typedef struct tfc_rt_memref4_f32 {
  float *allocated;
  float *aligned;
  int64_t offset;
  int64_t sizes[4];
  int64_t strides[4];
} tfc_rt_memref4_f32;

/* Flags of tfc_rt_attention_f32. */
enum { TFC_RT_ATTENTION_HAS_MASK = 1, TFC_RT_ATTENTION_CAUSAL = 2 };

/* tfm.attention: out = softmax(q k^T * scale + mask) v per head, on
 * [B, L, heads * head_dim] tensors (see the op's documentation). `mask`, when
 * TFC_RT_ATTENTION_HAS_MASK is set, is [B', N', Lq', Lk'] with each dim 1 or
 * the full size. The generated code has checked the shapes. */
void tfc_rt_attention_f32(const tfc_rt_memref3_f32 *q,
                          const tfc_rt_memref3_f32 *k,
                          const tfc_rt_memref3_f32 *v,
                          const tfc_rt_memref4_f32 *mask,
                          const tfc_rt_memref3_f32 *out, int64_t num_heads,
                          float scale, int64_t flags);

/* tfm.linear's weights as the kernel reads them: [K, N] cut into panels of
 * TFC_RT_LINEAR_PANEL columns, each stored k-major ([panels][K][PANEL]),
 * the last zero-padded. The compiler packs constant weights so. */
enum { TFC_RT_LINEAR_PANEL = 32 };
/* Flags of tfc_rt_linear_f32: which epilogue operands are present, and the
 * activation in bits 2-3. */
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

/* tfm.linear: out[b, l, :] = act(input[b, l, :] @ W + bias) + residual[b, l, :]
 * on [B, L, X] views with any strides, W packed (see TFC_RT_LINEAR_PANEL;
 * `packed` is [panels, K, PANEL]), `bias` [N] and `residual` [B, L, N] read
 * only when their flags are set. The generated code has checked the
 * shapes. */
void tfc_rt_linear_f32(const tfc_rt_memref3_f32 *input,
                       const tfc_rt_memref3_f32 *packed,
                       const tfc_rt_memref1_f32 *bias,
                       const tfc_rt_memref3_f32 *residual,
                       const tfc_rt_memref3_f32 *out, int64_t flags);

/* Flags of tfc_rt_layer_norm_f32. */
enum { TFC_RT_LAYER_NORM_HAS_BIAS = 1, TFC_RT_LAYER_NORM_HAS_SKIP = 2 };

/* tfm.layer_norm and tfm.add_layer_norm over the last dim: with x = input
 * (+ skip when TFC_RT_LAYER_NORM_HAS_SKIP), out[b, l, :] = (x - mean(x)) /
 * sqrt(var(x) + epsilon) * scale (+ bias when TFC_RT_LAYER_NORM_HAS_BIAS),
 * on [B, L, D] views with any strides (each row contiguous), `scale` and
 * `bias` [D]. The generated code has checked the shapes. */
void tfc_rt_layer_norm_f32(const tfc_rt_memref3_f32 *input,
                           const tfc_rt_memref3_f32 *skip,
                           const tfc_rt_memref1_f32 *scale,
                           const tfc_rt_memref1_f32 *bias,
                           const tfc_rt_memref3_f32 *out, float epsilon,
                           int64_t flags);

#ifdef __cplusplus
}
#endif

#endif /* TFC_ABI_H */
