// MLIRGen: model statements become dlc ops in a loss and a predict function.
#include "dlc/Frontend/MLIRGen.h"
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

const char *const kKnownOps =
    "exp, log, sqrt, abs, erf, relu, leaky_relu, elu, gelu, sigmoid, tanh, "
    "neg, clip, stop_gradient, sum, mean, max, min, matmul, pow, reshape, "
    "flatten, concat, slice, transpose, softmax, log_softmax, one_hot, argmax, lt, le, gt, "
    "ge, eq, ne, where, conv2d, max_pool2d, avg_pool2d, dropout, randn, scan, "
    "zeros, ones, mse, "
    "bce_with_logits, cross_entropy";

/// Generates one function from the model's statements. Inputs that the
/// function does not take make every value that depends on them
/// "unavailable"; using such a value where it is needed is an error.
class FunctionGen {
public:
  FunctionGen(const Program &program, const Model &model, OpBuilder &builder,
              Type elementType)
      : program(program), model(model), b(builder), elementType(elementType) {}

  /// Binds a declared name to a block argument (or to "unavailable").
  void bind(const std::string &name, Value v, const std::string &missing) {
    values[name] = v;
    if (!v)
      unavailable[name] = missing;
  }
  /// Evaluates `e`; a null value means unavailable (see `missingInput`).
  FailureOr<Value> gen(const Expr &e);
  /// Evaluates every `name = expr` statement in order.
  LogicalResult genLets();
  /// The location of source position `l`; inside an inlined function, a
  /// call-site location (the callee's position, called from the caller's).
  Location loc(SourceLoc l) {
    Location here = toLocation(b.getContext(), program, l);
    for (auto it = callSites.rbegin(); it != callSites.rend(); ++it)
      here = CallSiteLoc::get(here, *it);
    return here;
  }
  InFlightDiagnostic error(SourceLoc l) { return emitError(loc(l)); }
  std::string missingInput;

private:
  template <typename OpTy>
  FailureOr<Value> create(SourceLoc l, ValueRange operands,
                          typename OpTy::Properties props = {});
  FailureOr<Value> genCall(const Expr &e);
  FailureOr<std::vector<int64_t>> intList(const Expr &e, bool allowBatch);
  FailureOr<std::vector<int64_t>> axesOf(const Expr &call);

  const Program &program;
  const Model &model;
  OpBuilder &b;
  Type elementType;
  FailureOr<Value> genUserCall(const Expr &e, const FunctionDef &fn);
  FailureOr<Value> genScan(const Expr &e);
  /// The values of `e` as a list: the elements of a list expression, or
  /// one value.
  FailureOr<SmallVector<Value>> genList(const Expr &e);

  std::map<std::string, Value> values;
  std::map<std::string, std::string> unavailable;
  SmallVector<Location> callSites; // of the inlined calls being generated
public:
  /// Dropout: in the loss, `makeCounter` adds the counter argument on first
  /// use; elsewhere (prediction) dropout is the identity.
  std::function<Value()> makeCounter;
  Value counter;
  int64_t dropoutSites = 0;
  bool training = false; // dropout is active only in the loss
private:
  SmallVector<StringRef> callStack; // function names, to reject recursion
};

FailureOr<SmallVector<Value>> FunctionGen::genList(const Expr &e) {
  SmallVector<Value> values;
  if (e.kind == Expr::Kind::List) {
    for (const ExprPtr &x : e.args) {
      FailureOr<Value> v = gen(*x);
      if (failed(v))
        return failure();
      values.push_back(*v);
    }
  } else {
    FailureOr<Value> v = gen(e);
    if (failed(v))
      return failure();
    values.push_back(*v);
  }
  return values;
}

