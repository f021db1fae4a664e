//===- OutlineParallelLoops.cpp - tfc-cpu-outline-parallel-loops ---------===//

#include "mlir/Conversion/LLVMCommon/TypeConverter.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/FunctionCallUtils.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "mlir/Transforms/RegionUtils.h"
#include "tfc/Target/Cpu/Passes.h"

namespace mlir::tfc::cpu {
#define GEN_PASS_DEF_CPUOUTLINEPARALLELLOOPS
#include "tfc/Target/Cpu/Passes.h.inc"
} // namespace mlir::tfc::cpu

using namespace mlir;

namespace {

constexpr llvm::StringLiteral kParallelFor = "tfc_rt_parallel_for";

/// Ops that are cheaper to re-create in the outlined function than to pass.
bool isRematerializable(Operation *op) {
  return op && (op->hasTrait<OpTrait::ConstantLike>() || isa<memref::GetGlobalOp>(op));
}

struct OutlineParallelLoopsPass
    : public tfc::cpu::impl::CpuOutlineParallelLoopsBase<OutlineParallelLoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<scf::ParallelOp> loops;
    module.walk([&](scf::ParallelOp loop) {
      if (loop->getParentOfType<scf::ParallelOp>() || loop.getNumResults() != 0)
        return;
      if (!loop->getParentOfType<FunctionOpInterface>())
        return;
      loops.push_back(loop);
    });
    if (loops.empty())
      return;

    MLIRContext *context = &getContext();
    LLVMTypeConverter converter(context);
    auto ptrType = LLVM::LLVMPointerType::get(context);
    auto i64Type = IntegerType::get(context, 64);
    LLVM::LLVMFuncOp parallelFor = LLVM::lookupOrCreateFn(
        module, kParallelFor, {ptrType, ptrType, i64Type},
        LLVM::LLVMVoidType::get(context));

