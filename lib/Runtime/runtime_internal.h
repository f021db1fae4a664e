/*===- runtime_internal.h - shared state of the tfc runtime ------*- C -*-===*/

#ifndef TFC_RUNTIME_INTERNAL_H
#define TFC_RUNTIME_INTERNAL_H

#include "tfc/runtime/tfc_abi.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>

/* Every block the generated code allocates during a run starts with this
 * header, so that a run that stops early (a failed check) can release what
 * it allocated, and so that a freed block can be kept for the next run. */
typedef struct tfc_block {
  struct tfc_block *prev, *next;
  void *base;      /* what malloc returned */
  size_t size;     /* bytes asked for */
  size_t capacity; /* bytes usable from the block's start */
} tfc_block;

/* A model instance's allocator. Blocks freed during a run are not given
 * back to malloc but kept (up to the instance's peak live bytes) and handed
 * out again: a large malloc is a fresh mmap whose every page faults on
 * first touch, and that costs more than many kernels do (10 us a page on
 * the VMs the benchmarks run on), so a model called again and again must
 * reach a steady state that touches no new memory. */
typedef struct tfc_allocator {
  pthread_mutex_t lock;
  tfc_block live;   /* sentinel of the circular list of live blocks */
  tfc_block cached; /* sentinel of the freed blocks kept, newest first */
  size_t live_bytes, peak_bytes, cached_bytes;
} tfc_allocator;

void tfc_allocator_init(tfc_allocator *allocator);
/* Frees every block, live or kept. */
void tfc_allocator_destroy(tfc_allocator *allocator);
/* Ends a run: every block still live (a run that stopped early, or a leak
 * in the generated code) is released into the cache. */
void tfc_allocator_release_all(tfc_allocator *allocator);

typedef struct tfc_thread_pool tfc_thread_pool;
tfc_thread_pool *tfc_thread_pool_create(int num_threads);
void tfc_thread_pool_destroy(tfc_thread_pool *pool);
int tfc_thread_pool_size(const tfc_thread_pool *pool);

/* What generated code reaches through the calling thread during a run. */
typedef struct tfc_run {
  tfc_model *model;
  jmp_buf on_check_failed;
  char message[512];
} tfc_run;

/* The per-op sums of a model compiled with --profile. Sites come in the same
 * order on every run, so `next` (where the last exit was, plus one) finds
 * the entry of the coming one without a search. */
typedef struct tfc_profile {
  tfc_profile_entry *entries;
  size_t count, capacity, next;
  double started; /* seconds, at the last enter */
} tfc_profile;

struct tfc_model {
  const tfc_model_def *def;
  tfc_profile profile;
  tfc_allocator allocator;
  tfc_thread_pool *pool;
  int running; /* guards against concurrent runs on one instance */
};

/* The run the calling thread is executing (set for pool workers too). */
tfc_run *tfc_current_run(void);
/* tfc_rt_parallel_for with `chunk` iterations per grab (0: the default, a
 * few chunks per thread). Kernels whose iterations are large, balanced
 * tasks take them one at a time so that no thread is left with a bigger
 * share. */
void tfc_parallel_for_chunked(tfc_rt_parallel_body body, void *context,
                              int64_t n, int64_t chunk);
void tfc_set_current_run(tfc_run *run);

/* Records a message for tfc_last_error() and returns `status`. */
tfc_status tfc_fail(tfc_status status, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void tfc_clear_error(void);

/* Maps the weights file of `model`'s definition (once per definition,
 * shared by its instances) and points the generated code at it. */
tfc_status tfc_map_weights(tfc_model *model, const char *path);
void tfc_unmap_weights(tfc_model *model);

#endif /* TFC_RUNTIME_INTERNAL_H */
