/*===- thread_pool.c - fork-join parallel loops for generated code -------===*
 *
 * tfc_rt_parallel_for splits [0, n) into chunks that the calling thread and
 * the pool's workers take from a shared counter. A parallel_for inside a
 * parallel body runs serially on the thread that reaches it.
 *
 * A model runs hundreds of parallel loops per call, back to back, many of
 * them tens of microseconds long, so the hand-off must cost far less than
 * that. Waking a thread from a condition variable costs 10 to 50 us on the
 * VMs we measure on, so a worker that finishes a loop first spins on the
 * job counter (about SPIN_ROUNDS pauses, a fraction of a millisecond) and
 * only then sleeps; the caller waits for the workers the same way. Between
 * the loops of one call the workers are therefore awake, and after the call
 * they go to sleep.
 *
 * A run-time check that fails in a body ends the run by a longjmp to the
 * frame that started it, which may be on another thread. So a thread
 * running chunks jumps only back to its own loop over them (the loop then
 * starts no more chunks), and the thread that started the loop fails the
 * run once every thread is out.
 *
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include <sched.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum { SPIN_ROUNDS = 20000 };

typedef struct tfc_job {
  tfc_rt_parallel_body body;
  void *context;
  int64_t n;
  int64_t chunk;
  atomic_int_fast64_t next;
  tfc_run *run;
  /* A run-time check that failed in a chunk: the first one's message. */
  atomic_int failed;
  char message[sizeof(((tfc_run *)0)->message)];
} tfc_job;

struct tfc_thread_pool {
  int num_threads; /* including the caller */
  pthread_t *workers;
  /* A job is published by storing `job`, then bumping `generation`; each
   * worker runs every generation once and then decrements `busy_workers`. */
  tfc_job *_Atomic job;
  atomic_uint_fast64_t generation;
  atomic_int busy_workers;
  atomic_int stopping;
  atomic_int started_workers; /* hands out the workers' indices */
  /* Sleeping workers wait on `wake` with `sleepers` counted under `lock`. */
  pthread_mutex_t lock;
  pthread_cond_t wake;
  int sleepers;
};

/* 0 on the thread that calls into the model, 1.. on a pool's workers. */
static _Thread_local int thread_index;

/* The job whose chunks the thread is running (NULL outside any parallel
 * body), and where a failed check in one of them returns to (on the
 * thread's own stack). */
static _Thread_local tfc_job *chunk_job;
static _Thread_local jmp_buf *chunk_escape;

int tfc_in_parallel_body(void) { return chunk_job != NULL; }
int tfc_thread_index(void) { return thread_index; }

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ volatile("yield");
#endif
}

void tfc_escape_parallel_body(const char *message) {
  tfc_job *job = chunk_job;
  if (!job)
    return;
  int expected = 0;
  if (atomic_compare_exchange_strong(&job->failed, &expected, 1))
    snprintf(job->message, sizeof(job->message), "%s", message);
  /* No chunk is started after a failure. */
  atomic_store(&job->next, job->n);
  longjmp(*chunk_escape, 1);
}

static void run_chunks(tfc_job *job) {
  tfc_job *outer_job = chunk_job;
  jmp_buf *outer_escape = chunk_escape;
  jmp_buf escape;
  if (setjmp(escape) == 0) {
    chunk_job = job;
    chunk_escape = &escape;
    for (;;) {
      int64_t begin = atomic_fetch_add(&job->next, job->chunk);
      if (begin >= job->n)
        break;
      int64_t end = begin + job->chunk < job->n ? begin + job->chunk : job->n;
      job->body(job->context, begin, end);
    }
  }
  chunk_job = outer_job;
  chunk_escape = outer_escape;
}

/* Waits until the pool's generation differs from `seen` (or the pool
 * stops), spinning first, and returns the generation. */
static uint64_t wait_for_job(tfc_thread_pool *pool, uint64_t seen) {
  for (int round = 0; round < SPIN_ROUNDS; ++round) {
    uint64_t generation = atomic_load(&pool->generation);
    if (generation != seen || atomic_load(&pool->stopping))
      return generation;
    cpu_relax();
  }
  pthread_mutex_lock(&pool->lock);
  ++pool->sleepers;
  while (atomic_load(&pool->generation) == seen &&
         !atomic_load(&pool->stopping))
    pthread_cond_wait(&pool->wake, &pool->lock);
  --pool->sleepers;
  pthread_mutex_unlock(&pool->lock);
  return atomic_load(&pool->generation);
}

