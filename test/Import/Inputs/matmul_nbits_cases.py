"""The cases of matmul-nbits.test: ONNX Runtime's com.microsoft MatMulNBits
(4-bit blocks along K) with random codes, scales and zero points, and the
op's value computed here in float64 from the packed bytes as ONNX Runtime's
ContribOperators.md defines it: Y = A @ dequant(B)^T (+ bias), B [N,
K / block, block / 2] with k = b * block + 2i in the low nibble of byte i,
zero points packed two to a byte per column (default 8).

Writes into the directory given as the first argument:
  nbits.onnx                 three MatMulNBits nodes (below), one model;
  input_<name>.npy, expected_<name>.npy;
  bits8.onnx, ragged.onnx    nodes tfc refuses (8-bit codes; K not a
                             multiple of the block).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(23)
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)


def pack_zero_points(zeros):
    """[N, blocks] codes -> uint8 [N * ceil(blocks / 2)]."""
    n, blocks = zeros.shape
    padded = np.zeros((n, (blocks + 1) // 2 * 2), np.uint8)
    padded[:, :blocks] = zeros
    return (padded[:, 0::2] | (padded[:, 1::2] << 4)).reshape(-1)


def reference(a, packed, scales, zeros, bias, k, n, block):
    blocks = k // block
    low, high = packed & 15, packed >> 4
    codes = np.stack([low, high], -1).reshape(n, blocks, block).astype(np.float64)
    zero = np.full((n, blocks), 8.0) if zeros is None else zeros.astype(np.float64)
    w = ((codes - zero[:, :, None]) * scales.reshape(n, blocks)[:, :, None]).reshape(n, k)
    y = a.astype(np.float64) @ w.T
    return y + bias.astype(np.float64) if bias is not None else y


# name: (A's shape (None: dynamic), K, N, block, zero points, bias)
cases = {
    "sym": ((2, 3, 64), 64, 40, 32, False, False),
    "zero": ((5, 128), 128, 24, 16, True, True),
    "odd": ((1, 1, 96), 96, 33, 32, True, False),
}
nodes, inputs, outputs, initializers = [], [], [], []
for name, (shape, k, n, block, zero_points, has_bias) in cases.items():
    blocks = k // block
    a = rng.standard_normal(shape).astype(np.float32)
    packed = rng.integers(0, 256, (n, blocks, block // 2), dtype=np.uint8)
    scales = (rng.random(n * blocks) * 0.1 + 0.01).astype(np.float32)
    zeros = rng.integers(0, 16, (n, blocks), dtype=np.uint8) if zero_points else None
    bias = rng.standard_normal(n).astype(np.float32) if has_bias else None
    np.save(os.path.join(out_dir, f"input_{name}.npy"), a)
    np.save(os.path.join(out_dir, f"expected_{name}.npy"),
            reference(a, packed, scales, zeros, bias, k, n, block).astype(np.float32))
    names = [f"{name}_a", f"{name}_b", f"{name}_scales"]
    initializers += [numpy_helper.from_array(packed, names[1]),
                     numpy_helper.from_array(scales, names[2])]
    if zero_points:
        names.append(f"{name}_zero_points")
        initializers.append(numpy_helper.from_array(pack_zero_points(zeros), names[3]))
    if has_bias:
        names += [""] * (5 - len(names)) + [f"{name}_bias"]
        initializers.append(numpy_helper.from_array(bias, names[5]))
    dims = [f"{name}_batch", f"{name}_seq"][: len(shape) - 1] + [k]
    inputs.append(helper.make_tensor_value_info(names[0], TensorProto.FLOAT, dims))
    outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims[:-1] + [n]))
    nodes.append(helper.make_node("MatMulNBits", names, [name], name=f"/{name}/MatMulNBits",
                                  domain="com.microsoft", K=k, N=n, bits=4, block_size=block))

opsets = [helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)]
graph = helper.make_graph(nodes, "nbits", inputs, outputs, initializers)
onnx.save(helper.make_model(graph, opset_imports=opsets), os.path.join(out_dir, "nbits.onnx"))


def single(file, k, n, block, bits, blob):
    packed = np.zeros((n, (k + block - 1) // block, blob), np.uint8)
    scales = np.ones(n * packed.shape[1], np.float32)
    node = helper.make_node("MatMulNBits", ["a", "b", "s"], ["y"], name="/bad/MatMulNBits",
                            domain="com.microsoft", K=k, N=n, bits=bits, block_size=block)
    g = helper.make_graph([node], "bad",
                          [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1, k])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, n])],
                          [numpy_helper.from_array(packed, "b"), numpy_helper.from_array(scales, "s")])
    onnx.save(helper.make_model(g, opset_imports=opsets), os.path.join(out_dir, file))


single("bits8.onnx", 64, 8, 32, 8, 32)
single("ragged.onnx", 40, 8, 16, 4, 8)
print(" ".join(cases))
