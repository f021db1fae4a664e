//===- SelectKernels.cpp - the tfc-cpu-select-kernels pass ----------------===//
//
// Kernel selection for the CPU: a tfm op becomes a call of one of the
// runtime's kernels (tfc_cpu.ukernel) when the target has a kernel for the
// op, its element types and the instruction set, and the kernel takes the
// op's shapes. Everything else stays for the generic lowering, which
// handles every op, type and shape. Both routes check the same shape rules
// at run time, so a model behaves the same on either.
//
// The kernels (lib/Kernels, scheduled by lib/Runtime/kernel_calls.c) exist
// in f32 for AVX2 and AVX-512. What each takes:
//
// - linear: act(x @ W + bias) + residual with W a constant [K, N] matrix,
//   packed here into the kernel's layout ([N / P, K, P], k-major panels
//   of P columns, the last zero-padded) so the kernel reads a panel's row at
//   unit stride. P is the width of the instruction set's register tile (32
//   for AVX-512, 16 for AVX2). Packing is the one copy of a weight the compiler makes; the
//   original constant goes once nothing else uses it.
// - matmul: a tfm.matmul of two computed operands ([.., M, K] @ [.., K, N],
//   unfused attention's q·kᵀ and p·v, retention), batch dims collapsed into
//   one; the runtime packs each batch's rhs into the same panels and runs
//   the linear kernel's tiles on it.
// - attention: the fused attention op (flash attention), q, k and v as
//   [B, L, N, d] views (token-major operands expanded in place) or
//   [B, N, L, d] ones.
// - layer_norm: over the last dim of a rank-2 or rank-3 tensor.
//
// The kernels take [B, L, X] views with any strides, so a rank-2 operand is
// expanded in place to a unit batch and the result collapsed back.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cpu/Passes.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "tfc/Conversion/LoweringUtils.h"
#include "tfc/Target/Cpu/KernelTable.h"
#include "tfc/Target/CpuCodegen.h"
#include "tfc/runtime/tfc_abi.h"
#include "tfc/Transforms/Passes.h"
#include "tfm/TfmOps.h"
#include "llvm/ADT/StringSwitch.h"

#include <cstring>

namespace mlir::tfc::cpu {
#define GEN_PASS_DEF_CPUSELECTKERNELS
#include "tfc/Target/Cpu/Passes.h.inc"
} // namespace mlir::tfc::cpu

using namespace mlir;
using namespace mlir::tfc;
using namespace mlir::tfc::cpu;

namespace {

/// Why an op did not become a kernel call; empty when it did.
using Refusal = std::string;

/// How a type prints in IR ("f16").
std::string typeName(Type type) {
  std::string text;
  llvm::raw_string_ostream os(text);
  type.print(os);
  return text;
}

/// The instruction sets with kernels.
bool hasKernels(StringRef isa) { return encodeIsa(isa).has_value(); }

/// A rank-2 `tensor` [M, X] as [1, M, X], in place; rank 3 as it is.
Value toRank3(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (type.getRank() == 3)
    return tensor;
  SmallVector<int64_t> shape = {1};
  llvm::append_range(shape, type.getShape());
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
  llvm::append_range(sizes, getDims(b, loc, tensor));
  return b.create<tensor::ExpandShapeOp>(
      loc, RankedTensorType::get(shape, type.getElementType()), tensor,
      SmallVector<ReassociationIndices>{{0, 1}, {2}}, sizes);
}

/// A kernel's [1, M, X] result as the op's [M, X] (rank 2); rank 3 as it is.
Value fromRank3(OpBuilder &b, Location loc, Value tensor, int64_t rank) {
  if (rank == 3)
    return tensor;
  auto type = cast<RankedTensorType>(tensor.getType());
  return b.create<tensor::CollapseShapeOp>(
      loc,
      RankedTensorType::get(type.getShape().drop_front(), type.getElementType()),
      tensor, SmallVector<ReassociationIndices>{{0, 1}, {2}});
}

/// The dynamic sizes among `dims` for a result of `shape`.
SmallVector<Value> dynamicSizes(OpBuilder &b, Location loc,
                                ArrayRef<int64_t> shape,
                                ArrayRef<OpFoldResult> dims) {
  SmallVector<Value> sizes;
  for (auto [size, dim] : llvm::zip(shape, dims))
    if (ShapedType::isDynamic(size))
      sizes.push_back(toIndexValue(b, loc, dim));
  return sizes;
}

/// The f32 values of a constant's attribute, in place, or nothing.
std::optional<ArrayRef<float>> constantFloats(Attribute value) {
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    std::optional<ArrayRef<char>> bytes = tfm::getWeightBytes(resource);
    if (!bytes || !resource.getElementType().isF32())
      return std::nullopt;
    return ArrayRef<float>(reinterpret_cast<const float *>(bytes->data()),
                           bytes->size() / sizeof(float));
  }
  if (auto dense = dyn_cast<DenseElementsAttr>(value))
    if (!dense.isSplat())
      return ArrayRef<float>(
          reinterpret_cast<const float *>(dense.getRawData().data()),
          dense.getNumElements());
  return std::nullopt;
}

/// `weight` ([K, N] f32, constant) packed as the linear kernel reads it,
/// as a new constant [panels, K, kPanel]; null when it is not such a
/// constant. (A weight that several linears share is packed for each.)
Value packWeight(OpBuilder &b, Location loc, Value weight, int64_t kPanel) {
  auto type = cast<RankedTensorType>(weight.getType());
  Attribute value;
  if (!matchPattern(weight, m_Constant(&value)))
    return {};
  // A splat (all weights equal, as in small tests) has no array to read.
  float splatValue = 0.0f;
  std::optional<ArrayRef<float>> values;
  if (auto splat = dyn_cast<SplatElementsAttr>(value))
    splatValue = splat.getSplatValue<float>();
  else if (!(values = constantFloats(value)))
    return {};
  int64_t depth = type.getDimSize(0), cols = type.getDimSize(1);
  int64_t panels = (cols + kPanel - 1) / kPanel;
  AsmResourceBlob blob = HeapAsmResourceBlob::allocate(
      panels * depth * kPanel * sizeof(float), alignof(float) * 16,
      /*dataIsMutable=*/true);
  MutableArrayRef<float> packed(
      reinterpret_cast<float *>(blob.getMutableData().data()),
      panels * depth * kPanel);
  for (int64_t panel = 0; panel < panels; ++panel)
    for (int64_t k = 0; k < depth; ++k)
      for (int64_t j = 0; j < kPanel; ++j) {
        int64_t col = panel * kPanel + j;
        float element = 0.0f;
        if (col < cols)
          element = values ? (*values)[k * cols + col] : splatValue;
        packed[(panel * depth + k) * kPanel + j] = element;
      }
  // Named after the weight's blob, so the packed copy is recognizable.
  std::string name = "packed_weight";
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
    name = (resource.getRawHandle().getKey() + ".packed").str();
  auto packedType = RankedTensorType::get({panels, depth, kPanel}, b.getF32Type());
  return b.create<tfm::ConstantOp>(
      loc, DenseResourceElementsAttr::get(packedType, name, std::move(blob)));
}

/// A weight's 1x16 blocks (one input row by 16 output columns) packed as
/// the block-sparse kernel reads them (tfc_kernels.def's linear_sparse):
/// the nonzero blocks' values and input rows, each panel's first block.
struct SparseWeight {
  Value values, ks, first;
  int64_t blocks = 0, panels = 0;
  double sparsity = 0; // the fraction of all-zero blocks
};

constexpr int64_t kSparsePanel = 16;



/// `weight` ([K, N] f32 constant, not a splat) packed for the block-sparse
/// kernel when at least `threshold` of its 1x16 blocks are zero; nullopt
/// otherwise. `measured` gets the fraction of zero blocks either way (0
/// when the weight's values cannot be read).
std::optional<SparseWeight> packSparseWeight(OpBuilder &b, Location loc,
                                             Value weight, double threshold,
                                             double &measured) {
  measured = 0;
  Attribute value;
  if (!matchPattern(weight, m_Constant(&value)))
    return std::nullopt;
  std::optional<ArrayRef<float>> values = constantFloats(value);
  auto type = cast<RankedTensorType>(weight.getType());
  int64_t depth = type.getDimSize(0), cols = type.getDimSize(1);
  if (!values || static_cast<int64_t>(values->size()) != depth * cols || depth == 0 ||
      depth > INT32_MAX)
    return std::nullopt;
  int64_t panels = (cols + kSparsePanel - 1) / kSparsePanel;
  SmallVector<int32_t> first(panels + 1, 0);
  SmallVector<int32_t> ks;
  SmallVector<float> packed;
  for (int64_t panel = 0; panel < panels; ++panel) {
    first[panel] = ks.size();
    for (int64_t k = 0; k < depth; ++k) {
      const float *row = values->data() + k * cols + panel * kSparsePanel;
      int64_t width = std::min(kSparsePanel, cols - panel * kSparsePanel);
      if (llvm::all_of(ArrayRef<float>(row, width), [](float x) { return x == 0.0f; }))
        continue;
      ks.push_back(k);
      for (int64_t j = 0; j < kSparsePanel; ++j)
        packed.push_back(j < width ? row[j] : 0.0f);
    }
  }
  int64_t blocks = ks.size();
  if (blocks > INT32_MAX)
    return std::nullopt;
  first[panels] = blocks;
  SparseWeight sparse;
  sparse.blocks = blocks;
  sparse.panels = panels;
  sparse.sparsity = 1.0 - double(blocks) / double(panels * depth);
  measured = sparse.sparsity;
  if (sparse.sparsity < threshold)
    return std::nullopt;
  // An all-zero weight still has one (zero) block of storage to point at.
  if (blocks == 0) {
    packed.assign(kSparsePanel, 0.0f);
    ks.push_back(0);
  }
  std::string name = "sparse_weight";
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
    name = resource.getRawHandle().getKey().str();
  auto blob = [&](auto array, StringRef suffix, RankedTensorType blobType) {
    ArrayRef<char> bytes(reinterpret_cast<const char *>(array.data()),
                         array.size() * sizeof(array[0]));
    AsmResourceBlob data = HeapAsmResourceBlob::allocateAndCopyWithAlign(
        bytes, /*align=*/64, /*dataIsMutable=*/false);
    return b.create<tfm::ConstantOp>(
        loc, DenseResourceElementsAttr::get(blobType, (name + suffix).str(),
                                            std::move(data)));
  };
  int64_t stored = std::max<int64_t>(blocks, 1);
  sparse.values = blob(ArrayRef<float>(packed), ".sparse_values",
                       RankedTensorType::get({stored, kSparsePanel}, b.getF32Type()));
  sparse.ks = blob(ArrayRef<int32_t>(ks), ".sparse_ks",
                   RankedTensorType::get({stored}, b.getI32Type()));
  sparse.first = blob(ArrayRef<int32_t>(first), ".sparse_first",
                      RankedTensorType::get({panels + 1}, b.getI32Type()));
  return sparse;
}

