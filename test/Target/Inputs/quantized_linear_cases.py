"""The cases of quantized-linear-kernel.test: a module of tfm.quantized_linear
ops with constant int8 weights, its inputs, and references computed here.

Writes quantized.mlir, input_<name>.npy and expected_<name>.npy into the
directory given as the first argument; a second argument `amx` writes the
cases of quantized-linear-amx.test instead (depths of whole AMX tiles, 64
k: blocks of 32 and 16 rows, the rows left after them, each input mode,
weight zero points, a last panel narrower than 32 columns), and `sparse`
those of sparse-quantized-linear-kernel.test (weights with most blocks of
4 input rows by 16 columns at their zero point, for
lib/Kernels/linear_sparse_q8.c: 80% to 90% and a single nonzero block, a
depth no multiple of 4, a narrow last panel, two blocks of 64 rows, last
tiles of several sizes, each input mode, and a weight 15% zero that stays
with the dense kernel). The reference quantizes the inputs in
float32 exactly as the op's definition says (so every integer matches the
kernel's), sums the integer products exactly (int64), and applies the
scales and the epilogue in float64. The cases reach every path of
lib/Kernels/linear_q8.c: each input mode (per row; per tensor, ONNX's
DynamicQuantizeLinear; static with u8 and s8 zero points), i8 and ui8
weights with and without zero points (per channel and per tensor), a depth
that is no multiple of 4, a last panel narrower than 32 columns, last tiles
of 1 to 11 rows, bias, every activation and residual, rank 2 and 3, and a
row of zeros.
"""
import math
import os
import sys

import numpy as np

rng = np.random.default_rng(19)
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
erf = np.vectorize(math.erf)
f32 = np.float32


def save(name, array):
    np.save(os.path.join(out_dir, name + ".npy"), array.astype(np.float32))


def dense(array, element):
    """An MLIR dense attribute, as hex (little-endian)."""
    dtype = {"f32": "<f4", "i8": "i1", "ui8": "u1"}[element]
    return 'dense<"0x' + array.astype(dtype).tobytes().hex().upper() + '">'


def activate(x, activation):
    if activation == "relu":
        return np.maximum(x, 0)
    if activation == "gelu":
        return 0.5 * x * (1 + erf(x / math.sqrt(2)))
    if activation == "gelu_tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return x


def quantize_input(x, mode, static_scale=None, static_zero=None, signed=False):
    """(q - zero point as int64, scale per row as float64), as the op defines."""
    x = x.astype(f32)
    if mode == "row":
        most = np.abs(x).max(axis=-1, keepdims=True)
        usable = (most > 0) & (most < np.inf)
        inverse = f32(127) / np.where(usable, most, f32(127)).astype(f32)
        scale = np.where(usable, most / f32(127), f32(1)).astype(f32)
        q = np.clip(np.rint((x * inverse).astype(f32)), -127, 127).astype(np.int64)
        return q, scale.astype(np.float64)
    if mode == "tensor":
        low = min(f32(x.min()), f32(0))
        high = max(f32(x.max()), f32(0))
        width = f32(high - low)
        scale = f32(width / f32(255)) if width > 0 else f32(1)
        zero = int(np.clip(np.rint(f32(-low) / scale), 0, 255)) if width > 0 else 0
        lo, hi = 0, 255
    else:
        scale, zero = f32(static_scale), static_zero
        lo, hi = (-128, 127) if signed else (0, 255)
    q = np.clip(np.rint((x / scale).astype(f32)).astype(np.int64) + zero, lo, hi)
    return q - zero, np.full(x.shape[:-1] + (1,), float(scale))


# name: (input shape, N, weight type, weight zero points ("none",
#        "channel", "tensor"), scale per "channel" or "tensor", input mode,
#        static (scale, zero, signed), activation, bias, residual)
cases = {
    "rows": ((2, 15, 37), 70, "i8", "none", "channel", "row", None, "gelu", True, True),
    "rank2": ((25, 40), 33, "i8", "none", "channel", "row", None, "relu", False, False),
    "tanh": ((1, 5, 16), 32, "i8", "none", "tensor", "row", None, "gelu_tanh", True, False),
    "deep": ((7, 1001), 64, "i8", "none", "channel", "row", None, "none", True, False),
    "dynamic": ((3, 7, 50), 20, "ui8", "channel", "channel", "tensor", None, "none", True, False),
    "static_u8": ((35, 24), 48, "ui8", "tensor", "channel", "static", (0.02, 128, False), "none", True, True),
    "static_s8": ((11, 30), 40, "i8", "channel", "tensor", "static", (0.05, -3, True), "relu", False, False),
}
if sys.argv[2:] == ["amx"]:
    cases = {
        "blocks": ((2, 77, 128), 70, "i8", "none", "channel", "row", None, "gelu", True, True),
        "sixteen": ((50, 192), 64, "ui8", "channel", "channel", "tensor", None, "relu", True, False),
        "static": ((48, 256), 40, "i8", "tensor", "channel", "static", (0.02, 128, False), "none", False, True),
        "deep": ((33, 3072), 40, "i8", "none", "channel", "row", None, "none", True, False),
    }

# The fraction of 4x16 blocks pruned to the zero point (sparse cases).
pruned = {}
if sys.argv[2:] == ["sparse"]:
    cases = {
        "tiles": ((2, 70, 64), 70, "i8", "none", "channel", "row", None, "gelu", True, True),
        "deep": ((9, 1001), 48, "ui8", "tensor", "channel", "tensor", None, "relu", True, False),
        "static": ((13, 40), 32, "i8", "none", "tensor", "static", (0.05, -3, True), "none", False, True),
        "single": ((5, 32), 32, "i8", "none", "channel", "row", None, "none", False, False),
        "denser": ((6, 64), 64, "i8", "none", "channel", "row", None, "none", True, False),
    }
    pruned = {"tiles": 0.8, "deep": 0.9, "static": 0.85, "single": 1.0, "denser": 0.15}

