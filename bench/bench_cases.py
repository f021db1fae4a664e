"""bench/run's helper (Debian's /usr/bin/python3: numpy, onnx, matplotlib).

  bench_cases.py inputs DIR          writes each case's .npy inputs and the
                                     single-matmul models into DIR, and
                                     prints the case list bench/run reads
  bench_cases.py report RESULTS.tsv PEAK PEAK_LINE THREADS CPU OUT.md OUT.png
                     KERNELS BUILT_FOR ORT_NOTE
                                     prints the tables (fp32, int8, bf16,
                                     decode: fp32 and int4 steps),
                                     writes RESULTS.md's body and the BERT
                                     latency plot (PEAK_LINE: bench/peak
                                     --machine's output)

A case's work is counted in multiply-adds of its matrix products, x2 (the
GFLOP/s that the % of peak divides): every weight multiplies every token,
and each attention layer adds 2 * S^2 * hidden products for Q K^T and one
more for P V, counted dense (the causal GPT-2 kernel skips about half of
those, a few % of the model's total). Elementwise work, layer norms and
softmax exponentials are not counted.
"""
import os
import sys

import numpy as np

# The models' shapes (test/Models/export_models.py --full-size).
BERT = dict(hidden=768, layers=12, ff=3072, vocab=30522)
GPT2 = dict(hidden=768, layers=12, ff=3072, vocab=50257)
VIT = dict(hidden=384, layers=12, ff=1536, patches=196, patch_inputs=3 * 16 * 16,
           classes=1000)

# The matmul goal's shapes: K x N weights, M rows.
MATMUL_SHAPES = [(768, 768), (768, 3072), (3072, 768)]
MATMUL_ROWS = [128, 512]
BERT_PLOT_SEQUENCES = [32, 64, 128, 256, 384, 512]
# The block sparsities the sparse rows prune to (percent of 1x16 blocks).
SPARSITIES = (50, 80, 90)
# Decode-step matmuls (one row: memory-bound), fp32 and int4.
DECODE_MATMUL_SHAPES = [(768, 3072), (3072, 768)]
# The int4 rows' block of K (bench/matmul_nbits.py --block).
INT4_BLOCK = 128


def encoder_gflop(tokens, sequence, batch, hidden, layers, ff):
    per_token = layers * (4 * hidden * hidden + 2 * hidden * ff)
    attention = layers * batch * 2 * sequence * sequence * hidden
    return 2 * (tokens * per_token + attention) / 1e9


def bert_gflop(sequence):
    return encoder_gflop(sequence, sequence, 1, BERT["hidden"], BERT["layers"],
                         BERT["ff"]) + 2 * BERT["hidden"] ** 2 / 1e9  # pooler


def gpt2_gflop(sequence):
    return encoder_gflop(sequence, sequence, 1, GPT2["hidden"], GPT2["layers"],
                         GPT2["ff"]) + 2 * sequence * GPT2["hidden"] * GPT2["vocab"] / 1e9


def vit_gflop(batch):
    tokens = VIT["patches"] + 1
    patch = 2 * batch * VIT["patches"] * VIT["patch_inputs"] * VIT["hidden"] / 1e9
    head = 2 * batch * VIT["hidden"] * VIT["classes"] / 1e9
    return encoder_gflop(batch * tokens, tokens, batch, VIT["hidden"], VIT["layers"],
                         VIT["ff"]) + patch + head


def write_matmul_model(path, m, k, n):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    rng = np.random.default_rng(0)
    weight = (rng.standard_normal((k, n)) * 0.02).astype(np.float32)
    bias = (rng.standard_normal(n) * 0.02).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["xw"]),
         helper.make_node("Add", ["xw", "b"], ["y"])],
        f"matmul_{m}x{k}x{n}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, m, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, m, n])],
        [numpy_helper.from_array(weight, "w"), numpy_helper.from_array(bias, "b")])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), path)


# The family rows: test/Models/families/export_families.py --size bench
# (hidden 512, 4 layers, 8 heads; DeiT-S), at its natural input.
FAMILY = dict(vocab=8000, hidden=512, layers=4, heads=8, sequence=256, past=512)


