// Type inference and verification of dlc ops.
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLExtras.h"

#include <cmath>

using namespace mlir;
using namespace mlir::dlc;

static std::string dimToString(int64_t d) {
  return ShapedType::isDynamic(d) ? "batch" : std::to_string(d);
}

static std::string typeToString(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  type.print(os);
  return s;
}

LogicalResult mlir::dlc::inferBroadcastType(std::optional<Location> loc,
                                            Type lhs, Type rhs,
                                            SmallVectorImpl<Type> &results) {
  auto lhsType = cast<RankedTensorType>(lhs);
  auto rhsType = cast<RankedTensorType>(rhs);
  if (lhsType.getElementType() != rhsType.getElementType())
    return emitOptionalError(loc, "element types differ: " +
                                      typeToString(lhsType) + " and " +
                                      typeToString(rhsType));
  int64_t rank = std::max(lhsType.getRank(), rhsType.getRank());
  SmallVector<int64_t> shape(rank);
  for (int64_t i = 0; i < rank; ++i) {
    int64_t li = i - (rank - lhsType.getRank());
    int64_t ri = i - (rank - rhsType.getRank());
    int64_t l = li >= 0 ? lhsType.getDimSize(li) : 1;
    int64_t r = ri >= 0 ? rhsType.getDimSize(ri) : 1;
    if (l == r || r == 1) {
      shape[i] = l;
    } else if (l == 1) {
      shape[i] = r;
    } else if (ShapedType::isDynamic(l) || ShapedType::isDynamic(r)) {
      // A symbolic size is only known at run time: matching it against a
      // static size could read out of bounds, so it is not allowed.
      return emitOptionalError(
          loc, "shapes " + typeToString(lhsType) + " and " +
                   typeToString(rhsType) + " do not broadcast (dimension " +
                   Twine(i) + ": the symbolic batch size against " +
                   Twine(ShapedType::isDynamic(l) ? r : l) + ")");
    } else {
      return emitOptionalError(
          loc, "shapes " + typeToString(lhsType) + " and " +
                   typeToString(rhsType) + " do not broadcast (dimension " +
                   Twine(i) + ": " + Twine(l) + " vs " + Twine(r) + ")");
    }
  }
  results.push_back(RankedTensorType::get(shape, lhsType.getElementType()));
  return success();
}

SmallVector<int64_t> mlir::dlc::normalizeAxes(ArrayRef<int64_t> axes,
                                              int64_t rank) {
  SmallVector<int64_t> result;
  if (axes.empty())
    return llvm::to_vector(llvm::seq<int64_t>(0, rank));
  for (int64_t a : axes)
    result.push_back(a < 0 ? a + rank : a);
  llvm::sort(result);
  return result;
}

FailureOr<RankedTensorType>
mlir::dlc::inferReductionType(std::optional<Location> loc,
                              RankedTensorType type, ArrayRef<int64_t> axes,
                              bool keepdims) {
  int64_t rank = type.getRank();
  for (int64_t a : axes)
    if (a < -rank || a >= rank) {
      (void)emitOptionalError(loc, "axis " + Twine(a) +
                                       " is out of range for " +
                                       typeToString(type));
      return failure();
    }
  SmallVector<int64_t> sorted = normalizeAxes(axes, rank);
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) {
    (void)emitOptionalError(loc, "an axis is repeated");
    return failure();
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i) {
    if (!llvm::is_contained(sorted, i))
      shape.push_back(type.getDimSize(i));
    else if (keepdims)
      shape.push_back(1);
  }
  return RankedTensorType::get(shape, type.getElementType());
}

