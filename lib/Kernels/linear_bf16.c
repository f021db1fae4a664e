/*===- linear_bf16.c - the bf16 matmul kernel behind tfm.linear ---*- C -*-===*
 *
 * tfm.linear of an f32 input by a bf16 weight (tfc compile --quantize=bf16):
 * out = act(bf16(input) @ W + bias) + residual, products of bf16 values
 * summed in f32. Two phases, as the int8 kernel's (linear_q8.c):
 *
 * 1. Convert: each row of the input becomes pairs of bf16 (bf16.h) in the
 *    workspace, rounded to nearest even, the depth padded to a whole pair
 *    with 0. The first task to reach a block of rows converts it
 *    (row_blocks.h).
 * 2. Multiply: tasks as the f32 kernel's (a block of up to BLOCK_M rows by
 *    a group of panels). A tile of R rows x PANEL columns sums over the
 *    whole depth in f32 registers, then the epilogue adds bias, activation
 *    and residual. The weights are packed by the compiler in panels of
 *    PANEL columns, pair after pair of k ([panels][K / 2][PANEL] pairs).
 *
 * With AVX512-BF16 (the model's TFC_RT_FEATURE_BF16), vdpbf16ps adds two
 * products per lane: half the instructions of the f32 kernel for the same
 * tile, and half the weight bytes. Elsewhere each pair is widened to two
 * floats and multiplied by two FMAs: the f32 kernel's arithmetic on half
 * its weight bytes (the mode still works, and the weights take half the
 * memory).
 *
 * With AMX (TFC_RT_FEATURE_AMX, amx.h), blocks of 32 and 16 rows of a
 * panel are tdpbf16ps tile products instead, on the same packing, and the
 * rows left go to the vector tiles.
 *
 * Tiles are the f32 kernel's: AVX-512 12 x 32 (24 accumulators, two weight
 * registers and a broadcast of 32 zmm), AVX2 6 x 16, NEON 6 x 16. The depth
 * is not sliced: a panel's weights (K x 64 bytes at AVX-512's panel of 32,
 * 192 KB at K = 3072) stay in L2 while the block's tiles pass over them.
 *
 *===----------------------------------------------------------------------===*/

#include "activations.h"
#include "amx.h"
#include "bf16.h"
#include "kernels.h"
#include "row_blocks.h"
#include "tfc/runtime/tfc_abi.h"
#include "vector_ops.h"

#include <string.h>

typedef tfc_linear_bf16_problem bf16_problem;

enum {
#if defined(__AVX512F__)
  PANEL = TFC_RT_LINEAR_PANEL_AVX512,
  TILE_ROWS = 12,
#elif defined(__AVX2__)
  PANEL = TFC_RT_LINEAR_PANEL_AVX2,
  TILE_ROWS = 6,
#else
  PANEL = TFC_RT_LINEAR_PANEL_NEON,
  TILE_ROWS = 6,
#endif
  PANEL_VECTORS = PANEL / TFC_VLEN, /* registers per row of a tile */
  /* The most rows of one product's sums: an AMX block, or a vector tile. */
  SUM_ROWS = AMX_BLOCK_ROWS > TILE_ROWS ? AMX_BLOCK_ROWS : TILE_ROWS,
  PAIR_BYTES = PANEL * 4,           /* a pair of k of a panel */
};
_Static_assert(PANEL % 16 == 0 && PANEL_VECTORS <= 4, "a tile row is at most 4 registers");

/* TFC_VLEN lanes of pairs. */
typedef uint32_t vpairs __attribute__((vector_size(4 * TFC_VLEN), aligned(4)));
#define LOADP(p) (*(const vpairs *)(p))

#if defined(__AVX512F__)
#include <immintrin.h>
#define HAVE_NATIVE 1
#define NATIVE_TARGET __attribute__((target("avx512bf16")))
#define DPBF16(acc, a, w)                                                      \
  ((vfn)_mm512_dpbf16_ps((__m512)(acc), (__m512bh)(a), (__m512bh)(w)))
#else
#define HAVE_NATIVE 0
#endif

/* ------------------------------------------------------------------------ */
/* Phase 1: the input rows as bf16 pairs.                                   */
/* ------------------------------------------------------------------------ */

static const float *input_row(const bf16_problem *p, int64_t r) {
  return p->input + (r / p->rows) * p->input_batch + (r % p->rows) * p->input_row;
}

/* Rows [begin, end) of all batches into p->converted. */
static void convert_rows(const void *problem, int64_t begin, int64_t end) {
  const bf16_problem *p = problem;
  for (int64_t r = begin; r < end; ++r)
    bf16_pack_row(input_row(p, r), 1, p->depth, 1.0f,
                  p->converted + r * p->row_pairs);
}

/* ------------------------------------------------------------------------ */
/* Phase 2: the product.                                                    */
/* ------------------------------------------------------------------------ */

