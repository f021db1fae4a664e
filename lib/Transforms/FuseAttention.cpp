//===- FuseAttention.cpp - the tfm-fuse-attention pass --------------------===//
//
// Forms tfm.attention from the subgraph that exporters emit for multi-head
// attention (HF BERT's eager attention, GPT-2's, torch's
// scaled_dot_product_attention):
//
//   q = transpose(reshape(Q, [B, Lq, N, d]), [0, 2, 1, 3])     (* c?)
//   k = transpose(reshape(K, [B, Lk, N, d]), [0, 2, 3, 1])     (* c?)
//   v = transpose(reshape(V, [B, Lk, N, dv]), [0, 2, 1, 3])
//   s = matmul(q, k)  (/ c or * c)  (+ mask | where(cond, ·, -inf))*
//   o = reshape(transpose(matmul(softmax(s, -1), v), [0, 2, 1, 3]),
//               [B, Lq, N * dv])
//
// Where q, k or v cannot be traced back to a [B, L, N * d] projection, the
// op takes the head-major [B, N, L, d] value the matmul reads instead
// (rotary embeddings applied per head, a KV cache concatenated per head,
// a packed qkv unbound): for k, the value under the kᵀ transpose, and when
// that value only repeats fewer KV heads (Hugging Face's repeat_kv:
// unsqueeze, expand, reshape), those heads (grouped-query attention). The
// 3-D form [B * N, L, d] (BART, Whisper: bmm) is matched through the
// reshapes that fold heads into the batch.
//
// The anchor is the Softmax. Every step is proven: the reshapes split and
// merge exactly the last dim (checked symbolically when batch and sequence
// are dynamic), the transposes compose to the head layout, the scales are
// scalar constants, and a mask is either additive (kept as the op's mask
// operand, so any mask stays exact) or a proven causal triangle (the causal
// flag, which lets the kernel skip blocks). A candidate that differs in any
// step is left as it is, with a remark saying why.
//
//===----------------------------------------------------------------------===//

#include "FusionUtils.h"
#include "tfc/Transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/StringExtras.h"
#include "mlir/Transforms/RegionUtils.h"
#include "tfm/TfmOps.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_FUSEATTENTION
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// Masked scores at or below this are hidden: exp(s + fill - max) is 0 in
/// float arithmetic for any score a model produces, which makes replacing
/// where(cond, s, fill) with an additive mask or the causal flag exact.
/// A float type whose lowest value is above it (f16: -65504, what exporters
/// fill f16 masks with) uses its lowest value instead.
double getHiddenFill(Type element) {
  constexpr double kHiddenFill = -1.0e30;
  auto type = dyn_cast<FloatType>(element);
  if (!type)
    return kHiddenFill;
  double lowest =
      APFloat::getLargest(type.getFloatSemantics(), /*Negative=*/true)
          .convertToDouble();
  return std::max(kHiddenFill, lowest);
}

/// A head-split input: the [B, L, N * d] tensor before its reshape and
/// transposes, and what the matcher proved about it.
struct HeadInput {
  Value hidden;
  int64_t heads = 0;
  int64_t headDim = 0;
  double scale = 1.0; // scalar factors found on the way (q and k only)
  /// [L, B, N * d] (torch's MultiheadAttention) rather than [B, L, N * d].
  bool sequenceFirst = false;
  /// The values from the operand to the reshape's result, each with the
  /// reshape dim ([B, L, N, d]) that each of its dims is.
  SmallVector<std::pair<Value, SmallVector<int64_t, 4>>> path;
};

/// Where a dim of a value inside the fused subgraph can be read once the
/// subgraph is gone: dim `dim` of a value that stays, or a constant.
struct DimSource {
  Value value;
  int64_t dim = 0;
  int64_t constant = 0;
};
using DimSources = SmallVector<DimSource, 4>;

/// Walks from an operand of one of attention's matmuls ([B, N, ., .], or
/// [B * N, ., .] in the sequence-first layout) back through scalar factors
/// (when `allowScale`) and transposes to the reshape that split the heads,
/// and checks that the transposes compose to `expectedPerm`, relative to the
/// reshape's result ([B, L, N, d], or [L, B * N, d]). On failure, `why` says
/// which step did not match.
FailureOr<HeadInput> traceHeadInput(Value value, ArrayRef<int64_t> expectedPerm,
                                    StringRef role, bool allowScale,
                                    std::string &why) {
  HeadInput input;
  int64_t rank = expectedPerm.size();
  SmallVector<int64_t, 4> perm = llvm::to_vector<4>(llvm::seq<int64_t>(0, rank));
  // (value, the map from the operand's dims to value's dims)
  SmallVector<std::pair<Value, SmallVector<int64_t, 4>>> visited;
  for (;;) {
    visited.push_back({value, perm});
    Operation *def = value.getDefiningOp();
    if (isa_and_nonnull<tfm::MulOp, tfm::DivOp>(def) && allowScale) {
      // q * c, c * q, or q / c (torch's MultiheadAttention scales q alone).
      Value other;
      std::optional<double> c;
      bool isDiv = isa<tfm::DivOp>(def);
      if ((c = getScalarConstant(def->getOperand(1))))
        other = def->getOperand(0);
      else if (!isDiv && (c = getScalarConstant(def->getOperand(0))))
        other = def->getOperand(1);
      if (!other || other.getType() != def->getResult(0).getType() ||
          *c == 0.0) {
        why = (role + " is scaled by a tensor, not a scalar").str();
        return failure();
      }
      input.scale *= isDiv ? 1.0 / *c : *c;
      value = other;
      continue;
    }
    if (isa_and_nonnull<tfm::MulOp, tfm::DivOp>(def)) {
      why = (role + " is scaled, which would scale the output").str();
      return failure();
    }
    if (auto transpose = dyn_cast_or_null<tfm::TransposeOp>(def)) {
      // perm maps the matmul operand's dims to `value`'s; value = transpose(
      // t, p) has dim k = t's dim p[k], so the operand's dim i is t's dim
      // p[perm[i]].
      ArrayRef<int64_t> p = transpose.getPerm();
      if ((int64_t)p.size() != rank) {
        why = (role + " is transposed at rank " + Twine(p.size())).str();
        return failure();
      }
      SmallVector<int64_t, 4> composed(rank);
      for (int64_t i = 0; i < rank; ++i)
        composed[i] = p[perm[i]];
      perm = composed;
      value = transpose.getInput();
      continue;
    }
    break;
  }
  if (ArrayRef<int64_t>(perm) != expectedPerm) {
    why = (role + " is not in the head layout its matmul needs").str();
    return failure();
  }
  auto reshape = dyn_cast_or_null<tfm::ReshapeOp>(value.getDefiningOp());
  if (!reshape) {
    why = (role + " does not come from a reshape that splits heads").str();
    return failure();
  }
  auto from = cast<RankedTensorType>(reshape.getInput().getType());
  auto to = cast<RankedTensorType>(reshape.getType());
  if (rank == 4) {
    // [B, L, N * d] -> [B, L, N, d]
    if (from.getRank() != 3 || to.getRank() != 4 || to.isDynamicDim(2) ||
        to.isDynamicDim(3) ||
        (!from.isDynamicDim(2) &&
         from.getDimSize(2) != to.getDimSize(2) * to.getDimSize(3))) {
      why = (role + " is not reshaped from [B, L, N * d] to [B, L, N, d] with "
                    "static N and d").str();
      return failure();
    }
    if (!reshapeKeepsLeadingDims(reshape, 2)) {
      why = (role + "'s reshape does not provably keep batch and sequence").str();
      return failure();
    }
    input.heads = to.getDimSize(2);
    input.headDim = to.getDimSize(3);
  } else {
    // [L, B, N * d] -> [L, B * N, d]: the middle dim is B * N because the
    // reshape keeps the element count.
    if (from.getRank() != 3 || to.getRank() != 3 || from.isDynamicDim(2) ||
        to.isDynamicDim(2) || from.getDimSize(2) % to.getDimSize(2) != 0) {
      why = (role + " is not reshaped from [L, B, N * d] to [L, B * N, d] with "
                    "static N and d").str();
      return failure();
    }
    if (!reshapeKeepsLeadingDims(reshape, 1)) {
      why = (role + "'s reshape does not provably keep the sequence").str();
      return failure();
    }
    input.heads = from.getDimSize(2) / to.getDimSize(2);
    input.headDim = to.getDimSize(2);
    input.sequenceFirst = true;
  }
  input.hidden = reshape.getInput();
  // A value reached with operand->value map A has dim A[i] equal to the
  // reshape's dim perm[i].
  for (auto &[reached, map] : visited) {
    SmallVector<int64_t, 4> reshapeDims(rank);
    for (int64_t i = 0; i < rank; ++i)
      reshapeDims[map[i]] = perm[i];
    input.path.push_back({reached, reshapeDims});
  }
  return input;
}

