/*===- model.c - model instances: create, validate inputs, run -----------===*
 *
 * Everything an app passes in is checked against the model's signature
 * before generated code sees it: the generated code trusts its inputs'
 * dtypes, ranks and static dims, and checks the rest itself (reporting
 * through tfc_rt_check_failed, which ends the run early).
 *
 *===----------------------------------------------------------------------===*/

#define _GNU_SOURCE
#include "runtime_internal.h"

#include <dlfcn.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static _Thread_local tfc_run *current_run;

tfc_run *tfc_current_run(void) { return current_run; }
void tfc_set_current_run(tfc_run *run) { current_run = run; }

void tfc_rt_check_failed(const char *message) {
  tfc_run *run = current_run;
  if (!run) {
    fprintf(stderr, "tfc runtime: %s\n", message);
    abort();
  }
  /* A check in a parallel loop's body must not jump across threads, or out
   * of the loop while other threads still run it. */
  tfc_escape_parallel_body(message);
  snprintf(run->message, sizeof(run->message), "%s", message);
  longjmp(run->on_check_failed, 1);
}

void tfc_rt_check_failed_values(const char *message, int64_t lhs, int64_t rhs) {
  char text[sizeof(((tfc_run *)0)->message)];
  snprintf(text, sizeof(text), "%s (%lld vs %lld)", message, (long long)lhs,
           (long long)rhs);
  tfc_rt_check_failed(text);
}

void tfc_options_init(tfc_options *options) {
  if (!options)
    return;
  memset(options, 0, sizeof(*options));
}

/* A weights file is mapped once per model definition, however many
 * instances use it: the generated code reads it through one pointer. */
typedef struct tfc_weights_mapping {
  const tfc_model_def *def;
  void *base;
  size_t size;
  int users;
  struct tfc_weights_mapping *next;
} tfc_weights_mapping;

static pthread_mutex_t weights_lock = PTHREAD_MUTEX_INITIALIZER;
static tfc_weights_mapping *weights_mappings;

/* The weights file's path: the one given, else the recorded file name in
 * the directory of the library (or executable) holding the model, else in
 * the working directory. */
static void resolve_weights_path(const tfc_model_def *def, const char *given,
                                 char *path, size_t size) {
  if (given) {
    snprintf(path, size, "%s", given);
    return;
  }
  Dl_info info;
  if (dladdr((const void *)def, &info) && info.dli_fname) {
    const char *slash = strrchr(info.dli_fname, '/');
    if (slash) {
      snprintf(path, size, "%.*s/%s", (int)(slash - info.dli_fname),
               info.dli_fname, def->weights_file);
      if (access(path, R_OK) == 0)
        return;
    }
  }
  snprintf(path, size, "%s", def->weights_file);
}

static tfc_status map_file(const tfc_model_def *def, const char *path,
                           void **base) {
  /* O_NONBLOCK: a FIFO in the weights file's place must not block. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return tfc_fail(TFC_ERROR_IO,
                    "cannot open the weights file '%s' of model '%s': %s (it is "
                    "looked for next to the library, then in the working "
                    "directory; or pass its path in tfc_options.weights_path)",
                    path, def->name, strerror(errno));
  struct stat info;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    close(fd);
    return tfc_fail(TFC_ERROR_IO, "the weights file '%s' of model '%s' is not a "
                    "regular file", path, def->name);
  }
  if ((uint64_t)info.st_size != def->weights_size) {
    close(fd);
    return tfc_fail(TFC_ERROR_IO,
                    "the weights file '%s' has %lld bytes; model '%s' needs "
                    "%llu: it belongs to another compile",
                    path, (long long)info.st_size, def->name,
                    (unsigned long long)def->weights_size);
  }
  void *mapping = mmap(NULL, def->weights_size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (mapping == MAP_FAILED)
    return tfc_fail(TFC_ERROR_IO, "cannot map the weights file '%s': %s", path,
                    strerror(errno));
  /* The header: magic, version, the id of the compile, the payload size. */
  const unsigned char *header = mapping;
  uint64_t id;
  memcpy(&id, header + 16, sizeof(id));
  int has_magic = memcmp(header, "TFCWGHTS", 8) == 0;
  if (!has_magic || id != def->weights_id) {
    munmap(mapping, def->weights_size);
    return tfc_fail(TFC_ERROR_IO,
                    "'%s' is not the weights file of this compile of model '%s' "
                    "(%s)",
                    path, def->name,
                    has_magic ? "its id differs" : "no tfc weights header");
  }
  *base = mapping;
  return TFC_OK;
}

