#!/usr/bin/python3
"""Makes the reference outputs the model-family fixtures are checked against.

For each fixture in tiny/ and each of two input shapes other than the one it
was exported at (batch 1, sequence 12), writes seeded inputs and ONNX
Runtime's outputs (../run_ort.js, onnxruntime-node) as .npy files under
reference/<family>/<shape>/.

Run from the repository root after `source scripts/common.sh; tfc_install_ort`:
    NODE_PATH=$TFC_ORT_NODE_PATH /usr/bin/python3 test/Models/families/make_references.py
"""

import os
import shutil
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
VOCAB = 100  # export_families.py's tiny vocabulary
HIDDEN, HEADS, LAYERS = 32, 4, 2


def token_ids(random, batch, sequence):
    return random.randint(2, VOCAB, size=(batch, sequence)).astype(np.int64)


def padding_mask(batch, sequence):
    """1 for tokens, 0 for padding at the end of every sequence but the first."""
    mask = np.ones((batch, sequence), dtype=np.int64)
    for b in range(1, batch):
        mask[b, sequence - 2 * b:] = 0
    return mask


def roberta(random, batch, sequence):
    ids = token_ids(random, batch, sequence)
    ids[padding_mask(batch, sequence) == 0] = 1  # RoBERTa's padding token
    return {"input_ids": ids}


def gpt2_kv(random, batch, sequence, past):
    kv = (LAYERS, batch, HEADS, past, HIDDEN // HEADS)
    return {"input_ids": token_ids(random, batch, sequence),
            "past_keys": random.randn(*kv).astype(np.float32),
            "past_values": random.randn(*kv).astype(np.float32)}


# family -> list of (shape name, input maker)
SHAPES = {
    "llama": [("b2s7", lambda r: {"input_ids": token_ids(r, 2, 7)}),
              ("b1s16", lambda r: {"input_ids": token_ids(r, 1, 16)})],
    "roberta": [("b2s8", lambda r: roberta(r, 2, 8)), ("b3s13", lambda r: roberta(r, 3, 13))],
    "t5": [("b2s8", lambda r: {"input_ids": token_ids(r, 2, 8), "attention_mask": padding_mask(2, 8)}),
           ("b3s13", lambda r: {"input_ids": token_ids(r, 3, 13),
                                "attention_mask": padding_mask(3, 13)})],
    "whisper": [("b2f20", lambda r: {"input_features": r.randn(2, 16, 20).astype(np.float32)}),
                ("b1f37", lambda r: {"input_features": r.randn(1, 16, 37).astype(np.float32)})],
    "patchtst": [("b2", lambda r: {"past_values": r.randn(2, 48, 3).astype(np.float32)}),
                 ("b3", lambda r: {"past_values": r.randn(3, 48, 3).astype(np.float32)})],
    "linear-attention": [("b2s7", lambda r: {"input_ids": token_ids(r, 2, 7)}),
                         ("b1s16", lambda r: {"input_ids": token_ids(r, 1, 16)})],
    # b2s150: the fused retention's kernel over two chunks of 64 keys and a
    # partial one.
    "retnet": [("b2s7", lambda r: {"input_ids": token_ids(r, 2, 7)}),
               ("b1s16", lambda r: {"input_ids": token_ids(r, 1, 16)}),
               ("b2s150", lambda r: {"input_ids": token_ids(r, 2, 150)})],
    "gpt2-kv": [("decode-b2p9", lambda r: gpt2_kv(r, 2, 1, 9)),
                ("prefill-b1s6p3", lambda r: gpt2_kv(r, 1, 6, 3))],
    "deit": [("b2", lambda r: {"pixel_values": r.randn(2, 3, 32, 32).astype(np.float32)}),
             ("b3", lambda r: {"pixel_values": r.randn(3, 3, 32, 32).astype(np.float32)})],
    "torch-encoder": [("b2s7", lambda r: {"src": r.randn(2, 7, HIDDEN).astype(np.float32),
                                          "padding_mask": padding_mask(2, 7) == 0}),
                      ("b3s16", lambda r: {"src": r.randn(3, 16, HIDDEN).astype(np.float32),
                                           "padding_mask": padding_mask(3, 16) == 0})],
    "bart": [("b2s8t5", lambda r: {"input_ids": token_ids(r, 2, 8),
                                   "decoder_input_ids": token_ids(r, 2, 5)}),
             ("b1s16t9", lambda r: {"input_ids": token_ids(r, 1, 16),
                                    "decoder_input_ids": token_ids(r, 1, 9)})],
}


def main():
    wanted = sys.argv[1:]
    for family, shapes in SHAPES.items():
        if wanted and family not in wanted:
            continue
        onnx_path = os.path.join(HERE, "tiny", f"{family}.onnx")
        for seed, (shape_name, make_inputs) in enumerate(shapes):
            out = os.path.join(HERE, "reference", family, shape_name)
            shutil.rmtree(out, ignore_errors=True)
            os.makedirs(out)
            command = ["node", os.path.join(HERE, "..", "run_ort.js"), onnx_path, "-o", out]
            for name, array in make_inputs(np.random.RandomState(seed)).items():
                path = os.path.join(out, f"input_{name}.npy")
                np.save(path, array)
                command += ["--input", f"{name}={path}"]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            print(f"{family}/{shape_name}: {sorted(os.listdir(out))}")


if __name__ == "__main__":
    main()
