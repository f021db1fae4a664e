//===- Passes.h - the CPU target's passes -----------------------*- C++ -*-===//

#ifndef TFC_TARGET_CPU_PASSES_H
#define TFC_TARGET_CPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "tfc/Target/Cpu/CpuDialect.h"

namespace mlir::tfc::cpu {

#define GEN_PASS_DECL
#include "tfc/Target/Cpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tfc/Target/Cpu/Passes.h.inc"

} // namespace mlir::tfc::cpu

#endif // TFC_TARGET_CPU_PASSES_H
