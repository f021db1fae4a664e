//===- Passes.h - tfc conversion passes -------------------------*- C++ -*-===//

#ifndef TFC_CONVERSION_PASSES_H
#define TFC_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
class TypeConverter;
} // namespace mlir

namespace mlir::tfc {

#define GEN_PASS_DECL
#include "tfc/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tfc/Conversion/Passes.h.inc"

/// Adds the patterns that rewrite each tfm op into linalg, tensor, arith and
/// math ops on tensors. `converter` maps tfm's types to signless ones.
void populateTfmToLinalgPatterns(TypeConverter &converter,
                                 RewritePatternSet &patterns);

} // namespace mlir::tfc

#endif // TFC_CONVERSION_PASSES_H
