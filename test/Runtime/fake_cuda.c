/*===- fake_cuda.c - a stand-in CUDA driver for the device layer's tests ---===*
 *
 * libcuda.so.1's entry points as lib/Runtime/cuda_device.c calls them,
 * answering as a machine with one GPU would, or failing where the test
 * asks (FAKE_CUDA_FAIL=init|launch|jit|sync|alloc; FAKE_CUDA_MISSING=NAME,
 * a kernel the module lacks): what the device layer does with each failure
 * is tested without a GPU (cuda-device.test). Built twice:
 * whole, and without cuLaunchKernel (-DFAKE_CUDA_WITHOUT_LAUNCH, a driver
 * older than the runtime needs). Device memory is host memory here,
 * zeroed; kernels do not run. FAKE_CUDA_LOG=1 prints each launch (the
 * kernel's name, its grid and block) on stderr, for the tests of the host
 * code of GPU models.
 *
 *===----------------------------------------------------------------------===*/

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int CUresult;
enum {
  CUDA_SUCCESS = 0,
  CUDA_ERROR_OUT_OF_MEMORY = 2,
  CUDA_ERROR_NO_DEVICE = 100,
  CUDA_ERROR_INVALID_PTX = 218,
  CUDA_ERROR_ILLEGAL_ADDRESS = 700,
  CUDA_ERROR_LAUNCH_FAILED = 719,
};

static int failing(const char *what) {
  const char *fail = getenv("FAKE_CUDA_FAIL");
  return fail && strcmp(fail, what) == 0;
}

static int context_token, module_token, stream_token;

CUresult cuInit(unsigned flags) {
  (void)flags;
  return failing("init") ? CUDA_ERROR_NO_DEVICE : CUDA_SUCCESS;
}
CUresult cuDeviceGetCount(int *count) {
  *count = 1;
  return CUDA_SUCCESS;
}
CUresult cuDeviceGet(int *device, int ordinal) {
  *device = ordinal;
  return CUDA_SUCCESS;
}
CUresult cuDeviceGetName(char *name, int size, int device) {
  (void)device;
  strncpy(name, "Fake GPU", (size_t)size);
  return CUDA_SUCCESS;
}
CUresult cuDeviceGetAttribute(int *value, int attribute, int device) {
  (void)device;
  *value = attribute == 75 ? 9 : 0; /* sm_90 */
  return CUDA_SUCCESS;
}
CUresult cuDevicePrimaryCtxRetain(void **context, int device) {
  (void)device;
  *context = &context_token;
  return CUDA_SUCCESS;
}
CUresult cuDevicePrimaryCtxRelease_v2(int device) {
  (void)device;
  return CUDA_SUCCESS;
}
CUresult cuCtxSetCurrent(void *context) {
  return context == &context_token ? CUDA_SUCCESS : 201; /* INVALID_CONTEXT */
}
static const char *module_image;

CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned count,
                            int *options, void **values) {
  if (failing("jit") || !strstr((const char *)image, ".entry")) {
    for (unsigned i = 0; i < count; ++i)
      if (options[i] == 5) /* CU_JIT_ERROR_LOG_BUFFER */
        strcpy((char *)values[i], "ptxas fatal   : Unexpected EOF on line 3");
    return CUDA_ERROR_INVALID_PTX;
  }
  module_image = (const char *)image;
  *module = &module_token;
  return CUDA_SUCCESS;
}
CUresult cuModuleUnload(void *module) {
  return module == &module_token ? CUDA_SUCCESS : 400;
}
/* A function is its name (kept for the launch log), when the module has an
 * entry of that name and FAKE_CUDA_MISSING does not name it. */
CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  if (module != &module_token)
    return 400; /* CUDA_ERROR_INVALID_HANDLE */
  const char *missing = getenv("FAKE_CUDA_MISSING");
  if (missing && strcmp(missing, name) == 0)
    return 500; /* CUDA_ERROR_NOT_FOUND */
  size_t length = strlen(name);
  for (const char *entry = strstr(module_image, ".entry "); entry;
       entry = strstr(entry + 1, ".entry ")) {
    const char *found = entry + strlen(".entry ");
    if (strncmp(found, name, length) == 0 &&
        (found[length] == '(' || found[length] == ' ' || found[length] == '\n')) {
      *function = strdup(name);
      return *function ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
    }
  }
  return 500; /* CUDA_ERROR_NOT_FOUND */
}
#ifndef FAKE_CUDA_WITHOUT_LAUNCH
CUresult cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned shared,
                        void *stream, void **parameters, void **extra) {
  (void)shared; (void)stream; (void)parameters; (void)extra;
  if (failing("launch"))
    return CUDA_ERROR_LAUNCH_FAILED;
  const char *log = getenv("FAKE_CUDA_LOG");
  if (log && *log)
    fprintf(stderr, "fake cuda: launch %s grid %ux%ux%u block %ux%ux%u\n",
            (const char *)function, gx, gy, gz, bx, by, bz);
  return CUDA_SUCCESS;
}
#endif
CUresult cuMemAlloc_v2(uint64_t *pointer, size_t bytes) {
  if (failing("alloc"))
    return CUDA_ERROR_OUT_OF_MEMORY;
  *pointer = (uint64_t)(uintptr_t)calloc(1, bytes ? bytes : 1);
  return *pointer ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
}
CUresult cuMemFree_v2(uint64_t pointer) {
  free((void *)(uintptr_t)pointer);
  return CUDA_SUCCESS;
}
CUresult cuMemcpyHtoDAsync_v2(uint64_t target, const void *source, size_t bytes,
                              void *stream) {
  (void)stream;
  memcpy((void *)(uintptr_t)target, source, bytes);
  return CUDA_SUCCESS;
}
CUresult cuMemcpyDtoHAsync_v2(void *target, uint64_t source, size_t bytes,
                              void *stream) {
  (void)stream;
  memcpy(target, (const void *)(uintptr_t)source, bytes);
  return CUDA_SUCCESS;
}
CUresult cuMemcpyDtoDAsync_v2(uint64_t target, uint64_t source, size_t bytes,
                              void *stream) {
  (void)stream;
  memcpy((void *)(uintptr_t)target, (const void *)(uintptr_t)source, bytes);
  return CUDA_SUCCESS;
}
CUresult cuStreamCreate(void **stream, unsigned flags) {
  (void)flags;
  *stream = &stream_token;
  return CUDA_SUCCESS;
}
CUresult cuStreamDestroy_v2(void *stream) {
  return stream == &stream_token ? CUDA_SUCCESS : 400;
}
CUresult cuStreamSynchronize(void *stream) {
  (void)stream;
  return failing("sync") ? CUDA_ERROR_ILLEGAL_ADDRESS : CUDA_SUCCESS;
}
CUresult cuGetErrorName(CUresult result, const char **name) {
  switch (result) {
  case CUDA_ERROR_OUT_OF_MEMORY: *name = "CUDA_ERROR_OUT_OF_MEMORY"; break;
  case CUDA_ERROR_NO_DEVICE: *name = "CUDA_ERROR_NO_DEVICE"; break;
  case CUDA_ERROR_INVALID_PTX: *name = "CUDA_ERROR_INVALID_PTX"; break;
  case CUDA_ERROR_ILLEGAL_ADDRESS: *name = "CUDA_ERROR_ILLEGAL_ADDRESS"; break;
  case CUDA_ERROR_LAUNCH_FAILED: *name = "CUDA_ERROR_LAUNCH_FAILED"; break;
  default: *name = NULL; return 1; /* CUDA_ERROR_INVALID_VALUE */
  }
  return CUDA_SUCCESS;
}
CUresult cuGetErrorString(CUresult result, const char **text) {
  switch (result) {
  case CUDA_ERROR_OUT_OF_MEMORY: *text = "out of memory"; break;
  case CUDA_ERROR_NO_DEVICE: *text = "no CUDA-capable device is detected"; break;
  case CUDA_ERROR_INVALID_PTX: *text = "a PTX JIT compilation failed"; break;
  case CUDA_ERROR_ILLEGAL_ADDRESS: *text = "an illegal memory access was encountered"; break;
  case CUDA_ERROR_LAUNCH_FAILED: *text = "unspecified launch failure"; break;
  default: *text = NULL; return 1;
  }
  return CUDA_SUCCESS;
}
