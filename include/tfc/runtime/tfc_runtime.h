/*===- tfc_runtime.h - the C API of models compiled by tfc -------*- C -*-===*
 *
 * A model compiled by `tfc compile` is used through these functions: create
 * an instance, run it on named tensors, query its signature, destroy it. The
 * generated header (model.h) embeds this file and adds one function that
 * returns the model's definition, so an app needs nothing else.
 *
 * Every function that can fail returns a tfc_status; on failure,
 * tfc_last_error() gives a message for the calling thread, which names the
 * tensor, dim or graph node at fault.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TFC_RUNTIME_H
#define TFC_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TFC_ABI_VERSION 15
/* The largest rank a model input or output may have. */
#define TFC_MAX_RANK 8

typedef enum tfc_status {
  TFC_OK = 0,
  /* A null pointer, an unknown option or tensor name, a wrong count. */
  TFC_ERROR_INVALID_ARGUMENT = 1,
  /* A tensor's element type is not the one the model declares. */
  TFC_ERROR_DTYPE = 2,
  /* A tensor's rank or a dim is not what the model allows, or an output
   * buffer is too small for the result. */
  TFC_ERROR_SHAPE = 3,
  /* A check inside the model failed: dims that must agree did not, or an
   * index was out of range. The message names the graph node. */
  TFC_ERROR_MODEL_CHECK = 4,
  TFC_ERROR_OUT_OF_MEMORY = 5,
  /* The weights file could not be opened or does not match the model. */
  TFC_ERROR_IO = 6,
  /* The model was compiled for another version of this runtime. */
  TFC_ERROR_ABI_MISMATCH = 7,
  /* The model was compiled for instructions this CPU lacks (AVX-512 on an
   * AVX2 CPU, say): compile it with tfc compile --target-cpu for this one. */
  TFC_ERROR_UNSUPPORTED_CPU = 8,
  /* A GPU model could not use its GPU: no CUDA driver or no GPU, the driver
   * refused the model's code, or a kernel failed. The message names the
   * graph node where there is one, and the driver's error. */
  TFC_ERROR_DEVICE = 9
} tfc_status;

/* Element types, numbered as ONNX's TensorProto.DataType. */
typedef enum tfc_dtype {
  TFC_DTYPE_FLOAT32 = 1,
  TFC_DTYPE_UINT8 = 2,
  TFC_DTYPE_INT8 = 3,
  TFC_DTYPE_UINT16 = 4,
  TFC_DTYPE_INT16 = 5,
  TFC_DTYPE_INT32 = 6,
  TFC_DTYPE_INT64 = 7,
  TFC_DTYPE_BOOL = 9,
  TFC_DTYPE_FLOAT16 = 10,
  TFC_DTYPE_FLOAT64 = 11,
  TFC_DTYPE_UINT32 = 12,
  TFC_DTYPE_UINT64 = 13,
  TFC_DTYPE_BFLOAT16 = 16
} tfc_dtype;

/* The bytes of one element of `dtype`, or 0 for an unknown dtype. */
size_t tfc_dtype_size(tfc_dtype dtype);
/* "float32", "int64", ... */
const char *tfc_dtype_name(tfc_dtype dtype);

/* What the model declares for one input or output. */
typedef struct tfc_tensor_info {
  const char *name;
  tfc_dtype dtype;
  int32_t rank;
  /* The size of each dim, or -1 where it is chosen at run time. */
  const int64_t *dims;
  /* The symbolic name of each dim ("batch", "sequence"), or "" where it has
   * none. Inputs that name the same dim must agree on its size. */
  const char *const *dim_names;
  /* Models compiled with --decoder: the dim that runs along the sequence
   * (tfc_model_prefill/step), or -1 where the tensor has none. */
  int32_t sequence_dim;
} tfc_tensor_info;

/* A tensor passed to or returned by tfc_model_run: dense, row-major. */
typedef struct tfc_tensor {
  /* The input or output it binds to; NULL binds by position. */
  const char *name;
  tfc_dtype dtype;
  int32_t rank;
  int64_t dims[TFC_MAX_RANK];
  /* Inputs: the elements, in a buffer of `capacity` bytes; a run is refused
   * when the dims need more. Outputs: a buffer of `capacity` bytes to fill,
   * or NULL to have the runtime allocate one (release it with tfc_free). */
  void *data;
  size_t capacity;
  /* Where `data` lies: TFC_MEMORY_HOST (0, what zero-initialization
   * gives), or TFC_MEMORY_DEVICE for a model compiled with --target=cuda:
   * a pointer in the model's GPU memory (from tfc_model_device_alloc, or
   * an app's own CUDA allocation in the same context), which an input is
   * read from in place and an output is copied to on the GPU. A device
   * output needs `data`: the runtime allocates host buffers only. */
  int32_t memory;
} tfc_tensor;

enum { TFC_MEMORY_HOST = 0, TFC_MEMORY_DEVICE = 1 };

typedef struct tfc_options {
  /* Threads for parallel loops, the caller's included; 0 uses every core. */
  int32_t num_threads;
  /* For models compiled with --weights=file: the weights file. NULL uses
   * the path the compiler recorded (relative to the working directory). */
  const char *weights_path;
  /* For models compiled with --target=cuda: the GPU to run on (0 for the
   * first; CUDA_VISIBLE_DEVICES applies). */
  int32_t gpu_device;
} tfc_options;

