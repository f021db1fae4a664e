/*===- cuda_device.h - the runtime's GPU device layer -----------*- C -*-===*
 *
 * Models compiled with tfc compile --target=cuda run their kernels through
 * the CUDA driver API, and nothing else of CUDA: no runtime library, no
 * toolkit. The driver (libcuda.so.1, part of NVIDIA's display driver) is
 * loaded with dlopen when the first GPU model is created, never at link
 * time, so a library built for the GPU loads on any machine and fails at
 * create with TFC_ERROR_DEVICE and a message where there is no driver or
 * no GPU.
 *
 * What the runtime needs of the driver: a context on a device (the device's
 * primary context, shared with any other user of the GPU in the process),
 * one stream per model instance, modules JIT-compiled from the PTX embedded
 * in the library, kernel launches, device memory and copies on the stream.
 * Every failure is a tfc_status with a message that says what was being
 * done (the graph node, for a launch) and the driver's own name and text
 * of its error.
 *
 * TFC_CUDA_DRIVER, when set, names the library to load instead of
 * libcuda.so.1 (the device layer's tests load stand-ins with it).
 *
 *===----------------------------------------------------------------------===*/

#ifndef TFC_RUNTIME_CUDA_DEVICE_H
#define TFC_RUNTIME_CUDA_DEVICE_H

#include "tfc/runtime/tfc_runtime.h"

#include <stddef.h>
#include <stdint.h>

/* The driver API's types, as cuda.h declares them (its ABI is stable). */
typedef int tfc_cu_result; /* CUresult: 0 is CUDA_SUCCESS */
typedef int tfc_cu_device;
typedef struct tfc_cu_context *tfc_cu_context;
typedef struct tfc_cu_module *tfc_cu_module;
typedef struct tfc_cu_function *tfc_cu_function;
typedef struct tfc_cu_stream *tfc_cu_stream;
typedef uint64_t tfc_cu_deviceptr;

/* The driver's entry points the runtime calls, each looked up by its
 * versioned symbol (cuMemAlloc_v2, ...). X(field, symbol, parameters). */
#define TFC_CUDA_DRIVER_FUNCTIONS(X)                                           \
  X(init, "cuInit", (unsigned flags))                                          \
  X(device_count, "cuDeviceGetCount", (int *count))                            \
  X(device_get, "cuDeviceGet", (tfc_cu_device * device, int ordinal))          \
  X(device_name, "cuDeviceGetName", (char *name, int size, tfc_cu_device device)) \
  X(device_attribute, "cuDeviceGetAttribute",                                  \
    (int *value, int attribute, tfc_cu_device device))                         \
  X(primary_retain, "cuDevicePrimaryCtxRetain",                                \
    (tfc_cu_context * context, tfc_cu_device device))                          \
  X(primary_release, "cuDevicePrimaryCtxRelease_v2", (tfc_cu_device device))   \
  X(context_set, "cuCtxSetCurrent", (tfc_cu_context context))                  \
  X(module_load, "cuModuleLoadDataEx",                                         \
    (tfc_cu_module * module, const void *image, unsigned count, int *options,  \
     void **values))                                                           \
  X(module_unload, "cuModuleUnload", (tfc_cu_module module))                   \
  X(module_function, "cuModuleGetFunction",                                    \
    (tfc_cu_function * function, tfc_cu_module module, const char *name))      \
  X(launch, "cuLaunchKernel",                                                  \
    (tfc_cu_function function, unsigned grid_x, unsigned grid_y,               \
     unsigned grid_z, unsigned block_x, unsigned block_y, unsigned block_z,    \
     unsigned shared_bytes, tfc_cu_stream stream, void **parameters,           \
     void **extra))                                                            \
  X(mem_alloc, "cuMemAlloc_v2", (tfc_cu_deviceptr * pointer, size_t bytes))    \
  X(mem_free, "cuMemFree_v2", (tfc_cu_deviceptr pointer))                      \
  X(copy_to_device, "cuMemcpyHtoDAsync_v2",                                    \
    (tfc_cu_deviceptr target, const void *source, size_t bytes,                \
     tfc_cu_stream stream))                                                    \
  X(copy_to_host, "cuMemcpyDtoHAsync_v2",                                      \
    (void *target, tfc_cu_deviceptr source, size_t bytes, tfc_cu_stream stream)) \
  X(copy_on_device, "cuMemcpyDtoDAsync_v2",                                   \
    (tfc_cu_deviceptr target, tfc_cu_deviceptr source, size_t bytes,          \
     tfc_cu_stream stream))                                                    \
  X(stream_create, "cuStreamCreate", (tfc_cu_stream * stream, unsigned flags)) \
  X(stream_destroy, "cuStreamDestroy_v2", (tfc_cu_stream stream))              \
  X(stream_sync, "cuStreamSynchronize", (tfc_cu_stream stream))                \
  X(error_name, "cuGetErrorName", (tfc_cu_result result, const char **name))   \
  X(error_string, "cuGetErrorString", (tfc_cu_result result, const char **text))

