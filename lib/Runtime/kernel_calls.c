/*===- kernel_calls.c - the kernel calls of generated code -------*- C -*-===*
 *
 * Generated code calls tfc_rt_<kernel> (declared from tfc_kernels.def in
 * tfc_abi.h) with memref descriptors and a flags word. Here each call
 * becomes a problem for the kernel library (lib/Kernels): the variant for
 * the element types and instruction set the flags name (chosen when the
 * model was compiled; nothing here asks the CPU), the memory the kernel
 * needs from the instance's allocator, and its tasks run on the model's
 * thread pool.
 *
 * A flags word naming a variant the library lacks is a mismatch between
 * the compiler and this runtime: the run stops with an error.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels.h"
#include "runtime_internal.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The variants of one kernel function, by TFC_RT_ISA_*. */
typedef struct kernel_variants {
  int64_t isa;          /* TFC_RT_ISA_* */
  int64_t linear_panel; /* TFC_RT_LINEAR_PANEL_* of the set */
  int64_t (*linear_task)(tfc_linear_f32_problem *, int64_t);
  void (*attention_pack)(const tfc_attention_f32_problem *, int64_t, int64_t);
  void (*attention_tasks)(const tfc_attention_f32_problem *, float *, int64_t,
                          int64_t);
  void (*layer_norm_rows)(const tfc_layer_norm_f32_problem *, int64_t,
                          int64_t);
  void (*q8_range)(const tfc_linear_q8_problem *, int64_t, int64_t, float *);
  int64_t (*q8_task)(tfc_linear_q8_problem *, int64_t);
  int64_t (*bf16_task)(tfc_linear_bf16_problem *, int64_t);
  int64_t (*q4_task)(tfc_linear_q4_problem *, int64_t);
  void (*sparse_tasks)(const tfc_linear_sparse_f32_problem *, int64_t, int64_t);
  void (*linear_attention_tasks)(const tfc_linear_attention_f32_problem *,
                                 float *, int64_t, int64_t);
  void (*q8_quantize)(const tfc_linear_q8_problem *, int64_t, int64_t);
  void (*sparse_q8_tasks)(const tfc_linear_sparse_q8_problem *, int64_t,
                          int64_t);
} kernel_variants;

enum {
  avx2_isa = TFC_RT_ISA_AVX2,
  avx2_linear_panel = TFC_RT_LINEAR_PANEL_AVX2,
  avx512_isa = TFC_RT_ISA_AVX512,
  avx512_linear_panel = TFC_RT_LINEAR_PANEL_AVX512,
  neon_isa = TFC_RT_ISA_NEON,
  neon_linear_panel = TFC_RT_LINEAR_PANEL_NEON,
};
#define TFC_KERNEL_VARIANT(isa)                                                \
  static const kernel_variants isa##_variants = {                              \
      isa##_isa,                                                               \
      isa##_linear_panel,                                                      \
      tfc_kernel_linear_f32_task_##isa,                                        \
      tfc_kernel_attention_f32_pack_##isa,                                     \
      tfc_kernel_attention_f32_tasks_##isa,                                    \
      tfc_kernel_layer_norm_f32_rows_##isa,                                    \
      tfc_kernel_linear_q8_range_##isa,                                        \
      tfc_kernel_linear_q8_task_##isa,                                         \
      tfc_kernel_linear_bf16_task_##isa,                                       \
      tfc_kernel_linear_q4_task_##isa,                                         \
      tfc_kernel_linear_sparse_f32_tasks_##isa,                                \
      tfc_kernel_linear_attention_f32_tasks_##isa,                             \
      tfc_kernel_linear_q8_quantize_##isa,                                     \
      tfc_kernel_linear_sparse_q8_tasks_##isa};
TFC_KERNEL_ISAS(TFC_KERNEL_VARIANT)
#undef TFC_KERNEL_VARIANT
#define TFC_KERNEL_VARIANT_ADDRESS(isa) &isa##_variants,
static const kernel_variants *const all_variants[] = {
    TFC_KERNEL_ISAS(TFC_KERNEL_VARIANT_ADDRESS)};
#undef TFC_KERNEL_VARIANT_ADDRESS

/* The variants for the instruction set in `flags` when its element types
 * are `dtype`, or NULL (and the run stopped) when the flags name something
 * this runtime has no kernel for. */
static const kernel_variants *variants_for(int64_t flags, int64_t want_dtype,
                                           const char *kernel) {
  int64_t dtype = (flags >> TFC_RT_DTYPE_SHIFT) & 0xff;
  int64_t isa = (flags >> TFC_RT_ISA_SHIFT) & 0xff;
  if (dtype == want_dtype)
    for (size_t i = 0; i < sizeof(all_variants) / sizeof(all_variants[0]); ++i)
      if (all_variants[i]->isa == isa)
        return all_variants[i];
  char message[160];
  snprintf(message, sizeof(message),
           "the model calls kernel '%s' for element types %lld and "
           "instruction set %lld, which this runtime does not have (a model "
           "and a runtime from different tfc versions?)",
           kernel, (long long)dtype, (long long)isa);
  tfc_rt_check_failed(message);
  return NULL;
}

static const kernel_variants *f32_variants(int64_t flags, const char *kernel) {
  return variants_for(flags, TFC_RT_DTYPE_F32, kernel);
}

static int pool_threads(void) {
  tfc_run *run = tfc_current_run();
  return run ? tfc_thread_pool_size(run->model->pool) : 1;
}

/* linear: one thread's share, tasks taken one at a time from the problem's
 * counter until none is left (the kernel claims the next as it starts the
 * last slice of the current one). The loop runs once per thread; begin and
 * end only number the runs, and a thread that starts late finds fewer
 * tasks. */
typedef struct linear_call {
  tfc_linear_f32_problem problem;
  int64_t (*task)(tfc_linear_f32_problem *, int64_t);
} linear_call;

static void linear_tasks(void *context, int64_t begin, int64_t end) {
  (void)begin;
  (void)end;
  linear_call *call = context;
  tfc_linear_f32_problem *p = &call->problem;
  int64_t task = atomic_fetch_add(&p->next_task, 1);
  while (task < p->tasks)
    task = call->task(p, task);
}

void tfc_rt_linear(const tfc_rt_memref3 *input, const tfc_rt_memref3 *packed,
                   const tfc_rt_memref1 *bias, const tfc_rt_memref3 *residual,
                   const tfc_rt_memref3 *out, int64_t flags) {
  const kernel_variants *variants = f32_variants(flags, "linear");
  if (!variants)
    return;
  if (packed->sizes[2] != variants->linear_panel) {
    char message[160];
    snprintf(message, sizeof(message),
             "the linear kernel's weights are packed in panels of %lld "
             "columns; this instruction set's kernel reads panels of %lld",
             (long long)packed->sizes[2], (long long)variants->linear_panel);
    tfc_rt_check_failed(message);
    return;
  }
  linear_call call;
  memset(&call, 0, sizeof(call));
  call.task = variants->linear_task;
  tfc_linear_f32_problem *p = &call.problem;
  p->input = (const float *)input->aligned + input->offset;
  p->input_batch = input->strides[0];
  p->input_row = input->strides[1];
  p->packed = (const float *)packed->aligned + packed->offset;
  p->out = (float *)out->aligned + out->offset;
  p->out_batch = out->strides[0];
  p->out_row = out->strides[1];
  p->batches = out->sizes[0];
  p->rows = out->sizes[1];
  p->cols = out->sizes[2];
  p->depth = input->sizes[2];
  p->panels = packed->sizes[0];
  if (flags & TFC_RT_LINEAR_HAS_BIAS)
    p->bias = (const float *)bias->aligned + bias->offset;
  if (flags & TFC_RT_LINEAR_HAS_RESIDUAL) {
    p->residual = (const float *)residual->aligned + residual->offset;
    p->residual_batch = residual->strides[0];
    p->residual_row = residual->strides[1];
  }
  /* Batches laid out one after another are one run of rows: taller tiles. */
  if (p->batches > 1 && p->input_batch == p->rows * p->input_row &&
      p->out_batch == p->rows * p->out_row &&
      (!p->residual || p->residual_batch == p->rows * p->residual_row)) {
    p->rows *= p->batches;
    p->batches = 1;
  }
  p->activation = (int)(flags >> TFC_RT_LINEAR_ACTIVATION_SHIFT) & 3;
  if (p->batches == 0 || p->rows == 0 || p->cols == 0)
    return;
  int threads = pool_threads();
  tfc_kernel_linear_f32_plan(p, threads);
  tfc_parallel_for_chunked(linear_tasks, &call, threads, 1);
}

