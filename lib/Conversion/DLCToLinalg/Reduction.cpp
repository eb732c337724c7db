// Lowering of dlc reductions, sizes and losses.
#include "LoweringUtils.h"
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// The number of elements of `input` along `axes` as a float scalar.
Value countAlong(OpBuilder &b, Location loc, Value input,
                 ArrayRef<int64_t> axes) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t staticCount = 1;
  Value dynamicCount;
  for (int64_t a : normalizeAxes(axes, type.getRank())) {
    if (!type.isDynamicDim(a)) {
      staticCount *= type.getDimSize(a);
      continue;
    }
    Value d = tensor::DimOp::create(b, loc, input, a);
    dynamicCount =
        dynamicCount ? arith::MulIOp::create(b, loc, dynamicCount, d) : d;
  }
  Type elementType = type.getElementType();
  Value count = floatConstant(b, loc, elementType, staticCount);
  if (dynamicCount) {
    Value i64 =
        arith::IndexCastOp::create(b, loc, b.getI64Type(), dynamicCount);
    Value f = arith::SIToFPOp::create(b, loc, elementType, i64);
    count = arith::MulFOp::create(b, loc, f, count);
  }
  return count;
}

enum class Combiner { Sum, Max, Min };

/// Reduces `input` over `axes` (all when empty) with `combiner`; `divisor`,
/// when given, divides every result. Keeps reduced dimensions as size 1 when
/// `keepdims`.
Value buildReduction(OpBuilder &b, Location loc, Combiner combiner,
                     Value input, ArrayRef<int64_t> axes, bool keepdims,
                     RankedTensorType resultType, Value divisor) {
  MLIRContext *ctx = b.getContext();
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> reduced = normalizeAxes(axes, rank);
  SmallVector<int64_t> keptShape;
  SmallVector<AffineExpr> outExprs;
  SmallVector<Value> sizes;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t i = 0; i < rank; ++i) {
    bool isReduced = llvm::is_contained(reduced, i);
    iterators.push_back(isReduced ? utils::IteratorType::reduction
                                  : utils::IteratorType::parallel);
    if (isReduced)
      continue;
    keptShape.push_back(type.getDimSize(i));
    outExprs.push_back(getAffineDimExpr(i, ctx));
    if (type.isDynamicDim(i))
      sizes.push_back(tensor::DimOp::create(b, loc, input, i));
  }
  auto sumType = RankedTensorType::get(keptShape, type.getElementType());
  double initial = combiner == Combiner::Sum   ? 0.0
                   : combiner == Combiner::Max ? -INFINITY
                                               : INFINITY;
  Value init = createFilled(b, loc, sumType, sizes, initial);
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank),
                              AffineMap::get(rank, 0, outExprs, ctx)};
  Value sum =
      linalg::GenericOp::create(
          b, loc, TypeRange{sumType}, ValueRange{input}, ValueRange{init},
          maps, iterators,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value s =
                combiner == Combiner::Sum
                    ? arith::AddFOp::create(nb, l, args[1], args[0]).getResult()
                : combiner == Combiner::Max
                    ? arith::MaximumFOp::create(nb, l, args[1], args[0])
                          .getResult()
                    : arith::MinimumFOp::create(nb, l, args[1], args[0])
                          .getResult();
            linalg::YieldOp::create(nb, l, s);
          })
          .getResult(0);
  if (divisor) {
    Value out = createEmpty(b, loc, sumType, sizes);
    SmallVector<AffineMap> idMaps(2, b.getMultiDimIdentityMap(sumType.getRank()));
    SmallVector<utils::IteratorType> par(sumType.getRank(),
                                         utils::IteratorType::parallel);
    sum = linalg::GenericOp::create(
              b, loc, TypeRange{sumType}, ValueRange{sum}, ValueRange{out},
              idMaps, par,
              [&](OpBuilder &nb, Location l, ValueRange args) {
                Value q = arith::DivFOp::create(nb, l, args[0], divisor);
                linalg::YieldOp::create(nb, l, q);
              })
              .getResult(0);
  }
  if (keepdims && sumType != resultType) {
    auto reassociation = getReassociationIndicesForReshape(resultType, sumType);
    assert(reassociation && "adding unit dimensions is an expansion");
    sum = tensor::ExpandShapeOp::create(b, loc, resultType, sum, *reassociation);
  }
  return sum;
}

