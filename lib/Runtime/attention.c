/*===- attention.c - the fused multi-head attention kernel -------*- C -*-===*
 *
 * tfm.attention lowers to one call of tfc_rt_attention_f32. The kernel is
 * flash attention on the CPU: for each (batch, head, block of BLOCK_Q
 * queries) it walks the keys in blocks of BLOCK_K, computing that block of
 * scores, folding it into a running row maximum and sum (the online softmax)
 * and into the output accumulator rescaled to the new maximum. No head's
 * Lq x Lk scores exist at any time: extra memory is a few blocks per thread,
 * whatever the sequence length.
 *
 * Blocks that no query of the block can see are skipped: under a causal
 * mask, the keys after the block's last query; under a key-padding mask
 * ([B, 1, 1, Lk]), the padded keys after a sequence's last real one. Both
 * skips are exact: such keys get exp(mask - max) == 0 in float arithmetic
 * as long as the row sees some key, which the rules below guarantee.
 *
 * The inner loops are written with clang's vector extensions on 16 floats
 * (one AVX-512 register, two AVX2 ones) and compiled for each ISA with
 * target_clones, so the runtime library serves any x86-64 host.
 *
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <string.h>

enum {
  BLOCK_Q = 64, /* queries per task */
  BLOCK_K = 64, /* keys per step: four vectors of 16 */
  ROWS = 4,     /* query rows per register block */
  MAX_SCRATCH_SLOTS = 64,
};

/* A key whose additive mask is at or below this is hidden (exporters use
 * -3.4e38 or -inf; -1e4 style masks stay ordinary scores). */
static const float kHiddenMask = -1.0e30f;

#if defined(__x86_64__) && defined(__clang__)
#define TFC_MULTIVERSION                                                       \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define TFC_MULTIVERSION
#endif

typedef float vf16 __attribute__((vector_size(64), aligned(4)));
typedef int32_t vi16 __attribute__((vector_size(64), aligned(4)));

/* Helpers are macros: a function taking or returning a 64-byte vector has a
 * different ABI under each target_clones variant. */
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

typedef struct attention_problem {
  const float *q, *k, *v, *mask;
  float *out;
  int64_t batch, heads, q_len, k_len, dk, dv;
  /* Strides in elements; a broadcast mask dim has stride 0. */
  int64_t q_stride[3], k_stride[3], v_stride[3], out_stride[3];
  int64_t mask_stride[4];
  float scale;
  int causal, has_mask;
  /* The mask is [B', 1, 1, Lk]: per-sequence key padding. */
  int key_padding;
  int64_t q_blocks, k_blocks;
  /* K and V packed once per (batch, head) by the first phase: K transposed
   * in blocks of [dk][BLOCK_K] (zero past the last key), V as [Lk][dv]
   * rows. Linear in the sequence length. */
  float *packed_k, *packed_v;
  size_t packed_k_floats, packed_v_floats; /* per (batch, head) */
  /* Per-thread scratch: `slots` blocks of `slot_floats`, and a bitmask of
   * the free ones. */
  float *scratch;
  size_t slot_floats;
  int slots;
  _Atomic uint64_t free_slots;
} attention_problem;

/* The scratch of one task, carved out of a slot. */
typedef struct attention_scratch {
  float *q;     /* [BLOCK_Q][dk], scaled */
  float *s;     /* [BLOCK_Q][BLOCK_K]: scores, then probabilities */
  float *o;     /* [BLOCK_Q][dv]: unnormalized output */
  float *m, *l; /* [BLOCK_Q]: running maximum and sum */
} attention_scratch;

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

static size_t scratch_floats(int64_t dk, int64_t dv) {
  return round16(BLOCK_Q * dk) + BLOCK_Q * BLOCK_K + round16(BLOCK_Q * dv) +
         2 * BLOCK_Q;
}

