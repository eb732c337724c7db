// dlc gradcheck: compares the autodiff gradient of a model's loss with
// central finite differences, both run through the JIT.
#include "Commands.h"

#include "dlc/Runtime/Engine.h"
#include "dlc/Runtime/Random.h"

#include <fmt/format.h>

#include <cmath>

using namespace llvm;
using namespace dlc;

static cl::opt<int64_t> gcSeed("seed", cl::desc("Seed of the random point"),
                               cl::init(1), cl::sub(gradcheckCmd),
                               cl::cat(category));
static cl::opt<int64_t> gcBatch("batch",
                                cl::desc("Size of the symbolic batch"),
                                cl::init(3), cl::sub(gradcheckCmd),
                                cl::cat(category));
static cl::opt<double>
    gcTolerance("tolerance",
                cl::desc("Largest accepted error |g - fd| / max(1, |fd|)"),
                cl::init(1e-6), cl::sub(gradcheckCmd), cl::cat(category));

static std::vector<int64_t> concrete(std::vector<int64_t> shape) {
  for (int64_t &d : shape)
    if (d < 0)
      d = gcBatch;
  return shape;
}

int dlc::runGradcheck() {
  CommonOptions options = commonOptions();
  Session s(options);
  if (!s.load() || !s.addGradients() || !s.lowerToLinalg() || !s.lowerToLLVM())
    return 1;
  const ModelInfo &info = s.info();
  if (!info.isF64)
    errs() << "dlc: warning: gradcheck of an f32 model is imprecise; declare "
              "the model in f64\n";
  std::string error;
  std::unique_ptr<Engine> engine = Engine::create(s.module(), error, s.engineOptions());
  if (!engine)
    return Session::error("JIT compilation failed: " + error), 1;
  Function loss, grad;
  if (!engine->lookup(info.name + "_loss", loss, error) ||
      !engine->lookup(info.name + "_loss_grad", grad, error))
    return Session::error(error), 1;

  // A random point: parameters and inputs ~ N(0, 1) / 2.
  Random rng(gcSeed);
  std::vector<Buffer> params, inputs;
  for (const ParamInfo &p : info.params)
    params.emplace_back(p.shape, info.isF64);
  for (const TensorInfo &t : info.inputs)
    inputs.emplace_back(concrete(t.shape), info.isF64);
  if (info.usesDropout) // the step counter: any fixed value fixes the masks
    inputs.emplace_back(std::vector<int64_t>{}, info.isF64);
  for (auto *group : {&params, &inputs})
    for (Buffer &b : *group)
      for (int64_t i = 0; i < b.numElements(); ++i)
        b.set(i, 0.5 * rng.normal());
  if (info.usesDropout)
    inputs.back().set(0, 3.0);

  Buffer lossOut({}, info.isF64), lossOut2({}, info.isF64);
  std::vector<Buffer> grads;
  for (const ParamInfo &p : info.params)
    grads.emplace_back(p.shape, info.isF64);
  std::vector<Buffer *> args;
  for (Buffer &b : params)
    args.push_back(&b);
  for (Buffer &b : inputs)
    args.push_back(&b);
  std::vector<Buffer *> lossArgs = args, gradArgs = args;
  lossArgs.push_back(&lossOut);
  gradArgs.push_back(&lossOut2);
  for (Buffer &g : grads)
    gradArgs.push_back(&g);
  loss.bind(lossArgs, gcBatch);
  grad.bind(gradArgs, gcBatch);
  grad.call();

  auto evalLoss = [&] {
    loss.call();
    return lossOut.get(0);
  };
  double h = info.isF64 ? 1e-6 : 1e-3;
  double worst = 0;
  for (size_t k = 0; k < params.size(); ++k) {
    double paramWorst = 0;
    for (int64_t i = 0; i < params[k].numElements(); ++i) {
      double v = params[k].get(i);
      params[k].set(i, v + h);
      double up = evalLoss();
      params[k].set(i, v - h);
      double down = evalLoss();
      params[k].set(i, v);
      double fd = (up - down) / (2 * h);
      double g = grads[k].get(i);
      double err = std::abs(g - fd) / std::max(1.0, std::abs(fd));
      if (!std::isfinite(g) || !std::isfinite(fd))
        err = INFINITY;
      paramWorst = std::max(paramWorst, err);
    }
    outs() << fmt::format("param {:<12} {:>6} elements  max error {:.3e}\n",
                          info.params[k].name, params[k].numElements(),
                          paramWorst);
    worst = std::max(worst, paramWorst);
  }
  bool ok = worst < gcTolerance;
  outs() << fmt::format("gradcheck {}: max error {:.3e} (tolerance {:.1e})\n",
                        ok ? "passed" : "FAILED", worst, double(gcTolerance));
  return ok ? 0 : 1;
}
