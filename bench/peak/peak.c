/*===- peak.c - this machine's peak arithmetic throughput -----------------===*
 *
 * Measures what one core and all cores can do at most, so that every
 * benchmark can print its throughput as a fraction of it:
 *   fp32 FMA with AVX-512 (zmm) and with AVX2 (ymm), where present;
 *   int8 dot products with VNNI (vpdpbusd, AVX-512 or AVX-VNNI), where
 *   present, and without: AVX2's vpmaddubsw (u8 x s8 pairs to s16, then
 *   vpmaddwd by ones to s32 and an add: what int8 products cost on a CPU
 *   without VNNI) and vpmaddwd on s16 (the path of tfc's int8 kernel
 *   there, which cannot saturate);
 *   bf16 dot products (vdpbf16ps) with AVX512-BF16, and AMX's int8 and
 *   bf16 tile products (tdpbusd, tdpbf16ps), where present;
 *   and memory: the rate at which one thread and all threads read a buffer
 *   far larger than the caches (what a decode step, which reads every
 *   weight once, is bound by).
 * Each loop keeps many independent accumulators, enough to cover the FMA
 * latency on every FMA port, and touches no memory. Each figure is the best
 * of several timed repetitions (the machines are shared; the best is the
 * closest to what the core can do).
 *
 * Usage: tfc-peak [--threads N] [--machine]
 *   --machine prints one line of key=value pairs for scripts instead of the
 *   table (fp32 GFLOP/s per core and for N threads, int8 GOP/s likewise,
 *   read_gbs_1 and read_gbs_N the memory read rates in GB/s).
 *
 *===----------------------------------------------------------------------===*/

#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { ITERATIONS = 20 * 1000 * 1000, REPETITIONS = 5 };

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Each kernel returns a value that depends on every accumulator, so that
 * nothing can be optimized away, and the number of operations it did. */
typedef double (*kernel_fn)(long iterations, float seed);

/* 24 zmm accumulators: 2 FMA ports x 4 cycles of latency need 8; more
 * cover any port count up to 6. 16 lanes x 2 flops per FMA. */
__attribute__((target("avx512f"))) static double fma_avx512(long iterations,
                                                             float seed) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i)
    acc[i] = _mm512_set1_ps(seed + i);
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (long n = 0; n < iterations; ++n) {
#pragma clang loop unroll(full)
    for (int i = 0; i < 24; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < 24; ++i)
    sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

/* 12 ymm accumulators (AVX2 has 16 registers). 8 lanes x 2 flops. */
__attribute__((target("avx2,fma"))) static double fma_avx2(long iterations,
                                                            float seed) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm256_set1_ps(seed + i);
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (long n = 0; n < iterations; ++n) {
#pragma clang loop unroll(full)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  }
  __m256 sum = acc[0];
  for (int i = 1; i < 12; ++i)
    sum = _mm256_add_ps(sum, acc[i]);
  float lanes[8];
  _mm256_storeu_ps(lanes, sum);
  double total = 0;
  for (int i = 0; i < 8; ++i)
    total += lanes[i];
  return total;
}

/* vpdpbusd zmm: 16 lanes x 4 u8*s8 products, each a multiply and an add. */
__attribute__((target("avx512f,avx512vnni"))) static double
vnni_avx512(long iterations, float seed) {
  __m512i acc[24];
  for (int i = 0; i < 24; ++i)
    acc[i] = _mm512_set1_epi32((int)seed + i);
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-2);
  for (long n = 0; n < iterations; ++n) {
#pragma clang loop unroll(full)
    for (int i = 0; i < 24; ++i)
      acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
  }
  __m512i sum = acc[0];
  for (int i = 1; i < 24; ++i)
    sum = _mm512_add_epi32(sum, acc[i]);
  return (double)_mm512_reduce_add_epi32(sum);
}