/// The dims of a value on `input`'s path, read from what stays, or nullopt
/// when one of them is B * N (the sequence-first layout), which no single
/// dim holds.
std::optional<DimSources> dimSourcesOf(const HeadInput &input,
                                       ArrayRef<int64_t> reshapeDims) {
  DimSources sources;
  for (int64_t d : reshapeDims) {
    if (input.sequenceFirst) {
      if (d == 1)
        return std::nullopt;
      if (d == 0)
        sources.push_back({input.hidden, 0, 0});
      else
        sources.push_back({Value(), 0, input.headDim});
      continue;
    }
    if (d < 2)
      sources.push_back({input.hidden, d, 0});
    else
      sources.push_back({Value(), 0, d == 2 ? input.heads : input.headDim});
  }
  return sources;
}

/// Rewrites each tfm.shape that reads `value` (a value of the fused subgraph,
/// whose computation is to go away) to read the same dims from `sources`.
void redirectShapeReads(OpBuilder &b, Value value, ArrayRef<DimSource> sources) {
  for (Operation *user : llvm::make_early_inc_range(value.getUsers())) {
    auto shape = dyn_cast<tfm::ShapeOp>(user);
    if (!shape)
      continue;
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(shape);
    Location loc = shape.getLoc();
    auto i64 = b.getI64Type();
    SmallVector<Value> pieces;
    for (int64_t d = shape.getStart(); d < (int64_t)shape.getEnd(); ++d) {
      const DimSource &source = sources[d];
      if (source.value)
        pieces.push_back(b.create<tfm::ShapeOp>(
            loc, RankedTensorType::get({1}, i64), source.value,
            b.getI64IntegerAttr(source.dim), b.getI64IntegerAttr(source.dim + 1)));
      else
        pieces.push_back(b.create<tfm::ConstantOp>(
            loc, DenseElementsAttr::get(RankedTensorType::get({1}, i64),
                                        b.getI64IntegerAttr(source.constant))));
    }
    Value replacement =
        pieces.size() == 1
            ? pieces.front()
            : b.create<tfm::ConcatOp>(loc, shape.getType(), pieces,
                                      b.getI64IntegerAttr(0))
                  .getResult();
    shape.getResult().replaceAllUsesWith(replacement);
    shape.erase();
  }
}

/// The only user of `value` that reads its data rather than its shape.
Operation *getSingleDataUser(Value value) {
  Operation *found = nullptr;
  for (Operation *user : value.getUsers()) {
    if (isa<tfm::ShapeOp>(user))
      continue;
    if (found)
      return nullptr;
    found = user;
  }
  return found;
}

/// Whether `value` is (a chain of scalar scales, masks of) the q·kᵀ scores.
bool leadsToScores(Value value, int depth = 0) {
  Operation *def = value.getDefiningOp();
  if (!def || depth > 6)
    return false;
  if (isa<tfm::MatMulOp>(def))
    return true;
  if (isa<tfm::AddOp, tfm::MulOp, tfm::DivOp, tfm::WhereOp>(def))
    return llvm::any_of(def->getOperands(), [&](Value operand) {
      return leadsToScores(operand, depth + 1);
    });
  return false;
}

