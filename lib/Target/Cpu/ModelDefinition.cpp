//===- ModelDefinition.cpp - the entry point and model definition ---------===//
//
// After lowering, the graph function takes and returns MLIR memref
// descriptors, a calling convention no app should see. This file wraps it in
// LLVM IR: `<name>_entry` reads the runtime's tfc_abi_input records, builds
// row-major descriptors, calls the graph and writes tfc_abi_output records;
// the model definition (tfc_abi.h's struct tfc_model_def) describes the
// signature; `<name>_model_def()` is the one symbol an object exports.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/CpuCodegen.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/Constants.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "tfc/runtime/tfc_runtime.h"

using namespace mlir;

/// The runtime's, so that the two cannot disagree.
static constexpr uint32_t kAbiVersion = TFC_ABI_VERSION;
namespace {

/// Builds the LLVM IR around the translated graph function.
class ModelDefinitionBuilder {
public:
  ModelDefinitionBuilder(llvm::Module &module, const tfc::ModelSignature &signature,
                         StringRef name, const tfc::WeightsFile &weights,
                         const tfc::ModelBuild &build)
      : module(module), context(module.getContext()), signature(signature),
        weights(weights), modelBuild(build),
        name(name.str()), ptrType(llvm::PointerType::getUnqual(context)),
        i32Type(llvm::Type::getInt32Ty(context)),
        i64Type(llvm::Type::getInt64Ty(context)) {}

  LogicalResult build(llvm::Function *graph, std::string &error) {
    llvm::Function *entry = buildEntry(graph, error);
    if (!entry)
      return failure();
    buildDefinition(entry);
    return success();
  }

private:
  llvm::Constant *cString(StringRef text, const Twine &symbol) {
    llvm::Constant *data = llvm::ConstantDataArray::getString(context, text);
    auto *global = new llvm::GlobalVariable(module, data->getType(), true,
                                            llvm::GlobalValue::PrivateLinkage,
                                            data, symbol);
    global->setUnnamedAddr(llvm::GlobalValue::UnnamedAddr::Global);
    return global;
  }

  llvm::Function *buildEntry(llvm::Function *graph, std::string &error) {
    auto *entryType =
        llvm::FunctionType::get(llvm::Type::getVoidTy(context), {ptrType, ptrType}, false);
    auto *entry = llvm::Function::Create(entryType, llvm::GlobalValue::InternalLinkage,
                                         name + "_entry", module);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(context, "entry", entry));
    llvm::Value *inputs = entry->getArg(0), *outputs = entry->getArg(1);
    auto *inputRecord = llvm::StructType::get(context, {ptrType, ptrType});
    auto *outputRecord = llvm::StructType::get(context, {ptrType, ptrType, ptrType});

    // Each input becomes (allocated, aligned, offset, sizes..., strides...).
    SmallVector<llvm::Value *> args;
    for (auto [i, input] : llvm::enumerate(signature.inputs)) {
      llvm::Value *record = b.CreateConstGEP1_32(inputRecord, inputs, i);
      llvm::Value *data = b.CreateLoad(ptrType, b.CreateStructGEP(inputRecord, record, 0));
      llvm::Value *dims = b.CreateLoad(ptrType, b.CreateStructGEP(inputRecord, record, 1));
      int64_t rank = input.dims.size();
      SmallVector<llvm::Value *> sizes;
      for (int64_t d = 0; d < rank; ++d)
        sizes.push_back(b.CreateLoad(i64Type, b.CreateConstGEP1_32(i64Type, dims, d)));
      SmallVector<llvm::Value *> strides(rank);
      llvm::Value *stride = b.getInt64(1);
      for (int64_t d = rank - 1; d >= 0; --d) {
        strides[d] = stride;
        stride = b.CreateMul(stride, sizes[d]);
      }
      args.append({data, data, b.getInt64(0)});
      args.append(sizes.begin(), sizes.end());
      args.append(strides.begin(), strides.end());
    }
    if (modelBuild.gpu && !modelBuild.gpu->weights.empty())
      appendWeightArguments(b, args);
    if (args.size() != graph->arg_size()) {
      error = "internal error: the lowered graph takes " +
              std::to_string(graph->arg_size()) + " arguments, expected " +
              std::to_string(args.size());
      entry->eraseFromParent();
      return nullptr;
    }
    llvm::Value *results = b.CreateCall(graph, args);

