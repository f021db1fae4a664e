//===- QuantizationUtils.cpp - what quantization shares with its drivers --===//
//
// See tfc/Transforms/Quantization.h.
//
//===----------------------------------------------------------------------===//

#include "tfc/Transforms/Quantization.h"

#include "FusionUtils.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "tfm/TfmOps.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace mlir;
using namespace mlir::tfc;

std::optional<QuantizedPrecision>
mlir::tfc::parseQuantizedPrecision(StringRef mode) {
  if (mode == "int8")
    return QuantizedPrecision::Int8;
  if (mode == "int8-static")
    return QuantizedPrecision::Int8Static;
  if (mode == "bf16")
    return QuantizedPrecision::Bf16;
  if (mode == "int4")
    return QuantizedPrecision::Int4;
  return std::nullopt;
}

StringRef mlir::tfc::getPrecisionName(QuantizedPrecision precision) {
  return isInt8(precision) ? "int8"
         : precision == QuantizedPrecision::Int4 ? "int4"
                                                 : "bf16";
}

std::vector<float> mlir::tfc::getSmoothingFactors(Operation *linear,
                                                  ArrayRef<float> inputAbsMax,
                                                  double alpha) {
  std::optional<LinearParts> parts = getLinearParts(linear);
  if (!parts)
    return {};
  auto type = cast<RankedTensorType>(parts->weight.getType());
  int64_t depth = type.getDimSize(0), cols = type.getDimSize(1);
  std::optional<SmallVector<float>> values = getConstantFloats(parts->weight);
  if (!values || static_cast<int64_t>(inputAbsMax.size()) != depth)
    return {};
  std::vector<float> factors(depth, 1.0f);
  for (int64_t k = 0; k < depth; ++k) {
    float weightMax = 0.0f;
    for (int64_t j = 0; j < cols; ++j)
      weightMax = std::max(weightMax, std::fabs((*values)[k * cols + j]));
    double x = inputAbsMax[k];
    if (!(x > 0) || !(weightMax > 0) || !std::isfinite(x) || !std::isfinite(weightMax))
      continue;
    double factor = std::pow(x, alpha) / std::pow(weightMax, 1 - alpha);
    factors[k] = static_cast<float>(std::clamp(factor, 1e-5, 1e5));
  }
  return factors;
}

StaticInputQuantization mlir::tfc::getStaticInputQuantization(float low,
                                                              float high) {
  low = std::min(low, 0.0f);
  high = std::max(high, 0.0f);
  float width = high - low;
  if (!(width > 0.0f) || !std::isfinite(width))
    return {1.0f, 0};
  float scale = width / 255.0f;
  float zero = std::nearbyint(-low / scale);
  return {scale, static_cast<uint8_t>(std::clamp(zero, 0.0f, 255.0f))};
}

