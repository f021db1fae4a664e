//===- WeightsFile.cpp - weights in a file beside the library -------------===//
//
// A model's weights can be embedded in the object's read-only data or kept
// in a sidecar file that the runtime memory-maps. The file keeps libraries
// small and lets the OS share and page the weights; it also spares the
// compiler the copy of every weight that translating to LLVM IR makes.
//
//===----------------------------------------------------------------------===//

#include "tfc/Target/CpuCodegen.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

using namespace mlir;

static constexpr uint64_t kAlignment = 64;
static constexpr uint64_t kHeaderBytes = 64;
static constexpr char kMagic[8] = {'T', 'F', 'C', 'W', 'G', 'H', 'T', 'S'};
static constexpr uint32_t kVersion = 1;

/// The bytes of a global's initializer when they can live in a file.
static std::optional<ArrayRef<char>> weightBytes(LLVM::GlobalOp global) {
  Attribute value = global.getValueOrNull();
  if (auto resource = dyn_cast_or_null<DenseResourceElementsAttr>(value)) {
    if (AsmResourceBlob *blob = resource.getRawHandle().getBlob())
      return blob->getData();
    return std::nullopt;
  }
  if (auto dense = dyn_cast_or_null<DenseElementsAttr>(value))
    if (!dense.isSplat() && !dense.getElementType().isInteger(1))
      return dense.getRawData();
  return std::nullopt;
}

static SmallVector<std::pair<LLVM::GlobalOp, ArrayRef<char>>>
collectWeights(ModuleOp lowered, uint64_t minBytes) {
  SmallVector<std::pair<LLVM::GlobalOp, ArrayRef<char>>> weights;
  for (auto global : lowered.getOps<LLVM::GlobalOp>())
    if (global.getConstant())
      if (auto bytes = weightBytes(global); bytes && bytes->size() >= minBytes)
        weights.push_back({global, *bytes});
  return weights;
}

uint64_t mlir::tfc::countWeightBytes(ModuleOp lowered, uint64_t minBytes) {
  uint64_t total = 0;
  for (auto &[global, bytes] : collectWeights(lowered, minBytes))
    total += bytes.size();
  return total;
}

FailureOr<tfc::WeightsFile>
mlir::tfc::externalizeWeights(ModuleOp lowered, StringRef name, StringRef path,
                              uint64_t minBytes) {
  auto weights = collectWeights(lowered, minBytes);
  WeightsFile file;
  file.fileName = llvm::sys::path::filename(path).str();
  file.numTensors = weights.size();

  // Layout and id: each tensor at a multiple of 64 after the header; the id
  // hashes every tensor's hash, so a file from another compile is refused.
  llvm::DenseMap<Operation *, uint64_t> offsets;
  uint64_t offset = 0;
  SmallVector<uint64_t> hashes;
  for (auto &[global, bytes] : weights) {
    offset = llvm::alignTo(offset, kAlignment);
    offsets[global] = offset;
    offset += bytes.size();
    hashes.push_back(llvm::xxh3_64bits(
        ArrayRef(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size())));
  }
  uint64_t payload = llvm::alignTo(offset, kAlignment);
  file.size = kHeaderBytes + payload;
  file.id = llvm::xxh3_64bits(ArrayRef(reinterpret_cast<const uint8_t *>(hashes.data()),
                                       hashes.size() * sizeof(uint64_t))) ^
            payload;

  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return lowered.emitError("cannot write the weights file '")
           << path << "': " << ec.message();
  char header[kHeaderBytes] = {};
  memcpy(header, kMagic, sizeof(kMagic));
  memcpy(header + 8, &kVersion, sizeof(kVersion));
  memcpy(header + 16, &file.id, sizeof(file.id));
  memcpy(header + 24, &payload, sizeof(payload));
  os.write(header, kHeaderBytes);
  uint64_t written = 0;
  for (auto &[global, bytes] : weights) {
    os.write_zeros(offsets[global] - written);
    os.write(bytes.data(), bytes.size());
    written = offsets[global] + bytes.size();
  }
  os.write_zeros(payload - written);
  os.close();
  if (os.has_error())
    return lowered.emitError("cannot write the weights file '")
           << path << "': " << os.error().message();

  // Each use of a weight reads the base pointer and offsets it.
  MLIRContext *context = lowered.getContext();
  auto ptrType = LLVM::LLVMPointerType::get(context);
  OpBuilder builder = OpBuilder::atBlockBegin(lowered.getBody());
  std::string baseName = (name + "_weights_base").str();
  auto baseGlobal = builder.create<LLVM::GlobalOp>(
      lowered.getLoc(), ptrType, /*isConstant=*/false, LLVM::Linkage::Internal,
      baseName, Attribute());
  {
    OpBuilder::InsertionGuard guard(builder);
    Block *init = builder.createBlock(&baseGlobal.getInitializerRegion());
    builder.setInsertionPointToStart(init);
    Value null = builder.create<LLVM::ZeroOp>(lowered.getLoc(), ptrType);
    builder.create<LLVM::ReturnOp>(lowered.getLoc(), null);
  }
  SmallVector<LLVM::AddressOfOp> uses;
  lowered.walk([&](LLVM::AddressOfOp address) { uses.push_back(address); });
  llvm::StringMap<uint64_t> offsetByName;
  for (auto &[global, bytes] : weights)
    offsetByName[global.getSymName()] = offsets[global];
  for (LLVM::AddressOfOp address : uses) {
    auto found = offsetByName.find(address.getGlobalName());
    if (found == offsetByName.end())
      continue;
    builder.setInsertionPoint(address);
    Location loc = address.getLoc();
    Value baseAddress = builder.create<LLVM::AddressOfOp>(loc, ptrType, baseName);
    Value base = builder.create<LLVM::LoadOp>(loc, ptrType, baseAddress);
    // The offset as an i64 value: a constant GEP index holds only 29 bits
    // (LLVM::GEPArg), and weights files pass 256 MiB.
    Value offset = builder.create<LLVM::ConstantOp>(
        loc, builder.getI64Type(),
        builder.getI64IntegerAttr(kHeaderBytes + found->second));
    Value pointer = builder.create<LLVM::GEPOp>(
        loc, ptrType, builder.getI8Type(), base, ArrayRef<LLVM::GEPArg>{offset});
    address.replaceAllUsesWith(pointer);
    address.erase();
  }
  for (auto &[global, bytes] : weights)
    global.erase();
  return file;
}