    for (auto [i, output] : llvm::enumerate(signature.outputs)) {
      llvm::Value *descriptor =
          signature.outputs.size() == 1 ? results : b.CreateExtractValue(results, i);
      llvm::Value *allocated = b.CreateExtractValue(descriptor, 0);
      llvm::Value *aligned = b.CreateExtractValue(descriptor, 1);
      llvm::Value *offset = b.CreateExtractValue(descriptor, 2);
      llvm::Value *data = b.CreateGEP(
          b.getInt8Ty(), aligned, b.CreateMul(offset, b.getInt64(output.elementBytes)));
      llvm::Value *record = b.CreateConstGEP1_32(outputRecord, outputs, i);
      b.CreateStore(allocated, b.CreateStructGEP(outputRecord, record, 0));
      b.CreateStore(data, b.CreateStructGEP(outputRecord, record, 1));
      llvm::Value *dims = b.CreateLoad(ptrType, b.CreateStructGEP(outputRecord, record, 2));
      for (unsigned d = 0; d < output.dims.size(); ++d)
        b.CreateStore(b.CreateExtractValue(descriptor, {3, d}),
                      b.CreateConstGEP1_32(i64Type, dims, d));
    }
    b.CreateRetVoid();
    return entry;
  }

  /// The weights of a GPU model, after its inputs: descriptors of the
  /// device copies the runtime made at create (tfc_rt_cuda_weights()),
  /// with the shapes of their globals.
  void appendWeightArguments(llvm::IRBuilder<> &b,
                             SmallVectorImpl<llvm::Value *> &args) {
    auto *tableType = llvm::FunctionType::get(ptrType, false);
    llvm::FunctionCallee getTable =
        module.getOrInsertFunction("tfc_rt_cuda_weights", tableType);
    llvm::Value *table = b.CreateCall(getTable);
    for (auto [i, name] : llvm::enumerate(modelBuild.gpu->weights)) {
      llvm::GlobalVariable *global = module.getGlobalVariable(name, true);
      SmallVector<int64_t> dims;
      for (llvm::Type *type = global->getValueType();
           auto *array = llvm::dyn_cast<llvm::ArrayType>(type);
           type = array->getElementType())
        dims.push_back(array->getNumElements());
      llvm::Value *data =
          b.CreateLoad(ptrType, b.CreateConstGEP1_32(ptrType, table, i));
      args.append({data, data, b.getInt64(0)});
      for (int64_t dim : dims)
        args.push_back(b.getInt64(dim));
      int64_t stride = 1;
      SmallVector<llvm::Value *> strides(dims.size());
      for (int64_t d = dims.size() - 1; d >= 0; --d) {
        strides[d] = b.getInt64(stride);
        stride *= dims[d];
      }
      args.append(strides.begin(), strides.end());
    }
  }

  /// tfc_gpu_program: the PTX, the kernels' names, the weights to upload.
  llvm::Constant *gpuProgram() {
    const tfc::GpuProgram &gpu = *modelBuild.gpu;
    SmallVector<llvm::Constant *> kernelNames;
    for (auto [i, kernel] : llvm::enumerate(gpu.kernels))
      kernelNames.push_back(
          cString(kernel, name + "_kernel_name" + std::to_string(i)));
    auto *namesType = llvm::ArrayType::get(ptrType, kernelNames.size());
    auto *namesGlobal = new llvm::GlobalVariable(
        module, namesType, true, llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantArray::get(namesType, kernelNames), name + "_kernels");

    auto *weightType = llvm::StructType::get(context, {ptrType, i64Type});
    SmallVector<llvm::Constant *> weightRecords;
    const llvm::DataLayout &layout = module.getDataLayout();
    for (const std::string &weight : gpu.weights) {
      llvm::GlobalVariable *global = module.getGlobalVariable(weight, true);
      uint64_t bytes = layout.getTypeAllocSize(global->getValueType());
      weightRecords.push_back(llvm::ConstantStruct::get(
          weightType, {global, llvm::ConstantInt::get(i64Type, bytes)}));
    }
    auto *weightsType = llvm::ArrayType::get(weightType, weightRecords.size());
    auto *weightsGlobal = new llvm::GlobalVariable(
        module, weightsType, true, llvm::GlobalValue::PrivateLinkage,
        llvm::ConstantArray::get(weightsType, weightRecords),
        name + "_device_weights");

    // struct tfc_gpu_program: ptx, arch, num_kernels, kernels, num_weights,
    // weights.
    auto *programType = llvm::StructType::get(
        context, {ptrType, ptrType, i32Type, ptrType, i32Type, ptrType});
    llvm::Constant *program = llvm::ConstantStruct::get(
        programType,
        {cString(gpu.ptx, name + "_ptx"), cString(gpu.arch, name + "_gpu_arch"),
         llvm::ConstantInt::get(i32Type, gpu.kernels.size()), namesGlobal,
         llvm::ConstantInt::get(i32Type, gpu.weights.size()), weightsGlobal});
    return new llvm::GlobalVariable(module, programType, true,
                                    llvm::GlobalValue::PrivateLinkage, program,
                                    name + "_gpu_program");
  }

