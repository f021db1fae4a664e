#!/usr/bin/python3
"""ONNX Runtime as it runs on an AVX2 machine, on an AVX-512 one.

ONNX Runtime picks its kernels (MLAS's SGEMM, softmax, ...) at load time
from CPUID and from XCR0, the register in which the OS says which register
states it saves: AVX-512 kernels need XCR0's opmask and ZMM bits (0xE0). It
has no option to choose. To measure tfc's AVX2 kernels against ONNX Runtime's
AVX2 kernels on the same machine (bench/run --isa avx2), this script makes a
copy of onnxruntime-node whose library reads XCR0 as 0x7 (x87, SSE and AVX
state, no AVX-512 state): every `xgetbv` in it is replaced by an equivalent
of that value, so ONNX Runtime takes the path it takes on a CPU without
AVX-512 (it still sees AVX2 and FMA in CPUID).

The library has three `xgetbv` sites (MLAS's platform init, ORT's CPUIDInfo,
the cpuinfo library); each is matched by its exact bytes and the script
refuses to patch a library where the counts differ (another version).

Usage: ort_avx2.py SRC_NODE_MODULES DST_NODE_MODULES
  Writes DST_NODE_MODULES: links to SRC's packages, and a patched copy of
  onnxruntime-node. Does nothing when DST is already made from the same
  library.
"""

import hashlib
import os
import shutil
import sys

# xgetbv; mov %eax,%eax; shl $32,%rdx; or %rax,%rdx   (rdx = XCR0)
COMBINED = bytes.fromhex("0f01d0 89c0 48c1e220 4809c2".replace(" ", ""))
# mov $7,%eax; mov $7,%edx; 2-byte nop                  (rax = rdx = 7)
COMBINED_PATCH = bytes.fromhex("b807000000 ba07000000 6690".replace(" ", ""))
# xor %ecx,%ecx; xgetbv; mov %edi,%edx  (only eax is used: edx is overwritten)
LOW_ONLY = bytes.fromhex("31c9 0f01d0 89fa".replace(" ", ""))
# xor %ecx,%ecx; push $7; pop %rax; mov %edi,%edx  (the function keeps
# nothing below %rsp, so the push clobbers nothing)
LOW_ONLY_PATCH = bytes.fromhex("31c9 6a0758 89fa".replace(" ", ""))

LIBRARY = os.path.join("onnxruntime-node", "bin", "napi-v6", "linux", "x64",
                       "libonnxruntime.so.1")


def patch(data):
    if data.count(COMBINED) != 2 or data.count(LOW_ONLY) != 1:
        sys.exit("ort_avx2.py: this onnxruntime library's xgetbv sites are not "
                 f"the known ones ({data.count(COMBINED)} and {data.count(LOW_ONLY)}, "
                 "expected 2 and 1): cannot make it run as on AVX2")
    # (The bytes 0f 01 d0 occur elsewhere too, inside other instructions and
    # data; objdump finds exactly these three xgetbv instructions in 1.30.)
    return data.replace(COMBINED, COMBINED_PATCH).replace(LOW_ONLY, LOW_ONLY_PATCH)


def main(source, destination):
    library = os.path.join(source, LIBRARY)
    with open(library, "rb") as f:
        data = f.read()
    digest = hashlib.sha256(data).hexdigest()
    stamp = os.path.join(destination, ".ort_avx2_source")
    if os.path.exists(stamp) and open(stamp).read() == digest:
        return
    if os.path.exists(destination):
        shutil.rmtree(destination)
    os.makedirs(destination)
    for package in os.listdir(source):
        if package == "onnxruntime-node" or package.startswith("."):
            continue
        os.symlink(os.path.abspath(os.path.join(source, package)),
                   os.path.join(destination, package))
    # The package without the other platforms' binaries.
    shutil.copytree(os.path.join(source, "onnxruntime-node"),
                    os.path.join(destination, "onnxruntime-node"),
                    ignore=lambda folder, names: [n for n in names
                                                  if n in ("arm64", "win32", "darwin")])
    with open(os.path.join(destination, LIBRARY), "wb") as f:
        f.write(patch(data))
    with open(stamp, "w") as f:
        f.write(digest)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
