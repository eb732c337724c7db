// MLIRGen: model statements become dlc ops in a loss and a predict function.
#include "dlc/Frontend/MLIRGen.h"
#include "FunctionGen.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>
#include <functional>

#include <map>

using namespace dlc;
using namespace mlir;
using namespace mlir::dlc;

namespace dlc {
mlir::Location toLocation(MLIRContext *ctx, const Program &program,
                          SourceLoc loc) {
  return FileLineColLoc::get(ctx, program.filename, loc.line, loc.col);
}
} // namespace dlc

namespace {

using ::dlc::detail::FunctionGen;

RankedTensorType toTensorType(const TypeSpec &t, Type elementType) {
  SmallVector<int64_t> shape;
  for (const Dim &d : t.dims)
    shape.push_back(d.symbolic ? ShapedType::kDynamic : d.size);
  return RankedTensorType::get(shape, elementType);
}

std::vector<int64_t> toShape(RankedTensorType type) {
  std::vector<int64_t> shape;
  for (int64_t d : type.getShape())
    shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
  return shape;
}

/// Reads a parameter initializer: a name or a call with keyword arguments.
LogicalResult readInitializer(FunctionGen &fg, const Expr &e, ParamInfo &p) {
  static const char *const kInits[] = {"zeros",  "ones",    "normal",
                                       "uniform", "glorot", "xavier", "he"};
  if (e.kind != Expr::Kind::Name && e.kind != Expr::Kind::Call)
    return fg.error(e.loc) << "expected an initializer (zeros, ones, "
                              "normal, uniform, glorot, xavier or he)";
  if (!llvm::is_contained(kInits, e.text))
    return fg.error(e.loc) << "unknown initializer '" << e.text
                           << "' (expected zeros, ones, normal, uniform, "
                              "glorot, xavier or he)";
  p.init = e.text;
  if (e.kind == Expr::Kind::Call && !e.args.empty())
    return fg.error(e.loc) << "initializer arguments are named, e.g. "
                              "normal(scale: 0.1, seed: 1)";
  for (const KeywordArg &kw : e.kwargs) {
    const Expr &value = *kw.value;
    bool negative = value.kind == Expr::Kind::Unary &&
                    value.args[0]->kind == Expr::Kind::Number;
    if (value.kind != Expr::Kind::Number && !negative)
      return fg.error(value.loc) << "expected a number";
    double v = negative ? -value.args[0]->number : value.number;
    if (kw.name == "scale") {
      if (v <= 0)
        return fg.error(kw.value->loc) << "scale must be positive";
      p.scale = v;
    } else if (kw.name == "seed") {
      if (v < 0 || v != (double)(uint64_t)v)
        return fg.error(kw.value->loc)
               << "seed must be a non-negative integer";
      p.seed = (uint64_t)v;
    } else {
      return fg.error(kw.loc) << "initializer '" << e.text
                              << "' has no argument '" << kw.name
                              << "' (expected scale or seed)";
    }
  }
  return success();
}

} // namespace

