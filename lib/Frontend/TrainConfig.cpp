// Reading and validating the train block of a model.
#include "dlc/Frontend/MLIRGen.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"

#include <cmath>
#include <map>
#include <set>

using namespace dlc;
using namespace mlir;

namespace {

class SettingReader {
public:
  SettingReader(const Program &program, MLIRContext *ctx)
      : program(program), ctx(ctx) {}

  InFlightDiagnostic error(SourceLoc l) {
    return emitError(toLocation(ctx, program, l));
  }

  LogicalResult number(const Expr &e, double &out) {
    bool negative = e.kind == Expr::Kind::Unary &&
                    e.args[0]->kind == Expr::Kind::Number;
    if (e.kind != Expr::Kind::Number && !negative)
      return error(e.loc) << "expected a number";
    out = negative ? -e.args[0]->number : e.number;
    return success();
  }
  LogicalResult integer(const Expr &e, int64_t &out, int64_t min) {
    double v;
    if (failed(number(e, v)))
      return failure();
    if (v != (double)(int64_t)v || v < min)
      return error(e.loc) << "expected an integer >= " << min;
    out = (int64_t)v;
    return success();
  }
  LogicalResult seed(const Expr &e, uint64_t &out) {
    int64_t v;
    if (failed(integer(e, v, 0)))
      return failure();
    out = (uint64_t)v;
    return success();
  }
  LogicalResult boolean(const Expr &e, bool &out) {
    if (e.kind != Expr::Kind::Name || (e.text != "true" && e.text != "false"))
      return error(e.loc) << "expected true or false";
    out = e.text == "true";
    return success();
  }
  LogicalResult string(const Expr &e, std::string &out) {
    if (e.kind != Expr::Kind::String)
      return error(e.loc) << "expected a string in double quotes";
    out = e.text;
    return success();
  }
  /// Checks that `call` is a call of one of `names`, with only `allowed`
  /// keyword arguments and `positional` positional ones.
  LogicalResult call(const Expr &e, ArrayRef<StringRef> names,
                     ArrayRef<StringRef> allowed, size_t positional = 0) {
    if (e.kind != Expr::Kind::Call && e.kind != Expr::Kind::Name)
      return error(e.loc) << "expected " << llvm::join(names, " or ") << "(...)";
    if (!llvm::is_contained(names, e.text))
      return error(e.loc) << "unknown '" << e.text << "' (expected "
                          << llvm::join(names, ", ") << ")";
    if (e.args.size() != positional)
      return error(e.loc) << "'" << e.text << "' takes " << positional
                          << " positional argument(s), got " << e.args.size();
    for (const KeywordArg &kw : e.kwargs)
      if (!llvm::is_contained(allowed, kw.name))
        return error(kw.loc) << "'" << e.text << "' has no argument '"
                             << kw.name << "' (expected "
                             << llvm::join(allowed, ", ") << ")";
    return success();
  }

  const Program &program;
  MLIRContext *ctx;
};

} // namespace

OptimizerSettings dlc::optimizerOf(const TrainConfig &config, size_t k) {
  if (k < config.objectiveOptimizers.size() && config.objectiveOptimizers[k])
    return *config.objectiveOptimizers[k];
  OptimizerSettings s;
  s.optimizer = config.optimizer;
  s.lr = config.lr;
  s.momentum = config.momentum;
  s.beta1 = config.beta1;
  s.beta2 = config.beta2;
  s.epsilon = config.epsilon;
  s.weightDecay = config.weightDecay;
  s.alpha = config.alpha;
  s.nesterov = config.nesterov;
  return s;
}

