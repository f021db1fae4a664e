/*===- errors.c - status messages and dtype names ------------------------===*/

#include "runtime_internal.h"

#include <stdio.h>

static _Thread_local char last_error[1024];

tfc_status tfc_fail(tfc_status status, const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(last_error, sizeof(last_error), format, args);
  va_end(args);
  return status;
}

void tfc_clear_error(void) { last_error[0] = '\0'; }

const char *tfc_last_error(void) { return last_error; }

size_t tfc_dtype_size(tfc_dtype dtype) {
  switch (dtype) {
  case TFC_DTYPE_BOOL:
  case TFC_DTYPE_UINT8:
  case TFC_DTYPE_INT8:
    return 1;
  case TFC_DTYPE_UINT16:
  case TFC_DTYPE_INT16:
  case TFC_DTYPE_FLOAT16:
  case TFC_DTYPE_BFLOAT16:
    return 2;
  case TFC_DTYPE_FLOAT32:
  case TFC_DTYPE_INT32:
  case TFC_DTYPE_UINT32:
    return 4;
  case TFC_DTYPE_FLOAT64:
  case TFC_DTYPE_INT64:
  case TFC_DTYPE_UINT64:
    return 8;
  }
  return 0;
}

const char *tfc_dtype_name(tfc_dtype dtype) {
  switch (dtype) {
  case TFC_DTYPE_FLOAT32: return "float32";
  case TFC_DTYPE_UINT8: return "uint8";
  case TFC_DTYPE_INT8: return "int8";
  case TFC_DTYPE_UINT16: return "uint16";
  case TFC_DTYPE_INT16: return "int16";
  case TFC_DTYPE_INT32: return "int32";
  case TFC_DTYPE_INT64: return "int64";
  case TFC_DTYPE_BOOL: return "bool";
  case TFC_DTYPE_FLOAT16: return "float16";
  case TFC_DTYPE_FLOAT64: return "float64";
  case TFC_DTYPE_UINT32: return "uint32";
  case TFC_DTYPE_UINT64: return "uint64";
  case TFC_DTYPE_BFLOAT16: return "bfloat16";
  }
  return "unknown";
}

int64_t tfc_num_elements(int32_t rank, const int64_t *dims) {
  if (rank < 0 || (rank > 0 && !dims))
    return -1;
  int64_t count = 1;
  for (int32_t i = 0; i < rank; ++i) {
    if (dims[i] < 0 || __builtin_mul_overflow(count, dims[i], &count))
      return -1;
  }
  return count;
}

int tfc_tensor_bytes(int32_t rank, const int64_t *dims, tfc_dtype dtype,
                     size_t *bytes) {
  int64_t size = (int64_t)tfc_dtype_size(dtype);
  if (size == 0 || rank < 0 || (rank > 0 && !dims))
    return 0;
  int64_t bound = size, total = size;
  for (int32_t i = 0; i < rank; ++i) {
    if (dims[i] < 0 || __builtin_mul_overflow(bound, dims[i] ? dims[i] : 1, &bound))
      return 0;
    total = dims[i] ? total : 0;
  }
  *bytes = (size_t)(total ? bound : 0);
  return 1;
}