/// Whether `table`, sliced to `cond` (rows [rowStart, rowEnd), columns
/// [columnStart, columnEnd), an end unset where that dim is not sliced), is
/// the causal triangle built at run time: Trilu (lower, k 0) of an all-true
/// [L, L] (`torch.ones(L, L, dtype=bool).tril()`, GPT-2-style code with a
/// past), with L the keys' length, its rows [Lk - Lq, Lk) and all its
/// columns taken; or, unsliced, the queries' length equal to the keys'.
/// Row i of the slice is row i + Lk - Lq of the table, where j <= i + Lk -
/// Lq: the causal flag.
bool isRuntimeCausalTable(Value table, Value cond, bool negated,
                          const SymbolicDim &queries, const SymbolicDim &keys,
                          const SymbolicDim &rowStart, const SymbolicDim &columnStart,
                          const std::optional<SymbolicDim> &rowEnd,
                          const std::optional<SymbolicDim> &columnEnd) {
  auto trilu = table.getDefiningOp<tfm::TriluOp>();
  if (negated || !trilu || trilu.getUpper() ||
      cast<RankedTensorType>(trilu.getType()).getRank() != 2)
    return false;
  if (Value k = trilu.getK()) {
    FailureOr<SmallVector<int64_t>> kValue = tfm::getConstantIntValues(k);
    if (failed(kValue) || kValue->size() != 1 || kValue->front() != 0)
      return false;
  }
  auto filled = trilu.getInput().getDefiningOp<tfm::ConstantOfShapeOp>();
  if (!filled)
    return false;
  auto value = dyn_cast<DenseElementsAttr>(filled.getValue());
  if (!value || !value.isSplat() || !value.getElementType().isInteger(1) ||
      !value.getSplatValue<bool>())
    return false;
  if (getSymbolicDim(filled.getResult(), 0) != keys ||
      getSymbolicDim(filled.getResult(), 1) != keys)
    return false;
  if (table == cond)
    return queries == keys;
  // Rows [Lk - Lq, Lk) (an end past Lk clamps to it), every column.
  return rowStart == keys - queries && (!rowEnd || *rowEnd == keys) &&
         columnStart == SymbolicDim::ofConstant(0) &&
         (!columnEnd || *columnEnd == keys);
}

/// Whether boolean `cond` (or its negation, with `negated`) is the causal
/// triangle over the trailing [Lq, Lk] dims of `scores`: a key j is visible
/// to query i iff j <= i + (Lk - Lq).
bool isCausalCondition(Value cond, Value scores, bool negated) {
  // Looks through Not.
  while (auto notOp = dyn_cast_or_null<tfm::NotOp>(cond.getDefiningOp())) {
    cond = notOp.getInput();
    negated = !negated;
  }
  int64_t scoresRank = cast<RankedTensorType>(scores.getType()).getRank();
  SymbolicDim queries = getSymbolicDim(scores, scoresRank - 2);
  SymbolicDim keys = getSymbolicDim(scores, scoresRank - 1);
  // The slices of the mask table that GPT-2 exports: rows
  // [Lk - Lq, Lk) and columns [0, Lk) of a lower-triangular table.
  SymbolicDim rowStart = SymbolicDim::ofConstant(0);
  SymbolicDim columnStart = SymbolicDim::ofConstant(0);
  std::optional<SymbolicDim> rowEnd, columnEnd; // not sliced: the table's
  Value table = cond;
  while (auto slice = dyn_cast_or_null<tfm::SliceOp>(table.getDefiningOp())) {
    FailureOr<SmallVector<int64_t>> axes = tfm::getConstantIntValues(slice.getAxes());
    FailureOr<SmallVector<int64_t>> steps = tfm::getConstantIntValues(slice.getSteps());
    auto tableType = cast<RankedTensorType>(slice.getInput().getType());
    int64_t rank = tableType.getRank();
    if (failed(axes) || failed(steps) || rank < 2)
      return false;
    for (auto [i, axisValue] : llvm::enumerate(*axes)) {
      int64_t axis = axisValue < 0 ? axisValue + rank : axisValue;
      std::optional<SymbolicDim> start = getSymbolicElement(slice.getStarts(), i);
      if ((*steps)[i] != 1 || !start || (start->isConstant() && start->constant < 0))
        return false;
      std::optional<SymbolicDim> end = getSymbolicElement(slice.getEnds(), i);
      if (axis == rank - 2) {
        rowStart = *start;
        rowEnd = end;
      } else if (axis == rank - 1) {
        columnStart = *start;
        columnEnd = end;
      } else if (!(start->isConstant() && start->constant == 0)) {
        return false;
      }
    }
    table = slice.getInput();
  }
  std::optional<SmallVector<bool>> bits = getConstantBools(table);
  if (!bits)
    return isRuntimeCausalTable(table, cond, negated, queries, keys, rowStart,
                                columnStart, rowEnd, columnEnd);
  auto tableType = cast<RankedTensorType>(table.getType());
  int64_t rank = tableType.getRank();
  if (rank < 2)
    return false;
  int64_t rows = tableType.getDimSize(rank - 2), columns = tableType.getDimSize(rank - 1);
  if (columnStart != SymbolicDim::ofConstant(0))
    return false;
  // Without slices, the table itself must be [Lq, Lk]; with them, the rows
  // start at Lk - Lq of a table whose diagonal is j <= i.
  int64_t shift;
  if (table == cond) {
    if (!queries.isConstant() || !keys.isConstant() ||
        queries.constant != rows || keys.constant != columns)
      return false;
    shift = keys.constant - queries.constant;
  } else {
    if (rowStart != keys - queries)
      return false;
    shift = 0;
  }
  // Every leading slice of the table must be the same triangle.
  int64_t planes = tableType.getNumElements() / (rows * columns);
  for (int64_t plane = 0; plane < planes; ++plane)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < columns; ++j) {
        bool visible = (*bits)[(plane * rows + i) * columns + j] != negated;
        if (visible != (j <= i + shift))
          return false;
      }
  return true;
}

/// Whether an additive float mask is a constant causal triangle over the
/// scores' static [Lq, Lk]: 0 where visible, hidden (getHiddenFill)
/// elsewhere.
bool isCausalAdditiveMask(Value mask, Value scores) {
  std::optional<SmallVector<float>> floats = getConstantFloats(mask);
  if (!floats)
    return false;
  auto type = cast<RankedTensorType>(mask.getType());
  auto scoresType = cast<RankedTensorType>(scores.getType());
  int64_t rank = type.getRank(), scoresRank = scoresType.getRank();
  int64_t rows = scoresType.getDimSize(scoresRank - 2);
  int64_t columns = scoresType.getDimSize(scoresRank - 1);
  if (rank < 2 || ShapedType::isDynamic(rows) || ShapedType::isDynamic(columns) ||
      type.getDimSize(rank - 2) != rows || type.getDimSize(rank - 1) != columns)
    return false;
  int64_t shift = columns - rows;
  double hiddenFill = getHiddenFill(type.getElementType());
  for (int64_t n = 0; n < type.getNumElements(); ++n) {
    int64_t i = (n / columns) % rows, j = n % columns;
    double v = (*floats)[n];
    if (j <= i + shift ? v != 0.0 : v > hiddenFill)
      return false;
  }
  return true;
}

