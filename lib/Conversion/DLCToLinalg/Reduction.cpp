// Lowering of dlc reductions, sizes and losses.
#include "LoweringUtils.h"
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/Transforms/DialectConversion.h"

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

/// Sums `input` over `axes` (all when empty); `divisor`, when given, divides
/// every sum. Keeps reduced dimensions as size 1 when `keepdims`.
Value buildSum(OpBuilder &b, Location loc, Value input, ArrayRef<int64_t> axes,
               bool keepdims, RankedTensorType resultType, Value divisor) {
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
  Value init = createFilled(b, loc, sumType, sizes, 0.0);
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank),
                              AffineMap::get(rank, 0, outExprs, ctx)};
  Value sum =
      linalg::GenericOp::create(
          b, loc, TypeRange{sumType}, ValueRange{input}, ValueRange{init},
          maps, iterators,
          [](OpBuilder &nb, Location l, ValueRange args) {
            Value s = arith::AddFOp::create(nb, l, args[1], args[0]);
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
    rewriter.replaceOp(op, buildSum(rewriter, op.getLoc(), adaptor.getOperand(),
                                    op.getAxes(), op.getKeepdims(),
                                    op.getType(), Value()));
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
    rewriter.replaceOp(op, buildSum(rewriter, op.getLoc(), adaptor.getOperand(),
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

} // namespace

void mlir::dlc::populateReductionLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<SumLowering, MeanLowering, SizeLowering, MseDecomposition,
               BceDecomposition>(patterns.getContext());
}
