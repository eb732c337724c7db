// Reading and validating the train block of a model.
#include "dlc/Frontend/MLIRGen.h"

#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Path.h"

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

std::vector<TensorInfo> dlc::optimizerState(const ModelInfo &model,
                                            const TrainConfig &config) {
  std::vector<TensorInfo> state;
  for (const ParamInfo &p : model.params) {
    if (config.optimizer == "sgd" && config.momentum != 0)
      state.push_back({p.name + ".momentum", p.shape});
    if (config.optimizer == "adam") {
      state.push_back({p.name + ".adam_m", p.shape});
      state.push_back({p.name + ".adam_v", p.shape});
    }
  }
  if (config.optimizer == "adam")
    state.push_back({"adam.step", {}});
  return state;
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
    return success();

  std::set<std::string> seen;
  for (const TrainSetting &s : block->settings) {
    if (!seen.insert(s.key).second)
      return r.error(s.loc) << "setting '" << s.key << "' given twice";
    const Expr &e = *s.value;
    if (s.key == "data") {
      if (failed(r.call(e, {"make_regression", "csv"},
                        {"samples", "features", "informative", "noise", "bias",
                         "seed", "target", "standardize"},
                        e.text == "csv" ? 1 : 0)))
        return failure();
      config.data = e.text;
      if (e.text == "csv") {
        if (failed(r.string(*e.args[0], config.csvPath)))
          return failure();
        if (!llvm::sys::path::is_absolute(config.csvPath)) {
          llvm::SmallString<256> path(
              llvm::sys::path::parent_path(program.filename));
          llvm::sys::path::append(path, config.csvPath);
          config.csvPath = std::string(path);
        }
      }
      for (const KeywordArg &kw : e.kwargs) {
        const Expr &v = *kw.value;
        bool isCsv = e.text == "csv";
        bool csvOnly = kw.name == "target" || kw.name == "standardize";
        if (isCsv != csvOnly && kw.name != "standardize")
          return r.error(kw.loc) << "'" << e.text << "' has no argument '"
                                 << kw.name << "'";
        LogicalResult ok = success();
        if (kw.name == "samples")
          ok = r.integer(v, config.samples, 2);
        else if (kw.name == "features")
          ok = r.integer(v, config.features, 1);
        else if (kw.name == "informative")
          ok = r.integer(v, config.informative, 0);
        else if (kw.name == "noise")
          ok = r.number(v, config.noise);
        else if (kw.name == "bias")
          ok = r.number(v, config.bias);
        else if (kw.name == "seed")
          ok = r.seed(v, config.dataSeed);
        else if (kw.name == "target")
          ok = r.string(v, config.target);
        else if (kw.name == "standardize")
          ok = r.boolean(v, config.standardize);
        if (failed(ok))
          return failure();
      }
      if (config.informative > config.features)
        return r.error(e.loc) << "informative (" << config.informative
                              << ") exceeds features (" << config.features
                              << ")";
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
      if (failed(r.call(e, {"sgd", "adam"},
                        e.text == "sgd"
                            ? ArrayRef<StringRef>{"lr", "momentum", "nesterov"}
                            : ArrayRef<StringRef>{"lr", "beta1", "beta2",
                                                  "eps"})))
        return failure();
      config.optimizer = e.text;
      config.lr = e.text == "adam" ? 0.001 : 0.01;
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
        else if (kw.name == "eps")
          ok = r.number(v, config.epsilon);
        if (failed(ok))
          return failure();
        if (kw.name == "lr" && config.lr <= 0)
          return r.error(v.loc) << "the learning rate must be positive";
        if ((kw.name == "beta1" || kw.name == "beta2" ||
             kw.name == "momentum") &&
            (v.number < 0 || v.number >= 1))
          return r.error(v.loc) << kw.name << " must be in [0, 1)";
      }
      if (config.nesterov && config.momentum == 0)
        return r.error(e.loc) << "nesterov needs a momentum > 0";
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
        if (m->kind != Expr::Kind::Name ||
            (m->text != "mse" && m->text != "accuracy"))
          return r.error(m->loc) << "unknown metric (expected mse or "
                                    "accuracy)";
        config.metrics.push_back(m->text);
      }
    } else {
      return r.error(s.loc) << "unknown setting '" << s.key
                            << "' (expected data, split, optimizer, epochs, "
                               "batch, shuffle, metrics or seed)";
    }
  }
  return success();
}
