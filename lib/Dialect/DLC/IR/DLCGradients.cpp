// Reverse-mode rules (vector-Jacobian products) of the differentiable dlc ops.
//
// Each rule builds ordinary dlc ops. Operands that were broadcast by a binary
// op get their gradient summed back to their own shape (`unbroadcast`).
#include "dlc/Dialect/DLC/IR/DLCOps.h"

using namespace mlir;
using namespace mlir::dlc;

/// Sums `grad` (shaped like a broadcast result) back to `targetType`.
static Value unbroadcast(OpBuilder &b, Location loc, Value grad,
                         Type targetType) {
  auto target = cast<RankedTensorType>(targetType);
  auto type = cast<RankedTensorType>(grad.getType());
  if (type == target)
    return grad;
  int64_t extra = type.getRank() - target.getRank();
  SmallVector<int64_t> keepAxes;
  for (int64_t i = 0; i < target.getRank(); ++i)
    if (target.getDimSize(i) == 1 && type.getDimSize(i + extra) != 1)
      keepAxes.push_back(i + extra);
  if (!keepAxes.empty())
    grad = SumOp::create(b, loc, grad, keepAxes, /*keepdims=*/true);
  if (extra > 0) {
    SmallVector<int64_t> leading =
        llvm::to_vector(llvm::seq<int64_t>(0, extra));
    grad = SumOp::create(b, loc, grad, leading, /*keepdims=*/false);
  }
  if (grad.getType() != target)
    grad = ReshapeOp::create(b, loc, target, grad);
  return grad;
}

static bool isConstant(Value v) { return v.getDefiningOp<ConstantOp>(); }

static Value scalar(OpBuilder &b, Location loc, Value like, double value) {
  return createScalarConstant(
      b, loc, cast<RankedTensorType>(like.getType()).getElementType(), value);
}

//===----------------------------------------------------------------------===//
// Binary ops
//===----------------------------------------------------------------------===//

LogicalResult AddOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  out.push_back(unbroadcast(b, loc, grads[0], getLhs().getType()));
  out.push_back(unbroadcast(b, loc, grads[0], getRhs().getType()));
  return success();
}

LogicalResult SubOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  out.push_back(unbroadcast(b, loc, grads[0], getLhs().getType()));
  Value neg = NegOp::create(b, loc, grads[0]);
  out.push_back(unbroadcast(b, loc, neg, getRhs().getType()));
  return success();
}

LogicalResult MulOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value g = grads[0];
  out.push_back(isConstant(getLhs())
                    ? Value()
                    : unbroadcast(b, loc, MulOp::create(b, loc, g, getRhs()),
                                  getLhs().getType()));
  out.push_back(isConstant(getRhs())
                    ? Value()
                    : unbroadcast(b, loc, MulOp::create(b, loc, g, getLhs()),
                                  getRhs().getType()));
  return success();
}

LogicalResult DivOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value g = grads[0];
  Value gOverRhs = DivOp::create(b, loc, g, getRhs());
  out.push_back(isConstant(getLhs())
                    ? Value()
                    : unbroadcast(b, loc, gOverRhs, getLhs().getType()));
  if (isConstant(getRhs())) {
    out.push_back(Value());
  } else {
    // d(l/r)/dr = -(l/r)/r.
    Value t = MulOp::create(b, loc, gOverRhs, getResult());
    out.push_back(
        unbroadcast(b, loc, NegOp::create(b, loc, t), getRhs().getType()));
  }
  return success();
}

LogicalResult PowOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value g = grads[0];
  Value x = getLhs(), y = getRhs();
  if (isConstant(x)) {
    out.push_back(Value());
  } else {
    // d(x^y)/dx = y * x^(y-1).
    Value yMinusOne = SubOp::create(b, loc, y, scalar(b, loc, y, 1.0));
    Value dx = MulOp::create(b, loc, y, PowOp::create(b, loc, x, yMinusOne));
    out.push_back(
        unbroadcast(b, loc, MulOp::create(b, loc, g, dx), x.getType()));
  }
  if (isConstant(y)) {
    out.push_back(Value());
  } else {
    // d(x^y)/dy = x^y * log(x).
    Value dy = MulOp::create(b, loc, getResult(), LogOp::create(b, loc, x));
    out.push_back(
        unbroadcast(b, loc, MulOp::create(b, loc, g, dy), y.getType()));
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Unary ops
//===----------------------------------------------------------------------===//

LogicalResult NegOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  out.push_back(NegOp::create(b, getLoc(), grads[0]));
  return success();
}

LogicalResult ExpOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  out.push_back(MulOp::create(b, getLoc(), grads[0], getResult()));
  return success();
}