static attention_scratch carve_scratch(float *base, int64_t dk, int64_t dv) {
  attention_scratch s;
  s.q = base;
  s.s = s.q + round16(BLOCK_Q * dk);
  s.o = s.s + BLOCK_Q * BLOCK_K;
  s.m = s.o + round16(BLOCK_Q * dv);
  s.l = s.m + BLOCK_Q;
  return s;
}

/* Phase one, over (batch, head): packs K transposed in key blocks and V as
 * contiguous rows, so that every query block of the head reads them at unit
 * stride. */
static void pack_heads(void *context, int64_t begin, int64_t end) {
  const attention_problem *p = context;
  for (int64_t task = begin; task < end; ++task) {
    int64_t b = task / p->heads, h = task % p->heads;
    const float *k = p->k + b * p->k_stride[0] + h * p->dk * p->k_stride[2];
    const float *v = p->v + b * p->v_stride[0] + h * p->dv * p->v_stride[2];
    float *kt = p->packed_k + task * p->packed_k_floats;
    float *vr = p->packed_v + task * p->packed_v_floats;
    for (int64_t block = 0; block < p->k_blocks; ++block) {
      int64_t k0 = block * BLOCK_K;
      int64_t keys = p->k_len - k0 < BLOCK_K ? p->k_len - k0 : BLOCK_K;
      float *dst = kt + block * p->dk * BLOCK_K;
      for (int64_t j = 0; j < keys; ++j) {
        const float *row = k + (k0 + j) * p->k_stride[1];
        for (int64_t c = 0; c < p->dk; ++c)
          dst[c * BLOCK_K + j] = row[c * p->k_stride[2]];
      }
      for (int64_t c = 0; c < p->dk; ++c)
        for (int64_t j = keys; j < BLOCK_K; ++j)
          dst[c * BLOCK_K + j] = 0.0f;
    }
    for (int64_t j = 0; j < p->k_len; ++j) {
      const float *row = v + j * p->v_stride[1];
      if (p->v_stride[2] == 1)
        memcpy(vr + j * p->dv, row, sizeof(float) * p->dv);
      else
        for (int64_t c = 0; c < p->dv; ++c)
          vr[j * p->dv + c] = row[c * p->v_stride[2]];
    }
  }
}

/* S[r][0..BLOCK_K) = q[r] . kt[:, 0..BLOCK_K) for `rows` query rows. */
TFC_MULTIVERSION
static void block_scores(const float *q, const float *kt, float *s,
                         int64_t rows, int64_t dk) {
  int64_t r = 0;
  for (; r + ROWS <= rows; r += ROWS) {
    vf16 acc[ROWS][4] = {{0}};
    for (int64_t c = 0; c < dk; ++c) {
      const float *krow = kt + c * BLOCK_K;
      vf16 k0 = LOAD16(krow), k1 = LOAD16(krow + 16), k2 = LOAD16(krow + 32),
           k3 = LOAD16(krow + 48);
      for (int i = 0; i < ROWS; ++i) {
        float qi = q[(r + i) * dk + c];
        acc[i][0] += k0 * qi;
        acc[i][1] += k1 * qi;
        acc[i][2] += k2 * qi;
        acc[i][3] += k3 * qi;
      }
    }
    for (int i = 0; i < ROWS; ++i)
      for (int j = 0; j < 4; ++j)
        STORE16(s + (r + i) * BLOCK_K + 16 * j, acc[i][j]);
  }
  for (; r < rows; ++r) {
    vf16 acc[4] = {0};
    for (int64_t c = 0; c < dk; ++c) {
      const float *krow = kt + c * BLOCK_K;
      float qr = q[r * dk + c];
      for (int j = 0; j < 4; ++j)
        acc[j] += LOAD16(krow + 16 * j) * qr;
    }
    for (int j = 0; j < 4; ++j)
      STORE16(s + r * BLOCK_K + 16 * j, acc[j]);
  }
}

