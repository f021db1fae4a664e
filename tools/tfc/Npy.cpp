//===- Npy.cpp - reading and writing NumPy .npy files ---------------------===//
//
// The .npy format: a magic string, a version, a header length, and a Python
// dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// padded with spaces and a newline, then the raw data.
//
//===----------------------------------------------------------------------===//

#include "Npy.h"

#include "tfc/Target/ModelSignature.h"

#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mlir::tfc::driver;

static const struct {
  const char *descr;
  int dtype;
} kDescrs[] = {
    {"f4", 1}, {"u1", 2}, {"i1", 3}, {"u2", 4},  {"i2", 5},  {"i4", 6},
    {"i8", 7}, {"b1", 9}, {"f2", 10}, {"f8", 11}, {"u4", 12}, {"u8", 13},
};

int64_t HostTensor::numElements() const {
  int64_t count = 1;
  for (int64_t dim : dims)
    count *= dim;
  return count;
}

std::optional<uint64_t> mlir::tfc::driver::byteSize(llvm::ArrayRef<int64_t> dims,
                                                    int dtype) {
  int64_t bytes = dtypeBytes(dtype), bound = bytes;
  if (bytes == 0)
    return std::nullopt;
  for (int64_t dim : dims) {
    if (dim < 0 || llvm::MulOverflow(bound, std::max<int64_t>(dim, 1), bound))
      return std::nullopt;
    bytes *= dim; // <= bound
  }
  return bytes;
}

unsigned mlir::tfc::driver::dtypeBytes(int dtype) {
  return getOnnxDtypeBytes(dtype);
}

const char *mlir::tfc::driver::dtypeName(int dtype) {
  return getOnnxDtypeName(dtype);
}

/// The value of `key` in the header dict: what follows `'key':` up to the
/// next top-level comma.
static llvm::StringRef dictValue(llvm::StringRef header, llvm::StringRef key) {
  std::string quoted = "'" + key.str() + "'";
  size_t at = header.find(quoted);
  if (at == llvm::StringRef::npos)
    return {};
  llvm::StringRef rest = header.drop_front(at + quoted.size()).ltrim();
  if (!rest.consume_front(":"))
    return {};
  rest = rest.ltrim();
  if (rest.starts_with("(")) {
    size_t close = rest.find(')');
    return close == llvm::StringRef::npos ? llvm::StringRef() : rest.take_front(close + 1);
  }
  return rest.take_until([](char c) { return c == ',' || c == '}'; }).trim();
}

bool mlir::tfc::driver::readNpy(llvm::StringRef path, HostTensor &tensor,
                                std::string &error, uint64_t maxBytes) {
  std::string quoted = "'" + path.str() + "'";
  // O_NONBLOCK: a FIFO must not block the open; only regular files are read
  // (/dev/zero would be read forever).
  int fd = ::open(path.str().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot read " + quoted + ": " + std::strerror(errno);
    return false;
  }
  auto closeFile = llvm::make_scope_exit([&] { ::close(fd); });
  struct stat info;
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    error = "cannot read " + quoted + ": not a regular file";
    return false;
  }
  if ((uint64_t)info.st_size > maxBytes) {
    error = quoted + " has " + std::to_string(info.st_size) +
            " bytes, more than this machine's memory (" +
            std::to_string(maxBytes) + ")";
    return false;
  }
  auto buffer = llvm::MemoryBuffer::getOpenFile(fd, path, info.st_size);
  if (!buffer) {
    error = "cannot read " + quoted + ": " + buffer.getError().message();
    return false;
  }
  return parseNpy((*buffer)->getBuffer(), path, tensor, error);
}

