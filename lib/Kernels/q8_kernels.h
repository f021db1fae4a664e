/*===- q8_kernels.h - what the int8 linear kernels share ----------*- C -*-===*
 *
 * The dense (linear_q8.c) and block-sparse (linear_sparse_q8.c) int8
 * kernels quantize their input the same way (tfc_kernel_linear_q8_quantize)
 * and share the rest here: the epilogue that turns a tile's 32-bit sums
 * into outputs, and one register of 32-bit sums (`vint`) with the two dot
 * products that accumulate into it, for the instruction set being
 * compiled:
 *
 *   VINT_DPBUSD  vpdpbusd (AVX512-VNNI on zmm, AVX-VNNI on ymm): each lane
 *                adds the products of 4 u8 activations by 4 s8 weights.
 *                Only where HAVE_U8S8, and only in functions marked
 *                VNNI_TARGET (the runtime calls them when the compiler
 *                chose a VNNI target).
 *   VINT_MADD16  vpmaddwd: each lane adds the products of 2 s16 pairs.
 *
 * NEON has no 4-byte dot product the kernels use: its `vint` is two
 * registers and VINT_MADD16 is written with clang's vectors.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TFC_KERNELS_Q8_KERNELS_H
#define TFC_KERNELS_Q8_KERNELS_H

#include "activations.h"
#include "kernels.h"
#include "tfc/runtime/tfc_abi.h"
#include "vector_ops.h"

#include <stdint.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Four bytes as one int32, at any alignment. */
static inline int32_t load32(const void *p) {
  int32_t v;
  memcpy(&v, p, sizeof(v));
  return v;
}

#if defined(__AVX512F__)
typedef __m512i vint;
#define VINT_ZERO() _mm512_setzero_si512()
#define VINT_LOAD(p) _mm512_loadu_si512((const void *)(p))
#define VINT_STORE(p, v) _mm512_storeu_si512((void *)(p), (v))
#define VINT_BROADCAST32(p) _mm512_set1_epi32(load32(p))
#define VINT_MADD16(acc, a, w) _mm512_add_epi32((acc), _mm512_madd_epi16((a), (w)))
#define VINT_DPBUSD(acc, a, w) _mm512_dpbusd_epi32((acc), (a), (w))
#define VNNI_TARGET __attribute__((target("avx512vnni")))
#define HAVE_U8S8 1
#elif defined(__AVX2__)
typedef __m256i vint;
#define VINT_ZERO() _mm256_setzero_si256()
#define VINT_LOAD(p) _mm256_loadu_si256((const __m256i *)(p))
#define VINT_STORE(p, v) _mm256_storeu_si256((__m256i *)(p), (v))
#define VINT_BROADCAST32(p) _mm256_set1_epi32(load32(p))
#define VINT_MADD16(acc, a, w) _mm256_add_epi32((acc), _mm256_madd_epi16((a), (w)))
#define VINT_DPBUSD(acc, a, w) _mm256_dpbusd_avx_epi32((acc), (a), (w))
#define VNNI_TARGET __attribute__((target("avxvnni")))
#define HAVE_U8S8 1
#else
typedef int32_t vint __attribute__((vector_size(32), aligned(4)));
typedef int16_t vpairs __attribute__((vector_size(32), aligned(2)));
typedef int32_t vwide __attribute__((vector_size(64), aligned(4)));
static inline vint madd16(vint acc, vint a, vint w) {
  vwide x = __builtin_convertvector((vpairs)a, vwide) *
            __builtin_convertvector((vpairs)w, vwide);
  return acc + __builtin_shufflevector(x, x, 0, 2, 4, 6, 8, 10, 12, 14) +
         __builtin_shufflevector(x, x, 1, 3, 5, 7, 9, 11, 13, 15);
}
#define VINT_ZERO() ((vint){0})
#define VINT_LOAD(p) (*(const vint *)(p))
#define VINT_STORE(p, v) (*(vint *)(p) = (v))
#define VINT_BROADCAST32(p) ((vint){0} + load32(p))
#define VINT_MADD16(acc, a, w) madd16((acc), (a), (w))
#define HAVE_U8S8 0
#endif

/* 32-bit sums per register. */
enum { VINT_LANES = sizeof(vint) / 4 };

/* The epilogue of a tile's `rows` rows from global row `row` (of batch
 * `batch`, row `in_batch` in it), their sums `panel` (16 or 32) apart:
 * each sum corrected for the zero points, dequantized by the row's and the
 * column's scales, then bias (`panel` values, or NULL), activation and
 * residual; the first `cols` columns go to the output. */
static inline void q8_tile_epilogue(const tfc_linear_q8_problem *p,
                                    const int32_t *sums, const int panel,
                                    int64_t row, int64_t rows, int64_t batch,
                                    int64_t in_batch, int64_t col0,
                                    int64_t cols, const float *bias) {
  const float *scale = p->weight_scale + col0;
  const int32_t *colsum = p->weight_sum + col0;
  const int32_t *wzero = p->weight_zero ? p->weight_zero + col0 : NULL;
  const int u8s8 = p->dot == TFC_RT_DTYPE_U8S8S32;
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t za = p->row_zero[row + r];
    const int32_t rowsum = p->row_sum[row + r] - (int32_t)p->depth * za;
    const float sa = p->row_scale[row + r];
    float *out = p->out + batch * p->out_batch + (in_batch + r) * p->out_row + col0;
    const float *res = p->residual ? p->residual + batch * p->residual_batch +
                                         (in_batch + r) * p->residual_row + col0
                                   : NULL;
    /* The row's sums as floats, then the float kernels' epilogue. */
    float dequantized[32] __attribute__((aligned(64)));
    for (int x = 0; x < panel / 16; ++x) {
      vi16 s = *(const vi16 *)(sums + r * panel + 16 * x);
      if (u8s8) {
        s -= za * *(const vi16 *)(colsum + 16 * x);
        if (wzero)
          s -= *(const vi16 *)(wzero + 16 * x) * rowsum;
      }
      STORE16(dequantized + 16 * x,
              __builtin_convertvector(s, vf16) * (LOAD16(scale + 16 * x) * sa));
    }
    finish_panel_row(dequantized, panel, bias, p->activation, res, out, cols);
  }
}

#endif
