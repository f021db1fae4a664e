//===- FuseEpilogues.cpp - the tfm-fuse-epilogues pass --------------------===//
//
// A transformer's dense layers are MatMul, then Add of the bias, maybe an
// activation (GELU in the MLP), maybe Add of the residual. Unfused, each op
// reads and writes the whole [tokens, N] output; fused into tfm.linear, the
// output is written by the product and touched once more at most. The pass
// anchors on each MatMul by a 2-D weight and takes, in order, each of these
// that is the only user of what came before:
//
//   Add of a [N] bias  ->  Relu or Gelu  ->  Add of a result-shaped residual
//
// Last, an Add whose only user is a layer norm becomes tfm.add_layer_norm
// (the sum is formed as the norm reads it).
//
// A weight-only tfm.quantized_linear the importer made (ONNX Runtime's
// MatMulNBits) takes the same chain after it, one op at a time, where it
// has no epilogue of its own yet.
//
// Some exporters (GPT-2's Conv1D, torch's MultiheadAttention) flatten the
// rows first: Reshape [B, L, K] -> [B * L, K], Gemm, Reshape back to
// [B, L, N]. The pass first rewrites such a dense layer as a MatMul on the
// unflattened input (plus an Add of the Gemm's bias), so that what follows
// the layer is adjacent to it.
//
//===----------------------------------------------------------------------===//

#include "FusionUtils.h"
#include "tfc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/StringExtras.h"
#include "mlir/Transforms/RegionUtils.h"
#include "tfm/TfmOps.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSEEPILOGUES
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// Reshape [..., K] -> [R, K], Gemm (a @ b + c, b optionally transposed),
/// Reshape back to [..., N]  =>  MatMul on the unflattened input (+ c).
/// Returns whether it rewrote.
bool unflattenDenseLayer(tfm::GemmOp gemm) {
  auto flatten = gemm.getA().getDefiningOp<tfm::ReshapeOp>();
  auto unflatten = dyn_cast_or_null<tfm::ReshapeOp>(getSingleUser(gemm.getResult()));
  if (!flatten || !unflatten || gemm.getTransA() ||
      !gemm.getAlpha().isExactlyValue(1.0) || !gemm.getBeta().isExactlyValue(1.0))
    return false;
  Value input = flatten.getInput();
  auto inputType = cast<RankedTensorType>(input.getType());
  auto flatType = cast<RankedTensorType>(flatten.getType());
  auto resultType = cast<RankedTensorType>(unflatten.getType());
  int64_t rank = inputType.getRank();
  // Flattening keeps K as the last dim (then the rows are the leading dims
  // in order), and unflattening gives back the leading dims.
  if (rank < 3 || flatType.getRank() != 2 || inputType.isDynamicDim(rank - 1) ||
      flatType.getDimSize(1) != inputType.getDimSize(rank - 1) ||
      resultType.getRank() != rank || resultType.isDynamicDim(rank - 1))
    return false;
  for (int64_t i = 0; i < rank - 1; ++i)
    if (getSymbolicDim(unflatten.getResult(), i) != getSymbolicDim(input, i))
      return false;
  if (Value c = gemm.getC()) {
    auto cType = cast<RankedTensorType>(c.getType());
    if (cType.getRank() != 1 || cType.getDimSize(0) != resultType.getDimSize(rank - 1))
      return false;
  }
  OpBuilder b(unflatten);
  Location loc = gemm.getLoc();
  Value weight = gemm.getB();
  if (gemm.getTransB()) {
    weight = createTransposedWeight(b, loc, weight);
    if (!weight)
      return false;
  }
  Value result = b.create<tfm::MatMulOp>(loc, resultType, input, weight);
  if (Value c = gemm.getC())
    result = b.create<tfm::AddOp>(loc, resultType, result, c);
  unflatten.getResult().replaceAllUsesWith(result);
  return true;
}

