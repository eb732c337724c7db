// FunctionGen: names, operators, user functions and scans become dlc ops.
#include "FunctionGen.h"

#include "mlir/IR/Verifier.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"

using namespace dlc;
using namespace dlc::detail;

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
                             invariants, b.getI64IntegerAttr(axis), UnitAttr());
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
    return static_cast<LogicalResult>(error(fn->result->loc)
                                      << "'" << fn->name << "' returns "
                                      << next->size() << " values for "
                                      << inits->size() << " carries");
  for (auto [i, pair] : llvm::enumerate(llvm::zip(*next, *inits)))
    if (std::get<0>(pair).getType() != std::get<1>(pair).getType())
      return static_cast<LogicalResult>(
          error(fn->result->loc) << "carry " << i << " changes type from "
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
    return static_cast<LogicalResult>(error(e.kwargs.front().loc)
                                      << "function '" << fn.name
                                      << "' takes positional arguments only");
  if (e.args.size() != fn.params.size())
    return static_cast<LogicalResult>(error(e.loc)
                                      << "function '" << fn.name << "' takes "
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
      return static_cast<LogicalResult>(error(s.loc) << "redefinition of '"
                                                     << s.name << "'");
    FailureOr<Value> v = gen(*s.value);
    if (failed(v))
      return failure();
    values[s.name] = *v;
    if (!*v)
      unavailable[s.name] = missingInput;
  }
  return gen(*fn.result);
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
    bool negative =
        x.kind == Expr::Kind::Unary && x.args[0]->kind == Expr::Kind::Number;
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
      return static_cast<LogicalResult>(error(e.loc)
                                        << "unknown name '" << e.text << "'");
    if (!it->second)
      missingInput = unavailable[e.text];
    return it->second;
  }
  case Expr::Kind::String:
    return static_cast<LogicalResult>(error(e.loc)
                                      << "a string is not a tensor");
  case Expr::Kind::List:
    return static_cast<LogicalResult>(error(e.loc)
                                      << "a list is not a tensor here");
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
