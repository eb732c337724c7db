// Lowering of dlc constants, elementwise ops and broadcasts to linalg.generic.
#include "LoweringUtils.h"
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::dlc;

namespace {

//===----------------------------------------------------------------------===//
// The scalar body of each elementwise op
//===----------------------------------------------------------------------===//

Value one(OpBuilder &b, Location loc, Value like) {
  return floatConstant(b, loc, like.getType(), 1.0);
}
Value zero(OpBuilder &b, Location loc, Value like) {
  return floatConstant(b, loc, like.getType(), 0.0);
}

Value buildScalar(AddOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::AddFOp::create(b, loc, a[0], a[1]);
}
Value buildScalar(SubOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::SubFOp::create(b, loc, a[0], a[1]);
}
Value buildScalar(MulOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::MulFOp::create(b, loc, a[0], a[1]);
}
Value buildScalar(DivOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::DivFOp::create(b, loc, a[0], a[1]);
}
Value buildScalar(PowOp op, OpBuilder &b, Location loc, ValueRange a) {
  // Small integer exponents become multiplications: exact, fast, and
  // defined for negative bases as in numpy.
  DenseFPElementsAttr dense;
  if (matchPattern(op.getRhs(), m_Constant(&dense)) && dense.isSplat()) {
    double e = dense.getSplatValue<APFloat>().convertToDouble();
    if (e == 1.0)
      return a[0];
    if (e == 2.0)
      return arith::MulFOp::create(b, loc, a[0], a[0]);
    if (e == 3.0)
      return arith::MulFOp::create(
          b, loc, arith::MulFOp::create(b, loc, a[0], a[0]), a[0]);
    if (e == 0.5)
      return math::SqrtOp::create(b, loc, a[0]);
    if (e == static_cast<int64_t>(e) && std::abs(e) <= 64) {
      Value n = arith::ConstantOp::create(
          b, loc, b.getI32IntegerAttr(static_cast<int32_t>(e)));
      return math::FPowIOp::create(b, loc, a[0], n);
    }
  }
  return math::PowFOp::create(b, loc, a[0], a[1]);
}
Value buildScalar(NegOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::NegFOp::create(b, loc, a[0]);
}
Value buildScalar(ExpOp, OpBuilder &b, Location loc, ValueRange a) {
  return math::ExpOp::create(b, loc, a[0]);
}
Value buildScalar(LogOp, OpBuilder &b, Location loc, ValueRange a) {
  return math::LogOp::create(b, loc, a[0]);
}
Value buildScalar(SqrtOp, OpBuilder &b, Location loc, ValueRange a) {
  return math::SqrtOp::create(b, loc, a[0]);
}
Value buildScalar(AbsOp, OpBuilder &b, Location loc, ValueRange a) {
  return math::AbsFOp::create(b, loc, a[0]);
}
Value buildScalar(ReluOp, OpBuilder &b, Location loc, ValueRange a) {
  return arith::MaximumFOp::create(b, loc, a[0], zero(b, loc, a[0]));
}
Value buildScalar(SigmoidOp, OpBuilder &b, Location loc, ValueRange a) {
  Value e = math::ExpOp::create(b, loc, arith::NegFOp::create(b, loc, a[0]));
  Value d = arith::AddFOp::create(b, loc, one(b, loc, a[0]), e);
  return arith::DivFOp::create(b, loc, one(b, loc, a[0]), d);
}
Value buildScalar(TanhOp, OpBuilder &b, Location loc, ValueRange a) {
  return math::TanhOp::create(b, loc, a[0]);
}
Value buildScalar(StepOp, OpBuilder &b, Location loc, ValueRange a) {
  Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                         a[0], zero(b, loc, a[0]));
  return arith::SelectOp::create(b, loc, positive, one(b, loc, a[0]),
                                 zero(b, loc, a[0]));
}
Value buildScalar(SignOp, OpBuilder &b, Location loc, ValueRange a) {
  Value z = zero(b, loc, a[0]);
  Value positive =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, a[0], z);
  Value negative =
      arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT, a[0], z);
  Value minusOne = floatConstant(b, loc, a[0].getType(), -1.0);
  Value negOrZero = arith::SelectOp::create(b, loc, negative, minusOne, z);
  return arith::SelectOp::create(b, loc, positive, one(b, loc, a[0]),
                                 negOrZero);
}

