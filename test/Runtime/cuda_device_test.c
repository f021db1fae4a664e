/*===- cuda_device_test.c - the GPU device layer without a GPU -------------===*
 *
 * Drives lib/Runtime/cuda_device.c through a model's life on a GPU (open,
 * JIT a module, find a kernel, allocate, copy in, launch, synchronize, copy
 * out, release) and prints each step's status and message, for
 * cuda-device.test to check against a stand-in driver (fake_cuda.c, chosen
 * with TFC_CUDA_DRIVER) that fails where FAKE_CUDA_FAIL says, or against a
 * driver that is missing or lacks an entry point.
 *
 * Usage: tfc-cuda-device-test [GPU] [PTX-FILE]
 *   GPU: the ordinal to open (0). With PTX-FILE (what tfc compile
 *   --target=cuda --emit=ptx writes), only loads it, which JIT-compiles it
 *   for the GPU, and looks up every kernel it defines: on a real GPU, the
 *   check that the driver takes tfc's PTX (scripts/gpu-check).
 *
 *===----------------------------------------------------------------------===*/

#include "cuda_device.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *status_line(tfc_status status) {
  return status == TFC_OK ? "ok" : tfc_last_error();
}

/* Prints the step and returns whether it succeeded. */
static int step(const char *what, tfc_status status) {
  printf("%s: %s%s\n", what, status == TFC_OK ? "" : "error: ",
         status_line(status));
  return status == TFC_OK;
}

static char *read_file(const char *path) {
  FILE *file = fopen(path, "rb");
  if (!file)
    return NULL;
  fseek(file, 0, SEEK_END);
  long size = ftell(file);
  fseek(file, 0, SEEK_SET);
  char *text = size >= 0 ? malloc((size_t)size + 1) : NULL;
  if (text && fread(text, 1, (size_t)size, file) == (size_t)size)
    text[size] = '\0';
  else {
    free(text);
    text = NULL;
  }
  fclose(file);
  return text;
}

/* Loads `ptx` and finds each `.entry` it defines; 0 when all are found. */
static int check_module(tfc_cuda_device *device, const char *ptx,
                        const char *path) {
  tfc_cu_module module = NULL;
  if (!step("module", tfc_cuda_module_load(device, ptx, path, &module)))
    return 1;
  int entries = 0, found = 0;
  for (const char *at = strstr(ptx, ".entry "); at; at = strstr(at + 1, ".entry ")) {
    const char *name = at + strlen(".entry ");
    size_t length = strcspn(name, "( \t\n");
    char kernel[256];
    if (length == 0 || length >= sizeof(kernel))
      continue;
    memcpy(kernel, name, length);
    kernel[length] = '\0';
    ++entries;
    tfc_cu_function function;
    if (tfc_cuda_function(device, module, kernel, &function) == TFC_OK)
      ++found;
    else
      printf("kernel %s: error: %s\n", kernel, tfc_last_error());
  }
  printf("kernels: %d of %d found\n", found, entries);
  tfc_cuda_module_unload(device, module);
  return entries > 0 && found == entries ? 0 : 1;
}

int main(int argc, char **argv) {
  int ordinal = argc > 1 ? atoi(argv[1]) : 0;
  char *ptx = argc > 2 ? read_file(argv[2]) : NULL;
  const char *module_text = ".version 7.8\n.target sm_90\n.entry add_kernel()\n{\n ret;\n}\n";

  tfc_cuda_device device;
  if (!step("open", tfc_cuda_device_open(ordinal, &device))) {
    free(ptx);
    return 1;
  }
  printf("device: %s, sm_%d%d\n", device.name, device.major, device.minor);
  if (argc > 2) {
    int rc = ptx ? check_module(&device, ptx, argv[2]) : 1;
    if (!ptx)
      printf("module: error: cannot read %s\n", argv[2]);
    tfc_cuda_device_close(&device);
    printf("closed\n");
    free(ptx);
    return rc;
  }
  int ok = 0;
  tfc_cu_module module = NULL;
  tfc_cu_function function = NULL;
  tfc_cu_deviceptr buffer = 0;
  float host[4] = {1, 2, 3, 4}, back[4] = {0};
  if (step("module", tfc_cuda_module_load(&device, module_text, "model 'fixture'", &module)) &&
      step("function", tfc_cuda_function(&device, module, "add_kernel", &function)) &&
      step("alloc", tfc_cuda_alloc(&device, sizeof(host), &buffer)) &&
      step("copy in", tfc_cuda_copy_to_device(&device, buffer, host, sizeof(host)))) {
    unsigned grid[3] = {4, 1, 1}, block[3] = {128, 1, 1};
    void *parameters[] = {&buffer};
    if (step("launch", tfc_cuda_launch(&device, function, grid, block, 0, parameters,
                                       "node '/layers.0/MatMul' (tfm.linear)")) &&
        step("synchronize", tfc_cuda_synchronize(&device, "model 'fixture' run")) &&
        step("copy out", tfc_cuda_copy_to_host(&device, back, buffer, sizeof(back))) &&
        step("synchronize", tfc_cuda_synchronize(&device, "model 'fixture' outputs"))) {
      ok = memcmp(host, back, sizeof(host)) == 0;
      printf("round trip: %s\n", ok ? "same bytes" : "DIFFERENT BYTES");
    }
  }
  tfc_cuda_free(&device, buffer);
  tfc_cuda_module_unload(&device, module);
  tfc_cuda_device_close(&device);
  printf("closed\n");
  free(ptx);
  return ok ? 0 : 1;
}
