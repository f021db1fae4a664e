"""The cases of bf16-linear-kernel.test: a module of tfm.linear ops of f32
inputs by constant bf16 weights, its inputs, and references computed here.

Writes bf16.mlir, input_<name>.npy and expected_<name>.npy into the
directory given as the first argument; a second argument `amx` writes the
cases of bf16-linear-amx.test instead (depths of whole AMX tiles, 16
pairs: blocks of 32 and 16 rows, the rows left after them, a last panel
narrower than 32 columns). The reference rounds the inputs to
bf16 as the op defines (nearest, ties to even), multiplies by the bf16
weights and sums in float64, then applies the epilogue in float64; the
kernel sums in f32, so it matches to f32 rounding, where an input left
unrounded would be off by bf16's (2^-9 relative per element). The cases
reach every path of lib/Kernels/linear_bf16.c: an odd depth (the last
pair completed with 0), a last panel narrower than 32 columns, last tiles
of 1 to 11 rows, bias, every activation and residual, rank 2 and 3.
"""
import math
import os
import sys

import numpy as np

rng = np.random.default_rng(1916)
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
erf = np.vectorize(math.erf)
f32 = np.float32


def save(name, array):
    np.save(os.path.join(out_dir, name + ".npy"), array.astype(np.float32))


def round_bf16(x):
    """x (float32) rounded to the nearest bf16, ties to even, as float32."""
    bits = x.astype(f32).view(np.uint32).astype(np.uint64)
    rounded = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return (rounded.astype(np.uint32) << 16).view(f32)


def dense(array, element):
    """An MLIR dense attribute, as hex (little-endian); bf16 from float32
    values that are bf16 already."""
    if element == "bf16":
        raw = (array.astype(f32).view(np.uint32) >> 16).astype("<u2")
    else:
        raw = array.astype("<f4")
    return 'dense<"0x' + raw.tobytes().hex().upper() + '">'


def activate(x, activation):
    if activation == "relu":
        return np.maximum(x, 0)
    if activation == "gelu":
        return 0.5 * x * (1 + erf(x / math.sqrt(2)))
    if activation == "gelu_tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return x


# name: (input shape, N, activation, bias, residual)
cases = {
    "rows": ((2, 15, 37), 70, "gelu", True, True),
    "rank2": ((25, 40), 33, "relu", False, False),
    "tanh": ((1, 5, 16), 32, "gelu_tanh", True, False),
    "deep": ((7, 1001), 64, "none", True, False),
    "tall": ((3, 41, 64), 96, "none", False, True),
}
if sys.argv[2:] == ["amx"]:
    cases = {
        "blocks": ((2, 77, 128), 70, "gelu", True, True),
        "sixteen": ((50, 192), 64, "relu", True, False),
        "deep": ((33, 3072), 40, "none", False, True),
    }

args, results, body = [], [], []
for name, (shape, n, activation, has_bias, has_residual) in cases.items():
    k = shape[-1]
    x = rng.standard_normal(shape).astype(f32)
    w = round_bf16(rng.standard_normal((k, n)).astype(f32) * f32(0.1))
    save("input_" + name + "_x", x)
    y = round_bf16(x).astype(np.float64).reshape(-1, k) @ w.astype(np.float64)
    y = y.reshape(shape[:-1] + (n,))
    dyn = "x".join("?" for _ in shape[:-1])
    in_type = f"tensor<{dyn}x{k}xf32>"
    out_type = f"tensor<{dyn}x{n}xf32>"
    args.append(f'%{name}_x: {in_type} {{tfm.name = "{name}_x"}}')
    body.append(f"    %{name}_w = tfm.constant {dense(w, 'bf16')} : tensor<{k}x{n}xbf16>")
    operands = [f"%{name}_x", f"%{name}_w"]
    types = [in_type, f"tensor<{k}x{n}xbf16>"]
    segments = [1, 1, 0, 0]
    if has_bias:
        b = rng.standard_normal(n).astype(f32)
        y = y + b.astype(np.float64)
        body.append(f"    %{name}_b = tfm.constant {dense(b, 'f32')} : tensor<{n}xf32>")
        operands.append(f"%{name}_b")
        types.append(f"tensor<{n}xf32>")
        segments[2] = 1
    y = activate(y, activation)
    if has_residual:
        r = rng.standard_normal(shape[:-1] + (n,)).astype(f32)
        save("input_" + name + "_r", r)
        y = y + r.astype(np.float64)
        args.append(f'%{name}_r: {out_type} {{tfm.name = "{name}_r"}}')
        operands.append(f"%{name}_r")
        types.append(out_type)
        segments[3] = 1
    save("expected_" + name, y)
    body.append(
        f"    %{name} = tfm.linear {', '.join(operands)} {{activation = \"{activation}\", "
        f"operandSegmentSizes = array<i32: {', '.join(map(str, segments))}>}} : "
        f"({', '.join(types)}) -> {out_type}")
    results.append((f"%{name}", out_type, name))

with open(os.path.join(out_dir, "bf16.mlir"), "w") as f:
    f.write("module {\n  func.func @main(" + ", ".join(args) + ") -> (")
    f.write(", ".join(f'{t} {{tfm.name = "{n}"}}' for _, t, n in results) + ") {\n")
    f.write("\n".join(body) + "\n")
    f.write("    return " + ", ".join(v for v, _, _ in results) + " : "
            + ", ".join(t for _, t, _ in results) + "\n  }\n}\n")
print(" ".join(cases))
