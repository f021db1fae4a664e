/*===- cuda_model.c - GPU model instances and their generated code ------===*
 *
 * What a model compiled with --target=cuda needs of the runtime beyond a
 * CPU model's: at create, the GPU opened (cuda_device.c), the PTX
 * JIT-compiled, each kernel looked up, the weights uploaded once; during a
 * run, the inputs uploaded, device buffers for the generated code, its
 * kernel launches, the values it reads back, and the outputs copied back.
 *
 * Device buffers come from one arena per instance, bumped through during a
 * run and reset after it: the generated code frees nothing during a run
 * (as on the CPU), cuMemAlloc and cuMemFree are slow and synchronize the
 * device, and a model called again and again with the same shapes must
 * not allocate at all. A run that outgrows the arena takes extra blocks;
 * after it, the arena is replaced by one that holds the whole run.
 *
 *===----------------------------------------------------------------------===*/

#include "cuda_device.h"
#include "runtime_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Device buffers start on this boundary (what cuMemAlloc guarantees). */
#define TFC_GPU_ALIGNMENT 256

struct tfc_gpu_instance {
  tfc_cuda_device device;
  tfc_cu_module module;
  tfc_cu_function *functions; /* def->gpu->num_kernels */
  tfc_cu_deviceptr weights_block;
  void **weights; /* device address of each weight */
  /* The arena and this run's place in it. */
  tfc_cu_deviceptr arena;
  size_t arena_bytes, arena_used;
  /* Blocks a run took beyond the arena, and what the run asked in all. */
  tfc_cu_deviceptr *extra;
  size_t extra_count, extra_capacity;
  size_t run_bytes;
  /* TFC_CUDA_SYNC_LAUNCHES=1: wait for each kernel, so that a fault names
   * the node that caused it (slow; for debugging). */
  int sync_launches;
};

static size_t round_up(size_t bytes) {
  return (bytes + TFC_GPU_ALIGNMENT - 1) & ~(size_t)(TFC_GPU_ALIGNMENT - 1);
}

/* Ends the current run with `status` and the runtime's last error. */
static void fail_run(tfc_status status) __attribute__((noreturn));
static void fail_run(tfc_status status) {
  tfc_run *run = tfc_current_run();
  if (!run) {
    fprintf(stderr, "tfc runtime: %s\n", tfc_last_error());
    abort();
  }
  run->status = status;
  snprintf(run->message, sizeof(run->message), "%s", tfc_last_error());
  longjmp(run->on_check_failed, 1);
}

/* Puts "model 'NAME': WHAT: " before the runtime's last error. */
static tfc_status in_context(tfc_status status, const tfc_model *model,
                             const char *what) {
  char error[1024];
  snprintf(error, sizeof(error), "%s", tfc_last_error());
  return tfc_fail(status, "model '%s': %s: %s", model->def->name, what, error);
}

static tfc_gpu_instance *current_gpu(const char *what) {
  tfc_run *run = tfc_current_run();
  if (!run || !run->model->gpu) {
    fprintf(stderr, "tfc runtime: %s called outside a run of a GPU model\n",
            what);
    abort();
  }
  return run->model->gpu;
}

