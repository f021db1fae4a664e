/*===- linear_attention_f32.c - tfm.linear_attention, chunked ------*- C -*-===*
 *
 * Linear attention in time and memory linear in the sequence. For one head
 * (a task: batch * heads of them), with φ the feature map, γ the head's
 * decay (1 without) and the weight of key j for the query at position p
 * w_pj = scale φ(q_p)·φ(k_j) γ^(p-j):
 *
 *   causal   the keys in chunks of TFC_LINEAR_ATTENTION_CHUNK positions t0..
 *            t0+n-1. A query at position t0+a of the chunk gets
 *              Σ_{j<=a} w_aj v_j           (exact, inside the chunk)
 *              + scale γ^(a+1) φ(q) S      (every key before the chunk)
 *            where S (dk x dv) = Σ_{j<t0} γ^(t0-1-j) φ(k_j) v_jᵀ, and the
 *            normalizer the same with z = Σ γ^(t0-1-j) φ(k_j) in place of S;
 *            then S = γ^n S + Σ_j γ^(n-1-j) φ(k_j) v_jᵀ.
 *   not      S and z over every key, then each query φ(q) S / (φ(q)·z + ε).
 *
 * The queries are the last Lq of the Lk positions (a decode step: Lq = 1):
 * chunks before the first query only update S. Per chunk the work is
 * about 8 n² d vector-lane products for d = dk = dv, so a token costs
 * O(chunk · d) instead of O(L · d).
 *
 * Rows of q, k and v are read through their strides (a packed qkv split
 * into parts is a strided view) into the thread's scratch, with the
 * feature map applied and dv padded to whole vectors of 16.
 *
 *===----------------------------------------------------------------------===*/

#include "kernels.h"
#include "tfc/runtime/tfc_abi.h"
#include "vector_ops.h"

#include <math.h>

enum { CHUNK = TFC_LINEAR_ATTENTION_CHUNK };
_Static_assert(CHUNK % 16 == 0 && CHUNK <= 64, "a chunk is 1 to 4 vectors");

static int64_t padded(int64_t n) { return (n + 15) / 16 * 16; }

/* tfc_kernel_linear_attention_f32_scratch_floats (plans.c) sizes the
 * scratch: the layout at the top of the tasks function. */

/* φ over a row of n values into `to` (padded with zeros to whole vectors). */
static void feature_row(const tfc_linear_attention_f32_problem *p,
                        const float *from, int64_t stride, int64_t n,
                        float *to) {
  for (int64_t d0 = 0; d0 < n; d0 += 16) {
    float lanes[16] __attribute__((aligned(64))) = {0};
    int64_t width = n - d0 < 16 ? n - d0 : 16;
    for (int64_t i = 0; i < width; ++i)
      lanes[i] = from[(d0 + i) * stride];
    vf16 x = LOAD16(lanes);
    if (p->feature_map == TFC_RT_LINEAR_ATTENTION_ELU_PLUS_ONE) {
      /* x + 1 for x > 0, else e^x = 2^(x log2 e), x <= 0. */
      vf16 negative = __builtin_elementwise_min(x, SPLAT16(0.0f));
      vf16 e = EXP2_16(negative * 1.44269504088896341f);
      vi16 positive = x > 0.0f;
      x = (vf16)(((vi16)(x + 1.0f) & positive) | ((vi16)e & ~positive));
    } else if (p->feature_map == TFC_RT_LINEAR_ATTENTION_RELU) {
      x = __builtin_elementwise_max(x, SPLAT16(0.0f));
    }
    STORE16(lanes, x);
    for (int64_t i = 0; i < width; ++i)
      to[d0 + i] = lanes[i];
  }
}

/* S = decay * S + Σ_{j<n} coefficient_j φk_j ⊗ v_j (and z the same with 1
 * for v), coefficient_j = powers[n - 1 - j]: the chunk's keys added to the
 * state. */
