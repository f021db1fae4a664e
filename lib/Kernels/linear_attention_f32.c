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
 * A sequence may continue across calls: `carry` holds each task's S and z
 * after a call and, with carry_in, gives the next call the keys before its
 * first (a prefill, then one call per decoded token, each costing O(d²)
 * whatever the context).
 *
 * A sliding window (--linearize=hybrid): the keys within `window`
 * positions of a query weigh exp(qw · kw), their exact softmax weight, in
 * place of the features' estimate. Causal, the linear form above runs
 * `window` keys behind the queries (a query's linear keys end where its
 * window begins) and each query adds Σ_j e_j v_j over its window (and
 * Σ_j e_j to its normalizer), the keys' window rows and values from a
 * ring of the last window + chunk keys. Not causal, the state holds every
 * key and each window key's linear weight is taken out again (its
 * features in the ring too). O(window · (E + dv)) more per query (not
 * causal O(window · (dk + E + dv))), in vectors, and no memory that grows
 * with the sequence.
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

/* Rows this many positions ahead are prefetched: a head's rows of q, k
 * and v are a few cache lines each, one row stride (the whole model width)
 * apart, a pattern the hardware prefetchers follow poorly; the loads of
 * the rows were a third of the kernel's time at 8192 tokens. */
enum { PREFETCH_AHEAD = 8 };

/* The cache lines of the row `n` values `stride` apart at `row` (a row of
 * unit stride: 16 floats a line). */
static inline void prefetch_row(const float *row, int64_t stride, int64_t n) {
  if (stride != 1)
    return;
  for (int64_t i = 0; i < n; i += 16)
    __builtin_prefetch(row + i);
}

/* e^x = 2^(x log2 e); EXP2_16 takes x <= 0, so a positive x is 1 / e^-x
 * (which overflows to inf past 88, as e^x does). */
#define EXP16(x)                                                               \
  ({                                                                           \
    vf16 x16_ = (x);                                                           \
    vi16 positive_ = x16_ > 0.0f;                                              \
    vf16 e_ = EXP2_16(__builtin_elementwise_min(x16_, -x16_) *                 \
                      1.44269504088896341f);                                   \
    (vf16)(((vi16)(1.0f / e_) & positive_) | ((vi16)e_ & ~positive_));         \
  })

/* φ over a row of n values into `to` (n values; the caller pads). */
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
      /* x + 1 for x > 0, else elu(x) + 1 = (e^x - 1) + 1 with
       * e^x = 2^(x log2 e), x <= 0. Rounded as the exported graph rounds
       * it (0 below about -17), not e^x itself: models trained in f32
       * learned with that (see tfm.linear_attention's feature_map). */
      vf16 negative = __builtin_elementwise_min(x, SPLAT16(0.0f));
      vf16 e = (EXP2_16(negative * 1.44269504088896341f) - 1.0f) + 1.0f;
      vi16 positive = x > 0.0f;
      x = (vf16)(((vi16)(x + 1.0f) & positive) | ((vi16)e & ~positive));
    } else if (p->feature_map == TFC_RT_LINEAR_ATTENTION_EXP) {
      x = EXP16(x);
    } else if (p->feature_map == TFC_RT_LINEAR_ATTENTION_RELU) {
      x = __builtin_elementwise_max(x, SPLAT16(0.0f));
    }
    STORE16(lanes, x);
    for (int64_t i = 0; i < width; ++i)
      to[d0 + i] = lanes[i];
  }
}

/* Rows per register tile of the products below: ROWS x 4 vectors of 16
 * accumulators (16 zmm with AVX-512; AVX2's and NEON's vf16 take 2 and 4
 * registers, so they keep one row). Tiles of one row were bound by the
 * FMA latency (4 chains). */
#if defined(__AVX512F__)
#define ROWS 4
#else
#define ROWS 1
#endif

/* acc[r][u] += Σ_{d < depth} a[r * a_stride + d] * b[d * b_stride + 16 u]
 * for r < ROWS, u < U: rows of `a` times a matrix of U vectors' width.
 * Rows past the caller's last are read but not used (the scratch holds
 * them). */
