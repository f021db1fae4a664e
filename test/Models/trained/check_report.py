#!/usr/bin/python3
"""Checks a --reduction-report JSON file for what the report promises:

  check_report.py REPORT.json [--max-error E] [--max-output-error F]

Every layer has a precision; quantized layers have a measured error, at
most E when a budget was given, and every f32 layer that was quantizable
was kept for an error above E; each model output's error is at most F; the
totals add up from the layers. Prints one line per check and exits 1 on a
failed one.
"""
import argparse
import json
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("report")
    parser.add_argument("--max-error", type=float)
    parser.add_argument("--max-output-error", type=float)
    args = parser.parse_args()
    with open(args.report) as f:
        report = json.load(f)
    failures = []

    def check(condition, text):
        print(("ok: " if condition else "FAILED: ") + text)
        if not condition:
            failures.append(text)

    layers = report["layers"]
    # The layers' precision: int8 for both int8 modes.
    mode = {"int8": "int8", "int8-static": "int8", "bf16": "bf16"}.get(report["reduction"])
    check(mode is not None, "the report names its mode")
    quantized = [l for l in layers if l["precision"] == mode]
    kept = [l for l in layers if l["precision"] == "f32"]
    check(all(l["precision"] in (mode, "f32") for l in layers), "every layer has a precision")
    check(all("relative_l2_error" in l for l in quantized), f"every {mode} layer has a measured error")
    check(all(l.get("reason") for l in kept), "every f32 layer says why")
    if args.max_error is not None:
        check(report.get("max_error") == args.max_error, "the report records the budget")
        check(all(l["relative_l2_error"] <= args.max_error for l in quantized),
              f"{mode} layers are within the budget")
        over = [l for l in kept if "relative_l2_error" in l]
        check(all(l["relative_l2_error"] > args.max_error and "--max-error" in l["reason"]
                  for l in over), "measured f32 layers were kept for an error above the budget")
    if args.max_output_error is not None:
        check(len(report["outputs"]) > 0 and all(
            o["relative_l2_error"] <= args.max_output_error for o in report["outputs"]),
            f"model outputs within {args.max_output_error}")
    totals = report["totals"]
    weights = sum(l["k"] * l["n"] for l in layers)
    reduced_weights = sum(l["k"] * l["n"] for l in quantized)
    check(totals["linear_weight_bytes_f32"] == 4 * weights, "f32 bytes add up")
    # int8: a byte per weight and a 4-byte scale per column; bf16: 2 bytes.
    reduced_bytes = (reduced_weights + 4 * sum(l["n"] for l in quantized)
                     if mode == "int8" else 2 * reduced_weights)
    check(totals["linear_weight_bytes_reduced"] ==
          4 * (weights - reduced_weights) + reduced_bytes, "reduced bytes add up")
    check(abs(totals["reduced_share_of_linear_macs"] -
              (reduced_weights / weights if weights else 0)) < 1e-9,
          f"{mode} share adds up")
    print(f"{len(quantized)} {mode}, {len(kept)} f32 layers")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
