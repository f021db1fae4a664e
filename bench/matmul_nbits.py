#!/usr/bin/python3
"""Writes an fp32 ONNX model with its MatMul weights in ONNX Runtime's 4-bit
form, the com.microsoft MatMulNBits node its int4 quantizer
(onnxruntime.quantization's MatMul4BitsQuantizer, not available here)
writes, so that bench/run can time ONNX Runtime's own int4 path and tfc can
import the same weights:

  matmul_nbits.py model.onnx model-int4.onnx [--block 32|64|128] [--zero-points]

Every MatMul by a constant [K, N] float weight (an initializer, or the
Transpose of one: a language model's head tied to its embedding) whose K is
a multiple of the block becomes MatMulNBits(A, B, scales[, zero_points])
with K, N, bits = 4 and block_size; the rest stays fp32. The weight is rounded to nearest as
tfc's --quantize=int4 rounds it: symmetric, each block's largest magnitude
on -8 or 7 (stored as code = value + 8, ONNX Runtime's default zero point
8, so no zero_points input), or with --zero-points each block's range (0
included) onto 0..15.

The layouts are MatMulNBits' (ONNX Runtime's ContribOperators.md):
B uint8 [N, K / block, block / 2], column n's block b holding k = b * block
+ 2i in the low nibble of byte i and k + 1 in the high one; scales float
[N * K / block] (n-major); zero_points uint8 [N * ceil(blocks / 2)], column
n's block b in byte b / 2 of its row, the low nibble for even b.
"""
import argparse

import numpy as np
import onnx
from onnx import helper, numpy_helper

f32 = np.float32


def round_blocks(w, block, zero_points):
    """(codes 0..15 [K, N], scales [K / block, N], zero points or None)."""
    k, n = w.shape
    g = w.reshape(k // block, block, n).astype(f32)
    if zero_points:
        low = np.minimum(g.min(1), f32(0))
        high = np.maximum(g.max(1), f32(0))
        scale = np.where(high > low, (high - low) / f32(15), f32(1)).astype(f32)
        zero = np.clip(np.rint(-low / scale), 0, 15).astype(f32)
        q = np.clip(np.rint(g / scale[:, None, :]) + zero[:, None, :], 0, 15)
        return q.reshape(k, n).astype(np.uint8), scale, zero.astype(np.uint8)
    first = np.abs(g).argmax(1)
    extreme = np.take_along_axis(g, first[:, None, :], 1)[:, 0, :]
    magnitude = np.abs(extreme)
    scale = np.where(magnitude > 0,
                     magnitude / np.where(extreme < 0, f32(8), f32(7)), f32(1)).astype(f32)
    q = np.clip(np.rint(g / scale[:, None, :]), -8, 7) + 8
    return q.reshape(k, n).astype(np.uint8), scale, None


def pack(codes, scales, zeros, block):
    """MatMulNBits' B, scales and zero_points from [K, N] codes."""
    k, n = codes.shape
    blocks = k // block
    by_column = codes.T.reshape(n, blocks, block // 2, 2)
    b = (by_column[..., 0] | (by_column[..., 1] << 4)).astype(np.uint8)
    flat_scales = scales.T.reshape(-1).astype(f32)
    packed_zeros = None
    if zeros is not None:
        padded = np.zeros((n, (blocks + 1) // 2 * 2), np.uint8)
        padded[:, :blocks] = zeros.T
        packed_zeros = (padded[:, 0::2] | (padded[:, 1::2] << 4)).reshape(-1).astype(np.uint8)
    return b, flat_scales, packed_zeros


def convert(model, block, zero_points):
    graph = model.graph
    weights = {t.name: t for t in graph.initializer}
    # Transposes of initializers: a tied head reads its embedding so.
    transposed = {n.output[0]: n.input[0] for n in graph.node
                  if n.op_type == "Transpose" and n.input[0] in weights
                  and list(next((a.ints for a in n.attribute if a.name == "perm"), [1, 0])) == [1, 0]}
    nodes, replaced, converted = [], set(), 0
    for node in graph.node:
        array = None
        if node.op_type == "MatMul" and len(node.input) == 2:
            if node.input[1] in weights:
                array = numpy_helper.to_array(weights[node.input[1]])
            elif node.input[1] in transposed:
                array = numpy_helper.to_array(weights[transposed[node.input[1]]])
                array = array.T if array.ndim == 2 else None
        if (array is None or array.dtype != np.float32 or array.ndim != 2
                or array.shape[0] % block != 0):
            nodes.append(node)
            continue
        k, n = array.shape
        codes, scales, zeros = round_blocks(array, block, zero_points)
        b, s, z = pack(codes, scales, zeros, block)
        base = node.name or node.output[0]
        names = [base + "_q4", base + "_scales"]
        graph.initializer.extend([numpy_helper.from_array(b, names[0]),
                                  numpy_helper.from_array(s, names[1])])
        if z is not None:
            names.append(base + "_zero_points")
            graph.initializer.append(numpy_helper.from_array(z, names[2]))
        nodes.append(helper.make_node(
            "MatMulNBits", [node.input[0]] + names, list(node.output), name=base,
            domain="com.microsoft", K=k, N=n, bits=4, block_size=block))
        replaced.add(node.input[1])
        converted += 1
    del graph.node[:]
    graph.node.extend(nodes)
    # The fp32 weights (and Transposes of them) go unless another node
    # still reads them.
    still_read = {name for n in graph.node for name in n.input}
    remaining = [n for n in graph.node
                 if n.op_type != "Transpose" or n.output[0] not in transposed
                 or n.output[0] in still_read]
    del graph.node[:]
    graph.node.extend(remaining)
    still_read = {name for n in graph.node for name in n.input}
    kept = [t for t in graph.initializer if t.name not in replaced or t.name in still_read]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return converted


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("out")
    parser.add_argument("--block", type=int, default=128, choices=(16, 32, 64, 128, 256))
    parser.add_argument("--zero-points", action="store_true")
    args = parser.parse_args()
    model = onnx.load(args.model)
    converted = convert(model, args.block, args.zero_points)
    onnx.save(model, args.out)
    print(f"{args.out}: {converted} MatMul weights as MatMulNBits "
          f"(block {args.block}, {'zero points' if args.zero_points else 'symmetric'})")


if __name__ == "__main__":
    main()
