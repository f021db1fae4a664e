#!/usr/bin/python3
"""Exports BERT-, GPT-2- and ViT-style transformers to ONNX with torch.onnx.export.

The models are written here in plain PyTorch, after the structure of the
Hugging Face implementations (the shapes of the ops exporters emit are what
matters to tfc, not the trained weights). Weights are random with a fixed seed.

  tiny       hidden 64, 2 layers: checked in as test fixtures (tiny/)
  full-size  BERT-base (hidden 768, 12 layers, ~420 MB), GPT-2 small and
             ViT-S/16: written to full-size/, which git ignores

Run with Debian's interpreter, which has python3-torch:
  /usr/bin/python3 test/Models/export_models.py [--full-size] [--out DIR]
"""

import argparse
import math
import os
import sys

import torch
from torch import nn

OPSETS = (14, 17)


# --------------------------------------------------------------------------
# BERT: HF eager attention with an additive padding mask, erf GELU.
# --------------------------------------------------------------------------
class BertSelfAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.dropout = nn.Dropout(0.1)

    def split_heads(self, x):
        new_shape = x.size()[:-1] + (self.heads, self.head_dim)
        return x.view(new_shape).permute(0, 2, 1, 3)

    def forward(self, hidden_states, extended_mask):
        q = self.split_heads(self.query(hidden_states))
        k = self.split_heads(self.key(hidden_states))
        v = self.split_heads(self.value(hidden_states))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = scores + extended_mask
        probs = self.dropout(nn.functional.softmax(scores, dim=-1))
        context = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return context.view(context.size()[:-2] + (self.heads * self.head_dim,))


class BertLayer(nn.Module):
    def __init__(self, hidden, heads, ff):
        super().__init__()
        self.attention = BertSelfAttention(hidden, heads)
        self.attn_out = nn.Linear(hidden, hidden)
        self.attn_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.intermediate = nn.Linear(hidden, ff)
        self.output = nn.Linear(ff, hidden)
        self.out_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.dropout = nn.Dropout(0.1)

    def forward(self, x, extended_mask):
        a = self.dropout(self.attn_out(self.attention(x, extended_mask)))
        x = self.attn_norm(a + x)
        h = nn.functional.gelu(self.intermediate(x))
        return self.out_norm(self.dropout(self.output(h)) + x)


class Bert(nn.Module):
    def __init__(self, vocab, hidden, layers, heads, ff, max_positions):
        super().__init__()
        self.word = nn.Embedding(vocab, hidden)
        self.position = nn.Embedding(max_positions, hidden)
        self.token_type = nn.Embedding(2, hidden)
        self.norm = nn.LayerNorm(hidden, eps=1e-12)
        self.register_buffer("position_ids", torch.arange(max_positions).expand((1, -1)))
        self.layers = nn.ModuleList(BertLayer(hidden, heads, ff) for _ in range(layers))
        self.pooler = nn.Linear(hidden, hidden)

    def forward(self, input_ids, attention_mask):
        seq = input_ids.size(1)
        positions = self.position_ids[:, :seq]
        token_types = torch.zeros_like(input_ids)
        x = self.word(input_ids) + self.token_type(token_types) + self.position(positions)
        x = self.norm(x)
        # HF's extended attention mask: [B, 1, 1, S], 0 to keep, min to drop.
        extended = attention_mask[:, None, None, :].to(x.dtype)
        extended = (1.0 - extended) * torch.finfo(x.dtype).min
        for layer in self.layers:
            x = layer(x, extended)
        pooled = torch.tanh(self.pooler(x[:, 0]))
        return x, pooled


# --------------------------------------------------------------------------
# GPT-2: fused qkv (Conv1D), causal mask from a bool buffer, tanh GELU.
# --------------------------------------------------------------------------
class Conv1D(nn.Module):
    """GPT-2's linear layer: x @ W + b with W stored [in, out]."""

    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * 0.02)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        size_out = x.size()[:-1] + (self.weight.size(-1),)
        x = torch.addmm(self.bias, x.view(-1, x.size(-1)), self.weight)
        return x.view(size_out)


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Gpt2Attention(nn.Module):
    def __init__(self, hidden, heads, max_positions):
        super().__init__()
        self.heads = heads
        self.head_dim = hidden // heads
        self.register_buffer(
            "bias",
            torch.tril(torch.ones((max_positions, max_positions), dtype=torch.bool)).view(
                1, 1, max_positions, max_positions),
        )
        self.c_attn = Conv1D(hidden, 3 * hidden)
        self.c_proj = Conv1D(hidden, hidden)

    def split_heads(self, x):
        return x.view(x.size()[:-1] + (self.heads, self.head_dim)).permute(0, 2, 1, 3)

    def forward(self, x):
        q, k, v = self.c_attn(x).split(x.size(-1), dim=2)
        q, k, v = self.split_heads(q), self.split_heads(k), self.split_heads(v)
        w = torch.matmul(q, k.transpose(-1, -2)) / torch.full(
            [], v.size(-1) ** 0.5, dtype=q.dtype)
        query_length, key_length = q.size(-2), k.size(-2)
        causal = self.bias[:, :, key_length - query_length:key_length, :key_length]
        min_value = torch.full([], torch.finfo(w.dtype).min, dtype=w.dtype)
        w = torch.where(causal, w, min_value)
        w = nn.functional.softmax(w, dim=-1)
        out = torch.matmul(w, v).permute(0, 2, 1, 3).contiguous()
        out = out.view(out.size()[:-2] + (self.heads * self.head_dim,))
        return self.c_proj(out)