/// The `count` elements of a constant of element type T (f32 or an 8-bit
/// integer), a splat or a one-element tensor broadcast to `count`; nullopt
/// when `value` is not such a constant.
template <typename T>
std::optional<SmallVector<T>> readConstant(Value value, int64_t count) {
  Attribute attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getElementTypeBitWidth() != 8 * sizeof(T))
    return std::nullopt;
  ArrayRef<char> raw;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    std::optional<ArrayRef<char>> bytes = tfm::getWeightBytes(resource);
    if (!bytes)
      return std::nullopt;
    raw = *bytes;
  } else if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    raw = dense.getRawData();
  } else {
    return std::nullopt;
  }
  size_t elements = raw.size() / sizeof(T);
  if (elements != 1 && elements != static_cast<size_t>(count))
    return std::nullopt;
  SmallVector<T> values(count);
  for (int64_t i = 0; i < count; ++i)
    std::memcpy(&values[i], raw.data() + (elements == 1 ? 0 : i) * sizeof(T),
                sizeof(T));
  return values;
}

/// A new constant of `type` holding `bytes`, a weights blob named `name`.
Value createBlobConstant(OpBuilder &b, Location loc, RankedTensorType type,
                         ArrayRef<char> bytes, StringRef name) {
  AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      bytes, /*align=*/64, /*dataIsMutable=*/false);
  return b.create<tfm::ConstantOp>(
      loc, DenseResourceElementsAttr::get(type, name, std::move(blob)));
}

/// The name of `weight`'s blob (a packed copy's name starts with it), or
/// `fallback` for an inline constant.
std::string blobName(Value weight, StringRef fallback) {
  Attribute attr;
  if (matchPattern(weight, m_Constant(&attr)))
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
      return resource.getRawHandle().getKey().str();
  return fallback.str();
}

/// `weight` ([K, N] bf16, constant) packed as the bf16 linear kernel reads
/// it (tfc_abi.h's tfc_rt_linear_bf16): [panels, K / 2 rounded up,
/// 2 * panel] bf16, each pair of k of a column adjacent (k even first), 0
/// past K and past N. Null when the weight is not such a constant.
Value packBf16Weight(OpBuilder &b, Location loc, Value weight, int64_t panel) {
  auto type = cast<RankedTensorType>(weight.getType());
  int64_t depth = type.getDimSize(0), cols = type.getDimSize(1);
  std::optional<SmallVector<uint16_t>> values =
      readConstant<uint16_t>(weight, depth * cols);
  if (!values)
    return {};
  int64_t panels = (cols + panel - 1) / panel, pairs = (depth + 1) / 2;
  SmallVector<uint16_t> packed(panels * pairs * panel * 2, 0);
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t k = 0; k < depth; ++k)
      for (int64_t jj = 0; jj < panel && p * panel + jj < cols; ++jj)
        packed[((p * pairs + k / 2) * panel + jj) * 2 + k % 2] =
            (*values)[k * cols + p * panel + jj];
  std::string name = blobName(weight, "bf16_weight");
  return createBlobConstant(
      b, loc, RankedTensorType::get({panels, pairs, panel * 2}, b.getBF16Type()),
      ArrayRef<char>(reinterpret_cast<const char *>(packed.data()),
                     packed.size() * sizeof(uint16_t)),
      name + ".packed_bf16");
}

/// A 4-bit weight (tfm.quantized_linear with weight_bits 4) as the int4
/// kernel reads it (tfc_abi.h's tfc_rt_linear_q4): each value as its code
/// 0..15 (a signed value plus 8), two columns a byte, in panels; the
/// groups' scales and zero points in panels too. `zeros` is null where
/// every zero point is 8 (symmetric weights).
struct PackedInt4Weight {
  Value packed, scales, zeros;
  int64_t groups = 0;
};

/// Packs `op`'s constant weight for the int4 kernel, or says why not.
std::optional<PackedInt4Weight> packInt4Weight(OpBuilder &b, Location loc,
                                               tfm::QuantizedLinearOp op,
                                               int64_t panel, Refusal &why) {
  auto weightType = cast<RankedTensorType>(op.getWeight().getType());
  auto scaleType = cast<RankedTensorType>(op.getWeightScale().getType());
  if (weightType.getRank() != 2 || !weightType.hasStaticShape() ||
      !scaleType.hasStaticShape()) {
    why = "the weight or its scales have no static shape";
    return std::nullopt;
  }
  int64_t depth = weightType.getDimSize(0), cols = weightType.getDimSize(1);
  // [K / G, N] group-wise, else one group of K rows ([N] or [1]).
  int64_t groups = scaleType.getRank() == 2 ? scaleType.getDimSize(0) : 1;
  if (groups <= 0 || depth % groups != 0) {
    why = "the weight's rows are not whole groups";
    return std::nullopt;
  }
  bool isSigned = !weightType.getElementType().isUnsignedInteger(8);
  std::optional<SmallVector<int8_t>> values =
      readConstant<int8_t>(op.getWeight(), depth * cols);
  std::optional<SmallVector<float>> scales =
      readConstant<float>(op.getWeightScale(), groups * cols);
  std::optional<SmallVector<int8_t>> zeros;
  if (Value zero = op.getWeightZeroPoint())
    zeros = readConstant<int8_t>(zero, groups * cols);
  if (!values || !scales || (op.getWeightZeroPoint() && !zeros)) {
    why = "the weight, its scales or zero points are not constants";
    return std::nullopt;
  }
  // A stored byte as the code the kernel subtracts: 0..15 for 4-bit values.
  const int offset = isSigned ? 8 : 0;
  auto code = [&](int8_t stored) {
    return (isSigned ? static_cast<int>(stored)
                     : static_cast<int>(static_cast<uint8_t>(stored))) +
           offset;
  };
  const int64_t panels = (cols + panel - 1) / panel, half = panel / 2;
  SmallVector<uint8_t> packed(panels * depth * half, 0);
  SmallVector<float> packedScales(panels * groups * panel, 0.0f);
  SmallVector<uint8_t> packedZeros(panels * groups * panel, 8);
  bool symmetric = true;
  for (int64_t k = 0; k < depth; ++k)
    for (int64_t n = 0; n < cols; ++n) {
      int value = code((*values)[k * cols + n]);
      if (value < 0 || value > 15) {
        why = "weight values outside 4 bits";
        return std::nullopt;
      }
      int64_t p = n / panel, j = n % panel;
      uint8_t &byte = packed[(p * depth + k) * half + j % half];
      byte |= static_cast<uint8_t>(value << (j < half ? 0 : 4));
    }
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t n = 0; n < cols; ++n) {
      int64_t at = ((n / panel) * groups + g) * panel + n % panel;
      packedScales[at] = (*scales)[g * cols + n];
      int zero = zeros ? code((*zeros)[g * cols + n]) : offset;
      if (zero < 0 || zero > 15) {
        why = "zero points outside 4 bits";
        return std::nullopt;
      }
      packedZeros[at] = static_cast<uint8_t>(zero);
      symmetric = symmetric && zero == 8;
    }
  std::string name = blobName(op.getWeight(), "int4_weight");
  auto bytesOf = [](auto &vector) {
    return ArrayRef<char>(reinterpret_cast<const char *>(vector.data()),
                          vector.size() * sizeof(vector[0]));
  };
  Type byte = b.getIntegerType(8);
  PackedInt4Weight result;
  result.groups = groups;
  result.packed = createBlobConstant(
      b, loc, RankedTensorType::get({panels, depth, half}, byte),
      bytesOf(packed), name + ".packed_q4");
  result.scales = createBlobConstant(
      b, loc, RankedTensorType::get({panels, groups, panel}, b.getF32Type()),
      bytesOf(packedScales), name + ".scales_q4");
  if (!symmetric)
    result.zeros = createBlobConstant(
        b, loc, RankedTensorType::get({panels, groups, panel}, byte),
        bytesOf(packedZeros), name + ".zeros_q4");
  return result;
}

