//===- EinsumConverter.cpp - ONNX Einsum as transposes and matmuls --------===//
//
// Exporters emit Einsum for whatever a model wrote with torch.einsum: the
// attention products ("bhqd,bhkd->bhqk"), rotary tables ("i,j->ij"), batched
// projections. tfc has no einsum op: each Einsum becomes the ops the rest of
// the compiler already fuses and lowers well.
//
//  1. A label that one operand alone has, and the output does not, is summed
//     out of that operand first (tfm.reduce_sum).
//  2. The operands are contracted pairwise, left to right. For a pair A, B
//     the labels split into batch (both, still needed later), contracted
//     (both, not needed later), A's free and B's free ones. A is transposed
//     to [batch, A free, contracted], B to [batch, contracted, B free]; each
//     group of several labels is merged into one dim (tfm.reshape), so one
//     tfm.matmul contracts the pair; the merged dims are split again after.
//  3. The result is transposed to the output's order.
//
// A label repeated within one operand ("ii->i") first takes the diagonal:
// the elements off it set to zero, summed over the second dim.
//
//===----------------------------------------------------------------------===//

#include "OnnxImporterImpl.h"

#include "tfm/TfmOps.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/SmallSet.h"

using namespace mlir;
using namespace mlir::tfc::onnx_import;

namespace {

/// Labels: 0-51 for the letters, kEllipsis + i for the i-th dim an ellipsis
/// stands for (counted from the left of the widest ellipsis, so that
/// narrower ones align to the right, as numpy broadcasts them).
constexpr int kEllipsis = 1000;
using Labels = llvm::SmallVector<int, 6>;

/// One term of the equation, the ellipsis kept as a position.
struct Term {
  Labels letters;               // the letters, in order
  int64_t ellipsisAt = -1;      // the letter count before "...", or -1
};

/// An operand (or an intermediate product) with the label of each dim.
struct Labeled {
  Value value;
  Labels labels;
};

FailureOr<Term> parseTerm(NodeImporter &node, llvm::StringRef text) {
  Term term;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ')
      continue;
    if (c == '.') {
      if (!text.substr(i).starts_with("...") || term.ellipsisAt >= 0)
        return node.fail("equation term '" + text +
                         "' has a stray '.' or more than one ellipsis");
      term.ellipsisAt = term.letters.size();
      i += 2;
      continue;
    }
    if (c >= 'a' && c <= 'z')
      term.letters.push_back(c - 'a');
    else if (c >= 'A' && c <= 'Z')
      term.letters.push_back(26 + c - 'A');
    else
      return node.fail("equation term '" + text + "' has the character '" +
                       llvm::Twine(c) + "'; labels are letters");
  }
  return term;
}

/// A term's labels for an operand of `rank` dims, its ellipsis expanded to
/// `rank - letters` dims right-aligned within `widest` ellipsis dims.
FailureOr<Labels> expandTerm(NodeImporter &node, const Term &term, int64_t rank,
                             int64_t widest, llvm::StringRef what) {
  int64_t letters = term.letters.size();
  int64_t covered = term.ellipsisAt >= 0 ? rank - letters : 0;
  if (covered < 0 || (term.ellipsisAt < 0 && rank != letters))
    return node.fail(what + " has rank " + llvm::Twine(rank) + " but its term has " +
                     llvm::Twine(letters) + " labels" +
                     (term.ellipsisAt >= 0 ? " and an ellipsis" : ""));
  Labels labels(term.letters.begin(),
                term.letters.begin() + (term.ellipsisAt >= 0 ? term.ellipsisAt : letters));
  for (int64_t i = 0; i < covered; ++i)
    labels.push_back(kEllipsis + widest - covered + i);
  if (term.ellipsisAt >= 0)
    labels.append(term.letters.begin() + term.ellipsisAt, term.letters.end());
  return labels;
}

std::string describeLabel(int label) {
  if (label >= kEllipsis)
    return "...";
  return std::string(1, label < 26 ? char('a' + label) : char('A' + label - 26));
}

class EinsumBuilder {
public:
  explicit EinsumBuilder(NodeImporter &node) : node(node) {}

  /// `operand` transposed so that its labels read `order` (a permutation of
  /// them).
  FailureOr<Labeled> transpose(const Labeled &operand, llvm::ArrayRef<int> order) {
    if (llvm::ArrayRef<int>(operand.labels) == order)
      return operand;
    llvm::SmallVector<int64_t> perm;
    for (int label : order)
      perm.push_back(llvm::find(operand.labels, label) - operand.labels.begin());
    FailureOr<Value> moved = node.createOne("tfm.transpose", operand.value,
                                            {node.namedI64Array("perm", perm)});
    if (failed(moved))
      return failure();
    return Labeled{*moved, Labels(order)};
  }

