/*===- linear_sparse_f32.c - tfm.linear by a block-sparse weight --*- C -*-===*
 *
 * A weight pruned in blocks of one input row by 16 output columns (the
 * zeros a model pruned while training has, or that tfc's pruning leaves)
 * is packed by the compiler as panels of 16 output columns, each holding
 * only its nonzero input rows: a row of 16 values and its k. A panel's
 * output for a tile of R rows is then
 *
 *   acc[R][16] = sum over the panel's blocks b of input[R][k_b] * values[b]
 *
 * one 16-float load (one AVX-512 register, two AVX2 ones) and R broadcasts
 * per block: the work is proportional to the nonzeros, and the input rows
 * of the tile stay in L1 while the panels stream. The epilogue (bias,
 * activation, residual) runs on the finished accumulators, so the output
 * is written once.
 *
 * Tasks are ranges of panels of about equal nonzeros (the runtime cuts
 * them from the panels' first blocks), times blocks of rows: a thread's
 * share is its share of the nonzeros, not of the columns, which pruning
 * leaves uneven. A task takes its panels in groups that fit L2
 * (GROUP_BYTES), and each group tile of rows after tile, each tile past all
 * the group's panels, so that the tile's input rows stay in L1; a depth
 * too long for L1 is taken in slices (SLICE_FLOATS).
 *
 *===----------------------------------------------------------------------===*/

#include "kernels.h"
#include "tfc/runtime/tfc_abi.h"
#include "activations.h"
#include "vector_ops.h"

/* Rows per tile. AVX-512: 8 (16 was slower, 0.74 against 0.71 ms on
 * 128 x 768 x 3072 at 80%); AVX2 splits each 16-float accumulator into two
 * ymm of its 16 registers, and NEON into four: 4. */
#if defined(__AVX512F__)
#define TILE 8
#else
#define TILE 4
#endif
_Static_assert(TFC_SPARSE_PANEL == 16, "a panel is one vf16");

typedef tfc_linear_sparse_f32_problem sparse_problem;

/* The sums of blocks [begin, end) of one panel for R rows, added to
 * `partial` ([R][16], or 0 when NULL); into `partial_out` when given (a
 * slice of the depth done, more to come), else the output of `rows` (TILE
 * or fewer) rows of the panel. */
static inline __attribute__((always_inline)) void
panel_tile(const sparse_problem *p, const float *input, float *out,
           const float *residual, int64_t panel, int32_t begin, int32_t end,
           const float *partial, float *partial_out, const int R) {
  vf16 acc[TILE];
  UNROLL for (int r = 0; r < R; ++r)
    acc[r] = partial ? LOAD16(partial + 16 * r) : SPLAT16(0.0f);
  for (int32_t b = begin; b < end; ++b) {
    vf16 w = LOAD16(p->values + (int64_t)b * TFC_SPARSE_PANEL);
    const float *column = input + p->ks[b];
    UNROLL for (int r = 0; r < R; ++r)
      acc[r] += w * column[r * p->input_row];
  }
  if (partial_out) {
    UNROLL for (int r = 0; r < R; ++r)
      STORE16(partial_out + 16 * r, acc[r]);
    return;
  }
  int64_t col0 = panel * TFC_SPARSE_PANEL;
  int64_t width = p->cols - col0 < TFC_SPARSE_PANEL ? p->cols - col0
                                                    : TFC_SPARSE_PANEL;
  /* The epilogue: a full panel in vectors, the last narrow one by lanes. */
  vf16 bias = SPLAT16(0.0f);
  if (p->bias) {
    if (width == TFC_SPARSE_PANEL) {
      bias = LOAD16(p->bias + col0);
    } else {
      float lanes[TFC_SPARSE_PANEL] = {0};
      for (int64_t j = 0; j < width; ++j)
        lanes[j] = p->bias[col0 + j];
      bias = LOAD16(lanes);
    }
  }
  UNROLL for (int r = 0; r < R; ++r) {
    vf16 v = ACTIVATE16(acc[r] + bias, p->activation);
    float *row = out + r * p->out_row + col0;
    const float *res = residual ? residual + r * p->residual_row + col0 : NULL;
    if (width == TFC_SPARSE_PANEL) {
      if (res)
        v += LOAD16(res);
      STORE16(row, v);
      continue;
    }
    float lanes[TFC_SPARSE_PANEL];
    STORE16(lanes, v);
    for (int64_t j = 0; j < width; ++j)
      row[j] = res ? lanes[j] + res[j] : lanes[j];
  }
}

/* A tile of `rows` rows, TILE or fewer, each count its own compiled copy. */
static void tile_rows(const sparse_problem *p, const float *input, float *out,
                      const float *residual, int64_t panel, int32_t begin,
                      int32_t end, const float *partial, float *partial_out,
                      int64_t rows) {
  switch (rows) {
#if TILE > 4
  case 8: panel_tile(p, input, out, residual, panel, begin, end, partial, partial_out, 8); break;
  case 7: panel_tile(p, input, out, residual, panel, begin, end, partial, partial_out, 7); break;
  case 6: panel_tile(p, input, out, residual, panel, begin, end, partial, partial_out, 6); break;
  case 5: panel_tile(p, input, out, residual, panel, begin, end, partial, partial_out, 5); break;
#endif
  case 4: panel_tile(p, input, out, residual, panel, begin, end, partial, partial_out, 4); break;
  case 3: panel_tile(p, input, out, residual, panel, begin, end, partial, partial_out, 3); break;
  case 2: panel_tile(p, input, out, residual, panel, begin, end, partial, partial_out, 2); break;
  default: panel_tile(p, input, out, residual, panel, begin, end, partial, partial_out, 1); break;
  }
}

