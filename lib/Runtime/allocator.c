/*===- allocator.c - the memory generated code allocates -----------------===*
 *
 * Blocks are tracked per model instance, so a run that a failed check ends
 * early still releases everything, and the peak is known.
 *
 * Memory planning: the first run with given input dims records the buffers
 * it allocates (size, alignment, and when each is allocated and freed);
 * at its end they are laid out in one arena by their lifetimes (greedy by
 * size: the largest first, each at the lowest offset that no buffer live
 * at the same time overlaps), as ONNX Runtime's memory patterns do. Later
 * runs with the same dims replay the plan: the n-th allocation gets the
 * n-th buffer's place, after a check that it asks for the same size, and
 * the allocator is not called. A run whose sequence differs (other dims
 * hash alike, a path that allocates otherwise) falls back to the block
 * cache below for the rest of the run and drops the plan.
 *
 *===----------------------------------------------------------------------===*/

#include "runtime_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* The size of a transparent huge page on x86-64. */
enum { HUGE_PAGE = 2 << 20 };

/* Under AddressSanitizer, the bytes of the arena and of kept blocks that
 * no live buffer owns are poisoned, and so is each block's slack past the
 * size asked for: a kernel or generated code that reads or writes past its
 * buffer is reported even though the buffer's neighbours are this
 * allocator's memory, not malloc's red zones. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TFC_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(TFC_ASAN)
#define TFC_ASAN 1
#endif
#ifdef TFC_ASAN
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

/* Hands out `block` for `size` bytes: those become addressable, the rest of
 * its capacity not. */
static void *hand_out(tfc_block *block, size_t size) {
  char *start = (char *)(block + 1);
  UNPOISON(start, size);
  POISON(start + size, block->capacity - size);
  return start;
}

static void free_block(tfc_block *block) {
  UNPOISON(block + 1, block->capacity);
  free(block->base);
}

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
    free_block(block);
    block = next;
  }
  list_init(sentinel);
}

void tfc_allocator_init(tfc_allocator *allocator) {
  pthread_mutex_init(&allocator->lock, NULL);
  list_init(&allocator->live);
  list_init(&allocator->cached);
  allocator->live_bytes = allocator->peak_bytes = allocator->cached_bytes = 0;
  memset(&allocator->plan, 0, sizeof(allocator->plan));
  allocator->plan.mode = TFC_PLAN_OFF;
}

/* Keeps a block that is no longer live for a later allocation, evicting the
 * oldest kept blocks so that the cache never holds more than the peak live
 * bytes (and some slack): a steady state needs no more, and a model whose shapes vary does
 * not pile up blocks of every size. Called with the lock held. */
