/*===- amx.h - AMX tile products of the bf16 and int8 linear kernels -*- C -*-===*
 *
 * Intel AMX (Sapphire Rapids on; the model's TFC_RT_FEATURE_AMX): eight
 * tile registers of up to 16 rows of 64 bytes, and instructions that
 * multiply two tiles into a third:
 *
 *   tdpbf16ps  16 x 32 bf16 (A) by 16 rows of 16 bf16 pairs (B): 16 x 16
 *              f32 sums (C), 16 x 16 x 32 products;
 *   tdpbusd    16 x 64 u8 (A) by 16 rows of 16 s8 quads (B): 16 x 16 s32.
 *
 * One instruction does 8192 (bf16) or 16384 (int8) products, against 32 or
 * 64 for a zmm vdpbf16ps or vpdpbusd: on this kind of core several times
 * the vector units' peak.
 *
 * The linear kernels' operands are already in the layout tiles read, so
 * AMX needs no packing of its own. A panel of packed weights is, step
 * after step of k (a pair of k for bf16, a group of 4 for int8), PANEL
 * columns of 4 bytes: 16 steps of 16 columns is a B tile at a stride of
 * PANEL * 4 bytes. The converted or quantized input rows hold each row's
 * steps one after another: 16 rows of 16 steps is an A tile at the row
 * stride.
 *
 * A product here is 32 rows (or 16) by 32 columns (one AVX-512 panel):
 * C tiles 0-3 (2 x 2 blocks of 16 x 16), A tiles 4-5 (16 rows each), B
 * tiles 6-7 (16 columns each); each A and B tile loaded serves two
 * products. The depth must be whole tiles (16 steps): the caller keeps
 * the vector tiles for other depths and for the rows left after the
 * blocks of 16. The bf16 attention kernel uses the same product for its
 * scores and outputs (attention_f32.c).
 *
 * Every tile has the same shape, 16 rows of 64 bytes, so one configuration
 * serves both kernels: a task loads it before its first product and
 * releases the tiles after its last (amx_begin, amx_end), since the
 * configuration belongs to the thread and the runtime's threads run other
 * kernels too. The runtime asks Linux for the tiles' state once per
 * process (tfc_model_create) before any of this runs.
 *
 *===----------------------------------------------------------------------===*/

#ifndef TFC_KERNELS_AMX_H
#define TFC_KERNELS_AMX_H

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) && defined(__AVX512F__)
#include <immintrin.h>

#define HAVE_AMX 1
#define AMX_TARGET __attribute__((target("amx-tile,amx-bf16,amx-int8")))

enum {
  AMX_ROWS = 16,      /* rows of a tile, and steps of k in one */
  AMX_BLOCK_ROWS = 32 /* the most rows of one product */
};

/* The tile configuration ldtilecfg reads (palette 1). */
typedef struct amx_config {
  uint8_t palette, start_row;
  uint8_t reserved[14];
  uint16_t bytes_per_row[16];
  uint8_t rows[16];
} amx_config;
_Static_assert(sizeof(amx_config) == 64, "ldtilecfg reads 64 bytes");

static inline AMX_TARGET void amx_begin(void) {
  amx_config config;
  memset(&config, 0, sizeof(config));
  config.palette = 1;
  for (int t = 0; t < 8; ++t) {
    config.bytes_per_row[t] = 64;
    config.rows[t] = AMX_ROWS;
  }
  _tile_loadconfig(&config);
}

static inline AMX_TARGET void amx_end(void) { _tile_release(); }

/* c[BLOCKS * 16][32] (+)= a[BLOCKS * 16][steps] b[steps][32], every entry 4
 * bytes (an f32 or s32 sum; a pair or quad of products' operands), rows
 * a_row, b_row and c_row bytes apart, steps a multiple of 16; DOT is the
 * tile instruction. C starts at 0, or with LOAD_C at what c holds. With
 * `prefetch`, each step of 16 also prefetches the same rows of the B that
 * comes next. */
#define AMX_PRODUCT(NAME, DOT)                                                 \
  static inline __attribute__((always_inline)) AMX_TARGET void NAME(           \
      const void *a, int64_t a_row, const void *b, int64_t b_row,              \
      int64_t steps, void *c, int64_t c_row, const int BLOCKS,                 \
      const int LOAD_C, const void *prefetch) {                                \
    char *out = c;                                                             \
    if (LOAD_C) {                                                              \
      _tile_loadd(0, out, c_row);                                              \
      _tile_loadd(1, out + 64, c_row);                                         \
      if (BLOCKS == 2) {                                                       \
        _tile_loadd(2, out + AMX_ROWS * c_row, c_row);                         \
        _tile_loadd(3, out + AMX_ROWS * c_row + 64, c_row);                    \
      }                                                                        \
    } else {                                                                   \
      _tile_zero(0);                                                           \
      _tile_zero(1);                                                           \
      if (BLOCKS == 2) {                                                       \
        _tile_zero(2);                                                         \
        _tile_zero(3);                                                         \
      }                                                                        \
    }                                                                          \
    for (int64_t s = 0; s < steps; s += AMX_ROWS) {                            \
      const char *bs = (const char *)b + s * b_row;                            \
      const char *as = (const char *)a + s * 4;                                \
      if (prefetch)                                                            \
        for (int64_t line = 0; line < AMX_ROWS * b_row / 64; ++line)          \
          __builtin_prefetch((const char *)prefetch + s * b_row + 64 * line,   \
                             0, 3);                                            \
      _tile_loadd(6, bs, b_row);                                               \
      _tile_loadd(7, bs + 64, b_row);                                          \
      _tile_loadd(4, as, a_row);                                               \
      DOT(0, 4, 6);                                                            \
      DOT(1, 4, 7);                                                            \
      if (BLOCKS == 2) {                                                       \
        _tile_loadd(5, as + AMX_ROWS * a_row, a_row);                          \
        DOT(2, 5, 6);                                                          \
        DOT(3, 5, 7);                                                          \
      }                                                                        \
    }                                                                          \
    _tile_stored(0, out, c_row);                                               \
    _tile_stored(1, out + 64, c_row);                                          \
    if (BLOCKS == 2) {                                                         \
      _tile_stored(2, out + AMX_ROWS * c_row, c_row);                          \
      _tile_stored(3, out + AMX_ROWS * c_row + 64, c_row);                     \
    }                                                                          \
  }

#else
#define HAVE_AMX 0
enum { AMX_BLOCK_ROWS = 0 };
#endif

#endif /* TFC_KERNELS_AMX_H */