def family_inputs(rng):
    """(case, model, {input: array}) for each family row."""
    f = FAMILY
    ids = lambda length: rng.integers(2, f["vocab"], (1, length)).astype(np.int64)
    kv = (f["layers"], 1, f["heads"], f["past"], f["hidden"] // f["heads"])
    s = f["sequence"]
    return [
        ("llama-seq256", "llama", {"input_ids": ids(s)}),
        ("roberta-seq256", "roberta", {"input_ids": ids(s)}),
        ("t5-seq256", "t5", {"input_ids": ids(s), "attention_mask": np.ones((1, s), np.int64)}),
        ("whisper-frames512", "whisper",
         {"input_features": rng.standard_normal((1, 80, 2 * s)).astype(np.float32)}),
        ("patchtst-len512", "patchtst",
         {"past_values": rng.standard_normal((1, 512, 7)).astype(np.float32)}),
        ("linear-attention-seq256", "linear-attention", {"input_ids": ids(s)}),
        ("retnet-seq256", "retnet", {"input_ids": ids(s)}),
        ("gpt2-kv-decode-past512", "gpt2-kv",
         {"input_ids": ids(1), "past_keys": rng.standard_normal(kv).astype(np.float32),
          "past_values": rng.standard_normal(kv).astype(np.float32)}),
        ("deit-batch1", "deit", {"pixel_values": rng.standard_normal((1, 3, 224, 224)).astype(np.float32)}),
        ("torch-encoder-seq256", "torch-encoder",
         {"src": rng.standard_normal((1, s, f["hidden"])).astype(np.float32),
          "padding_mask": np.zeros((1, s), np.bool_)}),
        ("bart-seq256", "bart", {"input_ids": ids(s), "decoder_input_ids": ids(s // 2)}),
    ]


def make_inputs(directory):
    """Writes inputs; prints 'case model gflop plot input=file ...' lines."""
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(0)
    lines = []

    def save(name, array):
        path = os.path.join(directory, name)
        np.save(path, array)
        return path

    for s in sorted(set(BERT_PLOT_SEQUENCES + [128, 512])):
        ids = save(f"bert_ids_{s}.npy", rng.integers(0, BERT["vocab"], (1, s)).astype(np.int64))
        mask = save(f"bert_mask_{s}.npy", np.ones((1, s), np.int64))
        table = "yes" if s in (128, 512) else "no"
        lines.append(f"bert-seq{s} bert {bert_gflop(s):.3f} {table} "
                     f"input_ids={ids} attention_mask={mask}")
    for s in (128, 512):
        ids = save(f"gpt2_ids_{s}.npy", rng.integers(0, GPT2["vocab"], (1, s)).astype(np.int64))
        lines.append(f"gpt2-seq{s} gpt2 {gpt2_gflop(s):.3f} yes input_ids={ids}")
    for b in (1, 8):
        pixels = save(f"vit_pixels_{b}.npy",
                      rng.standard_normal((b, 3, 224, 224)).astype(np.float32))
        lines.append(f"vit-batch{b} vit {vit_gflop(b):.3f} yes pixel_values={pixels}")
    # int8: tfc --quantize=int8 against ONNX Runtime on its own dynamic
    # int8 graph of the same model (bench/ort_quantize.py), and the same
    # shapes' fp32 rows for the ratio to ONNX Runtime fp32.
    # bf16: tfc --quantize=bf16 against tfc fp32 and ONNX Runtime fp32 (the
    # model's fp32 graph: ONNX Runtime's CPU provider has no bf16 matmuls).
    for line in list(lines):
        case, model, gflop, table, *feeds = line.split()
        if table == "yes":
            lines.append(" ".join([case + "-int8", model + "-int8", gflop, table] + feeds))
            lines.append(" ".join([case + "-bf16", model + "-bf16", gflop, table] + feeds))
    # sparse (issue 21): the same models with their MatMul weights pruned
    # to NN% of their 1x16 blocks zero (bench/prune_blocks.py), tfc against
    # ONNX Runtime on the same file, and against tfc on the dense one.
    for line in list(lines):
        case, model, gflop, table, *feeds = line.split()
        if case == "bert-seq128":
            lines.append(" ".join([case + "-sparse80", model + "-sparse80", gflop, table] + feeds))
            # int8 on top: pruned in 4x16 blocks (the int8 kernel's),
            # tfc --quantize=int8; ONNX Runtime runs the same pruned file.
            lines.append(" ".join([case + "-sparse80int8", model + "-sparse80int8", gflop,
                                   table] + feeds))
            # structured: half the heads and half the FFN neurons removed
            # (tfc compile --prune-heads=0.5 --prune-ffn=0.5), against tfc
            # on the whole model; ONNX Runtime runs the whole model.
            lines.append(" ".join([case + "-structured50", model + "-structured50", gflop,
                                   table] + feeds))
    for case, model, feeds in family_inputs(rng):
        paths = [f"{name}={save(f'{case}_{name}.npy', array)}" for name, array in feeds.items()]
        lines.append(f"{case} {model} 0 yes {' '.join(paths)}")
        # int4 (issue 23): the model with MatMulNBits weights
        # (bench/matmul_nbits.py), the same file for tfc and ONNX Runtime.
        if "decode" in case:
            lines.append(f"{case}-int4 {model}-int4 0 yes {' '.join(paths)}")
    for k, n in DECODE_MATMUL_SHAPES:
        name = f"matmul_1x{k}x{n}"
        write_matmul_model(os.path.join(directory, name + ".onnx"), 1, k, n)
        x = save(name + "_x.npy", rng.standard_normal((1, 1, k)).astype(np.float32))
        for suffix in ("", "-int4"):
            lines.append(f"matmul-1x{k}x{n}{suffix} {name}{suffix} {2 * k * n / 1e9:.6f} yes x={x}")
    for m in MATMUL_ROWS:
        for k, n in MATMUL_SHAPES:
            name = f"matmul_{m}x{k}x{n}"
            write_matmul_model(os.path.join(directory, name + ".onnx"), m, k, n)
            x = save(name + "_x.npy", rng.standard_normal((1, m, k)).astype(np.float32))
            lines.append(f"matmul-{m}x{k}x{n} {name} {2 * m * k * n / 1e9:.4f} yes x={x}")
            lines.append(f"matmul-{m}x{k}x{n}-int8 {name}-int8 {2 * m * k * n / 1e9:.4f} yes x={x}")
            if m == 128 and (k, n) != (768, 768):
                for sparsity in SPARSITIES:
                    lines.append(f"matmul-{m}x{k}x{n}-sparse{sparsity} {name}-sparse{sparsity} "
                                 f"{2 * m * k * n / 1e9:.4f} yes x={x}")
    print("\n".join(lines))


BASELINE_MODELS = ("bert", "gpt2", "vit")


def goal_ratio(case):
    """The tfc/ORT time a case must reach: BERT, GPT-2 and ViT (issue 5)
    0.9; a decode step 0.6; every other family 1.0 (issue 18); int8 against
    ONNX Runtime's int8 0.75 (issue 19)."""
    if case.endswith("-int8"):
        return 0.75
    if "-sparse" in case:
        # BERT-base at 80%: 3x faster than ONNX Runtime, 6x with int8.
        return 1 / 6 if case.endswith("int8") else 1 / 3
    if case.endswith("-bf16"):
        return 1 / 1.6  # of tfc fp32's time (AVX512-BF16)
    if case.split("-")[0] in BASELINE_MODELS and "kv" not in case:
        return 0.9
    return 0.6 if "decode" in case else 1.0


def step_bytes(case):
    """The bytes a decode-step case must move at least (weights read once,
    the past keys and values read and the present ones written), or None:
    fp32 4 bytes a weight, int4 half a byte plus a 4-byte scale per block
    of INT4_BLOCK."""
    int4 = case.endswith("-int4")
    per_weight = 0.5 + 4 / INT4_BLOCK if int4 else 4
    base = case[:-len("-int4")] if int4 else case
    if base.startswith("matmul-1x"):
        k, n = map(int, base[len("matmul-1x"):].split("x"))
        return k * n * per_weight + 4 * (k + 2 * n)  # weight, x, bias, y
    if base == "gpt2-kv-decode-past512":
        f = FAMILY
        h, layers = f["hidden"], f["layers"]
        weights = layers * 12 * h * h + f["vocab"] * h  # the blocks, the tied head
        kv = 2 * layers * h * 4 * (f["past"] + (f["past"] + 1))  # past in, present out
        return weights * per_weight + kv
    return None


def report(results_path, peak, peak_line, threads, cpu, markdown_path, plot_path,
           kernels, built_for, ort_note):
    """peak_line: bench/peak --machine's line (key_threads=value pairs)."""
    rows = []
    with open(results_path) as f:
        for line in f:
            case, tfc_ms, ort_ms, gflop, table = line.split()
            rows.append((case, float(tfc_ms), float(ort_ms), float(gflop), table == "yes"))
    peak = float(peak)
    peaks = dict(pair.split("=") for pair in peak_line.split())
    int8_key, bf16_key = int8_peak_name(kernels, built_for), bf16_peak_name(kernels, built_for)
    int8_peak = float(peaks.get(f"{int8_key}_{threads}", "nan"))
    bf16_peak = float(peaks.get(f"{bf16_key}_{threads}", "nan"))
    vnni = int8_key != "int8_avx2"  # VNNI or AMX: 8-bit dot products
    header = (f"{'case':<24} {'tfc ms':>9} {'ORT ms':>9} {'tfc/ORT':>8} {'goal':>7} "
              f"{'tfc GFLOP/s':>12} {'% peak':>7} {'ORT GFLOP/s':>12} {'% peak':>7}")
    table = [header, "-" * len(header)]
    int8_rows, bf16_rows, sparse_rows, structured_rows, int4_rows = [], [], [], [], []
    read_gbs = float(peaks.get(f"read_gbs_{threads}", "nan"))
    native_bf16 = "AVX512-BF16" in built_for
    fp32_ort = {case: ort_ms for case, _, ort_ms, _, _ in rows}
    fp32_tfc = {case: tfc_ms for case, tfc_ms, _, _, _ in rows}
    int8_tfc = fp32_tfc  # the -int8 rows are in it too, by their names
    for case, tfc_ms, ort_ms, gflop, in_table in rows:
        if not in_table:
            continue
        if case.endswith("-int8"):
            int8_rows.append((case, tfc_ms, ort_ms, gflop))
            continue
        if case.endswith("-bf16"):
            bf16_rows.append((case, tfc_ms, ort_ms, gflop))
            continue
        if case.endswith("-int4"):
            int4_rows.append((case, tfc_ms, ort_ms))
            continue
        if "-sparse" in case:
            sparse_rows.append((case, tfc_ms, ort_ms, gflop))
            continue
        if "-structured" in case:
            structured_rows.append((case, tfc_ms, ort_ms))
            continue
        tfc_rate, ort_rate = gflop / (tfc_ms / 1e3), gflop / (ort_ms / 1e3)
        met = None
        if case.startswith("matmul-1x"):
            # One row: its weights (9 MB fp32) fit a last-level cache of
            # tens of MB, so no memory goal; the decode table shows its GB/s.
            pass
        elif case.startswith("matmul"):
            met = tfc_rate / peak >= 0.75
        else:
            met = tfc_ms / ort_ms <= goal_ratio(case)
        if gflop > 0:
            rates = (f"{tfc_rate:12.1f} {100 * tfc_rate / peak:6.1f}% "
                     f"{ort_rate:12.1f} {100 * ort_rate / peak:6.1f}%")
        else:  # a family row: its work is not counted
            rates = f"{'-':>12} {'-':>7} {'-':>12} {'-':>7}"
        table.append(f"{case:<24} {tfc_ms:9.2f} {ort_ms:9.2f} {tfc_ms / ort_ms:8.2f} "
                     f"{'-' if met is None else 'met' if met else 'MISSED':>7} {rates}")
    if int8_rows:
        # int8 goals (issue 19): at most 0.75x ONNX Runtime int8's time; at
        # least 3x faster than ONNX Runtime fp32 with VNNI (2x without);
        # matmuls at >= 70% of the int8 peak.
        speed_goal = 3.0 if vnni else 2.0
        header8 = (f"{'int8 case':<24} {'tfc int8':>9} {'ORT int8':>9} {'ratio':>6} "
                   f"{'goal':>7} {'tfc fp32':>9} {'ORT fp32':>9} {'ORT fp32/':>10} "
                   f"{'goal':>7} {'GOP/s':>8} {'% int8':>7}")
        table += ["", header8, "-" * len(header8)]
        for case, tfc_ms, ort_ms, gflop in int8_rows:
            base = case[:-len("-int8")]
            rate = gflop / (tfc_ms / 1e3)
            ratio_ok = tfc_ms / ort_ms <= goal_ratio(case)
            speedup = fp32_ort.get(base, float("nan")) / tfc_ms
            if case.startswith("matmul"):
                speed_met = "met" if rate / int8_peak >= 0.70 else "MISSED"
            else:
                speed_met = "met" if speedup >= speed_goal else "MISSED"
            table.append(
                f"{case:<24} {tfc_ms:9.2f} {ort_ms:9.2f} {tfc_ms / ort_ms:6.2f} "
                f"{'met' if ratio_ok else 'MISSED':>7} {fp32_tfc.get(base, float('nan')):9.2f} "
                f"{fp32_ort.get(base, float('nan')):9.2f} {speedup:9.2f}x {speed_met:>7} "
                f"{rate:8.1f} {100 * rate / int8_peak:6.1f}%")
    if bf16_rows:
        # bf16 goal (issue 19): BERT-base at least 1.6x faster than tfc fp32
        # where the kernels have vdpbf16ps; elsewhere the mode only has to
        # work (reported, no goal).
        header16 = (f"{'bf16 case':<24} {'tfc bf16':>9} {'tfc fp32':>9} {'fp32/bf16':>10} "
                    f"{'goal':>7} {'ORT fp32':>9} {'ORT/bf16':>9} {'GFLOP/s':>8} {'% peak':>7}")
        table += ["", header16, "-" * len(header16)]
        for case, tfc_ms, ort_ms, gflop in bf16_rows:
            base = case[:-len("-bf16")]
            speedup = fp32_tfc.get(base, float("nan")) / tfc_ms
            rate = gflop / (tfc_ms / 1e3)
            goal = "-"
            if native_bf16 and base.startswith("bert"):
                goal = "met" if speedup >= 1.6 else "MISSED"
            table.append(
                f"{case:<24} {tfc_ms:9.2f} {fp32_tfc.get(base, float('nan')):9.2f} "
                f"{speedup:9.2f}x {goal:>7} {ort_ms:9.2f} {ort_ms / tfc_ms:8.2f}x "
                f"{rate:8.1f} {100 * rate / bf16_peak:6.1f}%")
    if int4_rows:
        # Decode goals (issue 23): an fp32 step's bytes at >= 70% of the
        # measured read rate; int4 at most 0.3x tfc fp32's step and 0.7x
        # ONNX Runtime's on the same MatMulNBits file.
        header4 = (f"{'decode case':<28} {'tfc int4':>9} {'ORT int4':>9} {'ratio':>6} "
                   f"{'goal':>7} {'tfc fp32':>9} {'int4/fp32':>10} {'goal':>7} "
                   f"{'fp32 GB/s':>10} {'% read':>7} {'goal':>7} {'int4 GB/s':>10} {'% read':>7}")
        table += ["", header4, "-" * len(header4)]
        for case, tfc_ms, ort_ms in int4_rows:
            base = case[:-len("-int4")]
            fp32_ms = fp32_tfc.get(base, float("nan"))
            fp32_rate = step_bytes(base) / (fp32_ms / 1e3) / 1e9
            int4_rate = step_bytes(case) / (tfc_ms / 1e3) / 1e9
            # A one-row matmul's weights fit in cache: its GB/s is no
            # memory figure (no goal).
            read_goal = "-" if base.startswith("matmul") else (
                "met" if fp32_rate >= 0.7 * read_gbs else "MISSED")
            table.append(
                f"{case:<28} {tfc_ms:9.3f} {ort_ms:9.3f} {tfc_ms / ort_ms:6.2f} "
                f"{'met' if tfc_ms / ort_ms <= 0.7 else 'MISSED':>7} {fp32_ms:9.3f} "
                f"{tfc_ms / fp32_ms:9.2f}x {'met' if tfc_ms / fp32_ms <= 0.3 else 'MISSED':>7} "
                f"{fp32_rate:10.1f} {100 * fp32_rate / read_gbs:6.1f}% {read_goal:>7} "
                f"{int4_rate:10.1f} {100 * int4_rate / read_gbs:6.1f}%")
    if sparse_rows:
        # Sparse goals (issue 21): matmuls at least 5x (90%), 3x (80%) and
        # 1x (50%) tfc's dense kernel; BERT-base at 80% 3x ONNX Runtime.
        headers = (f"{'sparse case':<28} {'tfc':>9} {'tfc dense':>10} {'dense/tfc':>10} "
                   f"{'ORT':>9} {'ORT/tfc':>8} {'goal':>7}")
        table += ["", headers, "-" * len(headers)]
        for case, tfc_ms, ort_ms, gflop in sparse_rows:
            base, sparsity = case.rsplit("-sparse", 1)
            # tfc dense: the same precision (the -int8 row for int8).
            int8 = sparsity.endswith("int8")
            dense = (int8_tfc if int8 else fp32_tfc).get(
                base + ("-int8" if int8 else ""), float("nan"))
            if case.startswith("matmul"):
                need = {90: 5.0, 80: 3.0}.get(int(sparsity.removesuffix("int8")), 1.0)
                met = dense / tfc_ms >= need
            else:
                met = tfc_ms / ort_ms <= goal_ratio(case)
            table.append(
                f"{case:<28} {tfc_ms:9.2f} {dense:10.2f} {dense / tfc_ms:9.2f}x "
                f"{ort_ms:9.2f} {ort_ms / tfc_ms:7.2f}x {'met' if met else 'MISSED':>7}")
    if structured_rows:
        # Structured goal (issue 21): half the heads and FFN neurons removed
        # run in at most 0.55x the whole model's time.
        headers = (f"{'structured case':<28} {'tfc':>9} {'tfc whole':>10} {'tfc/whole':>10} "
                   f"{'ORT whole':>10} {'goal':>7}")
        table += ["", headers, "-" * len(headers)]
        for case, tfc_ms, ort_ms in structured_rows:
            whole = fp32_tfc.get(case.rsplit("-structured", 1)[0], float("nan"))
            met = tfc_ms / whole <= 0.55
            table.append(f"{case:<28} {tfc_ms:9.2f} {whole:10.2f} {tfc_ms / whole:9.2f}x "
                         f"{ort_ms:10.2f} {'met' if met else 'MISSED':>7}")
    notes = [
        f"tfc/ORT: tfc's median latency over ONNX Runtime's, same inputs, {threads} threads "
        "(goal <= 0.90 for BERT, GPT-2 and ViT; <= 1.0 for the families, <= 0.6 for a "
        "decode step; matmul rows: >= 75% of peak; one-row matmuls, whose 9 MB of weights "
        "fit in cache, none).",
        "Family rows (test/Models/families, hidden 512, 4 layers): their work is not "
        "counted, so no GFLOP/s.",
        f"% peak: of {peak:.0f} GFLOP/s, the fp32 FMA peak bench/peak measured with "
        f"{kernels.upper()} for {threads} threads (ONNX Runtime's % is of the same "
        "figure). GFLOP counts matrix products only (bench/bench_cases.py).",
    ]
    if int8_rows:
        notes.append(
            f"int8 rows: tfc --quantize=int8 (per-channel int8 weights, per-row activations) "
            f"against ONNX Runtime on its dynamic int8 graph of the same model "
            f"(bench/ort_quantize.py: DynamicQuantizeLinear + MatMulInteger, per-tensor "
            f"weights); ratio goal <= 0.75. ORT fp32/: ONNX Runtime fp32's time over tfc "
            f"int8's, from the fp32 row of the same run (goal >= {speed_goal:.0f}x "
            f"{'with VNNI or AMX' if vnni else 'without VNNI'}; matmul rows: >= 70% of the int8 "
            f"peak). % int8: of {int8_peak:.0f} GOP/s, bench/peak's {int8_key} "
            f"for {threads} threads.")
    if int4_rows:
        notes.append(
            f"decode rows (one token: every weight read once): int4 is the model with its "
            f"MatMul weights as ONNX Runtime's MatMulNBits (bench/matmul_nbits.py, blocks of "
            f"{INT4_BLOCK}, symmetric, the tied head too), the same file for both, outputs "
            f"compared; tfc imports it into its int4 kernel. Goals: ratio <= 0.7 of ONNX "
            f"Runtime's step, int4/fp32 <= 0.3 of tfc fp32's (the row without -int4). GB/s: "
            f"the bytes the step must move (weights at 4 or 0.5 bytes plus a scale per block; "
            f"the past keys and values read and the present ones written) over its time; % "
            f"read: of {read_gbs:.1f} GB/s, bench/peak's memory read rate on {threads} threads "
            f"(fp32 goal >= 70% for a model's step; a one-row matmul's weights fit in cache, "
            f"so its GB/s can pass the memory's).")
    if bf16_rows:
        notes.append(
            "bf16 rows: tfc --quantize=bf16 (bf16 weights, activations rounded to bf16, "
            "f32 sums; attention's products in bf16) against tfc fp32 from the same run "
            "(goal: BERT >= 1.6x with AVX512-BF16; "
            + ("these kernels have AMX's tdpbf16ps" if "AMX" in built_for else
               "these kernels have vdpbf16ps" if native_bf16 else
               "these kernels widen bf16 to f32: no goal") +
            f") and ONNX Runtime fp32 on the same model. % peak: of {bf16_peak:.0f} "
            f"GFLOP/s, bench/peak's {bf16_key} for {threads} threads.")
    if sparse_rows:
        notes.append(
            "sparse rows: the model with every MatMul weight pruned by block magnitude to "
            "NN% of its 1x16 blocks zero (bench/prune_blocks.py); tfc finds the zeros and "
            "runs its block-sparse kernel, ONNX Runtime runs the same file. dense/tfc: tfc "
            "on the dense model (the row without -sparse) over tfc on the sparse one (goal "
            "for the matmuls: >= 5x at 90%, 3x at 80%, 1x at 50%); ORT/tfc: goal >= 3x for "
            "BERT-base at 80%. -sparse80int8: pruned in 4x16 blocks instead, tfc "
            "--quantize=int8 (its dense column: the -int8 row), ONNX Runtime on the same "
            "pruned fp32 file (goal >= 6x).")
    if structured_rows:
        notes.append(
            "structured rows: tfc compile --prune-heads=0.5 --prune-ffn=0.5 (half of every "
            "attention's heads and FFN's neurons removed, ranked by the weights), against tfc "
            "on the whole model (goal: tfc/whole <= 0.55); ONNX Runtime runs the whole model.")
    text = "\n".join(table + [""] + notes)
    print(text)

    bert = [(int(c.split("seq")[1]), t, o) for c, t, o, _, _ in rows
            if c.startswith("bert-seq") and not c.endswith(("-int8", "-bf16"))
            and "-sparse" not in c and "-structured" not in c]
    bert.sort()
    with open(markdown_path, "w") as f:
        f.write(f"CPU: {cpu}\n\ntfc compiled for: {built_for}\n\n{ort_note}\n\n"
                f"```\n{text}\n```\n\n")
        f.write("BERT-base latency by sequence length (batch 1):\n\n")
        f.write("| seq | tfc ms | ORT ms | tfc/ORT |\n|---:|---:|---:|---:|\n")
        for s, t, o in bert:
            f.write(f"| {s} | {t:.2f} | {o:.2f} | {t / o:.2f} |\n")
        f.write("\n")

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots(figsize=(6.4, 4.2), dpi=100)
    axes.plot([s for s, _, _ in bert], [t for _, t, _ in bert], "o-", label="tfc")
    axes.plot([s for s, _, _ in bert], [o for _, _, o in bert], "s--",
              label="ONNX Runtime")
    axes.set_xlabel("sequence length (batch 1)")
    axes.set_ylabel("median latency, ms")
    axes.set_title(f"BERT-base, {threads} threads, tfc's {kernels} kernels\n{cpu}",
                   fontsize=9)
    axes.grid(True, alpha=0.3)
    axes.legend()
    figure.tight_layout()
    figure.savefig(plot_path)


def int8_peak_name(kernels, built_for):
    """bench/peak's key of the int8 dot product tfc's kernels use: AMX tiles
    or VNNI where the build has them, else (AVX2, AVX-512 without VNNI) the
    AVX2 vpmaddubsw peak the issue measures against."""
    if "AMX" in built_for:
        return "int8_amx"
    if "VNNI" in built_for:
        return "int8_avx512vnni" if kernels == "avx512" else "int8_avxvnni"
    return "int8_avx2"


def bf16_peak_name(kernels, built_for):
    """bench/peak's key of the bf16 products tfc's kernels use: AMX tiles,
    AVX512-BF16's vdpbf16ps, or (bf16 widened to f32) the fp32 FMA peak."""
    if "AMX" in built_for:
        return "bf16_amx"
    if "AVX512-BF16" in built_for:
        return "bf16_avx512"
    return f"fp32_{kernels}"


SECTION_TITLES = {"avx512": "AVX-512 kernels", "avx2": "AVX2 kernels",
                  "decode-avx512": "Decoding, AVX-512 kernels (bench/decode/run)",
                  "decode-avx2": "Decoding, AVX2 kernels (bench/decode/run)"}


def merge(results_md, kernels, section_path):
    """Puts `section_path` into results_md as the section of `kernels`,
    replacing that section and keeping the other sets' as they are."""
    begin, end = f"<!-- BEGIN {kernels} -->", f"<!-- END {kernels} -->"
    with open(section_path) as f:
        section = (f"{begin}\n## {SECTION_TITLES[kernels]}\n\n" + f.read().rstrip() +
                   f"\n{end}\n")
    intro = ("# bench/run results\n\n"
             "One table per instruction set of tfc's kernels, each written by a full "
             "`bench/run --isa SET`. AVX2 kernels can be measured on an AVX-512 machine: "
             "tfc compiles for x86-64-v3, and ONNX Runtime runs as on an AVX2 CPU "
             "(bench/ort_avx2.py hides AVX-512 from a copy of it). The decoding "
             "sections (GPT-2 small's decode step and tokens per second, fp32 and int4) are "
             "bench/decode/run's.\n\n")
    try:
        with open(results_md) as f:
            text = f.read()
    except FileNotFoundError:
        text = intro
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + section.rstrip("\n") + tail
    else:
        if "<!-- BEGIN" not in text:
            text = intro  # an old single-table file: start over
        text = text.rstrip("\n") + "\n\n" + section
    # The sets in a fixed order.
    sections = {}
    for name in SECTION_TITLES:
        b, e = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
        if b in text:
            sections[name] = b + text.split(b, 1)[1].split(e, 1)[0] + e
    with open(results_md, "w") as f:
        f.write(intro + "\n\n".join(sections[n] for n in SECTION_TITLES if n in sections) +
                "\n")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "inputs":
        make_inputs(sys.argv[2])
    elif len(sys.argv) == 12 and sys.argv[1] == "report":
        report(*sys.argv[2:])
    elif len(sys.argv) == 5 and sys.argv[1] == "merge":
        merge(*sys.argv[2:])
    else:
        sys.exit(__doc__)
