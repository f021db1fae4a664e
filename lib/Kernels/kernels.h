/*===- kernels.h - the kernel library's interface to the runtime -*- C -*-===*
 *
 * The kernel library computes; the runtime schedules. A kernel here is a
 * pure function of its problem: it reads and writes the memory the problem
 * points to, and nothing else. No thread pool, no allocation, no run state,
 * no CPU detection: the runtime (lib/Runtime/kernel_calls.c) turns a call
 * from generated code into a problem, allocates what the kernel asks for,
 * splits the work into the tasks the kernel defines and runs them on the
 * model's threads.
 *
 * Each kernel is compiled once per instruction set, its functions suffixed
 * with the set's name (_avx2, _avx512; _neon in the AArch64 runtime, built
 * by cross-compiling); the compiler chose the set when it
 * compiled the model (tfc_abi.h's TFC_RT_ISA_*), and the runtime calls that
 * variant.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TFC_KERNELS_H
#define TFC_KERNELS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

/* The instruction sets with kernels on the architecture being compiled;
 * X(isa) for each. */
#if defined(__aarch64__)
#define TFC_KERNEL_ISAS(X) X(neon)
#else
#define TFC_KERNEL_ISAS(X) X(avx2) X(avx512)
#endif

/* linear (f32): out = act(input @ W + bias) + residual, W packed in panels
 * of TFC_RT_LINEAR_PANEL columns. A task is a block of up to
 * TFC_LINEAR_BLOCK_M rows (whole tiles of 12) by a group of panels. */
enum {
  TFC_LINEAR_BLOCK_K = 768, /* reduction slice: a panel's slice is 96 KB */
  TFC_LINEAR_BLOCK_M = 96,  /* most rows per task: a multiple of every tile */
  TFC_LINEAR_AMX_SPAN = 4, /* blocks of rows per int8 or bf16 task with AMX */
};
typedef struct tfc_linear_f32_problem {
  const float *input, *packed, *bias, *residual;
  float *out;
  /* Each of `batches` holds `rows` rows: strides in elements. */
  int64_t input_batch, residual_batch, out_batch;
  int64_t input_row, residual_row, out_row;
  int64_t batches, rows, cols, depth, panels;
  int activation; /* TFC_RT_LINEAR_NONE, ... */
  /* Tasks (set by tfc_kernel_linear_f32_plan): each batch's rows in
   * `row_blocks` blocks of whole 12-row tiles (row_tiles of them in all), by
   * `panel_groups` groups of panels. */
  int64_t row_tiles, row_blocks, panel_groups;
  int64_t tasks;
  atomic_int_fast64_t next_task; /* the next task not yet claimed */
} tfc_linear_f32_problem;

/* Splits `p` (its operands set) into tasks for `threads` threads. */
void tfc_kernel_linear_f32_plan(tfc_linear_f32_problem *p, int threads);

/* linear_q8: out = act(dequant(quant(input) @ W) + bias) + residual with
 * W int8 (see tfc_abi.h's tfc_rt_linear_q8). Tasks as the f32 linear's (a
 * block of rows by a group of panels) multiply quantized rows by the packed
 * weights with 32-bit sums over the whole depth, and the epilogue
 * dequantizes. The first task to reach a block of rows quantizes it into
 * `quantized` (tfc_kernel_linear_q8_quantize); tasks of the same block on
 * other threads wait for it (block_state), so quantizing costs no pass of
 * its own over the thread pool. Per-tensor quantization needs the whole
 * input's range first (tfc_kernel_linear_q8_range, a pass of its own). */
