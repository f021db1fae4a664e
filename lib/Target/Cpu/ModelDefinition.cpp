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

using namespace mlir;

/// Must match TFC_ABI_VERSION in include/tfc/runtime/tfc_runtime.h.
static constexpr uint32_t kAbiVersion = 2;
static constexpr int kMaxRank = 8;

int mlir::tfc::getOnnxDtype(Type type) {
  if (type.isF32()) return 1;
  if (type.isUnsignedInteger(8)) return 2;
  if (type.isSignlessInteger(8)) return 3;
  if (type.isUnsignedInteger(16)) return 4;
  if (type.isSignlessInteger(16)) return 5;
  if (type.isSignlessInteger(32)) return 6;
  if (type.isSignlessInteger(64)) return 7;
  if (type.isSignlessInteger(1)) return 9;
  if (type.isF16()) return 10;
  if (type.isF64()) return 11;
  if (type.isUnsignedInteger(32)) return 12;
  if (type.isUnsignedInteger(64)) return 13;
  if (type.isBF16()) return 16;
  return 0;
}

const char *mlir::tfc::getOnnxDtypeName(int dtype) {
  switch (dtype) {
  case 1: return "float32";
  case 2: return "uint8";
  case 3: return "int8";
  case 4: return "uint16";
  case 5: return "int16";
  case 6: return "int32";
  case 7: return "int64";
  case 9: return "bool";
  case 10: return "float16";
  case 11: return "float64";
  case 12: return "uint32";
  case 13: return "uint64";
  case 16: return "bfloat16";
  }
  return "unknown";
}

unsigned mlir::tfc::getOnnxDtypeBytes(int dtype) {
  switch (dtype) {
  case 2: case 3: case 9: return 1;
  case 4: case 5: case 10: case 16: return 2;
  case 1: case 6: case 12: return 4;
  case 7: case 11: case 13: return 8;
  }
  return 0;
}

static FailureOr<tfc::TensorSignature>
describeTensor(func::FuncOp graph, Type type, DictionaryAttr attrs,
               StringRef kind, unsigned index) {
  auto tensorType = dyn_cast<RankedTensorType>(type);
  if (!tensorType)
    return graph.emitError() << kind << " " << index << " is not a ranked tensor";
  tfc::TensorSignature tensor;
  auto name = attrs ? attrs.getAs<StringAttr>("tfm.name") : StringAttr();
  tensor.name = name ? name.str() : (kind + Twine("_") + Twine(index)).str();
  tensor.onnxDtype = tfc::getOnnxDtype(tensorType.getElementType());
  if (!tensor.onnxDtype)
    return graph.emitError() << kind << " '" << tensor.name
                             << "' has element type "
                             << tensorType.getElementType()
                             << ", which the runtime cannot pass";
  if (tensorType.getRank() > kMaxRank)
    return graph.emitError() << kind << " '" << tensor.name << "' has rank "
                             << tensorType.getRank() << "; the runtime passes "
                             << "tensors up to rank " << kMaxRank;
  tensor.elementBytes =
      std::max<unsigned>(1, tensorType.getElementTypeBitWidth() / 8);
  auto dimParams = attrs ? attrs.getAs<ArrayAttr>("tfm.dim_params") : ArrayAttr();
  for (int64_t i = 0; i < tensorType.getRank(); ++i) {
    tensor.dims.push_back(tensorType.isDynamicDim(i) ? -1
                                                     : tensorType.getDimSize(i));
    std::string dimName;
    if (dimParams && i < (int64_t)dimParams.size())
      if (auto str = dyn_cast<StringAttr>(dimParams[i]))
        dimName = str.str();
    tensor.dimNames.push_back(tensorType.isDynamicDim(i) ? dimName : "");
  }
  return tensor;
}

FailureOr<tfc::ModelSignature> mlir::tfc::getModelSignature(func::FuncOp graph) {
  ModelSignature signature;
  FunctionType type = graph.getFunctionType();
  for (unsigned i = 0; i < type.getNumInputs(); ++i) {
    auto tensor = describeTensor(graph, type.getInput(i), graph.getArgAttrDict(i),
                                 "input", i);
    if (failed(tensor))
      return failure();
    signature.inputs.push_back(*tensor);
  }
  for (unsigned i = 0; i < type.getNumResults(); ++i) {
    auto tensor = describeTensor(graph, type.getResult(i),
                                 graph.getResultAttrDict(i), "output", i);
    if (failed(tensor))
      return failure();
    signature.outputs.push_back(*tensor);
  }
  if (signature.outputs.empty())
    return graph.emitError("the graph has no outputs");
  return signature;
}

bool mlir::tfc::isValidModelName(StringRef name) {
  if (name.empty() || !(isalpha(name[0]) || name[0] == '_'))
    return false;
  return llvm::all_of(name, [](char c) { return isalnum(c) || c == '_'; });
}

namespace {

/// Builds the LLVM IR around the translated graph function.
class ModelDefinitionBuilder {
public:
  ModelDefinitionBuilder(llvm::Module &module, const tfc::ModelSignature &signature,
                         StringRef name, const tfc::WeightsFile &weights)
      : module(module), context(module.getContext()), signature(signature),
        weights(weights),
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

  /// A tfc_tensor_info array for `tensors`.
  llvm::Constant *tensorInfos(ArrayRef<tfc::TensorSignature> tensors, StringRef kind) {
    auto *infoType = llvm::StructType::get(context, {ptrType, i32Type, i32Type, ptrType, ptrType});
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
                     namesGlobal}));
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
    // weights_base.
    auto *defType = llvm::StructType::get(
        context, {i32Type, i32Type, i32Type, ptrType, ptrType, ptrType, ptrType,
                  ptrType, i64Type, i64Type, ptrType});
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
         llvm::ConstantInt::get(i64Type, weights.id), weightsBase});
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
  std::string name;
  llvm::PointerType *ptrType;
  llvm::IntegerType *i32Type, *i64Type;
};

} // namespace

FailureOr<std::unique_ptr<llvm::Module>>
mlir::tfc::buildModelModule(ModuleOp lowered, StringRef graphName,
                            const ModelSignature &signature, StringRef name,
                            const WeightsFile &weights,
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
  ModelDefinitionBuilder builder(*module, signature, name, weights);
  std::string error;
  if (failed(builder.build(graph, error)))
    return lowered.emitError(error);
  return module;
}