/// An int8 weight as the quantized linear kernels read it (tfc_abi.h's
/// tfc_rt_linear_q8, tfc_kernels.def's linear_sparse_q8), packed for one
/// dot product: `packed` is the dense kernel's panels or the sparse
/// kernel's blocks (with `ks` and `first`).
struct PackedQuantizedWeight {
  Value packed, scales, sums, zeros; // zeros null without zero points
  Value ks, first;                   // the sparse kernel's only
  int64_t blocks = 0, panels = 0;    // the sparse kernel's nonzero blocks
  double sparsity = 0;               // its fraction of all-zero blocks
};

/// The constant weight of a tfm.quantized_linear ([K, N] i8 or ui8, scales
/// [N] or [1], zero points of the weight's type or none) as the integers a
/// dot product multiplies: for S16 each element less its column's zero
/// point; for U8S8 the same where every such difference fits in s8
/// ("centered": a pruned element, at its zero point, is then a stored 0
/// the sparse kernel can skip), else each element as s8 (a ui8 weight less
/// 128, its zero point too, the zero points left to the epilogue).
class QuantizedWeightReader {
public:
  /// Nullopt when a constant cannot be read.
  static std::optional<QuantizedWeightReader> read(tfm::QuantizedLinearOp op,
                                                   bool u8s8) {
    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    if (!weightType.hasStaticShape())
      return std::nullopt;
    QuantizedWeightReader reader;
    reader.u8s8 = u8s8;
    reader.depth = weightType.getDimSize(0);
    reader.cols = weightType.getDimSize(1);
    reader.unsignedWeight = weightType.getElementType().isUnsignedInteger(8);
    std::optional<SmallVector<int8_t>> weight =
        readConstant<int8_t>(op.getWeight(), reader.depth * reader.cols);
    std::optional<SmallVector<float>> scales =
        readConstant<float>(op.getWeightScale(), reader.cols);
    std::optional<SmallVector<int8_t>> zeroBytes;
    if (op.getWeightZeroPoint())
      zeroBytes = readConstant<int8_t>(op.getWeightZeroPoint(), reader.cols);
    if (!weight || !scales || (op.getWeightZeroPoint() && !zeroBytes))
      return std::nullopt;
    reader.weight = std::move(*weight);
    reader.scales = std::move(*scales);
    if (zeroBytes)
      reader.zeroBytes = std::move(*zeroBytes);
    reader.centered = !u8s8;
    if (u8s8 && !reader.zeroBytes.empty()) {
      reader.centered = true;
      for (int64_t k = 0; k < reader.depth && reader.centered; ++k)
        for (int64_t j = 0; j < reader.cols && reader.centered; ++j) {
          int32_t difference = reader.element(k, j) - reader.zeroPoint(j);
          reader.centered = difference >= -128 && difference <= 127;
        }
    }
    reader.name = "quantized_weight";
    Attribute attr;
    if (matchPattern(op.getWeight(), m_Constant(&attr)))
      if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
        reader.name = resource.getRawHandle().getKey().str();
    return reader;
  }

  /// Element (k, j) as the dot product multiplies it.
  int32_t stored(int64_t k, int64_t j) const {
    return centered ? element(k, j) - zeroPoint(j) : element(k, j) - shift();
  }

  /// The per-column operands, zero-padded to `padded` columns, as blobs in
  /// `result`: scales; for U8S8 the column sums of the stored weights and
  /// (where any is nonzero) the stored zero points.
  void addColumnOperands(OpBuilder &b, Location loc, int64_t padded,
                         PackedQuantizedWeight &result) const {
    SmallVector<int32_t> sums(padded, 0), zeros(padded, 0);
    SmallVector<float> paddedScales(padded, 0.0f);
    for (int64_t j = 0; j < cols; ++j) {
      paddedScales[j] = scales[j];
      zeros[j] = centered ? 0 : zeroPoint(j) - shift();
      if (u8s8)
        for (int64_t k = 0; k < depth; ++k)
          sums[j] += stored(k, j);
    }
    auto perColumn = [&](Type element) {
      return RankedTensorType::get({padded}, element);
    };
    result.scales = createBlobConstant(b, loc, perColumn(b.getF32Type()),
                                       bytesOf(paddedScales), name + ".scales");
    result.sums = createBlobConstant(b, loc, perColumn(b.getIntegerType(32)),
                                     bytesOf(sums), name + ".sums");
    if (u8s8 && llvm::any_of(zeros, [](int32_t z) { return z != 0; }))
      result.zeros = createBlobConstant(b, loc, perColumn(b.getIntegerType(32)),
                                        bytesOf(zeros), name + ".zeros");
  }

  /// Writes element (k, j) into a group's slot of its column (4 bytes: k
  /// modulo the group's k in the dot product's layout).
  void writeSlot(char *slot, int64_t k, int64_t j) const {
    int64_t t = k % (u8s8 ? 4 : 2);
    if (u8s8) {
      slot[t] = static_cast<char>(static_cast<int8_t>(stored(k, j)));
    } else {
      auto value = static_cast<int16_t>(stored(k, j));
      std::memcpy(slot + 2 * t, &value, sizeof(value));
    }
  }

  template <typename Vector> static ArrayRef<char> bytesOf(const Vector &vector) {
    return ArrayRef<char>(reinterpret_cast<const char *>(vector.data()),
                          vector.size() * sizeof(vector[0]));
  }

  bool u8s8 = false;
  bool centered = false; // stored less the zero points
  int64_t depth = 0, cols = 0;
  std::string name;

private:
  int32_t element(int64_t k, int64_t j) const {
    int8_t raw = weight[k * cols + j];
    return unsignedWeight ? static_cast<uint8_t>(raw) : raw;
  }
  int32_t zeroPoint(int64_t j) const {
    if (zeroBytes.empty())
      return 0;
    int8_t raw = zeroBytes[j];
    return unsignedWeight ? static_cast<uint8_t>(raw) : raw;
  }
  // ui8 weights are stored less 128 for vpdpbusd's s8 operand.
  int32_t shift() const { return u8s8 && unsignedWeight ? 128 : 0; }

  bool unsignedWeight = false;
  SmallVector<int8_t> weight, zeroBytes;
  SmallVector<float> scales;
};

/// The dense kernel's packing: panels of `panel` columns, groups of 4 k
/// (U8S8) or 2 (S16), each column's group 4 bytes.
PackedQuantizedWeight packQuantizedWeight(OpBuilder &b, Location loc,
                                          const QuantizedWeightReader &weight,
                                          int64_t panel) {
  const int64_t group = weight.u8s8 ? 4 : 2;
  int64_t panels = (weight.cols + panel - 1) / panel;
  int64_t groups = (weight.depth + group - 1) / group;
  SmallVector<char> packed(panels * groups * panel * 4, 0);
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t k = 0; k < weight.depth; ++k)
      for (int64_t jj = 0; jj < panel && p * panel + jj < weight.cols; ++jj)
        weight.writeSlot(packed.data() + ((p * groups + k / group) * panel + jj) * 4,
                         k, p * panel + jj);
  PackedQuantizedWeight result;
  result.packed = createBlobConstant(
      b, loc, RankedTensorType::get({panels, groups, panel * 4}, b.getIntegerType(8)),
      packed, weight.name + (weight.u8s8 ? ".packed_u8s8" : ".packed_s16"));
  weight.addColumnOperands(b, loc, panels * panel, result);
  return result;
}

constexpr int64_t kSparseQuantizedDepth = 4;