uint16_t mlir::tfc::roundToBf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  if (std::isnan(x))
    return static_cast<uint16_t>((bits | 0x00400000u) >> 16);
  return static_cast<uint16_t>((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
}

float mlir::tfc::bf16ToFloat(uint16_t bits) {
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float x;
  std::memcpy(&x, &wide, sizeof(x));
  return x;
}

std::optional<LinearParts> mlir::tfc::getLinearParts(Operation *op) {
  if (auto linear = dyn_cast<tfm::LinearOp>(op))
    return LinearParts{linear.getInput(), linear.getWeight(), linear.getBias(),
                       linear.getResidual(), linear.getActivation()};
  if (auto matmul = dyn_cast<tfm::MatMulOp>(op))
    if (cast<RankedTensorType>(matmul.getRhs().getType()).getRank() == 2 &&
        cast<RankedTensorType>(matmul.getLhs().getType()).getRank() >= 2 &&
        matchPattern(matmul.getRhs(), m_Constant()))
      return LinearParts{matmul.getLhs(), matmul.getRhs(), {}, {}, "none"};
  return std::nullopt;
}

SmallVector<Operation *> mlir::tfc::getLinears(func::FuncOp graph) {
  SmallVector<Operation *> linears;
  graph.walk([&](Operation *op) {
    if (getLinearParts(op))
      linears.push_back(op);
  });
  return linears;
}

std::string mlir::tfc::whyNotQuantizable(Operation *op,
                                         QuantizedPrecision precision) {
  std::optional<LinearParts> parts = getLinearParts(op);
  if (!parts)
    return "not a linear";
  auto inputType = cast<RankedTensorType>(parts->input.getType());
  auto weightType = cast<RankedTensorType>(parts->weight.getType());
  if (!inputType.getElementType().isF32() ||
      !weightType.getElementType().isF32())
    return "not an f32 linear";
  if (weightType.getRank() != 2 || !weightType.hasStaticShape())
    return "the weight is not a matrix of static shape";
  int64_t depth = weightType.getDimSize(0);
  if (isInt8(precision) && depth > kMaxQuantizedDepth)
    return "K = " + std::to_string(depth) + " exceeds " +
           std::to_string(kMaxQuantizedDepth) +
           " (its 32-bit sums could overflow)";
  if (!matchPattern(parts->weight, m_Constant()) ||
      !getConstantFloats(parts->weight))
    return "the weight is not a constant";
  return "";
}

std::string mlir::tfc::getLayerName(Operation *op) {
  // The first ONNX node name in the op's location: a fused op's locations
  // start with its anchor's (the MatMul of a linear).
  std::string name;
  op->getLoc()->walk([&](Location loc) {
    if (auto named = dyn_cast<NameLoc>(loc)) {
      name = named.getName().str();
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return name.empty() ? "(unnamed " + op->getName().getStringRef().str() + ")"
                      : name;
}

namespace {
/// The per-channel int8 rounding of a [K, N] weight: scales and values.
void roundPerChannel(ArrayRef<float> values, int64_t depth, int64_t cols,
                     std::vector<float> &scales, std::vector<int8_t> &rounded,
                     ArrayRef<float> rowScale = {}) {
  auto element = [&](int64_t k, int64_t j) {
    return rowScale.empty() ? values[k * cols + j] : values[k * cols + j] * rowScale[k];
  };
  scales.assign(cols, 0.0f);
  for (int64_t k = 0; k < depth; ++k)
    for (int64_t j = 0; j < cols; ++j)
      scales[j] = std::max(scales[j], std::fabs(element(k, j)));
  for (float &scale : scales)
    scale = scale > 0.0f && std::isfinite(scale) ? scale / 127.0f : 1.0f;
  rounded.resize(depth * cols);
  for (int64_t k = 0; k < depth; ++k)
    for (int64_t j = 0; j < cols; ++j) {
      float q = std::nearbyint(element(k, j) / scales[j]);
      rounded[k * cols + j] = static_cast<int8_t>(std::clamp(q, -127.0f, 127.0f));
    }
}

/// The name of a new constant made from `weight`'s: its blob's, or
/// "quantized_weight".
std::string blobNameOf(Value weight) {
  Attribute attr;
  if (matchPattern(weight, m_Constant(&attr)))
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
      return resource.getRawHandle().getKey().str();
  return "quantized_weight";
}

/// The bf16 value nearest `x`, as a float.
float toBf16Value(float x) { return bf16ToFloat(roundToBf16(x)); }

} // namespace

double mlir::tfc::applyLinearActivation(double x, StringRef activation) {
  if (activation == "relu")
    return x > 0 ? x : 0;
  if (activation == "gelu")
    return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  if (activation == "gelu_tanh")
    return 0.5 * x *
           (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  return x;
}

FailureOr<Value> mlir::tfc::roundWeightToBf16(OpBuilder &b, Location loc,
                                              Value weight) {
  auto type = cast<RankedTensorType>(weight.getType());
  std::optional<SmallVector<float>> values = getConstantFloats(weight);
  if (!values)
    return failure();
  std::vector<uint16_t> rounded(values->size());
  for (size_t i = 0; i < values->size(); ++i)
    rounded[i] = roundToBf16((*values)[i]);
  std::string name = "bf16_weight";
  Attribute attr;
  if (matchPattern(weight, m_Constant(&attr)))
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr))
      name = resource.getRawHandle().getKey().str() + ".bf16";
  return createWeightConstant(
      b, loc, RankedTensorType::get(type.getShape(), b.getBF16Type()),
      ArrayRef<char>(reinterpret_cast<const char *>(rounded.data()),
                     rounded.size() * sizeof(uint16_t)),
      name);
}

FailureOr<QuantizedWeight>
mlir::tfc::quantizeWeightPerChannel(OpBuilder &b, Location loc, Value weight,
                                    ArrayRef<float> rowScale) {
  auto type = cast<RankedTensorType>(weight.getType());
  std::optional<SmallVector<float>> values = getConstantFloats(weight);
  if (!values)
    return failure();
  int64_t depth = type.getDimSize(0), cols = type.getDimSize(1);
  std::vector<float> scales;
  std::vector<int8_t> rounded;
  if (!rowScale.empty() && static_cast<int64_t>(rowScale.size()) != depth)
    return failure();
  roundPerChannel(*values, depth, cols, scales, rounded, rowScale);
  ArrayRef<char> quantized(reinterpret_cast<const char *>(rounded.data()),
                           rounded.size());
  std::string name = blobNameOf(weight);
  QuantizedWeight result;
  result.values = createWeightConstant(
      b, loc, RankedTensorType::get({depth, cols}, b.getIntegerType(8)),
      quantized, name + ".int8");
  result.scales = createWeightConstant(
      b, loc, RankedTensorType::get({cols}, b.getF32Type()),
      ArrayRef<char>(reinterpret_cast<const char *>(scales.data()),
                     scales.size() * sizeof(float)),
      name + ".scale");
  return result;
}

void mlir::tfc::roundInt4Groupwise(ArrayRef<float> values, int64_t depth,
                                   int64_t cols, int64_t group,
                                   bool zeroPoints, std::vector<float> &scales,
                                   std::vector<uint8_t> &zeros,
                                   std::vector<int8_t> &rounded) {
  const int64_t groups = depth / group;
  scales.assign(groups * cols, 1.0f);
  zeros.assign(zeroPoints ? groups * cols : 0, 0);
  rounded.assign(depth * cols, 0);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t j = 0; j < cols; ++j) {
      auto element = [&](int64_t r) { return values[(g * group + r) * cols + j]; };
      float low = 0.0f, high = 0.0f, extreme = 0.0f;
      for (int64_t r = 0; r < group; ++r) {
        float x = element(r);
        if (!std::isfinite(x))
          continue;
        low = std::min(low, x);
        high = std::max(high, x);
        if (std::fabs(x) > std::fabs(extreme))
          extreme = x;
      }
      float &scale = scales[g * cols + j];
      int32_t zero = 0, least = -8, most = 7;
      if (zeroPoints) {
        // [low, high] (0 included, so 0 is exact) onto 0..15.
        scale = high > low ? (high - low) / 15.0f : 1.0f;
        zero = static_cast<int32_t>(
            std::clamp(std::nearbyint(-low / scale), 0.0f, 15.0f));
        zeros[g * cols + j] = static_cast<uint8_t>(zero);
        least = 0;
        most = 15;
      } else {
        // The largest magnitude lands on -8 (negative) or 7: all 16 levels.
        float magnitude = std::fabs(extreme);
        scale = magnitude > 0.0f ? magnitude / (extreme < 0 ? 8.0f : 7.0f) : 1.0f;
      }
      for (int64_t r = 0; r < group; ++r) {
        float q = std::nearbyint(element(r) / scale) + static_cast<float>(zero);
        if (!std::isfinite(q))
          q = static_cast<float>(zero);
        rounded[(g * group + r) * cols + j] = static_cast<int8_t>(
            std::clamp(q, static_cast<float>(least), static_cast<float>(most)));
      }
    }
}

namespace {

/// The lower Cholesky factor of the symmetric n x n `a` in place (the upper
/// triangle left as it was); false when `a` is not positive definite.
bool choleskyInPlace(std::vector<double> &a, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double diagonal = a[j * n + j];
    for (int64_t k = 0; k < j; ++k)
      diagonal -= a[j * n + k] * a[j * n + k];
    if (!(diagonal > 0.0))
      return false;
    diagonal = std::sqrt(diagonal);
    a[j * n + j] = diagonal;
    for (int64_t i = j + 1; i < n; ++i) {
      double sum = a[i * n + j];
      for (int64_t k = 0; k < j; ++k)
        sum -= a[i * n + k] * a[j * n + k];
      a[i * n + j] = sum / diagonal;
    }
  }
  return true;
}

/// GPTQ's factor: the upper triangular U with U^T U = (H + damping)^-1,
/// from H ([n, n], float); false when H is singular even so.
bool inverseCholeskyUpper(ArrayRef<float> hessian, int64_t n, double dampingShare,
                          std::vector<double> &upper) {
  double meanDiagonal = 0;
  for (int64_t i = 0; i < n; ++i)
    meanDiagonal += hessian[i * n + i];
  meanDiagonal = n ? meanDiagonal / n : 0;
  std::vector<double> a(hessian.begin(), hessian.end());
  for (int64_t i = 0; i < n; ++i) {
    // An input that was always 0 carries no information: unit weight.
    if (a[i * n + i] == 0.0)
      a[i * n + i] = 1.0;
    a[i * n + i] += dampingShare * (meanDiagonal > 0 ? meanDiagonal : 1.0);
  }
  if (!choleskyInPlace(a, n))
    return false;
  // L^-1 (lower) by forward substitution, column by column.
  std::vector<double> inverse(n * n, 0.0);
  for (int64_t j = 0; j < n; ++j) {
    inverse[j * n + j] = 1.0 / a[j * n + j];
    for (int64_t i = j + 1; i < n; ++i) {
      double sum = 0;
      for (int64_t k = j; k < i; ++k)
        sum += a[i * n + k] * inverse[k * n + j];
      inverse[i * n + j] = -sum / a[i * n + i];
    }
  }
  // H^-1 = L^-T L^-1, then its lower Cholesky factor M: U = M^T.
  std::vector<double> &hinv = a;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double sum = 0;
      for (int64_t m = i; m < n; ++m)
        sum += inverse[m * n + i] * inverse[m * n + j];
      hinv[i * n + j] = hinv[j * n + i] = sum;
    }
  if (!choleskyInPlace(hinv, n))
    return false;
  upper.assign(n * n, 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j)
      upper[j * n + i] = hinv[i * n + j];
  return true;
}

} // namespace

