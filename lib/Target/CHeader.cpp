// The C header of a deployed model: constants, the state struct, and inline
// entry points that build memref descriptors and call the object's code.
#include "dlc/Target/Deploy.h"

#include <fmt/format.h>

using namespace dlc;

namespace {

std::string shapeText(const std::vector<int64_t> &shape) {
  if (shape.empty())
    return "scalar";
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") +
         (shape[i] < 0 ? std::string("batch") : std::to_string(shape[i]));
  return s + "]";
}

int64_t elements(const std::vector<int64_t> &shape, int64_t batch = 1) {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d < 0 ? batch : d;
  return n;
}

/// A C initializer of the memref descriptor of `shape` over `ptr`; the batch
/// dimension is the C expression `batch`.
std::string descriptor(const std::string &ptr,
                       const std::vector<int64_t> &shape) {
  std::string s = fmt::format("{{{0}, {0}, 0", ptr);
  if (shape.empty())
    return s + "}";
  std::vector<std::string> sizes, strides;
  std::string stride = "1";
  for (size_t k = shape.size(); k-- > 0;) {
    std::string size = shape[k] < 0 ? "batch" : std::to_string(shape[k]);
    sizes.insert(sizes.begin(), size);
    strides.insert(strides.begin(), stride);
    stride = stride == "1" ? size : stride + " * " + size;
  }
  s += ", {";
  for (size_t i = 0; i < sizes.size(); ++i)
    s += (i ? ", " : "") + sizes[i];
  s += "}, {";
  for (size_t i = 0; i < strides.size(); ++i)
    s += (i ? ", " : "") + strides[i];
  return s + "}}";
}

} // namespace

