/*===- attention_f32.c - the fused multi-head attention kernel ---*- C -*-===*
 *
 * tfm.attention becomes one call of tfc_rt_attention. The kernel is
 * flash attention on the CPU: for each (batch, head, block of BLOCK_Q
 * queries) it walks the keys in blocks of BLOCK_K, computing that block of
 * scores, folding it into a running maximum and sum per query (the online
 * softmax) and into the output accumulator rescaled to the new maximum. No
 * head's Lq x Lk scores exist at any time: extra memory is a few blocks per
 * thread and, past TFC_ATTENTION_IN_PLACE_MAX_KEYS keys or when a head's
 * elements are strided, a contiguous copy of K and V (linear in the
 * sequence length); shorter K and V are read where they lie.
 *
 * Blocks that no query of the block can see are skipped: under a causal
 * mask, the keys after the block's last query; under a key-padding mask
 * ([B, 1, 1, Lk]), the padded keys after a sequence's last real one. Both
 * skips are exact: such keys get exp(mask - max) == 0 in float arithmetic
 * as long as the row sees some key, which the rules below guarantee.
 *
 * The products are register tiles shaped for each instruction set (see
 * the tiles below); the softmax works on vectors of 16 queries for every
 * set. The build compiles this file once per set. With bf16 products
 * (tfm.attention precision = "bf16") the same tiles take pairs of bf16
 * (attention_bf16.inc): K and V are always packed, as pairs, and the
 * softmax stays f32.
 *
 *===----------------------------------------------------------------------===*/

#include "amx.h"
#include "bf16.h"
#include "kernels.h"
#include "vector_ops.h"

#include <math.h>
#include <string.h>

enum {
  BLOCK_Q = TFC_ATTENTION_BLOCK_Q,
  BLOCK_K = TFC_ATTENTION_BLOCK_K,
};

/* The register tiles of each instruction set (TFC_VLEN floats a register):
 *
 *   scores   SCORE_KEYS(QV) keys by QV registers of queries, QV at most
 *            SCORE_VECTORS: the accumulators, QV registers of queries and a
 *            broadcast key element fit the register file.
 *   output   OUTPUT_ROWS queries by OUTPUT_VECTORS registers of columns.
 *
 * AVX-512 (32 zmm): scores 6 x 4 (the 64 queries of a block at once), 8 x 3,
 *   12 x 2 or 1; output 6 x 4 (64 columns).
 * AVX2 (16 ymm): scores 6 x 2 (16 queries), 12 x 1; output 6 x 2 (16
 *   columns). The AVX-512 tiles compiled for AVX2 needed 48 registers of
 *   accumulators and reached 22% of the AVX2 peak on an AVX2 EPYC.
 * NEON (32 registers of 4): scores 6 x 4 (16 queries), 8 x 3, 12 x 2 or 1;
 *   output 6 x 4 (16 columns). */
#if defined(__AVX512F__) || defined(__ARM_NEON)
#define SCORE_VECTORS 4
#define SCORE_KEYS(qv) ((qv) == 4 ? 6 : (qv) == 3 ? 8 : 12)
#define OUTPUT_VECTORS 4
#else
#define SCORE_VECTORS 2
#define SCORE_KEYS(qv) ((qv) == 2 ? 6 : 12)
#define OUTPUT_VECTORS 2
#endif
#define OUTPUT_ROWS 6
#define OUTPUT_COLUMNS (OUTPUT_VECTORS * TFC_VLEN)

/* A key whose additive mask is at or below this is hidden (exporters use
 * -3.4e38 or -inf; -1e4 style masks stay ordinary scores). */
static const float kHiddenMask = -1.0e30f;

/* The softmax runs in base 2: the queries' scale and the masks carry a
 * factor log2(e), so that softmax(s) = 2^(s log2 e - max) / sum comes from
 * EXP2_16, cheaper than e^x on the FMA ports the products need. */
static const float kLog2e = 1.44269504088896341f;

typedef tfc_attention_f32_problem attention_problem;

/* The scratch of one task (a block of queries of one head), carved out of
 * its thread's block. Scores are kept transposed, keys by queries, so that the softmax
 * over the keys of each query runs down columns: 16 queries per vector,
 * with no horizontal reductions. */
typedef struct attention_scratch {
  float *qt;    /* [dk][BLOCK_Q]: the queries, scaled, transposed */
  float *st;    /* [BLOCK_K][BLOCK_Q]: scores, then probabilities */
  float *o;     /* [BLOCK_Q][dv]: unnormalized output */
  float *m, *l; /* [BLOCK_Q]: running maximum and sum */
  float *alpha; /* [BLOCK_Q]: this block's rescaling of o */
  /* bf16 only: qt's space holds [(dk + 1) / 2][BLOCK_Q] pairs of the head
   * dim (qt_pairs), and pt [BLOCK_K / 2][BLOCK_Q] the probabilities as
   * pairs of keys. */
  uint32_t *qt_pairs, *pt;
} attention_scratch;

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* tfc_kernel_attention_f32_scratch_floats (plans.c) sizes this. */
static attention_scratch carve_scratch(float *base, int64_t dk, int64_t dv) {
  attention_scratch s;
  s.qt = base;
  s.st = s.qt + dk * BLOCK_Q;
  s.o = s.st + BLOCK_K * BLOCK_Q;
  s.m = s.o + round16(BLOCK_Q * dv);
  s.l = s.m + BLOCK_Q;
  s.alpha = s.l + BLOCK_Q;
  s.qt_pairs = (uint32_t *)s.qt;
  s.pt = (uint32_t *)(s.alpha + BLOCK_Q);
  return s;
}

