// The training loop over the compiled train step.
#include "dlc/Runtime/Trainer.h"
#include "dlc/Runtime/Checkpoint.h"
#include "dlc/Runtime/Random.h"

#include <chrono>
#include <cmath>
#include <numeric>

using namespace dlc;

/// Fills `p` according to its initializer. fan_in is the first dimension
/// (x @ W with W: [in, out]), fan_out the second (1 for vectors).
static void initialize(Buffer &p, const ParamInfo &info, uint64_t seed) {
  Random rng(info.seed ? *info.seed : seed);
  int64_t fanIn = info.shape.empty() ? 1 : info.shape[0];
  int64_t fanOut = info.shape.size() < 2 ? 1 : info.shape[1];
  for (size_t k = 2; k < info.shape.size(); ++k) {
    fanIn *= info.shape[k];
    fanOut *= info.shape[k];
  }
  for (int64_t i = 0, n = p.numElements(); i < n; ++i) {
    double v = 0;
    if (info.init == "ones")
      v = 1;
    else if (info.init == "normal")
      v = info.scale * rng.normal();
    else if (info.init == "uniform")
      v = info.scale * (2 * rng.uniform() - 1);
    else if (info.init == "glorot" || info.init == "xavier")
      v = info.scale * std::sqrt(6.0 / (fanIn + fanOut)) *
          (2 * rng.uniform() - 1);
    else if (info.init == "he")
      v = info.scale * std::sqrt(2.0 / fanIn) * rng.normal();
    p.set(i, v);
  }
}

std::vector<Buffer> dlc::initialParameters(const ModelInfo &model,
                                           const TrainConfig &config) {
  std::vector<Buffer> params;
  for (size_t i = 0; i < model.params.size(); ++i) {
    params.emplace_back(model.params[i].shape, model.isF64);
    initialize(params.back(), model.params[i], config.seed * 1000003 + i + 1);
  }
  return params;
}

static std::vector<int64_t> withBatch(const std::vector<int64_t> &shape,
                                      int64_t batch) {
  std::vector<int64_t> s = shape;
  for (int64_t &d : s)
    if (d < 0)
      d = batch;
  return s;
}

bool Trainer::init(std::string &error, bool training) {
  if (training &&
      !engine.lookup(model.name + "_loss_train_step", step, error))
    return false;
  hasPredict = model.output.has_value();
  if (hasPredict && !engine.lookup(model.name + "_predict", predict, error))
    return false;
  bool f64 = model.isF64;
  params = initialParameters(model, config);
  // Optimizer state, in the order of dlc-optimizer: per-parameter buffers,
  // then Adam's step count.
  for (const TensorInfo &t : optimizerState(model, config)) {
    state.emplace_back(t.shape, f64);
    stateNames.push_back(t.name);
  }
  x = Buffer(withBatch(model.inputs[0].shape, config.batch), f64);
  if (model.inputs.size() > 1)
    y = Buffer(withBatch(model.inputs[1].shape, config.batch), f64);
  size_t objectives = std::max<size_t>(model.objectives.size(), 1);
  lrs.clear();
  losses.clear();
  for (size_t k = 0; k < objectives; ++k) {
    lrs.emplace_back(std::vector<int64_t>{}, f64);
    lrs.back().set(0, optimizerOf(config, k).lr);
    losses.emplace_back(std::vector<int64_t>{}, f64);
  }
  return true;
}

void Trainer::loadBatch(const Dataset &data, const std::vector<int64_t> &order,
                        int64_t begin, int64_t count) {
  x.setBatch(count);
  bool supervised = model.inputs.size() > 1;
  if (supervised)
    y.setBatch(count);
  int64_t cols = data.cols;
  for (int64_t r = 0; r < count; ++r) {
    int64_t row = order[begin + r];
    for (int64_t c = 0; c < cols; ++c)
      x.set(r * cols + c, data.x[row * cols + c]);
    if (supervised)
      y.set(r, data.y[row]);
  }
}