/// The sparse kernel's packing when at least `threshold` of the weight's
/// blocks of 4 input rows by 16 columns store only zeros (a pruned block
/// quantized): per panel of 16 columns its nonzero blocks, each one group
/// of 4 k (U8S8) or two of 2 (S16) of 16 columns, 4 bytes a column;
/// nullopt otherwise. `measured` gets the fraction of zero blocks.
std::optional<PackedQuantizedWeight>
packSparseQuantizedWeight(OpBuilder &b, Location loc,
                          const QuantizedWeightReader &weight, double threshold,
                          double &measured) {
  measured = 0;
  const int64_t depth = weight.depth, cols = weight.cols;
  if (depth == 0 || depth > INT32_MAX)
    return std::nullopt;
  const int64_t steps = weight.u8s8 ? 1 : 2;
  const int64_t blockBytes = steps * kSparsePanel * 4;
  int64_t panels = (cols + kSparsePanel - 1) / kSparsePanel;
  int64_t blocksOfDepth = (depth + kSparseQuantizedDepth - 1) / kSparseQuantizedDepth;
  SmallVector<int32_t> first(panels + 1, 0), ks;
  SmallVector<char> packed;
  for (int64_t panel = 0; panel < panels; ++panel) {
    first[panel] = ks.size();
    int64_t col0 = panel * kSparsePanel;
    int64_t width = std::min(kSparsePanel, cols - col0);
    for (int64_t k0 = 0; k0 < depth; k0 += kSparseQuantizedDepth) {
      int64_t kEnd = std::min(k0 + kSparseQuantizedDepth, depth);
      bool zero = true;
      for (int64_t k = k0; k < kEnd && zero; ++k)
        for (int64_t jj = 0; jj < width && zero; ++jj)
          zero = weight.stored(k, col0 + jj) == 0;
      if (zero)
        continue;
      ks.push_back(static_cast<int32_t>(k0));
      size_t start = packed.size();
      packed.resize(start + blockBytes, 0);
      for (int64_t k = k0; k < kEnd; ++k)
        for (int64_t jj = 0; jj < width; ++jj) {
          int64_t step = weight.u8s8 ? 0 : (k - k0) / 2;
          weight.writeSlot(packed.data() + start + step * kSparsePanel * 4 + jj * 4,
                           k, col0 + jj);
        }
    }
  }
  int64_t blocks = ks.size();
  if (blocks > INT32_MAX)
    return std::nullopt;
  first[panels] = blocks;
  PackedQuantizedWeight result;
  result.blocks = blocks;
  result.panels = panels;
  result.sparsity = 1.0 - double(blocks) / double(panels * blocksOfDepth);
  measured = result.sparsity;
  if (result.sparsity < threshold)
    return std::nullopt;
  // An all-zero weight still has one (zero) block of storage to point at.
  if (blocks == 0) {
    packed.assign(blockBytes, 0);
    ks.push_back(0);
  }
  int64_t stored = std::max<int64_t>(blocks, 1);
  std::string suffix = weight.u8s8 ? ".sparse_u8s8" : ".sparse_s16";
  result.packed = createBlobConstant(
      b, loc, RankedTensorType::get({stored, blockBytes}, b.getIntegerType(8)),
      packed, weight.name + suffix);
  result.ks = createBlobConstant(b, loc,
                                 RankedTensorType::get({stored}, b.getI32Type()),
                                 QuantizedWeightReader::bytesOf(ks),
                                 weight.name + suffix + "_ks");
  result.first = createBlobConstant(
      b, loc, RankedTensorType::get({panels + 1}, b.getI32Type()),
      QuantizedWeightReader::bytesOf(first), weight.name + suffix + "_first");
  weight.addColumnOperands(b, loc, panels * kSparsePanel, result);
  return result;
}

class KernelSelector {
public:
  KernelSelector(OpBuilder &b, StringRef isa, double sparseThreshold,
                 double quantizedSparseThreshold)
      : b(b), isa(isa), sparseThreshold(sparseThreshold),
        quantizedSparseThreshold(quantizedSparseThreshold) {}

  /// tfm.linear, or a tfm.matmul by a matrix with no epilogue:
  /// out = act(input @ weight + bias) + residual.
  Refusal selectLinear(Operation *op, Value input, Value weight, Value bias,
                       Value residual, StringRef activationName,
                       std::string &chosen);
  Refusal selectQuantizedLinear(tfm::QuantizedLinearOp op, std::string &chosen);
  Refusal selectInt4Linear(tfm::QuantizedLinearOp op, std::string &chosen);
  Refusal selectAttention(tfm::AttentionOp op, std::string &chosen);
  Refusal selectLinearAttention(tfm::LinearAttentionOp op, std::string &chosen);
  Refusal selectSequenceOffset(tfm::SequenceOffsetOp op, std::string &chosen);
  Refusal selectBatchedMatMul(tfm::MatMulOp op, std::string &chosen);
  Refusal selectLayerNorm(Operation *op, Value input, Value skip, Value scale,
                          Value bias, uint64_t axis, float epsilon,
                          std::string &chosen);

private:
  OpBuilder &b;
  StringRef isa;
  /// An f32 weight at least this sparse in 1x16 blocks runs in the
  /// block-sparse kernel.
  double sparseThreshold;
  /// An int8 weight at least this sparse in 4x16 blocks runs in the
  /// block-sparse int8 kernel.
  double quantizedSparseThreshold;
};

/// What the linear kernels require of a linear's shapes beyond its
/// weight's: rank 2 or 3, static columns and bias, and a residual of
/// exactly the result's shape.
Refusal checkLinearShapes(Operation *op, Value input, Value bias,
                          Value residual) {
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  auto inputType = cast<RankedTensorType>(input.getType());
  int64_t rank = resultType.getRank();
  if (rank < 2 || rank > 3 || inputType.getRank() != rank)
    return "the linear kernel takes products of rank 2 or 3";
  if (ShapedType::isDynamic(resultType.getDimSize(rank - 1)))
    return "the output has a dynamic number of columns";
  if (bias && !cast<RankedTensorType>(bias.getType()).hasStaticShape())
    return "the bias has a dynamic size";
  // The residual: exactly the result's shape (dynamic dims are checked
  // against the input's by emitLinearChecks).
  if (residual) {
    auto residualType = cast<RankedTensorType>(residual.getType());
    if (residualType.getRank() != rank)
      return "the residual broadcasts";
    for (int64_t i = 0; i < rank; ++i) {
      int64_t size = residualType.getDimSize(i), want = resultType.getDimSize(i);
      if (!ShapedType::isDynamic(size) && !ShapedType::isDynamic(want) &&
          size != want)
        return "the residual broadcasts";
      if (!ShapedType::isDynamic(size) && ShapedType::isDynamic(want) &&
          size == 1)
        return "the residual may broadcast";
    }
  }
  return {};
}

/// The run-time checks of a linear kernel call (the input's depth, the
/// residual's dims); returns the result's dims.
SmallVector<OpFoldResult> emitLinearChecks(OpBuilder &b, Location loc,
                                           Operation *op, Value input,
                                           Value residual, int64_t depth,
                                           int64_t cols) {
  int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
  if (cast<RankedTensorType>(input.getType()).isDynamicDim(rank - 1))
    emitEqualCheck(b, loc, op, b.create<tensor::DimOp>(loc, input, rank - 1),
                   b.create<arith::ConstantIndexOp>(loc, depth),
                   "the contracted dims of the input and weight differ");
  // The result's dims: the input's rows, then N.
  SmallVector<OpFoldResult> resultDims = getDims(b, loc, input);
  resultDims.back() = b.getIndexAttr(cols);
  if (residual) {
    auto residualType = cast<RankedTensorType>(residual.getType());
    for (int64_t i = 0; i + 1 < rank; ++i)
      if (residualType.isDynamicDim(i))
        emitEqualCheck(b, loc, op, b.create<tensor::DimOp>(loc, residual, i),
                       toIndexValue(b, loc, resultDims[i]),
                       "the residual does not match the result's shape");
  }
  return resultDims;
}

/// The flags bits of an activation's name (TFC_RT_LINEAR_*).
int64_t encodeActivation(StringRef activationName) {
  int64_t activation = llvm::StringSwitch<int64_t>(activationName)
                           .Case("relu", TFC_RT_LINEAR_RELU)
                           .Case("gelu", TFC_RT_LINEAR_GELU)
                           .Case("gelu_tanh", TFC_RT_LINEAR_GELU_TANH)
                           .Default(TFC_RT_LINEAR_NONE);
  return activation << TFC_RT_LINEAR_ACTIVATION_SHIFT;
}

