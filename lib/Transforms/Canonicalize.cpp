//===- Canonicalize.cpp - the tfm-canonicalize pass -----------------------===//
//
// Puts a graph in the form the fusion passes match, whatever the exporter
// left constant-foldable:
//  * shape subgraphs fold and types refine (tfm-refine-shapes);
//  * float arithmetic on constants folds: GPT-2's exports compute the
//    attention scale as Pow(16, 0.5) + 0 at run time;
//  * transposes and reshapes of constants fold into new constants, which
//    takes `x @ W.t()` exports to a plain weight (the old one goes dead and
//    is dropped, so the weight is not kept twice);
//  * transpose(transpose(x)) composes into one transpose (or none).
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/RegionUtils.h"
#include "tfm/TfmOps.h"

#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <functional>

namespace mlir::tfc {
#define GEN_PASS_DEF_CANONICALIZE
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// Folds produce at most this many elements (1 GiB of f32): a weight's
/// transpose is worth a copy, but a splat of 2^40 elements is not a weight
/// and must not be expanded.
constexpr int64_t kMaxFoldedElements = int64_t(1) << 28;

/// The elements of an f32 constant (inline or a weights blob), or nullopt.
std::optional<ArrayRef<float>> getF32Elements(Value value,
                                              SmallVectorImpl<float> &storage) {
  Operation *def = value.getDefiningOp();
  auto constant = dyn_cast_or_null<tfm::ConstantOp>(def);
  if (!constant)
    return std::nullopt;
  Attribute attr = constant.getValue();
  if (auto resource = dyn_cast<DenseF32ResourceElementsAttr>(attr)) {
    if (!tfm::getWeightBytes(resource))
      return std::nullopt;
    return resource.tryGetAsArrayRef();
  }
  auto dense = dyn_cast<DenseElementsAttr>(attr);
  if (!dense || !dense.getElementType().isF32() ||
      dense.getNumElements() > kMaxFoldedElements)
    return std::nullopt;
  storage.clear();
  if (dense.isSplat())
    storage.assign(dense.getNumElements(), dense.getSplatValue<float>());
  else
    llvm::append_range(storage, dense.getValues<float>());
  return ArrayRef<float>(storage);
}

/// Row-major strides of `shape`.
SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t i = (int64_t)shape.size() - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

/// Evaluates a float elementwise op on constant operands with numpy
/// broadcasting into its (static) result type.
std::optional<SmallVector<float>>
evaluateElementwise(Operation *op, function_ref<double(ArrayRef<double>)> fn) {
  auto resultType = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!resultType || !resultType.hasStaticShape() ||
      !resultType.getElementType().isF32() ||
      resultType.getNumElements() > kMaxFoldedElements)
    return std::nullopt;
  ArrayRef<int64_t> shape = resultType.getShape();
  int64_t rank = shape.size();
  SmallVector<SmallVector<float>> storage(op->getNumOperands());
  SmallVector<ArrayRef<float>> operands;
  SmallVector<SmallVector<int64_t>> operandStrides; // 0 where broadcast
  for (auto [i, operand] : llvm::enumerate(op->getOperands())) {
    std::optional<ArrayRef<float>> elements = getF32Elements(operand, storage[i]);
    auto type = cast<RankedTensorType>(operand.getType());
    if (!elements || !type.hasStaticShape())
      return std::nullopt;
    operands.push_back(*elements);
    SmallVector<int64_t> own = stridesOf(type.getShape());
    SmallVector<int64_t> strides(rank, 0);
    for (int64_t d = 0; d < type.getRank(); ++d) {
      int64_t aligned = d + rank - type.getRank();
      if (type.getDimSize(d) != 1)
        strides[aligned] = own[d];
    }
    operandStrides.push_back(strides);
  }
  SmallVector<float> result;
  result.reserve(resultType.getNumElements());
  SmallVector<int64_t> index(rank, 0);
  SmallVector<double> args(operands.size());
  for (int64_t n = 0; n < resultType.getNumElements(); ++n) {
    for (size_t k = 0; k < operands.size(); ++k) {
      int64_t flat = 0;
      for (int64_t d = 0; d < rank; ++d)
        flat += index[d] * operandStrides[k][d];
      args[k] = operands[k][flat];
    }
    result.push_back(static_cast<float>(fn(args)));
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
  return result;
}

/// The scalar function of a float elementwise op, or null.
std::function<double(ArrayRef<double>)> scalarFunctionOf(Operation *op) {
  using Args = ArrayRef<double>;
  return llvm::TypeSwitch<Operation *, std::function<double(Args)>>(op)
      .Case([](tfm::AddOp) { return [](Args a) { return a[0] + a[1]; }; })
      .Case([](tfm::SubOp) { return [](Args a) { return a[0] - a[1]; }; })
      .Case([](tfm::MulOp) { return [](Args a) { return a[0] * a[1]; }; })
      .Case([](tfm::DivOp) { return [](Args a) { return a[0] / a[1]; }; })
      .Case([](tfm::PowOp) { return [](Args a) { return std::pow(a[0], a[1]); }; })
      .Case([](tfm::SqrtOp) { return [](Args a) { return std::sqrt(a[0]); }; })
      .Case([](tfm::NegOp) { return [](Args a) { return -a[0]; }; })
      .Case([](tfm::ReciprocalOp) { return [](Args a) { return 1.0 / a[0]; }; })
      .Default([](Operation *) { return nullptr; });
}

/// transpose(constant) as a constant.
std::optional<SmallVector<float>> evaluateTranspose(tfm::TransposeOp op) {
  SmallVector<float> storage;
  std::optional<ArrayRef<float>> input = getF32Elements(op.getInput(), storage);
  auto inputType = cast<RankedTensorType>(op.getInput().getType());
  if (!input || !inputType.hasStaticShape())
    return std::nullopt;
  ArrayRef<int64_t> perm = op.getPerm();
  auto resultType = cast<RankedTensorType>(op.getType());
  ArrayRef<int64_t> shape = resultType.getShape();
  SmallVector<int64_t> inputStrides = stridesOf(inputType.getShape());
  int64_t rank = shape.size();
  SmallVector<float> result;
  result.reserve(resultType.getNumElements());
  SmallVector<int64_t> index(rank, 0);
  for (int64_t n = 0; n < resultType.getNumElements(); ++n) {
    int64_t flat = 0;
    for (int64_t d = 0; d < rank; ++d)
      flat += index[d] * inputStrides[perm[d]];
    result.push_back((*input)[flat]);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
  return result;
}

struct CanonicalizePass : public tfc::impl::CanonicalizeBase<CanonicalizePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (failed(tfm::refineShapes(func)))
      return signalPassFailure();
    bool changed = false;
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) { ops.push_back(op); });
    for (Operation *op : ops) {
      if (op->getNumResults() != 1 || op->getResult(0).use_empty())
        continue;
      bool constantOperands = llvm::all_of(op->getOperands(), [](Value v) {
        return isa_and_nonnull<tfm::ConstantOp>(v.getDefiningOp());
      });
      if (!constantOperands && !isa<tfm::TransposeOp>(op))
        continue;
      std::optional<SmallVector<float>> folded;
      if (auto transpose = dyn_cast<tfm::TransposeOp>(op)) {
        if (composeTransposes(transpose)) {
          changed = true;
          continue;
        }
        folded = evaluateTranspose(transpose);
      } else if (auto fn = scalarFunctionOf(op)) {
        folded = evaluateElementwise(op, fn);
      } else if (isa<tfm::ReshapeOp, tfm::SqueezeOp, tfm::UnsqueezeOp,
                     tfm::FlattenOp>(op)) {
        // A constant in a new shape: weights keep their blob (no copy).
        auto type = cast<RankedTensorType>(op->getResult(0).getType());
        auto source = op->getOperand(0).getDefiningOp<tfm::ConstantOp>();
        if (auto resource = dyn_cast<DenseResourceElementsAttr>(source.getValue());
            resource && type.hasStaticShape()) {
          OpBuilder b(op);
          auto reshaped = b.create<tfm::ConstantOp>(
              op->getLoc(),
              DenseResourceElementsAttr::get(type, resource.getRawHandle()));
          op->getResult(0).replaceAllUsesWith(reshaped.getResult());
          changed = true;
          continue;
        }
        SmallVector<float> storage;
        if (std::optional<ArrayRef<float>> input =
                getF32Elements(op->getOperand(0), storage);
            input && type.hasStaticShape() && type.getElementType().isF32())
          folded = SmallVector<float>(*input);
      }
      if (!folded)
        continue;
      OpBuilder b(op);
      auto type = cast<RankedTensorType>(op->getResult(0).getType());
      auto constant = b.create<tfm::ConstantOp>(
          op->getLoc(), DenseElementsAttr::get(type, ArrayRef<float>(*folded)));
      op->getResult(0).replaceAllUsesWith(constant.getResult());
      ++numFolded;
      changed = true;
    }
    IRRewriter rewriter(&getContext());
    (void)runRegionDCE(rewriter, func->getRegions());
    // Folded scales and shapes can make more types static.
    if (changed && failed(tfm::refineShapes(func)))
      signalPassFailure();
  }

  /// transpose(transpose(x, p1), p2) -> transpose(x, p1∘p2), or x.
  bool composeTransposes(tfm::TransposeOp outer) {
    auto inner = outer.getInput().getDefiningOp<tfm::TransposeOp>();
    if (!inner)
      return false;
    ArrayRef<int64_t> p1 = inner.getPerm(), p2 = outer.getPerm();
    SmallVector<int64_t> composed;
    bool identity = true;
    for (auto [i, p] : llvm::enumerate(p2)) {
      composed.push_back(p1[p]);
      identity &= composed.back() == (int64_t)i;
    }
    Value source = inner.getInput();
    if (identity && source.getType() == outer.getType()) {
      outer.getResult().replaceAllUsesWith(source);
      return true;
    }
    OpBuilder b(outer);
    auto merged = b.create<tfm::TransposeOp>(outer.getLoc(), outer.getType(),
                                             source,
                                             b.getDenseI64ArrayAttr(composed));
    outer.getResult().replaceAllUsesWith(merged.getResult());
    return true;
  }
};

} // namespace
