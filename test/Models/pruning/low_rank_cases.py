#!/usr/bin/python3
"""Writes models for tfc compile --low-rank and checks a compiled library
against float64 numpy's truncated SVD.

  low_rank_cases.py write OUT
      OUT/tall.onnx: y = relu(x @ W + b), W [96, 64] of rank 6 plus noise
      of 1e-3 (K >= N: factored through WᵀW); OUT/wide.onnx: the same with
      W [64, 96] (K < N: through W Wᵀ); OUT/x96.npy, OUT/x64.npy.
  low_rank_cases.py check OUT MODEL ENERGY Y.npy
      Truncates W's SVD to the smallest rank holding ENERGY of its squared
      singular values and checks Y against relu(x @ (U_r S_r V_rᵀ) + b).
      Prints the rank and "low-rank check: ok" or FAILED.
  low_rank_cases.py budget OUT MODEL ENERGY MAX_ERROR REPORT Y.npy
      The budget (--max-error) on calibration rows x: the candidate ranks
      (the energy's, half way to and the largest that halves the
      multiply-adds), each one's layer error, the smallest within
      MAX_ERROR; checks the rank and error tfc's REPORT gives for /fc/MatMul
      (or that it kept it whole) and Y against that rank's SVD.
"""
import os
import sys

import numpy as np


def weight(k, n, seed):
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((k, 6)) @ rng.standard_normal((6, n)) / 6
    return (w + 1e-3 * rng.standard_normal((k, n))).astype(np.float32)


SHAPES = {"tall": (96, 64, 1), "wide": (64, 96, 2)}


def write(out):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    os.makedirs(out, exist_ok=True)
    for name, (k, n, seed) in SHAPES.items():
        w = weight(k, n, seed)
        b = (0.1 * np.random.default_rng(seed + 10).standard_normal(n)).astype(np.float32)
        graph = helper.make_graph(
            [helper.make_node("MatMul", ["x", "w"], ["xw"], name="/fc/MatMul"),
             helper.make_node("Add", ["xw", "b"], ["z"], name="/fc/Add"),
             helper.make_node("Relu", ["z"], ["y"], name="/fc/Relu")],
            name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", k])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", n])],
            [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
                  os.path.join(out, name + ".onnx"))
        np.save(os.path.join(out, f"x{k}.npy"),
                np.random.default_rng(seed + 20).standard_normal((7, k)).astype(np.float32))


def load(out, name):
    import onnx
    from onnx import numpy_helper
    model = onnx.load(os.path.join(out, name + ".onnx"))
    weights = {t.name: numpy_helper.to_array(t).astype(np.float64)
               for t in model.graph.initializer}
    w, b = weights["w"], weights["b"]
    x = np.load(os.path.join(out, f"x{w.shape[0]}.npy")).astype(np.float64)
    return w, b, x


def energy_rank(s, energy):
    squares = np.cumsum(s ** 2)
    return int(np.searchsorted(squares, float(energy) * squares[-1]) + 1)


def truncated(w, rank):
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    return (u[:, :rank] * s[:rank]) @ vt[:rank]


def check(out, name, energy, y_path, rank=None):
    w, b, x = load(out, name)
    if rank is None:
        rank = energy_rank(np.linalg.svd(w, compute_uv=False), energy)
    expected = np.maximum(x @ truncated(w, rank) + b, 0)
    got = np.load(y_path).astype(np.float64)
    error = np.abs(got - expected).max()
    scale = max(1.0, np.abs(expected).max())
    ok = error <= 1e-4 * scale
    print(f"{name}: rank {rank}, max abs error {error:.2e} against the rank-{rank} SVD")
    print("low-rank check: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


def budget(out, name, energy, max_error, report_path, y_path):
    import re
    w, b, x = load(out, name)
    k, n = w.shape
    s = np.linalg.svd(w, compute_uv=False)
    first = energy_rank(s, energy)
    most = k * n // (2 * (k + n))
    ranks = [first]
    for rank in (first + (most - first) // 2, most):
        if rank > ranks[-1]:
            ranks.append(rank)
    whole = np.maximum(x @ w + b, 0)
    errors = [np.sqrt(((np.maximum(x @ truncated(w, r) + b, 0) - whole) ** 2).sum() /
                      (whole ** 2).sum()) for r in ranks]
    chosen = next((i for i, e in enumerate(errors) if e <= float(max_error)), None)
    print(f"{name}: ranks {ranks}, errors " + " ".join(f"{e:.3e}" for e in errors))
    line = next(l for l in open(report_path) if "/fc/MatMul" in l)
    fields = line.split()
    ok = True
    if chosen is None:
        print(f"{name}: kept whole")
        ok = fields[2] == "-" and "kept whole" in line
    else:
        print(f"{name}: rank {ranks[chosen]}, error {errors[chosen]:.3e}")
        reported = float(fields[5])
        ok = (int(fields[2]) == ranks[chosen] and
              abs(reported - errors[chosen]) <= 6e-3 * errors[chosen] + 1e-9)  # 3 digits
        if ok:
            print("library: ", end="")
            ok = check(out, name, energy, y_path, ranks[chosen]) == 0
    print("budget check: " + ("ok" if ok else "FAILED: " + line.strip()))
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) == 6 and sys.argv[1] == "check":
        sys.exit(check(*sys.argv[2:]))
    elif len(sys.argv) == 8 and sys.argv[1] == "budget":
        sys.exit(budget(*sys.argv[2:]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