/* The block-sparse kernels' tasks: ranges of panels of about equal
 * nonzeros, about 4 per thread (the pruning leaves panels uneven), times
 * blocks of SPARSE_ROW_BLOCK rows (a block's inputs stay in L2 across its
 * panels). */
enum { SPARSE_MAX_RANGES = 4 * 64, SPARSE_ROW_BLOCK = 64 };

/* Cuts `panels` panels, panel i's blocks from first[i] to first[i + 1],
 * into ranges: range r is bounds[r] to bounds[r + 1]. Returns the count. */
static int64_t split_sparse_panels(const int32_t *first, int64_t panels,
                                   int threads, int64_t *bounds) {
  int64_t blocks = first[panels];
  int64_t ranges = 4 * (int64_t)threads;
  if (ranges > panels)
    ranges = panels;
  if (ranges > SPARSE_MAX_RANGES)
    ranges = SPARSE_MAX_RANGES;
  bounds[0] = 0;
  int64_t panel = 0;
  for (int64_t r = 1; r < ranges; ++r) {
    int64_t target = blocks * r / ranges;
    while (panel < panels && first[panel] < target)
      ++panel;
    bounds[r] = panel > bounds[r - 1] ? panel : bounds[r - 1];
  }
  bounds[ranges] = panels;
  return ranges;
}

/* linear_sparse: the problem's tasks on the pool. */
typedef struct sparse_call {
  const tfc_linear_sparse_f32_problem *problem;
  void (*tasks)(const tfc_linear_sparse_f32_problem *, int64_t, int64_t);
} sparse_call;

static void sparse_tasks(void *context, int64_t begin, int64_t end) {
  sparse_call *call = context;
  call->tasks(call->problem, begin, end);
}

void tfc_rt_linear_sparse(const tfc_rt_memref3 *input,
                          const tfc_rt_memref2 *values,
                          const tfc_rt_memref1 *ks, const tfc_rt_memref1 *first,
                          const tfc_rt_memref1 *bias,
                          const tfc_rt_memref3 *residual,
                          const tfc_rt_memref3 *out, int64_t flags) {
  const kernel_variants *variants = f32_variants(flags, "linear_sparse");
  if (!variants)
    return;
  tfc_linear_sparse_f32_problem p;
  memset(&p, 0, sizeof(p));
  p.input = (const float *)input->aligned + input->offset;
  p.input_batch = input->strides[0];
  p.input_row = input->strides[1];
  p.values = (const float *)values->aligned + values->offset;
  p.ks = (const int32_t *)ks->aligned + ks->offset;
  p.first = (const int32_t *)first->aligned + first->offset;
  p.out = (float *)out->aligned + out->offset;
  p.out_batch = out->strides[0];
  p.out_row = out->strides[1];
  p.batches = out->sizes[0];
  p.rows = out->sizes[1];
  p.cols = out->sizes[2];
  p.depth = input->sizes[2];
  p.panels = first->sizes[0] - 1;
  if (flags & TFC_RT_LINEAR_HAS_BIAS)
    p.bias = (const float *)bias->aligned + bias->offset;
  if (flags & TFC_RT_LINEAR_HAS_RESIDUAL) {
    p.residual = (const float *)residual->aligned + residual->offset;
    p.residual_batch = residual->strides[0];
    p.residual_row = residual->strides[1];
  }
  p.activation = (int)(flags >> TFC_RT_LINEAR_ACTIVATION_SHIFT) & 3;
  if (p.batches == 0 || p.rows == 0 || p.cols == 0 || p.panels <= 0)
    return;
  int64_t bounds[SPARSE_MAX_RANGES + 1];
  p.panel_tasks = split_sparse_panels(p.first, p.panels, pool_threads(), bounds);
  p.task_panels = bounds;
  p.row_block = SPARSE_ROW_BLOCK;
  p.row_blocks = (p.rows + p.row_block - 1) / p.row_block;
  sparse_call call = {&p, variants->sparse_tasks};
  tfc_parallel_for_chunked(sparse_tasks, &call,
                           p.panel_tasks * p.row_blocks * p.batches, 1);
}

/* matmul: rhs of each batch packed into panels (in parallel over the
 * batches), then every batch's linear problem on the pool at once: each
 * thread takes tasks from the first batch with some left, so no batch
 * waits for the slowest thread of the one before. */
typedef struct matmul_call {
  tfc_linear_f32_problem *problems;
  int64_t count;
  int64_t (*task)(tfc_linear_f32_problem *, int64_t);
  /* Packing: rhs [batches][K][N] (strides in elements) into
   * packed + b * packed_floats, panels of `panel` columns. */
  const float *rhs;
  int64_t rhs_batch, rhs_row, rhs_col, depth, cols, panel;
  float *packed;
  size_t packed_floats;
} matmul_call;

static void matmul_pack(void *context, int64_t begin, int64_t end) {
  matmul_call *call = context;
  int64_t panels = (call->cols + call->panel - 1) / call->panel;
  for (int64_t b = begin; b < end; ++b) {
    const float *rhs = call->rhs + b * call->rhs_batch;
    float *packed = call->packed + (size_t)b * call->packed_floats;
    for (int64_t p = 0; p < panels; ++p)
      for (int64_t k = 0; k < call->depth; ++k) {
        float *dst = packed + (p * call->depth + k) * call->panel;
        const float *src = rhs + k * call->rhs_row;
        for (int64_t j = 0; j < call->panel; ++j) {
          int64_t col = p * call->panel + j;
          dst[j] = col < call->cols ? src[col * call->rhs_col] : 0.0f;
        }
      }
  }
}

static void matmul_tasks(void *context, int64_t begin, int64_t end) {
  (void)begin;
  (void)end;
  matmul_call *call = context;
  for (int64_t i = 0; i < call->count; ++i) {
    tfc_linear_f32_problem *p = &call->problems[i];
    int64_t task = atomic_fetch_add(&p->next_task, 1);
    while (task < p->tasks)
      task = call->task(p, task);
  }
}

