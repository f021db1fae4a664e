"""Inputs and float64 numpy references for attention-kernel.test.

Writes input_<name>.npy and expected_<name>.npy into the directory given as
the only argument. Each case exercises a path of lib/Kernels/attention_f32.c:
several query and key blocks, key padding, causal masks with Lq == Lk and
Lq < Lk, head sizes that are not multiples of 16, fewer rows than a register
block, and a full [B, N, Lq, Lk] mask.
"""
import os
import sys

import numpy as np

rng = np.random.default_rng(7)
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)


def save(name, array):
    np.save(os.path.join(out_dir, name + ".npy"), array.astype(np.float32))


def attention_heads(q4, k4, v4, scale, mask=None, causal=False):
    """q4 [B, N, Lq, dk], k4 and v4 [B, Nkv, Lk, d]: query head h reads KV
    head h // (N // Nkv). Returns [B, Lq, N * dv]."""
    b, heads, lq, _ = q4.shape
    group = heads // k4.shape[1]
    k4 = np.repeat(k4.astype(np.float64), group, axis=1)
    v4 = np.repeat(v4.astype(np.float64), group, axis=1)
    lk, dv = k4.shape[2], v4.shape[3]
    s = q4.astype(np.float64) @ k4.transpose(0, 1, 3, 2) * scale
    if mask is not None:
        s = s + mask.astype(np.float64)
    if causal:
        i = np.arange(lq)[:, None]
        j = np.arange(lk)[None, :]
        s = np.where(j > i + (lk - lq), -np.inf, s)
    s = s - s.max(axis=-1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=-1, keepdims=True)
    return (p @ v4).transpose(0, 2, 1, 3).reshape(b, lq, heads * dv)


def attention(q, k, v, heads, scale, mask=None, causal=False):
    """Token-major q, k, v ([B, L, heads * d]) -> [B, Lq, heads * dv]."""
    def split(x):
        b, length, hidden = x.shape
        return x.reshape(b, length, heads, hidden // heads).transpose(0, 2, 1, 3)
    return attention_heads(split(q), split(k), split(v), scale, mask, causal)


def case(name, q, k, v, heads, scale, mask=None, causal=False):
    save("input_" + name + "_q", q)
    save("input_" + name + "_k", k)
    save("input_" + name + "_v", v)
    if mask is not None:
        save("input_" + name + "_mask", mask)
    save("expected_" + name, attention(q, k, v, heads, scale, mask, causal))


def randn(*shape):
    return rng.standard_normal(shape).astype(np.float32)


if sys.argv[2:] == ["amx"]:
    # The cases of bf16-attention-amx.test (Inputs/attention-amx.mlir): head
    # sizes that take AMX's tile products. 64: whole key blocks' scores as
    # tiles, the last block of 22 keys (or of 26 visible ones under the
    # padding) by vectors, every output as tiles from V padded to whole
    # tiles of 32 keys; two query blocks, the second of 36 queries.
    padding = np.zeros((2, 1, 1, 150), np.float32)
    padding[1, :, :, 90:] = np.finfo(np.float32).min
    case("blocks", randn(2, 100, 128), randn(2, 150, 128), randn(2, 150, 128), 2,
         0.125, mask=padding)
    # Causal, head size 32 (one tile of the head dim), 200 = 3 x 64 + 8.
    case("causal", randn(1, 200, 64), randn(1, 200, 64), randn(1, 200, 64), 2,
         32 ** -0.5, causal=True)
    # dk 48 (scores by vectors), dv 64 (outputs as tiles).
    case("mixed", randn(1, 80, 96), randn(1, 80, 96), randn(1, 80, 128), 2,
         48 ** -0.5)
    sys.exit(0)


# Two query blocks, three key blocks, key padding: the second sequence has
# 90 real keys, the first all 150.
padding = np.zeros((2, 1, 1, 150), np.float32)
padding[1, :, :, 90:] = np.finfo(np.float32).min
case("padded", randn(2, 100, 64), randn(2, 150, 64), randn(2, 150, 64), 4,
     0.25, mask=padding)
# Causal prefill, head size 48 (16-wide tail of the output loop).
case("causal", randn(1, 130, 96), randn(1, 130, 96), randn(1, 130, 96), 2,
     48 ** -0.5, causal=True)
# Causal with 5 new queries over 70 keys; value head size 20 (scalar tail).
case("decode", randn(1, 5, 32), randn(1, 70, 32), randn(1, 70, 40), 2,
     0.25, causal=True)
# 90 queries: a last query block of 26, two vectors of 16 (ViT's 197 ends in
# one of 5, BERT's 100 above in three).
case("partial", randn(1, 90, 32), randn(1, 90, 32), randn(1, 90, 32), 2,
     0.25)
# More keys than TFC_ATTENTION_IN_PLACE_MAX_KEYS (512) and more than one
# block of queries: K and V go through the packing phase (shorter ones, or
# a single block of queries, are read in place), with key padding.
long_padding = np.zeros((1, 1, 1, 600), np.float32)
long_padding[:, :, :, 550:] = np.finfo(np.float32).min
case("long", randn(1, 70, 32), randn(1, 600, 32), randn(1, 600, 32), 2,
     0.25, mask=long_padding)
# A full mask, 7 queries (a register block and a tail), head size 3.
case("masked", randn(1, 7, 6), randn(1, 9, 6), randn(1, 9, 6), 2, 0.5,
     mask=randn(1, 2, 7, 9))


def token_major(x4):
    """[B, N, L, d] as [B, L, N * d]."""
    b, n, length, d = x4.shape
    return x4.transpose(0, 2, 1, 3).reshape(b, length, n * d)


# Head-major operands and grouped-query attention (4 query heads over 2 KV
# heads): q head-major, k token-major, v head-major, causal with Lq < Lk.
q4, k4, v4 = randn(2, 4, 9, 16), randn(2, 2, 11, 16), randn(2, 2, 11, 8)
save("input_grouped_q", q4)
save("input_grouped_k", token_major(k4))
save("input_grouped_v", v4)
save("expected_grouped", attention_heads(q4, k4, v4, 0.25, causal=True))
# The same past the in-place limit with two blocks of queries (K and V
# packed per KV head): q token-major, k head-major, v token-major.
q4, k4, v4 = randn(1, 4, 70, 16), randn(1, 2, 600, 16), randn(1, 2, 600, 16)
save("input_grouped_long_q", token_major(q4))
save("input_grouped_long_k", k4)
save("input_grouped_long_v", token_major(v4))
save("expected_grouped_long", attention_heads(q4, k4, v4, 0.25))
# A decode step past the in-place limit: one block of queries reads K and V
# in place whatever their length.
case("decode_long", randn(1, 1, 32), randn(1, 600, 32), randn(1, 600, 32), 2,
     0.25, causal=True)