Value buildScalar(ErfOp, OpBuilder &b, Location loc, ValueRange a) {
  return math::ErfOp::create(b, loc, a[0]);
}
Value buildScalar(StopGradientOp, OpBuilder &, Location, ValueRange a) {
  return a[0];
}
Value buildScalar(LeakyReluOp op, OpBuilder &b, Location loc, ValueRange a) {
  Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                         a[0], zero(b, loc, a[0]));
  Value scaled = arith::MulFOp::create(
      b, loc, a[0],
      floatConstant(b, loc, a[0].getType(), op.getAlpha().convertToDouble()));
  return arith::SelectOp::create(b, loc, positive, a[0], scaled);
}
Value buildScalar(EluOp op, OpBuilder &b, Location loc, ValueRange a) {
  Value positive = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT,
                                         a[0], zero(b, loc, a[0]));
  Value expm1 = math::ExpM1Op::create(b, loc, a[0]);
  Value scaled = arith::MulFOp::create(
      b, loc, expm1,
      floatConstant(b, loc, a[0].getType(), op.getAlpha().convertToDouble()));
  return arith::SelectOp::create(b, loc, positive, a[0], scaled);
}
Value buildScalar(ClipOp op, OpBuilder &b, Location loc, ValueRange a) {
  Type t = a[0].getType();
  Value lo = floatConstant(b, loc, t, op.getMin().convertToDouble());
  Value hi = floatConstant(b, loc, t, op.getMax().convertToDouble());
  return arith::MinimumFOp::create(
      b, loc, arith::MaximumFOp::create(b, loc, a[0], lo), hi);
}
Value buildScalar(CompareOp op, OpBuilder &b, Location loc, ValueRange a) {
  arith::CmpFPredicate predicate;
  switch (op.getPredicate()) {
  case ComparePredicate::eq:
    predicate = arith::CmpFPredicate::OEQ;
    break;
  case ComparePredicate::ne:
    predicate = arith::CmpFPredicate::UNE;
    break;
  case ComparePredicate::lt:
    predicate = arith::CmpFPredicate::OLT;
    break;
  case ComparePredicate::le:
    predicate = arith::CmpFPredicate::OLE;
    break;
  case ComparePredicate::gt:
    predicate = arith::CmpFPredicate::OGT;
    break;
  case ComparePredicate::ge:
    predicate = arith::CmpFPredicate::OGE;
    break;
  }
  Value c = arith::CmpFOp::create(b, loc, predicate, a[0], a[1]);
  return arith::SelectOp::create(b, loc, c, one(b, loc, a[0]),
                                 zero(b, loc, a[0]));
}
Value buildScalar(SelectOp, OpBuilder &b, Location loc, ValueRange a) {
  Value c = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, a[0],
                                  zero(b, loc, a[0]));
  return arith::SelectOp::create(b, loc, c, a[1], a[2]);
}

/// Lowers an elementwise op (unary, or binary with numpy broadcasting) to
/// one linalg.generic.
template <typename OpTy>
struct ElementwiseLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = cast<RankedTensorType>(op.getType());
    ValueRange operands = adaptor.getOperands();
    SmallVector<Value> sizes =
        broadcastDynamicSizes(rewriter, loc, resultType, operands);
    Value init = createEmpty(rewriter, loc, resultType, sizes);
    SmallVector<AffineMap> maps;
    for (Value operand : operands)
      maps.push_back(broadcastIndexingMap(
          cast<RankedTensorType>(operand.getType()), resultType));
    maps.push_back(rewriter.getMultiDimIdentityMap(resultType.getRank()));
    SmallVector<utils::IteratorType> iterators(resultType.getRank(),
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, operands, ValueRange{init}, maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value v = buildScalar(op, b, l, args.drop_back());
          linalg::YieldOp::create(b, l, v);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// splitmix64's finalizer on i64 values.
Value mix64(OpBuilder &b, Location loc, Value z) {
  auto c = [&](uint64_t v) -> Value {
    return arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(int64_t(v)));
  };
  z = arith::AddIOp::create(b, loc, z, c(0x9E3779B97F4A7C15ull));
  z = arith::MulIOp::create(
      b, loc, arith::XOrIOp::create(b, loc, z, arith::ShRUIOp::create(b, loc, z, c(30))),
      c(0xBF58476D1CE4E5B9ull));
  z = arith::MulIOp::create(
      b, loc, arith::XOrIOp::create(b, loc, z, arith::ShRUIOp::create(b, loc, z, c(27))),
      c(0x94D049BB133111EBull));
  return arith::XOrIOp::create(b, loc, z, arith::ShRUIOp::create(b, loc, z, c(31)));
}

