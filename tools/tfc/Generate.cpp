//===- Generate.cpp - tfc generate: greedy decoding with a compiled model -===//
//
// `tfc generate libmodel.so --prompt-ids ids.npy --max-new-tokens N` runs a
// decoder model on a prompt, then on each token it chose, greedily (the
// highest logit of the last position), and prints the tokens and the
// tokens per second. Two kinds of decoder:
//
//   - exported with past keys and values (Hugging Face's past_key_values,
//     torch code that returns its presents): inputs named past* come back
//     from the outputs named present* alike (past_keys <- present_keys,
//     past_key_values.0.key <- present.0.key). The prompt runs with an
//     empty past (its length dim 0), each step with the last presents; an
//     attention_mask input gets ones over the past and the new tokens, a
//     position_ids input their positions;
//   - compiled with --decoder (each causal attention's KV cache, or causal
//     linear attention's state, kept in the instance; a past-key-values
//     model so compiled has lost its past inputs and presents):
//     tfc_model_prefill on the prompt, tfc_model_step on each token.
//
// The prompt is [batch, length] int64, every sequence the same length.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"
#include "ModelRunner.h"
#include "Npy.h"

#include "tfc/Target/ModelSignature.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstring>
#include <optional>

using namespace mlir;
using namespace mlir::tfc::driver;
namespace cl = llvm::cl;

cl::SubCommand tfc::driver::generateCommand(
    "generate",
    "Greedy-decode token ids with a decoder model library (built by tfc\n"
    "  compile): a model exported with past keys and values, or one compiled\n"
    "  with --decoder. Prints the new tokens and the tokens per second.\n"
    "  Example: tfc generate libgpt2.so --prompt-ids prompt.npy "
    "--max-new-tokens 32\n");

cl::OptionCategory tfc::driver::generateCategory("Generate options");

static cl::opt<std::string> libraryPath(cl::Positional, cl::desc("<libmodel.so>"),
                                        cl::sub(tfc::driver::generateCommand),
                                        cl::cat(tfc::driver::generateCategory));

static cl::opt<std::string> promptPath(
    "prompt-ids", cl::desc("The prompt: int64 token ids, [batch, length]"),
    cl::value_desc("ids.npy"), cl::sub(tfc::driver::generateCommand),
    cl::cat(tfc::driver::generateCategory));

static cl::opt<unsigned> maxNewTokens(
    "max-new-tokens", cl::desc("Tokens to generate after the prompt (default 16)"),
    cl::init(16), cl::sub(tfc::driver::generateCommand),
    cl::cat(tfc::driver::generateCategory));

static cl::opt<int> generateThreads(
    "threads", cl::desc("Threads of the model (default: every core)"),
    cl::init(0), cl::sub(tfc::driver::generateCommand),
    cl::cat(tfc::driver::generateCategory));

static cl::opt<std::string> generateSymbol(
    "name",
    cl::desc("The model's symbol prefix in the library (default: the "
             "library's name less lib and .so)"),
    cl::sub(tfc::driver::generateCommand), cl::cat(tfc::driver::generateCategory));

static cl::opt<std::string> tokensPath(
    "o", cl::desc("Write the new tokens as int64 [batch, N] .npy"),
    cl::value_desc("tokens.npy"), cl::sub(tfc::driver::generateCommand),
    cl::cat(tfc::driver::generateCategory));