/* st[j0 + r][x0 V..(x0 + QV) V) = k[j0 + r] . qt[:, x0 V..(x0 + QV) V) for
 * r < R, V = TFC_VLEN (R and QV compile-time constants once inlined): R keys
 * by QV registers of queries accumulate in registers; k is read in place,
 * one broadcast per element. */
static inline __attribute__((always_inline)) void
scores_panel(const float *qt, const float *k, int64_t k_row, int64_t k_col,
             float *st, int64_t j0, int64_t x0, const int R, const int QV,
             int64_t dk) {
  vfn acc[12][4];
  UNROLL for (int r = 0; r < R; ++r)
    UNROLL for (int x = 0; x < QV; ++x)
      acc[r][x] = SPLATV(0.0f);
  for (int64_t c = 0; c < dk; ++c) {
    const float *qrow = qt + c * BLOCK_Q + TFC_VLEN * x0;
    vfn qv[4];
    UNROLL for (int x = 0; x < QV; ++x)
      qv[x] = LOADV(qrow + TFC_VLEN * x);
    UNROLL for (int r = 0; r < R; ++r) {
      float kr = k[(j0 + r) * k_row + c * k_col];
      UNROLL for (int x = 0; x < QV; ++x)
        acc[r][x] += qv[x] * kr;
    }
  }
  UNROLL for (int r = 0; r < R; ++r)
    UNROLL for (int x = 0; x < QV; ++x)
      STOREV(st + (j0 + r) * BLOCK_Q + TFC_VLEN * (x0 + x), acc[r][x]);
}

/* The scores of `keys` keys against QV registers of queries from register
 * x0 on: SCORE_KEYS(QV) keys at a time, then four, then one. */
static inline __attribute__((always_inline)) void
scores_for_queries(const float *qt, const float *k, int64_t k_row,
                   int64_t k_col, float *st, int64_t keys, int64_t dk,
                   int64_t x0, const int QV) {
  const int R = SCORE_KEYS(QV);
  int64_t j = 0;
  for (; j + R <= keys; j += R)
    scores_panel(qt, k, k_row, k_col, st, j, x0, R, QV, dk);
  for (; j + 4 <= keys; j += 4)
    scores_panel(qt, k, k_row, k_col, st, j, x0, 4, QV, dk);
  for (; j < keys; ++j)
    scores_panel(qt, k, k_row, k_col, st, j, x0, 1, QV, dk);
}

/* st[j][0..V nv) = k[j] . qt[:, 0..V nv) for `keys` keys: only the
 * registers of queries the block has (a sequence of 197 ends in a block of
 * 5 queries, one register rather than 64 queries' worth), SCORE_VECTORS of
 * them at a time. */
static void block_scores(const float *qt, const float *k, int64_t k_row,
                         int64_t k_col, float *st, int64_t keys, int64_t dk,
                         int64_t nv) {
  for (int64_t x0 = 0; x0 < nv; x0 += SCORE_VECTORS) {
    switch (nv - x0 < SCORE_VECTORS ? nv - x0 : SCORE_VECTORS) {
    case 1:
      scores_for_queries(qt, k, k_row, k_col, st, keys, dk, x0, 1);
      break;
#if SCORE_VECTORS >= 2
    case 2:
      scores_for_queries(qt, k, k_row, k_col, st, keys, dk, x0, 2);
      break;
#endif
#if SCORE_VECTORS >= 3
    case 3:
      scores_for_queries(qt, k, k_row, k_col, st, keys, dk, x0, 3);
      break;
#endif
#if SCORE_VECTORS >= 4
    default:
      scores_for_queries(qt, k, k_row, k_col, st, keys, dk, x0, 4);
      break;
#endif
    }
  }
}

/* Folds the block's scores (`keys` rows of st) into the running maximum m
 * and sum l of each query, leaves the probabilities in st, and rescales the
 * output rows by exp(old max - new max). A query that has seen only hidden
 * keys so far keeps a maximum of -inf and probabilities of 0. */
