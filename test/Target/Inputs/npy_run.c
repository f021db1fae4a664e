/*===- npy_run.c - run a model library on .npy files, in plain C ----------===*
 *
 * What `tfc run LIB --input ... --expect ...` does, for a model library
 * built for another architecture: this file is compiled for that
 * architecture too and run under qemu-user (test/Target/aarch64.test), where
 * tfc itself cannot run. It loads the library, runs the model once on the
 * inputs and compares each output with its reference:
 *
 *   npy_run LIB NAME [--input IN=FILE.npy]... [--expect OUT=FILE.npy]...
 *           [--rtol R] [--atol A] [--min-cosine C] [--repeat N]
 *           [--fill IN=DIMS]... [--output OUT=DIMS]... [--device-io]
 *
 * An element matches when |got - want| <= atol + rtol * |want|, or both
 * are NaN, or equal; with --min-cosine, an output matches when its cosine
 * similarity with the reference is at least C (reduced precision).
 * --repeat N times N more runs after the first and prints their median
 * ("time: median X ms over N runs"). --fill IN=2x128 makes an input of
 * those dims and the model's dtype from a fixed sequence (floats in
 * [-1, 1), integers in [0, 100)); --output OUT=DIMS asks for an output
 * without a reference (timing). --device-io (GPU models) passes inputs
 * and outputs in GPU memory (uploaded once, before the runs), so that
 * --repeat times the model alone. Prints
 * "target: ..." and one "match OUT" or "MISMATCH OUT" line per output;
 * exits 1 on a mismatch or any error. The .npy reader takes what the
 * fixtures hold: little-endian float32, int64 and int32, C order.
 *
 *===----------------------------------------------------------------------===*/

#include "tfc/runtime/tfc_runtime.h"

#include <dlfcn.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { MAX_TENSORS = 64 };

typedef struct npy_array {
  tfc_dtype dtype;
  int32_t rank;
  int64_t dims[TFC_MAX_RANK];
  void *data;
  size_t bytes;
} npy_array;

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "npy_run: error: %s%s%s\n", what, detail ? ": " : "",
          detail ? detail : "");
  exit(1);
}

/* Reads `path` (format version 1 or 2) into `array`. */
static void read_npy(const char *path, npy_array *array) {
  FILE *file = fopen(path, "rb");
  if (!file)
    fail("cannot open", path);
  unsigned char magic[8];
  if (fread(magic, 1, 8, file) != 8 || memcmp(magic, "\x93NUMPY", 6) != 0)
    fail("not a .npy file", path);
  size_t header_bytes = 0;
  if (magic[6] == 1) {
    unsigned char length[2];
    if (fread(length, 1, 2, file) != 2)
      fail("truncated header", path);
    header_bytes = length[0] | (size_t)length[1] << 8;
  } else {
    unsigned char length[4];
    if (fread(length, 1, 4, file) != 4)
      fail("truncated header", path);
    header_bytes = length[0] | (size_t)length[1] << 8 |
                   (size_t)length[2] << 16 | (size_t)length[3] << 24;
  }
  if (header_bytes > 65536)
    fail("header too long", path);
  char *header = calloc(header_bytes + 1, 1);
  if (!header || fread(header, 1, header_bytes, file) != header_bytes)
    fail("truncated header", path);

  size_t element_bytes;
  if (strstr(header, "'<f4'")) {
    array->dtype = TFC_DTYPE_FLOAT32;
    element_bytes = 4;
  } else if (strstr(header, "'<i8'")) {
    array->dtype = TFC_DTYPE_INT64;
    element_bytes = 8;
  } else if (strstr(header, "'<i4'")) {
    array->dtype = TFC_DTYPE_INT32;
    element_bytes = 4;
  } else {
    fail("element type not float32, int64 or int32", path);
  }
  if (strstr(header, "'fortran_order': True"))
    fail("Fortran order", path);
  const char *shape = strstr(header, "'shape': (");
  if (!shape)
    fail("no shape", path);
  shape += strlen("'shape': (");
  array->rank = 0;
  size_t elements = 1;
  while (*shape && *shape != ')') {
    char *end;
    long long dim = strtoll(shape, &end, 10);
    if (end == shape)
      break;
    if (array->rank == TFC_MAX_RANK || dim < 0 || dim > (1LL << 32))
      fail("unsupported shape", path);
    /* The element count and byte size must not wrap. */
    if (dim != 0 && elements > SIZE_MAX / element_bytes / (size_t)dim)
      fail("shape too large", path);
    array->dims[array->rank++] = dim;
    elements *= (size_t)dim;
    shape = end;
    while (*shape == ',' || *shape == ' ')
      ++shape;
  }
  free(header);
  array->bytes = elements * element_bytes;
  array->data = malloc(array->bytes ? array->bytes : 1);
  if (!array->data || fread(array->data, 1, array->bytes, file) != array->bytes)
    fail("truncated data", path);
  fclose(file);
}