LogicalResult LogOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  out.push_back(DivOp::create(b, getLoc(), grads[0], getOperand()));
  return success();
}

LogicalResult SqrtOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value twice = MulOp::create(b, loc, getResult(),
                              scalar(b, loc, getResult(), 2.0));
  out.push_back(DivOp::create(b, loc, grads[0], twice));
  return success();
}

LogicalResult AbsOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  out.push_back(
      MulOp::create(b, loc, grads[0], SignOp::create(b, loc, getOperand())));
  return success();
}

LogicalResult ReluOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  // step(relu(x)) = step(x) (both 0 at 0 and NaN): the mask from the
  // result, which the forward keeps anyway (the next layer reads it), so
  // that the input need not be kept (the 3 x 32 x 32 CNN's conv output,
  // 16 MB, written and read once less).
  out.push_back(
      MulOp::create(b, loc, grads[0], StepOp::create(b, loc, getResult())));
  return success();
}

LogicalResult SigmoidOp::buildGradients(OpBuilder &b, ValueRange grads,
                                        SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value s = getResult();
  Value oneMinus = SubOp::create(b, loc, scalar(b, loc, s, 1.0), s);
  Value ds = MulOp::create(b, loc, s, oneMinus);
  out.push_back(MulOp::create(b, loc, grads[0], ds));
  return success();
}

LogicalResult TanhOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value t = getResult();
  Value dt = SubOp::create(b, loc, scalar(b, loc, t, 1.0),
                           MulOp::create(b, loc, t, t));
  out.push_back(MulOp::create(b, loc, grads[0], dt));
  return success();
}

LogicalResult SignOp::buildGradients(OpBuilder &, ValueRange,
                                     SmallVectorImpl<Value> &out) {
  out.push_back(Value());
  return success();
}

LogicalResult StepOp::buildGradients(OpBuilder &, ValueRange,
                                     SmallVectorImpl<Value> &out) {
  out.push_back(Value());
  return success();
}

//===----------------------------------------------------------------------===//
// Linear algebra and layout
//===----------------------------------------------------------------------===//

static Value transpose2d(OpBuilder &b, Location loc, Value v) {
  return TransposeOp::create(b, loc, v, ArrayRef<int64_t>{1, 0});
}

LogicalResult MatmulOp::buildGradients(OpBuilder &b, ValueRange grads,
                                       SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value g = grads[0], a = getLhs(), w = getRhs();
  int64_t ra = cast<RankedTensorType>(a.getType()).getRank();
  int64_t rw = cast<RankedTensorType>(w.getType()).getRank();
  if (ra == 2 && rw == 2) {
    out.push_back(MatmulOp::create(b, loc, g, transpose2d(b, loc, w)));
    out.push_back(MatmulOp::create(b, loc, transpose2d(b, loc, a), g));
  } else if (ra == 2 && rw == 1) {
    // g: [M]. dA = outer(g, w), dw = A^T g.
    Value gCol = BroadcastOp::create(b, loc, g, a, ArrayRef<int64_t>{0});
    out.push_back(MulOp::create(b, loc, gCol, w));
    out.push_back(MatmulOp::create(b, loc, transpose2d(b, loc, a), g));
  } else if (ra == 1 && rw == 2) {
    // g: [N]. da = W g, dW = outer(a, g).
    out.push_back(MatmulOp::create(b, loc, w, g));
    Value aCol = BroadcastOp::create(b, loc, a, w, ArrayRef<int64_t>{0});
    out.push_back(MulOp::create(b, loc, aCol, g));
  } else {
    out.push_back(MulOp::create(b, loc, g, w));
    out.push_back(MulOp::create(b, loc, g, a));
  }
  return success();
}

LogicalResult TransposeOp::buildGradients(OpBuilder &b, ValueRange grads,
                                          SmallVectorImpl<Value> &out) {
  ArrayRef<int64_t> perm = getPermutation();
  SmallVector<int64_t> inverse(perm.size());
  for (auto [i, p] : llvm::enumerate(perm))
    inverse[p] = i;
  out.push_back(TransposeOp::create(b, getLoc(), grads[0], inverse));
  return success();
}

LogicalResult ReshapeOp::buildGradients(OpBuilder &b, ValueRange grads,
                                        SmallVectorImpl<Value> &out) {
  out.push_back(
      ReshapeOp::create(b, getLoc(), getOperand().getType(), grads[0]));
  return success();
}