static inline __attribute__((always_inline)) void
product_tile(const float *a, int64_t a_stride, const float *b,
             int64_t b_stride, int64_t depth, vf16 acc[ROWS][4], const int U) {
  for (int64_t d = 0; d < depth; ++d) {
    vf16 bv[4];
    UNROLL for (int u = 0; u < U; ++u)
      bv[u] = LOAD16(b + d * b_stride + 16 * u);
    UNROLL for (int r = 0; r < ROWS; ++r) {
      float x = a[r * a_stride + d];
      UNROLL for (int u = 0; u < U; ++u)
        acc[r][u] += x * bv[u];
    }
  }
}

/* product_tile into zeroed accumulators, U = `vectors` (1 to 4). */
static void product(const float *a, int64_t a_stride, const float *b,
                    int64_t b_stride, int64_t depth, int64_t vectors,
                    vf16 acc[ROWS][4]) {
  UNROLL for (int r = 0; r < ROWS; ++r)
    UNROLL for (int u = 0; u < 4; ++u)
      acc[r][u] = SPLAT16(0.0f);
  switch (vectors) {
  case 1: product_tile(a, a_stride, b, b_stride, depth, acc, 1); break;
  case 2: product_tile(a, a_stride, b, b_stride, depth, acc, 2); break;
  case 3: product_tile(a, a_stride, b, b_stride, depth, acc, 3); break;
  default: product_tile(a, a_stride, b, b_stride, depth, acc, 4); break;
  }
}

/* The chunk's n keys added to the state: S = decay S + Σ_j c_j φk_j ⊗ v_j
 * and z = decay z + Σ_j c_j φk_j, with c_j = powers[n - 1 - j]. Scales kt's
 * columns by c_j in place (the chunk's queries are done with it). */
static void update_state(int64_t dk, int64_t dvp, int64_t n, float decay,
                         float *kt, const float *vs, const float *powers,
                         float *state, float *z) {
  for (int64_t d = 0; d < dk; ++d) {
    float *krow = kt + d * CHUNK;
    float zsum = 0.0f;
    for (int64_t j = 0; j < n; ++j) {
      krow[j] *= powers[n - 1 - j];
      zsum += krow[j];
    }
    z[d] = z[d] * decay + zsum;
  }
  vf16 acc[ROWS][4];
  for (int64_t d0 = 0; d0 < dk; d0 += ROWS) {
    int64_t rows = dk - d0 < ROWS ? dk - d0 : ROWS;
    for (int64_t e0 = 0; e0 < dvp; e0 += 64) {
      int64_t vectors = (dvp - e0) / 16 < 4 ? (dvp - e0) / 16 : 4;
      product(kt + d0 * CHUNK, CHUNK, vs + e0, dvp, n, vectors, acc);
      for (int64_t r = 0; r < rows; ++r)
        for (int u = 0; u < vectors; ++u) {
          float *srow = state + (d0 + r) * dvp + e0 + 16 * u;
          STORE16(srow, LOAD16(srow) * decay + acc[r][u]);
        }
    }
  }
}

/* Rows [a0, a0 + rows) of the chunk's queries (φq in qs, their weights
 * over the chunk's keys in `weights`, zero past each row's last visible
 * key, `visible` keys for the last row): their outputs, each its
 * within-chunk part plus carried[r] times its product with the state,
 * plus, with a window, its correction (extra [rows][dvp] and
 * extra_den[16 r]: window_part's). */
