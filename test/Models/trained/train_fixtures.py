#!/usr/bin/python3
"""Trains the small models that reductions (quantization, pruning,
linearization) are judged on, and exports them to ONNX.

A reduction's cost is a change in a trained model's metric; random weights
say nothing about it. Each fixture is trained here on data a Debian package
ships, so anyone can regenerate it from a fresh machine:

  digits-vit    a ViT on scikit-learn's bundled 8x8 digit images
                (python3-sklearn): 10-way accuracy.
  char-gpt      a character-level GPT on the license texts in
                /usr/share/common-licenses (base-files): bits per character.
  char-linear   the same task with causal linear attention (elu(x) + 1
                feature maps, prefix sums over the sequence, as
                Katharopoulos et al.) and no position table, so that it
                runs at any length: bits per character.
  textkind-bert a BERT-style encoder that tells what kind of text a snippet
                of 24 to 64 bytes is: C, Python, Perl or English prose, from
                files of libc6-dev, the Python standard library, perl-base
                and the copyright files (padded batches with an attention
                mask; test snippets from held-out files): 4-way accuracy.
  textkind-bert-sparse80, textkind-bert-sparse90
                the same model trained with gradual block-magnitude pruning
                of every linear of the encoder and the pooler to 80% and 90%
                of its blocks zero (blocks of 16 output columns by one input
                row, the shape of tfc's block-sparse kernel), the sparsity
                rising on a cubic schedule from 20% to 70% of training and
                the mask fixed after: a really sparse model, as pruning
                during training makes them, to measure the kernels and the
                compiler's sparsity detection on. Same data and test set
                as textkind-bert.

Written to this folder: <name>.onnx (opset 17, symbolic batch), data/<name>/
with the test set (test_<input>.npy, test_labels.npy or the targets), a
calibration set of a few batches (calibration/<set>/<input>.npy, the layout
`tfc compile --calibration-data` reads) and metrics.json with each model's
fp32 metric as torch computes it. The tests read these files and never
retrain.

Training is seeded and single-threaded where it matters, but torch's
kernels differ between versions and CPUs: a rerun gives models of the same
quality, not the same bytes. Run with Debian's interpreter:

  /usr/bin/python3 test/Models/trained/train_fixtures.py [--only NAME]
"""

import argparse
import json
import math
import os
import time

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
OPSET = 17


# --------------------------------------------------------------------------
# Shared blocks: a pre-norm transformer layer (ViT, GPT) and a post-norm one
# (BERT), attention written as exporters spread it out.
# --------------------------------------------------------------------------
class SelfAttention(nn.Module):
    def __init__(self, hidden, heads, causal=False):
        super().__init__()
        self.heads, self.head_dim, self.causal = heads, hidden // heads, causal
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(hidden, hidden)
        self.value = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, hidden)

    def split(self, x):
        return x.view(x.size(0), x.size(1), self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, additive_mask=None):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        if self.causal:
            length = x.size(1)
            causal = torch.triu(torch.full((length, length), float("-inf")), diagonal=1)
            scores = scores + causal
        if additive_mask is not None:
            scores = scores + additive_mask
        context = torch.matmul(torch.softmax(scores, dim=-1), v)
        context = context.transpose(1, 2).reshape(x.size(0), x.size(1), -1)
        return self.out(context)


class PreNormLayer(nn.Module):
    def __init__(self, hidden, heads, ff, causal=False):
        super().__init__()
        self.norm1 = nn.LayerNorm(hidden)
        self.attention = SelfAttention(hidden, heads, causal)
        self.norm2 = nn.LayerNorm(hidden)
        self.fc1 = nn.Linear(hidden, ff)
        self.fc2 = nn.Linear(ff, hidden)

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.fc2(nn.functional.gelu(self.fc1(self.norm2(x))))


