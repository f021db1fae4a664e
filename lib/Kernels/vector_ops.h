/*===- vector_ops.h - vectors for the kernels ---------------------*- C -*-===*
 *
 * The kernels are written with clang's vector extensions, in two widths:
 *
 *   vf16   16 floats: one AVX-512 register, two AVX2 ones, four NEON ones.
 *          For the work that is not bound by registers (softmax, epilogues,
 *          norms), written once for every instruction set.
 *   vfn    one register of the instruction set being compiled: TFC_VLEN
 *          floats (16 AVX-512, 8 AVX2, 4 NEON). For the register tiles of
 *          the products, whose shapes each variant chooses for its own
 *          register file (see linear_f32.c and attention_f32.c).
 *
 * The build compiles the kernels once per instruction set (see kernels.h).
 *
 *===----------------------------------------------------------------------===*/

#ifndef TFC_KERNELS_VECTOR_OPS_H
#define TFC_KERNELS_VECTOR_OPS_H

#include <stdint.h>

typedef float vf16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t vi16 __attribute__((vector_size(64), aligned(4)));

#if defined(__AVX512F__)
#define TFC_VLEN 16
#elif defined(__AVX2__)
#define TFC_VLEN 8
#elif defined(__ARM_NEON)
#define TFC_VLEN 4
#else
#error "the kernels are compiled for AVX2, AVX-512 or NEON (see kernels.h)"
#endif
typedef float vfn __attribute__((vector_size(4 * TFC_VLEN), aligned(4)));

/* Helpers are macros: a function taking or returning a 64-byte vector has a
 * different ABI under each instruction set. */
#define LOAD16(p) (*(const vf16 *)(p))
#define STORE16(p, v) (*(vf16 *)(p) = (v))
#define SPLAT16(x) ((vf16){0} + (x))
/* Before a loop over the registers of a tile: unrolled before the tile's
 * array is assigned registers (else the accumulators stay in memory,
 * stored at every step: 3x slower). */
#define UNROLL _Pragma("clang loop unroll(full)")
#define LOADV(p) (*(const vfn *)(p))
#define STOREV(p, v) (*(vfn *)(p) = (v))
#define SPLATV(x) ((vfn){0} + (x))

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