static void online_softmax(float *st, float *m, float *l, float *alpha,
                           float *o, int64_t rows, int64_t keys, int64_t dv) {
  /* The vectors of 16 queries that hold the block's rows. */
  const int64_t qv = (rows + 15) / 16;
  for (int x = 0; x < qv; ++x) {
    vf16 old_max = LOAD16(m + 16 * x);
    vf16 max0 = old_max, max1 = old_max;
    int64_t j = 0;
    for (; j + 2 <= keys; j += 2) {
      max0 = __builtin_elementwise_max(max0, LOAD16(st + j * BLOCK_Q + 16 * x));
      max1 = __builtin_elementwise_max(max1, LOAD16(st + (j + 1) * BLOCK_Q + 16 * x));
    }
    if (j < keys)
      max0 = __builtin_elementwise_max(max0, LOAD16(st + j * BLOCK_Q + 16 * x));
    vf16 new_max = __builtin_elementwise_max(max0, max1);
    /* Subtract 0 where the maximum is still -inf: exp(-inf - 0) = 0. */
    vi16 unseen = new_max == -INFINITY;
    vf16 shift = (vf16)((vi16)new_max & ~unseen);
    vf16 sum0 = {0}, sum1 = {0};
    for (j = 0; j + 2 <= keys; j += 2) {
      vf16 p0 = EXP2_16(LOAD16(st + j * BLOCK_Q + 16 * x) - shift);
      vf16 p1 = EXP2_16(LOAD16(st + (j + 1) * BLOCK_Q + 16 * x) - shift);
      STORE16(st + j * BLOCK_Q + 16 * x, p0);
      STORE16(st + (j + 1) * BLOCK_Q + 16 * x, p1);
      sum0 += p0;
      sum1 += p1;
    }
    if (j < keys) {
      vf16 p0 = EXP2_16(LOAD16(st + j * BLOCK_Q + 16 * x) - shift);
      STORE16(st + j * BLOCK_Q + 16 * x, p0);
      sum0 += p0;
    }
    vf16 rescale = EXP2_16(old_max - shift);
    STORE16(alpha + 16 * x, rescale);
    STORE16(l + 16 * x, LOAD16(l + 16 * x) * rescale + sum0 + sum1);
    STORE16(m + 16 * x, new_max);
  }
  if (!o)
    return; /* o transposed (AMX): attention_block rescales it */
  for (int64_t i = 0; i < rows; ++i) {
    float a = alpha[i];
    if (a == 1.0f)
      continue;
    float *row = o + i * dv;
    int64_t c = 0;
    for (; c + 16 <= dv; c += 16)
      STORE16(row + c, LOAD16(row + c) * a);
    for (; c < dv; ++c)
      row[c] *= a;
  }
}

/* o[i0 + r][c0..c0 + OUTPUT_COLUMNS) += sum_j st[j][i0 + r] v[j][c0..) for
 * r < R: R queries by OUTPUT_VECTORS registers of the output accumulate in
 * registers. */
static inline __attribute__((always_inline)) void
output_panel(const float *st, const float *v, int64_t v_row, float *o,
             int64_t i0, const int R, int64_t c0, int64_t keys, int64_t dv) {
  vfn acc[OUTPUT_ROWS][OUTPUT_VECTORS];
  UNROLL for (int r = 0; r < R; ++r)
    UNROLL for (int x = 0; x < OUTPUT_VECTORS; ++x)
      acc[r][x] = LOADV(o + (i0 + r) * dv + c0 + TFC_VLEN * x);
  for (int64_t j = 0; j < keys; ++j) {
    const float *vrow = v + j * v_row + c0;
    vfn vj[OUTPUT_VECTORS];
    UNROLL for (int x = 0; x < OUTPUT_VECTORS; ++x)
      vj[x] = LOADV(vrow + TFC_VLEN * x);
    UNROLL for (int r = 0; r < R; ++r) {
      float p = st[j * BLOCK_Q + i0 + r];
      UNROLL for (int x = 0; x < OUTPUT_VECTORS; ++x)
        acc[r][x] += vj[x] * p;
    }
  }
  UNROLL for (int r = 0; r < R; ++r)
    UNROLL for (int x = 0; x < OUTPUT_VECTORS; ++x)
      STOREV(o + (i0 + r) * dv + c0 + TFC_VLEN * x, acc[r][x]);
}

/* o[i][0..dv) += sum_j st[j][i] v[j][0..dv) over `keys` keys:
 * OUTPUT_COLUMNS columns at a time for OUTPUT_ROWS, four or one queries;
 * columns past the last multiple of OUTPUT_COLUMNS one register at a time,
 * then one. v's rows are at unit stride along dv. */
static void block_output(const float *st, const float *v, int64_t v_row,
                         float *o, int64_t rows, int64_t keys, int64_t dv) {
  int64_t wide = dv / OUTPUT_COLUMNS * OUTPUT_COLUMNS;
  for (int64_t c = 0; c < wide; c += OUTPUT_COLUMNS) {
    int64_t i = 0;
    for (; i + OUTPUT_ROWS <= rows; i += OUTPUT_ROWS)
      output_panel(st, v, v_row, o, i, OUTPUT_ROWS, c, keys, dv);
    for (; i + 4 <= rows; i += 4)
      output_panel(st, v, v_row, o, i, 4, c, keys, dv);
    for (; i < rows; ++i)
      output_panel(st, v, v_row, o, i, 1, c, keys, dv);
  }
  for (int64_t i = 0; i < rows; ++i) {
    int64_t c = wide;
    for (; c + TFC_VLEN <= dv; c += TFC_VLEN) {
      vfn acc = LOADV(o + i * dv + c);
      for (int64_t j = 0; j < keys; ++j)
        acc += LOADV(v + j * v_row + c) * st[j * BLOCK_Q + i];
      STOREV(o + i * dv + c, acc);
    }
    for (; c < dv; ++c) {
      float sum = o[i * dv + c];
      for (int64_t j = 0; j < keys; ++j)
        sum += st[j * BLOCK_Q + i] * v[j * v_row + c];
      o[i * dv + c] = sum;
    }
  }
}