/* The sums of one tile, R (a compile-time constant once inlined) rows of
 * pairs (row r at a + r * a_row) by a panel's pairs of weights:
 * sums[R][PANEL]. With `prefetch`, each step also prefetches the same step
 * of the panel that comes next. */
#if HAVE_NATIVE
static inline __attribute__((always_inline)) NATIVE_TARGET void
tile_native(const uint32_t *a, int64_t a_row, const uint32_t *w, int64_t pairs,
            float *sums, const int R, const uint32_t *prefetch) {
  vfn acc[12][PANEL_VECTORS];
  UNROLL for (int r = 0; r < R; ++r)
    UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)
      acc[r][x] = SPLATV(0.0f);
  for (int64_t g = 0; g < pairs; ++g) {
    if (prefetch)
      UNROLL for (int line = 0; line < PAIR_BYTES / 64; ++line)
        __builtin_prefetch(prefetch + g * PANEL + 16 * line, 0, 3);
    vpairs wv[PANEL_VECTORS];
    UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)
      wv[x] = LOADP(w + g * PANEL + TFC_VLEN * x);
    UNROLL for (int r = 0; r < R; ++r) {
      vpairs ar = (vpairs){0} + a[r * a_row + g];
      UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)
        acc[r][x] = DPBF16(acc[r][x], ar, wv[x]);
    }
  }
  UNROLL for (int r = 0; r < R; ++r)
    UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)
      STOREV(sums + r * PANEL + TFC_VLEN * x, acc[r][x]);
}
#endif

/* Without vdpbf16ps: each pair's halves widened to floats, two FMAs. */
static inline __attribute__((always_inline)) void
tile_widened(const uint32_t *a, int64_t a_row, const uint32_t *w, int64_t pairs,
             float *sums, const int R, const uint32_t *prefetch) {
  vfn acc[12][PANEL_VECTORS];
  UNROLL for (int r = 0; r < R; ++r)
    UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)
      acc[r][x] = SPLATV(0.0f);
  for (int64_t g = 0; g < pairs; ++g) {
    if (prefetch)
      UNROLL for (int line = 0; line < PAIR_BYTES / 64; ++line)
        __builtin_prefetch(prefetch + g * PANEL + 16 * line, 0, 3);
    /* The even k, then the odd: half the weight registers live at once. */
    vfn wv[PANEL_VECTORS];
    UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)
      wv[x] = (vfn)(LOADP(w + g * PANEL + TFC_VLEN * x) << 16);
    UNROLL for (int r = 0; r < R; ++r) {
      float ar = bf16_low(a[r * a_row + g]);
      UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)
        acc[r][x] += wv[x] * ar;
    }
    UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)
      wv[x] = (vfn)(LOADP(w + g * PANEL + TFC_VLEN * x) & 0xffff0000u);
    UNROLL for (int r = 0; r < R; ++r) {
      float ar = bf16_high(a[r * a_row + g]);
      UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)
        acc[r][x] += wv[x] * ar;
    }
  }
  UNROLL for (int r = 0; r < R; ++r)
    UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)
      STOREV(sums + r * PANEL + TFC_VLEN * x, acc[r][x]);
}

#if HAVE_AMX
_Static_assert(PANEL == 32, "an AMX product is one panel of 32 columns");
AMX_PRODUCT(amx_product, _tile_dpbf16ps)
static AMX_TARGET void amx_rows(const uint32_t *a, int64_t a_row,
                                const uint32_t *w, int64_t pairs, float *sums,
                                int64_t rows, const uint32_t *next) {
  const int64_t row = PANEL * 4;
  if (rows == AMX_BLOCK_ROWS)
    amx_product(a, a_row * 4, w, row, pairs, sums, row, 2, 0, next);
  else
    amx_product(a, a_row * 4, w, row, pairs, sums, row, 1, 0, next);
}
#endif

/* A tile of `rows` rows, R or fewer, each count its own compiled copy. */
#define TILE_ROWS_DISPATCH(NAME, TARGET, TILE)                                 \
  static TARGET void NAME(const uint32_t *a, int64_t a_row, const uint32_t *w, \
                          int64_t pairs, float *sums, int64_t rows,            \
                          const uint32_t *next) {                              \
    switch (rows) {                                                            \
    case 1: TILE(a, a_row, w, pairs, sums, 1, next); return;                   \
    case 2: TILE(a, a_row, w, pairs, sums, 2, next); return;                   \
    case 3: TILE(a, a_row, w, pairs, sums, 3, next); return;                   \
    case 4: TILE(a, a_row, w, pairs, sums, 4, next); return;                   \
    case 5: TILE(a, a_row, w, pairs, sums, 5, next); return;                   \
    case 6: TILE(a, a_row, w, pairs, sums, 6, next); return;                   \
    }                                                                          \
    if (TILE_ROWS == 12)                                                       \
      switch (rows) {                                                          \
      case 7: TILE(a, a_row, w, pairs, sums, 7, next); return;                 \
      case 8: TILE(a, a_row, w, pairs, sums, 8, next); return;                 \
      case 9: TILE(a, a_row, w, pairs, sums, 9, next); return;                 \
      case 10: TILE(a, a_row, w, pairs, sums, 10, next); return;               \
      case 11: TILE(a, a_row, w, pairs, sums, 11, next); return;               \
      case 12: TILE(a, a_row, w, pairs, sums, TILE_ROWS, next); return;        \
      }                                                                        \
  }
