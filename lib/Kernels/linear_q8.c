/*===- linear_q8.c - the int8 matmul kernel behind tfm.quantized_linear -*- C -*-===*
 *
 * out = act(dequant(quant(input) @ W) + bias) + residual, W int8 with a
 * scale per column, the input quantized to 8 bits as the call runs. Two
 * phases:
 *
 * 1. Quantize: each row of the input (f32) becomes 8-bit integers in the
 *    workspace, with its scale and zero point (per row, or one for the
 *    tensor: tfc_abi.h's TFC_RT_Q8_INPUT_*). This is the packing of the
 *    kernel's input: the rows are written once, in the layout the product
 *    reads (groups of 4 bytes broadcast to every lane), so nothing else
 *    copies them. The first task of a block of rows does it for the block,
 *    and tasks of that block on other threads wait (a separate pass over
 *    the thread pool cost 5-10% of a 768x768 product at 128 rows).
 * 2. Multiply: tasks as the f32 kernel's (a block of up to BLOCK_M rows by
 *    a group of panels). A tile of R rows x PANEL columns sums 32-bit
 *    products over the whole depth in registers, then the epilogue turns
 *    each sum into floats and adds bias, activation and residual.
 *
 * Two dot products, by the packing the compiler chose for the target:
 *
 *   U8S8  vpdpbusd (AVX512-VNNI on zmm, AVX-VNNI on ymm): 4 products of u8
 *         activations by s8 weights per 32-bit lane per instruction. The
 *         activations are stored as u8 with zero point za (128 for the
 *         symmetric modes), so the sum is corrected in the epilogue:
 *           sum (a - za)(w - zw) = acc - za colsum(w) - zw (rowsum(a) - K za)
 *         (column sums precomputed, row sums taken while quantizing).
 *   S16   vpmaddwd, for CPUs without VNNI: 2 products of s16 per lane,
 *         both operands widened to s16 with their zero points subtracted
 *         (activations while quantizing, weights at compile time), so the
 *         sum needs no correction and nothing saturates. vpmaddubsw would
 *         take 4 products of u8 x s8 but saturates at 16 bits (2 x 255 x
 *         127 > 32767); s16 is exact and as fast per instruction pair.
 *
 * With AMX (TFC_RT_FEATURE_AMX, amx.h), U8S8 blocks of 32 and 16 rows of
 * a panel are tdpbusd tile products instead, on the same packing and with
 * the same epilogue; the rows left go to the vector tiles.
 *
 * Tiles: AVX-512 12 x 32 (24 accumulators, two weight registers and a
 * broadcast of 32 zmm), AVX2 6 x 16 (12 of 16 ymm), as the f32 kernel.
 * The depth is not sliced: a panel's weights (K x 32 bytes for U8S8, 96 KB
 * at K = 3072) stay in L2 while the block's tiles pass over them, and
 * 32-bit sums cannot overflow below TFC_RT_Q8_MAX_DEPTH.
 *
 *===----------------------------------------------------------------------===*/

#include "activations.h"
#include "amx.h"
#include "kernels.h"
#include "q8_kernels.h"
#include "row_blocks.h"
#include "tfc/runtime/tfc_abi.h"
#include "vector_ops.h"

#include <math.h>
#include <string.h>

typedef tfc_linear_q8_problem q8_problem;

/* x scaled (x / scale when dividing, as ONNX's QuantizeLinear and ONNX
 * Runtime do, else x * inverse) and rounded half to even, within int32
 * (inf and the quotients of a scale of 0 clamp; NaN becomes a bound). */
#define QUANT_LIMIT 1073741824.0f
#define ROUND_SCALED16(x, divide, scale, inverse)                              \
  __builtin_convertvector(                                                     \
      __builtin_elementwise_roundeven(__builtin_elementwise_min(               \
          __builtin_elementwise_max((divide) ? (x) / (scale) : (x) * (inverse), \
                                    SPLAT16(-QUANT_LIMIT)),                    \
          SPLAT16(QUANT_LIMIT))),                                              \
      vi16)
static inline int32_t round_scaled(float x, int divide, float scale,
                                   float inverse) {
  float scaled = divide ? x / scale : x * inverse;
  return (int32_t)nearbyintf(fminf(fmaxf(scaled, -QUANT_LIMIT), QUANT_LIMIT));
}
typedef uint8_t vu8x16 __attribute__((vector_size(16), aligned(1)));
typedef int16_t vi16x16 __attribute__((vector_size(32), aligned(2)));