/* The same with AVX-VNNI on ymm (12 accumulators). */
__attribute__((target("avx2,avxvnni"))) static double
vnni_avx2(long iterations, float seed) {
  __m256i acc[12];
  for (int i = 0; i < 12; ++i)
    acc[i] = _mm256_set1_epi32((int)seed + i);
  const __m256i a = _mm256_set1_epi8(3), b = _mm256_set1_epi8(-2);
  for (long n = 0; n < iterations; ++n) {
#pragma clang loop unroll(full)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm256_dpbusd_avx_epi32(acc[i], a, b);
  }
  __m256i sum = acc[0];
  for (int i = 1; i < 12; ++i)
    sum = _mm256_add_epi32(sum, acc[i]);
  int lanes[8];
  _mm256_storeu_si256((__m256i *)lanes, sum);
  double total = 0;
  for (int i = 0; i < 8; ++i)
    total += lanes[i];
  return total;
}

/* vdpbf16ps zmm: 16 lanes x 2 bf16 products, each a multiply and an add. */
__attribute__((target("avx512f,avx512bf16"))) static double
bf16_avx512(long iterations, float seed) {
  __m512 acc[24];
  for (int i = 0; i < 24; ++i)
    acc[i] = _mm512_set1_ps(seed + i);
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80),
                 b = (__m512bh)_mm512_set1_epi16(0x3380);
  for (long n = 0; n < iterations; ++n) {
#pragma clang loop unroll(full)
    for (int i = 0; i < 24; ++i)
      acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  }
  __m512 sum = acc[0];
  for (int i = 1; i < 24; ++i)
    sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

/* AMX: four tile products into four accumulator tiles (C 0-3) from two A
 * and two B tiles, as the kernels' 32 x 32 blocks (lib/Kernels/amx.h). A
 * tdpbusd is 16 x 16 x 64 u8*s8 products, a tdpbf16ps 16 x 16 x 32 bf16
 * ones; each loop runs AMX_SHARE of the iterations (one product is worth
 * hundreds of vector instructions). The tiles' state is the process's once
 * main has asked Linux for it; the configuration is per thread. */
enum { AMX_SHARE = 8 };
typedef struct {
  uint8_t palette, start_row, reserved[14];
  uint16_t bytes_per_row[16];
  uint8_t rows[16];
} amx_config;

__attribute__((target("amx-tile"))) static void amx_configure(void) {
  amx_config config;
  memset(&config, 0, sizeof(config));
  config.palette = 1;
  for (int t = 0; t < 8; ++t) {
    config.bytes_per_row[t] = 64;
    config.rows[t] = 16;
  }
  _tile_loadconfig(&config);
}

#define AMX_PEAK(NAME, TARGET, DOT, ACC_TYPE)                                  \
  __attribute__((target(TARGET))) static double NAME(long iterations,         \
                                                     float seed) {             \
    static _Thread_local uint8_t operand[2][16 * 64] __attribute__((aligned(64))); \
    ACC_TYPE out[16 * 16];                                                     \
    memset(operand, (int)seed, sizeof(operand));                               \
    amx_configure();                                                           \
    _tile_zero(0);                                                             \
    _tile_zero(1);                                                             \
    _tile_zero(2);                                                             \
    _tile_zero(3);                                                             \
    _tile_loadd(4, operand[0], 64);                                            \
    _tile_loadd(5, operand[1], 64);                                            \
    _tile_loadd(6, operand[0], 64);                                            \
    _tile_loadd(7, operand[1], 64);                                            \
    for (long n = 0; n < iterations / AMX_SHARE; ++n) {                       \
      DOT(0, 4, 6);                                                            \
      DOT(1, 4, 7);                                                            \
      DOT(2, 5, 6);                                                            \
      DOT(3, 5, 7);                                                            \
    }                                                                          \
    _tile_stored(0, out, 64);                                                  \
    _tile_release();                                                           \
    return (double)out[0];                                                     \
  }
AMX_PEAK(amx_int8, "amx-tile,amx-int8", _tile_dpbusd, int32_t)
AMX_PEAK(amx_bf16, "amx-tile,amx-bf16", _tile_dpbf16ps, float)
#undef AMX_PEAK

/* Linux grants the AMX tiles' state to processes that ask. */
static int amx_usable(void) {
  if (!(__builtin_cpu_supports("amx-tile") && __builtin_cpu_supports("amx-int8") &&
        __builtin_cpu_supports("amx-bf16")))
    return 0;
  return syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */,
                 18 /* XFEATURE_XTILEDATA */) == 0;
}