typedef struct tfc_linear_q8_problem {
  const float *input, *bias, *residual;
  const int8_t *packed;
  const float *weight_scale;
  const int32_t *weight_sum, *weight_zero;
  float *out;
  int64_t input_batch, residual_batch, out_batch;
  int64_t input_row, residual_row, out_row;
  int64_t batches, rows, cols, depth, panels;
  int64_t groups; /* of the depth: 4 k (u8s8) or 2 (s16) per group */
  int activation;
  int dot;        /* TFC_RT_DTYPE_U8S8S32 or TFC_RT_DTYPE_S16S16S32 */
  int input_mode; /* TFC_RT_Q8_INPUT_* */
  int input_signed;
  int amx; /* tdpbusd tiles (TFC_RT_FEATURE_AMX, U8S8; groups a multiple of 16) */
  float input_scale;     /* TENSOR (once computed) and STATIC */
  int32_t input_zero;
  /* The quantized rows of every batch, batch after batch: row r at
   * quantized + r * row_bytes (u8 for U8S8, s16 less the zero point for
   * S16), and per row its scale, zero point and sum of quantized values. */
  uint8_t *quantized;
  int64_t row_bytes;
  float *row_scale;
  int32_t *row_zero, *row_sum;
  /* Per block of rows (batches * row_blocks): 0 not quantized, 1 being
   * quantized, 2 quantized. */
  atomic_int *block_state;
  /* Tasks (tfc_kernel_linear_q8_plan): as tfc_linear_f32_problem's, but
   * each spans block_span blocks of rows (row_groups of them per batch;
   * see row_blocks.h). */
  int64_t row_tiles, row_blocks, panel_groups, block_span, row_groups;
  int64_t tasks;
  atomic_int_fast64_t next_task;
} tfc_linear_q8_problem;

/* Splits `p` (its operands set) into tasks for `threads` threads and sets
 * row_bytes; returns the bytes of workspace the call must provide for the
 * quantized rows and their scales (a multiple of 64), or 0 when the size
 * overflows. */
size_t tfc_kernel_linear_q8_plan(tfc_linear_q8_problem *p, int threads);
/* Points the problem's quantized rows and row arrays into `workspace`. */
void tfc_kernel_linear_q8_place(tfc_linear_q8_problem *p, void *workspace);

/* linear_bf16: out = act(bf16(input) @ W + bias) + residual with W bf16
 * (see tfc_abi.h's tfc_rt_linear_bf16). Tasks as the f32 linear's; the
 * first task to reach a block of rows converts it to bf16 pairs in
 * `converted` (row_blocks.h). */
typedef struct tfc_linear_bf16_problem {
  const float *input, *bias, *residual;
  const uint32_t *packed; /* [panels][pairs][PANEL] pairs of bf16 (bf16.h) */
  float *out;
  int64_t input_batch, residual_batch, out_batch;
  int64_t input_row, residual_row, out_row;
  int64_t batches, rows, cols, depth, panels;
  int64_t pairs; /* (depth + 1) / 2 */
  int activation;
  int native; /* vdpbf16ps (TFC_RT_FEATURE_BF16) */
  int amx;    /* tdpbf16ps tiles (TFC_RT_FEATURE_AMX; pairs a multiple of 16) */
  /* The rows of every batch as pairs, row r at converted + r * row_pairs;
   * per block of rows (batches * row_blocks) its state (row_blocks.h). */
  uint32_t *converted;
  int64_t row_pairs;
  atomic_int *block_state;
  int64_t row_tiles, row_blocks, panel_groups, block_span, row_groups;
  int64_t tasks;
  atomic_int_fast64_t next_task;
} tfc_linear_bf16_problem;

/* Splits `p` into tasks and sets row_pairs; returns the bytes of workspace
 * the call must provide (a multiple of 64), or 0 when the size overflows. */
size_t tfc_kernel_linear_bf16_plan(tfc_linear_bf16_problem *p, int threads);
/* Points the converted rows and block states into `workspace`. */
void tfc_kernel_linear_bf16_place(tfc_linear_bf16_problem *p, void *workspace);

/* linear_q4: out = act(input @ W + bias) + residual with W 4-bit in groups
 * of `group` rows (see tfc_abi.h's tfc_rt_linear_q4), dequantized in
 * registers (linear_q4.c). Tasks as the f32 linear's. */
typedef struct tfc_linear_q4_problem {
  const float *input, *bias, *residual;
  const uint8_t *packed; /* [panels][depth][PANEL / 2]: two columns a byte */
  const float *scales;   /* [panels][groups][PANEL] */
  const uint8_t *zeros;  /* [panels][groups][PANEL], or NULL: all 8 */
  float *out;
  int64_t input_batch, residual_batch, out_batch;
  int64_t input_row, residual_row, out_row;
  int64_t batches, rows, cols, depth, panels;
  int64_t group, groups; /* depth == group * groups */
  int activation;
  int64_t row_tiles, row_blocks, panel_groups;
  int64_t tasks;
  atomic_int_fast64_t next_task;
} tfc_linear_q4_problem;

/* Splits `p` (its operands set) into tasks for `threads` threads. */
void tfc_kernel_linear_q4_plan(tfc_linear_q4_problem *p, int threads);