  /// `operand` with the labels in `summed` reduced away.
  FailureOr<Labeled> sum(const Labeled &operand, const llvm::SetVector<int> &summed) {
    if (summed.empty())
      return operand;
    llvm::SmallVector<int64_t> axes;
    Labels kept;
    for (auto [i, label] : llvm::enumerate(operand.labels)) {
      if (summed.contains(label))
        axes.push_back(i);
      else
        kept.push_back(label);
    }
    FailureOr<Value> reduced = node.createOne(
        "tfm.reduce_sum", operand.value,
        {node.namedI64Array("axes", axes), node.namedBool("keepdims", false)});
    if (failed(reduced))
      return failure();
    return Labeled{*reduced, kept};
  }

  /// `operand`'s diagonal over the dims at `first` < `second` (one label
  /// twice): the elements where both indices agree, kept at `first`. Built
  /// as the elements off the diagonal set to zero, summed over `second`.
  FailureOr<Labeled> diagonal(const Labeled &operand, int64_t first, int64_t second) {
    auto type = llvm::cast<RankedTensorType>(operand.value.getType());
    int64_t rank = type.getRank();
    FailureOr<Value> extent = dimsOf(operand.value, first, 1, false);
    if (failed(extent))
      return failure();
    FailureOr<Value> limit = node.createOne(
        "tfm.reshape", {*extent, node.getI64Constant({})},
        {node.namedBool("allow_zero", false)});
    if (failed(limit))
      return failure();
    FailureOr<Value> positions = node.createOne(
        "tfm.range", {node.getI64Constant({0}, /*scalar=*/true), *limit,
                      node.getI64Constant({1}, /*scalar=*/true)});
    if (failed(positions))
      return failure();
    // Row positions along `first`, column positions along `second`, each
    // with size-1 dims elsewhere.
    auto along = [&](int64_t axis) -> FailureOr<Value> {
      llvm::SmallVector<int64_t> axes;
      for (int64_t i = 0; i < rank; ++i)
        if (i != axis)
          axes.push_back(i);
      return node.createOne("tfm.unsqueeze", *positions,
                            {node.namedI64Array("axes", axes)});
    };
    FailureOr<Value> rows = along(first), columns = along(second);
    if (failed(rows) || failed(columns))
      return failure();
    FailureOr<Value> same = node.createOne("tfm.equal", {*rows, *columns});
    if (failed(same))
      return failure();
    // A select, not a product with the mask: an infinity off the diagonal
    // must not become a NaN on it.
    Type element = type.getElementType();
    Value zero = node.getConstant(DenseElementsAttr::get(
        RankedTensorType::get({}, element),
        llvm::isa<FloatType>(element) ? Attribute(node.builder.getFloatAttr(element, 0.0))
                                      : Attribute(node.builder.getIntegerAttr(element, 0))));
    FailureOr<Value> masked =
        node.createOne("tfm.where", {*same, operand.value, zero});
    if (failed(masked))
      return failure();
    FailureOr<Value> reduced = node.createOne(
        "tfm.reduce_sum", *masked,
        {node.namedI64Array("axes", {second}), node.namedBool("keepdims", false)});
    if (failed(reduced))
      return failure();
    Labels labels(operand.labels);
    labels.erase(labels.begin() + second);
    return Labeled{*reduced, labels};
  }

  /// A 1-D i64 tensor holding the dims `first..first+count` of `value`, or
  /// their product when `multiply` (static where the dims are).
  FailureOr<Value> dimsOf(Value value, int64_t first, int64_t count, bool multiply) {
    auto type = llvm::cast<RankedTensorType>(value.getType());
    llvm::ArrayRef<int64_t> dims = type.getShape().slice(first, count);
    if (llvm::none_of(dims, ShapedType::isDynamic)) {
      if (!multiply)
        return node.getI64Constant(dims);
      int64_t product = 1;
      for (int64_t d : dims)
        product *= d; // the dims of one tensor: no overflow
      return node.getI64Constant({product});
    }
    FailureOr<Value> shape =
        node.createOne("tfm.shape", value,
                       {node.namedI64("start", first), node.namedI64("end", first + count)});
    if (failed(shape) || !multiply)
      return shape;
    return node.createOne("tfm.reduce_prod", *shape,
                          {node.namedI64Array("axes", {0}), node.namedBool("keepdims", true)});
  }