/* The input rows a tile reads from L1: 8 rows of 1024 floats (32 KB). A
 * deeper input is taken in slices of that many k where a group has 8
 * panels or more, each slice's sums of every panel of the group kept on
 * the stack (SLICED_PANELS at most) until the last slice's epilogue. On
 * 3072 x 768, one thread: at 90% (13 panels a group) 0.63 -> 0.59 ms; at
 * 80% (6) no gain, at 30% (1) 2.87 -> 3.38 ms, so smaller groups take the
 * whole depth. */
enum { SLICE_FLOATS = 8 * 1024, SLICED_MIN_PANELS = 8, SLICED_PANELS = 64 };
/* The packed weights of a group of panels that the tiles of rows pass over
 * in turn: what stays in L2 while they do. Tiles outer over the whole task
 * (a group of any size) lost to panels outer below 50% zero blocks (10%:
 * 0.57-0.67x the dense kernel against 0.82-0.85x), where the task's
 * weights streamed from L3 for every tile. */
enum { GROUP_BYTES = 256 * 1024 };

/* Tiles of rows [row_begin, row_end) of batch `batch` by panels
 * [panel0, panel_end). */
static void panel_group(const sparse_problem *p, int64_t batch,
                        int64_t row_begin, int64_t row_end, int64_t panel0,
                        int64_t panel_end) {
  const int64_t slice = SLICE_FLOATS / TILE;
  const int sliced = p->depth > slice && panel_end - panel0 >= SLICED_MIN_PANELS &&
                     panel_end - panel0 <= SLICED_PANELS;
  float partials[SLICED_PANELS][TILE * TFC_SPARSE_PANEL] __attribute__((aligned(64)));
  int32_t cursor[SLICED_PANELS];
  for (int64_t row = row_begin; row < row_end; row += TILE) {
    const float *input = p->input + batch * p->input_batch + row * p->input_row;
    float *out = p->out + batch * p->out_batch + row * p->out_row;
    const float *residual =
        p->residual ? p->residual + batch * p->residual_batch + row * p->residual_row
                    : NULL;
    int64_t rows = row_end - row < TILE ? row_end - row : TILE;
    if (!sliced) {
      for (int64_t panel = panel0; panel < panel_end; ++panel)
        tile_rows(p, input, out, residual, panel, p->first[panel],
                  p->first[panel + 1], NULL, NULL, rows);
      continue;
    }
    for (int64_t panel = panel0; panel < panel_end; ++panel)
      cursor[panel - panel0] = p->first[panel];
    for (int64_t k0 = 0; k0 < p->depth; k0 += slice) {
      const int last = k0 + slice >= p->depth;
      for (int64_t panel = panel0; panel < panel_end; ++panel) {
        /* The panel's blocks in [k0, k0 + slice): ks ascend in a panel. */
        int32_t from = cursor[panel - panel0], to = from;
        while (to < p->first[panel + 1] && p->ks[to] < k0 + slice)
          ++to;
        cursor[panel - panel0] = to;
        float *partial = partials[panel - panel0];
        tile_rows(p, input, out, residual, panel, from, to,
                  k0 ? partial : NULL, last ? NULL : partial, rows);
      }
    }
  }
}

void TFC_KERNEL_FN(tfc_kernel_linear_sparse_f32_tasks)(
    const sparse_problem *p, int64_t begin, int64_t end) {
  const int64_t group_blocks =
      GROUP_BYTES / (TFC_SPARSE_PANEL * (int64_t)sizeof(float));
  for (int64_t task = begin; task < end; ++task) {
    int64_t panel_task = task % p->panel_tasks;
    int64_t rest = task / p->panel_tasks;
    int64_t row_block = rest % p->row_blocks, batch = rest / p->row_blocks;
    int64_t row_begin = row_block * p->row_block;
    int64_t row_end = row_begin + p->row_block < p->rows ? row_begin + p->row_block
                                                          : p->rows;
    /* Groups of panels whose weights fit GROUP_BYTES (one panel at
     * least, SLICED_PANELS at most); each group's tiles of rows go past
     * all its panels, the tile's input rows staying in L1 (panels outer,
     * every broadcast came from L2: 768 x 3072 at 80% took 1.02 ms, now
     * 0.94). */
    for (int64_t panel0 = p->task_panels[panel_task];
         panel0 < p->task_panels[panel_task + 1];) {
      int64_t panel_end = panel0 + 1;
      while (panel_end < p->task_panels[panel_task + 1] &&
             panel_end - panel0 < SLICED_PANELS &&
             p->first[panel_end + 1] - p->first[panel0] <= group_blocks)
        ++panel_end;
      panel_group(p, batch, row_begin, row_end, panel0, panel_end);
      panel0 = panel_end;
    }
  }
}