Refusal KernelSelector::selectLinear(Operation *op, Value input, Value weight,
                                     Value bias, Value residual,
                                     StringRef activationName,
                                     std::string &chosen) {
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  auto weightType = cast<RankedTensorType>(weight.getType());
  int64_t rank = resultType.getRank();
  // An f32 input by a bf16 weight (--quantize=bf16): the bf16 kernel.
  bool bf16 = weightType.getElementType().isBF16();
  if (!resultType.getElementType().isF32() ||
      !(weightType.getElementType().isF32() || bf16))
    return "no linear kernel for " +
           typeName(getElementTypeOrSelf(input.getType())) + " by " +
           typeName(weightType.getElementType()) + " (only f32 by f32 or bf16)";
  if (Refusal refusal = checkLinearShapes(op, input, bias, residual);
      !refusal.empty())
    return refusal;
  if (weightType.getRank() != 2 || !weightType.hasStaticShape() ||
      !matchPattern(weight, m_Constant()))
    return "the weight is not a constant matrix of static shape";
  Location loc = op->getLoc();
  const int64_t panelWidth = getLinearPanelWidth(isa);
  // Mostly zero in 1x16 blocks (pruned while training): the sparse kernel.
  std::optional<SparseWeight> sparse;
  double blockSparsity = 0;
  if (!bf16)
    sparse = packSparseWeight(b, loc, weight, sparseThreshold, blockSparsity);
  Value packed = sparse ? sparse->values
                 : bf16 ? packBf16Weight(b, loc, weight, panelWidth)
                        : packWeight(b, loc, weight, panelWidth);
  if (!packed)
    return "the weight is not a constant matrix";
  int64_t depth = weightType.getDimSize(0);
  int64_t cols = resultType.getDimSize(rank - 1);
  SmallVector<OpFoldResult> resultDims =
      emitLinearChecks(b, loc, op, input, residual, depth, cols);

  int64_t flags = 0;
  SmallVector<Value> args = {toRank3(b, loc, input), packed};
  if (sparse)
    args.append({sparse->ks, sparse->first});
  // The optional arguments' places in the kernel's declaration.
  int64_t biasIndex = sparse ? 4 : 2, residualIndex = biasIndex + 1;
  SmallVector<int64_t> absent;
  if (bias) {
    args.push_back(bias);
    flags |= TFC_RT_LINEAR_HAS_BIAS;
  } else {
    absent.push_back(biasIndex);
  }
  if (residual) {
    args.push_back(toRank3(b, loc, residual));
    flags |= TFC_RT_LINEAR_HAS_RESIDUAL;
  } else {
    absent.push_back(residualIndex);
  }
  flags |= encodeActivation(activationName);

  SmallVector<int64_t> shape3(resultType.getShape());
  SmallVector<OpFoldResult> dims3(resultDims);
  if (rank == 2) {
    shape3.insert(shape3.begin(), 1);
    dims3.insert(dims3.begin(), b.getIndexAttr(1));
  }
  StringRef kernel = sparse ? "linear_sparse" : bf16 ? "linear_bf16" : "linear";
  StringRef dtypes = bf16 ? "bf16" : "f32";
  auto result = b.create<UKernelOp>(
      loc, RankedTensorType::get(shape3, b.getF32Type()), kernel, args,
      dynamicSizes(b, loc, shape3, dims3), absent, dtypes, isa, flags);
  op->getResult(0).replaceAllUsesWith(fromRank3(b, loc, result, rank));
  if (sparse) {
    chosen = ("kernel linear_sparse (f32, " + isa + "): weight " + Twine(depth) +
              "x" + Twine(weightType.getDimSize(1)) + ", " +
              Twine(static_cast<int64_t>(100 * sparse->sparsity + 0.5)) +
              "% of its 1x16 blocks zero: " + Twine(sparse->blocks) +
              " blocks in " + Twine(sparse->panels) + " panels of 16 columns")
                 .str();
    return {};
  }
  auto packedType = cast<RankedTensorType>(packed.getType());
  chosen = ("kernel " + kernel + " (" + dtypes + ", " + isa + "): weight " +
            Twine(depth) + "x" + Twine(weightType.getDimSize(1)) +
            " packed into " + Twine(packedType.getDimSize(0)) +
            " panels of " + Twine(panelWidth) + " columns")
               .str();
  // Zeros found but too few to pay: say so, with the threshold missed.
  if (blockSparsity > 0)
    chosen += (", " + Twine(static_cast<int64_t>(100 * blockSparsity + 0.5)) +
               "% of its 1x16 blocks zero (the sparse kernel takes " +
               Twine(static_cast<int64_t>(100 * sparseThreshold + 0.5)) + "% or more)")
                  .str();
  return {};
}

Refusal KernelSelector::selectQuantizedLinear(tfm::QuantizedLinearOp op,
                                              std::string &chosen) {
  auto resultType = cast<RankedTensorType>(op.getType());
  Value input = op.getInput(), bias = op.getBias(), residual = op.getResidual();
  int64_t rank = resultType.getRank();
  if (!resultType.getElementType().isF32())
    return "no quantized linear kernel for " +
           typeName(resultType.getElementType()) + " activations (only f32)";
  if (Refusal refusal = checkLinearShapes(op, input, bias, residual);
      !refusal.empty())
    return refusal;
  // Weight-only: 4-bit weights have the int4 kernel; 8-bit ones none (the
  // generic lowering dequantizes the weight and multiplies in f32).
  if (op.getInputQuantization() == "none") {
    if (op.getWeightBits() != 4)
      return "no kernel for weight-only quantized linears of " +
             std::to_string(op.getWeightBits()) + "-bit weights (only 4)";
    return selectInt4Linear(op, chosen);
  }
  auto weightType = cast<RankedTensorType>(op.getWeight().getType());
  int64_t depth = weightType.getDimSize(0);
  if (ShapedType::isDynamic(depth) || depth > TFC_RT_Q8_MAX_DEPTH)
    return "K is dynamic or above " + std::to_string(TFC_RT_Q8_MAX_DEPTH);
  // Static activation parameters are the call's scalars.
  float inputScale = 1.0f;
  int64_t inputZero = 0;
  bool inputSigned = false;
  if (Value scale = op.getInputScale()) {
    std::optional<SmallVector<float>> scaleValue = readConstant<float>(scale, 1);
    if (!scaleValue)
      return "the input scale is not a constant";
    inputScale = (*scaleValue)[0];
    if (Value zero = op.getInputZeroPoint()) {
      std::optional<SmallVector<int8_t>> zeroValue = readConstant<int8_t>(zero, 1);
      if (!zeroValue)
        return "the input zero point is not a constant";
      inputSigned = !cast<RankedTensorType>(zero.getType())
                         .getElementType()
                         .isUnsignedInteger(8);
      inputZero = inputSigned ? (*zeroValue)[0]
                              : static_cast<uint8_t>((*zeroValue)[0]);
    }
  }
  std::optional<KernelIsa> kernelIsa = parseKernelIsa(isa);
  bool u8s8 = kernelIsa && kernelIsa->vnni &&
              (kernelIsa->base == "avx512" || kernelIsa->base == "avx2");
  Location loc = op.getLoc();
  const int64_t panelWidth = getLinearPanelWidth(isa);
  std::optional<QuantizedWeightReader> weight =
      QuantizedWeightReader::read(op, u8s8);
  if (!weight)
    return "the weight, its scales or zero points are not constants";
  // Mostly zero in blocks of 4x16 (pruned, then quantized): the sparse
  // kernel.
  double blockSparsity = 0;
  std::optional<PackedQuantizedWeight> packed = packSparseQuantizedWeight(
      b, loc, *weight, quantizedSparseThreshold, blockSparsity);
  const bool sparse = packed.has_value();
  if (!sparse)
    packed = packQuantizedWeight(b, loc, *weight, panelWidth);
  int64_t cols = resultType.getDimSize(rank - 1);
  SmallVector<OpFoldResult> resultDims =
      emitLinearChecks(b, loc, op, input, residual, depth, cols);

  int64_t flags = encodeActivation(op.getActivation());
  StringRef mode = op.getInputQuantization();
  flags |= (mode == "row"      ? TFC_RT_Q8_INPUT_ROW
            : mode == "tensor" ? TFC_RT_Q8_INPUT_TENSOR
                               : TFC_RT_Q8_INPUT_STATIC)
           << TFC_RT_Q8_INPUT_SHIFT;
  if (inputSigned)
    flags |= TFC_RT_Q8_INPUT_SIGNED;
  SmallVector<Value> args = {toRank3(b, loc, input), packed->packed};
  if (sparse)
    args.append({packed->ks, packed->first});
  args.append({packed->scales, packed->sums});
  // The optional arguments' places in the kernel's declaration.
  const int64_t zeroIndex = sparse ? 6 : 4;
  SmallVector<int64_t> absent;
  if (packed->zeros) {
    args.push_back(packed->zeros);
    flags |= TFC_RT_Q8_HAS_WEIGHT_ZERO;
  } else {
    absent.push_back(zeroIndex);
  }
  if (bias) {
    args.push_back(bias);
    flags |= TFC_RT_LINEAR_HAS_BIAS;
  } else {
    absent.push_back(zeroIndex + 1);
  }
  if (residual) {
    args.push_back(toRank3(b, loc, residual));
    flags |= TFC_RT_LINEAR_HAS_RESIDUAL;
  } else {
    absent.push_back(zeroIndex + 2);
  }
  args.push_back(b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(inputScale)));
  args.push_back(b.create<arith::ConstantIntOp>(loc, inputZero, 64));

  SmallVector<int64_t> shape3(resultType.getShape());
  SmallVector<OpFoldResult> dims3(resultDims);
  if (rank == 2) {
    shape3.insert(shape3.begin(), 1);
    dims3.insert(dims3.begin(), b.getIndexAttr(1));
  }
  StringRef dtypes = u8s8 ? "u8s8s32" : "s16s16s32";
  auto result = b.create<UKernelOp>(
      loc, RankedTensorType::get(shape3, b.getF32Type()),
      sparse ? "linear_sparse_q8" : "linear_q8", args,
      dynamicSizes(b, loc, shape3, dims3), absent, dtypes, isa, flags);
  op.getResult().replaceAllUsesWith(fromRank3(b, loc, result, rank));
  StringRef quantizedPer = mode == "static" ? StringRef("static scale") : mode;
  std::string found =
      std::to_string(static_cast<int64_t>(100 * blockSparsity + 0.5)) +
      "% of its 4x16 blocks zero";
  if (sparse) {
    chosen = ("kernel linear_sparse_q8 (" + dtypes + ", " + isa + "): weight " +
              Twine(depth) + "x" + Twine(cols) + ", " + found + ": " +
              Twine(packed->blocks) + " blocks in " + Twine(packed->panels) +
              " panels of 16 columns, input quantized per " + quantizedPer)
                 .str();
    return {};
  }
  chosen = ("kernel linear_q8 (" + dtypes + ", " + isa + "): weight " +
            Twine(depth) + "x" + Twine(cols) + " packed into " +
            Twine((cols + panelWidth - 1) / panelWidth) + " panels of " +
            Twine(panelWidth) + " columns, input quantized per " + quantizedPer)
               .str();
  // Zeros found but too few to pay: say so, with the threshold missed.
  if (blockSparsity > 0)
    chosen += ", " + found + " (the sparse kernel takes " +
              std::to_string(static_cast<int64_t>(100 * quantizedSparseThreshold + 0.5)) +
              "% or more)";
  return {};
}

