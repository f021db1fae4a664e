"""Inputs and float64 numpy references for attention-decoder.test.

Writes input_<name>.npy and expected_<name>.npy into the directory given as
the only argument: batch 2 of 150 positions for the two causal attentions of
attention-decoder.mlir, one token-major (3 heads of 32, q, k and v
[B, L, 96]), one head-major with grouped queries (4 query heads of 16, 2 KV
heads, values of 24: q [B, 4, L, 16], k [B, 2, L, 16], v [B, 2, L, 24]).
"""
import os
import sys

import numpy as np

rng = np.random.default_rng(23)
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
batch, length = 2, 150


def save(name, array):
    np.save(os.path.join(out_dir, name + ".npy"), array.astype(np.float32))


def causal_attention(q, k, v, scale):
    """q [B, N, L, dk], k [B, Nkv, L, dk], v [B, Nkv, L, dv] head-major;
    query head h reads KV head h // (N / Nkv). Returns [B, L, N * dv]."""
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    groups = q.shape[1] // k.shape[1]
    k, v = np.repeat(k, groups, axis=1), np.repeat(v, groups, axis=1)
    scores = np.einsum("bnid,bnjd->bnij", q, k) * scale
    hidden = np.triu(np.ones((length, length), dtype=bool), 1)
    scores = np.where(hidden, -np.inf, scores)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    out = np.einsum("bnij,bnjd->bind", weights, v)
    return out.reshape(batch, length, -1)


def heads(x, n):  # [B, L, n * d] -> [B, n, L, d]
    return x.reshape(batch, length, n, -1).transpose(0, 2, 1, 3)


tq, tk, tv = (rng.standard_normal((batch, length, 96)) for _ in range(3))
save("input_token_q", tq)
save("input_token_k", tk)
save("input_token_v", tv)
save("expected_token", causal_attention(heads(tq, 3), heads(tk, 3), heads(tv, 3), 0.2))

gq = rng.standard_normal((batch, 4, length, 16))
gk = rng.standard_normal((batch, 2, length, 16))
gv = rng.standard_normal((batch, 2, length, 24))
save("input_grouped_q", gq)
save("input_grouped_k", gk)
save("input_grouped_v", gv)
save("expected_grouped", causal_attention(gq, gk, gv, 0.25))
