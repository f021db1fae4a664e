/*===- linear_sparse_q8.c - tfm.quantized_linear by a block-sparse weight -*- C -*-===*
 *
 * The int8 counterpart of linear_sparse_f32.c. A weight pruned in blocks
 * of 4 input rows by 16 output columns and then quantized (a pruned block
 * stores zeros) is packed by the compiler as panels of 16 output columns,
 * each holding only its nonzero blocks: 4 rows of 16 columns as vpdpbusd
 * reads them, and the block's first input row k. The input is quantized
 * first, exactly as the dense int8 kernel does it (linear_q8.c's
 * tfc_kernel_linear_q8_quantize, by the runtime), so a block's product for
 * a row is one 4-byte broadcast of the row's quantized k..k+3 and one dot
 * product into the row's 16 sums:
 *
 *   U8S8  one vpdpbusd per block and row (AVX512-VNNI: one zmm of sums;
 *         AVX-VNNI: two ymm);
 *   S16   two vpmaddwd (the block as two groups of 2 k widened to s16).
 *
 * A skipped block adds nothing to the sums, so the dense kernel's
 * zero-point corrections (the column sums of the stored weights, taken
 * over all of K) hold unchanged, and the epilogue is the dense one's
 * (q8_kernels.h). Tasks are ranges of panels of about equal nonzeros times
 * blocks of rows, as for f32.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels.h"
#include "q8_kernels.h"

typedef tfc_linear_sparse_q8_problem sparse_q8_problem;

enum {
  PANEL = TFC_SPARSE_PANEL,
  PANEL_VECTORS = PANEL / VINT_LANES, /* 1 AVX-512, 2 AVX2 and NEON */
  GROUP_BYTES = PANEL * 4,            /* 4 bytes a column: 4 u8 or 2 s16 */
};
_Static_assert(TFC_SPARSE_Q8_DEPTH == 4, "a block is one group of vpdpbusd");
/* The packed blocks of a group of panels the tiles of rows pass over in
 * turn: what stays in L2 while they do. */
enum { GROUP_WEIGHT_BYTES = 256 * 1024 };

/* Rows per tile: as many as keep every sum and a block's weights in
 * registers (AVX-512 8 zmm of sums, AVX2 6 x 2 ymm, NEON 4 x 4 q). */
#if defined(__AVX512F__)
#define TILE 8
#elif defined(__AVX2__)
#define TILE 6
#else
#define TILE 4
#endif

/* The sums of one tile of R rows (quantized row r at a + r * a_row) by one
 * panel's blocks: sums[R][PANEL]. `k_bytes` is the bytes of a quantized
 * k (1 for U8S8, 2 for S16) and `steps` the groups per block (1 or 2). */
#define SPARSE_TILE(NAME, TARGET, DOT, k_bytes, steps)                         \
  static inline __attribute__((always_inline)) TARGET void NAME(               \
      const sparse_q8_problem *p, const uint8_t *a, int64_t a_row,             \
      int64_t panel, int32_t *sums, const int R) {                             \
    vint acc[TILE][PANEL_VECTORS];                                             \
    UNROLL for (int r = 0; r < R; ++r)                                         \
      UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)                           \
        acc[r][x] = VINT_ZERO();                                               \
    for (int32_t b = p->first[panel]; b < p->first[panel + 1]; ++b) {          \
      const int8_t *w = p->values + (int64_t)b * (steps) * GROUP_BYTES;        \
      const uint8_t *column = a + (int64_t)p->ks[b] * (k_bytes);               \
      UNROLL for (int s = 0; s < (steps); ++s) {                               \
        vint wv[PANEL_VECTORS];                                                \
        UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)                         \
          wv[x] = VINT_LOAD(w + s * GROUP_BYTES + x * (int)sizeof(vint));      \
        UNROLL for (int r = 0; r < R; ++r) {                                   \
          vint ar = VINT_BROADCAST32(column + r * a_row + 4 * s);              \
          UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)                       \
            acc[r][x] = DOT(acc[r][x], ar, wv[x]);                             \
        }                                                                      \
      }                                                                        \
    }                                                                          \
    UNROLL for (int r = 0; r < R; ++r)                                         \
      UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)                           \
        VINT_STORE(sums + r * PANEL + VINT_LANES * x, acc[r][x]);              \
  }
#if HAVE_U8S8
SPARSE_TILE(tile_u8s8, VNNI_TARGET, VINT_DPBUSD, 1, 1)
#endif
SPARSE_TILE(tile_s16, , VINT_MADD16, 2, 2)
#undef SPARSE_TILE