/* The bf16 products (attention_bf16.inc), in TFC_VLEN lanes of pairs. */
typedef uint32_t vpairs __attribute__((vector_size(4 * TFC_VLEN), aligned(4)));
#define LOADP(p) (*(const vpairs *)(p))
#if defined(__AVX512F__)
#include <immintrin.h>
#define DPBF16(acc, a, b)                                                      \
  ((vfn)_mm512_dpbf16_ps((__m512)(acc), (__m512bh)(a), (__m512bh)(b)))
#define BF16_NATIVE 1
#define BF16_TARGET __attribute__((target("avx512bf16")))
#define BF16_SUFFIX native
#include "attention_bf16.inc"
#undef BF16_NATIVE
#undef BF16_TARGET
#undef BF16_SUFFIX
#endif
#define BF16_NATIVE 0
#define BF16_TARGET
#define BF16_SUFFIX widened
#include "attention_bf16.inc"
#undef BF16_NATIVE
#undef BF16_TARGET
#undef BF16_SUFFIX

#if HAVE_AMX
/* bf16 with AMX (p->amx). The scores of a whole block of keys: st[j][i] =
 * k[j] . q[i] as tiles of 16 keys (A: rows of K's pairs) by 16 queries (B:
 * the transposed queries' pairs), over every query of the block (qt is 0
 * past its rows). The outputs go to o transposed, ot[c][i] (C: 16 columns
 * of V by 16 queries), from V transposed (A: rows of pairs of keys, each
 * column's) by the probabilities' pairs (B: pt, rows of pairs of keys):
 * so both products read the layouts the vector path uses for the queries
 * and the probabilities, and only V's packing differs. */
AMX_PRODUCT(amx_product, _tile_dpbf16ps)

static AMX_TARGET void amx_block_scores(const uint32_t *qt, const uint32_t *k,
                                        int64_t k_pairs, float *st) {
  for (int64_t j = 0; j < BLOCK_K; j += AMX_BLOCK_ROWS)
    for (int64_t i = 0; i < BLOCK_Q; i += AMX_BLOCK_ROWS)
      amx_product(k + j * k_pairs, k_pairs * 4, qt + i, BLOCK_Q * 4, k_pairs,
                  st + j * BLOCK_Q + i, BLOCK_Q * 4, 2, 0, NULL);
}

/* ot[c][i] += sum over `key_pairs` (whole tiles) of vt[c][j] . pt[j][i],
 * vt's rows v_pairs apart. */
static AMX_TARGET void amx_block_output(const uint32_t *pt, const uint32_t *vt,
                                        int64_t v_pairs, float *ot,
                                        int64_t key_pairs, int64_t dv) {
  for (int64_t c = 0; c < dv; c += AMX_BLOCK_ROWS)
    for (int64_t i = 0; i < BLOCK_Q; i += AMX_BLOCK_ROWS)
      amx_product(vt + c * v_pairs, v_pairs * 4, pt + i, BLOCK_Q * 4, key_pairs,
                  ot + c * BLOCK_Q + i, BLOCK_Q * 4, 2, 1, NULL);
}
#endif

/* The queries of a block as pairs of the head dim, scaled, transposed:
 * qt[c][i] = (q[i][2c], q[i][2c + 1]) * scale; columns past `rows` zero. */
static void queries_as_pairs(const attention_problem *p, const float *block,
                             int64_t rows, float scale, uint32_t *qt) {
  const int64_t pairs = (p->dk + 1) / 2;
  if (rows < BLOCK_Q)
    memset(qt, 0, sizeof(uint32_t) * pairs * BLOCK_Q);
  const int64_t q_row = p->q_stride[1], q_col = p->q_stride[2];
  for (int64_t i = 0; i < rows; ++i) {
    const float *row = block + i * q_row;
    for (int64_t c = 0; c < pairs; ++c) {
      float even = row[2 * c * q_col] * scale;
      float odd = 2 * c + 1 < p->dk ? row[(2 * c + 1) * q_col] * scale : 0.0f;
      qt[c * BLOCK_Q + i] = bf16_pair(even, odd);
    }
  }
}

/* The block's probabilities (st, `keys` rows of BLOCK_Q queries) as pairs
 * of keys: pt[j][i] = (st[2j][i], st[2j + 1][i]), 0 past `keys`. */
static void probabilities_as_pairs(const float *st, int64_t keys, int64_t qv,
                                   uint32_t *pt) {
  for (int64_t j = 0; 2 * j < keys; ++j)
    for (int64_t x = 0; x < qv; ++x) {
      vf16 even = LOAD16(st + 2 * j * BLOCK_Q + 16 * x);
      vf16 odd = 2 * j + 1 < keys ? LOAD16(st + (2 * j + 1) * BLOCK_Q + 16 * x)
                                  : SPLAT16(0.0f);
      *(vu16 *)(pt + j * BLOCK_Q + 16 * x) = BF16_PAIRS16(even, odd);
    }
}

