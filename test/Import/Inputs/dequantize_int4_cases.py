"""The cases of dequantize-int4.test: 4-bit weights in the QDQ form (ONNX
opset 21: INT4 and UINT4 tensors, DequantizeLinear with block_size), as
ONNX Runtime's int4 quantizer writes them in its QDQ format, with random
codes, scales and zero points, and each output computed here in float64
from ONNX's definition of DequantizeLinear:

    y = (x - zero_point) * scale, element i along `axis` taking the
    parameter i // block_size, the zero point 0 when absent.

Debian's onnx (1.12) predates the 4-bit types, so their tensors are
written by hand: data_type 22 (INT4) or 21 (UINT4), two values to a byte,
the first in the low nibble, in raw_data or (one byte per entry) in
int32_data.

Writes into the directory given as the first argument:
  int4.onnx                    the cases below, one model;
  input_<name>.npy, expected_<name>.npy;
  quantize4.onnx, blocked_quantize.onnx, input4.onnx, short4.onnx
                               what tfc refuses: QuantizeLinear to INT4,
                               QuantizeLinear with block_size, a graph input
                               of type INT4, a UINT4 tensor short of entries.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

UINT4, INT4 = 21, 22
rng = np.random.default_rng(21)
out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)


def four_bit_tensor(values, name, signed, typed_field=False):
    """A TensorProto of INT4 (signed) or UINT4 holding `values`."""
    flat = (values.reshape(-1).astype(np.int64) & 15).astype(np.uint8)
    if flat.size % 2:
        flat = np.append(flat, np.uint8(0))
    packed = flat[0::2] | (flat[1::2] << 4)
    tensor = TensorProto()
    tensor.name = name
    tensor.data_type = INT4 if signed else UINT4
    tensor.dims.extend(values.shape)
    if typed_field:
        tensor.int32_data.extend(int(b) for b in packed)
    else:
        tensor.raw_data = packed.tobytes()
    return tensor


def dequantize(codes, scales, zeros, axis, block):
    """ONNX DequantizeLinear's blocked form, in float64."""
    expand = lambda p: np.repeat(p.astype(np.float64), block, axis=axis).take(
        range(codes.shape[axis]), axis=axis)
    zero = expand(zeros) if zeros is not None else 0.0
    return (codes.astype(np.float64) - zero) * expand(scales)


# name: (A's shape, K, N, block, signed, zero points, bias, weight in int32_data)
cases = {
    # What ONNX Runtime's quantizer writes: INT4 with INT4 zero points,
    # blocks of 32 along K, a bias added after.
    "int4": ((2, 3, 64), 64, 40, 32, True, True, True, False),
    # UINT4 with UINT4 zero points, blocks of 16.
    "uint4": ((5, 128), 128, 24, 16, False, True, False, False),
    # INT4 without zero points (symmetric), blocks of 64, an odd N.
    "sym": ((1, 1, 128), 128, 33, 64, True, False, False, False),
    # K = 40 in blocks of 16: the last block is short, which the int4
    # kernel's groups cannot be; it runs as a dequantize and a matmul. Its
    # 4-bit values in int32_data, an odd count of them.
    "ragged": ((3, 40), 40, 3, 16, True, True, False, True),
}
nodes, inputs, outputs, initializers = [], [], [], []
for name, (shape, k, n, block, signed, has_zero, has_bias, typed) in cases.items():
    blocks = -(-k // block)
    low, high = (-8, 8) if signed else (0, 16)
    codes = rng.integers(low, high, (k, n))
    scales = (rng.random((blocks, n)) * 0.1 + 0.01).astype(np.float32)
    zeros = rng.integers(low, high, (blocks, n)) if has_zero else None
    bias = rng.standard_normal(n).astype(np.float32) if has_bias else None
    a = rng.standard_normal(shape).astype(np.float32)
    y = a.astype(np.float64) @ dequantize(codes, scales, zeros, 0, block)
    if bias is not None:
        y = y + bias
    np.save(os.path.join(out_dir, f"input_{name}.npy"), a)
    np.save(os.path.join(out_dir, f"expected_{name}.npy"), y.astype(np.float32))
    dq_inputs = [f"{name}_w", f"{name}_scale"]
    initializers += [four_bit_tensor(codes, dq_inputs[0], signed, typed),
                     numpy_helper.from_array(scales, dq_inputs[1])]
    if has_zero:
        dq_inputs.append(f"{name}_zero")
        initializers.append(four_bit_tensor(zeros, dq_inputs[2], signed))
    prefix = f"/{name}"
    nodes.append(helper.make_node("DequantizeLinear", dq_inputs, [f"{name}_wf"],
                                  name=f"{prefix}/DequantizeLinear", axis=0,
                                  block_size=block))
    product = f"{name}_product" if has_bias else name
    nodes.append(helper.make_node("MatMul", [f"{name}_a", f"{name}_wf"], [product],
                                  name=f"{prefix}/MatMul"))
    if has_bias:
        initializers.append(numpy_helper.from_array(bias, f"{name}_bias"))
        nodes.append(helper.make_node("Add", [product, f"{name}_bias"], [name],
                                      name=f"{prefix}/Add"))
    dims = [f"{name}_batch", f"{name}_seq"][: len(shape) - 1] + [k]
    inputs.append(helper.make_tensor_value_info(f"{name}_a", TensorProto.FLOAT, dims))
    outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, dims[:-1] + [n]))

