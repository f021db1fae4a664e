#!/usr/bin/python3
"""Measures a trained fixture's metric on its test set with a compiled
library, and checks the change against its fp32 metric (metrics.json).

  evaluate.py --tfc build/bin/tfc --fixture digits-vit --library libdv.so \\
      [--max-loss 0.5] [--work DIR]

Runs `tfc run` on the fixture's test inputs (data/<fixture>/test_*.npy),
computes the metric from the outputs (accuracy: the share of test labels the
logits' argmax gets right; bits per character: the mean -log2 p of each
next byte) and prints it beside the fp32 metric torch measured when the
fixture was trained. --max-loss fails (exit 1) when the metric is worse than
fp32 by more than that: points of accuracy (0.5 = half a point), or percent
of bits per character (1 = 1%).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def bits_per_character(logits, tokens):
    logits = logits[:, :-1].astype(np.float64)
    targets = tokens[:, 1:]
    logits -= logits.max(-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], -1)[..., 0]
    return float(-picked.mean() / np.log(2))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tfc", required=True)
    parser.add_argument("--fixture", required=True)
    parser.add_argument("--library", required=True)
    parser.add_argument("--max-loss", type=float,
                        help="points of accuracy, or percent of bits per character")
    parser.add_argument("--work", help="where the outputs go (default: a temporary folder)")
    args = parser.parse_args()

    with open(os.path.join(HERE, "metrics.json")) as f:
        expected = json.load(f)[args.fixture]
    # A fixture trained again (textkind-bert-sparse80) is measured on the
    # test set of the one it retrains.
    data = os.path.join(HERE, "data", expected.get("test_set", args.fixture))
    inputs = sorted(name[len("test_"):-len(".npy")] for name in os.listdir(data)
                    if name.startswith("test_") and name != "test_labels.npy")
    work = args.work or tempfile.mkdtemp(prefix="tfc-evaluate-")
    command = [args.tfc, "run", args.library, "-o", work, "--quiet"]
    for name in inputs:
        command += ["--input", f"{name}={os.path.join(data, 'test_' + name + '.npy')}"]
    subprocess.run(command, check=True)
    logits = np.load(os.path.join(work, "logits.npy"))

    fp32 = expected["fp32"]
    if expected["metric"] == "accuracy":
        labels = np.load(os.path.join(data, "test_labels.npy"))
        value = float((logits.argmax(-1) == labels).mean())
        loss = (fp32 - value) * 100
        print(f"{args.fixture} accuracy: {value:.4f} (fp32 {fp32:.4f}; "
              f"loss {loss:+.2f} points, {len(labels)} test samples)")
        unit = "points"
    else:
        tokens = np.load(os.path.join(data, "test_tokens.npy"))
        value = bits_per_character(logits, tokens)
        loss = (value - fp32) / fp32 * 100
        print(f"{args.fixture} bits per character: {value:.4f} (fp32 {fp32:.4f}; "
              f"loss {loss:+.2f}%, {tokens.shape[0] * (tokens.shape[1] - 1)} predicted bytes)")
        unit = "%"
    if args.max_loss is not None:
        if loss > args.max_loss:
            print(f"LOSS ABOVE {args.max_loss} {unit}")
            return 1
        print(f"within {args.max_loss} {unit}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
