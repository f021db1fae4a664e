/*===- vector_ops.h - 16-float vectors for the kernels -----------*- C -*-===*
 *
 * The kernels are written with clang's vector extensions on 16 floats (one
 * AVX-512 register, two AVX2 ones); the build compiles them once per
 * instruction set (see kernels.h).
 *
 *===----------------------------------------------------------------------===*/

#ifndef TFC_KERNELS_VECTOR_OPS_H
#define TFC_KERNELS_VECTOR_OPS_H

#include <stdint.h>

typedef float vf16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t vi16 __attribute__((vector_size(64), aligned(4)));

/* Helpers are macros: a function taking or returning a 64-byte vector has a
 * different ABI under each instruction set. */
#define LOAD16(p) (*(const vf16 *)(p))
#define STORE16(p, v) (*(vf16 *)(p) = (v))
#define SPLAT16(x) ((vf16){0} + (x))

/* The sum of a vector's lanes (clang 19 reduces only integer vectors):
 * halve it four times. */
#define SUM16(v)                                                               \
  ({                                                                           \
    typedef float vf8_ __attribute__((vector_size(32)));                       \
    typedef float vf4_ __attribute__((vector_size(16)));                       \
    vf16 v_ = (v);                                                             \
    vf8_ h8_ = __builtin_shufflevector(v_, v_, 0, 1, 2, 3, 4, 5, 6, 7) +       \
               __builtin_shufflevector(v_, v_, 8, 9, 10, 11, 12, 13, 14, 15);  \
    vf4_ h4_ = __builtin_shufflevector(h8_, h8_, 0, 1, 2, 3) +                 \
               __builtin_shufflevector(h8_, h8_, 4, 5, 6, 7);                  \
    (h4_[0] + h4_[2]) + (h4_[1] + h4_[3]);                                     \
  })

/* e^x for x <= 0 (scores minus their row maximum): 2^n * e^f with
 * n = round(x / ln 2) and |f| <= ln(2) / 2 (Cody-Waite split of ln 2), e^f by
 * its Taylor series to degree 7 (relative error below 1e-7). Results below
 * the smallest normal float, -inf and the -3.4e38 of masks all give 0. */
#define EXP16(x)                                                               \
  ({                                                                           \
    vf16 x_ = (x);                                                             \
    vi16 visible_ = x_ >= -87.3f;                                              \
    x_ = __builtin_elementwise_max(x_, SPLAT16(-87.3f));                       \
    vf16 n_ = __builtin_elementwise_roundeven(x_ * 1.44269504f);               \
    vf16 f_ = x_ - n_ * 0.693145752f;                                          \
    f_ = f_ - n_ * 1.42860677e-6f;                                             \
    vf16 p_ = SPLAT16(1.0f / 5040.0f);                                         \
    p_ = p_ * f_ + 1.0f / 720.0f;                                              \
    p_ = p_ * f_ + 1.0f / 120.0f;                                              \
    p_ = p_ * f_ + 1.0f / 24.0f;                                               \
    p_ = p_ * f_ + 1.0f / 6.0f;                                                \
    p_ = p_ * f_ + 0.5f;                                                       \
    p_ = p_ * f_ + 1.0f;                                                       \
    p_ = p_ * f_ + 1.0f;                                                       \
    vi16 exponent_ = (__builtin_convertvector(n_, vi16) + 127) << 23;          \
    (vf16)((vi16)(p_ * (vf16)exponent_) & visible_);                           \
  })

#endif
