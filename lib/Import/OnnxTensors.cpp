//===- OnnxTensors.cpp - ONNX tensors into elements attributes ------------===//
//
// Weights are the bulk of a model, so this file is about not copying them:
// inline raw_data stays in the parsed protobuf and external data stays in a
// read-only mapping of its file; the `dense_resource` blobs alias both. Only
// tensors stored in typed fields (float_data, int64_data, ...), which have no
// byte layout to alias, are converted into fresh buffers.
//
//===----------------------------------------------------------------------===//

#include "OnnxImporterImpl.h"
#include "ModelFiles.h"
#include "tfm/TfmOps.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/Path.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::tfc::onnx_import;
using onnx::TensorProto;

namespace mlir::tfc::onnx_import {
class MappedFile {
public:
  /// Maps the open file (and closes it).
  static std::shared_ptr<MappedFile> map(OpenFile file, std::string &error) {
    void *data = nullptr;
    if (file.size > 0) {
      data = ::mmap(nullptr, file.size, PROT_READ, MAP_PRIVATE, file.fd, 0);
      if (data == MAP_FAILED) {
        error = "cannot be mapped: " + std::string(std::strerror(errno));
        ::close(file.fd);
        return nullptr;
      }
    }
    ::close(file.fd);
    return std::shared_ptr<MappedFile>(new MappedFile(data, file.size));
  }
  ~MappedFile() {
    if (data)
      ::munmap(data, size);
  }
  llvm::ArrayRef<char> bytes() const {
    return {static_cast<const char *>(data), size};
  }

private:
  MappedFile(void *data, size_t size) : data(data), size(size) {}
  void *data;
  size_t size;
};
} // namespace mlir::tfc::onnx_import

Type mlir::tfc::onnx_import::convertElementType(int32_t onnxType,
                                                MLIRContext *context) {
  Builder b(context);
  switch (onnxType) {
  case TensorProto::FLOAT:
    return b.getF32Type();
  case TensorProto::DOUBLE:
    return b.getF64Type();
  case TensorProto::FLOAT16:
    return b.getF16Type();
  case TensorProto::BFLOAT16:
    return b.getBF16Type();
  case TensorProto::BOOL:
    return b.getI1Type();
  case TensorProto::INT8:
    return b.getIntegerType(8);
  case TensorProto::INT16:
    return b.getIntegerType(16);
  case TensorProto::INT32:
    return b.getIntegerType(32);
  case TensorProto::INT64:
    return b.getIntegerType(64);
  case TensorProto::UINT8:
    return b.getIntegerType(8, /*isSigned=*/false);
  case TensorProto::UINT16:
    return b.getIntegerType(16, /*isSigned=*/false);
  case TensorProto::UINT32:
    return b.getIntegerType(32, /*isSigned=*/false);
  case TensorProto::UINT64:
    return b.getIntegerType(64, /*isSigned=*/false);
  default:
    return {};
  }
}

std::string mlir::tfc::onnx_import::onnxTypeName(int32_t onnxType) {
  // Types newer than Debian's onnx headers (onnx 1.14 to 1.17).
  static const char *const kNewerTypes[] = {
      "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ",
      "UINT4",        "INT4",           "FLOAT4E2M1"};
  if (!TensorProto::DataType_IsValid(onnxType) && onnxType >= 17 && onnxType <= 23)
    return kNewerTypes[onnxType - 17];
  if (TensorProto::DataType_IsValid(onnxType))
    return TensorProto::DataType_Name(
        static_cast<TensorProto::DataType>(onnxType));
  return "data type " + std::to_string(onnxType);
}

std::string mlir::tfc::onnx_import::formatDims(llvm::ArrayRef<int64_t> dims) {
  std::string text = "[";
  for (auto [i, dim] : llvm::enumerate(dims))
    text += (i ? ", " : "") + (ShapedType::isDynamic(dim) ? std::string("?")
                                                          : std::to_string(dim));
  return text + "]";
}

/// Bytes per element in ONNX's raw_data layout (bool is one byte).
static size_t rawElementSize(Type type) {
  return type.isInteger(1) ? 1 : type.getIntOrFloatBitWidth() / 8;
}

/// The number of values in the typed field a tensor of `dataType` uses.
static int64_t typedFieldSize(const TensorProto &tensor) {
  switch (tensor.data_type()) {
  case TensorProto::FLOAT:
    return tensor.float_data_size();
  case TensorProto::DOUBLE:
    return tensor.double_data_size();
  case TensorProto::INT64:
    return tensor.int64_data_size();
  case TensorProto::UINT32:
  case TensorProto::UINT64:
    return tensor.uint64_data_size();
  default:
    return tensor.int32_data_size();
  }
}

