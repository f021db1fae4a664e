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
 * leaves uneven.
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

/* The output of `rows` (TILE or fewer) rows of one panel. */
static inline __attribute__((always_inline)) void
panel_tile(const sparse_problem *p, const float *input, float *out,
           const float *residual, int64_t panel, const int R) {
  vf16 acc[TILE];
  UNROLL for (int r = 0; r < R; ++r)
    acc[r] = SPLAT16(0.0f);
  for (int32_t b = p->first[panel]; b < p->first[panel + 1]; ++b) {
    vf16 w = LOAD16(p->values + (int64_t)b * TFC_SPARSE_PANEL);
    const float *column = input + p->ks[b];
    UNROLL for (int r = 0; r < R; ++r)
      acc[r] += w * column[r * p->input_row];
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

void TFC_KERNEL_FN(tfc_kernel_linear_sparse_f32_tasks)(
    const sparse_problem *p, int64_t begin, int64_t end) {
  for (int64_t task = begin; task < end; ++task) {
    int64_t panel_task = task % p->panel_tasks;
    int64_t rest = task / p->panel_tasks;
    int64_t row_block = rest % p->row_blocks, batch = rest / p->row_blocks;
    int64_t row_begin = row_block * p->row_block;
    int64_t row_end = row_begin + p->row_block < p->rows ? row_begin + p->row_block
                                                          : p->rows;
    for (int64_t panel = p->task_panels[panel_task];
         panel < p->task_panels[panel_task + 1]; ++panel)
      for (int64_t row = row_begin; row < row_end; row += TILE) {
        const float *input = p->input + batch * p->input_batch + row * p->input_row;
        float *out = p->out + batch * p->out_batch + row * p->out_row;
        const float *residual =
            p->residual ? p->residual + batch * p->residual_batch + row * p->residual_row
                        : NULL;
        int64_t rows = row_end - row < TILE ? row_end - row : TILE;
        switch (rows) {
#if TILE > 4
        case 8: panel_tile(p, input, out, residual, panel, 8); break;
        case 7: panel_tile(p, input, out, residual, panel, 7); break;
        case 6: panel_tile(p, input, out, residual, panel, 6); break;
        case 5: panel_tile(p, input, out, residual, panel, 5); break;
#endif
        case 4: panel_tile(p, input, out, residual, panel, 4); break;
        case 3: panel_tile(p, input, out, residual, panel, 3); break;
        case 2: panel_tile(p, input, out, residual, panel, 2); break;
        default: panel_tile(p, input, out, residual, panel, 1); break;
        }
      }
  }
}