/* The products below take no accumulator, so identical ones would be
 * computed once: each accumulator has its own operand, made opaque to the
 * compiler every iteration (so nothing is hoisted or shared) at no cost. */

/* vpmaddubsw + vpmaddwd(ones) + vpaddd on ymm: 32 u8*s8 products per
 * triple, each a multiply and an add (6 accumulators, 6 operands). */
__attribute__((target("avx2"))) static double maddubs_avx2(long iterations,
                                                            float seed) {
  __m256i acc[6], x[6];
  for (int i = 0; i < 6; ++i) {
    acc[i] = _mm256_set1_epi32((int)seed + i);
    x[i] = _mm256_set1_epi8((char)(3 + i));
  }
  __m256i b = _mm256_set1_epi8(-2);
  const __m256i ones = _mm256_set1_epi16(1);
  for (long n = 0; n < iterations; ++n) {
#pragma clang loop unroll(full)
    for (int i = 0; i < 6; ++i)
      acc[i] = _mm256_add_epi32(
          acc[i], _mm256_madd_epi16(_mm256_maddubs_epi16(x[i], b), ones));
    __asm__ volatile("" : "+x"(x[0]), "+x"(x[1]), "+x"(x[2]), "+x"(x[3]),
                     "+x"(x[4]), "+x"(x[5]), "+x"(b));
  }
  __m256i sum = acc[0];
  for (int i = 1; i < 6; ++i)
    sum = _mm256_add_epi32(sum, acc[i]);
  int lanes[8];
  _mm256_storeu_si256((__m256i *)lanes, sum);
  double total = 0;
  for (int i = 0; i < 8; ++i)
    total += lanes[i];
  return total;
}

/* vpmaddwd + vpaddd: 2 s16 products per 32-bit lane. */
__attribute__((target("avx2"))) static double madd16_avx2(long iterations,
                                                           float seed) {
  __m256i acc[6], x[6];
  for (int i = 0; i < 6; ++i) {
    acc[i] = _mm256_set1_epi32((int)seed + i);
    x[i] = _mm256_set1_epi16((short)(3 + i));
  }
  __m256i b = _mm256_set1_epi16(-2);
  for (long n = 0; n < iterations; ++n) {
#pragma clang loop unroll(full)
    for (int i = 0; i < 6; ++i)
      acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(x[i], b));
    __asm__ volatile("" : "+x"(x[0]), "+x"(x[1]), "+x"(x[2]), "+x"(x[3]),
                     "+x"(x[4]), "+x"(x[5]), "+x"(b));
  }
  __m256i sum = acc[0];
  for (int i = 1; i < 6; ++i)
    sum = _mm256_add_epi32(sum, acc[i]);
  int lanes[8];
  _mm256_storeu_si256((__m256i *)lanes, sum);
  double total = 0;
  for (int i = 0; i < 8; ++i)
    total += lanes[i];
  return total;
}

__attribute__((target("avx512f,avx512bw"))) static double
madd16_avx512(long iterations, float seed) {
  __m512i acc[12], x[12];
  for (int i = 0; i < 12; ++i) {
    acc[i] = _mm512_set1_epi32((int)seed + i);
    x[i] = _mm512_set1_epi16((short)(3 + i));
  }
  __m512i b = _mm512_set1_epi16(-2);
  for (long n = 0; n < iterations; ++n) {
#pragma clang loop unroll(full)
    for (int i = 0; i < 12; ++i)
      acc[i] = _mm512_add_epi32(acc[i], _mm512_madd_epi16(x[i], b));
    __asm__ volatile("" : "+v"(x[0]), "+v"(x[1]), "+v"(x[2]), "+v"(x[3]),
                     "+v"(x[4]), "+v"(x[5]), "+v"(x[6]), "+v"(x[7]),
                     "+v"(x[8]), "+v"(x[9]), "+v"(x[10]), "+v"(x[11]),
                     "+v"(b));
  }
  __m512i sum = acc[0];
  for (int i = 1; i < 12; ++i)
    sum = _mm512_add_epi32(sum, acc[i]);
  return (double)_mm512_reduce_add_epi32(sum);
}

