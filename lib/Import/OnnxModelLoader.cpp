//===- OnnxModelLoader.cpp - libonnx calls that may throw -----------------===//

#include "OnnxModelLoader.h"
#include "ModelFiles.h"

#include "onnx/checker.h"
#include "onnx/defs/parser.h"
#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"

#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

namespace mlir::tfc::onnx_loader {

/// libonnx's parse errors quote the whole line they stopped in, which in a
/// one-line model is the whole model: keep the part around the column.
static std::string shortenParseError(const std::string &message) {
  static constexpr size_t kBefore = 80, kAfter = 40;
  size_t columnAt = message.find("column: ");
  size_t column = columnAt == std::string::npos
                      ? 0
                      : std::strtoull(message.c_str() + columnAt + 8, nullptr, 10);
  std::string result;
  size_t start = 0;
  while (start <= message.size()) {
    size_t end = message.find('\n', start);
    if (end == std::string::npos)
      end = message.size();
    std::string line = message.substr(start, end - start);
    static constexpr char kContext[] = "Error context: ";
    if (line.size() > kBefore + kAfter + sizeof(kContext) &&
        line.rfind(kContext, 0) == 0) {
      std::string text = line.substr(sizeof(kContext) - 1);
      size_t at = column ? std::min(column - 1, text.size()) : 0;
      size_t from = at > kBefore ? at - kBefore : 0;
      size_t to = std::min(text.size(), at + kAfter);
      line = kContext + std::string(from ? "..." : "") +
             text.substr(from, to - from) + (to < text.size() ? "..." : "");
    }
    result += line;
    if (end == message.size())
      break;
    result += '\n';
    start = end + 1;
  }
  return result;
}

std::string parseModelText(const std::string &text, onnx::ModelProto &model) {
  try {
    onnx::OnnxParser parser(text.c_str());
    onnx::Status status = parser.Parse(model);
    if (!status.IsOK())
      return "not a valid ONNX text model: " +
             shortenParseError(status.ErrorMessage());
  } catch (const std::out_of_range &) {
    // The parser reads numbers with std::stoll and friends.
    return "not a valid ONNX text model: a number in it is out of range "
           "(integers must fit in 64 bits)";
  } catch (const std::invalid_argument &) {
    return "not a valid ONNX text model: a number in it does not parse";
  } catch (const std::exception &e) {
    return "not a valid ONNX text model: " + shortenParseError(e.what());
  }
  return {};
}

/// ONNX text starts with `<` (the model header) or a `#` comment; a binary
/// ModelProto never does: those bytes would be group tags, which ONNX's
/// schema does not use.
static bool looksLikeText(const char *data, size_t size) {
  for (size_t i = 0; i < size; ++i)
    if (!std::isspace(static_cast<unsigned char>(data[i])))
      return data[i] == '<' || data[i] == '#';
  return false;
}

std::string readModel(const std::string &path, onnx::ModelProto &model) {
  std::string error;
  onnx_import::OpenFile file = onnx_import::openRegularFile(path, error);
  if (file.fd < 0)
    return error;
  int fd = file.fd;
  char head[4096];
  ssize_t headSize = ::pread(fd, head, sizeof(head), 0);
  if (headSize > 0 && looksLikeText(head, headSize)) {
    std::string text;
    text.reserve(file.size);
    char buffer[1 << 16];
    ssize_t n;
    while ((n = ::read(fd, buffer, sizeof(buffer))) > 0)
      text.append(buffer, n);
    ::close(fd);
    return parseModelText(text, model);
  }
  // Parsing straight from the descriptor keeps one copy of the weights in
  // memory: the protobuf's own strings, which the importer then aliases.
  bool parsed = model.ParseFromFileDescriptor(fd);
  ::close(fd);
  if (!parsed)
    return "not a valid ONNX model: the protobuf does not parse (is the file "
           "truncated, or not an .onnx file?)";
  if (!model.has_graph())
    return "not a valid ONNX model: it has no graph";
  return {};
}

static std::string checkModel(const onnx::ModelProto &model,
                              const std::string &modelDir) {
  try {
    onnx::checker::CheckerContext context;
    context.set_ir_version(static_cast<int>(model.ir_version()));
    std::unordered_map<std::string, int> opsets;
    for (const auto &opset : model.opset_import())
      opsets[opset.domain()] = static_cast<int>(opset.version());
    context.set_opset_imports(opsets);
    context.set_model_dir(modelDir);
    onnx::checker::LexicalScopeContext scope;
    onnx::checker::check_graph(model.graph(), context, scope);
  } catch (const std::exception &e) {
    return e.what();
  }
  return {};
}

static std::string inferShapes(onnx::ModelProto &model) {
  try {
    onnx::ShapeInferenceOptions options(/*check_type=*/false,
                                        /*strict_mode=*/0,
                                        /*data_prop=*/true);
    onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                       options);
  } catch (const std::exception &e) {
    return e.what();
  }
  return {};
}

