#!/usr/bin/python3
"""Makes the reference outputs the model fixtures are checked against.

For each fixture in tiny/ and each of two input shapes, writes seeded inputs
and ONNX Runtime's outputs (run_ort.js, onnxruntime-node) as .npy files under
reference/<fixture>/<shape>/. Attention masks pad the end of every sequence
but the first, so padding is exercised.

Run from the repository root after `source scripts/common.sh; tfc_install_ort`:
    NODE_PATH=$TFC_ORT_NODE_PATH /usr/bin/python3 test/Models/make_references.py
"""

import os
import shutil
import subprocess

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# fixture -> list of (shape name, {input: shape})
SHAPES = {
    "bert": [("b2s8", (2, 8)), ("b3s13", (3, 13))],
    "gpt2": [("b2s7", (2, 7)), ("b1s16", (1, 16))],
    "vit": [("b3", 3), ("b1", 1)],
}
VOCAB = 1000


def make_inputs(model, shape, seed):
    random = np.random.RandomState(seed)
    if model == "vit":
        return {"pixel_values": random.randn(shape, 3, 32, 32).astype(np.float32)}
    batch, sequence = shape
    inputs = {"input_ids": random.randint(0, VOCAB, size=(batch, sequence)).astype(np.int64)}
    if model == "bert":
        mask = np.ones((batch, sequence), dtype=np.int64)
        for b in range(1, batch):
            mask[b, sequence - 2 * b:] = 0  # padding at the end
        inputs["attention_mask"] = mask
    return inputs


def main():
    for model, shapes in SHAPES.items():
        for opset in (14, 17):
            fixture = f"{model}-opset{opset}"
            onnx_path = os.path.join(HERE, "tiny", f"{fixture}.onnx")
            for seed, (shape_name, shape) in enumerate(shapes):
                out = os.path.join(HERE, "reference", fixture, shape_name)
                shutil.rmtree(out, ignore_errors=True)
                os.makedirs(out)
                command = ["node", os.path.join(HERE, "run_ort.js"), onnx_path, "-o", out]
                for name, array in make_inputs(model, shape, seed).items():
                    path = os.path.join(out, f"input_{name}.npy")
                    np.save(path, array)
                    command += ["--input", f"{name}={path}"]
                subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
                print(f"{fixture}/{shape_name}: {sorted(os.listdir(out))}")


if __name__ == "__main__":
    main()
