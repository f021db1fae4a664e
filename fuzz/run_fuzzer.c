/*===- run_fuzzer.c - libFuzzer target: a compiled model's run entry ----===*
 *
 * Drives tfc_model_run of BERT-tiny (compiled with --sanitize=address, with
 * the runtime built under ASan and UBSan) with inputs and outputs decoded
 * from the fuzzer's bytes: how many tensors, bound by name or position (or
 * a wrong name), dtypes, ranks, dims, buffer capacities and contents,
 * output buffers. Each buffer is its own allocation of exactly its
 * capacity, so a read or write past it is reported. Any status is fine; a
 * crash, a sanitizer report or a write past an output's capacity is not.
 *
 *===----------------------------------------------------------------------===*/

#include "bert.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static tfc_model *model;

/* Reads the fuzzer's bytes in order; past the end, zeros. */
typedef struct {
  const uint8_t *data;
  size_t size, at;
} reader;

static uint64_t take(reader *r, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i)
    value |= (uint64_t)(r->at < r->size ? r->data[r->at++] : 0) << (8 * i);
  return value;
}

/* Dims as the fuzzer would pick them: mostly small, sometimes anything. */
static int64_t take_dim(reader *r) {
  uint8_t kind = (uint8_t)take(r, 1);
  if (kind < 200)
    return kind % 9;
  if (kind < 230)
    return (int64_t)take(r, 2);
  return (int64_t)take(r, 8);
}

static const char *take_name(reader *r, const char *right) {
  switch (take(r, 1) % 4) {
  case 0:
    return NULL; /* by position */
  case 1:
  case 2:
    return right;
  default:
    return "no_such_tensor";
  }
}

static const tfc_dtype dtypes[] = {TFC_DTYPE_INT64, TFC_DTYPE_INT32,
                                   TFC_DTYPE_FLOAT32, (tfc_dtype)99};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc, (void)argv;
  tfc_options options;
  tfc_options_init(&options);
  options.num_threads = 2; /* checks that fail in parallel loops too */
  if (bert_create(&options, &model) != TFC_OK)
    abort();
  return 0;
}

enum { MAX_BUFFER = 1 << 16, GUARD = 16 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  reader r = {data, size, 0};
  size_t num_inputs = take(&r, 1) % 4, num_outputs = take(&r, 1) % 4;
  tfc_tensor inputs[3], outputs[3];
  void *buffers[6] = {0};
  memset(inputs, 0, sizeof(inputs));
  memset(outputs, 0, sizeof(outputs));
  const char *input_names[] = {"input_ids", "attention_mask", "input_ids"};
  for (size_t i = 0; i < num_inputs; ++i) {
    tfc_tensor *t = &inputs[i];
    t->name = take_name(&r, input_names[i]);
    t->dtype = dtypes[take(&r, 1) % 4];
    uint8_t rank = (uint8_t)take(&r, 1);
    t->rank = rank < 250 ? rank % 4 : (int32_t)take(&r, 4);
    for (int d = 0; d < TFC_MAX_RANK; ++d)
      t->dims[d] = d < 3 ? take_dim(&r) : 0;
    t->capacity = take(&r, 2) % MAX_BUFFER;
    buffers[i] = malloc(t->capacity ? t->capacity : 1);
    /* Ids and mask: small values mostly, so that runs get past the
     * embedding's range check; anything else sometimes. */
    uint8_t *bytes = buffers[i];
    for (size_t b = 0; b < t->capacity; ++b)
      bytes[b] = r.at < r.size ? (uint8_t)take(&r, 1) : (uint8_t)(b % 8 == 0);
    t->data = take(&r, 1) == 255 ? NULL : buffers[i];
  }
  const char *output_names[] = {"last_hidden_state", "pooler_output",
                                "pooler_output"};
  for (size_t i = 0; i < num_outputs; ++i) {
    tfc_tensor *t = &outputs[i];
    t->name = take_name(&r, output_names[i]);
    if (take(&r, 1) % 2) {
      t->capacity = take(&r, 2) % MAX_BUFFER;
      /* A guard after the capacity: the runtime must not write into it. */
      buffers[3 + i] = malloc(t->capacity + GUARD);
      memset(buffers[3 + i], 0xA5, t->capacity + GUARD);
      t->data = buffers[3 + i];
    }
  }
  tfc_status status = tfc_model_run(model, inputs, num_inputs, outputs, num_outputs);
  for (size_t i = 0; i < num_outputs; ++i) {
    if (!buffers[3 + i]) {
      if (outputs[i].data && status != TFC_OK)
        abort(); /* a failed run allocates nothing for the caller */
      tfc_free(outputs[i].data);
      continue;
    }
    const uint8_t *guard = (const uint8_t *)buffers[3 + i] + outputs[i].capacity;
    for (int g = 0; g < GUARD; ++g)
      if (guard[g] != 0xA5)
        abort(); /* written past the caller's capacity */
  }
  if (status != TFC_OK && tfc_last_error()[0] == '\0')
    abort(); /* a failure says why */
  for (int i = 0; i < 6; ++i)
    free(buffers[i]);
  return 0;
}