/// The row-major linear index of the current element of a linalg.generic
/// over `type` (only the batch, dimension 0, may be symbolic).
Value elementIndex(OpBuilder &b, Location loc, RankedTensorType type) {
  Value index = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(0));
  for (int64_t d = 0; d < type.getRank(); ++d) {
    int64_t size = d == 0 ? 1 : type.getDimSize(d);
    Value i = arith::IndexCastOp::create(b, loc, b.getI64Type(),
                                         linalg::IndexOp::create(b, loc, d));
    Value stride = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(size));
    index = arith::AddIOp::create(
        b, loc, arith::MulIOp::create(b, loc, index, stride), i);
  }
  return index;
}

/// The key of one step of a counter-based generator: mix(seed ^ mix(step)).
Value stepKey(OpBuilder &b, Location loc, Value counter, int64_t seed) {
  Value step = arith::FPToSIOp::create(b, loc, b.getI64Type(), counter);
  Value s = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(seed));
  return mix64(b, loc, arith::XOrIOp::create(b, loc, s, mix64(b, loc, step)));
}

/// Dropout: the mask bit of an element is splitmix64(seed, counter, linear
/// index) compared with the rate.
struct DropoutLowering : OpConversionPattern<DropoutOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DropoutOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = op.getType();
    int64_t rank = type.getRank();
    Value x = adaptor.getOperand();
    Value init = createEmpty(rewriter, loc, type, dynamicSizesOf(rewriter, loc, x));
    Type element = type.getElementType();
    Value counter = tensor::ExtractOp::create(rewriter, loc, adaptor.getCounter(),
                                              ValueRange{});
    double rate = op.getRate().convertToDouble();
    int64_t seed = op.getSeed();
    SmallVector<AffineMap> maps(2, rewriter.getMultiDimIdentityMap(rank));
    SmallVector<utils::IteratorType> par(rank, utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{x}, ValueRange{init}, maps,
        par, [&](OpBuilder &b, Location l, ValueRange a) {
          auto c = [&](int64_t v) -> Value {
            return arith::ConstantOp::create(b, l, b.getI64IntegerAttr(v));
          };
          Value index = elementIndex(b, l, type);
          Value key = stepKey(b, l, counter, seed);
          Value bits = mix64(b, l, arith::XOrIOp::create(b, l, key, index));
          // 24 random bits -> [0, 1).
          Value top = arith::ShRUIOp::create(b, l, bits, c(40));
          Value u = arith::MulFOp::create(
              b, l, arith::UIToFPOp::create(b, l, element, top),
              floatConstant(b, l, element, 1.0 / 16777216.0));
          Value keep = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, u,
                                             floatConstant(b, l, element, rate));
          Value scaled = arith::MulFOp::create(
              b, l, a[0], floatConstant(b, l, element, 1.0 / (1.0 - rate)));
          Value v = arith::SelectOp::create(b, l, keep, scaled,
                                            floatConstant(b, l, element, 0.0));
          linalg::YieldOp::create(b, l, v);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

/// Normal noise: Box-Muller on two splitmix64 uniforms of (seed, counter,
/// linear index).
struct RandomNormalLowering : OpConversionPattern<RandomNormalOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RandomNormalOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto type = cast<RankedTensorType>(op.getType());
    int64_t rank = type.getRank();
    SmallVector<Value> sizes;
    if (rank > 0 && type.isDynamicDim(0))
      sizes.push_back(
          tensor::DimOp::create(rewriter, loc, adaptor.getBatchOf(), 0));
    Value init = createEmpty(rewriter, loc, type, sizes);
    Type element = type.getElementType();
    Value counter = tensor::ExtractOp::create(rewriter, loc,
                                              adaptor.getCounter(), ValueRange{});
    int64_t seed = op.getSeed();
    SmallVector<AffineMap> maps{rewriter.getMultiDimIdentityMap(rank)};
    SmallVector<utils::IteratorType> par(rank, utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{}, ValueRange{init}, maps,
        par, [&](OpBuilder &b, Location l, ValueRange) {
          auto c = [&](int64_t v) -> Value {
            return arith::ConstantOp::create(b, l, b.getI64IntegerAttr(v));
          };
          Value index = elementIndex(b, l, type);
          Value key = stepKey(b, l, counter, seed);
          Value twice = arith::MulIOp::create(b, l, index, c(2));
          auto uniform = [&](Value k, bool open) -> Value {
            Value bits = mix64(b, l, arith::XOrIOp::create(b, l, key, k));
            Value top = arith::ShRUIOp::create(b, l, bits, c(40));
            if (open) // (0, 1]: the log below stays finite
              top = arith::AddIOp::create(b, l, top, c(1));
            return arith::MulFOp::create(
                b, l, arith::UIToFPOp::create(b, l, element, top),
                floatConstant(b, l, element, 1.0 / 16777216.0));
          };
          Value u1 = uniform(twice, true);
          Value u2 = uniform(arith::AddIOp::create(b, l, twice, c(1)), false);
          Value radius = math::SqrtOp::create(
              b, l,
              arith::MulFOp::create(b, l, floatConstant(b, l, element, -2.0),
                                    math::LogOp::create(b, l, u1)));
          Value angle = arith::MulFOp::create(
              b, l, floatConstant(b, l, element, 6.283185307179586), u2);
          Value z = arith::MulFOp::create(b, l, radius,
                                          math::CosOp::create(b, l, angle));
          linalg::YieldOp::create(b, l, z);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

struct ConstantLowering : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, op.getType(),
                                                   op.getValue());
    return success();
  }
};

