/* Drives models compiled by tfc through the runtime API's error paths: every
 * bad call must return the right status with a message that names what is
 * wrong, write nothing out of bounds, and leave the instance usable. It
 * also calls a kernel on views that compiled models do not pass (the layer
 * norm's strided path). Run under AddressSanitizer as tfc-runtime-test-asan.
 *
 * Models: bert (input_ids, attention_mask: int64 [batch, sequence]; a
 * 1000-word vocabulary and 128 positions), vit (pixel_values: float32
 * [batch, 3, 32, 32]) and decoder (two causal linear attentions compiled
 * with --decoder: Inputs/linear-attention-decoder.mlir). */

#include "bert.h"
#include "decoder.h"
#include "runtime_internal.h"
#include "tfc/runtime/tfc_abi.h"
#include "vit.h"

#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0, checks = 0;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    ++checks;                                                                  \
    if (!(cond)) {                                                             \
      ++failures;                                                              \
      printf("FAIL %s:%d: ", __FILE__, __LINE__);                              \
      printf(__VA_ARGS__);                                                     \
      printf("\n");                                                            \
    }                                                                          \
  } while (0)

/* Expects `status` and a message containing `fragment`. */
static void expect_error(const char *what, tfc_status status, tfc_status expected,
                         const char *fragment) {
  const char *message = tfc_last_error();
  CHECK(status == expected, "%s: status %d, expected %d (%s)", what, status,
        expected, message);
  CHECK(strstr(message, fragment) != NULL, "%s: message '%s' lacks '%s'", what,
        message, fragment);
  printf("ok %-44s -> %s\n", what, message);
}

enum { BATCH = 2, SEQUENCE = 5, HIDDEN = 64 };
static int64_t ids[BATCH * SEQUENCE], mask[BATCH * SEQUENCE];

/* BERT's inputs in the given arrays of BATCH * SEQUENCE ids and mask. */
static void bert_inputs_in(tfc_tensor inputs[2], int64_t *ids_out, int64_t *mask_out) {
  for (int i = 0; i < BATCH * SEQUENCE; ++i) {
    ids_out[i] = (i * 37) % 1000;
    mask_out[i] = i % SEQUENCE < 4 ? 1 : 0;
  }
  const size_t bytes = sizeof(int64_t) * BATCH * SEQUENCE;
  memset(inputs, 0, 2 * sizeof(tfc_tensor));
  inputs[0] = (tfc_tensor){.name = "input_ids", .dtype = TFC_DTYPE_INT64, .rank = 2,
                           .dims = {BATCH, SEQUENCE}, .data = ids_out,
                           .capacity = bytes};
  inputs[1] = (tfc_tensor){.name = "attention_mask", .dtype = TFC_DTYPE_INT64,
                           .rank = 2, .dims = {BATCH, SEQUENCE}, .data = mask_out,
                           .capacity = bytes};
}

static void bert_inputs(tfc_tensor inputs[2]) { bert_inputs_in(inputs, ids, mask); }

static void test_create(void) {
  tfc_model *model = (tfc_model *)1;
  expect_error("create with a NULL definition", tfc_model_create(NULL, NULL, &model),
               TFC_ERROR_INVALID_ARGUMENT, "must not be NULL");
  expect_error("create with a NULL result", tfc_model_create(bert_model_def(), NULL, NULL),
               TFC_ERROR_INVALID_ARGUMENT, "must not be NULL");
  tfc_options options;
  tfc_options_init(&options);
  options.num_threads = -3;
  expect_error("create with -3 threads", tfc_model_create(bert_model_def(), &options, &model),
               TFC_ERROR_INVALID_ARGUMENT, "num_threads is -3");
  CHECK(model == NULL, "a failed create leaves *model NULL");

  /* A definition from another ABI version is refused before anything is read. */
  struct tfc_model_def other = *bert_model_def();
  other.abi_version = TFC_ABI_VERSION + 1;
  expect_error("create from another ABI version", tfc_model_create(&other, NULL, &model),
               TFC_ERROR_ABI_MISMATCH, "recompile");

  /* A model's kernels' instruction set is checked against this CPU: a
   * model for AVX-512 is refused where the CPU has none (and created where
   * it has), never left to die of an illegal instruction. */
  CHECK(strstr(bert_model_def()->target, "kernels") != NULL,
        "the definition says what it was compiled for");
  struct tfc_model_def avx512 = *bert_model_def();
  avx512.isa = TFC_RT_ISA_AVX512;
  int has_avx512 = __builtin_cpu_supports("avx512f") &&
                   __builtin_cpu_supports("avx512bw") &&
                   __builtin_cpu_supports("avx512dq") &&
                   __builtin_cpu_supports("avx512vl");
  if (has_avx512) {
    CHECK(tfc_model_create(&avx512, NULL, &model) == TFC_OK,
          "a model for AVX-512 is created on an AVX-512 CPU");
    tfc_model_destroy(model);
  } else {
    expect_error("create a model for AVX-512 on a CPU without it",
                 tfc_model_create(&avx512, NULL, &model),
                 TFC_ERROR_UNSUPPORTED_CPU, "compiled for AVX-512");
  }
  struct tfc_model_def avx2 = *bert_model_def();
  avx2.isa = TFC_RT_ISA_AVX2;
  CHECK(tfc_model_create(&avx2, NULL, &model) == TFC_OK,
        "a model for AVX2 is created on an AVX2 CPU (every machine here)");
  tfc_model_destroy(model);
}

