/*===- linear_f32.c - the matmul kernel behind tfm.linear --------*- C -*-===*
 *
 * tfm.linear with constant weights (and a bare tfm.matmul by a constant
 * matrix) becomes one call of tfc_rt_linear: out = act(input @ W +
 * bias) + residual on rows of the input. The compiler has packed W into
 * panels of PANEL columns stored k-major, so the innermost loop reads a
 * panel's row at unit stride, PANEL / TFC_VLEN registers per k, and
 * broadcasts one input element per row of the tile, read where the input
 * lies:
 *
 *   for each task (a block of up to BLOCK_M rows x a group of panels):
 *     for each slice of BLOCK_K of the reduction:
 *       for each panel of the group:       (a panel's slice and the
 *         for each tile of R rows:          block's rows stay in L2)
 *           acc[R][PANEL] (+)= rows[R][slice] x panel[slice][PANEL]
 *
 * Each instruction set has its own tile, chosen for its register file (the
 * panel width is part of the packing, so the compiler packs for the set it
 * compiles for: tfc_abi.h's TFC_RT_LINEAR_PANEL_*):
 *
 *   AVX-512  12 x 32: 24 accumulators, 2 panel registers and a broadcast
 *            of 32 zmm; per k, 2 loads and 12 broadcasts feed 24 FMAs.
 *   AVX2      6 x 16: 12 accumulators, 2 panel registers and a broadcast
 *            of 16 ymm (the AVX-512 tile compiled for AVX2 fell to 4 x 32
 *            and spilled: 49% of the AVX2 peak on an AVX2 EPYC).
 *   NEON      6 x 16: 24 accumulators of 4 floats, 4 panel registers and
 *            broadcasts of 32.
 *
 * The last tile of the rows has as many rows as are left, each count
 * its own copy of the loop: staging it padded to R rows, as the kernel did
 * before, took BERT-base at 128 tokens (10 tiles of 12, one of 8) from
 * about 65.5 to 68.5 ms. A tile's accumulators go to the output between slices; after the
 * last slice the epilogue (bias, activation, residual) runs over the
 * finished tile while it is in L1, so the output is written once in its
 * final form. Tasks own disjoint output blocks; the runtime runs them on
 * the model's thread pool (tfc_kernel_linear_f32_plan sizes them).
 *
 * A slice of 768 covers BERT's and ViT's K = 768 and 384 at once, so their
 * outputs are written once: with 256, each output line went to memory and
 * back between slices, and a model's outputs are not in cache (a fresh
 * block per op). L2's bandwidth feeds a panel's two vectors per 24 FMAs, so
 * the slice need not fit L1. Measured on cold weights and outputs, 768 was
 * 3-13% faster than 256 on the BERT and ViT shapes.
 *
 * The first tile of each panel slice also prefetches the slice that comes
 * next: in a model the weights (340 MB for BERT-base) stream from memory,
 * and the hardware prefetcher does not run ahead across panels;
 * prefetching took BERT-base seq 128 from about 76 ms to 68 ms. For the
 * last slice of a task, the slice that comes next is the first of the
 * thread's next task, so a thread claims its next task from the shared
 * counter as its last slice starts rather than when it is done. Without
 * that, a task's first slice came from memory unprefetched: a quarter of
 * the weights of a 768 x 768 layer, split in groups of four panels. In
 * --profile, claiming ahead took BERT-base seq 128's linear ops from 58.7
 * to 56.6 ms and ViT-S batch 1's from 26.6 to 25.0 ms.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels.h"
#include "tfc/runtime/tfc_abi.h"
#include "activations.h"
#include "vector_ops.h"

#include <string.h>

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
  PANEL_LINES = PANEL * 4 / 64,     /* cache lines per k of a panel */
  BLOCK_K = TFC_LINEAR_BLOCK_K,
};
_Static_assert(PANEL % 16 == 0 && TILE_ROWS <= 12 && PANEL_VECTORS <= 4,
               "a tile is at most 12 rows of 4 registers");

typedef tfc_linear_f32_problem linear_problem;

/* The product of one tile: c[R][PANEL] (+)= a[R][depth] x b[depth][PANEL],
 * the tile's rows read in place (row r at a + r * a_row; R a compile-time
 * constant once inlined). Nothing but the product is in this loop, so the
 * R * PANEL_VECTORS accumulators, the panel's registers and a broadcast fit
 * the registers (27 of AVX-512's 32 for R = 12, 15 of AVX2's 16 for R = 6).
 * Rows are not packed: a row's cache line serves 16 steps of k, and packing
 * cost more than it saved. */