std::vector<TensorInfo> dlc::optimizerState(const ModelInfo &model,
                                            const TrainConfig &config) {
  std::vector<TensorInfo> state;
  std::vector<std::vector<size_t>> groups = model.objectives;
  if (groups.empty()) {
    groups.emplace_back();
    for (size_t i = 0; i < model.params.size(); ++i)
      groups.back().push_back(i);
  }
  for (size_t k = 0; k < groups.size(); ++k) {
    OptimizerSettings s = optimizerOf(config, k);
    bool adam = s.optimizer == "adam" || s.optimizer == "adamw";
    for (size_t i : groups[k]) {
      const ParamInfo &p = model.params[i];
      if (s.optimizer == "sgd" && s.momentum != 0)
        state.push_back({p.name + ".momentum", p.shape});
      if (adam) {
        state.push_back({p.name + ".adam_m", p.shape});
        state.push_back({p.name + ".adam_v", p.shape});
      }
      if (s.optimizer == "rmsprop")
        state.push_back({p.name + ".rmsprop_v", p.shape});
    }
    if (adam)
      state.push_back({k ? "adam.step." + std::to_string(k) : "adam.step", {}});
  }
  if (model.usesDropout)
    state.push_back({"dropout.step", {}});
  return state;
}

double dlc::scheduledLearningRate(const TrainConfig &config, int64_t epoch,
                                  double baseLr) {
  if (config.schedule == "step")
    return baseLr *
           std::pow(config.scheduleGamma, double(epoch / config.scheduleEvery));
  if (config.schedule == "cosine")
    return config.minLr + (baseLr - config.minLr) *
                              (1 + std::cos(M_PI * epoch / config.epochs)) / 2;
  return baseLr;
}

/// Reads `sgd(...)`, `adam(...)`, `adamw(...)` or `rmsprop(...)` into the
/// optimizer fields of `config`.
static LogicalResult readOptimizer(SettingReader &r, const Expr &e,
                                   TrainConfig &config) {
      static const std::map<std::string, std::vector<StringRef>> optimizers = {
          {"sgd", {"lr", "momentum", "nesterov", "weight_decay"}},
          {"adam", {"lr", "beta1", "beta2", "eps", "weight_decay"}},
          {"adamw", {"lr", "beta1", "beta2", "eps", "weight_decay"}},
          {"rmsprop", {"lr", "alpha", "eps", "weight_decay"}},
      };
      auto known = optimizers.find(e.text);
      if ((e.kind != Expr::Kind::Call && e.kind != Expr::Kind::Name) ||
          known == optimizers.end())
        return r.error(e.loc)
               << "unknown optimizer (expected sgd, adam, adamw or rmsprop)";
      if (failed(r.call(e, {StringRef(e.text)}, known->second)))
        return failure();
      config.optimizer = e.text;
      // PyTorch's defaults.
      config.lr = e.text == "sgd" ? 0.01 : 0.001;
      if (e.text == "rmsprop")
        config.lr = 0.01;
      config.weightDecay = e.text == "adamw" ? 0.01 : 0.0;
      for (const KeywordArg &kw : e.kwargs) {
        const Expr &v = *kw.value;
        LogicalResult ok = success();
        if (kw.name == "lr")
          ok = r.number(v, config.lr);
        else if (kw.name == "momentum")
          ok = r.number(v, config.momentum);
        else if (kw.name == "nesterov")
          ok = r.boolean(v, config.nesterov);
        else if (kw.name == "beta1")
          ok = r.number(v, config.beta1);
        else if (kw.name == "beta2")
          ok = r.number(v, config.beta2);
        else if (kw.name == "alpha")
          ok = r.number(v, config.alpha);
        else if (kw.name == "eps")
          ok = r.number(v, config.epsilon);
        else if (kw.name == "weight_decay")
          ok = r.number(v, config.weightDecay);
        if (failed(ok))
          return failure();
        if (kw.name == "lr" && config.lr <= 0)
          return r.error(v.loc) << "the learning rate must be positive";
        if ((kw.name == "beta1" || kw.name == "beta2" ||
             kw.name == "momentum" || kw.name == "alpha") &&
            (v.number < 0 || v.number >= 1))
          return r.error(v.loc) << kw.name << " must be in [0, 1)";
        if (kw.name == "weight_decay" && config.weightDecay < 0)
          return r.error(v.loc) << "weight_decay must be non-negative";
      }
      if (config.nesterov && config.momentum == 0)
        return r.error(e.loc) << "nesterov needs a momentum > 0";
  return success();
}

