//===- CpuDialect.h - the CPU target's kernel-call ops ----------*- C++ -*-===//

#ifndef TFC_TARGET_CPU_CPUDIALECT_H
#define TFC_TARGET_CPU_CPUDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "tfc/Target/Cpu/CpuDialect.h.inc"

#define GET_OP_CLASSES
#include "tfc/Target/Cpu/CpuOps.h.inc"

#endif // TFC_TARGET_CPU_CPUDIALECT_H