static void test_bad_inputs(tfc_model *bert) {
  tfc_tensor inputs[2], outputs[2];
  memset(outputs, 0, sizeof(outputs));

  bert_inputs(inputs);
  expect_error("one input of two", tfc_model_run(bert, inputs, 1, outputs, 0),
               TFC_ERROR_INVALID_ARGUMENT, "takes 2 inputs, got 1");
  expect_error("NULL input array", tfc_model_run(bert, NULL, 2, outputs, 0),
               TFC_ERROR_INVALID_ARGUMENT, "NULL");

  bert_inputs(inputs);
  inputs[1].name = "token_type_ids";
  expect_error("unknown input name", tfc_model_run(bert, inputs, 2, outputs, 0),
               TFC_ERROR_INVALID_ARGUMENT, "no input named 'token_type_ids'");

  bert_inputs(inputs);
  inputs[1].name = "input_ids";
  expect_error("input given twice", tfc_model_run(bert, inputs, 2, outputs, 0),
               TFC_ERROR_INVALID_ARGUMENT, "'input_ids' is given twice");

  bert_inputs(inputs);
  inputs[0].dtype = TFC_DTYPE_FLOAT32;
  expect_error("float32 ids", tfc_model_run(bert, inputs, 2, outputs, 0),
               TFC_ERROR_DTYPE, "must be int64, got float32");

  bert_inputs(inputs);
  inputs[1].rank = 3;
  inputs[1].dims[2] = 1;
  expect_error("rank-3 mask", tfc_model_run(bert, inputs, 2, outputs, 0),
               TFC_ERROR_SHAPE, "must have rank 2");

  bert_inputs(inputs);
  inputs[1].dims[0] = 3;
  expect_error("batch 2 ids, batch 3 mask", tfc_model_run(bert, inputs, 2, outputs, 0),
               TFC_ERROR_SHAPE, "dim 'batch' is 2 in input 'input_ids' but 3");

  bert_inputs(inputs);
  inputs[0].dims[1] = -1;
  expect_error("negative dim", tfc_model_run(bert, inputs, 2, outputs, 0),
               TFC_ERROR_SHAPE, "negative dim");

  bert_inputs(inputs);
  inputs[0].data = NULL;
  expect_error("ids without data", tfc_model_run(bert, inputs, 2, outputs, 0),
               TFC_ERROR_INVALID_ARGUMENT, "has no data");

  /* GPU memory is for GPU models; other memory kinds do not exist. */
  bert_inputs(inputs);
  inputs[1].memory = TFC_MEMORY_DEVICE;
  expect_error("mask in GPU memory", tfc_model_run(bert, inputs, 2, outputs, 0),
               TFC_ERROR_INVALID_ARGUMENT,
               "input 'attention_mask' is in GPU memory, but model 'bert' runs on the CPU");
  bert_inputs(inputs);
  inputs[0].memory = 7;
  expect_error("memory 7", tfc_model_run(bert, inputs, 2, outputs, 0),
               TFC_ERROR_INVALID_ARGUMENT, "input 'input_ids' has memory 7");
  bert_inputs(inputs);
  outputs[0].memory = TFC_MEMORY_DEVICE;
  outputs[0].data = ids; /* any pointer: refused before use */
  expect_error("output in GPU memory", tfc_model_run(bert, inputs, 2, outputs, 1),
               TFC_ERROR_INVALID_ARGUMENT, "is wanted in GPU memory, but model 'bert' runs on the CPU");
  memset(outputs, 0, sizeof(outputs));
  void *device = NULL;
  expect_error("device memory of a CPU model", tfc_model_device_alloc(bert, 64, &device),
               TFC_ERROR_INVALID_ARGUMENT, "model 'bert' runs on the CPU");
  expect_error("a copy for a CPU model", tfc_model_copy_to_device(bert, ids, mask, 8),
               TFC_ERROR_INVALID_ARGUMENT, "tfc_model_copy_to_device: model 'bert' runs on the CPU");

  /* Dims whose element count wraps past 2^64 (to 0 here: 2^32 * 2^32) must
   * not pass as a small tensor; nor may zero hide a product that overflows. */
  bert_inputs(inputs);
  inputs[0].dims[0] = inputs[1].dims[0] = (int64_t)1 << 32;
  inputs[0].dims[1] = inputs[1].dims[1] = (int64_t)1 << 32;
  expect_error("dims of 2^32 x 2^32", tfc_model_run(bert, inputs, 2, outputs, 0),
               TFC_ERROR_SHAPE, "shape [4294967296, 4294967296], whose size in bytes overflows");
  bert_inputs(inputs);
  inputs[0].dims[0] = inputs[1].dims[0] = 0;
  inputs[0].dims[1] = inputs[1].dims[1] = (int64_t)1 << 62;
  expect_error("dims of 0 x 2^62", tfc_model_run(bert, inputs, 2, outputs, 0),
               TFC_ERROR_SHAPE, "whose size in bytes overflows");

  /* A buffer smaller than its dims say: read past its end before. */
  bert_inputs(inputs);
  inputs[0].capacity = 2 * sizeof(int64_t);
  expect_error("ids [2, 5] in a 2-element buffer", tfc_model_run(bert, inputs, 2, outputs, 0),
               TFC_ERROR_SHAPE, "input 'input_ids' of shape [2, 5] needs 80 bytes; its buffer has 16");
  bert_inputs(inputs);
  inputs[1].capacity = 0;
  expect_error("mask without a capacity", tfc_model_run(bert, inputs, 2, outputs, 0),
               TFC_ERROR_SHAPE, "needs 80 bytes; its buffer has 0");

  bert_inputs(inputs);
  outputs[0].name = "logits";
  expect_error("unknown output name", tfc_model_run(bert, inputs, 2, outputs, 1),
               TFC_ERROR_INVALID_ARGUMENT, "no output named 'logits'");
  memset(outputs, 0, sizeof(outputs));
}

