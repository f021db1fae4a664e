//===- FoldBatchNorm.cpp - the tfm-fold-batch-norm pass -------------------===//
//
// BatchNormalization at inference is a per-channel scale and shift, which
// the importer writes as `mul` by a constant column and `add` of another
// (both folded to constants from the running statistics). When the values
// it scales come straight from a conv or a matmul by a constant weight,
// the scale belongs in the weight and the shift in the bias:
//
//   y = (x @ W + b) * s + t  =  x @ (W * s) + (b * s + t)
//
// which removes two passes over the activations and leaves a plain
// projection for the epilogue fusion. Between the producer and the scale
// the chain may hold the producer's bias add and one transpose (a BatchNorm1d
// over [N, C, L] after a Linear over [N, L, C]); every value on it must have
// no other user, since the fold changes it. The new weight and bias are new
// blobs; the old ones go when nothing else uses them.
//
//===----------------------------------------------------------------------===//

#include "FusionUtils.h"
#include "tfc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "tfm/TfmOps.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_FOLDBATCHNORM
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// A constant that varies along one dim of a tensor of `rank` (its shape
/// right-aligned to it, every other dim 1): its values and that dim.
struct PerChannel {
  SmallVector<float> values;
  int64_t dim;
};

std::optional<PerChannel> getPerChannel(Value constant, int64_t rank) {
  auto type = dyn_cast<RankedTensorType>(constant.getType());
  if (!type || !type.getElementType().isF32() || !type.hasStaticShape() ||
      type.getRank() > rank)
    return std::nullopt;
  std::optional<SmallVector<float>> values = getConstantFloats(constant);
  if (!values)
    return std::nullopt;
  int64_t offset = rank - type.getRank();
  std::optional<int64_t> dim;
  for (int64_t i = 0; i < type.getRank(); ++i) {
    if (type.getDimSize(i) == 1)
      continue;
    if (dim)
      return std::nullopt; // varies along two dims
    dim = offset + i;
  }
  if (!dim)
    return std::nullopt; // a scalar: no channel to tell
  return PerChannel{std::move(*values), *dim};
}

/// The chain from a producer to the scale: producer -> [bias add] ->
/// [transpose] -> mul.
struct Chain {
  Operation *producer;     // tfm.conv or tfm.matmul
  tfm::AddOp biasAdd;      // may be null
  Value bias;              // the bias add's constant operand
  tfm::TransposeOp transpose; // may be null
  int64_t channelDim;      // in the producer's result
  int64_t channels;
};

class FoldBatchNormPass : public tfc::impl::FoldBatchNormBase<FoldBatchNormPass> {
public:
  void runOnOperation() override {
    SmallVector<tfm::MulOp> candidates;
    getOperation().walk([&](tfm::MulOp mul) { candidates.push_back(mul); });
    for (tfm::MulOp mul : candidates)
      if (succeeded(fold(mul)))
        ++numFolded;
  }

private:
  LogicalResult fold(tfm::MulOp mul) {
    auto resultType = cast<RankedTensorType>(mul.getType());
    int64_t rank = resultType.getRank();
    for (Value scaleOperand : {mul.getRhs(), mul.getLhs()}) {
      std::optional<PerChannel> scale = getPerChannel(scaleOperand, rank);
      if (!scale)
        continue;
      Value scaled = getOtherOperand(mul, scaleOperand);
      if (!scaled || scaled.getType() != mul.getType())
        continue;
      std::optional<Chain> chain = traceChain(scaled, scale->dim);
      if (!chain || (int64_t)scale->values.size() != chain->channels)
        continue;
      // The shift: an add of the same layout as the scale, the mul's only
      // user.
      tfm::AddOp shiftAdd = dyn_cast_or_null<tfm::AddOp>(getSingleUser(mul.getResult()));
      std::optional<PerChannel> shift;
      if (shiftAdd) {
        Value shiftOperand = getOtherOperand(shiftAdd, mul.getResult());
        if (shiftOperand)
          shift = getPerChannel(shiftOperand, rank);
        if (!shift || shift->dim != scale->dim ||
            shift->values.size() != scale->values.size() ||
            shiftAdd.getType() != mul.getType()) {
          shiftAdd = nullptr;
          shift.reset();
        }
      }
      if (failed(rewrite(mul, *chain, scale->values,
                         shift ? ArrayRef<float>(shift->values) : ArrayRef<float>())))
        continue;
      Value folded = scaled;
      mul.getResult().replaceAllUsesWith(folded);
      mul.erase();
      if (shiftAdd) {
        shiftAdd.getResult().replaceAllUsesWith(folded);
        shiftAdd.erase();
      }
      return success();
    }
    return failure();
  }

