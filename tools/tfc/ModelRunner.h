//===- ModelRunner.h - a compiled model library, loaded and run -*- C++ -*-===//
//
// What `tfc run` and the drivers that measure a compiled model (tfc compile
// --calibration-data) share: a model library opened with dlopen and driven
// through the runtime API the library itself exports, as an app would.
//
//===----------------------------------------------------------------------===//

#ifndef TFC_TOOLS_TFC_MODELRUNNER_H
#define TFC_TOOLS_TFC_MODELRUNNER_H

#include "Npy.h"

#include "tfc/runtime/tfc_runtime.h"

#include "llvm/ADT/StringRef.h"

#include <dlfcn.h>
#include <string>
#include <vector>

namespace mlir::tfc::driver {

using llvm::StringRef;

/// The runtime API, taken from the loaded library.
struct RuntimeApi {
  void *handle = nullptr;
  const tfc_model_def *(*modelDef)(void) = nullptr;
  tfc_status (*create)(const tfc_model_def *, const tfc_options *, tfc_model **);
  void (*destroy)(tfc_model *);
  tfc_status (*run)(tfc_model *, const tfc_tensor *, size_t, tfc_tensor *, size_t);
  size_t (*numInputs)(const tfc_model *);
  size_t (*numOutputs)(const tfc_model *);
  const tfc_tensor_info *(*input)(const tfc_model *, size_t);
  const tfc_tensor_info *(*output)(const tfc_model *, size_t);
  void (*freeData)(void *);
  const char *(*lastError)(void);
  const tfc_profile_entry *(*profile)(const tfc_model *, size_t *);
  void (*clearProfile)(tfc_model *);
  const char *(*target)(const tfc_model *);
  // Decoding (models compiled with --decoder); null in older libraries.
  tfc_status (*prefill)(tfc_model *, const tfc_tensor *, size_t, tfc_tensor *,
                        size_t) = nullptr;
  tfc_status (*step)(tfc_model *, const tfc_tensor *, size_t, tfc_tensor *,
                     size_t) = nullptr;

  bool load(StringRef path, StringRef name, std::string &error) {
    // A name without a slash would send dlopen to the library search path
    // instead of the file the user named.
    std::string file = path.contains('/') ? path.str() : "./" + path.str();
    handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
      error = dlerror();
      return false;
    }
    auto get = [&](auto &fn, const std::string &symbol) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
          dlsym(handle, symbol.c_str()));
      if (!fn && error.empty())
        error = "'" + path.str() + "' has no symbol '" + symbol + "'";
    };
    get(modelDef, name.str() + "_model_def");
    if (!error.empty())
      error += " (is it a model library? give its name with --name)";
    get(create, "tfc_model_create");
    get(destroy, "tfc_model_destroy");
    get(run, "tfc_model_run");
    get(numInputs, "tfc_model_num_inputs");
    get(numOutputs, "tfc_model_num_outputs");
    get(input, "tfc_model_input");
    get(output, "tfc_model_output");
    get(freeData, "tfc_free");
    get(lastError, "tfc_last_error");
    get(target, "tfc_model_target");
    // Optional: a library built by an older tfc has no profile entry
    // points and still runs; only --profile needs them.
    profile = reinterpret_cast<decltype(profile)>(dlsym(handle, "tfc_model_profile"));
    clearProfile = reinterpret_cast<decltype(clearProfile)>(
        dlsym(handle, "tfc_model_clear_profile"));
    prefill = reinterpret_cast<decltype(prefill)>(dlsym(handle, "tfc_model_prefill"));
    step = reinterpret_cast<decltype(step)>(dlsym(handle, "tfc_model_step"));
    return error.empty();
  }
};

/// A model created from a loaded library, run on host tensors.
class ModelSession {
public:
  ModelSession() = default;
  ModelSession(const ModelSession &) = delete;
  ModelSession &operator=(const ModelSession &) = delete;
  ~ModelSession();

  /// Loads `library` (model `name`) and creates the model with `threads`
  /// threads (0: every core).
  bool open(llvm::StringRef library, llvm::StringRef name, int threads,
            std::string &error);
  size_t numInputs() const;
  size_t numOutputs() const;
  const tfc_tensor_info *input(size_t i) const;
  const tfc_tensor_info *output(size_t i) const;
  /// Runs the model on `inputs` (in the model's order) and sets `outputs`.
  bool run(const std::vector<HostTensor> &inputs,
           std::vector<HostTensor> &outputs, std::string &error);
  /// Whether the library has the decoding entry points (a model compiled
  /// with --decoder uses them; others refuse the calls).
  bool canDecode() const { return api.prefill && api.step; }
  /// As run, through tfc_model_prefill (`first`) or tfc_model_step.
  bool decode(bool first, const std::vector<HostTensor> &inputs,
              std::vector<HostTensor> &outputs, std::string &error);

private:
  using EntryPoint = tfc_status (*)(tfc_model *, const tfc_tensor *, size_t,
                                    tfc_tensor *, size_t);
  bool call(EntryPoint entry, const std::vector<HostTensor> &inputs,
            std::vector<HostTensor> &outputs, std::string &error);

  RuntimeApi api;
  tfc_model *model = nullptr;
};

} // namespace mlir::tfc::driver

#endif // TFC_TOOLS_TFC_MODELRUNNER_H
