#!/usr/bin/env python3
"""Writes the device check's timings as bench/GPU-RESULTS.md's table.

  write_results.py TORCH.json TFC.txt MACHINE.txt > GPU-RESULTS.md

TORCH.json is torch_bench.py's output; TFC.txt has one "case milliseconds"
line per case tfc ran (tfc-npy-run's median); MACHINE.txt is nvidia-smi's
line. Ratios are throughput (PyTorch's time over tfc's: above 1, tfc is
faster), checked against issue 20's goals.
"""

import json
import sys

# case: (operations per run, goal on PyTorch time / tfc time, what the goal says)
CASES = {
    "matmul-4096": (2 * 4096**3, 0.6, "at least 60% of cuBLAS"),
    "attention-2048": (4 * 4 * 16 * 2048**2 * 128, 0.5, "at least 50% of SDPA flash"),
    "attention-8192": (4 * 4 * 16 * 8192**2 * 128, 0.5, "at least 50% of SDPA flash"),
    "bert-base-b32-s128": (None, 1.0, "latency at most PyTorch eager's"),
    "gpt2-small-b8-s128": (None, None, "none"),
}


def main():
    with open(sys.argv[1]) as f:
        torch_ms = json.load(f)
    tfc_ms = {}
    with open(sys.argv[2]) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2:
                tfc_ms[parts[0]] = float(parts[1])
    with open(sys.argv[3]) as f:
        machine = f.read().strip()
    print("# GPU results (scripts/gpu-check --run)\n")
    print(f"GPU: {machine}; PyTorch {torch_ms.get('torch', '?')}. bf16 throughout "
          "(tfc: --quantize=bf16 libraries, inputs and outputs in GPU memory); "
          "medians of 20 runs after warm-up, each run waited for.\n")
    print("| case | tfc ms | PyTorch ms | PyTorch/tfc | tfc TFLOP/s | goal | |")
    print("|---|---|---|---|---|---|---|")
    for case, (ops, goal, words) in CASES.items():
        ours, theirs = tfc_ms.get(case), torch_ms.get(case)
        if ours is None or theirs is None:
            print(f"| {case} | {ours or 'failed'} | {theirs or 'failed'} | | | {words} | not measured |")
            continue
        ratio = theirs / ours
        tflops = f"{ops / ours / 1e9:.1f}" if ops else ""
        verdict = "" if goal is None else ("met" if ratio >= goal else "MISSED")
        print(f"| {case} | {ours:.3f} | {theirs:.3f} | {ratio:.2f} | {tflops} | {words} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
