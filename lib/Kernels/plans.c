/*===- plans.c - how each kernel's work splits into tasks --------*- C -*-===*
 *
 * The sizes the runtime needs before it runs a kernel: its tasks for a
 * number of threads, and the memory it must provide. The same for every
 * instruction set, so compiled once.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels.h"

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Tasks of equal size (to a tile or a panel), several per thread, taken
 * one at a time: a thread left with one task more than the other idles
 * for that task's time, so the tasks must be many and alike. A block of
 * rows is at most BLOCK_M (8 tiles of 12) so that its slice of rows stays
 * in L2 while the task's panels pass over it; the panels are split into as
 * many groups as it takes to give each thread six tasks.
 *
 * The int8 and bf16 kernels' tasks span `span` blocks (their block_span;
 * row_groups of them per batch): 1, or with AMX TFC_LINEAR_AMX_SPAN
 * blocks, since a tile product needs more rows per pass over a panel to
 * keep from waiting on the weights (128 x 768 x 3072 int8 took 0.29 ms
 * against 0.39 ms with one block per task, 512 x 3072 x 768 0.84 against
 * 1.08). */
/* The split the linear kernels share: sets row_tiles, row_blocks,
 * panel_groups and tasks from rows, batches and panels; `span` (an lvalue)
 * is clamped to the blocks there are, and `row_groups` (an lvalue) set. */
#define SPLIT_LINEAR_TASKS(p, threads, span, row_groups)                       \
  do {                                                                         \
    (p)->row_tiles = ((p)->rows + 11) / 12;                                    \
    (p)->row_blocks = ((p)->row_tiles + TFC_LINEAR_BLOCK_M / 12 - 1) /         \
                      (TFC_LINEAR_BLOCK_M / 12);                               \
    if ((span) > (p)->row_blocks)                                              \
      (span) = (p)->row_blocks > 0 ? (p)->row_blocks : 1;                      \
    (row_groups) = ((p)->row_blocks + (span) - 1) / (span);                    \
    int64_t row_tasks_ = (p)->batches * (row_groups);                          \
    int64_t wanted_ = (threads) > 1 ? (int64_t)(threads) * 6 : 1;              \
    (p)->panel_groups = row_tasks_ > 0 ? (wanted_ + row_tasks_ - 1) / row_tasks_ : 1; \
    if ((p)->panel_groups > (p)->panels)                                       \
      (p)->panel_groups = (p)->panels;                                         \
    (p)->tasks = row_tasks_ * (p)->panel_groups;                               \
    atomic_init(&(p)->next_task, 0);                                           \
  } while (0)

void tfc_kernel_linear_f32_plan(tfc_linear_f32_problem *p, int threads) {
  int64_t span = 1, row_groups = 0;
  SPLIT_LINEAR_TASKS(p, threads, span, row_groups);
  (void)row_groups; /* == row_blocks */
}

void tfc_kernel_linear_q4_plan(tfc_linear_q4_problem *p, int threads) {
  int64_t span = 1, row_groups = 0;
  SPLIT_LINEAR_TASKS(p, threads, span, row_groups);
  (void)row_groups; /* == row_blocks */
}

void tfc_kernel_attention_f32_plan(tfc_attention_f32_problem *p) {
  p->q_blocks = (p->q_len + TFC_ATTENTION_BLOCK_Q - 1) / TFC_ATTENTION_BLOCK_Q;
}

/* a * b + c * d, or SIZE_MAX when that overflows (the caller's sums then
 * overflow too, and it refuses the call). */
static size_t checked_sum_of_products(size_t a, size_t b, size_t c, size_t d) {
  size_t ab, cd, sum;
  if (__builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(c, d, &cd) ||
      __builtin_add_overflow(ab, cd, &sum))
    return SIZE_MAX;
  return sum;
}

