#!/usr/bin/python3
"""Writes an fp32 ONNX model in ONNX Runtime's dynamic int8 form, the graph
`onnxruntime.quantization.quantize_dynamic` writes (its Python tools are not
available here), so that bench/run can time ONNX Runtime's own int8 path:

  ort_quantize.py model.onnx model-int8.onnx [--per-channel]
  ort_quantize.py model.onnx model-qdq.onnx --qdq RANGES.json

Every MatMul by a constant [K, N] float weight becomes

  DynamicQuantizeLinear(x) -> (x_q uint8, x_scale, x_zero)
  MatMulInteger(x_q, w_q int8, x_zero, 0) -> int32
  Cast(float) * (x_scale * w_scale)

with the weight quantized symmetrically to int8 at write time (one scale,
or one per column with --per-channel), as quantize_dynamic does by default
(QInt8 weights, QUInt8 activations). ONNX Runtime's graph optimizations
fuse the chain into its DynamicQuantizeMatMul kernel. A Gemm by a constant
weight (alpha = beta = 1, A not transposed) is written the same way, its
bias added after; everything else stays fp32, as tfc's --quantize=int8
leaves it.

--qdq writes the QDQ form instead (what static quantizers and exporters
write): each such MatMul's input goes through QuantizeLinear and
DequantizeLinear (uint8, one scale and zero point from the input's range),
its weight is int8 per output column (DequantizeLinear along axis 1).
The ranges come from tfc's own calibration: RANGES.json is a
`tfc compile --quantize=int8 --calibration-data DIR --reduction-report=
RANGES.json` report, whose layers carry their inputs' min and max; a
product whose node has no range stays fp32.
"""
import json
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def quantize_weight(weight, per_channel):
    axis = 0 if per_channel else None
    most = np.abs(weight).max(axis=axis, keepdims=per_channel)
    scale = np.where(most > 0, most / 127.0, 1.0).astype(np.float32)
    values = np.clip(np.rint(weight / scale), -127, 127).astype(np.int8)
    return values, scale.reshape(-1) if per_channel else scale.reshape(())


def qdq_nodes(node, weight, input_range, prefix, new_initializers):
    """The QDQ form of `node` (MatMul, or Gemm with its bias added after) by
    `weight` ([K, N] float): uint8 input quantized by its range, int8
    weight per column."""
    low, high = min(input_range["min"], 0.0), max(input_range["max"], 0.0)
    x_scale = np.float32((high - low) / 255.0 if high > low else 1.0)
    x_zero = np.uint8(np.clip(np.rint(-low / x_scale), 0, 255))
    values, w_scale = quantize_weight(weight, per_channel=True)
    new_initializers += [
        numpy_helper.from_array(np.array(x_scale, np.float32), prefix + "_x_scale"),
        numpy_helper.from_array(np.array(x_zero, np.uint8), prefix + "_x_zero"),
        numpy_helper.from_array(values, prefix + "_w"),
        numpy_helper.from_array(w_scale, prefix + "_w_scale"),
    ]
    x, out = node.input[0], node.output[0]
    nodes = [
        helper.make_node("QuantizeLinear", [x, prefix + "_x_scale", prefix + "_x_zero"],
                         [prefix + "_xq"], name=prefix + "_q"),
        helper.make_node("DequantizeLinear", [prefix + "_xq", prefix + "_x_scale",
                                              prefix + "_x_zero"],
                         [prefix + "_xdq"], name=prefix + "_dq"),
        helper.make_node("DequantizeLinear", [prefix + "_w", prefix + "_w_scale"],
                         [prefix + "_wdq"], name=prefix + "_wdq", axis=1),
    ]
    has_bias = node.op_type == "Gemm" and len(node.input) > 2 and node.input[2]
    product = prefix + "_product" if has_bias else out
    nodes.append(helper.make_node("MatMul", [prefix + "_xdq", prefix + "_wdq"], [product],
                                  name=node.name))
    if has_bias:
        nodes.append(helper.make_node("Add", [product, node.input[2]], [out],
                                      name=prefix + "_bias"))
    return nodes


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model")
    parser.add_argument("out")
    parser.add_argument("--per-channel", action="store_true")
    parser.add_argument("--qdq", metavar="RANGES.json")
    args = parser.parse_args()
    ranges = {}
    if args.qdq:
        with open(args.qdq) as f:
            ranges = {layer["name"]: layer["input"] for layer in json.load(f)["layers"]
                      if "input" in layer}
    model = onnx.load(args.model)
    graph = model.graph
    initializers = {init.name: init for init in graph.initializer}
    nodes, quantized = [], 0
    new_initializers = []
    dropped = set()
    for node in graph.node:
        weight_name = None
        if node.op_type == "MatMul" and node.input[1] in initializers:
            weight_name = node.input[1]
            transposed = False
        elif (node.op_type == "Gemm" and node.input[1] in initializers and
              all(a.name not in ("alpha", "beta", "transA") or a.i == 0 or a.f == 1.0
                  for a in node.attribute)):
            weight_name = node.input[1]
            transposed = any(a.name == "transB" and a.i == 1 for a in node.attribute)
        weight = numpy_helper.to_array(initializers[weight_name]) if weight_name else None
        if weight is None or weight.ndim != 2 or weight.dtype != np.float32:
            nodes.append(node)
            continue
        if args.qdq and node.name not in ranges:
            nodes.append(node)
            continue
        if transposed:
            weight = weight.T
        prefix = (node.name or weight_name) + "_quant"
        if args.qdq:
            nodes += qdq_nodes(node, weight, ranges[node.name], prefix, new_initializers)
            dropped.add(weight_name)
            quantized += 1
            continue
        values, scale = quantize_weight(weight, args.per_channel)
        new_initializers += [
            numpy_helper.from_array(values, prefix + "_w"),
            numpy_helper.from_array(scale, prefix + "_w_scale"),
            numpy_helper.from_array(np.zeros((), np.int8), prefix + "_w_zero"),
        ]
        dropped.add(weight_name)
        x = node.input[0]
        product = prefix + "_product"
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [x],
                             [prefix + "_x", prefix + "_x_scale", prefix + "_x_zero"],
                             name=prefix + "_dql"),
            helper.make_node("MatMulInteger",
                             [prefix + "_x", prefix + "_w", prefix + "_x_zero", prefix + "_w_zero"],
                             [prefix + "_int"], name=prefix + "_mmi"),
            helper.make_node("Cast", [prefix + "_int"], [prefix + "_float"],
                             to=TensorProto.FLOAT, name=prefix + "_cast"),
            helper.make_node("Mul", [prefix + "_x_scale", prefix + "_w_scale"],
                             [prefix + "_scale"], name=prefix + "_scale_mul"),
        ]
        out = node.output[0]
        if node.op_type == "Gemm" and len(node.input) > 2 and node.input[2]:
            nodes.append(helper.make_node("Mul", [prefix + "_float", prefix + "_scale"],
                                          [product], name=prefix + "_mul"))
            nodes.append(helper.make_node("Add", [product, node.input[2]], [out],
                                          name=prefix + "_bias"))
        else:
            nodes.append(helper.make_node("Mul", [prefix + "_float", prefix + "_scale"],
                                          [out], name=prefix + "_mul"))
        quantized += 1
    still_used = {name for n in nodes for name in n.input}
    kept = [init for init in graph.initializer
            if init.name not in dropped or init.name in still_used]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + new_initializers)
    onnx.save(model, args.out)
    form = "QDQ" if args.qdq else "dynamic"
    print(f"wrote {args.out}: {quantized} products in int8 ({form}), "
          f"{os.path.getsize(args.out) / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