Refusal KernelSelector::selectInt4Linear(tfm::QuantizedLinearOp op,
                                         std::string &chosen) {
  auto resultType = cast<RankedTensorType>(op.getType());
  Value input = op.getInput(), bias = op.getBias(), residual = op.getResidual();
  int64_t rank = resultType.getRank();
  Location loc = op.getLoc();
  const int64_t panelWidth = getLinearPanelWidth(isa);
  Refusal why;
  std::optional<PackedInt4Weight> weight =
      packInt4Weight(b, loc, op, panelWidth, why);
  if (!weight)
    return why;
  auto weightType = cast<RankedTensorType>(op.getWeight().getType());
  int64_t depth = weightType.getDimSize(0), cols = resultType.getDimSize(rank - 1);
  SmallVector<OpFoldResult> resultDims =
      emitLinearChecks(b, loc, op, input, residual, depth, cols);
  int64_t flags = encodeActivation(op.getActivation());
  SmallVector<Value> args = {toRank3(b, loc, input), weight->packed,
                             weight->scales};
  // The optional arguments' places in the kernel's declaration.
  SmallVector<int64_t> absent;
  if (weight->zeros) {
    args.push_back(weight->zeros);
    flags |= TFC_RT_Q4_HAS_WEIGHT_ZERO;
  } else {
    absent.push_back(3);
  }
  if (bias) {
    args.push_back(bias);
    flags |= TFC_RT_LINEAR_HAS_BIAS;
  } else {
    absent.push_back(4);
  }
  if (residual) {
    args.push_back(toRank3(b, loc, residual));
    flags |= TFC_RT_LINEAR_HAS_RESIDUAL;
  } else {
    absent.push_back(5);
  }
  SmallVector<int64_t> shape3(resultType.getShape());
  SmallVector<OpFoldResult> dims3(resultDims);
  if (rank == 2) {
    shape3.insert(shape3.begin(), 1);
    dims3.insert(dims3.begin(), b.getIndexAttr(1));
  }
  auto result = b.create<UKernelOp>(
      loc, RankedTensorType::get(shape3, b.getF32Type()), "linear_q4", args,
      dynamicSizes(b, loc, shape3, dims3), absent, "s4f32", isa, flags);
  op.getResult().replaceAllUsesWith(fromRank3(b, loc, result, rank));
  chosen = ("kernel linear_q4 (s4f32, " + isa + "): weight " + Twine(depth) +
            "x" + Twine(cols) + " packed into " +
            Twine((cols + panelWidth - 1) / panelWidth) + " panels of " +
            Twine(panelWidth) + " columns, " + Twine(weight->groups) +
            (weight->groups == 1 ? " group of " : " groups of ") +
            Twine(depth / weight->groups) + " rows" +
            (weight->zeros ? ", zero points" : ", symmetric"))
               .str();
  return {};
}

Refusal KernelSelector::selectAttention(tfm::AttentionOp op,
                                        std::string &chosen) {
  auto resultType = cast<RankedTensorType>(op.getType());
  if (!resultType.getElementType().isF32())
    return "no attention kernel for " +
           typeName(resultType.getElementType()) + " (only f32)";
  if (op->hasAttr(kSequenceStateAttr) && op.getPrecision() != "f32")
    return "the KV cache is kept for f32 products only, not " +
           op.getPrecision().str();
  Location loc = op.getLoc();
  Value query = op.getQuery(), key = op.getKey(), value = op.getValue(),
        mask = op.getMask();
  int64_t heads = static_cast<int64_t>(op.getNumHeads());
  // q, k and v as [B, L, N, d] views (token-major operands expanded in
  // place) or [B, N, L, d] ones (head-major, flagged): no copies.
  AttentionHeads split = splitAttentionHeads(b, loc, op, query, key, value, heads);
  Value batch = b.create<tensor::DimOp>(loc, split.query, 0);
  Value queryLength = b.create<tensor::DimOp>(
      loc, split.query, AttentionHeads::lengthDim(split.queryHeadMajor));
  Value keyLength = b.create<tensor::DimOp>(
      loc, split.key, AttentionHeads::lengthDim(split.keyHeadMajor));
  Value headsIndex = b.create<arith::ConstantIndexOp>(loc, heads);
  Value valueHidden = b.create<arith::MulIOp>(
      loc, b.create<tensor::DimOp>(loc, split.value, 3), headsIndex);

  SmallVector<Value> args = {split.query, split.key, split.value};
  SmallVector<int64_t> absent;
  if (mask) {
    // The mask as [B', N', Lq', Lk'], each dim 1 (broadcast) or the full
    // size; a dynamic dim is checked to be one of the two.
    auto maskType = cast<RankedTensorType>(mask.getType());
    int64_t rank = maskType.getRank();
    Value scoreDims[4] = {batch, headsIndex, queryLength, keyLength};
    Value one = b.create<arith::ConstantIndexOp>(loc, 1);
    for (int64_t j = 0; j < rank; ++j) {
      if (maskType.getDimSize(j) == 1)
        continue;
      Value size = b.create<tensor::DimOp>(loc, mask, j);
      Value full = scoreDims[4 - rank + j];
      Value ok = b.create<arith::OrIOp>(
          loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, size, one),
          b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, size, full));
      emitCheck(b, loc, ok, op,
                "mask dim " + Twine(j) + " is neither 1 nor the scores' size");
    }
    SmallVector<int64_t> shape4(4 - rank, 1);
    llvm::append_range(shape4, maskType.getShape());
    SmallVector<ReassociationIndices> groups;
    if (rank > 0) {
      // The added unit dims join the first of the mask's own dims.
      ReassociationIndices first;
      for (int64_t i = 0; i <= 4 - rank; ++i)
        first.push_back(i);
      groups.push_back(first);
      for (int64_t i = 5 - rank; i < 4; ++i)
        groups.push_back({i});
    }
    SmallVector<OpFoldResult> sizes4(4 - rank, b.getIndexAttr(1));
    llvm::append_range(sizes4, getDims(b, loc, mask));
    args.push_back(b.create<tensor::ExpandShapeOp>(
        loc, RankedTensorType::get(shape4, b.getF32Type()), mask, groups,
        sizes4));
  } else {
    absent.push_back(3);
  }
  args.push_back(b.create<arith::ConstantIntOp>(loc, heads, 64));
  args.push_back(b.create<arith::ConstantOp>(loc, op.getScaleAttr()));
  // --decoder: the instance's KV cache this op reads and appends to
  // (tfm-sequence-state), and the positions it is allocated for.
  auto state = op->getAttrOfType<IntegerAttr>(kSequenceStateAttr);
  auto maxContext = op->getAttrOfType<IntegerAttr>(kMaxContextAttr);
  args.push_back(
      b.create<arith::ConstantIntOp>(loc, state ? state.getInt() : -1, 64));
  args.push_back(b.create<arith::ConstantIntOp>(
      loc, maxContext ? maxContext.getInt() : 0, 64));
  int64_t flags = (mask ? TFC_RT_ATTENTION_HAS_MASK : 0) |
                  (op.getCausal() ? TFC_RT_ATTENTION_CAUSAL : 0) |
                  (split.queryHeadMajor ? TFC_RT_ATTENTION_Q_HEAD_MAJOR : 0) |
                  (split.keyHeadMajor ? TFC_RT_ATTENTION_K_HEAD_MAJOR : 0) |
                  (split.valueHeadMajor ? TFC_RT_ATTENTION_V_HEAD_MAJOR : 0);
  SmallVector<OpFoldResult> dims = {batch, queryLength, valueHidden};
  // precision = "bf16": the kernel's bf16 products.
  StringRef dtypes = op.getPrecision() == "bf16" ? "bf16" : "f32";
  auto result = b.create<UKernelOp>(
      loc, resultType, "attention", args,
      dynamicSizes(b, loc, resultType.getShape(), dims), absent, dtypes, isa,
      flags);
  op.getResult().replaceAllUsesWith(result.getResult());
  chosen = ("kernel attention (" + dtypes + ", " + isa +
            (state ? ", KV cache in the instance" : "") + ")")
               .str();
  return {};
}

Refusal KernelSelector::selectSequenceOffset(tfm::SequenceOffsetOp op,
                                             std::string &chosen) {
  auto result = b.create<UKernelOp>(op.getLoc(), op.getType(),
                                    "sequence_offset", ValueRange(),
                                    ValueRange(), ArrayRef<int64_t>(), "i64",
                                    isa, 0);
  op.getResult().replaceAllUsesWith(result.getResult());
  chosen = "kernel sequence_offset";
  return {};
}