void tfc_rt_matmul(const tfc_rt_memref3 *lhs, const tfc_rt_memref3 *rhs,
                   const tfc_rt_memref3 *out, int64_t flags) {
  const kernel_variants *variants = f32_variants(flags, "matmul");
  if (!variants)
    return;
  int64_t batches = out->sizes[0], rows = out->sizes[1], cols = out->sizes[2];
  int64_t depth = lhs->sizes[2];
  if (batches == 0 || rows == 0 || cols == 0)
    return;
  float *out_data = (float *)out->aligned + out->offset;
  if (depth == 0) { /* an empty sum */
    for (int64_t b = 0; b < batches; ++b)
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j)
          out_data[b * out->strides[0] + i * out->strides[1] + j * out->strides[2]] = 0.0f;
    return;
  }
  /* The kernel writes and reads rows at unit stride; the generated code
   * passes whole tensors and slices of rows, which have it. */
  if (lhs->strides[2] != 1 || out->strides[2] != 1) {
    tfc_rt_check_failed("matmul: lhs or out elements are not contiguous");
    return;
  }
  matmul_call call;
  memset(&call, 0, sizeof(call));
  call.task = variants->linear_task;
  call.count = batches;
  call.rhs = (const float *)rhs->aligned + rhs->offset;
  int64_t rhs_batches = rhs->sizes[0];
  call.rhs_batch = rhs->strides[0];
  call.rhs_row = rhs->strides[1];
  call.rhs_col = rhs->strides[2];
  call.depth = depth;
  call.cols = cols;
  call.panel = variants->linear_panel;
  int64_t panels = (cols + call.panel - 1) / call.panel;
  /* Sizes in checked arithmetic: the packed rhs of every batch (panels x
   * depth x panel floats each, rounded to 16) and a problem per batch. */
  size_t panel_floats, packed_floats, packed_bytes, problem_bytes;
  if (__builtin_mul_overflow((size_t)panels * (size_t)call.panel, (size_t)depth,
                             &panel_floats) ||
      panel_floats > SIZE_MAX - 15 ||
      __builtin_mul_overflow((panel_floats + 15) / 16 * 16, (size_t)rhs_batches,
                             &packed_floats) ||
      __builtin_mul_overflow(packed_floats, sizeof(float), &packed_bytes) ||
      __builtin_mul_overflow(sizeof(tfc_linear_f32_problem), (size_t)batches,
                             &problem_bytes)) {
    tfc_rt_check_failed("matmul: the packed operand's size overflows");
    return;
  }
  call.packed_floats = (panel_floats + 15) / 16 * 16;
  call.packed = tfc_rt_aligned_alloc(64, packed_bytes);
  call.problems = tfc_rt_aligned_alloc(64, problem_bytes);
  if (!call.packed || !call.problems) {
    tfc_rt_free(call.packed);
    tfc_rt_free(call.problems);
    tfc_rt_check_failed("matmul: out of memory for the packed operand");
    return;
  }
  tfc_rt_parallel_for(matmul_pack, &call, rhs_batches);

  int threads = pool_threads();
  const float *lhs_data = (const float *)lhs->aligned + lhs->offset;
  int64_t lhs_batch = lhs->sizes[0] == 1 ? 0 : lhs->strides[0];
  for (int64_t b = 0; b < batches; ++b) {
    tfc_linear_f32_problem *p = &call.problems[b];
    memset(p, 0, sizeof(*p));
    p->input = lhs_data + b * lhs_batch;
    p->input_row = lhs->strides[1];
    p->packed = call.packed + (size_t)(rhs_batches == 1 ? 0 : b) * call.packed_floats;
    p->out = out_data + b * out->strides[0];
    p->out_row = out->strides[1];
    p->batches = 1;
    p->rows = rows;
    p->cols = cols;
    p->depth = depth;
    p->panels = panels;
    p->activation = TFC_RT_LINEAR_NONE;
    /* Many batches: a task each is parallelism enough. */
    tfc_kernel_linear_f32_plan(p, batches >= threads ? 1 : threads);
  }
  tfc_parallel_for_chunked(matmul_tasks, &call, threads, 1);
  tfc_rt_free(call.problems);
  tfc_rt_free(call.packed);
}

/* attention: the packing phase over (batch, head), then the query blocks,
 * each thread with its own slot of scratch. */
typedef struct attention_call {
  tfc_attention_f32_problem problem;
  const kernel_variants *variants;
  float *scratch;
  size_t slot_floats;
} attention_call;

static void attention_pack(void *context, int64_t begin, int64_t end) {
  attention_call *call = context;
  call->variants->attention_pack(&call->problem, begin, end);
}

static void attention_tasks(void *context, int64_t begin, int64_t end) {
  attention_call *call = context;
  float *slot = call->scratch + (size_t)tfc_thread_index() * call->slot_floats;
  call->variants->attention_tasks(&call->problem, slot, begin, end);
}

/* The [batch, row, element] strides and the head stride of a q, k or v
 * view, [B, L, N, d] or, head-major, [B, N, L, d]; its length and heads. */
static void attention_operand(const tfc_rt_memref4 *view, int head_major,
                              int64_t stride[3], int64_t *head_stride,
                              int64_t *length, int64_t *heads) {
  int row = head_major ? 2 : 1, head = head_major ? 1 : 2;
  stride[0] = view->strides[0];
  stride[1] = view->strides[row];
  stride[2] = view->strides[3];
  *head_stride = view->strides[head];
  *length = view->sizes[row];
  *heads = view->sizes[head];
}

/* Rows [0, rows) of one (batch, head) of a q, k or v view, at `from` with
 * row stride `row_stride` and element stride `element_stride`, to `to`'s
 * contiguous rows of `width`. */
static void copy_rows(float *to, const float *from, int64_t rows,
                      int64_t width, int64_t row_stride,
                      int64_t element_stride) {
  for (int64_t r = 0; r < rows; ++r, to += width, from += row_stride) {
    if (element_stride == 1) {
      memcpy(to, from, (size_t)width * sizeof(float));
      continue;
    }
    for (int64_t e = 0; e < width; ++e)
      to[e] = from[e * element_stride];
  }
}

/* A --decoder model's prefill or step: stores this call's keys and values
 * in the instance's KV cache `index` (a prefill from position 0, a step
 * after the positions it holds), growing it as needed, then points the
 * kernel at the cache's rows so that the queries attend to every key of
 * the sequence so far. Returns 0 after a failed check. */
static int bind_kv_cache(tfc_attention_f32_problem *p, int64_t index,
                         int64_t max_context) {
  tfc_run *run = tfc_current_run();
  if (index < 0 || !run || run->sequence == TFC_SEQUENCE_NONE)
    return 1;
  tfc_model *model = run->model;
  if ((uint64_t)index >= model->def->num_sequence_states || !p->causal ||
      p->has_mask || p->bf16) {
    tfc_rt_check_failed("attention: the model's KV cache index is out of "
                        "range, or the attention is not causal f32 without a "
                        "mask (a compiler bug)");
    return 0;
  }
  tfc_sequence_state *state = &model->sequence_states[index];
  int same_shape = state->keys && state->batch == p->batch &&
                   state->heads == p->kv_heads && state->dk == p->dk &&
                   state->dv == p->dv;
  int64_t past = 0;
  if (run->sequence == TFC_SEQUENCE_CONTINUE) {
    if (!same_shape) {
      tfc_rt_check_failed_values(
          "attention: a step's batch differs from the prefill's", p->batch,
          state->batch);
      return 0;
    }
    past = state->length;
  }
  int64_t needed;
  if (__builtin_add_overflow(past, p->k_len, &needed)) {
    tfc_rt_check_failed("attention: the sequence's length overflows");
    return 0;
  }
  if (max_context > 0 && needed > max_context) {
    tfc_rt_check_failed_values("attention: the sequence would pass the "
                               "model's --max-context",
                               needed, max_context);
    return 0;
  }
  if (!same_shape || needed > state->capacity) {
    /* Preallocated to --max-context, else doubled: a step copies the cache
     * to a new place once per doubling, not once per token; and a prefill
     * leaves room for steps (a power of two above its length). */
    int64_t capacity = max_context > 0 ? max_context : 64;
    if (max_context <= 0) {
      while (capacity <= needed && capacity <= INT64_MAX / 2)
        capacity *= 2;
      if (same_shape && capacity < 2 * state->capacity &&
          state->capacity <= INT64_MAX / 2)
        capacity = 2 * state->capacity;
    }
    size_t rows, key_floats, value_floats, key_bytes, value_bytes;
    if (capacity < needed ||
        __builtin_mul_overflow((uint64_t)p->batch, (uint64_t)p->kv_heads, &rows) ||
        __builtin_mul_overflow(rows, (uint64_t)capacity, &rows) ||
        __builtin_mul_overflow(rows, (uint64_t)p->dk, &key_floats) ||
        __builtin_mul_overflow(rows, (uint64_t)p->dv, &value_floats) ||
        __builtin_mul_overflow(key_floats, sizeof(float), &key_bytes) ||
        __builtin_mul_overflow(value_floats, sizeof(float), &value_bytes)) {
      tfc_rt_check_failed("attention: the KV cache's size overflows");
      return 0;
    }
    /* The instance's, not the run's: outside the run's allocator. */
    void *keys = NULL, *values = NULL;
    if (posix_memalign(&keys, 64, key_bytes ? key_bytes : 64) != 0)
      keys = NULL;
    if (posix_memalign(&values, 64, value_bytes ? value_bytes : 64) != 0)
      values = NULL;
    if (!keys || !values) {
      free(keys);
      free(values);
      tfc_rt_check_failed("attention: out of memory for the KV cache");
      return 0;
    }
    if (past > 0)
      for (int64_t head = 0; head < p->batch * p->kv_heads; ++head) {
        memcpy((float *)keys + head * capacity * p->dk,
               state->keys + head * state->capacity * p->dk,
               (size_t)(past * p->dk) * sizeof(float));
        memcpy((float *)values + head * capacity * p->dv,
               state->values + head * state->capacity * p->dv,
               (size_t)(past * p->dv) * sizeof(float));
      }
    free(state->keys);
    free(state->values);
    state->keys = keys;
    state->values = values;
    state->capacity = capacity;
    state->batch = p->batch;
    state->heads = p->kv_heads;
    state->dk = p->dk;
    state->dv = p->dv;
  }
  /* Until the rows are in, the cache holds no sequence. */
  state->length = 0;
  for (int64_t b = 0; b < p->batch; ++b)
    for (int64_t h = 0; h < p->kv_heads; ++h) {
      int64_t head = b * p->kv_heads + h;
      copy_rows(state->keys + (head * state->capacity + past) * p->dk,
                p->k + b * p->k_stride[0] + h * p->k_head_stride, p->k_len,
                p->dk, p->k_stride[1], p->k_stride[2]);
      copy_rows(state->values + (head * state->capacity + past) * p->dv,
                p->v + b * p->v_stride[0] + h * p->v_head_stride, p->k_len,
                p->dv, p->v_stride[1], p->v_stride[2]);
    }
  state->length = needed;
  p->k = state->keys;
  p->v = state->values;
  p->k_len = needed;
  p->k_stride[0] = p->kv_heads * state->capacity * p->dk;
  p->k_stride[1] = p->dk;
  p->k_stride[2] = 1;
  p->k_head_stride = state->capacity * p->dk;
  p->v_stride[0] = p->kv_heads * state->capacity * p->dv;
  p->v_stride[1] = p->dv;
  p->v_stride[2] = 1;
  p->v_head_stride = state->capacity * p->dv;
  return 1;
}

