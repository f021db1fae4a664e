#!/usr/bin/python3
"""Runs every ONNX node test (libonnx-testdata) whose ops tfc supports.

A test is supported when every node of its model is in the default domain and
its op type is one `tfc import --list-ops` prints. Each supported test must

  1. import (`tfc import`), unless listed in import-expected-failures.txt;
  2. compile, run on test_data_set_0's inputs and match its outputs within
     the test's tolerance (rtol 1e-3, atol 1e-5 for floats, exact for the
     rest), unless listed in run-expected-failures.txt.

Both lists can only shrink: a listed test that now passes is reported, so it
gets removed. Prints `node tests: ...` summary lines and exits non-zero on an
unexpected failure or an expected failure that passes.
"""

import argparse
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import numpy_helper

DATA = "/usr/share/libonnx-testdata/data/node"
HERE = os.path.dirname(os.path.abspath(__file__))


def graph_ops(graph):
    """The ops of `graph`'s nodes and of the graphs nested in them (a Loop's
    body)."""
    ops = set()
    for node in graph.node:
        domain = node.domain or "ai.onnx"
        ops.add(node.op_type if domain == "ai.onnx" else f"{domain}::{node.op_type}")
        for attribute in node.attribute:
            if attribute.type == onnx.AttributeProto.GRAPH:
                ops |= graph_ops(attribute.g)
            elif attribute.type == onnx.AttributeProto.GRAPHS:
                for subgraph in attribute.graphs:
                    ops |= graph_ops(subgraph)
    return ops


def model_ops(model):
    return graph_ops(model.graph)


def read_list(name):
    with open(os.path.join(HERE, name)) as f:
        return {line.split("#")[0].strip() for line in f} - {""}


def graph_io(model):
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i.name for i in model.graph.input if i.name not in initializers]
    outputs = [o.name for o in model.graph.output]
    return inputs, outputs


def load_pb(path):
    tensor = onnx.TensorProto()
    with open(path, "rb") as f:
        tensor.ParseFromString(f.read())
    return numpy_helper.to_array(tensor)


def run_test(tfc, data, test, scratch):
    """Compiles and runs one test; returns (passed, message)."""
    directory = os.path.join(data, test)
    model_path = os.path.join(directory, "model.onnx")
    model = onnx.load(model_path, load_external_data=False)
    inputs, outputs = graph_io(model)
    dataset = os.path.join(directory, "test_data_set_0")
    work = os.path.join(scratch, test)
    os.makedirs(work, exist_ok=True)
    command = [tfc, "run", model_path, "--quiet", "--rtol", "1e-3", "--atol", "1e-5"]
    for kind, names in (("input", inputs), ("output", outputs)):
        for i, name in enumerate(names):
            pb = os.path.join(dataset, f"{kind}_{i}.pb")
            if not os.path.exists(pb):
                return False, f"missing {kind}_{i}.pb"
            array = load_pb(pb)
            if array.dtype == object or array.dtype.kind in "USc":
                return False, f"{kind} {name} has dtype {array.dtype}"
            npy = os.path.join(work, f"{kind}_{i}.npy")
            np.save(npy, array.copy(order="C"))  # ascontiguousarray would make scalars 1-D
            command += ["--input" if kind == "input" else "--expect", f"{name}={npy}"]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return False, "timed out"
    message = (result.stdout + result.stderr).strip().splitlines()
    return result.returncode == 0, message[0] if message else f"exit code {result.returncode}"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tfc", required=True)
    parser.add_argument("--data", default=DATA)
    parser.add_argument("--import-only", action="store_true", help="skip compiling and running")
    parser.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("tests", nargs="*", help="run only these tests")
    options = parser.parse_args()

    supported = set(subprocess.run([options.tfc, "import", "--list-ops"], check=True,
                                   capture_output=True, text=True).stdout.split())
    expected_import = read_list("import-expected-failures.txt")
    expected_run = read_list("run-expected-failures.txt")

    tests = sorted(d for d in os.listdir(options.data)
                   if os.path.exists(os.path.join(options.data, d, "model.onnx")))
    if options.tests:
        tests = [t for t in tests if t in options.tests]
    candidates, unsupported = [], 0
    for test in tests:
        model = onnx.load(os.path.join(options.data, test, "model.onnx"), load_external_data=False)
        if model_ops(model) <= supported:
            candidates.append(test)
        else:
            unsupported += 1

    def import_one(test):
        result = subprocess.run([options.tfc, "import", os.path.join(options.data, test, "model.onnx"),
                                 "-o", os.devnull], capture_output=True, text=True)
        return test, result.returncode, result.stderr.strip()

    imported, failures, fixed = [], [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
        for test, rc, stderr in pool.map(import_one, candidates):
            if rc == 0:
                imported.append(test)
                if test in expected_import:
                    fixed.append((test, "imports now; remove it from import-expected-failures.txt"))
            elif test not in expected_import:
                failures.append((test, "import: " + stderr))
            elif options.verbose:
                print(f"expected import failure {test}: {stderr}")

    passed = []
    if not options.import_only:
        scratch = tempfile.mkdtemp(prefix="tfc-node-tests-")
        try:
            with concurrent.futures.ThreadPoolExecutor(max_workers=options.jobs) as pool:
                results = pool.map(lambda t: (t, *run_test(options.tfc, options.data, t, scratch)), imported)
                for test, ok, message in results:
                    if ok:
                        passed.append(test)
                        if test in expected_run:
                            fixed.append((test, "passes now; remove it from run-expected-failures.txt"))
                    elif test not in expected_run:
                        failures.append((test, "run: " + message))
                    elif options.verbose:
                        print(f"expected run failure {test}: {message}")
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    for test, message in failures:
        print(f"FAIL {test}: {message}")
    for test, message in fixed:
        print(f"XPASS {test}: {message}")
    print(f"node tests: {len(imported)} imported of {len(candidates)} supported "
          f"({len(candidates) - len(imported)} expected import failures); "
          f"{unsupported} of {len(tests)} use ops tfc does not support")
    if not options.import_only:
        print(f"node tests: {len(passed)} passed of {len(candidates)} supported "
              f"({len(imported) - len(passed) - sum(1 for f in failures if f[1].startswith('run'))}"
              f" expected run failures, {len(failures)} unexpected failures)")
    return 1 if failures or fixed else 0


if __name__ == "__main__":
    sys.exit(main())
