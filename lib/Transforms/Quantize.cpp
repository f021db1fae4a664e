//===- Quantize.cpp - the tfm-quantize pass -------------------------------===//
//
// Rewrites linears by constant f32 weights into tfm.quantized_linear with
// int8 weights, one symmetric scale per output channel. The rounding
// happens here, at compile time, so the model ships the int8 weights only
// (a quarter of the f32 bytes); the target packs them for its dot product.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Passes.h"

#include "FusionUtils.h"
#include "QuantizeUtils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "tfm/TfmOps.h"
#include "llvm/ADT/StringSet.h"

#include <cmath>

namespace mlir::tfc {
#define GEN_PASS_DEF_QUANTIZE
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// What one linear is, whether tfm.linear or a bare tfm.matmul by a matrix.
struct LinearParts {
  Value input, weight, bias, residual;
  StringRef activation = "none";
};

std::optional<LinearParts> getLinearParts(Operation *op) {
  if (auto linear = dyn_cast<tfm::LinearOp>(op))
    return LinearParts{linear.getInput(), linear.getWeight(), linear.getBias(),
                       linear.getResidual(), linear.getActivation()};
  if (auto matmul = dyn_cast<tfm::MatMulOp>(op))
    if (cast<RankedTensorType>(matmul.getRhs().getType()).getRank() == 2 &&
        cast<RankedTensorType>(matmul.getLhs().getType()).getRank() >= 2 &&
        matchPattern(matmul.getRhs(), m_Constant()))
      return LinearParts{matmul.getLhs(), matmul.getRhs(), {}, {}, "none"};
  return std::nullopt;
}

struct QuantizePass : public tfc::impl::QuantizeBase<QuantizePass> {
  using QuantizeBase::QuantizeBase;

  void runOnOperation() override {
    if (mode != "int8") {
      getOperation().emitError() << "tfm-quantize: unknown mode '" << mode
                                 << "' (int8)";
      return signalPassFailure();
    }
    llvm::StringSet<> kept;
    for (const std::string &name : keep)
      kept.insert(name);
    SmallVector<Operation *> candidates;
    getOperation().walk([&](Operation *op) {
      if (getLinearParts(op))
        candidates.push_back(op);
    });
    for (Operation *op : candidates) {
      std::string name = getLayerName(op);
      if (kept.contains(name)) {
        remark(op, "kept f32: " + name + ": kept by the error budget");
        continue;
      }
      std::string reason = quantize(op, *getLinearParts(op));
      if (!reason.empty())
        remark(op, "kept f32: " + name + ": " + reason);
    }
  }

  void remark(Operation *op, const Twine &text) {
    if (emitRemarks)
      op->emitRemark(text);
  }

  /// Rewrites `op`; returns why it did not, or "".
  std::string quantize(Operation *op, const LinearParts &parts) {
    auto inputType = cast<RankedTensorType>(parts.input.getType());
    auto weightType = cast<RankedTensorType>(parts.weight.getType());
    if (!inputType.getElementType().isF32() ||
        !weightType.getElementType().isF32())
      return "not an f32 linear";
    if (weightType.getRank() != 2 || !weightType.hasStaticShape())
      return "the weight is not a matrix of static shape";
    int64_t depth = weightType.getDimSize(0), cols = weightType.getDimSize(1);
    if (depth > kMaxQuantizedDepth)
      return "K = " + std::to_string(depth) + " exceeds " +
             std::to_string(kMaxQuantizedDepth) +
             " (its 32-bit sums could overflow)";
    OpBuilder b(op);
    Location loc = op->getLoc();
    FailureOr<QuantizedWeight> quantized =
        quantizeWeightPerChannel(b, loc, parts.weight);
    if (failed(quantized))
      return "the weight is not a constant";
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    auto fused = b.create<tfm::QuantizedLinearOp>(
        loc, resultType, parts.input, quantized->values, quantized->scales,
        /*weight_zero_point=*/Value(), parts.bias, parts.residual,
        /*input_scale=*/Value(), /*input_zero_point=*/Value(),
        b.getStringAttr(parts.activation), b.getStringAttr("row"));
    op->getResult(0).replaceAllUsesWith(fused.getResult());
    Value weight = parts.weight;
    op->erase();
    if (weight.use_empty())
      weight.getDefiningOp()->erase();
    ++numQuantized;
    remark(fused, "quantized: " + getLayerName(fused) + ": int8 weights " +
                      Twine(depth) + "x" + Twine(cols) +
                      " per channel, activations per row");
    return "";
  }
};

} // namespace

std::string mlir::tfc::getLayerName(Operation *op) {
  // The first ONNX node name in the op's location: a fused op's locations
  // start with its anchor's (the MatMul of a linear).
  std::string name;
  op->getLoc()->walk([&](Location loc) {
    if (auto named = dyn_cast<NameLoc>(loc)) {
      name = named.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name.empty() ? "(unnamed " + op->getName().getStringRef().str() + ")"
                      : name;
}

FailureOr<QuantizedWeight>
mlir::tfc::quantizeWeightPerChannel(OpBuilder &b, Location loc, Value weight) {
  auto type = cast<RankedTensorType>(weight.getType());
  std::optional<SmallVector<float>> values = getConstantFloats(weight);
  if (!values)
    return failure();
  int64_t depth = type.getDimSize(0), cols = type.getDimSize(1);
  SmallVector<float> scales(cols, 0.0f);
  for (int64_t k = 0; k < depth; ++k)
    for (int64_t j = 0; j < cols; ++j)
      scales[j] = std::max(scales[j], std::fabs((*values)[k * cols + j]));
  for (float &scale : scales)
    scale = scale > 0.0f && std::isfinite(scale) ? scale / 127.0f : 1.0f;
  SmallVector<char> quantized(depth * cols);
  for (int64_t k = 0; k < depth; ++k)
    for (int64_t j = 0; j < cols; ++j) {
      float q = std::nearbyint((*values)[k * cols + j] / scales[j]);
      quantized[k * cols + j] =
          static_cast<char>(std::clamp(q, -127.0f, 127.0f));
    }
  std::string name = "quantized_weight";
  Attribute attr;
  if (matchPattern(weight, m_Constant(&attr)))
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
      name = resource.getRawHandle().getKey().str();
  QuantizedWeight result;
  result.values = createWeightConstant(
      b, loc, RankedTensorType::get({depth, cols}, b.getIntegerType(8)),
      quantized, name + ".int8");
  result.scales = createWeightConstant(
      b, loc, RankedTensorType::get({cols}, b.getF32Type()),
      ArrayRef<char>(reinterpret_cast<const char *>(scales.data()),
                     scales.size() * sizeof(float)),
      name + ".scale");
  return result;
}
