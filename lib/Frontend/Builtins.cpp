// The built-in ops of the .dlg language: calls become dlc ops.
#include "FunctionGen.h"

#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringMap.h"

#include <cmath>

using namespace dlc;
using namespace dlc::detail;

namespace {
const char *const kKnownOps =
    "exp, log, sqrt, abs, erf, relu, leaky_relu, elu, gelu, sigmoid, tanh, "
    "neg, clip, stop_gradient, sum, mean, max, min, matmul, pow, reshape, "
    "flatten, concat, slice, transpose, softmax, log_softmax, one_hot, argmax, "
    "lt, le, gt, "
    "ge, eq, ne, where, conv2d, max_pool2d, avg_pool2d, dropout, randn, scan, "
    "zeros, ones, mse, "
    "bce_with_logits, cross_entropy";
} // namespace

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
        return error(kw.loc)
               << "'" << op << "' has no argument '" << kw.name << "'";
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
  auto tensorAndShape = [&](StringRef example)
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
                         SmallVector<int64_t> &out,
                         int64_t min) -> LogicalResult {
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
      return static_cast<LogicalResult>(error(e.loc)
                                        << "dropout rate must be in [0, 1)");
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
          error(e.loc)
          << "'concat' takes a list, e.g. concat([a, b], axis: 1)");
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
    Value onePlus =
        AddOp::create(b, l, createScalarConstant(b, l, elementType, 1.0),
                      ErfOp::create(b, l, scaled));
    Value half =
        MulOp::create(b, l, x, createScalarConstant(b, l, elementType, 0.5));
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
    if (failed(onlyKeywords({"axis"})) ||
        failed(keywordInt("axis", -1, axis)) || failed(genArgs(1)))
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
    props.setPredicate(ComparePredicateAttr::get(b.getContext(), it->second));
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
    auto resultType = RankedTensorType::get({type.getDimSize(0), rest},
                                            type.getElementType());
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
        return static_cast<LogicalResult>(error(kw->loc)
                                          << "keepdims must be true or false");
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
  if (op == "matmul" || op == "pow" || op == "mse" || op == "bce_with_logits") {
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
          return static_cast<LogicalResult>(error(e.args[1]->loc)
                                            << "at most one -1 in a shape");
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
            error(e.args[1]->loc) << "cannot infer -1 when reshaping " << type);
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