opsets = [helper.make_opsetid("", 21)]


def save(graph, file):
    model = helper.make_model(graph, opset_imports=opsets)
    model.ir_version = 10  # opset 21's (helper would write onnx 1.12's 8)
    onnx.save(model, os.path.join(out_dir, file))


save(helper.make_graph(nodes, "int4", inputs, outputs, initializers), "int4.onnx")

# Refused: QuantizeLinear to INT4 (its zero point says so), QuantizeLinear
# with block_size, a graph input of type INT4.
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 8])
scale = numpy_helper.from_array(np.float32(0.5), "s")
save(helper.make_graph(
    [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"], name="/q/QuantizeLinear"),
     helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"], name="/q/DequantizeLinear")],
    "quantize4", [x], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 8])],
    [scale, four_bit_tensor(np.array(1), "z", signed=True)]), "quantize4.onnx")
save(helper.make_graph(
    [helper.make_node("QuantizeLinear", ["x", "bs"], ["q"], name="/b/QuantizeLinear",
                      axis=1, block_size=4)],
    "blocked", [x], [helper.make_tensor_value_info("q", TensorProto.UINT8, [4, 8])],
    [numpy_helper.from_array(np.full((4, 2), 0.5, np.float32), "bs")]), "blocked_quantize.onnx")
four_bit_input = onnx.ValueInfoProto()
four_bit_input.name = "x4"
four_bit_input.type.tensor_type.elem_type = INT4
for d in (4, 8):
    four_bit_input.type.tensor_type.shape.dim.add().dim_value = d
save(helper.make_graph(
    [helper.make_node("DequantizeLinear", ["x4", "s"], ["y"], name="/in/DequantizeLinear")],
    "input4", [four_bit_input], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 8])],
    [scale]), "input4.onnx")
# A UINT4 [4, 2] weight with 3 entries of int32_data where it needs 4.
short = four_bit_tensor(np.arange(8).reshape(4, 2), "w4", signed=False, typed_field=True)
del short.int32_data[3:]
save(helper.make_graph(
    [helper.make_node("DequantizeLinear", ["w4", "bs"], ["y"], name="/short/DequantizeLinear",
                      axis=0, block_size=2)],
    "short", [], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 2])],
    [short, numpy_helper.from_array(np.full((2, 2), 0.5, np.float32), "bs")]), "short4.onnx")
print(" ".join(cases))