OpFoldResult mlir::dlc::foldScalarBinary(Operation *op, Attribute lhs,
                                         Attribute rhs) {
  auto l = dyn_cast_or_null<DenseFPElementsAttr>(lhs);
  auto r = dyn_cast_or_null<DenseFPElementsAttr>(rhs);
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  if (!l || !r || !l.isSplat() || !r.isSplat() || !type.hasStaticShape())
    return {};
  double a = l.getSplatValue<APFloat>().convertToDouble();
  double b = r.getSplatValue<APFloat>().convertToDouble();
  double v;
  if (isa<AddOp>(op))
    v = a + b;
  else if (isa<SubOp>(op))
    v = a - b;
  else if (isa<MulOp>(op))
    v = a * b;
  else if (isa<DivOp>(op))
    v = a / b;
  else if (isa<PowOp>(op))
    v = std::pow(a, b);
  else
    return {};
  APFloat value(v);
  bool lost;
  value.convert(cast<FloatType>(type.getElementType()).getFloatSemantics(),
                APFloat::rmNearestTiesToEven, &lost);
  return DenseElementsAttr::get(type, value);
}

Value mlir::dlc::createScalarConstant(OpBuilder &builder, Location loc,
                                      Type elementType, double value) {
  auto type = RankedTensorType::get({}, elementType);
  auto attr = DenseElementsAttr::get(
      type, builder.getFloatAttr(elementType, value).getValue());
  return ConstantOp::create(builder, loc, attr);
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &inferredReturnTypes) {
  auto typed = dyn_cast_or_null<TypedAttr>(adaptor.getValueAttr());
  if (!typed)
    return emitOptionalError(loc, "expects a typed 'value' attribute");
  inferredReturnTypes.push_back(typed.getType());
  return success();
}

