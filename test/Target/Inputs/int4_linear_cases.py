"""The cases of int4-linear.test: weight-only int4 linears (group-wise
scales, symmetric or with zero points), their inputs, and references
computed here in float64.

Writes into the directory given as the first argument:
  int4.mlir      tfm.quantized_linear ops with int4 weights given here
                 (input_quantization "none", weight_bits 4): the op's
                 semantics, expected_<name>.npy;
  f32.mlir       the same shapes as tfm.linear by f32 weights, for
                 --tfm-quantize=mode=int4: expected_sym_<name>.npy and
                 expected_zero_<name>.npy are numpy's own rounding of those
                 weights (group 32: symmetric, the largest magnitude of each
                 group at -8 or 7; with zero points, the group's range, 0
                 included, onto 0..15) times the inputs;
  input_<name>_x.npy, input_<name>_r.npy.
The arithmetic of the rounding is float32's, as the compiler's; the
products are summed in float64, the library in f32 (rtol 1e-4).
"""
import math
import os
import sys

import numpy as np

rng = np.random.default_rng(2304)
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
erf = np.vectorize(math.erf)
f32 = np.float32


def save(name, array):
    np.save(os.path.join(out_dir, name + ".npy"), array.astype(np.float32))


def dense(array, element):
    raw = array.astype({"f32": "<f4", "i8": "i1", "ui8": "u1"}[element])
    return 'dense<"0x' + raw.tobytes().hex().upper() + '">'


def activate(x, activation):
    if activation == "relu":
        return np.maximum(x, 0)
    if activation == "gelu":
        return 0.5 * x * (1 + erf(x / math.sqrt(2)))
    return x