/// Whether an additive mask is the causal triangle built at run time, as
/// LLaMA-style code writes it: `full((L, L), -inf).triu(1)` (ConstantOfShape
/// or any splat of the hidden fill, Trilu upper with k 1), with leading dims
/// of 1 added, where L is both the scores' query and key length (provably,
/// through the shape graph): -inf exactly where the key comes after the
/// query, which is the causal flag with equal lengths.
bool isRuntimeCausalMask(Value mask, Value scores) {
  auto type = cast<RankedTensorType>(mask.getType());
  auto scoresType = cast<RankedTensorType>(scores.getType());
  int64_t rank = type.getRank(), scoresRank = scoresType.getRank();
  if (rank < 2 || llvm::any_of(type.getShape().drop_back(2),
                               [](int64_t d) { return d != 1; }))
    return false;
  Value triangle = mask;
  while (auto unsqueeze = triangle.getDefiningOp<tfm::UnsqueezeOp>())
    triangle = unsqueeze.getInput();
  auto trilu = triangle.getDefiningOp<tfm::TriluOp>();
  if (!trilu || !trilu.getUpper() ||
      cast<RankedTensorType>(trilu.getType()).getRank() != 2)
    return false;
  FailureOr<SmallVector<int64_t>> k = tfm::getConstantIntValues(trilu.getK());
  if (failed(k) || k->size() != 1 || k->front() != 1)
    return false;
  Value filled = trilu.getInput();
  std::optional<double> fill;
  if (auto constantOfShape = filled.getDefiningOp<tfm::ConstantOfShapeOp>()) {
    auto value = dyn_cast<DenseElementsAttr>(constantOfShape.getValue());
    if (value && value.isSplat() && isa<FloatType>(value.getElementType()))
      fill = value.getSplatValue<APFloat>().convertToDouble();
  } else {
    fill = getScalarConstant(filled);
  }
  if (!fill || *fill > getHiddenFill(type.getElementType()))
    return false;
  SymbolicDim queries = getSymbolicDim(scores, scoresRank - 2);
  SymbolicDim keys = getSymbolicDim(scores, scoresRank - 1);
  return queries == keys && getSymbolicDim(filled, 0) == queries &&
         getSymbolicDim(filled, 1) == keys;
}

/// `mask`, broadcastable to [B * N, Lq, Lk] scores, as a mask broadcastable
/// to [B, N, Lq, Lk]: missing leading dims become 1, then a folded batch dim
/// of size 1 becomes [1, 1] and any other is split into [B, N] (N static).
Value splitMaskHeads(OpBuilder &b, Location loc, Value mask, int64_t heads) {
  auto type = cast<RankedTensorType>(mask.getType());
  if (type.getRank() < 3) {
    SmallVector<int64_t> leading;
    for (int64_t i = 0; i < 3 - type.getRank(); ++i)
      leading.push_back(i);
    mask = b.create<tfm::UnsqueezeOp>(loc, mask, b.getDenseI64ArrayAttr(leading));
    type = cast<RankedTensorType>(mask.getType());
  }
  if (type.getDimSize(0) == 1)
    return b.create<tfm::UnsqueezeOp>(loc, mask, b.getDenseI64ArrayAttr({1}));
  auto i64Vector = [&](ArrayRef<int64_t> values) -> Value {
    return b.create<tfm::ConstantOp>(
        loc, DenseElementsAttr::get(
                 RankedTensorType::get({(int64_t)values.size()}, b.getI64Type()),
                 values));
  };
  Value trailing =
      b.create<tfm::ShapeOp>(loc, mask, b.getI64IntegerAttr(1), b.getI64IntegerAttr(3));
  Value shape = b.create<tfm::ConcatOp>(
      loc, ValueRange{i64Vector({-1, heads}), trailing}, b.getI64IntegerAttr(0));
  return b.create<tfm::ReshapeOp>(loc, mask, shape, b.getBoolAttr(false));
}

/// One of q, k and v as the fused op takes it: the token-major [B, L, N * d]
/// tensor the heads were split from (`traced`), or a head-major
/// [B, N, L, d] value, as it is.
struct AttentionInput {
  Value value;
  bool headMajor = false;
  int64_t heads = 0, headDim = 0;
  double scale = 1.0;
  std::optional<HeadInput> traced;
  /// A packed qkv ([B, L, parts * N * d]) unbound by a split: `value` is
  /// the packed tensor and the input its part `part` (a split of the last
  /// dim, made when the op is formed: a view, no copy).
  int64_t parts = 0, part = 0;
  int64_t lengthDim() const { return headMajor ? 2 : 1; }

  /// The token-major input a head split was traced to.
  static AttentionInput fromTraced(const HeadInput &traced) {
    AttentionInput input;
    input.value = traced.hidden;
    input.heads = traced.heads;
    input.headDim = traced.headDim;
    input.scale = traced.scale;
    input.traced = traced;
    return input;
  }
};

/// timm's packed qkv: `value` ([B, N, L, d]) is part i of
/// squeeze(split(transpose(reshape(X, [B, L, P, N, d]), [2, 0, 3, 1, 4]),
/// axis 0), 0) with X [B, L, P * N * d]: columns [i * N * d, (i + 1) * N * d)
/// of X, token-major.
std::optional<AttentionInput> traceUnboundQkv(Value value) {
  auto squeeze = value.getDefiningOp<tfm::SqueezeOp>();
  if (!squeeze || squeeze.getAxes() != ArrayRef<int64_t>{0})
    return std::nullopt;
  auto part = dyn_cast<OpResult>(squeeze.getInput());
  auto split = part ? dyn_cast<tfm::SplitOp>(part.getOwner()) : nullptr;
  if (!split || split.getAxis() != 0)
    return std::nullopt;
  auto transpose = split.getInput().getDefiningOp<tfm::TransposeOp>();
  if (!transpose || transpose.getPerm() != ArrayRef<int64_t>{2, 0, 3, 1, 4})
    return std::nullopt;
  auto reshape = transpose.getInput().getDefiningOp<tfm::ReshapeOp>();
  if (!reshape)
    return std::nullopt;
  auto from = cast<RankedTensorType>(reshape.getInput().getType());
  auto to = cast<RankedTensorType>(reshape.getType());
  if (from.getRank() != 3 || to.getRank() != 5 || from.isDynamicDim(2) ||
      to.isDynamicDim(2) || to.isDynamicDim(3) || to.isDynamicDim(4) ||
      from.getDimSize(2) != to.getDimSize(2) * to.getDimSize(3) * to.getDimSize(4) ||
      (int64_t)split.getNumResults() != to.getDimSize(2) ||
      !reshapeKeepsLeadingDims(reshape, 2))
    return std::nullopt;
  AttentionInput input;
  input.value = reshape.getInput();
  input.heads = to.getDimSize(3);
  input.headDim = to.getDimSize(4);
  input.parts = to.getDimSize(2);
  input.part = part.getResultNumber();
  return input;
}