struct SumLowering : OpConversionPattern<SumOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, buildReduction(rewriter, op.getLoc(),
                                          Combiner::Sum, adaptor.getOperand(),
                                          op.getAxes(), op.getKeepdims(),
                                          op.getType(), Value()));
    return success();
  }
};

template <typename OpTy, Combiner combiner>
struct ExtremumLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOp(op, buildReduction(rewriter, op.getLoc(), combiner,
                                          adaptor.getOperand(), op.getAxes(),
                                          op.getKeepdims(), op.getType(),
                                          Value()));
    return success();
  }
};

struct MeanLowering : OpConversionPattern<MeanOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MeanOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value count =
        countAlong(rewriter, op.getLoc(), adaptor.getOperand(), op.getAxes());
    rewriter.replaceOp(op, buildReduction(rewriter, op.getLoc(),
                                          Combiner::Sum, adaptor.getOperand(),
                                          op.getAxes(), op.getKeepdims(),
                                          op.getType(), count));
    return success();
  }
};

struct SizeLowering : OpConversionPattern<SizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Value count =
        countAlong(rewriter, op.getLoc(), adaptor.getOperand(), op.getAxes());
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, op.getType(),
                                                        ValueRange{count});
    return success();
  }
};

/// mse(p, t) = mean((p - t)^2), in dlc ops that the conversion lowers next.
struct MseDecomposition : OpConversionPattern<MseOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MseOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value diff =
        SubOp::create(rewriter, loc, adaptor.getInput(), adaptor.getTarget());
    Value sq = MulOp::create(rewriter, loc, diff, diff);
    rewriter.replaceOpWithNewOp<MeanOp>(op, sq, ArrayRef<int64_t>{}, false);
    return success();
  }
};

/// bce(z, y) = mean(relu(z) - z * y + log(1 + exp(-|z|))).
struct BceDecomposition : OpConversionPattern<BceWithLogitsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BceWithLogitsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value z = adaptor.getInput(), y = adaptor.getTarget();
    Type elementType = op.getInput().getType().getElementType();
    Value oneC = createScalarConstant(rewriter, loc, elementType, 1.0);
    Value softplus = LogOp::create(
        rewriter, loc,
        AddOp::create(
            rewriter, loc, oneC,
            ExpOp::create(rewriter, loc,
                          NegOp::create(rewriter, loc,
                                        AbsOp::create(rewriter, loc, z)))));
    Value loss = AddOp::create(
        rewriter, loc,
        SubOp::create(rewriter, loc, ReluOp::create(rewriter, loc, z),
                      MulOp::create(rewriter, loc, z, y)),
        softplus);
    rewriter.replaceOpWithNewOp<MeanOp>(op, loss, ArrayRef<int64_t>{}, false);
    return success();
  }
};

/// x - max(x, axis): the stable shift of softmax and log-softmax.
Value shiftedByMax(OpBuilder &b, Location loc, Value x, int64_t axis) {
  Value max = MaxOp::create(b, loc, x, ArrayRef<int64_t>{axis}, true);
  // The shift is a constant for the math; stop_gradient documents it.
  return SubOp::create(b, loc, x, StopGradientOp::create(b, loc, max));
}

int64_t positiveAxis(uint64_t axis, Value v) {
  auto a = static_cast<int64_t>(axis);
  return a < 0 ? a + cast<RankedTensorType>(v.getType()).getRank() : a;
}

/// softmax(x) = exp(x - m) / sum(exp(x - m)).
struct SoftmaxDecomposition : OpConversionPattern<SoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t axis = positiveAxis(op.getAxis(), adaptor.getOperand());
    Value e = ExpOp::create(rewriter, loc,
                            shiftedByMax(rewriter, loc, adaptor.getOperand(),
                                         axis));
    Value total = SumOp::create(rewriter, loc, e, ArrayRef<int64_t>{axis}, true);
    rewriter.replaceOpWithNewOp<DivOp>(op, e, total);
    return success();
  }
};