static inline __attribute__((always_inline)) void
tile_product(const float *a, int64_t a_row, const float *b, int64_t depth,
             float *c, int64_t c_row, int accumulate, const int R,
             const float *prefetch) {
  vfn acc[12][PANEL_VECTORS];
  UNROLL for (int r = 0; r < R; ++r)
    UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)
      acc[r][x] =
          accumulate ? LOADV(c + r * c_row + TFC_VLEN * x) : SPLATV(0.0f);
  /* Row r is read through the pointer of its group of three rows, at 0, 1
   * or 2 rows past it (x86 can address those as base + stride * {0, 4, 8}
   * bytes). Clang 19 re-derives the twelve addresses from one base anyway,
   * a dozen integer adds per step of k that the FMA-bound loop absorbs. */
  const float *group[4];
  for (int g = 0; g < (R + 2) / 3; ++g)
    group[g] = a + 3 * g * a_row;
  for (int64_t k = 0; k < depth; ++k) {
    vfn bk[PANEL_VECTORS];
    UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)
      bk[x] = LOADV(b + k * PANEL + TFC_VLEN * x);
    if (prefetch)
      UNROLL for (int line = 0; line < PANEL_LINES; ++line)
        __builtin_prefetch(prefetch + k * PANEL + 16 * line, 0, 3);
    UNROLL for (int r = 0; r < R; ++r) {
      float ar = group[r / 3][(r % 3) * a_row];
      UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)
        acc[r][x] += bk[x] * ar;
    }
    for (int g = 0; g < (R + 2) / 3; ++g)
      ++group[g];
  }
  UNROLL for (int r = 0; r < R; ++r)
    UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)
      STOREV(c + r * c_row + TFC_VLEN * x, acc[r][x]);
}

/* The epilogue on `rows` finished rows of a tile (c, PANEL wide, row stride
 * c_row): bias, activation, residual, in that order. */
static inline __attribute__((always_inline)) void
tile_epilogue(const linear_problem *p, float *c, int64_t c_row, int64_t rows,
              const float *bias, const float *residual, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    float *row = c + r * c_row;
    for (int x = 0; x < PANEL / 16; ++x) {
      vf16 v = LOAD16(row + 16 * x);
      if (bias)
        v += LOAD16(bias + 16 * x);
      v = ACTIVATE16(v, p->activation);
      if (residual) {
        const float *res = residual + r * p->residual_row + 16 * x;
        if (cols == PANEL) {
          v += LOAD16(res);
        } else {
          float padded[16] = {0};
          for (int64_t j = 0; j < 16 && 16 * x + j < cols; ++j)
            padded[j] = res[j];
          v += LOAD16(padded);
        }
      }
      STORE16(row + 16 * x, v);
    }
  }
}

/* The product of a tile of `rows` rows, R or fewer: a tile at the end of
 * the rows runs with as many accumulator rows as it has rows (each count a
 * compile-time copy of the loop), so nothing is staged and no FMA is spent
 * on missing rows. BERT at 128 tokens is 10 tiles of 12 and one of 8 with
 * AVX-512. */
static inline __attribute__((always_inline)) void
tile_product_rows(const float *a, int64_t a_row, const float *b, int64_t depth,
                  float *c, int64_t c_row, int accumulate, const int R,
                  int64_t rows, const float *prefetch) {
  if (rows == R) {
    tile_product(a, a_row, b, depth, c, c_row, accumulate, R, prefetch);
    return;
  }
  switch (rows) {
#define TILE_ROWS_CASE(n)                                                      \
  case n:                                                                      \
    if (n < R)                                                                 \
      tile_product(a, a_row, b, depth, c, c_row, accumulate, n < R ? n : R,    \
                   prefetch);                                                  \
    return;
    TILE_ROWS_CASE(1)
    TILE_ROWS_CASE(2)
    TILE_ROWS_CASE(3)
    TILE_ROWS_CASE(4)
    TILE_ROWS_CASE(5)
    TILE_ROWS_CASE(6)
    TILE_ROWS_CASE(7)
    TILE_ROWS_CASE(8)
    TILE_ROWS_CASE(9)
    TILE_ROWS_CASE(10)
    TILE_ROWS_CASE(11)
#undef TILE_ROWS_CASE
  }
}

