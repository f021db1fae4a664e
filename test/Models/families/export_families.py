#!/usr/bin/python3
"""Exports one small transformer per model family, as their papers' reference
code writes them, to ONNX with torch.onnx.export (torch 1.13).

Each family is written here in plain PyTorch after the structure of its
public implementation (Hugging Face, timm, fairseq, the papers' code): the op
patterns the exporter emits are what tfc has to import, fuse and run. Weights
are random with a fixed seed; only the shapes of the computation matter here.

  tiny    hidden 32, 2 layers: the test fixtures (families/tiny/, checked in)
  bench   hidden 256-512, sequence 256: bench/run's family rows (written to
          the output directory given, build/bench-models by default)

Run with Debian's interpreter, which has python3-torch:
  /usr/bin/python3 test/Models/families/export_families.py [--size bench] [--out DIR] [FAMILY...]
"""

import argparse
import math
import os
import sys

import torch
from torch import nn
from torch.nn import functional as F

OPSET = 17


def init_weights(module, std=0.05):
    """Random weights large enough that every branch of a family matters."""
    for name, parameter in module.named_parameters():
        if parameter.dim() >= 2:
            nn.init.normal_(parameter, std=std)
        elif "norm" in name and name.endswith("weight"):
            nn.init.normal_(parameter, mean=1.0, std=0.1)
        else:
            nn.init.normal_(parameter, std=0.02)
    for submodule in module.modules():  # running statistics a trained model would have
        if isinstance(submodule, nn.modules.batchnorm._BatchNorm):
            submodule.running_mean.normal_(std=0.1)
            submodule.running_var.uniform_(0.5, 2.0)


