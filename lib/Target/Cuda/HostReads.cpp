//===- HostReads.cpp - host reads of GPU buffers through the runtime ------===//
//
// tfc-cuda-host-reads. See the pass's comment.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/Cuda/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"

using namespace mlir;
using namespace mlir::tfc::cuda;

namespace {

/// The bytes one element takes in a buffer (i1 takes a byte; index, 64
/// bits on the hosts tfc targets).
std::optional<int64_t> elementBytes(Type type) {
  if (type.isIndex())
    return 8;
  if (type.isIntOrFloat() && type.getIntOrFloatBitWidth() <= 64)
    return std::max<int64_t>(1, (type.getIntOrFloatBitWidth() + 7) / 8);
  return std::nullopt;
}

/// Every buffer of a model compiled for the GPU lives in device memory, yet
/// the host still reads a few values: the flag a range check leaves, the
/// shape a Reshape takes from a tensor the kernels computed, a size that
/// depends on data. This pass turns each host memref.load into a call of
/// the runtime's `tfc_rt_cuda_read(address, bytes)`, which waits for the
/// kernels before it and copies the value back; and a memref.reshape whose
/// shape is a buffer (its LLVM lowering would read the shape in place) into
/// such reads and a memref.reinterpret_cast.
struct HostReads : PassWrapper<HostReads, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(HostReads)
  StringRef getArgument() const final { return "tfc-cuda-host-reads"; }
  StringRef getDescription() const final {
    return "Turns the host's loads of GPU buffers (flags, shapes) into reads through the runtime";
  }
  void getDependentDialects(DialectRegistry &registry) const override {
    registry.insert<arith::ArithDialect, func::FuncDialect>();
  }

  /// memref.reshape(%source, %shape) as reads of %shape and a cast.
  static LogicalResult expandReshape(memref::ReshapeOp reshape) {
    MemRefType type = reshape.getType();
    if (!type.getLayout().isIdentity())
      return reshape.emitOpError("cannot be lowered for the GPU: its result "
                                 "has a layout");
    OpBuilder builder(reshape);
    Location loc = reshape.getLoc();
    Value shape = reshape.getShape();
    int64_t rank = type.getRank();
    SmallVector<OpFoldResult> sizes(rank), strides(rank);
    for (int64_t dim = 0; dim < rank; ++dim) {
      if (!type.isDynamicDim(dim)) {
        sizes[dim] = builder.getIndexAttr(type.getDimSize(dim));
        continue;
      }
      Value position = builder.create<arith::ConstantIndexOp>(loc, dim);
      Value size = builder.create<memref::LoadOp>(loc, shape, position);
      if (!size.getType().isIndex())
        size = builder.create<arith::IndexCastOp>(loc, builder.getIndexType(), size);
      sizes[dim] = size;
    }
    OpFoldResult stride = builder.getIndexAttr(1);
    for (int64_t dim = rank - 1; dim >= 0; --dim) {
      strides[dim] = stride;
      if (dim == 0)
        break;
      Value product = builder.createOrFold<arith::MulIOp>(
          loc, getValueOrCreateConstantIndexOp(builder, loc, sizes[dim]),
          getValueOrCreateConstantIndexOp(builder, loc, stride));
      stride = getAsOpFoldResult(product);
    }
    Value cast = builder.create<memref::ReinterpretCastOp>(
        loc, type, reshape.getSource(), builder.getIndexAttr(0), sizes, strides);
    reshape.replaceAllUsesWith(cast);
    reshape.erase();
    return success();
  }

  static LogicalResult rewriteLoad(memref::LoadOp load, func::FuncOp read) {
    Type elementType = load.getType();
    std::optional<int64_t> bytes = elementBytes(elementType);
    if (!bytes)
      return load.emitOpError("reads a value of type ")
             << elementType << " on the host, which the GPU target cannot "
                               "read back from device memory";
    OpBuilder builder(load);
    Location loc = load.getLoc();
    Value memref = load.getMemRef();
    auto metadata =
        builder.create<memref::ExtractStridedMetadataOp>(loc, memref);
    Value linear = metadata.getOffset();
    for (auto [index, stride] :
         llvm::zip(load.getIndices(), metadata.getStrides()))
      linear = builder.createOrFold<arith::AddIOp>(
          loc, linear, builder.createOrFold<arith::MulIOp>(loc, index, stride));
    Value base =
        builder.create<memref::ExtractAlignedPointerAsIndexOp>(loc, memref);
    Value elementSize = builder.create<arith::ConstantIndexOp>(loc, *bytes);
    Value address = builder.createOrFold<arith::AddIOp>(
        loc, base, builder.createOrFold<arith::MulIOp>(loc, linear, elementSize));
    Type i64 = builder.getI64Type();
    Value args[] = {builder.create<arith::IndexCastUIOp>(loc, i64, address),
                    builder.create<arith::ConstantIntOp>(loc, *bytes, 64)};
    Value bits = builder.create<func::CallOp>(loc, read, args).getResult(0);
    Value value;
    if (elementType.isIndex()) {
      value = builder.create<arith::IndexCastOp>(loc, elementType, bits);
    } else {
      unsigned width = elementType.getIntOrFloatBitWidth();
      Type integer = builder.getIntegerType(width);
      value = width == 64 ? bits
                          : builder.create<arith::TruncIOp>(loc, integer, bits)
                                .getResult();
      if (elementType != integer)
        value = builder.create<arith::BitcastOp>(loc, elementType, value);
    }
    load.replaceAllUsesWith(value);
    load.erase();
    return success();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<memref::ReshapeOp> reshapes;
    for (auto function : module.getOps<func::FuncOp>())
      function.walk([&](memref::ReshapeOp op) { reshapes.push_back(op); });
    for (memref::ReshapeOp reshape : reshapes)
      if (failed(expandReshape(reshape)))
        return signalPassFailure();

    SmallVector<memref::LoadOp> loads;
    for (auto function : module.getOps<func::FuncOp>())
      function.walk([&](memref::LoadOp op) { loads.push_back(op); });
    if (loads.empty())
      return;
    auto i64 = IntegerType::get(&getContext(), 64);
    auto read = module.lookupSymbol<func::FuncOp>(kReadFunction);
    if (!read) {
      OpBuilder builder(module.getBodyRegion());
      builder.setInsertionPointToEnd(module.getBody());
      read = builder.create<func::FuncOp>(
          module.getLoc(), kReadFunction,
          builder.getFunctionType({i64, i64}, {i64}));
      read.setPrivate();
    }
    for (memref::LoadOp load : loads)
      if (failed(rewriteLoad(load, read)))
        return signalPassFailure();
  }
};

} // namespace

std::unique_ptr<Pass> mlir::tfc::cuda::createHostReadsPass() {
  return std::make_unique<HostReads>();
}