bool mlir::tfc::gptqInt4Groupwise(ArrayRef<float> values, int64_t depth,
                                  int64_t cols, int64_t group, bool zeroPoints,
                                  ArrayRef<float> hessian,
                                  std::vector<float> &scales,
                                  std::vector<uint8_t> &zeros,
                                  std::vector<int8_t> &rounded) {
  if (group < 1 || depth % group != 0 ||
      hessian.size() != static_cast<size_t>(depth * depth))
    return false;
  std::vector<double> upper;
  bool factored = false;
  for (double damping = 0.01; damping <= 1.0 && !factored; damping *= 10)
    factored = inverseCholeskyUpper(hessian, depth, damping, upper);
  if (!factored)
    return false;
  // The rows as compensated so far, in double.
  std::vector<double> w(values.begin(), values.end());
  scales.assign((depth / group) * cols, 1.0f);
  zeros.assign(zeroPoints ? (depth / group) * cols : 0, 0);
  rounded.assign(depth * cols, 0);
  std::vector<float> groupRows(group * cols);
  std::vector<float> groupScales;
  std::vector<uint8_t> groupZeros;
  std::vector<int8_t> unused;
  std::vector<double> error(cols);
  const int32_t least = zeroPoints ? 0 : -8, most = zeroPoints ? 15 : 7;
  for (int64_t k = 0; k < depth; ++k) {
    const int64_t g = k / group;
    if (k % group == 0) {
      // The group's scales and zero points from its rows as they are now,
      // by the same rule as rounding to nearest.
      for (int64_t i = 0; i < group * cols; ++i)
        groupRows[i] = static_cast<float>(w[k * cols + i]);
      roundInt4Groupwise(groupRows, group, cols, group, zeroPoints, groupScales,
                         groupZeros, unused);
      std::copy(groupScales.begin(), groupScales.end(), scales.begin() + g * cols);
      if (zeroPoints)
        std::copy(groupZeros.begin(), groupZeros.end(), zeros.begin() + g * cols);
    }
    const double pivot = upper[k * depth + k];
    for (int64_t j = 0; j < cols; ++j) {
      float scale = scales[g * cols + j];
      int32_t zero = zeroPoints ? zeros[g * cols + j] : 0;
      float x = static_cast<float>(w[k * cols + j]);
      float q = std::nearbyint(x / scale) + static_cast<float>(zero);
      if (!std::isfinite(q))
        q = static_cast<float>(zero);
      q = std::clamp(q, static_cast<float>(least), static_cast<float>(most));
      rounded[k * cols + j] = static_cast<int8_t>(q);
      double dequantized = (static_cast<double>(q) - zero) * scale;
      error[j] = (w[k * cols + j] - dequantized) / pivot;
    }
    // The error spread over the rows not rounded yet.
    for (int64_t i = k + 1; i < depth; ++i) {
      double factor = upper[k * depth + i];
      if (factor == 0.0)
        continue;
      double *row = w.data() + i * cols;
      for (int64_t j = 0; j < cols; ++j)
        row[j] -= error[j] * factor;
    }
  }
  return true;
}