class PostNormLayer(nn.Module):
    def __init__(self, hidden, heads, ff):
        super().__init__()
        self.attention = SelfAttention(hidden, heads)
        self.norm1 = nn.LayerNorm(hidden, eps=1e-12)
        self.fc1 = nn.Linear(hidden, ff)
        self.fc2 = nn.Linear(ff, hidden)
        self.norm2 = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x, additive_mask):
        x = self.norm1(x + self.attention(x, additive_mask))
        return self.norm2(x + self.fc2(nn.functional.gelu(self.fc1(x))))


def fit(model, name, steps, lr, batch_loss, clip=None, after_step=None):
    """AdamW with a one-cycle schedule for `steps` steps; batch_loss(step)
    draws a batch and returns its loss. Gradients are clipped to `clip`;
    after_step(step) runs after each update (pruning masks)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.05)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, lr, total_steps=steps)
    for step in range(steps):
        loss = batch_loss(step)
        optimizer.zero_grad()
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        schedule.step()
        if after_step is not None:
            after_step(step)
        if step % 100 == 0:
            print(f"  {name} step {step} loss {loss.item():.3f}", flush=True)
    model.eval()


# Block-sparse pruning: tfc multiplies by W = weight^T ([in, out]); its
# sparse kernel skips blocks of one input row by PRUNE_BLOCK output
# columns, which in torch's [out, in] weight are PRUNE_BLOCK consecutive
# rows of one column.
PRUNE_BLOCK = 16


class BlockPruner:
    """Gradual block-magnitude pruning (Zhu and Gupta's cubic schedule):
    between steps `start` and `end` the target sparsity rises from 0 to
    `sparsity` as 1 - (1 - progress)^3; every `every` steps each linear
    keeps the blocks of largest L2 norm and zeroes the rest, and after every
    update the weights are multiplied by their masks."""

    def __init__(self, linears, sparsity, start, end, every=50):
        self.linears, self.sparsity = linears, sparsity
        self.start, self.end, self.every = start, end, every
        self.masks = [torch.ones_like(linear.weight) for linear in linears]

    def target(self, step):
        if step < self.start:
            return 0.0
        progress = min(1.0, (step - self.start) / (self.end - self.start))
        return self.sparsity * (1.0 - (1.0 - progress) ** 3)

    def __call__(self, step):
        with torch.no_grad():
            if self.start <= step <= self.end and (step - self.start) % self.every == 0:
                fraction = self.target(step)
                for index, linear in enumerate(self.linears):
                    out, inputs = linear.weight.shape
                    blocks = linear.weight.view(out // PRUNE_BLOCK, PRUNE_BLOCK, inputs)
                    norms = blocks.pow(2).sum(dim=1)  # [out / block, in]
                    drop = int(round(fraction * norms.numel()))
                    mask = torch.ones_like(norms)
                    if drop > 0:
                        smallest = torch.topk(norms.flatten(), drop, largest=False).indices
                        mask.view(-1)[smallest] = 0.0
                    self.masks[index] = mask[:, None, :].expand(-1, PRUNE_BLOCK, -1).reshape(out, inputs)
            for linear, mask in zip(self.linears, self.masks):
                linear.weight.mul_(mask)

    def measured(self):
        """The fraction of zero blocks over all pruned linears."""
        zero = total = 0
        for linear in self.linears:
            out, inputs = linear.weight.shape
            norms = linear.weight.view(out // PRUNE_BLOCK, PRUNE_BLOCK, inputs).abs().sum(dim=1)
            zero += int((norms == 0).sum())
            total += norms.numel()
        return zero / total


# --------------------------------------------------------------------------
# digits-vit
# --------------------------------------------------------------------------
class DigitsViT(nn.Module):
    """8x8 images in 2x2 patches: 16 tokens and a class token."""

    def __init__(self, hidden=64, layers=4, heads=4, ff=256):
        super().__init__()
        self.patch = nn.Conv2d(1, hidden, kernel_size=2, stride=2)
        self.cls = nn.Parameter(torch.zeros(1, 1, hidden))
        self.position = nn.Parameter(torch.randn(1, 17, hidden) * 0.02)
        self.layers = nn.ModuleList(PreNormLayer(hidden, heads, ff) for _ in range(layers))
        self.norm = nn.LayerNorm(hidden)
        self.head = nn.Linear(hidden, 10)

    def forward(self, pixels):
        x = self.patch(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.size(0), -1, -1), x], dim=1) + self.position
        for layer in self.layers:
            x = layer(x)
        return self.head(self.norm(x[:, 0]))


def digits_data():
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None]
    labels = digits.target.astype(np.int64)
    order = np.random.RandomState(0).permutation(len(labels))
    test, train = order[:400], order[400:]
    return (images[train], labels[train]), (images[test], labels[test])


def train_digits(out):
    (train_x, train_y), (test_x, test_y) = digits_data()
    torch.manual_seed(0)
    model = DigitsViT()
    generator = np.random.RandomState(1)
    x_all, y_all = torch.from_numpy(train_x), torch.from_numpy(train_y)

    def batch_loss(step, batch=64):
        index = torch.from_numpy(generator.randint(0, len(train_y), batch))
        x = x_all[index]
        # Shifts by up to one pixel: 1400 images are few for a transformer.
        dx, dy = generator.randint(-1, 2, 2)
        x = torch.roll(x, shifts=(int(dy), int(dx)), dims=(2, 3))
        return nn.functional.cross_entropy(model(x), y_all[index])

    fit(model, "digits-vit", 3000, 2e-3, batch_loss)
    with torch.no_grad():
        accuracy = (model(torch.from_numpy(test_x)).argmax(-1).numpy() == test_y).mean()
    export(model, (torch.from_numpy(test_x[:2]),), out, "digits-vit", ["pixels"], ["logits"],
           {"pixels": {0: "batch"}, "logits": {0: "batch"}})
    data = os.path.join(out, "data", "digits-vit")
    save(data, "test_pixels", test_x)
    save(data, "test_labels", test_y)
    for i in range(4):
        save(os.path.join(data, "calibration", f"set{i}"), "pixels", train_x[i * 32:(i + 1) * 32])
    return {"metric": "accuracy", "fp32": float(accuracy), "test_size": int(len(test_y))}


# --------------------------------------------------------------------------
# char-gpt
# --------------------------------------------------------------------------
LICENSES = ["Apache-2.0", "Artistic", "BSD", "CC0-1.0", "GFDL-1.2", "GFDL-1.3", "GPL-1",
            "GPL-2", "GPL-3", "LGPL-2", "LGPL-2.1", "LGPL-3", "MPL-1.1", "MPL-2.0"]


def license_bytes(name):
    with open(os.path.join("/usr/share/common-licenses", name), "rb") as f:
        return np.frombuffer(f.read(), dtype=np.uint8)


def license_windows(context):
    """The license texts' first nine tenths (training) and windows of
    `context` bytes of the last tenth (test): no test window was seen."""
    train_parts, test_parts = [], []
    for name in LICENSES:
        text = license_bytes(name)
        cut = int(len(text) * 0.9)
        train_parts.append(text[:cut])
        test_parts.append(text[cut:])
    windows = []
    for part in test_parts:
        for start in range(0, len(part) - context, context):
            windows.append(part[start:start + context])
    return (np.concatenate(train_parts).astype(np.int64),
            np.stack(windows).astype(np.int64))


def next_byte_loss(model, train_text, context, generator, batch=24):
    """batch_loss for fit: random windows of the training text, each byte
    predicting the next."""
    text = torch.from_numpy(train_text)

    def batch_loss(step):
        starts = generator.randint(0, len(train_text) - context - 1, batch)
        x = torch.stack([text[s:s + context] for s in starts])
        y = torch.stack([text[s + 1:s + context + 1] for s in starts])
        return nn.functional.cross_entropy(model(x).reshape(-1, 256), y.reshape(-1))

    return batch_loss


class CharGPT(nn.Module):
    def __init__(self, hidden=128, layers=4, heads=4, ff=512, context=64):
        super().__init__()
        self.embed = nn.Embedding(256, hidden)
        self.position = nn.Parameter(torch.randn(1, context, hidden) * 0.02)
        self.layers = nn.ModuleList(PreNormLayer(hidden, heads, ff, causal=True)
                                    for _ in range(layers))
        self.norm = nn.LayerNorm(hidden)
        self.head = nn.Linear(hidden, 256)

    def forward(self, tokens):
        x = self.embed(tokens) + self.position[:, :tokens.size(1)]
        for layer in self.layers:
            x = layer(x)
        return self.head(self.norm(x))


def train_char_gpt(out):
    context = 64
    train_text, test_windows = license_windows(context)
    torch.manual_seed(0)
    model = CharGPT(context=context)
    batch_loss = next_byte_loss(model, train_text, context, np.random.RandomState(2))
    fit(model, "char-gpt", 2500, 2e-3, batch_loss, clip=1.0)
    with torch.no_grad():
        logits = model(torch.from_numpy(test_windows)).numpy()
    bpc = bits_per_character(logits, test_windows)
    export(model, (torch.from_numpy(test_windows[:2]),), out, "char-gpt", ["tokens"], ["logits"],
           {"tokens": {0: "batch", 1: "sequence"}, "logits": {0: "batch", 1: "sequence"}})
    data = os.path.join(out, "data", "char-gpt")
    save(data, "test_tokens", test_windows)
    for i in range(4):
        starts = np.random.RandomState(10 + i).randint(0, len(train_text) - context, 16)
        save(os.path.join(data, "calibration", f"set{i}"), "tokens",
             np.stack([train_text[s:s + context] for s in starts]))
    return {"metric": "bits_per_character", "fp32": float(bpc),
            "test_size": int(test_windows.shape[0] * (context - 1))}


# --------------------------------------------------------------------------
# char-linear
# --------------------------------------------------------------------------
class LinearSelfAttention(nn.Module):
    """Causal linear attention as torch exports it: elu + 1 on q and k,
    prefix sums (CumSum) of phi(k) v^T and of phi(k) over the sequence."""

    def __init__(self, hidden, heads):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)

    def forward(self, x):
        batch, length, hidden = x.shape
        q, k, v = self.qkv(x).view(batch, length, 3, self.heads, self.head_dim).unbind(2)
        q, k = nn.functional.elu(q) + 1, nn.functional.elu(k) + 1
        kv = torch.cumsum(k.unsqueeze(-1) * v.unsqueeze(-2), dim=1)
        numerator = (q.unsqueeze(-1) * kv).sum(-2)
        denominator = (q * torch.cumsum(k, dim=1)).sum(-1, keepdim=True) + 1e-6
        return self.out((numerator / denominator).reshape(batch, length, hidden))


class CharLinear(nn.Module):
    def __init__(self, hidden=128, layers=4, heads=4, ff=512):
        super().__init__()
        self.embed = nn.Embedding(256, hidden)
        self.layers = nn.ModuleList(
            nn.ModuleDict(dict(norm1=nn.LayerNorm(hidden),
                               attention=LinearSelfAttention(hidden, heads),
                               norm2=nn.LayerNorm(hidden), fc1=nn.Linear(hidden, ff),
                               fc2=nn.Linear(ff, hidden)))
            for _ in range(layers))
        self.norm = nn.LayerNorm(hidden)
        self.head = nn.Linear(hidden, 256)

    def forward(self, tokens):
        x = self.embed(tokens)
        for layer in self.layers:
            x = x + layer["attention"](layer["norm1"](x))
            x = x + layer["fc2"](nn.functional.gelu(layer["fc1"](layer["norm2"](x))))
        return self.head(self.norm(x))


def train_char_linear(out):
    context = 64
    train_text, test_windows = license_windows(context)
    torch.manual_seed(0)
    model = CharLinear()
    batch_loss = next_byte_loss(model, train_text, context, np.random.RandomState(3))
    fit(model, "char-linear", 1200, 2e-3, batch_loss, clip=1.0)
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(test_windows)).numpy()
    bpc = bits_per_character(logits, test_windows)
    export(model, (torch.from_numpy(test_windows[:2]),), out, "char-linear", ["tokens"],
           ["logits"], {"tokens": {0: "batch", 1: "sequence"},
                        "logits": {0: "batch", 1: "sequence"}})
    data = os.path.join(out, "data", "char-linear")
    save(data, "test_tokens", test_windows)
    return {"metric": "bits_per_character", "fp32": float(bpc),
            "test_size": int(test_windows.shape[0] * (context - 1))}


def bits_per_character(logits, tokens):
    """Mean -log2 p(next byte) over every position but the last of each window."""
    logits = logits[:, :-1].astype(np.float64)
    targets = tokens[:, 1:]
    logits -= logits.max(-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], -1)[..., 0]
    return float(-picked.mean() / np.log(2))


# --------------------------------------------------------------------------
# textkind-bert
# --------------------------------------------------------------------------
CLS, PAD = 256, 257
# Which kind of text a snippet is, from files every Debian machine that
# builds tfc has: C headers (libc6-dev), Python (the standard library), Perl
# (perl-base) and English prose (licenses and copyright files).
TEXT_KINDS = [
    ("c", ["/usr/include/*.h", "/usr/include/x86_64-linux-gnu/*/*.h"]),
    ("python", ["/usr/lib/python3.11/*.py"]),
    ("perl", ["/usr/lib/x86_64-linux-gnu/perl-base/*.pm",
              "/usr/lib/x86_64-linux-gnu/perl-base/*/*.pm"]),
    ("english", ["/usr/share/common-licenses/*", "/usr/share/doc/*/copyright"]),
]


def text_kind_files():
    """Per kind, (train, test) lists of file contents: a tenth of the files,
    chosen by a hash of the path, are the test set's, so that the test
    snippets come from files the model never saw."""
    import glob
    import zlib

    split = []
    for _, patterns in TEXT_KINDS:
        train, test = [], []
        paths = sorted({p for pattern in patterns for p in glob.glob(pattern)})
        for path in paths:
            if not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                data = np.frombuffer(f.read(), dtype=np.uint8)
            if len(data) < 200:
                continue
            (test if zlib.crc32(path.encode()) % 10 == 0 else train).append(data)
        split.append((train, test))
    return split


class TextKindBert(nn.Module):
    def __init__(self, hidden=128, layers=4, heads=4, ff=512, context=65):
        super().__init__()
        self.embed = nn.Embedding(258, hidden)
        self.position = nn.Embedding(context, hidden)
        self.embed_norm = nn.LayerNorm(hidden, eps=1e-12)
        self.layers = nn.ModuleList(PostNormLayer(hidden, heads, ff) for _ in range(layers))
        self.pooler = nn.Linear(hidden, hidden)
        self.classifier = nn.Linear(hidden, len(TEXT_KINDS))

    def forward(self, input_ids, attention_mask):
        positions = torch.arange(input_ids.size(1)).unsqueeze(0)
        x = self.embed_norm(self.embed(input_ids) + self.position(positions))
        additive = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * -10000.0
        for layer in self.layers:
            x = layer(x, additive)
        return self.classifier(torch.tanh(self.pooler(x[:, 0])))


def snippets(files, count, seed, context=65):
    """`count` snippets of 24 to 64 bytes of a random kind, file and place:
    [CLS] bytes, padded to `context`."""
    generator = np.random.RandomState(seed)
    ids = np.full((count, context), PAD, dtype=np.int64)
    mask = np.zeros((count, context), dtype=np.int64)
    labels = generator.randint(0, len(files), count)
    for i, label in enumerate(labels):
        text = files[label][generator.randint(0, len(files[label]))]
        length = generator.randint(24, context)
        start = generator.randint(0, len(text) - length)
        ids[i, 0] = CLS
        ids[i, 1:length + 1] = text[start:start + length]
        mask[i, :length + 1] = 1
    return ids, mask, labels.astype(np.int64)


def train_text_kind_bert(out, sparsity=None):
    """textkind-bert; with `sparsity`, trained with block pruning and
    written as textkind-bert-sparseNN (its test set is textkind-bert's)."""
    name = "textkind-bert" if sparsity is None else f"textkind-bert-sparse{round(sparsity * 100)}"
    split = text_kind_files()
    train_files = [train for train, _ in split]
    test_files = [test for _, test in split]
    test_ids, test_mask, test_labels = snippets(test_files, 800, seed=3)

    torch.manual_seed(0)
    model = TextKindBert()

    def batch_loss(step, batch=32):
        ids, mask, labels = snippets(train_files, batch, seed=1000 + step)
        return nn.functional.cross_entropy(
            model(torch.from_numpy(ids), torch.from_numpy(mask)), torch.from_numpy(labels))

    pruner = None
    if sparsity is not None:
        linears = [module for layer in model.layers for module in layer.modules()
                   if isinstance(module, nn.Linear)] + [model.pooler]
        pruner = BlockPruner(linears, sparsity, start=600, end=2100)
    fit(model, name, 3000, 1e-3, batch_loss, clip=1.0, after_step=pruner)
    with torch.no_grad():
        predicted = model(torch.from_numpy(test_ids), torch.from_numpy(test_mask)).argmax(-1)
    accuracy = (predicted.numpy() == test_labels).mean()
    export(model, (torch.from_numpy(test_ids[:2]), torch.from_numpy(test_mask[:2])), out,
           name, ["input_ids", "attention_mask"], ["logits"],
           {"input_ids": {0: "batch", 1: "sequence"},
            "attention_mask": {0: "batch", 1: "sequence"}, "logits": {0: "batch"}})
    if pruner is not None:
        return {"metric": "accuracy", "fp32": float(accuracy), "test_size": int(len(test_labels)),
                "test_set": "textkind-bert", "block": [1, PRUNE_BLOCK],
                "block_sparsity": pruner.measured()}
    data = os.path.join(out, "data", "textkind-bert")
    save(data, "test_input_ids", test_ids)
    save(data, "test_attention_mask", test_mask)
    save(data, "test_labels", test_labels)
    for i in range(4):
        ids, mask, _ = snippets(train_files, 32, seed=50 + i)
        calibration = os.path.join(data, "calibration", f"set{i}")
        save(calibration, "input_ids", ids)
        save(calibration, "attention_mask", mask)
    return {"metric": "accuracy", "fp32": float(accuracy), "test_size": int(len(test_labels)),
            "classes": [kind for kind, _ in TEXT_KINDS]}


# --------------------------------------------------------------------------
def save(folder, name, array):
    os.makedirs(folder, exist_ok=True)
    np.save(os.path.join(folder, name + ".npy"), array)


def export(model, args, out, name, inputs, outputs, dynamic):
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, name + ".onnx")
    torch.onnx.export(model, args, path, opset_version=OPSET, input_names=inputs,
                      output_names=outputs, dynamic_axes=dynamic, do_constant_folding=True)
    print(f"wrote {path} ({os.path.getsize(path) / 1e6:.2f} MB)")


FIXTURES = {"digits-vit": train_digits, "char-gpt": train_char_gpt,
            "char-linear": train_char_linear,
            "textkind-bert": train_text_kind_bert,
            "textkind-bert-sparse80": lambda out: train_text_kind_bert(out, 0.8),
            "textkind-bert-sparse90": lambda out: train_text_kind_bert(out, 0.9)}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", choices=sorted(FIXTURES), action="append",
                        help="train only this fixture (repeatable)")
    parser.add_argument("--out", default=HERE, help="output folder (default: this one)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads (1 trains fastest beside other work)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    metrics_path = os.path.join(args.out, "metrics.json")
    metrics = {}
    if os.path.exists(metrics_path):
        with open(metrics_path) as f:
            metrics = json.load(f)
    for name in args.only or sorted(FIXTURES):
        start = time.time()
        print(f"training {name}", flush=True)
        metrics[name] = FIXTURES[name](args.out)
        print(f"  {name}: {metrics[name]['metric']} {metrics[name]['fp32']:.4f} "
              f"({time.time() - start:.0f} s)", flush=True)
        with open(metrics_path, "w") as f:
            json.dump(metrics, f, indent=2, sort_keys=True)
            f.write("\n")


if __name__ == "__main__":
    main()
