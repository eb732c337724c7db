/* The machine's single-precision FMA peak: independent AVX-512 (or AVX2)
 * FMA chains, per thread, on 1 and 2 threads. */
#define _POSIX_C_SOURCE 199309L
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define SET1(x) _mm512_set1_ps(x)
#define REDUCE(v) _mm512_reduce_add_ps(v)
#else
typedef __m256 vec;
#define LANES 8
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
#define SET1(x) _mm256_set1_ps(x)
static float REDUCE(vec v) {
  float t[8];
  _mm256_storeu_ps(t, v);
  return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#endif

enum { ITERS = 50000000, CHAINS = 12 };
static float sink[2];

static void *run(void *arg) {
  long id = (long)arg;
  /* Twelve independent chains in registers (written out, so that no
   * compiler keeps them in memory). */
  vec a = SET1(0.999999f), b = SET1(1e-7f);
  vec c0 = SET1(0), c1 = SET1(1), c2 = SET1(2), c3 = SET1(3), c4 = SET1(4),
      c5 = SET1(5), c6 = SET1(6), c7 = SET1(7), c8 = SET1(8), c9 = SET1(9),
      c10 = SET1(10), c11 = SET1(11);
  for (long i = 0; i < ITERS; ++i) {
    c0 = FMA(c0, a, b); c1 = FMA(c1, a, b); c2 = FMA(c2, a, b);
    c3 = FMA(c3, a, b); c4 = FMA(c4, a, b); c5 = FMA(c5, a, b);
    c6 = FMA(c6, a, b); c7 = FMA(c7, a, b); c8 = FMA(c8, a, b);
    c9 = FMA(c9, a, b); c10 = FMA(c10, a, b); c11 = FMA(c11, a, b);
  }
  sink[id] = REDUCE(c0) + REDUCE(c1) + REDUCE(c2) + REDUCE(c3) + REDUCE(c4) +
             REDUCE(c5) + REDUCE(c6) + REDUCE(c7) + REDUCE(c8) + REDUCE(c9) +
             REDUCE(c10) + REDUCE(c11);
  return NULL;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(void) {
  double flops = 2.0 * LANES * CHAINS * (double)ITERS;
  for (int threads = 1; threads <= 2; ++threads) {
    pthread_t t[2];
    double start = now();
    for (long i = 0; i < threads; ++i)
      pthread_create(&t[i], NULL, run, (void *)i);
    for (int i = 0; i < threads; ++i)
      pthread_join(t[i], NULL);
    double seconds = now() - start;
    printf("%d %.1f\n", threads, threads * flops / seconds / 1e9);
  }
  return sink[0] == 12345.0f;
}
