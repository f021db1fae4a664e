/*===- allocator.c - the memory generated code allocates -----------------===*
 *
 * Blocks are tracked per model instance, so a run that a failed check ends
 * early still releases everything, and the peak is known.
 *
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void list_init(tfc_block *sentinel) {
  sentinel->prev = sentinel->next = sentinel;
}

static void list_remove(tfc_block *block) {
  block->prev->next = block->next;
  block->next->prev = block->prev;
}

static void list_push_front(tfc_block *sentinel, tfc_block *block) {
  block->next = sentinel->next;
  block->prev = sentinel;
  sentinel->next->prev = block;
  sentinel->next = block;
}

static void free_list(tfc_block *sentinel) {
  tfc_block *block = sentinel->next;
  while (block != sentinel) {
    tfc_block *next = block->next;
    free(block->base);
    block = next;
  }
  list_init(sentinel);
}

void tfc_allocator_init(tfc_allocator *allocator) {
  pthread_mutex_init(&allocator->lock, NULL);
  list_init(&allocator->live);
  list_init(&allocator->cached);
  allocator->live_bytes = allocator->peak_bytes = allocator->cached_bytes = 0;
}

/* Keeps a block that is no longer live for a later allocation, evicting the
 * oldest kept blocks so that the cache never holds more than the peak live
 * bytes (and some slack): a steady state needs no more, and a model whose shapes vary does
 * not pile up blocks of every size. Called with the lock held. */
static void keep_block(tfc_allocator *allocator, tfc_block *block) {
  /* A block's capacity exceeds its size by up to its alignment. */
  size_t limit = allocator->peak_bytes + allocator->peak_bytes / 4 + 4096;
  if (block->capacity > limit) {
    free(block->base);
    return;
  }
  while (allocator->cached_bytes + block->capacity > limit) {
    tfc_block *oldest = allocator->cached.prev;
    list_remove(oldest);
    allocator->cached_bytes -= oldest->capacity;
    free(oldest->base);
  }
  list_push_front(&allocator->cached, block);
  allocator->cached_bytes += block->capacity;
}

/* The smallest kept block that holds `size` bytes at `alignment` and wastes
 * at most about half of itself, removed from the cache; NULL if none. Called
 * with the lock held. */
static tfc_block *take_kept_block(tfc_allocator *allocator, size_t size,
                                  size_t alignment) {
  tfc_block *best = NULL;
  for (tfc_block *block = allocator->cached.next; block != &allocator->cached;
       block = block->next) {
    uintptr_t start = (uintptr_t)(block + 1);
    if (block->capacity < size || block->capacity / 2 > size + 4096 ||
        start % alignment != 0)
      continue;
    if (!best || block->capacity < best->capacity)
      best = block;
  }
  if (best) {
    list_remove(best);
    allocator->cached_bytes -= best->capacity;
  }
  return best;
}

void tfc_allocator_release_all(tfc_allocator *allocator) {
  pthread_mutex_lock(&allocator->lock);
  tfc_block *block = allocator->live.next;
  while (block != &allocator->live) {
    tfc_block *next = block->next;
    keep_block(allocator, block);
    block = next;
  }
  list_init(&allocator->live);
  allocator->live_bytes = 0;
  pthread_mutex_unlock(&allocator->lock);
}

void tfc_allocator_destroy(tfc_allocator *allocator) {
  free_list(&allocator->live);
  free_list(&allocator->cached);
  allocator->live_bytes = allocator->cached_bytes = 0;
  pthread_mutex_destroy(&allocator->lock);
}

static void out_of_memory(size_t size) {
  char message[128];
  snprintf(message, sizeof(message),
           "out of memory allocating %zu bytes for an intermediate tensor",
           size);
  tfc_rt_check_failed(message);
}

/* Records a block as live in the current run's allocator. Called with the
 * lock held. */
static void track_live(tfc_allocator *allocator, tfc_block *block,
                       size_t size) {
  block->size = size;
  list_push_front(&allocator->live, block);
  allocator->live_bytes += size;
  if (allocator->live_bytes > allocator->peak_bytes)
    allocator->peak_bytes = allocator->live_bytes;
}