/* The visible keys of sequence `b` under a key-padding mask: up to and
 * including its last key whose mask is above kHiddenMask (all keys if none
 * is, so that a fully padded sequence still gets its softmax). */
static int64_t visible_keys(const attention_problem *p, int64_t b) {
  const float *mask = p->mask + b * p->mask_stride[0];
  for (int64_t j = p->k_len; j > 0; --j)
    if (mask[(j - 1) * p->mask_stride[3]] > kHiddenMask)
      return j;
  return p->k_len;
}

/* Head h's K and V rows (f32; those of its group's KV head): in place when
 * their elements are at unit stride, else the packing phase's copies. */
static void head_rows(const attention_problem *p, int64_t b, int64_t h,
                      const float **k, int64_t *k_row, const float **v,
                      int64_t *v_row) {
  const int64_t kv_head = h / (p->heads / p->kv_heads);
  if (p->packed) {
    *k = p->packed +
         (size_t)(b * p->kv_heads + kv_head) * p->k_len * (p->dk + p->dv);
    *v = *k + p->k_len * p->dk;
    *k_row = p->dk;
    *v_row = p->dv;
    return;
  }
  *k = p->k + b * p->k_stride[0] + kv_head * p->k_head_stride;
  *v = p->v + b * p->v_stride[0] + kv_head * p->v_head_stride;
  *k_row = p->k_stride[1];
  *v_row = p->v_stride[1];
}

/* Blocks of at most this many queries go query by query (attention_query):
 * a decode step's one query would fill one lane of each register of the
 * block's score tiles. */
enum { FEW_QUERIES = 4 };

/* Query i of head h against its visible keys (f32, K and V rows at unit
 * stride): each score a dot product along the head dim, the softmax over
 * the scores in chunks of the scratch's BLOCK_K x BLOCK_Q floats (a running
 * maximum and sum across chunks, as the block path's), the output the
 * probabilities' sum of V's rows. Reads each visible K and V row once:
 * a decode step over a KV cache is bound by that. */
static void attention_query(const attention_problem *p, attention_scratch *w,
                            int64_t b, int64_t h, int64_t i, const float *k,
                            int64_t k_row, const float *v, int64_t v_row) {
  const int64_t dk = p->dk, dv = p->dv;
  const float scale = p->scale * kLog2e;
  const float *q = p->q + b * p->q_stride[0] + h * p->q_head_stride +
                   i * p->q_stride[1];
  float *qs = w->qt;
  for (int64_t c = 0; c < dk; ++c)
    qs[c] = q[c * p->q_stride[2]] * scale;
  int64_t key_end = p->key_padding ? visible_keys(p, b) : p->k_len;
  if (p->causal) {
    int64_t last = i + p->k_len - p->q_len + 1;
    if (last < key_end)
      key_end = last < 0 ? 0 : last;
  }
  const float *mask =
      p->has_mask ? p->mask + b * p->mask_stride[0] + h * p->mask_stride[1] +
                        i * p->mask_stride[2]
                  : NULL;
  float *o = w->o, *st = w->st;
  memset(o, 0, sizeof(float) * dv);
  float m = -INFINITY, l = 0.0f;
  const int64_t chunk = BLOCK_K * BLOCK_Q;
  for (int64_t k0 = 0; k0 < key_end; k0 += chunk) {
    int64_t keys = key_end - k0 < chunk ? key_end - k0 : chunk;
    float chunk_max = -INFINITY;
    for (int64_t j = 0; j < keys; ++j) {
      const float *key = k + (k0 + j) * k_row;
      vf16 acc = SPLAT16(0.0f);
      int64_t c = 0;
      for (; c + 16 <= dk; c += 16)
        acc += LOAD16(qs + c) * LOAD16(key + c);
      float score = SUM16(acc);
      for (; c < dk; ++c)
        score += qs[c] * key[c];
      if (mask)
        score += mask[(k0 + j) * p->mask_stride[3]] * kLog2e;
      st[j] = score;
      chunk_max = score > chunk_max ? score : chunk_max;
    }
    if (chunk_max == -INFINITY)
      continue; /* every key of the chunk hidden */
    float new_max = m > chunk_max ? m : chunk_max;
    /* Rescale what the earlier chunks summed (none: m is -inf, alpha 0). */
    float alpha = m == -INFINITY ? 0.0f : exp2f(m - new_max);
    if (alpha != 1.0f) {
      l *= alpha;
      for (int64_t c = 0; c < dv; ++c)
        o[c] *= alpha;
    }
    /* Probabilities 16 at a time (the scratch holds whole vectors: pad the
     * last with hidden scores). */
    int64_t padded = (keys + 15) & ~(int64_t)15;
    for (int64_t j = keys; j < padded; ++j)
      st[j] = -INFINITY;
    vf16 sums = SPLAT16(0.0f);
    for (int64_t j = 0; j < padded; j += 16) {
      vf16 probability = EXP2_16(LOAD16(st + j) - new_max);
      STORE16(st + j, probability);
      sums += probability;
    }
    l += SUM16(sums);
    m = new_max;
    /* 64 columns at a time, key by key: each V row read whole, in order
     * (column slices key by key strode through V once per slice, and the
     * broadcast FMAs waited on its loads: 63% of a decode step's
     * attention). */
    enum { VECTORS = 64 / TFC_VLEN };
    int64_t c = 0;
    for (; c + 64 <= dv; c += 64) {
      vfn acc[VECTORS];
      UNROLL for (int x = 0; x < VECTORS; ++x)
        acc[x] = LOADV(o + c + TFC_VLEN * x);
      for (int64_t j = 0; j < keys; ++j) {
        const float *row = v + (k0 + j) * v_row + c;
        float probability = st[j];
        UNROLL for (int x = 0; x < VECTORS; ++x)
          acc[x] += LOADV(row + TFC_VLEN * x) * probability;
      }
      UNROLL for (int x = 0; x < VECTORS; ++x)
        STOREV(o + c + TFC_VLEN * x, acc[x]);
    }
    for (; c + TFC_VLEN <= dv; c += TFC_VLEN) {
      vfn acc = LOADV(o + c);
      for (int64_t j = 0; j < keys; ++j)
        acc += LOADV(v + (k0 + j) * v_row + c) * st[j];
      STOREV(o + c, acc);
    }
    for (; c < dv; ++c) {
      float sum = o[c];
      for (int64_t j = 0; j < keys; ++j)
        sum += st[j] * v[(k0 + j) * v_row + c];
      o[c] = sum;
    }
  }
  /* A query that saw no key (causal with Lq > Lk) gets zeros. */
  float inv = l > 0.0f ? 1.0f / l : 0.0f;
  float *row = p->out + b * p->out_stride[0] + h * p->out_head_stride +
               i * p->out_stride[1];
  for (int64_t c = 0; c < dv; ++c)
    row[c * p->out_stride[2]] = o[c] * inv;
}

