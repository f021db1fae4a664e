//===- ModelRunner.cpp - a compiled model library, loaded and run ---------===//

#include "ModelRunner.h"

#include <cstring>

using namespace mlir::tfc::driver;

ModelSession::~ModelSession() {
  if (model)
    api.destroy(model);
}

bool ModelSession::open(llvm::StringRef library, llvm::StringRef name,
                        int threads, std::string &error) {
  if (!api.load(library, name, error))
    return false;
  tfc_options options;
  std::memset(&options, 0, sizeof(options));
  options.num_threads = threads;
  if (api.create(api.modelDef(), &options, &model) != TFC_OK) {
    error = api.lastError();
    model = nullptr;
    return false;
  }
  return true;
}

size_t ModelSession::numInputs() const { return api.numInputs(model); }
size_t ModelSession::numOutputs() const { return api.numOutputs(model); }
const tfc_tensor_info *ModelSession::input(size_t i) const {
  return api.input(model, i);
}
const tfc_tensor_info *ModelSession::output(size_t i) const {
  return api.output(model, i);
}

bool ModelSession::run(const std::vector<HostTensor> &inputs,
                       std::vector<HostTensor> &outputs, std::string &error) {
  return call(api.run, inputs, outputs, error);
}

bool ModelSession::decode(bool first, const std::vector<HostTensor> &inputs,
                          std::vector<HostTensor> &outputs, std::string &error) {
  if (!canDecode()) {
    error = "the library has no tfc_model_prefill and tfc_model_step";
    return false;
  }
  return call(first ? api.prefill : api.step, inputs, outputs, error);
}

bool ModelSession::call(EntryPoint entry, const std::vector<HostTensor> &inputs,
                        std::vector<HostTensor> &outputs, std::string &error) {
  size_t count = numInputs(), results = numOutputs();
  if (inputs.size() != count) {
    error = "the model takes " + std::to_string(count) + " inputs, given " +
            std::to_string(inputs.size());
    return false;
  }
  std::vector<tfc_tensor> in(count), out(results);
  for (size_t i = 0; i < count; ++i) {
    tfc_tensor &t = in[i];
    std::memset(&t, 0, sizeof(t));
    t.name = input(i)->name;
    t.dtype = (tfc_dtype)inputs[i].dtype;
    if (inputs[i].dims.size() > TFC_MAX_RANK) {
      error = std::string("input '") + t.name + "' has too high a rank";
      return false;
    }
    t.rank = inputs[i].dims.size();
    std::copy(inputs[i].dims.begin(), inputs[i].dims.end(), t.dims);
    t.data = const_cast<uint8_t *>(inputs[i].bytes.data());
    t.capacity = inputs[i].bytes.size();
  }
  for (tfc_tensor &t : out)
    std::memset(&t, 0, sizeof(t));
  if (entry(model, in.data(), count, out.data(), results) != TFC_OK) {
    error = api.lastError();
    return false;
  }
  outputs.assign(results, HostTensor());
  for (size_t i = 0; i < results; ++i) {
    HostTensor &tensor = outputs[i];
    tensor.dtype = out[i].dtype;
    tensor.dims.assign(out[i].dims, out[i].dims + out[i].rank);
    std::optional<uint64_t> bytes = byteSize(tensor.dims, tensor.dtype);
    const uint8_t *data = static_cast<const uint8_t *>(out[i].data);
    if (bytes && data)
      tensor.bytes.assign(data, data + *bytes);
    api.freeData(out[i].data);
  }
  return true;
}