/// The tensor's bytes in raw_data layout, converted from the typed field it
/// uses. Returns false (with `error`) when the field has the wrong count;
/// the count is checked before anything is allocated, so dims that promise
/// more values than the file holds cost nothing.
static bool packTypedFields(const TensorProto &tensor, Type elementType,
                            int64_t count, std::vector<char> &bytes,
                            std::string &error) {
  int64_t have = typedFieldSize(tensor);
  if (have != count) {
    error = "holds " + std::to_string(have) + " values for " +
            std::to_string(count) + " elements";
    return false;
  }
  size_t elementSize = rawElementSize(elementType);
  bytes.resize(count * elementSize);
  auto copyNarrowed = [&](const auto &field) {
    for (int64_t i = 0; i < count; ++i) {
      // int32_data and uint64_data hold narrower types (and fp16/bf16 bit
      // patterns) in their low bytes, little-endian.
      uint64_t value = static_cast<uint64_t>(field.Get(i));
      std::memcpy(bytes.data() + i * elementSize, &value, elementSize);
    }
    return true;
  };
  if (bytes.empty())
    return true;
  switch (tensor.data_type()) {
  case TensorProto::FLOAT:
    std::memcpy(bytes.data(), tensor.float_data().data(), bytes.size());
    return true;
  case TensorProto::DOUBLE:
    std::memcpy(bytes.data(), tensor.double_data().data(), bytes.size());
    return true;
  case TensorProto::INT64:
    std::memcpy(bytes.data(), tensor.int64_data().data(), bytes.size());
    return true;
  case TensorProto::UINT32:
  case TensorProto::UINT64:
    return copyNarrowed(tensor.uint64_data());
  default:
    return copyNarrowed(tensor.int32_data());
  }
}

/// A decimal number of external_data (offset, length), or nullopt.
static std::optional<uint64_t> parseByteCount(llvm::StringRef text) {
  uint64_t value;
  if (text.empty() || text.getAsInteger(10, value))
    return std::nullopt;
  return value;
}

/// Locates an external-data tensor's bytes inside its (mapped) file.
static std::optional<llvm::ArrayRef<char>>
findExternalBytes(const TensorProto &tensor, size_t expectedSize,
                  WeightStorage &storage,
                  std::shared_ptr<MappedFile> &file, std::string &error) {
  std::string location;
  uint64_t offset = 0, length = expectedSize;
  bool hasLength = false;
  for (const auto &entry : tensor.external_data()) {
    if (entry.key() == "location") {
      location = entry.value();
    } else if (entry.key() == "offset" || entry.key() == "length") {
      std::optional<uint64_t> value = parseByteCount(entry.value());
      if (!value) {
        error = "has external data " + entry.key() + " '" + entry.value() +
                "', which is not a number of bytes";
        return std::nullopt;
      }
      (entry.key() == "offset" ? offset : length) = *value;
      hasLength |= entry.key() == "length";
    }
  }
  if (location.empty()) {
    error = "is stored externally but names no location";
    return std::nullopt;
  }
  if (hasLength && length != expectedSize) {
    error = "has external data of " + std::to_string(length) +
            " bytes where its type needs " + std::to_string(expectedSize);
    return std::nullopt;
  }
  // One mapping per file, however many tensors it holds.
  std::shared_ptr<MappedFile> &mapped = storage.mappedFiles[location];
  if (!mapped) {
    std::string reason;
    OpenFile opened =
        openRegularFileBeneath(storage.modelDir, location, reason);
    if (opened.fd >= 0)
      mapped = MappedFile::map(opened, reason);
    if (!mapped) {
      error = "has external data in '" + location + "', which " + reason;
      storage.mappedFiles.erase(location);
      return std::nullopt;
    }
  }
  file = mapped;
  llvm::ArrayRef<char> all = mapped->bytes();
  if (offset > all.size() || all.size() - offset < expectedSize) {
    std::string range =
        offset <= UINT64_MAX - expectedSize
            ? "[" + std::to_string(offset) + ", " +
                  std::to_string(offset + expectedSize) + ")"
            : std::to_string(expectedSize) + " at offset " +
                  std::to_string(offset);
    error = "needs bytes " + range + " of '" + location + "', which has " +
            std::to_string(all.size());
    return std::nullopt;
  }
  return all.slice(offset, expectedSize);
}

/// A dense attribute from raw_data-layout bytes (bools are one byte each in
/// ONNX but bit-packed in MLIR's dense storage).
static ElementsAttr makeDense(RankedTensorType type, llvm::ArrayRef<char> bytes) {
  if (type.getElementType().isInteger(1)) {
    llvm::SmallVector<bool> values;
    for (char byte : bytes)
      values.push_back(byte != 0);
    return DenseElementsAttr::get(type, values);
  }
  return DenseElementsAttr::getFromRawBuffer(type, bytes);
}