/// scan(cell, init: [c...], over: [x...], with: [p...], axis: 1): runs the
/// function `cell(c..., x_t..., p...)`, which returns the next carries
/// (one value, or a list), over the steps of the sequences; the value is
/// the final first carry.
FailureOr<Value> FunctionGen::genScan(const Expr &e) {
  for (const KeywordArg &kw : e.kwargs)
    if (kw.name != "init" && kw.name != "over" && kw.name != "with" &&
        kw.name != "axis")
      return static_cast<LogicalResult>(
          error(kw.loc) << "'scan' has no argument '" << kw.name
                        << "' (expected init, over, with, axis)");
  if (e.args.size() != 1 || e.args[0]->kind != Expr::Kind::Name)
    return static_cast<LogicalResult>(
        error(e.loc) << "scan takes the name of the step function, e.g. "
                        "scan(cell, init: h0, over: x, with: [w, u])");
  const FunctionDef *fn = nullptr;
  for (const FunctionDef &f : program.functions)
    if (f.name == e.args[0]->text)
      fn = &f;
  if (!fn)
    return static_cast<LogicalResult>(
        error(e.args[0]->loc) << "no function named '" << e.args[0]->text
                              << "' (define it with def)");
  const KeywordArg *init = e.findKeyword("init");
  const KeywordArg *over = e.findKeyword("over");
  if (!init || !over)
    return static_cast<LogicalResult>(
        error(e.loc) << "scan needs init: (the initial carries) and over: "
                        "(the sequences)");
  int64_t axis = 1;
  if (const KeywordArg *kw = e.findKeyword("axis")) {
    if (kw->value->kind != Expr::Kind::Number)
      return static_cast<LogicalResult>(error(kw->value->loc)
                                        << "expected an integer");
    axis = static_cast<int64_t>(kw->value->number);
  }
  FailureOr<SmallVector<Value>> inits = genList(*init->value);
  if (failed(inits))
    return failure();
  FailureOr<SmallVector<Value>> seqs = genList(*over->value);
  if (failed(seqs))
    return failure();
  SmallVector<Value> invariants;
  if (const KeywordArg *kw = e.findKeyword("with")) {
    FailureOr<SmallVector<Value>> w = genList(*kw->value);
    if (failed(w))
      return failure();
    invariants = *w;
  }
  for (Value v : llvm::concat<Value>(*inits, *seqs, invariants))
    if (!v)
      return Value(); // unavailable in this function
  size_t numArgs = inits->size() + seqs->size() + invariants.size();
  if (fn->params.size() != numArgs)
    return static_cast<LogicalResult>(
        error(e.loc) << "'" << fn->name << "' takes " << fn->params.size()
                     << " arguments, but the scan passes " << numArgs
                     << " (carries, steps, invariants)");
  SmallVector<Type> argTypes;
  for (Value v : *inits)
    argTypes.push_back(v.getType());
  for (Value v : *seqs) {
    auto type = cast<RankedTensorType>(v.getType());
    if (axis < 0 || axis >= type.getRank() || type.isDynamicDim(axis))
      return static_cast<LogicalResult>(
          error(over->value->loc)
          << "scan over axis " << axis << " of " << type
          << ": the axis must exist and have a static length");
    SmallVector<int64_t> shape(type.getShape());
    shape.erase(shape.begin() + axis);
    argTypes.push_back(RankedTensorType::get(shape, type.getElementType()));
  }
  for (Value v : invariants)
    argTypes.push_back(v.getType());

  Location l = loc(e.loc);
  SmallVector<Type> finalTypes(ValueRange(*inits).getTypes());
  auto scan = ScanOp::create(b, l, finalTypes, TypeRange{}, *inits, *seqs,
                             invariants, b.getI64IntegerAttr(axis),
                             UnitAttr());
  OpBuilder::InsertionGuard guard(b);
  Block *body = b.createBlock(&scan.getBody(), {}, argTypes,
                              SmallVector<Location>(argTypes.size(), l));
  // The body is the function, inlined with the block's arguments.
  std::map<std::string, Value> scope;
  std::map<std::string, std::string> noMissing;
  for (auto [name, arg] : llvm::zip(fn->params, body->getArguments()))
    scope[name] = arg;
  std::swap(values, scope);
  std::swap(unavailable, noMissing);
  callSites.push_back(l);
  callStack.push_back(fn->name);
  llvm::scope_exit restore([&] {
    std::swap(values, scope);
    std::swap(unavailable, noMissing);
    callSites.pop_back();
    callStack.pop_back();
  });
  for (const Stmt &st : fn->stmts) {
    FailureOr<Value> v = gen(*st.value);
    if (failed(v))
      return failure();
    values[st.name] = *v;
  }
  FailureOr<SmallVector<Value>> next = genList(*fn->result);
  if (failed(next))
    return failure();
  if (next->size() != inits->size())
    return static_cast<LogicalResult>(
        error(fn->result->loc) << "'" << fn->name << "' returns "
                               << next->size() << " values for "
                               << inits->size() << " carries");
  for (auto [i, pair] : llvm::enumerate(llvm::zip(*next, *inits)))
    if (std::get<0>(pair).getType() != std::get<1>(pair).getType())
      return static_cast<LogicalResult>(
          error(fn->result->loc)
          << "carry " << i << " changes type from "
          << std::get<1>(pair).getType() << " to "
          << std::get<0>(pair).getType());
  YieldOp::create(b, l, *next);
  return scan.getFinals()[0];
}