tfc_status tfc_gpu_create(tfc_model *model, int ordinal) {
  const tfc_gpu_program *program = model->def->gpu;
  tfc_gpu_instance *gpu = calloc(1, sizeof(*gpu));
  if (!gpu)
    return tfc_fail(TFC_ERROR_OUT_OF_MEMORY, "out of memory creating model '%s'",
                    model->def->name);
  model->gpu = gpu;
  const char *sync = getenv("TFC_CUDA_SYNC_LAUNCHES");
  gpu->sync_launches = sync && *sync && strcmp(sync, "0") != 0;

  tfc_status status = tfc_cuda_device_open(ordinal, &gpu->device);
  if (status != TFC_OK)
    return status;
  if (program->num_kernels) {
    gpu->functions = calloc(program->num_kernels, sizeof(*gpu->functions));
    if (!gpu->functions)
      return tfc_fail(TFC_ERROR_OUT_OF_MEMORY, "out of memory creating model '%s'",
                      model->def->name);
    status = tfc_cuda_module_load(&gpu->device, program->ptx, model->def->name,
                                  &gpu->module);
    if (status != TFC_OK)
      return status;
    for (uint32_t i = 0; i < program->num_kernels; ++i) {
      status = tfc_cuda_function(&gpu->device, gpu->module, program->kernels[i],
                                 &gpu->functions[i]);
      if (status != TFC_OK)
        return status;
    }
  }

  /* The weights, once, in one block. */
  if (program->num_weights) {
    gpu->weights = calloc(program->num_weights, sizeof(*gpu->weights));
    if (!gpu->weights)
      return tfc_fail(TFC_ERROR_OUT_OF_MEMORY, "out of memory creating model '%s'",
                      model->def->name);
    size_t total = 0;
    for (uint32_t i = 0; i < program->num_weights; ++i) {
      size_t bytes = round_up(program->weights[i].bytes);
      if (bytes < program->weights[i].bytes || total + bytes < total)
        return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                        "model '%s': its weights' sizes overflow",
                        model->def->name);
      total += bytes;
    }
    status = tfc_cuda_alloc(&gpu->device, total, &gpu->weights_block);
    if (status != TFC_OK)
      return in_context(status, model, "its weights");
    size_t offset = 0;
    for (uint32_t i = 0; i < program->num_weights; ++i) {
      tfc_cu_deviceptr target = gpu->weights_block + offset;
      gpu->weights[i] = (void *)(uintptr_t)target;
      status = tfc_cuda_copy_to_device(&gpu->device, target,
                                       program->weights[i].data,
                                       program->weights[i].bytes);
      if (status != TFC_OK)
        return status;
      offset += round_up(program->weights[i].bytes);
    }
    status = tfc_cuda_synchronize(&gpu->device, "uploading the weights");
    if (status != TFC_OK)
      return status;
  }
  return TFC_OK;
}

static void free_extra_blocks(tfc_gpu_instance *gpu) {
  for (size_t i = 0; i < gpu->extra_count; ++i)
    tfc_cuda_free(&gpu->device, gpu->extra[i]);
  gpu->extra_count = 0;
}

void tfc_gpu_destroy(tfc_model *model) {
  tfc_gpu_instance *gpu = model->gpu;
  if (!gpu)
    return;
  if (gpu->device.driver) {
    tfc_cuda_synchronize(&gpu->device, "destroying the model");
    free_extra_blocks(gpu);
    if (gpu->arena)
      tfc_cuda_free(&gpu->device, gpu->arena);
    if (gpu->weights_block)
      tfc_cuda_free(&gpu->device, gpu->weights_block);
    if (gpu->module)
      tfc_cuda_module_unload(&gpu->device, gpu->module);
    tfc_cuda_device_close(&gpu->device);
  }
  free(gpu->extra);
  free(gpu->functions);
  free(gpu->weights);
  free(gpu);
  model->gpu = NULL;
}

/* A device buffer of `bytes` for the current run; 0 when the device has no
 * memory left (the runtime's error says so). */
static tfc_cu_deviceptr run_alloc(tfc_gpu_instance *gpu, size_t bytes) {
  size_t rounded = round_up(bytes ? bytes : 1);
  if (rounded < bytes) {
    tfc_fail(TFC_ERROR_OUT_OF_MEMORY, "a device buffer of %zu bytes", bytes);
    return 0;
  }
  gpu->run_bytes += rounded;
  if (gpu->arena && gpu->arena_bytes - gpu->arena_used >= rounded) {
    tfc_cu_deviceptr pointer = gpu->arena + gpu->arena_used;
    gpu->arena_used += rounded;
    return pointer;
  }
  if (gpu->extra_count == gpu->extra_capacity) {
    size_t capacity = gpu->extra_capacity ? 2 * gpu->extra_capacity : 16;
    tfc_cu_deviceptr *grown = realloc(gpu->extra, capacity * sizeof(*grown));
    if (!grown) {
      tfc_fail(TFC_ERROR_OUT_OF_MEMORY, "out of host memory");
      return 0;
    }
    gpu->extra = grown;
    gpu->extra_capacity = capacity;
  }
  tfc_cu_deviceptr pointer = 0;
  if (tfc_cuda_alloc(&gpu->device, rounded, &pointer) != TFC_OK)
    return 0;
  gpu->extra[gpu->extra_count++] = pointer;
  return pointer;
}

void *tfc_rt_cuda_alloc(size_t size) {
  tfc_gpu_instance *gpu = current_gpu("tfc_rt_cuda_alloc");
  tfc_cu_deviceptr pointer = run_alloc(gpu, size);
  if (!pointer)
    fail_run(TFC_ERROR_DEVICE);
  return (void *)(uintptr_t)pointer;
}

