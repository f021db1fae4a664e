#!/usr/bin/python3
"""Non-causal linear attention as torch exports it (Katharopoulos et al.'s
φ(q) (φ(k)ᵀ v) with the matmuls on heads-first tensors), for
global-linear-attention.test.

  python3 global_linear_attention.py DIR

writes DIR/model.onnx (batch and sequence dynamic; 2 layers of 4 heads of 8
on a hidden size of 32: elu + 1 normalized, then ReLU unnormalized), inputs
for two shapes (DIR/<shape>/x.npy) and the float64 numpy reference of the
same computation (DIR/<shape>/y.npy).
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HIDDEN, HEADS = 32, 4
DIM = HIDDEN // HEADS


class GlobalLinearAttention(torch.nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.qkv = torch.nn.ModuleList(torch.nn.Linear(HIDDEN, 3 * HIDDEN) for _ in range(2))

    def forward(self, x):
        batch, seq, _ = x.shape
        for layer, qkv in enumerate(self.qkv):
            q, k, v = qkv(x).split(HIDDEN, dim=-1)
            heads = lambda t: t.view(batch, seq, HEADS, DIM).transpose(1, 2)
            q, k, v = heads(q), heads(k), heads(v)
            if layer == 0:
                q, k = F.elu(q) + 1, F.elu(k) + 1
                kv = torch.matmul(k.transpose(-2, -1), v)
                den = torch.matmul(q, k.sum(dim=2, keepdim=True).transpose(-2, -1)) + 1e-6
                out = torch.matmul(q, kv) / den
            else:
                q, k = F.relu(q), F.relu(k)
                out = torch.matmul(q, torch.matmul(k.transpose(-2, -1), v))
            x = x + out.transpose(1, 2).reshape(batch, seq, HIDDEN)
        return x


def reference(model, x):
    """The same in float64 numpy, one head at a time."""
    x = x.astype(np.float64)
    batch, seq, _ = x.shape
    for layer, qkv in enumerate(model.qkv):
        w = qkv.weight.detach().numpy().astype(np.float64)
        b = qkv.bias.detach().numpy().astype(np.float64)
        proj = x @ w.T + b
        q, k, v = (proj[..., i * HIDDEN:(i + 1) * HIDDEN].reshape(batch, seq, HEADS, DIM)
                   for i in range(3))
        if layer == 0:
            phi = lambda t: np.where(t > 0, t + 1, np.exp(np.minimum(t, 0)))
        else:
            phi = lambda t: np.maximum(t, 0)
        fq, fk = phi(q), phi(k)
        kv = np.einsum("bjhd,bjhe->bhde", fk, v)
        out = np.einsum("bihd,bhde->bihe", fq, kv)
        if layer == 0:
            out = out / (np.einsum("bihd,bhd->bih", fq, fk.sum(1))[..., None] + 1e-6)
        x = x + out.reshape(batch, seq, HIDDEN)
    return x


def main(folder):
    os.makedirs(folder, exist_ok=True)
    model = GlobalLinearAttention().eval()
    torch.onnx.export(model, (torch.zeros(1, 12, HIDDEN),), os.path.join(folder, "model.onnx"),
                      input_names=["x"], output_names=["y"], opset_version=17,
                      dynamic_axes={"x": {0: "batch", 1: "sequence"},
                                    "y": {0: "batch", 1: "sequence"}})
    rng = np.random.default_rng(3)
    for batch, seq in ((2, 9), (1, 150)):
        shape = os.path.join(folder, f"b{batch}s{seq}")
        os.makedirs(shape, exist_ok=True)
        x = rng.standard_normal((batch, seq, HIDDEN)).astype(np.float32)
        np.save(os.path.join(shape, "x.npy"), x)
        np.save(os.path.join(shape, "y.npy"), reference(model, x).astype(np.float32))


if __name__ == "__main__":
    main(sys.argv[1])
