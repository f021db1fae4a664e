//===- ExpandMath.cpp - math in the kernels without libdevice -------------===//
//
// tfc-cuda-expand-math. See the pass's comment.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

using namespace mlir;
using namespace mlir::tfc::cuda;

namespace {

/// A math op of f32 as an NVPTX intrinsic, which the backend emits as one
/// PTX instruction.
template <typename MathOp>
struct MathToNvptxIntrinsic : OpRewritePattern<MathOp> {
  MathToNvptxIntrinsic(MLIRContext *context, StringRef intrinsic)
      : OpRewritePattern<MathOp>(context), intrinsic(intrinsic) {}
  LogicalResult matchAndRewrite(MathOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return failure();
    rewriter.replaceOpWithNewOp<LLVM::CallIntrinsicOp>(
        op, op.getType(), intrinsic, op->getOperands());
    return success();
  }
  StringRef intrinsic;
};

/// A unary math op of f32 that neither the polynomial approximations nor an
/// NVPTX intrinsic cover, rewritten in terms of ones they do (log, log1p,
/// sqrt, copysign).
template <typename MathOp>
struct ExpandUnary : OpRewritePattern<MathOp> {
  using Build = Value (*)(OpBuilder &, Location, Value);
  ExpandUnary(MLIRContext *context, Build build)
      : OpRewritePattern<MathOp>(context), build(build) {}
  LogicalResult matchAndRewrite(MathOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return failure();
    rewriter.replaceOp(op, build(rewriter, op.getLoc(), op.getOperand()));
    return success();
  }
  Build build;
};

static Value constantF32(OpBuilder &b, Location loc, float value) {
  return b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(value));
}

/// acosh(x) = log(x + sqrt(x^2 - 1)), x >= 1.
static Value buildAcosh(OpBuilder &b, Location loc, Value x) {
  Value square = b.create<arith::MulFOp>(loc, x, x);
  Value root = b.create<math::SqrtOp>(
      loc, b.create<arith::SubFOp>(loc, square, constantF32(b, loc, 1.0f)));
  return b.create<math::LogOp>(loc, b.create<arith::AddFOp>(loc, x, root));
}

/// asinh(x) = sign(x) log(|x| + sqrt(x^2 + 1)): on |x|, so that a large
/// negative x does not cancel.
static Value buildAsinh(OpBuilder &b, Location loc, Value x) {
  Value magnitude = b.create<math::AbsFOp>(loc, x);
  Value square = b.create<arith::MulFOp>(loc, x, x);
  Value root = b.create<math::SqrtOp>(
      loc, b.create<arith::AddFOp>(loc, square, constantF32(b, loc, 1.0f)));
  Value log = b.create<math::LogOp>(loc, b.create<arith::AddFOp>(loc, magnitude, root));
  return b.create<math::CopySignOp>(loc, log, x);
}

/// atanh(x) = log1p(2x / (1 - x)) / 2.
static Value buildAtanh(OpBuilder &b, Location loc, Value x) {
  Value twice = b.create<arith::AddFOp>(loc, x, x);
  Value rest = b.create<arith::SubFOp>(loc, constantF32(b, loc, 1.0f), x);
  Value log = b.create<math::Log1pOp>(loc, b.create<arith::DivFOp>(loc, twice, rest));
  return b.create<arith::MulFOp>(loc, log, constantF32(b, loc, 0.5f));
}

/// cosh(x) = (e^x + e^-x) / 2.
static Value buildCosh(OpBuilder &b, Location loc, Value x) {
  Value up = b.create<math::ExpOp>(loc, x);
  Value down = b.create<math::ExpOp>(loc, b.create<arith::NegFOp>(loc, x));
  return b.create<arith::MulFOp>(loc, b.create<arith::AddFOp>(loc, up, down),
                                 constantF32(b, loc, 0.5f));
}

/// sinh(x) = (expm1(x) - expm1(-x)) / 2: expm1, so that a small x keeps
/// its digits.
static Value buildSinh(OpBuilder &b, Location loc, Value x) {
  Value up = b.create<math::ExpM1Op>(loc, x);
  Value down = b.create<math::ExpM1Op>(loc, b.create<arith::NegFOp>(loc, x));
  return b.create<arith::MulFOp>(loc, b.create<arith::SubFOp>(loc, up, down),
                                 constantF32(b, loc, 0.5f));
}