/// log_softmax(x) = (x - m) - log(sum(exp(x - m))).
Value logSoftmax(OpBuilder &b, Location loc, Value x, int64_t axis) {
  Value shifted = shiftedByMax(b, loc, x, axis);
  Value total = SumOp::create(b, loc, ExpOp::create(b, loc, shifted),
                              ArrayRef<int64_t>{axis}, true);
  return SubOp::create(b, loc, shifted, LogOp::create(b, loc, total));
}

struct LogSoftmaxDecomposition : OpConversionPattern<LogSoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LogSoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    int64_t axis = positiveAxis(op.getAxis(), adaptor.getOperand());
    rewriter.replaceOp(op, logSoftmax(rewriter, op.getLoc(),
                                      adaptor.getOperand(), axis));
    return success();
  }
};

/// cross_entropy(z, y) = -mean_i(log_softmax(z)[i, y_i]): each row's
/// log-probability is read at its label's index, not summed against a
/// one-hot row (a sum of ten products per row, in order, where one term is
/// not zero). A label that names no class (not an integer in [0, classes)),
/// which one_hot would match nowhere, contributes 0 as before.
struct CrossEntropyDecomposition : OpConversionPattern<CrossEntropyOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(CrossEntropyOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Value z = adaptor.getLogits(), labels = adaptor.getLabels();
    int64_t classes = op.getLogits().getType().getDimSize(1);
    Value shifted = shiftedByMax(rewriter, loc, z, 1);
    Value total = SumOp::create(rewriter, loc,
                                ExpOp::create(rewriter, loc, shifted),
                                ArrayRef<int64_t>{1}, true);
    auto labelsType = cast<RankedTensorType>(labels.getType());
    Type elementType = cast<RankedTensorType>(z.getType()).getElementType();
    Type labelType = labelsType.getElementType();
    auto pickedType =
        RankedTensorType::get(labelsType.getShape(), elementType);
    Value init = createEmpty(rewriter, loc, pickedType,
                             dynamicSizesOf(rewriter, loc, labels));
    AffineExpr row = getAffineDimExpr(0, ctx);
    SmallVector<AffineMap> maps{
        AffineMap::get(1, 0, {row}, ctx),
        AffineMap::get(1, 0, {row, getAffineConstantExpr(0, ctx)}, ctx),
        AffineMap::get(1, 0, {row}, ctx)};
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{pickedType}, ValueRange{labels, total},
        ValueRange{init}, maps, ArrayRef{utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value y = args[0];
          // In range first: fptosi of NaN or of a huge label is poison.
          Value inRange = arith::AndIOp::create(
              b, l,
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, y,
                                    floatConstant(b, l, labelType, 0.0)),
              arith::CmpFOp::create(b, l, arith::CmpFPredicate::OLT, y,
                                    floatConstant(b, l, labelType, classes)));
          Value safe = arith::SelectOp::create(
              b, l, inRange, y, floatConstant(b, l, labelType, 0.0));
          Value k = arith::FPToSIOp::create(b, l, b.getI64Type(), safe);
          Value integral = arith::CmpFOp::create(
              b, l, arith::CmpFPredicate::OEQ,
              arith::SIToFPOp::create(b, l, labelType, k), y);
          Value valid = arith::AndIOp::create(b, l, inRange, integral);
          Value column = arith::IndexCastOp::create(
              b, l, b.getIndexType(),
              arith::SelectOp::create(
                  b, l, valid, k,
                  arith::ConstantIntOp::create(b, l, b.getI64Type(), 0)));
          Value i = linalg::IndexOp::create(b, l, 0);
          Value logit =
              tensor::ExtractOp::create(b, l, shifted, ValueRange{i, column});
          Value logProb = arith::SubFOp::create(
              b, l, logit, math::LogOp::create(b, l, args[1]));
          linalg::YieldOp::create(
              b, l,
              arith::SelectOp::create(b, l, valid, logProb,
                                      floatConstant(b, l, elementType, 0.0))
                  .getResult());
        });
    Value mean = MeanOp::create(rewriter, loc, generic.getResult(0),
                                ArrayRef<int64_t>{}, false);
    rewriter.replaceOpWithNewOp<NegOp>(op, mean);
    return success();
  }
};

