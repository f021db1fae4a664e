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

#include "mlir/IR/AsmState.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/Path.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mlir;
using namespace mlir::tfc::onnx_import;
using onnx::TensorProto;

namespace mlir::tfc::onnx_import {
class MappedFile {
public:
  static std::shared_ptr<MappedFile> open(const std::string &path,
                                          std::string &error) {
    int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) {
      error = "cannot open external data file '" + path +
              "': " + std::strerror(errno);
      return nullptr;
    }
    struct stat info;
    if (::fstat(fd, &info) != 0) {
      error = "cannot stat external data file '" + path + "'";
      ::close(fd);
      return nullptr;
    }
    size_t size = info.st_size;
    void *data = nullptr;
    if (size > 0) {
      data = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      if (data == MAP_FAILED) {
        error = "cannot map external data file '" + path + "'";
        ::close(fd);
        return nullptr;
      }
    }
    ::close(fd);
    return std::shared_ptr<MappedFile>(new MappedFile(data, size));
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
  if (TensorProto::DataType_IsValid(onnxType))
    return TensorProto::DataType_Name(
        static_cast<TensorProto::DataType>(onnxType));
  return "data type " + std::to_string(onnxType);
}

/// Bytes per element in ONNX's raw_data layout (bool is one byte).
static size_t rawElementSize(Type type) {
  return type.isInteger(1) ? 1 : type.getIntOrFloatBitWidth() / 8;
}

/// The tensor's bytes in raw_data layout, converted from the typed field it
/// uses. Returns false (with `error`) when the field has the wrong count.
static bool packTypedFields(const TensorProto &tensor, Type elementType,
                            int64_t count, std::vector<char> &bytes,
                            std::string &error) {
  size_t elementSize = rawElementSize(elementType);
  bytes.resize(count * elementSize);
  auto checkCount = [&](int64_t have) {
    if (have == count)
      return true;
    error = "holds " + std::to_string(have) + " values for " +
            std::to_string(count) + " elements";
    return false;
  };
  auto copyNarrowed = [&](const auto &field) {
    if (!checkCount(field.size()))
      return false;
    for (int64_t i = 0; i < count; ++i) {
      // int32_data and uint64_data hold narrower types (and fp16/bf16 bit
      // patterns) in their low bytes, little-endian.
      uint64_t value = static_cast<uint64_t>(field.Get(i));
      std::memcpy(bytes.data() + i * elementSize, &value, elementSize);
    }
    return true;
  };
  switch (tensor.data_type()) {
  case TensorProto::FLOAT:
    if (!checkCount(tensor.float_data_size()))
      return false;
    std::memcpy(bytes.data(), tensor.float_data().data(), bytes.size());
    return true;
  case TensorProto::DOUBLE:
    if (!checkCount(tensor.double_data_size()))
      return false;
    std::memcpy(bytes.data(), tensor.double_data().data(), bytes.size());
    return true;
  case TensorProto::INT64:
    if (!checkCount(tensor.int64_data_size()))
      return false;
    std::memcpy(bytes.data(), tensor.int64_data().data(), bytes.size());
    return true;
  case TensorProto::UINT32:
  case TensorProto::UINT64:
    return copyNarrowed(tensor.uint64_data());
  default:
    return copyNarrowed(tensor.int32_data());
  }
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
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset")
      offset = std::strtoull(entry.value().c_str(), nullptr, 10);
    else if (entry.key() == "length") {
      length = std::strtoull(entry.value().c_str(), nullptr, 10);
      hasLength = true;
    }
  }
  if (location.empty()) {
    error = "is stored externally but names no location";
    return std::nullopt;
  }
  if (llvm::sys::path::is_absolute(location) ||
      llvm::StringRef(location).contains("..")) {
    error = "has external data location '" + location +
            "', which is not a path below the model's folder";
    return std::nullopt;
  }
  llvm::SmallString<256> path(storage.modelDir);
  llvm::sys::path::append(path, location);
  std::shared_ptr<MappedFile> &mapped = storage.mappedFiles[path];
  if (!mapped) {
    mapped = MappedFile::open(path.str().str(), error);
    if (!mapped)
      return std::nullopt;
  }
  file = mapped;
  if (hasLength && length != expectedSize) {
    error = "has external data of " + std::to_string(length) +
            " bytes where its type needs " + std::to_string(expectedSize);
    return std::nullopt;
  }
  llvm::ArrayRef<char> all = mapped->bytes();
  if (offset > all.size() || all.size() - offset < expectedSize) {
    error = "needs bytes [" + std::to_string(offset) + ", " +
            std::to_string(offset + expectedSize) + ") of '" + location +
            "', which has " + std::to_string(all.size());
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
  Type elementType = convertElementType(tensor.data_type(), context);
  if (!elementType) {
    error = "has data type " + onnxTypeName(tensor.data_type()) +
            ", which tfc does not support";
    return {};
  }
  llvm::SmallVector<int64_t> shape;
  int64_t count = 1;
  for (int64_t dim : tensor.dims()) {
    if (dim < 0) {
      error = "has a negative dim";
      return {};
    }
    shape.push_back(dim);
    count *= dim;
  }
  auto type = RankedTensorType::get(shape, elementType);
  size_t byteSize = count * rawElementSize(elementType);

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
    if (!packTypedFields(tensor, elementType, count, packed, error))
      return {};
    bytes = packed;
  }

  if (count <= kMaxInlineElements)
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
