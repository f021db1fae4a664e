//===- Quantize.cpp - the tfm-quantize pass -------------------------------===//
//
// mode=int8 rewrites linears by constant f32 weights into
// tfm.quantized_linear with int8 weights, one symmetric scale per output
// channel; mode=int4 into weight-only ones with int4 weights, a scale per
// group of rows of each column; mode=bf16 rounds their weights to bf16 (a tfm.linear of an f32
// input by a bf16 weight) and marks attention to multiply in bf16. The
// rounding happens here, at compile time, so the model ships the rounded
// weights only (a quarter or half of the f32 bytes); the target packs them
// for its dot product.
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
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringSet.h"

#include <cstring>

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
    if (mode == "int4")
      return quantizeAllInt4();
    std::optional<QuantizedPrecision> parsed = parseQuantizedPrecision(mode);
    if (!parsed) {
      getOperation().emitError() << "tfm-quantize: unknown mode '" << mode
                                 << "' (int8, int8-static, bf16, int4)";
      return signalPassFailure();
    }
    precision = *parsed;
    llvm::StringSet<> kept;
    for (const std::string &name : keep)
      kept.insert(name);
    for (Operation *op : getLinears(getOperation())) {
      std::string name = getLayerName(op);
      if (kept.contains(name)) {
        remark(op, "kept f32: " + name + ": kept by the error budget");
        continue;
      }
      if (std::string reason = whyNotQuantizable(op, precision);
          !reason.empty()) {
        remark(op, "kept f32: " + name + ": " + reason);
        continue;
      }
      if (precision == QuantizedPrecision::Bf16) {
        roundToBf16(op, *getLinearParts(op));
        continue;
      }
      std::optional<StaticInputQuantization> input;
      if (precision == QuantizedPrecision::Int8Static) {
        auto range = op->getAttrOfType<DenseF32ArrayAttr>(kInputRangeAttr);
        if (!range || range.size() != 2) {
          remark(op, "kept f32: " + name +
                         ": no calibrated input range (int8-static needs "
                         "calibration data)");
          continue;
        }
        input = getStaticInputQuantization(range[0], range[1]);
      }
      quantize(op, *getLinearParts(op), input);
    }
    // The driver's calibration attributes have served (on linears kept in
    // f32 they would only ride along to the lowering).
    getOperation().walk([](Operation *op) {
      op->removeAttr(kInputRangeAttr);
      op->removeAttr(kSmoothingAttr);
    });
    if (precision == QuantizedPrecision::Bf16)
      getOperation().walk([&](tfm::AttentionOp attention) {
        attention.setPrecision("bf16");
        remark(attention, "quantized: " + getLayerName(attention) +
                              ": attention products in bf16");
      });
  }

  /// mode=int4: every quantizable linear whose K is a multiple of the
  /// group, weight-only.
  void quantizeAllInt4() {
    if (!llvm::is_contained(kInt4Groups, group.getValue())) {
      getOperation().emitError()
          << "tfm-quantize: int4 groups are 32, 64 or 128 rows, not "
          << group.getValue();
      return signalPassFailure();
    }
    llvm::StringSet<> kept;
    for (const std::string &name : keep)
      kept.insert(name);
    llvm::DenseMap<Value, QuantizedWeight> int4Weights;
    for (Operation *op : getLinears(getOperation())) {
      std::string name = getLayerName(op);
      if (kept.contains(name)) {
        remark(op, "kept f32: " + name + ": kept by the error budget");
        continue;
      }
      // As bf16's, int4's sums are f32: no limit on K (int8's).
      if (std::string reason = whyNotQuantizable(op, QuantizedPrecision::Bf16);
          !reason.empty()) {
        remark(op, "kept f32: " + name + ": " + reason);
        continue;
      }
      LinearParts parts = *getLinearParts(op);
      int64_t depth =
          cast<RankedTensorType>(parts.weight.getType()).getDimSize(0);
      if (depth % group != 0) {
        remark(op, "kept f32: " + name + ": K = " + Twine(depth) +
                       " is not a multiple of the group, " + Twine(group));
        continue;
      }
      // A weight several linears share is rounded once, next to its
      // constant (by the first one's calibration inputs, with GPTQ).
      auto [cached, isNew] = int4Weights.try_emplace(parts.weight);
      std::vector<float> hessian = getInt4Hessian(op, depth);
      bool gptq = !hessian.empty();
      if (isNew) {
        OpBuilder atWeight(parts.weight.getDefiningOp());
        FailureOr<QuantizedWeight> created =
            quantizeWeightInt4(atWeight, parts.weight.getLoc(), parts.weight,
                               group, zeroPoints, hessian);
        if (failed(created)) {
          int4Weights.erase(cached);
          continue; // whyNotQuantizable read the same constant
        }
        cached->second = *created;
      }
      const QuantizedWeight &weight = cached->second;
      OpBuilder b(op);
      auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
      auto quantized = b.create<tfm::QuantizedLinearOp>(
          op->getLoc(), resultType, parts.input, weight.values, weight.scales,
          weight.zeroPoints, parts.bias, parts.residual, /*input_scale=*/Value(),
          /*input_zero_point=*/Value(), b.getStringAttr(parts.activation),
          b.getStringAttr("none"), b.getI64IntegerAttr(4));
      replace(op, quantized, parts.weight, "int4 weights ",
              " in groups of " + std::to_string(group) + " rows" +
                  (zeroPoints ? " with zero points" : ", symmetric") +
                  (gptq ? ", GPTQ-rounded" : "") + ", activations f32");
    }
    getOperation().walk([](Operation *op) {
      op->removeAttr(kInputRangeAttr);
      op->removeAttr(kSmoothingAttr);
      op->removeAttr(kInt4HessianAttr);
    });
  }

  QuantizedPrecision precision = QuantizedPrecision::Int8;
  /// Each f32 weight's rounded constants, made at its first linear.
  llvm::DenseMap<Value, Value> bf16Weights;
  llvm::DenseMap<Value, QuantizedWeight> int8Weights;

  void remark(Operation *op, const Twine &text) {
    if (emitRemarks)
      op->emitRemark(text);
  }

  /// Rewrites `op`, a linear quantizable to bf16, as a tfm.linear of its
  /// input by its weight rounded to bf16.
  void roundToBf16(Operation *op, const LinearParts &parts) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    // A weight several linears share is rounded once, next to its constant.
    Value &rounded = bf16Weights[parts.weight];
    if (!rounded) {
      OpBuilder atWeight(parts.weight.getDefiningOp());
      FailureOr<Value> created =
          roundWeightToBf16(atWeight, parts.weight.getLoc(), parts.weight);
      if (failed(created))
        return; // whyNotQuantizable read the same constant
      rounded = *created;
    }
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    auto linear = b.create<tfm::LinearOp>(loc, resultType, parts.input,
                                          rounded, parts.bias, parts.residual,
                                          b.getStringAttr(parts.activation));
    replace(op, linear, parts.weight, "bf16 weights ",
            ", activations rounded to bf16");
  }

  /// Replaces `op` by `quantized` and drops the f32 weight once no linear
  /// uses it; the remark says "<what> KxN<how>".
  void replace(Operation *op, Operation *quantized, Value weight,
               StringRef what, StringRef how) {
    op->getResult(0).replaceAllUsesWith(quantized->getResult(0));
    auto weightType = cast<RankedTensorType>(weight.getType());
    op->erase();
    if (weight.use_empty())
      weight.getDefiningOp()->erase();
    ++numQuantized;
    remark(quantized, "quantized: " + getLayerName(quantized) + ": " + what +
                          Twine(weightType.getDimSize(0)) + "x" +
                          Twine(weightType.getDimSize(1)) + how);
  }

  /// Rewrites `op`, a linear quantizable to int8: its input quantized per
  /// row as it runs, or by `input` (int8-static).
  void quantize(Operation *op, const LinearParts &parts,
                std::optional<StaticInputQuantization> input) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    // SmoothQuant (a driver's tfc.smoothing): the input divided by the
    // factors as the model runs, the weight's rows multiplied by them here.
    Value x = parts.input;
    auto smoothing = op->getAttrOfType<DenseF32ArrayAttr>(kSmoothingAttr);
    int64_t depth = cast<RankedTensorType>(parts.weight.getType()).getDimSize(0);
    if (smoothing && static_cast<int64_t>(smoothing.size()) != depth)
      smoothing = {};
    QuantizedWeight smoothed;
    const QuantizedWeight *quantized = nullptr;
    if (smoothing) {
      FailureOr<QuantizedWeight> created =
          quantizeWeightPerChannel(b, loc, parts.weight, smoothing.asArrayRef());
      if (failed(created))
        return;
      smoothed = *created;
      quantized = &smoothed;
      SmallVector<float> inverse;
      for (float factor : smoothing.asArrayRef())
        inverse.push_back(1.0f / factor);
      Value divisors = b.create<tfm::ConstantOp>(
          loc, DenseElementsAttr::get(
                   RankedTensorType::get({depth}, b.getF32Type()),
                   ArrayRef<float>(inverse)));
      x = b.create<tfm::MulOp>(loc, x, divisors);
    } else {
      // A weight several linears share is quantized once, next to its
      // constant.
      auto [cached, isNew] = int8Weights.try_emplace(parts.weight);
      if (isNew) {
        OpBuilder atWeight(parts.weight.getDefiningOp());
        FailureOr<QuantizedWeight> created = quantizeWeightPerChannel(
            atWeight, parts.weight.getLoc(), parts.weight);
        if (failed(created)) {
          int8Weights.erase(cached);
          return; // whyNotQuantizable read the same constant
        }
        cached->second = *created;
      }
      quantized = &cached->second;
    }
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    Value inputScale, inputZero;
    if (input) {
      inputScale = b.create<tfm::ConstantOp>(
          loc, DenseElementsAttr::get(RankedTensorType::get({}, b.getF32Type()),
                                      input->scale));
      auto u8 = b.getIntegerType(8, /*isSigned=*/false);
      inputZero = b.create<tfm::ConstantOp>(
          loc, DenseElementsAttr::get(RankedTensorType::get({}, u8),
                                      APInt(8, input->zeroPoint)));
    }
    auto fused = b.create<tfm::QuantizedLinearOp>(
        loc, resultType, x, quantized->values, quantized->scales,
        /*weight_zero_point=*/Value(), parts.bias, parts.residual, inputScale,
        inputZero, b.getStringAttr(parts.activation),
        b.getStringAttr(input ? "static" : "row"));
    replace(op, fused, parts.weight, "int8 weights ",
            !input       ? " per channel, activations per row"
            : smoothing ? " per channel, activations static (calibrated range), smoothed"
                        : " per channel, activations static (calibrated range)");
  }
};

} // namespace