    llvm::StringMap<unsigned> counters;
    for (scf::ParallelOp loop : loops)
      if (failed(outline(loop, converter, parallelFor, counters)))
        return signalPassFailure();
  }

  LogicalResult outline(scf::ParallelOp loop, LLVMTypeConverter &converter,
                        LLVM::LLVMFuncOp parallelFor,
                        llvm::StringMap<unsigned> &counters) {
    MLIRContext *context = loop.getContext();
    Location loc = loop.getLoc();
    auto ptrType = LLVM::LLVMPointerType::get(context);
    auto i64Type = IntegerType::get(context, 64);
    auto parent = loop->getParentOfType<FunctionOpInterface>();
    auto module = loop->getParentOfType<ModuleOp>();

    // What the body and the bounds read from outside.
    SetVector<Value> used;
    getUsedValuesDefinedAbove(loop.getRegion(), used);
    for (Value bound : loop.getOperands())
      used.insert(bound);
    SmallVector<Value> captures;
    SmallVector<Operation *> rematerialized;
    for (Value value : used) {
      Operation *def = value.getDefiningOp();
      if (isRematerializable(def))
        rematerialized.push_back(def);
      else
        captures.push_back(value);
    }
    SmallVector<Type> fieldTypes;
    for (Value capture : captures) {
      Type converted = converter.convertType(capture.getType());
      if (!converted)
        return loop.emitOpError("captures a value of type ")
               << capture.getType() << " that has no LLVM form";
      fieldTypes.push_back(converted);
    }
    auto contextType = LLVM::LLVMStructType::getLiteral(context, fieldTypes);

    // The outlined function: (ctx, begin, end) over the flattened dims.
    std::string name = (SymbolTable::getSymbolName(parent).getValue() + "_parallel_" +
                         Twine(counters[SymbolTable::getSymbolName(parent)]++))
                           .str();
    OpBuilder moduleBuilder(module.getBodyRegion());
    moduleBuilder.setInsertionPoint(parent);
    // A func.func, not an llvm.func, so that the conversions to LLVM rewrite
    // its blocks' index arguments like any other function's.
    auto kernelType = FunctionType::get(context, {ptrType, i64Type, i64Type}, {});
    auto kernel = moduleBuilder.create<func::FuncOp>(loc, name, kernelType);
    kernel.setPrivate();
    Block *entry = kernel.addEntryBlock();
    OpBuilder b = OpBuilder::atBlockBegin(entry);
    IRMapping mapping;
    for (Operation *def : rematerialized)
      b.clone(*def, mapping);
    for (auto [i, capture] : llvm::enumerate(captures)) {
      Value field = b.create<LLVM::GEPOp>(loc, ptrType, contextType, entry->getArgument(0),
                                          ArrayRef<LLVM::GEPArg>{0, (int32_t)i});
      Value loaded = b.create<LLVM::LoadOp>(loc, fieldTypes[i], field);
      Value original =
          loaded.getType() == capture.getType()
              ? loaded
              : b.create<UnrealizedConversionCastOp>(loc, capture.getType(), loaded)
                    .getResult(0);
      mapping.map(capture, original);
    }

    // Flatten every dim when the body has loops of its own; else keep the
    // innermost dim as a loop for the vectorizer.
    unsigned numDims = loop.getNumLoops();
    bool bodyHasLoops = false;
    loop.getBody()->walk([&](LoopLikeOpInterface) { bodyHasLoops = true; });
    unsigned flattened = numDims >= 2 && !bodyHasLoops ? numDims - 1 : numDims;
    auto extent = [&](OpBuilder &builder, unsigned dim, auto lookup) {
      Value lower = lookup(loop.getLowerBound()[dim]);
      Value upper = lookup(loop.getUpperBound()[dim]);
      Value step = lookup(loop.getStep()[dim]);
      Value span = builder.create<arith::SubIOp>(loc, upper, lower);
      return builder.create<arith::CeilDivSIOp>(loc, span, step).getResult();
    };
    auto inKernel = [&](Value v) { return mapping.lookupOrDefault(v); };
    SmallVector<Value> extents;
    for (unsigned d = 0; d < flattened; ++d)
      extents.push_back(extent(b, d, inKernel));
    Value begin = b.create<arith::IndexCastOp>(loc, b.getIndexType(), entry->getArgument(1));
    Value end = b.create<arith::IndexCastOp>(loc, b.getIndexType(), entry->getArgument(2));
    Value one = b.create<arith::ConstantIndexOp>(loc, 1);
    auto chunk = b.create<scf::ForOp>(loc, begin, end, one);
    b.create<func::ReturnOp>(loc);

    // Inside the chunk loop: recover the flattened induction variables,
    // then loop over the remaining dims with the original body.
    b.setInsertionPointToStart(chunk.getBody());
    Value linear = chunk.getInductionVar();
    SmallVector<Value> ivs(numDims);
    for (int d = flattened - 1; d >= 0; --d) {
      Value position = d == 0 ? linear : b.create<arith::RemSIOp>(loc, linear, extents[d]);
      if (d > 0)
        linear = b.create<arith::DivSIOp>(loc, linear, extents[d]);
      Value scaled = b.create<arith::MulIOp>(loc, position, inKernel(loop.getStep()[d]));
      ivs[d] = b.create<arith::AddIOp>(loc, inKernel(loop.getLowerBound()[d]), scaled);
    }
    for (unsigned d = 0; d < flattened; ++d)
      mapping.map(loop.getInductionVars()[d], ivs[d]);
    Block *bodyTarget = chunk.getBody();
    if (flattened < numDims) {
      SmallVector<Value> lowers, uppers, steps;
      for (unsigned d = flattened; d < numDims; ++d) {
        lowers.push_back(inKernel(loop.getLowerBound()[d]));
        uppers.push_back(inKernel(loop.getUpperBound()[d]));
        steps.push_back(inKernel(loop.getStep()[d]));
      }
      auto inner = b.create<scf::ParallelOp>(loc, lowers, uppers, steps);
      for (unsigned d = flattened; d < numDims; ++d)
        mapping.map(loop.getInductionVars()[d], inner.getInductionVars()[d - flattened]);
      bodyTarget = inner.getBody();
      b.setInsertionPointToStart(bodyTarget);
    }
    for (Operation &op : loop.getBody()->without_terminator())
      b.clone(op, mapping);

    // The call site: pack the captures, run the chunks on the pool.
    OpBuilder caller(loop);
    Block &parentEntry = parent->getRegion(0).front();
    OpBuilder allocaBuilder = OpBuilder::atBlockBegin(&parentEntry);
    Value count1 = allocaBuilder.create<LLVM::ConstantOp>(loc, i64Type, 1);
    Value contextPtr =
        allocaBuilder.create<LLVM::AllocaOp>(loc, ptrType, contextType, count1);
    for (auto [i, capture] : llvm::enumerate(captures)) {
      Value converted =
          capture.getType() == fieldTypes[i]
              ? capture
              : caller.create<UnrealizedConversionCastOp>(loc, fieldTypes[i], capture)
                    .getResult(0);
      Value field = caller.create<LLVM::GEPOp>(loc, ptrType, contextType, contextPtr,
                                               ArrayRef<LLVM::GEPArg>{0, (int32_t)i});
      caller.create<LLVM::StoreOp>(loc, converted, field);
    }
    Value total = caller.create<arith::ConstantIndexOp>(loc, 1);
    for (unsigned d = 0; d < flattened; ++d)
      total = caller.create<arith::MulIOp>(loc, total,
                                           extent(caller, d, [](Value v) { return v; }));
    Value total64 = caller.create<arith::IndexCastOp>(loc, i64Type, total);
    Value function = caller.create<func::ConstantOp>(loc, kernelType, kernel.getSymName());
    function = caller.create<UnrealizedConversionCastOp>(loc, ptrType, function).getResult(0);
    caller.create<LLVM::CallOp>(loc, parallelFor, ValueRange{function, contextPtr, total64});
    loop.erase();
    return success();
  }
};

} // namespace
