//===- ModelFiles.h - opening the files a model names -----------*- C++ -*-===//
//
// A model file comes from anywhere, and so do the external-data locations
// written in it. These helpers open only regular files (a FIFO or a device
// would block the import or feed it endless bytes, a directory is not a
// model), and resolve an external-data location below the model's folder
// the way openat2's RESOLVE_BENEATH does: component by component, never
// following a symbolic link or `..` out of the folder.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_LIB_IMPORT_MODELFILES_H
#define TFC_LIB_IMPORT_MODELFILES_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace mlir::tfc::onnx_import {

/// An open regular file: its descriptor (owned) and size.
struct OpenFile {
  int fd = -1;
  uint64_t size = 0;
};

/// Opens `path` for reading if it is a regular file (symbolic links in the
/// path are followed: the user named it). On failure returns an OpenFile
/// with fd -1 and sets `error` to a sentence about the file.
OpenFile openRegularFile(const std::string &path, std::string &error);

/// Opens `location`, relative to the directory `folder`, if it resolves to a
/// regular file inside `folder`: absolute locations, `..` above the folder
/// and symbolic links that lead out of it are refused; links that stay
/// inside are followed.
OpenFile openRegularFileBeneath(const std::string &folder,
                                llvm::StringRef location, std::string &error);

} // namespace mlir::tfc::onnx_import

#endif // TFC_LIB_IMPORT_MODELFILES_H
