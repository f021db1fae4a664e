//===- Quantize.cpp - the tfm-quantize pass -------------------------------===//
//
// Rewrites linears by constant f32 weights into tfm.quantized_linear with
// int8 weights, one symmetric scale per output channel. The rounding
// happens here, at compile time, so the model ships the int8 weights only
// (a quarter of the f32 bytes); the target packs them for its dot product.
// What is quantizable and how weights round is QuantizationUtils.cpp's, shared
// with the drivers that measure the error.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Passes.h"

#include "tfc/Transforms/Quantization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "tfm/TfmOps.h"
#include "llvm/ADT/StringSet.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_QUANTIZE
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

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
    for (Operation *op : getLinears(getOperation())) {
      std::string name = getLayerName(op);
      if (kept.contains(name)) {
        remark(op, "kept f32: " + name + ": kept by the error budget");
        continue;
      }
      if (std::string reason = whyNotQuantizable(op); !reason.empty()) {
        remark(op, "kept f32: " + name + ": " + reason);
        continue;
      }
      quantize(op, *getLinearParts(op));
    }
  }

  void remark(Operation *op, const Twine &text) {
    if (emitRemarks)
      op->emitRemark(text);
  }

  /// Rewrites `op`, a quantizable linear.
  void quantize(Operation *op, const LinearParts &parts) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    FailureOr<QuantizedWeight> quantized =
        quantizeWeightPerChannel(b, loc, parts.weight);
    if (failed(quantized))
      return; // whyNotQuantizable read the same constant
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    auto fused = b.create<tfm::QuantizedLinearOp>(
        loc, resultType, parts.input, quantized->values, quantized->scales,
        /*weight_zero_point=*/Value(), parts.bias, parts.residual,
        /*input_scale=*/Value(), /*input_zero_point=*/Value(),
        b.getStringAttr(parts.activation), b.getStringAttr("row"));
    op->getResult(0).replaceAllUsesWith(fused.getResult());
    Value weight = parts.weight;
    auto weightType = cast<RankedTensorType>(weight.getType());
    op->erase();
    if (weight.use_empty())
      weight.getDefiningOp()->erase();
    ++numQuantized;
    remark(fused, "quantized: " + getLayerName(fused) + ": int8 weights " +
                      Twine(weightType.getDimSize(0)) + "x" +
                      Twine(weightType.getDimSize(1)) +
                      " per channel, activations per row");
  }
};

} // namespace