  /// `value` reshaped: its first `keep` dims as they are, then one entry per
  /// piece (each a 1-D i64 tensor).
  FailureOr<Value> reshape(Value value, int64_t keep, llvm::ArrayRef<Value> pieces) {
    llvm::SmallVector<Value> parts;
    if (keep > 0)
      parts.push_back(node.getI64Constant(llvm::SmallVector<int64_t>(keep, 0)));
    parts.append(pieces.begin(), pieces.end());
    FailureOr<Value> shape =
        parts.size() == 1
            ? FailureOr<Value>(parts.front())
            : node.createOne("tfm.concat", parts, {node.namedI64("axis", 0)});
    if (failed(shape))
      return failure();
    return node.createOne("tfm.reshape", {value, *shape},
                          {node.namedBool("allow_zero", false)});
  }

  /// A and B contracted over the labels they share that `needed` lacks.
  FailureOr<Labeled> contract(const Labeled &a, const Labeled &b,
                              const llvm::SetVector<int> &needed) {
    Labels batch, contracted, aFree, bFree;
    for (int label : a.labels) {
      bool inB = llvm::is_contained(b.labels, label);
      if (!inB)
        aFree.push_back(label);
      else if (needed.contains(label))
        batch.push_back(label);
      else
        contracted.push_back(label);
    }
    for (int label : b.labels)
      if (!llvm::is_contained(a.labels, label))
        bFree.push_back(label);
    int64_t nb = batch.size();

    Labels aOrder(batch), bOrder(batch);
    aOrder.append(aFree);
    aOrder.append(contracted);
    bOrder.append(contracted);
    bOrder.append(bFree);
    FailureOr<Labeled> lhs = transpose(a, aOrder);
    FailureOr<Labeled> rhs = transpose(b, bOrder);
    if (failed(lhs) || failed(rhs))
      return failure();
    // The free and contracted groups as one dim each: [batch, M, K] and
    // [batch, K, N].
    FailureOr<Value> lhsMatrix = group(lhs->value, nb, aFree.size(), contracted.size());
    FailureOr<Value> rhsMatrix = group(rhs->value, nb, contracted.size(), bFree.size());
    if (failed(lhsMatrix) || failed(rhsMatrix))
      return failure();
    FailureOr<Value> product = node.createOne("tfm.matmul", {*lhsMatrix, *rhsMatrix});
    if (failed(product))
      return failure();
    Labels labels(batch);
    labels.append(aFree);
    labels.append(bFree);
    if (aFree.size() == 1 && bFree.size() == 1)
      return Labeled{*product, labels};
    // Split M and N back into the free dims (none: the dim of 1 goes).
    FailureOr<Value> mDims = dimsOf(lhs->value, nb, aFree.size(), false);
    FailureOr<Value> nDims =
        dimsOf(rhs->value, nb + contracted.size(), bFree.size(), false);
    if (failed(mDims) || failed(nDims))
      return failure();
    llvm::SmallVector<Value> pieces;
    if (!aFree.empty())
      pieces.push_back(*mDims);
    if (!bFree.empty())
      pieces.push_back(*nDims);
    if (pieces.empty()) {
      FailureOr<Value> squeezed = node.createOne(
          "tfm.squeeze", *product, {node.namedI64Array("axes", {nb, nb + 1})});
      if (failed(squeezed))
        return failure();
      return Labeled{*squeezed, labels};
    }
    FailureOr<Value> split = reshape(*product, nb, pieces);
    if (failed(split))
      return failure();
    return Labeled{*split, labels};
  }

private:
  /// `value`, [batch (nb dims), first (n1 dims), second (n2 dims)], as
  /// [batch, prod(first), prod(second)]; an empty group becomes a dim of 1.
  FailureOr<Value> group(Value value, int64_t nb, int64_t n1, int64_t n2) {
    if (n1 == 1 && n2 == 1)
      return value;
    if (n1 + n2 == 1)
      return node.createOne("tfm.unsqueeze", value,
                            {node.namedI64Array("axes", {n1 == 0 ? nb : nb + 1})});
    FailureOr<Value> first = dimsOf(value, nb, n1, true);
    FailureOr<Value> second = dimsOf(value, nb + n1, n2, true);
    if (failed(first) || failed(second))
      return failure();
    return reshape(value, nb, {*first, *second});
  }

  NodeImporter &node;
};

} // namespace

