//===- SequenceState.cpp - the tfm-sequence-state pass --------------------===//
//
// `tfc compile --decoder` compiles a model to be run along its sequence: a
// prefill on the first tokens, then steps on the next ones, each step's
// outputs the last rows of what a run on the whole sequence so far would
// give. That holds when every op but causal linear attention computes each
// position from that position alone, and causal linear attention carries a
// state (S and z per head) from one call to the next, kept in the instance.
//
// This pass proves the first and numbers the states. It follows, for every
// value, how it relates to the sequence:
//
//   along dim d   its slices along d are positions of the sequence (the
//                 inputs' sequence dims, and what is computed from them
//                 position by position);
//   free          the same in every call (weights, constants, and what is
//                 computed from them);
//   length        computed from the sequence's length (a Shape read, and
//                 the arithmetic on it), which a step does not see: allowed
//                 only as a reshape's target, where the reshape provably
//                 keeps the dims up to the sequence's.
//   offset, end   the position the call starts at (tfm.sequence_offset:
//                 the past length of a model with past keys and values)
//                 and that plus the call's length: allowed only as a
//                 Range's bounds, which then counts the call's positions.
//
// Causal softmax attention without a mask keeps a KV cache in the instance
// (the kernel appends each call's keys and values and attends to all of
// them). A model exported with past keys and values gets one too: where
// the attention's keys and values are concat(past, new) along their length
// and the past comes from graph inputs, the attention takes the new ones,
// the past inputs' length becomes tfm.sequence_offset, and the inputs and
// the outputs computed from them (the presents) leave the signature.
//
// Anything it cannot prove (softmax attention, prefix sums or reductions
// over the sequence, positions computed from the length, a non-causal
// linear attention) is an error naming the op, so no model compiles to
// steps that differ from its whole-sequence run.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Passes.h"

#include "FusionUtils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "tfm/TfmOps.h"

#include "mlir/IR/Matchers.h"
#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_SEQUENCESTATE
#include "tfc/Transforms/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

namespace {

/// How a value relates to the sequence (see the file comment).
struct Flow {
  enum Kind { Free, Length, Along, Offset, End } kind = Free;
  int64_t dim = -1; // Along: the sequence's dim
  static Flow along(int64_t dim) { return {Along, dim}; }
};

int64_t rankOf(Value value) {
  return cast<RankedTensorType>(value.getType()).getRank();
}

/// `axis` of a tensor of `rank` in [0, rank).
int64_t normalized(int64_t axis, int64_t rank) {
  return axis < 0 ? axis + rank : axis;
}

class Prover {
public:
  Flow flowOf(Value value) const {
    auto it = flows.find(value);
    return it == flows.end() ? Flow() : it->second;
  }

  /// The flow of `op`'s results, or failure after an error on `op`.
  LogicalResult visit(Operation *op);

  LogicalResult reject(Operation *op, const Twine &reason) {
    std::string nodes = tfm::describeNodes(op->getLoc());
    InFlightDiagnostic error = op->emitError()
                               << "--decoder: '" << op->getName() << "'";
    if (!nodes.empty())
      error << " (" << nodes << ")";
    return error << " cannot run along the sequence: " << reason;
  }

