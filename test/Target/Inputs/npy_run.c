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
 *
 * An element matches when |got - want| <= atol + rtol * |want|, or both
 * are NaN, or equal; with --min-cosine, an output matches when its cosine
 * similarity with the reference is at least C (reduced precision).
 * --repeat N times N more runs after the first and prints their median
 * ("time: median X ms over N runs"). Prints
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
  int repeat = 0;
  tfc_tensor inputs[MAX_TENSORS], outputs[MAX_TENSORS];
  npy_array expected[MAX_TENSORS];
  size_t num_inputs = 0, num_outputs = 0;
  memset(inputs, 0, sizeof(inputs));
  memset(outputs, 0, sizeof(outputs));
  for (int i = 3; i < argc; ++i) {
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

  int status = 0;
  for (size_t o = 0; o < num_outputs; ++o) {
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
