/*===- cuda_device.c - the CUDA driver API, loaded at run time ---*- C -*-===*
 *
 * See cuda_device.h. The driver is looked up once per process (dlopen and
 * dlsym under pthread_once); its failure to load is remembered and
 * reported again to every later caller, whose thread has its own error
 * message.
 *
 *===----------------------------------------------------------------------===*/

#include "cuda_device.h"
#include "runtime_internal.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* cuDeviceGetAttribute's compute capability attributes (cuda.h). */
enum {
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75,
  CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76,
};
/* cuModuleLoadDataEx's JIT options (cuda.h's CUjit_option). */
enum {
  CU_JIT_ERROR_LOG_BUFFER = 5,
  CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6,
};

static pthread_once_t driver_once = PTHREAD_ONCE_INIT;
static tfc_cuda_driver driver;
static int driver_loaded;
static char driver_failure[512];

/* "CUDA_ERROR_NAME (the driver's text)" for `result`, or its number where
 * the driver cannot say (or did not load). */
static void describe(tfc_cu_result result, char *text, size_t size) {
  const char *name = NULL, *string = NULL;
  if (driver_loaded) {
    if (driver.error_name(result, &name) != 0)
      name = NULL;
    if (driver.error_string(result, &string) != 0)
      string = NULL;
  }
  if (name && string)
    snprintf(text, size, "%s (%s)", name, string);
  else if (name)
    snprintf(text, size, "%s", name);
  else
    snprintf(text, size, "CUDA error %d", result);
}

static void load_driver(void) {
  const char *path = getenv("TFC_CUDA_DRIVER");
  if (!path || !*path)
    path = "libcuda.so.1";
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = dlerror();
    snprintf(driver_failure, sizeof(driver_failure),
             "no CUDA driver: %s could not be loaded (%s); GPU models need "
             "NVIDIA's driver and a GPU",
             path, why ? why : "unknown reason");
    return;
  }
  driver.library = library;
#define TFC_CUDA_LOOKUP(field, symbol, parameters)                             \
  *(void **)&driver.field = dlsym(library, symbol);                            \
  if (!driver.field) {                                                         \
    snprintf(driver_failure, sizeof(driver_failure),                           \
             "the CUDA driver %s has no %s: it is older than this runtime "    \
             "needs",                                                          \
             path, symbol);                                                    \
    return;                                                                    \
  }
  TFC_CUDA_DRIVER_FUNCTIONS(TFC_CUDA_LOOKUP)
#undef TFC_CUDA_LOOKUP
  driver_loaded = 1;
  tfc_cu_result result = driver.init(0);
  if (result != 0) {
    char text[256];
    describe(result, text, sizeof(text));
    snprintf(driver_failure, sizeof(driver_failure),
             "the CUDA driver %s did not initialize: cuInit failed with %s",
             path, text);
    driver_loaded = 0;
  }
}

const tfc_cuda_driver *tfc_cuda_driver_get(void) {
  pthread_once(&driver_once, load_driver);
  if (!driver_loaded) {
    tfc_fail(TFC_ERROR_DEVICE, "%s", driver_failure);
    return NULL;
  }
  return &driver;
}