/* attention (f32): softmax(q k^T * scale + mask) v per head. A task is a
 * block of TFC_ATTENTION_BLOCK_Q queries of one head, which walks the keys in
 * blocks of TFC_ATTENTION_BLOCK_K. */
enum {
  TFC_ATTENTION_BLOCK_Q = 64,
  TFC_ATTENTION_BLOCK_K = 64, /* four vectors of 16 */
  /* Up to this many keys, K and V are read where they lie when their
   * elements are at unit stride; beyond it the packing phase copies each
   * head's rows together first. With AVX2 on 12 heads of 64 (rows 3 KB
   * apart), reading in place took 128 tokens from 0.47 to 0.37 ms and 197
   * from 0.97 to 0.84 ms, was even at 512 to 1024, and slower at 2048 (75-86
   * against 91 ms): a head's 2048 rows span 6 MB of pages there, where the
   * copy is 1 MB at unit stride that every query block of the head
   * re-reads. */
  TFC_ATTENTION_IN_PLACE_MAX_KEYS = 512,
};
typedef struct tfc_attention_f32_problem {
  const float *q, *k, *v, *mask;
  float *out;
  /* kv_heads divides heads: query head h reads K and V head
   * h / (heads / kv_heads) (grouped-query attention; equal without). */
  int64_t batch, heads, kv_heads, q_len, k_len, dk, dv;
  /* Strides in elements of [batch, row, element] and between heads; a
   * broadcast mask dim has stride 0. */
  int64_t q_stride[3], k_stride[3], v_stride[3], out_stride[3];
  int64_t q_head_stride, k_head_stride, v_head_stride, out_head_stride;
  int64_t mask_stride[4];
  float scale;
  int causal, has_mask;
  /* The mask is [B', 1, 1, Lk]: per-sequence key padding. */
  int key_padding;
  int64_t q_blocks; /* tasks: batch * heads * q_blocks */
  /* K and V of each (batch, head) as contiguous rows ([Lk][dk], [Lk][dv]),
   * written by the packing phase (tfc_kernel_attention_f32_packed_floats
   * of them); NULL when that is 0 and the kernel reads K and V in place. */
  float *packed;
  /* bf16 products (precision = "bf16"; vdpbf16ps when native_bf16): the
   * packing phase always runs and writes `pairs` instead of `packed`: per
   * (batch, KV head), K as [Lk][(dk + 1) / 2] pairs along the head dim,
   * then V as [(Lk + 1) / 2][dv] pairs of keys (bf16.h), 0 past the ends. */
  int bf16, native_bf16;
  uint32_t *pairs;
  /* bf16 with AMX (TFC_RT_FEATURE_AMX, dv a multiple of 32): the outputs,
   * and the scores of whole blocks of keys where dk is a multiple of 32,
   * are tdpbf16ps tile products (amx.h); V is packed transposed then, as
   * [dv][tfc_attention_v_pairs] pairs of keys, each row's pairs past the
   * keys 0. */
  int amx;
} tfc_attention_f32_problem;

/* The pairs of keys of a row of packed V (bf16): (Lk + 1) / 2, with AMX
 * rounded up to whole tiles of 16. */
static inline int64_t tfc_attention_v_pairs(const tfc_attention_f32_problem *p) {
  int64_t pairs = (p->k_len + 1) / 2;
  return p->amx ? (pairs + 15) / 16 * 16 : pairs;
}

/* Sets the problem's task count (q_blocks). */
void tfc_kernel_attention_f32_plan(tfc_attention_f32_problem *p);
/* The floats of the packed K and V (p->packed, or p->pairs for bf16), a
 * multiple of 16; 0 when K and V are read in place (see
 * TFC_ATTENTION_IN_PLACE_MAX_KEYS); SIZE_MAX when the bf16 size overflows. */
size_t tfc_kernel_attention_f32_packed_floats(const tfc_attention_f32_problem *p);
/* The floats of scratch each thread needs, a multiple of 16 (64-byte
 * aligned blocks stay aligned): the transposed queries, a block of scores,
 * the output accumulator, three vectors of BLOCK_Q and, for bf16, the
 * block's probabilities as pairs (see carve_scratch in attention_f32.c). */
size_t tfc_kernel_attention_f32_scratch_floats(const tfc_attention_f32_problem *p);