LogicalResult ConstantOp::verify() {
  if (getValue().getType() != getType())
    return emitOpError("value type ")
           << getValue().getType() << " does not match result type "
           << getType();
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// MatmulOp
//===----------------------------------------------------------------------===//

LogicalResult MatmulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto lhs = cast<RankedTensorType>(adaptor.getLhs().getType());
  auto rhs = cast<RankedTensorType>(adaptor.getRhs().getType());
  if (lhs.getElementType() != rhs.getElementType())
    return emitOptionalError(loc, "element types differ: " +
                                      typeToString(lhs) + " and " +
                                      typeToString(rhs));
  if (lhs.getRank() < 1 || lhs.getRank() > 2 || rhs.getRank() < 1 ||
      rhs.getRank() > 2)
    return emitOptionalError(loc, "matmul expects operands of rank 1 or 2, got " +
                                      typeToString(lhs) + " and " +
                                      typeToString(rhs));
  int64_t kl = lhs.getDimSize(lhs.getRank() - 1);
  int64_t kr = rhs.getDimSize(0);
  if (kl != kr)
    return emitOptionalError(loc, "contracting dimensions differ: " +
                                      typeToString(lhs) + " @ " +
                                      typeToString(rhs) + " (" +
                                      dimToString(kl) + " vs " +
                                      dimToString(kr) + ")");
  SmallVector<int64_t> shape;
  if (lhs.getRank() == 2)
    shape.push_back(lhs.getDimSize(0));
  if (rhs.getRank() == 2)
    shape.push_back(rhs.getDimSize(1));
  results.push_back(RankedTensorType::get(shape, lhs.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> loc,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  auto type = cast<RankedTensorType>(adaptor.getOperand().getType());
  ArrayRef<int64_t> perm = adaptor.getPermutation();
  if (static_cast<int64_t>(perm.size()) != type.getRank())
    return emitOptionalError(loc, "permutation has " + Twine(perm.size()) +
                                      " entries for a tensor of rank " +
                                      Twine(type.getRank()));
  SmallVector<bool> seen(perm.size(), false);
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= type.getRank() || seen[p])
      return emitOptionalError(loc, "invalid permutation");
    seen[p] = true;
    shape.push_back(type.getDimSize(p));
  }
  results.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// ReshapeOp
//===----------------------------------------------------------------------===//

LogicalResult ReshapeOp::verify() {
  auto in = getOperand().getType();
  auto out = getResult().getType();
  if (in.getElementType() != out.getElementType())
    return emitOpError("element types differ");
  if (in.hasStaticShape() != out.hasStaticShape())
    return emitOpError("symbolic dimensions must be kept: ")
           << in << " -> " << out;
  if (in.hasStaticShape() && in.getNumElements() != out.getNumElements())
    return emitOpError("cannot reshape ")
           << in << " (" << in.getNumElements() << " elements) to " << out
           << " (" << out.getNumElements() << " elements)";
  if (!in.hasStaticShape()) {
    int64_t inStatic = 1, outStatic = 1;
    for (int64_t d : in.getShape())
      if (!ShapedType::isDynamic(d))
        inStatic *= d;
    for (int64_t d : out.getShape())
      if (!ShapedType::isDynamic(d))
        outStatic *= d;
    if (in.getNumDynamicDims() != 1 || out.getNumDynamicDims() != 1 ||
        inStatic != outStatic)
      return emitOpError("a reshape with a symbolic dimension must keep that "
                         "dimension and the other elements: ")
             << in << " -> " << out;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// BroadcastOp
//===----------------------------------------------------------------------===//

LogicalResult BroadcastOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location>,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &results) {
  auto operand = cast<RankedTensorType>(adaptor.getOperand().getType());
  auto like = cast<RankedTensorType>(adaptor.getLike().getType());
  results.push_back(like.clone(operand.getElementType()));
  return success();
}

LogicalResult BroadcastOp::verify() {
  auto operand = getOperand().getType();
  auto result = getResult().getType();
  ArrayRef<int64_t> dims = getDimensions();
  if (static_cast<int64_t>(dims.size()) != operand.getRank())
    return emitOpError("expects one dimension per operand dimension, got ")
           << dims.size() << " for rank " << operand.getRank();
  int64_t previous = -1;
  for (auto [i, d] : llvm::enumerate(dims)) {
    if (d <= previous || d >= result.getRank())
      return emitOpError("dimensions must be increasing and within the "
                         "result rank");
    previous = d;
    int64_t in = operand.getDimSize(i), out = result.getDimSize(d);
    if (in != 1 && in != out &&
        !(ShapedType::isDynamic(in) || ShapedType::isDynamic(out)))
      return emitOpError("operand dimension ")
             << i << " of size " << in << " cannot broadcast to size " << out;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Reductions and sizes
//===----------------------------------------------------------------------===//

template <typename Adaptor>
static LogicalResult inferReduction(std::optional<Location> loc,
                                    Adaptor adaptor,
                                    SmallVectorImpl<Type> &results) {
  auto type = cast<RankedTensorType>(adaptor.getOperand().getType());
  FailureOr<RankedTensorType> result =
      inferReductionType(loc, type, adaptor.getAxes(), adaptor.getKeepdims());
  if (failed(result))
    return failure();
  results.push_back(*result);
  return success();
}

LogicalResult SumOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  return inferReduction(loc, adaptor, results);
}

LogicalResult MeanOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  return inferReduction(loc, adaptor, results);
}

LogicalResult SizeOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> loc,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &results) {
  auto type = cast<RankedTensorType>(adaptor.getOperand().getType());
  if (failed(inferReductionType(loc, type, adaptor.getAxes(), false)))
    return failure();
  results.push_back(RankedTensorType::get({}, type.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Losses
//===----------------------------------------------------------------------===//

template <typename Adaptor>
static LogicalResult inferLoss(std::optional<Location> loc, StringRef name,
                               Adaptor adaptor,
                               SmallVectorImpl<Type> &results) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto target = cast<RankedTensorType>(adaptor.getTarget().getType());
  if (input != target)
    return emitOptionalError(
        loc, name + " expects a prediction and a target of the same type, got " +
                 typeToString(input) + " and " + typeToString(target) +
                 " (reshape one of them)");
  results.push_back(RankedTensorType::get({}, input.getElementType()));
  return success();
}

LogicalResult MseOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  return inferLoss(loc, "mse", adaptor, results);
}

LogicalResult BceWithLogitsOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  return inferLoss(loc, "bce_with_logits", adaptor, results);
}

//===----------------------------------------------------------------------===//
// Max and min reductions
//===----------------------------------------------------------------------===//

LogicalResult MaxOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  return inferReduction(loc, adaptor, results);
}

LogicalResult MinOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> loc,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &results) {
  return inferReduction(loc, adaptor, results);
}

//===----------------------------------------------------------------------===//
// Elementwise ops with attributes, comparison and selection
//===----------------------------------------------------------------------===//

