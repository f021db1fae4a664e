/*===- thread_pool.c - fork-join parallel loops for generated code -------===*
 *
 * tfc_rt_parallel_for splits [0, n) into chunks that the calling thread and
 * the pool's workers take from a shared counter. Workers sleep on a
 * condition variable between loops. A parallel_for inside a parallel body
 * runs serially on the thread that reaches it.
 *
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct tfc_job {
  tfc_rt_parallel_body body;
  void *context;
  int64_t n;
  int64_t chunk;
  atomic_int_fast64_t next;
  tfc_run *run;
} tfc_job;

struct tfc_thread_pool {
  int num_threads; /* including the caller */
  pthread_t *workers;
  pthread_mutex_t lock;
  pthread_cond_t wake, done;
  uint64_t generation; /* bumped for each job */
  int busy_workers;
  int stopping;
  tfc_job *job;
};

static _Thread_local int in_parallel_body;

static void run_chunks(tfc_job *job) {
  for (;;) {
    int64_t begin = atomic_fetch_add(&job->next, job->chunk);
    if (begin >= job->n)
      return;
    int64_t end = begin + job->chunk < job->n ? begin + job->chunk : job->n;
    job->body(job->context, begin, end);
  }
}

static void *worker_main(void *arg) {
  tfc_thread_pool *pool = arg;
  uint64_t seen = 0;
  in_parallel_body = 1;
  pthread_mutex_lock(&pool->lock);
  for (;;) {
    while (!pool->stopping && pool->generation == seen)
      pthread_cond_wait(&pool->wake, &pool->lock);
    if (pool->stopping)
      break;
    seen = pool->generation;
    tfc_job *job = pool->job;
    pthread_mutex_unlock(&pool->lock);

    tfc_set_current_run(job->run);
    run_chunks(job);
    tfc_set_current_run(NULL);

    pthread_mutex_lock(&pool->lock);
    if (--pool->busy_workers == 0)
      pthread_cond_signal(&pool->done);
  }
  pthread_mutex_unlock(&pool->lock);
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
  pthread_mutex_init(&pool->lock, NULL);
  pthread_cond_init(&pool->wake, NULL);
  pthread_cond_init(&pool->done, NULL);
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
  pool->stopping = 1;
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->lock);
  for (int i = 0; i < pool->num_threads - 1; ++i)
    pthread_join(pool->workers[i], NULL);
  pthread_mutex_destroy(&pool->lock);
  pthread_cond_destroy(&pool->wake);
  pthread_cond_destroy(&pool->done);
  free(pool->workers);
  free(pool);
}

int tfc_thread_pool_size(const tfc_thread_pool *pool) {
  return pool ? pool->num_threads : 1;
}

void tfc_rt_parallel_for(tfc_rt_parallel_body body, void *context, int64_t n) {
  if (n <= 0)
    return;
  tfc_run *run = tfc_current_run();
  tfc_thread_pool *pool = run ? run->model->pool : NULL;
  if (!pool || pool->num_threads == 1 || in_parallel_body || n == 1) {
    body(context, 0, n);
    return;
  }
  tfc_job job;
  job.body = body;
  job.context = context;
  job.n = n;
  /* A few chunks per thread balance uneven iterations without making the
   * shared counter hot. */
  int64_t chunks = (int64_t)pool->num_threads * 4;
  job.chunk = (n + chunks - 1) / chunks;
  atomic_init(&job.next, 0);
  job.run = run;

  pthread_mutex_lock(&pool->lock);
  pool->job = &job;
  pool->busy_workers = pool->num_threads - 1;
  pool->generation++;
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->lock);

  in_parallel_body = 1;
  run_chunks(&job);
  in_parallel_body = 0;

  pthread_mutex_lock(&pool->lock);
  while (pool->busy_workers > 0)
    pthread_cond_wait(&pool->done, &pool->lock);
  pool->job = NULL;
  pthread_mutex_unlock(&pool->lock);
}