static void test_model_checks(tfc_model *bert) {
  tfc_tensor inputs[2], output;
  memset(&output, 0, sizeof(output));

  /* A word id past the vocabulary: the embedding gather's check. */
  bert_inputs(inputs);
  ids[3] = 1000;
  expect_error("word id past the vocabulary", tfc_model_run(bert, inputs, 2, &output, 1),
               TFC_ERROR_MODEL_CHECK, "index is out of range");

  /* More positions than the model has embeddings for (128): the position
   * embeddings no longer match the sequence. */
  enum { LONG = 130 };
  static int64_t long_ids[LONG], long_mask[LONG];
  for (int i = 0; i < LONG; ++i) {
    long_ids[i] = i;
    long_mask[i] = 1;
  }
  tfc_tensor long_inputs[2] = {
      {.name = "input_ids", .dtype = TFC_DTYPE_INT64, .rank = 2, .dims = {1, LONG},
       .data = long_ids, .capacity = sizeof(long_ids)},
      {.name = "attention_mask", .dtype = TFC_DTYPE_INT64, .rank = 2, .dims = {1, LONG},
       .data = long_mask, .capacity = sizeof(long_mask)}};
  expect_error("130 tokens, 128 positions", tfc_model_run(bert, long_inputs, 2, &output, 1),
               TFC_ERROR_MODEL_CHECK, "'/Add_1'");
}

static void test_outputs(tfc_model *bert) {
  tfc_tensor inputs[2];
  bert_inputs(inputs);

  /* Too small a buffer: an error, the needed size, and not a byte written
   * past the capacity (the guard after it stays intact). */
  enum { CAPACITY = 16 };
  unsigned char buffer[CAPACITY + 16];
  memset(buffer, 0xAB, sizeof(buffer));
  tfc_tensor small = {.name = "pooler_output", .data = buffer, .capacity = CAPACITY};
  expect_error("pooler_output into 16 bytes", tfc_model_run(bert, inputs, 2, &small, 1),
               TFC_ERROR_SHAPE, "needs 512 bytes; its buffer has 16");
  int intact = 1;
  for (int i = CAPACITY; i < CAPACITY + 16; ++i)
    intact &= buffer[i] == 0xAB;
  CHECK(intact, "nothing is written past an output's capacity");
  CHECK(small.rank == 2 && small.dims[0] == BATCH && small.dims[1] == HIDDEN,
        "a too-small output still reports its shape");

  /* After all the failures above the instance still runs, and outputs come
   * back by name in any order, in the caller's buffer or the runtime's. */
  static float pooled[BATCH * HIDDEN];
  tfc_tensor outputs[2] = {
      {.name = "pooler_output", .data = pooled, .capacity = sizeof(pooled)},
      {.name = "last_hidden_state"}};
  tfc_status status = tfc_model_run(bert, inputs, 2, outputs, 2);
  CHECK(status == TFC_OK, "a good run after failed ones: %s", tfc_last_error());
  CHECK(outputs[1].rank == 3 && outputs[1].dims[0] == BATCH &&
            outputs[1].dims[1] == SEQUENCE && outputs[1].dims[2] == HIDDEN,
        "last_hidden_state has shape [2, 5, 64]");
  CHECK(outputs[1].data != NULL && outputs[1].capacity == sizeof(float) * BATCH * SEQUENCE * HIDDEN,
        "the runtime allocated last_hidden_state");
  int finite = 1;
  for (int i = 0; i < BATCH * HIDDEN; ++i)
    finite &= pooled[i] == pooled[i] && pooled[i] >= -1.0f && pooled[i] <= 1.0f;
  CHECK(finite, "pooler_output is a tanh: finite and in [-1, 1]");
  printf("ok %-44s -> pooled[0] = %f\n", "a good run after failed ones", pooled[0]);
  tfc_free(outputs[1].data);

  /* Positional binding: inputs and outputs without names. */
  inputs[0].name = inputs[1].name = NULL;
  tfc_tensor first = {0};
  status = tfc_model_run(bert, inputs, 2, &first, 1);
  CHECK(status == TFC_OK && first.rank == 3, "positional inputs and outputs: %s",
        tfc_last_error());
  tfc_free(first.data);
}

/* Memory planning: the first run with given dims records its buffers and
 * lays them out in one arena; the next run with those dims takes every
 * buffer from the arena (no allocation at all) and computes the same; other
 * dims record a plan of their own, and the block cache stays within the
 * bound of the peak live bytes. */