  /// A tfc_tensor_info array for `tensors`.
  llvm::Constant *tensorInfos(ArrayRef<tfc::TensorSignature> tensors, StringRef kind) {
    auto *infoType = llvm::StructType::get(
        context, {ptrType, i32Type, i32Type, ptrType, ptrType, i32Type});
    SmallVector<llvm::Constant *> infos;
    for (auto [i, tensor] : llvm::enumerate(tensors)) {
      std::string prefix = name + "_" + kind.str() + std::to_string(i);
      SmallVector<llvm::Constant *> dims, dimNames;
      for (auto [d, dim] : llvm::enumerate(tensor.dims)) {
        dims.push_back(llvm::ConstantInt::get(i64Type, dim));
        dimNames.push_back(cString(tensor.dimNames[d], prefix + "_dim_name"));
      }
      auto global = [&](ArrayRef<llvm::Constant *> elements, llvm::Type *type,
                        const Twine &symbol) -> llvm::Constant * {
        auto *arrayType = llvm::ArrayType::get(type, elements.size());
        return new llvm::GlobalVariable(module, arrayType, true,
                                        llvm::GlobalValue::PrivateLinkage,
                                        llvm::ConstantArray::get(arrayType, elements),
                                        symbol);
      };
      llvm::Constant *dimsGlobal =
          dims.empty() ? llvm::ConstantPointerNull::get(ptrType)
                       : global(dims, i64Type, prefix + "_dims");
      llvm::Constant *namesGlobal =
          dimNames.empty() ? llvm::ConstantPointerNull::get(ptrType)
                           : global(dimNames, ptrType, prefix + "_dim_names");
      infos.push_back(llvm::ConstantStruct::get(
          infoType, {cString(tensor.name, prefix + "_name"),
                     llvm::ConstantInt::get(i32Type, tensor.onnxDtype),
                     llvm::ConstantInt::get(i32Type, tensor.dims.size()), dimsGlobal,
                     namesGlobal,
                     llvm::ConstantInt::get(i32Type, tensor.sequenceDim)}));
    }
    auto *arrayType = llvm::ArrayType::get(infoType, infos.size());
    return new llvm::GlobalVariable(module, arrayType, true,
                                    llvm::GlobalValue::PrivateLinkage,
                                    llvm::ConstantArray::get(arrayType, infos),
                                    name + "_" + kind + "s");
  }

