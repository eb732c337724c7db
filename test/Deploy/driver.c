/* Test driver of a model compiled with --prefix model: reads inputs from
 * binary files, calls the C API, writes results (used by parity.py). */
#include "model.h"

#include <stdio.h>
#include <stdlib.h>

static void *slurp(const char *path, size_t bytes) {
  FILE *f = fopen(path, "rb");
  void *p = malloc(bytes ? bytes : 1);
  if (!f || !p || fread(p, 1, bytes, f) != bytes) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(2);
  }
  fclose(f);
  return p;
}

static void spill(const char *path, const void *p, size_t bytes) {
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(p, 1, bytes, f) != bytes) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(2);
  }
  fclose(f);
}

#define CHECK(expr, code)                                                      \
  do {                                                                         \
    int rc_ = (expr);                                                          \
    printf("%-60s -> %d\n", #expr, rc_);                                       \
    if (rc_ != (code))                                                         \
      return 1;                                                                \
  } while (0)

/* driver predict BATCH x.bin out.bin
 * driver train BATCH STEPS x.bin y.bin params.bin
 * driver errors */
int main(int argc, char **argv) {
  model_state s;
  if (argc < 2 || model_init(&s, NULL, 0) != MODEL_OK)
    return 2;
  if (argv[1][0] == 'p' && argc == 5) {
    int64_t batch = atoll(argv[2]);
    model_real *x = slurp(argv[3], batch * MODEL_NUM_FEATURES * sizeof *x);
    model_real *out = malloc(batch * MODEL_NUM_OUTPUTS * sizeof *out);
    if (model_predict(&s, x, batch, out) != MODEL_OK)
      return 1;
    spill(argv[4], out, batch * MODEL_NUM_OUTPUTS * sizeof *out);
    return 0;
  }
#ifdef MODEL_NUM_TARGETS
  if (argv[1][0] == 't' && argc == 7) {
    int64_t batch = atoll(argv[2]), steps = atoll(argv[3]);
    model_real *x = slurp(argv[4], batch * MODEL_NUM_FEATURES * sizeof *x);
    model_real *y = slurp(argv[5], batch * MODEL_NUM_TARGETS * sizeof *y);
    for (int64_t i = 0; i < steps; ++i)
      if (model_train_step(&s, x, y, batch, NULL) != MODEL_OK)
        return 1;
    spill(argv[6], s.params, sizeof s.params);
    return 0;
  }
#endif
  if (argv[1][0] == 'e') {
    static model_real x[MODEL_NUM_FEATURES * 4], out[MODEL_NUM_OUTPUTS * 4];
    static model_real values[MODEL_PARAMS_SIZE];
    static unsigned char small[64] __attribute__((aligned(64)));
    static unsigned char big[MODEL_DEFAULT_ARENA_BYTES + 64]
        __attribute__((aligned(64)));
    model_state t;
    CHECK(model_predict(NULL, x, 4, out), MODEL_ERROR_NULL);
    CHECK(model_predict(&s, NULL, 4, out), MODEL_ERROR_NULL);
    CHECK(model_predict(&s, x, 4, NULL), MODEL_ERROR_NULL);
    CHECK(model_predict(&s, x, 0, out), MODEL_ERROR_BATCH);
    CHECK(model_predict(&s, x, -3, out), MODEL_ERROR_BATCH);
    CHECK(model_predict(&s, x, MODEL_MAX_BATCH * 2, out), MODEL_ERROR_ARENA);
    CHECK(model_init(&t, small, sizeof small), MODEL_OK);
    CHECK(model_predict(&t, x, 4, out), MODEL_ERROR_ARENA);
    CHECK(model_init(&t, big + 1, MODEL_DEFAULT_ARENA_BYTES), MODEL_ERROR_ARENA);
    CHECK(model_init(&t, big, sizeof big), MODEL_OK);
    CHECK(model_predict(&t, x, 4, out), MODEL_OK);
    /* Buffers that overlap each other, the state or the arena. */
    CHECK(model_predict(&t, x, 4, x), MODEL_ERROR_OVERLAP);
    CHECK(model_predict(&t, t.params, 1, out), MODEL_ERROR_OVERLAP);
    CHECK(model_predict(&t, x, 4, (model_real *)(big + 64)), MODEL_ERROR_OVERLAP);
    CHECK(model_get_param(&s, "no such parameter", values, 1), MODEL_ERROR_NAME);
    CHECK(model_get_param(&s, model_params[0].name, values, 0), MODEL_ERROR_SIZE);
    CHECK(model_set_params(&s, values, MODEL_PARAMS_SIZE + 1), MODEL_ERROR_SIZE);
    CHECK(model_set_params(&s, values, MODEL_PARAMS_SIZE), MODEL_OK);
#ifdef MODEL_NUM_TARGETS
    CHECK(model_train_step(&s, x, NULL, 4, NULL), MODEL_ERROR_NULL);
    CHECK(model_train_step(&s, x, x, 0, NULL), MODEL_ERROR_BATCH);
    CHECK(model_train_step(&t, x, t.params, 1, NULL), MODEL_ERROR_OVERLAP);
    CHECK(model_train_step(&t, (model_real *)big, x, 1, NULL), MODEL_ERROR_OVERLAP);
#endif
    return 0;
  }
  fprintf(stderr, "usage: driver predict|train|errors ...\n");
  return 2;
}
