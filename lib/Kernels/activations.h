/*===- activations.h - the matmul kernels' activations ------------*- C -*-===*
 *
 * The activations a linear's epilogue applies (TFC_RT_LINEAR_*), on vf16
 * vectors: shared by the f32 and the quantized matmul kernels, so that a
 * quantized model's activations are the f32 model's.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TFC_KERNELS_ACTIVATIONS_H
#define TFC_KERNELS_ACTIVATIONS_H

#include "tfc/runtime/tfc_abi.h"
#include "vector_ops.h"

/* x * 0.5 * (1 + erf(x / sqrt 2)), erf by Abramowitz and Stegun 7.1.26
 * (absolute error below 1.5e-7): 1 - t (a1 + t (a2 + ...)) e^(-z^2) with
 * t = 1 / (1 + p z), z = |x| / sqrt 2, and the sign of x. */
#define GELU_ERF16(x)                                                          \
  ({                                                                           \
    vf16 gx_ = (x);                                                            \
    vf16 z_ = __builtin_elementwise_abs(gx_) * 0.70710678f;                    \
    vf16 t_ = 1.0f / (1.0f + 0.3275911f * z_);                                 \
    vf16 poly_ = SPLAT16(1.061405429f);                                        \
    poly_ = poly_ * t_ - 1.453152027f;                                         \
    poly_ = poly_ * t_ + 1.421413741f;                                         \
    poly_ = poly_ * t_ - 0.284496736f;                                         \
    poly_ = poly_ * t_ + 0.254829592f;                                         \
    /* e^(-z^2) = 2^(-x^2 log2(e) / 2) */                                     \
    vf16 erf_ = 1.0f - poly_ * t_ * EXP2_16(gx_ * gx_ * -0.72134752f);       \
    erf_ = (vf16)((vi16)erf_ | ((vi16)gx_ & (int32_t)0x80000000));             \
    gx_ * 0.5f * (1.0f + erf_);                                                \
  })

/* x * 0.5 * (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), tanh(u) as
 * (1 - e) / (1 + e) with e = exp(-2 |u|) = 2^(-2 log2(e) |u|) <= 1, and the
 * sign of u. */
#define GELU_TANH16(x)                                                         \
  ({                                                                           \
    vf16 gx_ = (x);                                                            \
    vf16 u_ = 0.7978845608f * (gx_ + 0.044715f * gx_ * gx_ * gx_);             \
    vf16 e_ = EXP2_16(-2.88539008f * __builtin_elementwise_abs(u_));           \
    vf16 tanh_ = (1.0f - e_) / (1.0f + e_);                                    \
    tanh_ = (vf16)((vi16)tanh_ | ((vi16)u_ & (int32_t)0x80000000));            \
    gx_ * 0.5f * (1.0f + tanh_);                                               \
  })

#define ACTIVATE16(x, activation)                                              \
  ((activation) == TFC_RT_LINEAR_RELU                                          \
       ? __builtin_elementwise_max((x), SPLAT16(0.0f))                         \
   : (activation) == TFC_RT_LINEAR_GELU      ? GELU_ERF16(x)                   \
   : (activation) == TFC_RT_LINEAR_GELU_TANH ? GELU_TANH16(x)                  \
                                             : (x))

/* The epilogue of one row of a panel's float sums (`panel` columns, a
 * multiple of 16, at most 32): bias (panel-wide, or NULL), activation,
 * then the residual row (NULL: none); the first `cols` columns go to
 * `out`. A whole panel goes straight to the output, the last, narrower
 * one through a line on the stack. The bf16, int4 and int8 kernels'
 * tiles. */
static inline void finish_panel_row(const float *sums, int panel,
                                    const float *bias, int activation,
                                    const float *residual, float *out,
                                    int64_t cols) {
  const int whole = cols == panel;
  float line[32] __attribute__((aligned(64)));
  for (int x = 0; x < panel / 16; ++x) {
    vf16 v = LOAD16(sums + 16 * x);
    if (bias)
      v += LOAD16(bias + 16 * x);
    v = ACTIVATE16(v, activation);
    if (whole) {
      if (residual)
        v += LOAD16(residual + 16 * x);
      STORE16(out + 16 * x, v);
    } else {
      STORE16(line + 16 * x, v);
    }
  }
  if (!whole) {
    if (residual)
      for (int64_t j = 0; j < cols; ++j)
        line[j] += residual[j];
    for (int64_t j = 0; j < cols; ++j)
      out[j] = line[j];
  }
}

/* finish_panel_row for `rows` rows of a tile: their sums `panel` floats
 * apart; `residual` (NULL: none) and `out` at the tile's first row, rows
 * `residual_row` and `out_row` floats apart. */
static inline void finish_panel_rows(const float *sums, int panel,
                                     int64_t rows, const float *bias,
                                     int activation, const float *residual,
                                     int64_t residual_row, float *out,
                                     int64_t out_row, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r)
    finish_panel_row(sums + r * panel, panel, bias, activation,
                     residual ? residual + r * residual_row : NULL,
                     out + r * out_row, cols);
}

/* finish_panel_rows for a tile of the problem `p`, whose rows start at row
 * `row` of batch `batch` and whose columns at `col0`; `p` has the linear
 * kernels' output fields (activation, residual, residual_batch,
 * residual_row, out, out_batch, out_row). A macro because the bf16 and
 * int4 problems are different structs with these same fields. */
#define FINISH_PROBLEM_TILE(p, sums, panel, rows, batch, row, col0, cols, bias) \
  finish_panel_rows(                                                           \
      (sums), (panel), (rows), (bias), (p)->activation,                        \
      (p)->residual ? (p)->residual + (batch) * (p)->residual_batch +          \
                          (row) * (p)->residual_row + (col0)                   \
                    : NULL,                                                    \
      (p)->residual_row,                                                       \
      (p)->out + (batch) * (p)->out_batch + (row) * (p)->out_row + (col0),     \
      (p)->out_row, (cols))

#endif