/// `value` without the scalar constant factors on it (x * c, c * x, x / c),
/// their product in `scale`.
Value stripScalarScales(Value value, double &scale) {
  for (;;) {
    Operation *def = value.getDefiningOp();
    if (!isa_and_nonnull<tfm::MulOp, tfm::DivOp>(def))
      return value;
    bool isDiv = isa<tfm::DivOp>(def);
    std::optional<double> c = getScalarConstant(def->getOperand(1));
    Value other = def->getOperand(0);
    if (!c && !isDiv) {
      c = getScalarConstant(def->getOperand(0));
      other = def->getOperand(1);
    }
    if (!c || *c == 0.0 || other.getType() != def->getResult(0).getType())
      return value;
    scale *= isDiv ? 1.0 / *c : *c;
    value = other;
  }
}

/// The [B, Nkv, L, d] KV heads that `value` ([B, N, L, d]) only repeats,
/// as Hugging Face's repeat_kv writes it: reshape(expand(unsqueeze(kv, 2),
/// [B, Nkv, N / Nkv, L, d]), [B, N, L, d]); else `value`.
Value unrepeatKvHeads(Value value) {
  auto reshape = value.getDefiningOp<tfm::ReshapeOp>();
  if (!reshape)
    return value;
  auto expand = reshape.getInput().getDefiningOp<tfm::ExpandOp>();
  if (!expand)
    return value;
  auto unsqueeze = expand.getInput().getDefiningOp<tfm::UnsqueezeOp>();
  if (!unsqueeze || unsqueeze.getAxes() != ArrayRef<int64_t>{2})
    return value;
  Value kv = unsqueeze.getInput();
  auto kvType = cast<RankedTensorType>(kv.getType());
  auto result = cast<RankedTensorType>(value.getType());
  // Expand only broadcasts; with batch and length passing through to the
  // reshape's result and static heads N = Nkv * G, the element count fixes
  // the expanded group dim at G (exporters compute it, so its type may be
  // dynamic).
  if (kvType.getRank() != 4 || result.getRank() != 4 || kvType.isDynamicDim(1) ||
      kvType.isDynamicDim(3) || result.isDynamicDim(1) || result.isDynamicDim(3) ||
      result.getDimSize(1) % kvType.getDimSize(1) != 0 ||
      result.getDimSize(3) != kvType.getDimSize(3))
    return value;
  auto expanded = cast<RankedTensorType>(expand.getType());
  if (expanded.getRank() != 5 || expanded.getDimSize(1) != kvType.getDimSize(1) ||
      expanded.getDimSize(4) != kvType.getDimSize(3))
    return value;
  if (getSymbolicDim(value, 0) != getSymbolicDim(kv, 0) ||
      getSymbolicDim(value, 2) != getSymbolicDim(kv, 2))
    return value;
  return kv;
}

/// Which of attention's operands an input is: its name in remarks, and
/// what it may carry (q and k scalar factors, k and v repeated KV heads).
enum class Operand { Query, Key, Value };

StringRef operandName(Operand operand) {
  return operand == Operand::Query ? "the query"
         : operand == Operand::Key ? "the key"
                                   : "the value";
}

/// `value` ([B, N, L, d], what a matmul of attention reads, or for the key
/// the value under its kᵀ transpose) as an input of the fused op: traced to
/// the [B, L, N * d] projection when the heads were split from one, else
/// head-major as it is (k and v: the KV heads it repeats).
FailureOr<AttentionInput> resolveInput(Value value, Operand operand,
                                       std::string &why) {
  AttentionInput input;
  std::string traceWhy;
  StringRef role = operandName(operand);
  bool allowScale = operand != Operand::Value;
  bool kvHeads = operand != Operand::Query;
  if (kvHeads)
    value = unrepeatKvHeads(value);
  FailureOr<HeadInput> traced =
      traceHeadInput(value, {0, 2, 1, 3}, role, allowScale, traceWhy);
  if (succeeded(traced))
    return AttentionInput::fromTraced(*traced);
  if (std::optional<AttentionInput> unbound = traceUnboundQkv(value))
    return *unbound;
  if (allowScale)
    value = stripScalarScales(value, input.scale);
  if (kvHeads)
    value = unrepeatKvHeads(value);
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getRank() != 4 || type.isDynamicDim(1) || type.isDynamicDim(3)) {
    why = traceWhy + ", and it is not head-major [B, N, L, d] with static N and d";
    return failure();
  }
  input.value = value;
  input.headMajor = true;
  input.heads = type.getDimSize(1);
  input.headDim = type.getDimSize(3);
  return input;
}

/// `value` ([B * N, L, d], an operand of 3-D attention) as the [B, N, L, d]
/// value a reshape folded (heads static), or null.
Value unfoldHeads(Value value) {
  auto reshape = value.getDefiningOp<tfm::ReshapeOp>();
  if (!reshape)
    return Value();
  Value unfolded = reshape.getInput();
  auto type = cast<RankedTensorType>(unfolded.getType());
  if (type.getRank() != 4 || type.isDynamicDim(1) ||
      cast<RankedTensorType>(value.getType()).getRank() != 3)
    return Value();
  // The last two dims pass through; then the first is B * N.
  if (getSymbolicDim(value, 1) != getSymbolicDim(unfolded, 2) ||
      getSymbolicDim(value, 2) != getSymbolicDim(unfolded, 3))
    return Value();
  return unfolded;
}

