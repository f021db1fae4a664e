"""Checks the layering docs/Architecture.md describes, on the sources.

Each rule names the files it covers and what they must not contain (an
include or a call); a violation prints the file, the line and the rule.
Prints "layering: N files checked, V violations" and exits 1 on any.
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1])

# (what the rule says, file globs, forbidden regexes)
RULES = [
    ("the dialect depends on MLIR only",
     ["dialects/tfm/*"], [r'#include "tfc/']),
    ("import depends on the dialect, not on the graph passes or below",
     ["lib/Import/*"], [r'#include "tfc/(Transforms|Conversion|Target|Pipeline)/']),
    ("graph passes make tfm only",
     ["lib/Transforms/*"],
     [r'#include "mlir/Dialect/(LLVMIR|Linalg|MemRef|Bufferization)/',
      r'#include "tfc/(Conversion|Target|Pipeline|runtime)/', r'\bLLVM::']),
    ("the generic lowering knows no target",
     ["lib/Conversion/*/*", "include/tfc/Conversion/*"],
     [r'#include "tfc/(Target|Pipeline|runtime)/', r'tfc_rt_', r'tfc_kernel']),
    ("the target interface knows no target",
     ["lib/Target/*.cpp", "include/tfc/Target/*.h"],
     [r'#include "tfc/Target/(Cpu/|CpuCodegen)']),
    ("the pipeline sees targets only through Target",
     ["lib/Pipeline/*", "include/tfc/Pipeline/*"],
     [r'#include "tfc/Target/(Cpu/|CpuCodegen)', r'#include "tfc/Conversion/']),
    ("kernels are pure: no threads, allocation, run state or CPU detection",
     ["lib/Kernels/*"],
     [r'#include "runtime_internal\.h"', r'#include <pthread\.h>', r'\bmalloc\(',
      r'\bfree\(', r'aligned_alloc', r'__builtin_cpu_supports', r'_Thread_local',
      r'tfc_rt_parallel_for', r'tfc_current_run', r'target_clones']),
]

checked = set()
violations = 0
for rule, globs, patterns in RULES:
    compiled = [re.compile(p) for p in patterns]
    for pattern in globs:
        for path in sorted(root.glob(pattern)):
            if not path.is_file() or path.suffix not in (".h", ".cpp", ".c", ".td", ".def"):
                continue
            checked.add(path)
            for number, line in enumerate(path.read_text().splitlines(), 1):
                stripped = line.strip()
                if stripped.startswith(("//", "/*", "*")):
                    continue  # prose may name what the code must not do
                for regex in compiled:
                    if regex.search(line):
                        violations += 1
                        print(f"{path.relative_to(root)}:{number}: {rule}: {stripped}")
print(f"layering: {len(checked)} files checked, {violations} violations")
sys.exit(1 if violations else 0)