bool mlir::tfc::driver::parseNpy(llvm::StringRef data, llvm::StringRef name,
                                 HostTensor &tensor, std::string &error) {
  std::string quoted = "'" + name.str() + "'";
  if (data.size() < 10 || !data.starts_with("\x93NUMPY")) {
    error = quoted + " is not a .npy file";
    return false;
  }
  unsigned major = (unsigned char)data[6];
  size_t headerLength, headerStart;
  if (major == 1) {
    headerLength = (unsigned char)data[8] | ((unsigned char)data[9] << 8);
    headerStart = 10;
  } else if (major == 2 || major == 3) {
    if (data.size() < 12) {
      error = quoted + " is truncated";
      return false;
    }
    headerLength = (unsigned char)data[8] | ((unsigned char)data[9] << 8) |
                   ((unsigned char)data[10] << 16) |
                   ((size_t)(unsigned char)data[11] << 24);
    headerStart = 12;
  } else {
    error = quoted + " is a .npy file of version " + std::to_string(major) +
            ", which tfc does not read (1 to 3)";
    return false;
  }
  if (data.size() - headerStart < headerLength) {
    error = quoted + " is truncated";
    return false;
  }
  llvm::StringRef header = data.substr(headerStart, headerLength);
  llvm::StringRef descr = dictValue(header, "descr").trim("'\"");
  if (dictValue(header, "fortran_order") == "True") {
    error = quoted + " is in Fortran order; save it in C order";
    return false;
  }
  if (descr.size() != 3 || descr[0] == '>') {
    error = quoted + " has element type '" + descr.str() +
            "'; tfc reads little-endian numbers and bools";
    return false;
  }
  tensor.dtype = 0;
  for (const auto &entry : kDescrs)
    if (descr.drop_front() == entry.descr)
      tensor.dtype = entry.dtype;
  if (!tensor.dtype) {
    error = quoted + " has unsupported element type '" + descr.str() + "'";
    return false;
  }
  llvm::StringRef shape = dictValue(header, "shape").trim("()");
  tensor.dims.clear();
  llvm::SmallVector<llvm::StringRef> parts;
  shape.split(parts, ',', -1, /*KeepEmpty=*/false);
  for (llvm::StringRef part : parts) {
    int64_t dim;
    if (part.trim().getAsInteger(10, dim) || dim < 0) {
      error = quoted + " has a malformed shape '" + shape.str() + "'";
      return false;
    }
    tensor.dims.push_back(dim);
  }
  std::optional<uint64_t> bytes = byteSize(tensor.dims, tensor.dtype);
  if (!bytes) {
    error = quoted + " has shape (" + shape.str() + "), whose size overflows";
    return false;
  }
  llvm::StringRef payload = data.drop_front(headerStart + headerLength);
  if (payload.size() < *bytes) {
    error = quoted + " holds " + std::to_string(payload.size()) +
            " bytes of data; its shape needs " + std::to_string(*bytes);
    return false;
  }
  tensor.bytes.assign(payload.begin(), payload.begin() + *bytes);
  return true;
}

bool mlir::tfc::driver::writeNpy(llvm::StringRef path, const HostTensor &tensor,
                                 std::string &error) {
  const char *descr = nullptr;
  // NumPy has no bfloat16: its bits go out as uint16 (and come back so).
  int dtype = tensor.dtype == 16 ? 4 : tensor.dtype;
  for (const auto &entry : kDescrs)
    if (entry.dtype == dtype)
      descr = entry.descr;
  if (!descr) {
    error = std::string("cannot write element type ") + dtypeName(tensor.dtype) +
            " to .npy";
    return false;
  }
  std::string header = "{'descr': '";
  header += (dtypeBytes(tensor.dtype) == 1 ? "|" : "<");
  header += descr;
  header += "', 'fortran_order': False, 'shape': (";
  for (int64_t dim : tensor.dims)
    header += std::to_string(dim) + (tensor.dims.size() == 1 ? "," : ", ");
  if (tensor.dims.size() > 1)
    header.resize(header.size() - 2);
  header += "), }";
  // Pad so that the data starts at a multiple of 64 bytes.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';

  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    error = "cannot write '" + path.str() + "': " + ec.message();
    return false;
  }
  os << "\x93NUMPY" << char(1) << char(0) << char(header.size() & 0xff)
     << char(header.size() >> 8) << header;
  os.write(reinterpret_cast<const char *>(tensor.bytes.data()), tensor.bytes.size());
  return true;
}

double mlir::tfc::driver::elementAsDouble(const HostTensor &tensor, int64_t i) {
  const uint8_t *p = tensor.bytes.data() + i * dtypeBytes(tensor.dtype);
  auto load = [&](auto value) {
    std::memcpy(&value, p, sizeof(value));
    return static_cast<double>(value);
  };
  switch (tensor.dtype) {
  case 1: return load(float());
  case 2: return load(uint8_t());
  case 3: return load(int8_t());
  case 4: return load(uint16_t());
  case 5: return load(int16_t());
  case 6: return load(int32_t());
  case 7: return load(int64_t());
  case 9: return load(uint8_t());
  case 11: return load(double());
  case 12: return load(uint32_t());
  case 13: return load(uint64_t());
  case 10:
  case 16: {
    uint16_t bits;
    std::memcpy(&bits, p, 2);
    const llvm::fltSemantics &semantics = tensor.dtype == 10
                                              ? llvm::APFloat::IEEEhalf()
                                              : llvm::APFloat::BFloat();
    llvm::APFloat value(semantics, llvm::APInt(16, bits));
    return value.convertToDouble();
  }
  }
  return 0;
}
