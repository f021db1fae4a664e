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

/* 2^x for x <= 0: 2^n * 2^f with n = round(x), f = x - n exact and
 * |f| <= 1/2, 2^f by a degree-6 polynomial fitted for relative error
 * (below 1e-7 in float arithmetic), and n added to the exponent bits.
 * Callers wanting e^x scale x by log2(e) (the attention softmax folds it
 * into the queries' scale): base 2 needs no two-constant reduction of x by
 * ln 2 and no multiply by 2^n, so this is six FMAs where e^x was eleven
 * multiplies and FMAs, on the ports the products need; the attention
 * kernel got 3% faster at 512 and 2048 tokens. Results below 2^-126 are 0
 * or (for x near -126) a denormal below it; -inf and NaN give 0. */
#define EXP2_16(x)                                                             \
  ({                                                                           \
    vf16 x_ = (x);                                                             \
    vi16 visible_ = x_ >= -126.0f;                                             \
    x_ = __builtin_elementwise_max(x_, SPLAT16(-126.0f));                      \
    vf16 n_ = __builtin_elementwise_roundeven(x_);                             \
    vf16 f_ = x_ - n_;                                                         \
    vf16 p_ = SPLAT16(1.5345811e-4f);                                          \
    p_ = p_ * f_ + 1.3399931e-3f;                                              \
    p_ = p_ * f_ + 9.6184891e-3f;                                              \
    p_ = p_ * f_ + 5.5503286e-2f;                                              \
    p_ = p_ * f_ + 0.24022646f;                                                \
    p_ = p_ * f_ + 0.69314718f;                                                \
    p_ = p_ * f_ + 1.0f;                                                       \
    vi16 bits_ = (vi16)p_ + (__builtin_convertvector(n_, vi16) << 23);         \
    (vf16)(bits_ & visible_);                                                  \
  })

#endif