static void update_state(int64_t dk, int64_t dvp, int64_t n, float decay,
                         const float *kt, const float *vs, const float *powers,
                         float *state, float *z) {
  for (int64_t d = 0; d < dk; ++d) {
    const float *krow = kt + d * CHUNK;
    float *srow = state + d * dvp;
    float zsum = 0.0f;
    for (int64_t j = 0; j < n; ++j)
      zsum += krow[j] * powers[n - 1 - j];
    z[d] = z[d] * decay + zsum;
    for (int64_t e0 = 0; e0 < dvp; e0 += 64) {
      int64_t vectors = (dvp - e0) / 16 < 4 ? (dvp - e0) / 16 : 4;
      vf16 acc[4];
      for (int u = 0; u < 4; ++u)
        acc[u] = u < vectors ? LOAD16(srow + e0 + 16 * u) * decay : SPLAT16(0.0f);
      for (int64_t j = 0; j < n; ++j) {
        float c = krow[j] * powers[n - 1 - j];
        const float *vrow = vs + j * dvp + e0;
        UNROLL for (int u = 0; u < 4; ++u)
          if (u < vectors)
            acc[u] += c * LOAD16(vrow + 16 * u);
      }
      for (int u = 0; u < vectors; ++u)
        STORE16(srow + e0 + 16 * u, acc[u]);
    }
  }
}

/* The output of one query from its row of weights over the chunk's first
 * `visible` keys and, scaled by `carried`, its product with the state. */
static void emit_query(const tfc_linear_attention_f32_problem *p,
                       const float *qrow, const float *weights,
                       int64_t visible, float carried, const float *vs,
                       const float *state, const float *z, float *out_row) {
  int64_t dk = p->dk, dv = p->dv, dvp = padded(dv);
  float lanes[16] __attribute__((aligned(64)));
  float denominator = 0.0f;
  if (p->normalize) {
    for (int64_t j = 0; j < visible; ++j)
      denominator += weights[j];
    float dot = 0.0f;
    for (int64_t d = 0; d < dk; ++d)
      dot += qrow[d] * z[d];
    denominator += carried * dot + p->epsilon;
  }
  for (int64_t e0 = 0; e0 < dvp; e0 += 64) {
    int64_t vectors = (dvp - e0) / 16 < 4 ? (dvp - e0) / 16 : 4;
    vf16 acc[4] = {SPLAT16(0.0f), SPLAT16(0.0f), SPLAT16(0.0f), SPLAT16(0.0f)};
    for (int64_t j = 0; j < visible; ++j) {
      const float *vrow = vs + j * dvp + e0;
      UNROLL for (int u = 0; u < 4; ++u)
        if (u < vectors)
          acc[u] += weights[j] * LOAD16(vrow + 16 * u);
    }
    if (carried != 0.0f) {
      vf16 from_state[4] = {SPLAT16(0.0f), SPLAT16(0.0f), SPLAT16(0.0f),
                            SPLAT16(0.0f)};
      for (int64_t d = 0; d < dk; ++d) {
        const float *srow = state + d * dvp + e0;
        UNROLL for (int u = 0; u < 4; ++u)
          if (u < vectors)
            from_state[u] += qrow[d] * LOAD16(srow + 16 * u);
      }
      for (int u = 0; u < vectors; ++u)
        acc[u] += carried * from_state[u];
    }
    for (int u = 0; u < vectors; ++u) {
      vf16 o = p->normalize ? acc[u] / denominator : acc[u];
      STORE16(lanes, o);
      int64_t base = e0 + 16 * u;
      int64_t width = dv - base < 16 ? dv - base : 16;
      for (int64_t i = 0; i < width; ++i)
        out_row[(base + i) * p->out_stride[3]] = lanes[i];
    }
  }
}

