/* Deploying a dlc model: link linreg.o, train it on the target with
 * linreg_train_step, then serve predictions with linreg_predict.
 * Build: see Makefile (dlc compile ... --emit=obj --header, then cc). */
#include "linreg.h"

#include <stdio.h>

#define ROWS 64

int main(void) {
  /* Data made on the device: y = 2 x0 - x1 + 0.5 x2 + 3 x3 + 1. */
  static float x[ROWS * LINREG_NUM_FEATURES], y[ROWS];
  unsigned seed = 12345;
  for (int i = 0; i < ROWS; ++i) {
    float *row = x + i * LINREG_NUM_FEATURES;
    for (int j = 0; j < LINREG_NUM_FEATURES; ++j) {
      seed = seed * 1103515245u + 12345u;
      row[j] = (float)((seed >> 8) & 0xffff) / 32768.0f - 1.0f;
    }
    y[i] = 2 * row[0] - row[1] + 0.5f * row[2] + 3 * row[3] + 1;
  }

  linreg_state s;
  if (linreg_init(&s, NULL, 0) != LINREG_OK)
    return 1;
  float loss = 0;
  for (int step = 0; step < 200; ++step) {
    int rc = linreg_train_step(&s, x, y, ROWS, &loss);
    if (rc != LINREG_OK) {
      fprintf(stderr, "train_step failed: %d\n", rc);
      return 1;
    }
  }
  float w[4], b;
  linreg_get_param(&s, "w", w, 4);
  linreg_get_param(&s, "b", &b, 1);
  printf("loss %.6f  w = [%.3f %.3f %.3f %.3f]  b = %.3f\n", loss, w[0], w[1],
         w[2], w[3], b);

  float out[2];
  if (linreg_predict(&s, x, 2, out) != LINREG_OK)
    return 1;
  printf("predict: %.4f %.4f (targets %.4f %.4f)\n", out[0], out[1], y[0],
         y[1]);
  return 0;
}
