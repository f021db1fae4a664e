"""Writes attention.onnx: the multi-head attention core the way exporters
spell it (no projections), for bench/attention/run.

  q, k, v: [1, S, 768] (S symbolic) -> Reshape [1, S, 12, 64] -> Transpose
  -> MatMul(q, kT) -> Mul 1/8 -> Softmax(-1) -> MatMul(., v) -> Transpose
  -> Reshape [1, S, 768]

With --causal, a Where over a constant lower-triangular [S, S] table (sliced
as GPT-2's exports do) masks the scores.

With --linear, causal linear attention instead, as torch exports
Katharopoulos et al.'s form (the families suite's linear-attention model):
q, k, v reshaped to [1, S, 12, 64], elu(x) + 1 on q and k, CumSum over the
sequence of the outer products phi(k) v^T ([1, S, 12, 64, 64]) and of phi(k),
their contractions with phi(q), divided, reshaped back to [1, S, 768].

Run with Debian's python3 (the one with the onnx package).
"""
import argparse

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HEADS, HEAD_DIM = 12, 64
HIDDEN = HEADS * HEAD_DIM


def build(causal, max_positions):
    seq = "sequence"
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, seq, HIDDEN])
              for name in ("q", "k", "v")]
    output = helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, seq, HIDDEN])
    inits = [
        numpy_helper.from_array(np.array([1, -1, HEADS, HEAD_DIM], np.int64), "split_shape"),
        numpy_helper.from_array(np.array([1, -1, HIDDEN], np.int64), "merge_shape"),
        numpy_helper.from_array(np.array(HEAD_DIM ** -0.5, np.float32), "scale"),
    ]
    nodes = []
    for name, perm in (("q", [0, 2, 1, 3]), ("k", [0, 2, 3, 1]), ("v", [0, 2, 1, 3])):
        nodes.append(helper.make_node("Reshape", [name, "split_shape"], [name + "4"]))
        nodes.append(helper.make_node("Transpose", [name + "4"], [name + "t"], perm=perm))
    nodes.append(helper.make_node("MatMul", ["qt", "kt"], ["scores"]))
    nodes.append(helper.make_node("Mul", ["scores", "scale"], ["scaled"]))
    probabilities_input = "scaled"
    if causal:
        table = np.tril(np.ones((max_positions, max_positions), bool))[None, None]
        inits += [
            numpy_helper.from_array(table, "causal_table"),
            numpy_helper.from_array(np.array(-np.finfo(np.float32).max, np.float32), "fill"),
            numpy_helper.from_array(np.array([-2], np.int64), "minus2"),
            numpy_helper.from_array(np.array([-1], np.int64), "minus1"),
            numpy_helper.from_array(np.array([0], np.int64), "zero"),
            numpy_helper.from_array(np.array([1], np.int64), "one"),
            numpy_helper.from_array(np.array([2], np.int64), "axis2"),
            numpy_helper.from_array(np.array([3], np.int64), "axis3"),
        ]
        nodes += [
            helper.make_node("Shape", ["qt"], ["qt_shape"]),
            helper.make_node("Slice", ["qt_shape", "minus2", "minus1", "zero", "one"], ["q_len"]),
            helper.make_node("Shape", ["vt"], ["vt_shape"]),
            helper.make_node("Slice", ["vt_shape", "minus2", "minus1", "zero", "one"], ["k_len"]),
            helper.make_node("Sub", ["k_len", "q_len"], ["row_start"]),
            helper.make_node("Slice", ["causal_table", "row_start", "k_len", "axis2", "one"], ["rows"]),
            helper.make_node("Slice", ["rows", "zero", "k_len", "axis3", "one"], ["visible"]),
            helper.make_node("Where", ["visible", "scaled", "fill"], ["masked"]),
        ]
        probabilities_input = "masked"
    nodes += [
        helper.make_node("Softmax", [probabilities_input], ["probabilities"], axis=-1),
        helper.make_node("MatMul", ["probabilities", "vt"], ["context"]),
        helper.make_node("Transpose", ["context"], ["context_t"], perm=[0, 2, 1, 3]),
        helper.make_node("Reshape", ["context_t", "merge_shape"], ["out"]),
    ]
    graph = helper.make_graph(nodes, "attention", inputs, [output], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="tfc bench/attention")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def build_linear():
    seq = "sequence"
    inputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, [1, seq, HIDDEN])
              for name in ("q", "k", "v")]
    output = helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, seq, HIDDEN])
    inits = [
        numpy_helper.from_array(np.array([1, -1, HEADS, HEAD_DIM], np.int64), "split_shape"),
        numpy_helper.from_array(np.array([1, -1, HIDDEN], np.int64), "merge_shape"),
        numpy_helper.from_array(np.array(1.0, np.float32), "one"),
        numpy_helper.from_array(np.array(1e-6, np.float32), "eps"),
        numpy_helper.from_array(np.array(1, np.int64), "seq_axis"),
        numpy_helper.from_array(np.array([4], np.int64), "axis4"),
        numpy_helper.from_array(np.array([3], np.int64), "axis3"),
    ]
    nodes = [helper.make_node("Reshape", [n, "split_shape"], [n + "4"]) for n in "qkv"]
    for n in "qk":
        nodes += [helper.make_node("Elu", [n + "4"], [n + "_elu"], alpha=1.0),
                  helper.make_node("Add", [n + "_elu", "one"], ["phi_" + n])]
    nodes += [
        helper.make_node("Unsqueeze", ["phi_k", "axis4"], ["k5"]),
        helper.make_node("Unsqueeze", ["v4", "axis3"], ["v5"]),
        helper.make_node("Mul", ["k5", "v5"], ["outer"]),
        helper.make_node("CumSum", ["outer", "seq_axis"], ["kv"]),
        helper.make_node("Unsqueeze", ["phi_q", "axis4"], ["q5"]),
        helper.make_node("Mul", ["q5", "kv"], ["qkv"]),
        helper.make_node("ReduceSum", ["qkv", "axis3"], ["numerator"], keepdims=0),
        helper.make_node("CumSum", ["phi_k", "seq_axis"], ["k_sum"]),
        helper.make_node("Mul", ["phi_q", "k_sum"], ["qk"]),
        helper.make_node("ReduceSum", ["qk", "axis3"], ["qk_sum"], keepdims=1),
        helper.make_node("Add", ["qk_sum", "eps"], ["denominator"]),
        helper.make_node("Div", ["numerator", "denominator"], ["context"]),
        helper.make_node("Reshape", ["context", "merge_shape"], ["out"]),
    ]
    graph = helper.make_graph(nodes, "linear_attention", inputs, [output], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="tfc bench/attention")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("output")
    parser.add_argument("--causal", action="store_true")
    parser.add_argument("--linear", action="store_true")
    parser.add_argument("--max-positions", type=int, default=8192)
    parser.add_argument("--inputs", metavar="DIR", help="also write q, k, v .npy files")
    parser.add_argument("--sequence", type=int, default=512)
    args = parser.parse_args()
    model = build_linear() if args.linear else build(args.causal, args.max_positions)
    onnx.save(model, args.output)
    if args.inputs:
        rng = np.random.default_rng(0)
        for name in ("q", "k", "v"):
            np.save(f"{args.inputs}/{name}.npy",
                    rng.standard_normal((1, args.sequence, HIDDEN), dtype=np.float32))


if __name__ == "__main__":
    main()