FailureOr<QuantizedWeight> mlir::tfc::quantizeWeightInt4(OpBuilder &b,
                                                         Location loc,
                                                         Value weight,
                                                         int64_t group,
                                                         bool zeroPoints,
                                                         ArrayRef<float> hessian) {
  auto type = cast<RankedTensorType>(weight.getType());
  std::optional<SmallVector<float>> values = getConstantFloats(weight);
  int64_t depth = type.getDimSize(0), cols = type.getDimSize(1);
  if (!values || group < 1 || depth % group != 0)
    return failure();
  std::vector<float> scales;
  std::vector<uint8_t> zeros;
  std::vector<int8_t> rounded;
  if (hessian.empty() || !gptqInt4Groupwise(*values, depth, cols, group, zeroPoints,
                                            hessian, scales, zeros, rounded))
    roundInt4Groupwise(*values, depth, cols, group, zeroPoints, scales, zeros,
                       rounded);
  std::string name = blobNameOf(weight);
  // Stored a byte per value (the target packs two per byte).
  Type byte = zeroPoints ? b.getIntegerType(8, /*isSigned=*/false)
                         : b.getIntegerType(8);
  QuantizedWeight result;
  result.values = createWeightConstant(
      b, loc, RankedTensorType::get({depth, cols}, byte),
      ArrayRef<char>(reinterpret_cast<const char *>(rounded.data()),
                     rounded.size()),
      name + ".int4");
  auto groupShape = RankedTensorType::get({depth / group, cols}, b.getF32Type());
  result.scales = createWeightConstant(
      b, loc, groupShape,
      ArrayRef<char>(reinterpret_cast<const char *>(scales.data()),
                     scales.size() * sizeof(float)),
      name + ".int4_scale");
  if (zeroPoints)
    result.zeroPoints = createWeightConstant(
        b, loc, RankedTensorType::get({depth / group, cols}, byte),
        ArrayRef<char>(reinterpret_cast<const char *>(zeros.data()),
                       zeros.size()),
        name + ".int4_zero");
  return result;
}