typedef struct {
  const char *name;   /* what the table calls it */
  const char *key;    /* its --machine key */
  const char *unit;   /* GFLOP/s or GOP/s */
  kernel_fn kernel;
  double ops_per_iteration;
  int supported;
} measurement;

typedef struct {
  kernel_fn kernel;
  pthread_barrier_t *start;
  double seconds, result;
} worker;

static void *run_worker(void *arg) {
  worker *w = arg;
  pthread_barrier_wait(w->start);
  double begin = now_seconds();
  w->result = w->kernel(ITERATIONS, 1.0f);
  w->seconds = now_seconds() - begin;
  return NULL;
}

/* Operations per second of `threads` threads running the kernel at once:
 * the best of REPETITIONS, each timed by its slowest thread. */
static double measure(const measurement *m, int threads) {
  double best = 0, sink = 0;
  for (int rep = 0; rep < REPETITIONS; ++rep) {
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    pthread_t ids[256];
    worker workers[256];
    for (int t = 0; t < threads; ++t) {
      workers[t] = (worker){.kernel = m->kernel, .start = &start};
      if (t > 0)
        pthread_create(&ids[t], NULL, run_worker, &workers[t]);
    }
    run_worker(&workers[0]);
    double slowest = workers[0].seconds;
    for (int t = 1; t < threads; ++t) {
      pthread_join(ids[t], NULL);
      if (workers[t].seconds > slowest)
        slowest = workers[t].seconds;
    }
    for (int t = 0; t < threads; ++t)
      sink += workers[t].result;
    pthread_barrier_destroy(&start);
    double rate = threads * m->ops_per_iteration * ITERATIONS / slowest;
    if (rate > best)
      best = rate;
  }
  /* Keeps the results alive. */
  if (sink == 12345.678)
    printf("%c", ' ');
  return best;
}

/* Memory read rate: each thread sums its own slice of a buffer of
 * READ_BYTES (far past any last-level cache), 32 bytes a step with four
 * independent sums so that the loads, not the adds, set the pace. The
 * buffer is written before the timing so that no page fault is timed. */
enum { READ_BYTES = 1 << 30, READ_PASSES = 2 };
typedef uint64_t read_vector __attribute__((vector_size(32), aligned(32)));

typedef struct {
  const read_vector *begin;
  size_t count;
  pthread_barrier_t *start;
  double seconds;
  uint64_t result;
} reader;

static void *run_reader(void *arg) {
  reader *r = arg;
  pthread_barrier_wait(r->start);
  double begin = now_seconds();
  read_vector sums[4] = {{0}, {0}, {0}, {0}};
  for (int pass = 0; pass < READ_PASSES; ++pass)
    for (size_t i = 0; i + 4 <= r->count; i += 4)
      for (int j = 0; j < 4; ++j)
        sums[j] += r->begin[i + j];
  r->seconds = now_seconds() - begin;
  read_vector total = sums[0] + sums[1] + sums[2] + sums[3];
  r->result = total[0] + total[1] + total[2] + total[3];
  return NULL;
}

/* Bytes per second `threads` threads read at once: the best of
 * REPETITIONS, each timed by its slowest thread; 0 without the memory. */
static double read_bandwidth(int threads) {
  read_vector *buffer = aligned_alloc(64, READ_BYTES);
  if (!buffer)
    return 0;
  memset(buffer, 1, READ_BYTES);
  const size_t vectors = READ_BYTES / sizeof(read_vector);
  double best = 0;
  uint64_t sink = 0;
  for (int rep = 0; rep < REPETITIONS; ++rep) {
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    pthread_t ids[256];
    reader readers[256];
    for (int t = 0; t < threads; ++t) {
      size_t first = vectors * (size_t)t / (size_t)threads;
      size_t end = vectors * (size_t)(t + 1) / (size_t)threads;
      readers[t] = (reader){.begin = buffer + first, .count = end - first, .start = &start};
      if (t > 0)
        pthread_create(&ids[t], NULL, run_reader, &readers[t]);
    }
    run_reader(&readers[0]);
    double slowest = readers[0].seconds;
    for (int t = 1; t < threads; ++t) {
      pthread_join(ids[t], NULL);
      if (readers[t].seconds > slowest)
        slowest = readers[t].seconds;
    }
    for (int t = 0; t < threads; ++t)
      sink += readers[t].result;
    pthread_barrier_destroy(&start);
    double rate = (double)READ_BYTES * READ_PASSES / slowest;
    if (rate > best)
      best = rate;
  }
  free(buffer);
  if (sink == 12345)
    printf("%c", ' ');
  return best;
}