size_t tfc_kernel_attention_f32_packed_floats(const tfc_attention_f32_problem *p) {
  /* bf16: always converted, 32-bit pairs. */
  if (p->bf16) {
    size_t per_head = checked_sum_of_products(
        (size_t)p->k_len, (size_t)((p->dk + 1) / 2),
        (size_t)tfc_attention_v_pairs(p), (size_t)p->dv);
    size_t total;
    if (per_head == SIZE_MAX ||
        __builtin_mul_overflow((size_t)(p->batch * p->kv_heads), per_head, &total) ||
        total > SIZE_MAX - 15)
      return SIZE_MAX;
    return round16(total);
  }
  /* In place up to the limit, or whatever the length when each head has
   * one block of queries (a decode step): then every K and V row is read
   * once, and a copy would only add a pass. */
  if (p->k_stride[2] == 1 && p->v_stride[2] == 1 &&
      (p->k_len <= TFC_ATTENTION_IN_PLACE_MAX_KEYS ||
       p->q_len <= TFC_ATTENTION_BLOCK_Q))
    return 0; /* read in place */
  return round16((size_t)(p->batch * p->kv_heads) * p->k_len * (p->dk + p->dv));
}

size_t tfc_kernel_attention_f32_scratch_floats(const tfc_attention_f32_problem *p) {
  return (size_t)p->dk * TFC_ATTENTION_BLOCK_Q +
         TFC_ATTENTION_BLOCK_K * TFC_ATTENTION_BLOCK_Q +
         round16(TFC_ATTENTION_BLOCK_Q * p->dv) + 3 * TFC_ATTENTION_BLOCK_Q +
         (p->bf16 ? TFC_ATTENTION_BLOCK_K / 2 * TFC_ATTENTION_BLOCK_Q : 0);
}

static size_t round64(size_t n) { return (n + 63) & ~(size_t)63; }

/* As the f32 linear's tasks. The workspace: the quantized rows (each
 * rounded to 64 bytes, so every row starts on a cache line), then per row
 * a float scale and two int32s, then each block's state. */
size_t tfc_kernel_linear_q8_plan(tfc_linear_q8_problem *p, int threads) {
  p->block_span = p->amx ? TFC_LINEAR_AMX_SPAN : 1;
  SPLIT_LINEAR_TASKS(p, threads, p->block_span, p->row_groups);
  /* 4 bytes per group of either dot product (4 x u8, 2 x s16). */
  size_t rows, row_bytes, quantized, per_row, states, total;
  if (__builtin_mul_overflow((size_t)p->groups, (size_t)4, &row_bytes) ||
      __builtin_mul_overflow((size_t)p->batches, (size_t)p->rows, &rows))
    return 0;
  row_bytes = round64(row_bytes);
  if (__builtin_mul_overflow(rows, row_bytes, &quantized) ||
      __builtin_mul_overflow(rows, (size_t)12, &per_row) ||
      __builtin_mul_overflow((size_t)(p->batches * p->row_blocks),
                             sizeof(atomic_int), &states) ||
      __builtin_add_overflow(quantized, round64(per_row), &total) ||
      __builtin_add_overflow(total, round64(states), &total))
    return 0;
  p->row_bytes = (int64_t)row_bytes;
  return total ? total : 64;
}

void tfc_kernel_linear_q8_place(tfc_linear_q8_problem *p, void *workspace) {
  size_t rows = (size_t)(p->batches * p->rows);
  p->quantized = workspace;
  float *after = (float *)(p->quantized + rows * (size_t)p->row_bytes);
  p->row_scale = after;
  p->row_zero = (int32_t *)(after + rows);
  p->row_sum = p->row_zero + rows;
  p->block_state = (atomic_int *)((char *)workspace + rows * (size_t)p->row_bytes +
                                  round64(rows * 12));
  for (int64_t i = 0; i < p->batches * p->row_blocks; ++i)
    atomic_init(&p->block_state[i], 0);
}

/* As the f32 linear's tasks. The workspace: the rows as bf16 pairs (each
 * rounded to 16 pairs, a cache line), then each block's state. */