static void *worker_main(void *arg) {
  tfc_thread_pool *pool = arg;
  uint64_t seen = 0;
  thread_index = atomic_fetch_add(&pool->started_workers, 1) + 1;
  for (;;) {
    seen = wait_for_job(pool, seen);
    if (atomic_load(&pool->stopping))
      break;
    tfc_job *job = atomic_load(&pool->job);
    tfc_set_current_run(job->run);
    run_chunks(job);
    tfc_set_current_run(NULL);
    atomic_fetch_sub(&pool->busy_workers, 1);
  }
  return NULL;
}

tfc_thread_pool *tfc_thread_pool_create(int num_threads) {
  if (num_threads <= 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    num_threads = cores > 0 ? (int)cores : 1;
  }
  tfc_thread_pool *pool = calloc(1, sizeof(*pool));
  if (!pool)
    return NULL;
  pool->num_threads = num_threads;
  atomic_init(&pool->job, NULL);
  atomic_init(&pool->generation, 0);
  atomic_init(&pool->busy_workers, 0);
  atomic_init(&pool->stopping, 0);
  atomic_init(&pool->started_workers, 0);
  pthread_mutex_init(&pool->lock, NULL);
  pthread_cond_init(&pool->wake, NULL);
  if (num_threads > 1) {
    pool->workers = calloc(num_threads - 1, sizeof(pthread_t));
    if (!pool->workers) {
      free(pool);
      return NULL;
    }
    for (int i = 0; i < num_threads - 1; ++i) {
      if (pthread_create(&pool->workers[i], NULL, worker_main, pool) != 0) {
        /* Run with the threads that did start. */
        pool->num_threads = i + 1;
        break;
      }
    }
  }
  return pool;
}

void tfc_thread_pool_destroy(tfc_thread_pool *pool) {
  if (!pool)
    return;
  pthread_mutex_lock(&pool->lock);
  atomic_store(&pool->stopping, 1);
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->lock);
  for (int i = 0; i < pool->num_threads - 1; ++i)
    pthread_join(pool->workers[i], NULL);
  pthread_mutex_destroy(&pool->lock);
  pthread_cond_destroy(&pool->wake);
  free(pool->workers);
  free(pool);
}

int tfc_thread_pool_size(const tfc_thread_pool *pool) {
  return pool ? pool->num_threads : 1;
}

void tfc_rt_parallel_for(tfc_rt_parallel_body body, void *context, int64_t n) {
  tfc_parallel_for_chunked(body, context, n, 0);
}

void tfc_parallel_for_chunked(tfc_rt_parallel_body body, void *context,
                              int64_t n, int64_t chunk) {
  if (n <= 0)
    return;
  tfc_run *run = tfc_current_run();
  tfc_thread_pool *pool = run ? run->model->pool : NULL;
  if (!pool || pool->num_threads == 1 || chunk_job || n == 1) {
    body(context, 0, n);
    return;
  }
  tfc_job job;
  job.body = body;
  job.context = context;
  job.n = n;
  /* By default a few chunks per thread balance uneven iterations without
   * making the shared counter hot. */
  int64_t chunks = (int64_t)pool->num_threads * 4;
  job.chunk = chunk > 0 ? chunk : (n + chunks - 1) / chunks;
  atomic_init(&job.next, 0);
  job.run = run;
  atomic_init(&job.failed, 0);
  job.message[0] = '\0';

  atomic_store(&pool->job, &job);
  atomic_store(&pool->busy_workers, pool->num_threads - 1);
  atomic_fetch_add(&pool->generation, 1);
  /* A worker about to sleep checks the generation under the lock, so it
   * either sees the new one or is counted in `sleepers` by now. */
  pthread_mutex_lock(&pool->lock);
  if (pool->sleepers > 0)
    pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->lock);

  run_chunks(&job);

  /* The workers are finishing their last chunks (or waking up): spin, then
   * yield the core to them if they are slow to come. */
  for (int round = 0; atomic_load(&pool->busy_workers) > 0; ++round) {
    if (round < SPIN_ROUNDS)
      cpu_relax();
    else
      sched_yield();
  }
  atomic_store(&pool->job, NULL);
  /* Every thread is out of the job now: the run can end on this one. */
  if (atomic_load(&job.failed))
    tfc_rt_check_failed(job.message);
}