/// `reshape` folding [B, N, Lq, Lk] scores back to the [B * N, Lq, Lk] of
/// `scoresType`, where those are a mask added to the 3-D scores unfolded
/// (`reshape(reshape(s) + mask)`): records the mask (of [B or 1, N or 1,
/// Lq, Lk], not computed from the scores) and returns s.
FailureOr<Value> peelHeadMask(tfm::ReshapeOp reshape, RankedTensorType scoresType,
                              SmallVectorImpl<Value> &headMasks) {
  auto add = reshape.getInput().getDefiningOp<tfm::AddOp>();
  if (!add || !add.getResult().hasOneUse())
    return failure();
  auto unfoldedType = cast<RankedTensorType>(add.getType());
  if (unfoldedType.getRank() != 4 || unfoldedType.isDynamicDim(1))
    return failure();
  for (bool lhsScores : {true, false}) {
    Value viewed = lhsScores ? add.getLhs() : add.getRhs();
    Value mask = lhsScores ? add.getRhs() : add.getLhs();
    auto unfold = viewed.getDefiningOp<tfm::ReshapeOp>();
    if (!unfold || unfold.getType() != unfoldedType || !viewed.hasOneUse() ||
        unfold.getInput().getType() != scoresType || leadsToScores(mask))
      continue;
    // Only the leading dim is split: Lq and Lk pass through both reshapes.
    Value scores = unfold.getInput();
    if (getSymbolicDim(scores, 1) != getSymbolicDim(viewed, 2) ||
        getSymbolicDim(scores, 2) != getSymbolicDim(viewed, 3) ||
        getSymbolicDim(reshape.getResult(), 1) != getSymbolicDim(viewed, 2) ||
        getSymbolicDim(reshape.getResult(), 2) != getSymbolicDim(viewed, 3))
      continue;
    auto maskType = cast<RankedTensorType>(mask.getType());
    if (maskType.getRank() != 4 ||
        (maskType.getDimSize(1) != 1 &&
         maskType.getDimSize(1) != unfoldedType.getDimSize(1)))
      continue;
    headMasks.push_back(mask);
    return scores;
  }
  return failure();
}