void TFC_KERNEL_FN(tfc_kernel_linear_attention_f32_tasks)(
    const tfc_linear_attention_f32_problem *p, float *scratch, int64_t begin,
    int64_t end) {
  int64_t dk = p->dk, dv = p->dv, dkp = padded(dk), dvp = padded(dv);
  float *qs = scratch;                  /* [CHUNK][dkp] */
  float *kt = qs + CHUNK * dkp;         /* [dk][CHUNK] */
  float *vs = kt + dk * CHUNK;          /* [CHUNK][dvp] */
  float *weights = vs + CHUNK * dvp;    /* [CHUNK][CHUNK] */
  float *state = weights + CHUNK * CHUNK; /* [dk][dvp] */
  float *z = state + dk * dvp;          /* [dkp] */
  float *powers = z + dkp;              /* γ^m, m = 0..CHUNK */
  float krow[16 * 64] __attribute__((aligned(64)));
  for (int64_t task = begin; task < end; ++task) {
    int64_t b = task / p->heads, h = task % p->heads;
    const float *q = p->q + b * p->q_stride[0] + h * p->q_stride[2];
    const float *k = p->k + b * p->k_stride[0] + h * p->k_stride[2];
    const float *v = p->v + b * p->v_stride[0] + h * p->v_stride[2];
    float *out = p->out + b * p->out_stride[0] + h * p->out_stride[2];
    float gamma = p->decay ? p->decay[h] : 1.0f;
    powers[0] = 1.0f;
    for (int m = 1; m <= CHUNK; ++m)
      powers[m] = powers[m - 1] * gamma;
    for (int64_t i = 0; i < dk * dvp; ++i)
      state[i] = 0.0f;
    for (int64_t d = 0; d < dkp; ++d)
      z[d] = 0.0f;
    int64_t offset = p->causal ? p->k_len - p->q_len : 0;
    /* The keys chunk by chunk: φk transposed and v padded into scratch,
     * then (causal) the chunk's queries, then the state. */
    for (int64_t t0 = 0; t0 < p->k_len; t0 += CHUNK) {
      int64_t n = p->k_len - t0 < CHUNK ? p->k_len - t0 : CHUNK;
      for (int64_t j = 0; j < CHUNK; ++j) {
        if (j < n) {
          int64_t t = t0 + j;
          feature_row(p, k + t * p->k_stride[1], p->k_stride[3], dk, krow);
          for (int64_t d = 0; d < dk; ++d)
            kt[d * CHUNK + j] = krow[d];
          float *vrow = vs + j * dvp;
          for (int64_t e = 0; e < dv; ++e)
            vrow[e] = v[t * p->v_stride[1] + e * p->v_stride[3]];
          for (int64_t e = dv; e < dvp; ++e)
            vrow[e] = 0.0f;
        } else {
          for (int64_t d = 0; d < dk; ++d)
            kt[d * CHUNK + j] = 0.0f;
        }
      }
      if (p->causal && t0 + n > offset) {
        /* The chunk's queries: local positions a from first to n - 1. */
        int64_t first = offset > t0 ? offset - t0 : 0;
        for (int64_t a = first; a < n; ++a) {
          int64_t i = t0 + a - offset;
          float *qrow = qs + a * dkp;
          feature_row(p, q + i * p->q_stride[1], p->q_stride[3], dk, qrow);
          /* w_aj = scale φq·φk_j γ^(a-j) for j <= a, vectors of 16 j. */
          float *wrow = weights + a * CHUNK;
          int64_t jvectors = a / 16 + 1;
          vf16 acc[CHUNK / 16];
          UNROLL for (int u = 0; u < CHUNK / 16; ++u)
            acc[u] = SPLAT16(0.0f);
          for (int64_t d = 0; d < dk; ++d) {
            const float *kd = kt + d * CHUNK;
            UNROLL for (int u = 0; u < CHUNK / 16; ++u)
              if (u < jvectors)
                acc[u] += qrow[d] * LOAD16(kd + 16 * u);
          }
          for (int u = 0; u < jvectors; ++u)
            STORE16(wrow + 16 * u, acc[u] * p->scale);
          for (int64_t j = 0; j <= a; ++j)
            wrow[j] *= powers[a - j];
          emit_query(p, qrow, wrow, a + 1,
                     t0 > 0 ? p->scale * powers[a + 1] : 0.0f, vs, state, z,
                     out + i * p->out_stride[1]);
        }
      }
      update_state(dk, dvp, n, powers[n], kt, vs, powers, state, z);
    }
    if (p->causal)
      continue;
    /* Not causal: every query against the whole state. */
    for (int64_t i = 0; i < p->q_len; ++i) {
      float *qrow = qs;
      feature_row(p, q + i * p->q_stride[1], p->q_stride[3], dk, qrow);
      emit_query(p, qrow, weights, 0, p->scale, vs, state, z,
                 out + i * p->out_stride[1]);
    }
  }
}