/* The tile: AVX-512 12 x 32, AVX2 and NEON 6 x 16 (see the top). */
#if defined(__AVX512F__)
enum { PANEL = TFC_RT_LINEAR_PANEL_AVX512, TILE_ROWS = 12 };
#elif defined(__AVX2__)
enum { PANEL = TFC_RT_LINEAR_PANEL_AVX2, TILE_ROWS = 6 };
#else
enum { PANEL = TFC_RT_LINEAR_PANEL_NEON, TILE_ROWS = 6 };
#endif
enum {
  LANES = sizeof(vint) / 4,         /* 32-bit sums per register */
  PANEL_VECTORS = PANEL / LANES,    /* registers per row of a tile: 2 */
  GROUP_BYTES = PANEL * 4,          /* a group of k of a panel: 4 bytes a column */
  /* The most rows of one product's sums: an AMX block, or a vector tile. */
  SUM_ROWS = AMX_BLOCK_ROWS > TILE_ROWS ? AMX_BLOCK_ROWS : TILE_ROWS,
};
_Static_assert(PANEL_VECTORS == 2 && PANEL % 16 == 0, "a tile row is two registers");

/* ------------------------------------------------------------------------ */
/* Phase 1: quantizing the input rows.                                      */
/* ------------------------------------------------------------------------ */

static const float *input_row(const q8_problem *p, int64_t r) {
  return p->input + (r / p->rows) * p->input_batch + (r % p->rows) * p->input_row;
}

void TFC_KERNEL_FN(tfc_kernel_linear_q8_range)(const q8_problem *p,
                                               int64_t begin, int64_t end,
                                               float range[2]) {
  vf16 low = SPLAT16(INFINITY), high = SPLAT16(-INFINITY);
  float low1 = INFINITY, high1 = -INFINITY;
  for (int64_t r = begin; r < end; ++r) {
    const float *x = input_row(p, r);
    int64_t k = 0;
    for (; k + 16 <= p->depth; k += 16) {
      vf16 v = LOAD16(x + k);
      low = __builtin_elementwise_min(low, v);
      high = __builtin_elementwise_max(high, v);
    }
    for (; k < p->depth; ++k) {
      low1 = fminf(low1, x[k]);
      high1 = fmaxf(high1, x[k]);
    }
  }
  for (int j = 0; j < 16; ++j) {
    low1 = fminf(low1, low[j]);
    high1 = fmaxf(high1, high[j]);
  }
  range[0] = low1;
  range[1] = high1;
}

/* The largest |x| of a row (0 for NaN-free rows of zeros). */
static float row_absmax(const float *x, int64_t depth) {
  vi16 high = {0};
  int32_t high1 = 0;
  int64_t k = 0;
  /* Non-negative floats order as their bits do. */
  for (; k + 16 <= depth; k += 16)
    high = __builtin_elementwise_max(
        high, (vi16)__builtin_elementwise_abs(LOAD16(x + k)));
  for (; k < depth; ++k) {
    float a = fabsf(x[k]);
    int32_t bits;
    memcpy(&bits, &a, sizeof(bits));
    high1 = bits > high1 ? bits : high1;
  }
  int32_t most = __builtin_reduce_max(high);
  most = most > high1 ? most : high1;
  float result;
  memcpy(&result, &most, sizeof(result));
  return result;
}

/* One row: q = clamp(round(x / scale) + zero, low, high) (x * inverse
 * unless `divide`), stored as q + shift (u8 for U8S8: shift 128 for signed
 * q) or as q - zero (s16); returns the sum of the stored u8 values (U8S8's
 * row sum). */
