#!/usr/bin/python3
"""Prunes a model for bench/run's -sparseNN cases (issue 21): every MatMul
weight ([K, N], N a multiple of 16) loses the blocks of one input row by
16 output columns with the smallest L1 norm, until SPARSITY of its blocks
are zero; the rest of the model is untouched. tfc finds the zeros itself
(its block-sparse kernel); ONNX Runtime runs the same file.

  /usr/bin/python3 bench/prune_blocks.py IN.onnx OUT.onnx SPARSITY
"""
import sys

import numpy as np
import onnx
from onnx import numpy_helper


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    source, target, sparsity = sys.argv[1], sys.argv[2], float(sys.argv[3])
    model = onnx.load(source)
    weights = {node.input[1] for node in model.graph.node if node.op_type == "MatMul"}
    pruned = 0
    for index, tensor in enumerate(model.graph.initializer):
        if tensor.name not in weights:
            continue
        w = numpy_helper.to_array(tensor).copy()
        if w.ndim != 2 or w.shape[1] % 16:
            continue
        k, n = w.shape
        norms = np.abs(w.reshape(k, n // 16, 16)).sum(axis=2)
        drop = int(round(sparsity * norms.size))
        order = np.argsort(norms, axis=None)[:drop]
        keep = np.ones(norms.size, dtype=bool)
        keep[order] = False
        mask = keep.reshape(k, n // 16).repeat(16, axis=1)
        w = np.where(mask, w, 0).astype(np.float32)
        model.graph.initializer[index].CopyFrom(numpy_helper.from_array(w, tensor.name))
        pruned += 1
    onnx.save(model, target)
    print(f"wrote {target}: {pruned} MatMul weights with {sparsity:.0%} of their 1x16 blocks zero")
    return 0


if __name__ == "__main__":
    sys.exit(main())