static void attention_block(const attention_problem *p, attention_scratch *w,
                            int64_t b, int64_t h, int64_t q_block) {
  const int64_t dk = p->dk, dv = p->dv;
  const int64_t q0 = q_block * BLOCK_Q;
  const int64_t rows = p->q_len - q0 < BLOCK_Q ? p->q_len - q0 : BLOCK_Q;
  const int64_t qv = (rows + 15) / 16; /* vectors of 16 queries */
  if (!p->bf16 && rows <= FEW_QUERIES) {
    const float *k, *v;
    int64_t k_row, v_row;
    head_rows(p, b, h, &k, &k_row, &v, &v_row);
    for (int64_t i = q0; i < q0 + rows; ++i)
      attention_query(p, w, b, h, i, k, k_row, v, v_row);
    return;
  }

  /* The queries, scaled and transposed; columns past `rows` are zero. */
  const float *q = p->q + b * p->q_stride[0] + h * p->q_head_stride;
  const float *block = q + q0 * p->q_stride[1];
  const float scale = p->scale * kLog2e; /* not reloaded after each store */
  if (p->bf16) {
    queries_as_pairs(p, block, rows, scale, w->qt_pairs);
  } else {
    if (rows < BLOCK_Q)
      memset(w->qt, 0, sizeof(float) * dk * BLOCK_Q);
    /* Column by column: qt's rows are written whole, q's columns gathered. */
    const int64_t q_row = p->q_stride[1];
    for (int64_t c = 0; c < dk; ++c) {
      const float *column = block + c * p->q_stride[2];
      float *qt_row = w->qt + c * BLOCK_Q;
      for (int64_t i = 0; i < rows; ++i)
        qt_row[i] = column[i * q_row] * scale;
    }
  }
  for (int64_t i = 0; i < BLOCK_Q; ++i) {
    w->m[i] = -INFINITY;
    w->l[i] = 0.0f;
  }
  /* (With AMX, o is transposed, [dv][BLOCK_Q], and every query's column
   * is summed.) */
  memset(w->o, 0, sizeof(float) * (p->amx ? BLOCK_Q : rows) * dv);

  /* Keys this block can see: a causal query i sees keys j <= i + Lk - Lq. */
  int64_t key_end = p->key_padding ? visible_keys(p, b) : p->k_len;
  const int64_t causal_shift = p->k_len - p->q_len;
  if (p->causal) {
    int64_t last = q0 + rows - 1 + causal_shift + 1;
    if (last < key_end)
      key_end = last < 0 ? 0 : last;
  }

  /* The head's K and V rows (those of its group's KV head): in place when
   * their elements are at unit stride, else the packing phase's copies. */
  const int64_t kv_head = h / (p->heads / p->kv_heads);
  const float *k = NULL, *v = NULL;
  int64_t k_row = 0, v_row = 0;
  /* bf16: the packing phase's pairs. */
  const int64_t k_pairs = (dk + 1) / 2, v_pairs = tfc_attention_v_pairs(p);
  const uint32_t *kp = NULL, *vp = NULL;
  if (p->bf16) {
    kp = p->pairs + (size_t)(b * p->kv_heads + kv_head) *
                        (p->k_len * k_pairs + v_pairs * dv);
    vp = kp + p->k_len * k_pairs;
  } else {
    head_rows(p, b, h, &k, &k_row, &v, &v_row);
  }
  /* (No offset from a null mask: that is undefined behaviour in C.) */
  const float *mask =
      p->has_mask ? p->mask + b * p->mask_stride[0] + h * p->mask_stride[1] : NULL;
  for (int64_t k0 = 0; k0 < key_end; k0 += BLOCK_K) {
    int64_t keys = key_end - k0 < BLOCK_K ? key_end - k0 : BLOCK_K;
    if (!p->bf16)
      block_scores(w->qt, k + k0 * k_row, k_row, 1, w->st, keys, dk,
                   qv * (16 / TFC_VLEN));
#if HAVE_AMX
    else if (p->amx && keys == BLOCK_K && k_pairs % AMX_ROWS == 0)
      amx_block_scores(w->qt_pairs, kp + k0 * k_pairs, k_pairs, w->st);
#endif
#if defined(__AVX512F__)
    else if (p->native_bf16)
      block_scores_bf16_native(w->qt_pairs, kp + k0 * k_pairs, k_pairs, w->st,
                               keys, k_pairs, qv * (16 / TFC_VLEN));
#endif
    else
      block_scores_bf16_widened(w->qt_pairs, kp + k0 * k_pairs, k_pairs, w->st,
                                keys, k_pairs, qv * (16 / TFC_VLEN));
    if (p->has_mask) {
      for (int64_t j = 0; j < keys; ++j) {
        float *row = w->st + j * BLOCK_Q;
        const float *column = mask + (k0 + j) * p->mask_stride[3] +
                              q0 * p->mask_stride[2];
        if (p->mask_stride[2] == 0) {
          /* A key-padding mask is 0 on the keys a sequence has. */
          float added = column[0] * kLog2e;
          if (added != 0.0f)
            for (int64_t i = 0; i < 16 * qv; ++i)
              row[i] += added;
        } else {
          for (int64_t i = 0; i < rows; ++i)
            row[i] += column[i * p->mask_stride[2]] * kLog2e;
        }
      }
    }
    if (p->causal && k0 + keys - 1 > q0 + causal_shift) {
      /* Key j is hidden from the queries i < j - shift of the block. */
      for (int64_t j = 0; j < keys; ++j) {
        int64_t hidden_below = k0 + j - causal_shift - q0;
        if (hidden_below > 16 * qv)
          hidden_below = 16 * qv;
        for (int64_t i = 0; i < hidden_below; ++i)
          w->st[j * BLOCK_Q + i] = -INFINITY;
      }
    }
    online_softmax(w->st, w->m, w->l, w->alpha, p->amx ? NULL : w->o, rows,
                   keys, dv);
    if (!p->bf16) {
      block_output(w->st, v + k0 * v_row, v_row, w->o, rows, keys, dv);
      continue;
    }
    /* Blocks start at even keys, so the block's pairs are V's. */
    probabilities_as_pairs(w->st, keys, qv, w->pt);
#if HAVE_AMX
    if (p->amx) {
      /* ot's columns (queries) rescaled; pairs past the keys 0 up to a
       * whole tile. */
      for (int64_t c = 0; c < dv; ++c)
        for (int64_t x = 0; x < qv; ++x)
          STORE16(w->o + c * BLOCK_Q + 16 * x,
                  LOAD16(w->o + c * BLOCK_Q + 16 * x) * LOAD16(w->alpha + 16 * x));
      int64_t pairs = (keys + 1) / 2, tiles = (pairs + AMX_ROWS - 1) / AMX_ROWS;
      memset(w->pt + pairs * BLOCK_Q, 0,
             sizeof(uint32_t) * (size_t)(tiles * AMX_ROWS - pairs) * BLOCK_Q);
      amx_block_output(w->pt, vp + k0 / 2, v_pairs, w->o, tiles * AMX_ROWS, dv);
      continue;
    }
#endif
#if defined(__AVX512F__)
    if (p->native_bf16)
      block_output_bf16_native(w->pt, vp + k0 / 2 * dv, w->o, rows,
                               (keys + 1) / 2, dv);
    else
#endif
      block_output_bf16_widened(w->pt, vp + k0 / 2 * dv, w->o, rows,
                                (keys + 1) / 2, dv);
  }

  float *out = p->out + b * p->out_stride[0] + h * p->out_head_stride;
  for (int64_t i = 0; i < rows; ++i) {
    /* A query that saw no key (causal with Lq > Lk) gets zeros. */
    float inv = w->l[i] > 0.0f ? 1.0f / w->l[i] : 0.0f;
    float *row = out + (q0 + i) * p->out_stride[1];
    if (p->amx)
      for (int64_t c = 0; c < dv; ++c)
        row[c * p->out_stride[2]] = w->o[c * BLOCK_Q + i] * inv;
    else if (p->out_stride[2] == 1)
      for (int64_t c = 0; c < dv; ++c)
        row[c] = w->o[i * dv + c] * inv;
    else
      for (int64_t c = 0; c < dv; ++c)
        row[c * p->out_stride[2]] = w->o[i * dv + c] * inv;
  }
}