typedef struct tfc_cuda_driver {
  void *library;
#define TFC_CUDA_FIELD(field, symbol, parameters)                              \
  tfc_cu_result(*field) parameters;
  TFC_CUDA_DRIVER_FUNCTIONS(TFC_CUDA_FIELD)
#undef TFC_CUDA_FIELD
} tfc_cuda_driver;

/* The process's driver, loaded and initialized (cuInit) by the first call;
 * later calls return the same, or fail the same way. On failure returns
 * NULL and sets the runtime's error (TFC_ERROR_DEVICE). */
const tfc_cuda_driver *tfc_cuda_driver_get(void);

/* A GPU as one model instance uses it: the device's primary context, made
 * current on the calling thread by each call below, and the instance's
 * stream. */
typedef struct tfc_cuda_device {
  const tfc_cuda_driver *driver;
  tfc_cu_device device;
  tfc_cu_context context;
  tfc_cu_stream stream;
  int ordinal;
  int major, minor; /* compute capability */
  char name[128];
} tfc_cuda_device;

/* Opens GPU `ordinal` (0 for the first): the driver, the device, its
 * primary context and a stream. On failure `device` holds nothing to
 * close. */
tfc_status tfc_cuda_device_open(int ordinal, tfc_cuda_device *device);
/* Releases what open took; a device that failed to open, or is zeroed, is
 * left as it is. */
void tfc_cuda_device_close(tfc_cuda_device *device);

/* JIT-compiles `ptx` (NUL-terminated) for the device; `what` names it in
 * errors, which carry the JIT's log. */
tfc_status tfc_cuda_module_load(tfc_cuda_device *device, const char *ptx,
                                const char *what, tfc_cu_module *module);
void tfc_cuda_module_unload(tfc_cuda_device *device, tfc_cu_module module);
tfc_status tfc_cuda_function(tfc_cuda_device *device, tfc_cu_module module,
                             const char *name, tfc_cu_function *function);

/* Queues kernel `function` on the device's stream; `node` (the graph node
 * the kernel computes) names it in errors. */
tfc_status tfc_cuda_launch(tfc_cuda_device *device, tfc_cu_function function,
                           const unsigned grid[3], const unsigned block[3],
                           unsigned shared_bytes, void **parameters,
                           const char *node);

tfc_status tfc_cuda_alloc(tfc_cuda_device *device, size_t bytes,
                          tfc_cu_deviceptr *pointer);
void tfc_cuda_free(tfc_cuda_device *device, tfc_cu_deviceptr pointer);
/* Copies queued on the stream; the host side must stay valid until
 * tfc_cuda_synchronize returns. */
tfc_status tfc_cuda_copy_to_device(tfc_cuda_device *device,
                                   tfc_cu_deviceptr target, const void *source,
                                   size_t bytes);
tfc_status tfc_cuda_copy_to_host(tfc_cuda_device *device, void *target,
                                 tfc_cu_deviceptr source, size_t bytes);
tfc_status tfc_cuda_copy_on_device(tfc_cuda_device *device,
                                   tfc_cu_deviceptr target,
                                   tfc_cu_deviceptr source, size_t bytes);
/* Waits for everything queued; an error of an earlier launch that only
 * shows now is reported here, naming `what`. */
tfc_status tfc_cuda_synchronize(tfc_cuda_device *device, const char *what);

#endif /* TFC_RUNTIME_CUDA_DEVICE_H */