std::vector<float> mlir::tfc::getInt4Hessian(Operation *linear, int64_t depth) {
  auto type = RankedTensorType::get({depth, depth},
                                    Float32Type::get(linear->getContext()));
  // (A dense attribute, a splat too: what a test writes.)
  if (auto dense = linear->getAttrOfType<DenseElementsAttr>(kInt4HessianAttr);
      dense && dense.getType() == type) {
    auto values = dense.getValues<float>();
    return std::vector<float>(values.begin(), values.end());
  }
  auto attr = linear->getAttrOfType<DenseResourceElementsAttr>(kInt4HessianAttr);
  if (!attr || attr.getType() != type)
    return {};
  std::optional<ArrayRef<char>> bytes = tfm::getWeightBytes(attr);
  if (!bytes || bytes->size() != static_cast<size_t>(depth * depth) * sizeof(float))
    return {};
  std::vector<float> values(depth * depth);
  std::memcpy(values.data(), bytes->data(), bytes->size());
  return values;
}

std::optional<LinearErrorMeter>
LinearErrorMeter::create(Operation *linear, QuantizedPrecision precision,
                         std::optional<StaticInputQuantization> input,
                         ArrayRef<float> smoothing) {
  // (int4 needs its group: createInt4.)
  if (precision == QuantizedPrecision::Int4 ||
      !whyNotQuantizable(linear, precision).empty() ||
      (precision == QuantizedPrecision::Int8Static && !input))
    return std::nullopt;
  LinearParts parts = *getLinearParts(linear);
  auto type = cast<RankedTensorType>(parts.weight.getType());
  LinearErrorMeter meter;
  meter.precision = precision;
  meter.staticInput = input;
  meter.smoothing.assign(smoothing.begin(), smoothing.end());
  meter.depthK = type.getDimSize(0);
  meter.cols = type.getDimSize(1);
  if (!readConstantFloats(parts.weight, meter.depthK * meter.cols,
                          meter.weightInPlace, meter.weightCopy))
    return std::nullopt;
  if (isInt8(precision))
    roundPerChannel(meter.weight(), meter.depthK, meter.cols, meter.weightScale,
                    meter.quantizedWeight, meter.smoothing);
  if (!readLinearBias(parts.bias, meter.cols, meter.bias))
    return std::nullopt; // a bias computed at run time: not measured
  meter.activation = parts.activation.str();
  return meter;
}

