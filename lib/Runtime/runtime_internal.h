/*===- runtime_internal.h - shared state of the tfc runtime ------*- C -*-===*/

#ifndef TFC_RUNTIME_INTERNAL_H
#define TFC_RUNTIME_INTERNAL_H

#include "tfc/runtime/tfc_abi.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

/* Every block the generated code allocates during a run starts with this
 * header, so that a run that stops early (a failed check) can release what
 * it allocated, and so that a freed block can be kept for the next run. */
typedef struct tfc_block {
  struct tfc_block *prev, *next;
  void *base;         /* what malloc returned */
  size_t size;        /* bytes asked for */
  size_t capacity;    /* bytes usable from the block's start */
  int64_t plan_index; /* its entry in the plan being recorded, or -1 */
} tfc_block;

/* One buffer of a memory plan: what the run asked for, when (events are
 * counted per run: each planned allocation and free is one), and where the
 * plan puts it in the arena. */
typedef struct tfc_plan_entry {
  size_t size, alignment, offset;
  int64_t born, died; /* died < 0: live to the end of the run */
} tfc_plan_entry;

/* The memory plan of an instance: the buffers one run allocated, in order,
 * laid out by their lifetimes in one arena. A run whose inputs have the
 * dims the plan was recorded with replays it: each allocation, checked to
 * ask for the recorded size, gets its place in the arena, and nothing is
 * allocated. Only the run's own sequence of allocations is planned; those
 * made inside parallel loop bodies (whose order across threads varies)
 * take the block cache. */
enum { TFC_PLAN_RECORD, TFC_PLAN_REPLAY, TFC_PLAN_OFF };
typedef struct tfc_memory_plan {
  uint64_t signature; /* of the input dims it was recorded for */
  tfc_plan_entry *entries;
  size_t count, capacity;
  char *arena; /* entries[i] at arena + offset, when planned */
  size_t arena_bytes;
  int planned;
  /* The current run. */
  int mode;
  size_t cursor; /* next entry to replay */
  int64_t clock; /* events recorded so far */
  size_t replayed, fresh_blocks; /* this run's arena and malloc'd blocks */
} tfc_memory_plan;

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
  tfc_memory_plan plan;
} tfc_allocator;

void tfc_allocator_init(tfc_allocator *allocator);
/* Frees every block, live or kept, and the plan's arena. */
void tfc_allocator_destroy(tfc_allocator *allocator);
/* Starts a run whose inputs' dims hash to `signature`: it replays the plan
 * recorded for them, or records one. */
void tfc_allocator_begin_run(tfc_allocator *allocator, uint64_t signature);
/* Ends a run: every block still live (a run that stopped early, or a leak
 * in the generated code) is released into the cache. After a recording run
 * that `completed`, the plan is laid out and its arena allocated; a replay
 * that went astray drops the plan. */
void tfc_allocator_end_run(tfc_allocator *allocator, int completed);
/* Whether the calling thread is running a parallel loop's body. */
int tfc_in_parallel_body(void);
/* Called by a run-time check that failed: on a thread running chunks of a
 * parallel loop, records `message` for the loop, stops it from starting
 * more chunks and returns to the thread's loop over chunks (the thread that
 * started the loop then fails the run with the message, once every thread
 * is out of it). Returns only on a thread outside any parallel loop: that
 * thread's run can end directly. */
void tfc_escape_parallel_body(const char *message);

typedef struct tfc_thread_pool tfc_thread_pool;
tfc_thread_pool *tfc_thread_pool_create(int num_threads);
void tfc_thread_pool_destroy(tfc_thread_pool *pool);
int tfc_thread_pool_size(const tfc_thread_pool *pool);
/* The calling thread's index in the pool running it, below the pool's
 * size: 0 for the thread that called into the model, 1.. for the workers.
 * Kernels index per-thread scratch with it, so that each thread keeps its
 * scratch in its own cache from one task (and one call) to the next. */