void *tfc_rt_aligned_alloc(size_t alignment, size_t size) {
  if (alignment < sizeof(void *))
    alignment = sizeof(void *);
  tfc_run *run = tfc_current_run();
  tfc_allocator *allocator = run ? &run->model->allocator : NULL;
  if (allocator) {
    pthread_mutex_lock(&allocator->lock);
    tfc_block *kept = take_kept_block(allocator, size, alignment);
    if (kept) {
      track_live(allocator, kept, size);
      pthread_mutex_unlock(&allocator->lock);
      return kept + 1;
    }
    pthread_mutex_unlock(&allocator->lock);
  }

  /* Room for the header and for moving the start up to the alignment. */
  size_t total = size + alignment + sizeof(tfc_block);
  if (total < size) {
    out_of_memory(size);
    return NULL;
  }
  char *base = malloc(total);
  if (!base) {
    out_of_memory(size);
    return NULL;
  }
  uintptr_t start = (uintptr_t)(base + sizeof(tfc_block));
  start = (start + alignment - 1) & ~(uintptr_t)(alignment - 1);
  tfc_block *block = (tfc_block *)(start - sizeof(tfc_block));
  block->base = base;
  block->size = size;
  block->capacity = (size_t)(base + total - (char *)start);
  if (!allocator) {
    block->prev = block->next = block;
    return (void *)start;
  }
  pthread_mutex_lock(&allocator->lock);
  track_live(allocator, block, size);
  pthread_mutex_unlock(&allocator->lock);
  return (void *)start;
}

void *tfc_rt_alloc(size_t size) { return tfc_rt_aligned_alloc(16, size); }

void tfc_rt_free(void *ptr) {
  if (!ptr)
    return;
  tfc_block *block = (tfc_block *)ptr - 1;
  tfc_run *run = tfc_current_run();
  /* A block allocated outside a run links to itself. */
  if (block->next == block || !run) {
    if (block->next != block)
      list_remove(block);
    free(block->base);
    return;
  }
  tfc_allocator *allocator = &run->model->allocator;
  pthread_mutex_lock(&allocator->lock);
  list_remove(block);
  allocator->live_bytes -= block->size;
  keep_block(allocator, block);
  pthread_mutex_unlock(&allocator->lock);
}

/* MLIR's ranked memref descriptor, as memrefCopy receives it behind an
 * unranked one: {allocated, aligned, offset, sizes[rank], strides[rank]}. */
typedef struct {
  int64_t rank;
  void *descriptor;
} tfc_unranked_memref;

typedef struct {
  char *allocated;
  char *aligned;
  int64_t offset;
  int64_t sizes_and_strides[];
} tfc_memref_descriptor;

void tfc_rt_memref_copy(int64_t element_size, void *source_arg,
                        void *target_arg) {
  tfc_unranked_memref *source = source_arg, *target = target_arg;
  int64_t rank = source->rank;
  tfc_memref_descriptor *src = source->descriptor, *dst = target->descriptor;
  const int64_t *sizes = src->sizes_and_strides;
  const int64_t *src_strides = src->sizes_and_strides + rank;
  const int64_t *dst_strides = dst->sizes_and_strides + rank;
  char *src_base = src->aligned + src->offset * element_size;
  char *dst_base = dst->aligned + dst->offset * element_size;
  if (rank == 0) {
    memcpy(dst_base, src_base, element_size);
    return;
  }
  for (int64_t i = 0; i < rank; ++i)
    if (sizes[i] == 0)
      return;
  int64_t index[TFC_MAX_RANK * 2] = {0};
  if (rank > TFC_MAX_RANK * 2)
    tfc_rt_check_failed("memref copy of a rank above 16");
  for (;;) {
    int64_t src_offset = 0, dst_offset = 0;
    for (int64_t i = 0; i < rank; ++i) {
      src_offset += index[i] * src_strides[i];
      dst_offset += index[i] * dst_strides[i];
    }
    memcpy(dst_base + dst_offset * element_size,
           src_base + src_offset * element_size, element_size);
    int64_t dim = rank - 1;
    while (dim >= 0 && ++index[dim] == sizes[dim])
      index[dim--] = 0;
    if (dim < 0)
      return;
  }
}
