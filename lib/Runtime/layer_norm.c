/*===- layer_norm.c - layer normalization over the last dim ------*- C -*-===*
 *
 * tfm.layer_norm and tfm.add_layer_norm over the last dim lower to one call
 * of tfc_rt_layer_norm_f32. The linalg lowering of the same op reduces each
 * row with a scalar loop-carried sum, which on a row of 768 is a chain of
 * 768 dependent adds, twice; here a row is summed in four vector
 * accumulators, its deviations likewise, and normalized, all three passes
 * over a row that stays in L1. Rows are split over the pool's threads.
 *
 * With a skip operand (add_layer_norm), x = input + skip is formed in each
 * pass instead of being stored.
 *
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"
#include "vector_ops.h"

#include <math.h>

typedef struct layer_norm_problem {
  const float *input, *skip, *scale, *bias;
  float *out;
  /* Strides in elements of [B, L, D], and of scale and bias. */
  int64_t input_stride[3], skip_stride[3], out_stride[3];
  int64_t scale_stride, bias_stride;
  int64_t rows_per_batch, depth;
  float epsilon;
} layer_norm_problem;

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

TFC_MULTIVERSION
static void layer_norm_rows(void *context, int64_t begin, int64_t end) {
  const layer_norm_problem *p = context;
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
static void layer_norm_rows_strided(void *context, int64_t begin,
                                    int64_t end) {
  const layer_norm_problem *p = context;
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

void tfc_rt_layer_norm_f32(const tfc_rt_memref3_f32 *input,
                           const tfc_rt_memref3_f32 *skip,
                           const tfc_rt_memref1_f32 *scale,
                           const tfc_rt_memref1_f32 *bias,
                           const tfc_rt_memref3_f32 *out, float epsilon,
                           int64_t flags) {
  layer_norm_problem p = {0};
  p.input = input->aligned + input->offset;
  for (int i = 0; i < 3; ++i) {
    p.input_stride[i] = input->strides[i];
    p.out_stride[i] = out->strides[i];
  }
  if (flags & TFC_RT_LAYER_NORM_HAS_SKIP) {
    p.skip = skip->aligned + skip->offset;
    for (int i = 0; i < 3; ++i)
      p.skip_stride[i] = skip->strides[i];
  }
  p.scale = scale->aligned + scale->offset;
  p.scale_stride = scale->strides[0];
  if (flags & TFC_RT_LAYER_NORM_HAS_BIAS) {
    p.bias = bias->aligned + bias->offset;
    p.bias_stride = bias->strides[0];
  }
  p.out = out->aligned + out->offset;
  p.rows_per_batch = out->sizes[1];
  p.depth = out->sizes[2];
  p.epsilon = epsilon;
  int64_t rows = out->sizes[0] * out->sizes[1];
  if (rows == 0 || p.depth == 0)
    return;
  int contiguous = p.input_stride[2] == 1 && p.out_stride[2] == 1 &&
                   p.scale_stride == 1 && (!p.skip || p.skip_stride[2] == 1) &&
                   (!p.bias || p.bias_stride == 1);
  tfc_rt_parallel_body body =
      contiguous ? layer_norm_rows : layer_norm_rows_strided;
  /* Below a few thousand elements, waking the pool costs more than the
   * rows. */
  if (rows * p.depth < 8192)
    body(&p, 0, rows);
  else
    tfc_rt_parallel_for(body, &p, rows);
}