namespace {

using Clock = std::chrono::steady_clock;

double millisecondsSince(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

/// ONNX's dtype codes, as tfc_dtype has them.
constexpr int kFloat = TFC_DTYPE_FLOAT32, kInt64 = TFC_DTYPE_INT64;

HostTensor makeTensor(int dtype, llvm::ArrayRef<int64_t> dims) {
  HostTensor tensor;
  tensor.dtype = dtype;
  tensor.dims.assign(dims.begin(), dims.end());
  tensor.bytes.assign(*byteSize(tensor.dims, dtype), 0);
  return tensor;
}

HostTensor int64Tensor(llvm::ArrayRef<int64_t> dims, llvm::ArrayRef<int64_t> values) {
  HostTensor tensor = makeTensor(kInt64, dims);
  std::memcpy(tensor.bytes.data(), values.data(), values.size() * sizeof(int64_t));
  return tensor;
}

/// The name of the output a past input comes back from, or "".
std::string presentNameOf(StringRef past) {
  if (past.consume_front("past_key_values"))
    return ("present" + past).str();
  size_t at = past.find("past");
  if (at == StringRef::npos)
    return "";
  return (past.take_front(at) + "present" + past.drop_front(at + 4)).str();
}

/// How each model input is fed.
struct InputRoles {
  int ids = -1, mask = -1, positions = -1;
  // Per past input: the output it comes back from, and its length dim.
  std::vector<std::pair<int, int>> pasts; // (input, output)
  std::vector<int> pastLengthDim;          // per pasts entry
};

/// Sorts the model's inputs into roles, or says why it cannot decode.
std::optional<InputRoles> findRoles(const ModelSession &model, std::string &error) {
  InputRoles roles;
  auto outputIndex = [&](StringRef name) {
    for (size_t o = 0; o < model.numOutputs(); ++o)
      if (name == model.output(o)->name)
        return static_cast<int>(o);
    return -1;
  };
  for (size_t i = 0; i < model.numInputs(); ++i) {
    const tfc_tensor_info *info = model.input(i);
    StringRef name = info->name;
    if (name == "attention_mask") {
      roles.mask = i;
      continue;
    }
    if (name == "position_ids") {
      roles.positions = i;
      continue;
    }
    std::string present = presentNameOf(name);
    if (!present.empty()) {
      int output = outputIndex(present);
      if (output < 0) {
        error = "input '" + name.str() + "' looks like a past, but the model has "
                "no output '" + present + "' to feed it back from";
        return std::nullopt;
      }
      // Its length dim: the run-time dim that is not the batch's.
      int lengthDim = -1;
      for (int d = 0; d < info->rank; ++d) {
        StringRef dimName = info->dim_names ? info->dim_names[d] : "";
        if (info->dims[d] >= 0 || dimName.contains("batch"))
          continue;
        if (lengthDim >= 0) {
          error = "past '" + name.str() + "' has more than one run-time dim "
                  "besides the batch: which is its length?";
          return std::nullopt;
        }
        lengthDim = d;
      }
      if (lengthDim < 0) {
        error = "past '" + name.str() + "' has no run-time length dim";
        return std::nullopt;
      }
      roles.pasts.push_back({static_cast<int>(i), output});
      roles.pastLengthDim.push_back(lengthDim);
      continue;
    }
    if (info->dtype == TFC_DTYPE_INT64 && info->rank == 2 && roles.ids < 0) {
      roles.ids = i;
      continue;
    }
    error = "input '" + name.str() + "' is neither the token ids, a past "
            "(past*, fed back from present*), attention_mask nor position_ids";
    return std::nullopt;
  }
  if (roles.ids < 0)
    error = "the model has no [batch, length] int64 input for the token ids";
  return roles.ids < 0 ? std::nullopt : std::optional<InputRoles>(roles);
}

/// The greedy next token of each sequence: the largest logit of its last
/// position ([batch, length, vocab] float logits).
bool nextTokens(const HostTensor &logits, std::vector<int64_t> &tokens,
                std::string &error) {
  if (logits.dtype != kFloat || logits.dims.size() != 3 || logits.dims[2] < 1) {
    error = "the logits are not float [batch, length, vocab]";
    return false;
  }
  int64_t batch = logits.dims[0], length = logits.dims[1], vocab = logits.dims[2];
  const float *data = reinterpret_cast<const float *>(logits.bytes.data());
  tokens.assign(batch, 0);
  for (int64_t b = 0; b < batch; ++b) {
    const float *row = data + (b * length + length - 1) * vocab;
    int64_t best = 0;
    for (int64_t v = 1; v < vocab; ++v)
      if (row[v] > row[best])
        best = v;
    tokens[b] = best;
  }
  return true;
}

} // namespace

int tfc::driver::runGenerate(MLIRContext &) {
  if (libraryPath.empty() || promptPath.empty()) {
    llvm::errs() << "tfc: error: usage: tfc generate <libmodel.so> --prompt-ids "
                    "ids.npy [--max-new-tokens N]\n";
    return 1;
  }
  if (!StringRef(libraryPath).ends_with(".so")) {
    llvm::errs() << "tfc: error: '" << libraryPath
                 << "' is not a model library: build one with tfc compile "
                    "model.onnx -o out/model (add --quantize=int4 for 4-bit "
                    "weights)\n";
    return 1;
  }
  if (maxNewTokens == 0) {
    llvm::errs() << "tfc: error: --max-new-tokens must be at least 1\n";
    return 1;
  }
  HostTensor prompt;
  std::string error;
  if (!readNpy(promptPath, prompt, error)) {
    llvm::errs() << "tfc: error: " << promptPath << ": " << error << "\n";
    return 1;
  }
  if (prompt.dtype != kInt64 || prompt.dims.size() != 2 || prompt.dims[0] < 1 ||
      prompt.dims[1] < 1) {
    llvm::errs() << "tfc: error: " << promptPath
                 << ": the prompt must be int64 [batch, length], not empty\n";
    return 1;
  }
  const int64_t batch = prompt.dims[0], promptLength = prompt.dims[1];

  std::string symbol = generateSymbol;
  if (symbol.empty()) {
    StringRef stem = llvm::sys::path::stem(libraryPath);
    stem.consume_front("lib");
    symbol = toCIdentifier(stem);
  }
  ModelSession model;
  if (!model.open(libraryPath, symbol, generateThreads, error)) {
    llvm::errs() << "tfc: error: cannot load '" << libraryPath << "': " << error
                 << "\n";
    return 1;
  }
  std::optional<InputRoles> roles = findRoles(model, error);
  if (!roles) {
    llvm::errs() << "tfc: error: " << libraryPath << ": " << error << "\n";
    return 1;
  }
  int logitsOutput = -1;
  for (size_t o = 0; o < model.numOutputs(); ++o)
    if (StringRef(model.output(o)->name) == "logits")
      logitsOutput = o;
  if (logitsOutput < 0 && model.numOutputs() > 0 &&
      model.output(0)->dtype == TFC_DTYPE_FLOAT32)
    logitsOutput = 0;
  if (logitsOutput < 0) {
    llvm::errs() << "tfc: error: " << libraryPath
                 << ": no 'logits' output (nor a float first output)\n";
    return 1;
  }
  const bool statefulDecoder = roles->pasts.empty();
  // A --decoder model names its inputs' sequence dim.
  bool compiledAsDecoder = false;
  for (size_t i = 0; i < model.numInputs(); ++i)
    compiledAsDecoder |= model.input(i)->sequence_dim >= 0;
  if (statefulDecoder && !(compiledAsDecoder && model.canDecode())) {
    llvm::errs() << "tfc: error: " << libraryPath
                 << ": the model neither takes past keys and values nor was "
                    "compiled with --decoder\n";
    return 1;
  }

  // One call: the inputs of the tokens `ids` ([batch, length]) after
  // `pastLength` positions, and the outputs.
  std::vector<HostTensor> presents(roles->pasts.size());
  std::vector<HostTensor> outputs;
  auto call = [&](const HostTensor &ids, int64_t pastLength, bool first) {
    std::vector<HostTensor> inputs(model.numInputs());
    int64_t length = ids.dims[1];
    inputs[roles->ids] = ids;
    if (roles->mask >= 0)
      inputs[roles->mask] = int64Tensor(
          {batch, pastLength + length},
          std::vector<int64_t>(batch * (pastLength + length), 1));
    if (roles->positions >= 0) {
      std::vector<int64_t> positions;
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t p = 0; p < length; ++p)
          positions.push_back(pastLength + p);
      inputs[roles->positions] = int64Tensor({batch, length}, positions);
    }
    for (size_t k = 0; k < roles->pasts.size(); ++k) {
      int input = roles->pasts[k].first;
      if (first) {
        // An empty past: the static dims as declared, the batch's, length 0.
        const tfc_tensor_info *info = model.input(input);
        llvm::SmallVector<int64_t> dims(info->dims, info->dims + info->rank);
        for (int d = 0; d < info->rank; ++d)
          if (dims[d] < 0)
            dims[d] = d == roles->pastLengthDim[k] ? 0 : batch;
        inputs[input] = makeTensor(model.input(input)->dtype, dims);
      } else {
        inputs[input] = std::move(presents[k]);
      }
    }
    bool ok = statefulDecoder ? model.decode(first, inputs, outputs, error)
                              : model.run(inputs, outputs, error);
    if (!ok)
      return false;
    for (size_t k = 0; k < roles->pasts.size(); ++k)
      presents[k] = std::move(outputs[roles->pasts[k].second]);
    return true;
  };

