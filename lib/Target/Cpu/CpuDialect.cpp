//===- CpuDialect.cpp - the CPU target's kernel-call ops ------------------===//

#include "tfc/Target/Cpu/CpuDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "tfc/Target/Cpu/KernelTable.h"

using namespace mlir;
using namespace mlir::tfc::cpu;

#include "tfc/Target/Cpu/CpuDialect.cpp.inc"

void TfcCpuDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "tfc/Target/Cpu/CpuOps.cpp.inc"
      >();
}

#define GET_OP_CLASSES
#include "tfc/Target/Cpu/CpuOps.cpp.inc"

/// Checks a kernel call's operands against the kernel's declared arguments:
/// the tensors (`tensorKind` says what a tensor argument must be, tensor or
/// memref) in order and of their rank, the scalars of their type, optional
/// tensors left out only where `absent` says, the output among the operands
/// only when `withOutput`, and no flags operand.
template <typename ShapedTypeT>
static FailureOr<const KernelSignature *>
verifyKernelCall(Operation *op, StringRef name, ArrayRef<int64_t> absent,
                 StringRef dtypes, StringRef isa, int64_t flags,
                 OperandRange operands, bool withOutput) {
  const KernelSignature *kernel = lookupKernel(name);
  if (!kernel)
    return op->emitOpError("calls an unknown kernel '") << name << "'";
  if (!encodeFlags(flags, dtypes, isa))
    return op->emitOpError("has flags ")
           << flags << ", element types '" << dtypes << "' and instruction set '"
           << isa << "', which the runtime does not encode";
  for (int64_t index : absent)
    if (index < 0 || index >= (int64_t)kernel->args.size() ||
        kernel->args[index].kind != KernelArg::OptionalInput)
      return op->emitOpError("leaves out argument ")
             << index << " of kernel '" << name
             << "', which is not an optional tensor";
  auto operand = operands.begin();
  // The flags word is the kernel's last argument, and no operand.
  for (auto [i, arg] : llvm::enumerate(kernel->args.drop_back())) {
    if (llvm::is_contained(absent, (int64_t)i) ||
        (arg.kind == KernelArg::Output && !withOutput))
      continue;
    if (operand == operands.end())
      return op->emitOpError("has too few operands for kernel '")
             << name << "': none for its argument '" << arg.name << "'";
    Type type = (*operand++).getType();
    bool matches = false;
    switch (arg.kind) {
    case KernelArg::I64:
      matches = type.isInteger(64);
      break;
    case KernelArg::F32:
      matches = type.isF32();
      break;
    default:
      auto shaped = dyn_cast<ShapedTypeT>(type);
      matches = shaped && shaped.getRank() == arg.rank;
    }
    if (!matches)
      return op->emitOpError("passes ")
             << type << " as argument '" << arg.name << "' of kernel '" << name
             << "', which takes "
             << (arg.kind == KernelArg::I64   ? std::string("an i64")
                 : arg.kind == KernelArg::F32 ? std::string("an f32")
                                              : "a tensor of rank " +
                                                    std::to_string(arg.rank));
  }
  if (operand != operands.end())
    return op->emitOpError("has more operands than kernel '")
           << name << "' takes";
  return kernel;
}

LogicalResult UKernelOp::verify() {
  FailureOr<const KernelSignature *> kernel =
      verifyKernelCall<RankedTensorType>(*this, getKernel(), getAbsent(),
                                         getDtypes(), getIsa(), getFlags(),
                                         getArgs(), /*withOutput=*/false);
  if (failed(kernel))
    return failure();
  auto resultType = cast<RankedTensorType>(getType());
  int64_t rank = (*kernel)->args[(*kernel)->outputIndex()].rank;
  if (resultType.getRank() != rank)
    return emitOpError("yields a tensor of rank ")
           << resultType.getRank() << "; kernel '" << getKernel()
           << "' writes rank " << rank;
  if ((int64_t)getDynamicDims().size() != resultType.getNumDynamicDims())
    return emitOpError("has ")
           << getDynamicDims().size() << " dynamic dims for a result with "
           << resultType.getNumDynamicDims();
  return success();
}

LogicalResult UKernelCallOp::verify() {
  return verifyKernelCall<MemRefType>(*this, getKernel(), getAbsent(),
                                      getDtypes(), getIsa(), getFlags(),
                                      getArgs(), /*withOutput=*/true);
}