/* layer_norm (f32), over the last dim of [B, L, D]. */
typedef struct tfc_layer_norm_f32_problem {
  const float *input, *skip, *scale, *bias;
  float *out;
  /* Strides in elements of [B, L, D], and of scale and bias. */
  int64_t input_stride[3], skip_stride[3], out_stride[3];
  int64_t scale_stride, bias_stride;
  int64_t rows_per_batch, depth;
  float epsilon;
} tfc_layer_norm_f32_problem;

/* linear_attention (f32): tfm.linear_attention for one head per task
 * (batch * heads tasks), the keys in chunks of TFC_LINEAR_ATTENTION_CHUNK
 * with a dk x dv state carried between them (linear_attention_f32.c). */
enum { TFC_LINEAR_ATTENTION_CHUNK = 64 };
typedef struct tfc_linear_attention_f32_problem {
  const float *q, *k, *v, *decay; /* decay: [heads], or NULL */
  float *out;
  /* Element strides of each [B, L, N, d] operand: batch, row, head, d. */
  int64_t q_stride[4], k_stride[4], v_stride[4], out_stride[4];
  int64_t batch, heads, q_len, k_len, dk, dv;
  int feature_map; /* TFC_RT_LINEAR_ATTENTION_IDENTITY, ... */
  int causal, normalize;
  float scale, epsilon;
  /* A sliding window of exact weights (tfm.linear_attention's window): the
   * last window_dim values of each q and k row are its own rows, the first
   * dk - window_dim the features; keys within `window` positions of a query
   * weigh exp(qw · kw). 0: none. */
  int64_t window, window_dim;
  /* A causal sequence continued across calls (tfc_model_prefill/step): per
   * task (b * heads + h) the state S then z, carry_floats each in the
   * kernel's own layout, written after the call's last key and, with
   * carry_in, read as the keys before its first. NULL: the call stands
   * alone. */
  float *carry;
  int carry_in;
} tfc_linear_attention_f32_problem;

/* The floats of scratch one thread's tasks need. */
size_t tfc_kernel_linear_attention_f32_scratch_floats(
    const tfc_linear_attention_f32_problem *p);
/* Of those, the window's buffers (0 without a window). */
size_t tfc_kernel_linear_attention_f32_window_floats(
    const tfc_linear_attention_f32_problem *p);
/* The floats of one task's carried state (S and z). */
size_t tfc_kernel_linear_attention_f32_carry_floats(
    const tfc_linear_attention_f32_problem *p);

/* linear_sparse (f32): act(input @ W + bias) + residual with W block-sparse:
 * for each panel of SPARSE_PANEL output columns, only its input rows (k)
 * that have a nonzero weight, each a row of SPARSE_PANEL values. */
enum { TFC_SPARSE_PANEL = 16 };
typedef struct tfc_linear_sparse_f32_problem {
  const float *input;   /* [batches, rows, depth], strides below */
  const float *values;  /* [blocks, TFC_SPARSE_PANEL] */
  const int32_t *ks;    /* [blocks]: the input row (k) of each block */
  const int32_t *first; /* [panels + 1]: each panel's first block */
  const float *bias;    /* [cols], or NULL */
  const float *residual;
  float *out;
  int64_t input_batch, input_row, residual_batch, residual_row, out_batch,
      out_row;
  int64_t batches, rows, cols, depth, panels;
  int activation; /* TFC_RT_LINEAR_* */
  /* Tasks: panel ranges of about equal nonzeros (task_panels[t] to
   * task_panels[t + 1]), times row blocks of row_block rows. */
  const int64_t *task_panels;
  int64_t panel_tasks, row_block, row_blocks;
} tfc_linear_sparse_f32_problem;

/* linear_sparse_q8: tfm.quantized_linear by an int8 weight pruned in
 * blocks of TFC_SPARSE_Q8_DEPTH input rows by TFC_SPARSE_PANEL output
 * columns (one group of vpdpbusd's 4 bytes per lane): for each panel of 16
 * columns, only its blocks with a nonzero stored weight. The input is
 * quantized as linear_q8's (tfc_kernel_linear_q8_quantize on `q8`, whose
 * groups span whole blocks) before the tasks run, and `q8` has the
 * epilogue's operands; its own task fields are unused. */
