//===- Passes.h - tfc graph passes ------------------------------*- C++ -*-===//

#ifndef TFC_TRANSFORMS_PASSES_H
#define TFC_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/Pass.h"
#include "tfm/TfmDialect.h"

namespace mlir::tfc {

#define GEN_PASS_DECL
#include "tfc/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tfc/Transforms/Passes.h.inc"

/// Refines the result types of the tfm ops in `func` and of `func` itself,
/// folding as it goes (what the tfm-refine-shapes pass runs). Fails when an
/// op's operands no longer admit a result type, with the op's diagnostic.
LogicalResult refineShapes(func::FuncOp func);

} // namespace mlir::tfc

#endif // TFC_TRANSFORMS_PASSES_H