struct BroadcastLowering : OpConversionPattern<BroadcastOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BroadcastOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto resultType = op.getType();
    auto operandType = op.getOperand().getType();
    Value init = createEmpty(rewriter, loc, resultType,
                             dynamicSizesOf(rewriter, loc, adaptor.getLike()));
    SmallVector<AffineExpr> exprs;
    for (auto [i, d] : llvm::enumerate(op.getDimensions())) {
      if (operandType.getDimSize(i) == 1 && resultType.getDimSize(d) != 1)
        exprs.push_back(getAffineConstantExpr(0, ctx));
      else
        exprs.push_back(getAffineDimExpr(d, ctx));
    }
    SmallVector<AffineMap> maps{
        AffineMap::get(resultType.getRank(), 0, exprs, ctx),
        rewriter.getMultiDimIdentityMap(resultType.getRank())};
    SmallVector<utils::IteratorType> iterators(resultType.getRank(),
                                               utils::IteratorType::parallel);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{adaptor.getOperand()},
        ValueRange{init}, maps, iterators,
        [](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(b, l, args[0]);
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void mlir::dlc::populateElementwiseLoweringPatterns(
    RewritePatternSet &patterns) {
  MLIRContext *ctx = patterns.getContext();
  patterns.add<ConstantLowering, BroadcastLowering, DropoutLowering,
               RandomNormalLowering>(ctx);
  patterns.add<ElementwiseLowering<AddOp>, ElementwiseLowering<SubOp>,
               ElementwiseLowering<MulOp>, ElementwiseLowering<DivOp>,
               ElementwiseLowering<PowOp>, ElementwiseLowering<NegOp>,
               ElementwiseLowering<ExpOp>, ElementwiseLowering<LogOp>,
               ElementwiseLowering<SqrtOp>, ElementwiseLowering<AbsOp>,
               ElementwiseLowering<ReluOp>, ElementwiseLowering<SigmoidOp>,
               ElementwiseLowering<TanhOp>, ElementwiseLowering<SignOp>,
               ElementwiseLowering<StepOp>, ElementwiseLowering<ErfOp>,
               ElementwiseLowering<StopGradientOp>,
               ElementwiseLowering<LeakyReluOp>, ElementwiseLowering<EluOp>,
               ElementwiseLowering<ClipOp>, ElementwiseLowering<CompareOp>,
               ElementwiseLowering<SelectOp>>(ctx);
}
