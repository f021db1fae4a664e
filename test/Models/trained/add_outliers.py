#!/usr/bin/python3
"""Writes a trained fixture with activation outlier channels, the same
function as the original:

  add_outliers.py model.onnx out.onnx [--factor 60] [--channels 3,17]

For each LayerNormalization whose output only feeds MatMuls by constant
weights (and Shape ops), the chosen channels of its scale and bias are
multiplied by the factor and the same rows of each MatMul's weight divided
by it: the products are unchanged (to float rounding), but those channels
of the MatMuls' inputs are now `factor` times larger than the rest, as the
outlier channels of large trained transformers are. Quantizing such an
input per tensor spends its 8 bits on the outliers; SmoothQuant
(`tfc compile --quantize=int8-static --smooth-alpha`) moves them into the
weights.
"""
import argparse

import numpy as np
import onnx
from onnx import numpy_helper


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("out")
    parser.add_argument("--factor", type=float, default=60.0)
    parser.add_argument("--channels", default="3,17")
    args = parser.parse_args()
    channels = [int(c) for c in args.channels.split(",")]
    model = onnx.load(args.model)
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    consumers = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def scale(name, rows_or_elements, by):
        array = numpy_helper.to_array(initializers[name]).copy()
        array[rows_or_elements] *= by
        initializers[name].CopyFrom(numpy_helper.from_array(array, name))

    changed = 0
    for node in graph.node:
        if node.op_type != "LayerNormalization":
            continue
        users = [n for n in consumers.get(node.output[0], []) if n.op_type != "Shape"]
        if not users or not all(n.op_type == "MatMul" and n.input[1] in initializers
                                for n in users):
            continue
        if any(name not in initializers for name in node.input[1:3]):
            continue
        for name in node.input[1:3]:
            scale(name, channels, args.factor)
        for user in users:
            scale(user.input[1], channels, 1.0 / args.factor)
        changed += 1
    onnx.save(model, args.out)
    print(f"wrote {args.out}: outlier channels {channels} x{args.factor:g} "
          f"after {changed} layer norms")


if __name__ == "__main__":
    main()
