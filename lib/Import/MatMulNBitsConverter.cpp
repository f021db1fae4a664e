//===- MatMulNBitsConverter.cpp - ONNX Runtime's 4-bit MatMul ------------===//
//
// com.microsoft MatMulNBits (ONNX Runtime's contrib op, what its int4
// quantizer writes): Y = A @ dequant(B)^T (+ bias), B's columns quantized
// in blocks of `block_size` rows of K with a scale and a zero point per
// block. It becomes the weight-only tfm.quantized_linear that tfc's own
// --quantize=int4 writes (weight_bits 4, input_quantization "none"), so the
// same kernel runs it:
//
//   B            uint8 [N, K / block, block * bits / 8]: column n's block b,
//                k = b * block + 2i in the low nibble of byte i, k + 1 in
//                the high one
//   scales       [N * K / block] or [N, K / block], A's float type
//   zero_points  uint8 [N * ceil(K / block / 2)] (column n's block b in
//                byte b / 2 of its row, low nibble for even b); absent: 8
//   bias         [N] (input 5)
//
// The tfm op holds the values a byte each ([K, N]: i8 value - 8 without
// zero points, ui8 codes with them) and the scales and zero points as
// [K / block, N]; the CPU target packs them again, two to a byte.
//
//===----------------------------------------------------------------------===//

#include "OnnxImporterImpl.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Verifier.h"
#include "tfm/TfmOps.h"

#include <cstring>

using namespace mlir;
using namespace mlir::tfc::onnx_import;

namespace {

/// A new constant of `type` holding `bytes`, a blob named `name`.
Value blobConstant(NodeImporter &node, RankedTensorType type,
                   ArrayRef<char> bytes, StringRef name) {
  AsmResourceBlob blob = HeapAsmResourceBlob::allocateAndCopyWithAlign(
      bytes, /*align=*/64, /*dataIsMutable=*/false);
  return node.getConstant(DenseResourceElementsAttr::get(type, name, std::move(blob)));
}

} // namespace

