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

#endif