static void test_memory_plan(void) {
  tfc_model *bert = NULL;
  CHECK(bert_create(NULL, &bert) == TFC_OK, "bert_create: %s", tfc_last_error());
  tfc_allocator *allocator = &bert->allocator;
  const tfc_memory_plan *plan = &allocator->plan;
  tfc_tensor inputs[2];
  bert_inputs(inputs);
  static float first[BATCH * HIDDEN], second[BATCH * HIDDEN];
  tfc_tensor output = {.name = "pooler_output", .data = first, .capacity = sizeof(first)};
  CHECK(tfc_model_run(bert, inputs, 2, &output, 1) == TFC_OK, "run 1: %s", tfc_last_error());
  CHECK(plan->planned && plan->arena && plan->count > 0 && plan->fresh_blocks > 0,
        "run 1 records a plan (%zu buffers, %zu arena bytes)", plan->count,
        plan->arena_bytes);
  CHECK(allocator->live_bytes == 0, "no block is live between runs");
  const char *arena = plan->arena;
  size_t buffers = plan->count, arena_bytes = plan->arena_bytes;
  /* Buffers that live at once must not share bytes. */
  int disjoint = 1;
  for (size_t a = 0; a < plan->count; ++a)
    for (size_t b = a + 1; b < plan->count; ++b) {
      const tfc_plan_entry *x = &plan->entries[a], *y = &plan->entries[b];
      int64_t x_died = x->died < 0 ? INT64_MAX : x->died;
      int64_t y_died = y->died < 0 ? INT64_MAX : y->died;
      int live_together = x->born < y_died && y->born < x_died;
      int share = x->offset < y->offset + y->size && y->offset < x->offset + x->size;
      disjoint &= !(live_together && share);
    }
  CHECK(disjoint, "buffers live at the same time are disjoint in the arena");

  output.data = second;
  CHECK(tfc_model_run(bert, inputs, 2, &output, 1) == TFC_OK, "run 2: %s", tfc_last_error());
  CHECK(plan->planned && plan->arena == arena && plan->replayed == buffers &&
            plan->fresh_blocks == 0,
        "run 2 takes its %zu buffers from the arena (%zu replayed, %zu allocated)",
        buffers, plan->replayed, plan->fresh_blocks);
  CHECK(memcmp(first, second, sizeof(first)) == 0, "run 2 computes what run 1 did");

  /* Batch 1, then 2 again: each records its own plan. */
  inputs[0].dims[0] = inputs[1].dims[0] = 1;
  CHECK(tfc_model_run(bert, inputs, 2, &output, 1) == TFC_OK, "batch 1: %s", tfc_last_error());
  CHECK(plan->planned && plan->replayed == 0 && plan->count > 0,
        "batch 1 records a plan of its own");
  inputs[0].dims[0] = inputs[1].dims[0] = BATCH;
  memset(second, 0, sizeof(second));
  CHECK(tfc_model_run(bert, inputs, 2, &output, 1) == TFC_OK, "batch 2: %s", tfc_last_error());
  CHECK(tfc_model_run(bert, inputs, 2, &output, 1) == TFC_OK, "batch 2 again: %s",
        tfc_last_error());
  CHECK(plan->replayed == buffers && plan->fresh_blocks == 0,
        "batch 2 replays its plan again (%zu replayed)", plan->replayed);
  size_t bound = allocator->peak_bytes + allocator->peak_bytes / 4 + 4096;
  CHECK(allocator->cached_bytes <= bound, "the cache stays within %zu bytes: %zu", bound,
        allocator->cached_bytes);
  CHECK(memcmp(first, second, sizeof(first)) == 0, "batch 2 after batch 1 computes the same");
  printf("ok %-44s -> %zu buffers in an arena of %zu bytes; peak live %zu\n",
         "memory plan replayed across runs", buffers, arena_bytes, allocator->peak_bytes);
  tfc_model_destroy(bert);
}

static void test_static_dims(void) {
  tfc_model *vit = NULL;
  CHECK(vit_create(NULL, &vit) == TFC_OK, "vit_create: %s", tfc_last_error());
  static float pixels[2 * 3 * 32 * 32];
  tfc_tensor input = {.dtype = TFC_DTYPE_FLOAT32, .rank = 4, .dims = {2, 3, 31, 32},
                      .data = pixels, .capacity = sizeof(pixels)};
  tfc_tensor output = {0};
  expect_error("a 31x32 image for a 32x32 model", tfc_model_run(vit, &input, 1, &output, 1),
               TFC_ERROR_SHAPE, "must have shape [?, 3, 32, 32], got [2, 3, 31, 32]");
  input.dims[2] = 32;
  CHECK(tfc_model_run(vit, &input, 1, &output, 1) == TFC_OK, "vit run: %s", tfc_last_error());
  CHECK(output.rank == 2 && output.dims[0] == 2 && output.dims[1] == 10,
        "vit logits are [2, 10]");
  tfc_free(output.data);
  tfc_model_destroy(vit);
}

/* The layer norm kernel called as generated code calls it, on views with a
 * stride in the last dim (its scalar path; compiled models pass contiguous
 * rows) and with contiguous ones (its vector path, with a 37-float row's
 * scalar tail), against a double-precision reference. */
