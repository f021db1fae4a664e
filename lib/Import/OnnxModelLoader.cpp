//===- OnnxModelLoader.cpp - libonnx calls that may throw -----------------===//

#include "OnnxModelLoader.h"

#include "onnx/checker.h"
#include "onnx/defs/parser.h"
#include "onnx/defs/schema.h"
#include "onnx/shape_inference/implementation.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstring>

namespace mlir::tfc::onnx_loader {

std::string parseModelText(const std::string &text, onnx::ModelProto &model) {
  try {
    onnx::OnnxParser parser(text.c_str());
    onnx::Status status = parser.Parse(model);
    if (!status.IsOK())
      return "not a valid ONNX text model: " + status.ErrorMessage();
  } catch (const std::exception &e) {
    return std::string("not a valid ONNX text model: ") + e.what();
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
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0)
    return "cannot open the file: " + std::string(std::strerror(errno));
  char head[4096];
  ssize_t headSize = ::pread(fd, head, sizeof(head), 0);
  if (headSize > 0 && looksLikeText(head, headSize)) {
    std::string text;
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

std::string checkModel(const onnx::ModelProto &model,
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

std::string inferShapes(onnx::ModelProto &model) {
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
