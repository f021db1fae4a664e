//===- Quantization.h - what quantization shares with its drivers -*- C++ -*-===//
//
// The pieces of quantization (int8, bf16) that the tfm-quantize pass and
// the drivers that measure it (tfc compile --reduction-report, --max-error)
// share: which ops are linears, how a layer is named, how a weight is
// rounded, and the error one layer's quantization causes on given inputs.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_TRANSFORMS_QUANTIZATION_H
#define TFC_TRANSFORMS_QUANTIZATION_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Operation.h"

#include <optional>
#include <string>
#include <vector>

namespace mlir::tfc {

/// The deepest reduction an int8 linear takes: 255 x 128 x K must stay
/// below 2^31 with room for the zero-point corrections
/// (TFC_RT_Q8_MAX_DEPTH).
constexpr int64_t kMaxQuantizedDepth = 32768;

/// What a quantized linear computes in (tfm-quantize's modes).
enum class QuantizedPrecision {
  Int8,       // int8 weights per output channel, activations per row
  Int8Static, // int8 weights per output channel, activations per tensor
              // with a scale and zero point from calibration
  Bf16,       // bf16 weights and activations, f32 sums
  Int4,       // int4 weights in groups of rows of K (weight-only: f32
              // activations and sums)
};
/// The precision of a mode name ("int8", "int8-static", "bf16", "int4"),
/// or nullopt.
std::optional<QuantizedPrecision> parseQuantizedPrecision(StringRef mode);
/// The layers' precision in reports: "int8" (both int8 modes), "bf16" or
/// "int4".
StringRef getPrecisionName(QuantizedPrecision precision);
inline bool isInt8(QuantizedPrecision precision) {
  return precision == QuantizedPrecision::Int8 ||
         precision == QuantizedPrecision::Int8Static;
}

/// The attribute by which a driver gives a linear its input's calibrated
/// range for int8-static: [min, max] as a dense f32 array.
constexpr StringLiteral kInputRangeAttr = "tfc.input_range";

/// The attribute by which a driver gives a linear SmoothQuant's factors
/// (int8-static with --smooth-alpha): s[k] per input channel, the input
/// divided by it and the weight's row k multiplied, as a dense f32 array.
constexpr StringLiteral kSmoothingAttr = "tfc.smoothing";

/// The attribute by which a driver gives a linear its input's second
/// moments for int4's GPTQ-style rounding: sum over calibration rows x of
/// x x^T, [K, K] f32 (a dense_resource).
constexpr StringLiteral kInt4HessianAttr = "tfc.int4_hessian";

/// The second moments a driver gave `linear` for GPTQ ([K, K] floats, K =
/// `depth`), or empty: none, or not of that shape.
std::vector<float> getInt4Hessian(Operation *linear, int64_t depth);

/// SmoothQuant's factors for `linear` (a quantizable linear), from its
/// input's absolute maximum per channel on calibration data:
/// s[k] = absmax_x[k]^alpha / absmax_w[k]^(1 - alpha), with w's row k; 1
/// where either is 0. Moves the input's outlier channels into the weight,
/// whose per-column scales absorb them. Empty when the weight cannot be read.
std::vector<float> getSmoothingFactors(Operation *linear,
                                       ArrayRef<float> inputAbsMax, double alpha);

/// The static uint8 quantization of values in [low, high]
/// (DynamicQuantizeLinear's rule: the range widened to hold 0, scale =
/// range / 255, zero point round(-low / scale); scale 1 for an empty
/// range).
struct StaticInputQuantization {
  float scale;
  uint8_t zeroPoint;
};
StaticInputQuantization getStaticInputQuantization(float low, float high);

/// A linear as quantization sees it: tfm.linear, or a tfm.matmul by a
/// constant matrix (an LM head no epilogue joined).
struct LinearParts {
  Value input, weight, bias, residual;
  StringRef activation = "none";
};
std::optional<LinearParts> getLinearParts(Operation *op);

/// The linears of `graph`, in order.
SmallVector<Operation *> getLinears(func::FuncOp graph);

/// Why `op` (a linear) cannot be quantized to `precision`, or "" when it
/// can.
std::string whyNotQuantizable(Operation *op,
                              QuantizedPrecision precision = QuantizedPrecision::Int8);

/// A linear's activation ("none", "relu", "gelu", "gelu_tanh") applied to
/// `x`, in double: what the error meters compare.
double applyLinearActivation(double x, StringRef activation);

/// How reports and the error budget name a layer: the ONNX node name its
/// op came from (a fused linear's is its MatMul's), or "(unnamed <op>)".
std::string getLayerName(Operation *op);

/// A weight rounded to int8 (or int4, group-wise).
struct QuantizedWeight {
  Value values;     // i8 [K, N] (int4: i8 -8..7, or ui8 0..15 with zero points)
  Value scales;     // f32 [N] (int4: [K / G, N])
  Value zeroPoints; // int4 with zero points: ui8 [K / G, N]; else null
};

/// The group sizes (rows of K per scale) --quantize=int4 takes.
constexpr int64_t kInt4Groups[] = {32, 64, 128};

/// The int4 rounding of a [K, N] weight in groups of `group` rows of each
/// column (K a multiple of it), to nearest: symmetric, each group's scale
/// puts its largest magnitude at -8 or 7 (values -8..7, zeros empty); with
/// `zeroPoints`, its minimum and maximum span 0..15 with the zero point
/// where 0 rounds to. `scales` (and `zeros`) are [K / group, N].
void roundInt4Groupwise(ArrayRef<float> values, int64_t depth, int64_t cols,
                        int64_t group, bool zeroPoints,
                        std::vector<float> &scales, std::vector<uint8_t> &zeros,
                        std::vector<int8_t> &rounded);

/// roundInt4Groupwise with GPTQ's compensation (Frantar et al., 2022): the
/// rows of K are rounded in order, each row's rounding error spread over
/// the rows not yet rounded by the inverse of H = sum x x^T (`hessian`,
/// [K, K], from calibration inputs; 1% of its mean diagonal added), so
/// that the product with those inputs moves least; a group's scales come
/// from its rows as compensated when the group is reached. Returns false
/// (outputs unset) when H stays singular with 100x that damping.
bool gptqInt4Groupwise(ArrayRef<float> values, int64_t depth, int64_t cols,
                       int64_t group, bool zeroPoints, ArrayRef<float> hessian,
                       std::vector<float> &scales, std::vector<uint8_t> &zeros,
                       std::vector<int8_t> &rounded);

/// `weight` (a constant f32 [K, N]) rounded to int4 by roundInt4Groupwise,
/// or by gptqInt4Groupwise when `hessian` is given ([K, K]; rounded to
/// nearest where it is singular); new constants named after the weight's
/// blob. Fails when `weight` is not such a constant or K is not a multiple
/// of `group`.
FailureOr<QuantizedWeight> quantizeWeightInt4(OpBuilder &b, Location loc,
                                              Value weight, int64_t group,
                                              bool zeroPoints,
                                              ArrayRef<float> hessian = {});

/// `weight` (a constant f32 [K, N]) as symmetric int8 with one scale per
/// column (max |w| / 127, 1 for an all-zero column), rounded to nearest
/// even; new constants named after the weight's blob. With `rowScale` (K
/// factors, SmoothQuant's) row k is multiplied by rowScale[k] first. Fails
/// when `weight` is not such a constant.
FailureOr<QuantizedWeight> quantizeWeightPerChannel(OpBuilder &b, Location loc,
                                                    Value weight,
                                                    ArrayRef<float> rowScale = {});

/// `weight` (a constant f32 [K, N]) rounded to bf16 (nearest, ties to
/// even), a new constant named after the weight's blob. Fails when `weight`
/// is not such a constant.
FailureOr<Value> roundWeightToBf16(OpBuilder &b, Location loc, Value weight);

/// The bf16 nearest to `x` (ties to even; a NaN stays a NaN), as its bits,
/// and back.
uint16_t roundToBf16(float x);
float bf16ToFloat(uint16_t bits);

/// The error quantization (int8: per-channel weights, per-row activations,
/// as --quantize=int8 does; bf16: weights and activations rounded to bf16)
/// causes in one linear, measured on inputs the driver captured from the
/// fp32 model: the relative L2 distance between act(x W + b) and its
/// quantized counterpart, over every row given.
class LinearErrorMeter {
public:
  /// Fails (nullopt) when `linear` is not quantizable or its constants
  /// cannot be read.
  /// int8-static needs `input`, the static quantization of its input.
  /// int8-static with smoothing: `smoothing`, the factors the input is
  /// divided by (and the weight's rows multiplied by) before quantizing.
  static std::optional<LinearErrorMeter>
  create(Operation *linear, QuantizedPrecision precision = QuantizedPrecision::Int8,
         std::optional<StaticInputQuantization> input = std::nullopt,
         ArrayRef<float> smoothing = {});
  /// int4: the weight rounded as `--tfm-quantize=mode=int4` rounds it, in
  /// groups of `group` rows (K a multiple of it), with or without zero
  /// points, GPTQ-style where the linear carries its inputs' second
  /// moments (kInt4HessianAttr), else to nearest; products in f32.
  static std::optional<LinearErrorMeter> createInt4(Operation *linear,
                                                    int64_t group,
                                                    bool zeroPoints);

