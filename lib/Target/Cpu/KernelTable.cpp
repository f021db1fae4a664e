//===- KernelTable.cpp - the runtime's kernels, as the compiler sees them -===//

#include "tfc/Target/Cpu/KernelTable.h"

#include "llvm/ADT/StringSwitch.h"
#include "tfc/runtime/tfc_abi.h"

using namespace mlir;
using namespace mlir::tfc::cpu;

namespace {

// Each kernel's arguments, expanded from the ABI's one list.
#define TFC_KERNEL_IN(rank, arg) KernelArg{KernelArg::Input, rank, #arg}
#define TFC_KERNEL_OPT(rank, arg) KernelArg{KernelArg::OptionalInput, rank, #arg}
#define TFC_KERNEL_OUT(rank, arg) KernelArg{KernelArg::Output, rank, #arg}
#define TFC_KERNEL_I64(arg) KernelArg{KernelArg::I64, 0, #arg}
#define TFC_KERNEL_F32(arg) KernelArg{KernelArg::F32, 0, #arg}
#define TFC_KERNEL(name, ...) const KernelArg name##Args[] = {__VA_ARGS__};
#include "tfc/runtime/tfc_kernels.def"
#undef TFC_KERNEL

#define TFC_KERNEL(name, ...) KernelSignature{#name, name##Args},
const KernelSignature kKernels[] = {
#include "tfc/runtime/tfc_kernels.def"
};
#undef TFC_KERNEL
#undef TFC_KERNEL_IN
#undef TFC_KERNEL_OPT
#undef TFC_KERNEL_OUT
#undef TFC_KERNEL_I64
#undef TFC_KERNEL_F32

} // namespace

std::string KernelSignature::symbol() const {
  return std::string("tfc_rt_") + name;
}

int64_t KernelSignature::outputIndex() const {
  for (auto [i, arg] : llvm::enumerate(args))
    if (arg.kind == KernelArg::Output)
      return i;
  return -1;
}

const KernelSignature *mlir::tfc::cpu::lookupKernel(StringRef name) {
  for (const KernelSignature &kernel : kKernels)
    if (name == kernel.name)
      return &kernel;
  return nullptr;
}

std::optional<int64_t> mlir::tfc::cpu::encodeDtypes(StringRef dtypes) {
  int64_t code = llvm::StringSwitch<int64_t>(dtypes)
                     .Case("f32", TFC_RT_DTYPE_F32)
                     .Case("bf16", TFC_RT_DTYPE_BF16)
                     .Case("s8s8s32", TFC_RT_DTYPE_S8S8S32)
                     .Case("u8s8s32", TFC_RT_DTYPE_U8S8S32)
                     .Case("s16s16s32", TFC_RT_DTYPE_S16S16S32)
                     .Case("s4f32", TFC_RT_DTYPE_S4F32)
                     .Case("i64", TFC_RT_DTYPE_I64)
                     .Default(0);
  if (!code)
    return std::nullopt;
  return code;
}

std::optional<KernelIsa> mlir::tfc::cpu::parseKernelIsa(StringRef isa) {
  KernelIsa parsed;
  auto [base, rest] = isa.split('+');
  parsed.base = base;
  while (!rest.empty()) {
    auto [feature, tail] = rest.split('+');
    if (feature == "vnni")
      parsed.vnni = true;
    else if (feature == "bf16")
      parsed.bf16 = true;
    else if (feature == "amx")
      parsed.amx = true;
    else
      return std::nullopt;
    rest = tail;
  }
  return parsed;
}

std::optional<int64_t> mlir::tfc::cpu::encodeIsa(StringRef isa) {
  std::optional<KernelIsa> parsed = parseKernelIsa(isa);
  if (!parsed)
    return std::nullopt;
  int64_t code = llvm::StringSwitch<int64_t>(parsed->base)
                     .Case("avx2", TFC_RT_ISA_AVX2)
                     .Case("avx512", TFC_RT_ISA_AVX512)
                     .Case("neon", TFC_RT_ISA_NEON)
                     .Default(0);
  if (!code)
    return std::nullopt;
  int64_t features = (parsed->vnni ? TFC_RT_FEATURE_VNNI : 0) |
                     (parsed->bf16 ? TFC_RT_FEATURE_BF16 : 0) |
                     (parsed->amx ? TFC_RT_FEATURE_AMX : 0);
  return code | features << 8;
}

int64_t mlir::tfc::cpu::getLinearPanelWidth(StringRef isa) {
  return llvm::StringSwitch<int64_t>(isa.split('+').first)
      .Case("avx2", TFC_RT_LINEAR_PANEL_AVX2)
      .Case("neon", TFC_RT_LINEAR_PANEL_NEON)
      .Default(TFC_RT_LINEAR_PANEL_AVX512);
}

std::optional<int64_t> mlir::tfc::cpu::encodeFlags(int64_t flags,
                                                    StringRef dtypes,
                                                    StringRef isa) {
  std::optional<int64_t> dtypeCode = encodeDtypes(dtypes);
  std::optional<int64_t> isaCode = encodeIsa(isa);
  if (!dtypeCode || !isaCode || flags < 0 || flags > 0xff)
    return std::nullopt;
  // The extensions, bits 8-15 of the code, land in TFC_RT_FEATURE_SHIFT's.
  static_assert(TFC_RT_FEATURE_SHIFT == TFC_RT_ISA_SHIFT + 8);
  return flags | *dtypeCode << TFC_RT_DTYPE_SHIFT | *isaCode << TFC_RT_ISA_SHIFT;
}
