// dlc train: JIT-compile the train step once, run the loop, report metrics.
#include "Commands.h"

#include "dlc/Runtime/Checkpoint.h"
#include "dlc/Runtime/Random.h"
#include "dlc/Runtime/Trainer.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <numeric>

using namespace llvm;
using namespace dlc;

static cl::opt<std::string> trainCSV(
    "train-csv",
    cl::desc("Train on this CSV file instead of the train block's data"),
    cl::value_desc("file"), cl::sub(trainCmd), cl::sub(cvCmd), cl::cat(category));
static cl::opt<std::string>
    testCSV("test-csv",
            cl::desc("Evaluate on this CSV file instead of a holdout split"),
            cl::value_desc("file"), cl::sub(trainCmd), cl::cat(category));
static cl::opt<std::string>
    targetColumn("target",
                 cl::desc("The CSV column holding the target (default: the "
                          "last column)"),
                 cl::value_desc("name"), cl::sub(trainCmd), cl::sub(cvCmd), cl::cat(category));
static cl::opt<bool> standardizeFlag(
    "standardize",
    cl::desc("Standardize the features with the training rows' mean and "
             "deviation (--train-csv replaces the train block's data source "
             "and its options)"),
    cl::sub(trainCmd), cl::sub(cvCmd), cl::cat(category));
static cl::opt<int64_t> epochs("epochs", cl::desc("Override the epochs"),
                               cl::value_desc("N"), cl::sub(trainCmd), cl::sub(cvCmd),
                               cl::cat(category));
static cl::opt<int64_t> batch("batch", cl::desc("Override the batch size"),
                              cl::value_desc("N"), cl::sub(trainCmd), cl::sub(cvCmd),
                              cl::cat(category));
static cl::opt<double> lr("lr", cl::desc("Override the learning rate"),
                          cl::value_desc("X"), cl::sub(trainCmd), cl::sub(cvCmd),
                          cl::cat(category));
static cl::opt<int64_t> seed("seed",
                             cl::desc("Override the seed of parameter "
                                      "initialization and shuffling"),
                             cl::value_desc("N"), cl::sub(trainCmd), cl::sub(cvCmd),
                             cl::cat(category));
static cl::opt<std::string>
    metricsJSON("metrics-json",
                cl::desc("Write the final metrics, losses per epoch, compile time "
                         "and step times (average and fastest) to this JSON file"),
                cl::value_desc("file"), cl::sub(trainCmd), cl::sub(cvCmd), cl::cat(category));
static cl::opt<std::string>
    saveFile("save",
             cl::desc("Save the trained parameters and optimizer state "
                      "(safetensors, written atomically)"),
             cl::value_desc("file"), cl::sub(trainCmd), cl::cat(category));
static cl::opt<std::string>
    loadFile("load",
             cl::desc("Start from the parameters (and optimizer state, when "
                      "present) in this safetensors file"),
             cl::value_desc("file"), cl::sub(trainCmd), cl::cat(category));
static cl::opt<bool> noShuffle("no-shuffle",
                               cl::desc("Feed the rows in file order"),
                               cl::sub(trainCmd), cl::sub(cvCmd), cl::cat(category));
static cl::opt<int64_t> logEvery(
    "log-every",
    cl::desc("Print a progress line every N epochs (default: about 20 "
             "lines per run, always the first and the last epoch)"),
    cl::value_desc("N"), cl::init(0), cl::sub(trainCmd), cl::sub(cvCmd), cl::cat(category));

/// Checks that the data's columns fit the model's inputs.
static bool checkDataShape(const Session &s, Dataset &data,
                           const std::string &source) {
  const ModelInfo &info = s.info();
  if (info.inputs.size() > 2) {
    Session::error(fmt::format(
        "{}: training binds data to one input (features) or two (features, "
        "target), but model '{}' has {}",
        s.program().filename, info.name, info.inputs.size()));
    return false;
  }
  auto batchFirst = [](const TensorInfo &t) {
    if (t.shape.empty() || t.shape[0] != -1)
      return false;
    for (size_t i = 1; i < t.shape.size(); ++i)
      if (t.shape[i] < 0)
        return false;
    return true;
  };
  const TensorInfo &x = info.inputs[0];
  int64_t features = x.perSample();
  if (info.inputs.size() == 1) {
    // Unsupervised (a GAN's real samples): every column is a feature; a
    // generator's target column, when it has one, is not used.
    if (!batchFirst(x)) {
      Session::error(fmt::format("{}: input '{}' must have the batch "
                                 "dimension first",
                                 s.program().filename, x.name));
      return false;
    }
    if (data.cols + 1 == features && !data.y.empty()) {
      // A CSV whose last column was taken as the target: put it back.
      std::vector<double> all;
      for (int64_t r = 0; r < data.rows; ++r) {
        all.insert(all.end(), data.x.begin() + r * data.cols,
                   data.x.begin() + (r + 1) * data.cols);
        all.push_back(data.y[r]);
      }
      data.x = std::move(all);
      data.cols += 1;
    }
  } else {
    const TensorInfo &y = info.inputs[1];
    if (!batchFirst(x) || !batchFirst(y) || y.perSample() != 1) {
      Session::error(fmt::format(
          "{}: inputs '{}' and '{}' must have the batch dimension first, and "
          "the target one value per sample",
          s.program().filename, x.name, y.name));
      return false;
    }
  }
  if (features != data.cols) {
    Session::error(fmt::format(
        "{}: has {} feature columns, but input '{}' of model '{}' takes {}",
        source, data.cols, x.name, info.name, features));
    return false;
  }
  return true;
}