/* A tile of `rows` rows, TILE or fewer, each count its own compiled copy. */
#define SPARSE_TILE_ROWS(NAME, TARGET, TILE_FN)                                \
  static TARGET void NAME(const sparse_q8_problem *p, const uint8_t *a,        \
                          int64_t a_row, int64_t panel, int32_t *sums,         \
                          int64_t rows) {                                      \
    switch (rows) {                                                            \
    case 1: TILE_FN(p, a, a_row, panel, sums, 1); return;                      \
    case 2: TILE_FN(p, a, a_row, panel, sums, 2); return;                      \
    case 3: TILE_FN(p, a, a_row, panel, sums, 3); return;                      \
    case 4: TILE_FN(p, a, a_row, panel, sums, 4); return;                      \
    }                                                                          \
    if (TILE >= 6)                                                             \
      switch (rows) {                                                          \
      case 5: TILE_FN(p, a, a_row, panel, sums, 5); return;                    \
      case 6: TILE_FN(p, a, a_row, panel, sums, 6); return;                    \
      }                                                                        \
    if (TILE >= 8)                                                             \
      switch (rows) {                                                          \
      case 7: TILE_FN(p, a, a_row, panel, sums, 7); return;                    \
      case 8: TILE_FN(p, a, a_row, panel, sums, TILE); return;                 \
      }                                                                        \
  }
#if HAVE_U8S8
SPARSE_TILE_ROWS(tile_rows_u8s8, VNNI_TARGET, tile_u8s8)
#endif
SPARSE_TILE_ROWS(tile_rows_s16, , tile_s16)
#undef SPARSE_TILE_ROWS

void TFC_KERNEL_FN(tfc_kernel_linear_sparse_q8_tasks)(const sparse_q8_problem *p,
                                                      int64_t begin, int64_t end) {
  const tfc_linear_q8_problem *q8 = p->q8;
  const int64_t block_bytes =
      (q8->dot == TFC_RT_DTYPE_U8S8S32 ? 1 : 2) * GROUP_BYTES;
  int32_t sums[TILE * PANEL] __attribute__((aligned(64)));
  float bias[PANEL] __attribute__((aligned(64)));
  for (int64_t task = begin; task < end; ++task) {
    int64_t panel_task = task % p->panel_tasks;
    int64_t rest = task / p->panel_tasks;
    int64_t row_block = rest % p->row_blocks, batch = rest / p->row_blocks;
    int64_t row_begin = row_block * p->row_block;
    int64_t row_end = row_begin + p->row_block < q8->rows
                          ? row_begin + p->row_block
                          : q8->rows;
    /* Panels in groups whose blocks fit GROUP_WEIGHT_BYTES (L2), each
     * tile of rows past all of a group's panels, so that the tile's
     * quantized rows stay in L1 (as linear_sparse_f32.c). */
    for (int64_t panel0 = p->task_panels[panel_task];
         panel0 < p->task_panels[panel_task + 1];) {
      int64_t panel_end = panel0 + 1;
      while (panel_end < p->task_panels[panel_task + 1] &&
             (int64_t)(p->first[panel_end + 1] - p->first[panel0]) * block_bytes <=
                 GROUP_WEIGHT_BYTES)
        ++panel_end;
      for (int64_t row = row_begin; row < row_end; row += TILE) {
        int64_t rows = row_end - row < TILE ? row_end - row : TILE;
        int64_t global = batch * q8->rows + row;
        const uint8_t *a = q8->quantized + global * q8->row_bytes;
        for (int64_t panel = panel0; panel < panel_end; ++panel) {
          const int64_t col0 = panel * PANEL;
          const int64_t cols = q8->cols - col0 < PANEL ? q8->cols - col0 : PANEL;
          memset(bias, 0, sizeof(bias));
          if (q8->bias)
            memcpy(bias, q8->bias + col0, sizeof(float) * (size_t)cols);
#if HAVE_U8S8
          if (q8->dot == TFC_RT_DTYPE_U8S8S32)
            tile_rows_u8s8(p, a, q8->row_bytes, panel, sums, rows);
          else
#endif
            tile_rows_s16(p, a, q8->row_bytes, panel, sums, rows);
          q8_tile_epilogue(q8, sums, PANEL, global, rows, batch, row, col0, cols,
                           q8->bias ? bias : NULL);
        }
      }
      panel0 = panel_end;
    }
  }
}