/* One slice of the reduction for rows [row0, row_end) of `batch` and one
 * panel. Tiles accumulate in the output in place; a tile with missing
 * columns goes through `edge` and copies out only the columns that exist. */
static inline __attribute__((always_inline)) void
panel_slice(const linear_problem *p, int64_t batch, int64_t row0,
            int64_t row_end, int64_t panel, int64_t k0, int64_t depth,
            const int R, const float *next) {
  const int64_t col0 = panel * PANEL;
  const int64_t cols = p->cols - col0 < PANEL ? p->cols - col0 : PANEL;
  const int first = k0 == 0, last = k0 + depth >= p->depth;
  const float *b = p->packed + (panel * p->depth + k0) * PANEL;
  float bias[PANEL] __attribute__((aligned(64))) = {0};
  if (last && p->bias)
    for (int64_t j = 0; j < cols; ++j)
      bias[j] = p->bias[col0 + j];
  float edge[TILE_ROWS * PANEL] __attribute__((aligned(64)));
  for (int64_t row = row0; row < row_end; row += R) {
    int64_t rows = row_end - row < R ? row_end - row : R;
    const float *a = p->input + batch * p->input_batch + row * p->input_row + k0;
    float *out = p->out + batch * p->out_batch + row * p->out_row + col0;
    float *c = out;
    int64_t c_row = p->out_row;
    int through_edge = cols < PANEL;
    if (through_edge) {
      c = edge;
      c_row = PANEL;
      if (!first)
        for (int64_t r = 0; r < rows; ++r)
          memcpy(edge + r * PANEL, out + r * p->out_row, sizeof(float) * cols);
    }
    tile_product_rows(a, p->input_row, b, depth, c, c_row, !first, R, rows,
                      row == row0 ? next : NULL);
    if (last)
      tile_epilogue(p, c, c_row, rows, p->bias ? bias : NULL,
                    p->residual ? p->residual + batch * p->residual_batch +
                                      row * p->residual_row + col0
                                : NULL,
                    cols);
    if (through_edge)
      for (int64_t r = 0; r < rows; ++r)
        memcpy(out + r * p->out_row, edge + r * PANEL, sizeof(float) * cols);
  }
}

/* The first slice of task `task`'s first panel, or NULL past the tasks. */
static const float *first_slice(const linear_problem *p, int64_t task) {
  if (task >= p->tasks)
    return NULL;
  int64_t group = task % p->panel_groups;
  return p->packed + group * p->panels / p->panel_groups * p->depth * PANEL;
}

/* Runs task `task` and returns the task this thread claims next: a block of
 * rows by a group of panels, slice by slice of the reduction, so that the
 * block's slice of rows (up to 288 KB) stays in L2 while every panel of the
 * group passes over it. The next task is claimed as the last panel starts,
 * so that its first slice is prefetched too. */
int64_t TFC_KERNEL_FN(tfc_kernel_linear_f32_task)(linear_problem *p,
                                                  int64_t task) {
  int64_t group = task % p->panel_groups;
  int64_t block = task / p->panel_groups % p->row_blocks;
  int64_t batch = task / (p->panel_groups * p->row_blocks);
  /* Blocks and groups differ by at most one tile or panel. */
  int64_t row0 = block * p->row_tiles / p->row_blocks * 12;
  int64_t row_end = (block + 1) * p->row_tiles / p->row_blocks * 12;
  if (row_end > p->rows)
    row_end = p->rows;
  int64_t panel0 = group * p->panels / p->panel_groups;
  int64_t panel_end = (group + 1) * p->panels / p->panel_groups;
  int64_t claimed = -1;
  /* An empty reduction still runs once: the epilogue of zeros. */
  for (int64_t k0 = 0; k0 < p->depth || k0 == 0; k0 += BLOCK_K) {
    int64_t depth = p->depth - k0 < BLOCK_K ? p->depth - k0 : BLOCK_K;
    for (int64_t panel = panel0; panel < panel_end; ++panel) {
      const float *next;
      if (panel + 1 < panel_end) {
        next = p->packed + ((panel + 1) * p->depth + k0) * PANEL;
      } else if (k0 + BLOCK_K < p->depth) {
        next = p->packed + (panel0 * p->depth + k0 + BLOCK_K) * PANEL;
      } else {
        claimed = atomic_fetch_add(&p->next_task, 1);
        next = first_slice(p, claimed);
      }
      panel_slice(p, batch, row0, row_end, panel, k0, depth, TILE_ROWS, next);
    }
  }
  return claimed;
}