static std::string metricsLine(const std::map<std::string, double> &m) {
  std::string out;
  for (auto &[k, v] : m)
    out += fmt::format("{}{} {:.6g}", out.empty() ? "" : "  ", k, v);
  return out;
}

static std::string metricsObject(const std::map<std::string, double> &m) {
  std::string out = "{";
  for (auto &[k, v] : m)
    out += fmt::format("{}\"{}\": {:.17g}", out.size() > 1 ? ", " : "", k, v);
  return out + "}";
}

/// Applies the command-line overrides of the train block.
static bool applyOverrides(TrainConfig &config) {
  if (epochs.getNumOccurrences()) {
    if (epochs < 1)
      return Session::error("--epochs must be at least 1"), false;
    config.epochs = epochs;
  }
  if (batch.getNumOccurrences()) {
    if (batch < 1)
      return Session::error("--batch must be at least 1"), false;
    config.batch = batch;
  }
  if (lr.getNumOccurrences()) {
    if (!(lr > 0))
      return Session::error("--lr must be positive"), false;
    config.lr = lr;
  }
  if (noShuffle)
    config.shuffle = false;
  if (seed.getNumOccurrences()) {
    if (seed < 0)
      return Session::error("--seed must be non-negative"), false;
    config.seed = seed;
  }
  return true;
}

/// The rows a command trains on: --train-csv, or the train block's data
/// source. `fromBlock` tells which; `target` is the target column used.
static bool loadAllData(Session &s, const TrainConfig &config, Dataset &all,
                        std::string &source, bool &fromBlock,
                        std::string &target) {
  source = s.program().filename;
  std::string error;
  // --train-csv replaces the train block's data source, options included.
  fromBlock = trainCSV.empty();
  target = targetColumn.getNumOccurrences() ? std::string(targetColumn)
           : fromBlock                      ? config.target
                                            : std::string();
  if (!trainCSV.empty()) {
    if (!readCSV(trainCSV, target, all, error))
      return errs() << error << "\n", false;
    source = trainCSV;
  } else if (config.data == "make_regression") {
    all = makeRegression(config.samples, config.features, config.informative,
                         config.noise, config.bias, config.dataSeed);
  } else if (config.data == "make_classification") {
    all = makeClassification(config.samples, config.features,
                             config.informative, config.classes,
                             config.dataSeed);
  } else if (config.data == "make_blobs") {
    all = makeBlobs(config.samples, config.features, config.centers,
                    config.clusterStd, config.dataSeed);
  } else if (config.data == "make_moons") {
    all = makeMoons(config.samples, config.noise, config.dataSeed);
  } else if (config.data == "make_ring") {
    all = makeRing(config.samples, config.centers, config.radius,
                   config.clusterStd, config.dataSeed);
  } else if (config.data == "npy") {
    if (!readNpyDataset(config.csvPath, config.npyTargets, all, error))
      return errs() << error << "\n", false;
    source = config.csvPath;
  } else if (!config.csvPath.empty()) {
    if (!readCSV(config.csvPath, target, all, error))
      return errs() << error << "\n", false;
    source = config.csvPath;
  } else {
    Session::error(s.program().filename +
                   ": no data: give a 'data' setting in the train block or "
                   "--train-csv");
    return false;
  }
  return true;
}

