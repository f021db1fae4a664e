"""Inputs and float64 numpy references for linear-attention-kernel.test.

Writes input_<name>.npy and expected_<name>.npy into the directory given as
the only argument. Each case exercises a path of
lib/Kernels/linear_attention_f32.c: causal prefill over several chunks of 64
keys with a partial last one, a decode-like call (Lq < Lk, the queries the
last positions), per-head decay without normalization (retention), the
non-causal form, and head dims that are not multiples of 16 or span more
than one block of 64 values.
"""
import os
import sys

import numpy as np

rng = np.random.default_rng(11)
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)


def save(name, array):
    np.save(os.path.join(out_dir, name + ".npy"), array.astype(np.float32))


def feature(x, kind):
    x = x.astype(np.float64)
    if kind == "elu_plus_one":
        return np.where(x > 0, x + 1.0, np.exp(np.minimum(x, 0.0)))
    if kind == "relu":
        return np.maximum(x, 0.0)
    if kind == "exp":
        return np.exp(x)
    return x


def linear_attention(q, k, v, kind, causal, scale=1.0, epsilon=None, decay=None):
    """q [B, Lq, N, dk], k [B, Lk, N, dk], v [B, Lk, N, dv], the quadratic
    form in float64: w_ij = scale φq_i·φk_j γ^(i' - j) over visible j."""
    fq, fk = feature(q, kind), feature(k, kind)
    lq, lk = q.shape[1], k.shape[1]
    w = np.einsum("bihd,bjhd->bhij", fq, fk) * scale
    if causal:
        i = np.arange(lq)[:, None] + (lk - lq)
        j = np.arange(lk)[None, :]
        distance = (i - j).astype(np.float64)
        visible = j <= i
        if decay is not None:
            gamma = decay.astype(np.float64)[None, :, None, None]
            w = w * np.where(visible, gamma ** np.maximum(distance, 0), 0.0)
        w = np.where(visible, w, 0.0)
    out = np.einsum("bhij,bjhe->bihe", w, v.astype(np.float64))
    if epsilon is not None:
        out = out / (w.sum(-1).transpose(0, 2, 1)[..., None] + epsilon)
    return out


def case(name, b, lq, lk, heads, dk, dv, kind, causal, scale=1.0,
         epsilon=None, decay=None):
    q = rng.standard_normal((b, lq, heads, dk)).astype(np.float32)
    k = rng.standard_normal((b, lk, heads, dk)).astype(np.float32)
    v = rng.standard_normal((b, lk, heads, dv)).astype(np.float32)
    save(f"input_{name}_q", q)
    save(f"input_{name}_k", k)
    save(f"input_{name}_v", v)
    if decay is not None:
        save(f"input_{name}_decay", decay)
    save(f"expected_{name}",
         linear_attention(q, k, v, kind, causal, scale, epsilon, decay))


# elu + 1, normalized, causal: 150 keys = two chunks of 64 and one of 22.
case("prefill", 2, 150, 150, 3, 32, 32, "elu_plus_one", True, epsilon=1e-6)
# The last 5 of 140 positions: chunks before the first query only update
# the state; dk 24 and dv 40 are not multiples of 16.
case("decode", 1, 5, 140, 2, 24, 40, "elu_plus_one", True, epsilon=1e-6)
# Retention: identity map, per-head decay, scaled, not normalized; dv 80
# spans two blocks of 64 values.
case("decay", 1, 130, 130, 4, 16, 80, "none", True, scale=0.25,
     decay=np.array([0.97, 0.9, 0.5, 0.0], dtype=np.float32))
# Not causal: every query sees every key (Lq != Lk).
case("global", 2, 33, 70, 2, 16, 16, "relu", False, epsilon=1e-3)
# exp (the exponents of Performer's features, --linearize): positive and
# negative inputs, 48 features, causal over a chunk and a partial one.
case("exp", 1, 100, 100, 2, 48, 16, "exp", True, epsilon=1e-30)
# For linear-attention-decoder.test (--decoder, a prefill then steps): 150
# positions of elu + 1 normalized (batch 2) and of retention with decay;
# the references are the whole sequence's, which the steps must continue.
case("stream", 2, 150, 150, 3, 32, 24, "elu_plus_one", True, epsilon=1e-6)
case("stream_decay", 2, 150, 150, 4, 16, 80, "none", True, scale=0.25,
     decay=np.array([0.97, 0.9, 0.5, 0.0], dtype=np.float32))


def window_case(name, b, lq, lk, heads, features, window_dim, dv, kind,
                causal, window, epsilon):
    """A sliding window of exact weights: the last window_dim values of q
    and k are the window's rows (0.5 scaled normals), and keys within
    `window` positions of query position i' = i + Lk - Lq (i' - W < j <= i'
    causal, |i' - j| < W not) weigh exp(qw·kw) instead of φq·φk. The
    kernel subtracts the window keys' linear weights from the row's sums, so
    its rounding error is relative to the whole row's weight: the features
    are 0.5 scaled normals too, so that no row's sum is hundreds of times
    the window's (the elementwise tolerance is 1e-4)."""
    dk = features + window_dim
    q = (rng.standard_normal((b, lq, heads, dk)) * 0.5).astype(np.float32)
    k = (rng.standard_normal((b, lk, heads, dk)) * 0.5).astype(np.float32)
    v = rng.standard_normal((b, lk, heads, dv)).astype(np.float32)
    save(f"input_{name}_q", q)
    save(f"input_{name}_k", k)
    save(f"input_{name}_v", v)
    fq, fk = feature(q[..., :features], kind), feature(k[..., :features], kind)
    w = np.einsum("bihd,bjhd->bhij", fq, fk)
    exact = np.exp(np.minimum(88.0, np.einsum(
        "bihd,bjhd->bhij", q[..., features:].astype(np.float64),
        k[..., features:].astype(np.float64))))
    i = np.arange(lq)[:, None] + (lk - lq)
    j = np.arange(lk)[None, :]
    inside = (i - j < window) & (j - i < window)
    w = np.where(inside, exact, w)
    if causal:
        w = np.where(j <= i, w, 0.0)
    out = np.einsum("bhij,bjhe->bihe", w, v.astype(np.float64))
    out = out / (w.sum(-1).transpose(0, 2, 1)[..., None] + epsilon)
    save(f"expected_{name}", out)


# The window (--linearize=hybrid): causal over two chunks and a partial one
# with the exp map; a decode-like call whose window (70) is longer than a
# chunk; not causal with ReLU features, the window on both sides.
window_case("window", 1, 150, 150, 2, 40, 9, 24, "exp", True, 20, 1e-30)
window_case("window_decode", 1, 5, 140, 2, 24, 5, 16, "elu_plus_one", True,
            70, 1e-6)
window_case("window_global", 2, 90, 90, 2, 32, 8, 16, "relu", False, 16, 1e-3)
# The last 30 of 40 positions with a window of 20: the first 10 queries'
# windows hold every key before them (no linear part), the rest run the
# linear form 20 keys behind.
window_case("window_early", 2, 30, 40, 3, 16, 3, 8, "relu", True, 20, 1e-3)