/* The definition of a compiled model (opaque; from <name>_model_def()). */
typedef struct tfc_model_def tfc_model_def;
/* An instance: its workspace and thread pool. One run at a time. */
typedef struct tfc_model tfc_model;

/* Fills `options` with the defaults. */
void tfc_options_init(tfc_options *options);

/* Creates an instance of `def`. `options` may be NULL for the defaults. */
tfc_status tfc_model_create(const tfc_model_def *def,
                            const tfc_options *options, tfc_model **model);
void tfc_model_destroy(tfc_model *model);

/* The model's name, as given to `tfc compile --name`. */
const char *tfc_model_name(const tfc_model *model);
/* What the model was compiled for and where it runs, one line ("x86_64,
 * CPU x86-64-v3, AVX2 kernels: runs on any x86-64 CPU with AVX2, ..."). */
const char *tfc_model_target(const tfc_model *model);
size_t tfc_model_num_inputs(const tfc_model *model);
size_t tfc_model_num_outputs(const tfc_model *model);
/* NULL when `index` is out of range. */
const tfc_tensor_info *tfc_model_input(const tfc_model *model, size_t index);
const tfc_tensor_info *tfc_model_output(const tfc_model *model, size_t index);

/* Runs the model. `inputs` holds every input once, by name or by position.
 * `outputs` holds the outputs wanted (by name or position, any subset); on
 * success each gets its dtype, rank and dims, and its data is written to the
 * caller's buffer or to one the runtime allocated. Nothing is written past
 * a buffer's capacity. A run that fails leaves no buffer of the runtime's
 * for the caller to release (outputs passed with data NULL keep it). */
tfc_status tfc_model_run(tfc_model *model, const tfc_tensor *inputs,
                         size_t num_inputs, tfc_tensor *outputs,
                         size_t num_outputs);

/* Decoding, for models compiled with `tfc compile --decoder`: a sequence
 * kept in the instance, continued call by call. tfc_model_prefill runs the
 * model on the start of a sequence, like tfc_model_run, and keeps each
 * causal linear attention's state (a dk x dv matrix per head: constant in
 * the sequence's length); tfc_model_step runs it on the next tokens (one,
 * for decoding), their outputs equal to the last rows of a run on the
 * whole sequence so far, at a cost that does not grow with it. A step takes
 * the prefill's batch. tfc_model_run on such a model neither reads nor
 * changes the sequence. A failed prefill or step ends the sequence: the
 * next step is refused until a prefill starts a new one. Both fail with
 * TFC_ERROR_INVALID_ARGUMENT for a model compiled without --decoder. */
tfc_status tfc_model_prefill(tfc_model *model, const tfc_tensor *inputs,
                             size_t num_inputs, tfc_tensor *outputs,
                             size_t num_outputs);
tfc_status tfc_model_step(tfc_model *model, const tfc_tensor *inputs,
                          size_t num_inputs, tfc_tensor *outputs,
                          size_t num_outputs);
/* The positions the instance's sequence holds (prefill and steps so far),
 * or -1 when it has none. */
int64_t tfc_model_sequence_length(const tfc_model *model);

/* Per-op times of a model compiled with `tfc compile --profile`: one entry
 * per graph op (its site: the op and the ONNX node it came from), with the
 * number of runs that reached it and the seconds spent in it, summed over
 * the instance's runs since it was created or its profile cleared. */
typedef struct tfc_profile_entry {
  const char *site;
  uint64_t calls;
  double seconds;
} tfc_profile_entry;

/* The entries, in the order the ops first ran; *count is 0 for a model
 * compiled without --profile (or not yet run). Valid until the next run,
 * clear or destroy. */
const tfc_profile_entry *tfc_model_profile(const tfc_model *model,
                                           size_t *count);
void tfc_model_clear_profile(tfc_model *model);

/* Releases an output buffer that the runtime allocated. */
void tfc_free(void *data);

/* GPU memory for the tensors of a model compiled with --target=cuda, for
 * apps without a CUDA runtime of their own: `bytes` on the model's GPU,
 * and copies between it and the host (synchronous, on the instance's
 * stream). Each fails with TFC_ERROR_INVALID_ARGUMENT for a CPU model. */
tfc_status tfc_model_device_alloc(tfc_model *model, size_t bytes, void **pointer);
void tfc_model_device_free(tfc_model *model, void *pointer);
tfc_status tfc_model_copy_to_device(tfc_model *model, void *device,
                                    const void *host, size_t bytes);
tfc_status tfc_model_copy_to_host(tfc_model *model, void *host,
                                  const void *device, size_t bytes);

/* The message of the last failure on the calling thread ("" if none). */
const char *tfc_last_error(void);

/* The product of `rank` dims (1 for a scalar), or -1 when a dim is negative
 * or the product overflows int64_t. */
int64_t tfc_num_elements(int32_t rank, const int64_t *dims);

#ifdef __cplusplus
}
#endif

#endif /* TFC_RUNTIME_H */