tfc_status tfc_map_weights(tfc_model *model, const char *given_path) {
  const tfc_model_def *def = model->def;
  pthread_mutex_lock(&weights_lock);
  tfc_weights_mapping *entry = weights_mappings;
  while (entry && entry->def != def)
    entry = entry->next;
  if (entry) {
    ++entry->users;
    pthread_mutex_unlock(&weights_lock);
    return TFC_OK;
  }
  char path[4096];
  resolve_weights_path(def, given_path, path, sizeof(path));
  void *base = NULL;
  tfc_status status = map_file(def, path, &base);
  if (status == TFC_OK) {
    entry = calloc(1, sizeof(*entry));
    if (!entry) {
      munmap(base, def->weights_size);
      status = tfc_fail(TFC_ERROR_OUT_OF_MEMORY, "out of memory");
    } else {
      entry->def = def;
      entry->base = base;
      entry->size = def->weights_size;
      entry->users = 1;
      entry->next = weights_mappings;
      weights_mappings = entry;
      *def->weights_base = base;
    }
  }
  pthread_mutex_unlock(&weights_lock);
  return status;
}

void tfc_unmap_weights(tfc_model *model) {
  if (!model->def->weights_file)
    return;
  pthread_mutex_lock(&weights_lock);
  tfc_weights_mapping **link = &weights_mappings;
  while (*link && (*link)->def != model->def)
    link = &(*link)->next;
  tfc_weights_mapping *entry = *link;
  if (entry && --entry->users == 0) {
    *link = entry->next;
    *model->def->weights_base = NULL;
    munmap(entry->base, entry->size);
    free(entry);
  }
  pthread_mutex_unlock(&weights_lock);
}

/* What of the instruction set `isa` (TFC_RT_ISA_*) this CPU lacks, as
 * words for a message, or NULL. Asked once, at create: the kernel calls
 * then trust the model's choice. (__builtin_cpu_supports also checks that
 * the OS saves the registers.) For AMX it also asks the OS for the tiles. */