/* Phase one, over (batch, KV head), when p->packed is set: copies the
 * head's K and V rows together there. */
/* bf16: head `task`'s K as pairs of the head dim, V as pairs of keys. */
static void pack_pairs(const attention_problem *p, int64_t task) {
  const int64_t b = task / p->kv_heads, h = task % p->kv_heads;
  const int64_t k_pairs = (p->dk + 1) / 2, dv = p->dv;
  const int64_t v_pairs = tfc_attention_v_pairs(p);
  uint32_t *kd = p->pairs + (size_t)task * (p->k_len * k_pairs + v_pairs * dv);
  uint32_t *vd = kd + p->k_len * k_pairs;
  const float *ks = p->k + b * p->k_stride[0] + h * p->k_head_stride;
  const float *vs = p->v + b * p->v_stride[0] + h * p->v_head_stride;
  for (int64_t j = 0; j < p->k_len; ++j)
    bf16_pack_row(ks + j * p->k_stride[1], p->k_stride[2], p->dk, 1.0f,
                  kd + j * k_pairs);
  const int64_t v_col = p->v_stride[2];
  if (p->amx) {
    /* Transposed: vd[c][j], 0 past the keys. */
    for (int64_t c = 0; c < dv; ++c) {
      const float *column = vs + c * v_col;
      uint32_t *out = vd + c * v_pairs;
      int64_t j = 0;
      for (; 2 * j + 1 < p->k_len; ++j)
        out[j] = bf16_pair(column[2 * j * p->v_stride[1]],
                           column[(2 * j + 1) * p->v_stride[1]]);
      if (2 * j < p->k_len) {
        out[j] = bf16_pair(column[2 * j * p->v_stride[1]], 0.0f);
        ++j;
      }
      for (; j < v_pairs; ++j)
        out[j] = 0;
    }
    return;
  }
  for (int64_t j = 0; 2 * j < p->k_len; ++j) {
    const float *even = vs + 2 * j * p->v_stride[1];
    const float *odd = 2 * j + 1 < p->k_len ? even + p->v_stride[1] : NULL;
    uint32_t *out = vd + j * dv;
    int64_t c = 0;
    if (v_col == 1 && odd)
      for (; c + 16 <= dv; c += 16)
        *(vu16 *)(out + c) = BF16_PAIRS16(LOAD16(even + c), LOAD16(odd + c));
    for (; c < dv; ++c)
      out[c] = bf16_pair(even[c * v_col], odd ? odd[c * v_col] : 0.0f);
  }
}

