#!/usr/bin/python3
"""Rewrites a model's large initializers to repeat a short period.

scripts/gpu-check carries compiled libraries to a GPU machine in at most
64 MB, and BERT-base's embedded weights alone are 420 MB. Timing does not
depend on the weights' values, and the correctness check needs only the
same weights in the CPU build and the GPU build. So each initializer of
more than PERIOD elements keeps its first PERIOD values (the exported
random init, at its scale) and repeats them to its size: a library built
from it compresses (gzip) to about one percent, and its numerics are the
same kind as the original's. PERIOD is 769, one more than BERT's and
GPT-2's hidden size (and prime): a row of 768 is the row before it shifted
by one value, a row of 3072 by four, so that a matrix stays of full rank
and gzip (a 32 KB window) still finds each row in the one before, even
after tfc concatenates the Q, K and V weights column-wise.

  /usr/bin/python3 bench/gpu/periodic_weights.py IN.onnx OUT.onnx
"""

import sys

import numpy as np
import onnx
from onnx import numpy_helper

PERIOD = 769


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    model = onnx.load(sys.argv[1])
    rewritten = 0
    for index, tensor in enumerate(model.graph.initializer):
        values = numpy_helper.to_array(tensor)
        if values.size <= PERIOD:
            continue
        flat = np.resize(values.reshape(-1)[:PERIOD], values.size)
        model.graph.initializer[index].CopyFrom(
            numpy_helper.from_array(flat.reshape(values.shape), tensor.name))
        rewritten += 1
    onnx.save(model, sys.argv[2])
    print(f"wrote {sys.argv[2]}: {rewritten} initializers repeat every {PERIOD} values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
