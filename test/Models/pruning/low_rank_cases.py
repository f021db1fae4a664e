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


def check(out, name, energy, y_path):
    import onnx
    from onnx import numpy_helper
    model = onnx.load(os.path.join(out, name + ".onnx"))
    weights = {t.name: numpy_helper.to_array(t).astype(np.float64)
               for t in model.graph.initializer}
    w, b = weights["w"], weights["b"]
    u, s, vt = np.linalg.svd(w, full_matrices=False)
    squares = np.cumsum(s ** 2)
    rank = int(np.searchsorted(squares, float(energy) * squares[-1]) + 1)
    approx = (u[:, :rank] * s[:rank]) @ vt[:rank]
    x = np.load(os.path.join(out, f"x{w.shape[0]}.npy")).astype(np.float64)
    expected = np.maximum(x @ approx + b, 0)
    got = np.load(y_path).astype(np.float64)
    error = np.abs(got - expected).max()
    scale = max(1.0, np.abs(expected).max())
    ok = error <= 1e-4 * scale
    print(f"{name}: rank {rank}, max abs error {error:.2e} against the rank-{rank} SVD")
    print("low-rank check: " + ("ok" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) == 6 and sys.argv[1] == "check":
        sys.exit(check(*sys.argv[2:]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