/// a % b on f32 (C's fmod: the sign of a) as fma(-trunc(a / b), b, a);
/// MLIR's NVVM lowering would call libdevice's fmodf.
struct ExpandRemF : OpRewritePattern<arith::RemFOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(arith::RemFOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.getType().isF32())
      return failure();
    Location loc = op.getLoc();
    Value quotient = rewriter.create<math::TruncOp>(
        loc, rewriter.create<arith::DivFOp>(loc, op.getLhs(), op.getRhs()));
    Value negated = rewriter.create<arith::NegFOp>(loc, quotient);
    rewriter.replaceOpWithNewOp<math::FmaOp>(op, negated, op.getRhs(), op.getLhs());
    return success();
  }
};

/// |x| on integers as x < 0 ? 0 - x : x (MLIR's NVVM lowering leaves
/// math.absi to a translation that does not take it).
struct ExpandAbsI : OpRewritePattern<math::AbsIOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(math::AbsIOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = op.getOperand();
    Value zero = rewriter.create<arith::ConstantOp>(
        loc, rewriter.getZeroAttr(x.getType()));
    Value negative =
        rewriter.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, x, zero);
    Value negated = rewriter.create<arith::SubIOp>(loc, zero, x);
    rewriter.replaceOpWithNewOp<arith::SelectOp>(op, negative, negated, x);
    return success();
  }
};

/// Expands erf, tanh, exp, acosh, sinh, f32 remainders and the other math
/// functions into polynomials and arithmetic in the kernels, and turns abs,
/// floor, fma, sqrt and the like into NVPTX's instructions: MLIR's NVVM
/// lowering would make them calls into libdevice, which only a CUDA toolkit
/// provides and which the driver's JIT cannot resolve.
struct ExpandMathInKernels
    : PassWrapper<ExpandMathInKernels, OperationPass<gpu::GPUModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ExpandMathInKernels)
  StringRef getArgument() const final { return "tfc-cuda-expand-math"; }
  StringRef getDescription() const final {
    return "Expands math in GPU kernels into arithmetic and NVPTX intrinsics, so that nothing calls libdevice";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<LLVM::LLVMDialect>();
  }
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    populateMathPolynomialApproximationPatterns(patterns);
    patterns.add<ExpandUnary<math::AcoshOp>>(context, buildAcosh);
    patterns.add<ExpandUnary<math::AsinhOp>>(context, buildAsinh);
    patterns.add<ExpandUnary<math::AtanhOp>>(context, buildAtanh);
    patterns.add<ExpandUnary<math::CoshOp>>(context, buildCosh);
    patterns.add<ExpandUnary<math::SinhOp>>(context, buildSinh);
    patterns.add<ExpandRemF>(context);
    patterns.add<ExpandAbsI>(context);
    // (By name: MLIR's NVVM lowering turns the LLVM dialect's own ops for
    // some of these into libdevice calls too.)
    patterns.add<MathToNvptxIntrinsic<math::AbsFOp>>(context, "llvm.fabs.f32");
    patterns.add<MathToNvptxIntrinsic<math::CeilOp>>(context, "llvm.ceil.f32");
    patterns.add<MathToNvptxIntrinsic<math::CopySignOp>>(context, "llvm.copysign.f32");
    patterns.add<MathToNvptxIntrinsic<math::FloorOp>>(context, "llvm.floor.f32");
    patterns.add<MathToNvptxIntrinsic<math::FmaOp>>(context, "llvm.fma.f32");
    patterns.add<MathToNvptxIntrinsic<math::RoundEvenOp>>(context, "llvm.roundeven.f32");
    patterns.add<MathToNvptxIntrinsic<math::RoundOp>>(context, "llvm.round.f32");
    patterns.add<MathToNvptxIntrinsic<math::RsqrtOp>>(context,
                                                       "llvm.nvvm.rsqrt.approx.f");
    patterns.add<MathToNvptxIntrinsic<math::SqrtOp>>(context, "llvm.nvvm.sqrt.rn.f");
    patterns.add<MathToNvptxIntrinsic<math::TruncOp>>(context, "llvm.trunc.f32");
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::cuda::createExpandMathPass() {
  return std::make_unique<ExpandMathInKernels>();
}
