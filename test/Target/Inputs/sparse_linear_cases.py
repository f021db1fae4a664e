"""The cases of sparse-linear-kernel.test: tfm.linear by constant weights
pruned in blocks of one input row by 16 output columns, their inputs, and
float64 numpy references.

Writes sparse.mlir, input_<name>.npy and expected_<name>.npy into the
directory given as the only argument. Each case reaches a path of
lib/Kernels/linear_sparse_f32.c: 80% and 90% of the blocks zero, a last
panel narrower than 16 columns, row tiles of 8 and last tiles of 1 to 7
rows, more than one block of 64 rows, every activation, bias and residual
epilogues, rank 2 and rank 3, a depth taken in slices (1100: past 1024
k with AVX-512's 8 rows, on one thread, whose tasks have 10 of the 40
panels: a group of 8 or more), a weight with one nonzero
block (panels with none); and one weight only 30% zero in blocks, which must stay with
the dense kernel.
"""
import math
import os
import sys

import numpy as np

rng = np.random.default_rng(21)
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
erf = np.vectorize(math.erf)
BLOCK = 16


def save(name, array):
    np.save(os.path.join(out_dir, name + ".npy"), array.astype(np.float32))


def dense(array):
    return 'dense<"0x' + array.astype("<f4").tobytes().hex().upper() + '">'


def activate(x, activation):
    if activation == "relu":
        return np.maximum(x, 0)
    if activation == "gelu":
        return 0.5 * x * (1 + erf(x / math.sqrt(2)))
    if activation == "gelu_tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return x


def pruned(k, n, sparsity):
    """A [k, n] weight with `sparsity` of its 1x16 blocks all zero."""
    w = (rng.standard_normal((k, n)) / math.sqrt(k)).astype(np.float32)
    panels = (n + BLOCK - 1) // BLOCK
    blocks = k * panels
    zero = rng.permutation(blocks)[:int(round(sparsity * blocks))]
    for b in zero:
        row, panel = divmod(int(b), panels)
        w[row, panel * BLOCK:(panel + 1) * BLOCK] = 0
    return w


# name: (input shape, N, sparsity, activation, bias, residual)
cases = {
    "tiles": ((2, 15, 64), 40, 0.8, "gelu", True, True),
    "rows": ((77, 96), 64, 0.9, "relu", True, False),
    "deep": ((5, 700), 48, 0.8, "none", False, True),
    "tanh": ((1, 3, 32), 16, 0.9, "gelu_tanh", True, False),
    "sliced": ((2, 13, 1100), 640, 0.9, "gelu", True, True),
    "sparsest": ((6, 32), 32, 63 / 64, "none", True, False),
    "denser": ((9, 64), 64, 0.15, "none", False, False),
}

args, results, body = [], [], []
for name, (shape, n, sparsity, activation, has_bias, has_residual) in cases.items():
    x = rng.standard_normal(shape).astype(np.float32)
    k = shape[-1]
    w = pruned(k, n, sparsity)
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

with open(os.path.join(out_dir, "sparse.mlir"), "w") as f:
    f.write("module {\n  func.func @main(" + ", ".join(args) + ") -> (")
    f.write(", ".join(f'{t} {{tfm.name = "{n}"}}' for _, t, n in results) + ") {\n")
    f.write("\n".join(body) + "\n")
    f.write("    return " + ", ".join(v for v, _, _ in results) + " : "
            + ", ".join(t for _, t, _ in results) + "\n  }\n}\n")