FailureOr<Value> FunctionGen::genUserCall(const Expr &e,
                                          const FunctionDef &fn) {
  if (llvm::is_contained(callStack, fn.name))
    return static_cast<LogicalResult>(
        error(e.loc) << "function '" << fn.name
                     << "' calls itself (recursion is not supported)");
  if (!e.kwargs.empty())
    return static_cast<LogicalResult>(
        error(e.kwargs.front().loc)
        << "function '" << fn.name << "' takes positional arguments only");
  if (e.args.size() != fn.params.size())
    return static_cast<LogicalResult>(
        error(e.loc) << "function '" << fn.name << "' takes "
                     << fn.params.size() << " arguments, got "
                     << e.args.size());
  // Arguments are evaluated in the caller's scope.
  std::map<std::string, Value> scope;
  std::map<std::string, std::string> scopeMissing;
  std::string missing;
  for (auto [param, arg] : llvm::zip(fn.params, e.args)) {
    FailureOr<Value> v = gen(*arg);
    if (failed(v))
      return failure();
    scope[param] = *v;
    if (!*v) {
      scopeMissing[param] = missingInput;
      missing = missingInput;
    }
  }
  // The body sees its parameters only.
  std::swap(values, scope);
  std::swap(unavailable, scopeMissing);
  callSites.push_back(loc(e.loc));
  callStack.push_back(fn.name);
  llvm::scope_exit restore([&] {
    std::swap(values, scope);
    std::swap(unavailable, scopeMissing);
    callSites.pop_back();
    callStack.pop_back();
  });
  for (const Stmt &s : fn.stmts) {
    if (values.count(s.name))
      return static_cast<LogicalResult>(
          error(s.loc) << "redefinition of '" << s.name << "'");
    FailureOr<Value> v = gen(*s.value);
    if (failed(v))
      return failure();
    values[s.name] = *v;
    if (!*v)
      unavailable[s.name] = missingInput;
  }
  return gen(*fn.result);
}

template <typename OpTy>
FailureOr<Value> FunctionGen::create(SourceLoc l, ValueRange operands,
                                     typename OpTy::Properties props) {
  for (Value v : operands)
    if (!v)
      return Value(); // unavailable in this function
  SmallVector<Type> types;
  if constexpr (std::is_base_of_v<OpTrait::InferTypeOpAdaptor<OpTy>, OpTy>) {
    typename OpTy::Adaptor adaptor(operands, nullptr, props);
    if (failed(OpTy::inferReturnTypes(b.getContext(), loc(l), adaptor, types)))
      return failure();
  } else {
    types.push_back(operands[0].getType()); // same operand and result type
  }
  OperationState state(loc(l), OpTy::getOperationName());
  state.addOperands(operands);
  state.addTypes(types);
  state.useProperties(props);
  return b.create(state)->getResult(0);
}

LogicalResult FunctionGen::genLets() {
  for (const Stmt &s : model.stmts) {
    if (s.kind != Stmt::Kind::Let)
      continue;
    FailureOr<Value> v = gen(*s.value);
    if (failed(v))
      return failure();
    bind(s.name, *v, missingInput);
  }
  return success();
}

FailureOr<std::vector<int64_t>> FunctionGen::intList(const Expr &e,
                                                     bool allowBatch) {
  std::vector<int64_t> out;
  auto one = [&](const Expr &x) -> LogicalResult {
    if (allowBatch && x.kind == Expr::Kind::Name && x.text == "batch") {
      out.push_back(ShapedType::kDynamic);
      return success();
    }
    bool negative = x.kind == Expr::Kind::Unary &&
                    x.args[0]->kind == Expr::Kind::Number;
    const Expr &num = negative ? *x.args[0] : x;
    if (num.kind != Expr::Kind::Number || num.number != (int64_t)num.number)
      return error(x.loc) << "expected an integer";
    out.push_back(negative ? -(int64_t)num.number : (int64_t)num.number);
    return success();
  };
  if (e.kind == Expr::Kind::List) {
    for (const ExprPtr &x : e.args)
      if (failed(one(*x)))
        return failure();
  } else if (failed(one(e))) {
    return failure();
  }
  return out;
}

FailureOr<std::vector<int64_t>> FunctionGen::axesOf(const Expr &call) {
  const KeywordArg *axis = call.findKeyword("axis");
  const KeywordArg *axes = call.findKeyword("axes");
  if (axis && axes)
    return static_cast<LogicalResult>(
        error(axes->loc) << "give either 'axis' or 'axes', not both");
  if (const KeywordArg *kw = axis ? axis : axes)
    return intList(*kw->value, false);
  return std::vector<int64_t>{};
}