/* Buffers live until the run ends. */
void tfc_rt_cuda_free(void *ptr) { (void)ptr; }

void *const *tfc_rt_cuda_weights(void) {
  return current_gpu("tfc_rt_cuda_weights")->weights;
}

void tfc_rt_cuda_launch(int32_t kernel, int64_t grid_x, int64_t grid_y,
                        int64_t grid_z, int64_t block_x, int64_t block_y,
                        int64_t block_z, void **params, const char *site) {
  tfc_gpu_instance *gpu = current_gpu("tfc_rt_cuda_launch");
  const tfc_gpu_program *program = tfc_current_run()->model->def->gpu;
  if (kernel < 0 || (uint32_t)kernel >= program->num_kernels) {
    tfc_fail(TFC_ERROR_DEVICE, "%s: kernel %d is not in the model's program",
             site, (int)kernel);
    fail_run(TFC_ERROR_DEVICE);
  }
  /* An empty tensor: nothing to compute (CUDA refuses empty grids). */
  if (grid_x <= 0 || grid_y <= 0 || grid_z <= 0)
    return;
  if (grid_x > INT32_MAX || grid_y > 65535 || grid_z > 65535 ||
      block_x <= 0 || block_y <= 0 || block_z <= 0 ||
      block_x * block_y * block_z > 1024) {
    tfc_fail(TFC_ERROR_SHAPE,
             "%s: the tensors are too large for one launch (grid %lldx%lldx%lld "
             "of blocks %lldx%lldx%lld)",
             site, (long long)grid_x, (long long)grid_y, (long long)grid_z,
             (long long)block_x, (long long)block_y, (long long)block_z);
    fail_run(TFC_ERROR_SHAPE);
  }
  unsigned grid[3] = {(unsigned)grid_x, (unsigned)grid_y, (unsigned)grid_z};
  unsigned block[3] = {(unsigned)block_x, (unsigned)block_y, (unsigned)block_z};
  if (tfc_cuda_launch(&gpu->device, gpu->functions[kernel], grid, block, 0,
                      params, site) != TFC_OK)
    fail_run(TFC_ERROR_DEVICE);
  if (gpu->sync_launches && tfc_cuda_synchronize(&gpu->device, site) != TFC_OK)
    fail_run(TFC_ERROR_DEVICE);
}

uint64_t tfc_rt_cuda_read(uint64_t address, int64_t bytes) {
  tfc_gpu_instance *gpu = current_gpu("tfc_rt_cuda_read");
  uint64_t value = 0;
  if (bytes <= 0 || bytes > (int64_t)sizeof(value)) {
    tfc_fail(TFC_ERROR_DEVICE, "reading %lld bytes back from the GPU",
             (long long)bytes);
    fail_run(TFC_ERROR_DEVICE);
  }
  /* Little-endian hosts: the value's low bytes come first. */
  if (tfc_cuda_copy_to_host(&gpu->device, &value, address, (size_t)bytes) != TFC_OK ||
      tfc_cuda_synchronize(&gpu->device, "reading a value the kernels computed") !=
          TFC_OK)
    fail_run(TFC_ERROR_DEVICE);
  return value;
}

tfc_status tfc_gpu_upload_inputs(tfc_model *model, const tfc_tensor *const *bound,
                                 tfc_abi_input *inputs) {
  tfc_gpu_instance *gpu = model->gpu;
  const tfc_model_def *def = model->def;
  for (uint32_t i = 0; i < def->num_inputs; ++i) {
    char input[160];
    snprintf(input, sizeof(input), "input '%s'", def->inputs[i].name);
    size_t bytes;
    if (!tfc_tensor_bytes(bound[i]->rank, bound[i]->dims, bound[i]->dtype, &bytes))
      return tfc_fail(TFC_ERROR_SHAPE, "input '%s' is too large",
                      def->inputs[i].name);
    if (bound[i]->memory == TFC_MEMORY_DEVICE) {
      inputs[i].data = bound[i]->data; /* read in place */
      continue;
    }
    tfc_cu_deviceptr copy = run_alloc(gpu, bytes);
    if (!copy)
      return in_context(TFC_ERROR_DEVICE, model, input);
    if (bytes) {
      tfc_status status =
          tfc_cuda_copy_to_device(&gpu->device, copy, bound[i]->data, bytes);
      if (status != TFC_OK)
        return in_context(status, model, input);
    }
    inputs[i].data = (const void *)(uintptr_t)copy;
  }
  return TFC_OK;
}