/* Fails with the driver's description of `result`, after `format`. */
static tfc_status fail_cuda(tfc_cu_result result, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
static tfc_status fail_cuda(tfc_cu_result result, const char *format, ...) {
  char what[512], text[256];
  va_list args;
  va_start(args, format);
  vsnprintf(what, sizeof(what), format, args);
  va_end(args);
  describe(result, text, sizeof(text));
  return tfc_fail(TFC_ERROR_DEVICE, "%s: %s", what, text);
}

/* Makes the device's context current on this thread: each call below may
 * come from any of the app's threads. */
static tfc_status make_current(tfc_cuda_device *device) {
  tfc_cu_result result = device->driver->context_set(device->context);
  return result ? fail_cuda(result, "GPU %d: cuCtxSetCurrent failed",
                            device->ordinal)
                : TFC_OK;
}

tfc_status tfc_cuda_device_open(int ordinal, tfc_cuda_device *device) {
  memset(device, 0, sizeof(*device));
  const tfc_cuda_driver *d = tfc_cuda_driver_get();
  if (!d)
    return TFC_ERROR_DEVICE;
  int count = 0;
  tfc_cu_result result = d->device_count(&count);
  if (result)
    return fail_cuda(result, "cuDeviceGetCount failed");
  if (ordinal < 0 || ordinal >= count)
    return tfc_fail(TFC_ERROR_DEVICE,
                    "GPU %d asked for; this machine has %d CUDA device%s",
                    ordinal, count, count == 1 ? "" : "s");
  tfc_cuda_device opened;
  memset(&opened, 0, sizeof(opened));
  opened.driver = d;
  opened.ordinal = ordinal;
  if ((result = d->device_get(&opened.device, ordinal)))
    return fail_cuda(result, "GPU %d: cuDeviceGet failed", ordinal);
  if (d->device_name(opened.name, (int)sizeof(opened.name) - 1, opened.device))
    snprintf(opened.name, sizeof(opened.name), "GPU %d", ordinal);
  if ((result = d->device_attribute(&opened.major,
                                    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                                    opened.device)) ||
      (result = d->device_attribute(&opened.minor,
                                    CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                                    opened.device)))
    return fail_cuda(result, "GPU %d (%s): its compute capability is unknown",
                     ordinal, opened.name);
  if ((result = d->primary_retain(&opened.context, opened.device)))
    return fail_cuda(result, "GPU %d (%s): cuDevicePrimaryCtxRetain failed",
                     ordinal, opened.name);
  if ((result = d->context_set(opened.context)) ||
      (result = d->stream_create(&opened.stream, 0))) {
    d->primary_release(opened.device);
    return fail_cuda(result, "GPU %d (%s): no stream could be created",
                     ordinal, opened.name);
  }
  *device = opened;
  return TFC_OK;
}

void tfc_cuda_device_close(tfc_cuda_device *device) {
  if (!device->driver || !device->context)
    return;
  if (device->driver->context_set(device->context) == 0 && device->stream)
    device->driver->stream_destroy(device->stream);
  device->driver->primary_release(device->device);
  memset(device, 0, sizeof(*device));
}

tfc_status tfc_cuda_module_load(tfc_cuda_device *device, const char *ptx,
                                const char *what, tfc_cu_module *module) {
  *module = NULL;
  tfc_status status = make_current(device);
  if (status != TFC_OK)
    return status;
  char log[2048] = "";
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  void *values[] = {log, (void *)(uintptr_t)(sizeof(log) - 1)};
  tfc_cu_result result = device->driver->module_load(module, ptx, 2, options, values);
  if (result) {
    *module = NULL;
    log[sizeof(log) - 1] = '\0';
    char text[256];
    describe(result, text, sizeof(text));
    return tfc_fail(TFC_ERROR_DEVICE,
                    "%s: the driver could not compile its PTX for GPU %d (%s, "
                    "sm_%d%d): %s%s%s",
                    what, device->ordinal, device->name, device->major,
                    device->minor, text, log[0] ? "; JIT log: " : "", log);
  }
  return TFC_OK;
}

void tfc_cuda_module_unload(tfc_cuda_device *device, tfc_cu_module module) {
  if (module && make_current(device) == TFC_OK)
    device->driver->module_unload(module);
}

tfc_status tfc_cuda_function(tfc_cuda_device *device, tfc_cu_module module,
                             const char *name, tfc_cu_function *function) {
  tfc_cu_result result = device->driver->module_function(function, module, name);
  return result ? fail_cuda(result, "kernel %s is not in its module", name)
                : TFC_OK;
}

tfc_status tfc_cuda_launch(tfc_cuda_device *device, tfc_cu_function function,
                           const unsigned grid[3], const unsigned block[3],
                           unsigned shared_bytes, void **parameters,
                           const char *node) {
  tfc_status status = make_current(device);
  if (status != TFC_OK)
    return status;
  tfc_cu_result result = device->driver->launch(
      function, grid[0], grid[1], grid[2], block[0], block[1], block[2],
      shared_bytes, device->stream, parameters, NULL);
  return result ? fail_cuda(result,
                            "%s: the kernel launch (grid %ux%ux%u, block "
                            "%ux%ux%u) failed on GPU %d",
                            node, grid[0], grid[1], grid[2], block[0], block[1],
                            block[2], device->ordinal)
                : TFC_OK;
}

tfc_status tfc_cuda_alloc(tfc_cuda_device *device, size_t bytes,
                          tfc_cu_deviceptr *pointer) {
  *pointer = 0;
  tfc_status status = make_current(device);
  if (status != TFC_OK)
    return status;
  tfc_cu_result result = device->driver->mem_alloc(pointer, bytes ? bytes : 1);
  if (result) {
    *pointer = 0;
    return fail_cuda(result, "GPU %d: %zu bytes of device memory could not be "
                     "allocated", device->ordinal, bytes);
  }
  return TFC_OK;
}

void tfc_cuda_free(tfc_cuda_device *device, tfc_cu_deviceptr pointer) {
  if (pointer && make_current(device) == TFC_OK)
    device->driver->mem_free(pointer);
}

/* The three copies differ in the driver call only: `result` is its result
 * (0 when nothing was queued), `where` says where the copy went. */
static tfc_status copied(const tfc_cuda_device *device, tfc_cu_result result,
                         const char *where, size_t bytes) {
  return result ? fail_cuda(result, "GPU %d: copying %zu bytes %s failed",
                            device->ordinal, bytes, where)
                : TFC_OK;
}

tfc_status tfc_cuda_copy_to_device(tfc_cuda_device *device,
                                   tfc_cu_deviceptr target, const void *source,
                                   size_t bytes) {
  tfc_status status = make_current(device);
  if (status != TFC_OK || !bytes)
    return status;
  return copied(device,
                device->driver->copy_to_device(target, source, bytes, device->stream),
                "to the device", bytes);
}

tfc_status tfc_cuda_copy_to_host(tfc_cuda_device *device, void *target,
                                 tfc_cu_deviceptr source, size_t bytes) {
  tfc_status status = make_current(device);
  if (status != TFC_OK || !bytes)
    return status;
  return copied(device,
                device->driver->copy_to_host(target, source, bytes, device->stream),
                "from the device", bytes);
}

tfc_status tfc_cuda_copy_on_device(tfc_cuda_device *device,
                                   tfc_cu_deviceptr target,
                                   tfc_cu_deviceptr source, size_t bytes) {
  tfc_status status = make_current(device);
  if (status != TFC_OK || !bytes)
    return status;
  return copied(device,
                device->driver->copy_on_device(target, source, bytes, device->stream),
                "within the device", bytes);
}

tfc_status tfc_cuda_synchronize(tfc_cuda_device *device, const char *what) {
  tfc_status status = make_current(device);
  if (status != TFC_OK)
    return status;
  tfc_cu_result result = device->driver->stream_sync(device->stream);
  return result ? fail_cuda(result, "%s: the GPU reported an error", what)
                : TFC_OK;
}