static int32_t quantize_row(const q8_problem *p, const float *x, uint8_t *out,
                            int divide, float scale, float inverse,
                            int32_t zero, int32_t low, int32_t high,
                            int32_t shift) {
  int64_t k = 0;
  int32_t sum = 0;
  if (p->dot == TFC_RT_DTYPE_U8S8S32) {
    vi16 sums = {0};
    for (; k + 16 <= p->depth; k += 16) {
      vi16 q = ROUND_SCALED16(LOAD16(x + k), divide, scale, inverse) + zero;
      q = __builtin_elementwise_min(__builtin_elementwise_max(q, (vi16){0} + low), (vi16){0} + high) + shift;
      sums += q;
      *(vu8x16 *)(out + k) = __builtin_convertvector(q, vu8x16);
    }
    sum = __builtin_reduce_add(sums);
    for (; k < p->depth; ++k) {
      int32_t q = round_scaled(x[k], divide, scale, inverse) + zero;
      q = (q < low ? low : q > high ? high : q) + shift;
      sum += q;
      out[k] = (uint8_t)q;
    }
    /* The depth's padding to whole groups multiplies zero weights. */
    memset(out + p->depth, 0, (size_t)(p->groups * 4 - p->depth));
    return sum;
  }
  int16_t *wide = (int16_t *)out;
  for (; k + 16 <= p->depth; k += 16) {
    vi16 q = ROUND_SCALED16(LOAD16(x + k), divide, scale, inverse) + zero;
    q = __builtin_elementwise_min(__builtin_elementwise_max(q, (vi16){0} + low), (vi16){0} + high) - zero;
    *(vi16x16 *)(wide + k) = __builtin_convertvector(q, vi16x16);
  }
  for (; k < p->depth; ++k) {
    int32_t q = round_scaled(x[k], divide, scale, inverse) + zero;
    wide[k] = (int16_t)((q < low ? low : q > high ? high : q) - zero);
  }
  memset(wide + p->depth, 0, sizeof(int16_t) * (size_t)(p->groups * 2 - p->depth));
  return 0;
}

/* Rows [begin, end) of all batches into p->quantized. A value whose
 * scaled magnitude passes 2^31 (inf, or a scale of 0 in STATIC mode) is
 * clamped; NaN quantizes to an unspecified value, as in ONNX. */
void TFC_KERNEL_FN(tfc_kernel_linear_q8_quantize)(const q8_problem *p,
                                                  int64_t begin, int64_t end) {
  for (int64_t r = begin; r < end; ++r) {
    const float *x = input_row(p, r);
    uint8_t *out = p->quantized + r * p->row_bytes;
    float scale, inverse;
    int32_t zero, low, high, shift;
    /* The row mode is tfc's own: a multiply by the reciprocal. The others
     * are ONNX's, which divides. */
    int divide = p->input_mode != TFC_RT_Q8_INPUT_ROW;
    if (!divide) {
      /* Symmetric: q in [-127, 127]. */
      float most = row_absmax(x, p->depth);
      scale = most > 0.0f && most < INFINITY ? most / 127.0f : 1.0f;
      inverse = 127.0f / (most > 0.0f && most < INFINITY ? most : 127.0f);
      zero = 0, low = -127, high = 127;
      shift = 128;
    } else {
      scale = p->input_scale;
      inverse = 0.0f; /* unused: these modes divide */
      zero = p->input_zero;
      low = p->input_signed ? -128 : 0;
      high = p->input_signed ? 127 : 255;
      shift = p->input_signed ? 128 : 0;
    }
    p->row_sum[r] =
        quantize_row(p, x, out, divide, scale, inverse, zero, low, high, shift);
    p->row_scale[r] = scale;
    /* The zero point of what is stored: U8S8 stores q + shift; S16 has
     * subtracted it already. */
    p->row_zero[r] = p->dot == TFC_RT_DTYPE_U8S8S32 ? zero + shift : 0;
  }
}

static void quantize_rows(const void *p, int64_t begin, int64_t end) {
  TFC_KERNEL_FN(tfc_kernel_linear_q8_quantize)(p, begin, end);
}

/* ------------------------------------------------------------------------ */
/* Phase 2: the product.                                                    */
/* ------------------------------------------------------------------------ */

/* The sums of one tile, R (a compile-time constant once inlined) rows of
 * quantized input (row r at a + r * a_row) by a panel's groups of weights:
 * sums[R][PANEL]. With `prefetch`, each step also prefetches the same step
 * of the panel that comes next (the weights stream from memory: a model's
 * int8 weights are tens of MB), so the next panel's first tile finds them
 * in cache. */
