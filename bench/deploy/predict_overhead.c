#define _POSIX_C_SOURCE 199309L
/* Per-call time of logreg_predict (batch 1) against a hand-written C
 * logistic regression in the same binary (the reference). */
#include "logreg.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

/* The reference: sigmoid(x . w + b), plain C. */
static void reference(const float *w, float b, const float *x, float *out) {
  float s = b;
  for (int i = 0; i < LOGREG_NUM_FEATURES; ++i)
    s += x[i] * w[i];
  *out = 1.0f / (1.0f + expf(-s));
}

int main(void) {
  enum { CALLS = 2000000 };
  logreg_state s;
  logreg_init(&s, NULL, 0);
  float x[LOGREG_NUM_FEATURES], w[LOGREG_NUM_FEATURES], b, out = 0, ref = 0;
  for (int i = 0; i < LOGREG_NUM_FEATURES; ++i)
    x[i] = (float)i / LOGREG_NUM_FEATURES - 0.5f;
  logreg_get_param(&s, "w", w, LOGREG_NUM_FEATURES);
  logreg_get_param(&s, "b", &b, 1);

  double best_dlc = 1e9, best_ref = 1e9;
  volatile float sink = 0;
  for (int round = 0; round < 5; ++round) {
    double t0 = now();
    for (int i = 0; i < CALLS; ++i) {
      logreg_predict(&s, x, 1, &out);
      x[0] = out * 1e-30f; /* a dependency, so no call is hoisted */
    }
    double t1 = now();
    for (int i = 0; i < CALLS; ++i) {
      reference(w, b, x, &ref);
      x[0] = ref * 1e-30f;
    }
    double t2 = now();
    sink += out + ref;
    if (t1 - t0 < best_dlc) best_dlc = t1 - t0;
    if (t2 - t1 < best_ref) best_ref = t2 - t1;
  }
  printf("predict, batch 1, %d features: dlc %.1f ns/call, hand-written C "
         "%.1f ns/call, ratio %.2f\n",
         LOGREG_NUM_FEATURES, best_dlc / CALLS * 1e9, best_ref / CALLS * 1e9,
         best_dlc / best_ref);
  return sink == 12345.0f;
}