#if defined(__x86_64__)
enum { TFC_ARCH_REQ_XCOMP_PERM = 0x1023, TFC_XFEATURE_XTILEDATA = 18 };
#endif
static const char *tfc_missing_isa(uint32_t isa_and_features) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  uint32_t isa = isa_and_features & 0xff, features = isa_and_features >> 8;
  if (isa == TFC_RT_ISA_AVX512 && (features & TFC_RT_FEATURE_VNNI) &&
      !__builtin_cpu_supports("avx512vnni"))
    return "AVX-512 VNNI";
  if (isa == TFC_RT_ISA_AVX512 && (features & TFC_RT_FEATURE_BF16) &&
      !__builtin_cpu_supports("avx512bf16"))
    return "AVX512-BF16";
  if (isa == TFC_RT_ISA_AVX512 && (features & TFC_RT_FEATURE_AMX)) {
    if (!(__builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-bf16") &&
          __builtin_cpu_supports("amx-int8")))
      return "AMX (TILE, BF16, INT8)";
    /* Linux hands out the tiles' 8 KB of state only to processes that ask
     * (once per process; asking again is harmless). */
    if (syscall(SYS_arch_prctl, TFC_ARCH_REQ_XCOMP_PERM, TFC_XFEATURE_XTILEDATA) != 0)
      return "AMX tiles enabled by the OS (arch_prctl ARCH_REQ_XCOMP_PERM "
             "was refused)";
  }
  if (isa == TFC_RT_ISA_AVX2 && (features & TFC_RT_FEATURE_VNNI) &&
      !__builtin_cpu_supports("avxvnni"))
    return "AVX-VNNI";
  if (isa == TFC_RT_ISA_AVX512 &&
      !(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("fma")))
    return "AVX-512 (F, BW, DQ, VL) and FMA";
  if (isa == TFC_RT_ISA_AVX2 &&
      !(__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")))
    return "AVX2 and FMA";
#else
  (void)isa_and_features;
#endif
  return NULL;
}

static void free_sequence_states(tfc_model *model) {
  for (uint32_t i = 0; model->sequence_states && i < model->def->num_sequence_states;
       ++i) {
    free(model->sequence_states[i].carry);
    free(model->sequence_states[i].keys);
    free(model->sequence_states[i].values);
  }
  free(model->sequence_states);
  model->sequence_states = NULL;
}

tfc_status tfc_model_create(const tfc_model_def *def,
                            const tfc_options *options, tfc_model **model) {
  tfc_clear_error();
  if (!def || !model)
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                    "tfc_model_create: the definition and the result pointer "
                    "must not be NULL");
  *model = NULL;
  if (def->abi_version != TFC_ABI_VERSION)
    return tfc_fail(TFC_ERROR_ABI_MISMATCH,
                    "model '%s' was compiled for runtime ABI %u; this runtime "
                    "is ABI %u: recompile it with this tfc",
                    def->name ? def->name : "?", def->abi_version,
                    TFC_ABI_VERSION);
  const char *missing = tfc_missing_isa(def->isa);
  if (missing)
    return tfc_fail(TFC_ERROR_UNSUPPORTED_CPU,
                    "model '%s' was compiled for %s, which this CPU does not "
                    "have (the model: %s); compile it for this CPU with tfc "
                    "compile --target-cpu",
                    def->name ? def->name : "?", missing,
                    def->target ? def->target : "?");
  tfc_options defaults;
  tfc_options_init(&defaults);
  if (!options)
    options = &defaults;
  if (options->num_threads < 0)
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                    "num_threads is %d; use 0 for every core or a positive count",
                    options->num_threads);

  tfc_model *instance = calloc(1, sizeof(*instance));
  if (!instance)
    return tfc_fail(TFC_ERROR_OUT_OF_MEMORY, "out of memory creating model '%s'",
                    def->name);
  instance->def = def;
  instance->sequence_length = -1;
  if (def->num_sequence_states) {
    instance->sequence_states =
        calloc(def->num_sequence_states, sizeof(tfc_sequence_state));
    if (!instance->sequence_states) {
      free(instance);
      return tfc_fail(TFC_ERROR_OUT_OF_MEMORY,
                      "out of memory creating model '%s'", def->name);
    }
  }
  tfc_allocator_init(&instance->allocator);
  if (def->weights_file) {
    tfc_status status = tfc_map_weights(instance, options->weights_path);
    if (status != TFC_OK) {
      tfc_allocator_destroy(&instance->allocator);
      free_sequence_states(instance);
      free(instance);
      return status;
    }
  }
  if (def->gpu) {
    if (options->gpu_device < 0) {
      free_sequence_states(instance);
      free(instance);
      return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                      "gpu_device is %d; GPUs count from 0",
                      options->gpu_device);
    }
    tfc_status status = tfc_gpu_create(instance, options->gpu_device);
    if (status != TFC_OK) {
      tfc_gpu_destroy(instance);
      tfc_allocator_destroy(&instance->allocator);
      free_sequence_states(instance);
      free(instance);
      return status;
    }
  }
  /* A GPU model's host code only launches kernels: no workers. */
  instance->pool = tfc_thread_pool_create(def->gpu ? 1 : options->num_threads);
  if (!instance->pool) {
    tfc_gpu_destroy(instance);
    tfc_unmap_weights(instance);
    tfc_allocator_destroy(&instance->allocator);
    free_sequence_states(instance);
    free(instance);
    return tfc_fail(TFC_ERROR_OUT_OF_MEMORY, "cannot start the thread pool");
  }
  *model = instance;
  return TFC_OK;
}

void tfc_model_destroy(tfc_model *model) {
  if (!model)
    return;
  free_sequence_states(model);
  tfc_thread_pool_destroy(model->pool);
  tfc_gpu_destroy(model);
  free(model->profile.entries);
  tfc_unmap_weights(model);
  tfc_allocator_destroy(&model->allocator);
  free(model);
}