/* o[r][0..dv) += sum_j p[r][j] v[j][0..dv) over `keys` keys. */
TFC_MULTIVERSION
static void block_output(const float *p, const float *v, float *o,
                         int64_t rows, int64_t keys, int64_t dv) {
  int64_t r = 0;
  for (; r + ROWS <= rows; r += ROWS) {
    int64_t c = 0;
    for (; c + 64 <= dv; c += 64) {
      vf16 acc[ROWS][4];
      for (int i = 0; i < ROWS; ++i)
        for (int j = 0; j < 4; ++j)
          acc[i][j] = LOAD16(o + (r + i) * dv + c + 16 * j);
      for (int64_t key = 0; key < keys; ++key) {
        const float *vrow = v + key * dv + c;
        vf16 v0 = LOAD16(vrow), v1 = LOAD16(vrow + 16), v2 = LOAD16(vrow + 32),
             v3 = LOAD16(vrow + 48);
        for (int i = 0; i < ROWS; ++i) {
          float pi = p[(r + i) * BLOCK_K + key];
          acc[i][0] += v0 * pi;
          acc[i][1] += v1 * pi;
          acc[i][2] += v2 * pi;
          acc[i][3] += v3 * pi;
        }
      }
      for (int i = 0; i < ROWS; ++i)
        for (int j = 0; j < 4; ++j)
          STORE16(o + (r + i) * dv + c + 16 * j, acc[i][j]);
    }
    for (; c + 16 <= dv; c += 16) {
      vf16 acc[ROWS];
      for (int i = 0; i < ROWS; ++i)
        acc[i] = LOAD16(o + (r + i) * dv + c);
      for (int64_t key = 0; key < keys; ++key) {
        vf16 vv = LOAD16(v + key * dv + c);
        for (int i = 0; i < ROWS; ++i)
          acc[i] += vv * p[(r + i) * BLOCK_K + key];
      }
      for (int i = 0; i < ROWS; ++i)
        STORE16(o + (r + i) * dv + c, acc[i]);
    }
    for (; c < dv; ++c)
      for (int i = 0; i < ROWS; ++i) {
        float sum = o[(r + i) * dv + c];
        for (int64_t key = 0; key < keys; ++key)
          sum += p[(r + i) * BLOCK_K + key] * v[key * dv + c];
        o[(r + i) * dv + c] = sum;
      }
  }
  for (; r < rows; ++r)
    for (int64_t key = 0; key < keys; ++key) {
      float pr = p[r * BLOCK_K + key];
      if (pr == 0.0f)
        continue;
      for (int64_t c = 0; c < dv; ++c)
        o[r * dv + c] += pr * v[key * dv + c];
    }
}

/* Folds the block's scores (row r in s, `keys` valid) into the running
 * maximum m and sum l, rescales the row's output, and leaves the block's
 * probabilities in s. Scores past `keys` are ignored. */
