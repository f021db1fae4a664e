# lit configuration for tfc's tests.
import os

import lit.formats
from lit.llvm import llvm_config

config.name = "tfc"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
# .mlir: IR tests run through tfc-opt; .onnxtxt: ONNX text models run through
# `tfc import`, with RUN and CHECK lines in '#' comments.
config.suffixes = [".mlir", ".onnxtxt", ".test"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tfc_obj_root, "test")
config.excludes = ["CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py", "NodeTests", "Inputs", "tiny", "full-size", "reference"]

config.substitutions.append(("%PATH%", config.environment["PATH"]))
config.substitutions.append(("%tfc_src_root", config.tfc_src_root))
config.substitutions.append(("%tfc_obj_root", config.tfc_obj_root))
# Debian's interpreter, the one with numpy (the first python3 on PATH may not
# have it).
config.substitutions.append(("%numpy_python", "/usr/bin/python3"))

llvm_config.with_system_environment(["HOME", "TMP", "TEMP"])
llvm_config.use_default_substitutions()

tool_dirs = [config.tfc_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(["tfc", "tfc-opt", "tfc-runtime-test", "tfc-runtime-test-asan", "tfc-runtime-test-tsan", "tfc-cuda-device-test", "tfc-npy-run"], tool_dirs)
# The libFuzzer targets are built where clang has libFuzzer (fuzz/).
fuzzers = ["tfc-fuzz-import", "tfc-fuzz-import-text", "tfc-fuzz-npy", "tfc-fuzz-run"]
if all(os.path.exists(os.path.join(config.tfc_tools_dir, f)) for f in fuzzers):
    config.available_features.add("fuzzers")
    llvm_config.add_tool_substitutions(fuzzers, tool_dirs)
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)
# The host CPU's extensions that kernel tests of one code path need
# (cpu-avx512-vnni, cpu-avx-vnni, cpu-avx512-bf16, cpu-amx): without them the test
# could not run what it compiles.
try:
    with open("/proc/cpuinfo") as cpuinfo:
        flags = next((line.split(":", 1)[1].split() for line in cpuinfo
                      if line.startswith("flags")), [])
except OSError:
    flags = []
for flag, feature in [("avx512_vnni", "cpu-avx512-vnni"), ("avx_vnni", "cpu-avx-vnni"),
                      ("avx512_bf16", "cpu-avx512-bf16")]:
    if flag in flags:
        config.available_features.add(feature)
# cpu-amx: the three AMX extensions the kernels' tile products use (Linux
# lists them once it supports the tiles' state).
if all(flag in flags for flag in ("amx_tile", "amx_bf16", "amx_int8", "avx512_vnni")):
    config.available_features.add("cpu-amx")
# ptxas, to assemble what tfc compile --target=cuda writes: the CUDA
# toolkit's (not on PATH on these machines), TFC_PTXAS, or one on PATH.
import shutil
ptxas = os.environ.get("TFC_PTXAS") or shutil.which("ptxas") or next(
    (p for p in ("/usr/local/cuda/bin/ptxas",) if os.path.exists(p)), None)
if ptxas:
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", ptxas))
# The AArch64 cross build (lib/Runtime/CMakeLists.txt builds its runtime when
# the AArch64 C library is installed) and qemu-user to run what it makes.
import shutil
if (os.path.exists(os.path.join(config.tfc_obj_root, "lib", "aarch64", "libtfc_runtime.a"))
        and shutil.which("qemu-aarch64")):
    config.available_features.add("aarch64-cross")