std::optional<LinearErrorMeter>
LinearErrorMeter::createInt4(Operation *linear, int64_t group, bool zeroPoints) {
  if (!whyNotQuantizable(linear, QuantizedPrecision::Int4).empty())
    return std::nullopt;
  LinearParts parts = *getLinearParts(linear);
  auto type = cast<RankedTensorType>(parts.weight.getType());
  LinearErrorMeter meter;
  meter.precision = QuantizedPrecision::Int4;
  meter.depthK = type.getDimSize(0);
  meter.cols = type.getDimSize(1);
  if (group < 1 || meter.depthK % group != 0 ||
      !readConstantFloats(parts.weight, meter.depthK * meter.cols,
                          meter.weightInPlace, meter.weightCopy) ||
      !readLinearBias(parts.bias, meter.cols, meter.bias))
    return std::nullopt;
  meter.int4Group = group;
  std::vector<float> hessian = getInt4Hessian(linear, meter.depthK);
  if (hessian.empty() ||
      !gptqInt4Groupwise(meter.weight(), meter.depthK, meter.cols, group,
                         zeroPoints, hessian, meter.weightScale, meter.int4Zeros,
                         meter.quantizedWeight))
    roundInt4Groupwise(meter.weight(), meter.depthK, meter.cols, group,
                       zeroPoints, meter.weightScale, meter.int4Zeros,
                       meter.quantizedWeight);
  meter.activation = parts.activation.str();
  return meter;
}

void LinearErrorMeter::addRows(const float *input, int64_t rows) {
  if (isInt8(precision))
    addRowsInt8(input, rows);
  else if (precision == QuantizedPrecision::Int4)
    addRowsInt4(input, rows);
  else
    addRowsBf16(input, rows);
}

/// One row's outputs, f32 and quantized, before bias and activation.
void LinearErrorMeter::addOutputs(const std::vector<float> &reference,
                                  const std::vector<double> &quantized) {
  for (int64_t j = 0; j < cols; ++j) {
    double y = applyLinearActivation(static_cast<double>(reference[j]) + bias[j], activation);
    double yq = applyLinearActivation(quantized[j] + bias[j], activation);
    errorSquares += (yq - y) * (yq - y);
    referenceSquares += y * y;
  }
}