tfc_status tfc_gpu_download(tfc_model *model, void *target, int32_t memory,
                            const void *source, size_t bytes) {
  tfc_cu_deviceptr from = (tfc_cu_deviceptr)(uintptr_t)source;
  if (memory == TFC_MEMORY_DEVICE)
    return tfc_cuda_copy_on_device(&model->gpu->device,
                                   (tfc_cu_deviceptr)(uintptr_t)target, from,
                                   bytes);
  return tfc_cuda_copy_to_host(&model->gpu->device, target, from, bytes);
}

/* The app's side: device memory and copies for the tensors it passes. */
static tfc_status require_gpu(const tfc_model *model, const char *function) {
  if (!model)
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT, "%s: model is NULL", function);
  if (!model->gpu)
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                    "%s: model '%s' runs on the CPU (compile it with "
                    "--target=cuda for a GPU)",
                    function, model->def->name);
  return TFC_OK;
}

tfc_status tfc_model_device_alloc(tfc_model *model, size_t bytes,
                                  void **pointer) {
  tfc_clear_error();
  tfc_status status = require_gpu(model, "tfc_model_device_alloc");
  if (status != TFC_OK)
    return status;
  if (!pointer)
    return tfc_fail(TFC_ERROR_INVALID_ARGUMENT,
                    "tfc_model_device_alloc: the result pointer is NULL");
  tfc_cu_deviceptr allocated = 0;
  status = tfc_cuda_alloc(&model->gpu->device, bytes, &allocated);
  *pointer = (void *)(uintptr_t)allocated;
  return status;
}

void tfc_model_device_free(tfc_model *model, void *pointer) {
  if (model && model->gpu && pointer)
    tfc_cuda_free(&model->gpu->device, (tfc_cu_deviceptr)(uintptr_t)pointer);
}

tfc_status tfc_model_copy_to_device(tfc_model *model, void *device,
                                    const void *host, size_t bytes) {
  tfc_clear_error();
  tfc_status status = require_gpu(model, "tfc_model_copy_to_device");
  if (status == TFC_OK)
    status = tfc_cuda_copy_to_device(&model->gpu->device,
                                     (tfc_cu_deviceptr)(uintptr_t)device, host,
                                     bytes);
  if (status == TFC_OK)
    status = tfc_cuda_synchronize(&model->gpu->device, "copying to the GPU");
  return status;
}

tfc_status tfc_model_copy_to_host(tfc_model *model, void *host,
                                  const void *device, size_t bytes) {
  tfc_clear_error();
  tfc_status status = require_gpu(model, "tfc_model_copy_to_host");
  if (status == TFC_OK)
    status = tfc_cuda_copy_to_host(&model->gpu->device, host,
                                   (tfc_cu_deviceptr)(uintptr_t)device, bytes);
  if (status == TFC_OK)
    status = tfc_cuda_synchronize(&model->gpu->device, "copying from the GPU");
  return status;
}

tfc_status tfc_gpu_synchronize(tfc_model *model, const char *what) {
  char context[256];
  snprintf(context, sizeof(context), "model '%s', %s", model->def->name, what);
  return tfc_cuda_synchronize(&model->gpu->device, context);
}

void tfc_gpu_end_run(tfc_model *model) {
  tfc_gpu_instance *gpu = model->gpu;
  if (gpu->extra_count) {
    /* What goes wrong here must not hide why the run failed. */
    char error[1024];
    snprintf(error, sizeof(error), "%s", tfc_last_error());
    /* The next run gets one arena for all of this one's buffers. Kernels
     * may still be running on them (a run that failed): wait first. */
    tfc_cuda_synchronize(&gpu->device, "ending a run");
    free_extra_blocks(gpu);
    if (gpu->arena)
      tfc_cuda_free(&gpu->device, gpu->arena);
    gpu->arena = 0;
    gpu->arena_bytes = 0;
    /* Failing, the next run allocates as it goes. */
    if (tfc_cuda_alloc(&gpu->device, gpu->run_bytes, &gpu->arena) == TFC_OK)
      gpu->arena_bytes = gpu->run_bytes;
    tfc_fail(TFC_OK, "%s", error);
  }
  gpu->arena_used = 0;
  gpu->run_bytes = 0;
}
