#!/usr/bin/python3
"""Writes a one-linear model for tfc compile --prune and checks what the
compiler measured and did against float64 numpy.

  prune_cases.py write OUT
      OUT/linear.onnx: y = relu(x @ W + b), x [rows, 64], W [64, 48] (three
      panels of 16 columns), with two input channels 8x larger than the rest
      (where Wanda and magnitude disagree); OUT/calibration/set{0,1}/x.npy;
      OUT/test_x.npy.
  prune_cases.py check OUT REPORT.json SCORE BLOCK PRUNED_Y.npy
      Ranks W's blocks as SCORE does (magnitude: sum |w|; wanda: sum
      |w| * ||x_k|| over the calibration rows), and checks (1) every
      candidate sparsity's relative L2 error in the report, (2) the
      compiled library's output on test_x (PRUNED_Y) against x @ W' + b at
      the sparsity the report chose. Prints "prune check: ok" or FAILED.
"""
import json
import os
import sys

import numpy as np

K, N = 64, 48


def write(out):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(7)
    w = rng.standard_normal((K, N)).astype(np.float32)
    b = (0.1 * rng.standard_normal(N)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["xw"], name="/fc/MatMul"),
         helper.make_node("Add", ["xw", "b"], ["z"], name="/fc/Add"),
         helper.make_node("Relu", ["z"], ["y"], name="/fc/Relu")],
        "linear",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["rows", K])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["rows", N])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
    os.makedirs(out, exist_ok=True)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
              os.path.join(out, "linear.onnx"))
    scale = np.ones(K, dtype=np.float32)
    scale[[3, 40]] = 8.0
    for i, rows in enumerate((37, 20)):
        folder = os.path.join(out, "calibration", f"set{i}")
        os.makedirs(folder, exist_ok=True)
        np.save(os.path.join(folder, "x.npy"),
                (rng.standard_normal((rows, K)) * scale).astype(np.float32))
    np.save(os.path.join(out, "test_x.npy"),
            (rng.standard_normal((9, K)) * scale).astype(np.float32))


def load_model(out):
    import onnx
    from onnx import numpy_helper
    model = onnx.load(os.path.join(out, "linear.onnx"))
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    return weights["w"].astype(np.float64), weights["b"].astype(np.float64)


def blocks_of(block):
    rows, cols = block
    return [(k0, n0) for k0 in range(0, K, rows) for n0 in range(0, N, cols)]


def ranking(w, block, norms):
    rows, cols = block
    scores = []
    for index, (k0, n0) in enumerate(blocks_of(block)):
        part = np.abs(w[k0:k0 + rows, n0:n0 + cols])
        if norms is not None:
            part = part * norms[k0:k0 + rows, None]
        scores.append((part.sum(), index))
    return [index for _, index in sorted(scores)]


def pruned(w, block, order, count):
    rows, cols = block
    w = w.copy()
    corners = blocks_of(block)
    for index in order[:count]:
        k0, n0 = corners[index]
        w[k0:k0 + rows, n0:n0 + cols] = 0
    return w


def check(out, report_path, score, block_text, pruned_y_path):
    w, b = load_model(out)
    block = tuple(int(v) for v in block_text.split("x"))
    calibration = np.concatenate(
        [np.load(os.path.join(out, "calibration", s, "x.npy")).astype(np.float64)
         for s in ("set0", "set1")])
    norms = np.sqrt((calibration ** 2).sum(axis=0)) if score == "wanda" else None
    order = ranking(w, block, norms)
    with open(report_path) as f:
        report = json.load(f)
    layer = report["layers"][0]
    failures = []
    relu = lambda v: np.maximum(v, 0)
    reference = relu(calibration @ w + b)
    for candidate in layer.get("candidates", []):
        count = int(round(candidate["sparsity"] * len(order)))
        ours = relu(calibration @ pruned(w, block, order, count) + b)
        expected = np.sqrt(((ours - reference) ** 2).sum() / (reference ** 2).sum())
        got = candidate["relative_l2_error"]
        if abs(got - expected) > 1e-4 * max(expected, 1e-3):
            failures.append(f"sparsity {candidate['sparsity']}: error {got} against {expected}")
    count = int(round(layer["sparsity"] * len(order)))
    x = np.load(os.path.join(out, "test_x.npy")).astype(np.float64)
    expected_y = relu(x @ pruned(w, block, order, count) + b)
    got_y = np.load(pruned_y_path).astype(np.float64)
    error = np.abs(got_y - expected_y).max()
    if error > 1e-4 * max(1.0, np.abs(expected_y).max()):
        failures.append(f"the library's output differs from numpy's pruned product by {error}")
    print(f"{len(layer.get('candidates', []))} candidates, {count} of {len(order)} "
          f"blocks pruned, library max abs error {error:.2e}")
    for failure in failures:
        print("FAILED:", failure)
    print("prune check: " + ("FAILED" if failures else "ok"))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "write":
        write(sys.argv[2])
    elif len(sys.argv) == 7 and sys.argv[1] == "check":
        sys.exit(check(*sys.argv[2:]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
