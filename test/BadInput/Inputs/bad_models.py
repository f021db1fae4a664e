#!/usr/bin/python3
"""Writes the binary models of the bad-input suite into a directory.

Usage: bad_models.py OUT_DIR CASE...   (no CASE: every case)

Each case is a small model that is wrong in one way the ONNX text syntax
cannot express (typed tensor fields, external data, huge dims). The .test
files next to this script run tfc on them and check the message.
"""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

CASES = {}


def case(function):
    CASES[function.__name__.replace("_", "-")] = function
    return function


def value(name, rank_or_shape, elem_type=TensorProto.FLOAT):
    if isinstance(rank_or_shape, int):
        rank_or_shape = [f"d{i}" for i in range(rank_or_shape)]
    return helper.make_tensor_value_info(name, elem_type, rank_or_shape)


def save(path, nodes, inputs, outputs, initializers=(), opset=17):
    graph = helper.make_graph(nodes, "g", inputs, outputs, list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


def external(name, dims, location, **entries):
    tensor = TensorProto(name=name, data_type=TensorProto.FLOAT, dims=dims)
    tensor.data_location = TensorProto.EXTERNAL
    for key, text in [("location", location)] + list(entries.items()):
        entry = tensor.external_data.add()
        entry.key, entry.value = key, text
    return tensor


def add_weight(path, weight):
    save(path, [helper.make_node("Add", ["x", weight.name], ["y"])],
         [value("x", [4])], [value("y", [4])], [weight])


# Tensors whose dims promise more than the file holds.

@case
def typed_field_huge_dims(path):
    weight = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 40, 1 << 20])
    weight.float_data.extend([1.0, 2.0])
    add_weight(path, weight)


@case
def typed_field_short(path):
    weight = TensorProto(name="w", data_type=TensorProto.INT64, dims=[1 << 30])
    weight.int64_data.extend([1])
    save(path, [helper.make_node("Identity", ["w"], ["y"])], [],
         [value("y", 1, TensorProto.INT64)], [weight])


@case
def constant_huge_dims(path):
    tensor = TensorProto(data_type=TensorProto.INT64, dims=[1 << 40])
    tensor.int64_data.extend([1])
    save(path, [helper.make_node("Constant", [], ["c"], value=tensor),
                helper.make_node("Identity", ["c"], ["y"])], [],
         [value("y", 1, TensorProto.INT64)])


@case
def raw_data_wrapping_dims(path):
    # 2^32 * 2^32 floats: 2^66 bytes, 0 modulo 2^64, so empty raw_data
    # matched them before sizes were checked.
    weight = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 32, 1 << 32])
    weight.raw_data = b""
    add_weight(path, weight)


@case
def negative_initializer_dim(path):
    weight = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[-4])
    weight.raw_data = b""
    add_weight(path, weight)


# External data. The test creates the files, links and FIFOs they name.

@case
def external_good(path):
    add_weight(path, external("w", [4], "weights.bin"))
    np.arange(4, dtype=np.float32).tofile(os.path.join(os.path.dirname(path), "weights.bin"))


@case
def external_link_out(path):
    add_weight(path, external("w", [4], "link-out.bin"))


@case
def external_link_in(path):
    add_weight(path, external("w", [4], "link-in.bin"))


@case
def external_dir_link_out(path):
    add_weight(path, external("w", [4], "parent/weights.bin"))


@case
def external_dotdot(path):
    add_weight(path, external("w", [4], "../weights.bin"))


@case
def external_absolute(path):
    add_weight(path, external("w", [4], "/etc/passwd"))


@case
def external_fifo(path):
    add_weight(path, external("w", [4], "fifo.bin"))


@case
def external_directory(path):
    add_weight(path, external("w", [4], "sub"))


@case
def external_offset_not_a_number(path):
    add_weight(path, external("w", [4], "weights.bin", offset="12abc"))


@case
def external_length_not_a_number(path):
    add_weight(path, external("w", [4], "weights.bin", length="sixteen"))


@case
def external_offset_past_end(path):
    add_weight(path, external("w", [4], "weights.bin", offset="18446744073709551615"))


# Constants the compiler folds or sizes.

def int64s(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


@case
def div_int64_min_by_minus_one(path):
    # The Div folder raised SIGFPE on this.
    save(path, [helper.make_node("Div", ["a", "b"], ["y"])], [],
         [value("y", [1], TensorProto.INT64)], [int64s("a", [-2**63]), int64s("b", [-1])])


@case
def constant_of_shape_2e40(path):
    # A splat of 2^40 elements the float folder expanded (SmallVector abort).
    save(path, [helper.make_node("ConstantOfShape", ["s"], ["c"]),
                helper.make_node("Add", ["c", "c"], ["y"])], [],
         [value("y", 1)], [int64s("s", [1 << 40])])


@case
def constant_of_shape_2e62(path):
    # 2^62 x 8 floats: "succeeded" with no data before.
    save(path, [helper.make_node("ConstantOfShape", ["s"], ["y"])], [],
         [value("y", 2)], [int64s("s", [1 << 62, 8])])


@case
def range_overflow(path):
    # INT64_MIN to INT64_MAX: the count overflows (an empty tensor before).
    save(path, [helper.make_node("Range", ["a", "b", "d"], ["y"])], [],
         [value("y", 1, TensorProto.INT64)],
         [numpy_helper.from_array(np.array(v, dtype=np.int64), n)
          for n, v in [("a", -2**63), ("b", 2**63 - 1), ("d", 1)]])


@case
def split_into_20(path):
    # 20 sizes are stored as a blob, not inline: "not a constant" before.
    save(path, [helper.make_node("Split", ["x", "s"], [f"o{i}" for i in range(20)], axis=0)],
         [value("x", [20])], [value(f"o{i}", 1) for i in range(20)], [int64s("s", [1] * 20)])


@case
def input_dim_2e62(path):
    save(path, [helper.make_node("Relu", ["x"], ["y"])], [value("x", [1 << 62])], [value("y", 1)])


@case
def negative_input_dim(path):
    save(path, [helper.make_node("Relu", ["x"], ["y"])], [value("x", [-3, 2])], [value("y", 2)])


# Names that reach the generated C header.

@case
def hostile_names(path):
    # An input name that would close the header's comment and inject code,
    # a symbolic dim that would too, names that differ only in punctuation,
    # and an output named like the header's own constants.
    evil = "x*/ int injected = 1; /*"
    dim = "n*/ static int also; /*"
    save(path, [helper.make_node("Relu", ["a-b"], ["a-b.out"]),
                helper.make_node("Relu", ["a_b"], ["a_b_out"]),
                helper.make_node("Relu", [evil], ["NUM_INPUTS"]),
                helper.make_node("Relu", ["9\\\n"], ["y"])],
         [value("a-b", [2]), value("a_b", [2]), value(evil, [dim]), value("9\\\n", [2])],
         [value("a-b.out", [2]), value("a_b_out", [2]), value("NUM_INPUTS", [dim]),
          value("y", [2])])


@case
def control_characters_in_names(path):
    # An escape sequence in a name must not reach the terminal that prints
    # the error about it.
    save(path, [helper.make_node("Relu", ["a"], ["b"], name="evil\x1b[31m"),
                helper.make_node("Relu", ["zz\x1b]0;title\x07"], ["c"], name="n2")],
         [value("a", [2])], [value("c", [2])])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name in sys.argv[2:] or sorted(CASES):
        CASES[name](os.path.join(out, name + ".onnx"))


if __name__ == "__main__":
    main()