struct FuseAttentionPass
    : public tfc::impl::FuseAttentionBase<FuseAttentionPass> {
  using FuseAttentionBase::FuseAttentionBase;

  void runOnOperation() override {
    FusionRemarks remarks("attention", emitRemarks);
    SmallVector<tfm::SoftmaxOp> softmaxes;
    getOperation().walk([&](tfm::SoftmaxOp op) { softmaxes.push_back(op); });
    for (tfm::SoftmaxOp softmax : softmaxes)
      if (succeeded(fuse(softmax, remarks)))
        ++numAttention;
    IRRewriter rewriter(&getContext());
    (void)runRegionDCE(rewriter, getOperation()->getRegions());
  }

  LogicalResult fuse(tfm::SoftmaxOp softmax, const FusionRemarks &remarks) {
    auto scoresType = cast<RankedTensorType>(softmax.getType());
    int64_t rank = scoresType.getRank();
    // [B, N, Lq, Lk] scores, or [B * N, Lq, Lk] (torch's MultiheadAttention).
    if (rank != 4 && rank != 3)
      return remarks.reject(softmax, "the scores are not [B, N, Lq, Lk] or [B * N, Lq, Lk]");
    if ((int64_t)softmax.getAxis() != rank - 1)
      return remarks.reject(softmax, "softmax is not over the keys (last axis)");
    SmallVector<int64_t> queryPerm = rank == 4 ? SmallVector<int64_t>{0, 2, 1, 3}
                                               : SmallVector<int64_t>{1, 0, 2};
    SmallVector<int64_t> keyPerm = rank == 4 ? SmallVector<int64_t>{0, 2, 3, 1}
                                             : SmallVector<int64_t>{1, 2, 0};

    // Back from the softmax: masks, then the scale, then q·kᵀ.
    Value scores = softmax.getInput();
    double scale = 1.0;
    bool causal = false;
    SmallVector<Value> additiveMasks;
    // Additive masks on [B, N or 1, Lq, Lk] around [B * N, Lq, Lk] scores.
    SmallVector<Value> headMasks;
    SmallVector<std::pair<Value, bool>> conditionMasks; // (cond, visible-if-true)
    SmallVector<double> conditionFills;
    bool sawScale = false;
    tfm::MatMulOp qk;
    SmallVector<Value> scoreValues = {softmax.getResult()};
    for (;;) {
      scoreValues.push_back(scores);
      Operation *def = scores.getDefiningOp();
      if (!def || def->getResult(0).getType() != scoresType)
        return remarks.reject(softmax, "an op before the softmax changes the scores' shape");
      if (auto matmul = dyn_cast<tfm::MatMulOp>(def)) {
        qk = matmul;
        break;
      }
      if (auto reshape = dyn_cast<tfm::ReshapeOp>(def); reshape && rank == 3) {
        // Hugging Face's 3-D attention (BART, Whisper, Marian) adds its
        // mask to the scores viewed as [B, N, Lq, Lk], then folds them back.
        FailureOr<Value> inner = peelHeadMask(reshape, scoresType, headMasks);
        if (failed(inner))
          return remarks.reject(softmax, "the scores come from a tfm.reshape that is "
                                         "not a mask added to them viewed as "
                                         "[B, N, Lq, Lk]");
        if (sawScale)
          return remarks.reject(softmax, "a mask is added before the scale");
        scoreValues.push_back(reshape.getInput());
        scores = *inner;
        continue;
      }
      if (auto add = dyn_cast<tfm::AddOp>(def)) {
        if (sawScale)
          return remarks.reject(softmax, "a mask is added before the scale");
        bool lhsScores = leadsToScores(add.getLhs());
        Value mask = lhsScores ? add.getRhs() : add.getLhs();
        scores = lhsScores ? add.getLhs() : add.getRhs();
        if (cast<RankedTensorType>(mask.getType()).getRank() > 4)
          return remarks.reject(softmax, "the mask has rank above 4");
        if (isCausalAdditiveMask(mask, scores) || isRuntimeCausalMask(mask, scores))
          causal = true;
        else
          additiveMasks.push_back(mask);
        continue;
      }
      if (auto where = dyn_cast<tfm::WhereOp>(def)) {
        if (sawScale)
          return remarks.reject(softmax, "a mask is applied before the scale");
        bool scoresIfTrue = leadsToScores(where.getLhs());
        Value fill = scoresIfTrue ? where.getRhs() : where.getLhs();
        std::optional<double> fillValue = getScalarConstant(fill);
        if (!fillValue || *fillValue > getHiddenFill(scoresType.getElementType()))
          return remarks.reject(
              softmax, "the masked fill is not -inf, the type's lowest value or below -1e30");
        scores = scoresIfTrue ? where.getLhs() : where.getRhs();
        if (isCausalCondition(where.getCondition(), scores, !scoresIfTrue)) {
          causal = true;
        } else {
          conditionMasks.push_back({where.getCondition(), scoresIfTrue});
          conditionFills.push_back(*fillValue);
        }
        continue;
      }
      if (isa<tfm::DivOp, tfm::MulOp>(def)) {
        Value lhs = def->getOperand(0), rhs = def->getOperand(1);
        std::optional<double> c = getScalarConstant(rhs);
        Value rest = lhs;
        if (!c && isa<tfm::MulOp>(def)) {
          c = getScalarConstant(lhs);
          rest = rhs;
        }
        if (!c || *c == 0.0)
          return remarks.reject(softmax, "the scores are scaled by a non-constant");
        scale *= isa<tfm::DivOp>(def) ? 1.0 / *c : *c;
        sawScale = true;
        scores = rest;
        continue;
      }
      return remarks.reject(softmax, Twine("the scores come from ") +
                                         def->getName().getStringRef() +
                                         ", not q·kᵀ");
    }

    std::string why;
    auto pv = dyn_cast_or_null<tfm::MatMulOp>(getSingleDataUser(softmax));
    if (!pv || pv.getLhs() != softmax.getResult())
      return remarks.reject(softmax, "the probabilities are not only multiplied by v");
    // q, k and v, and after p·v the op that puts the heads back in the
    // sequence layout ([B, Lq, N, dv], or [Lq, B * N, dv]).
    FailureOr<AttentionInput> query, key, value;
    Operation *lastOfOutput = pv;
    bool sequenceFirst = false;
    if (rank == 4) {
      query = resolveInput(qk.getLhs(), Operand::Query, why);
      if (failed(query))
        return remarks.reject(softmax, why);
      // kᵀ: traced to the projection through its composed transposes, else
      // the head-major value under a [0, 1, 3, 2] transpose.
      FailureOr<HeadInput> traced =
          traceHeadInput(qk.getRhs(), keyPerm, "the key", /*allowScale=*/true, why);
      if (succeeded(traced)) {
        key = AttentionInput::fromTraced(*traced);
      } else {
        double keyScale = 1.0;
        Value rhs = stripScalarScales(qk.getRhs(), keyScale);
        auto transpose = rhs.getDefiningOp<tfm::TransposeOp>();
        if (!transpose || transpose.getPerm() != ArrayRef<int64_t>{0, 1, 3, 2})
          return remarks.reject(softmax, why);
        key = resolveInput(transpose.getInput(), Operand::Key, why);
        if (failed(key))
          return remarks.reject(softmax, why);
        key->scale *= keyScale;
      }
      value = resolveInput(pv.getRhs(), Operand::Value, why);
      if (failed(value))
        return remarks.reject(softmax, why);
    } else {
      // torch's MultiheadAttention: [L, B * N, d] split from [L, B, N * d].
      FailureOr<HeadInput> q =
          traceHeadInput(qk.getLhs(), queryPerm, "the query", true, why);
      FailureOr<HeadInput> k =
          succeeded(q) ? traceHeadInput(qk.getRhs(), keyPerm, "the key", true, why)
                       : FailureOr<HeadInput>(failure());
      FailureOr<HeadInput> v =
          succeeded(k) ? traceHeadInput(pv.getRhs(), queryPerm, "the value", false, why)
                       : FailureOr<HeadInput>(failure());
      if (succeeded(v)) {
        sequenceFirst = true;
        query = AttentionInput::fromTraced(*q);
        key = AttentionInput::fromTraced(*k);
        value = AttentionInput::fromTraced(*v);
      } else {
        // BART, Whisper: bmm over [B * N, L, d] folded from [B, N, L, d].
        double qScale = 1.0, kScale = 1.0;
        Value q4 = unfoldHeads(stripScalarScales(qk.getLhs(), qScale));
        auto kT = stripScalarScales(qk.getRhs(), kScale).getDefiningOp<tfm::TransposeOp>();
        Value k4 = kT && kT.getPerm() == ArrayRef<int64_t>{0, 2, 1}
                       ? unfoldHeads(kT.getInput())
                       : Value();
        Value v4 = unfoldHeads(pv.getRhs());
        if (!q4 || !k4 || !v4)
          return remarks.reject(
              softmax, Twine(why) + "; nor are q, k and v [B * N, L, d] folded "
                                    "from [B, N, L, d] by reshapes");
        query = resolveInput(q4, Operand::Query, why);
        if (succeeded(query))
          key = resolveInput(k4, Operand::Key, why);
        if (succeeded(query) && succeeded(key))
          value = resolveInput(v4, Operand::Value, why);
        if (failed(query) || failed(key) || failed(value))
          return remarks.reject(softmax, why);
        query->scale *= qScale;
        key->scale *= kScale;
        // [B * N, Lq, dv] back to [B, N, Lq, dv] before the transpose.
        auto unfold = dyn_cast_or_null<tfm::ReshapeOp>(getSingleDataUser(pv));
        auto unfoldType =
            unfold ? cast<RankedTensorType>(unfold.getType()) : RankedTensorType();
        // [X, N, Y, dv] with X * Y = B * Lq: X proven B makes Y Lq.
        if (!unfold || unfoldType.getRank() != 4 ||
            unfoldType.getDimSize(1) != query->heads ||
            getSymbolicDim(unfold.getResult(), 0) != getSymbolicDim(query->value, 0))
          return remarks.reject(softmax, "the output is not unfolded to [B, N, Lq, dv]");
        lastOfOutput = unfold;
      }
    }

    // Forward from p·v: the heads transposed back to [B, Lq, N, dv] (or
    // [Lq, B * N, dv]) and merged by a reshape.
    SmallVector<int64_t> backPerm =
        sequenceFirst ? queryPerm : SmallVector<int64_t>{0, 2, 1, 3};
    auto back = dyn_cast_or_null<tfm::TransposeOp>(
        getSingleDataUser(lastOfOutput->getResult(0)));
    if (!back || back.getPerm() != ArrayRef<int64_t>(backPerm))
      return remarks.reject(softmax, "the output is not transposed back to the sequence layout");
    auto merge = dyn_cast_or_null<tfm::ReshapeOp>(getSingleDataUser(back));
    if (!merge)
      return remarks.reject(softmax, "the heads are not merged back by a reshape");

    if (query->heads % key->heads != 0 || key->heads != value->heads ||
        query->headDim != key->headDim)
      return remarks.reject(softmax, "q, k and v disagree on the heads");
    // The fused op needs equal batches where the matmuls would broadcast.
    int64_t batchDim = sequenceFirst ? 1 : 0;
    auto batchOf = [&](const AttentionInput &in) {
      return getSymbolicDim(in.value, batchDim);
    };
    auto lengthOf = [&](const AttentionInput &in) {
      return getSymbolicDim(in.value, sequenceFirst ? 0 : in.lengthDim());
    };
    if (batchOf(*query) != batchOf(*key) || batchOf(*key) != batchOf(*value))
      return remarks.reject(softmax, "q, k and v batches are not provably equal");
    if (lengthOf(*key) != lengthOf(*value))
      return remarks.reject(softmax, "k and v lengths are not provably equal");
    for (const AttentionInput *in : {&*query, &*key, &*value})
      if (cast<RankedTensorType>(in->value.getType()).getElementType() !=
          scoresType.getElementType())
        return remarks.reject(softmax, "q, k and v element types differ");
    scale *= query->scale * key->scale;

    OpBuilder b(merge);
    Location loc = merge.getLoc();
    Type element = scoresType.getElementType();
    auto scalar = [&](double v) -> Value {
      return b.create<tfm::ConstantOp>(
          loc, DenseElementsAttr::get(RankedTensorType::get({}, element),
                                      b.getFloatAttr(element, v)));
    };
    // The mask operand: additive masks summed, conditions made additive.
    Value mask;
    auto accumulate = [&](Value next) {
      mask = mask ? b.create<tfm::AddOp>(loc, mask, next).getResult() : next;
    };
    for (auto [conditionAndSense, fill] : llvm::zip(conditionMasks, conditionFills)) {
      auto [condition, visibleIfTrue] = conditionAndSense;
      Value zero = scalar(0.0), hidden = scalar(fill);
      accumulate(b.create<tfm::WhereOp>(loc, condition,
                                        visibleIfTrue ? zero : hidden,
                                        visibleIfTrue ? hidden : zero));
    }
    for (Value additive : additiveMasks)
      accumulate(additive);
    // A mask on [B * N, Lq, Lk] scores (torch's MultiheadAttention) becomes
    // one on [B, N, Lq, Lk]: row b * N + n of the folded batch is (b, n).
    if (mask && rank == 3)
      mask = splitMaskHeads(b, loc, mask, query->heads);
    for (Value headMask : headMasks)
      accumulate(headMask);

    // The sequence-first layout is transposed to [B, L, H] around the op:
    // a copy of q, k, v and the output, small next to the attention itself.
    auto operand = [&](const AttentionInput &in) -> Value {
      if (in.parts) {
        auto packed = cast<RankedTensorType>(in.value.getType());
        SmallVector<int64_t> shape(packed.getShape());
        shape.back() /= in.parts;
        SmallVector<Type> partTypes(in.parts,
                                    RankedTensorType::get(shape, packed.getElementType()));
        auto split = b.create<tfm::SplitOp>(
            loc, partTypes, in.value, b.getI64IntegerAttr(2),
            b.getI64IntegerAttr(in.parts),
            b.getDenseI64ArrayAttr(SmallVector<int64_t>(in.parts, shape.back())));
        return split.getResult(in.part);
      }
      if (!sequenceFirst)
        return in.value;
      return b.create<tfm::TransposeOp>(loc, in.value, b.getDenseI64ArrayAttr({1, 0, 2}));
    };
    auto attention = b.create<tfm::AttentionOp>(
        b.getFusedLoc({softmax.getLoc(), loc}), operand(*query), operand(*key),
        operand(*value), mask, b.getI64IntegerAttr(query->heads),
        b.getF32FloatAttr(scale), b.getBoolAttr(causal));
    std::string detail;
    llvm::raw_string_ostream os(detail);
    os << query->heads << " heads of " << query->headDim << ", scale " << scale;
    if (key->heads != query->heads)
      os << ", " << key->heads << " KV heads";
    if (sequenceFirst)
      os << ", sequence-first";
    else if (rank == 3)
      os << ", 3-D";
    SmallVector<StringRef> headMajor;
    const AttentionInput *inputs[] = {&*query, &*key, &*value};
    const StringRef names[] = {"q", "k", "v"};
    for (auto [in, name] : llvm::zip(inputs, names))
      if (in->headMajor)
        headMajor.push_back(name);
    if (!headMajor.empty())
      os << ", head-major " << llvm::join(headMajor, ", ");
    if (causal)
      os << ", causal";
    if (mask)
      os << ", masked";
    remarks.fused(softmax, os.str());

    // [B, Lq, N * dv] has the elements of [B, Lq, N, dv] in the same order,
    // as [Lq, B, N * dv] has those of [Lq, B * N, dv]: the merge reshape
    // takes the fused result instead, and folds away when it was only the
    // head merge.
    auto mergedType = cast<RankedTensorType>(merge.getType());
    if (!sequenceFirst && mergedType.getRank() == 3 && reshapeKeepsLeadingDims(merge, 2) &&
        succeeded(verifyCompatibleShape(mergedType, attention.getType()))) {
      attention.getResult().setType(mergedType);
      merge.getResult().replaceAllUsesWith(attention.getResult());
    } else {
      Value result = attention.getResult();
      if (sequenceFirst)
        result = b.create<tfm::TransposeOp>(loc, result, b.getDenseI64ArrayAttr({1, 0, 2}));
      merge.getInputMutable().assign(result);
    }

    // Shape reads of the fused values (exporters compute reshape targets and
    // mask slices from them) must not keep those values alive.
    for (const AttentionInput *input : {&*query, &*key, &*value})
      if (input->traced)
        for (auto &[reached, reshapeDims] : input->traced->path)
          if (std::optional<DimSources> sources =
                  dimSourcesOf(*input->traced, reshapeDims))
            redirectShapeReads(b, reached, *sources);
    if (rank == 4) {
      DimSource batch{query->value, 0, 0},
          queries{query->value, query->lengthDim(), 0},
          keys{key->value, key->lengthDim(), 0}, heads{Value(), 0, query->heads},
          valueDim{Value(), 0, value->headDim};
      for (Value v : scoreValues)
        redirectShapeReads(b, v, DimSources{batch, heads, queries, keys});
      redirectShapeReads(b, pv.getResult(), DimSources{batch, heads, queries, valueDim});
      redirectShapeReads(b, back.getResult(), DimSources{batch, queries, heads, valueDim});
    }
    return success();
  }
};

} // namespace