LogicalResult BroadcastOp::buildGradients(OpBuilder &b, ValueRange grads,
                                          SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value g = grads[0];
  auto operandType = getOperand().getType();
  auto resultType = getResult().getType();
  ArrayRef<int64_t> dims = getDimensions();
  SmallVector<int64_t> keepAxes, dropAxes;
  for (auto [i, d] : llvm::enumerate(dims))
    if (operandType.getDimSize(i) == 1 && resultType.getDimSize(d) != 1)
      keepAxes.push_back(d);
  for (int64_t d = 0; d < resultType.getRank(); ++d)
    if (!llvm::is_contained(dims, d))
      dropAxes.push_back(d);
  if (!keepAxes.empty())
    g = SumOp::create(b, loc, g, keepAxes, /*keepdims=*/true);
  if (!dropAxes.empty())
    g = SumOp::create(b, loc, g, dropAxes, /*keepdims=*/false);
  if (g.getType() != operandType)
    g = ReshapeOp::create(b, loc, operandType, g);
  out.push_back(g);
  out.push_back(Value());
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

/// Broadcasts the gradient of a reduction of `input` back to its shape.
static Value broadcastReduced(OpBuilder &b, Location loc, Value grad,
                              Value input, ArrayRef<int64_t> axes,
                              bool keepdims) {
  int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
  SmallVector<int64_t> reduced = normalizeAxes(axes, rank);
  SmallVector<int64_t> dims;
  for (int64_t d = 0; d < rank; ++d)
    if (keepdims || !llvm::is_contained(reduced, d))
      dims.push_back(d);
  return BroadcastOp::create(b, loc, grad, input, dims);
}

LogicalResult SumOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  out.push_back(broadcastReduced(b, getLoc(), grads[0], getOperand(),
                                 getAxes(), getKeepdims()));
  return success();
}

LogicalResult MeanOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value count = SizeOp::create(b, loc, getOperand(), getAxes());
  Value scaled = DivOp::create(b, loc, grads[0], count);
  out.push_back(broadcastReduced(b, loc, scaled, getOperand(), getAxes(),
                                 getKeepdims()));
  return success();
}

LogicalResult SizeOp::buildGradients(OpBuilder &, ValueRange,
                                     SmallVectorImpl<Value> &out) {
  out.push_back(Value());
  return success();
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

/// g / number of elements of `v`: the scale of a mean loss's gradient.
static Value perElementScale(OpBuilder &b, Location loc, Value g, Value v,
                             double factor) {
  Value count = SizeOp::create(b, loc, v, ArrayRef<int64_t>{});
  Value scaled = DivOp::create(b, loc, g, count);
  if (factor != 1.0)
    scaled = MulOp::create(b, loc, scaled, scalar(b, loc, v, factor));
  return scaled;
}

LogicalResult MseOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value scale = perElementScale(b, loc, grads[0], getInput(), 2.0);
  Value diff = SubOp::create(b, loc, getInput(), getTarget());
  Value dInput = MulOp::create(b, loc, diff, scale);
  out.push_back(dInput);
  out.push_back(NegOp::create(b, loc, dInput));
  return success();
}

LogicalResult BceWithLogitsOp::buildGradients(OpBuilder &b, ValueRange grads,
                                              SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value scale = perElementScale(b, loc, grads[0], getInput(), 1.0);
  Value prob = SigmoidOp::create(b, loc, getInput());
  Value diff = SubOp::create(b, loc, prob, getTarget());
  out.push_back(MulOp::create(b, loc, diff, scale));
  Value negZ = NegOp::create(b, loc, getInput());
  out.push_back(MulOp::create(b, loc, negZ, scale));
  return success();
}

//===----------------------------------------------------------------------===//
// Activations with parameters, erf, stop_gradient
//===----------------------------------------------------------------------===//

static Value compare(OpBuilder &b, Location loc, ComparePredicate predicate,
                     Value lhs, Value rhs) {
  return CompareOp::create(b, loc, predicate, lhs, rhs);
}

LogicalResult ErfOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  // d erf(x)/dx = 2/sqrt(pi) exp(-x^2).
  Location loc = getLoc();
  Value x = getOperand();
  Value e = ExpOp::create(b, loc,
                          NegOp::create(b, loc, MulOp::create(b, loc, x, x)));
  Value d = MulOp::create(b, loc, e, scalar(b, loc, x, 1.1283791670955126));
  out.push_back(MulOp::create(b, loc, grads[0], d));
  return success();
}

LogicalResult StopGradientOp::buildGradients(OpBuilder &, ValueRange,
                                             SmallVectorImpl<Value> &out) {
  out.push_back(Value());
  return success();
}