std::string dlc::generateCHeader(const DeploySpec &spec) {
  const ModelInfo &m = spec.model;
  const std::string &P = spec.prefix;
  std::string U = P;
  for (char &c : U)
    c = std::toupper(static_cast<unsigned char>(c));
  std::string real = m.isF64 ? "double" : "float";
  std::vector<TensorInfo> state = optimizerState(m, spec.config);
  const TensorInfo &x = m.inputs[0];
  int64_t features = elements(x.shape);
  int64_t paramsSize = 0, stateSize = 0;
  for (const ParamInfo &p : m.params)
    paramsSize += elements(p.shape);
  for (const TensorInfo &t : state)
    stateSize += elements(t.shape);
  size_t maxRank = 1;
  for (const ParamInfo &p : m.params)
    maxRank = std::max(maxRank, p.shape.size());
  for (const TensorInfo &t : m.inputs)
    maxRank = std::max(maxRank, t.shape.size());
  if (m.output)
    maxRank = std::max(maxRank, m.output->shape.size());

  std::string arenaExpr = "(size_t)" + std::to_string(spec.arena[0]) + "u";
  for (size_t k = 1; k < spec.arena.size(); ++k) {
    arenaExpr += fmt::format(" + (size_t){}u", spec.arena[k]);
    for (size_t j = 0; j < k; ++j)
      arenaExpr += " * (size_t)(batch)";
  }
  int64_t defaultArena = 0, power = 1;
  for (int64_t c : spec.arena) {
    defaultArena += c * power;
    power *= spec.maxBatch;
  }
  defaultArena = std::max<int64_t>((defaultArena + 63) / 64 * 64, 64);

  std::string h;
  auto out = [&](auto &&...args) {
    h += fmt::format(std::forward<decltype(args)>(args)...);
  };
  out("/* {0}.h: model '{1}' compiled by dlc from {2}. Generated; do not "
      "edit.\n *\n",
      P, m.name, spec.sourceFile);
  out(" * Link with {0}.o (and -lm). The object needs nothing from dlc at "
      "run time.\n",
      P);
  out(" * Usage:\n"
      " *   {0}_state s;\n"
      " *   {0}_init(&s, NULL, 0);        // embedded weights, built-in arena\n",
      P);
  if (spec.predict)
    out(" *   {0}_predict(&s, x, batch, out);\n", P);
  if (spec.trainStep)
    out(" *   {0}_train_step(&s, x, y, batch, &loss);\n", P);
  out(" * Every function returns {0}_OK (0) or an error code and never writes "
      "out of\n * bounds. A state uses its arena (working memory) during a "
      "call: two threads\n * need two states and two arenas.\n */\n",
      U);
  out("#ifndef {0}_H\n#define {0}_H\n\n#include <stddef.h>\n#include "
      "<stdint.h>\n#include <string.h>\n\n#ifdef __cplusplus\nextern \"C\" "
      "{{\n#endif\n\n",
      U);
  out("typedef {0} {1}_real; /* the model's element type ({2}) */\n\n", real,
      P, m.isF64 ? "f64" : "f32");

  out("/* Shapes. 'batch' is the number of samples of a call (>= 1). */\n");
  out("#define {0}_NUM_FEATURES {1} /* input '{2}': {3} */\n", U, features,
      x.name, shapeText(x.shape));
  if (spec.trainStep)
    out("#define {0}_NUM_TARGETS {1} /* input '{2}': {3} */\n", U,
        elements(m.inputs[1].shape), m.inputs[1].name,
        shapeText(m.inputs[1].shape));
  if (m.output)
    out("#define {0}_NUM_OUTPUTS {1} /* output '{2}': {3} */\n", U,
        elements(m.output->shape), m.output->name,
        shapeText(m.output->shape));
  out("#define {0}_NUM_PARAMS {1}\n", U, m.params.size());
  out("#define {0}_PARAMS_SIZE {1} /* elements of all parameters */\n", U,
      paramsSize);
  out("#define {0}_STATE_SIZE {1} /* elements of the optimizer state ({2}) "
      "*/\n",
      U, stateSize, spec.config.optimizer);
  out("/* Working memory of a call on `batch` samples, in bytes; the arena "
      "must be\n * 64-byte aligned. */\n");
  out("#define {0}_ARENA_BYTES_FOR(batch) ({1})\n", U, arenaExpr);
  out("#define {0}_MAX_BATCH {1} /* the built-in arena's batch size */\n", U,
      spec.maxBatch);
  out("#define {0}_DEFAULT_ARENA_BYTES {1}\n\n", U, defaultArena);

  out("/* Parameters, stored one after another in {0}_state.params:\n", P);
  int64_t offset = 0;
  for (const ParamInfo &p : m.params) {
    out(" *   {0:<16} {1} {2:<14} offset {3}, {4} elements\n", p.name,
        m.isF64 ? "f64" : "f32", shapeText(p.shape), offset,
        elements(p.shape));
    offset += elements(p.shape);
  }
  out(" */\n\n");

  out("enum {{\n  {0}_OK = 0,\n  {0}_ERROR_NULL = 1,  /* a null pointer */\n"
      "  {0}_ERROR_BATCH = 2, /* batch < 1 or too large */\n"
      "  {0}_ERROR_ARENA = 3, /* arena too small or not 64-byte aligned */\n"
      "  {0}_ERROR_NAME = 4,  /* no parameter of that name */\n"
      "  {0}_ERROR_SIZE = 5,  /* a buffer of the wrong size */\n"
      "  {0}_ERROR_OVERLAP = 6 /* a call's buffers overlap */\n}};\n\n",
      U);

  out("typedef struct {0}_state {{\n  {0}_real params[{1}_PARAMS_SIZE];\n"
      "  {0}_real opt_state[{2}]; /* zeroed by {0}_init */\n"
      "  {0}_real lr;             /* learning rate of {0}_train_step */\n"
      "  unsigned char *arena;\n  size_t arena_bytes;\n}} {0}_state;\n\n",
      P, U, std::max<int64_t>(stateSize, 1));

  out("/* In {0}.o. */\nextern const {0}_real "
      "{0}_embedded_params[{1}];\nextern unsigned char "
      "{0}_default_arena[{2}_DEFAULT_ARENA_BYTES];\n\n",
      P, std::max<int64_t>(paramsSize, 1), U);

  out("/* Memref descriptors of the compiled functions (MLIR's C "
      "interface). */\n");
  out("typedef struct {{ {0}_real *allocated, *aligned; int64_t offset; }} "
      "{0}__memref0;\n",
      P);
  for (size_t r = 1; r <= maxRank; ++r)
    out("typedef struct {{ {0}_real *allocated, *aligned; int64_t offset, "
        "sizes[{1}], strides[{1}]; }} {0}__memref{1};\n",
        P, r);
  out("typedef struct {{ unsigned char *allocated, *aligned; int64_t offset, "
      "sizes[1], strides[1]; }} {0}__bytes;\n",
      P);

  auto paramArgs = [&](std::string &decl, std::string &init) {
    int64_t off = 0;
    int i = 0;
    for (const ParamInfo &p : m.params) {
      decl += fmt::format("{}__memref{} *, ", P, p.shape.size());
      init += fmt::format(
          "  {0}__memref{1} p{2} = {3};\n", P, p.shape.size(), i,
          descriptor(fmt::format("s->params + {}", off), p.shape));
      off += elements(p.shape);
      ++i;
    }
  };
  auto callArgs = [&](const std::string &prefix, size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i)
      s += fmt::format("&{}{}, ", prefix, i);
    return s;
  };
  std::string arenaCheck = fmt::format(
      "  if (batch < 1 || batch > ((int64_t)1 << 31)) return "
      "{0}_ERROR_BATCH;\n"
      "  if (!s->arena || {0}_ARENA_BYTES_FOR(batch) > s->arena_bytes) "
      "return {0}_ERROR_ARENA;\n",
      U);
  // The compiled functions assume their buffers disjoint
  // (dlc-mark-noalias): a call whose buffers overlap is refused.
  out("/* Whether [a, a + an) and [b, b + bn) (bytes) share a byte. */\n"
      "static inline int {0}__overlap(const void *a, size_t an, const void "
      "*b, size_t bn) {{\n"
      "  uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;\n"
      "  return x < y + bn && y < x + an;\n}}\n\n",
      P);
  // `x` and the call's other buffers (pointer, bytes) each against the
  // state (parameters, optimizer state, learning rate) and the arena.
  std::string xBytes =
      fmt::format("(size_t)batch * {0}_NUM_FEATURES * sizeof *x", U);
  auto overlapCheck = [&](llvm::ArrayRef<std::pair<std::string, std::string>>
                              others) {
    std::string c;
    llvm::SmallVector<std::pair<std::string, std::string>> buffers{{"x", xBytes}};
    buffers.append(others.begin(), others.end());
    for (auto [ptr, bytes] : buffers)
      c += fmt::format(
          "  if ({0}__overlap({1}, {2}, s, sizeof *s) ||\n"
          "      {0}__overlap({1}, {2}, s->arena, s->arena_bytes)) return "
          "{3}_ERROR_OVERLAP;\n",
          P, ptr, bytes, U);
    return c;
  };
  std::string arenaDesc =
      fmt::format("  {0}__bytes arena = {{s->arena, s->arena, 0, "
                  "{{(int64_t)s->arena_bytes}}, {{1}}}};\n",
                  P);

  if (spec.predict) {
    std::string decl, init;
    paramArgs(decl, init);
    out("void _mlir_ciface_{0}_predict_impl({1}{0}__memref{2} *, "
        "{0}__memref{3} *, {0}__bytes *);\n",
        P, decl, x.shape.size(), m.output->shape.size());
    h += "\n";
    out("/* The output of the model for `batch` samples: `x` holds batch * "
        "{0}_NUM_FEATURES\n * values, row-major; `out` receives batch * "
        "{0}_NUM_OUTPUTS. */\n",
        U);
    out("static inline int {0}_predict({0}_state *s, const {0}_real *x, "
        "int64_t batch,\n    {0}_real *out) {{\n  if (!s || !x || !out) "
        "return {1}_ERROR_NULL;\n",
        P, U);
    h += arenaCheck;
    std::string outBytes = fmt::format(
        "(size_t)batch * {0}_NUM_OUTPUTS * sizeof *out", U);
    h += overlapCheck({{"out", outBytes}});
    out("  if ({0}__overlap(x, {1}, out, {2})) return {3}_ERROR_OVERLAP;\n",
        P, xBytes, outBytes, U);
    h += init;
    out("  {0}__memref{1} in = {2};\n", P, x.shape.size(),
        descriptor(fmt::format("({}_real *)x", P), x.shape));
    out("  {0}__memref{1} result = {2};\n", P, m.output->shape.size(),
        descriptor("out", m.output->shape));
    h += arenaDesc;
    out("  _mlir_ciface_{0}_predict_impl({1}&in, &result, &arena);\n  return "
        "{2}_OK;\n}}\n\n",
        P, callArgs("p", m.params.size()), U);
  }
  if (spec.trainStep) {
    std::string decl, init;
    paramArgs(decl, init);
    int64_t off = 0;
    int i = 0;
    for (const TensorInfo &t : state) {
      decl += fmt::format("{}__memref{} *, ", P, t.shape.size());
      init += fmt::format(
          "  {0}__memref{1} o{2} = {3};\n", P, t.shape.size(), i,
          descriptor(fmt::format("s->opt_state + {}", off), t.shape));
      off += elements(t.shape);
      ++i;
    }
    const TensorInfo &y = m.inputs[1];
    out("void _mlir_ciface_{0}_train_step_impl({1}{0}__memref{2} *, "
        "{0}__memref{3} *, {0}__memref0 *, {0}__memref0 *, {0}__bytes *);\n\n",
        P, decl, x.shape.size(), y.shape.size());
    out("/* One optimizer step ({2}) on `batch` samples: forward, backward and "
        "the update\n * of s->params and s->opt_state in place. `x` holds "
        "batch * {1}_NUM_FEATURES values,\n * `y` batch * {1}_NUM_TARGETS. "
        "The loss before the update goes to *loss\n * unless loss is NULL. "
        "*/\n",
        P, U, spec.config.optimizer);
    out("static inline int {0}_train_step({0}_state *s, const {0}_real *x,\n"
        "    const {0}_real *y, int64_t batch, {0}_real *loss) {{\n"
        "  if (!s || !x || !y) return {1}_ERROR_NULL;\n",
        P, U);
    h += arenaCheck;
    h += overlapCheck(
        {{"y", fmt::format("(size_t)batch * {0}_NUM_TARGETS * sizeof *y", U)}});
    h += init;
    out("  {0}_real loss_value = 0;\n", P);
    out("  {0}__memref{1} in = {2};\n", P, x.shape.size(),
        descriptor(fmt::format("({}_real *)x", P), x.shape));
    out("  {0}__memref{1} target = {2};\n", P, y.shape.size(),
        descriptor(fmt::format("({}_real *)y", P), y.shape));
    out("  {0}__memref0 lr = {{&s->lr, &s->lr, 0}};\n", P);
    out("  {0}__memref0 result = {{&loss_value, &loss_value, 0}};\n", P);
    h += arenaDesc;
    out("  _mlir_ciface_{0}_train_step_impl({1}{2}&in, &target, &lr, "
        "&result, &arena);\n  if (loss) *loss = loss_value;\n  return "
        "{3}_OK;\n}}\n\n",
        P, callArgs("p", m.params.size()), callArgs("o", state.size()), U);
  }

  // Initialization and access to parameters by name.
  out("/* Parameter names, offsets and sizes (elements). */\n");
  out("typedef struct {{ const char *name; size_t offset, size; }} "
      "{0}_param_info;\n",
      P);
  out("static const {0}_param_info {0}_params[{1}_NUM_PARAMS] = {{\n", P, U);
  offset = 0;
  for (const ParamInfo &p : m.params) {
    out("  {{\"{0}\", {1}, {2}}},\n", p.name, offset, elements(p.shape));
    offset += elements(p.shape);
  }
  out("}};\n\n");
  out("/* Initializes a state: parameters from the embedded weights, zero "
      "optimizer\n * state, the train block's learning rate ({2}). `arena` "
      "(64-byte aligned,\n * `arena_bytes` long) is the working memory; NULL "
      "uses the built-in arena\n * (enough for {1}_MAX_BATCH samples, shared "
      "by every state). */\n",
      P, U, spec.config.lr);
  out("static inline int {0}_init({0}_state *s, void *arena, size_t "
      "arena_bytes) {{\n"
      "  if (!s) return {1}_ERROR_NULL;\n"
      "  memcpy(s->params, {0}_embedded_params, sizeof s->params);\n"
      "  memset(s->opt_state, 0, sizeof s->opt_state);\n"
      "  s->lr = ({0}_real){2:.17g};\n"
      "  if (!arena) {{\n"
      "    s->arena = {0}_default_arena;\n"
      "    s->arena_bytes = sizeof {0}_default_arena;\n"
      "    return {1}_OK;\n  }}\n"
      "  if ((uintptr_t)arena % 64) return {1}_ERROR_ARENA;\n"
      "  s->arena = (unsigned char *)arena;\n"
      "  s->arena_bytes = arena_bytes;\n"
      "  return {1}_OK;\n}}\n\n",
      P, U, spec.config.lr);
  out("/* Replaces all parameters from a caller-supplied buffer of "
      "{1}_PARAMS_SIZE\n * values, in the order listed above. */\n"
      "static inline int {0}_set_params({0}_state *s, const {0}_real "
      "*values, size_t count) {{\n"
      "  if (!s || !values) return {1}_ERROR_NULL;\n"
      "  if (count != {1}_PARAMS_SIZE) return {1}_ERROR_SIZE;\n"
      "  memcpy(s->params, values, sizeof s->params);\n"
      "  return {1}_OK;\n}}\n\n",
      P, U);
  out("static inline int {0}__find_param(const char *name) {{\n"
      "  int i;\n"
      "  for (i = 0; i < {1}_NUM_PARAMS; ++i)\n"
      "    if (strcmp({0}_params[i].name, name) == 0) return i;\n"
      "  return -1;\n}}\n\n",
      P, U);
  out("/* Copies parameter `name` (exactly `count` values) out of or into the "
      "state. */\n"
      "static inline int {0}_get_param(const {0}_state *s, const char *name, "
      "{0}_real *out,\n    size_t count) {{\n"
      "  int i;\n"
      "  if (!s || !name || !out) return {1}_ERROR_NULL;\n"
      "  if ((i = {0}__find_param(name)) < 0) return {1}_ERROR_NAME;\n"
      "  if (count != {0}_params[i].size) return {1}_ERROR_SIZE;\n"
      "  memcpy(out, s->params + {0}_params[i].offset, count * sizeof *out);\n"
      "  return {1}_OK;\n}}\n\n",
      P, U);
  out("static inline int {0}_set_param({0}_state *s, const char *name, const "
      "{0}_real *values,\n    size_t count) {{\n"
      "  int i;\n"
      "  if (!s || !name || !values) return {1}_ERROR_NULL;\n"
      "  if ((i = {0}__find_param(name)) < 0) return {1}_ERROR_NAME;\n"
      "  if (count != {0}_params[i].size) return {1}_ERROR_SIZE;\n"
      "  memcpy(s->params + {0}_params[i].offset, values, count * sizeof "
      "*values);\n"
      "  return {1}_OK;\n}}\n\n",
      P, U);
  out("#ifdef __cplusplus\n}}\n#endif\n\n#endif /* {0}_H */\n", U);
  return h;
}