LogicalResult DropoutOp::verify() {
  double rate = getRate().convertToDouble();
  if (!(rate >= 0 && rate < 1))
    return emitOpError("rate must be in [0, 1), got ") << rate;
  if (getCounter().getType().getRank() != 0)
    return emitOpError("the counter must be a scalar");
  return success();
}

LogicalResult ClipOp::verify() {
  if (getMin().convertToDouble() > getMax().convertToDouble())
    return emitOpError("min (") << getMin().convertToDouble()
                                << ") exceeds max ("
                                << getMax().convertToDouble() << ")";
  return success();
}

LogicalResult CompareOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> loc,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &results) {
  return inferBroadcastType(loc, adaptor.getLhs().getType(),
                            adaptor.getRhs().getType(), results);
}

LogicalResult SelectOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  SmallVector<Type> pair;
  if (failed(inferBroadcastType(loc, adaptor.getOnTrue().getType(),
                                adaptor.getOnFalse().getType(), pair)) ||
      failed(inferBroadcastType(loc, adaptor.getCondition().getType(),
                                pair[0], results)))
    return failure();
  return success();
}

//===----------------------------------------------------------------------===//
// Classification
//===----------------------------------------------------------------------===//

template <typename OpTy> static LogicalResult verifyAxis(OpTy op) {
  int64_t rank = op.getOperand().getType().getRank();
  auto axis = static_cast<int64_t>(op.getAxis());
  if (axis < -rank || axis >= rank)
    return op.emitOpError("axis ") << axis << " is out of range for "
                                   << op.getOperand().getType();
  return success();
}

LogicalResult SoftmaxOp::verify() { return verifyAxis(*this); }
LogicalResult LogSoftmaxOp::verify() { return verifyAxis(*this); }

LogicalResult OneHotOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto labels = cast<RankedTensorType>(adaptor.getLabels().getType());
  SmallVector<int64_t> shape(labels.getShape());
  if (adaptor.getClasses() < 1)
    return emitOptionalError(loc, "one_hot needs at least one class");
  shape.push_back(adaptor.getClasses());
  results.push_back(RankedTensorType::get(shape, labels.getElementType()));
  return success();
}

LogicalResult CrossEntropyOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> loc, Adaptor adaptor,
    SmallVectorImpl<Type> &results) {
  auto logits = cast<RankedTensorType>(adaptor.getLogits().getType());
  auto labels = cast<RankedTensorType>(adaptor.getLabels().getType());
  if (logits.getRank() != 2 || labels.getRank() != 1)
    return emitOptionalError(
        loc, "cross_entropy expects logits [batch, classes] and labels "
             "[batch], got " +
                 typeToString(logits) + " and " + typeToString(labels));
  if (logits.getDimSize(0) != labels.getDimSize(0) ||
      logits.getElementType() != labels.getElementType())
    return emitOptionalError(loc, "cross_entropy: logits " +
                                      typeToString(logits) + " and labels " +
                                      typeToString(labels) +
                                      " have different batch sizes or types");
  results.push_back(RankedTensorType::get({}, logits.getElementType()));
  return success();
}

LogicalResult ArgmaxOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto type = cast<RankedTensorType>(adaptor.getOperand().getType());
  FailureOr<RankedTensorType> result = inferReductionType(
      loc, type, ArrayRef<int64_t>{static_cast<int64_t>(adaptor.getAxis())},
      false);
  if (failed(result))
    return failure();
  results.push_back(*result);
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