Refusal KernelSelector::selectLinearAttention(tfm::LinearAttentionOp op,
                                              std::string &chosen) {
  auto resultType = cast<RankedTensorType>(op.getType());
  if (!resultType.getElementType().isF32())
    return "no linear_attention kernel for " +
           typeName(resultType.getElementType()) + " (only f32)";
  auto keyType = cast<RankedTensorType>(op.getKey().getType());
  if (keyType.getDimSize(3) > TFC_RT_LINEAR_ATTENTION_MAX_HEAD_DIM ||
      resultType.getDimSize(3) > TFC_RT_LINEAR_ATTENTION_MAX_HEAD_DIM)
    return "head dims past the kernel's " +
           std::to_string(TFC_RT_LINEAR_ATTENTION_MAX_HEAD_DIM);
  if (op.getWindow() > TFC_RT_LINEAR_ATTENTION_MAX_WINDOW)
    return "a window past the kernel's " +
           std::to_string(TFC_RT_LINEAR_ATTENTION_MAX_WINDOW);
  Location loc = op.getLoc();
  // The shapes the kernel trusts: the same checks as the generic lowering.
  Value query = op.getQuery(), key = op.getKey(), value = op.getValue();
  auto dim = [&](Value tensor, int64_t i) -> Value {
    return b.create<tensor::DimOp>(loc, tensor, i);
  };
  Value batch = dim(query, 0), queryLength = dim(query, 1),
        keyLength = dim(key, 1);
  auto equal = [&](Value x, Value y, const Twine &what) {
    emitCheck(b, loc, b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, x, y),
              op, what);
  };
  equal(dim(key, 0), batch, "key batch does not match the query's");
  equal(dim(value, 0), batch, "value batch does not match the query's");
  equal(dim(value, 1), keyLength, "key and value sequence lengths differ");
  if (op.getCausal())
    emitCheck(b, loc,
              b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::ule,
                                      queryLength, keyLength),
              op, "causal with more queries than keys");
  SmallVector<Value> args = {query, key, value};
  SmallVector<int64_t> absent;
  if (Value decay = op.getDecay())
    args.push_back(decay);
  else
    absent.push_back(3);
  args.push_back(b.create<arith::ConstantOp>(loc, op.getScaleAttr()));
  std::optional<APFloat> epsilon = op.getEpsilon();
  args.push_back(b.create<arith::ConstantOp>(
      loc, b.getF32FloatAttr(epsilon ? epsilon->convertToFloat() : 0.0f)));
  // --decoder: the instance's state this op continues (tfm-sequence-state).
  auto state = op->getAttrOfType<IntegerAttr>(kSequenceStateAttr);
  args.push_back(
      b.create<arith::ConstantIntOp>(loc, state ? state.getInt() : -1, 64));
  args.push_back(b.create<arith::ConstantIntOp>(loc, op.getWindow(), 64));
  args.push_back(b.create<arith::ConstantIntOp>(loc, op.getWindowDim(), 64));
  StringRef map = op.getFeatureMap();
  int64_t flags = (map == "elu_plus_one" ? TFC_RT_LINEAR_ATTENTION_ELU_PLUS_ONE
                   : map == "relu"       ? TFC_RT_LINEAR_ATTENTION_RELU
                   : map == "exp"        ? TFC_RT_LINEAR_ATTENTION_EXP
                                         : TFC_RT_LINEAR_ATTENTION_IDENTITY) |
                  (op.getCausal() ? TFC_RT_LINEAR_ATTENTION_CAUSAL : 0) |
                  (epsilon ? TFC_RT_LINEAR_ATTENTION_NORMALIZE : 0) |
                  (op.getDecay() ? TFC_RT_LINEAR_ATTENTION_HAS_DECAY : 0);
  SmallVector<OpFoldResult> dims = {batch, queryLength,
                                    b.getIndexAttr(resultType.getDimSize(2)),
                                    b.getIndexAttr(resultType.getDimSize(3))};
  auto result = b.create<UKernelOp>(
      loc, resultType, "linear_attention", args,
      dynamicSizes(b, loc, resultType.getShape(), dims), absent, "f32", isa,
      flags);
  op.getResult().replaceAllUsesWith(result.getResult());
  chosen = ("kernel linear_attention (f32, " + isa + ", " + map +
            (op.getCausal() ? ", causal" : "") +
            (op.getWindow() > 0
                 ? ", exact within " + std::to_string(op.getWindow()) + " keys"
                 : "") +
            ")")
               .str();
  return {};
}

/// `tensor` ([B1, .., Bn, R, C], n >= 0) as [B1 * .. * Bn, R, C].
Value collapseBatch(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  int64_t rank = type.getRank();
  if (rank == 2)
    return toRank3(b, loc, tensor);
  if (rank == 3)
    return tensor;
  ReassociationIndices leading;
  int64_t batch = 1;
  for (int64_t i = 0; i < rank - 2; ++i) {
    leading.push_back(i);
    batch = ShapedType::isDynamic(batch) || type.isDynamicDim(i)
                ? ShapedType::kDynamic
                : batch * type.getDimSize(i);
  }
  return b.create<tensor::CollapseShapeOp>(
      loc,
      RankedTensorType::get({batch, type.getDimSize(rank - 2), type.getDimSize(rank - 1)},
                            type.getElementType()),
      tensor, SmallVector<ReassociationIndices>{leading, {rank - 2}, {rank - 1}});
}

/// tfm.matmul of two computed operands ([.., M, K] @ [.., K, N], the same
/// batch dims, or all of one operand's 1): the batch dims collapsed into
/// one, the kernel packs the rhs of each batch as it runs.
Refusal KernelSelector::selectBatchedMatMul(tfm::MatMulOp op, std::string &chosen) {
  Value lhs = op.getLhs(), rhs = op.getRhs();
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  auto resultType = cast<RankedTensorType>(op.getType());
  if (!lhsType.getElementType().isF32() || !rhsType.getElementType().isF32() ||
      !resultType.getElementType().isF32())
    return "no matmul kernel for " + typeName(resultType.getElementType()) +
           " (only f32)";
  int64_t rank = resultType.getRank();
  if (rank < 2 || lhsType.getRank() != rank || rhsType.getRank() != rank)
    return "the operands' ranks differ (a broadcast of whole dims)";
  // A batch dim the operands do not share: fine when every batch dim of
  // one operand is 1 (it broadcasts as one batch), else the generic code.
  auto allOnes = [&](RankedTensorType type) {
    return llvm::all_of(type.getShape().drop_back(2), [](int64_t d) { return d == 1; });
  };
  bool lhsBroadcasts = rank > 2 && allOnes(lhsType) && !allOnes(rhsType);
  bool rhsBroadcasts = rank > 2 && allOnes(rhsType) && !allOnes(lhsType);
  Location loc = op.getLoc();
  for (int64_t i = 0; i + 2 < rank && !lhsBroadcasts && !rhsBroadcasts; ++i) {
    int64_t l = lhsType.getDimSize(i), r = rhsType.getDimSize(i);
    if (!ShapedType::isDynamic(l) && !ShapedType::isDynamic(r)) {
      if (l != r)
        return "batch dims broadcast";
      continue;
    }
    if (l == 1 || r == 1)
      return "a batch dim may broadcast";
    emitEqualCheck(b, loc, op, b.create<tensor::DimOp>(loc, lhs, i),
                   b.create<tensor::DimOp>(loc, rhs, i),
                   "batch dim " + Twine(i) + " differs between the operands");
  }
  if (lhsType.isDynamicDim(rank - 1) || rhsType.isDynamicDim(rank - 2))
    emitEqualCheck(b, loc, op, b.create<tensor::DimOp>(loc, lhs, rank - 1),
                   b.create<tensor::DimOp>(loc, rhs, rank - 2),
                   "the contracted dims differ");
  Value lhs3 = collapseBatch(b, loc, lhs), rhs3 = collapseBatch(b, loc, rhs);
  // The result's batch: the operand's that does not broadcast.
  Value batchSource = lhsBroadcasts ? rhs3 : lhs3;
  SmallVector<OpFoldResult> dims = {tensor::getMixedSize(b, loc, batchSource, 0),
                                    tensor::getMixedSize(b, loc, lhs3, 1),
                                    tensor::getMixedSize(b, loc, rhs3, 2)};
  auto batchType = cast<RankedTensorType>(batchSource.getType());
  SmallVector<int64_t> shape3 = {batchType.getDimSize(0),
                                 cast<RankedTensorType>(lhs3.getType()).getDimSize(1),
                                 cast<RankedTensorType>(rhs3.getType()).getDimSize(2)};
  auto result = b.create<UKernelOp>(
      loc, RankedTensorType::get(shape3, b.getF32Type()), "matmul",
      SmallVector<Value>{lhs3, rhs3}, dynamicSizes(b, loc, shape3, dims),
      SmallVector<int64_t>{}, "f32", isa, 0);
  Value replacement = result.getResult();
  if (rank == 2) {
    replacement = fromRank3(b, loc, replacement, 2);
  } else if (rank > 3) {
    ReassociationIndices leading;
    for (int64_t i = 0; i < rank - 2; ++i)
      leading.push_back(i);
    SmallVector<OpFoldResult> sizes;
    Value full = lhsBroadcasts ? rhs : lhs;
    for (int64_t i = 0; i < rank - 2; ++i)
      sizes.push_back(tensor::getMixedSize(b, loc, full, i));
    sizes.push_back(dims[1]);
    sizes.push_back(dims[2]);
    replacement = b.create<tensor::ExpandShapeOp>(
        loc, resultType, replacement,
        SmallVector<ReassociationIndices>{leading, {rank - 2}, {rank - 1}}, sizes);
  }
  if (replacement.getType() != resultType)
    replacement = b.create<tensor::CastOp>(loc, resultType, replacement);
  op.getResult().replaceAllUsesWith(replacement);
  chosen = ("kernel matmul (f32, " + isa + "): rhs packed at run time").str();
  return {};
}

