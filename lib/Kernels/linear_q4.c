/*===- linear_q4.c - the int4 weight-only matmul kernel -----------*- C -*-===*
 *
 * tfm.quantized_linear with 4-bit weights in groups of G rows (tfc compile
 * --quantize=int4, ONNX Runtime's MatMulNBits): out = act(input @ W +
 * bias) + residual with W[k][n] = (q[k][n] - zero[k / G][n]) *
 * scale[k / G][n], q in 0..15 (tfc_abi.h's tfc_rt_linear_q4 gives the
 * packing). The input stays f32 and is read where it lies; the weights are
 * dequantized in registers, never written out, so each step of a decoder
 * reads half a byte per weight where the f32 kernel reads four.
 *
 * Per k of a panel, PANEL / 2 bytes hold the panel's PANEL columns: byte j
 * the column j in its low nibble and the column PANEL / 2 + j in its high
 * one. One zero-extending load makes HALF = PANEL / 2 lanes of 32-bit
 * integers (vpmovzxbd: 16 with AVX-512, 8 with AVX2); a mask and a shift
 * split the halves into codes (AVX-512 looks them up as floats with
 * vpermps; elsewhere they are converted), and the group's sums of products
 *
 *   group[r][n] = sum over k of the group of x[r][k] * q[k][n]
 *
 * take the zero points at the group's end, less zero[n] * (the row's sum
 * over the group), then the scale: one FMA each per accumulator per G
 * steps. The inner loop has no arithmetic but the decoding and the
 * product's FMA. As first written, with the zero point subtracted and
 * the difference converted per weight, AVX-512's one-row step was 10
 * vector ops per k of a panel and bound by issuing them, not by memory:
 * one thread took 0.61 ms for a 4096 x 4096 weight (14 GB/s, from L3) on
 * a Zen 5, against 0.35 ms (24 GB/s) with 7; 12 rows took 3.5 against
 * 2.5 ms.
 *
 * Tiles: R rows by one panel, 2R accumulators of HALF lanes plus the
 * group's sums in memory (sums[R][PANEL], in L1). AVX-512 12 x 32 (24
 * accumulators, the loaded bytes, two halves, the zero points and a
 * broadcast: 30 zmm), AVX2 4 x 16 (8 accumulators of 16 ymm), NEON 4 x 16.
 * A tile of one or two rows (a decode step) has two accumulators per half
 * and row, for even and odd k: with one, each step waited for the last
 * step's FMA (4 cycles per 16 bytes), which is slower than memory.
 *
 * Tasks are the f32 kernel's (a block of rows by a group of panels,
 * tfc_kernel_linear_q4_plan); a panel's bytes are contiguous, and the first
 * tile of each panel prefetches the next panel as it goes.
 *
 *===----------------------------------------------------------------------===*/

#include "activations.h"
#include "kernels.h"
#include "tfc/runtime/tfc_abi.h"
#include "vector_ops.h"

#include <string.h>

typedef tfc_linear_q4_problem q4_problem;

enum {
#if defined(__AVX512F__)
  PANEL = TFC_RT_LINEAR_PANEL_AVX512,
  TILE_ROWS = 12,
#elif defined(__AVX2__)
  PANEL = TFC_RT_LINEAR_PANEL_AVX2,
  TILE_ROWS = 4,
#else
  PANEL = TFC_RT_LINEAR_PANEL_NEON,
  TILE_ROWS = 4,
#endif
  HALF = PANEL / 2, /* columns per nibble of a byte, bytes per k */
};
_Static_assert(PANEL % 16 == 0 && TILE_ROWS <= 12, "a tile is at most 12 rows");

/* HALF lanes: one AVX-512 or AVX2 register, two NEON ones. */
typedef uint8_t vbytes __attribute__((vector_size(HALF), aligned(1)));
typedef int32_t vhalfi __attribute__((vector_size(4 * HALF), aligned(4)));
typedef float vhalf __attribute__((vector_size(4 * HALF), aligned(4)));
#define LOADH(p) (*(const vhalf *)(p))
#define STOREH(p, v) (*(vhalf *)(p) = (v))

/* The codes (0..15) of one k of a panel as floats: the low and the high
 * columns. With AVX-512, vpermps looks each lane's low 4 bits up in a
 * table of the 16 codes as floats (one op where a mask and a conversion
 * are two; the high nibble needs a shift first, and the bits above the
 * index are ignored); elsewhere a mask or a shift and a conversion. */