static double element(const npy_array *a, size_t i) {
  switch (a->dtype) {
  case TFC_DTYPE_FLOAT32:
    return ((const float *)a->data)[i];
  case TFC_DTYPE_INT64:
    return (double)((const int64_t *)a->data)[i];
  default:
    return ((const int32_t *)a->data)[i];
  }
}

/* Splits "NAME=FILE" at the '='. */
static void split_binding(char *binding, char **name, char **file) {
  char *equals = strchr(binding, '=');
  if (!equals)
    fail("expected NAME=FILE.npy, got", binding);
  *equals = '\0';
  *name = binding;
  *file = equals + 1;
}

#define LOOKUP(handle, type, symbol)                                           \
  ((type)lookup(handle, symbol))
/* Fills `count` elements of `dtype` at `data` from a fixed sequence. */
static int fill_elements(void *data, tfc_dtype dtype, size_t count) {
  uint32_t state = 12345;
  for (size_t i = 0; i < count; ++i) {
    state = state * 1664525u + 1013904223u;
    float value = (float)(state >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
    switch (dtype) {
    case TFC_DTYPE_FLOAT32:
      ((float *)data)[i] = value;
      break;
    case TFC_DTYPE_BFLOAT16: {
      uint32_t bits;
      memcpy(&bits, &value, 4);
      ((uint16_t *)data)[i] = (uint16_t)((bits + 0x7fff + ((bits >> 16) & 1)) >> 16);
      break;
    }
    case TFC_DTYPE_INT64:
      ((int64_t *)data)[i] = (int64_t)(state >> 8) % 100;
      break;
    case TFC_DTYPE_INT32:
      ((int32_t *)data)[i] = (int32_t)((state >> 8) % 100);
      break;
    default:
      return 0;
    }
  }
  return 1;
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void *lookup(void *handle, const char *symbol) {
  void *address = dlsym(handle, symbol);
  if (!address)
    fail("the library has no symbol", symbol);
  return address;
}

int main(int argc, char **argv) {
  if (argc < 3)
    fail("usage: npy_run LIB NAME [--input IN=FILE.npy]... "
         "[--expect OUT=FILE.npy]... [--rtol R] [--atol A] [--min-cosine C] "
         "[--repeat N]",
         NULL);
  const char *library = argv[1], *name = argv[2];
  double rtol = 1e-3, atol = 1e-5, min_cosine = -2;
  int repeat = 0, device_io = 0;
  /* --fill: names and dims, made once the model's dtypes are known. */
  char *fill_names[MAX_TENSORS];
  int32_t fill_ranks[MAX_TENSORS];
  int64_t fill_dims[MAX_TENSORS][TFC_MAX_RANK];
  size_t num_fills = 0;
  /* --output: outputs asked for without a reference (their dims). */
  int has_reference[MAX_TENSORS] = {0};
  int32_t output_ranks[MAX_TENSORS] = {0};
  int64_t output_dims[MAX_TENSORS][TFC_MAX_RANK];
  tfc_tensor inputs[MAX_TENSORS], outputs[MAX_TENSORS];
  npy_array expected[MAX_TENSORS];
  size_t num_inputs = 0, num_outputs = 0;
  memset(inputs, 0, sizeof(inputs));
  memset(outputs, 0, sizeof(outputs));
  for (int i = 3; i < argc; ++i) {
    if (!strcmp(argv[i], "--device-io")) {
      device_io = 1;
      continue;
    }
    if (i + 1 >= argc)
      fail("missing value after", argv[i]);
    char *value = argv[++i], *tensor, *file;
    if (!strcmp(argv[i - 1], "--rtol")) {
      rtol = atof(value);
    } else if (!strcmp(argv[i - 1], "--atol")) {
      atol = atof(value);
    } else if (!strcmp(argv[i - 1], "--min-cosine")) {
      min_cosine = atof(value);
    } else if (!strcmp(argv[i - 1], "--repeat")) {
      repeat = atoi(value);
    } else if (!strcmp(argv[i - 1], "--fill") && num_fills < MAX_TENSORS) {
      char *dims;
      split_binding(value, &fill_names[num_fills], &dims);
      int32_t rank = 0;
      for (char *part = strtok(dims, "x"); part && rank < TFC_MAX_RANK;
           part = strtok(NULL, "x"))
        fill_dims[num_fills][rank++] = atoll(part);
      fill_ranks[num_fills++] = rank;
    } else if (!strcmp(argv[i - 1], "--input") && num_inputs < MAX_TENSORS) {
      split_binding(value, &tensor, &file);
      npy_array array;
      read_npy(file, &array);
      tfc_tensor *t = &inputs[num_inputs++];
      t->name = tensor;
      t->dtype = array.dtype;
      t->rank = array.rank;
      memcpy(t->dims, array.dims, sizeof(array.dims));
      t->data = array.data;
      t->capacity = array.bytes;
    } else if (!strcmp(argv[i - 1], "--expect") && num_outputs < MAX_TENSORS) {
      split_binding(value, &tensor, &file);
      read_npy(file, &expected[num_outputs]);
      has_reference[num_outputs] = 1;
      outputs[num_outputs++].name = tensor;
    } else if (!strcmp(argv[i - 1], "--output") && num_outputs < MAX_TENSORS) {
      char *dims;
      split_binding(value, &tensor, &dims);
      int32_t rank = 0;
      for (char *part = strtok(dims, "x"); part && rank < TFC_MAX_RANK;
           part = strtok(NULL, "x"))
        output_dims[num_outputs][rank++] = atoll(part);
      output_ranks[num_outputs] = rank;
      outputs[num_outputs++].name = tensor;
    } else {
      fail("unknown option or too many tensors", argv[i - 1]);
    }
  }

  void *handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    fail("cannot load the library", dlerror());
  char def_symbol[256];
  snprintf(def_symbol, sizeof(def_symbol), "%s_model_def", name);
  const tfc_model_def *(*model_def)(void) =
      LOOKUP(handle, const tfc_model_def *(*)(void), def_symbol);
  tfc_status (*create)(const tfc_model_def *, const tfc_options *,
                       tfc_model **) =
      LOOKUP(handle, tfc_status(*)(const tfc_model_def *, const tfc_options *,
                                   tfc_model **),
             "tfc_model_create");
  tfc_status (*run)(tfc_model *, const tfc_tensor *, size_t, tfc_tensor *,
                    size_t) =
      LOOKUP(handle, tfc_status(*)(tfc_model *, const tfc_tensor *, size_t,
                                   tfc_tensor *, size_t),
             "tfc_model_run");
  const char *(*target)(const tfc_model *) =
      LOOKUP(handle, const char *(*)(const tfc_model *), "tfc_model_target");
  const char *(*last_error)(void) =
      LOOKUP(handle, const char *(*)(void), "tfc_last_error");
  void (*destroy)(tfc_model *) =
      LOOKUP(handle, void (*)(tfc_model *), "tfc_model_destroy");

  tfc_model *model = NULL;
  if (create(model_def(), NULL, &model) != TFC_OK)
    fail("create", last_error());
  printf("target: %s\n", target(model));

  size_t (*num_model_inputs)(const tfc_model *) =
      LOOKUP(handle, size_t(*)(const tfc_model *), "tfc_model_num_inputs");
  const tfc_tensor_info *(*model_input)(const tfc_model *, size_t) =
      LOOKUP(handle, const tfc_tensor_info *(*)(const tfc_model *, size_t),
             "tfc_model_input");
  for (size_t f = 0; f < num_fills; ++f) {
    const tfc_tensor_info *info = NULL;
    for (size_t i = 0; i < num_model_inputs(model); ++i)
      if (!strcmp(model_input(model, i)->name, fill_names[f]))
        info = model_input(model, i);
    if (!info || num_inputs >= MAX_TENSORS)
      fail("--fill: the model has no input", fill_names[f]);
    tfc_tensor *t = &inputs[num_inputs++];
    t->name = fill_names[f];
    t->dtype = info->dtype;
    t->rank = fill_ranks[f];
    memcpy(t->dims, fill_dims[f], sizeof(fill_dims[f]));
    size_t count = 1;
    for (int32_t d = 0; d < t->rank; ++d)
      count *= (size_t)t->dims[d];
    size_t element = info->dtype == TFC_DTYPE_FLOAT32 || info->dtype == TFC_DTYPE_INT32 ? 4
                     : info->dtype == TFC_DTYPE_INT64                                  ? 8
                                                                                       : 2;
    t->capacity = count * element;
    t->data = malloc(t->capacity ? t->capacity : 1);
    if (!t->data || !fill_elements(t->data, info->dtype, count))
      fail("--fill: cannot make input", fill_names[f]);
  }

  /* --device-io: everything in GPU memory before the first run. */
  tfc_status (*device_alloc)(tfc_model *, size_t, void **) = NULL;
  tfc_status (*to_device)(tfc_model *, void *, const void *, size_t) = NULL;
  tfc_status (*to_host)(tfc_model *, void *, const void *, size_t) = NULL;
  void *device_outputs[MAX_TENSORS] = {0};
  if (device_io) {
    device_alloc = LOOKUP(handle, tfc_status(*)(tfc_model *, size_t, void **),
                          "tfc_model_device_alloc");
    to_device = LOOKUP(handle, tfc_status(*)(tfc_model *, void *, const void *, size_t),
                       "tfc_model_copy_to_device");
    to_host = LOOKUP(handle, tfc_status(*)(tfc_model *, void *, const void *, size_t),
                     "tfc_model_copy_to_host");
    for (size_t i = 0; i < num_inputs; ++i) {
      void *device = NULL;
      if (device_alloc(model, inputs[i].capacity, &device) != TFC_OK ||
          to_device(model, device, inputs[i].data, inputs[i].capacity) != TFC_OK)
        fail("--device-io", last_error());
      inputs[i].data = device;
      inputs[i].memory = TFC_MEMORY_DEVICE;
    }
    for (size_t o = 0; o < num_outputs; ++o) {
      size_t bytes = expected[o].bytes;
      if (!has_reference[o]) { /* --output: f32 of its dims */
        bytes = 4;
        for (int32_t d = 0; d < output_ranks[o]; ++d)
          bytes *= (size_t)output_dims[o][d];
      }
      if (device_alloc(model, bytes, &device_outputs[o]) != TFC_OK)
        fail("--device-io", last_error());
      outputs[o].data = device_outputs[o];
      outputs[o].capacity = bytes;
      outputs[o].memory = TFC_MEMORY_DEVICE;
    }
  }
  if (run(model, inputs, num_inputs, outputs, num_outputs) != TFC_OK)
    fail("run", last_error());
  if (repeat > 0) {
    double *times = malloc((size_t)repeat * sizeof(double));
    if (!times)
      fail("out of memory", NULL);
    for (int r = 0; r < repeat; ++r) {
      /* Into the buffers the first run allocated. */
      double start = now_ms();
      if (run(model, inputs, num_inputs, outputs, num_outputs) != TFC_OK)
        fail("run", last_error());
      times[r] = now_ms() - start;
    }
    qsort(times, (size_t)repeat, sizeof(double), compare_doubles);
    printf("time: median %.3f ms over %d runs\n", times[repeat / 2], repeat);
    free(times);
  }
  for (size_t o = 0; o < num_outputs && device_io; ++o) {
    if (!has_reference[o])
      continue;
    void *host = malloc(expected[o].bytes ? expected[o].bytes : 1);
    if (!host || to_host(model, host, device_outputs[o], expected[o].bytes) != TFC_OK)
      fail("--device-io", last_error());
    outputs[o].data = host;
  }

  int status = 0;
  for (size_t o = 0; o < num_outputs; ++o) {
    if (!has_reference[o])
      continue;
    const npy_array *want = &expected[o];
    npy_array got = {outputs[o].dtype, outputs[o].rank, {0}, outputs[o].data, 0};
    memcpy(got.dims, outputs[o].dims, sizeof(got.dims));
    int same_shape = got.rank == want->rank && got.dtype == want->dtype;
    size_t elements = 1;
    for (int32_t d = 0; same_shape && d < got.rank; ++d) {
      same_shape = got.dims[d] == want->dims[d];
      elements *= (size_t)got.dims[d];
    }
    if (!same_shape) {
      printf("MISMATCH %s: type or shape differs from the reference\n",
             outputs[o].name);
      status = 1;
      continue;
    }
    size_t mismatches = 0;
    double max_error = 0, dot = 0, got_norm = 0, want_norm = 0;
    for (size_t i = 0; i < elements; ++i) {
      double x = element(&got, i), y = element(want, i);
      if (!isnan(x) && !isnan(y)) {
        dot += x * y;
        got_norm += x * x;
        want_norm += y * y;
      }
    }
    double cosine = got_norm > 0 && want_norm > 0
                        ? dot / sqrt(got_norm * want_norm)
                        : (got_norm == want_norm ? 1 : 0);
    if (min_cosine > -2) {
      if (cosine >= min_cosine) {
        printf("match %s: cosine similarity %.6f\n", outputs[o].name, cosine);
      } else {
        printf("MISMATCH %s: cosine similarity %.6f, below %.6f\n",
               outputs[o].name, cosine, min_cosine);
        status = 1;
      }
      continue;
    }
    for (size_t i = 0; i < elements; ++i) {
      double a = element(&got, i), b = element(want, i);
      /* NaN where the reference has NaN, and equal infinities, match. */
      if ((isnan(a) && isnan(b)) || a == b)
        continue;
      double error = fabs(a - b);
      if (error > max_error)
        max_error = error;
      if (!(error <= atol + rtol * fabs(b)))
        ++mismatches;
    }
    if (mismatches) {
      printf("MISMATCH %s: %zu of %zu elements (max abs error %.3g)\n",
             outputs[o].name, mismatches, elements, max_error);
      status = 1;
    } else {
      printf("match %s: max abs error %.3g\n", outputs[o].name, max_error);
    }
  }
  destroy(model);
  return status;
}