static void test_layer_norm_views(void) {
  enum { ROWS = 3, D = 37 };
  static float spread[ROWS * D * 2], packed[ROWS * D], skip[ROWS * D];
  static float scale[D * 3], bias[D], out[ROWS * D], out_strided[ROWS * D * 2];
  for (int i = 0; i < ROWS * D; ++i) {
    packed[i] = spread[2 * i] = (float)((i * 7) % 11) - 4.5f;
    skip[i] = (float)(i % 5) * 0.25f;
  }
  for (int j = 0; j < D; ++j) {
    scale[3 * j] = 1.0f + 0.01f * j;
    bias[j] = 0.1f * (j % 3);
  }
  tfc_rt_memref3 in_strided = {spread, spread, 0, {1, ROWS, D}, {ROWS * D * 2, D * 2, 2}};
  tfc_rt_memref3 in = {packed, packed, 0, {1, ROWS, D}, {ROWS * D, D, 1}};
  tfc_rt_memref3 sk = {skip, skip, 0, {1, ROWS, D}, {ROWS * D, D, 1}};
  tfc_rt_memref1 sc_strided = {scale, scale, 0, {D}, {3}};
  static float scale_packed[D];
  for (int j = 0; j < D; ++j)
    scale_packed[j] = scale[3 * j];
  tfc_rt_memref1 sc = {scale_packed, scale_packed, 0, {D}, {1}};
  tfc_rt_memref1 bi = {bias, bias, 0, {D}, {1}};
  tfc_rt_memref3 o = {out, out, 0, {1, ROWS, D}, {ROWS * D, D, 1}};
  tfc_rt_memref3 o_strided = {out_strided, out_strided, 0, {1, ROWS, D},
                                  {ROWS * D * 2, D * 2, 2}};
  /* The AVX2 variant, which every machine this runs on has. */
  int64_t flags = TFC_RT_LAYER_NORM_HAS_BIAS | TFC_RT_LAYER_NORM_HAS_SKIP |
                  TFC_RT_DTYPE_F32 << TFC_RT_DTYPE_SHIFT |
                  TFC_RT_ISA_AVX2 << TFC_RT_ISA_SHIFT;
  tfc_rt_layer_norm(&in, &sk, &sc, &bi, &o, 1e-5f, flags);
  tfc_rt_layer_norm(&in_strided, &sk, &sc_strided, &bi, &o_strided, 1e-5f, flags);
  double worst = 0, worst_strided = 0;
  for (int r = 0; r < ROWS; ++r) {
    double mean = 0, var = 0;
    for (int j = 0; j < D; ++j)
      mean += (double)packed[r * D + j] + skip[r * D + j];
    mean /= D;
    for (int j = 0; j < D; ++j) {
      double c = (double)packed[r * D + j] + skip[r * D + j] - mean;
      var += c * c;
    }
    var /= D;
    for (int j = 0; j < D; ++j) {
      double x = (double)packed[r * D + j] + skip[r * D + j];
      double want = (x - mean) / sqrt(var + 1e-5) * scale_packed[j] + bias[j];
      worst = fmax(worst, fabs(out[r * D + j] - want));
      worst_strided = fmax(worst_strided, fabs(out_strided[2 * (r * D + j)] - want));
    }
  }
  CHECK(worst < 1e-5 && worst_strided < 1e-5,
        "layer norm: max error %g contiguous, %g strided", worst, worst_strided);
  printf("ok %-44s -> max error %.1e contiguous, %.1e strided\n",
         "layer norm on contiguous and strided views", worst, worst_strided);
}

/* A rank-3 memref descriptor as tfc_rt_memref_copy reads it (behind an
 * unranked one: rank, then a pointer to the ranked descriptor). */
typedef struct {
  void *allocated, *aligned;
  int64_t offset, sizes[3], strides[3];
} memref3;
typedef struct {
  int64_t rank;
  memref3 *descriptor;
} unranked3;

/* Copies a [2, 3, 5] view of `source` (element strides `from`) into one of
 * `target` (strides `to`), both of `element_size` bytes, and compares every
 * element of the target buffer with what an index-by-index copy gives:
 * copied where the view reaches, untouched elsewhere. */
static int copy_matches(int64_t element_size, const int64_t from[3],
                        const int64_t to[3]) {
  enum { SPAN = 256 };
  unsigned char source[SPAN * 8], target[SPAN * 8], expected[SPAN * 8];
  for (int i = 0; i < SPAN * 8; ++i) {
    source[i] = (unsigned char)(i * 7 + 1);
    target[i] = expected[i] = 0xEE;
  }
  const int64_t sizes[3] = {2, 3, 5};
  for (int64_t a = 0; a < 2; ++a)
    for (int64_t b = 0; b < 3; ++b)
      for (int64_t c = 0; c < 5; ++c)
        memcpy(expected + (a * to[0] + b * to[1] + c * to[2]) * element_size,
               source + (a * from[0] + b * from[1] + c * from[2]) * element_size,
               (size_t)element_size);
  memref3 src = {source, source, 0, {0}, {0}}, dst = {target, target, 0, {0}, {0}};
  for (int i = 0; i < 3; ++i) {
    src.sizes[i] = dst.sizes[i] = sizes[i];
    src.strides[i] = from[i];
    dst.strides[i] = to[i];
  }
  unranked3 usrc = {3, &src}, udst = {3, &dst};
  tfc_rt_memref_copy(element_size, &usrc, &udst);
  return memcmp(target, expected, sizeof(target)) == 0;
}

