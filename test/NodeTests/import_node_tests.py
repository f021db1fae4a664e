#!/usr/bin/python3
"""Imports every ONNX node test (libonnx-testdata) whose ops tfc supports.

A test is supported when every node of its model is in the default domain and
its op type is one `tfc import --list-ops` prints. Each supported model must
import; those listed in import-expected-failures.txt may fail (the list can
only shrink: a listed test that now imports is reported, so it gets removed).

Prints a summary line `node tests: N imported, ...` and exits non-zero on an
unexpected failure or an expected failure that passes.
"""

import argparse
import concurrent.futures
import os
import subprocess
import sys

import onnx

DATA = "/usr/share/libonnx-testdata/data/node"
HERE = os.path.dirname(os.path.abspath(__file__))


def model_ops(path):
    model = onnx.load(path, load_external_data=False)
    ops = set()
    for node in model.graph.node:
        domain = node.domain or "ai.onnx"
        ops.add(node.op_type if domain == "ai.onnx" else f"{domain}::{node.op_type}")
        if any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS) for a in node.attribute):
            ops.add("<subgraph>")
    return ops


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tfc", required=True)
    parser.add_argument("--data", default=DATA)
    parser.add_argument("-v", "--verbose", action="store_true")
    options = parser.parse_args()

    supported = set(subprocess.run([options.tfc, "import", "--list-ops"], check=True,
                                   capture_output=True, text=True).stdout.split())
    with open(os.path.join(HERE, "import-expected-failures.txt")) as f:
        expected = {line.split("#")[0].strip() for line in f} - {""}

    tests = sorted(d for d in os.listdir(options.data)
                   if os.path.exists(os.path.join(options.data, d, "model.onnx")))
    candidates, unsupported = [], 0
    for test in tests:
        if model_ops(os.path.join(options.data, test, "model.onnx")) <= supported:
            candidates.append(test)
        else:
            unsupported += 1

    def run(test):
        result = subprocess.run([options.tfc, "import", os.path.join(options.data, test, "model.onnx"),
                                 "-o", os.devnull], capture_output=True, text=True)
        return test, result.returncode, result.stderr.strip()

    imported, failures, fixed = 0, [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for test, rc, stderr in pool.map(run, candidates):
            if rc == 0:
                imported += 1
                if test in expected:
                    fixed.append(test)
            elif test not in expected:
                failures.append((test, stderr))
            elif options.verbose:
                print(f"expected failure {test}: {stderr}")

    for test, stderr in failures:
        print(f"FAIL {test}: {stderr}")
    for test in fixed:
        print(f"XPASS {test}: imports now; remove it from import-expected-failures.txt")
    expected_failures = len(candidates) - imported - len(failures)
    print(f"node tests: {imported} imported, {expected_failures} expected failures, "
          f"{len(failures)} unexpected failures, of {len(candidates)} supported; "
          f"{unsupported} of {len(tests)} use ops tfc does not support")
    return 1 if failures or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