TFC_MULTIVERSION
static void online_softmax(float *s, float *m, float *l, float *o,
                           int64_t rows, int64_t keys, int64_t dv) {
  for (int64_t r = 0; r < rows; ++r) {
    float *row = s + r * BLOCK_K;
    for (int64_t j = keys; j < BLOCK_K; ++j)
      row[j] = -INFINITY;
    vf16 mx = __builtin_elementwise_max(
        __builtin_elementwise_max(LOAD16(row), LOAD16(row + 16)),
        __builtin_elementwise_max(LOAD16(row + 32), LOAD16(row + 48)));
    float block_max = __builtin_reduce_max(mx);
    float new_max = block_max > m[r] ? block_max : m[r];
    if (new_max == -INFINITY) {
      /* Nothing visible yet in this row: the block adds nothing. */
      memset(row, 0, sizeof(float) * BLOCK_K);
      continue;
    }
    vf16 sum = {0};
    for (int j = 0; j < BLOCK_K; j += 16) {
      vf16 p = EXP16(LOAD16(row + j) - new_max);
      STORE16(row + j, p);
      sum += p;
    }
    float alpha = m[r] == -INFINITY ? 0.0f : expf(m[r] - new_max);
    l[r] = l[r] * alpha + SUM16(sum);
    m[r] = new_max;
    if (alpha != 1.0f)
      for (int64_t c = 0; c < dv; ++c)
        o[r * dv + c] *= alpha;
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

static void attention_block(const attention_problem *p, attention_scratch *w,
                            int64_t b, int64_t h, int64_t q_block) {
  const int64_t dk = p->dk, dv = p->dv;
  const int64_t q0 = q_block * BLOCK_Q;
  const int64_t rows = p->q_len - q0 < BLOCK_Q ? p->q_len - q0 : BLOCK_Q;

  /* The queries, scaled, as contiguous rows. */
  const float *q = p->q + b * p->q_stride[0] + h * dk * p->q_stride[2];
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < dk; ++c)
      w->q[r * dk + c] = q[(q0 + r) * p->q_stride[1] + c * p->q_stride[2]] *
                         p->scale;
  for (int64_t r = 0; r < rows; ++r) {
    w->m[r] = -INFINITY;
    w->l[r] = 0.0f;
  }
  memset(w->o, 0, sizeof(float) * rows * dv);

  /* Keys this block can see: a causal query i sees keys j <= i + Lk - Lq. */
  int64_t key_end = p->key_padding ? visible_keys(p, b) : p->k_len;
  const int64_t causal_shift = p->k_len - p->q_len;
  if (p->causal) {
    int64_t last = q0 + rows - 1 + causal_shift + 1;
    if (last < key_end)
      key_end = last < 0 ? 0 : last;
  }

  const float *packed_k = p->packed_k + (b * p->heads + h) * p->packed_k_floats;
  const float *packed_v = p->packed_v + (b * p->heads + h) * p->packed_v_floats;
  const float *mask = p->mask + b * p->mask_stride[0] + h * p->mask_stride[1];
  for (int64_t k0 = 0; k0 < key_end; k0 += BLOCK_K) {
    int64_t keys = key_end - k0 < BLOCK_K ? key_end - k0 : BLOCK_K;
    const float *kt = packed_k + (k0 / BLOCK_K) * dk * BLOCK_K;
    const float *v = packed_v + k0 * dv;
    block_scores(w->q, kt, w->s, rows, dk);
    if (p->has_mask)
      for (int64_t r = 0; r < rows; ++r) {
        const float *mask_row = mask + (q0 + r) * p->mask_stride[2] +
                                k0 * p->mask_stride[3];
        for (int64_t j = 0; j < keys; ++j)
          w->s[r * BLOCK_K + j] += mask_row[j * p->mask_stride[3]];
      }
    if (p->causal && k0 + keys - 1 > q0 + causal_shift)
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < keys; ++j)
          if (k0 + j > q0 + r + causal_shift)
            w->s[r * BLOCK_K + j] = -INFINITY;
    online_softmax(w->s, w->m, w->l, w->o, rows, keys, dv);
    block_output(w->s, v, w->o, rows, keys, dv);
  }

  float *out = p->out + b * p->out_stride[0] + h * dv * p->out_stride[2];
  for (int64_t r = 0; r < rows; ++r) {
    /* A row that saw no key (causal with Lq > Lk) gets zeros. */
    float inv = w->l[r] > 0.0f ? 1.0f / w->l[r] : 0.0f;
    for (int64_t c = 0; c < dv; ++c)
      out[(q0 + r) * p->out_stride[1] + c * p->out_stride[2]] =
          w->o[r * dv + c] * inv;
  }
}

