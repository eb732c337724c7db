/* Times the deployed predict function of an N x N matmul model (the same
 * code dlc's JIT runs): best of several calls (at least 5 and 0.5 s), prints GFLOP/s. */
#define _POSIX_C_SOURCE 199309L
#include "model.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  int n = atoi(argv[1]);
  size_t bytes = MODEL_ARENA_BYTES_FOR(n);
  void *arena = aligned_alloc(64, (bytes + 63) / 64 * 64);
  static model_state s; /* holds every parameter: too big for the stack */
  if (model_init(&s, arena, bytes) != MODEL_OK)
    return 1;
  float *x = malloc(sizeof(float) * n * n), *out = malloc(sizeof(float) * n * n);
  for (int i = 0; i < n * n; ++i)
    x[i] = (float)(i % 7) * 0.1f;
  /* Best of at least 5 calls and 0.5 s: the first calls also start the
   * OpenMP threads and warm the caches. */
  double best = 1e9, start = now();
  for (int r = 0; r < 5 || now() - start < 0.5; ++r) {
    double t0 = now();
    if (model_predict(&s, x, n, out) != MODEL_OK)
      return 1;
    double t = now() - t0;
    if (t < best)
      best = t;
  }
  printf("%.2f\n", 2.0 * n * n * (double)n / best / 1e9);
  return 0;
}