static void emit_queries(const tfc_linear_attention_f32_problem *p,
                         const float *qs, const float *weights, int64_t a0,
                         int64_t rows, int64_t visible, const float *carried,
                         const float *vs, const float *state, const float *z,
                         const float *extra, const float *extra_den,
                         float *const *out_rows) {
  int64_t dk = p->dk - p->window_dim, dv = p->dv, dkp = padded(dk),
          dvp = padded(dv);
  float denominator[ROWS];
  for (int64_t r = 0; r < rows; ++r) {
    denominator[r] = 1.0f;
    if (!p->normalize)
      continue;
    const float *wrow = weights + (a0 + r) * CHUNK;
    const float *qrow = qs + (a0 + r) * dkp;
    float sum = 0.0f, dot = 0.0f;
    for (int64_t j = 0; j < visible; ++j)
      sum += wrow[j];
    if (carried[r] != 0.0f)
      for (int64_t d = 0; d < dk; ++d)
        dot += qrow[d] * z[d];
    denominator[r] = sum + carried[r] * dot + p->epsilon;
    if (extra)
      denominator[r] += extra_den[16 * r];
  }
  int any_carried = 0;
  for (int64_t r = 0; r < rows; ++r)
    any_carried |= carried[r] != 0.0f;
  vf16 inside[ROWS][4], from_state[ROWS][4];
  float lanes[16] __attribute__((aligned(64)));
  for (int64_t e0 = 0; e0 < dvp; e0 += 64) {
    int64_t vectors = (dvp - e0) / 16 < 4 ? (dvp - e0) / 16 : 4;
    product(weights + a0 * CHUNK, CHUNK, vs + e0, dvp, visible, vectors, inside);
    if (any_carried)
      product(qs + a0 * dkp, dkp, state + e0, dvp, dk, vectors, from_state);
    for (int64_t r = 0; r < rows; ++r)
      for (int u = 0; u < vectors; ++u) {
        vf16 o = inside[r][u];
        if (any_carried)
          o += carried[r] * from_state[r][u];
        if (extra)
          o += LOAD16(extra + r * dvp + e0 + 16 * u);
        STORE16(lanes, o / denominator[r]);
        int64_t base = e0 + 16 * u;
        int64_t width = dv - base < 16 ? dv - base : 16;
        for (int64_t i = 0; i < width; ++i)
          out_rows[r][(base + i) * p->out_stride[3]] = lanes[i];
      }
  }
}

/* A sliding window's buffers in the thread's scratch
 * (tfc_kernel_linear_attention_f32_window_floats sizes them). */
typedef struct window_buffers {
  /* [ring_rows][row]: key t in row t % ring_rows, zero-padded to whole
   * vectors: not causal its φk (dkp), then (both) its window row kw (dwp)
   * and its value (dvp). */
  float *ring;
  int64_t ring_rows, row, features;
  int64_t next;     /* the next key the ring takes */
  float *query;     /* the query's φq (not causal) and qw, zero-padded */
  float *scores;    /* the window's keys: qw · kw, then exp of it */
  float *linear;    /* the window's keys: their linear weights */
  float *extra;     /* [ROWS][dvp]: each row's window part */
  float *extra_den; /* [ROWS][16]: its normalizer's, in lane 0 */
} window_buffers;

static window_buffers window_layout(const tfc_linear_attention_f32_problem *p,
                                    float *at) {
  int64_t dkp = padded(p->dk - p->window_dim), dvp = padded(p->dv),
          dwp = padded(p->window_dim);
  int64_t keys = padded(2 * p->window) + 16;
  window_buffers w;
  /* Causal, the chunk's queries see keys up to `window` past the chunk's
   * (below); not causal, a tile's queries see `window` on either side. */
  w.ring_rows = p->causal ? p->window + CHUNK : 2 * p->window + CHUNK;
  w.features = p->causal ? 0 : dkp;
  w.row = w.features + dwp + dvp;
  w.next = 0;
  w.ring = at;
  w.query = w.ring + w.ring_rows * w.row;
  w.scores = w.query + dkp + dwp;
  w.linear = w.scores + keys;
  w.extra = w.linear + keys;
  w.extra_den = w.extra + 4 * dvp;
  return w;
}

/* n values `stride` apart into `to`, zeros after them up to `width`. */
static void gather_row(float *to, const float *from, int64_t stride, int64_t n,
                       int64_t width) {
  for (int64_t i = 0; i < n; ++i)
    to[i] = from[i * stride];
  for (int64_t i = n; i < width; ++i)
    to[i] = 0.0f;
}

/* Keys up to `last` (within the sequence) into the ring, from the first it
 * does not have: their features (not causal, applied here; `phi` is a
 * row's scratch), window rows and values. */
