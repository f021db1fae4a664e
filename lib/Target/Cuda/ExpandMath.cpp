//===- ExpandMath.cpp - math in the kernels without libdevice -------------===//
//
// tfc-cuda-expand-math. See the pass's comment.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/Passes.h"

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

/// Expands erf, tanh, exp and the other math functions into polynomials
/// and arithmetic in the kernels, and turns abs, floor, fma, sqrt and the
/// like into NVPTX's instructions: MLIR's NVVM lowering would make them calls into
/// libdevice, which only a CUDA toolkit provides and which the driver's
/// JIT cannot resolve.
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
