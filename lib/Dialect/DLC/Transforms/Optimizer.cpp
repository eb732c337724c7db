// dlc-optimizer: appends the parameter update to a gradient function, giving
// one train-step function (forward + backward + update).
#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

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

struct OptimizerPass : mlir::dlc::impl::OptimizerPassBase<OptimizerPass> {
  using Base::Base;

  void runOnOperation() override {
    if (optimizer != "sgd" && optimizer != "adam" && optimizer != "adamw" &&
        optimizer != "rmsprop") {
      getOperation().emitError()
          << "unknown optimizer '" << optimizer
          << "' (expected sgd, adam, adamw or rmsprop)";
      return signalPassFailure();
    }
    SmallVector<func::FuncOp> gradFuncs;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr("dlc.grad_of"))
        gradFuncs.push_back(func);
    for (func::FuncOp grad : gradFuncs)
      if (failed(buildTrainStep(grad)))
        return signalPassFailure();
  }

  LogicalResult buildTrainStep(func::FuncOp grad);
};

LogicalResult OptimizerPass::buildTrainStep(func::FuncOp grad) {
  MLIRContext *ctx = grad.getContext();
  ModuleOp module = getOperation();
  auto base = cast<FlatSymbolRefAttr>(grad->getAttr("dlc.grad_of"));
  std::string name = (base.getValue() + "_train_step").str();
  if (module.lookupSymbol(name))
    return grad.emitError() << "'" << name << "' already exists";

  // Collect the arguments of the step: params, state, inputs, lr.
  SmallVector<unsigned> paramIdx, inputIdx;
  std::optional<unsigned> counterIdx; // dropout's step counter
  for (unsigned i = 0; i < grad.getNumArguments(); ++i) {
    if (grad.getArgAttr(i, "dlc.rng_counter"))
      counterIdx = i;
    else
      (grad.getArgAttr(i, "dlc.param") ? paramIdx : inputIdx).push_back(i);
  }
  if (paramIdx.empty())
    return grad.emitError("the model has no parameters to train");
  auto argName = [&](unsigned i) -> std::string {
    if (auto n = grad.getArgAttrOfType<StringAttr>(i, "dlc.name"))
      return n.str();
    return "arg" + std::to_string(i);
  };
  Type elementType =
      cast<RankedTensorType>(grad.getArgumentTypes()[paramIdx[0]])
          .getElementType();
  auto scalarType = RankedTensorType::get({}, elementType);

  bool useMomentum = optimizer == "sgd" && momentum != 0.0;
  bool decoupled = optimizer == "adamw";
  bool useAdam = optimizer == "adam" || decoupled;
  bool useRMSProp = optimizer == "rmsprop";
  SmallVector<StepArg> args;
  for (unsigned i : paramIdx)
    args.push_back({grad.getArgumentTypes()[i], "dlc.param", argName(i)});
  for (unsigned i : paramIdx) {
    Type t = grad.getArgumentTypes()[i];
    if (useMomentum)
      args.push_back({t, "dlc.state", argName(i) + ".momentum"});
    if (useAdam) {
      args.push_back({t, "dlc.state", argName(i) + ".adam_m"});
      args.push_back({t, "dlc.state", argName(i) + ".adam_v"});
    }
    if (useRMSProp)
      args.push_back({t, "dlc.state", argName(i) + ".rmsprop_v"});
  }
  if (useAdam)
    args.push_back({scalarType, "dlc.state", "adam.step"});
  if (counterIdx)
    args.push_back({scalarType, "dlc.state", "dropout.step"});
  for (unsigned i : inputIdx)
    args.push_back({grad.getArgumentTypes()[i], "dlc.input", argName(i)});
  args.push_back({scalarType, "dlc.lr", "lr"});

  SmallVector<Type> argTypes;
  for (const StepArg &a : args)
    argTypes.push_back(a.type);

  OpBuilder b(ctx);
  b.setInsertionPointAfter(grad);
  Location loc = grad.getLoc();
  auto step = func::FuncOp::create(b, loc, name,
                                   FunctionType::get(ctx, argTypes, {}));
  for (auto [i, a] : llvm::enumerate(args)) {
    step.setArgAttr(i, a.role, UnitAttr::get(ctx));
    step.setArgAttr(i, "dlc.name", StringAttr::get(ctx, a.name));
  }
  step->setAttr("dlc.train_step", UnitAttr::get(ctx));
  Block *entry = step.addEntryBlock();
  b.setInsertionPointToStart(entry);

  // Forward and backward: the gradient function's body, inlined.
  unsigned numParams = paramIdx.size();
  unsigned numState = args.size() - numParams - inputIdx.size() - 1;
  IRMapping mapping;
  for (auto [k, i] : llvm::enumerate(paramIdx))
    mapping.map(grad.getArgument(i), entry->getArgument(k));
  for (auto [k, i] : llvm::enumerate(inputIdx))
    mapping.map(grad.getArgument(i),
                entry->getArgument(numParams + numState + k));
  Value counter;
  if (counterIdx) {
    counter = entry->getArgument(numParams + numState - 1);
    mapping.map(grad.getArgument(*counterIdx), counter);
  }
  Value lr = entry->getArgument(args.size() - 1);
  Block &gradBody = grad.getBody().front();
  for (Operation &op : gradBody.without_terminator())
    b.clone(op, mapping);
  auto gradRet = cast<func::ReturnOp>(gradBody.getTerminator());
  Value loss = mapping.lookup(gradRet.getOperand(0));

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

  SmallVector<Value> newParams, newState;
  Value stepCount, biasCorrection1, biasCorrection2Sqrt;
  if (useAdam) {
    Value t = entry->getArgument(numParams + numState - 1 - (counterIdx ? 1 : 0));
    stepCount = add(t, constant(1.0));
    biasCorrection1 =
        sub(constant(1.0), PowOp::create(b, loc, constant(beta1), stepCount));
    biasCorrection2Sqrt = SqrtOp::create(
        b, loc,
        sub(constant(1.0), PowOp::create(b, loc, constant(beta2), stepCount)));
  }
  for (unsigned k = 0; k < numParams; ++k) {
    Value p = entry->getArgument(k);
    Value g = mapping.lookup(gradRet.getOperand(1 + k));
    if (weightDecay != 0.0) {
      if (decoupled) // AdamW: p <- p (1 - lr wd), then the Adam step.
        p = sub(p, mul(mul(lr, constant(weightDecay)), p));
      else // L2: the gradient of wd/2 |p|^2.
        g = add(g, mul(constant(weightDecay), p));
    }
    if (useRMSProp) {
      Value v = entry->getArgument(numParams + k);
      Value v2 =
          add(mul(constant(alpha), v), mul(constant(1.0 - alpha), mul(g, g)));
      Value denom = add(SqrtOp::create(b, loc, v2), constant(epsilon));
      newParams.push_back(sub(p, mul(lr, DivOp::create(b, loc, g, denom))));
      newState.push_back(v2);
    } else if (useAdam) {
      Value m = entry->getArgument(numParams + 2 * k);
      Value v = entry->getArgument(numParams + 2 * k + 1);
      Value m2 = add(mul(constant(beta1), m), mul(constant(1.0 - beta1), g));
      Value v2 =
          add(mul(constant(beta2), v), mul(constant(1.0 - beta2), mul(g, g)));
      Value denom = add(DivOp::create(b, loc, SqrtOp::create(b, loc, v2),
                                      biasCorrection2Sqrt),
                        constant(epsilon));
      Value stepSize = DivOp::create(b, loc, lr, biasCorrection1);
      Value update = mul(stepSize, DivOp::create(b, loc, m2, denom));
      newParams.push_back(sub(p, update));
      newState.push_back(m2);
      newState.push_back(v2);
    } else if (useMomentum) {
      Value buf = entry->getArgument(numParams + k);
      Value buf2 = add(mul(constant(momentum), buf), g);
      Value direction = nesterov ? add(g, mul(constant(momentum), buf2)) : buf2;
      newParams.push_back(sub(p, mul(lr, direction)));
      newState.push_back(buf2);
    } else {
      newParams.push_back(sub(p, mul(lr, g)));
    }
  }
  if (useAdam)
    newState.push_back(stepCount);
  if (counterIdx)
    newState.push_back(add(counter, constant(1.0)));

  SmallVector<Value> results(newParams);
  results.append(newState);
  results.push_back(loss);
  func::ReturnOp::create(b, loc, results);
  step.setFunctionType(
      FunctionType::get(ctx, argTypes, ValueRange(results).getTypes()));
  // Parameters and state are updated in place: result i aliases argument i.
  for (unsigned i = 0; i < numParams + numState; ++i)
    step.setResultAttr(i, "dlc.aliases",
                       IntegerAttr::get(IntegerType::get(ctx, 64), i));
  step.setResultAttr(results.size() - 1, "dlc.name",
                     StringAttr::get(ctx, "loss"));
  return success();
}

} // namespace