void tfc_rt_sequence_offset(const tfc_rt_memref1 *out, int64_t flags) {
  (void)flags;
  if (out->sizes[0] < 1) {
    tfc_rt_check_failed("sequence_offset: the output has no element");
    return;
  }
  tfc_run *run = tfc_current_run();
  ((int64_t *)out->aligned)[out->offset] = run ? run->sequence_offset : 0;
}

void tfc_rt_attention(const tfc_rt_memref4 *q, const tfc_rt_memref4 *k,
                      const tfc_rt_memref4 *v, const tfc_rt_memref4 *mask,
                      const tfc_rt_memref3 *out, int64_t num_heads,
                      float scale, int64_t sequence_state,
                      int64_t max_context, int64_t flags) {
  attention_call call;
  memset(&call, 0, sizeof(call));
  /* f32, or bf16 products (vdpbf16ps with the AVX-512 kernels and the
   * feature, checked at create). */
  int64_t dtype = (flags >> TFC_RT_DTYPE_SHIFT) & 0xff;
  call.variants = variants_for(
      flags, dtype == TFC_RT_DTYPE_BF16 ? TFC_RT_DTYPE_BF16 : TFC_RT_DTYPE_F32,
      "attention");
  if (!call.variants)
    return;
  tfc_attention_f32_problem *p = &call.problem;
  p->bf16 = dtype == TFC_RT_DTYPE_BF16;
  p->native_bf16 = p->bf16 && call.variants->isa == TFC_RT_ISA_AVX512 &&
                   ((flags >> TFC_RT_FEATURE_SHIFT) & TFC_RT_FEATURE_BF16);
  /* AMX tiles (permission asked at create); dv is checked once known. */
  int amx_feature = p->bf16 && call.variants->isa == TFC_RT_ISA_AVX512 &&
                    ((flags >> TFC_RT_FEATURE_SHIFT) & TFC_RT_FEATURE_AMX);
  p->q = (const float *)q->aligned + q->offset;
  p->k = (const float *)k->aligned + k->offset;
  p->v = (const float *)v->aligned + v->offset;
  p->out = (float *)out->aligned + out->offset;
  p->batch = q->sizes[0];
  int64_t q_heads, v_len, v_heads;
  attention_operand(q, (flags & TFC_RT_ATTENTION_Q_HEAD_MAJOR) != 0, p->q_stride,
                    &p->q_head_stride, &p->q_len, &q_heads);
  attention_operand(k, (flags & TFC_RT_ATTENTION_K_HEAD_MAJOR) != 0, p->k_stride,
                    &p->k_head_stride, &p->k_len, &p->kv_heads);
  attention_operand(v, (flags & TFC_RT_ATTENTION_V_HEAD_MAJOR) != 0, p->v_stride,
                    &p->v_head_stride, &v_len, &v_heads);
  p->heads = num_heads;
  p->dk = q->sizes[3];
  p->dv = v->sizes[3];
  for (int i = 0; i < 3; ++i)
    p->out_stride[i] = out->strides[i];
  p->out_head_stride = p->dv * out->strides[2];
  p->amx = amx_feature && p->dv % 32 == 0;
  /* The generated code checked these; a wrong call must not index past the
   * tensors. */
  if (q_heads != num_heads || p->kv_heads <= 0 || v_heads != p->kv_heads ||
      num_heads % p->kv_heads != 0 || v_len != p->k_len) {
    tfc_rt_check_failed("attention: q, k and v disagree on heads or lengths");
    return;
  }
  p->scale = scale;
  p->causal = (flags & TFC_RT_ATTENTION_CAUSAL) != 0;
  p->has_mask = (flags & TFC_RT_ATTENTION_HAS_MASK) != 0;
  if (p->has_mask) {
    p->mask = (const float *)mask->aligned + mask->offset;
    for (int i = 0; i < 4; ++i)
      p->mask_stride[i] = mask->sizes[i] == 1 ? 0 : mask->strides[i];
    p->key_padding = mask->sizes[1] == 1 && mask->sizes[2] == 1;
  }
  if (!bind_kv_cache(p, sequence_state, max_context))
    return;
  if (p->batch == 0 || p->q_len == 0 || p->dv == 0)
    return;
  tfc_kernel_attention_f32_plan(p);
  int threads = pool_threads();
  call.slot_floats = tfc_kernel_attention_f32_scratch_floats(p);
  /* One block: the packed K and V, then the threads' scratch. From the
   * instance's allocator, which keeps it for the next call (no page faults
   * in a steady state). */
  size_t packed_floats = tfc_kernel_attention_f32_packed_floats(p);
  size_t scratch_floats, workspace_bytes;
  if (__builtin_mul_overflow(call.slot_floats, (size_t)threads, &scratch_floats) ||
      __builtin_add_overflow(scratch_floats, packed_floats, &workspace_bytes) ||
      __builtin_mul_overflow(workspace_bytes, sizeof(float), &workspace_bytes)) {
    tfc_rt_check_failed("attention: the workspace's size overflows");
    return;
  }
  float *workspace = tfc_rt_aligned_alloc(64, workspace_bytes);
  if (!workspace) {
    tfc_rt_check_failed("attention: out of memory for the packed K and V");
    return;
  }
  p->packed = packed_floats && !p->bf16 ? workspace : NULL;
  p->pairs = p->bf16 ? (uint32_t *)workspace : NULL;
  call.scratch = workspace + packed_floats;
  if (packed_floats)
    tfc_rt_parallel_for(attention_pack, &call, p->batch * p->kv_heads);
  tfc_rt_parallel_for(attention_tasks, &call,
                      p->batch * p->heads * p->q_blocks);
  tfc_rt_free(workspace);
}

