#!/usr/bin/python3
"""Prunes a model for bench/run's -sparseNN cases (issue 21): every MatMul
weight ([K, N], N a multiple of 16, K of ROWS) loses the blocks of ROWS
input rows (1 unless given; 4 for the int8 kernel's blocks) by 16 output
columns with the smallest L1 norm, until SPARSITY of its blocks are zero;
the rest of the model is untouched. tfc finds the zeros itself (its
block-sparse kernels); ONNX Runtime runs the same file.

  /usr/bin/python3 bench/prune_blocks.py IN.onnx OUT.onnx SPARSITY [ROWS]
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    source, target, sparsity = sys.argv[1], sys.argv[2], float(sys.argv[3])
    rows = int(sys.argv[4]) if len(sys.argv) == 5 else 1
    model = onnx.load(source)
    weights = {node.input[1] for node in model.graph.node if node.op_type == "MatMul"}
    pruned = 0
    for index, tensor in enumerate(model.graph.initializer):
        if tensor.name not in weights:
            continue
        w = numpy_helper.to_array(tensor).copy()
        if w.ndim != 2 or w.shape[1] % 16 or w.shape[0] % rows:
            continue
        k, n = w.shape
        norms = np.abs(w.reshape(k // rows, rows, n // 16, 16)).sum(axis=(1, 3))
        drop = int(round(sparsity * norms.size))
        order = np.argsort(norms, axis=None)[:drop]
        keep = np.ones(norms.size, dtype=bool)
        keep[order] = False
        mask = keep.reshape(k // rows, n // 16).repeat(rows, axis=0).repeat(16, axis=1)
        w = np.where(mask, w, 0).astype(np.float32)
        model.graph.initializer[index].CopyFrom(numpy_helper.from_array(w, tensor.name))
        pruned += 1
    onnx.save(model, target)
    print(f"wrote {target}: {pruned} MatMul weights with {sparsity:.0%} of their {rows}x16 blocks zero")
    return 0


if __name__ == "__main__":
    sys.exit(main())