/* memref.copy (what concat, split and slices lower to) on the layouts it
 * meets: contiguous to contiguous (one run), into a slice of a wider buffer
 * (concat: rows of 5 at stride 12), from a transposed view (unit stride in
 * neither), for elements of 1, 4 and 8 bytes. */
static void test_memref_copy(void) {
  const int64_t dense[3] = {15, 5, 1}, wide[3] = {36, 12, 1},
                transposed[3] = {1, 2, 6}, tall[3] = {30, 10, 1};
  int ok = 1;
  for (int64_t size = 1; size <= 8; size *= 2) {
    if (size == 2)
      continue;
    int dense_ok = copy_matches(size, dense, dense);
    int concat_ok = copy_matches(size, dense, wide);
    int transposed_ok = copy_matches(size, transposed, dense);
    int both_ok = copy_matches(size, tall, wide);
    CHECK(dense_ok && concat_ok && transposed_ok && both_ok,
          "memref copy of %lld-byte elements: dense %d, into a wider buffer "
          "%d, from a transposed view %d, strided both ways %d",
          (long long)size, dense_ok, concat_ok, transposed_ok, both_ok);
    ok = ok && dense_ok && concat_ok && transposed_ok && both_ok;
  }
  if (ok)
    printf("ok %-44s -> 12 layouts\n", "memref copy between layouts");
}

/* A run-time check that fails inside a parallel loop's body, on the thread
 * that started the loop or on a worker: the run must end on the thread that
 * started it, with the check's message, and the pool must keep working. */
typedef struct failing_loop {
  atomic_int started, finished;
  int failing_thread; /* tfc_thread_index() of the thread whose check fails */
} failing_loop;

static double seconds_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

static void failing_body(void *context, int64_t begin, int64_t end) {
  failing_loop *loop = context;
  for (int64_t i = begin; i < end; ++i) {
    atomic_fetch_add(&loop->started, 1);
    /* Wait (up to 2 s) until both iterations have started, so that each
     * runs on its own thread. */
    double deadline = seconds_now() + 2.0;
    while (atomic_load(&loop->started) < 2 && seconds_now() < deadline)
      ;
    if (tfc_thread_index() == loop->failing_thread)
      tfc_rt_check_failed("node 'n' (tfm.gather): an index is out of range");
    atomic_fetch_add(&loop->finished, 1);
  }
}

/* Runs a two-iteration loop on `pool` as a model run would, a check failing
 * on thread `failing_thread` (-1: none). Returns 1 if the run failed with
 * the check's message on this thread; `*finished` gets the iterations that
 * ran to their end. */
static int run_failing_loop(tfc_thread_pool *pool, int failing_thread,
                            int *finished) {
  static tfc_model model;
  static tfc_run run;
  static failing_loop loop;
  static volatile pthread_t caller;
  memset(&model, 0, sizeof(model));
  model.pool = pool;
  run.model = &model;
  run.message[0] = '\0';
  atomic_init(&loop.started, 0);
  atomic_init(&loop.finished, 0);
  loop.failing_thread = failing_thread;
  caller = pthread_self();
  tfc_set_current_run(&run);
  int failed = 0;
  if (setjmp(run.on_check_failed) == 0) {
    tfc_parallel_for_chunked(failing_body, &loop, 2, 1);
  } else {
    failed = pthread_equal(caller, pthread_self()) &&
             strstr(run.message, "an index is out of range") != NULL;
    if (!failed)
      printf("FAIL: the run ended on another thread or lost its message '%s'\n",
             run.message);
  }
  tfc_set_current_run(NULL);
  *finished = atomic_load(&loop.finished);
  return failed;
}

static void test_check_in_parallel_body(void) {
  tfc_thread_pool *pool = tfc_thread_pool_create(2);
  CHECK(pool && tfc_thread_pool_size(pool) == 2, "a pool of 2 threads");
  if (!pool)
    return;
  int finished = 0;
  int on_caller = run_failing_loop(pool, 0, &finished);
  CHECK(on_caller && finished == 1,
        "a check failing on the loop's caller ends the run there (finished %d of 2)",
        finished);
  int on_worker = run_failing_loop(pool, 1, &finished);
  CHECK(on_worker && finished == 1,
        "a check failing on a worker ends the run on the caller (finished %d of 2)",
        finished);
  int after = run_failing_loop(pool, -1, &finished);
  CHECK(!after && finished == 2, "the pool runs a loop after failed ones (finished %d)",
        finished);
  tfc_thread_pool_destroy(pool);
  if (on_caller && on_worker && !after && finished == 2)
    printf("ok %-44s -> on the caller and on a worker\n", "check failing in a parallel loop");
}

/* Several instances of one model, each run by its own thread, compute what
 * one instance computes alone; calls on one instance from several threads
 * at once are refused cleanly (never run together), and every call that
 * is not refused computes the right result. Run under ThreadSanitizer as
 * tfc-runtime-test-tsan. */
enum { RUNNERS = 3, RUNS_EACH = 12 };
static float reference_pooled[BATCH * HIDDEN];