/* A --decoder model's prefill or step: points the kernel at the instance's
 * state `index`, allocated for this shape by a prefill and required to
 * match it by a step. Returns 0 after a failed check. */
static int bind_sequence_state(tfc_linear_attention_f32_problem *p,
                               int64_t index) {
  tfc_run *run = tfc_current_run();
  if (index < 0 || !run || run->sequence == TFC_SEQUENCE_NONE)
    return 1;
  tfc_model *model = run->model;
  if ((uint64_t)index >= model->def->num_sequence_states || !p->causal) {
    tfc_rt_check_failed("linear_attention: the model's sequence state index "
                        "is out of range (a compiler bug)");
    return 0;
  }
  tfc_sequence_state *state = &model->sequence_states[index];
  if (run->sequence == TFC_SEQUENCE_CONTINUE) {
    if (!state->carry || state->batch != p->batch ||
        state->heads != p->heads || state->dk != p->dk || state->dv != p->dv) {
      tfc_rt_check_failed_values(
          "linear_attention: a step's batch differs from the prefill's",
          p->batch, state->batch);
      return 0;
    }
    p->carry = state->carry;
    p->carry_in = 1;
    return 1;
  }
  /* batch * heads * carry_floats, the first two checked against overflow
   * (the third is bounded by the head dims' limit). */
  size_t tasks, floats, bytes;
  if (__builtin_mul_overflow((uint64_t)p->batch, (uint64_t)p->heads, &tasks) ||
      __builtin_mul_overflow(
          tasks, tfc_kernel_linear_attention_f32_carry_floats(p), &floats) ||
      __builtin_mul_overflow(floats, sizeof(float), &bytes)) {
    tfc_rt_check_failed("linear_attention: the sequence state's size overflows");
    return 0;
  }
  if (state->floats != floats || !state->carry) {
    /* The instance's, not the run's: outside the run's allocator, which
     * reclaims what a run leaves. */
    free(state->carry);
    void *carry = NULL;
    state->carry =
        posix_memalign(&carry, 64, bytes ? bytes : 64) == 0 ? carry : NULL;
    state->floats = state->carry ? floats : 0;
    if (!state->carry) {
      tfc_rt_check_failed("linear_attention: out of memory for the sequence "
                          "state");
      return 0;
    }
  }
  /* A prefill of no positions runs no kernel: its state is that of an empty
   * sequence, zeros. */
  memset(state->carry, 0, floats * sizeof(float));
  state->batch = p->batch;
  state->heads = p->heads;
  state->dk = p->dk;
  state->dv = p->dv;
  p->carry = state->carry;
  p->carry_in = 0;
  return 1;
}

/* linear_attention: one task per head, each thread with its scratch. */
typedef struct linear_attention_call {
  tfc_linear_attention_f32_problem problem;
  const kernel_variants *variants;
  float *scratch;
  size_t slot_floats;
} linear_attention_call;

static void linear_attention_tasks(void *context, int64_t begin, int64_t end) {
  linear_attention_call *call = context;
  float *slot = call->scratch + (size_t)tfc_thread_index() * call->slot_floats;
  call->variants->linear_attention_tasks(&call->problem, slot, begin, end);
}

void tfc_rt_linear_attention(const tfc_rt_memref4 *q, const tfc_rt_memref4 *k,
                             const tfc_rt_memref4 *v,
                             const tfc_rt_memref1 *decay,
                             const tfc_rt_memref4 *out, float scale,
                             float epsilon, int64_t sequence_state,
                             int64_t window, int64_t window_dim,
                             int64_t flags) {
  linear_attention_call call;
  memset(&call, 0, sizeof(call));
  call.variants = f32_variants(flags, "linear_attention");
  if (!call.variants)
    return;
  tfc_linear_attention_f32_problem *p = &call.problem;
  p->q = (const float *)q->aligned + q->offset;
  p->k = (const float *)k->aligned + k->offset;
  p->v = (const float *)v->aligned + v->offset;
  p->out = (float *)out->aligned + out->offset;
  for (int i = 0; i < 4; ++i) {
    p->q_stride[i] = q->strides[i];
    p->k_stride[i] = k->strides[i];
    p->v_stride[i] = v->strides[i];
    p->out_stride[i] = out->strides[i];
  }
  p->batch = q->sizes[0];
  p->q_len = q->sizes[1];
  p->heads = q->sizes[2];
  p->dk = q->sizes[3];
  p->k_len = k->sizes[1];
  p->dv = v->sizes[3];
  p->feature_map = (int)(flags & TFC_RT_LINEAR_ATTENTION_MAP_MASK);
  p->causal = (flags & TFC_RT_LINEAR_ATTENTION_CAUSAL) != 0;
  p->normalize = (flags & TFC_RT_LINEAR_ATTENTION_NORMALIZE) != 0;
  p->scale = scale;
  p->epsilon = epsilon;
  if (flags & TFC_RT_LINEAR_ATTENTION_HAS_DECAY)
    p->decay = (const float *)decay->aligned + decay->offset;
  /* The generated code checked these; a wrong call must not index past the
   * tensors. */
  if (k->sizes[0] != p->batch || v->sizes[0] != p->batch ||
      out->sizes[0] != p->batch || k->sizes[2] != p->heads ||
      v->sizes[2] != p->heads || out->sizes[2] != p->heads ||
      k->sizes[3] != p->dk || v->sizes[1] != p->k_len ||
      out->sizes[1] != p->q_len || out->sizes[3] != p->dv ||
      (p->causal && p->q_len > p->k_len) ||
      (p->decay && decay->sizes[0] != p->heads)) {
    tfc_rt_check_failed("linear_attention: q, k, v and out disagree on shapes");
    return;
  }
  if (p->dk > TFC_RT_LINEAR_ATTENTION_MAX_HEAD_DIM ||
      p->dv > TFC_RT_LINEAR_ATTENTION_MAX_HEAD_DIM) {
    tfc_rt_check_failed("linear_attention: head dims past the kernel's 1024");
    return;
  }
  if (window < 0 || window > TFC_RT_LINEAR_ATTENTION_MAX_WINDOW ||
      (window > 0 && (window_dim < 1 || window_dim >= p->dk ||
                      p->decay || sequence_state >= 0)) ||
      (window == 0 && window_dim != 0)) {
    tfc_rt_check_failed("linear_attention: a window the kernel cannot take "
                        "(0 to 1024 keys, its rows within the head dim, "
                        "no decay, no sequence state)");
    return;
  }
  p->window = window;
  p->window_dim = window_dim;
  if (!bind_sequence_state(p, sequence_state))
    return;
  if (p->batch == 0 || p->heads == 0 || p->q_len == 0 || p->dv == 0)
    return;
  int threads = pool_threads();
  call.slot_floats = tfc_kernel_linear_attention_f32_scratch_floats(p);
  size_t bytes;
  if (__builtin_mul_overflow(call.slot_floats, (size_t)threads, &bytes) ||
      __builtin_mul_overflow(bytes, sizeof(float), &bytes)) {
    tfc_rt_check_failed("linear_attention: the scratch's size overflows");
    return;
  }
  call.scratch = tfc_rt_aligned_alloc(64, bytes);
  if (!call.scratch) {
    tfc_rt_check_failed("linear_attention: out of memory for the scratch");
    return;
  }
  tfc_rt_parallel_for(linear_attention_tasks, &call, p->batch * p->heads);
  tfc_rt_free(call.scratch);
}

/* layer_norm: rows split over the pool. */
typedef struct layer_norm_call {
  tfc_layer_norm_f32_problem problem;
  const kernel_variants *variants;
} layer_norm_call;

static void layer_norm_rows(void *context, int64_t begin, int64_t end) {
  layer_norm_call *call = context;
  call->variants->layer_norm_rows(&call->problem, begin, end);
}