/// one_hot: out[..., k] = (labels[...] == k).
struct OneHotLowering : OpConversionPattern<OneHotOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OneHotOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = op.getType();
    int64_t rank = resultType.getRank();
    Value init = createEmpty(rewriter, loc, resultType,
                             dynamicSizesOf(rewriter, loc, adaptor.getLabels()));
    MLIRContext *ctx = op.getContext();
    SmallVector<AffineExpr> inExprs;
    for (int64_t i = 0; i + 1 < rank; ++i)
      inExprs.push_back(getAffineDimExpr(i, ctx));
    SmallVector<AffineMap> maps{AffineMap::get(rank, 0, inExprs, ctx),
                                rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> iterators(rank,
                                               utils::IteratorType::parallel);
    Type elementType = resultType.getElementType();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{adaptor.getLabels()},
        ValueRange{init}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value k = linalg::IndexOp::create(b, l, rank - 1);
          Value ki = arith::IndexCastOp::create(b, l, b.getI64Type(), k);
          Value kf = arith::SIToFPOp::create(b, l, elementType, ki);
          Value hit = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                            args[0], kf);
          Value v = arith::SelectOp::create(
              b, l, hit, floatConstant(b, l, elementType, 1.0),
              floatConstant(b, l, elementType, 0.0));
          linalg::YieldOp::create(b, l, v);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// argmax: a reduction carrying (best value, its index); the first index
/// wins ties.
struct ArgmaxLowering : OpConversionPattern<ArgmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ArgmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Value input = adaptor.getOperand();
    auto type = cast<RankedTensorType>(input.getType());
    int64_t rank = type.getRank();
    int64_t axis = positiveAxis(op.getAxis(), input);
    auto resultType = op.getType();
    SmallVector<Value> sizes;
    SmallVector<AffineExpr> outExprs;
    SmallVector<utils::IteratorType> iterators;
    for (int64_t i = 0; i < rank; ++i) {
      iterators.push_back(i == axis ? utils::IteratorType::reduction
                                    : utils::IteratorType::parallel);
      if (i == axis)
        continue;
      outExprs.push_back(getAffineDimExpr(i, ctx));
      if (type.isDynamicDim(i))
        sizes.push_back(tensor::DimOp::create(rewriter, loc, input, i));
    }
    Value best = createFilled(rewriter, loc, resultType, sizes, -INFINITY);
    Value index = createFilled(rewriter, loc, resultType, sizes, -1.0);
    AffineMap outMap = AffineMap::get(rank, 0, outExprs, ctx);
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank), outMap,
                                outMap};
    Type elementType = resultType.getElementType();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType, resultType}, ValueRange{input},
        ValueRange{best, index}, maps, iterators,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Value k = linalg::IndexOp::create(b, l, axis);
          Value ki = arith::IndexCastOp::create(b, l, b.getI64Type(), k);
          Value kf = arith::SIToFPOp::create(b, l, elementType, ki);
          Value better = arith::CmpFOp::create(
              b, l, arith::CmpFPredicate::OGT, args[0], args[1]);
          Value v = arith::SelectOp::create(b, l, better, args[0], args[1]);
          Value i = arith::SelectOp::create(b, l, better, kf, args[2]);
          linalg::YieldOp::create(b, l, ValueRange{v, i});
        });
    rewriter.replaceOp(op, generic.getResult(1));
    return success();
  }
};

} // namespace

void mlir::dlc::populateReductionLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<SumLowering, MeanLowering, SizeLowering, MseDecomposition,
               BceDecomposition, SoftmaxDecomposition, LogSoftmaxDecomposition,
               CrossEntropyDecomposition, OneHotLowering, ArgmaxLowering,
               ExtremumLowering<MaxOp, Combiner::Max>,
               ExtremumLowering<MinOp, Combiner::Min>>(patterns.getContext());
}