/// A plain 2-D Gemm by a constant weight (BERT's pooler, a classifier
/// head): a @ b (+ c)  =>  MatMul (+ Add), which the loop below fuses into
/// a linear. Returns whether it rewrote.
bool gemmAsMatMul(tfm::GemmOp gemm) {
  auto resultType = cast<RankedTensorType>(gemm.getType());
  if (gemm.getTransA() || !gemm.getAlpha().isExactlyValue(1.0) ||
      !gemm.getBeta().isExactlyValue(1.0) || resultType.isDynamicDim(1) ||
      !isa<FloatType>(resultType.getElementType()))
    return false;
  if (Value c = gemm.getC()) {
    auto cType = cast<RankedTensorType>(c.getType());
    if (cType.getRank() != 1 || cType.getDimSize(0) != resultType.getDimSize(1))
      return false;
  }
  OpBuilder b(gemm);
  Location loc = gemm.getLoc();
  Value weight = gemm.getB();
  if (gemm.getTransB())
    weight = createTransposedWeight(b, loc, weight);
  else if (!getConstantBytes(weight))
    weight = Value(); // a product of two activations stays a Gemm
  if (!weight)
    return false;
  Value result = b.create<tfm::MatMulOp>(loc, resultType, gemm.getA(), weight);
  if (Value c = gemm.getC())
    result = b.create<tfm::AddOp>(loc, resultType, result, c);
  gemm.getResult().replaceAllUsesWith(result);
  return true;
}