#define TILE_PRODUCT(NAME, TARGET, DOT)                                        \
  static inline __attribute__((always_inline)) TARGET void NAME(               \
      const uint8_t *a, int64_t a_row, const int8_t *w, int64_t groups,        \
      int32_t *sums, const int R, const int8_t *prefetch) {                    \
    vint acc[12][PANEL_VECTORS];                                               \
    UNROLL for (int r = 0; r < R; ++r)                                         \
      UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)                           \
        acc[r][x] = VINT_ZERO();                                               \
    for (int64_t g = 0; g < groups; ++g) {                                     \
      if (prefetch)                                                            \
        UNROLL for (int line = 0; line < GROUP_BYTES / 64; ++line)             \
          __builtin_prefetch(prefetch + g * GROUP_BYTES + 64 * line, 0, 3);    \
      vint w0 = VINT_LOAD(w + g * GROUP_BYTES);                                \
      vint w1 = VINT_LOAD(w + g * GROUP_BYTES + sizeof(vint));                 \
      UNROLL for (int r = 0; r < R; ++r) {                                     \
        vint ar = VINT_BROADCAST32(a + r * a_row + 4 * g);                     \
        acc[r][0] = DOT(acc[r][0], ar, w0);                                    \
        acc[r][1] = DOT(acc[r][1], ar, w1);                                    \
      }                                                                        \
    }                                                                          \
    UNROLL for (int r = 0; r < R; ++r)                                         \
      UNROLL for (int x = 0; x < PANEL_VECTORS; ++x)                           \
        VINT_STORE(sums + r * PANEL + LANES * x, acc[r][x]);                   \
  }
#if HAVE_U8S8
TILE_PRODUCT(tile_u8s8, VNNI_TARGET, VINT_DPBUSD)
#endif
TILE_PRODUCT(tile_s16, , VINT_MADD16)
#undef TILE_PRODUCT

/* A tile of `rows` rows, R or fewer, each count its own compiled copy. */
#define TILE_ROWS_DISPATCH(NAME, TARGET, TILE)                                 \
  static TARGET void NAME(const uint8_t *a, int64_t a_row, const int8_t *w,    \
                          int64_t groups, int32_t *sums, int64_t rows,         \
                          const int8_t *next) {                                \
    switch (rows) {                                                            \
    case 1: TILE(a, a_row, w, groups, sums, 1, next); return;                  \
    case 2: TILE(a, a_row, w, groups, sums, 2, next); return;                  \
    case 3: TILE(a, a_row, w, groups, sums, 3, next); return;                  \
    case 4: TILE(a, a_row, w, groups, sums, 4, next); return;                  \
    case 5: TILE(a, a_row, w, groups, sums, 5, next); return;                  \
    case 6: TILE(a, a_row, w, groups, sums, 6, next); return;                  \
    }                                                                          \
    if (TILE_ROWS == 12)                                                       \
      switch (rows) {                                                          \
      case 7: TILE(a, a_row, w, groups, sums, 7, next); return;                \
      case 8: TILE(a, a_row, w, groups, sums, 8, next); return;                \
      case 9: TILE(a, a_row, w, groups, sums, 9, next); return;                \
      case 10: TILE(a, a_row, w, groups, sums, 10, next); return;              \
      case 11: TILE(a, a_row, w, groups, sums, 11, next); return;              \
      case 12: TILE(a, a_row, w, groups, sums, TILE_ROWS, next); return;       \
      }                                                                        \
  }
#if HAVE_U8S8
TILE_ROWS_DISPATCH(tile_rows_u8s8, VNNI_TARGET, tile_u8s8)
#endif
TILE_ROWS_DISPATCH(tile_rows_s16, , tile_s16)
#undef TILE_ROWS_DISPATCH

#if HAVE_AMX
/* U8S8 with AMX: blocks of 32 or 16 rows by a panel as tdpbusd tile
 * products (amx.h), the same sums as the vector tiles'. */
_Static_assert(PANEL == 32, "an AMX product is one panel of 32 columns");
AMX_PRODUCT(amx_product, _tile_dpbusd)
static AMX_TARGET void amx_rows(const uint8_t *a, int64_t a_row,
                                const int8_t *w, int64_t groups, int32_t *sums,
                                int64_t rows, const int8_t *next) {
  if (rows == AMX_BLOCK_ROWS)
    amx_product(a, a_row, w, GROUP_BYTES, groups, sums, GROUP_BYTES, 2, 0, next);
  else
    amx_product(a, a_row, w, GROUP_BYTES, groups, sums, GROUP_BYTES, 1, 0, next);
}
#endif