enum { TFC_SPARSE_Q8_DEPTH = 4 };
typedef struct tfc_linear_sparse_q8_problem {
  const tfc_linear_q8_problem *q8;
  /* [blocks][64] bytes for U8S8 (16 columns x 4 s8, k in the low byte
   * first), [blocks][2][64] for S16 (two groups of 16 columns x 2 s16). */
  const int8_t *values;
  const int32_t *ks;    /* [blocks]: each block's first input row */
  const int32_t *first; /* [panels + 1]: each panel's first block */
  /* Tasks as tfc_linear_sparse_f32_problem's. */
  const int64_t *task_panels;
  int64_t panel_tasks, row_block, row_blocks;
} tfc_linear_sparse_q8_problem;

/* The functions of each instruction set's variant. */
#define TFC_KERNEL_DECLARE(isa)                                                \
  /* Runs linear task `task` and returns the task claimed next from        \
   * p->next_task (claimed early, to prefetch its first weights). */           \
  int64_t tfc_kernel_linear_f32_task_##isa(tfc_linear_f32_problem *p,         \
                                           int64_t task);                      \
  /* Attention, phase one over [begin, end) of batch * heads: copies each  \
   * head's K and V rows together into p->packed. */                          \
  void tfc_kernel_attention_f32_pack_##isa(                                    \
      const tfc_attention_f32_problem *p, int64_t begin, int64_t end);        \
  /* Phase two: tasks [begin, end) of p->q_blocks per head, with the        \
   * thread's `scratch`. */                                                    \
  void tfc_kernel_attention_f32_tasks_##isa(                                   \
      const tfc_attention_f32_problem *p, float *scratch, int64_t begin,       \
      int64_t end);                                                            \
  /* linear_q8: the range [min, max] of rows [begin, end) of all batches \
   * (TENSOR mode, before quantizing). */                                     \
  void tfc_kernel_linear_q8_range_##isa(const tfc_linear_q8_problem *p,        \
                                        int64_t begin, int64_t end,            \
                                        float range[2]);                       \
  /* Quantizes rows [begin, end) of all batches. */                           \
  void tfc_kernel_linear_q8_quantize_##isa(const tfc_linear_q8_problem *p,     \
                                           int64_t begin, int64_t end);        \
  /* Runs task `task` and returns the next one claimed. */                    \
  int64_t tfc_kernel_linear_q8_task_##isa(tfc_linear_q8_problem *p,           \
                                          int64_t task);                       \
  /* linear_bf16: runs task `task` and returns the next one claimed. */   \
  int64_t tfc_kernel_linear_bf16_task_##isa(tfc_linear_bf16_problem *p,       \
                                            int64_t task);                     \
  /* linear_q4: runs task `task` and returns the next one claimed. */     \
  int64_t tfc_kernel_linear_q4_task_##isa(tfc_linear_q4_problem *p,           \
                                          int64_t task);                       \
  /* Rows [begin, end) of all batches. */                                      \
  void tfc_kernel_layer_norm_f32_rows_##isa(                                   \
      const tfc_layer_norm_f32_problem *p, int64_t begin, int64_t end);        \
  /* linear_attention: tasks (heads) [begin, end) of batch * heads, with \
   * the thread's `scratch`. */                                               \
  void tfc_kernel_linear_attention_f32_tasks_##isa(                            \
      const tfc_linear_attention_f32_problem *p, float *scratch,              \
      int64_t begin, int64_t end);                                             \
  /* linear_sparse: tasks [begin, end) of panel_tasks * row_blocks *       \
   * batches. */                                                               \
  void tfc_kernel_linear_sparse_f32_tasks_##isa(                               \
      const tfc_linear_sparse_f32_problem *p, int64_t begin, int64_t end);     \
  /* linear_sparse_q8: tasks [begin, end) of panel_tasks * row_blocks *    \
   * batches, the input quantized. */                                          \
  void tfc_kernel_linear_sparse_q8_tasks_##isa(                                \
      const tfc_linear_sparse_q8_problem *p, int64_t begin, int64_t end);
TFC_KERNEL_ISAS(TFC_KERNEL_DECLARE)
#undef TFC_KERNEL_DECLARE

/* In a kernel's source: its functions' names for the variant being
 * compiled (TFC_KERNEL_ISA is set per variant by the build). */
#define TFC_KERNEL_CONCAT_(name, isa) name##_##isa
#define TFC_KERNEL_CONCAT(name, isa) TFC_KERNEL_CONCAT_(name, isa)
#define TFC_KERNEL_FN(name) TFC_KERNEL_CONCAT(name, TFC_KERNEL_ISA)

#endif /* TFC_KERNELS_H */
