//===- npy_fuzzer.cpp - libFuzzer target: the .npy reader of tfc run -----===//
//
// Each input is the contents of a .npy file. The parser must accept it or
// explain why not; what it accepts must hold as many bytes as its dims say.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include <cstdint>
#include <cstdlib>

using namespace mlir::tfc::driver;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  HostTensor tensor;
  std::string error;
  llvm::StringRef contents(reinterpret_cast<const char *>(data), size);
  if (!parseNpy(contents, "fuzz.npy", tensor, error)) {
    if (error.empty())
      std::abort(); // a refusal says why
    return 0;
  }
  std::optional<uint64_t> bytes = byteSize(tensor.dims, tensor.dtype);
  if (!bytes || tensor.bytes.size() != *bytes)
    std::abort();
  // Reading every element back is in bounds.
  double sum = 0;
  for (int64_t i = 0, e = tensor.numElements(); i < e; ++i)
    sum += elementAsDouble(tensor, i);
  (void)sum;
  return 0;
}
