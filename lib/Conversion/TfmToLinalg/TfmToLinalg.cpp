//===- TfmToLinalg.cpp - the convert-tfm-to-linalg pass -------------------===//

#include "tfc/Conversion/LoweringUtils.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Func/Transforms/FuncConversions.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "tfc/Conversion/Passes.h"
#include "tfm/TfmDialect.h"
#include "tfm/TfmOps.h"

namespace mlir::tfc {
#define GEN_PASS_DEF_CONVERTTFMTOLINALG
#include "tfc/Conversion/Passes.h.inc"
} // namespace mlir::tfc

using namespace mlir;
using namespace mlir::tfc;

void mlir::tfc::populateTfmToLinalgPatterns(TypeConverter &converter,
                                            RewritePatternSet &patterns) {
  populateElementwisePatterns(converter, patterns);
  populateContractionPatterns(converter, patterns);
  populateNormalizationPatterns(converter, patterns);
  populateShapePatterns(converter, patterns);
  populateScanPatterns(converter, patterns);
  populateScatterPatterns(converter, patterns);
  populateResizePatterns(converter, patterns);
  populateAttentionPatterns(converter, patterns);
  populateLinearAttentionPatterns(converter, patterns);
  populateQuantizedPatterns(converter, patterns);
}

namespace {

struct ConvertTfmToLinalgPass
    : public tfc::impl::ConvertTfmToLinalgBase<ConvertTfmToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    TfmTypeConverter converter;
    RewritePatternSet patterns(context);
    populateTfmToLinalgPatterns(converter, patterns);
    // Function signatures, calls and returns drop unsigned element types.
    populateFunctionOpInterfaceTypeConversionPattern<func::FuncOp>(patterns,
                                                                   converter);
    populateReturnOpTypeConversionPattern(patterns, converter);
    populateCallOpTypeConversionPattern(patterns, converter);

    ConversionTarget target(*context);
    target.addIllegalDialect<tfm::TfmDialect>();
    // Profile markers are the target's to lower (to its runtime's timers).
    target.addLegalOp<tfm::ProfileEnterOp, tfm::ProfileExitOp>();
    target.addLegalOp<ModuleOp>();
    target.addLegalDialect<arith::ArithDialect, bufferization::BufferizationDialect,
                           cf::ControlFlowDialect, linalg::LinalgDialect,
                           math::MathDialect, memref::MemRefDialect,
                           scf::SCFDialect, tensor::TensorDialect>();
    // Ops of other dialects are left as they are: a target's own ops (kernel
    // calls that replaced tfm ops before this pass) take tensors the
    // patterns produce.
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    target.addDynamicallyLegalOp<func::FuncOp>([&](func::FuncOp func) {
      return converter.isSignatureLegal(func.getFunctionType()) &&
             converter.isLegal(&func.getBody());
    });
    target.addDynamicallyLegalOp<func::ReturnOp, func::CallOp>(
        [&](Operation *op) { return converter.isLegal(op); });
    if (failed(applyFullConversion(getOperation(), target, std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