int main(int argc, char **argv) {
  int threads = (int)sysconf(_SC_NPROCESSORS_ONLN), machine = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--machine")) {
      machine = 1;
    } else {
      fprintf(stderr, "usage: %s [--threads N] [--machine]\n", argv[0]);
      return 2;
    }
  }
  if (threads < 1 || threads > 256) {
    fprintf(stderr, "tfc-peak: --threads must be between 1 and 256\n");
    return 2;
  }
  __builtin_cpu_init();
  const int amx = amx_usable();
  measurement all[] = {
      {"fp32 FMA, AVX-512", "fp32_avx512", "GFLOP/s", fma_avx512, 24 * 16 * 2,
       __builtin_cpu_supports("avx512f")},
      {"fp32 FMA, AVX2", "fp32_avx2", "GFLOP/s", fma_avx2, 12 * 8 * 2,
       __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")},
      {"int8 dot, AVX-512 VNNI", "int8_avx512vnni", "GOP/s", vnni_avx512,
       24 * 64 * 2, __builtin_cpu_supports("avx512vnni")},
      {"int8 dot, AVX-VNNI", "int8_avxvnni", "GOP/s", vnni_avx2, 12 * 32 * 2,
       __builtin_cpu_supports("avxvnni")},
      {"int8 tiles, AMX", "int8_amx", "GOP/s", amx_int8,
       4 * 16 * 16 * 64 * 2.0 / AMX_SHARE, amx},
      {"bf16 dot, AVX512-BF16", "bf16_avx512", "GFLOP/s", bf16_avx512,
       24 * 32 * 2, __builtin_cpu_supports("avx512bf16")},
      {"bf16 tiles, AMX", "bf16_amx", "GFLOP/s", amx_bf16,
       4 * 16 * 16 * 32 * 2.0 / AMX_SHARE, amx},
      {"int8 vpmaddubsw, AVX2", "int8_avx2", "GOP/s", maddubs_avx2, 6 * 32 * 2,
       __builtin_cpu_supports("avx2")},
      {"s16 vpmaddwd, AVX-512", "s16_avx512", "GOP/s", madd16_avx512,
       12 * 32 * 2, __builtin_cpu_supports("avx512bw")},
      {"s16 vpmaddwd, AVX2", "s16_avx2", "GOP/s", madd16_avx2, 6 * 16 * 2,
       __builtin_cpu_supports("avx2")},
  };
  if (!machine)
    printf("%-24s %10s %18s %9s\n", "", "1 thread", "all threads", "unit");
  for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); ++i) {
    const measurement *m = &all[i];
    if (!m->supported) {
      if (!machine)
        printf("%-24s %10s %18s\n", m->name, "-", "(not on this CPU)");
      continue;
    }
    double one = measure(m, 1) / 1e9, many = measure(m, threads) / 1e9;
    if (machine)
      printf("%s%s_1=%.1f %s_%d=%.1f", i ? " " : "", m->key, one, m->key,
             threads, many);
    else
      printf("%-24s %10.1f %11.1f (%3d) %9s\n", m->name, one, many, threads,
             m->unit);
  }
  double read_one = read_bandwidth(1) / 1e9, read_many = read_bandwidth(threads) / 1e9;
  if (machine)
    printf(" read_gbs_1=%.1f read_gbs_%d=%.1f", read_one, threads, read_many);
  else
    printf("%-24s %10.1f %11.1f (%3d) %9s\n", "memory read", read_one,
           read_many, threads, "GB/s");
  printf(machine ? " threads=%d\n" : "(%d threads; the best of %d runs each)\n",
         threads, REPETITIONS);
  return 0;
}
