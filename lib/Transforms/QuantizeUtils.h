//===- QuantizeUtils.h - what the reduction passes share ---------*- C++ -*-===//
//
// Layer names (how reports and budgets name a linear) and the rounding of
// f32 weights to int8, shared by the quantization pass and the importer's
// quantized forms.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_LIB_TRANSFORMS_QUANTIZEUTILS_H
#define TFC_LIB_TRANSFORMS_QUANTIZEUTILS_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"

#include <string>

namespace mlir::tfc {

/// The deepest reduction an int8 linear takes: 255 x 128 x K must stay
/// below 2^31 with room for the zero-point corrections
/// (TFC_RT_Q8_MAX_DEPTH).
constexpr int64_t kMaxQuantizedDepth = 32768;

/// How reports and the error budget name a layer: the ONNX node name its
/// op came from (a fused linear's is its MatMul's), or "(unnamed <op>)".
std::string getLayerName(Operation *op);

/// A weight rounded to int8.
struct QuantizedWeight {
  Value values; // i8 [K, N]
  Value scales; // f32 [N]
};

/// `weight` (a constant f32 [K, N]) as symmetric int8 with one scale per
/// column (max |w| / 127, 1 for an all-zero column), rounded to nearest
/// even; new constants named after the weight's blob. Fails when `weight`
/// is not such a constant.
FailureOr<QuantizedWeight> quantizeWeightPerChannel(OpBuilder &b, Location loc,
                                                    Value weight);

} // namespace mlir::tfc

#endif // TFC_LIB_TRANSFORMS_QUANTIZEUTILS_H
