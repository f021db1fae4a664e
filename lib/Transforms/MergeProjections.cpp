//===- MergeProjections.cpp - the tfm-merge-projections pass --------------===//
//
// Exporters of BERT-style models project the hidden state three times, to
// Q, K and V, each with its own [H, H] weight and bias. Three matmuls over the
// same input read that input three times and run three thinner products;
// one matmul with the weights side by side ([H, 3H]) reads it once and gives
// the matmul kernel a wider N. The pass merges every group of matmuls that
// share their left operand and have constant 2-D weights, and their bias
// adds when each has a constant one, then splits the result. tfm.attention
// reads the split's parts as strided views, so the split copies nothing.
//
// The merged weight is a new blob; the old ones have no users left and go
// with their ops, so the weights are not held twice.
//
//===----------------------------------------------------------------------===//

#include "FusionUtils.h"
#include "tfc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Transforms/RegionUtils.h"
#include "tfm/TfmOps.h"

#include <map>

namespace mlir::tfc {
#define GEN_PASS_DEF_MERGEPROJECTIONS
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// A matmul of the shared input by a constant [K, N] weight, with the bias
/// add that follows it when there is one.
struct Projection {
  tfm::MatMulOp matmul;
  SmallVector<char> weight; // [K, N] row-major, as bytes
  int64_t columns = 0;
  tfm::AddOp biasAdd;
  SmallVector<char> bias;
};

/// The constant [K, N] weight of `matmul` (any element type a whole number
/// of bytes wide), or nullopt.
std::optional<Projection> asProjection(tfm::MatMulOp matmul) {
  auto weightType = cast<RankedTensorType>(matmul.getRhs().getType());
  auto inputType = cast<RankedTensorType>(matmul.getLhs().getType());
  if (weightType.getRank() != 2 || inputType.getRank() < 2 ||
      !weightType.hasStaticShape())
    return std::nullopt;
  std::optional<SmallVector<char>> weight = getConstantBytes(matmul.getRhs());
  if (!weight)
    return std::nullopt;
  Projection projection{matmul, std::move(*weight), weightType.getDimSize(1), {}, {}};
  // A bias: Add of a constant [N] vector, the matmul's only user.
  if (auto add = dyn_cast_or_null<tfm::AddOp>(getSingleUser(matmul.getResult()))) {
    Value bias = getOtherOperand(add, matmul.getResult());
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getRank() == 1 && biasType.getDimSize(0) == projection.columns &&
        add.getType() == matmul.getType())
      if (std::optional<SmallVector<char>> values = getConstantBytes(bias)) {
        projection.biasAdd = add;
        projection.bias = std::move(*values);
      }
  }
  return projection;
}

struct MergeProjectionsPass
    : public tfc::impl::MergeProjectionsBase<MergeProjectionsPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    int groupIndex = 0;
    // Group the candidate matmuls by their input, in program order.
    llvm::MapVector<Value, SmallVector<tfm::MatMulOp>> groups;
    func.walk([&](tfm::MatMulOp matmul) {
      groups[matmul.getLhs()].push_back(matmul);
    });
    for (auto &[input, matmuls] : groups) {
      // Weights agree on K and on the element type: they share the input
      // (tfm.matmul's operands have one element type). Merge two or more.
      SmallVector<Projection> projections;
      for (tfm::MatMulOp matmul : matmuls)
        if (std::optional<Projection> projection = asProjection(matmul))
          projections.push_back(std::move(*projection));
      if (projections.size() < 2)
        continue;
      merge(input, projections, groupIndex++);
      ++numMerged;
    }
    IRRewriter rewriter(&getContext());
    (void)runRegionDCE(rewriter, func->getRegions());
  }

  void merge(Value input, MutableArrayRef<Projection> projections,
             int groupIndex) {
    tfm::MatMulOp first = projections.front().matmul;
    int64_t k = cast<RankedTensorType>(first.getRhs().getType()).getDimSize(0);
    int64_t total = 0;
    for (const Projection &p : projections)
      total += p.columns;
    bool withBias = llvm::all_of(projections, [](const Projection &p) {
      return p.biasAdd != nullptr;
    });

    // Rows of the merged weight are the rows of each weight side by side.
    Type element = first.getType().getElementType();
    int64_t elementBytes = element.getIntOrFloatBitWidth() / 8;
    SmallVector<char> weight(k * total * elementBytes), bias;
    int64_t offset = 0;
    for (const Projection &p : projections) {
      int64_t rowBytes = p.columns * elementBytes;
      for (int64_t row = 0; row < k; ++row)
        std::copy_n(p.weight.begin() + row * rowBytes, rowBytes,
                    weight.begin() + (row * total + offset) * elementBytes);
      offset += p.columns;
      if (withBias)
        llvm::append_range(bias, p.bias);
    }

    OpBuilder b(first);
    Location loc = first.getLoc();
    std::string name = ("merged_projection_" + Twine(groupIndex)).str();
    Value mergedWeight = createWeightConstant(
        b, loc, RankedTensorType::get({k, total}, element), weight,
        name + ".weight");
    auto inputType = cast<RankedTensorType>(input.getType());
    SmallVector<int64_t> shape(inputType.getShape());
    shape.back() = total;
    Value merged = b.create<tfm::MatMulOp>(
        loc, RankedTensorType::get(shape, element), input, mergedWeight);
    if (withBias) {
      Value mergedBias = createWeightConstant(
          b, loc, RankedTensorType::get({total}, element), bias,
          name + ".bias");
      merged = b.create<tfm::AddOp>(loc, merged.getType(), merged, mergedBias);
    }
    SmallVector<Type> partTypes;
    SmallVector<int64_t> sizes;
    for (Projection &p : projections) {
      Operation *last = withBias ? p.biasAdd.getOperation() : p.matmul.getOperation();
      partTypes.push_back(last->getResult(0).getType());
      sizes.push_back(p.columns);
    }
    auto split = b.create<tfm::SplitOp>(
        loc, partTypes, merged, b.getI64IntegerAttr(shape.size() - 1),
        b.getI64IntegerAttr(projections.size()), b.getDenseI64ArrayAttr(sizes));
    for (auto [p, part] : llvm::zip(projections, split.getResults())) {
      tfm::AddOp biasAdd = p.biasAdd;
      tfm::MatMulOp matmul = p.matmul;
      Operation *last = withBias ? biasAdd.getOperation() : matmul.getOperation();
      last->getResult(0).replaceAllUsesWith(part);
    }
  }
};

} // namespace
