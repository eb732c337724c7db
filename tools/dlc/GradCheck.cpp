// dlc gradcheck: compares the autodiff gradient of a model's loss with
// central finite differences, both run through the JIT.
#include "Commands.h"

#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Runtime/Engine.h"
#include "dlc/Runtime/Random.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <fmt/format.h>

#include <cmath>
#include <map>

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

static cl::opt<bool> gcKeepF32(
    "keep-f32",
    cl::desc("Check an f32 model in f32 (by default it is built in f64: f32 "
             "central differences err by 1e-4 and more, over the tolerance)"),
    cl::sub(gradcheckCmd), cl::cat(category));

static std::vector<int64_t> concrete(std::vector<int64_t> shape) {
  for (int64_t &d : shape)
    if (d < 0)
      d = gcBatch;
  return shape;
}

/// The inputs that hold class labels, with their number of classes: the
/// labels of a cross_entropy or one_hot that reads an input of the loss
/// directly. The random point gives them class indices; any other value
/// (0.3, or -1) selects no class, and the loss is then a different
/// function than the one trained.
static std::map<size_t, int64_t> labelInputs(mlir::ModuleOp module,
                                             const ModelInfo &info) {
  std::map<size_t, int64_t> classes;
  module.walk([&](mlir::Operation *op) {
    mlir::Value labels;
    int64_t count = 0;
    if (auto ce = dyn_cast<mlir::dlc::CrossEntropyOp>(op)) {
      labels = ce.getLabels();
      count = cast<mlir::RankedTensorType>(ce.getLogits().getType())
                  .getShape()
                  .back();
    } else if (auto oneHot = dyn_cast<mlir::dlc::OneHotOp>(op)) {
      labels = oneHot.getLabels();
      count = oneHot.getClasses();
    } else {
      return;
    }
    auto arg = dyn_cast<mlir::BlockArgument>(labels);
    auto func = arg ? dyn_cast<mlir::func::FuncOp>(arg.getOwner()->getParentOp())
                    : nullptr;
    if (!func || !func->hasAttr("dlc.loss") || count <= 0) // or dynamic
      return;
    size_t n = arg.getArgNumber();
    if (n >= info.params.size() && n - info.params.size() < info.inputs.size())
      classes[n - info.params.size()] = count;
  });
  return classes;
}

int dlc::runGradcheck() {
  CommonOptions options = commonOptions();
  options.promoteToF64 = !gcKeepF32;
  Session s(options);
  if (!s.load())
    return 1;
  std::map<size_t, int64_t> labels = labelInputs(s.module(), s.info());
  if (!s.addGradients() || !s.lowerToLinalg() || !s.lowerToLLVM())
    return 1;
  const ModelInfo &info = s.info();
  if (!info.isF64)
    errs() << "dlc: warning: gradcheck in f32 is imprecise (central "
              "differences err by 1e-4 and more); drop --keep-f32 to check "
              "in f64\n";
  std::string error;
  std::unique_ptr<Engine> engine = Engine::create(s.module(), error, s.engineOptions());
  if (!engine)
    return Session::error("JIT compilation failed: " + error), 1;
  // The loss function returns one loss per objective; objective k's
  // gradient function (`_loss_grad`, `_loss_grad1`, ...) returns its loss
  // and the gradients of its group's parameters.
  size_t numObjectives = info.objectives.size();
  Function loss;
  std::vector<Function> grad(numObjectives);
  if (!engine->lookup(info.name + "_loss", loss, error))
    return Session::error(error), 1;
  for (size_t k = 0; k < numObjectives; ++k)
    if (!engine->lookup(info.name + "_loss_grad" + (k ? std::to_string(k) : ""),
                        grad[k], error))
      return Session::error(error), 1;

  // A random point: parameters and inputs ~ N(0, 1) / 2, labels uniform
  // over their classes.
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
  for (auto [input, count] : labels)
    for (int64_t i = 0; i < inputs[input].numElements(); ++i)
      inputs[input].set(i, std::min<int64_t>(count - 1, rng.uniform() * count));
  if (info.usesDropout)
    inputs.back().set(0, 3.0);

  std::vector<Buffer *> args;
  for (Buffer &b : params)
    args.push_back(&b);
  for (Buffer &b : inputs)
    args.push_back(&b);
  std::vector<Buffer> losses;
  for (size_t k = 0; k < numObjectives; ++k)
    losses.emplace_back(std::vector<int64_t>{}, info.isF64);
  std::vector<Buffer *> lossArgs = args;
  for (Buffer &l : losses)
    lossArgs.push_back(&l);
  loss.bind(lossArgs, gcBatch);

  double h = info.isF64 ? 1e-6 : 1e-3;
  double worst = 0;
  for (size_t k = 0; k < numObjectives; ++k) {
    const std::vector<size_t> &group = info.objectives[k];
    Buffer gradLoss({}, info.isF64);
    std::vector<Buffer> grads;
    for (size_t p : group)
      grads.emplace_back(info.params[p].shape, info.isF64);
    std::vector<Buffer *> gradArgs = args;
    gradArgs.push_back(&gradLoss);
    for (Buffer &g : grads)
      gradArgs.push_back(&g);
    grad[k].bind(gradArgs, gcBatch);
    grad[k].call();
    auto evalLoss = [&] {
      loss.call();
      return losses[k].get(0);
    };
    for (auto [j, p] : llvm::enumerate(group)) {
      Buffer &param = params[p];
      double paramWorst = 0;
      for (int64_t i = 0; i < param.numElements(); ++i) {
        double v = param.get(i);
        param.set(i, v + h);
        double up = evalLoss();
        param.set(i, v - h);
        double down = evalLoss();
        param.set(i, v);
        double fd = (up - down) / (2 * h);
        double g = grads[j].get(i);
        double err = std::abs(g - fd) / std::max(1.0, std::abs(fd));
        if (!std::isfinite(g) || !std::isfinite(fd))
          err = INFINITY;
        paramWorst = std::max(paramWorst, err);
      }
      outs() << fmt::format("param {:<12} {:>6} elements  max error {:.3e}\n",
                            info.params[p].name, param.numElements(),
                            paramWorst);
      worst = std::max(worst, paramWorst);
    }
  }
  bool ok = worst < gcTolerance;
  outs() << fmt::format("gradcheck {}: max error {:.3e} (tolerance {:.1e})\n",
                        ok ? "passed" : "FAILED", worst, double(gcTolerance));
  return ok ? 0 : 1;
}
