/*===- layer_norm_f32.c - layer normalization over the last dim --*- C -*-===*
 *
 * tfm.layer_norm and tfm.add_layer_norm over the last dim become one call
 * of tfc_rt_layer_norm. The linalg lowering of the same op reduces each
 * row with a scalar loop-carried sum, which on a row of 768 is a chain of
 * 768 dependent adds, twice; here a row is summed in four vector
 * accumulators, its deviations likewise, and normalized, all three passes
 * over a row that stays in L1. The runtime splits the rows over the pool's
 * threads.
 *
 * With a skip operand (add_layer_norm), x = input + skip is formed in each
 * pass instead of being stored.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels.h"
#include "vector_ops.h"

#include <math.h>

typedef tfc_layer_norm_f32_problem layer_norm_problem;

/* Where row `row` (of all batches) starts in the input, the skip (NULL
 * without one) and the output. */
static inline void row_start(const layer_norm_problem *p, int64_t row,
                             const float **in, const float **sk, float **out) {
  int64_t b = row / p->rows_per_batch, l = row % p->rows_per_batch;
  *in = p->input + b * p->input_stride[0] + l * p->input_stride[1];
  *sk = p->skip ? p->skip + b * p->skip_stride[0] + l * p->skip_stride[1] : 0;
  *out = p->out + b * p->out_stride[0] + l * p->out_stride[1];
}

/* x[j] of the row, the skip added when there is one. */
#define ROW_VALUE16(in, sk, j) (sk ? LOAD16(in + j) + LOAD16(sk + j) : LOAD16(in + j))
#define ROW_VALUE(in, sk, j) (sk ? in[j] + sk[j] : in[j])

static void layer_norm_rows(const layer_norm_problem *p, int64_t begin,
                            int64_t end) {
  const int64_t d = p->depth, full = d / 16 * 16;
  for (int64_t row = begin; row < end; ++row) {
    const float *in, *sk;
    float *out;
    row_start(p, row, &in, &sk, &out);

    /* Four accumulators: one would make each add wait for the last. */
    vf16 acc[4] = {SPLAT16(0.0f), SPLAT16(0.0f), SPLAT16(0.0f), SPLAT16(0.0f)};
    int64_t j = 0;
    for (; j + 64 <= full; j += 64)
      for (int a = 0; a < 4; ++a)
        acc[a] += ROW_VALUE16(in, sk, j + 16 * a);
    for (; j < full; j += 16)
      acc[0] += ROW_VALUE16(in, sk, j);
    float sum = SUM16(acc[0] + acc[1] + acc[2] + acc[3]);
    for (; j < d; ++j)
      sum += ROW_VALUE(in, sk, j);
    const float mean = sum / (float)d;

    for (int a = 0; a < 4; ++a)
      acc[a] = SPLAT16(0.0f);
    for (j = 0; j + 64 <= full; j += 64)
      for (int a = 0; a < 4; ++a) {
        vf16 centered = ROW_VALUE16(in, sk, j + 16 * a) - mean;
        acc[a] += centered * centered;
      }
    for (; j < full; j += 16) {
      vf16 centered = ROW_VALUE16(in, sk, j) - mean;
      acc[0] += centered * centered;
    }
    float squares = SUM16(acc[0] + acc[1] + acc[2] + acc[3]);
    for (; j < d; ++j) {
      float centered = ROW_VALUE(in, sk, j) - mean;
      squares += centered * centered;
    }
    const float inv_std = 1.0f / sqrtf(squares / (float)d + p->epsilon);

    for (j = 0; j < full; j += 16) {
      vf16 y = (ROW_VALUE16(in, sk, j) - mean) * inv_std * LOAD16(p->scale + j);
      if (p->bias)
        y += LOAD16(p->bias + j);
      STORE16(out + j, y);
    }
    for (; j < d; ++j) {
      float y = (ROW_VALUE(in, sk, j) - mean) * inv_std * p->scale[j];
      out[j] = p->bias ? y + p->bias[j] : y;
    }
  }
}

/* Any strides: the generated code passes views, and while every layout
 * the compiler makes has contiguous rows and parameters, a view with a
 * stride in its last dim must still be right. */
static void layer_norm_rows_strided(const layer_norm_problem *p,
                                    int64_t begin, int64_t end) {
  const int64_t d = p->depth;
  for (int64_t row = begin; row < end; ++row) {
    const float *in, *sk;
    float *out;
    row_start(p, row, &in, &sk, &out);
#define STRIDED_VALUE(j)                                                       \
  (in[(j) * p->input_stride[2]] + (sk ? sk[(j) * p->skip_stride[2]] : 0.0f))
    float sum = 0.0f, squares = 0.0f;
    for (int64_t j = 0; j < d; ++j)
      sum += STRIDED_VALUE(j);
    const float mean = sum / (float)d;
    for (int64_t j = 0; j < d; ++j)
      squares += (STRIDED_VALUE(j) - mean) * (STRIDED_VALUE(j) - mean);
    const float inv_std = 1.0f / sqrtf(squares / (float)d + p->epsilon);
    for (int64_t j = 0; j < d; ++j) {
      float y = (STRIDED_VALUE(j) - mean) * inv_std * p->scale[j * p->scale_stride];
      out[j * p->out_stride[2]] = p->bias ? y + p->bias[j * p->bias_stride] : y;
    }
#undef STRIDED_VALUE
  }
}

void TFC_KERNEL_FN(tfc_kernel_layer_norm_f32_rows)(const layer_norm_problem *p,
                                                   int64_t begin, int64_t end) {
  int contiguous = p->input_stride[2] == 1 && p->out_stride[2] == 1 &&
                   p->scale_stride == 1 &&
                   (!p->skip || p->skip_stride[2] == 1) &&
                   (!p->bias || p->bias_stride == 1);
  if (contiguous)
    layer_norm_rows(p, begin, end);
  else
    layer_norm_rows_strided(p, begin, end);
}
