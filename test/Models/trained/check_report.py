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
    quantized = [l for l in layers if l["precision"] == "int8"]
    kept = [l for l in layers if l["precision"] == "f32"]
    check(all(l["precision"] in ("int8", "f32") for l in layers), "every layer has a precision")
    check(all("relative_l2_error" in l for l in quantized), "every int8 layer has a measured error")
    check(all(l.get("reason") for l in kept), "every f32 layer says why")
    if args.max_error is not None:
        check(report.get("max_error") == args.max_error, "the report records the budget")
        check(all(l["relative_l2_error"] <= args.max_error for l in quantized),
              "int8 layers are within the budget")
        over = [l for l in kept if "relative_l2_error" in l]
        check(all(l["relative_l2_error"] > args.max_error and "--max-error" in l["reason"]
                  for l in over), "measured f32 layers were kept for an error above the budget")
    if args.max_output_error is not None:
        check(len(report["outputs"]) > 0 and all(
            o["relative_l2_error"] <= args.max_output_error for o in report["outputs"]),
            f"model outputs within {args.max_output_error}")
    totals = report["totals"]
    weights = sum(l["k"] * l["n"] for l in layers)
    int8_weights = sum(l["k"] * l["n"] for l in quantized)
    check(totals["linear_weight_bytes_f32"] == 4 * weights, "f32 bytes add up")
    check(totals["linear_weight_bytes_reduced"] ==
          4 * (weights - int8_weights) + int8_weights + 4 * sum(l["n"] for l in quantized),
          "reduced bytes add up")
    check(abs(totals["int8_share_of_linear_macs"] - (int8_weights / weights if weights else 0)) < 1e-9,
          "int8 share adds up")
    print(f"{len(quantized)} int8, {len(kept)} f32 layers")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
