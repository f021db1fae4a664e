//===- TfmDialect.cpp - the tfm dialect -----------------------------------===//

#include "tfm/TfmDialect.h"
#include "tfm/TfmOps.h"

#include "llvm/Support/FormatVariadic.h"

using namespace mlir;
using namespace mlir::tfm;

#include "tfm/TfmDialect.cpp.inc"

void TfmDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "tfm/TfmOps.cpp.inc"
      >();
}

Operation *TfmDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return builder.create<ConstantOp>(loc, type, elements);
}

llvm::SmallVector<std::string> mlir::tfm::getNodeNames(Location loc) {
  llvm::SmallVector<std::string> names;
  loc->walk([&](Location inner) {
    if (auto named = dyn_cast<NameLoc>(inner)) {
      std::string name = named.getName().str();
      if (!llvm::is_contained(names, name))
        names.push_back(name);
      return WalkResult::skip();
    }
    return WalkResult::advance();
  });
  return names;
}

std::string mlir::tfm::describeNodes(Location loc) {
  llvm::SmallVector<std::string> nodes = getNodeNames(loc);
  if (nodes.empty())
    return {};
  // Control characters in a name (an escape sequence) must not reach the
  // terminal of whoever reads the message.
  auto printable = [](llvm::StringRef name) {
    std::string result;
    for (unsigned char c : name) {
      if (c < 0x20 || c == 0x7f)
        result += llvm::formatv("\\x{0:x-2}", c).str();
      else
        result.push_back(c);
    }
    return result;
  };
  std::string text = nodes.size() == 1 ? "node " : "nodes ";
  for (auto [i, node] : llvm::enumerate(nodes))
    text += (i ? ", '" : "'") + printable(node) + "'";
  return text;
}