def round_int4(w, group, zero_points):
    """(values, scales, zeros or None) as tfm-quantize rounds w [K, N]."""
    k, n = w.shape
    g = w.reshape(k // group, group, n).astype(f32)
    if zero_points:
        low = np.minimum(g.min(1), f32(0))
        high = np.maximum(g.max(1), f32(0))
        scale = np.where(high > low, (high - low) / f32(15), f32(1)).astype(f32)
        zero = np.clip(np.rint(-low / scale), 0, 15).astype(f32)
        q = np.clip(np.rint(g / scale[:, None, :]) + zero[:, None, :], 0, 15)
        return q.reshape(k, n).astype(np.uint8), scale, zero.astype(np.uint8)
    first = np.abs(g).argmax(1)  # the first largest magnitude, as the compiler's
    extreme = np.take_along_axis(g, first[:, None, :], 1)[:, 0, :]
    magnitude = np.abs(extreme)
    scale = np.where(magnitude > 0,
                     magnitude / np.where(extreme < 0, f32(8), f32(7)), f32(1)).astype(f32)
    q = np.clip(np.rint(g / scale[:, None, :]), -8, 7)
    return q.reshape(k, n).astype(np.int8), scale, None


def dequantize(q, scale, zero, group):
    values = q.astype(np.float64)
    if zero is not None:
        values = values - np.repeat(zero.astype(np.float64), group, 0)
    return values * np.repeat(scale.astype(np.float64), group, 0)


# name: (input shape, N, group, zero points (int4.mlir), activation, bias, residual)
cases = {
    "sym32": ((2, 7, 64), 48, 32, False, "gelu", True, True),
    "zero64": ((9, 128), 33, 64, True, "relu", True, False),
    "sym128": ((1, 3, 256), 17, 128, False, "none", False, True),
    "zero32": ((5, 96), 8, 32, True, "none", False, False),
    # A decode step's one row and two rows (the kernel's split accumulators),
    # and rows past two tiles with a last partial one, over several panels.
    "step": ((1, 1, 256), 80, 64, True, "gelu", True, True),
    "pair": ((2, 128), 40, 128, False, "none", True, False),
    "tall": ((2, 29, 128), 70, 32, False, "relu", True, True),
}

modules = {"int4": ([], [], []), "f32": ([], [], [])}
expected_pass = {"sym": {}, "zero": {}}
for name, (shape, n, group, zero_points, activation, has_bias, has_residual) in cases.items():
    k = shape[-1]
    x = rng.standard_normal(shape).astype(f32)
    w = (rng.standard_normal((k, n)) * 0.1).astype(f32)
    b = rng.standard_normal(n).astype(f32)
    r = rng.standard_normal(shape[:-1] + (n,)).astype(f32)
    save("input_" + name + "_x", x)
    if has_residual:
        save("input_" + name + "_r", r)

    def output(weight):
        y = (x.astype(np.float64).reshape(-1, k) @ weight).reshape(shape[:-1] + (n,))
        if has_bias:
            y = y + b.astype(np.float64)
        y = activate(y, activation)
        return y + r.astype(np.float64) if has_residual else y

    q, scale, zero = round_int4(w, group, zero_points)
    save("expected_" + name, output(dequantize(q, scale, zero, group)))
    for mode in ("sym", "zero"):
        pq, ps, pz = round_int4(w, 32, mode == "zero")
        save(f"expected_{mode}_" + name, output(dequantize(pq, ps, pz, 32)))

    dyn = "x".join("?" for _ in shape[:-1])
    in_type, out_type = f"tensor<{dyn}x{k}xf32>", f"tensor<{dyn}x{n}xf32>"
    for module, (args, body, results) in modules.items():
        args.append(f'%{name}_x: {in_type} {{tfm.name = "{name}_x"}}')
        if has_residual:
            args.append(f'%{name}_r: {out_type} {{tfm.name = "{name}_r"}}')
        if module == "int4":
            element = "ui8" if zero_points else "i8"
            body.append(f"    %{name}_w = tfm.constant {dense(q, element)} : tensor<{k}x{n}x{element}>")
            body.append(f"    %{name}_s = tfm.constant {dense(scale, 'f32')} : tensor<{k // group}x{n}xf32>")
            operands = [f"%{name}_x", f"%{name}_w", f"%{name}_s"]
            types = [in_type, f"tensor<{k}x{n}x{element}>", f"tensor<{k // group}x{n}xf32>"]
            segments = [1, 1, 1, 0, 0, 0, 0, 0]
            if zero_points:
                body.append(f"    %{name}_z = tfm.constant {dense(zero, element)} : tensor<{k // group}x{n}x{element}>")
                operands.append(f"%{name}_z")
                types.append(f"tensor<{k // group}x{n}x{element}>")
                segments[3] = 1
            bias_at, residual_at = 4, 5
        else:
            body.append(f"    %{name}_w = tfm.constant {dense(w, 'f32')} : tensor<{k}x{n}xf32>")
            operands = [f"%{name}_x", f"%{name}_w"]
            types = [in_type, f"tensor<{k}x{n}xf32>"]
            segments = [1, 1, 0, 0]
            bias_at, residual_at = 2, 3
        if has_bias:
            body.append(f"    %{name}_b = tfm.constant {dense(b, 'f32')} : tensor<{n}xf32>")
            operands.append(f"%{name}_b")
            types.append(f"tensor<{n}xf32>")
            segments[bias_at] = 1
        if has_residual:
            operands.append(f"%{name}_r")
            types.append(out_type)
            segments[residual_at] = 1
        if module == "int4":
            attrs = (f'activation = "{activation}", input_quantization = "none", '
                     f"operandSegmentSizes = array<i32: {', '.join(map(str, segments))}>, "
                     "weight_bits = 4 : i64")
            op = "tfm.quantized_linear"
        else:
            attrs = (f'activation = "{activation}", '
                     f"operandSegmentSizes = array<i32: {', '.join(map(str, segments))}>")
            op = "tfm.linear"
        body.append(f"    %{name} = {op} {', '.join(operands)} {{{attrs}}} : "
                    f"({', '.join(types)}) -> {out_type} loc(\"/{name}/MatMul\")")
        results.append((f"%{name}", out_type, name))

for module, (args, body, results) in modules.items():
    with open(os.path.join(out_dir, module + ".mlir"), "w") as f:
        f.write("module {\n  func.func @main(" + ", ".join(args) + ") -> (")
        f.write(", ".join(f'{t} {{tfm.name = "{n}"}}' for _, t, n in results) + ") {\n")
        f.write("\n".join(body) + "\n")
        f.write("    return " + ", ".join(v for v, _, _ in results) + " : "
                + ", ".join(t for _, t, _ in results) + "\n  }\n}\n")
print(" ".join(cases))
