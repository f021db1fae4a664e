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

void tfc_allocator_init(tfc_allocator *allocator) {
  pthread_mutex_init(&allocator->lock, NULL);
  allocator->head.prev = allocator->head.next = &allocator->head;
  allocator->live_bytes = allocator->peak_bytes = 0;
}

void tfc_allocator_release_all(tfc_allocator *allocator) {
  pthread_mutex_lock(&allocator->lock);
  tfc_block *block = allocator->head.next;
  while (block != &allocator->head) {
    tfc_block *next = block->next;
    free(block->base);
    block = next;
  }
  allocator->head.prev = allocator->head.next = &allocator->head;
  allocator->live_bytes = 0;
  pthread_mutex_unlock(&allocator->lock);
}

void tfc_allocator_destroy(tfc_allocator *allocator) {
  tfc_allocator_release_all(allocator);
  pthread_mutex_destroy(&allocator->lock);
}

static void out_of_memory(size_t size) {
  char message[128];
  snprintf(message, sizeof(message),
           "out of memory allocating %zu bytes for an intermediate tensor",
           size);
  tfc_rt_check_failed(message);
}

void *tfc_rt_aligned_alloc(size_t alignment, size_t size) {
  if (alignment < sizeof(void *))
    alignment = sizeof(void *);
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

  tfc_run *run = tfc_current_run();
  if (!run) {
    block->prev = block->next = block;
    return (void *)start;
  }
  tfc_allocator *allocator = &run->model->allocator;
  pthread_mutex_lock(&allocator->lock);
  block->next = allocator->head.next;
  block->prev = &allocator->head;
  allocator->head.next->prev = block;
  allocator->head.next = block;
  allocator->live_bytes += size;
  if (allocator->live_bytes > allocator->peak_bytes)
    allocator->peak_bytes = allocator->live_bytes;
  pthread_mutex_unlock(&allocator->lock);
  return (void *)start;
}

void *tfc_rt_alloc(size_t size) { return tfc_rt_aligned_alloc(16, size); }

void tfc_rt_free(void *ptr) {
  if (!ptr)
    return;
  tfc_block *block = (tfc_block *)((char *)ptr - sizeof(tfc_block));
  if (block->next != block) {
    tfc_run *run = tfc_current_run();
    tfc_allocator *allocator = run ? &run->model->allocator : NULL;
    if (allocator)
      pthread_mutex_lock(&allocator->lock);
    block->prev->next = block->next;
    block->next->prev = block->prev;
    if (allocator) {
      allocator->live_bytes -= block->size;
      pthread_mutex_unlock(&allocator->lock);
    }
  }
  free(block->base);
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
