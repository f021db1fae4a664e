//===- TfmDialect.cpp - the tfm dialect -----------------------------------===//

#include "tfm/TfmDialect.h"
#include "tfm/TfmOps.h"

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
  std::string text = nodes.size() == 1 ? "node " : "nodes ";
  for (auto [i, node] : llvm::enumerate(nodes))
    text += (i ? ", '" : "'") + node + "'";
  return text;
}
