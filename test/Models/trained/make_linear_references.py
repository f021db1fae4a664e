#!/usr/bin/python3
"""Makes ONNX Runtime's reference outputs for the char-linear fixture
(linear-attention.test): its logits on the first 4 test windows (4 x 64
bytes) and on one sequence of 512 bytes of the held-out text, longer than
anything it was trained on (it has no position table), each written as
data/char-linear/reference/<case>/{tokens,logits}.npy.

Run from the repository root after `source scripts/common.sh; tfc_install_ort`:
    NODE_PATH=$TFC_ORT_NODE_PATH /usr/bin/python3 test/Models/trained/make_linear_references.py
"""
import os
import shutil
import subprocess
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data", "char-linear")


def main():
    windows = np.load(os.path.join(DATA, "test_tokens.npy"))
    cases = {"windows": windows[:4],
             "long": windows[:8].reshape(1, -1)}  # 8 windows in a row: 512 bytes
    for name, tokens in cases.items():
        folder = os.path.join(DATA, "reference", name)
        os.makedirs(folder, exist_ok=True)
        np.save(os.path.join(folder, "tokens.npy"), tokens.astype(np.int64))
        with tempfile.TemporaryDirectory() as out:
            subprocess.run(["node", os.path.join(HERE, "..", "run_ort.js"),
                            os.path.join(HERE, "char-linear.onnx"),
                            "--input", f"tokens={folder}/tokens.npy", "-o", out],
                           check=True, stdout=subprocess.DEVNULL)
            shutil.copy(os.path.join(out, "logits.npy"), os.path.join(folder, "logits.npy"))
        print(f"wrote {folder}: tokens {tokens.shape}")


if __name__ == "__main__":
    main()