/* Task `task`'s batch, rows and group of panels (row_blocks.h): the
 * threads start on different blocks, so that each quantizes its own rather
 * than waiting for the other's, and a thread's next task often reads the
 * panels it has in cache. */
static linear_task task_place(const q8_problem *p, int64_t task) {
  return place_linear_task(task, p->rows, p->row_tiles, p->row_blocks,
                           p->block_span, p->row_groups, p->panel_groups);
}

/* The first panel of task `task`, or NULL past the tasks. */
static const int8_t *first_panel(const q8_problem *p, int64_t task) {
  if (task >= p->tasks)
    return NULL;
  linear_task t = task_place(p, task);
  return p->packed + t.group * p->panels / p->panel_groups * p->groups * GROUP_BYTES;
}

/* Runs task `task` (a block of rows by a group of panels) and returns the
 * task this thread claims next: claimed as the last panel starts, so that
 * its first panel is prefetched too. */
int64_t TFC_KERNEL_FN(tfc_kernel_linear_q8_task)(q8_problem *p, int64_t task) {
  linear_task t = task_place(p, task);
  const int64_t batch = t.batch, row0 = t.row0, row_end = t.row_end;
  /* The task's rows quantized: by this task, or by the one that got there
   * first (which is running, so the wait ends). */
  convert_task_blocks(&t, task, p->block_state + batch * p->row_blocks,
                      quantize_rows, p, p->rows, p->row_tiles, p->row_blocks);
  int64_t panel0 = t.group * p->panels / p->panel_groups;
  int64_t panel_end = (t.group + 1) * p->panels / p->panel_groups;
  int32_t sums[SUM_ROWS * PANEL] __attribute__((aligned(64)));
  float bias[PANEL] __attribute__((aligned(64)));
  int64_t claimed = -1;
#if HAVE_AMX
  if (p->amx)
    amx_begin();
#endif
  for (int64_t panel = panel0; panel < panel_end; ++panel) {
    const int8_t *next;
    if (panel + 1 < panel_end) {
      next = p->packed + (panel + 1) * p->groups * GROUP_BYTES;
    } else {
      claimed = atomic_fetch_add(&p->next_task, 1);
      next = first_panel(p, claimed);
    }
    const int64_t col0 = panel * PANEL;
    const int64_t cols = p->cols - col0 < PANEL ? p->cols - col0 : PANEL;
    memset(bias, 0, sizeof(bias));
    if (p->bias)
      memcpy(bias, p->bias + col0, sizeof(float) * (size_t)cols);
    const int8_t *w = p->packed + panel * p->groups * GROUP_BYTES;
    int64_t row = row0;
#if HAVE_AMX
    /* Blocks of 32 rows, then one of 16, as tile products. */
    for (; p->amx && row_end - row >= AMX_BLOCK_ROWS / 2;) {
      int64_t rows = row_end - row >= AMX_BLOCK_ROWS ? AMX_BLOCK_ROWS
                                                      : AMX_BLOCK_ROWS / 2;
      int64_t global = batch * p->rows + row;
      amx_rows(p->quantized + global * p->row_bytes, p->row_bytes, w, p->groups,
               sums, rows, row == row0 ? next : NULL);
      q8_tile_epilogue(p, sums, PANEL, global, rows, batch, row, col0, cols,
                       p->bias ? bias : NULL);
      row += rows;
    }
#endif
    for (; row < row_end; row += TILE_ROWS) {
      int64_t rows = row_end - row < TILE_ROWS ? row_end - row : TILE_ROWS;
      int64_t global = batch * p->rows + row;
      const uint8_t *a = p->quantized + global * p->row_bytes;
      /* The first tile of a panel prefetches the next panel. */
      const int8_t *prefetch = row == row0 ? next : NULL;
#if HAVE_U8S8
      if (p->dot == TFC_RT_DTYPE_U8S8S32)
        tile_rows_u8s8(a, p->row_bytes, w, p->groups, sums, rows, prefetch);
      else
#endif
        tile_rows_s16(a, p->row_bytes, w, p->groups, sums, rows, prefetch);
      q8_tile_epilogue(p, sums, PANEL, global, rows, batch, row, col0, cols,
                       p->bias ? bias : NULL);
    }
  }
#if HAVE_AMX
  if (p->amx)
    amx_end();
#endif
  return claimed;
}