const char *tfc_model_name(const tfc_model *model) {
  return model ? model->def->name : NULL;
}
const char *tfc_model_target(const tfc_model *model) {
  return model && model->def->target ? model->def->target : "";
}
size_t tfc_model_num_inputs(const tfc_model *model) {
  return model ? model->def->num_inputs : 0;
}
size_t tfc_model_num_outputs(const tfc_model *model) {
  return model ? model->def->num_outputs : 0;
}
const tfc_tensor_info *tfc_model_input(const tfc_model *model, size_t index) {
  if (!model || index >= model->def->num_inputs)
    return NULL;
  return &model->def->inputs[index];
}
const tfc_tensor_info *tfc_model_output(const tfc_model *model, size_t index) {
  if (!model || index >= model->def->num_outputs)
    return NULL;
  return &model->def->outputs[index];
}

void tfc_free(void *data) { free(data); }

/* Which declared tensor `tensor` binds to: by name, else by position. */
static tfc_status bind(const tfc_tensor_info *declared, uint32_t count,
                       const tfc_tensor *tensor, size_t position,
                       const char *kind, uint32_t *index) {
  if (!tensor->name) {
    if (position >= count)
      return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                      "%s %zu has no name and the model has only %u %ss", kind,
                      position, count, kind);
    *index = (uint32_t)position;
    return TFC_OK;
  }
  for (uint32_t i = 0; i < count; ++i) {
    if (strcmp(declared[i].name, tensor->name) == 0) {
      *index = i;
      return TFC_OK;
    }
  }
  char names[256] = "";
  for (uint32_t i = 0; i < count; ++i) {
    size_t used = strlen(names);
    snprintf(names + used, sizeof(names) - used, "%s'%s'", i ? ", " : "",
             declared[i].name);
  }
  return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                  "the model has no %s named '%s' (its %ss: %s)", kind,
                  tensor->name, kind, names);
}

static void format_dims(char *out, size_t size, int32_t rank,
                        const int64_t *dims) {
  size_t used = 0;
  used += snprintf(out + used, size - used, "[");
  for (int32_t i = 0; i < rank && used < size; ++i) {
    if (dims[i] < 0)
      used += snprintf(out + used, size - used, "%s?", i ? ", " : "");
    else
      used += snprintf(out + used, size - used, "%s%lld", i ? ", " : "",
                       (long long)dims[i]);
  }
  if (used < size)
    snprintf(out + used, size - used, "]");
}

static tfc_status check_input(const tfc_model_def *def, uint32_t index,
                              const tfc_tensor *tensor,
                              const tfc_tensor **bound) {
  const tfc_tensor_info *info = &def->inputs[index];
  if (tensor->dtype != info->dtype)
    return tfc_fail(TFC_ERROR_DTYPE, "input '%s' must be %s, got %s",
                    info->name, tfc_dtype_name(info->dtype),
                    tfc_dtype_name(tensor->dtype));
  if (tensor->rank != info->rank) {
    char expected[128];
    format_dims(expected, sizeof(expected), info->rank, info->dims);
    return tfc_fail(TFC_ERROR_SHAPE, "input '%s' must have rank %d %s, got rank %d",
                    info->name, info->rank, expected, tensor->rank);
  }
  for (int32_t d = 0; d < info->rank; ++d) {
    int64_t dim = tensor->dims[d];
    if (dim < 0)
      return tfc_fail(TFC_ERROR_SHAPE, "input '%s' has a negative dim %d (%lld)",
                      info->name, d, (long long)dim);
    if (info->dims[d] >= 0 && dim != info->dims[d]) {
      char expected[128], got[128];
      format_dims(expected, sizeof(expected), info->rank, info->dims);
      format_dims(got, sizeof(got), tensor->rank, tensor->dims);
      return tfc_fail(TFC_ERROR_SHAPE,
                      "input '%s' must have shape %s, got %s (dim %d)",
                      info->name, expected, got, d);
    }
    /* A named dim must agree with every other input that names it. */
    const char *dim_name = info->dim_names ? info->dim_names[d] : NULL;
    if (info->dims[d] >= 0 || !dim_name || !dim_name[0])
      continue;
    for (uint32_t other = 0; other < index; ++other) {
      const tfc_tensor_info *other_info = &def->inputs[other];
      if (!bound[other] || !other_info->dim_names)
        continue;
      for (int32_t e = 0; e < other_info->rank; ++e) {
        if (strcmp(other_info->dim_names[e], dim_name) == 0 &&
            bound[other]->dims[e] != dim)
          return tfc_fail(TFC_ERROR_SHAPE,
                          "dim '%s' is %lld in input '%s' but %lld in input "
                          "'%s'",
                          dim_name, (long long)bound[other]->dims[e],
                          other_info->name, (long long)dim, info->name);
      }
    }
  }
  /* The generated code reads every element the dims describe: they must
   * fit the address space and the caller's buffer. */
  size_t bytes;
  if (!tfc_tensor_bytes(tensor->rank, tensor->dims, info->dtype, &bytes)) {
    char got[128];
    format_dims(got, sizeof(got), tensor->rank, tensor->dims);
    return tfc_fail(TFC_ERROR_SHAPE,
                    "input '%s' has shape %s, whose size in bytes overflows",
                    info->name, got);
  }
  if (tensor->memory != TFC_MEMORY_HOST && tensor->memory != TFC_MEMORY_DEVICE)
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                    "input '%s' has memory %d (TFC_MEMORY_HOST is 0, "
                    "TFC_MEMORY_DEVICE 1)",
                    info->name, (int)tensor->memory);
  if (tensor->memory == TFC_MEMORY_DEVICE && !def->gpu)
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                    "input '%s' is in GPU memory, but model '%s' runs on the "
                    "CPU",
                    info->name, def->name);
  if (bytes && !tensor->data)
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT, "input '%s' has no data",
                    info->name);
  if (tensor->capacity < bytes) {
    char got[128];
    format_dims(got, sizeof(got), tensor->rank, tensor->dims);
    return tfc_fail(TFC_ERROR_SHAPE,
                    "input '%s' of shape %s needs %zu bytes; its buffer has "
                    "%zu (tfc_tensor.capacity)",
                    info->name, got, bytes, tensor->capacity);
  }
  return TFC_OK;
}