typedef struct {
  tfc_model *model; /* shared, or NULL: the thread creates its own */
  pthread_barrier_t *start;
  int ok, refused, wrong;
} runner;

static void *run_repeatedly(void *argument) {
  runner *r = argument;
  tfc_model *model = r->model;
  if (!model) {
    tfc_options options;
    tfc_options_init(&options);
    options.num_threads = 1;
    if (bert_create(&options, &model) != TFC_OK) {
      r->wrong = RUNS_EACH;
      pthread_barrier_wait(r->start);
      return NULL;
    }
  }
  tfc_tensor inputs[2];
  int64_t my_ids[BATCH * SEQUENCE], my_mask[BATCH * SEQUENCE];
  bert_inputs_in(inputs, my_ids, my_mask);
  pthread_barrier_wait(r->start);
  for (int i = 0; i < RUNS_EACH; ++i) {
    float pooled[BATCH * HIDDEN];
    tfc_tensor output = {.name = "pooler_output", .data = pooled, .capacity = sizeof(pooled)};
    tfc_status status = tfc_model_run(model, inputs, 2, &output, 1);
    if (status == TFC_OK && memcmp(pooled, reference_pooled, sizeof(pooled)) == 0)
      ++r->ok;
    else if (status == TFC_ERROR_INVALID_ARGUMENT &&
             strstr(tfc_last_error(), "is already running"))
      ++r->refused;
    else
      ++r->wrong;
  }
  if (!r->model)
    tfc_model_destroy(model);
  return NULL;
}

static void run_threads(tfc_model *shared, runner runners[RUNNERS]) {
  pthread_barrier_t start;
  pthread_barrier_init(&start, NULL, RUNNERS);
  pthread_t threads[RUNNERS];
  for (int t = 0; t < RUNNERS; ++t) {
    runners[t] = (runner){.model = shared, .start = &start};
    pthread_create(&threads[t], NULL, run_repeatedly, &runners[t]);
  }
  for (int t = 0; t < RUNNERS; ++t)
    pthread_join(threads[t], NULL);
  pthread_barrier_destroy(&start);
}

/* The decoder model's 7 inputs for `batch` sequences of `length` positions,
 * filled from `seed`, in `storage` (big enough for any call below). */
enum { DECODER_MAX = 2 * 8 * 4 * 80 };
static float decoder_storage[7][DECODER_MAX];
static void decoder_inputs(tfc_tensor inputs[7], int64_t batch, int64_t length,
                           int seed) {
  static const char *const names[7] = {
      "stream_q",       "stream_k",       "stream_v",          "stream_decay_q",
      "stream_decay_k", "stream_decay_v", "stream_decay_decay"};
  static const int64_t heads[7] = {3, 3, 3, 4, 4, 4, 0};
  static const int64_t dims[7] = {32, 32, 24, 16, 16, 80, 0};
  memset(inputs, 0, 7 * sizeof(tfc_tensor));
  for (int i = 0; i < 7; ++i) {
    int64_t count = i == 6 ? 4 : batch * length * heads[i] * dims[i];
    for (int64_t e = 0; e < count; ++e)
      decoder_storage[i][e] =
          i == 6 ? 0.5f : (float)((e * 7 + seed * 13 + i) % 17) / 17.0f - 0.5f;
    inputs[i] = (tfc_tensor){.name = names[i], .dtype = TFC_DTYPE_FLOAT32,
                             .data = decoder_storage[i],
                             .capacity = sizeof(decoder_storage[i])};
    if (i == 6) {
      inputs[i].rank = 1;
      inputs[i].dims[0] = 4;
    } else {
      inputs[i].rank = 4;
      inputs[i].dims[0] = batch;
      inputs[i].dims[1] = length;
      inputs[i].dims[2] = heads[i];
      inputs[i].dims[3] = dims[i];
    }
  }
}

/* Frees the decoder's two outputs and clears them for the next call. */
static void release_outputs(tfc_tensor outputs[2]) {
  for (int i = 0; i < 2; ++i)
    tfc_free(outputs[i].data);
  memset(outputs, 0, 2 * sizeof(tfc_tensor));
}

/* Prefill and step (--decoder): what each refuses, and the sequence's
 * length through runs, steps, a failed step and a new prefill. */