static void attention_tasks(void *context, int64_t begin, int64_t end) {
  attention_problem *p = context;
  /* Claim a free scratch slot: at most one chunk runs per thread, and there
   * are as many slots as threads (up to MAX_SCRATCH_SLOTS, past which a
   * thread waits its turn). */
  int slot = -1;
  while (slot < 0) {
    uint64_t free_slots = atomic_load(&p->free_slots);
    if (free_slots == 0) {
      sched_yield();
      continue;
    }
    int candidate = __builtin_ctzll(free_slots);
    if (atomic_compare_exchange_weak(&p->free_slots, &free_slots,
                                     free_slots & ~(1ull << candidate)))
      slot = candidate;
  }
  attention_scratch w =
      carve_scratch(p->scratch + (size_t)slot * p->slot_floats, p->dk, p->dv);
  for (int64_t task = begin; task < end; ++task) {
    int64_t q_block = task % p->q_blocks;
    int64_t h = (task / p->q_blocks) % p->heads;
    int64_t b = task / (p->q_blocks * p->heads);
    attention_block(p, &w, b, h, q_block);
  }
  atomic_fetch_or(&p->free_slots, 1ull << slot);
}

void tfc_rt_attention_f32(const tfc_rt_memref3_f32 *q,
                          const tfc_rt_memref3_f32 *k,
                          const tfc_rt_memref3_f32 *v,
                          const tfc_rt_memref4_f32 *mask,
                          const tfc_rt_memref3_f32 *out, int64_t num_heads,
                          float scale, int64_t flags) {
  attention_problem p;
  memset(&p, 0, sizeof(p));
  p.q = q->aligned + q->offset;
  p.k = k->aligned + k->offset;
  p.v = v->aligned + v->offset;
  p.out = out->aligned + out->offset;
  p.batch = q->sizes[0];
  p.heads = num_heads;
  p.q_len = q->sizes[1];
  p.k_len = k->sizes[1];
  p.dk = q->sizes[2] / num_heads;
  p.dv = v->sizes[2] / num_heads;
  for (int i = 0; i < 3; ++i) {
    p.q_stride[i] = q->strides[i];
    p.k_stride[i] = k->strides[i];
    p.v_stride[i] = v->strides[i];
    p.out_stride[i] = out->strides[i];
  }
  p.scale = scale;
  p.causal = (flags & TFC_RT_ATTENTION_CAUSAL) != 0;
  p.has_mask = (flags & TFC_RT_ATTENTION_HAS_MASK) != 0;
  if (p.has_mask) {
    p.mask = mask->aligned + mask->offset;
    for (int i = 0; i < 4; ++i)
      p.mask_stride[i] = mask->sizes[i] == 1 ? 0 : mask->strides[i];
    p.key_padding = mask->sizes[1] == 1 && mask->sizes[2] == 1;
  }
  if (p.batch == 0 || p.q_len == 0 || p.dv == 0)
    return;
  p.q_blocks = (p.q_len + BLOCK_Q - 1) / BLOCK_Q;
  p.k_blocks = (p.k_len + BLOCK_K - 1) / BLOCK_K;
  p.packed_k_floats = round16((size_t)p.k_blocks * p.dk * BLOCK_K);
  p.packed_v_floats = round16((size_t)p.k_len * p.dv);
  size_t heads_total = (size_t)(p.batch * p.heads);
  p.packed_k = tfc_rt_aligned_alloc(
      64, sizeof(float) * heads_total * (p.packed_k_floats + p.packed_v_floats));
  p.packed_v = p.packed_k + heads_total * p.packed_k_floats;
  tfc_rt_parallel_for(pack_heads, &p, p.batch * p.heads);

  tfc_run *run = tfc_current_run();
  int threads = run ? tfc_thread_pool_size(run->model->pool) : 1;
  p.slots = threads < MAX_SCRATCH_SLOTS ? threads : MAX_SCRATCH_SLOTS;
  p.slot_floats = scratch_floats(p.dk, p.dv);
  p.scratch = tfc_rt_aligned_alloc(64, sizeof(float) * p.slot_floats * p.slots);
  atomic_init(&p.free_slots, p.slots == 64 ? ~0ull : (1ull << p.slots) - 1);
  tfc_rt_parallel_for(attention_tasks, &p,
                      p.batch * p.heads * p.q_blocks);
  tfc_rt_free(p.scratch);
  tfc_rt_free(p.packed_k);
}