/* The input dims of a run, hashed (FNV-1a): the key of its memory plan. */
static uint64_t dims_signature(const tfc_model_def *def,
                               const tfc_tensor *const *bound) {
  uint64_t hash = 1469598103934665603ull;
  for (uint32_t i = 0; i < def->num_inputs; ++i)
    for (int32_t d = 0; d < bound[i]->rank; ++d) {
      hash ^= (uint64_t)bound[i]->dims[d];
      hash *= 1099511628211ull;
    }
  return hash;
}

/* tfc_model_run, prefill and step: `sequence` says what the run does with
 * the instance's sequence; `call` names the function for errors. */
static tfc_status run_model(tfc_model *model, tfc_sequence_use sequence,
                            const char *call, const tfc_tensor *inputs,
                            size_t num_inputs, tfc_tensor *outputs,
                            size_t num_outputs) {
  tfc_clear_error();
  if (!model)
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT, "%s: model is NULL", call);
  const tfc_model_def *def = model->def;
  if (sequence != TFC_SEQUENCE_NONE && !def->num_sequence_states)
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                    "%s: model '%s' was not compiled with --decoder", call,
                    def->name);
  if (sequence == TFC_SEQUENCE_CONTINUE && model->sequence_length < 0)
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                    "tfc_model_step: model '%s' has no sequence to continue: "
                    "start one with tfc_model_prefill (a failed prefill or "
                    "step ends it)",
                    def->name);
  if (num_inputs != def->num_inputs)
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                    "model '%s' takes %u inputs, got %zu", def->name,
                    def->num_inputs, num_inputs);
  if ((num_inputs && !inputs) || (num_outputs && !outputs))
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                    "%s: the input or output array is NULL", call);
  if (num_outputs > def->num_outputs)
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                    "model '%s' has %u outputs, %zu were requested", def->name,
                    def->num_outputs, num_outputs);

  /* Bind every input once; then check them in declaration order. */
  const tfc_tensor *bound[64] = {0};
  if (def->num_inputs > 64 || def->num_outputs > 64)
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                    "models with more than 64 inputs or outputs are not supported");
  for (size_t i = 0; i < num_inputs; ++i) {
    uint32_t index;
    tfc_status status = bind(def->inputs, def->num_inputs, &inputs[i], i,
                             "input", &index);
    if (status != TFC_OK)
      return status;
    if (bound[index])
      return tfc_fail(TFC_ERROR_INVALID_ARGUMENT, "input '%s' is given twice",
                      def->inputs[index].name);
    bound[index] = &inputs[i];
  }
  for (uint32_t i = 0; i < def->num_inputs; ++i) {
    tfc_status status = check_input(def, i, bound[i], bound);
    if (status != TFC_OK)
      return status;
  }
  tfc_tensor *wanted[64] = {0};
  for (size_t i = 0; i < num_outputs; ++i) {
    uint32_t index;
    tfc_status status = bind(def->outputs, def->num_outputs, &outputs[i], i,
                             "output", &index);
    if (status != TFC_OK)
      return status;
    if (wanted[index])
      return tfc_fail(TFC_ERROR_INVALID_ARGUMENT, "output '%s' is requested twice",
                      def->outputs[index].name);
    if (outputs[i].memory == TFC_MEMORY_DEVICE &&
        (!def->gpu || !outputs[i].data))
      return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                      def->gpu ? "output '%s' is wanted in GPU memory: give "
                                 "its buffer (the runtime allocates host "
                                 "buffers only)"
                               : "output '%s' is wanted in GPU memory, but "
                                 "model '%s' runs on the CPU",
                      def->outputs[index].name, def->name);
    if (outputs[i].memory != TFC_MEMORY_HOST &&
        outputs[i].memory != TFC_MEMORY_DEVICE)
      return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                      "output '%s' has memory %d (TFC_MEMORY_HOST is 0, "
                      "TFC_MEMORY_DEVICE 1)",
                      def->outputs[index].name, (int)outputs[i].memory);
    wanted[index] = &outputs[i];
  }

  /* Claimed atomically: two threads calling at once must not both see the
   * instance idle. */
  if (atomic_exchange(&model->running, 1))
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                    "model '%s' is already running: an instance runs one call "
                    "at a time; create one instance per thread",
                    def->name);

  tfc_abi_input abi_inputs[64];
  for (uint32_t i = 0; i < def->num_inputs; ++i) {
    abi_inputs[i].data = bound[i]->data;
    abi_inputs[i].dims = bound[i]->dims;
  }
  int64_t output_dims[64][TFC_MAX_RANK];
  tfc_abi_output abi_outputs[64];
  for (uint32_t i = 0; i < def->num_outputs; ++i) {
    abi_outputs[i].allocated = NULL;
    abi_outputs[i].data = NULL;
    abi_outputs[i].dims = output_dims[i];
  }

  /* The positions this call adds to the sequence: the sequence dim of an
   * input that has one (the compiled code checks that they agree). */
  int64_t positions = 0;
  for (uint32_t i = 0; i < def->num_inputs; ++i) {
    int32_t dim = def->inputs[i].sequence_dim;
    if (dim >= 0 && dim < bound[i]->rank) {
      positions = bound[i]->dims[dim];
      break;
    }
  }
  /* Whatever happens next, the sequence so far is no longer the one the
   * states hold until this call succeeds. */
  int64_t continued_from = model->sequence_length;
  if (sequence != TFC_SEQUENCE_NONE)
    model->sequence_length = -1;

  tfc_run run;
  run.model = model;
  run.sequence = sequence;
  run.sequence_offset =
      sequence == TFC_SEQUENCE_CONTINUE ? continued_from : 0;
  run.status = TFC_ERROR_MODEL_CHECK;
  run.message[0] = '\0';
  if (model->gpu) {
    tfc_status status = tfc_gpu_upload_inputs(model, bound, abi_inputs);
    if (status != TFC_OK) {
      tfc_gpu_end_run(model);
      atomic_store(&model->running, 0);
      return status;
    }
  }
  tfc_set_current_run(&run);
  tfc_allocator_begin_run(&model->allocator, dims_signature(def, bound));
  if (setjmp(run.on_check_failed) != 0) {
    tfc_set_current_run(NULL);
    tfc_allocator_end_run(&model->allocator, 0);
    if (model->gpu)
      tfc_gpu_end_run(model);
    atomic_store(&model->running, 0);
    return tfc_fail(run.status, "model '%s': %s", def->name, run.message);
  }
  def->entry(abi_inputs, abi_outputs);

  tfc_status status = TFC_OK;
  int allocated_here[64] = {0};
  for (uint32_t i = 0; i < def->num_outputs; ++i) {
    tfc_tensor *out = wanted[i];
    if (!out)
      continue;
    const tfc_tensor_info *info = &def->outputs[i];
    out->dtype = info->dtype;
    out->rank = info->rank;
    for (int32_t d = 0; d < info->rank; ++d)
      out->dims[d] = output_dims[i][d];
    size_t bytes;
    if (!tfc_tensor_bytes(info->rank, output_dims[i], info->dtype, &bytes)) {
      /* The generated code checks its buffers' sizes; this is a bug. */
      status = tfc_fail(TFC_ERROR_MODEL_CHECK,
                        "output '%s' has dims whose size overflows", info->name);
      continue;
    }
    if (!out->data) {
      void *copy = NULL;
      if (posix_memalign(&copy, 64, bytes ? bytes : 1) != 0) {
        status = tfc_fail(TFC_ERROR_OUT_OF_MEMORY,
                          "out of memory for output '%s' (%zu bytes)",
                          info->name, bytes);
        continue;
      }
      out->data = copy;
      out->capacity = bytes;
      allocated_here[i] = 1;
    } else if (out->capacity < bytes) {
      char got[128];
      format_dims(got, sizeof(got), info->rank, output_dims[i]);
      status = tfc_fail(TFC_ERROR_SHAPE,
                        "output '%s' of shape %s needs %zu bytes; its buffer "
                        "has %zu",
                        info->name, got, bytes, out->capacity);
      continue;
    }
    if (bytes && model->gpu) {
      tfc_status copied = tfc_gpu_download(model, out->data, out->memory,
                                           abi_outputs[i].data, bytes);
      if (copied != TFC_OK)
        status = copied;
    } else if (bytes) {
      memcpy(out->data, abi_outputs[i].data, bytes);
    }
  }
  /* The copies (and every kernel before them) are done, or failed. */
  if (model->gpu) {
    tfc_status finished =
        tfc_gpu_synchronize(model, "copying its outputs back");
    if (status == TFC_OK)
      status = finished;
  }
  /* A failed run leaves the caller nothing to release. */
  for (uint32_t i = 0; i < def->num_outputs && status != TFC_OK; ++i) {
    if (!allocated_here[i])
      continue;
    free(wanted[i]->data);
    wanted[i]->data = NULL;
    wanted[i]->capacity = 0;
  }
  /* Outputs may share a buffer: release each block once. (A GPU model's
   * are the run's, released with it.) */
  for (uint32_t i = 0; i < def->num_outputs && !model->gpu; ++i) {
    void *block = abi_outputs[i].allocated;
    if (!block)
      continue;
    for (uint32_t j = i + 1; j < def->num_outputs; ++j)
      if (abi_outputs[j].allocated == block)
        abi_outputs[j].allocated = NULL;
    tfc_rt_free(block);
  }
  tfc_set_current_run(NULL);
  /* Anything left is a leak in the generated code; reclaim it. */
  tfc_allocator_end_run(&model->allocator, 1);
  if (model->gpu)
    tfc_gpu_end_run(model);
  if (sequence != TFC_SEQUENCE_NONE && status == TFC_OK)
    model->sequence_length =
        (sequence == TFC_SEQUENCE_CONTINUE ? continued_from : 0) + positions;
  atomic_store(&model->running, 0);
  return status;
}

tfc_status tfc_model_run(tfc_model *model, const tfc_tensor *inputs,
                         size_t num_inputs, tfc_tensor *outputs,
                         size_t num_outputs) {
  return run_model(model, TFC_SEQUENCE_NONE, "tfc_model_run", inputs,
                   num_inputs, outputs, num_outputs);
}

tfc_status tfc_model_prefill(tfc_model *model, const tfc_tensor *inputs,
                             size_t num_inputs, tfc_tensor *outputs,
                             size_t num_outputs) {
  return run_model(model, TFC_SEQUENCE_START, "tfc_model_prefill", inputs,
                   num_inputs, outputs, num_outputs);
}

tfc_status tfc_model_step(tfc_model *model, const tfc_tensor *inputs,
                          size_t num_inputs, tfc_tensor *outputs,
                          size_t num_outputs) {
  return run_model(model, TFC_SEQUENCE_CONTINUE, "tfc_model_step", inputs,
                   num_inputs, outputs, num_outputs);
}

int64_t tfc_model_sequence_length(const tfc_model *model) {
  return model ? model->sequence_length : -1;
}
