#!/usr/bin/env python3
"""PyTorch's side of the device check's timings (scripts/gpu-check --run).

Times, on the GPU, in bf16, what tfc's libraries compute in the same run:
the 4096-cube matmul (cuBLAS), scaled_dot_product_attention with the flash
backend (batch 4, 16 heads of 128, 2048 and 8192 tokens), and BERT-base
(batch 32, sequence 128) and GPT-2 small (batch 8, sequence 128) in eager
mode, built from the same PyTorch modules that export_models.py exports
for tfc (test/Models). Each case: warm-up runs, then the median of timed
runs, each followed by a synchronize (as tfc_model_run returns once the
GPU is done). Prints one JSON object: case -> milliseconds.
"""

import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "test", "Models"))
from export_models import Bert, Gpt2, configs  # noqa: E402


def median_ms(fn, warmup=3, runs=20):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def main():
    device = "cuda"
    bf16 = torch.bfloat16
    results = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
    torch.manual_seed(0)
    with torch.no_grad():
        a = torch.randn(4096, 4096, device=device, dtype=bf16)
        b = torch.randn(4096, 4096, device=device, dtype=bf16)
        results["matmul-4096"] = median_ms(lambda: a @ b)
        del a, b

        from torch.nn.attention import SDPBackend, sdpa_kernel
        for length in (2048, 8192):
            q, k, v = (torch.randn(4, 16, length, 128, device=device, dtype=bf16)
                       for _ in range(3))
            with sdpa_kernel(SDPBackend.FLASH_ATTENTION):
                results[f"attention-{length}"] = median_ms(
                    lambda: F.scaled_dot_product_attention(q, k, v))
            del q, k, v

        config = configs(full_size=True)
        bert = Bert(**config["bert"]).to(device=device, dtype=bf16).eval()
        ids = torch.randint(0, 100, (32, 128), device=device)
        mask = torch.ones(32, 128, dtype=torch.long, device=device)
        results["bert-base-b32-s128"] = median_ms(lambda: bert(ids, mask))
        del bert

        gpt2 = Gpt2(**config["gpt2"]).to(device=device, dtype=bf16).eval()
        ids = torch.randint(0, 100, (8, 128), device=device)
        results["gpt2-small-b8-s128"] = median_ms(lambda: gpt2(ids))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