LogicalResult LeakyReluOp::buildGradients(OpBuilder &b, ValueRange grads,
                                          SmallVectorImpl<Value> &out) {
  // g * (x > 0 ? 1 : alpha).
  Location loc = getLoc();
  Value x = getOperand();
  Value slope = SelectOp::create(b, loc, StepOp::create(b, loc, x),
                                 scalar(b, loc, x, 1.0),
                                 scalar(b, loc, x, getAlpha().convertToDouble()));
  out.push_back(MulOp::create(b, loc, grads[0], slope));
  return success();
}

LogicalResult EluOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  // g * (x > 0 ? 1 : result + alpha).
  Location loc = getLoc();
  Value x = getOperand();
  Value negative = AddOp::create(
      b, loc, getResult(), scalar(b, loc, x, getAlpha().convertToDouble()));
  Value slope = SelectOp::create(b, loc, StepOp::create(b, loc, x),
                                 scalar(b, loc, x, 1.0), negative);
  out.push_back(MulOp::create(b, loc, grads[0], slope));
  return success();
}

LogicalResult ClipOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  // The gradient passes where min <= x <= max (as torch.clamp).
  Location loc = getLoc();
  Value x = getOperand();
  Value above = compare(b, loc, ComparePredicate::ge, x,
                        scalar(b, loc, x, getMin().convertToDouble()));
  Value below = compare(b, loc, ComparePredicate::le, x,
                        scalar(b, loc, x, getMax().convertToDouble()));
  Value inside = MulOp::create(b, loc, above, below);
  out.push_back(MulOp::create(b, loc, grads[0], inside));
  return success();
}

//===----------------------------------------------------------------------===//
// Comparison and selection
//===----------------------------------------------------------------------===//

LogicalResult CompareOp::buildGradients(OpBuilder &, ValueRange,
                                        SmallVectorImpl<Value> &out) {
  out.append(2, Value());
  return success();
}

