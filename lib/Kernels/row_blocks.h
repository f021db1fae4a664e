/*===- row_blocks.h - converting a linear's input once per block -*- C -*-===*
 *
 * The int8 and bf16 linear kernels read their input rows converted (to
 * 8-bit integers, to bf16 pairs), written once into the call's workspace.
 * A task is a block of rows by a group of panels, so several tasks read the
 * same block: the first to reach it converts it, and the others wait for
 * that one, which is running (a separate pass over the thread pool cost
 * 5-10% of a 768x768 int8 product at 128 rows). A block's state: 0 not
 * converted, 1 being converted, 2 converted.
 *
 * With AMX a task spans several blocks (block_span): a tile product is so
 * fast that each pass over a panel's weights must serve more rows, while
 * the blocks stay small so that the threads convert them side by side.
 * A task converts its blocks first, each thread starting at a different
 * one.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TFC_KERNELS_ROW_BLOCKS_H
#define TFC_KERNELS_ROW_BLOCKS_H

#include <stdatomic.h>
#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>
#define TFC_PAUSE() _mm_pause()
#elif defined(__aarch64__)
#define TFC_PAUSE() __asm__ volatile("yield")
#else
#define TFC_PAUSE() ((void)0)
#endif

/* Returns once rows [begin, end) are converted: by convert(problem, begin,
 * end) here when this caller is the first to reach the block. */
static inline void convert_block_once(atomic_int *state,
                                      void (*convert)(const void *, int64_t,
                                                      int64_t),
                                      const void *problem, int64_t begin,
                                      int64_t end) {
  if (atomic_load_explicit(state, memory_order_acquire) == 2)
    return;
  int expected = 0;
  if (atomic_compare_exchange_strong(state, &expected, 1)) {
    convert(problem, begin, end);
    atomic_store_explicit(state, 2, memory_order_release);
    return;
  }
  while (atomic_load_explicit(state, memory_order_acquire) != 2)
    TFC_PAUSE();
}

/* Where task `task` of a linear kernel lies: its batch, its rows [row0,
 * row_end) in the batch (blocks [first_block, end_block)), its group of
 * panels. Consecutive tasks take the row groups of a panel group first, so
 * that the threads start on different rows. */
typedef struct linear_task {
  int64_t batch, group, first_block, end_block, row0, row_end;
} linear_task;

/* The first row of block `block` of a batch: blocks are whole 12-row
 * tiles, spread evenly. */
static inline int64_t block_row(int64_t block, int64_t row_tiles,
                                int64_t row_blocks, int64_t rows) {
  int64_t row = block * row_tiles / row_blocks * 12;
  return row < rows ? row : rows;
}

static inline linear_task place_linear_task(int64_t task, int64_t rows,
                                            int64_t row_tiles, int64_t row_blocks,
                                            int64_t block_span, int64_t row_groups,
                                            int64_t panel_groups) {
  linear_task t;
  int64_t row_group = task % row_groups;
  t.group = task / row_groups % panel_groups;
  t.batch = task / (row_groups * panel_groups);
  t.first_block = row_group * block_span;
  t.end_block = t.first_block + block_span < row_blocks ? t.first_block + block_span
                                                        : row_blocks;
  t.row0 = block_row(t.first_block, row_tiles, row_blocks, rows);
  t.row_end = block_row(t.end_block, row_tiles, row_blocks, rows);
  return t;
}

/* Returns once the task's blocks are converted (states: the batch's),
 * converting those no other thread has reached, from the (task % count)th
 * block on. */
static inline void convert_task_blocks(const linear_task *t, int64_t task,
                                       atomic_int *states,
                                       void (*convert)(const void *, int64_t,
                                                       int64_t),
                                       const void *problem, int64_t rows,
                                       int64_t row_tiles, int64_t row_blocks) {
  int64_t count = t->end_block - t->first_block;
  for (int64_t i = 0; i < count; ++i) {
    int64_t block = t->first_block + (task + i) % count;
    int64_t batch_row = t->batch * rows;
    convert_block_once(&states[block], convert, problem,
                       batch_row + block_row(block, row_tiles, row_blocks, rows),
                       batch_row + block_row(block + 1, row_tiles, row_blocks, rows));
  }
}

#endif
