//===- tfc-opt.cpp - runs tfc passes on MLIR files ------------------------===//
//
// mlir-opt for tfc: parses tfm (and func) IR, runs the passes named on the
// command line and prints the result. It registers tfc's own passes and the
// few upstream passes tfc's pipelines use, nothing else, so `--help` lists
// exactly what a tfc test can run.
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

#include "tfc/Conversion/Passes.h"
#include "tfc/Target/Cpu/Passes.h"
#include "tfc/Target/CpuCodegen.h"
#include "tfc/Target/Cuda/CudaTarget.h"
#include "tfc/Target/Cuda/Passes.h"
#include "tfc/Transforms/Passes.h"
#include "tfm/TfmDialect.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<mlir::tfm::TfmDialect, mlir::func::FuncDialect,
                  mlir::arith::ArithDialect, mlir::cf::ControlFlowDialect,
                  mlir::linalg::LinalgDialect, mlir::math::MathDialect,
                  mlir::tensor::TensorDialect>();

  mlir::tfc::registerCpuCodegenDialects(registry);
  mlir::tfc::registerCudaCodegenDialects(registry);

  mlir::tfc::registerTfcPasses();
  mlir::tfc::registerGraphOptimizationPipeline();
  mlir::tfc::registerTfcConversionPasses();
  mlir::tfc::cpu::registerTfcCpuPasses();
  mlir::tfc::cuda::registerCudaPasses();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerSymbolDCEPass();

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv,
      "tfc-opt: runs tfc's graph passes on tfm IR.\n\n"
      "Reads MLIR (tfm and func ops), runs the passes given as flags in\n"
      "order, and prints the result. Large weights print as elided\n"
      "dense_resource blobs unless --mlir-elide-resource-strings-if-larger\n"
      "says otherwise.\n",
      registry));
}