int dlc::runTrain() {
  CommonOptions options = commonOptions();
  Session s(options);
  if (!s.load())
    return 1;
  TrainConfig config;
  if (mlir::failed(
          readTrainConfig(s.program(), s.model(), &s.context(), config)))
    return 1;
  if (!applyOverrides(config))
    return 1;
  // Data.
  Dataset all, train, test;
  std::string source, target, error;
  bool fromBlock;
  if (!loadAllData(s, config, all, source, fromBlock, target))
    return 1;
  if (!testCSV.empty()) {
    train = std::move(all);
    if (!readCSV(testCSV, target, test, error))
      return errs() << error << "\n", 1;
    if (test.cols != train.cols) {
      Session::error(fmt::format("{}: has {} feature columns, but {} has {}",
                                 std::string(testCSV), test.cols, source,
                                 train.cols));
      return 1;
    }
  } else if (config.testFraction > 0) {
    if (all.rows < 2)
      return Session::error(source + ": a holdout split needs 2 rows"), 1;
    holdoutSplit(all, config.testFraction, config.splitSeed, train, test);
  } else {
    train = std::move(all);
  }
  if (!checkDataShape(s, train, source))
    return 1;
  if (standardizeFlag || (fromBlock && config.standardize))
    standardize(train, test.rows ? &test : nullptr);

  // Compile once: forward + backward + update, and predict.
  auto compileStart = std::chrono::steady_clock::now();
  if (!s.addTraining(config) || !s.lowerToLinalg() || !s.lowerToLLVM())
    return 1;
  mlir::TimingScope jit = s.timing().nest("JIT compile (LLVM -O2, codegen)");
  std::unique_ptr<Engine> engine =
      Engine::create(s.module(), error, s.engineOptions(&jit));
  if (!engine)
    return Session::error("JIT compilation failed: " + error), 1;
  Trainer trainer(s.info(), config, *engine);
  if (!trainer.init(error)) // looks up the functions
    return Session::error(error), 1;
  jit.stop();
  if (!loadFile.empty() && !trainer.load(loadFile, error))
    return errs() << error << "\n", 1;
  double compileSeconds = std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - compileStart)
                              .count();
  outs() << fmt::format("dlc: training '{}' on {} samples ({} test), {} "
                        "epochs, batch {}, {} lr {}; compiled in {:.3f} s\n",
                        s.info().name, train.rows, test.rows, config.epochs,
                        config.batch, config.optimizer, config.lr,
                        compileSeconds);
  int64_t every = logEvery > 0 ? int64_t(logEvery)
                               : std::max<int64_t>(1, config.epochs / 20);
  auto start = std::chrono::steady_clock::now();
  std::vector<double> epochLosses;
  trainer.fit(train, [&](int64_t epoch, const std::vector<double> &losses,
                         double samplesPerSec) {
    epochLosses.push_back(losses[0]);
    if (epoch == 1 || epoch == config.epochs || epoch % every == 0) {
      std::string text = fmt::format("{:<12.6g}", losses[0]);
      for (size_t k = 1; k < losses.size(); ++k)
        text += fmt::format(" loss{} {:<12.6g}", k, losses[k]);
      outs() << fmt::format("epoch {:>5}/{}  loss {} {:.3g} samples/s\n",
                            epoch, config.epochs, text, samplesPerSec);
      outs().flush();
    }
  });
  double seconds = std::chrono::duration<double>(
                       std::chrono::steady_clock::now() - start)
                       .count();
  Evaluation trainEval = trainer.evaluate(train);
  Evaluation testEval = trainer.evaluate(test);
  const auto &trainMetrics = trainEval.values;
  const auto &testMetrics = testEval.values;
  if (!trainMetrics.empty())
    outs() << fmt::format("train: {}\n", metricsLine(trainMetrics));
  if (test.rows && !testMetrics.empty())
    outs() << fmt::format("test:  {}\n", metricsLine(testMetrics));
  const Evaluation &shown = test.rows ? testEval : trainEval;
  if (!shown.confusion.empty()) {
    outs() << fmt::format("confusion matrix ({} set; rows: true class, "
                          "columns: predicted)\n",
                          test.rows ? "test" : "train");
    for (const std::vector<int64_t> &row : shown.confusion) {
      std::string line = " ";
      for (int64_t n : row)
        line += fmt::format(" {:>5}", n);
      outs() << line << "\n";
    }
  }
  double stepMicros =
      trainer.steps() ? trainer.stepSeconds() / trainer.steps() * 1e6 : 0;
  outs() << fmt::format("{} steps in {:.3f} s ({:.3g} us per train step)\n",
                        trainer.steps(), seconds, stepMicros);

  if (!saveFile.empty()) {
    if (!trainer.save(saveFile, error))
      return Session::error(error), 1;
    outs() << "saved " << saveFile << "\n";
  }
  if (!metricsJSON.empty()) {
    std::string losses = "[";
    for (size_t i = 0; i < epochLosses.size(); ++i)
      losses += fmt::format("{}{:.17g}", i ? ", " : "", epochLosses[i]);
    losses += "]";
    std::string json = fmt::format(
        "{{\"model\": \"{}\", \"train\": {}, \"test\": {}, \"epochs\": {}, "
        "\"losses\": {}, \"seconds\": {:.6g}, \"compile_seconds\": {:.6g}, "
        "\"step_microseconds\": {:.6g}, \"best_step_microseconds\": {:.6g}}}\n",
        s.info().name, metricsObject(trainMetrics), metricsObject(testMetrics),
        config.epochs, losses, seconds, compileSeconds, stepMicros,
        trainer.bestStepSeconds() * 1e6);
    if (!writeOutputFile(metricsJSON, json))
      return 1;
  }
  return 0;
}

