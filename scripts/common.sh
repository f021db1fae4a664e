# Shared by scripts/test and scripts/demo: installs what is missing, builds.
# Source it; it defines tfc_install_deps and tfc_build.

TFC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TFC_BUILD="${TFC_BUILD:-$TFC_ROOT/build}"
LLVM_PREFIX=/usr/lib/llvm-19

# Debian packages the build and the tests need.
TFC_PACKAGES=(
  cmake ninja-build
  llvm-19-dev libmlir-19-dev mlir-19-tools llvm-19-tools clang-19 lld-19
  libonnx-dev libprotobuf-dev protobuf-compiler libonnx-testdata
  python3-onnx python3-numpy python3-torch time gcc libclang-rt-19-dev
  # AArch64: the cross C library the AArch64 runtime is built against, and
  # qemu-user to run the cross-compiled models in the tests.
  libc6-dev-arm64-cross libgcc-12-dev-arm64-cross qemu-user
)

tfc_install_deps() {
  local missing=()
  for pkg in "${TFC_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "== installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "error: missing packages and not root; run: sudo apt-get install ${missing[*]}" >&2
    return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

tfc_build() {
  if [ ! -f "$TFC_BUILD/build.ninja" ]; then
    echo "== configuring in $TFC_BUILD"
    cmake -G Ninja -S "$TFC_ROOT" -B "$TFC_BUILD" \
      -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_COMPILER="$LLVM_PREFIX/bin/clang" \
      -DCMAKE_CXX_COMPILER="$LLVM_PREFIX/bin/clang++" \
      -DLLVM_USE_LINKER=lld \
      -DMLIR_DIR="$LLVM_PREFIX/lib/cmake/mlir" \
      -DLLVM_EXTERNAL_LIT="$LLVM_PREFIX/build/utils/lit/lit.py" >/dev/null
  fi
  echo "== building"
  ninja -C "$TFC_BUILD" | grep -E "error|warning: |FAILED" || true
  test "${PIPESTATUS[0]}" -eq 0
}

# ONNX Runtime for Node.js, the reference tfc is checked and benchmarked
# against. Its install script would download a GPU build and fails offline;
# the CPU library is already in the package. Sets TFC_ORT_NODE_PATH.
# What bench/run needs on top: matplotlib for its plot.
tfc_install_bench_deps() {
  TFC_PACKAGES+=(python3-matplotlib)
  tfc_install_deps
}

tfc_install_ort() {
  TFC_ORT_NODE_PATH="$TFC_BUILD/ort/node_modules"
  export TFC_ORT_NODE_PATH
  if [ -d "$TFC_ORT_NODE_PATH/onnxruntime-node" ]; then
    return 0
  fi
  command -v npm >/dev/null || { echo "error: npm is needed for onnxruntime-node" >&2; return 1; }
  echo "== installing onnxruntime-node (npm)"
  mkdir -p "$TFC_BUILD/ort"
  npm install --silent --prefix "$TFC_BUILD/ort" --ignore-scripts onnxruntime-node >/dev/null
}

# The kernels the benchmarks measure: --isa NAME or TFC_ISA=NAME, where NAME
# is host (what `tfc compile` picks for this machine), avx2 (x86-64-v3: AVX2
# and FMA) or avx512 (x86-64-v4). Forcing avx2 on an AVX-512 machine measures
# the AVX2 kernels at about an AVX2 machine's per-cycle rate. Sets TFC_ISA
# and TFC_ISA_COMPILE (the `tfc compile` options, an array). What a build
# really got is in its header's "Built for:" line.
tfc_select_isa() {
  local isa="${1:-${TFC_ISA:-host}}"
  TFC_ISA_COMPILE=()
  case "$isa" in
    avx2) TFC_ISA_COMPILE=(--target-cpu=x86-64-v3) ;;
    # AVX2 with AVX-VNNI (Alder Lake, Zen 5's VEX form): what ONNX Runtime
    # still uses on such a machine when bench/ort_avx2.py hides AVX-512.
    avx2-vnni) TFC_ISA_COMPILE=(--target-cpu=x86-64-v3 --target-features=+avxvnni) ;;
    avx512) TFC_ISA_COMPILE=(--target-cpu=x86-64-v4) ;;
    # The host's AVX-512 with its VNNI and AVX512-BF16 but not AMX: the
    # vector kernels of an AMX machine, to set against its tile products.
    # (Features given, tfc starts from LLVM's name for this CPU, which may
    # lack some the CPU has: they are named too.)
    avx512-noamx)
      local features=-amx-tile,-amx-bf16,-amx-int8 flag
      for flag in avx512_vnni avx512_bf16; do
        grep -qw "$flag" /proc/cpuinfo && features+=",+${flag/_/}"
      done
      TFC_ISA_COMPILE=(--target-features="$features") ;;
    host) ;;
    *) echo "error: unknown instruction set '$isa' (use host, avx2, avx2-vnni, avx512 or avx512-noamx)" >&2; return 2 ;;
  esac
  if [ "${isa%-noamx}" = avx512 ] && ! grep -qw avx512f /proc/cpuinfo; then
    echo "error: this CPU has no AVX-512; it cannot run --isa avx512" >&2
    return 2
  fi
  TFC_ISA="$isa"
}

# ONNX Runtime for the instruction set tfc_select_isa chose (after
# tfc_install_ort): with avx2 on an AVX-512 machine, a copy of onnxruntime-node
# that runs as on an AVX2 CPU (bench/ort_avx2.py), so both sides run AVX2
# code, unless TFC_ORT_NATIVE=1. Sets TFC_ORT_NODE_PATH and TFC_ORT_NOTE.
tfc_select_ort_isa() {
  TFC_ORT_NOTE="ONNX Runtime: its own choice for this CPU"
  if [ "${TFC_ISA%-vnni}" = avx2 ] && grep -qw avx512f /proc/cpuinfo && [ "${TFC_ORT_NATIVE:-0}" != 1 ]; then
    /usr/bin/python3 "$TFC_ROOT/bench/ort_avx2.py" "$TFC_BUILD/ort/node_modules" \
      "$TFC_BUILD/ort-avx2/node_modules"
    TFC_ORT_NODE_PATH="$TFC_BUILD/ort-avx2/node_modules"
    TFC_ORT_NOTE="ONNX Runtime: as on an AVX2 CPU (AVX-512 hidden from it, bench/ort_avx2.py)"
  fi
  export TFC_ORT_NODE_PATH
}