#if defined(__AVX512F__)
#include <immintrin.h>
#define DECODE(bytes_ptr, low, high)                                           \
  do {                                                                         \
    __m512i v_ = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(bytes_ptr))); \
    low = (vhalf)_mm512_permutexvar_ps(v_, codes);                             \
    high = (vhalf)_mm512_permutexvar_ps(_mm512_srli_epi32(v_, 4), codes);      \
  } while (0)
#define DECODE_SETUP                                                           \
  const __m512 codes = _mm512_setr_ps(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,   \
                                      12, 13, 14, 15)
#else
#define DECODE(bytes_ptr, low, high)                                           \
  do {                                                                         \
    vhalfi v_ = __builtin_convertvector(*(const vbytes *)(bytes_ptr), vhalfi); \
    low = __builtin_convertvector(v_ & 15, vhalf);                             \
    high = __builtin_convertvector(v_ >> 4, vhalf);                            \
  } while (0)
#define DECODE_SETUP (void)0
#endif

/* The sum of n floats at x. */
static inline float row_sum(const float *x, int64_t n) {
  vf16 sums = SPLAT16(0.0f);
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    sums += *(const vf16 *)(x + i);
  float sum = SUM16(sums);
  for (; i < n; ++i)
    sum += x[i];
  return sum;
}

/* One tile's product: sums[R][PANEL] = rows[R][depth] x W[depth][PANEL]
 * for one panel (its bytes at `w`, its groups' scales and zero points at
 * `scales` and `zeros`, NULL for 8), row r at a + r * a_row. R is a
 * compile-time constant once inlined. With `prefetch`, each step also
 * prefetches the same step of the panel that comes next.
 *
 * A group's products are of the codes, not of the codes less the zero
 * points: sum x (q - z) = sum x q - z sum x, so the zero points cost one
 * FMA per accumulator per group (with the rows' sums over the group)
 * instead of a subtraction per weight, and symmetric weights take the same
 * path with z = 8. */
static inline __attribute__((always_inline)) void
tile_product(const q4_problem *p, const float *a, int64_t a_row,
             const uint8_t *w, const float *scales, const uint8_t *zeros,
             float *sums, const int R, const uint8_t *prefetch) {
  /* Split accumulators (even and odd k) for the rows of a decode step. */
  enum { SPLIT = 2 };
  const int split = R <= 2 ? SPLIT : 1;
  DECODE_SETUP;
  UNROLL for (int r = 0; r < R; ++r) {
    STOREH(sums + r * PANEL, (vhalf){0});
    STOREH(sums + r * PANEL + HALF, (vhalf){0});
  }
  const int64_t group = p->group;
  for (int64_t g = 0; g < p->groups; ++g) {
    vhalf acc[12][SPLIT][2];
    UNROLL for (int r = 0; r < R; ++r)
      UNROLL for (int s = 0; s < SPLIT; ++s)
        acc[r][s][0] = acc[r][s][1] = (vhalf){0};
    const int64_t k0 = g * group;
    const uint8_t *wk = w + k0 * HALF;
    int64_t k = 0;
    if (split == SPLIT)
      for (; k + 1 < group; k += 2) {
        if (prefetch && (k * HALF) % 64 == 0)
          __builtin_prefetch(prefetch + (k0 + k) * HALF, 0, 3);
        vhalf low0, high0, low1, high1;
        DECODE(wk + k * HALF, low0, high0);
        DECODE(wk + (k + 1) * HALF, low1, high1);
        UNROLL for (int r = 0; r < R; ++r) {
          float x0 = a[r * a_row + k0 + k], x1 = a[r * a_row + k0 + k + 1];
          acc[r][0][0] += low0 * x0;
          acc[r][0][1] += high0 * x0;
          acc[r][1][0] += low1 * x1;
          acc[r][1][1] += high1 * x1;
        }
      }
    for (; k < group; ++k) {
      if (prefetch && (k * HALF) % 64 == 0)
        __builtin_prefetch(prefetch + (k0 + k) * HALF, 0, 3);
      vhalf low, high;
      DECODE(wk + k * HALF, low, high);
      UNROLL for (int r = 0; r < R; ++r) {
        float x = a[r * a_row + k0 + k];
        acc[r][0][0] += low * x;
        acc[r][0][1] += high * x;
      }
    }
    vhalf zero_low = (vhalf){0} + 8.0f, zero_high = zero_low;
    if (zeros) {
      zero_low = __builtin_convertvector(*(const vbytes *)(zeros + g * PANEL), vhalf);
      zero_high = __builtin_convertvector(*(const vbytes *)(zeros + g * PANEL + HALF), vhalf);
    }
    vhalf scale_low = LOADH(scales + g * PANEL),
          scale_high = LOADH(scales + g * PANEL + HALF);
    UNROLL for (int r = 0; r < R; ++r) {
      vhalf low = acc[r][0][0], high = acc[r][0][1];
      if (split == SPLIT) {
        low += acc[r][1][0];
        high += acc[r][1][1];
      }
      float x_sum = row_sum(a + r * a_row + k0, group);
      low -= zero_low * x_sum;
      high -= zero_high * x_sum;
      STOREH(sums + r * PANEL, LOADH(sums + r * PANEL) + low * scale_low);
      STOREH(sums + r * PANEL + HALF,
             LOADH(sums + r * PANEL + HALF) + high * scale_high);
    }
  }
}