Refusal KernelSelector::selectLayerNorm(Operation *op, Value input, Value skip,
                                        Value scale, Value bias, uint64_t axis,
                                        float epsilon, std::string &chosen) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  if (!type.getElementType().isF32())
    return "no layer_norm kernel for " + typeName(type.getElementType()) +
           " (only f32)";
  if (rank < 2 || rank > 3)
    return "the layer_norm kernel takes tensors of rank 2 or 3";
  if (normalizedAxis(axis, rank) != rank - 1)
    return "the norm is over more than the last dim";
  int64_t depth = type.getDimSize(rank - 1);
  // Scale and bias: vectors of the normalized dim (statically, when both
  // sizes are known; else checked at run time below).
  for (Value param : {scale, bias}) {
    if (!param)
      continue;
    auto paramType = cast<RankedTensorType>(param.getType());
    if (paramType.getRank() != 1 ||
        (!paramType.isDynamicDim(0) && !ShapedType::isDynamic(depth) &&
         paramType.getDimSize(0) != depth) ||
        paramType.getDimSize(0) == 1)
      return "the scale or bias is not a [D] vector";
  }
  // The skip: the input's shape, dim for dim (a broadcast one is not taken).
  if (skip) {
    auto skipType = cast<RankedTensorType>(skip.getType());
    if (skipType.getRank() != rank)
      return "the skip broadcasts";
    for (int64_t i = 0; i < rank; ++i) {
      int64_t size = skipType.getDimSize(i), want = type.getDimSize(i);
      if (ShapedType::isDynamic(size) != ShapedType::isDynamic(want) ||
          (!ShapedType::isDynamic(size) && size != want))
        return "the skip may broadcast";
    }
  }

  Location loc = op->getLoc();
  SmallVector<OpFoldResult> dims = getDims(b, loc, input);
  for (Value param : {scale, bias})
    if (param && cast<RankedTensorType>(param.getType()).isDynamicDim(0))
      emitEqualCheck(b, loc, op, b.create<tensor::DimOp>(loc, param, 0),
                     toIndexValue(b, loc, dims.back()),
                     "the scale or bias does not match the input's last dim");
  if (skip)
    for (int64_t i = 0; i < rank; ++i)
      if (type.isDynamicDim(i))
        emitEqualCheck(b, loc, op, b.create<tensor::DimOp>(loc, skip, i),
                       toIndexValue(b, loc, dims[i]),
                       "dim " + Twine(i) +
                           " of the residual does not match the input's");

  int64_t flags = 0;
  SmallVector<Value> args = {toRank3(b, loc, input)};
  SmallVector<int64_t> absent;
  if (skip) {
    args.push_back(toRank3(b, loc, skip));
    flags |= TFC_RT_LAYER_NORM_HAS_SKIP;
  } else {
    absent.push_back(1);
  }
  args.push_back(scale);
  if (bias) {
    args.push_back(bias);
    flags |= TFC_RT_LAYER_NORM_HAS_BIAS;
  } else {
    absent.push_back(3);
  }
  args.push_back(b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(epsilon)));
  SmallVector<int64_t> shape3(type.getShape());
  SmallVector<OpFoldResult> dims3(dims);
  if (rank == 2) {
    shape3.insert(shape3.begin(), 1);
    dims3.insert(dims3.begin(), b.getIndexAttr(1));
  }
  auto result = b.create<UKernelOp>(
      loc, RankedTensorType::get(shape3, b.getF32Type()), "layer_norm", args,
      dynamicSizes(b, loc, shape3, dims3), absent, "f32", isa, flags);
  op->getResult(0).replaceAllUsesWith(fromRank3(b, loc, result, rank));
  chosen = ("kernel layer_norm (f32, " + isa + ")").str();
  return {};
}

struct CpuSelectKernelsPass
    : public tfc::cpu::impl::CpuSelectKernelsBase<CpuSelectKernelsPass> {
  using CpuSelectKernelsBase::CpuSelectKernelsBase;

  void runOnOperation() override {
    SmallVector<Operation *> candidates;
    getOperation().walk([&](Operation *op) {
      if (::mlir::isa<tfm::LinearOp, tfm::QuantizedLinearOp, tfm::MatMulOp,
              tfm::AttentionOp, tfm::LinearAttentionOp, tfm::LayerNormOp,
              tfm::AddLayerNormOp, tfm::SequenceOffsetOp>(op))
        candidates.push_back(op);
    });
    OpBuilder b(&getContext());
    KernelSelector selector(
        b, isa,
        sparseThreshold < 0 ? getDefaultSparseThreshold(isa)
                            : double(sparseThreshold),
        sparseThreshold < 0 ? getDefaultSparseThreshold(isa, /*int8=*/true)
                            : double(sparseThreshold));
    for (Operation *op : candidates) {
      b.setInsertionPoint(op);
      std::string chosen;
      Refusal refusal = select(selector, op, chosen);
      // Only the kernels carry a decoder's state between calls.
      if (!refusal.empty() && (op->hasAttr(kSequenceStateAttr) ||
                               ::mlir::isa<tfm::SequenceOffsetOp>(op))) {
        op->emitError("--decoder needs a kernel to keep this op's state "
                      "in the instance, and there is none here: ")
            << refusal;
        return signalPassFailure();
      }
      if (emitRemarks) {
        if (refusal.empty())
          op->emitRemark(chosen);
        else
          op->emitRemark("no kernel: ") << refusal;
      }
      if (refusal.empty())
        op->erase();
    }
  }

private:
  Refusal select(KernelSelector &selector, Operation *op,
                 std::string &chosen) {
    if (!hasKernels(isa))
      return "no kernels for instruction set '" + isa + "'";
    if (auto linear = dyn_cast<tfm::LinearOp>(op))
      return selector.selectLinear(op, linear.getInput(), linear.getWeight(),
                                   linear.getBias(), linear.getResidual(),
                                   linear.getActivation(), chosen);
    if (auto matmul = dyn_cast<tfm::MatMulOp>(op)) {
      // A matmul by a constant matrix that no epilogue joined (GPT-2's LM
      // head, the largest product of the model) is the linear kernel's, with
      // an empty epilogue.
      if (matchPattern(matmul.getRhs(), m_Constant()) &&
          cast<RankedTensorType>(matmul.getRhs().getType()).getRank() == 2)
        return selector.selectLinear(op, matmul.getLhs(), matmul.getRhs(),
                                     Value(), Value(), "none", chosen);
      // A product of two computed operands: the batched kernel.
      return selector.selectBatchedMatMul(matmul, chosen);
    }
    if (auto quantized = dyn_cast<tfm::QuantizedLinearOp>(op))
      return selector.selectQuantizedLinear(quantized, chosen);
    if (auto attention = dyn_cast<tfm::AttentionOp>(op))
      return selector.selectAttention(attention, chosen);
    if (auto offset = dyn_cast<tfm::SequenceOffsetOp>(op))
      return selector.selectSequenceOffset(offset, chosen);
    if (auto linear = dyn_cast<tfm::LinearAttentionOp>(op))
      return selector.selectLinearAttention(linear, chosen);
    if (auto norm = dyn_cast<tfm::LayerNormOp>(op))
      return selector.selectLayerNorm(op, norm.getInput(), Value(),
                                      norm.getScale(), norm.getBias(),
                                      norm.getAxis(),
                                      norm.getEpsilon().convertToFloat(), chosen);
    auto norm = cast<tfm::AddLayerNormOp>(op);
    return selector.selectLayerNorm(op, norm.getInput(), norm.getSkip(),
                                    norm.getScale(), norm.getBias(),
                                    norm.getAxis(),
                                    norm.getEpsilon().convertToFloat(), chosen);
  }
};

} // namespace

// Where the block-sparse kernel starts to beat the dense one on a weight
// pruned in 1x16 blocks, as bench/sparse-break-even measured it
// (docs/Pruning.md): 768x3072 and 3072x768 by 128 rows, one thread. With
// AVX-512 the sparse kernel is 6-18% slower at 10% zero blocks, 2-6% slower
// at 20% and 8-18% faster at 30%; with AVX2 (a weaker dense kernel) 1-4%
// slower at 10% and 11% faster at 20%. NEON is unmeasured and takes
// AVX-512's.
//
// The int8 kernels (4x16 blocks, --quantize=int8 over the same weights
// pruned in 4x16 blocks; bench/sparse-break-even --int8): against AMX tiles
// the vpdpbusd of the sparse kernel loses until 80% (0.94-0.97x) and wins
// at 90% (1.28-1.32x); against AVX512-VNNI without AMX it is 0.93-1.01x at
// 30% and 1.17-1.38x at 50%; against vpmaddwd (no VNNI) it is even at 10%
// and 1.27-1.31x at 30% with AVX-512, and wins from 10% (1.13-1.15x) with
// AVX2. AVX-VNNI and NEON are unmeasured: AVX-VNNI takes AVX512-VNNI's,
// NEON AVX2's.
double mlir::tfc::getDefaultSparseThreshold(StringRef kernelIsa, bool int8) {
  if (!int8)
    return kernelIsa.starts_with("avx2") ? 0.2 : 0.3;
  std::optional<KernelIsa> parsed = parseKernelIsa(kernelIsa);
  if (parsed && parsed->amx)
    return 0.85;
  if (parsed && parsed->vnni)
    return 0.4;
  return kernelIsa.starts_with("avx512") ? 0.2 : 0.1;
}