#if HAVE_NATIVE
TILE_ROWS_DISPATCH(tile_rows_native, NATIVE_TARGET, tile_native)
#endif
TILE_ROWS_DISPATCH(tile_rows_widened, , tile_widened)
#undef TILE_ROWS_DISPATCH

/* Task `task`'s batch, block of rows and group of panels: consecutive tasks
 * take the blocks of a group first, so that the threads start on different
 * blocks and each converts its own. */
static linear_task task_place(const bf16_problem *p, int64_t task) {
  return place_linear_task(task, p->rows, p->row_tiles, p->row_blocks,
                           p->block_span, p->row_groups, p->panel_groups);
}

static const uint32_t *first_panel(const bf16_problem *p, int64_t task) {
  if (task >= p->tasks)
    return NULL;
  linear_task t = task_place(p, task);
  return p->packed + t.group * p->panels / p->panel_groups * p->pairs * PANEL;
}

/* Runs task `task` and returns the task this thread claims next (claimed
 * as the last panel starts, so that its first panel is prefetched). */
int64_t TFC_KERNEL_FN(tfc_kernel_linear_bf16_task)(bf16_problem *p,
                                                   int64_t task) {
  linear_task t = task_place(p, task);
  const int64_t batch = t.batch, row0 = t.row0, row_end = t.row_end;
  convert_task_blocks(&t, task, p->block_state + batch * p->row_blocks,
                      convert_rows, p, p->rows, p->row_tiles, p->row_blocks);
  int64_t panel0 = t.group * p->panels / p->panel_groups;
  int64_t panel_end = (t.group + 1) * p->panels / p->panel_groups;
  float sums[SUM_ROWS * PANEL] __attribute__((aligned(64)));
  float bias[PANEL] __attribute__((aligned(64)));
  int64_t claimed = -1;
#if HAVE_AMX
  if (p->amx)
    amx_begin();
#endif
  for (int64_t panel = panel0; panel < panel_end; ++panel) {
    const uint32_t *next;
    if (panel + 1 < panel_end) {
      next = p->packed + (panel + 1) * p->pairs * PANEL;
    } else {
      claimed = atomic_fetch_add(&p->next_task, 1);
      next = first_panel(p, claimed);
    }
    const int64_t col0 = panel * PANEL;
    const int64_t cols = p->cols - col0 < PANEL ? p->cols - col0 : PANEL;
    memset(bias, 0, sizeof(bias));
    if (p->bias)
      memcpy(bias, p->bias + col0, sizeof(float) * (size_t)cols);
    const uint32_t *w = p->packed + panel * p->pairs * PANEL;
    int64_t row = row0;
#if HAVE_AMX
    /* Blocks of 32 rows, then one of 16, as tile products. */
    for (; p->amx && row_end - row >= AMX_BLOCK_ROWS / 2;) {
      int64_t rows = row_end - row >= AMX_BLOCK_ROWS ? AMX_BLOCK_ROWS
                                                      : AMX_BLOCK_ROWS / 2;
      const uint32_t *a = p->converted + (batch * p->rows + row) * p->row_pairs;
      amx_rows(a, p->row_pairs, w, p->pairs, sums, rows, row == row0 ? next : NULL);
      FINISH_PROBLEM_TILE(p, sums, PANEL, rows, batch, row, col0, cols, p->bias ? bias : NULL);
      row += rows;
    }
#endif
    for (; row < row_end; row += TILE_ROWS) {
      int64_t rows = row_end - row < TILE_ROWS ? row_end - row : TILE_ROWS;
      const uint32_t *a = p->converted + (batch * p->rows + row) * p->row_pairs;
      const uint32_t *prefetch = row == row0 ? next : NULL;
#if HAVE_NATIVE
      if (p->native)
        tile_rows_native(a, p->row_pairs, w, p->pairs, sums, rows, prefetch);
      else
#endif
        tile_rows_widened(a, p->row_pairs, w, p->pairs, sums, rows, prefetch);
      FINISH_PROBLEM_TILE(p, sums, PANEL, rows, batch, row, col0, cols,
                    p->bias ? bias : NULL);
    }
  }
#if HAVE_AMX
  if (p->amx)
    amx_end();
#endif
  return claimed;
}