namespace {

/// The child's answer travels as records: a tag byte, a 64-bit length and
/// that many bytes.
enum RecordTag : char {
  kCheckerRecord = 'C',
  kWarningRecord = 'W',
  kTypesRecord = 'T',
};

bool writeAll(int fd, const char *data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return false;
    data += n;
    size -= n;
  }
  return true;
}

bool writeRecord(int fd, RecordTag tag, const std::string &bytes) {
  uint64_t size = bytes.size();
  char header[9];
  header[0] = tag;
  std::memcpy(header + 1, &size, sizeof(size));
  return writeAll(fd, header, sizeof(header)) &&
         writeAll(fd, bytes.data(), bytes.size());
}

/// The child: checker, then inference on its copy of the model, then the
/// inferred types. Never returns.
[[noreturn]] void runInChild(int fd, onnx::ModelProto &model,
                             const std::string &modelDir) {
  // A crash here is the parent's to report: not with LLVM's stack dump (or
  // a sanitizer's) that the handlers inherited from it would print.
  for (int signal : {SIGSEGV, SIGFPE, SIGBUS, SIGILL, SIGABRT, SIGTRAP})
    ::signal(signal, SIG_DFL);
  std::string checkerError = checkModel(model, modelDir);
  bool ok = writeRecord(fd, kCheckerRecord, checkerError);
  if (ok && checkerError.empty()) {
    std::string warning = inferShapes(model);
    onnx::GraphProto types;
    *types.mutable_value_info() = model.graph().value_info();
    *types.mutable_output() = model.graph().output();
    std::string bytes;
    ok = writeRecord(fd, kWarningRecord, warning) &&
         types.SerializeToString(&bytes) &&
         writeRecord(fd, kTypesRecord, bytes);
  }
  ::close(fd);
  ::_exit(ok ? 0 : 1);
}

std::string describeStatus(int status) {
  if (WIFSIGNALED(status))
    return std::string("crashed (") + ::strsignal(WTERMSIG(status)) + ")";
  return "failed (exit status " + std::to_string(WEXITSTATUS(status)) + ")";
}

} // namespace

LibonnxVerdict checkAndInferShapes(onnx::ModelProto &model,
                                   const std::string &modelDir) {
  LibonnxVerdict verdict;
  int fds[2];
  pid_t child = -1;
  if (::pipe2(fds, O_CLOEXEC) == 0) {
    child = ::fork();
    if (child == 0) {
      ::close(fds[0]);
      runInChild(fds[1], model, modelDir);
    }
    ::close(fds[1]);
    if (child < 0)
      ::close(fds[0]);
  }
  if (child < 0) {
    // No process to spare: run here.
    verdict.checkerError = checkModel(model, modelDir);
    if (verdict.checkerError.empty())
      verdict.inferenceWarning = inferShapes(model);
    return verdict;
  }

  std::string answer;
  char buffer[1 << 16];
  for (;;) {
    ssize_t n = ::read(fds[0], buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    answer.append(buffer, n);
  }
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }

  bool checked = false, inferred = false;
  for (size_t at = 0; at + 9 <= answer.size();) {
    char tag = answer[at];
    uint64_t size;
    std::memcpy(&size, answer.data() + at + 1, sizeof(size));
    at += 9;
    if (size > answer.size() - at)
      break;
    std::string bytes = answer.substr(at, size);
    at += size;
    if (tag == kCheckerRecord) {
      verdict.checkerError = bytes;
      checked = true;
    } else if (tag == kWarningRecord) {
      verdict.inferenceWarning = bytes;
    } else if (tag == kTypesRecord) {
      onnx::GraphProto types;
      if (!types.ParseFromString(bytes))
        break;
      model.mutable_graph()->mutable_value_info()->Swap(
          types.mutable_value_info());
      // Outputs: only their types, and only when they are the same list.
      auto *outputs = model.mutable_graph()->mutable_output();
      if (types.output_size() == outputs->size())
        for (int i = 0; i < outputs->size(); ++i)
          if (types.output(i).name() == outputs->at(i).name())
            *outputs->Mutable(i)->mutable_type() = types.output(i).type();
      inferred = true;
    }
  }
  if (!checked)
    verdict.checkerError = "libonnx's checker " + describeStatus(status) +
                           " on this model (run with --no-onnx-checker to "
                           "skip it)";
  else if (verdict.checkerError.empty() && !inferred)
    verdict.inferenceWarning = "libonnx " + describeStatus(status) +
                               " in it; tfc infers the shapes itself";
  return verdict;
}

int newestKnownOpset() {
  const auto &map = onnx::OpSchemaRegistry::DomainToVersionRange::Instance().Map();
  auto it = map.find(onnx::ONNX_DOMAIN);
  return it == map.end() ? 0 : it->second.second;
}

int opDefinitionSince(const std::string &opType, int opset) {
  const onnx::OpSchema *schema =
      onnx::OpSchemaRegistry::Schema(opType, opset, onnx::ONNX_DOMAIN);
  return schema ? schema->since_version() : -1;
}

} // namespace mlir::tfc::onnx_loader