/* A tile of `rows` rows, TILE_ROWS or fewer, each count its own compiled
 * copy of the loop. */
static void tile_rows(const q4_problem *p, const float *a, int64_t a_row,
                      const uint8_t *w, const float *scales,
                      const uint8_t *zeros, float *sums, int64_t rows,
                      const uint8_t *prefetch) {
  switch (rows) {
#define TILE_CASE(n)                                                           \
  case n:                                                                      \
    if (n <= TILE_ROWS)                                                        \
      tile_product(p, a, a_row, w, scales, zeros, sums,                        \
                   n <= TILE_ROWS ? n : TILE_ROWS, prefetch);                  \
    return;
    TILE_CASE(1)
    TILE_CASE(2)
    TILE_CASE(3)
    TILE_CASE(4)
    TILE_CASE(5)
    TILE_CASE(6)
    TILE_CASE(7)
    TILE_CASE(8)
    TILE_CASE(9)
    TILE_CASE(10)
    TILE_CASE(11)
    TILE_CASE(12)
#undef TILE_CASE
  }
}

static const uint8_t *panel_bytes(const q4_problem *p, int64_t panel) {
  return p->packed + panel * p->depth * HALF;
}

/* The first panel of task `task`, or NULL past the tasks. */
static const uint8_t *first_panel(const q4_problem *p, int64_t task) {
  if (task >= p->tasks)
    return NULL;
  int64_t group = task % p->panel_groups;
  return panel_bytes(p, group * p->panels / p->panel_groups);
}

/* Runs task `task` (a block of rows by a group of panels, placed as the
 * f32 kernel's) and returns the task this thread claims next, claimed as
 * its last panel starts so that the next task's first panel is
 * prefetched. */
int64_t TFC_KERNEL_FN(tfc_kernel_linear_q4_task)(q4_problem *p, int64_t task) {
  int64_t group = task % p->panel_groups;
  int64_t block = task / p->panel_groups % p->row_blocks;
  int64_t batch = task / (p->panel_groups * p->row_blocks);
  int64_t row0 = block * p->row_tiles / p->row_blocks * 12;
  int64_t row_end = (block + 1) * p->row_tiles / p->row_blocks * 12;
  if (row_end > p->rows)
    row_end = p->rows;
  int64_t panel0 = group * p->panels / p->panel_groups;
  int64_t panel_end = (group + 1) * p->panels / p->panel_groups;
  float sums[TILE_ROWS * PANEL] __attribute__((aligned(64)));
  float bias[PANEL] __attribute__((aligned(64)));
  int64_t claimed = -1;
  for (int64_t panel = panel0; panel < panel_end; ++panel) {
    const uint8_t *next;
    if (panel + 1 < panel_end) {
      next = panel_bytes(p, panel + 1);
    } else {
      claimed = atomic_fetch_add(&p->next_task, 1);
      next = first_panel(p, claimed);
    }
    const int64_t col0 = panel * PANEL;
    const int64_t cols = p->cols - col0 < PANEL ? p->cols - col0 : PANEL;
    memset(bias, 0, sizeof(bias));
    if (p->bias)
      memcpy(bias, p->bias + col0, sizeof(float) * (size_t)cols);
    const uint8_t *w = panel_bytes(p, panel);
    const float *scales = p->scales + panel * p->groups * PANEL;
    const uint8_t *zeros = p->zeros ? p->zeros + panel * p->groups * PANEL : NULL;
    for (int64_t row = row0; row < row_end; row += TILE_ROWS) {
      int64_t rows = row_end - row < TILE_ROWS ? row_end - row : TILE_ROWS;
      const float *a = p->input + batch * p->input_batch + row * p->input_row;
      tile_rows(p, a, p->input_row, w, scales, zeros, sums, rows,
                row == row0 ? next : NULL);
      FINISH_PROBLEM_TILE(p, sums, PANEL, rows, batch, row, col0, cols, p->bias ? bias : NULL);
    }
  }
  return claimed;
}