LogicalResult mlir::tfc::onnx_import::convertEinsum(NodeImporter &node) {
  std::string equation = node.getString("equation", "");
  llvm::StringRef text(equation);
  auto [inputsText, outputText] = text.split("->");
  bool explicitOutput = text.contains("->");
  llvm::SmallVector<llvm::StringRef> termTexts;
  inputsText.split(termTexts, ',');
  unsigned count = node.getNumInputs();
  if (termTexts.size() != count)
    return node.fail("equation '" + equation + "' has " +
                     llvm::Twine(termTexts.size()) + " input terms for " +
                     llvm::Twine(count) + " inputs");

  llvm::SmallVector<Term> terms;
  int64_t widest = 0;
  for (unsigned i = 0; i < count; ++i) {
    FailureOr<Term> term = parseTerm(node, termTexts[i]);
    if (failed(term))
      return failure();
    if (term->ellipsisAt >= 0)
      widest = std::max<int64_t>(
          widest, node.getInputType(i).getRank() - (int64_t)term->letters.size());
    terms.push_back(*term);
  }
  EinsumBuilder builder(node);
  llvm::SmallVector<Labeled> operands;
  llvm::DenseMap<int, int> occurrences;
  for (unsigned i = 0; i < count; ++i) {
    FailureOr<Labels> labels =
        expandTerm(node, terms[i], node.getInputType(i).getRank(), widest,
                   "input " + std::to_string(i));
    if (failed(labels))
      return failure();
    // A label twice in one term takes the diagonal of those dims.
    Labeled operand{node.getInput(i), *labels};
    for (size_t second = 0; second < operand.labels.size(); ++second) {
      auto firstAt = llvm::find(operand.labels, operand.labels[second]);
      size_t first = firstAt - operand.labels.begin();
      if (first == second)
        continue;
      if (operand.labels[first] >= kEllipsis)
        return node.fail("input " + llvm::Twine(i) + " repeats an ellipsis dim");
      FailureOr<Labeled> diagonal = builder.diagonal(operand, first, second);
      if (failed(diagonal))
        return failure();
      operand = *diagonal;
      --second;
    }
    for (int label : operand.labels)
      ++occurrences[label];
    operands.push_back(operand);
  }

  // The output's labels: as written, or (implicit) the ellipsis dims, then
  // each letter used once, alphabetically.
  Labels output;
  if (explicitOutput) {
    FailureOr<Term> term = parseTerm(node, outputText);
    if (failed(term))
      return failure();
    if (term->ellipsisAt < 0 && widest > 0)
      return node.fail("the inputs have an ellipsis the output lacks");
    Labels labels(term->letters.begin(),
                  term->letters.begin() +
                      (term->ellipsisAt >= 0 ? term->ellipsisAt : term->letters.size()));
    for (int64_t i = 0; i < widest; ++i)
      labels.push_back(kEllipsis + i);
    if (term->ellipsisAt >= 0)
      labels.append(term->letters.begin() + term->ellipsisAt, term->letters.end());
    llvm::SmallSet<int, 8> seen;
    for (int label : labels) {
      if (!occurrences.count(label))
        return node.fail("output label '" + describeLabel(label) +
                         "' is in no input");
      if (!seen.insert(label).second)
        return node.fail("output label '" + describeLabel(label) + "' repeats");
    }
    output = labels;
  } else {
    for (int64_t i = 0; i < widest; ++i)
      output.push_back(kEllipsis + i);
    for (int label = 0; label < 52; ++label)
      if (occurrences.lookup(label) == 1)
        output.push_back(label);
  }

  // The labels still needed after operand `i`: the output's and those of
  // the operands after it.
  auto neededAfter = [&](size_t i) {
    llvm::SetVector<int> needed(output.begin(), output.end());
    for (size_t j = i + 1; j < operands.size(); ++j)
      needed.insert(operands[j].labels.begin(), operands[j].labels.end());
    return needed;
  };
  // 1. Labels only one operand has and nothing later needs: summed first.
  for (size_t i = 0; i < operands.size(); ++i) {
    llvm::SetVector<int> summed;
    for (int label : operands[i].labels) {
      bool elsewhere = llvm::is_contained(output, label);
      for (size_t j = 0; j < operands.size() && !elsewhere; ++j)
        elsewhere = j != i && llvm::is_contained(operands[j].labels, label);
      if (!elsewhere)
        summed.insert(label);
    }
    FailureOr<Labeled> reduced = builder.sum(operands[i], summed);
    if (failed(reduced))
      return failure();
    operands[i] = *reduced;
  }
  // 2. Pairwise contraction, left to right.
  Labeled result = operands.front();
  for (size_t i = 1; i < operands.size(); ++i) {
    FailureOr<Labeled> next = builder.contract(result, operands[i], neededAfter(i));
    if (failed(next))
      return failure();
    result = *next;
  }
  // 3. The output's order.
  FailureOr<Labeled> ordered = builder.transpose(result, output);
  if (failed(ordered))
    return failure();
  node.setResults(ordered->value);
  return success();
}