  void buildDefinition(llvm::Function *entry) {
    // struct tfc_model_def: abi_version, num_inputs, num_outputs, name,
    // inputs, outputs, entry, weights_file, weights_size, weights_id,
    // weights_base, target, isa, gpu, num_sequence_states.
    auto *defType = llvm::StructType::get(
        context, {i32Type, i32Type, i32Type, ptrType, ptrType, ptrType, ptrType,
                  ptrType, i64Type, i64Type, ptrType, ptrType, i32Type, ptrType,
                  i32Type});
    llvm::Constant *null = llvm::ConstantPointerNull::get(ptrType);
    llvm::Constant *weightsFile = null, *weightsBase = null;
    if (!weights.fileName.empty()) {
      weightsFile = cString(weights.fileName, name + "_weights_file");
      weightsBase = module.getGlobalVariable(name + "_weights_base", true);
    }
    llvm::Constant *def = llvm::ConstantStruct::get(
        defType,
        {llvm::ConstantInt::get(i32Type, kAbiVersion),
         llvm::ConstantInt::get(i32Type, signature.inputs.size()),
         llvm::ConstantInt::get(i32Type, signature.outputs.size()),
         cString(name, name + "_name"), tensorInfos(signature.inputs, "input"),
         tensorInfos(signature.outputs, "output"), entry, weightsFile,
         llvm::ConstantInt::get(i64Type, weights.size),
         llvm::ConstantInt::get(i64Type, weights.id), weightsBase,
         cString(modelBuild.target, name + "_target"),
         llvm::ConstantInt::get(i32Type, modelBuild.isa),
         modelBuild.gpu ? gpuProgram() : null,
         llvm::ConstantInt::get(i32Type, signature.sequenceStates)});
    auto *defGlobal = new llvm::GlobalVariable(
        module, defType, true, llvm::GlobalValue::PrivateLinkage, def, name + "_def");

    auto *getterType = llvm::FunctionType::get(ptrType, false);
    auto *getter = llvm::Function::Create(
        getterType, llvm::GlobalValue::ExternalLinkage, name + "_model_def", module);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(context, "entry", getter));
    b.CreateRet(defGlobal);
  }

  llvm::Module &module;
  llvm::LLVMContext &context;
  const tfc::ModelSignature &signature;
  const tfc::WeightsFile &weights;
  const tfc::ModelBuild &modelBuild;
  std::string name;
  llvm::PointerType *ptrType;
  llvm::IntegerType *i32Type, *i64Type;
};

} // namespace

FailureOr<std::unique_ptr<llvm::Module>>
mlir::tfc::buildModelModule(ModuleOp lowered, StringRef graphName,
                            const ModelSignature &signature, StringRef name,
                            const WeightsFile &weights, const ModelBuild &build,
                            llvm::LLVMContext &context) {
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  lowered->getContext()->appendDialectRegistry(registry);

  std::unique_ptr<llvm::Module> module =
      translateModuleToLLVMIR(lowered, context, name);
  if (!module)
    return lowered.emitError("cannot translate the lowered model to LLVM IR");

  // MLIR's generic allocation and copy functions are the runtime's.
  static constexpr std::pair<llvm::StringLiteral, llvm::StringLiteral> kRenames[] = {
      {"_mlir_memref_to_llvm_aligned_alloc", "tfc_rt_aligned_alloc"},
      {"_mlir_memref_to_llvm_alloc", "tfc_rt_alloc"},
      {"_mlir_memref_to_llvm_free", "tfc_rt_free"},
      {"memrefCopy", "tfc_rt_memref_copy"}};
  for (auto [from, to] : kRenames)
    if (llvm::Function *function = module->getFunction(from))
      function->setName(to);
  if (build.gpu) {
    // Every buffer of a GPU model is device memory (the host code never
    // touches one: tfc-cuda-host-reads), allocated by the runtime.
    static constexpr std::pair<llvm::StringLiteral, llvm::StringLiteral>
        kDeviceRenames[] = {{"malloc", "tfc_rt_cuda_alloc"},
                            {"free", "tfc_rt_cuda_free"}};
    for (auto [from, to] : kDeviceRenames)
      if (llvm::Function *function = module->getFunction(from))
        function->setName(to);
    for (llvm::Function &function : *module)
      if (function.isDeclaration() && !function.isIntrinsic() &&
          !function.getName().starts_with("tfc_rt_"))
        return lowered.emitError("internal error: the host code of a GPU "
                                 "model calls '")
               << function.getName() << "', which has no device version";
  }

  // Only <name>_model_def is exported: two models link into one app.
  for (llvm::Function &function : *module)
    if (!function.isDeclaration())
      function.setLinkage(llvm::GlobalValue::InternalLinkage);
  for (llvm::GlobalVariable &global : module->globals())
    if (!global.isDeclaration())
      global.setLinkage(llvm::GlobalValue::InternalLinkage);

  llvm::Function *graph = module->getFunction(graphName);
  if (!graph)
    return lowered.emitError("the lowered module has no function '")
           << graphName << "'";
  graph->setLinkage(llvm::GlobalValue::InternalLinkage);

  if (!weights.fileName.empty() &&
      !module->getGlobalVariable((name + "_weights_base").str(), true))
    return lowered.emitError("the weights base pointer is missing");
  ModelDefinitionBuilder builder(*module, signature, name, weights, build);
  std::string error;
  if (failed(builder.build(graph, error)))
    return lowered.emitError(error);
  return module;
}