FailureOr<Value> FunctionGen::gen(const Expr &e) {
  switch (e.kind) {
  case Expr::Kind::Number:
    return createScalarConstant(b, loc(e.loc), elementType, e.number);
  case Expr::Kind::Name: {
    auto it = values.find(e.text);
    if (it == values.end())
      return static_cast<LogicalResult>(
          error(e.loc) << "unknown name '" << e.text << "'");
    if (!it->second)
      missingInput = unavailable[e.text];
    return it->second;
  }
  case Expr::Kind::String:
    return static_cast<LogicalResult>(
        error(e.loc) << "a string is not a tensor");
  case Expr::Kind::List:
    return static_cast<LogicalResult>(
        error(e.loc) << "a list is not a tensor here");
  case Expr::Kind::Unary: {
    FailureOr<Value> x = gen(*e.args[0]);
    if (failed(x))
      return failure();
    return create<NegOp>(e.loc, {*x});
  }
  case Expr::Kind::Binary: {
    FailureOr<Value> lhs = gen(*e.args[0]);
    if (failed(lhs))
      return failure();
    FailureOr<Value> rhs = gen(*e.args[1]);
    if (failed(rhs))
      return failure();
    switch (e.text[0]) {
    case '+':
      return create<AddOp>(e.loc, {*lhs, *rhs});
    case '-':
      return create<SubOp>(e.loc, {*lhs, *rhs});
    case '*':
      return create<MulOp>(e.loc, {*lhs, *rhs});
    case '/':
      return create<DivOp>(e.loc, {*lhs, *rhs});
    case '^':
      return create<PowOp>(e.loc, {*lhs, *rhs});
    case '@':
      return create<MatmulOp>(e.loc, {*lhs, *rhs});
    }
    llvm_unreachable("the parser only builds known operators");
  }
  case Expr::Kind::Call:
    return genCall(e);
  }
  llvm_unreachable("unknown expression kind");
}