static void ring_fill(const tfc_linear_attention_f32_problem *p,
                      window_buffers *w, const float *k, const float *v,
                      int64_t last, float *phi) {
  int64_t dk = p->dk - p->window_dim, dwp = padded(p->window_dim);
  if (last > p->k_len - 1)
    last = p->k_len - 1;
  for (; w->next <= last; ++w->next) {
    int64_t t = w->next;
    const float *krow = k + t * p->k_stride[1];
    float *row = w->ring + (t % w->ring_rows) * w->row;
    if (w->features) {
      feature_row(p, krow, p->k_stride[3], dk, phi);
      gather_row(row, phi, 1, dk, w->features);
    }
    gather_row(row + w->features, krow + dk * p->k_stride[3], p->k_stride[3],
               p->window_dim, dwp);
    gather_row(row + w->features + dwp, v + t * p->v_stride[1],
               p->v_stride[3], p->dv, padded(p->dv));
  }
}

/* The window of the query at position `pos` (its q row `qrow`; not causal
 * its features `phi`, dk of them), from the ring: row r of `extra` gets
 * Σ_j c_j v_j and lane 0 of its extra_den Σ_j c_j over the keys j in the
 * window, with e_j = exp(qw · kw_j) their exact weight and
 *   causal   c_j = e_j: the linear form saw only the keys before the
 *            window (its keys run `window` behind the queries);
 *   not      c_j = e_j - l_j: the state holds every key, so each window
 *            key's linear weight l_j = scale φq · φk_j comes out again
 *            (rounding relative to the row's whole weight). */
static void window_part(const tfc_linear_attention_f32_problem *p,
                        window_buffers *w, const float *qrow,
                        const float *phi, int64_t pos, int64_t r) {
  int64_t dk = p->dk - p->window_dim, dkp = w->features,
          dwp = padded(p->window_dim), dvp = padded(p->dv);
  int64_t lo = pos - p->window + 1 < 0 ? 0 : pos - p->window + 1;
  int64_t hi = p->causal ? pos : pos + p->window - 1;
  if (hi > p->k_len - 1)
    hi = p->k_len - 1;
  int64_t count = hi - lo + 1;
  float *num = w->extra + r * dvp;
  for (int64_t e = 0; e < dvp; e += 16)
    STORE16(num + e, SPLAT16(0.0f));
  w->extra_den[16 * r] = 0.0f;
  if (count <= 0)
    return;
  if (dkp)
    gather_row(w->query, phi, 1, dk, dkp);
  gather_row(w->query + dkp, qrow + dk * p->q_stride[3], p->q_stride[3],
             p->window_dim, dwp);
  /* Both products of each key in one pass over its row, the features' in
   * 4 chains (one was bound by the FMA latency). */
  const float *query = w->query;
  int64_t slot = lo % w->ring_rows;
  for (int64_t i = 0; i < count; ++i) {
    const float *key = w->ring + slot * w->row;
    slot = slot + 1 == w->ring_rows ? 0 : slot + 1;
    if (dkp) {
      vf16 acc[4] = {SPLAT16(0.0f), SPLAT16(0.0f), SPLAT16(0.0f),
                     SPLAT16(0.0f)};
      int64_t d0 = 0;
      for (; d0 + 64 <= dkp; d0 += 64)
        UNROLL for (int u = 0; u < 4; ++u)
          acc[u] += LOAD16(query + d0 + 16 * u) * LOAD16(key + d0 + 16 * u);
      for (; d0 < dkp; d0 += 16)
        acc[0] += LOAD16(query + d0) * LOAD16(key + d0);
      w->linear[i] = p->scale * SUM16((acc[0] + acc[1]) + (acc[2] + acc[3]));
    } else {
      w->linear[i] = 0.0f;
    }
    vf16 exact[2] = {SPLAT16(0.0f), SPLAT16(0.0f)};
    int64_t d0 = dkp;
    for (; d0 + 32 <= dkp + dwp; d0 += 32) {
      exact[0] += LOAD16(query + d0) * LOAD16(key + d0);
      exact[1] += LOAD16(query + d0 + 16) * LOAD16(key + d0 + 16);
    }
    for (; d0 < dkp + dwp; d0 += 16)
      exact[0] += LOAD16(query + d0) * LOAD16(key + d0);
    w->scores[i] = SUM16(exact[0] + exact[1]);
  }
  /* exp in vectors; past 88 it would be inf (a window weight e^88 times
   * any other's: the row is that key's value either way). */
  for (int64_t i = 0; i < count; i += 16)
    STORE16(w->scores + i,
            EXP16(__builtin_elementwise_min(LOAD16(w->scores + i),
                                            SPLAT16(88.0f))));
  float den = 0.0f;
  slot = lo % w->ring_rows;
  for (int64_t i = 0; i < count; ++i) {
    float c = w->scores[i] - w->linear[i];
    den += c;
    const float *value = w->ring + slot * w->row + dkp + dwp;
    slot = slot + 1 == w->ring_rows ? 0 : slot + 1;
    for (int64_t e = 0; e < dvp; e += 16)
      STORE16(num + e, LOAD16(num + e) + c * LOAD16(value + e));
  }
  w->extra_den[16 * r] = den;
}