int tfc_thread_index(void);

/* What generated code reaches through the calling thread during a run. */
/* What a run does with the instance's sequence (--decoder models). */
typedef enum tfc_sequence_use {
  TFC_SEQUENCE_NONE = 0, /* tfc_model_run: neither read nor written */
  TFC_SEQUENCE_START,    /* tfc_model_prefill: states written from zero */
  TFC_SEQUENCE_CONTINUE, /* tfc_model_step: states read, then written */
} tfc_sequence_use;

typedef struct tfc_run {
  tfc_model *model;
  tfc_sequence_use sequence;
  /* The positions the sequence held before this call: its length for a
   * step, 0 otherwise (tfc_rt_sequence_offset). */
  int64_t sequence_offset;
  jmp_buf on_check_failed;
  /* Why the run ended early: TFC_ERROR_MODEL_CHECK for a failed check, or
   * what the GPU code met (TFC_ERROR_DEVICE, ...). */
  tfc_status status;
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

/* A GPU model's device state (cuda_model.c). */
typedef struct tfc_gpu_instance tfc_gpu_instance;

/* One state of a --decoder instance, for the shape the prefill had:
 * a causal linear attention's carried S and z per (batch, head) in `carry`,
 * or a softmax attention's KV cache: per (batch, KV head), `capacity` rows
 * of keys ([capacity][dk]) and of values ([capacity][dv]), the first
 * `length` of them written. */
typedef struct tfc_sequence_state {
  float *carry;
  size_t floats;
  int64_t batch, heads, dk, dv;
  float *keys, *values;
  int64_t capacity, length;
} tfc_sequence_state;

struct tfc_model {
  const tfc_model_def *def;
  /* def->num_sequence_states of them; the positions the sequence holds, or
   * -1 when there is none to continue. */
  tfc_sequence_state *sequence_states;
  int64_t sequence_length;
  tfc_gpu_instance *gpu; /* NULL for a CPU model */
  tfc_profile profile;
  tfc_allocator allocator;
  tfc_thread_pool *pool;
  atomic_int running; /* guards against concurrent runs on one instance */
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

/* Sets *bytes to the bytes of a dense tensor of `dtype` with these dims and
 * returns 1; returns 0 when a dim is negative, the dtype unknown, or the
 * size (taking zero dims as one, so that no partial product overflows
 * either) exceeds PTRDIFF_MAX. */
int tfc_tensor_bytes(int32_t rank, const int64_t *dims, tfc_dtype dtype,
                     size_t *bytes);

/* Records a message for tfc_last_error() and returns `status`. */
tfc_status tfc_fail(tfc_status status, const char *format, ...)
    __attribute__((format(printf, 2, 3)));
void tfc_clear_error(void);

/* Maps the weights file of `model`'s definition (once per definition,
 * shared by its instances) and points the generated code at it. */
tfc_status tfc_map_weights(tfc_model *model, const char *path);
void tfc_unmap_weights(tfc_model *model);

/* GPU models (cuda_model.c). Create opens GPU `ordinal` and loads the
 * program and the weights; on failure, destroy releases what it took. */
tfc_status tfc_gpu_create(tfc_model *model, int ordinal);
void tfc_gpu_destroy(tfc_model *model);
/* A run: the inputs copied to device buffers (their device addresses
 * replace the host ones in `inputs`), the outputs queued back to the
 * host, a wait for everything, and the run's buffers released. */
tfc_status tfc_gpu_upload_inputs(tfc_model *model, const tfc_tensor *const *bound,
                                 tfc_abi_input *inputs);
tfc_status tfc_gpu_download(tfc_model *model, void *target, int32_t memory,
                            const void *source, size_t bytes);
tfc_status tfc_gpu_synchronize(tfc_model *model, const char *what);
void tfc_gpu_end_run(tfc_model *model);

#endif /* TFC_RUNTIME_INTERNAL_H */