void tfc_rt_layer_norm(const tfc_rt_memref3 *input, const tfc_rt_memref3 *skip,
                       const tfc_rt_memref1 *scale, const tfc_rt_memref1 *bias,
                       const tfc_rt_memref3 *out, float epsilon,
                       int64_t flags) {
  layer_norm_call call;
  memset(&call, 0, sizeof(call));
  call.variants = f32_variants(flags, "layer_norm");
  if (!call.variants)
    return;
  tfc_layer_norm_f32_problem *p = &call.problem;
  p->input = (const float *)input->aligned + input->offset;
  for (int i = 0; i < 3; ++i) {
    p->input_stride[i] = input->strides[i];
    p->out_stride[i] = out->strides[i];
  }
  if (flags & TFC_RT_LAYER_NORM_HAS_SKIP) {
    p->skip = (const float *)skip->aligned + skip->offset;
    for (int i = 0; i < 3; ++i)
      p->skip_stride[i] = skip->strides[i];
  }
  p->scale = (const float *)scale->aligned + scale->offset;
  p->scale_stride = scale->strides[0];
  if (flags & TFC_RT_LAYER_NORM_HAS_BIAS) {
    p->bias = (const float *)bias->aligned + bias->offset;
    p->bias_stride = bias->strides[0];
  }
  p->out = (float *)out->aligned + out->offset;
  p->rows_per_batch = out->sizes[1];
  p->depth = out->sizes[2];
  p->epsilon = epsilon;
  int64_t rows = out->sizes[0] * out->sizes[1];
  if (rows == 0 || p->depth == 0)
    return;
  /* Below a few thousand elements, waking the pool costs more than the
   * rows. */
  if (rows * p->depth < 8192)
    layer_norm_rows(&call, 0, rows);
  else
    tfc_rt_parallel_for(layer_norm_rows, &call, rows);
}

/* linear_q8: the input's range (TENSOR mode), then the product's tasks on
 * the pool (each block of rows quantized by the first task to reach it). */
typedef struct linear_q8_call {
  tfc_linear_q8_problem problem;
  const kernel_variants *variants;
  float (*ranges)[2]; /* one per chunk of rows (TENSOR mode) */
  int64_t range_chunk;
} linear_q8_call;

static void linear_q8_range(void *context, int64_t begin, int64_t end) {
  linear_q8_call *call = context;
  int64_t total = call->problem.batches * call->problem.rows;
  for (int64_t chunk = begin; chunk < end; ++chunk) {
    int64_t first = chunk * call->range_chunk;
    int64_t last = first + call->range_chunk < total ? first + call->range_chunk : total;
    call->variants->q8_range(&call->problem, first, last, call->ranges[chunk]);
  }
}

static void linear_q8_tasks(void *context, int64_t begin, int64_t end) {
  (void)begin;
  (void)end;
  linear_q8_call *call = context;
  tfc_linear_q8_problem *p = &call->problem;
  int64_t task = atomic_fetch_add(&p->next_task, 1);
  while (task < p->tasks)
    task = call->variants->q8_task(p, task);
}

/* DynamicQuantizeLinear's parameters for values in [low, high]: the range
 * widened to hold 0, scale = range / 255, zero point round(-low / scale)
 * in [0, 255]. A range of zero width (all zeros) takes scale 1. */
static void tensor_quantization(float low, float high, float *scale,
                                int32_t *zero) {
  low = low < 0.0f ? low : 0.0f;
  high = high > 0.0f ? high : 0.0f;
  float width = high - low;
  if (!(width > 0.0f) || width == INFINITY) {
    *scale = width == INFINITY ? FLT_MAX / 255.0f : 1.0f;
    *zero = width == INFINITY && low < 0.0f ? (high > 0.0f ? 128 : 255) : 0;
    return;
  }
  *scale = width / 255.0f;
  float z = nearbyintf(-low / *scale);
  *zero = z < 0.0f ? 0 : z > 255.0f ? 255 : (int32_t)z;
}

/* What both int8 kernels take from their call: the variants for the
 * flags' dot product, the input, the epilogue's operands and the input's
 * quantization; NULL (the run stopped) when this runtime lacks the
 * variant. The weights and the check of their packing are the caller's. */
static const kernel_variants *
q8_call_init(linear_q8_call *call, const char *kernel,
             const tfc_rt_memref3 *input, const tfc_rt_memref1 *weight_scale,
             const tfc_rt_memref1 *weight_sum, const tfc_rt_memref1 *weight_zero,
             const tfc_rt_memref1 *bias, const tfc_rt_memref3 *residual,
             const tfc_rt_memref3 *out, float input_scale, int64_t input_zero,
             int64_t flags) {
  int64_t dot = (flags >> TFC_RT_DTYPE_SHIFT) & 0xff;
  int64_t features = (flags >> TFC_RT_FEATURE_SHIFT) & 0xff;
  int64_t isa = (flags >> TFC_RT_ISA_SHIFT) & 0xff;
  /* u8 x s8 needs VNNI, which x86 alone has. */
  int u8s8_ok = dot == TFC_RT_DTYPE_U8S8S32 && (features & TFC_RT_FEATURE_VNNI) &&
                (isa == TFC_RT_ISA_AVX2 || isa == TFC_RT_ISA_AVX512);
  const kernel_variants *variants = variants_for(
      flags, u8s8_ok ? TFC_RT_DTYPE_U8S8S32 : TFC_RT_DTYPE_S16S16S32, kernel);
  if (!variants)
    return NULL;
  memset(call, 0, sizeof(*call));
  call->variants = variants;
  tfc_linear_q8_problem *p = &call->problem;
  p->dot = (int)dot;
  p->input = (const float *)input->aligned + input->offset;
  p->input_batch = input->strides[0];
  p->input_row = input->strides[1];
  p->weight_scale = (const float *)weight_scale->aligned + weight_scale->offset;
  p->weight_sum = (const int32_t *)weight_sum->aligned + weight_sum->offset;
  if (flags & TFC_RT_Q8_HAS_WEIGHT_ZERO)
    p->weight_zero = (const int32_t *)weight_zero->aligned + weight_zero->offset;
  p->out = (float *)out->aligned + out->offset;
  p->out_batch = out->strides[0];
  p->out_row = out->strides[1];
  p->batches = out->sizes[0];
  p->rows = out->sizes[1];
  p->cols = out->sizes[2];
  p->depth = input->sizes[2];
  if (flags & TFC_RT_LINEAR_HAS_BIAS)
    p->bias = (const float *)bias->aligned + bias->offset;
  if (flags & TFC_RT_LINEAR_HAS_RESIDUAL) {
    p->residual = (const float *)residual->aligned + residual->offset;
    p->residual_batch = residual->strides[0];
    p->residual_row = residual->strides[1];
  }
  p->activation = (int)(flags >> TFC_RT_LINEAR_ACTIVATION_SHIFT) & 3;
  p->input_mode = (int)(flags >> TFC_RT_Q8_INPUT_SHIFT) & 3;
  p->input_signed = (flags & TFC_RT_Q8_INPUT_SIGNED) != 0;
  p->input_scale = input_scale;
  p->input_zero = (int32_t)input_zero;
  return variants;
}

/* Whether the per-column arrays cover `padded` columns and the views are
 * ones the kernels read (unit stride along the row, K within the limit). */
static int q8_operands_fit(const tfc_linear_q8_problem *p,
                           const tfc_rt_memref3 *input,
                           const tfc_rt_memref1 *weight_scale,
                           const tfc_rt_memref1 *weight_sum,
                           const tfc_rt_memref1 *weight_zero,
                           const tfc_rt_memref3 *out, int64_t padded) {
  return padded >= p->cols && weight_scale->sizes[0] >= padded &&
         weight_sum->sizes[0] >= padded &&
         (!p->weight_zero || weight_zero->sizes[0] >= padded) &&
         p->depth <= TFC_RT_Q8_MAX_DEPTH && input->strides[2] == 1 &&
         out->strides[2] == 1;
}

/* The workspace of the quantized rows (and, in TENSOR mode, the input's
 * range, which sets the scale and zero point here), or NULL with the run
 * stopped. The caller frees it. */