void TFC_KERNEL_FN(tfc_kernel_linear_attention_f32_tasks)(
    const tfc_linear_attention_f32_problem *p, float *scratch, int64_t begin,
    int64_t end) {
  /* dk: the features (a window's rows follow them in q and k). */
  int64_t dk = p->dk - p->window_dim, dv = p->dv, dkp = padded(dk),
          dvp = padded(dv);
  float *qs = scratch;                    /* [CHUNK][dkp] */
  float *kt = qs + CHUNK * dkp;           /* [dk][CHUNK] */
  float *vs = kt + dk * CHUNK;            /* [CHUNK][dvp] */
  float *weights = vs + CHUNK * dvp;      /* [CHUNK][CHUNK] */
  float *state = weights + CHUNK * CHUNK; /* [dk][dvp] */
  float *z = state + dk * dvp;            /* [dkp] */
  int window = p->window > 0;
  window_buffers w = window_layout(p, z + dkp);
  float *powers = z + dkp + tfc_kernel_linear_attention_f32_window_floats(p);
  /* powers: γ^m, m = 0..CHUNK */
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
    /* S and z directly follow each other in scratch, as in `carry`. */
    int64_t carry_floats = dk * dvp + dkp;
    float *carry = p->carry ? p->carry + task * carry_floats : NULL;
    int continued = carry && p->carry_in;
    for (int64_t i = 0; i < carry_floats; ++i)
      state[i] = continued ? carry[i] : 0.0f;
    int64_t offset = p->causal ? p->k_len - p->q_len : 0;
    /* Causal with a window, the linear form runs `window` keys behind the
     * queries: query i (position i + offset) takes the keys up to
     * i + behind through the features and the rest exactly (window_part).
     * The first queries, whose windows hold every key before them, take
     * the window alone. */
    int64_t lag = window && p->causal ? p->window : 0;
    int64_t behind = offset - lag;
    int64_t last_linear = p->q_len - 1 + behind; /* the last query's */
    w.next = 0;
    if (lag) {
      int64_t early = -behind < p->q_len ? -behind : p->q_len;
      for (int64_t i0 = 0; i0 < early; i0 += ROWS) {
        int64_t rows = early - i0 < ROWS ? early - i0 : ROWS;
        float carried[ROWS] = {0};
        float *out_rows[ROWS];
        ring_fill(p, &w, k, v, i0 + rows - 1 + offset, krow);
        for (int64_t r = 0; r < rows; ++r) {
          out_rows[r] = out + (i0 + r) * p->out_stride[1];
          window_part(p, &w, q + (i0 + r) * p->q_stride[1], NULL,
                      i0 + r + offset, r);
        }
        emit_queries(p, qs, weights, 0, rows, 0, carried, vs, state, z,
                     w.extra, w.extra_den, out_rows);
      }
    }
    /* The keys chunk by chunk: φk transposed and v padded into scratch,
     * then (causal) the chunk's queries, then the state. */
    for (int64_t t0 = 0; t0 < p->k_len; t0 += CHUNK) {
      int64_t n = p->k_len - t0 < CHUNK ? p->k_len - t0 : CHUNK;
      for (int64_t j = 0; j < CHUNK; ++j) {
        if (j < n) {
          int64_t t = t0 + j;
          if (t + PREFETCH_AHEAD < p->k_len) {
            prefetch_row(k + (t + PREFETCH_AHEAD) * p->k_stride[1],
                         p->k_stride[3], p->dk);
            prefetch_row(v + (t + PREFETCH_AHEAD) * p->v_stride[1],
                         p->v_stride[3], dv);
          }
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
      if (p->causal && t0 + n > behind && t0 <= last_linear) {
        /* The chunk's queries: local positions a from `first` to end - 1
         * (query t0 + a - behind), in tiles of ROWS. */
        int64_t first = behind > t0 ? behind - t0 : 0;
        int64_t end = last_linear - t0 + 1 < n ? last_linear - t0 + 1 : n;
        for (int64_t a = first; a < end; ++a) {
          if (a + PREFETCH_AHEAD < end)
            prefetch_row(q + (t0 + a + PREFETCH_AHEAD - behind) * p->q_stride[1],
                         p->q_stride[3], p->dk);
          feature_row(p, q + (t0 + a - behind) * p->q_stride[1],
                      p->q_stride[3], dk, qs + a * dkp);
        }
        if (lag) {
          /* The windows of queries first..end-1 hold keys t0 + first + 1 to
           * t0 + end - 1 + lag; keys before them need no loading (a call
           * whose queries start late skips its context's). */
          if (w.next < t0 + first + 1)
            w.next = t0 + first + 1;
          ring_fill(p, &w, k, v, t0 + end - 1 + lag, krow);
        }
        vf16 acc[ROWS][4];
        for (int64_t a0 = first; a0 < end; a0 += ROWS) {
          int64_t rows = end - a0 < ROWS ? end - a0 : ROWS;
          int64_t visible = a0 + rows; /* the last row's keys */
          /* w_aj = scale φq_a·φk_j γ^(a-j) for j <= a, else 0. */
          int64_t jvectors = (visible + 15) / 16;
          product(qs + a0 * dkp, dkp, kt, CHUNK, dk, jvectors, acc);
          float carried[ROWS];
          float *out_rows[ROWS];
          for (int64_t r = 0; r < rows; ++r) {
            int64_t a = a0 + r;
            float *wrow = weights + a * CHUNK;
            for (int u = 0; u < jvectors; ++u)
              STORE16(wrow + 16 * u, acc[r][u] * p->scale);
            for (int64_t j = 0; j <= a; ++j)
              wrow[j] *= powers[a - j];
            for (int64_t j = a + 1; j < visible; ++j)
              wrow[j] = 0.0f;
            carried[r] =
                t0 > 0 || continued ? p->scale * powers[a + 1] : 0.0f;
            out_rows[r] = out + (t0 + a - behind) * p->out_stride[1];
            if (lag)
              window_part(p, &w, q + (t0 + a - behind) * p->q_stride[1],
                          NULL, t0 + a + lag, r);
          }
          emit_queries(p, qs, weights, a0, rows, visible, carried, vs, state,
                       z, window ? w.extra : NULL, w.extra_den, out_rows);
        }
      }
      update_state(dk, dvp, n, powers[n], kt, vs, powers, state, z);
    }
    if (carry)
      for (int64_t i = 0; i < carry_floats; ++i)
        carry[i] = state[i];
    if (p->causal)
      continue;
    /* Not causal: every query against the whole state, ROWS at a time.
     * With a window, query i is position i + (Lk - Lq) and the ring gets
     * the keys within the window of the tile's queries as they come. */
    int64_t shift = p->k_len - p->q_len;
    for (int64_t i0 = 0; i0 < p->q_len; i0 += ROWS) {
      int64_t rows = p->q_len - i0 < ROWS ? p->q_len - i0 : ROWS;
      float carried[ROWS];
      float *out_rows[ROWS];
      if (window) {
        int64_t need_lo = i0 + shift - p->window + 1;
        if (w.next < need_lo)
          w.next = need_lo;
        ring_fill(p, &w, k, v, i0 + rows - 1 + shift + p->window - 1, krow);
      }
      for (int64_t r = 0; r < rows; ++r) {
        feature_row(p, q + (i0 + r) * p->q_stride[1], p->q_stride[3], dk,
                    qs + r * dkp);
        carried[r] = p->scale;
        out_rows[r] = out + (i0 + r) * p->out_stride[1];
        if (window)
          window_part(p, &w, q + (i0 + r) * p->q_stride[1], qs + r * dkp,
                      i0 + r + shift, r);
      }
      emit_queries(p, qs, weights, 0, rows, 0, carried, vs, state, z,
                   window ? w.extra : NULL, w.extra_den, out_rows);
    }
  }
}
