// The training loop: feeds batches to the compiled train step and evaluates
// the compiled predict function. It never interprets the graph.
#ifndef DLC_RUNTIME_TRAINER_H
#define DLC_RUNTIME_TRAINER_H

#include "dlc/Frontend/MLIRGen.h"
#include "dlc/Runtime/Dataset.h"
#include "dlc/Runtime/Engine.h"
#include "dlc/Runtime/Metrics.h"

#include <functional>
#include <map>

namespace dlc {

/// Parameters initialized as their initializers say (seeded by the train
/// block's seed and the parameter's position unless it has its own seed).
std::vector<Buffer> initialParameters(const ModelInfo &model,
                                      const TrainConfig &config);

/// Loads `params` (all required) and, when `state` is given, the optimizer
/// state named `stateNames` (optional) from a safetensors file, checking
/// names, dtypes and shapes. Without `state`, state tensors are skipped.
bool loadCheckpoint(const std::string &path, const ModelInfo &model,
                    std::vector<Buffer> &params,
                    const std::vector<std::string> &stateNames,
                    std::vector<Buffer> *state, std::string &error);

/// Per-epoch progress: epoch (1-based), the mean loss of each objective,
/// samples per second.
using ProgressFn =
    std::function<void(int64_t, const std::vector<double> &, double)>;

class Trainer {
public:
  Trainer(const ModelInfo &model, const TrainConfig &config, Engine &engine)
      : model(model), config(config), engine(engine) {}

  /// Looks up the compiled functions (the train step only when `training`)
  /// and initializes parameters by seed.
  bool init(std::string &error, bool training = true);
  /// Saves parameters and optimizer state as safetensors (atomically).
  bool save(const std::string &path, std::string &error) const;
  /// Loads parameters (required) and optimizer state (optional) from a
  /// safetensors file, checking names, dtypes and shapes.
  bool load(const std::string &path, std::string &error);
  /// The output of the predict function on every row of `data`.
  Buffer predictAll(const Dataset &data);
  /// The seed of the output's noise (randn), when it has some.
  void setNoiseSeed(uint64_t seed) { noiseSeed = seed; }
  /// Runs `config.epochs` epochs of shuffled mini-batches.
  void fit(const Dataset &train, const ProgressFn &progress);
  /// Metrics of the predict function on `data` (see Metrics.h).
  Evaluation evaluate(const Dataset &data);

  int64_t steps() const { return numSteps; }
  /// All train steps' time, and the fastest one's (the warm steady state,
  /// as benchmarks report it for other systems).
  double stepSeconds() const { return stepTime; }
  double bestStepSeconds() const { return bestStep; }
  const std::vector<Buffer> &parameters() const { return params; }

private:
  void loadBatch(const Dataset &data, const std::vector<int64_t> &order,
                 int64_t begin, int64_t count);

  const ModelInfo &model;
  const TrainConfig &config;
  Engine &engine;
  Function step, predict;
  bool hasPredict = false;
  std::vector<Buffer> params, state;
  std::vector<std::string> stateNames;
  Buffer x, y;
  std::vector<Buffer> lrs, losses; // one per objective
  uint64_t noiseSeed = 0;
  int64_t numSteps = 0;
  double stepTime = 0;
  double bestStep = 0;
};

} // namespace dlc

#endif // DLC_RUNTIME_TRAINER_H