class Gpt2Block(nn.Module):
    def __init__(self, hidden, heads, max_positions):
        super().__init__()
        self.ln_1 = nn.LayerNorm(hidden, eps=1e-5)
        self.attn = Gpt2Attention(hidden, heads, max_positions)
        self.ln_2 = nn.LayerNorm(hidden, eps=1e-5)
        self.c_fc = Conv1D(hidden, 4 * hidden)
        self.c_proj = Conv1D(4 * hidden, hidden)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.c_proj(gelu_new(self.c_fc(self.ln_2(x))))


class Gpt2(nn.Module):
    def __init__(self, vocab, hidden, layers, heads, max_positions):
        super().__init__()
        self.wte = nn.Embedding(vocab, hidden)
        self.wpe = nn.Embedding(max_positions, hidden)
        self.blocks = nn.ModuleList(Gpt2Block(hidden, heads, max_positions) for _ in range(layers))
        self.ln_f = nn.LayerNorm(hidden, eps=1e-5)

    def forward(self, input_ids):
        seq = input_ids.size(-1)
        positions = torch.arange(0, seq, dtype=torch.long).unsqueeze(0)
        x = self.wte(input_ids) + self.wpe(positions)
        for block in self.blocks:
            x = block(x)
        x = self.ln_f(x)
        return torch.matmul(x, self.wte.weight.t())  # tied LM head


# --------------------------------------------------------------------------
# ViT: conv patches, class token, nn.TransformerEncoder (pre-norm, GELU).
# --------------------------------------------------------------------------
class Vit(nn.Module):
    def __init__(self, image, patch, hidden, layers, heads, ff, classes):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, hidden, kernel_size=patch, stride=patch)
        patches = (image // patch) ** 2
        self.cls_token = nn.Parameter(torch.randn(1, 1, hidden) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, patches + 1, hidden) * 0.02)
        layer = nn.TransformerEncoderLayer(hidden, heads, ff, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        # TransformerEncoder deep-copies one layer; give each copy its own
        # weights, or the exporter merges the identical initializers.
        for parameter in self.encoder.parameters():
            if parameter.dim() >= 2:
                nn.init.normal_(parameter, std=0.02)
        self.norm = nn.LayerNorm(hidden, eps=1e-6)
        self.head = nn.Linear(hidden, classes)

    def forward(self, pixel_values):
        x = self.patch_embed(pixel_values).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls, x), dim=1) + self.pos_embed
        x = self.norm(self.encoder(x))
        return self.head(x[:, 0])


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------
def configs(full_size):
    if full_size:
        return {
            "bert": dict(vocab=30522, hidden=768, layers=12, heads=12, ff=3072, max_positions=512),
            "gpt2": dict(vocab=50257, hidden=768, layers=12, heads=12, max_positions=1024),
            "vit": dict(image=224, patch=16, hidden=384, layers=12, heads=6, ff=1536, classes=1000),
        }
    return {
        "bert": dict(vocab=1000, hidden=64, layers=2, heads=4, ff=256, max_positions=128),
        "gpt2": dict(vocab=1000, hidden=64, layers=2, heads=4, max_positions=128),
        "vit": dict(image=32, patch=8, hidden=64, layers=2, heads=4, ff=256, classes=10),
    }


def export(family, config, opset, path):
    torch.manual_seed(0)
    if family == "bert":
        model = Bert(**config)
        ids = torch.randint(0, config["vocab"], (2, 16))
        mask = torch.ones(2, 16, dtype=torch.long)
        mask[1, 12:] = 0  # padding in the second sequence
        args = (ids, mask)
        inputs = ["input_ids", "attention_mask"]
        outputs = ["last_hidden_state", "pooler_output"]
        dynamic = {n: {0: "batch", 1: "sequence"} for n in inputs}
        dynamic["last_hidden_state"] = {0: "batch", 1: "sequence"}
        dynamic["pooler_output"] = {0: "batch"}
    elif family == "gpt2":
        model = Gpt2(**config)
        args = (torch.randint(0, config["vocab"], (2, 16)),)
        inputs = ["input_ids"]
        outputs = ["logits"]
        dynamic = {"input_ids": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}}
    else:
        model = Vit(**config)
        args = (torch.randn(2, 3, config["image"], config["image"]),)
        inputs = ["pixel_values"]
        outputs = ["logits"]
        dynamic = {"pixel_values": {0: "batch"}, "logits": {0: "batch"}}
    model.eval()
    # Not under torch.no_grad(): with gradients off, nn.TransformerEncoder
    # takes its fused fast path, which has no ONNX export.
    torch.onnx.export(model, args, path, opset_version=opset, input_names=inputs,
                      output_names=outputs, dynamic_axes=dynamic, do_constant_folding=True)
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full-size", action="store_true", help="export the full-size models")
    parser.add_argument("--out", help="output folder (default: tiny/ or full-size/ here)")
    parser.add_argument("--families", default="bert,gpt2,vit")
    parser.add_argument("--opsets", default=",".join(map(str, OPSETS)))
    options = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    out = options.out or os.path.join(here, "full-size" if options.full_size else "tiny")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    for family in options.families.split(","):
        for opset in map(int, options.opsets.split(",")):
            export(family, configs(options.full_size)[family], opset,
                   os.path.join(out, f"{family}-opset{opset}.onnx"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