void LinearErrorMeter::addRowsInt8(const float *input, int64_t rows) {
  ArrayRef<float> weights = weight();
  std::vector<float> reference(cols);
  std::vector<double> quantized(cols);
  std::vector<int32_t> sums(cols);
  std::vector<int32_t> rowQ(depthK);
  std::vector<float> smoothed(smoothing.empty() ? 0 : depthK);
  for (int64_t r = 0; r < rows; ++r) {
    const float *raw = input + r * depthK;
    // What is quantized: the row divided by the smoothing factors (the
    // reference below multiplies the row as it is).
    const float *x = raw;
    if (!smoothing.empty()) {
      for (int64_t k = 0; k < depthK; ++k)
        smoothed[k] = raw[k] / smoothing[k];
      x = smoothed.data();
    }
    float rowScale;
    if (staticInput) {
      // Static: round(x / scale) + zero in [0, 255], less the zero point.
      rowScale = staticInput->scale;
      for (int64_t k = 0; k < depthK; ++k)
        rowQ[k] = static_cast<int32_t>(std::clamp(
                      std::nearbyint(std::clamp(x[k] / rowScale, -1e9f, 1e9f)) +
                          staticInput->zeroPoint,
                      0.0f, 255.0f)) -
                  staticInput->zeroPoint;
    } else {
      // The row quantized as the kernel does: by 127 / max|x|.
      float most = 0.0f;
      for (int64_t k = 0; k < depthK; ++k)
        most = std::max(most, std::fabs(x[k]));
      bool usable = most > 0.0f && std::isfinite(most);
      float inverse = 127.0f / (usable ? most : 127.0f);
      rowScale = usable ? most / 127.0f : 1.0f;
      for (int64_t k = 0; k < depthK; ++k)
        rowQ[k] = static_cast<int32_t>(std::clamp(
            std::nearbyint(std::clamp(x[k] * inverse, -1e9f, 1e9f)), -127.0f, 127.0f));
    }
    // Row-times-matrix in k-outer order: the inner loops run along a row
    // of the weight, which vectorizes.
    std::fill(reference.begin(), reference.end(), 0.0f);
    std::fill(sums.begin(), sums.end(), 0);
    for (int64_t k = 0; k < depthK; ++k) {
      const float *w = weights.data() + k * cols;
      const int8_t *wq = quantizedWeight.data() + k * cols;
      float xk = raw[k];
      int32_t qk = rowQ[k];
      for (int64_t j = 0; j < cols; ++j) {
        reference[j] += xk * w[j];
        sums[j] += qk * wq[j];
      }
    }
    for (int64_t j = 0; j < cols; ++j)
      quantized[j] = static_cast<double>(sums[j]) * weightScale[j] * rowScale;
    addOutputs(reference, quantized);
  }
}

template <typename RoundInput, typename ReducedRow>
void LinearErrorMeter::addRowsWithF32Sums(const float *input, int64_t rows,
                                          RoundInput roundInput,
                                          ReducedRow reducedRow) {
  ArrayRef<float> weights = weight();
  std::vector<float> reference(cols), sums(cols), reduced(cols);
  std::vector<double> quantized(cols);
  for (int64_t r = 0; r < rows; ++r) {
    const float *x = input + r * depthK;
    std::fill(reference.begin(), reference.end(), 0.0f);
    std::fill(sums.begin(), sums.end(), 0.0f);
    for (int64_t k = 0; k < depthK; ++k) {
      const float *w = weights.data() + k * cols;
      // Each row of the weight reduced as it is read: no reduced copy of
      // the model.
      reducedRow(k, w, reduced.data());
      float xk = x[k], xr = roundInput(x[k]);
      for (int64_t j = 0; j < cols; ++j) {
        reference[j] += xk * w[j];
        sums[j] += xr * reduced[j];
      }
    }
    quantized.assign(sums.begin(), sums.end());
    addOutputs(reference, quantized);
  }
}

void LinearErrorMeter::addRowsBf16(const float *input, int64_t rows) {
  addRowsWithF32Sums(
      input, rows, [](float x) { return toBf16Value(x); },
      [&](int64_t, const float *w, float *out) {
        for (int64_t j = 0; j < cols; ++j)
          out[j] = toBf16Value(w[j]);
      });
}

void LinearErrorMeter::addRowsInt4(const float *input, int64_t rows) {
  // As the kernel: the weight dequantized, the input f32.
  addRowsWithF32Sums(
      input, rows, [](float x) { return x; },
      [&](int64_t k, const float *, float *out) {
        const int8_t *q = quantizedWeight.data() + k * cols;
        const int64_t at = (k / int4Group) * cols;
        for (int64_t j = 0; j < cols; ++j)
          out[j] = static_cast<float>(
                       q[j] - (int4Zeros.empty() ? 0 : int4Zeros[at + j])) *
                   weightScale[at + j];
      });
}

double LinearErrorMeter::relativeError() const {
  if (referenceSquares <= 0)
    return errorSquares > 0 ? INFINITY : 0.0;
  return std::sqrt(errorSquares / referenceSquares);
}
