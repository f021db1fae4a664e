#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