void Trainer::fit(const Dataset &train, const ProgressFn &progress) {
  std::vector<Buffer *> args;
  for (Buffer &p : params)
    args.push_back(&p);
  for (Buffer &s : state)
    args.push_back(&s);
  args.push_back(&x);
  if (model.inputs.size() > 1)
    args.push_back(&y);
  for (Buffer &b : lrs)
    args.push_back(&b);
  for (Buffer &b : losses)
    args.push_back(&b);

  std::vector<int64_t> order(train.rows);
  std::iota(order.begin(), order.end(), 0);
  Random rng(config.seed ^ 0x5DEECE66Dull);
  using Clock = std::chrono::steady_clock;
  for (int64_t epoch = 1; epoch <= config.epochs; ++epoch) {
    if (config.shuffle)
      rng.shuffle(order);
    for (size_t k = 0; k < lrs.size(); ++k)
      lrs[k].set(0, scheduledLearningRate(config, epoch - 1,
                                          optimizerOf(config, k).lr));
    auto start = Clock::now();
    std::vector<double> totals(losses.size(), 0.0);
    for (int64_t begin = 0; begin < train.rows; begin += config.batch) {
      int64_t count = std::min<int64_t>(config.batch, train.rows - begin);
      loadBatch(train, order, begin, count);
      step.bind(args, count);
      auto t0 = Clock::now();
      step.call();
      double elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
      stepTime += elapsed;
      bestStep = numSteps ? std::min(bestStep, elapsed) : elapsed;
      ++numSteps;
      for (size_t k = 0; k < losses.size(); ++k)
        totals[k] += losses[k].get(0) * count;
    }
    double seconds =
        std::chrono::duration<double>(Clock::now() - start).count();
    for (double &t : totals)
      t /= train.rows;
    if (progress)
      progress(epoch, totals, seconds > 0 ? train.rows / seconds : 0.0);
  }
}

bool Trainer::save(const std::string &path, std::string &error) const {
  std::vector<std::pair<std::string, const Buffer *>> tensors;
  for (size_t i = 0; i < params.size(); ++i)
    tensors.push_back({model.params[i].name, &params[i]});
  for (size_t i = 0; i < state.size(); ++i)
    tensors.push_back({stateNames[i], &state[i]});
  return writeSafetensors(path, tensors,
                          {{"format", "dlc"},
                           {"model", model.name},
                           {"optimizer", config.optimizer}},
                          error);
}

bool dlc::loadCheckpoint(const std::string &path, const ModelInfo &model,
                         std::vector<Buffer> &params,
                         const std::vector<std::string> &stateNames,
                         std::vector<Buffer> *state, std::string &error) {
  std::map<std::string, StoredTensor> stored;
  if (!readSafetensors(path, stored, error))
    return false;
  std::string dtype = model.isF64 ? "F64" : "F32";
  auto shapeText = [](const std::vector<int64_t> &shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i)
      s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
  };
  auto fill = [&](const std::string &name, Buffer &buffer,
                  bool required) -> bool {
    auto it = stored.find(name);
    if (it == stored.end()) {
      if (required)
        error = path + ": error: no tensor '" + name + "' (a parameter of '" +
                model.name + "')";
      return !required;
    }
    const StoredTensor &t = it->second;
    if (t.dtype != dtype) {
      error = path + ": error: tensor '" + name + "' is " + t.dtype +
              ", the model's tensors are " + dtype;
      return false;
    }
    if (t.shape != buffer.shape()) {
      error = path + ": error: tensor '" + name + "' has shape " +
              shapeText(t.shape) + ", the model expects " +
              shapeText(buffer.shape());
      return false;
    }
    for (size_t i = 0; i < t.values.size(); ++i)
      buffer.set(i, t.values[i]);
    stored.erase(it);
    return true;
  };
  for (size_t i = 0; i < params.size(); ++i)
    if (!fill(model.params[i].name, params[i], true))
      return false;
  for (size_t i = 0; i < stateNames.size(); ++i) {
    if (state) {
      if (!fill(stateNames[i], (*state)[i], false))
        return false;
    } else {
      stored.erase(stateNames[i]);
    }
  }
  if (!stored.empty()) {
    error = path + ": error: tensor '" + stored.begin()->first +
            "' is not a parameter or optimizer state of '" + model.name +
            "' (with this optimizer)";
    return false;
  }
  return true;
}

bool Trainer::load(const std::string &path, std::string &error) {
  return loadCheckpoint(path, model, params, stateNames, &state, error);
}

Buffer Trainer::predictAll(const Dataset &data) {
  Buffer in(withBatch(model.inputs[0].shape, data.rows), model.isF64);
  for (int64_t i = 0; i < data.rows * data.cols; ++i)
    in.set(i, data.x[i]);
  Buffer out(withBatch(model.output->shape, data.rows), model.isF64);
  Buffer counter({}, model.isF64); // the noise seed of a generative output
  counter.set(0, static_cast<double>(noiseSeed));
  std::vector<Buffer *> args;
  for (Buffer &p : params)
    args.push_back(&p);
  args.push_back(&in);
  if (model.predictUsesCounter)
    args.push_back(&counter);
  args.push_back(&out);
  predict.bind(args, data.rows);
  predict.call();
  return out;
}

Evaluation Trainer::evaluate(const Dataset &data) {
  if (!hasPredict || data.rows == 0 || model.inputs.size() < 2)
    return Evaluation(); // no target to compare with
  Buffer out = predictAll(data);
  std::vector<std::string> wanted = config.metrics;
  if (wanted.empty())
    wanted.push_back("mse");
  return evaluateOutputs(out, data.rows, data.y, wanted);
}