static void keep_block(tfc_allocator *allocator, tfc_block *block) {
  /* A block's capacity exceeds its size by up to its alignment. */
  size_t limit = allocator->peak_bytes + allocator->peak_bytes / 4 + 4096;
  if (block->capacity > limit) {
    free_block(block);
    return;
  }
  while (allocator->cached_bytes + block->capacity > limit) {
    tfc_block *oldest = allocator->cached.prev;
    list_remove(oldest);
    allocator->cached_bytes -= oldest->capacity;
    free_block(oldest);
  }
  POISON(block + 1, block->capacity);
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

static size_t align_up(size_t offset, size_t alignment) {
  return (offset + alignment - 1) / alignment * alignment;
}

static int lifetimes_overlap(const tfc_plan_entry *a, const tfc_plan_entry *b) {
  int64_t a_died = a->died < 0 ? INT64_MAX : a->died;
  int64_t b_died = b->died < 0 ? INT64_MAX : b->died;
  return a->born < b_died && b->born < a_died;
}

/* A sort key and the entry it belongs to: the comparisons read no shared
 * state, so instances on different threads plan at the same time. */
typedef struct {
  size_t key, index;
} keyed_entry;

/* Largest key first; equal keys in entry order. */
static int larger_key_first(const void *a, const void *b) {
  const keyed_entry *x = a, *y = b;
  if (x->key != y->key)
    return x->key < y->key ? 1 : -1;
  return x->index > y->index;
}
static int smaller_key_first(const void *a, const void *b) {
  const keyed_entry *x = a, *y = b;
  return x->key < y->key ? -1 : x->key > y->key;
}

/* Lays the recorded entries out (see the file comment) and returns the
 * arena's size; 0 when out of memory for the scratch arrays. */
static size_t lay_out(tfc_plan_entry *entries, size_t count) {
  keyed_entry *order = malloc(sizeof(keyed_entry) * count);
  size_t *placed = malloc(sizeof(size_t) * count);
  keyed_entry *neighbours = malloc(sizeof(keyed_entry) * count);
  if (!order || !placed || !neighbours) {
    free(order), free(placed), free(neighbours);
    return 0;
  }
  for (size_t i = 0; i < count; ++i)
    order[i] = (keyed_entry){entries[i].size, i};
  qsort(order, count, sizeof(keyed_entry), larger_key_first);
  size_t num_placed = 0, arena = 0;
  for (size_t n = 0; n < count; ++n) {
    tfc_plan_entry *entry = &entries[order[n].index];
    /* The placed buffers live at the same time as this one, by offset; the
     * lowest gap that fits it. */
    size_t num_neighbours = 0;
    for (size_t i = 0; i < num_placed; ++i)
      if (lifetimes_overlap(entry, &entries[placed[i]]))
        neighbours[num_neighbours++] =
            (keyed_entry){entries[placed[i]].offset, placed[i]};
    qsort(neighbours, num_neighbours, sizeof(keyed_entry), smaller_key_first);
    size_t offset = 0;
    for (size_t i = 0; i < num_neighbours; ++i) {
      const tfc_plan_entry *other = &entries[neighbours[i].index];
      if (offset + entry->size <= other->offset)
        break;
      size_t past = align_up(other->offset + other->size, entry->alignment);
      if (past > offset)
        offset = past;
    }
    entry->offset = offset;
    if (offset + entry->size > arena)
      arena = offset + entry->size;
    placed[num_placed++] = order[n].index;
  }
  free(order), free(placed), free(neighbours);
  return arena ? arena : 1;
}

void tfc_allocator_begin_run(tfc_allocator *allocator, uint64_t signature) {
  tfc_memory_plan *plan = &allocator->plan;
  pthread_mutex_lock(&allocator->lock);
  plan->cursor = 0;
  plan->clock = 0;
  plan->replayed = plan->fresh_blocks = 0;
  if (plan->planned && plan->signature == signature) {
    plan->mode = TFC_PLAN_REPLAY;
  } else {
    plan->mode = TFC_PLAN_RECORD;
    plan->planned = 0; /* the entries are rewritten */
    plan->signature = signature;
    plan->count = 0;
  }
  pthread_mutex_unlock(&allocator->lock);
}

/* Records `block` (just allocated, `alignment`) as the plan's next entry.
 * Called with the lock held; a plan that cannot grow stops recording. */
static void record_entry(tfc_memory_plan *plan, tfc_block *block,
                         size_t alignment) {
  if (plan->count == plan->capacity) {
    size_t capacity = plan->capacity ? plan->capacity * 2 : 256;
    tfc_plan_entry *grown =
        realloc(plan->entries, sizeof(tfc_plan_entry) * capacity);
    if (!grown) {
      plan->mode = TFC_PLAN_OFF;
      return;
    }
    plan->entries = grown;
    plan->capacity = capacity;
  }
  tfc_plan_entry *entry = &plan->entries[plan->count];
  entry->size = block->size;
  entry->alignment = alignment;
  entry->offset = 0;
  entry->born = plan->clock++;
  entry->died = -1;
  block->plan_index = (int64_t)plan->count++;
}

void tfc_allocator_end_run(tfc_allocator *allocator, int completed) {
  pthread_mutex_lock(&allocator->lock);
  tfc_block *block = allocator->live.next;
  while (block != &allocator->live) {
    tfc_block *next = block->next;
    keep_block(allocator, block);
    block = next;
  }
  list_init(&allocator->live);
  allocator->live_bytes = 0;

  tfc_memory_plan *plan = &allocator->plan;
  if (plan->mode == TFC_PLAN_RECORD && completed && plan->count > 0) {
    size_t bytes = lay_out(plan->entries, plan->count);
    /* Offsets are aligned relative to the arena, so the arena is aligned
     * to the largest alignment asked for. */
    size_t alignment = 64;
    for (size_t i = 0; i < plan->count; ++i)
      if (plan->entries[i].alignment > alignment)
        alignment = plan->entries[i].alignment;
    /* A large arena is asked for in huge pages: its first replay faults
     * every page in, 10 to 25 us per 4 KB page on the VMs we measure on,
     * which made that run of ViT-S at batch 8 (a 100 MB arena) four times
     * as long as the next ones. */
    if (bytes >= HUGE_PAGE && alignment < HUGE_PAGE)
      alignment = HUGE_PAGE;
    char *arena = plan->arena;
    if (bytes > plan->arena_bytes || (uintptr_t)arena % alignment != 0) {
      UNPOISON(plan->arena, plan->arena_bytes);
      free(plan->arena);
      arena = NULL;
      if (bytes && posix_memalign((void **)&arena, alignment, bytes) != 0)
        arena = NULL;
      plan->arena_bytes = arena ? bytes : 0;
#ifdef MADV_HUGEPAGE
      if (arena && bytes >= HUGE_PAGE)
        madvise(arena, bytes, MADV_HUGEPAGE); /* advice: failure is fine */
#endif
    }
    plan->arena = arena;
    plan->planned = arena != NULL;
    POISON(plan->arena, plan->arena_bytes);
    /* The block cache stays (within its bound): a run with other dims
     * records its own plan from it without touching fresh memory. */
  } else if (plan->mode == TFC_PLAN_REPLAY && completed &&
             plan->cursor != plan->count) {
    plan->planned = 0; /* this run allocated something else */
  } else if (plan->mode == TFC_PLAN_OFF) {
    plan->planned = 0;
  }
  plan->mode = TFC_PLAN_OFF;
  pthread_mutex_unlock(&allocator->lock);
}

void tfc_allocator_destroy(tfc_allocator *allocator) {
  free_list(&allocator->live);
  free_list(&allocator->cached);
  allocator->live_bytes = allocator->cached_bytes = 0;
  free(allocator->plan.entries);
  UNPOISON(allocator->plan.arena, allocator->plan.arena_bytes);
  free(allocator->plan.arena);
  memset(&allocator->plan, 0, sizeof(allocator->plan));
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

/* The arena's place for the plan's next buffer, if the run replays a plan
 * and asks for what it recorded; else the replay stops. Called with the
 * lock held. */
static void *replay_entry(tfc_memory_plan *plan, size_t size,
                          size_t alignment) {
  if (plan->cursor < plan->count) {
    const tfc_plan_entry *entry = &plan->entries[plan->cursor];
    if (entry->size == size && entry->alignment == alignment) {
      ++plan->cursor;
      ++plan->replayed;
      UNPOISON(plan->arena + entry->offset, size);
      return plan->arena + entry->offset;
    }
  }
  plan->mode = TFC_PLAN_OFF;
  return NULL;
}

void *tfc_rt_aligned_alloc(size_t alignment, size_t size) {
  if (alignment < sizeof(void *))
    alignment = sizeof(void *);
  tfc_run *run = tfc_current_run();
  tfc_allocator *allocator = run ? &run->model->allocator : NULL;
  /* Only the run's own sequence is planned (see tfc_memory_plan). */
  int planned = allocator && !tfc_in_parallel_body() &&
                allocator->plan.mode != TFC_PLAN_OFF;
  if (allocator) {
    pthread_mutex_lock(&allocator->lock);
    if (planned && allocator->plan.mode == TFC_PLAN_REPLAY) {
      void *place = replay_entry(&allocator->plan, size, alignment);
      if (place) {
        pthread_mutex_unlock(&allocator->lock);
        return place;
      }
      planned = 0;
    }
    tfc_block *kept = take_kept_block(allocator, size, alignment);
    if (kept) {
      track_live(allocator, kept, size);
      kept->plan_index = -1;
      if (planned && allocator->plan.mode == TFC_PLAN_RECORD)
        record_entry(&allocator->plan, kept, alignment);
      pthread_mutex_unlock(&allocator->lock);
      return hand_out(kept, size);
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
  block->plan_index = -1;
  if (!allocator) {
    block->prev = block->next = block;
    return hand_out(block, size);
  }
  pthread_mutex_lock(&allocator->lock);
  track_live(allocator, block, size);
  ++allocator->plan.fresh_blocks;
  if (planned && allocator->plan.mode == TFC_PLAN_RECORD)
    record_entry(&allocator->plan, block, alignment);
  pthread_mutex_unlock(&allocator->lock);
  return hand_out(block, size);
}

void *tfc_rt_alloc(size_t size) { return tfc_rt_aligned_alloc(16, size); }

void tfc_rt_free(void *ptr) {
  if (!ptr)
    return;
  tfc_run *run = tfc_current_run();
  /* A place in the plan's arena: nothing to free. */
  if (run) {
    const tfc_memory_plan *plan = &run->model->allocator.plan;
    if (plan->arena && (char *)ptr >= plan->arena &&
        (char *)ptr < plan->arena + plan->arena_bytes) {
#ifdef TFC_ASAN
      /* Buffers of other lifetimes share this place: the one freed is the
       * last handed out there. */
      for (size_t i = plan->cursor; i-- > 0;)
        if (plan->arena + plan->entries[i].offset == (char *)ptr) {
          POISON(ptr, plan->entries[i].size);
          break;
        }
#endif
      return;
    }
  }
  tfc_block *block = (tfc_block *)ptr - 1;
  /* A block allocated outside a run links to itself. */
  if (block->next == block || !run) {
    if (block->next != block)
      list_remove(block);
    free_block(block);
    return;
  }
  tfc_allocator *allocator = &run->model->allocator;
  pthread_mutex_lock(&allocator->lock);
  list_remove(block);
  allocator->live_bytes -= block->size;
  tfc_memory_plan *plan = &allocator->plan;
  if (block->plan_index >= 0 && plan->mode == TFC_PLAN_RECORD &&
      (size_t)block->plan_index < plan->count)
    plan->entries[block->plan_index].died = plan->clock++;
  block->plan_index = -1;
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

/* Copies `count` elements of `element_size` bytes from `source` to
 * `target`, `source_stride` and `target_stride` elements apart. */
static void copy_strided_run(char *target, const char *source,
                             int64_t count, int64_t element_size,
                             int64_t target_stride, int64_t source_stride) {
  if (target_stride == 1 && source_stride == 1) {
    memcpy(target, source, (size_t)(count * element_size));
    return;
  }
#define COPY_AS(type)                                                          \
  for (int64_t j = 0; j < count; ++j)                                          \
    memcpy(target + j * target_stride * element_size,                          \
           source + j * source_stride * element_size, sizeof(type));           \
  return;
  switch (element_size) {
  case 1:
    COPY_AS(uint8_t)
  case 2:
    COPY_AS(uint16_t)
  case 4:
    COPY_AS(uint32_t)
  case 8:
    COPY_AS(uint64_t)
  default:
    for (int64_t j = 0; j < count; ++j)
      memcpy(target + j * target_stride * element_size,
             source + j * source_stride * element_size, (size_t)element_size);
  }
#undef COPY_AS
}

/* memref.copy between any two layouts of the same shape (concat, split and
 * slices lower to it). The innermost dims that are contiguous in both
 * memrefs are copied as one run, by memcpy where the run's stride is 1:
 * copying element by element took 0.3 ms for ViT-S's class-token concat of
 * 197 x 384 floats. */
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
    memcpy(dst_base, src_base, (size_t)element_size);
    return;
  }
  for (int64_t i = 0; i < rank; ++i)
    if (sizes[i] == 0)
      return;
  if (rank > TFC_MAX_RANK * 2)
    tfc_rt_check_failed("memref copy of a rank above 16");
  /* The run: the last dim, grown by each dim before it whose stride in
   * both memrefs is the run's length (its rows follow one another). */
  int64_t run = sizes[rank - 1];
  int64_t run_src_stride = src_strides[rank - 1];
  int64_t run_dst_stride = dst_strides[rank - 1];
  int64_t outer_rank = rank - 1;
  while (outer_rank > 0 && run_src_stride == 1 && run_dst_stride == 1 &&
         src_strides[outer_rank - 1] == run &&
         dst_strides[outer_rank - 1] == run) {
    run *= sizes[outer_rank - 1];
    --outer_rank;
  }
  int64_t index[TFC_MAX_RANK * 2] = {0};
  for (;;) {
    int64_t src_offset = 0, dst_offset = 0;
    for (int64_t i = 0; i < outer_rank; ++i) {
      src_offset += index[i] * src_strides[i];
      dst_offset += index[i] * dst_strides[i];
    }
    copy_strided_run(dst_base + dst_offset * element_size,
                     src_base + src_offset * element_size, run, element_size,
                     run_dst_stride, run_src_stride);
    int64_t dim = outer_rank - 1;
    while (dim >= 0 && ++index[dim] == sizes[dim])
      index[dim--] = 0;
    if (dim < 0)
      return;
  }
}