/// Resource keys print bare in `dense_resource<key>`, so they keep only
/// characters the IR parser reads back there: exporters' names such as
/// `onnx::MatMul_284` become `onnx__MatMul_284`.
static std::string sanitizeBlobName(llvm::StringRef name) {
  std::string key;
  for (char c : name)
    key.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                          c == '.'
                      ? c
                      : '_');
  if (key.empty() || std::isdigit(static_cast<unsigned char>(key[0])))
    key.insert(key.begin(), '_');
  return key;
}

ElementsAttr mlir::tfc::onnx_import::convertTensor(
    const TensorProto &tensor, llvm::StringRef blobName,
    WeightStorage &storage, MLIRContext *context, std::string &error) {
  // 4-bit values (two to a byte in ONNX, the first in the low nibble)
  // become a byte each, INT4's sign-extended: the 4-bit kernels pack them
  // again, and every other op reads them as the 8-bit integers they equal.
  const bool fourBit =
      tensor.data_type() == kOnnxUint4 || tensor.data_type() == kOnnxInt4;
  Type elementType =
      fourBit ? Type(IntegerType::get(context, 8,
                                      tensor.data_type() == kOnnxUint4
                                          ? IntegerType::Unsigned
                                          : IntegerType::Signless))
              : convertElementType(tensor.data_type(), context);
  if (!elementType) {
    error = "has data type " + onnxTypeName(tensor.data_type()) +
            ", which tfc does not support";
    return {};
  }
  llvm::SmallVector<int64_t> shape(tensor.dims().begin(), tensor.dims().end());
  // (A negative dim first: INT64_MIN would pass below as a dynamic one.)
  bool negative = llvm::any_of(shape, [](int64_t d) { return d < 0; });
  std::optional<int64_t> count =
      negative ? std::nullopt : tfm::getCheckedElementCount(shape);
  if (!count) {
    error = "has dims " + formatDims(shape) +
            (negative ? ", one of them negative" : ", whose size overflows");
    return {};
  }
  // Bytes fit too: the bound leaves room for 8-byte elements.
  const int64_t storedCount = fourBit ? *count / 2 + *count % 2 : *count;
  size_t byteSize = storedCount * rawElementSize(elementType);
  auto type = RankedTensorType::get(shape, elementType);

  // Find the bytes: aliased where they already are, packed where not.
  llvm::ArrayRef<char> bytes;
  std::shared_ptr<MappedFile> file;
  std::vector<char> packed;
  if (tensor.data_location() == TensorProto::EXTERNAL) {
    auto external = findExternalBytes(tensor, byteSize, storage, file, error);
    if (!external)
      return {};
    bytes = *external;
  } else if (tensor.has_raw_data()) {
    if (tensor.raw_data().size() != byteSize) {
      error = "has " + std::to_string(tensor.raw_data().size()) +
              " bytes of raw data where its type needs " +
              std::to_string(byteSize);
      return {};
    }
    bytes = {tensor.raw_data().data(), tensor.raw_data().size()};
  } else {
    // (int32_data holds 4-bit values packed a byte to each entry.)
    if (!packTypedFields(tensor, elementType, storedCount, packed, error)) {
      if (fourBit)
        error += " (entries of two 4-bit values each, for " +
                 std::to_string(*count) + " values)";
      return {};
    }
    bytes = packed;
  }
  if (fourBit) {
    std::vector<char> unpacked(*count);
    const bool isSigned = tensor.data_type() == kOnnxInt4;
    for (int64_t i = 0; i < *count; ++i) {
      int value = (static_cast<uint8_t>(bytes[i / 2]) >> (i % 2 ? 4 : 0)) & 15;
      unpacked[i] = static_cast<char>(isSigned && value > 7 ? value - 16 : value);
    }
    packed = std::move(unpacked);
    bytes = packed;
    file.reset();
    storage.fourBitTensors.insert(blobName);
  }

  if (*count <= kMaxInlineElements)
    return makeDense(type, bytes);

  size_t alignment = rawElementSize(elementType);
  bool aliasable = packed.empty() &&
                   reinterpret_cast<uintptr_t>(bytes.data()) % alignment == 0;
  AsmResourceBlob blob;
  if (aliasable) {
    // The deleter holds the storage that owns the bytes: the model for
    // raw_data, the mapping for external data.
    std::shared_ptr<const void> owner =
        file ? std::shared_ptr<const void>(file)
             : std::shared_ptr<const void>(storage.model);
    blob = AsmResourceBlob(
        bytes, alignment,
        [owner](void *, size_t, size_t) mutable { owner.reset(); },
        /*dataIsMutable=*/false);
  } else {
    blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignment,
                                                        /*dataIsMutable=*/false);
  }
  return DenseResourceElementsAttr::get(type, sanitizeBlobName(blobName),
                                        std::move(blob));
}