LogicalResult SelectOp::buildGradients(OpBuilder &b, ValueRange grads,
                                       SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value g = grads[0];
  Value zero = scalar(b, loc, g, 0.0);
  out.push_back(Value());
  out.push_back(unbroadcast(b, loc,
                            SelectOp::create(b, loc, getCondition(), g, zero),
                            getOnTrue().getType()));
  out.push_back(unbroadcast(b, loc,
                            SelectOp::create(b, loc, getCondition(), zero, g),
                            getOnFalse().getType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Classification
//===----------------------------------------------------------------------===//

static int64_t normalizedAxis(int64_t axis, Value v) {
  int64_t rank = cast<RankedTensorType>(v.getType()).getRank();
  return axis < 0 ? axis + rank : axis;
}

LogicalResult SoftmaxOp::buildGradients(OpBuilder &b, ValueRange grads,
                                        SmallVectorImpl<Value> &out) {
  // s * (g - sum(g * s, axis)).
  Location loc = getLoc();
  Value s = getResult();
  int64_t axis = normalizedAxis(getAxis(), s);
  Value gs = MulOp::create(b, loc, grads[0], s);
  Value dot = SumOp::create(b, loc, gs, ArrayRef<int64_t>{axis}, true);
  out.push_back(MulOp::create(b, loc, s, SubOp::create(b, loc, grads[0], dot)));
  return success();
}

LogicalResult LogSoftmaxOp::buildGradients(OpBuilder &b, ValueRange grads,
                                           SmallVectorImpl<Value> &out) {
  // g - softmax * sum(g, axis).
  Location loc = getLoc();
  int64_t axis = normalizedAxis(getAxis(), getResult());
  Value total = SumOp::create(b, loc, grads[0], ArrayRef<int64_t>{axis}, true);
  Value softmax = ExpOp::create(b, loc, getResult());
  out.push_back(SubOp::create(b, loc, grads[0],
                              MulOp::create(b, loc, softmax, total)));
  return success();
}

LogicalResult OneHotOp::buildGradients(OpBuilder &, ValueRange,
                                       SmallVectorImpl<Value> &out) {
  out.push_back(Value());
  return success();
}

LogicalResult CrossEntropyOp::buildGradients(OpBuilder &b, ValueRange grads,
                                             SmallVectorImpl<Value> &out) {
  // (softmax(z) - one_hot(y)) * g / batch.
  Location loc = getLoc();
  Value z = getLogits();
  int64_t classes = cast<RankedTensorType>(z.getType()).getDimSize(1);
  Value probs = SoftmaxOp::create(b, loc, z, 1);
  Value target = OneHotOp::create(b, loc, getLabels(), classes);
  Value batch = SizeOp::create(b, loc, z, ArrayRef<int64_t>{0});
  Value scale = DivOp::create(b, loc, grads[0], batch);
  out.push_back(
      MulOp::create(b, loc, SubOp::create(b, loc, probs, target), scale));
  out.push_back(Value());
  return success();
}

LogicalResult ArgmaxOp::buildGradients(OpBuilder &, ValueRange,
                                       SmallVectorImpl<Value> &out) {
  out.push_back(Value());
  return success();
}

/// The gradient of a max or min reduction: shared equally by the elements
/// equal to the result (as torch.amax / torch.amin).
template <typename OpTy>
static LogicalResult extremumGradient(OpTy op, OpBuilder &b, ValueRange grads,
                                      SmallVectorImpl<Value> &out) {
  Location loc = op.getLoc();
  Value x = op.getOperand();
  Value best = broadcastReduced(b, loc, op.getResult(), x, op.getAxes(),
                                op.getKeepdims());
  Value mask = compare(b, loc, ComparePredicate::eq, x, best);
  Value count = SumOp::create(b, loc, mask, op.getAxes(), op.getKeepdims());
  Value share = DivOp::create(b, loc, grads[0], count);
  Value spread =
      broadcastReduced(b, loc, share, x, op.getAxes(), op.getKeepdims());
  out.push_back(MulOp::create(b, loc, spread, mask));
  return success();
}

LogicalResult MaxOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  return extremumGradient(*this, b, grads, out);
}

LogicalResult MinOp::buildGradients(OpBuilder &b, ValueRange grads,
                                    SmallVectorImpl<Value> &out) {
  return extremumGradient(*this, b, grads, out);
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

LogicalResult Conv2DOp::buildGradients(OpBuilder &b, ValueRange grads,
                                       SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  Value g = grads[0];
  out.push_back(Conv2DGradInputOp::create(b, loc, g, getFilter(), getInput(),
                                          getStride(), getPadding(),
                                          getDilation()));
  out.push_back(Conv2DGradFilterOp::create(b, loc, getInput(), g, getFilter(),
                                           getStride(), getPadding(),
                                           getDilation()));
  return success();
}

LogicalResult Pool2DOp::buildGradients(OpBuilder &b, ValueRange grads,
                                       SmallVectorImpl<Value> &out) {
  out.push_back(Pool2DGradOp::create(b, getLoc(), getKind(), getInput(),
                                     getResult(), grads[0], getKernel(),
                                     getStride(), getPadding()));
  return success();
}

LogicalResult DropoutOp::buildGradients(OpBuilder &b, ValueRange grads,
                                        SmallVectorImpl<Value> &out) {
  // The same mask and scale, applied to the gradient.
  out.push_back(DropoutOp::create(b, getLoc(), grads[0], getCounter(),
                                  getRateAttr(), getSeedAttr()));
  out.push_back(Value());
  return success();
}

LogicalResult RandomNormalOp::buildGradients(OpBuilder &, ValueRange,
                                             SmallVectorImpl<Value> &out) {
  out.append(2, Value());
  return success();
}

LogicalResult ConcatOp::buildGradients(OpBuilder &b, ValueRange grads,
                                       SmallVectorImpl<Value> &out) {
  // Each operand gets its slice of the gradient.
  auto axis = static_cast<int64_t>(getAxis());
  int64_t start = 0;
  for (Value v : getOperands()) {
    int64_t size = cast<RankedTensorType>(v.getType()).getDimSize(axis);
    out.push_back(SliceOp::create(b, getLoc(), grads[0], axis, start,
                                  start + size));
    start += size;
  }
  return success();
}

LogicalResult SliceOp::buildGradients(OpBuilder &b, ValueRange grads,
                                      SmallVectorImpl<Value> &out) {
  // The gradient, padded with zeros back to the operand's size.
  Location loc = getLoc();
  auto type = getOperand().getType();
  auto axis = static_cast<int64_t>(getAxis());
  auto start = static_cast<int64_t>(getStart());
  auto end = static_cast<int64_t>(getEnd());
  SmallVector<Value> parts;
  auto zeros = [&](int64_t size) {
    Value piece = SliceOp::create(b, loc, getOperand(), axis, 0, size);
    return BroadcastOp::create(b, loc, scalar(b, loc, piece, 0.0), piece,
                               ArrayRef<int64_t>{})
        .getResult();
  };
  if (start > 0)
    parts.push_back(zeros(start));
  parts.push_back(grads[0]);
  if (end < type.getDimSize(axis))
    parts.push_back(zeros(type.getDimSize(axis) - end));
  out.push_back(parts.size() == 1
                    ? parts[0]
                    : ConcatOp::create(b, loc, parts, axis).getResult());
  return success();
}