void TFC_KERNEL_FN(tfc_kernel_attention_f32_pack)(const attention_problem *p,
                                                  int64_t begin, int64_t end) {
  const float *k = p->k, *v = p->v;
  if (p->bf16) {
    for (int64_t task = begin; task < end; ++task)
      pack_pairs(p, task);
    return;
  }
  for (int64_t task = begin; task < end; ++task) {
    int64_t b = task / p->kv_heads, h = task % p->kv_heads;
    float *kd = p->packed + (size_t)task * p->k_len * (p->dk + p->dv);
    float *vd = kd + p->k_len * p->dk;
    const float *ks = k + b * p->k_stride[0] + h * p->k_head_stride;
    const float *vs = v + b * p->v_stride[0] + h * p->v_head_stride;
    for (int64_t j = 0; j < p->k_len; ++j) {
      if (p->k_stride[2] == 1)
        memcpy(kd + j * p->dk, ks + j * p->k_stride[1], sizeof(float) * p->dk);
      else
        for (int64_t c = 0; c < p->dk; ++c)
          kd[j * p->dk + c] = ks[j * p->k_stride[1] + c * p->k_stride[2]];
      if (p->v_stride[2] == 1)
        memcpy(vd + j * p->dv, vs + j * p->v_stride[1], sizeof(float) * p->dv);
      else
        for (int64_t c = 0; c < p->dv; ++c)
          vd[j * p->dv + c] = vs[j * p->v_stride[1] + c * p->v_stride[2]];
    }
  }
}

/* Phase two: each task a block of queries of one head, with the calling
 * thread's own scratch (a slot shared between threads would move between
 * the cores from task to task, 49 KB of cache lines each time; with two
 * threads, 12% of the kernel's cycles went to that). */
void TFC_KERNEL_FN(tfc_kernel_attention_f32_tasks)(const attention_problem *p,
                                                   float *scratch,
                                                   int64_t begin, int64_t end) {
  attention_scratch w = carve_scratch(scratch, p->dk, p->dv);
#if HAVE_AMX
  if (p->amx)
    amx_begin();
#endif
  for (int64_t task = begin; task < end; ++task) {
    int64_t q_block = task % p->q_blocks;
    int64_t h = (task / p->q_blocks) % p->heads;
    int64_t b = task / (p->q_blocks * p->heads);
    attention_block(p, &w, b, h, q_block);
  }
#if HAVE_AMX
  if (p->amx)
    amx_end();
#endif
}