/// Objectives with their own optimizer: minimize ... using adam(...).
static LogicalResult readObjectiveOptimizers(SettingReader &r,
                                             const Model &model,
                                             TrainConfig &config) {
  config.objectiveOptimizers.clear();
  for (const Stmt &st : model.stmts) {
    if (st.kind != Stmt::Kind::Minimize)
      continue;
    if (!st.optimizer) {
      config.objectiveOptimizers.emplace_back();
      continue;
    }
    TrainConfig own;
    if (failed(readOptimizer(r, *st.optimizer, own)))
      return failure();
    config.objectiveOptimizers.push_back(optimizerOf(own, 0));
  }
  return success();
}

LogicalResult dlc::readTrainConfig(const Program &program, const Model &model,
                                   MLIRContext *ctx, TrainConfig &config) {
  SettingReader r(program, ctx);
  const TrainBlock *block = nullptr;
  for (const TrainBlock &t : program.trains) {
    if (t.model != model.name) {
      bool known = llvm::any_of(program.models, [&](const Model &m) {
        return m.name == t.model;
      });
      if (!known)
        return r.error(t.loc) << "train block for unknown model '" << t.model
                              << "'";
      continue;
    }
    if (block)
      return r.error(t.loc) << "model '" << model.name
                            << "' has two train blocks";
    block = &t;
  }
  if (!block)
    return readObjectiveOptimizers(r, model, config);

  std::set<std::string> seen;
  for (const TrainSetting &s : block->settings) {
    if (!seen.insert(s.key).second)
      return r.error(s.loc) << "setting '" << s.key << "' given twice";
    const Expr &e = *s.value;
    if (s.key == "data") {
      // The keyword arguments each data source takes.
      static const std::map<std::string, std::vector<StringRef>> sources = {
          {"make_regression",
           {"samples", "features", "informative", "noise", "bias", "seed",
            "standardize"}},
          {"make_classification",
           {"samples", "features", "informative", "classes", "seed",
            "standardize"}},
          {"make_blobs",
           {"samples", "features", "centers", "std", "seed", "standardize"}},
          {"make_moons", {"samples", "noise", "seed", "standardize"}},
          {"make_ring", {"samples", "modes", "radius", "std", "seed"}},
          {"csv", {"target", "standardize"}},
          {"npy", {"targets", "standardize"}},
      };
      std::vector<StringRef> names;
      for (auto &[name, keys] : sources)
        names.push_back(name);
      if (e.kind != Expr::Kind::Call && e.kind != Expr::Kind::Name)
        return r.error(e.loc) << "expected a data source: "
                              << llvm::join(names, ", ");
      auto source = sources.find(e.text);
      if (source == sources.end())
        return r.error(e.loc) << "unknown data source '" << e.text
                              << "' (expected " << llvm::join(names, ", ")
                              << ")";
      bool fromFile = e.text == "csv" || e.text == "npy";
      if (failed(r.call(e, {StringRef(e.text)}, source->second,
                        fromFile ? 1 : 0)))
        return failure();
      config.data = e.text;
      if (e.text == "make_classification")
        config.informative = 2;
      auto resolve = [&](std::string &file) {
        if (!llvm::sys::path::is_absolute(file)) {
          llvm::SmallString<256> path(
              llvm::sys::path::parent_path(program.filename));
          llvm::sys::path::append(path, file);
          file = std::string(path);
        }
      };
      if (fromFile) {
        if (failed(r.string(*e.args[0], config.csvPath)))
          return failure();
        resolve(config.csvPath);
      }
      for (const KeywordArg &kw : e.kwargs) {
        const Expr &v = *kw.value;
        LogicalResult ok = success();
        if (kw.name == "samples")
          ok = r.integer(v, config.samples, 2);
        else if (kw.name == "features")
          ok = r.integer(v, config.features, 1);
        else if (kw.name == "informative")
          ok = r.integer(v, config.informative, e.text == "make_regression" ? 0 : 1);
        else if (kw.name == "classes")
          ok = r.integer(v, config.classes, 2);
        else if (kw.name == "centers")
          ok = r.integer(v, config.centers, 1);
        else if (kw.name == "std")
          ok = r.number(v, config.clusterStd);
        else if (kw.name == "modes")
          ok = r.integer(v, config.centers, 1);
        else if (kw.name == "radius")
          ok = r.number(v, config.radius);
        else if (kw.name == "noise")
          ok = r.number(v, config.noise);
        else if (kw.name == "bias")
          ok = r.number(v, config.bias);
        else if (kw.name == "seed")
          ok = r.seed(v, config.dataSeed);
        else if (kw.name == "target")
          ok = r.string(v, config.target);
        else if (kw.name == "targets") {
          ok = r.string(v, config.npyTargets);
          if (succeeded(ok))
            resolve(config.npyTargets);
        }
        else if (kw.name == "standardize")
          ok = r.boolean(v, config.standardize);
        if (failed(ok))
          return failure();
        if ((kw.name == "noise" && config.noise < 0) ||
            (kw.name == "std" && config.clusterStd < 0))
          return r.error(v.loc) << kw.name << " must be non-negative";
      }
      if (e.text == "make_moons" || e.text == "make_ring")
        config.features = 2;
      if (e.text == "make_ring" && !e.findKeyword("modes"))
        config.centers = 8;
      if (e.text == "make_ring" && !e.findKeyword("std"))
        config.clusterStd = 0.02;
      if (config.informative > config.features)
        return r.error(e.loc) << "informative (" << config.informative
                              << ") exceeds features (" << config.features
                              << ")";
      if (e.text == "make_classification" &&
          config.classes * 2 > config.samples)
        return r.error(e.loc) << "make_classification needs at least two "
                                 "samples per class cluster";
    } else if (s.key == "split") {
      if (failed(r.call(e, {"holdout"}, {"test", "seed"})))
        return failure();
      config.testFraction = 0.2;
      for (const KeywordArg &kw : e.kwargs) {
        if (kw.name == "test") {
          if (failed(r.number(*kw.value, config.testFraction)))
            return failure();
          if (config.testFraction <= 0 || config.testFraction >= 1)
            return r.error(kw.value->loc)
                   << "the test fraction must be in (0, 1)";
        } else if (failed(r.seed(*kw.value, config.splitSeed))) {
          return failure();
        }
      }
    } else if (s.key == "optimizer") {
      if (failed(readOptimizer(r, e, config)))
        return failure();
    } else if (s.key == "schedule") {
      if (failed(r.call(e, {"constant", "step", "cosine"},
                        e.text == "step" ? ArrayRef<StringRef>{"every", "gamma"}
                        : e.text == "cosine" ? ArrayRef<StringRef>{"min_lr"}
                                             : ArrayRef<StringRef>{})))
        return failure();
      config.schedule = e.text;
      for (const KeywordArg &kw : e.kwargs) {
        const Expr &v = *kw.value;
        LogicalResult ok = success();
        if (kw.name == "every")
          ok = r.integer(v, config.scheduleEvery, 1);
        else if (kw.name == "gamma")
          ok = r.number(v, config.scheduleGamma);
        else if (kw.name == "min_lr")
          ok = r.number(v, config.minLr);
        if (failed(ok))
          return failure();
      }
    } else if (s.key == "epochs") {
      if (failed(r.integer(e, config.epochs, 1)))
        return failure();
    } else if (s.key == "batch") {
      if (failed(r.integer(e, config.batch, 1)))
        return failure();
    } else if (s.key == "shuffle") {
      if (failed(r.boolean(e, config.shuffle)))
        return failure();
    } else if (s.key == "seed") {
      if (failed(r.seed(e, config.seed)))
        return failure();
    } else if (s.key == "metrics") {
      if (e.kind != Expr::Kind::List)
        return r.error(e.loc) << "expected a list of metrics, e.g. [mse]";
      config.metrics.clear();
      for (const ExprPtr &m : e.args) {
        static const char *const known[] = {"mse",      "mae",       "r2",
                                            "accuracy", "precision", "recall",
                                            "f1"};
        if (m->kind != Expr::Kind::Name || !llvm::is_contained(known, m->text))
          return r.error(m->loc) << "unknown metric (expected mse, mae, r2, "
                                    "accuracy, precision, recall or f1)";
        config.metrics.push_back(m->text);
      }
    } else {
      return r.error(s.loc) << "unknown setting '" << s.key
                            << "' (expected data, split, optimizer, "
                               "schedule, epochs, batch, shuffle, metrics or "
                               "seed)";
    }
  }
  return readObjectiveOptimizers(r, model, config);
}