  /// Adds `rows` rows of the linear's input ([rows, K], row-major).
  void addRows(const float *input, int64_t rows);

  /// sqrt(sum |y_q - y|^2 / sum |y|^2) over the rows added (0 for none).
  double relativeError() const;
  int64_t depth() const { return depthK; }
  int64_t columns() const { return cols; }

private:
  int64_t depthK = 0, cols = 0;
  /// The f32 weight: where it lies (a weights blob, read in place: a large
  /// model's weights are not copied), or copied (small inline constants).
  ArrayRef<float> weightInPlace;
  std::vector<float> weightCopy, bias, weightScale;
  ArrayRef<float> weight() const {
    return weightCopy.empty() ? weightInPlace : ArrayRef<float>(weightCopy);
  }
  QuantizedPrecision precision = QuantizedPrecision::Int8;
  std::optional<StaticInputQuantization> staticInput;
  std::vector<float> smoothing;
  // int8: the values, weightScale one per column; int4: the values (codes
  // less nothing: -8..7, or 0..15 less int4Zeros), weightScale and int4Zeros
  // [K / int4Group, N]. (bf16 rounds as it goes.)
  std::vector<int8_t> quantizedWeight;
  std::vector<uint8_t> int4Zeros;
  int64_t int4Group = 0;
  std::string activation;
  void addRowsInt8(const float *input, int64_t rows);
  void addRowsBf16(const float *input, int64_t rows);
  void addRowsInt4(const float *input, int64_t rows);
  /// bf16's and int4's rows: f32 sums of each input value as `roundInput`
  /// gives it times weight row k as `reducedRow(k, row, out)` writes it.
  template <typename RoundInput, typename ReducedRow>
  void addRowsWithF32Sums(const float *input, int64_t rows,
                          RoundInput roundInput, ReducedRow reducedRow);
  void addOutputs(const std::vector<float> &reference,
                  const std::vector<double> &quantized);
  double errorSquares = 0, referenceSquares = 0;
};

} // namespace mlir::tfc

#endif // TFC_TRANSFORMS_QUANTIZATION_H
