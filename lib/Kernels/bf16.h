/*===- bf16.h - bf16 pairs for the kernels' bf16 dot products ----*- C -*-===*
 *
 * The bf16 kernels (linear_bf16.c, attention_f32.c's bf16 products) keep
 * their operands as pairs of bf16 in 32-bit lanes, the element of the even
 * index in the low half: the operand layout of vdpbf16ps, which adds two
 * products per f32 lane:
 *
 *   acc[i] += a[2i] * b[2i] + a[2i+1] * b[2i+1]
 *
 * On CPUs without it (AVX2, AVX-512 without AVX512-BF16, NEON) the same
 * layout is multiplied by two FMAs per lane on the halves widened to f32:
 * the products of bf16 values are exact in f32, so the two differ only in
 * the order of the sums and in vdpbf16ps flushing denormals.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TFC_KERNELS_BF16_H
#define TFC_KERNELS_BF16_H

#include "vector_ops.h"

#include <stdint.h>
#include <string.h>

typedef uint32_t vu16 __attribute__((vector_size(64), aligned(4)));

/* The bf16 nearest to each float (ties to even), in the high half of each
 * lane (the low half is garbage); a NaN stays a (quiet) NaN. */
#define BF16_ROUND16(x)                                                        \
  ({                                                                           \
    vf16 rx_ = (x);                                                            \
    vu16 bits_ = (vu16)rx_;                                                    \
    vu16 rounded_ = bits_ + 0x7fffu + ((bits_ >> 16) & 1u);                    \
    vu16 nan_ = (vu16)(rx_ != rx_);                                            \
    (rounded_ & ~nan_) | ((bits_ | 0x00400000u) & nan_);                       \
  })

/* Pairs of bf16 from two vectors: lane i = bf16(even[i]) | bf16(odd[i])
 * << 16. */
#define BF16_PAIRS16(even, odd)                                                \
  ((BF16_ROUND16(even) >> 16) | (BF16_ROUND16(odd) & 0xffff0000u))

static inline uint32_t bf16_round(float x) {
  uint32_t bits;
  memcpy(&bits, &x, sizeof(bits));
  if (x != x)
    return (bits | 0x00400000u) >> 16;
  return (bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16;
}

/* One pair from two floats. */
static inline uint32_t bf16_pair(float even, float odd) {
  return bf16_round(even) | bf16_round(odd) << 16;
}

/* The two floats of a pair. */
static inline float bf16_low(uint32_t pair) {
  uint32_t bits = pair << 16;
  float x;
  memcpy(&x, &bits, sizeof(x));
  return x;
}
static inline float bf16_high(uint32_t pair) {
  uint32_t bits = pair & 0xffff0000u;
  float x;
  memcpy(&x, &bits, sizeof(x));
  return x;
}

/* `n` floats (x[0], x[stride], ...) scaled by `scale` as (n + 1) / 2
 * pairs at `out`, an odd count's last pair completed with 0. */
static inline void bf16_pack_row(const float *x, int64_t stride, int64_t n,
                                 float scale, uint32_t *out) {
  int64_t k = 0;
  if (stride == 1)
    for (; k + 32 <= n; k += 32) {
      vf16 lo = LOAD16(x + k) * scale, hi = LOAD16(x + k + 16) * scale;
      vf16 even = __builtin_shufflevector(lo, hi, 0, 2, 4, 6, 8, 10, 12, 14,
                                          16, 18, 20, 22, 24, 26, 28, 30);
      vf16 odd = __builtin_shufflevector(lo, hi, 1, 3, 5, 7, 9, 11, 13, 15,
                                         17, 19, 21, 23, 25, 27, 29, 31);
      *(vu16 *)(out + k / 2) = BF16_PAIRS16(even, odd);
    }
  for (; k + 1 < n; k += 2)
    out[k / 2] = bf16_pair(x[k * stride] * scale, x[(k + 1) * stride] * scale);
  if (k < n)
    out[k / 2] = bf16_round(x[k * stride] * scale);
}

#endif
