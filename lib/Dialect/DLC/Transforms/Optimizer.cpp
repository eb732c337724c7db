// dlc-optimizer: appends the parameter updates to the gradient functions of
// a loss, giving one train-step function (forward + backward + update).
#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

#include <map>

namespace mlir::dlc {
#define GEN_PASS_DEF_OPTIMIZERPASS
#include "dlc/Dialect/DLC/Transforms/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// One function argument of the train step, with its role and name.
struct StepArg {
  Type type;
  StringRef role; // dlc.param, dlc.state, dlc.input or dlc.lr
  std::string name;
};

/// The optimizer of one objective.
struct Settings {
  std::string optimizer;
  double momentum, beta1, beta2, epsilon, weightDecay, alpha;
  bool nesterov;

  bool useMomentum() const { return optimizer == "sgd" && momentum != 0.0; }
  bool useAdam() const { return optimizer == "adam" || optimizer == "adamw"; }
  bool useRMSProp() const { return optimizer == "rmsprop"; }
  /// State tensors per parameter.
  unsigned perParam() const {
    return useAdam() ? 2 : (useMomentum() || useRMSProp()) ? 1 : 0;
  }
};

struct OptimizerPass : mlir::dlc::impl::OptimizerPassBase<OptimizerPass> {
  using Base::Base;

  void runOnOperation() override {
    std::map<std::string, SmallVector<func::FuncOp>> byLoss;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (auto of = func->getAttrOfType<FlatSymbolRefAttr>("dlc.grad_of"))
        byLoss[of.getValue().str()].push_back(func);
    for (auto &[loss, grads] : byLoss) {
      llvm::sort(grads, [](func::FuncOp a, func::FuncOp b) {
        return objectiveOf(a) < objectiveOf(b);
      });
      if (failed(buildTrainStep(loss, grads)))
        return signalPassFailure();
    }
  }

  static int64_t objectiveOf(func::FuncOp f) {
    auto k = f->getAttrOfType<IntegerAttr>("dlc.objective");
    return k ? k.getInt() : 0;
  }

  /// The pass options, overridden by a `dlc.optimizer` dictionary.
  FailureOr<Settings> settingsOf(func::FuncOp grad) {
    Settings s{optimizer, momentum, beta1, beta2, epsilon, weightDecay, alpha,
               nesterov};
    if (auto dict = grad->getAttrOfType<DictionaryAttr>("dlc.optimizer")) {
      if (auto name = dict.getAs<StringAttr>("optimizer"))
        s.optimizer = name.str();
      auto number = [&](StringRef key, double &out) {
        if (auto f = dict.getAs<FloatAttr>(key))
          out = f.getValueAsDouble();
      };
      number("momentum", s.momentum);
      number("beta1", s.beta1);
      number("beta2", s.beta2);
      number("epsilon", s.epsilon);
      number("weight_decay", s.weightDecay);
      number("alpha", s.alpha);
      if (auto b = dict.getAs<BoolAttr>("nesterov"))
        s.nesterov = b.getValue();
    }
    if (s.optimizer != "sgd" && s.optimizer != "adam" &&
        s.optimizer != "adamw" && s.optimizer != "rmsprop") {
      grad.emitError() << "unknown optimizer '" << s.optimizer
                       << "' (expected sgd, adam, adamw or rmsprop)";
      return failure();
    }
    return s;
  }