FailureOr<Value> FunctionGen::genCall(const Expr &e) {
  StringRef op = e.text;
  auto arity = [&](size_t n) -> LogicalResult {
    if (e.args.size() != n)
      return error(e.loc) << "'" << op << "' takes " << n
                          << " positional argument" << (n == 1 ? "" : "s")
                          << ", got " << e.args.size();
    return success();
  };
  auto onlyKeywords = [&](ArrayRef<StringRef> allowed) -> LogicalResult {
    for (const KeywordArg &kw : e.kwargs)
      if (!llvm::is_contained(allowed, kw.name))
        return error(kw.loc) << "'" << op << "' has no argument '" << kw.name
                             << "'";
    return success();
  };
  SmallVector<Value> args;
  auto genArgs = [&](size_t n) -> LogicalResult {
    if (failed(arity(n)))
      return failure();
    for (size_t i = 0; i < n; ++i) {
      FailureOr<Value> v = gen(*e.args[i]);
      if (failed(v))
        return failure();
      args.push_back(*v);
    }
    return success();
  };

  // `op(tensor, [shape])`: the tensor (null when unavailable) and the shape,
  // where `batch` marks the symbolic dimension.
  auto tensorAndShape =
      [&](StringRef example)
      -> FailureOr<std::pair<Value, std::vector<int64_t>>> {
    if (failed(onlyKeywords({})) || e.args.size() != 2)
      return static_cast<LogicalResult>(
          error(e.loc) << "'" << op << "' takes a tensor and a shape, e.g. "
                       << example);
    FailureOr<Value> value = gen(*e.args[0]);
    if (failed(value))
      return failure();
    FailureOr<std::vector<int64_t>> shape = intList(*e.args[1], true);
    if (failed(shape))
      return failure();
    return std::make_pair(*value, *shape);
  };

  for (const FunctionDef &fn : program.functions)
    if (fn.name == op)
      return genUserCall(e, fn);
  if (op == "scan")
    return genScan(e);
  if (op == "zeros" || op == "ones") {
    // zeros(ref, [batch, 16]): a constant whose batch size is ref's.
    auto parsed = tensorAndShape("zeros(x, [batch, 16])");
    if (failed(parsed))
      return failure();
    Value ref = parsed->first;
    std::vector<int64_t> *shape = &parsed->second;
    if (!ref)
      return Value();
    auto type = RankedTensorType::get(*shape, elementType);
    OperationState state(loc(e.loc), FillOp::getOperationName());
    state.addOperands(ref);
    state.addTypes(type);
    state.addAttribute("value", b.getF64FloatAttr(op == "zeros" ? 0.0 : 1.0));
    Operation *fill = b.create(state);
    if (failed(mlir::verify(fill))) {
      fill->erase();
      return failure();
    }
    return fill->getResult(0);
  }

  using UnaryBuilder = FailureOr<Value> (FunctionGen::*)(
      SourceLoc, ValueRange, typename NegOp::Properties);
  static const llvm::StringMap<UnaryBuilder> unary = {
      {"exp", &FunctionGen::create<ExpOp>},
      {"log", &FunctionGen::create<LogOp>},
      {"sqrt", &FunctionGen::create<SqrtOp>},
      {"abs", &FunctionGen::create<AbsOp>},
      {"relu", &FunctionGen::create<ReluOp>},
      {"sigmoid", &FunctionGen::create<SigmoidOp>},
      {"tanh", &FunctionGen::create<TanhOp>},
      {"neg", &FunctionGen::create<NegOp>},
      {"erf", &FunctionGen::create<ErfOp>},
      {"stop_gradient", &FunctionGen::create<StopGradientOp>},
  };
  if (auto it = unary.find(op); it != unary.end()) {
    if (failed(onlyKeywords({})) || failed(genArgs(1)))
      return failure();
    for (Value v : args)
      if (!v)
        return Value();
    return (this->*(it->second))(e.loc, args, {});
  }
  // A number given as a keyword argument, or its default.
  auto keywordNumber = [&](StringRef name, double fallback,
                           double &out) -> LogicalResult {
    out = fallback;
    const KeywordArg *kw = e.findKeyword(name);
    if (!kw)
      return success();
    const Expr &v = *kw->value;
    bool negative =
        v.kind == Expr::Kind::Unary && v.args[0]->kind == Expr::Kind::Number;
    if (v.kind != Expr::Kind::Number && !negative)
      return error(v.loc) << "expected a number";
    out = negative ? -v.args[0]->number : v.number;
    return success();
  };
  auto keywordInt = [&](StringRef name, int64_t fallback,
                        int64_t &out) -> LogicalResult {
    double v;
    if (failed(keywordNumber(name, fallback, v)))
      return failure();
    if (v != static_cast<double>(static_cast<int64_t>(v)))
      return error(e.findKeyword(name)->value->loc) << "expected an integer";
    out = static_cast<int64_t>(v);
    return success();
  };
  auto rankOf = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getRank();
  };
  auto axisInRange = [&](int64_t axis, Value v) -> LogicalResult {
    int64_t rank = rankOf(v);
    if (axis < -rank || axis >= rank)
      return error(e.loc) << "axis " << axis << " is out of range for "
                          << v.getType();
    return success();
  };

  // A pair of spatial sizes: `k` or `[kh, kw]`.
  auto keywordPair = [&](StringRef name, int64_t fallback,
                         SmallVector<int64_t> &out, int64_t min) -> LogicalResult {
    out.assign(2, fallback);
    const KeywordArg *kw = e.findKeyword(name);
    if (!kw)
      return success();
    FailureOr<std::vector<int64_t>> v = intList(*kw->value, false);
    if (failed(v))
      return failure();
    if (v->size() == 1)
      out.assign(2, (*v)[0]);
    else if (v->size() == 2)
      out.assign(v->begin(), v->end());
    else
      return error(kw->value->loc) << name << " takes one or two sizes";
    if (out[0] < min || out[1] < min)
      return error(kw->value->loc) << name << " must be at least " << min;
    return success();
  };
  if (op == "conv2d") {
    SmallVector<int64_t> stride, padding, dilation;
    if (failed(onlyKeywords({"stride", "padding", "dilation"})) ||
        failed(keywordPair("stride", 1, stride, 1)) ||
        failed(keywordPair("padding", 0, padding, 0)) ||
        failed(keywordPair("dilation", 1, dilation, 1)) || failed(genArgs(2)))
      return failure();
    Conv2DOp::Properties props;
    props.setStride(b.getDenseI64ArrayAttr(stride));
    props.setPadding(b.getDenseI64ArrayAttr(padding));
    props.setDilation(b.getDenseI64ArrayAttr(dilation));
    return create<Conv2DOp>(e.loc, args, props);
  }
  if (op == "max_pool2d" || op == "avg_pool2d") {
    SmallVector<int64_t> kernel, stride, padding;
    if (failed(onlyKeywords({"kernel", "stride", "padding"})) ||
        failed(keywordPair("kernel", 2, kernel, 1)) ||
        failed(keywordPair("stride", 0, stride, 0)) ||
        failed(keywordPair("padding", 0, padding, 0)) || failed(genArgs(1)))
      return failure();
    if (!e.findKeyword("stride"))
      stride = kernel; // PyTorch's default
    Pool2DOp::Properties props;
    props.setKind(PoolKindAttr::get(
        b.getContext(), op == "max_pool2d" ? PoolKind::max : PoolKind::avg));
    props.setKernel(b.getDenseI64ArrayAttr(kernel));
    props.setStride(b.getDenseI64ArrayAttr(stride));
    props.setPadding(b.getDenseI64ArrayAttr(padding));
    return create<Pool2DOp>(e.loc, args, props);
  }
  if (op == "dropout") {
    double rate;
    if (failed(onlyKeywords({"rate"})) ||
        failed(keywordNumber("rate", 0.5, rate)) || failed(genArgs(1)))
      return failure();
    if (!(rate >= 0 && rate < 1))
      return static_cast<LogicalResult>(
          error(e.loc) << "dropout rate must be in [0, 1)");
    if (!args[0] || !training)
      return args[0]; // off at prediction
    if (!counter)
      counter = makeCounter();
    return DropoutOp::create(b, loc(e.loc), args[0], counter,
                             b.getF64FloatAttr(rate),
                             b.getI64IntegerAttr(++dropoutSites))
        .getResult();
  }
  if (op == "concat") {
    int64_t axis;
    if (failed(onlyKeywords({"axis"})) || failed(keywordInt("axis", -1, axis)))
      return failure();
    if (e.args.size() != 1 || e.args[0]->kind != Expr::Kind::List)
      return static_cast<LogicalResult>(
          error(e.loc) << "'concat' takes a list, e.g. concat([a, b], axis: 1)");
    FailureOr<SmallVector<Value>> parts = genList(*e.args[0]);
    if (failed(parts))
      return failure();
    for (Value v : *parts)
      if (!v)
        return Value();
    if (parts->empty())
      return static_cast<LogicalResult>(error(e.loc)
                                        << "concat needs at least one tensor");
    if (axis < 0)
      axis += rankOf((*parts)[0]);
    ConcatOp::Properties props;
    props.setAxis(b.getI64IntegerAttr(axis));
    return create<ConcatOp>(e.loc, *parts, props);
  }
  if (op == "slice") {
    int64_t axis, start, end;
    if (failed(onlyKeywords({"axis", "start", "end"})) ||
        failed(keywordInt("axis", -1, axis)) ||
        failed(keywordInt("start", 0, start)) ||
        failed(keywordInt("end", -1, end)) || failed(genArgs(1)))
      return failure();
    if (!args[0])
      return Value();
    if (axis < 0)
      axis += rankOf(args[0]);
    if (!e.findKeyword("end") && axis >= 0 && axis < rankOf(args[0]))
      end = cast<RankedTensorType>(args[0].getType()).getDimSize(axis);
    SliceOp::Properties props;
    props.setAxis(b.getI64IntegerAttr(axis));
    props.setStart(b.getI64IntegerAttr(start));
    props.setEnd(b.getI64IntegerAttr(end));
    return create<SliceOp>(e.loc, args, props);
  }
  if (op == "randn") {
    // randn(ref, [batch, 8]): N(0, 1) noise, fresh at every step (and, at
    // prediction, from the --seed given).
    auto parsed = tensorAndShape("randn(x, [batch, 8])");
    if (failed(parsed))
      return failure();
    Value ref = parsed->first;
    std::vector<int64_t> *shape = &parsed->second;
    if (!ref)
      return Value();
    for (size_t i = 1; i < shape->size(); ++i)
      if (ShapedType::isDynamic((*shape)[i]))
        return static_cast<LogicalResult>(
            error(e.args[1]->loc) << "only the first dimension may be batch");
    if (!counter)
      counter = makeCounter();
    auto type = RankedTensorType::get(*shape, elementType);
    return RandomNormalOp::create(b, loc(e.loc), type, ref, counter,
                                  b.getI64IntegerAttr(1000 + ++dropoutSites))
        .getResult();
  }
  if (op == "leaky_relu" || op == "elu") {
    double alpha;
    if (failed(onlyKeywords({"alpha"})) ||
        failed(keywordNumber("alpha", op == "elu" ? 1.0 : 0.01, alpha)) ||
        failed(genArgs(1)))
      return failure();
    if (!args[0])
      return Value();
    if (op == "elu") {
      EluOp::Properties props;
      props.setAlpha(b.getF64FloatAttr(alpha));
      return create<EluOp>(e.loc, args, props);
    }
    LeakyReluOp::Properties props;
    props.setAlpha(b.getF64FloatAttr(alpha));
    return create<LeakyReluOp>(e.loc, args, props);
  }
  if (op == "gelu") {
    // gelu(x) = x/2 (1 + erf(x / sqrt 2)), exact (as PyTorch's default).
    if (failed(onlyKeywords({})) || failed(genArgs(1)))
      return failure();
    if (!args[0])
      return Value();
    Location l = loc(e.loc);
    Value x = args[0];
    Value scaled = MulOp::create(
        b, l, x, createScalarConstant(b, l, elementType, M_SQRT1_2));
    Value onePlus = AddOp::create(b, l,
                                  createScalarConstant(b, l, elementType, 1.0),
                                  ErfOp::create(b, l, scaled));
    Value half = MulOp::create(b, l, x,
                               createScalarConstant(b, l, elementType, 0.5));
    return MulOp::create(b, l, half, onePlus).getResult();
  }
  if (op == "clip") {
    double lo, hi;
    if (failed(onlyKeywords({"min", "max"})) ||
        failed(keywordNumber("min", -INFINITY, lo)) ||
        failed(keywordNumber("max", INFINITY, hi)) || failed(genArgs(1)))
      return failure();
    if (lo > hi)
      return static_cast<LogicalResult>(error(e.loc)
                                        << "clip: min exceeds max");
    if (!args[0])
      return Value();
    ClipOp::Properties props;
    props.setMin(b.getF64FloatAttr(lo));
    props.setMax(b.getF64FloatAttr(hi));
    return create<ClipOp>(e.loc, args, props);
  }
  if (op == "softmax" || op == "log_softmax" || op == "argmax") {
    int64_t axis;
    if (failed(onlyKeywords({"axis"})) || failed(keywordInt("axis", -1, axis)) ||
        failed(genArgs(1)))
      return failure();
    if (!args[0])
      return Value();
    if (failed(axisInRange(axis, args[0])))
      return failure();
    if (op == "argmax") {
      ArgmaxOp::Properties props;
      props.setAxis(b.getI64IntegerAttr(axis));
      return create<ArgmaxOp>(e.loc, args, props);
    }
    SoftmaxOp::Properties props;
    props.setAxis(b.getI64IntegerAttr(axis));
    OperationState state(loc(e.loc), op == "softmax"
                                         ? SoftmaxOp::getOperationName()
                                         : LogSoftmaxOp::getOperationName());
    state.addOperands(args);
    state.addTypes(args[0].getType());
    state.addAttribute("axis", b.getI64IntegerAttr(axis));
    return b.create(state)->getResult(0);
  }
  if (op == "one_hot") {
    int64_t classes;
    if (failed(onlyKeywords({"classes"})) ||
        failed(keywordInt("classes", 0, classes)) || failed(genArgs(1)))
      return failure();
    if (classes < 1)
      return static_cast<LogicalResult>(
          error(e.loc) << "one_hot needs classes: N with N >= 1");
    OneHotOp::Properties props;
    props.setClasses(b.getI64IntegerAttr(classes));
    return create<OneHotOp>(e.loc, args, props);
  }
  if (op == "cross_entropy") {
    if (failed(onlyKeywords({})) || failed(genArgs(2)))
      return failure();
    return create<CrossEntropyOp>(e.loc, args);
  }
  static const llvm::StringMap<ComparePredicate> comparisons = {
      {"eq", ComparePredicate::eq}, {"ne", ComparePredicate::ne},
      {"lt", ComparePredicate::lt}, {"le", ComparePredicate::le},
      {"gt", ComparePredicate::gt}, {"ge", ComparePredicate::ge}};
  if (auto it = comparisons.find(op); it != comparisons.end()) {
    if (failed(onlyKeywords({})) || failed(genArgs(2)))
      return failure();
    CompareOp::Properties props;
    props.setPredicate(
        ComparePredicateAttr::get(b.getContext(), it->second));
    return create<CompareOp>(e.loc, args, props);
  }
  if (op == "where") {
    if (failed(onlyKeywords({})) || failed(genArgs(3)))
      return failure();
    return create<SelectOp>(e.loc, args);
  }
  if (op == "flatten") {
    // [batch, d1, d2, ...] -> [batch, d1 * d2 * ...].
    if (failed(onlyKeywords({})) || failed(genArgs(1)))
      return failure();
    if (!args[0])
      return Value();
    auto type = cast<RankedTensorType>(args[0].getType());
    if (type.getRank() < 1)
      return static_cast<LogicalResult>(error(e.loc)
                                        << "flatten needs a batched tensor");
    int64_t rest = 1;
    for (int64_t d : type.getShape().drop_front()) {
      if (ShapedType::isDynamic(d))
        return static_cast<LogicalResult>(
            error(e.loc) << "flatten keeps only the first dimension symbolic");
      rest *= d;
    }
    auto resultType =
        RankedTensorType::get({type.getDimSize(0), rest}, type.getElementType());
    if (resultType == type)
      return args[0];
    return ReshapeOp::create(b, loc(e.loc), resultType, args[0]).getResult();
  }
  if (op == "sum" || op == "mean" || op == "max" || op == "min") {
    if (failed(onlyKeywords({"axis", "axes", "keepdims"})) ||
        failed(genArgs(1)))
      return failure();
    FailureOr<std::vector<int64_t>> axes = axesOf(e);
    if (failed(axes))
      return failure();
    bool keepdims = false;
    if (const KeywordArg *kw = e.findKeyword("keepdims")) {
      if (kw->value->kind != Expr::Kind::Name ||
          (kw->value->text != "true" && kw->value->text != "false"))
        return static_cast<LogicalResult>(
            error(kw->loc) << "keepdims must be true or false");
      keepdims = kw->value->text == "true";
    }
    SumOp::Properties props;
    props.setAxes(b.getDenseI64ArrayAttr(*axes));
    if (keepdims)
      props.setKeepdims(b.getUnitAttr());
    if (op == "sum")
      return create<SumOp>(e.loc, args, props);
    if (op == "max" || op == "min") {
      if (op == "max") {
        MaxOp::Properties p;
        p.setAxes(props.getAxes());
        p.setKeepdims(props.getKeepdims());
        return create<MaxOp>(e.loc, args, p);
      }
      MinOp::Properties p;
      p.setAxes(props.getAxes());
      p.setKeepdims(props.getKeepdims());
      return create<MinOp>(e.loc, args, p);
    }
    MeanOp::Properties meanProps;
    meanProps.setAxes(props.getAxes());
    meanProps.setKeepdims(props.getKeepdims());
    return create<MeanOp>(e.loc, args, meanProps);
  }
  if (op == "matmul" || op == "pow" || op == "mse" ||
      op == "bce_with_logits") {
    if (failed(onlyKeywords({})) || failed(genArgs(2)))
      return failure();
    if (op == "matmul")
      return create<MatmulOp>(e.loc, args);
    if (op == "pow")
      return create<PowOp>(e.loc, args);
    if (op == "mse")
      return create<MseOp>(e.loc, args);
    return create<BceWithLogitsOp>(e.loc, args);
  }
  if (op == "transpose") {
    if (failed(onlyKeywords({"perm"})) || failed(genArgs(1)))
      return failure();
    if (!args[0])
      return Value();
    int64_t rank = cast<RankedTensorType>(args[0].getType()).getRank();
    std::vector<int64_t> perm;
    if (const KeywordArg *kw = e.findKeyword("perm")) {
      FailureOr<std::vector<int64_t>> p = intList(*kw->value, false);
      if (failed(p))
        return failure();
      perm = *p;
    } else {
      for (int64_t i = rank - 1; i >= 0; --i)
        perm.push_back(i);
    }
    TransposeOp::Properties props;
    props.setPermutation(b.getDenseI64ArrayAttr(perm));
    return create<TransposeOp>(e.loc, args, props);
  }
  if (op == "reshape") {
    auto parsed = tensorAndShape("reshape(x, [batch, 2, 2])");
    if (failed(parsed))
      return failure();
    Value x = parsed->first;
    std::vector<int64_t> *shape = &parsed->second;
    if (!x)
      return Value();
    auto type = cast<RankedTensorType>(x.getType());
    // Resolve one -1 from the static element count.
    int64_t known = 1, unknown = -1;
    for (auto [i, d] : llvm::enumerate(*shape)) {
      if (d == -1) {
        if (unknown >= 0)
          return static_cast<LogicalResult>(
              error(e.args[1]->loc) << "at most one -1 in a shape");
        unknown = i;
      } else if (d == ShapedType::kDynamic) {
        continue;
      } else if (d < 1) {
        return static_cast<LogicalResult>(error(e.args[1]->loc)
                                          << "invalid dimension " << d);
      } else {
        known *= d;
      }
    }
    if (unknown >= 0) {
      if (!type.hasStaticShape() || type.getNumElements() % known)
        return static_cast<LogicalResult>(
            error(e.args[1]->loc)
            << "cannot infer -1 when reshaping " << type);
      (*shape)[unknown] = type.getNumElements() / known;
    }
    auto resultType = RankedTensorType::get(*shape, type.getElementType());
    OperationState state(loc(e.loc), ReshapeOp::getOperationName());
    state.addOperands(x);
    state.addTypes(resultType);
    Operation *reshape = b.create(state);
    if (failed(mlir::verify(reshape))) {
      reshape->erase();
      return failure();
    }
    return reshape->getResult(0);
  }
  return static_cast<LogicalResult>(error(e.loc)
                                    << "unknown op '" << op
                                    << "' (known ops: " << kKnownOps << ")");
}

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
                                     MLIRContext *ctx, ModelInfo &info) {
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
