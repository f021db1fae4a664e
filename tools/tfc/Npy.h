//===- Npy.h - reading and writing NumPy .npy files -------------*- C++ -*-===//

#ifndef TFC_TOOLS_TFC_NPY_H
#define TFC_TOOLS_TFC_NPY_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mlir::tfc::driver {

/// A dense, row-major array with an ONNX element type code (tfc_dtype).
/// Its dims are checked where it is made (byteSize), so numElements cannot
/// overflow.
struct HostTensor {
  int dtype = 0;
  llvm::SmallVector<int64_t> dims;
  std::vector<uint8_t> bytes;

  int64_t numElements() const;
};

/// The bytes of a tensor of `dtype` with `dims`, or nullopt when a dim is
/// negative, the dtype unknown, or the size (zero dims counting as one)
/// overflows int64.
std::optional<uint64_t> byteSize(llvm::ArrayRef<int64_t> dims, int dtype);

/// Element bytes of an ONNX dtype code, 0 if unknown.
unsigned dtypeBytes(int dtype);
/// "float32", "int64", ...
const char *dtypeName(int dtype);

/// Reads a .npy file (little-endian, C order): a regular file, of at most
/// `maxBytes`. On failure returns false with `error` set.
bool readNpy(llvm::StringRef path, HostTensor &tensor, std::string &error,
             uint64_t maxBytes = UINT64_MAX);
/// Parses the contents of a .npy file; `name` is what errors call it.
bool parseNpy(llvm::StringRef data, llvm::StringRef name, HostTensor &tensor,
              std::string &error);
bool writeNpy(llvm::StringRef path, const HostTensor &tensor, std::string &error);

/// The value of element `i` as a double (for comparisons and printing).
double elementAsDouble(const HostTensor &tensor, int64_t i);

} // namespace mlir::tfc::driver

#endif // TFC_TOOLS_TFC_NPY_H