struct FuseEpiloguesPass
    : public tfc::impl::FuseEpiloguesBase<FuseEpiloguesPass> {
  using FuseEpiloguesBase::FuseEpiloguesBase;

  void runOnOperation() override {
    FusionRemarks remarks("epilogue", emitRemarks);
    SmallVector<tfm::GemmOp> gemms;
    getOperation().walk([&](tfm::GemmOp op) { gemms.push_back(op); });
    for (tfm::GemmOp gemm : gemms)
      if (!unflattenDenseLayer(gemm))
        (void)gemmAsMatMul(gemm);
    SmallVector<tfm::MatMulOp> matmuls;
    getOperation().walk([&](tfm::MatMulOp op) { matmuls.push_back(op); });
    for (tfm::MatMulOp matmul : matmuls)
      if (succeeded(fuse(matmul, remarks)))
        ++numEpilogues;
    // Linears followed by an activation or a residual add they did not take
    // (tfm-sink-transposes leaves such pairs, the transpose that stood
    // between them gone: a residual in sequence-first models, the GELU
    // after a conv rewritten as a matmul).
    SmallVector<tfm::LinearOp> linears;
    getOperation().walk([&](tfm::LinearOp op) { linears.push_back(op); });
    for (tfm::LinearOp linear : linears) {
      if (FailureOr<tfm::LinearOp> activated = fuseLateActivation(linear, remarks);
          succeeded(activated)) {
        ++numEpilogues;
        linear = *activated;
      }
      if (succeeded(fuseLateResidual(linear, remarks)))
        ++numEpilogues;
    }
    SmallVector<tfm::QuantizedLinearOp> quantized;
    getOperation().walk([&](tfm::QuantizedLinearOp op) { quantized.push_back(op); });
    for (tfm::QuantizedLinearOp op : quantized)
      while (succeeded(fuseIntoQuantized(op, remarks)))
        ++numEpilogues;
    // Then the residual adds that feed a layer norm (those a matmul did not
    // take as its residual).
    SmallVector<tfm::LayerNormOp> norms;
    getOperation().walk([&](tfm::LayerNormOp op) { norms.push_back(op); });
    for (tfm::LayerNormOp norm : norms)
      if (succeeded(fuseResidualNorm(norm, remarks)))
        ++numEpilogues;
    IRRewriter rewriter(&getContext());
    (void)runRegionDCE(rewriter, getOperation()->getRegions());
  }

  /// layer_norm(a + b), the sum used nowhere else; one addend has the sum's
  /// shape, the other may broadcast to it (a position embedding).
  LogicalResult fuseResidualNorm(tfm::LayerNormOp norm,
                                 const FusionRemarks &remarks) {
    auto add = norm.getInput().getDefiningOp<tfm::AddOp>();
    if (!add || !add.getResult().hasOneUse())
      return failure();
    Value input = add.getLhs(), skip = add.getRhs();
    if (input.getType() != add.getType())
      std::swap(input, skip);
    if (input.getType() != add.getType())
      return failure(); // both broadcast
    OpBuilder b(norm);
    // Both nodes' names, for run-time error messages.
    auto fused = b.create<tfm::AddLayerNormOp>(
        b.getFusedLoc({add.getLoc(), norm.getLoc()}), norm.getType(), input,
        skip, norm.getScale(),
        norm.getBias(), norm.getAxisAttr(), norm.getEpsilonAttr());
    remarks.fused(add, "residual add, layer_norm");
    norm.getResult().replaceAllUsesWith(fused.getResult());
    return success();
  }

  /// act(linear(...)), the linear without an activation or a residual and
  /// used by the activation alone: the activation joins its epilogue.
  FailureOr<tfm::LinearOp> fuseLateActivation(tfm::LinearOp linear,
                                              const FusionRemarks &remarks) {
    if (linear.getResidual() || linear.getActivation() != "none")
      return failure();
    Operation *next = getSingleUser(linear.getResult());
    StringRef activation;
    if (auto gelu = dyn_cast_or_null<tfm::GeluOp>(next))
      activation = gelu.getApproximation() == "tanh" ? "gelu_tanh" : "gelu";
    else if (isa_and_nonnull<tfm::ReluOp>(next))
      activation = "relu";
    else
      return failure();
    if (next->getResult(0).getType() != linear.getType())
      return failure();
    OpBuilder b(next);
    auto fused = b.create<tfm::LinearOp>(
        b.getFusedLoc({linear.getLoc(), next->getLoc()}), linear.getType(),
        linear.getInput(), linear.getWeight(), linear.getBias(), Value(),
        b.getStringAttr(activation));
    remarks.fused(linear, activation);
    next->getResult(0).replaceAllUsesWith(fused.getResult());
    next->erase();
    linear.erase();
    return fused;
  }

  /// The next op of `op`'s epilogue chain, when `op` is its only user: an
  /// Add of a [N] bias (no bias, activation or residual yet), then a GELU
  /// or ReLU (none yet), then an Add of a result-shaped residual. `op` is
  /// replaced by the op that takes it.
  LogicalResult fuseIntoQuantized(tfm::QuantizedLinearOp &op,
                                  const FusionRemarks &remarks) {
    // Weight-only ones (int4): an int8 one from a pre-quantized graph keeps
    // what follows it, as the graph computes it (its outputs match ONNX
    // Runtime's exactly; the kernels' GELU is an approximation).
    if (op.getResidual() || op.getInputQuantization() != "none")
      return failure();
    Value product = op.getResult();
    Operation *next = getSingleUser(product);
    if (!next || next->getResult(0).getType() != op.getType())
      return failure();
    Value bias = op.getBias(), residual;
    StringRef activation = op.getActivation(), part;
    auto resultType = cast<RankedTensorType>(op.getType());
    if (auto add = dyn_cast<tfm::AddOp>(next)) {
      Value other = getOtherOperand(add, product);
      auto otherType = cast<RankedTensorType>(other.getType());
      if (other == product)
        return failure();
      if (!bias && activation == "none" && otherType.getRank() == 1 &&
          otherType.getDimSize(0) == resultType.getDimSize(resultType.getRank() - 1)) {
        bias = other;
        part = "bias";
      } else if (otherType == resultType) {
        residual = other;
        part = "residual";
      } else {
        return failure();
      }
    } else if (auto gelu = dyn_cast<tfm::GeluOp>(next); gelu && activation == "none") {
      activation = gelu.getApproximation() == "tanh" ? "gelu_tanh" : "gelu";
      part = activation;
    } else if (isa<tfm::ReluOp>(next) && activation == "none") {
      activation = "relu";
      part = activation;
    } else {
      return failure();
    }
    // Where the next op was: its other operand is available there.
    OpBuilder b(next);
    auto fused = b.create<tfm::QuantizedLinearOp>(
        b.getFusedLoc({op.getLoc(), next->getLoc()}), op.getType(), op.getInput(),
        op.getWeight(), op.getWeightScale(), op.getWeightZeroPoint(), bias, residual,
        op.getInputScale(), op.getInputZeroPoint(), activation,
        op.getInputQuantization(), op.getWeightBits());
    remarks.fused(op, part);
    next->getResult(0).replaceAllUsesWith(fused.getResult());
    next->erase();
    op.erase();
    op = fused;
    return success();
  }

  /// linear(...) + r, r of the linear's shape, the linear without a
  /// residual and used by the add alone: r becomes its residual.
  LogicalResult fuseLateResidual(tfm::LinearOp linear,
                                 const FusionRemarks &remarks) {
    Value product = linear.getResult();
    auto add = dyn_cast_or_null<tfm::AddOp>(getSingleUser(product));
    if (linear.getResidual() || !add)
      return failure();
    Value other = getOtherOperand(add, product);
    if (add.getType() != linear.getType() || other == product ||
        other.getType() != linear.getType())
      return failure();
    // At the add, where the residual is available.
    OpBuilder b(add);
    auto fused = b.create<tfm::LinearOp>(
        b.getFusedLoc({linear.getLoc(), add.getLoc()}), linear.getType(),
        linear.getInput(), linear.getWeight(), linear.getBias(), other,
        linear.getActivationAttr());
    remarks.fused(linear, "residual");
    add.getResult().replaceAllUsesWith(fused.getResult());
    return success();
  }

  LogicalResult fuse(tfm::MatMulOp matmul, const FusionRemarks &remarks) {
    auto weightType = cast<RankedTensorType>(matmul.getRhs().getType());
    auto inputType = cast<RankedTensorType>(matmul.getLhs().getType());
    if (weightType.getRank() != 2 || inputType.getRank() < 2 ||
        !isa<FloatType>(inputType.getElementType()))
      return failure(); // batched products (attention's) are not dense layers
    Type resultType = matmul.getType();
    Value current = matmul.getResult();
    Value bias, residual;
    StringRef activation = "none";
    SmallVector<StringRef> parts;

    if (auto add = dyn_cast_or_null<tfm::AddOp>(getSingleUser(current))) {
      Value other = getOtherOperand(add, current);
      auto otherType = cast<RankedTensorType>(other.getType());
      if (add.getType() == resultType && otherType.getRank() == 1 &&
          otherType.getDimSize(0) == weightType.getDimSize(1)) {
        bias = other;
        current = add.getResult();
        parts.push_back("bias");
      }
    }
    Operation *next = getSingleUser(current);
    if (auto gelu = dyn_cast_or_null<tfm::GeluOp>(next)) {
      activation = gelu.getApproximation() == "tanh" ? "gelu_tanh" : "gelu";
      current = gelu.getResult();
      parts.push_back(activation);
    } else if (auto relu = dyn_cast_or_null<tfm::ReluOp>(next)) {
      activation = "relu";
      current = relu.getResult();
      parts.push_back("relu");
    }
    if (auto add = dyn_cast_or_null<tfm::AddOp>(getSingleUser(current))) {
      Value other = getOtherOperand(add, current);
      // The residual must not widen the output (then it would be the
      // broadcast, not the product, that sets the shape).
      if (add.getType() == resultType && other != current &&
          other.getType() == resultType) {
        residual = other;
        current = add.getResult();
        parts.push_back("residual");
      }
    }
    if (parts.empty())
      return failure(); // a bare matmul: nothing to fuse

    Operation *last = current.getDefiningOp();
    // The residual may be computed after the matmul; the fused op goes where
    // the last op of the chain was, where every operand is available.
    OpBuilder b(last);
    auto linear = b.create<tfm::LinearOp>(
        b.getFusedLoc({matmul.getLoc(), last->getLoc()}), resultType, matmul.getLhs(), matmul.getRhs(), bias,
        residual, b.getStringAttr(activation));
    remarks.fused(matmul, llvm::join(parts, ", "));
    current.replaceAllUsesWith(linear.getResult());
    return success();
  }
};

} // namespace
