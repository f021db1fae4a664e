//===- TfmDialect.h - the tfm dialect ---------------------------*- C++ -*-===//

#ifndef TFM_TFMDIALECT_H
#define TFM_TFMDIALECT_H

#include "mlir/IR/Dialect.h"

#include "tfm/TfmDialect.h.inc"

#endif // TFM_TFMDIALECT_H