static void test_decoder(tfc_model *bert) {
  tfc_tensor ids[2];
  bert_inputs(ids);
  tfc_tensor out = {0};
  expect_error("prefill of a model without --decoder",
               tfc_model_prefill(bert, ids, 2, &out, 1),
               TFC_ERROR_INVALID_ARGUMENT, "was not compiled with --decoder");
  CHECK(tfc_model_sequence_length(bert) == -1, "bert has no sequence");

  tfc_model *decoder = NULL;
  CHECK(decoder_create(NULL, &decoder) == TFC_OK, "decoder_create: %s",
        tfc_last_error());
  CHECK(tfc_model_input(decoder, 0)->sequence_dim == 1 &&
            tfc_model_input(decoder, 6)->sequence_dim == -1 &&
            tfc_model_output(decoder, 1)->sequence_dim == 1,
        "the inputs' and outputs' sequence dims");
  tfc_tensor inputs[7], outputs[2];
  decoder_inputs(inputs, 2, 1, 0);
  memset(outputs, 0, sizeof(outputs));
  expect_error("a step before any prefill",
               tfc_model_step(decoder, inputs, 7, outputs, 2),
               TFC_ERROR_INVALID_ARGUMENT, "no sequence to continue");

  decoder_inputs(inputs, 2, 5, 0);
  CHECK(tfc_model_prefill(decoder, inputs, 7, outputs, 2) == TFC_OK,
        "prefill: %s", tfc_last_error());
  CHECK(tfc_model_sequence_length(decoder) == 5, "5 positions after the prefill");
  release_outputs(outputs);
  /* A plain run neither reads nor ends the sequence. */
  decoder_inputs(inputs, 2, 8, 1);
  CHECK(tfc_model_run(decoder, inputs, 7, outputs, 2) == TFC_OK, "run: %s",
        tfc_last_error());
  CHECK(tfc_model_sequence_length(decoder) == 5, "a run leaves the sequence");
  release_outputs(outputs);
  decoder_inputs(inputs, 2, 1, 2);
  CHECK(tfc_model_step(decoder, inputs, 7, outputs, 2) == TFC_OK, "step: %s",
        tfc_last_error());
  CHECK(tfc_model_sequence_length(decoder) == 6, "6 positions after a step");
  CHECK(outputs[0].dims[1] == 1, "a step's output has its one position");
  release_outputs(outputs);

  /* Another batch than the prefill's: refused, and the sequence ends. */
  decoder_inputs(inputs, 1, 1, 3);
  expect_error("a step with batch 1 after a prefill of 2",
               tfc_model_step(decoder, inputs, 7, outputs, 2),
               TFC_ERROR_MODEL_CHECK, "a step's batch differs from the prefill's");
  CHECK(outputs[0].data == NULL, "a failed step leaves no output buffer");
  expect_error("a step after a failed one",
               tfc_model_step(decoder, inputs, 7, outputs, 2),
               TFC_ERROR_INVALID_ARGUMENT, "no sequence to continue");
  /* A new prefill (of another batch) starts over. */
  decoder_inputs(inputs, 1, 3, 4);
  CHECK(tfc_model_prefill(decoder, inputs, 7, outputs, 2) == TFC_OK,
        "a new prefill: %s", tfc_last_error());
  CHECK(tfc_model_sequence_length(decoder) == 3, "3 positions after it");
  release_outputs(outputs);
  tfc_model_destroy(decoder);
}

static void test_concurrency(void) {
  tfc_model *bert = NULL;
  CHECK(bert_create(NULL, &bert) == TFC_OK, "bert_create: %s", tfc_last_error());
  tfc_tensor inputs[2];
  bert_inputs(inputs);
  tfc_tensor output = {.name = "pooler_output", .data = reference_pooled,
                       .capacity = sizeof(reference_pooled)};
  CHECK(tfc_model_run(bert, inputs, 2, &output, 1) == TFC_OK, "reference run: %s",
        tfc_last_error());

  /* An instance in a run (as another thread would leave it) refuses. */
  atomic_store(&bert->running, 1);
  expect_error("a run while another is in progress",
               tfc_model_run(bert, inputs, 2, &output, 1), TFC_ERROR_INVALID_ARGUMENT,
               "is already running");
  atomic_store(&bert->running, 0);

  runner runners[RUNNERS];
  run_threads(NULL, runners);
  int ok = 0, wrong = 0;
  for (int t = 0; t < RUNNERS; ++t)
    ok += runners[t].ok, wrong += runners[t].wrong + runners[t].refused;
  CHECK(ok == RUNNERS * RUNS_EACH && wrong == 0,
        "%d threads with an instance each: %d runs right, %d not", RUNNERS, ok, wrong);

  run_threads(bert, runners);
  int refused = 0;
  ok = wrong = 0;
  for (int t = 0; t < RUNNERS; ++t)
    ok += runners[t].ok, refused += runners[t].refused, wrong += runners[t].wrong;
  CHECK(wrong == 0 && ok > 0 && ok + refused == RUNNERS * RUNS_EACH,
        "%d threads on one instance: %d runs right, %d refused, %d wrong", RUNNERS, ok,
        refused, wrong);
  tfc_model_destroy(bert);
  if (wrong == 0)
    printf("ok %-44s -> %d threads, an instance each or one shared\n",
           "concurrent runs", RUNNERS);
}

int main(void) {
  test_create();
  tfc_model *bert = NULL;
  tfc_options options;
  tfc_options_init(&options);
  options.num_threads = 2;
  CHECK(bert_create(&options, &bert) == TFC_OK, "bert_create: %s", tfc_last_error());
  CHECK(tfc_model_num_inputs(bert) == BERT_NUM_INPUTS && BERT_NUM_INPUTS == 2,
        "bert has 2 inputs");
  CHECK(tfc_model_input(bert, 2) == NULL, "input 2 does not exist");
  test_bad_inputs(bert);
  test_model_checks(bert);
  test_outputs(bert);
  test_decoder(bert);
  tfc_model_destroy(bert);
  test_memory_plan();
  test_static_dims();
  test_layer_norm_views();
  test_memref_copy();
  test_check_in_parallel_body();
  test_concurrency();
  tfc_model_destroy(NULL);
  printf("runtime tests: %d checks, %d failed\n", checks, failures);
  return failures ? 1 : 0;
}
