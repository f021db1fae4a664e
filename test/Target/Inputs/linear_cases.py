"""The cases of linear-kernel.test: a tfm.linear module with constant weights,
its inputs, and float64 numpy references.

Writes linear.mlir, input_<name>.npy and expected_<name>.npy into the
directory given as the only argument. Each case reaches a path of
lib/Kernels/linear_f32.c: row tiles of 12 and 4 and last tiles of 1 to 11
rows (each its own copy of the loop), a last panel narrower than
32 columns, a reduction longer than two 768-deep slices (accumulating
through the output), every activation, bias and residual epilogues, rank 2
and rank 3 operands.
"""
import math
import os
import sys

import numpy as np

rng = np.random.default_rng(11)
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
erf = np.vectorize(math.erf)


def save(name, array):
    np.save(os.path.join(out_dir, name + ".npy"), array.astype(np.float32))


def dense(array):
    """An MLIR dense attribute of f32 `array`, as hex (little-endian)."""
    return 'dense<"0x' + array.astype("<f4").tobytes().hex().upper() + '">'


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
    "tiles": ((2, 15, 64), 40, "gelu", True, True),
    "deep": ((7, 1700), 96, "relu", False, False),
    "tanh": ((1, 5, 16), 32, "gelu_tanh", True, False),
    "plain": ((3, 33), 70, "none", False, True),
    # 35 rows: a last tile of 11 (AVX-512) or 3 (AVX2); 25 rows: of 1.
    "rows35": ((35, 50), 64, "none", True, False),
    "rows25": ((25, 20), 33, "relu", True, True),
}

args, results, body = [], [], []
for name, (shape, n, activation, has_bias, has_residual) in cases.items():
    x = rng.standard_normal(shape).astype(np.float32)
    k = shape[-1]
    w = (rng.standard_normal((k, n)) / math.sqrt(k)).astype(np.float32)
    y = x.astype(np.float64) @ w.astype(np.float64)
    save("input_" + name + "_x", x)
    dyn = "x".join("?" for _ in shape[:-1])
    in_type = f"tensor<{dyn}x{k}xf32>"
    out_type = f"tensor<{dyn}x{n}xf32>"
    args.append(f'%{name}_x: {in_type} {{tfm.name = "{name}_x"}}')
    body.append(f"    %{name}_w = tfm.constant {dense(w)} : tensor<{k}x{n}xf32>")
    operands = [f"%{name}_x", f"%{name}_w"]
    types = [in_type, f"tensor<{k}x{n}xf32>"]
    if has_bias:
        b = rng.standard_normal(n).astype(np.float32)
        y = y + b.astype(np.float64)
        body.append(f"    %{name}_b = tfm.constant {dense(b)} : tensor<{n}xf32>")
        operands.append(f"%{name}_b")
        types.append(f"tensor<{n}xf32>")
    y = activate(y, activation)
    if has_residual:
        r = rng.standard_normal(shape[:-1] + (n,)).astype(np.float32)
        save("input_" + name + "_r", r)
        y = y + r.astype(np.float64)
        args.append(f'%{name}_r: {out_type} {{tfm.name = "{name}_r"}}')
        operands.append(f"%{name}_r")
        types.append(out_type)
    save("expected_" + name, y)
    segments = f"1, 1, {int(has_bias)}, {int(has_residual)}"
    body.append(
        f"    %{name} = tfm.linear {', '.join(operands)} {{activation = \"{activation}\", "
        f"operandSegmentSizes = array<i32: {segments}>}} : ({', '.join(types)}) -> {out_type}")
    results.append((f"%{name}", out_type, name))

with open(os.path.join(out_dir, "linear.mlir"), "w") as f:
    f.write("module {\n  func.func @main(" + ", ".join(args) + ") -> (")
    f.write(", ".join(f'{t} {{tfm.name = "{n}"}}' for _, t, n in results) + ") {\n")
    f.write("\n".join(body) + "\n")
    f.write("    return " + ", ".join(v for v, _, _ in results) + " : "
            + ", ".join(t for _, t, _ in results) + "\n  }\n}\n")