static cl::opt<int64_t> folds("folds", cl::desc("Number of folds (>= 2)"),
                              cl::value_desc("K"), cl::init(5),
                              cl::sub(cvCmd), cl::cat(category));

int dlc::runCrossValidate() {
  CommonOptions options = commonOptions();
  Session s(options);
  if (!s.load())
    return 1;
  TrainConfig config;
  if (mlir::failed(
          readTrainConfig(s.program(), s.model(), &s.context(), config)) ||
      !applyOverrides(config))
    return 1;
  if (!s.info().output) {
    mlir::emitError(toLocation(&s.context(), s.program(), s.model().loc))
        << "model '" << s.info().name
        << "' has no 'output' statement: cross-validation reports metrics "
           "of the output";
    return 1;
  }
  if (s.info().inputs.size() < 2) {
    mlir::emitError(toLocation(&s.context(), s.program(), s.model().loc))
        << "model '" << s.info().name
        << "' has no target input: cross-validation compares the output "
           "with a target (the model's second input)";
    return 1;
  }
  Dataset all;
  std::string source, target, error;
  bool fromBlock;
  if (!loadAllData(s, config, all, source, fromBlock, target) ||
      !checkDataShape(s, all, source))
    return 1;
  if (folds < 2 || folds > all.rows)
    return Session::error(fmt::format("--folds must be between 2 and the "
                                      "number of rows ({})",
                                      all.rows)),
           1;
  if (!s.addTraining(config) || !s.lowerToLinalg() || !s.lowerToLLVM())
    return 1;
  std::unique_ptr<Engine> engine = Engine::create(s.module(), error, s.engineOptions());
  if (!engine)
    return Session::error("JIT compilation failed: " + error), 1;

  // Folds of a seeded permutation (the split seed), as scikit-learn's
  // KFold(shuffle=True): sizes differ by at most one.
  std::vector<int64_t> order(all.rows);
  std::iota(order.begin(), order.end(), 0);
  Random rng(config.splitSeed);
  rng.shuffle(order);
  outs() << fmt::format("dlc: {}-fold cross-validation of '{}' on {} "
                        "samples, {} epochs per fold\n",
                        int64_t(folds), s.info().name, all.rows,
                        config.epochs);
  std::map<std::string, std::vector<double>> results;
  for (int64_t k = 0; k < folds; ++k) {
    int64_t begin = k * all.rows / folds, end = (k + 1) * all.rows / folds;
    std::vector<int64_t> testIdx(order.begin() + begin, order.begin() + end);
    std::vector<int64_t> trainIdx(order.begin(), order.begin() + begin);
    trainIdx.insert(trainIdx.end(), order.begin() + end, order.end());
    Dataset train = all.subset(trainIdx), test = all.subset(testIdx);
    if (standardizeFlag || (fromBlock && config.standardize))
      standardize(train, &test);
    Trainer trainer(s.info(), config, *engine);
    if (!trainer.init(error))
      return Session::error(error), 1;
    trainer.fit(train, nullptr);
    Evaluation e = trainer.evaluate(test);
    outs() << fmt::format("fold {}/{}: {}\n", k + 1, int64_t(folds),
                          metricsLine(e.values));
    for (auto &[name, v] : e.values)
      results[name].push_back(v);
  }
  std::map<std::string, double> means, stds;
  std::string line;
  for (auto &[name, values] : results) {
    double mean = 0, var = 0;
    for (double v : values)
      mean += v;
    mean /= values.size();
    for (double v : values)
      var += (v - mean) * (v - mean);
    double sd = std::sqrt(var / values.size());
    means[name] = mean;
    stds[name] = sd;
    line += fmt::format("{}{} {:.6g} ± {:.3g}", line.empty() ? "" : "  ", name,
                        mean, sd);
  }
  outs() << "mean ± std: " << line << "\n";
  if (!metricsJSON.empty()) {
    std::string json = fmt::format(
        "{{\"model\": \"{}\", \"folds\": {}, \"mean\": {}, \"std\": {}}}\n",
        s.info().name, int64_t(folds), metricsObject(means),
        metricsObject(stds));
    if (!writeOutputFile(metricsJSON, json))
      return 1;
  }
  return 0;
}