  std::vector<int64_t> generated; // [batch, N], row by row as printed
  std::vector<std::vector<int64_t>> steps;
  std::vector<int64_t> tokens;
  Clock::time_point start = Clock::now();
  if (!call(prompt, 0, /*first=*/true) ||
      !nextTokens(outputs[logitsOutput], tokens, error)) {
    llvm::errs() << "tfc: error: the prompt's run failed: " << error << "\n";
    return 1;
  }
  double prefillMs = millisecondsSince(start);
  steps.push_back(tokens);
  Clock::time_point decodeStart = Clock::now();
  for (unsigned n = 1; n < maxNewTokens; ++n) {
    HostTensor ids = int64Tensor({batch, 1}, tokens);
    if (!call(ids, promptLength + n - 1, /*first=*/false) ||
        !nextTokens(outputs[logitsOutput], tokens, error)) {
      llvm::errs() << "tfc: error: step " << n << " failed: " << error << "\n";
      return 1;
    }
    steps.push_back(tokens);
  }
  double decodeMs = millisecondsSince(decodeStart);

  for (int64_t b = 0; b < batch; ++b) {
    llvm::outs() << "sequence " << b << ":";
    for (const std::vector<int64_t> &step : steps) {
      llvm::outs() << " " << step[b];
      generated.push_back(step[b]);
    }
    llvm::outs() << "\n";
  }
  llvm::outs() << llvm::format("prompt: %lld x %lld tokens in %.2f ms\n",
                               (long long)batch, (long long)promptLength, prefillMs);
  if (maxNewTokens > 1) {
    unsigned decoded = maxNewTokens - 1;
    llvm::outs() << llvm::format(
        "decode: %u steps of %lld tokens in %.2f ms: %.2f ms per step, %.1f "
        "tokens/s\n",
        decoded, (long long)batch, decodeMs, decodeMs / decoded,
        1000.0 * decoded * batch / decodeMs);
  }
  if (!tokensPath.empty()) {
    HostTensor out = int64Tensor({batch, static_cast<int64_t>(steps.size())}, generated);
    if (!writeNpy(tokensPath, out, error)) {
      llvm::errs() << "tfc: error: " << tokensPath << ": " << error << "\n";
      return 1;
    }
  }
  return 0;
}