  /// The chain ending in `value` whose dim `dim` is the producer's channel.
  std::optional<Chain> traceChain(Value value, int64_t dim) {
    Chain chain{};
    if (!value.hasOneUse())
      return std::nullopt;
    Operation *op = value.getDefiningOp();
    if (auto transpose = dyn_cast_or_null<tfm::TransposeOp>(op)) {
      chain.transpose = transpose;
      dim = transpose.getPerm()[dim];
      value = transpose.getInput();
      if (!value.hasOneUse())
        return std::nullopt;
      op = value.getDefiningOp();
    }
    int64_t rank = cast<RankedTensorType>(value.getType()).getRank();
    if (auto add = dyn_cast_or_null<tfm::AddOp>(op)) {
      for (Value operand : {add.getRhs(), add.getLhs()}) {
        std::optional<PerChannel> bias = getPerChannel(operand, rank);
        Value other = getOtherOperand(add, operand);
        if (!bias || bias->dim != dim || !other || other.getType() != add.getType() ||
            !other.hasOneUse())
          continue;
        chain.biasAdd = add;
        chain.bias = operand;
        value = other;
        op = value.getDefiningOp();
        break;
      }
      if (!chain.biasAdd)
        return std::nullopt;
    }
    if (auto conv = dyn_cast_or_null<tfm::ConvOp>(op)) {
      auto weight = cast<RankedTensorType>(conv.getWeight().getType());
      if (dim != 1 || !weight.getElementType().isF32() || !weight.hasStaticShape() ||
          !getConstantFloats(conv.getWeight()) ||
          (conv.getBias() && !getConstantFloats(conv.getBias())))
        return std::nullopt;
      chain.producer = conv;
      chain.channels = weight.getDimSize(0);
    } else if (auto matmul = dyn_cast_or_null<tfm::MatMulOp>(op)) {
      auto weight = cast<RankedTensorType>(matmul.getRhs().getType());
      if (dim != rank - 1 || weight.getRank() != 2 || !weight.getElementType().isF32() ||
          !weight.hasStaticShape() || !getConstantFloats(matmul.getRhs()))
        return std::nullopt;
      chain.producer = matmul;
      chain.channels = weight.getDimSize(1);
    } else {
      return std::nullopt;
    }
    chain.channelDim = dim;
    return chain;
  }

  /// Scales the producer's weight (and bias) by `scale` per channel and adds
  /// `shift` to the bias, creating the bias where there is none.
  LogicalResult rewrite(tfm::MulOp mul, const Chain &chain, ArrayRef<float> scale,
                        ArrayRef<float> shift) {
    Operation *producer = chain.producer;
    OpBuilder b(producer);
    Location loc = mul.getLoc();
    bool isConv = isa<tfm::ConvOp>(producer);
    Value weight = isConv ? cast<tfm::ConvOp>(producer).getWeight()
                          : cast<tfm::MatMulOp>(producer).getRhs();
    auto weightType = cast<RankedTensorType>(weight.getType());
    SmallVector<float> values = *getConstantFloats(weight);
    int64_t channels = chain.channels;
    // Conv weights are [M, ...] (channel-major), matmul weights [K, M].
    int64_t perChannel = values.size() / channels;
    for (int64_t i = 0; i < (int64_t)values.size(); ++i)
      values[i] *= scale[isConv ? i / perChannel : i % channels];

    // The bias, per channel: the bias add's (or the conv's), scaled, plus
    // the shift.
    SmallVector<float> bias(channels, 0.0f);
    Value oldBias = chain.biasAdd ? chain.bias
                                  : (isConv ? cast<tfm::ConvOp>(producer).getBias() : Value());
    if (oldBias) {
      SmallVector<float> given = *getConstantFloats(oldBias);
      if ((int64_t)given.size() != channels)
        return failure();
      for (int64_t c = 0; c < channels; ++c)
        bias[c] = given[c] * scale[c];
    }
    for (int64_t c = 0; c < (int64_t)shift.size(); ++c)
      bias[c] += shift[c];
    bool needsBias = oldBias || !shift.empty();

    auto asBytes = [](ArrayRef<float> floats) {
      return ArrayRef<char>(reinterpret_cast<const char *>(floats.data()),
                            floats.size() * sizeof(float));
    };
    Value newWeight = createWeightConstant(b, loc, weightType, asBytes(values),
                                           "batch_norm_folded_weight");
    // Operand 1 is the weight of both (conv: input, weight, bias; matmul:
    // lhs, rhs).
    producer->setOperand(1, newWeight);
    if (!needsBias)
      return success();
    // The bias keeps the layout it had (the bias add's constant), or is [M]
    // (a conv's, or a new add after a matmul).
    RankedTensorType biasType =
        chain.biasAdd ? cast<RankedTensorType>(chain.bias.getType())
                      : RankedTensorType::get({channels}, b.getF32Type());
    Value newBias = createWeightConstant(b, loc, biasType, asBytes(bias),
                                         "batch_norm_folded_bias");
    if (chain.biasAdd) {
      tfm::AddOp biasAdd = chain.biasAdd;
      biasAdd->setOperand(biasAdd.getLhs() == chain.bias ? 0 : 1, newBias);
    } else if (auto conv = dyn_cast<tfm::ConvOp>(producer)) {
      if (conv.getBias())
        conv.getBiasMutable().assign(newBias);
      else
        conv.getBiasMutable().append(newBias);
    } else {
      // A matmul without a bias: the shift becomes its bias add, before the
      // transpose (if any), where the channels are the last dim.
      b.setInsertionPointAfter(producer);
      Value product = producer->getResult(0);
      auto add = b.create<tfm::AddOp>(loc, product.getType(), product, newBias);
      product.replaceAllUsesExcept(add.getResult(), add);
    }
    return success();
  }
};

} // namespace