LogicalResult mlir::tfc::onnx_import::convertMatMulNBits(NodeImporter &node) {
  const int64_t k = node.getInt("K", 0), n = node.getInt("N", 0);
  const int64_t bits = node.getInt("bits", 4), block = node.getInt("block_size", 0);
  if (bits != 4)
    return node.fail("bits = " + Twine(bits) + " is not supported (only 4)");
  if (block < 16 || (block & (block - 1)) != 0)
    return node.fail("block_size " + Twine(block) +
                     " is not a power of two of at least 16");
  // Each below 2^31, so that K * N (the unpacked values) and every
  // product of the sizes below fit int64.
  constexpr int64_t kMaxDim = int64_t(1) << 31;
  if (k <= 0 || n <= 0 || k >= kMaxDim || n >= kMaxDim)
    return node.fail("K and N must be positive and below 2^31, got " + Twine(k) +
                     " and " + Twine(n));
  if (k % block != 0)
    return node.fail("K = " + Twine(k) + " is not a multiple of block_size " +
                     Twine(block) + " (a padded last block is not supported)");
  if (node.getInput(4))
    return node.fail("g_idx (input 4) is not supported");
  Value input = node.getInput(0);
  auto inputType = cast<RankedTensorType>(input.getType());
  if (!inputType.getElementType().isF32())
    return node.fail("only float A is supported");
  if (inputType.getRank() < 1 ||
      (!inputType.isDynamicDim(inputType.getRank() - 1) &&
       inputType.getDimSize(inputType.getRank() - 1) != k))
    return node.fail("A's last dim is not K = " + Twine(k));
  const int64_t blocks = k / block, blobBytes = block / 2;
  auto packedType = node.getInputType(1);
  if (!packedType.getElementType().isUnsignedInteger(8) &&
      !packedType.getElementType().isSignlessInteger(8))
    return node.fail("B must be uint8");
  if (packedType.getNumElements() != n * blocks * blobBytes)
    return node.fail("B has " + Twine(packedType.getNumElements()) +
                     " bytes; [N, K / block_size, block_size / 2] is " +
                     Twine(n * blocks * blobBytes));
  std::optional<SmallVector<char>> packed = tfm::getConstantBytes(node.getInput(1));
  auto scaleType = node.getInputType(2);
  if (!scaleType.getElementType().isF32() ||
      scaleType.getNumElements() != n * blocks)
    return node.fail("scales must be float with N * K / block_size = " +
                     Twine(n * blocks) + " elements");
  std::optional<SmallVector<char>> scaleBytes = tfm::getConstantBytes(node.getInput(2));
  Value zeroInput = node.getInput(3);
  const int64_t zeroRow = (blocks + 1) / 2;
  std::optional<SmallVector<char>> zeroBytes;
  if (zeroInput) {
    auto zeroType = node.getInputType(3);
    if (!zeroType.getElementType().isUnsignedInteger(8) ||
        zeroType.getNumElements() != n * zeroRow)
      return node.fail("zero_points must be uint8 packed two to a byte, " +
                       Twine(n * zeroRow) + " of them (float zero points are "
                                            "not supported)");
    zeroBytes = tfm::getConstantBytes(zeroInput);
  }
  if (!packed || !scaleBytes || (zeroInput && !zeroBytes))
    return node.fail("B, scales and zero_points must be constants");

  // Unpacked to [K, N]: i8 values (code - 8) without zero points, ui8
  // codes with them; scales and zero points to [K / block, N].
  std::vector<char> values(k * n);
  for (int64_t col = 0; col < n; ++col)
    for (int64_t kk = 0; kk < k; ++kk) {
      uint8_t byte = static_cast<uint8_t>((*packed)[col * blocks * blobBytes + kk / 2]);
      int code = kk % 2 ? byte >> 4 : byte & 15;
      values[kk * n + col] = static_cast<char>(zeroInput ? code : code - 8);
    }
  std::vector<float> scales(blocks * n);
  std::vector<char> zeros(zeroInput ? blocks * n : 0);
  for (int64_t col = 0; col < n; ++col)
    for (int64_t b = 0; b < blocks; ++b) {
      std::memcpy(&scales[b * n + col], scaleBytes->data() + (col * blocks + b) * sizeof(float),
                  sizeof(float));
      if (zeroInput) {
        uint8_t byte = static_cast<uint8_t>((*zeroBytes)[col * zeroRow + b / 2]);
        zeros[b * n + col] = static_cast<char>(b % 2 ? byte >> 4 : byte & 15);
      }
    }
  OpBuilder &b = node.builder;
  Type valueType = zeroInput ? b.getIntegerType(8, /*isSigned=*/false)
                             : b.getIntegerType(8);
  std::string name = node.node.name().empty() ? node.node.output(0) : node.node.name();
  Value weight = blobConstant(node, RankedTensorType::get({k, n}, valueType),
                              values, name + ".int4_values");
  Value scale = blobConstant(
      node, RankedTensorType::get({blocks, n}, b.getF32Type()),
      ArrayRef<char>(reinterpret_cast<const char *>(scales.data()),
                     scales.size() * sizeof(float)),
      name + ".int4_scales");
  Value zero = zeroInput ? blobConstant(node, RankedTensorType::get({blocks, n}, valueType),
                                        zeros, name + ".int4_zero_points")
                         : Value();
  Value bias = node.getInput(5);
  if (bias) {
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (biasType.getRank() != 1 || biasType.getDimSize(0) != n)
      return node.fail("bias must be [N]");
  }
  // The typed builder: NodeImporter::create builds ops from an attribute
  // dictionary, which cannot say which optional operands are there. The
  // result is A's shape with N last, as the op infers it.
  SmallVector<int64_t> shape(inputType.getShape());
  shape.back() = n;
  auto op = b.create<tfm::QuantizedLinearOp>(
      node.loc, RankedTensorType::get(shape, b.getF32Type()), input, weight,
      scale, zero, bias, /*residual=*/Value(), /*input_scale=*/Value(),
      /*input_zero_point=*/Value(), /*activation=*/"none",
      /*input_quantization=*/"none", /*weight_bits=*/4);
  if (failed(mlir::verify(op))) {
    op->erase();
    return failure();
  }
  Value result = op.getResult();
  node.setResults(result);
  return success();
}