args, results, body = [], [], []
for name, (shape, n, wtype, wzero_kind, scale_kind, mode, static, activation,
           has_bias, has_residual) in cases.items():
    k = shape[-1]
    x = rng.standard_normal(shape).astype(f32)
    if name == "rows":
        x[0, 3, :] = 0  # a row of zeros: scale 1, all products 0
    if name == "static_u8":
        x *= 0.5  # mostly in range of the static scale, some clamped
    low, high = (0, 255) if wtype == "ui8" else (-128, 127)
    w = rng.integers(low, high + 1, size=(k, n))
    scales = rng.uniform(0.001, 0.02, size=n if scale_kind == "channel" else 1).astype(f32)
    zeros = None
    if wzero_kind != "none":
        count = n if wzero_kind == "channel" else 1
        zeros = rng.integers(100, 156, size=count) if wtype == "ui8" else rng.integers(-5, 6, size=count)
    if name in pruned:
        # Blocks of 4 k by 16 columns at the zero point: stored as zeros.
        # The rest within 100 of it (a ui8 weight's distance from its zero
        # point fits in s8, so vpdpbusd can skip the blocks too).
        zero_of = np.broadcast_to(zeros if zeros is not None else 0, (n,))
        w = np.clip(zero_of + rng.integers(-100, 101, size=(k, n)), low, high)
        groups, panels = (k + 3) // 4, (n + 15) // 16
        count = groups * panels
        chosen = rng.permutation(count)[:int(round(pruned[name] * count))]
        if pruned[name] == 1.0:
            chosen = chosen[1:]  # one block left
        for index in chosen:
            g, p = divmod(int(index), panels)
            w[4 * g:4 * g + 4, 16 * p:16 * p + 16] = zero_of[16 * p:16 * p + 16]
    save("input_" + name + "_x", x)
    if static:
        q, sa = quantize_input(x, mode, static[0], static[1], static[2])
    else:
        q, sa = quantize_input(x, mode)
    wz = w - (zeros if zeros is not None else 0)
    sums = q.reshape(-1, k) @ wz.astype(np.int64)
    y = sums.reshape(shape[:-1] + (n,)).astype(np.float64) * (
        scales.astype(np.float64) * sa)
    dyn = "x".join("?" for _ in shape[:-1])
    in_type = f"tensor<{dyn}x{k}xf32>"
    out_type = f"tensor<{dyn}x{n}xf32>"
    args.append(f'%{name}_x: {in_type} {{tfm.name = "{name}_x"}}')
    body.append(f"    %{name}_w = tfm.constant {dense(w, wtype)} : tensor<{k}x{n}x{wtype}>")
    body.append(f"    %{name}_s = tfm.constant {dense(scales, 'f32')} : tensor<{scales.size}xf32>")
    operands = [f"%{name}_x", f"%{name}_w", f"%{name}_s"]
    types = [in_type, f"tensor<{k}x{n}x{wtype}>", f"tensor<{scales.size}xf32>"]
    segments = [1, 1, 1, 0, 0, 0, 0, 0]
    if zeros is not None:
        body.append(f"    %{name}_z = tfm.constant {dense(zeros, wtype)} : tensor<{zeros.size}x{wtype}>")
        operands.append(f"%{name}_z")
        types.append(f"tensor<{zeros.size}x{wtype}>")
        segments[3] = 1
    if has_bias:
        b = rng.standard_normal(n).astype(f32)
        y = y + b.astype(np.float64)
        body.append(f"    %{name}_b = tfm.constant {dense(b, 'f32')} : tensor<{n}xf32>")
        operands.append(f"%{name}_b")
        types.append(f"tensor<{n}xf32>")
        segments[4] = 1
    y = activate(y, activation)
    if has_residual:
        r = rng.standard_normal(shape[:-1] + (n,)).astype(f32)
        save("input_" + name + "_r", r)
        y = y + r.astype(np.float64)
        args.append(f'%{name}_r: {out_type} {{tfm.name = "{name}_r"}}')
        operands.append(f"%{name}_r")
        types.append(out_type)
        segments[5] = 1
    if static:
        ztype = "i8" if static[2] else "ui8"
        body.append(f"    %{name}_is = tfm.constant dense<{static[0]}> : tensor<f32>")
        body.append(f"    %{name}_iz = tfm.constant dense<{static[1]}> : tensor<{ztype}>")
        operands += [f"%{name}_is", f"%{name}_iz"]
        types += ["tensor<f32>", f"tensor<{ztype}>"]
        segments[6] = segments[7] = 1
    save("expected_" + name, y)
    body.append(
        f"    %{name} = tfm.quantized_linear {', '.join(operands)} {{activation = \"{activation}\", "
        f"input_quantization = \"{mode}\", "
        f"operandSegmentSizes = array<i32: {', '.join(map(str, segments))}>}} : "
        f"({', '.join(types)}) -> {out_type}")
    results.append((f"%{name}", out_type, name))

with open(os.path.join(out_dir, "quantized.mlir"), "w") as f:
    f.write("module {\n  func.func @main(" + ", ".join(args) + ") -> (")
    f.write(", ".join(f'{t} {{tfm.name = "{n}"}}' for _, t, n in results) + ") {\n")
    f.write("\n".join(body) + "\n")
    f.write("    return " + ", ".join(v for v, _, _ in results) + " : "
            + ", ".join(t for _, t, _ in results) + "\n  }\n}\n")
print(" ".join(cases))