static char *q8_call_workspace(linear_q8_call *call, int threads,
                               const char *kernel) {
  tfc_linear_q8_problem *p = &call->problem;
  size_t workspace_bytes = tfc_kernel_linear_q8_plan(p, threads);
  int64_t total_rows = p->batches * p->rows;
  int64_t range_chunks = 0;
  size_t range_bytes = 0;
  if (p->input_mode == TFC_RT_Q8_INPUT_TENSOR) {
    call->range_chunk = 16;
    range_chunks = (total_rows + call->range_chunk - 1) / call->range_chunk;
    range_bytes = (size_t)range_chunks * sizeof(float[2]);
  }
  char message[96];
  if (!workspace_bytes || workspace_bytes > SIZE_MAX - range_bytes) {
    snprintf(message, sizeof(message), "%s: the quantized input's size overflows",
             kernel);
    tfc_rt_check_failed(message);
    return NULL;
  }
  char *workspace = tfc_rt_aligned_alloc(64, workspace_bytes + range_bytes);
  if (!workspace) {
    snprintf(message, sizeof(message),
             "%s: out of memory for the quantized input", kernel);
    tfc_rt_check_failed(message);
    return NULL;
  }
  tfc_kernel_linear_q8_place(p, workspace);
  if (p->input_mode == TFC_RT_Q8_INPUT_TENSOR) {
    call->ranges = (float (*)[2])(workspace + workspace_bytes);
    tfc_rt_parallel_for(linear_q8_range, call, range_chunks);
    float low = INFINITY, high = -INFINITY;
    for (int64_t i = 0; i < range_chunks; ++i) {
      low = call->ranges[i][0] < low ? call->ranges[i][0] : low;
      high = call->ranges[i][1] > high ? call->ranges[i][1] : high;
    }
    tensor_quantization(low, high, &p->input_scale, &p->input_zero);
    p->input_signed = 0;
  }
  return workspace;
}

void tfc_rt_linear_q8(const tfc_rt_memref3 *input, const tfc_rt_memref3 *packed,
                      const tfc_rt_memref1 *weight_scale,
                      const tfc_rt_memref1 *weight_sum,
                      const tfc_rt_memref1 *weight_zero,
                      const tfc_rt_memref1 *bias, const tfc_rt_memref3 *residual,
                      const tfc_rt_memref3 *out, float input_scale,
                      int64_t input_zero, int64_t flags) {
  linear_q8_call call;
  const kernel_variants *variants =
      q8_call_init(&call, "linear_q8", input, weight_scale, weight_sum,
                   weight_zero, bias, residual, out, input_scale, input_zero,
                   flags);
  if (!variants)
    return;
  tfc_linear_q8_problem *p = &call.problem;
  int64_t features = (flags >> TFC_RT_FEATURE_SHIFT) & 0xff;
  int64_t isa = (flags >> TFC_RT_ISA_SHIFT) & 0xff;
  p->packed = (const int8_t *)packed->aligned + packed->offset;
  p->panels = packed->sizes[0];
  p->groups = packed->sizes[1];
  int u8s8 = p->dot == TFC_RT_DTYPE_U8S8S32;
  /* AMX tiles (permission asked at create) for u8 x s8 where the depth is
   * whole tiles of 16 groups; the vector tiles otherwise. */
  p->amx = u8s8 && isa == TFC_RT_ISA_AVX512 && (features & TFC_RT_FEATURE_AMX) &&
           p->groups % 16 == 0;
  int64_t per_group = u8s8 ? 4 : 2;
  if (packed->sizes[2] != variants->linear_panel * 4 ||
      p->groups != (p->depth + per_group - 1) / per_group ||
      !q8_operands_fit(p, input, weight_scale, weight_sum, weight_zero, out,
                       p->panels * variants->linear_panel)) {
    tfc_rt_check_failed("linear_q8: the packed weights do not match this "
                        "instruction set's kernel or the input's depth");
    return;
  }
  if (p->batches == 0 || p->rows == 0 || p->cols == 0)
    return;
  int threads = pool_threads();
  char *workspace = q8_call_workspace(&call, threads, "linear_q8");
  if (!workspace)
    return;
  tfc_parallel_for_chunked(linear_q8_tasks, &call, threads, 1);
  tfc_rt_free(workspace);
}

/* linear_sparse_q8: the input quantized on the pool, then tasks as
 * linear_sparse's (panel ranges of about equal nonzeros by blocks of
 * rows). */
typedef struct sparse_q8_call {
  const tfc_linear_sparse_q8_problem *problem;
  const kernel_variants *variants;
} sparse_q8_call;

static void sparse_q8_quantize(void *context, int64_t begin, int64_t end) {
  sparse_q8_call *call = context;
  call->variants->q8_quantize(call->problem->q8, begin, end);
}

static void sparse_q8_tasks(void *context, int64_t begin, int64_t end) {
  sparse_q8_call *call = context;
  call->variants->sparse_q8_tasks(call->problem, begin, end);
}

void tfc_rt_linear_sparse_q8(
    const tfc_rt_memref3 *input, const tfc_rt_memref2 *values,
    const tfc_rt_memref1 *ks, const tfc_rt_memref1 *first,
    const tfc_rt_memref1 *weight_scale, const tfc_rt_memref1 *weight_sum,
    const tfc_rt_memref1 *weight_zero, const tfc_rt_memref1 *bias,
    const tfc_rt_memref3 *residual, const tfc_rt_memref3 *out,
    float input_scale, int64_t input_zero, int64_t flags) {
  linear_q8_call call;
  const kernel_variants *variants =
      q8_call_init(&call, "linear_sparse_q8", input, weight_scale, weight_sum,
                   weight_zero, bias, residual, out, input_scale, input_zero,
                   flags);
  if (!variants)
    return;
  tfc_linear_sparse_q8_problem sparse;
  memset(&sparse, 0, sizeof(sparse));
  tfc_linear_q8_problem *p = &call.problem;
  int u8s8 = p->dot == TFC_RT_DTYPE_U8S8S32;
  /* The quantized rows span whole blocks of 4 k (zeros past K), so that a
   * block at the end reads no byte the quantizing left unwritten. */
  int64_t blocks_of_depth = (p->depth + TFC_SPARSE_Q8_DEPTH - 1) / TFC_SPARSE_Q8_DEPTH;
  p->groups = u8s8 ? blocks_of_depth : 2 * blocks_of_depth;
  p->panels = first->sizes[0] - 1;
  if (values->sizes[1] != (u8s8 ? 1 : 2) * 4 * TFC_SPARSE_PANEL ||
      p->panels <= 0 || ks->sizes[0] != values->sizes[0] ||
      !q8_operands_fit(p, input, weight_scale, weight_sum, weight_zero, out,
                       p->panels * TFC_SPARSE_PANEL)) {
    tfc_rt_check_failed("linear_sparse_q8: the packed weights do not match "
                        "this instruction set's kernel or the input's depth");
    return;
  }
  sparse.values = (const int8_t *)values->aligned + values->offset;
  sparse.ks = (const int32_t *)ks->aligned + ks->offset;
  sparse.first = (const int32_t *)first->aligned + first->offset;
  if (p->batches == 0 || p->rows == 0 || p->cols == 0)
    return;
  int threads = pool_threads();
  char *workspace = q8_call_workspace(&call, threads, "linear_sparse_q8");
  if (!workspace)
    return;
  sparse.q8 = p;
  int64_t bounds[SPARSE_MAX_RANGES + 1];
  sparse.panel_tasks =
      split_sparse_panels(sparse.first, p->panels, threads, bounds);
  sparse.task_panels = bounds;
  sparse.row_block = SPARSE_ROW_BLOCK;
  sparse.row_blocks = (p->rows + sparse.row_block - 1) / sparse.row_block;
  sparse_q8_call sparse_call = {&sparse, variants};
  tfc_rt_parallel_for(sparse_q8_quantize, &sparse_call, p->batches * p->rows);
  tfc_parallel_for_chunked(sparse_q8_tasks, &sparse_call,
                           sparse.panel_tasks * sparse.row_blocks * p->batches, 1);
  tfc_rt_free(workspace);
}

