/* Embeds two models compiled by tfc into one program: BERT-tiny encodes a
 * padded batch of two sentences, GPT-2-tiny scores a token sequence. Each
 * model's header declares <name>_create() and the tfc runtime API. */

#include "bert.h"
#include "gpt2.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_signature(const tfc_model *model) {
  printf("model %s\n", tfc_model_name(model));
  for (size_t i = 0; i < tfc_model_num_inputs(model); ++i) {
    const tfc_tensor_info *info = tfc_model_input(model, i);
    printf("  input  %-18s %-7s rank %d\n", info->name, tfc_dtype_name(info->dtype),
           info->rank);
  }
  for (size_t i = 0; i < tfc_model_num_outputs(model); ++i) {
    const tfc_tensor_info *info = tfc_model_output(model, i);
    printf("  output %-18s %-7s rank %d\n", info->name, tfc_dtype_name(info->dtype),
           info->rank);
  }
}

static int run_bert(void) {
  tfc_model *bert = NULL;
  if (bert_create(NULL, &bert) != TFC_OK) {
    fprintf(stderr, "bert_create: %s\n", tfc_last_error());
    return 1;
  }
  print_signature(bert);

  /* Two sequences of 6 tokens; the second is padded after 4. */
  enum { BATCH = 2, SEQUENCE = 6, HIDDEN = 64 };
  int64_t ids[BATCH * SEQUENCE] = {101, 7, 42, 9, 300, 102, 101, 55, 66, 102, 0, 0};
  int64_t mask[BATCH * SEQUENCE] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0};
  tfc_tensor inputs[2] = {
      {.name = "input_ids", .dtype = TFC_DTYPE_INT64, .rank = 2,
       .dims = {BATCH, SEQUENCE}, .data = ids, .capacity = sizeof(ids)},
      {.name = "attention_mask", .dtype = TFC_DTYPE_INT64, .rank = 2,
       .dims = {BATCH, SEQUENCE}, .data = mask, .capacity = sizeof(mask)},
  };
  /* The pooled output into our buffer; the hidden states into one the
   * runtime allocates. */
  static float pooled[BATCH * HIDDEN];
  tfc_tensor outputs[2] = {
      {.name = "pooler_output", .data = pooled, .capacity = sizeof(pooled)},
      {.name = "last_hidden_state"},
  };
  if (tfc_model_run(bert, inputs, 2, outputs, 2) != TFC_OK) {
    fprintf(stderr, "bert run: %s\n", tfc_last_error());
    tfc_model_destroy(bert);
    return 1;
  }
  const float *hidden = outputs[1].data;
  printf("bert: last_hidden_state [%lld, %lld, %lld], first values %.4f %.4f %.4f\n",
         (long long)outputs[1].dims[0], (long long)outputs[1].dims[1],
         (long long)outputs[1].dims[2], hidden[0], hidden[1], hidden[2]);
  printf("bert: pooler_output [%lld, %lld], first values %.4f %.4f %.4f\n",
         (long long)outputs[0].dims[0], (long long)outputs[0].dims[1], pooled[0],
         pooled[1], pooled[2]);
  tfc_free(outputs[1].data);

  /* A wrong dtype is an error status with a message, never a crash. */
  int32_t wrong[BATCH * SEQUENCE] = {0};
  inputs[0].dtype = TFC_DTYPE_INT32;
  inputs[0].data = wrong;
  inputs[0].capacity = sizeof(wrong);
  tfc_status status = tfc_model_run(bert, inputs, 2, outputs, 1);
  printf("bert with int32 ids: status %d: %s\n", status, tfc_last_error());
  tfc_model_destroy(bert);
  return status == TFC_ERROR_DTYPE ? 0 : 1;
}

static int run_gpt2(void) {
  tfc_options options;
  tfc_options_init(&options);
  options.num_threads = 2;
  tfc_model *gpt2 = NULL;
  if (gpt2_create(&options, &gpt2) != TFC_OK) {
    fprintf(stderr, "gpt2_create: %s\n", tfc_last_error());
    return 1;
  }
  print_signature(gpt2);
  enum { SEQUENCE = 5, VOCAB = 1000 };
  int64_t ids[SEQUENCE] = {10, 20, 30, 40, 50};
  tfc_tensor input = {.dtype = TFC_DTYPE_INT64, .rank = 2, .dims = {1, SEQUENCE},
                      .data = ids, .capacity = sizeof(ids)};
  tfc_tensor logits = {0};
  if (tfc_model_run(gpt2, &input, 1, &logits, 1) != TFC_OK) {
    fprintf(stderr, "gpt2 run: %s\n", tfc_last_error());
    tfc_model_destroy(gpt2);
    return 1;
  }
  /* The most likely next token after the last position. */
  const float *last = (const float *)logits.data + (SEQUENCE - 1) * VOCAB;
  int best = 0;
  for (int v = 1; v < VOCAB; ++v)
    if (last[v] > last[best])
      best = v;
  printf("gpt2: logits [%lld, %lld, %lld], next token %d (logit %.4f)\n",
         (long long)logits.dims[0], (long long)logits.dims[1],
         (long long)logits.dims[2], best, last[best]);
  tfc_free(logits.data);
  tfc_model_destroy(gpt2);
  return 0;
}

int main(void) {
  int failures = run_bert() + run_gpt2();
  printf(failures ? "embed: FAILED\n" : "embed: ok\n");
  return failures ? 1 : 0;
}