  LogicalResult buildTrainStep(StringRef base, ArrayRef<func::FuncOp> grads);
};

LogicalResult OptimizerPass::buildTrainStep(StringRef base,
                                            ArrayRef<func::FuncOp> grads) {
  func::FuncOp first = grads.front();
  MLIRContext *ctx = first.getContext();
  ModuleOp module = getOperation();
  std::string name = (base + "_train_step").str();
  if (module.lookupSymbol(name))
    return first.emitError() << "'" << name << "' already exists";

  // Every gradient function has the loss function's arguments.
  SmallVector<unsigned> paramIdx, inputIdx;
  std::optional<unsigned> counterIdx; // the random counter (dropout, noise)
  for (unsigned i = 0; i < first.getNumArguments(); ++i) {
    if (first.getArgAttr(i, "dlc.rng_counter"))
      counterIdx = i;
    else
      (first.getArgAttr(i, "dlc.param") ? paramIdx : inputIdx).push_back(i);
  }
  if (paramIdx.empty())
    return first.emitError("the model has no parameters to train");
  auto argName = [&](unsigned i) -> std::string {
    if (auto n = first.getArgAttrOfType<StringAttr>(i, "dlc.name"))
      return n.str();
    return "arg" + std::to_string(i);
  };
  Type elementType =
      cast<RankedTensorType>(first.getArgumentTypes()[paramIdx[0]])
          .getElementType();
  auto scalarType = RankedTensorType::get({}, elementType);
  unsigned numParams = paramIdx.size();
  // Position of argument index `i` among the parameters.
  std::map<unsigned, unsigned> paramPos;
  for (auto [k, i] : llvm::enumerate(paramIdx))
    paramPos[i] = k;

  // Arguments: params, then per objective its group's state and its Adam
  // step, then the random counter; inputs; one learning rate per objective.
  SmallVector<Settings> settings;
  SmallVector<SmallVector<unsigned>> groups;
  SmallVector<StepArg> args;
  for (unsigned i : paramIdx)
    args.push_back({first.getArgumentTypes()[i], "dlc.param", argName(i)});
  SmallVector<unsigned> stateStart;
  for (auto [k, grad] : llvm::enumerate(grads)) {
    FailureOr<Settings> s = settingsOf(grad);
    if (failed(s))
      return failure();
    settings.push_back(*s);
    SmallVector<unsigned> group;
    if (auto g = grad->getAttrOfType<DenseI64ArrayAttr>("dlc.group")) {
      for (int64_t i : g.asArrayRef())
        group.push_back(i);
    } else {
      group = paramIdx;
    }
    groups.push_back(group);
    stateStart.push_back(args.size());
    for (unsigned i : group) {
      Type t = first.getArgumentTypes()[i];
      if (s->useMomentum())
        args.push_back({t, "dlc.state", argName(i) + ".momentum"});
      if (s->useAdam()) {
        args.push_back({t, "dlc.state", argName(i) + ".adam_m"});
        args.push_back({t, "dlc.state", argName(i) + ".adam_v"});
      }
      if (s->useRMSProp())
        args.push_back({t, "dlc.state", argName(i) + ".rmsprop_v"});
    }
    if (s->useAdam())
      args.push_back({scalarType, "dlc.state",
                      k ? "adam.step." + std::to_string(k) : "adam.step"});
  }
  unsigned counterArg = args.size();
  if (counterIdx)
    args.push_back({scalarType, "dlc.state", "dropout.step"});
  unsigned numState = args.size() - numParams;
  unsigned inputStart = args.size();
  for (unsigned i : inputIdx)
    args.push_back({first.getArgumentTypes()[i], "dlc.input", argName(i)});
  unsigned lrStart = args.size();
  for (unsigned k = 0; k < grads.size(); ++k)
    args.push_back({scalarType, "dlc.lr", k ? "lr" + std::to_string(k) : "lr"});

  SmallVector<Type> argTypes;
  for (const StepArg &a : args)
    argTypes.push_back(a.type);
  OpBuilder b(ctx);
  b.setInsertionPointAfter(grads.back());
  Location loc = first.getLoc();
  auto step = func::FuncOp::create(b, loc, name,
                                   FunctionType::get(ctx, argTypes, {}));
  for (auto [i, a] : llvm::enumerate(args)) {
    step.setArgAttr(i, a.role, UnitAttr::get(ctx));
    step.setArgAttr(i, "dlc.name", StringAttr::get(ctx, a.name));
  }
  step->setAttr("dlc.train_step", UnitAttr::get(ctx));
  Block *entry = step.addEntryBlock();
  b.setInsertionPointToStart(entry);

  auto constant = [&](double v) {
    return createScalarConstant(b, loc, elementType, v);
  };
  auto mul = [&](Value x, Value y) -> Value {
    return MulOp::create(b, loc, x, y);
  };
  auto add = [&](Value x, Value y) -> Value {
    return AddOp::create(b, loc, x, y);
  };
  auto sub = [&](Value x, Value y) -> Value {
    return SubOp::create(b, loc, x, y);
  };

  SmallVector<Value> current(entry->getArguments().take_front(numParams));
  SmallVector<Value> newState, losses;
  for (unsigned k = 0; k < grads.size(); ++k) {
    func::FuncOp grad = grads[k];
    const Settings &s = settings[k];
    // Forward and backward of objective k at the current parameters
    // (earlier objectives' updates included): the gradient function inlined.
    IRMapping mapping;
    for (auto [pos, i] : llvm::enumerate(paramIdx))
      mapping.map(grad.getArgument(i), current[pos]);
    for (auto [pos, i] : llvm::enumerate(inputIdx))
      mapping.map(grad.getArgument(i), entry->getArgument(inputStart + pos));
    if (counterIdx)
      mapping.map(grad.getArgument(*counterIdx),
                  entry->getArgument(counterArg));
    Block &gradBody = grad.getBody().front();
    for (Operation &op : gradBody.without_terminator())
      b.clone(op, mapping);
    auto gradRet = cast<func::ReturnOp>(gradBody.getTerminator());
    losses.push_back(mapping.lookup(gradRet.getOperand(0)));
    Value lr = entry->getArgument(lrStart + k);

    unsigned stateArg = stateStart[k];
    Value stepCount, biasCorrection1, inverseCorrection2Sqrt;
    if (s.useAdam()) {
      unsigned stepArg = stateArg + groups[k].size() * s.perParam();
      stepCount = add(entry->getArgument(stepArg), constant(1.0));
      biasCorrection1 = sub(constant(1.0),
                            PowOp::create(b, loc, constant(s.beta1), stepCount));
      // Its reciprocal, so that each element multiplies instead of dividing
      // (a division per element is Adam's slowest instruction after the
      // square root; the results differ by an ulp).
      inverseCorrection2Sqrt = DivOp::create(
          b, loc, constant(1.0),
          SqrtOp::create(
              b, loc,
              sub(constant(1.0),
                  PowOp::create(b, loc, constant(s.beta2), stepCount))));
    }
    for (auto [j, i] : llvm::enumerate(groups[k])) {
      unsigned pos = paramPos.at(i);
      Value p = current[pos];
      Value g = mapping.lookup(gradRet.getOperand(1 + j));
      unsigned first = stateArg + j * s.perParam();
      if (s.weightDecay != 0.0) {
        if (s.optimizer == "adamw") // p <- p (1 - lr wd), then the Adam step
          p = sub(p, mul(mul(lr, constant(s.weightDecay)), p));
        else // L2: the gradient of wd/2 |p|^2
          g = add(g, mul(constant(s.weightDecay), p));
      }
      Value updated;
      if (s.useRMSProp()) {
        Value v = entry->getArgument(first);
        Value v2 = add(mul(constant(s.alpha), v),
                       mul(constant(1.0 - s.alpha), mul(g, g)));
        Value denom = add(SqrtOp::create(b, loc, v2), constant(s.epsilon));
        updated = sub(p, mul(lr, DivOp::create(b, loc, g, denom)));
        newState.push_back(v2);
      } else if (s.useAdam()) {
        Value m = entry->getArgument(first);
        Value v = entry->getArgument(first + 1);
        Value m2 =
            add(mul(constant(s.beta1), m), mul(constant(1.0 - s.beta1), g));
        Value v2 = add(mul(constant(s.beta2), v),
                       mul(constant(1.0 - s.beta2), mul(g, g)));
        Value denom = add(mul(SqrtOp::create(b, loc, v2),
                              inverseCorrection2Sqrt),
                          constant(s.epsilon));
        Value stepSize = DivOp::create(b, loc, lr, biasCorrection1);
        updated = sub(p, mul(stepSize, DivOp::create(b, loc, m2, denom)));
        newState.push_back(m2);
        newState.push_back(v2);
      } else if (s.useMomentum()) {
        Value buf = entry->getArgument(first);
        Value buf2 = add(mul(constant(s.momentum), buf), g);
        Value direction =
            s.nesterov ? add(g, mul(constant(s.momentum), buf2)) : buf2;
        updated = sub(p, mul(lr, direction));
        newState.push_back(buf2);
      } else {
        updated = sub(p, mul(lr, g));
      }
      current[pos] = updated;
    }
    if (s.useAdam())
      newState.push_back(stepCount);
  }
  if (counterIdx)
    newState.push_back(add(entry->getArgument(counterArg), constant(1.0)));
  assert(newState.size() == numState && "one new value per state argument");

  SmallVector<Value> results(current);
  results.append(newState);
  results.append(losses);
  func::ReturnOp::create(b, loc, results);
  step.setFunctionType(
      FunctionType::get(ctx, argTypes, ValueRange(results).getTypes()));
  // Parameters and state are updated in place: result i aliases argument i.
  for (unsigned i = 0; i < numParams + numState; ++i)
    step.setResultAttr(i, "dlc.aliases",
                       IntegerAttr::get(IntegerType::get(ctx, 64), i));
  for (unsigned k = 0; k < losses.size(); ++k)
    step.setResultAttr(numParams + numState + k, "dlc.name",
                       StringAttr::get(ctx, k ? "loss" + std::to_string(k)
                                              : std::string("loss")));
  return success();
}

} // namespace