/// Output size of a sliding window: floor((size + 2p - d (k - 1) - 1) / s) + 1.
static int64_t windowOutputSize(int64_t size, int64_t kernel, int64_t stride,
                                int64_t padding, int64_t dilation) {
  return (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}

static LogicalResult checkWindowAttrs(std::optional<Location> loc,
                                      ArrayRef<int64_t> stride,
                                      ArrayRef<int64_t> padding,
                                      ArrayRef<int64_t> dilation) {
  if (stride.size() != 2 || padding.size() != 2 || dilation.size() != 2)
    return emitOptionalError(loc, "stride, padding and dilation have two "
                                  "entries (height, width)");
  for (int i = 0; i < 2; ++i)
    if (stride[i] < 1 || padding[i] < 0 || dilation[i] < 1)
      return emitOptionalError(loc, "stride and dilation must be >= 1 and "
                                    "padding >= 0");
  return success();
}

LogicalResult Conv2DOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto in = cast<RankedTensorType>(adaptor.getInput().getType());
  auto w = cast<RankedTensorType>(adaptor.getFilter().getType());
  if (failed(checkWindowAttrs(loc, adaptor.getStride(), adaptor.getPadding(),
                              adaptor.getDilation())))
    return failure();
  if (in.getRank() != 4 || w.getRank() != 4)
    return emitOptionalError(loc, "conv2d expects an input [batch, C, H, W] "
                                  "and a filter [F, C, KH, KW], got " +
                                      typeToString(in) + " and " +
                                      typeToString(w));
  if (!w.hasStaticShape() || in.isDynamicDim(1) || in.isDynamicDim(2) ||
      in.isDynamicDim(3))
    return emitOptionalError(loc, "conv2d: only the batch may be symbolic");
  if (in.getDimSize(1) != w.getDimSize(1))
    return emitOptionalError(loc, "conv2d: the input has " +
                                      Twine(in.getDimSize(1)) +
                                      " channels, the filter " +
                                      Twine(w.getDimSize(1)));
  SmallVector<int64_t> shape{in.getDimSize(0), w.getDimSize(0)};
  for (int i = 0; i < 2; ++i) {
    int64_t o = windowOutputSize(in.getDimSize(2 + i), w.getDimSize(2 + i),
                                 adaptor.getStride()[i],
                                 adaptor.getPadding()[i],
                                 adaptor.getDilation()[i]);
    if (o < 1)
      return emitOptionalError(loc, "conv2d: the filter does not fit the "
                                    "padded input " + typeToString(in));
    shape.push_back(o);
  }
  results.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

LogicalResult Pool2DOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  auto in = cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> kernel = adaptor.getKernel();
  SmallVector<int64_t> ones{1, 1};
  if (failed(checkWindowAttrs(loc, adaptor.getStride(), adaptor.getPadding(),
                              ones)))
    return failure();
  if (kernel.size() != 2 || kernel[0] < 1 || kernel[1] < 1)
    return emitOptionalError(loc, "pooling needs a kernel of two sizes >= 1");
  if (in.getRank() != 4 || in.isDynamicDim(1) || in.isDynamicDim(2) ||
      in.isDynamicDim(3))
    return emitOptionalError(loc, "pooling expects [batch, C, H, W] with "
                                  "static C, H, W, got " + typeToString(in));
  SmallVector<int64_t> shape{in.getDimSize(0), in.getDimSize(1)};
  for (int i = 0; i < 2; ++i) {
    if (adaptor.getPadding()[i] * 2 > kernel[i])
      return emitOptionalError(loc, "pooling: padding must be at most half "
                                    "the kernel");
    int64_t o = windowOutputSize(in.getDimSize(2 + i), kernel[i],
                                 adaptor.getStride()[i],
                                 adaptor.getPadding()[i], 1);
    if (o < 1)
      return emitOptionalError(loc, "pooling: the kernel does not fit " +
                                        typeToString(in));
    shape.push_back(o);
  }
  results.push_back(RankedTensorType::get(shape, in.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// ScanOp and FillOp
//===----------------------------------------------------------------------===//

/// `type` without dimension `axis`.
static RankedTensorType dropDim(RankedTensorType type, int64_t axis) {
  SmallVector<int64_t> shape(type.getShape());
  shape.erase(shape.begin() + axis);
  return RankedTensorType::get(shape, type.getElementType());
}

/// `type` with a dimension of size `length` inserted at `axis`.
static RankedTensorType insertDim(RankedTensorType type, int64_t axis,
                                  int64_t length) {
  SmallVector<int64_t> shape(type.getShape());
  shape.insert(shape.begin() + axis, length);
  return RankedTensorType::get(shape, type.getElementType());
}

namespace {
/// Drops the sequences whose step the body does not read (one is kept: a
/// scan's length is its sequences') and the stacked outputs nothing reads.
/// A gradient's recording scan stacks every carry at the end of each step
/// for the reverse scan, which reads only those its product needs (tanh's
/// result, not a GRU's mixture of carries).
struct DropUnusedScanValues : OpRewritePattern<ScanOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(ScanOp op,
                                PatternRewriter &rewriter) const override {
    Block &body = op.getBody().front();
    unsigned numCarries = op.getInits().size();
    unsigned numSeqs = op.getSequences().size();
    BitVector deadArgs(body.getNumArguments());
    SmallVector<Value> seqs;
    for (auto [j, s] : llvm::enumerate(op.getSequences())) {
      BlockArgument arg = body.getArgument(numCarries + j);
      bool lastLeft = seqs.empty() && j + 1 == numSeqs;
      if (arg.use_empty() && !lastLeft)
        deadArgs.set(arg.getArgNumber());
      else
        seqs.push_back(s);
    }
    SmallVector<unsigned> keptStacked;
    for (auto [k, r] : llvm::enumerate(op.getStacked()))
      if (!r.use_empty())
        keptStacked.push_back(k);
    if (deadArgs.none() && keptStacked.size() == op.getStacked().size())
      return failure();
    auto yield = cast<YieldOp>(body.getTerminator());
    SmallVector<Value> yielded(yield.getOperands().take_front(numCarries));
    SmallVector<Type> stackedTypes;
    for (unsigned k : keptStacked) {
      yielded.push_back(yield.getOperand(numCarries + k));
      stackedTypes.push_back(op.getStacked()[k].getType());
    }
    auto scan = ScanOp::create(rewriter, op.getLoc(), op.getFinals().getTypes(),
                               stackedTypes, op.getInits(), seqs,
                               op.getInvariants(), op.getAxisAttr(),
                               op.getReverseAttr());
    rewriter.inlineRegionBefore(op.getBody(), scan.getBody(),
                                scan.getBody().end());
    Block &moved = scan.getBody().front();
    rewriter.setInsertionPoint(moved.getTerminator());
    rewriter.replaceOpWithNewOp<YieldOp>(moved.getTerminator(), yielded);
    moved.eraseArguments(deadArgs);
    SmallVector<Value> results(scan.getFinals());
    for (auto [k, r] : llvm::enumerate(op.getStacked())) {
      auto kept = llvm::find(keptStacked, k);
      results.push_back(kept == keptStacked.end()
                            ? Value()
                            : scan.getStacked()[kept - keptStacked.begin()]);
    }
    rewriter.replaceOp(op, results);
    return success();
  }
};
} // namespace

void ScanOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                         MLIRContext *context) {
  results.add<DropUnusedScanValues>(context);
}

int64_t ScanOp::getLength() {
  if (getSequences().empty())
    return 0;
  return cast<RankedTensorType>(getSequences()[0].getType())
      .getDimSize(getAxis());
}

LogicalResult ScanOp::verify() {
  auto axis = static_cast<int64_t>(getAxis());
  if (getSequences().empty())
    return emitOpError("needs at least one sequence");
  int64_t length = -1;
  for (Value s : getSequences()) {
    auto type = cast<RankedTensorType>(s.getType());
    if (axis < 0 || axis >= type.getRank())
      return emitOpError("axis ") << axis << " is out of range for " << type;
    int64_t n = type.getDimSize(axis);
    if (ShapedType::isDynamic(n))
      return emitOpError("the sequence length must be static, got ") << type;
    if (length >= 0 && n != length)
      return emitOpError("sequences have different lengths: ")
             << length << " and " << n;
    length = n;
  }
  Block &body = getBody().front();
  unsigned numCarries = getInits().size();
  unsigned numArgs =
      numCarries + getSequences().size() + getInvariants().size();
  if (body.getNumArguments() != numArgs)
    return emitOpError("the body takes ")
           << numArgs << " arguments (carries, steps, invariants), got "
           << body.getNumArguments();
  SmallVector<Type> expected(getInits().getTypes());
  for (Value s : getSequences())
    expected.push_back(dropDim(cast<RankedTensorType>(s.getType()), axis));
  llvm::append_range(expected, getInvariants().getTypes());
  for (auto [i, pair] :
       llvm::enumerate(llvm::zip(body.getArgumentTypes(), expected)))
    if (std::get<0>(pair) != std::get<1>(pair))
      return emitOpError("body argument ")
             << i << " has type " << std::get<0>(pair) << ", expected "
             << std::get<1>(pair);
  auto yield = cast<YieldOp>(body.getTerminator());
  if (yield.getNumOperands() != numCarries + getStacked().size())
    return emitOpError("the body yields ")
           << yield.getNumOperands() << " values, expected "
           << numCarries + getStacked().size();
  for (unsigned i = 0; i < numCarries; ++i) {
    if (yield.getOperand(i).getType() != getInits()[i].getType())
      return emitOpError("carry ")
             << i << " changes type from " << getInits()[i].getType()
             << " to " << yield.getOperand(i).getType();
    if (getFinals()[i].getType() != getInits()[i].getType())
      return emitOpError("final carry ") << i << " has the wrong type";
  }
  for (auto [i, stacked] : llvm::enumerate(getStacked())) {
    auto step = cast<RankedTensorType>(
        yield.getOperand(numCarries + i).getType());
    if (axis > step.getRank() ||
        stacked.getType() != insertDim(step, axis, length))
      return emitOpError("stacked output ") << i << " should have type "
                                            << insertDim(step, axis, length);
  }
  return success();
}

LogicalResult FillOp::verify() {
  auto type = getResult().getType();
  for (int64_t i = 1; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      return emitOpError("only the first dimension may be symbolic");
  if (type.getRank() > 0 && type.isDynamicDim(0) &&
      (getBatchOf().getType().getRank() == 0 ||
       !getBatchOf().getType().isDynamicDim(0)))
    return emitOpError("a symbolic first dimension needs a batched tensor");
  return success();
}

//===----------------------------------------------------------------------===//
// ConcatOp and SliceOp
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> loc,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &results) {
  ValueRange operands = adaptor.getOperands();
  if (operands.empty())
    return emitOptionalError(loc, "concat needs at least one tensor");
  auto first = cast<RankedTensorType>(operands[0].getType());
  auto axis = static_cast<int64_t>(adaptor.getAxis());
  if (axis < 0 || axis >= first.getRank())
    return emitOptionalError(loc, "concat: axis " + Twine(axis) +
                                      " is out of range for " +
                                      typeToString(first));
  SmallVector<int64_t> shape(first.getShape());
  shape[axis] = 0;
  for (Value v : operands) {
    auto type = cast<RankedTensorType>(v.getType());
    if (type.getRank() != first.getRank() ||
        type.getElementType() != first.getElementType())
      return emitOptionalError(loc, "concat: " + typeToString(type) +
                                        " does not match " +
                                        typeToString(first));
    if (type.isDynamicDim(axis))
      return emitOptionalError(loc, "concat: the axis must be static, got " +
                                        typeToString(type));
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (d != axis && type.getDimSize(d) != first.getDimSize(d))
        return emitOptionalError(loc, "concat: " + typeToString(type) +
                                          " and " + typeToString(first) +
                                          " differ outside the axis");
    shape[axis] += type.getDimSize(axis);
  }
  results.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> loc,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &results) {
  auto type = cast<RankedTensorType>(adaptor.getOperand().getType());
  auto axis = static_cast<int64_t>(adaptor.getAxis());
  auto start = static_cast<int64_t>(adaptor.getStart());
  auto end = static_cast<int64_t>(adaptor.getEnd());
  if (axis < 0 || axis >= type.getRank() || type.isDynamicDim(axis))
    return emitOptionalError(loc, "slice: axis " + Twine(axis) +
                                      " must be a static dimension of " +
                                      typeToString(type));
  if (start < 0 || end > type.getDimSize(axis) || start >= end)
    return emitOptionalError(loc, "slice: [" + Twine(start) + ", " +
                                      Twine(end) + ") is empty or outside " +
                                      typeToString(type));
  SmallVector<int64_t> shape(type.getShape());
  shape[axis] = end - start;
  results.push_back(RankedTensorType::get(shape, type.getElementType()));
  return success();
}

#define GET_OP_CLASSES
#include "dlc/Dialect/DLC/IR/DLCOps.cpp.inc"
