//===- TfmDialect.h - the tfm dialect ---------------------------*- C++ -*-===//

#ifndef TFM_TFMDIALECT_H
#define TFM_TFMDIALECT_H

#include "mlir/IR/Dialect.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/SmallVector.h"

#include <string>

#include "tfm/TfmDialect.h.inc"

namespace mlir::tfm {

/// The ONNX node names in `loc`, in order and without repeats: the importer
/// gives each op its node's name (a NameLoc), and an op fused from several
/// nodes, or lowered from one, carries each of their locations.
llvm::SmallVector<std::string> getNodeNames(Location loc);

/// "node 'a'" or "nodes 'a', 'b'" for the node names in `loc`, as run-time
/// and compile-time messages name them; "" when it has none.
std::string describeNodes(Location loc);

} // namespace mlir::tfm

#endif // TFM_TFMDIALECT_H
