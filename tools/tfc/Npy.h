//===- Npy.h - reading and writing NumPy .npy files -------------*- C++ -*-===//

#ifndef TFC_TOOLS_TFC_NPY_H
#define TFC_TOOLS_TFC_NPY_H

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir::tfc::driver {

/// A dense, row-major array with an ONNX element type code (tfc_dtype).
struct HostTensor {
  int dtype = 0;
  llvm::SmallVector<int64_t> dims;
  std::vector<uint8_t> bytes;

  int64_t numElements() const;
};

/// Element bytes of an ONNX dtype code, 0 if unknown.
unsigned dtypeBytes(int dtype);
/// "float32", "int64", ...
const char *dtypeName(int dtype);

/// Reads a .npy file (little-endian, C order). On failure returns false
/// with `error` set.
bool readNpy(llvm::StringRef path, HostTensor &tensor, std::string &error);
bool writeNpy(llvm::StringRef path, const HostTensor &tensor, std::string &error);

/// The value of element `i` as a double (for comparisons and printing).
double elementAsDouble(const HostTensor &tensor, int64_t i);

} // namespace mlir::tfc::driver

#endif // TFC_TOOLS_TFC_NPY_H
