//===- KernelTable.h - the runtime's kernels, as the compiler sees them ---===//
//
// The compiler's view of include/tfc/runtime/tfc_kernels.def: each kernel's
// arguments, from which kernel calls are verified and their C calls built,
// and the encoding of element types and instruction sets into the flags
// word. The runtime's prototypes come from the same list.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_TARGET_CPU_KERNELTABLE_H
#define TFC_TARGET_CPU_KERNELTABLE_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace mlir::tfc::cpu {

/// One argument of a kernel.
struct KernelArg {
  enum Kind { Input, OptionalInput, Output, I64, F32 };
  Kind kind;
  int rank; // tensors only
  const char *name;

  bool isTensor() const { return kind == Input || kind == OptionalInput || kind == Output; }
};

/// A kernel: `tfc_rt_<name>(args...)`, the last argument the flags word.
struct KernelSignature {
  const char *name;
  ArrayRef<KernelArg> args;

  /// The C symbol: tfc_rt_<name>.
  std::string symbol() const;
  /// The index of the output argument.
  int64_t outputIndex() const;
};

/// The kernel named `name`, or null.
const KernelSignature *lookupKernel(StringRef name);

/// A kernel instruction set as the compiler names it: the base set, then
/// the extensions the kernels may use, each after a '+' ("avx512+vnni+bf16+amx",
/// "avx2+vnni", "neon").
struct KernelIsa {
  StringRef base;
  bool vnni = false; // TFC_RT_FEATURE_VNNI
  bool bf16 = false; // TFC_RT_FEATURE_BF16
  bool amx = false;  // TFC_RT_FEATURE_AMX
};
/// `isa` split into its base and extensions; nullopt for an extension the
/// runtime does not know.
std::optional<KernelIsa> parseKernelIsa(StringRef isa);

/// The flags-word encodings (TFC_RT_DTYPE_*, TFC_RT_ISA_*) of an element
/// type combination (f32, bf16, s8s8s32, u8s8s32, s16s16s32, s4f32) and an
/// instruction set (avx2, avx512, neon, with extensions: the
/// TFC_RT_FEATURE_* bits in bits 8-15 of the result); nullopt for names the
/// runtime does not know.
std::optional<int64_t> encodeDtypes(StringRef dtypes);
std::optional<int64_t> encodeIsa(StringRef isa);

/// The columns of a panel of the linear kernel's packed weights for
/// instruction set `isa` (TFC_RT_LINEAR_PANEL_*): each set's register tile
/// has its own width, and the packing follows it.
int64_t getLinearPanelWidth(StringRef isa);

/// The full flags word of a call: the kernel's own bits with the element
/// types and instruction set encoded.
std::optional<int64_t> encodeFlags(int64_t flags, StringRef dtypes,
                                   StringRef isa);

} // namespace mlir::tfc::cpu

#endif // TFC_TARGET_CPU_KERNELTABLE_H