/* linear_bf16: the product's tasks on the pool (each block of rows
 * converted to bf16 by the first task to reach it). */
typedef struct linear_bf16_call {
  tfc_linear_bf16_problem problem;
  int64_t (*task)(tfc_linear_bf16_problem *, int64_t);
} linear_bf16_call;

static void linear_bf16_tasks(void *context, int64_t begin, int64_t end) {
  (void)begin;
  (void)end;
  linear_bf16_call *call = context;
  tfc_linear_bf16_problem *p = &call->problem;
  int64_t task = atomic_fetch_add(&p->next_task, 1);
  while (task < p->tasks)
    task = call->task(p, task);
}

void tfc_rt_linear_bf16(const tfc_rt_memref3 *input, const tfc_rt_memref3 *packed,
                        const tfc_rt_memref1 *bias, const tfc_rt_memref3 *residual,
                        const tfc_rt_memref3 *out, int64_t flags) {
  const kernel_variants *variants =
      variants_for(flags, TFC_RT_DTYPE_BF16, "linear_bf16");
  if (!variants)
    return;
  int64_t features = (flags >> TFC_RT_FEATURE_SHIFT) & 0xff;
  linear_bf16_call call;
  memset(&call, 0, sizeof(call));
  call.task = variants->bf16_task;
  tfc_linear_bf16_problem *p = &call.problem;
  /* vdpbf16ps: AVX-512 with the feature (checked at create). */
  p->native = variants->isa == TFC_RT_ISA_AVX512 && (features & TFC_RT_FEATURE_BF16);
  /* AMX tiles (permission asked at create) where the depth is whole tiles
   * of 16 pairs; the vector tiles otherwise. */
  p->amx = variants->isa == TFC_RT_ISA_AVX512 && (features & TFC_RT_FEATURE_AMX) &&
           packed->sizes[1] % 16 == 0;
  p->input = (const float *)input->aligned + input->offset;
  p->input_batch = input->strides[0];
  p->input_row = input->strides[1];
  p->packed = (const uint32_t *)((const uint16_t *)packed->aligned + packed->offset);
  p->out = (float *)out->aligned + out->offset;
  p->out_batch = out->strides[0];
  p->out_row = out->strides[1];
  p->batches = out->sizes[0];
  p->rows = out->sizes[1];
  p->cols = out->sizes[2];
  p->depth = input->sizes[2];
  p->panels = packed->sizes[0];
  p->pairs = packed->sizes[1];
  if (packed->sizes[2] != variants->linear_panel * 2 ||
      p->pairs != (p->depth + 1) / 2 ||
      p->panels * variants->linear_panel < p->cols ||
      packed->offset % 2 != 0 || input->strides[2] != 1 || out->strides[2] != 1) {
    tfc_rt_check_failed("linear_bf16: the packed weights do not match this "
                        "instruction set's kernel or the input's depth");
    return;
  }
  if (flags & TFC_RT_LINEAR_HAS_BIAS)
    p->bias = (const float *)bias->aligned + bias->offset;
  if (flags & TFC_RT_LINEAR_HAS_RESIDUAL) {
    p->residual = (const float *)residual->aligned + residual->offset;
    p->residual_batch = residual->strides[0];
    p->residual_row = residual->strides[1];
  }
  p->activation = (int)(flags >> TFC_RT_LINEAR_ACTIVATION_SHIFT) & 3;
  if (p->batches == 0 || p->rows == 0 || p->cols == 0)
    return;
  int threads = pool_threads();
  size_t workspace_bytes = tfc_kernel_linear_bf16_plan(p, threads);
  if (!workspace_bytes) {
    tfc_rt_check_failed("linear_bf16: the converted input's size overflows");
    return;
  }
  void *workspace = tfc_rt_aligned_alloc(64, workspace_bytes);
  if (!workspace) {
    tfc_rt_check_failed("linear_bf16: out of memory for the converted input");
    return;
  }
  tfc_kernel_linear_bf16_place(p, workspace);
  tfc_parallel_for_chunked(linear_bf16_tasks, &call, threads, 1);
  tfc_rt_free(workspace);
}

/* linear_q4: the f32 linear's tasks on the pool, the weights dequantized in
 * registers; no workspace. */
typedef struct linear_q4_call {
  tfc_linear_q4_problem problem;
  int64_t (*task)(tfc_linear_q4_problem *, int64_t);
} linear_q4_call;

static void linear_q4_tasks(void *context, int64_t begin, int64_t end) {
  (void)begin;
  (void)end;
  linear_q4_call *call = context;
  tfc_linear_q4_problem *p = &call->problem;
  int64_t task = atomic_fetch_add(&p->next_task, 1);
  while (task < p->tasks)
    task = call->task(p, task);
}

void tfc_rt_linear_q4(const tfc_rt_memref3 *input, const tfc_rt_memref3 *packed,
                      const tfc_rt_memref3 *weight_scale,
                      const tfc_rt_memref3 *weight_zero,
                      const tfc_rt_memref1 *bias, const tfc_rt_memref3 *residual,
                      const tfc_rt_memref3 *out, int64_t flags) {
  const kernel_variants *variants =
      variants_for(flags, TFC_RT_DTYPE_S4F32, "linear_q4");
  if (!variants)
    return;
  linear_q4_call call;
  memset(&call, 0, sizeof(call));
  call.task = variants->q4_task;
  tfc_linear_q4_problem *p = &call.problem;
  const int64_t panel = variants->linear_panel;
  p->input = (const float *)input->aligned + input->offset;
  p->input_batch = input->strides[0];
  p->input_row = input->strides[1];
  p->packed = (const uint8_t *)packed->aligned + packed->offset;
  p->scales = (const float *)weight_scale->aligned + weight_scale->offset;
  p->out = (float *)out->aligned + out->offset;
  p->out_batch = out->strides[0];
  p->out_row = out->strides[1];
  p->batches = out->sizes[0];
  p->rows = out->sizes[1];
  p->cols = out->sizes[2];
  p->depth = input->sizes[2];
  p->panels = packed->sizes[0];
  p->groups = weight_scale->sizes[1];
  p->group = p->groups > 0 ? p->depth / p->groups : 0;
  /* The packing is the compiler's; a mismatch is a model and a runtime from
   * different versions, or a layout this kernel does not read. */
  int consistent =
      packed->sizes[1] == p->depth && packed->sizes[2] == panel / 2 &&
      p->groups > 0 && p->group * p->groups == p->depth &&
      weight_scale->sizes[0] == p->panels && weight_scale->sizes[2] == panel &&
      p->panels * panel >= p->cols && input->strides[2] == 1 &&
      out->strides[2] == 1;
  if (flags & TFC_RT_Q4_HAS_WEIGHT_ZERO) {
    p->zeros = (const uint8_t *)weight_zero->aligned + weight_zero->offset;
    consistent = consistent && weight_zero->sizes[0] == p->panels &&
                 weight_zero->sizes[1] == p->groups &&
                 weight_zero->sizes[2] == panel;
  }
  if (!consistent) {
    tfc_rt_check_failed("linear_q4: the packed weights do not match this "
                        "instruction set's kernel or the input's depth");
    return;
  }
  if (flags & TFC_RT_LINEAR_HAS_BIAS)
    p->bias = (const float *)bias->aligned + bias->offset;
  if (flags & TFC_RT_LINEAR_HAS_RESIDUAL) {
    p->residual = (const float *)residual->aligned + residual->offset;
    p->residual_batch = residual->strides[0];
    p->residual_row = residual->strides[1];
  }
  p->activation = (int)(flags >> TFC_RT_LINEAR_ACTIVATION_SHIFT) & 3;
  if (p->batches == 0 || p->rows == 0 || p->cols == 0)
    return;
  int threads = pool_threads();
  tfc_kernel_linear_q4_plan(p, threads);
  tfc_parallel_for_chunked(linear_q4_tasks, &call, threads, 1);
}