# --------------------------------------------------------------------------
# LLaMA: RMSNorm, rotary embeddings, SwiGLU, grouped-query attention written
# as Hugging Face writes it (expand + reshape of the KV heads), causal mask.
# --------------------------------------------------------------------------
class RmsNorm(nn.Module):
    def __init__(self, hidden, eps=1e-6):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(hidden))
        self.eps = eps

    def forward(self, x):
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class LlamaAttention(nn.Module):
    def __init__(self, hidden, heads, kv_heads, max_positions):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, hidden // heads
        self.q_proj = nn.Linear(hidden, heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(hidden, kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(hidden, kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(heads * self.head_dim, hidden, bias=False)
        inv_freq = 1.0 / (10000 ** (torch.arange(0, self.head_dim, 2).float() / self.head_dim))
        t = torch.arange(max_positions).float()
        freqs = torch.outer(t, inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        self.register_buffer("cos_cached", emb.cos()[None, None], persistent=False)
        self.register_buffer("sin_cached", emb.sin()[None, None], persistent=False)

    def repeat_kv(self, x):
        batch, kv_heads, seq, dim = x.shape
        groups = self.heads // self.kv_heads
        x = x[:, :, None, :, :].expand(batch, kv_heads, groups, seq, dim)
        return x.reshape(batch, kv_heads * groups, seq, dim)

    def forward(self, x, mask):
        batch, seq, _ = x.shape
        q = self.q_proj(x).view(batch, seq, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(batch, seq, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(batch, seq, self.kv_heads, self.head_dim).transpose(1, 2)
        cos = self.cos_cached[:, :, :seq]
        sin = self.sin_cached[:, :, :seq]
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k, v = self.repeat_kv(k), self.repeat_kv(v)
        scores = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.head_dim) + mask
        probs = F.softmax(scores, dim=-1)
        out = torch.matmul(probs, v).transpose(1, 2).reshape(batch, seq, -1)
        return self.o_proj(out)


class LlamaLayer(nn.Module):
    def __init__(self, hidden, heads, kv_heads, ff, max_positions):
        super().__init__()
        self.input_layernorm = RmsNorm(hidden)
        self.self_attn = LlamaAttention(hidden, heads, kv_heads, max_positions)
        self.post_attention_layernorm = RmsNorm(hidden)
        self.gate_proj = nn.Linear(hidden, ff, bias=False)
        self.up_proj = nn.Linear(hidden, ff, bias=False)
        self.down_proj = nn.Linear(ff, hidden, bias=False)

    def forward(self, x, mask):
        x = x + self.self_attn(self.input_layernorm(x), mask)
        h = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))


class Llama(nn.Module):
    def __init__(self, vocab, hidden, layers, heads, kv_heads, ff, max_positions):
        super().__init__()
        self.embed_tokens = nn.Embedding(vocab, hidden)
        self.layers = nn.ModuleList(
            LlamaLayer(hidden, heads, kv_heads, ff, max_positions) for _ in range(layers))
        self.norm = RmsNorm(hidden)
        self.lm_head = nn.Linear(hidden, vocab, bias=False)

    def forward(self, input_ids):
        seq = input_ids.shape[1]
        causal = torch.full((seq, seq), float("-inf")).triu(1)[None, None]
        x = self.embed_tokens(input_ids)
        for layer in self.layers:
            x = layer(x, causal)
        return self.lm_head(self.norm(x))


# --------------------------------------------------------------------------
# RoBERTa: position ids from a cumulative sum over the non-padding tokens.
# --------------------------------------------------------------------------
class Roberta(nn.Module):
    PADDING = 1

    def __init__(self, vocab, hidden, layers, heads, ff, max_positions):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.word_embeddings = nn.Embedding(vocab, hidden, padding_idx=self.PADDING)
        self.position_embeddings = nn.Embedding(max_positions + 2, hidden)
        self.embed_norm = nn.LayerNorm(hidden, eps=1e-5)
        self.layers = nn.ModuleList(
            nn.ModuleDict(dict(
                qkv=nn.ModuleList(nn.Linear(hidden, hidden) for _ in range(3)),
                out=nn.Linear(hidden, hidden), out_norm=nn.LayerNorm(hidden, eps=1e-5),
                ff_in=nn.Linear(hidden, ff), ff_out=nn.Linear(ff, hidden),
                ff_norm=nn.LayerNorm(hidden, eps=1e-5)))
            for _ in range(layers))

    def split(self, x):
        return x.view(x.size()[:-1] + (self.heads, self.head_dim)).permute(0, 2, 1, 3)

    def forward(self, input_ids):
        mask = input_ids.ne(self.PADDING).int()
        positions = (torch.cumsum(mask, dim=1).type_as(mask) * mask).long() + self.PADDING
        x = self.embed_norm(self.word_embeddings(input_ids) + self.position_embeddings(positions))
        extended = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        for layer in self.layers:
            q, k, v = (self.split(proj(x)) for proj in layer["qkv"])
            scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim) + extended
            context = torch.matmul(F.softmax(scores, dim=-1), v).permute(0, 2, 1, 3).contiguous()
            context = context.view(context.size()[:-2] + (-1,))
            x = layer["out_norm"](x + layer["out"](context))
            x = layer["ff_norm"](x + layer["ff_out"](F.gelu(layer["ff_in"](x))))
        return x


# --------------------------------------------------------------------------
# T5 encoder: relative position buckets as a learned additive score bias,
# unscaled attention, T5's RMS layer norm, ReLU feed-forward.
# --------------------------------------------------------------------------
class T5Encoder(nn.Module):
    BUCKETS, MAX_DISTANCE = 32, 128

    def __init__(self, vocab, hidden, layers, heads, ff):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.embed = nn.Embedding(vocab, hidden)
        self.relative_attention_bias = nn.Embedding(self.BUCKETS, heads)
        self.layers = nn.ModuleList(
            nn.ModuleDict(dict(
                attn_norm=RmsNorm(hidden), q=nn.Linear(hidden, hidden, bias=False),
                k=nn.Linear(hidden, hidden, bias=False), v=nn.Linear(hidden, hidden, bias=False),
                o=nn.Linear(hidden, hidden, bias=False), ff_norm=RmsNorm(hidden),
                wi=nn.Linear(hidden, ff, bias=False), wo=nn.Linear(ff, hidden, bias=False)))
            for _ in range(layers))
        self.final_norm = RmsNorm(hidden)

    def bucket(self, relative_position):
        # Bidirectional buckets, as T5's _relative_position_bucket.
        buckets = self.BUCKETS // 2
        result = (relative_position > 0).to(torch.long) * buckets
        relative_position = torch.abs(relative_position)
        max_exact = buckets // 2
        is_small = relative_position < max_exact
        large = max_exact + (
            torch.log(relative_position.float() / max_exact)
            / math.log(self.MAX_DISTANCE / max_exact) * (buckets - max_exact)).to(torch.long)
        large = torch.min(large, torch.full_like(large, buckets - 1))
        return result + torch.where(is_small, relative_position, large)

    def position_bias(self, seq):
        context = torch.arange(seq, dtype=torch.long)[:, None]
        memory = torch.arange(seq, dtype=torch.long)[None, :]
        values = self.relative_attention_bias(self.bucket(memory - context))
        return values.permute([2, 0, 1]).unsqueeze(0)

    def forward(self, input_ids, attention_mask):
        batch, seq = input_ids.shape
        x = self.embed(input_ids)
        mask = (1.0 - attention_mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        bias = self.position_bias(seq) + mask
        for layer in self.layers:
            h = layer["attn_norm"](x)
            shape = lambda t: t.view(batch, -1, self.heads, self.head_dim).transpose(1, 2)
            q, k, v = shape(layer["q"](h)), shape(layer["k"](h)), shape(layer["v"](h))
            scores = torch.matmul(q, k.transpose(3, 2)) + bias
            context = torch.matmul(F.softmax(scores.float(), dim=-1), v)
            context = context.transpose(1, 2).contiguous().view(batch, -1, self.heads * self.head_dim)
            x = x + layer["o"](context)
            x = x + layer["wo"](F.relu(layer["wi"](layer["ff_norm"](x))))
        return self.final_norm(x)


# --------------------------------------------------------------------------
# Whisper-style audio encoder: two Conv1d with padding (the second strided),
# sinusoidal positions sliced to the length, pre-norm layers whose attention
# is written as BART's 3-D bmm over [batch * heads, seq, head_dim].
# --------------------------------------------------------------------------
class BmmAttention(nn.Module):
    """fairseq/BART/Whisper attention: scaled q, 3-D bmm over batch * heads."""

    def __init__(self, hidden, heads, bias_k=True):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.scaling = self.head_dim ** -0.5
        self.q_proj = nn.Linear(hidden, hidden)
        self.k_proj = nn.Linear(hidden, hidden, bias=bias_k)
        self.v_proj = nn.Linear(hidden, hidden)
        self.out_proj = nn.Linear(hidden, hidden)

    def shape(self, tensor, seq, batch):
        return tensor.view(batch, seq, self.heads, self.head_dim).transpose(1, 2).contiguous()

    def forward(self, x, memory=None, mask=None):
        batch, target, hidden = x.size()
        memory = x if memory is None else memory
        q = self.q_proj(x) * self.scaling
        k = self.shape(self.k_proj(memory), -1, batch)
        v = self.shape(self.v_proj(memory), -1, batch)
        flat = (batch * self.heads, -1, self.head_dim)
        q = self.shape(q, target, batch).view(*flat)
        k, v = k.reshape(*flat), v.reshape(*flat)
        source = k.size(1)
        weights = torch.bmm(q, k.transpose(1, 2))
        if mask is not None:
            weights = weights.view(batch, self.heads, target, source) + mask
            weights = weights.view(batch * self.heads, target, source)
        probs = F.softmax(weights, dim=-1)
        out = torch.bmm(probs, v).view(batch, self.heads, target, self.head_dim)
        out = out.transpose(1, 2).reshape(batch, target, hidden)
        return self.out_proj(out)


class PreNormBlock(nn.Module):
    def __init__(self, hidden, heads, ff):
        super().__init__()
        self.self_attn_layer_norm = nn.LayerNorm(hidden)
        self.self_attn = BmmAttention(hidden, heads, bias_k=False)
        self.final_layer_norm = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, ff)
        self.fc2 = nn.Linear(ff, hidden)

    def forward(self, x):
        x = x + self.self_attn(self.self_attn_layer_norm(x))
        return x + self.fc2(F.gelu(self.fc1(self.final_layer_norm(x))))


class WhisperEncoder(nn.Module):
    def __init__(self, mels, hidden, layers, heads, ff, max_positions):
        super().__init__()
        self.conv1 = nn.Conv1d(mels, hidden, kernel_size=3, padding=1)
        self.conv2 = nn.Conv1d(hidden, hidden, kernel_size=3, stride=2, padding=1)
        half = hidden // 2
        scale = torch.exp(-math.log(10000) / (half - 1) * torch.arange(half))
        times = torch.arange(max_positions)[:, None] * scale[None, :]
        self.register_buffer("positions", torch.cat([times.sin(), times.cos()], dim=1),
                             persistent=False)
        self.layers = nn.ModuleList(PreNormBlock(hidden, heads, ff) for _ in range(layers))
        self.layer_norm = nn.LayerNorm(hidden)

    def forward(self, input_features):
        x = F.gelu(self.conv1(input_features))
        x = F.gelu(self.conv2(x)).permute(0, 2, 1)
        x = x + self.positions[: x.shape[1]]
        for layer in self.layers:
            x = layer(x)
        return self.layer_norm(x)


# --------------------------------------------------------------------------
# PatchTST: RevIN, patching with unfold, BatchNorm in the encoder, flatten head.
# --------------------------------------------------------------------------
class PatchTst(nn.Module):
    def __init__(self, channels, length, patch, stride, hidden, layers, heads, ff, horizon):
        super().__init__()
        self.patch, self.stride = patch, stride
        patches = (length - patch) // stride + 2
        self.heads, self.head_dim = heads, hidden // heads
        self.affine_weight = nn.Parameter(torch.ones(channels))
        self.affine_bias = nn.Parameter(torch.zeros(channels))
        self.embed = nn.Linear(patch, hidden)
        self.position = nn.Parameter(torch.randn(patches, hidden) * 0.02)
        self.layers = nn.ModuleList(
            nn.ModuleDict(dict(
                q=nn.Linear(hidden, hidden), k=nn.Linear(hidden, hidden),
                v=nn.Linear(hidden, hidden), o=nn.Linear(hidden, hidden),
                norm_attn=nn.BatchNorm1d(hidden), ff1=nn.Linear(hidden, ff),
                ff2=nn.Linear(ff, hidden), norm_ff=nn.BatchNorm1d(hidden)))
            for _ in range(layers))
        self.head = nn.Linear(hidden * patches, horizon)

    def batch_norm(self, norm, x):  # BatchNorm1d over the feature dim, as PatchTST's Transpose
        return norm(x.transpose(1, 2)).transpose(1, 2)

    def forward(self, past_values):  # [batch, length, channels]
        mean = past_values.mean(1, keepdim=True)
        std = torch.sqrt(torch.var(past_values, dim=1, keepdim=True, unbiased=False) + 1e-5)
        x = (past_values - mean) / std * self.affine_weight + self.affine_bias
        x = x.permute(0, 2, 1)  # [batch, channels, length]
        x = torch.cat([x, x[:, :, -1:].expand(-1, -1, self.stride)], dim=-1)  # end padding
        # [b, c, patches, patch]; dimension 2, not -1: torch 1.13 exports
        # unfold over a negative dimension with its patches on the wrong axis
        x = x.unfold(dimension=2, size=self.patch, step=self.stride)
        batch, channels, patches, _ = x.shape
        x = self.embed(x).reshape(batch * channels, patches, -1) + self.position
        for layer in self.layers:
            shape = lambda t: t.view(batch * channels, patches, self.heads, self.head_dim).transpose(1, 2)
            q, k, v = shape(layer["q"](x)), shape(layer["k"](x)), shape(layer["v"](x))
            scores = torch.matmul(q, k.transpose(-1, -2)) * self.head_dim ** -0.5
            context = torch.matmul(F.softmax(scores, dim=-1), v).transpose(1, 2)
            context = context.reshape(batch * channels, patches, -1)
            x = self.batch_norm(layer["norm_attn"], x + layer["o"](context))
            x = self.batch_norm(layer["norm_ff"], x + layer["ff2"](F.gelu(layer["ff1"](x))))
        x = self.head(x.reshape(batch, channels, -1))  # [batch, channels, horizon]
        x = x.permute(0, 2, 1)
        return (x - self.affine_bias) / (self.affine_weight + 1e-10) * std + mean


# --------------------------------------------------------------------------
# Causal linear attention (Katharopoulos et al.): elu(x) + 1 feature map,
# prefix sums of phi(k) v^T and phi(k) over the sequence.
# --------------------------------------------------------------------------
class LinearAttentionLm(nn.Module):
    def __init__(self, vocab, hidden, layers, heads, ff):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.embed = nn.Embedding(vocab, hidden)
        self.layers = nn.ModuleList(
            nn.ModuleDict(dict(
                norm1=nn.LayerNorm(hidden), qkv=nn.Linear(hidden, 3 * hidden),
                out=nn.Linear(hidden, hidden), norm2=nn.LayerNorm(hidden),
                ff1=nn.Linear(hidden, ff), ff2=nn.Linear(ff, hidden)))
            for _ in range(layers))
        self.norm = nn.LayerNorm(hidden)
        self.head = nn.Linear(hidden, vocab)

    def attention(self, layer, x):
        batch, seq, hidden = x.shape
        q, k, v = layer["qkv"](x).view(batch, seq, 3, self.heads, self.head_dim).unbind(2)
        q, k = F.elu(q) + 1, F.elu(k) + 1  # [b, s, h, d]
        kv = torch.cumsum(k.unsqueeze(-1) * v.unsqueeze(-2), dim=1)  # [b, s, h, d, d]
        numerator = (q.unsqueeze(-1) * kv).sum(-2)  # [b, s, h, d]
        denominator = (q * torch.cumsum(k, dim=1)).sum(-1, keepdim=True) + 1e-6
        return layer["out"]((numerator / denominator).reshape(batch, seq, hidden))

    def forward(self, input_ids):
        x = self.embed(input_ids)
        for layer in self.layers:
            x = x + self.attention(layer, layer["norm1"](x))
            x = x + layer["ff2"](F.gelu(layer["ff1"](layer["norm2"](x))))
        return self.head(self.norm(x))


# --------------------------------------------------------------------------
# RetNet-style retention (parallel form): per-head decay mask gamma^(n-m)
# built from the sequence length, Q K^T (x) D V, group norm over heads.
# --------------------------------------------------------------------------
class RetNet(nn.Module):
    def __init__(self, vocab, hidden, layers, heads, ff):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.embed = nn.Embedding(vocab, hidden)
        gammas = 1 - torch.exp(torch.linspace(math.log(1 / 32), math.log(1 / 512), heads))
        self.register_buffer("log_gamma", torch.log(gammas)[:, None, None], persistent=False)
        self.layers = nn.ModuleList(
            nn.ModuleDict(dict(
                norm1=nn.LayerNorm(hidden), q=nn.Linear(hidden, hidden, bias=False),
                k=nn.Linear(hidden, hidden, bias=False), v=nn.Linear(hidden, hidden, bias=False),
                g=nn.Linear(hidden, hidden, bias=False), o=nn.Linear(hidden, hidden, bias=False),
                group_norm=nn.GroupNorm(heads, hidden), norm2=nn.LayerNorm(hidden),
                ff1=nn.Linear(hidden, ff), ff2=nn.Linear(ff, hidden)))
            for _ in range(layers))
        self.head = nn.Linear(hidden, vocab)

    def decay(self, seq):
        index = torch.arange(seq).float()
        distance = index[:, None] - index[None, :]
        decay = torch.exp(distance * self.log_gamma)  # [h, s, s]
        decay = torch.where(distance >= 0, decay, torch.zeros_like(decay))
        return decay / decay.sum(-1, keepdim=True).sqrt()

    def forward(self, input_ids):
        batch, seq = input_ids.shape
        x = self.embed(input_ids)
        decay = self.decay(seq)
        for layer in self.layers:
            h = layer["norm1"](x)
            shape = lambda t: t.view(batch, seq, self.heads, self.head_dim).transpose(1, 2)
            q, k, v = shape(layer["q"](h)), shape(layer["k"](h)), shape(layer["v"](h))
            retention = torch.matmul(q, k.transpose(-1, -2)) * self.head_dim ** -0.5 * decay
            out = torch.matmul(retention, v).transpose(1, 2).reshape(batch * seq, -1)
            # GroupNorm over [N, C, 1]: torch 1.13 cannot export it over 2-D input
            out = layer["group_norm"](out.unsqueeze(-1)).view(batch, seq, -1)
            x = x + layer["o"](F.silu(layer["g"](h)) * out)
            x = x + layer["ff2"](F.gelu(layer["ff1"](layer["norm2"](x))))
        return self.head(x)


# --------------------------------------------------------------------------
# GPT-2 decoding with past_key_values: the KV cache concatenated in front of
# the new keys and values, present keys and values returned.
# --------------------------------------------------------------------------
class Gpt2KvAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.c_attn = nn.Linear(hidden, 3 * hidden)
        self.c_proj = nn.Linear(hidden, hidden)

    def split(self, x):
        return x.view(x.size()[:-1] + (self.heads, self.head_dim)).permute(0, 2, 1, 3)

    def forward(self, x, past_key, past_value):
        q, k, v = self.c_attn(x).split(x.shape[-1], dim=2)
        q, k, v = self.split(q), self.split(k), self.split(v)
        k = torch.cat((past_key, k), dim=-2)
        v = torch.cat((past_value, v), dim=-2)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        query_length, key_length = q.size(-2), k.size(-2)
        causal = torch.ones(key_length, key_length, dtype=torch.bool).tril()
        causal = causal[key_length - query_length:key_length, :key_length]
        scores = torch.where(causal, scores, torch.tensor(torch.finfo(scores.dtype).min))
        context = torch.matmul(F.softmax(scores, dim=-1), v).permute(0, 2, 1, 3).contiguous()
        context = context.view(context.size()[:-2] + (-1,))
        return self.c_proj(context), k, v


class Gpt2Kv(nn.Module):
    def __init__(self, vocab, hidden, layers, heads, max_positions):
        super().__init__()
        self.wte = nn.Embedding(vocab, hidden)
        self.wpe = nn.Embedding(max_positions, hidden)
        self.blocks = nn.ModuleList(
            nn.ModuleDict(dict(ln_1=nn.LayerNorm(hidden), attn=Gpt2KvAttention(hidden, heads),
                               ln_2=nn.LayerNorm(hidden), fc=nn.Linear(hidden, 4 * hidden),
                               proj=nn.Linear(4 * hidden, hidden)))
            for _ in range(layers))
        self.ln_f = nn.LayerNorm(hidden)

    def forward(self, input_ids, past_keys, past_values):
        # past_keys/values: [layers, batch, heads, past, head_dim]
        past = past_keys.shape[3]
        positions = torch.arange(past, past + input_ids.shape[1], dtype=torch.long)[None]
        x = self.wte(input_ids) + self.wpe(positions)
        presents_k, presents_v = [], []
        for index, block in enumerate(self.blocks):
            attended, k, v = block["attn"](block["ln_1"](x), past_keys[index], past_values[index])
            presents_k.append(k)
            presents_v.append(v)
            x = x + attended
            x = x + block["proj"](F.gelu(block["fc"](block["ln_2"](x)), approximate="tanh"))
        logits = torch.matmul(self.ln_f(x), self.wte.weight.t())
        return logits, torch.stack(presents_k), torch.stack(presents_v)


# --------------------------------------------------------------------------
# DeiT (timm): packed qkv permuted head-major and unbound, class and
# distillation tokens, two heads averaged.
# --------------------------------------------------------------------------
class TimmAttention(nn.Module):
    def __init__(self, hidden, heads):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.scale = self.head_dim ** -0.5
        self.qkv = nn.Linear(hidden, hidden * 3)
        self.proj = nn.Linear(hidden, hidden)

    def forward(self, x):
        batch, tokens, hidden = x.shape
        qkv = self.qkv(x).reshape(batch, tokens, 3, self.heads, self.head_dim).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attn = (q @ k.transpose(-2, -1)) * self.scale
        x = (attn.softmax(dim=-1) @ v).transpose(1, 2).reshape(batch, tokens, hidden)
        return self.proj(x)


class Deit(nn.Module):
    def __init__(self, image, patch, hidden, layers, heads, ff, classes):
        super().__init__()
        self.patch_embed = nn.Conv2d(3, hidden, kernel_size=patch, stride=patch)
        patches = (image // patch) ** 2
        self.cls_token = nn.Parameter(torch.randn(1, 1, hidden) * 0.02)
        self.dist_token = nn.Parameter(torch.randn(1, 1, hidden) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, patches + 2, hidden) * 0.02)
        self.blocks = nn.ModuleList(
            nn.ModuleDict(dict(norm1=nn.LayerNorm(hidden, eps=1e-6), attn=TimmAttention(hidden, heads),
                               norm2=nn.LayerNorm(hidden, eps=1e-6), fc1=nn.Linear(hidden, ff),
                               fc2=nn.Linear(ff, hidden)))
            for _ in range(layers))
        self.norm = nn.LayerNorm(hidden, eps=1e-6)
        self.head = nn.Linear(hidden, classes)
        self.head_dist = nn.Linear(hidden, classes)

    def forward(self, pixel_values):
        x = self.patch_embed(pixel_values).flatten(2).transpose(1, 2)
        batch = x.shape[0]
        x = torch.cat((self.cls_token.expand(batch, -1, -1),
                       self.dist_token.expand(batch, -1, -1), x), dim=1) + self.pos_embed
        for block in self.blocks:
            x = x + block["attn"](block["norm1"](x))
            x = x + block["fc2"](F.gelu(block["fc1"](block["norm2"](x))))
        x = self.norm(x)
        return (self.head(x[:, 0]) + self.head_dist(x[:, 1])) / 2


# --------------------------------------------------------------------------
# nn.TransformerEncoder, norm_first, with a key padding mask.
# --------------------------------------------------------------------------
class TorchEncoder(nn.Module):
    def __init__(self, hidden, layers, heads, ff):
        super().__init__()
        layer = nn.TransformerEncoderLayer(hidden, heads, ff, dropout=0.0, batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, x, padding_mask):
        return self.encoder(x, src_key_padding_mask=padding_mask)


# --------------------------------------------------------------------------
# BART-style encoder-decoder layer: post-norm, 3-D bmm attention, a causal
# decoder self-attention and cross-attention over the encoder's states.
# --------------------------------------------------------------------------
class Bart(nn.Module):
    def __init__(self, vocab, hidden, heads, ff, max_positions):
        super().__init__()
        self.embed = nn.Embedding(vocab, hidden)
        self.positions = nn.Embedding(max_positions, hidden)
        self.encoder_attn = BmmAttention(hidden, heads)
        self.encoder_norm = nn.LayerNorm(hidden)
        self.encoder_fc1, self.encoder_fc2 = nn.Linear(hidden, ff), nn.Linear(ff, hidden)
        self.encoder_final_norm = nn.LayerNorm(hidden)
        self.decoder_self_attn = BmmAttention(hidden, heads)
        self.decoder_self_norm = nn.LayerNorm(hidden)
        self.decoder_cross_attn = BmmAttention(hidden, heads)
        self.decoder_cross_norm = nn.LayerNorm(hidden)
        self.decoder_fc1, self.decoder_fc2 = nn.Linear(hidden, ff), nn.Linear(ff, hidden)
        self.decoder_final_norm = nn.LayerNorm(hidden)
        self.lm_head = nn.Linear(hidden, vocab, bias=False)

    def embed_tokens(self, ids):
        return self.embed(ids) + self.positions(torch.arange(ids.shape[1], dtype=torch.long))

    def forward(self, input_ids, decoder_input_ids):
        x = self.embed_tokens(input_ids)
        x = self.encoder_norm(x + self.encoder_attn(x))
        x = self.encoder_final_norm(x + self.encoder_fc2(F.gelu(self.encoder_fc1(x))))
        y = self.embed_tokens(decoder_input_ids)
        target = decoder_input_ids.shape[1]
        causal = torch.full((target, target), torch.finfo(torch.float32).min).triu(1)[None, None]
        y = self.decoder_self_norm(y + self.decoder_self_attn(y, mask=causal))
        y = self.decoder_cross_norm(y + self.decoder_cross_attn(y, memory=x))
        y = self.decoder_final_norm(y + self.decoder_fc2(F.gelu(self.decoder_fc1(y))))
        return self.lm_head(y)


# --------------------------------------------------------------------------
# Export
# --------------------------------------------------------------------------
def families(size):
    """Per family: the model, its example inputs, input and output names and
    their dynamic axes. Size gpt2-small: GPT-2 small's dims (hidden 768, 12
    layers and heads, vocabulary 50257), for the decode-step benchmark; only
    its gpt2-kv is meant to be exported so."""
    if size == "gpt2-small":
        vocab, hidden, layers, heads, past = 50257, 768, 12, 12, 512
        kv_shape = (layers, 1, heads, past, hidden // heads)
        yield "gpt2-kv", (lambda: Gpt2Kv(vocab, hidden, layers, heads, 1024)), \
            (torch.randint(2, vocab, (1, 1)), torch.randn(kv_shape), torch.randn(kv_shape)), \
            ["input_ids", "past_keys", "past_values"], ["logits", "present_keys", "present_values"], \
            {"input_ids": {0: "batch", 1: "sequence"}, "past_keys": {1: "batch", 3: "past"},
             "past_values": {1: "batch", 3: "past"}, "logits": {0: "batch", 1: "sequence"},
             "present_keys": {1: "batch", 3: "total"}, "present_values": {1: "batch", 3: "total"}}
        return
    tiny = size == "tiny"
    hidden = 32 if tiny else 512
    heads = 4 if tiny else 8
    layers = 2 if tiny else 4
    ff = 4 * hidden
    seq = 12 if tiny else 256
    vocab = 100 if tiny else 8000
    batch_seq = {0: "batch", 1: "sequence"}
    ids = lambda s=seq: torch.randint(2, vocab, (1, s))
    yield "llama", (lambda: Llama(vocab, hidden, layers, heads, heads // 2, 8 * hidden // 3 // 8 * 8,
                                  1024)), \
        (ids(),), ["input_ids"], ["logits"], {"input_ids": batch_seq, "logits": batch_seq}

    def roberta_ids():
        x = ids()
        x[0, -3:] = Roberta.PADDING
        return x
    yield "roberta", (lambda: Roberta(vocab, hidden, layers, heads, ff, 512)), \
        (roberta_ids(),), ["input_ids"], ["last_hidden_state"], \
        {"input_ids": batch_seq, "last_hidden_state": batch_seq}

    mask = torch.ones(1, seq, dtype=torch.long)
    yield "t5", (lambda: T5Encoder(vocab, hidden, layers, heads, ff)), \
        (ids(), mask), ["input_ids", "attention_mask"], ["last_hidden_state"], \
        {"input_ids": batch_seq, "attention_mask": batch_seq, "last_hidden_state": batch_seq}

    mels, frames = (16, 2 * seq) if tiny else (80, 2 * seq)
    yield "whisper", (lambda: WhisperEncoder(mels, hidden, layers, heads, ff, 1500)), \
        (torch.randn(1, mels, frames),), ["input_features"], ["last_hidden_state"], \
        {"input_features": {0: "batch", 2: "frames"}, "last_hidden_state": batch_seq}

    channels, length = (3, 48) if tiny else (7, 512)
    patch, stride = (8, 8) if tiny else (16, 8)
    yield "patchtst", (lambda: PatchTst(channels, length, patch, stride, hidden, layers, heads, ff,
                                        12 if tiny else 96)), \
        (torch.randn(1, length, channels),), ["past_values"], ["prediction"], \
        {"past_values": {0: "batch"}, "prediction": {0: "batch"}}

    yield "linear-attention", (lambda: LinearAttentionLm(vocab, hidden, layers, heads, ff)), \
        (ids(),), ["input_ids"], ["logits"], {"input_ids": batch_seq, "logits": batch_seq}

    yield "retnet", (lambda: RetNet(vocab, hidden, layers, heads, ff)), \
        (ids(),), ["input_ids"], ["logits"], {"input_ids": batch_seq, "logits": batch_seq}

    past = 5 if tiny else 512
    kv_shape = (layers, 1, heads, past, hidden // heads)
    kv_axes = {1: "batch", 3: "past"}
    present_axes = {1: "batch", 3: "total"}
    yield "gpt2-kv", (lambda: Gpt2Kv(vocab, hidden, layers, heads, 1024)), \
        (ids(1), torch.randn(kv_shape), torch.randn(kv_shape)), \
        ["input_ids", "past_keys", "past_values"], ["logits", "present_keys", "present_values"], \
        {"input_ids": batch_seq, "past_keys": kv_axes, "past_values": kv_axes,
         "logits": batch_seq, "present_keys": present_axes, "present_values": present_axes}

    image, patch_size = (32, 8) if tiny else (224, 16)
    yield "deit", (lambda: Deit(image, patch_size, hidden if tiny else 384, layers,
                                heads if tiny else 6, ff if tiny else 1536, 10)), \
        (torch.randn(1, 3, image, image),), ["pixel_values"], ["logits"], \
        {"pixel_values": {0: "batch"}, "logits": {0: "batch"}}

    padding = torch.zeros(1, seq, dtype=torch.bool)
    yield "torch-encoder", (lambda: TorchEncoder(hidden, layers, heads, ff)), \
        (torch.randn(1, seq, hidden), padding), ["src", "padding_mask"], ["output"], \
        {"src": batch_seq, "padding_mask": batch_seq, "output": batch_seq}

    yield "bart", (lambda: Bart(vocab, hidden, heads, ff, 1024)), \
        (ids(), ids(seq // 2)), ["input_ids", "decoder_input_ids"], ["logits"], \
        {"input_ids": batch_seq, "decoder_input_ids": {0: "batch", 1: "target"},
         "logits": {0: "batch", 1: "target"}}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", choices=("tiny", "bench", "gpt2-small"), default="tiny")
    parser.add_argument("--out", help="output directory (default: tiny/ here, or build/bench-models)")
    parser.add_argument("families", nargs="*", help="families to export (default: all)")
    options = parser.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    out = options.out or (os.path.join(here, "tiny") if options.size == "tiny"
                          else os.path.join(here, "..", "..", "..", "build", "bench-models"))
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    for name, make, args, inputs, outputs, dynamic in families(options.size):
        if options.families and name not in options.families:
            continue
        torch.manual_seed(0)
        model = make()
        init_weights(model)
        model.eval()
        path = os.path.join(out, f"{name}.onnx")
        # Not under no_grad: nn.TransformerEncoderLayer would take its fused
        # fast path, which torch 1.13 cannot export.
        torch.onnx.export(model, args, path, opset_version=OPSET, input_names=inputs,
                          output_names=outputs, dynamic_axes=dynamic)
        print(f"wrote {path} ({os.path.getsize(path) // 1024} KiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
