// MLIRGen: a parsed model becomes dlc dialect functions; a train block becomes
// a validated TrainConfig.
#ifndef DLC_FRONTEND_MLIRGEN_H
#define DLC_FRONTEND_MLIRGEN_H

#include "dlc/Frontend/AST.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <optional>

namespace dlc {

/// A named tensor at the model's boundary; -1 marks the symbolic batch.
struct TensorInfo {
  std::string name;
  std::vector<int64_t> shape;

  /// Elements per sample: the product of the dimensions after the first.
  int64_t perSample() const {
    int64_t n = 1;
    for (size_t i = 1; i < shape.size(); ++i)
      n *= shape[i];
    return n;
  }
};

/// How a parameter is initialized (see docs/language.md).
struct ParamInfo : TensorInfo {
  std::string init = "zeros"; // zeros ones normal uniform glorot xavier he
  double scale = 1.0;
  std::optional<uint64_t> seed;
};

/// What the runtime needs to know about a compiled model.
struct ModelInfo {
  std::string name;
  bool isF64 = false;
  std::vector<ParamInfo> params;
  std::vector<TensorInfo> inputs;
  std::optional<TensorInfo> output;
  /// The loss uses dropout or noise: the loss function takes a last scalar
  /// argument (`dlc.rng_counter`), which the train step keeps as state
  /// `dropout.step` and advances by one per step.
  bool usesDropout = false;
  /// The output uses noise (randn): the predict function takes a last
  /// scalar argument, the noise's seed.
  bool predictUsesCounter = false;
  /// The objectives (minimize statements), in order: the indices of the
  /// parameters each one updates. Training runs them one after the other in
  /// every step, each seeing the parameters the earlier ones updated.
  std::vector<std::vector<size_t>> objectives;
};

/// Builds `<model>_loss` (marked `dlc.loss`: params then inputs -> loss) and,
/// when the model declares an output, `<model>_predict` (params, first input
/// -> output). `promoteToF64` builds an f32 model in f64 (gradcheck).
/// Reports located errors and returns nullptr on failure.
mlir::OwningOpRef<mlir::ModuleOp> generateModule(const Program &program,
                                                 const Model &model,
                                                 mlir::MLIRContext *context,
                                                 ModelInfo &info,
                                                 bool promoteToF64 = false);

/// An optimizer and its hyper-parameters (PyTorch's defaults).
struct OptimizerSettings {
  std::string optimizer = "sgd"; // sgd adam adamw rmsprop
  double lr = 0.01, momentum = 0.0, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  double weightDecay = 0.0, alpha = 0.99;
  bool nesterov = false;
};

/// The settings of a train block, validated, with defaults.
struct TrainConfig {
  // Data source.
  // make_regression, make_classification, make_blobs, make_moons or csv.
  std::string data = "csv";
  int64_t samples = 100, features = 4, informative = -1;
  int64_t classes = 2, centers = 3;
  double noise = 0.0, bias = 0.0, clusterStd = 1.0, radius = 2.0;
  uint64_t dataSeed = 0;
  std::string csvPath; // resolved relative to the model file (csv, npy)
  std::string npyTargets; // npy: the targets' file (resolved)
  std::string target;  // empty: the last column
  bool standardize = false;
  // Split.
  double testFraction = 0.0;
  uint64_t splitSeed = 0;
  // Optimizer.
  std::string optimizer = "sgd"; // sgd adam adamw rmsprop
  double lr = 0.01, momentum = 0.0, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  double weightDecay = 0.0, alpha = 0.99;
  bool nesterov = false;
  // Learning-rate schedule, applied per epoch.
  std::string schedule = "constant"; // constant step cosine
  int64_t scheduleEvery = 1;
  double scheduleGamma = 0.1, minLr = 0.0;
  /// Per objective, the optimizer its `minimize ... using opt(...)` names
  /// (none: the train block's).
  std::vector<std::optional<OptimizerSettings>> objectiveOptimizers;
  // Loop.
  int64_t epochs = 10, batch = 32;
  bool shuffle = true;
  uint64_t seed = 0;
  std::vector<std::string> metrics;
};

/// The optimizer state of the train step, in the order dlc-optimizer gives
/// it: per parameter the momentum buffer (`<p>.momentum`, SGD with
/// momentum), Adam's and AdamW's `<p>.adam_m` and `<p>.adam_v`, or
/// RMSProp's `<p>.rmsprop_v`; then `adam.step` (Adam, AdamW); then
/// `dropout.step` when the model uses dropout.
std::vector<TensorInfo> optimizerState(const ModelInfo &model,
                                       const TrainConfig &config);

/// The optimizer of objective `k`: its own `using`, or the train block's.
OptimizerSettings optimizerOf(const TrainConfig &config, size_t k);

/// The learning rate of `epoch` (0-based) under the config's schedule:
/// constant; step (times gamma every `every` epochs); cosine (from lr to
/// min_lr over all epochs), as PyTorch's StepLR and CosineAnnealingLR.
double scheduledLearningRate(const TrainConfig &config, int64_t epoch,
                             double baseLr);

/// Reads the train block of `model` (if any) into `config`. Errors are
/// located in the model file.
mlir::LogicalResult readTrainConfig(const Program &program, const Model &model,
                                    mlir::MLIRContext *context,
                                    TrainConfig &config);

/// A FileLineColLoc in the program's file.
mlir::Location toLocation(mlir::MLIRContext *context, const Program &program,
                          SourceLoc loc);

} // namespace dlc

#endif // DLC_FRONTEND_MLIRGEN_H