size_t tfc_kernel_linear_bf16_plan(tfc_linear_bf16_problem *p, int threads) {
  p->block_span = p->amx ? TFC_LINEAR_AMX_SPAN : 1;
  SPLIT_LINEAR_TASKS(p, threads, p->block_span, p->row_groups);
  size_t rows, converted, states, total;
  size_t row_pairs = ((size_t)p->pairs + 15) & ~(size_t)15;
  if (__builtin_mul_overflow((size_t)p->batches, (size_t)p->rows, &rows) ||
      __builtin_mul_overflow(rows, row_pairs * 4, &converted) ||
      __builtin_mul_overflow((size_t)(p->batches * p->row_blocks),
                             sizeof(atomic_int), &states) ||
      __builtin_add_overflow(converted, round64(states), &total))
    return 0;
  p->row_pairs = (int64_t)row_pairs;
  return total ? total : 64;
}

void tfc_kernel_linear_bf16_place(tfc_linear_bf16_problem *p, void *workspace) {
  size_t rows = (size_t)(p->batches * p->rows);
  p->converted = workspace;
  p->block_state = (atomic_int *)(p->converted + rows * (size_t)p->row_pairs);
  for (int64_t i = 0; i < p->batches * p->row_blocks; ++i)
    atomic_init(&p->block_state[i], 0);
}

size_t tfc_kernel_linear_attention_f32_scratch_floats(
    const tfc_linear_attention_f32_problem *p) {
  const size_t chunk = TFC_LINEAR_ATTENTION_CHUNK;
  size_t dk = (size_t)(p->dk - p->window_dim), dkp = (dk + 15) / 16 * 16,
         dvp = ((size_t)p->dv + 15) / 16 * 16;
  /* φq rows [chunk][dkp], φk transposed [dk][chunk], v rows [chunk][dvp],
   * the weights [chunk][chunk], S [dk][dvp], z [dkp], then with a window
   * (tfc_kernel_linear_attention_f32_window_floats) its buffers, then γ^m
   * for m up to chunk. dk, dv and the window are at most
   * TFC_RT_LINEAR_ATTENTION_MAX_HEAD_DIM and its window's largest (checked
   * by the caller), so this cannot overflow. */
  return chunk * dkp + dk * chunk + chunk * dvp + chunk * chunk + dk * dvp +
         dkp + tfc_kernel_linear_attention_f32_window_floats(p) + chunk + 1;
}

size_t tfc_kernel_linear_attention_f32_window_floats(
    const tfc_linear_attention_f32_problem *p) {
  if (p->window <= 0)
    return 0;
  size_t dkp = ((size_t)(p->dk - p->window_dim) + 15) / 16 * 16,
         dvp = ((size_t)p->dv + 15) / 16 * 16,
         dwp = ((size_t)p->window_dim + 15) / 16 * 16,
         keys = (2 * (size_t)p->window + 15) / 16 * 16 + 16;
  /* The ring of keys (window_layout in linear_attention_f32.c): causal
   * [window + chunk][dwp + dvp] (kw, v), not causal [2 window +
   * chunk][dkp + dwp + dvp] (φk too); the query's φq and qw [dkp + dwp],
   * the window's scores and linear weights [keys] each, and the
   * corrections of a tile of rows (4 at most) [4][dvp] and [4][16]. */
  size_t ring_rows = (p->causal ? 1 : 2) * (size_t)p->window +
                     TFC_LINEAR_ATTENTION_CHUNK;
  size_t ring_row = (p->causal ? 0 : dkp) + dwp + dvp;
  return ring_rows * ring_row + dkp + dwp + 2 * keys + 4 * dvp + 4 * 16;
}

size_t tfc_kernel_linear_attention_f32_carry_floats(
    const tfc_linear_attention_f32_problem *p) {
  size_t dk = (size_t)(p->dk - p->window_dim), dkp = (dk + 15) / 16 * 16,
         dvp = ((size_t)p->dv + 15) / 16 * 16;
  /* S [dk][dvp] then z [dkp], as the tasks function keeps them. */
  return dk * dvp + dkp;
}