  llvm::DenseMap<Value, Flow> flows;
  int64_t numStates = 0;

private:
  LogicalResult setAll(Operation *op, Flow flow) {
    for (Value result : op->getResults())
      flows[result] = flow;
    return success();
  }
  /// Elementwise with numpy broadcasting over `operands`. With
  /// `reducedAxis`, the op also reduces over the dims from that axis on
  /// (`trailing`: the norms) or over that one axis (softmax).
  LogicalResult visitElementwise(Operation *op, ValueRange operands,
                                 std::optional<int64_t> reducedAxis,
                                 bool trailing);
  LogicalResult visitLinear(Operation *op, Value input,
                            ValueRange others);
  /// An op on the call's start position (offset or end flows).
  LogicalResult visitPositions(Operation *op);
  /// Range(0, length, 1), the positions of a whole-sequence run, made to
  /// count from the call's start: Range(offset, offset + length, 1). Fails,
  /// changing nothing, on any other range.
  LogicalResult countFromCallStart(tfm::RangeOp range);
  /// table[0 : length] along one axis of a free table (a learned position
  /// table cut to the sequence's length), made to start at the call's
  /// start: table[offset : offset + length]. Fails, changing nothing, on
  /// any other slice.
  LogicalResult sliceFromCallStart(tfm::SliceOp slice);
  /// The call's positions as bounds for a Range or Slice that counted
  /// from 0 to `length`: the call's start as a tensor of `type` (i64, 0-D
  /// or of one element) and that plus `length`, their flows recorded.
  std::pair<Value, Value> callBounds(OpBuilder &b, Location loc, Type type,
                                     Value length);
};

std::pair<Value, Value> Prover::callBounds(OpBuilder &b, Location loc,
                                           Type type, Value length) {
  Value offset = b.create<tfm::SequenceOffsetOp>(loc);
  auto tensorType = cast<RankedTensorType>(type);
  if (tensorType.getRank() == 0)
    offset = b.create<tfm::SqueezeOp>(loc, offset, b.getDenseI64ArrayAttr({0}));
  if (!tensorType.getElementType().isInteger(64))
    offset = b.create<tfm::CastOp>(loc, offset,
                                   TypeAttr::get(tensorType.getElementType()));
  Value end = b.create<tfm::AddOp>(loc, offset, length);
  flows[offset] = Flow{Flow::Offset, -1};
  flows[end] = Flow{Flow::End, -1};
  return {offset, end};
}

LogicalResult Prover::sliceFromCallStart(tfm::SliceOp slice) {
  DenseIntElementsAttr starts, axes, steps;
  if (flowOf(slice.getInput()).kind != Flow::Free ||
      flowOf(slice.getEnds()).kind != Flow::Length ||
      !matchPattern(slice.getStarts(), m_Constant(&starts)) ||
      !matchPattern(slice.getAxes(), m_Constant(&axes)) ||
      !matchPattern(slice.getSteps(), m_Constant(&steps)) ||
      starts.getNumElements() != 1 || axes.getNumElements() != 1 ||
      steps.getNumElements() != 1 || !(*starts.value_begin<APInt>()).isZero() ||
      *steps.value_begin<APInt>() != 1 ||
      cast<RankedTensorType>(slice.getEnds().getType()).getRank() != 1)
    return failure();
  OpBuilder b(slice);
  auto [offset, end] = callBounds(b, slice.getLoc(), slice.getStarts().getType(),
                                  slice.getEnds());
  slice.getStartsMutable().assign(offset);
  slice.getEndsMutable().assign(end);
  int64_t axis = (*axes.value_begin<APInt>()).getSExtValue();
  return setAll(slice, Flow::along(normalized(axis, rankOf(slice.getInput()))));
}

LogicalResult Prover::countFromCallStart(tfm::RangeOp range) {
  APInt start, delta;
  if (!matchPattern(range.getStart(), m_ConstantInt(&start)) || !start.isZero() ||
      !matchPattern(range.getDelta(), m_ConstantInt(&delta)) || delta != 1 ||
      flowOf(range.getLimit()).kind != Flow::Length)
    return failure();
  OpBuilder b(range);
  auto [offset, end] = callBounds(b, range.getLoc(), range.getStart().getType(),
                                  range.getLimit());
  range.getStartMutable().assign(offset);
  range.getLimitMutable().assign(end);
  return setAll(range, Flow::along(0));
}

LogicalResult Prover::visitPositions(Operation *op) {
  auto kindOf = [&](Value value) { return flowOf(value).kind; };
  if (auto range = dyn_cast<tfm::RangeOp>(op)) {
    // Range(offset, offset + length, 1): the call's own positions.
    APInt delta;
    if (kindOf(range.getStart()) == Flow::Offset &&
        kindOf(range.getLimit()) == Flow::End &&
        matchPattern(range.getDelta(), m_ConstantInt(&delta)) && delta == 1)
      return setAll(op, Flow::along(0));
    return reject(op, "it is not Range(start, start + length, 1) on the "
                      "call's start position");
  }
  if (isa<tfm::AddOp>(op)) {
    Flow::Kind lhs = kindOf(op->getOperand(0)), rhs = kindOf(op->getOperand(1));
    if ((lhs == Flow::Offset && rhs == Flow::Length) ||
        (lhs == Flow::Length && rhs == Flow::Offset))
      return setAll(op, Flow{Flow::End, -1});
  }
  // Casts and reshapes of the one number.
  if (isa<tfm::CastOp, tfm::SqueezeOp, tfm::UnsqueezeOp, tfm::ReshapeOp>(op)) {
    bool othersFree = llvm::all_of(op->getOperands().drop_front(), [&](Value v) {
      return kindOf(v) == Flow::Free;
    });
    if (othersFree)
      return setAll(op, flowOf(op->getOperand(0)));
  }
  return reject(op, "it uses the position the call starts at (the past "
                    "length) other than as a Range's bounds");
}

LogicalResult Prover::visitElementwise(Operation *op, ValueRange operands,
                                       std::optional<int64_t> reducedAxis,
                                       bool trailing) {
  int64_t rank = rankOf(op->getResult(0));
  int64_t dim = -1;
  for (Value operand : operands) {
    Flow flow = flowOf(operand);
    if (flow.kind == Flow::Length || flow.kind == Flow::Offset ||
        flow.kind == Flow::End)
      return reject(op, "it combines the data with a value computed from the "
                        "sequence's length or start (positions from Range or "
                        "Shape), which a step does not see");
    if (flow.kind != Flow::Along)
      continue;
    int64_t aligned = flow.dim + (rank - rankOf(operand));
    if (dim >= 0 && aligned != dim)
      return reject(op, "its operands run along the sequence in different "
                        "dims");
    dim = aligned;
  }
  // A free operand must be the same at every position: absent or of size 1
  // at the sequence's dim (a position table of the length's size is not).
  for (Value operand : operands) {
    if (flowOf(operand).kind != Flow::Free)
      continue;
    auto type = cast<RankedTensorType>(operand.getType());
    int64_t aligned = dim - (rank - type.getRank());
    if (aligned >= 0 && type.getDimSize(aligned) != 1)
      return reject(op, "it combines the data with a tensor that varies "
                        "along the sequence (a table of positions?)");
  }
  if (reducedAxis) {
    int64_t axis = normalized(*reducedAxis, rank);
    if (trailing ? dim >= axis : dim == axis)
      return reject(op, "it normalizes over the sequence's dim");
  }
  return setAll(op, Flow::along(dim));
}

LogicalResult Prover::visitLinear(Operation *op, Value input,
                                  ValueRange others) {
  Flow flow = flowOf(input);
  if (flow.kind != Flow::Along || flow.dim >= rankOf(input) - 1)
    return reject(op, "its input does not run along the sequence in a dim "
                      "other than the contracted one");
  int64_t dim = flow.dim + (rankOf(op->getResult(0)) - rankOf(input));
  for (Value other : others) {
    Flow otherFlow = flowOf(other);
    if (otherFlow.kind != Flow::Free && otherFlow.kind != Flow::Along)
      return reject(op, "an operand is computed from the sequence's length");
    // A residual runs along the sequence like the result; weights and
    // biases are free.
    if (otherFlow.kind == Flow::Along &&
        otherFlow.dim + (rankOf(op->getResult(0)) - rankOf(other)) != dim)
      return reject(op, "it multiplies two tensors that both run along the "
                        "sequence (attention that is not linear attention)");
  }
  return setAll(op, Flow::along(dim));
}

LogicalResult Prover::visit(Operation *op) {
  if (op->hasTrait<OpTrait::IsTerminator>() || op->getNumResults() == 0)
    return success();
  if (isa<tfm::SequenceOffsetOp>(op))
    return setAll(op, Flow{Flow::Offset, -1});
  bool along = false, length = false, position = false;
  for (Value operand : op->getOperands()) {
    Flow flow = flowOf(operand);
    along |= flow.kind == Flow::Along;
    length |= flow.kind == Flow::Length;
    position |= flow.kind == Flow::Offset || flow.kind == Flow::End;
  }
  if (position)
    return visitPositions(op);
  if (auto range = dyn_cast<tfm::RangeOp>(op))
    if (succeeded(countFromCallStart(range)))
      return success();
  if (auto slice = dyn_cast<tfm::SliceOp>(op))
    if (succeeded(sliceFromCallStart(slice)))
      return success();
  if (auto shape = dyn_cast<tfm::ShapeOp>(op)) {
    Flow input = flowOf(shape.getInput());
    int64_t rank = rankOf(shape.getInput());
    int64_t start = std::clamp<int64_t>(normalized(shape.getStart(), rank), 0, rank);
    int64_t end = std::clamp<int64_t>(normalized(shape.getEnd(), rank), 0, rank);
    bool readsLength = input.kind == Flow::Along && start <= input.dim &&
                       input.dim < end;
    return setAll(op, readsLength ? Flow{Flow::Length, -1} : Flow());
  }
  if (!along)
    return setAll(op, length ? Flow{Flow::Length, -1} : Flow());

  // An embedding: free data picked by indices that run along the sequence,
  // which the result then runs along at the gather's axis.
  if (auto gather = dyn_cast<tfm::GatherOp>(op)) {
    Flow indices = flowOf(gather.getIndices());
    if (flowOf(gather.getInput()).kind == Flow::Free &&
        indices.kind == Flow::Along)
      return setAll(op, Flow::along(normalized(gather.getAxis(),
                                               rankOf(gather.getInput())) +
                                    indices.dim));
  }

  if (auto attention = dyn_cast<tfm::LinearAttentionOp>(op)) {
    for (Value operand : {attention.getQuery(), attention.getKey(),
                          attention.getValue()}) {
      Flow flow = flowOf(operand);
      if (flow.kind != Flow::Along || flow.dim != 1)
        return reject(op, "q, k and v must each run along the sequence in "
                          "dim 1");
    }
    if (Value decay = attention.getDecay())
      if (flowOf(decay).kind != Flow::Free)
        return reject(op, "its decay changes with the sequence");
    if (!attention.getCausal())
      return reject(op, "it is not causal: every position sees keys that "
                        "come later");
    if (attention.getWindow() > 0)
      return reject(op, "its sliding window of exact weights needs the "
                        "window's keys, which the state does not keep");
    op->setAttr(kSequenceStateAttr,
                IntegerAttr::get(IntegerType::get(op->getContext(), 64),
                                 numStates++));
    return setAll(op, Flow::along(1));
  }
  if (auto attention = dyn_cast<tfm::AttentionOp>(op)) {
    // Token-major [B, L, N * d] operands run along dim 1, head-major
    // [B, N, L, d] ones along dim 2.
    for (Value operand : {attention.getQuery(), attention.getKey(),
                          attention.getValue()}) {
      Flow flow = flowOf(operand);
      if (flow.kind != Flow::Along || flow.dim != (rankOf(operand) == 4 ? 2 : 1))
        return reject(op, "q, k and v must each run along the sequence in "
                          "their length dim");
    }
    if (!attention.getCausal())
      return reject(op, "it is not causal: every position sees keys that "
                        "come later");
    if (attention.getMask())
      return reject(op, "it adds a mask over the keys, which a KV cache "
                        "does not keep yet");
    op->setAttr(kSequenceStateAttr,
                IntegerAttr::get(IntegerType::get(op->getContext(), 64),
                                 numStates++));
    return setAll(op, Flow::along(1));
  }
  if (auto norm = dyn_cast<tfm::LayerNormOp>(op))
    return visitElementwise(op, op->getOperands(), norm.getAxis(), true);
  if (auto norm = dyn_cast<tfm::AddLayerNormOp>(op))
    return visitElementwise(op, op->getOperands(), norm.getAxis(), true);
  if (auto norm = dyn_cast<tfm::RmsNormOp>(op))
    return visitElementwise(op, op->getOperands(), norm.getAxis(), true);
  if (auto softmax = dyn_cast<tfm::SoftmaxOp>(op))
    return visitElementwise(op, op->getOperands(), softmax.getAxis(), false);
  if (isBroadcastingElementwise(op))
    return visitElementwise(op, op->getOperands(), std::nullopt, false);

  if (auto linear = dyn_cast<tfm::LinearOp>(op))
    return visitLinear(op, linear.getInput(),
                       op->getOperands().drop_front());
  if (auto linear = dyn_cast<tfm::QuantizedLinearOp>(op))
    return visitLinear(op, op->getOperand(0), op->getOperands().drop_front());
  if (auto matmul = dyn_cast<tfm::MatMulOp>(op)) {
    if (flowOf(matmul.getRhs()).kind != Flow::Free)
      return reject(op, "it multiplies two tensors that run along the "
                        "sequence (attention that is not linear attention)");
    return visitLinear(op, matmul.getLhs(), {});
  }
  if (auto gemm = dyn_cast<tfm::GemmOp>(op)) {
    if (gemm.getTransA())
      return reject(op, "it contracts over its input's rows");
    return visitLinear(op, gemm.getA(), op->getOperands().drop_front());
  }

  Value input = op->getOperand(0);
  Flow in = flowOf(input);
  int64_t inRank = rankOf(input);
  for (Value operand : op->getOperands().drop_front())
    if (flowOf(operand).kind != Flow::Free &&
        !(isa<tfm::ReshapeOp, tfm::ConcatOp>(op)))
      return reject(op, "an operand other than its data depends on the "
                        "sequence");
  if (auto reshape = dyn_cast<tfm::ReshapeOp>(op)) {
    // The target may be read from the shape (so computed from the length):
    // what matters is that the dims up to the sequence's stay.
    if (in.kind != Flow::Along ||
        !reshapeKeepsLeadingDims(reshape, in.dim + 1))
      return reject(op, "it does not provably keep the dims up to the "
                        "sequence's: it would move data across positions");
    return setAll(op, in);
  }
  if (in.kind != Flow::Along)
    return reject(op, "its data does not run along the sequence but "
                      "another operand does");
  if (auto transpose = dyn_cast<tfm::TransposeOp>(op)) {
    for (auto [to, from] : llvm::enumerate(transpose.getPerm()))
      if (from == in.dim)
        return setAll(op, Flow::along(to));
    return reject(op, "its permutation drops the sequence's dim");
  }
  if (auto unsqueeze = dyn_cast<tfm::UnsqueezeOp>(op)) {
    int64_t outRank = rankOf(op->getResult(0));
    SmallVector<bool> inserted(outRank, false);
    for (int64_t axis : unsqueeze.getAxes())
      inserted[normalized(axis, outRank)] = true;
    for (int64_t out = 0, source = 0; out < outRank; ++out) {
      if (inserted[out])
        continue;
      if (source++ == in.dim)
        return setAll(op, Flow::along(out));
    }
    return reject(op, "its axes are not understood");
  }
  if (auto squeeze = dyn_cast<tfm::SqueezeOp>(op)) {
    int64_t removedBefore = 0;
    for (int64_t axis : squeeze.getAxes()) {
      axis = normalized(axis, inRank);
      if (axis == in.dim)
        return reject(op, "it removes the sequence's dim");
      removedBefore += axis < in.dim;
    }
    return setAll(op, Flow::along(in.dim - removedBefore));
  }
  if (auto split = dyn_cast<tfm::SplitOp>(op)) {
    if (normalized(split.getAxis(), inRank) == in.dim)
      return reject(op, "it splits along the sequence");
    return setAll(op, in);
  }
  if (auto concat = dyn_cast<tfm::ConcatOp>(op)) {
    if (normalized(concat.getAxis(), inRank) == in.dim)
      return reject(op, "it concatenates along the sequence");
    for (Value operand : concat.getInputs()) {
      Flow flow = flowOf(operand);
      if (flow.kind != Flow::Along || flow.dim != in.dim)
        return reject(op, "it joins the data with a tensor that does not "
                          "run along the sequence");
    }
    return setAll(op, in);
  }
  if (auto gather = dyn_cast<tfm::GatherOp>(op)) {
    // Data runs along the sequence; free indices pick along another axis
    // (indices that run along it on free data: an embedding, above).
    int64_t axis = normalized(gather.getAxis(), inRank);
    if (axis == in.dim)
      return reject(op, "it picks positions of the sequence");
    int64_t indicesRank = rankOf(gather.getIndices());
    return setAll(op, Flow::along(in.dim < axis ? in.dim
                                               : in.dim + indicesRank - 1));
  }
  if (isa<tfm::ReduceSumOp, tfm::ReduceMeanOp, tfm::ReduceMaxOp,
          tfm::ReduceMinOp, tfm::ReduceProdOp>(op)) {
    auto axes = op->getAttrOfType<DenseI64ArrayAttr>("axes");
    auto keep = op->getAttrOfType<BoolAttr>("keepdims");
    if (!axes || axes.empty())
      return reject(op, "it reduces over every dim, the sequence's too");
    int64_t removedBefore = 0;
    for (int64_t axis : axes.asArrayRef()) {
      axis = normalized(axis, inRank);
      if (axis == in.dim)
        return reject(op, "it reduces over the sequence (a statistic of "
                          "every position, such as --linearize's key "
                          "stabilizer)");
      removedBefore += axis < in.dim;
    }
    bool keepdims = !keep || keep.getValue();
    return setAll(op, Flow::along(keepdims ? in.dim : in.dim - removedBefore));
  }
  if (isa<tfm::CumSumOp>(op))
    return reject(op, "prefix sums over a tensor running along the "
                      "sequence that tfm-fuse-linear-attention did not turn "
                      "into linear attention");
  return reject(op, "tfm-sequence-state does not know how this op treats "
                    "the sequence");
}

/// Where past keys or values come from: a graph input, and its dim that
/// holds the past positions.
struct PastSource {
  BlockArgument input;
  int64_t dim;
};

/// `value`'s dim `dim` traced back to a graph input through the views that
/// pick one layer of stacked past keys (Gather by a constant, Squeeze).
std::optional<PastSource> traceToInput(Value value, int64_t dim) {
  while (true) {
    if (auto input = dyn_cast<BlockArgument>(value))
      return PastSource{input, dim};
    Operation *op = value.getDefiningOp();
    if (auto gather = dyn_cast_or_null<tfm::GatherOp>(op)) {
      if (!matchPattern(gather.getIndices(), m_Constant()))
        return std::nullopt;
      int64_t axis = normalized(gather.getAxis(), rankOf(gather.getInput()));
      int64_t indicesRank = rankOf(gather.getIndices());
      if (dim >= axis && dim < axis + indicesRank)
        return std::nullopt;
      dim = dim < axis ? dim : dim - indicesRank + 1;
      value = gather.getInput();
      continue;
    }
    if (auto squeeze = dyn_cast_or_null<tfm::SqueezeOp>(op)) {
      int64_t inRank = rankOf(squeeze.getInput());
      SmallVector<bool> removed(inRank, false);
      for (int64_t axis : squeeze.getAxes())
        removed[normalized(axis, inRank)] = true;
      int64_t inDim = 0;
      for (int64_t kept = -1; inDim < inRank; ++inDim)
        if (!removed[inDim] && ++kept == dim)
          break;
      dim = inDim;
      value = squeeze.getInput();
      continue;
    }
    return std::nullopt;
  }
}

/// The attention's keys (or values) as concat(past, new) along their
/// length, the past from a graph input: its source and the new ones.
std::optional<std::pair<PastSource, Value>> splitPast(Value keys) {
  auto concat = keys.getDefiningOp<tfm::ConcatOp>();
  int64_t lengthDim = rankOf(keys) == 4 ? 2 : 1;
  if (!concat || concat.getInputs().size() != 2 ||
      normalized(concat.getAxis(), rankOf(keys)) != lengthDim)
    return std::nullopt;
  std::optional<PastSource> past = traceToInput(concat.getInputs()[0], lengthDim);
  if (!past)
    return std::nullopt;
  return std::make_pair(*past, concat.getInputs()[1]);
}

/// How errors name graph input `input`: its ONNX name, else its number.
std::string inputName(func::FuncOp graph, BlockArgument input) {
  auto name = graph.getArgAttrOfType<StringAttr>(input.getArgNumber(), "tfm.name");
  return name ? "'" + name.str() + "'"
              : "number " + std::to_string(input.getArgNumber());
}

/// Moves the KV cache of a model with past keys and values into the
/// instance (see the file comment).
LogicalResult movePastIntoInstance(func::FuncOp graph) {
  llvm::MapVector<BlockArgument, int64_t> pastInputs;
  llvm::SetVector<Value> presents; // the concatenated keys and values
  SmallVector<tfm::AttentionOp> attentions;
  graph.walk([&](tfm::AttentionOp op) { attentions.push_back(op); });
  for (tfm::AttentionOp attention : attentions) {
    auto keys = splitPast(attention.getKey());
    auto values = splitPast(attention.getValue());
    if (!keys || !values)
      continue;
    for (const PastSource &past : {keys->first, values->first}) {
      auto [it, inserted] = pastInputs.insert({past.input, past.dim});
      if (!inserted && it->second != past.dim)
        return attention.emitError()
               << "--decoder: past input " << inputName(graph, past.input)
               << " holds past positions in two different dims";
    }
    presents.insert(attention.getKey());
    presents.insert(attention.getValue());
    attention.getKeyMutable().assign(keys->second);
    attention.getValueMutable().assign(values->second);
  }
  if (pastInputs.empty())
    return success();

  // The past's length is the position the call starts at.
  OpBuilder b(graph.getContext());
  for (auto [input, dim] : pastInputs) {
    SmallVector<tfm::ShapeOp> shapes;
    for (Operation *user : input.getUsers())
      if (auto shape = dyn_cast<tfm::ShapeOp>(user))
        shapes.push_back(shape);
    for (tfm::ShapeOp shape : shapes) {
      int64_t start = shape.getStart(), end = shape.getEnd();
      if (dim < start || dim >= end)
        continue;
      b.setInsertionPoint(shape);
      if (end - start == 1) {
        shape.replaceAllUsesWith(
            b.create<tfm::SequenceOffsetOp>(shape.getLoc()).getResult());
        continue;
      }
      // Shape(past)[dim]: a Gather by a constant index.
      for (Operation *user : llvm::make_early_inc_range(shape->getUsers())) {
        auto gather = dyn_cast<tfm::GatherOp>(user);
        DenseIntElementsAttr index;
        if (!gather || gather.getAxis() != 0 ||
            !matchPattern(gather.getIndices(), m_Constant(&index)) ||
            index.getNumElements() != 1 ||
            start + (*index.value_begin<APInt>()).getSExtValue() != dim)
          continue;
        b.setInsertionPoint(gather);
        Value offset = b.create<tfm::SequenceOffsetOp>(gather.getLoc());
        if (rankOf(gather.getResult()) == 0)
          offset = b.create<tfm::SqueezeOp>(gather.getLoc(), offset,
                                            b.getDenseI64ArrayAttr({0}));
        gather.replaceAllUsesWith(offset);
      }
    }
  }

  // The outputs computed from the concatenated keys and values (the
  // presents) leave; whatever else still reads the past inputs then is an
  // error below, so no output is dropped for a use not understood here.
  for (Operation &op : graph.getBody().front())
    if (llvm::any_of(op.getOperands(),
                     [&](Value v) { return presents.contains(v); }))
      presents.insert(op.getResults().begin(), op.getResults().end());
  auto returnOp = cast<func::ReturnOp>(graph.getBody().front().getTerminator());
  llvm::BitVector removedOutputs(returnOp.getNumOperands());
  for (auto [i, result] : llvm::enumerate(returnOp.getOperands()))
    if (presents.contains(result))
      removedOutputs.set(i);
  if (removedOutputs.all())
    return graph.emitError() << "--decoder: every output is computed from "
                                "the past and new keys and values joined: "
                                "nothing would be left to return";
  returnOp->eraseOperands(removedOutputs);
  (void)graph.eraseResults(removedOutputs);
  // The ops only the presents used (tfm ops have no side effects), users
  // before what they use.
  SmallVector<Operation *> ops;
  for (Operation &op : graph.getBody().front().without_terminator())
    ops.push_back(&op);
  for (Operation *op : llvm::reverse(ops))
    if (op->use_empty())
      op->erase();
  llvm::BitVector removedInputs(graph.getNumArguments());
  for (auto [input, dim] : pastInputs) {
    if (!input.use_empty()) {
      Operation *user = *input.getUsers().begin();
      return user->emitError()
             << "--decoder: '" << user->getName() << "' reads past input "
             << inputName(graph, input)
             << " other than as the attention's cache or its length, which "
                "a model keeping its KV cache in the instance cannot give it";
    }
    removedInputs.set(input.getArgNumber());
  }
  (void)graph.eraseArguments(removedInputs);
  return success();
}

bool isSequenceName(StringRef name) {
  return name == "sequence" || name == "seq" || name == "seq_len" ||
         name == "sequence_length" || name == "seq_length";
}

struct SequenceStatePass
    : public tfc::impl::SequenceStateBase<SequenceStatePass> {
  using SequenceStateBase::SequenceStateBase;

  /// The sequence's dim of argument `index`, or -1: the dim named
  /// `sequenceDim` (or one of the usual names), else a dynamic dim 1.
  int64_t inputSequenceDim(func::FuncOp graph, unsigned index) {
    auto type = dyn_cast<RankedTensorType>(graph.getArgument(index).getType());
    if (!type)
      return -1;
    auto names = graph.getArgAttrOfType<ArrayAttr>(index, "tfm.dim_params");
    for (int64_t d = 0; names && d < (int64_t)names.size() &&
                        d < type.getRank();
         ++d) {
      auto name = dyn_cast<StringAttr>(names[d]);
      if (!name || !type.isDynamicDim(d))
        continue;
      if (sequenceDimName.empty() ? isSequenceName(name.getValue())
                                  : name.getValue() == sequenceDimName)
        return d;
    }
    if (!sequenceDimName.empty())
      return -1;
    return type.getRank() >= 2 && type.isDynamicDim(1) ? 1 : -1;
  }

  void runOnOperation() override {
    func::FuncOp graph = getOperation();
    if (failed(movePastIntoInstance(graph)))
      return signalPassFailure();
    Prover prover;
    MLIRContext *context = &getContext();
    auto i64 = IntegerType::get(context, 64);
    bool anyInput = false;
    for (unsigned i = 0; i < graph.getNumArguments(); ++i) {
      int64_t dim = inputSequenceDim(graph, i);
      if (dim < 0)
        continue;
      anyInput = true;
      prover.flows[graph.getArgument(i)] = Flow::along(dim);
      graph.setArgAttr(i, kSequenceDimAttr, IntegerAttr::get(i64, dim));
    }
    if (!anyInput) {
      graph.emitError()
          << "--decoder: no input has a sequence dim (a dynamic dim named "
          << (sequenceDimName.empty()
                  ? std::string("sequence, seq or seq_len, or a dynamic dim 1")
                  : "'" + sequenceDimName + "'")
          << ")";
      return signalPassFailure();
    }
    for (Operation &op : graph.getBody().front())
      if (failed(prover.visit(&op)))
        return signalPassFailure();
    auto returnOp = cast<func::ReturnOp>(graph.getBody().front().getTerminator());
    for (auto [i, result] : llvm::enumerate(returnOp.getOperands())) {
      Flow flow = prover.flowOf(result);
      if (flow.kind == Flow::Length) {
        returnOp.emitError() << "--decoder: output " << i
                             << " is computed from the sequence's length";
        return signalPassFailure();
      }
      if (flow.kind == Flow::Along)
        graph.setResultAttr(i, kSequenceDimAttr, IntegerAttr::get(i64, flow.dim));
    }
    if (prover.numStates == 0) {
      graph.emitError() << "--decoder: the model has no causal attention to "
                           "keep a state or a KV cache for";
      return signalPassFailure();
    }
    if (maxContext > 0)
      graph.walk([&](tfm::AttentionOp op) {
        if (op->hasAttr(kSequenceStateAttr))
          op->setAttr(kMaxContextAttr, IntegerAttr::get(i64, maxContext));
      });
    graph->setAttr(kSequenceStatesAttr, IntegerAttr::get(i64, prover.numStates));
  }
};

} // namespace