namespace dlc {
OwningOpRef<ModuleOp> generateModule(const Program &program, const Model &model,
                                     MLIRContext *ctx, ModelInfo &info,
                                     bool promoteToF64) {
  ctx->getOrLoadDialect<DLCDialect>();
  ctx->getOrLoadDialect<func::FuncDialect>();
  OpBuilder b(ctx);
  auto locOf = [&](SourceLoc l) { return toLocation(ctx, program, l); };
  info = ModelInfo();
  info.name = model.name;

  // Declarations: one element type per model, unique names.
  const Stmt *output = nullptr;
  std::vector<const Stmt *> minimizes;
  std::map<std::string, const Stmt *> declared;
  Type elementType;
  std::vector<const Stmt *> params, inputs;
  for (const Stmt &s : model.stmts) {
    if (s.kind == Stmt::Kind::Minimize) {
      minimizes.push_back(&s);
      continue;
    }
    if (s.kind == Stmt::Kind::Output) {
      if (output) {
        emitError(locOf(s.loc)) << "a model has one 'output' statement";
        return nullptr;
      }
      output = &s;
      continue;
    }
    if (s.name == "batch" || s.name == "true" || s.name == "false") {
      emitError(locOf(s.loc)) << "'" << s.name << "' is a reserved name";
      return nullptr;
    }
    auto [it, inserted] = declared.emplace(s.name, &s);
    if (!inserted) {
      emitError(locOf(s.loc)) << "redefinition of '" << s.name << "'";
      emitRemark(locOf(it->second->loc)) << "previous definition is here";
      return nullptr;
    }
    if (s.kind == Stmt::Kind::Input || s.kind == Stmt::Kind::Param) {
      Type t = s.type.elementType == "f64" ? Type(b.getF64Type())
                                           : Type(b.getF32Type());
      if (elementType && t != elementType) {
        emitError(locOf(s.type.loc))
            << "all inputs and parameters of a model have one element type; '"
            << s.name << "' is " << s.type.elementType;
        return nullptr;
      }
      elementType = t;
      if (s.kind == Stmt::Kind::Param) {
        for (const Dim &d : s.type.dims)
          if (d.symbolic) {
            emitError(locOf(s.type.loc))
                << "a parameter cannot have the symbolic batch dimension";
            return nullptr;
          }
        params.push_back(&s);
      } else {
        inputs.push_back(&s);
      }
    }
  }
  if (minimizes.empty()) {
    emitError(locOf(model.loc))
        << "model '" << model.name << "' has no 'minimize' statement";
    return nullptr;
  }
  if (params.empty()) {
    emitError(locOf(model.loc))
        << "model '" << model.name << "' has no parameters";
    return nullptr;
  }
  if (inputs.empty()) {
    emitError(locOf(model.loc))
        << "model '" << model.name << "' has no inputs";
    return nullptr;
  }
  if (promoteToF64)
    elementType = b.getF64Type();
  info.isF64 = elementType.isF64();

  OwningOpRef<ModuleOp> module = ModuleOp::create(locOf(model.loc));
  b.setInsertionPointToEnd(module->getBody());

  auto makeFunction = [&](StringRef name, bool isLoss) -> func::FuncOp {
    SmallVector<Type> argTypes;
    for (const Stmt *p : params)
      argTypes.push_back(toTensorType(p->type, elementType));
    size_t numInputs = isLoss ? inputs.size() : 1;
    for (size_t i = 0; i < numInputs; ++i)
      argTypes.push_back(toTensorType(inputs[i]->type, elementType));
    auto func = func::FuncOp::create(b, locOf(model.loc), name,
                                     b.getFunctionType(argTypes, {}));
    for (size_t i = 0; i < argTypes.size(); ++i) {
      const Stmt *s = i < params.size() ? params[i] : inputs[i - params.size()];
      func.setArgAttr(i, i < params.size() ? "dlc.param" : "dlc.input",
                      b.getUnitAttr());
      func.setArgAttr(i, "dlc.name", b.getStringAttr(s->name));
    }
    func.addEntryBlock();
    return func;
  };

  auto generate = [&](func::FuncOp func, ArrayRef<const Stmt *> results,
                      bool isLoss, ArrayRef<std::string> resultNames)
      -> LogicalResult {
    Block &entry = func.getBody().front();
    OpBuilder fb = OpBuilder::atBlockBegin(&entry);
    FunctionGen fg(program, model, fb, elementType);
    fg.training = isLoss;
    fg.makeCounter = [&, func, isLoss]() mutable -> Value {
      auto type = RankedTensorType::get({}, elementType);
      unsigned index = func.getNumArguments();
      (void)func.insertArgument(index, type,
                          fb.getDictionaryAttr({fb.getNamedAttr(
                              "dlc.rng_counter", fb.getUnitAttr())}),
                          func.getLoc());
      (isLoss ? info.usesDropout : info.predictUsesCounter) = true;
      return func.getArgument(index);
    };
    for (size_t i = 0; i < params.size(); ++i)
      fg.bind(params[i]->name, entry.getArgument(i), "");
    for (size_t i = 0; i < inputs.size(); ++i) {
      bool given = isLoss || i == 0;
      fg.bind(inputs[i]->name,
              given ? Value(entry.getArgument(params.size() + i)) : Value(),
              inputs[i]->name);
    }
    if (failed(fg.genLets()))
      return failure();
    SmallVector<Value> values;
    for (const Stmt *result : results) {
      fg.missingInput.clear();
      FailureOr<Value> v = fg.gen(*result->value);
      if (failed(v))
        return failure();
      if (!*v)
        return fg.error(result->loc)
               << "the output depends on input '" << fg.missingInput
               << "', which is not given at prediction (only the first "
                  "input, '"
               << inputs[0]->name << "', is)";
      values.push_back(*v);
    }
    func::ReturnOp::create(fb, fg.loc(results.front()->loc), values);
    func.setFunctionType(fb.getFunctionType(func.getArgumentTypes(),
                                            ValueRange(values).getTypes()));
    for (auto [i, name] : llvm::enumerate(resultNames))
      func.setResultAttr(i, "dlc.name", fb.getStringAttr(name));
    return success();
  };

  // Objectives and their parameter groups.
  std::map<std::string, size_t> paramIndex;
  for (size_t i = 0; i < params.size(); ++i)
    paramIndex[params[i]->name] = i;
  std::vector<int> owner(params.size(), -1);
  for (auto [k, m] : llvm::enumerate(minimizes)) {
    std::vector<size_t> group;
    if (m->over.empty()) {
      if (minimizes.size() > 1) {
        emitError(locOf(m->loc))
            << "with several objectives, each names the parameters it "
               "updates: minimize loss over [a, b]";
        return nullptr;
      }
      for (size_t i = 0; i < params.size(); ++i)
        group.push_back(i);
    }
    for (auto &[name, nameLoc] : m->over) {
      auto it = paramIndex.find(name);
      if (it == paramIndex.end()) {
        emitError(locOf(nameLoc)) << "'" << name << "' is not a parameter";
        return nullptr;
      }
      if (owner[it->second] >= 0) {
        emitError(locOf(nameLoc))
            << "parameter '" << name << "' is in two objectives' groups";
        return nullptr;
      }
      owner[it->second] = k;
      group.push_back(it->second);
    }
    llvm::sort(group);
    info.objectives.push_back(group);
  }
  if (minimizes.size() > 1)
    for (size_t i = 0; i < params.size(); ++i)
      if (owner[i] < 0) {
        emitError(locOf(params[i]->loc))
            << "parameter '" << params[i]->name
            << "' is in no objective's group (add it to an 'over' list)";
        return nullptr;
      }

  func::FuncOp loss = makeFunction(model.name + "_loss", true);
  loss->setAttr("dlc.loss", b.getUnitAttr());
  std::vector<std::string> lossNames;
  for (size_t k = 0; k < minimizes.size(); ++k)
    lossNames.push_back(k == 0 ? "loss" : "loss" + std::to_string(k));
  if (failed(generate(loss, minimizes, true, lossNames)))
    return nullptr;
  for (auto [k, type] : llvm::enumerate(loss.getResultTypes()))
    if (cast<RankedTensorType>(type).getRank() != 0) {
      emitError(locOf(minimizes[k]->loc))
          << "the loss must be a scalar, got " << type
          << " (reduce it with mean or sum)";
      return nullptr;
    }
  SmallVector<Attribute> objectives;
  for (const std::vector<size_t> &group : info.objectives) {
    SmallVector<int64_t> indices(group.begin(), group.end());
    objectives.push_back(b.getDictionaryAttr(
        {b.getNamedAttr("params", b.getDenseI64ArrayAttr(indices))}));
  }
  loss->setAttr("dlc.objectives", b.getArrayAttr(objectives));
  if (output) {
    func::FuncOp predict = makeFunction(model.name + "_predict", false);
    predict->setAttr("dlc.predict", b.getUnitAttr());
    std::string outName = !output->name.empty() ? output->name
                          : output->value->kind == Expr::Kind::Name
                              ? output->value->text
                              : std::string("output");
    if (failed(generate(predict, {output}, false, {outName})))
      return nullptr;
    auto outType = cast<RankedTensorType>(predict.getResultTypes()[0]);
    if (outType.getRank() == 0 || !outType.isDynamicDim(0)) {
      emitError(locOf(output->loc))
          << "the output must have the batch dimension first, got "
          << outType;
      return nullptr;
    }
    info.output = TensorInfo{outName, toShape(outType)};
  }

  // What the runtime needs: shapes and initializers.
  for (const Stmt *s : params) {
    ParamInfo p;
    p.name = s->name;
    p.shape = toShape(toTensorType(s->type, elementType));
    if (s->value) {
      OpBuilder tmp(ctx);
      FunctionGen fg(program, model, tmp, elementType);
      if (failed(readInitializer(fg, *s->value, p)))
        return nullptr;
    }
    info.params.push_back(p);
  }
  for (const Stmt *s : inputs)
    info.inputs.push_back(
        {s->name, toShape(toTensorType(s->type, elementType))});
  if (failed(mlir::verify(*module)))
    return nullptr;
  return module;
}
} // namespace dlc
