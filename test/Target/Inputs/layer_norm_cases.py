"""The cases of layer-norm-kernel.test: tfm.layer_norm and
tfm.add_layer_norm with constant scales and biases, their inputs, and
float64 numpy references.

Writes layer_norm.mlir, input_<name>.npy and expected_<name>.npy into the
directory given as the only argument. The cases reach the paths of
lib/Kernels/layer_norm_f32.c (rows of whole 64-float blocks, a 16-float step,
a scalar tail; rows split over threads, and too few rows to split; with
and without bias and skip) and two the kernel does not take, which the
linalg lowering keeps: a normalization over two dims and a skip that
broadcasts.
"""
import os
import sys

import numpy as np

rng = np.random.default_rng(17)
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)


def save(name, array):
    np.save(os.path.join(out_dir, name + ".npy"), array.astype(np.float32))


def dense(array):
    """An MLIR dense attribute of f32 `array`, as hex (little-endian)."""
    return 'dense<"0x' + array.astype("<f4").tobytes().hex().upper() + '">'


def tensor(shape, dynamic=0):
    """A tensor type with the first `dynamic` dims `?`."""
    dims = ["?" if i < dynamic else str(d) for i, d in enumerate(shape)]
    return "tensor<" + "x".join(dims) + "xf32>"


# name: (input shape, axis, bias, skip shape or None)
cases = {
    "rows": ((2, 70, 768), 2, True, None),
    "tail": ((5, 37), 1, True, None),
    "skip": ((3, 9, 80), 2, False, (3, 9, 80)),
    "two_dims": ((2, 3, 20), 1, True, None),
    "broadcast_skip": ((2, 4, 48), 2, True, (1, 4, 48)),
}
epsilon = 1e-5

args, results, body = [], [], []
for name, (shape, axis, has_bias, skip_shape) in cases.items():
    x = (rng.standard_normal(shape) * 3 + 1).astype(np.float32)
    save("input_" + name + "_x", x)
    in_type = tensor(shape, dynamic=len(shape) - 1)
    args.append(f'%{name}_x: {in_type} {{tfm.name = "{name}_x"}}')
    operands, types = [f"%{name}_x"], [in_type]
    total = x.astype(np.float64)
    if skip_shape:
        r = rng.standard_normal(skip_shape).astype(np.float32)
        save("input_" + name + "_r", r)
        skip_type = tensor(skip_shape, dynamic=len(skip_shape) - 1
                           if skip_shape == shape else 0)
        args.append(f'%{name}_r: {skip_type} {{tfm.name = "{name}_r"}}')
        operands.append(f"%{name}_r")
        types.append(skip_type)
        total = total + r.astype(np.float64)
    dims = tuple(range(axis, len(shape)))
    mean = total.mean(axis=dims, keepdims=True)
    var = ((total - mean) ** 2).mean(axis=dims, keepdims=True)
    y = (total - mean) / np.sqrt(var + epsilon)
    param_shape = shape[axis:]
    scale = rng.standard_normal(param_shape).astype(np.float32)
    body.append(f"    %{name}_s = tfm.constant {dense(scale)} : {tensor(param_shape)}")
    operands.append(f"%{name}_s")
    types.append(tensor(param_shape))
    y = y * scale.astype(np.float64)
    if has_bias:
        bias = rng.standard_normal(param_shape).astype(np.float32)
        body.append(f"    %{name}_b = tfm.constant {dense(bias)} : {tensor(param_shape)}")
        operands.append(f"%{name}_b")
        types.append(tensor(param_shape))
        y = y + bias.astype(np.float64)
    save("expected_" + name, y)
    op = "tfm.add_layer_norm" if skip_shape else "tfm.layer_norm"
    body.append(
        f"    %{name} = {op} {', '.join(operands)} {{axis = {axis} : i64, "
        f"epsilon = {epsilon:e} : f32}} : ({', '.join(types)}) -> {in_type}")
    results.append((f"%{name}", in_type, name))

with open(os.path.join(out_dir, "layer_norm.mlir"), "w") as f:
    f.write("module {\n  func.func @main(" + ", ".join(args) + ") -> (")
    f.write(", ".join(f'{t} {{tfm.name = "{n}"}}' for _, t, n in results) + ") {\n")
    f.write("\n".join(body) + "\n")
    f.write("    return " + ", ".join(v for v, _, _ in results) + " : "
            + ", ".join(t for _, t, _ in results) + "\n  }\n}\n")
