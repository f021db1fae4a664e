//===- ModelFiles.cpp - opening the files a model names -------------------===//

#include "ModelFiles.h"

#include "llvm/ADT/SmallVector.h"

#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace mlir::tfc::onnx_import;

namespace {

/// Closes the descriptors it holds when it goes out of scope.
struct Descriptors {
  llvm::SmallVector<int> fds;
  ~Descriptors() {
    for (int fd : fds)
      ::close(fd);
  }
};

/// Checks that `fd` (just opened, not blocking) is a regular file, and
/// makes its reads blocking again. Closes it and sets `error` (a predicate:
/// "is a FIFO, ...") if not.
OpenFile acceptRegular(int fd, std::string &error) {
  struct stat info;
  if (::fstat(fd, &info) != 0) {
    error = "cannot be examined: " + std::string(std::strerror(errno));
    ::close(fd);
    return {};
  }
  if (!S_ISREG(info.st_mode)) {
    const char *kind = S_ISDIR(info.st_mode)    ? "a directory"
                       : S_ISFIFO(info.st_mode) ? "a FIFO"
                       : S_ISCHR(info.st_mode) || S_ISBLK(info.st_mode)
                           ? "a device"
                           : "a socket or other special file";
    error = std::string("is ") + kind + ", not a regular file";
    ::close(fd);
    return {};
  }
  int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0)
    (void)::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
  return {fd, static_cast<uint64_t>(info.st_size)};
}

void splitPath(llvm::StringRef path, std::deque<std::string> &parts,
               bool atFront) {
  llvm::SmallVector<llvm::StringRef> pieces;
  path.split(pieces, '/', -1, /*KeepEmpty=*/false);
  if (atFront)
    parts.insert(parts.begin(), pieces.begin(), pieces.end());
  else
    parts.insert(parts.end(), pieces.begin(), pieces.end());
}

} // namespace

OpenFile mlir::tfc::onnx_import::openRegularFile(const std::string &path,
                                                 std::string &error) {
  // O_NONBLOCK: opening a FIFO for reading would wait for a writer.
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open the file: " + std::string(std::strerror(errno));
    return {};
  }
  OpenFile file = acceptRegular(fd, error);
  if (file.fd < 0)
    error = "the file " + error;
  return file;
}

OpenFile mlir::tfc::onnx_import::openRegularFileBeneath(
    const std::string &folder, llvm::StringRef location, std::string &error) {
  if (location.starts_with("/")) {
    error = "is an absolute path, not one below the model's folder";
    return {};
  }
  Descriptors open;
  int root = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) {
    error = "cannot be opened: the model's folder '" + folder +
            "' cannot: " + std::strerror(errno);
    return {};
  }
  // open.fds is the chain of directories from the folder to where the walk
  // is; `..` pops one, and may not pop the folder itself.
  open.fds.push_back(root);
  std::deque<std::string> pending;
  splitPath(location, pending, /*atFront=*/false);
  int links = 0;
  while (!pending.empty()) {
    std::string part = pending.front();
    pending.pop_front();
    if (part == ".")
      continue;
    if (part == "..") {
      if (open.fds.size() == 1) {
        error = "leads out of the model's folder";
        return {};
      }
      ::close(open.fds.pop_back_val());
      continue;
    }
    bool last = pending.empty();
    int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
                (last ? O_NONBLOCK : O_DIRECTORY);
    int fd = ::openat(open.fds.back(), part.c_str(), flags);
    if (fd >= 0) {
      if (last)
        return acceptRegular(fd, error);
      open.fds.push_back(fd);
      continue;
    }
    int openError = errno;
    // O_NOFOLLOW refuses a symbolic link (ELOOP, or ENOTDIR for a link
    // opened as a directory): follow it here, where `..` and absolute
    // targets are seen.
    char target[PATH_MAX];
    ssize_t length = -1;
    if (openError == ELOOP || openError == ENOTDIR)
      length = ::readlinkat(open.fds.back(), part.c_str(), target,
                            sizeof(target) - 1);
    if (length < 0) {
      error = "cannot be opened: " + std::string(std::strerror(openError));
      return {};
    }
    if (++links > 40) {
      error = "has too many levels of symbolic links";
      return {};
    }
    llvm::StringRef link(target, length);
    if (link.starts_with("/")) {
      error = "leads through a symbolic link to '" + link.str() +
              "', outside the model's folder";
      return {};
    }
    splitPath(link, pending, /*atFront=*/true);
  }
  // Only `.` and `..` parts: the walk ended on a directory.
  error = "is a directory, not a regular file";
  return {};
}
