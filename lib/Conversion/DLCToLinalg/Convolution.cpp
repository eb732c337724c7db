// Lowering of dlc convolution and pooling (NCHW) and their gradients.
#include "LoweringUtils.h"
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

#include <cmath>

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// `x` padded by `padding` (height, width) on both sides with `value`.
Value padSpatial(OpBuilder &b, Location loc, Value x, ArrayRef<int64_t> padding,
                 double value) {
  if (padding[0] == 0 && padding[1] == 0)
    return x;
  auto type = cast<RankedTensorType>(x.getType());
  SmallVector<int64_t> shape(type.getShape());
  shape[2] += 2 * padding[0];
  shape[3] += 2 * padding[1];
  auto padded = RankedTensorType::get(shape, type.getElementType());
  SmallVector<OpFoldResult> low{b.getIndexAttr(0), b.getIndexAttr(0),
                                b.getIndexAttr(padding[0]),
                                b.getIndexAttr(padding[1])};
  SmallVector<OpFoldResult> high = low;
  Value fill = floatConstant(b, loc, type.getElementType(), value);
  return tensor::PadOp::create(b, loc, padded, x, low, high, fill);
}

/// out += lhs * rhs over 7 loops, 4 parallel then 3 reductions, with the
/// given indexing maps: the form of every convolution gradient.
Value convolutionGeneric(OpBuilder &b, Location loc, RankedTensorType type,
                         Value lhs, Value rhs, Value init,
                         ArrayRef<AffineMap> maps) {
  auto par = utils::IteratorType::parallel;
  auto red = utils::IteratorType::reduction;
  SmallVector<utils::IteratorType> iterators{par, par, par, par,
                                             red, red, red};
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{lhs, rhs}, ValueRange{init},
             maps, iterators,
             [](OpBuilder &nb, Location l, ValueRange a) {
               Value product = arith::MulFOp::create(nb, l, a[0], a[1]);
               linalg::YieldOp::create(
                   nb, l, Value(arith::AddFOp::create(nb, l, a[2], product)));
             })
      .getResult(0);
}

/// Output rows narrower than this are computed over the padded width
/// (flatCorrelation): an 8-wide row fills half of an AVX-512 vector.
constexpr int64_t kFlatWidth = 16;

/// Whether a stride-1, dilation-1 correlation with `width` output columns
/// and a `kw`-wide kernel is computed by flatCorrelation.
bool useFlatCorrelation(ArrayRef<int64_t> stride, ArrayRef<int64_t> dilation,
                        int64_t width, int64_t kw) {
  return llvm::all_of(stride, [](int64_t v) { return v == 1; }) &&
         llvm::all_of(dilation, [](int64_t v) { return v == 1; }) &&
         width < kFlatWidth && kw > 1;
}

/// out[n, o, y, x] = sum_{r, i, j} inPad[n, r, y + i, x + j] * filter(o, r,
/// i, j) (with `flip`, inPad[n, r, y + KH - 1 - i, x + KW - 1 - j]), inPad
/// being `in` padded by `pad` (height, width) with zeros, for images
/// narrower than a vector. Each padded image is one row of Hp * Wp
/// elements (and one more padded row, for the last reads past the end), so
/// that an output position q = y Wp + x reads inPad at q + i Wp + j: the
/// output is computed over the padded width, H * Wp contiguous elements
/// (the last Wp - W columns of each row read across the row's end, and are
/// dropped), which fill whole vectors where rows of W would not.
/// `filterMap` maps the loops (n, o, q, r, i, j) to the filter's indices
/// (each of its loops as such: linalg computes the loop ranges from them).
Value flatCorrelation(OpBuilder &b, Location loc, Value in,
                      ArrayRef<int64_t> pad, Value filter, AffineMap filterMap,
                      bool flip, RankedTensorType resultType) {
  MLIRContext *ctx = b.getContext();
  auto inType = cast<RankedTensorType>(in.getType());
  Type element = inType.getElementType();
  int64_t hp = inType.getDimSize(2) + 2 * pad[0] + 1;
  int64_t wp = inType.getDimSize(3) + 2 * pad[1];
  SmallVector<Value> batch = dynamicSizesOf(b, loc, in);
  OpFoldResult n = batch.empty()
                       ? OpFoldResult(b.getIndexAttr(inType.getDimSize(0)))
                       : OpFoldResult(batch[0]);
  auto paddedType = RankedTensorType::get(
      {inType.getDimSize(0), inType.getDimSize(1), hp, wp}, element);
  SmallVector<OpFoldResult> low{b.getIndexAttr(0), b.getIndexAttr(0),
                                b.getIndexAttr(pad[0]), b.getIndexAttr(pad[1])};
  SmallVector<OpFoldResult> high{b.getIndexAttr(0), b.getIndexAttr(0),
                                 b.getIndexAttr(pad[0] + 1),
                                 b.getIndexAttr(pad[1])};
  Value padded = tensor::PadOp::create(b, loc, paddedType, in, low, high,
                                       floatConstant(b, loc, element, 0.0));
  SmallVector<ReassociationIndices> rows{{0}, {1}, {2, 3}};
  Value flat = tensor::CollapseShapeOp::create(b, loc, padded, rows);

  int64_t h = resultType.getDimSize(2), w = resultType.getDimSize(3);
  auto flatType = RankedTensorType::get(
      {resultType.getDimSize(0), resultType.getDimSize(1), h * wp}, element);
  Value init = createFilled(b, loc, flatType, batch, 0.0);
  AffineExpr bn, o, q, r, i, j;
  bindDims(ctx, bn, o, q, r, i, j);
  auto filterType = cast<RankedTensorType>(filter.getType());
  AffineExpr offset =
      flip ? (filterType.getDimSize(2) - 1 - i) * wp +
                 (filterType.getDimSize(3) - 1 - j)
           : i * wp + j;
  SmallVector<AffineMap> maps{AffineMap::get(6, 0, {bn, r, q + offset}, ctx),
                              filterMap, AffineMap::get(6, 0, {bn, o, q}, ctx)};
  auto par = utils::IteratorType::parallel;
  auto red = utils::IteratorType::reduction;
  Value out =
      linalg::GenericOp::create(
          b, loc, TypeRange{flatType}, ValueRange{flat, filter},
          ValueRange{init}, maps,
          SmallVector<utils::IteratorType>{par, par, par, red, red, red},
          [](OpBuilder &nb, Location l, ValueRange a) {
            Value product = arith::MulFOp::create(nb, l, a[0], a[1]);
            linalg::YieldOp::create(
                nb, l, Value(arith::AddFOp::create(nb, l, a[2], product)));
          })
          .getResult(0);
  auto wideType = RankedTensorType::get(
      {resultType.getDimSize(0), resultType.getDimSize(1), h, wp}, element);
  SmallVector<OpFoldResult> wideShape{
      n, b.getIndexAttr(resultType.getDimSize(1)), b.getIndexAttr(h),
      b.getIndexAttr(wp)};
  Value wide =
      tensor::ExpandShapeOp::create(b, loc, wideType, out, rows, wideShape);
  SmallVector<OpFoldResult> offsets(4, b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes{n, b.getIndexAttr(resultType.getDimSize(1)),
                                  b.getIndexAttr(h), b.getIndexAttr(w)};
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  return tensor::ExtractSliceOp::create(b, loc, resultType, wide, offsets,
                                        sizes, strides);
}

struct Conv2DLowering : OpConversionPattern<Conv2DOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(Conv2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = op.getType();
    auto wType = cast<RankedTensorType>(op.getFilter().getType());
    if (useFlatCorrelation(op.getStride(), op.getDilation(),
                           resultType.getDimSize(3), wType.getDimSize(3))) {
      // Loops (n, f, q, c, i, j): w[f, c, i, j].
      MLIRContext *ctx = op.getContext();
      AffineExpr bn, f, q, c, i, j;
      bindDims(ctx, bn, f, q, c, i, j);
      rewriter.replaceOp(
          op, flatCorrelation(rewriter, loc, adaptor.getInput(),
                              op.getPadding(), adaptor.getFilter(),
                              AffineMap::get(6, 0, {f, c, i, j}, ctx),
                              /*flip=*/false, resultType));
      return success();
    }
    Value x = padSpatial(rewriter, loc, adaptor.getInput(), op.getPadding(), 0);
    Value init = createFilled(rewriter, loc, resultType,
                              dynamicSizesOf(rewriter, loc, adaptor.getInput()),
                              0.0);
    auto conv = linalg::Conv2DNchwFchwOp::create(
        rewriter, loc, TypeRange{resultType}, ValueRange{x, adaptor.getFilter()},
        ValueRange{init}, rewriter.getI64TensorAttr(op.getStride()),
        rewriter.getI64TensorAttr(op.getDilation()));
    rewriter.replaceOp(op, conv->getResults());
    return success();
  }
};

/// dfilter[f, c, i, j] = sum_{n, y, x} g[n, f, y, x] * xpad[n, c, y s + i d,
/// x s + j d].
struct Conv2DGradFilterLowering : OpConversionPattern<Conv2DGradFilterOp> {
  using OpConversionPattern::OpConversionPattern;

  /// From this many input channels on, the gradient is computed with the
  /// channels last (below, a vector along them would be mostly masked).
  static constexpr int64_t kChannelsLast = 16;

  /// With the input channels last, dfilter[f, i, j, c] = sum_{n, y, x}
  /// g[n, f, y, x] * xT[n, y s + i d, x s + j d, c] is an outer product of
  /// a broadcast of g and a contiguous vector of xT along c, as the forward
  /// convolution is: dlc-register-tile then gives it full register tiles,
  /// where the channels-first form ends in the 3-wide kernel column and
  /// needs dot tiles (the 3 x 32 x 32 CNN's step: 93 -> 86 ms). The
  /// transposes in (the padded input) and out (the filter) are copies.
  LogicalResult lowerChannelsLast(Conv2DGradFilterOp op, OpAdaptor adaptor,
                                  Value x,
                                  ConversionPatternRewriter &rewriter) const {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto resultType = op.getType(); // [F, C, KH, KW]
    auto xType = cast<RankedTensorType>(x.getType());
    SmallVector<Value> batch = dynamicSizesOf(rewriter, loc, x);
    auto xtType = RankedTensorType::get(
        {xType.getDimSize(0), xType.getDimSize(2), xType.getDimSize(3),
         xType.getDimSize(1)},
        xType.getElementType());
    Value xt = linalg::TransposeOp::create(
                   rewriter, loc, x,
                   createEmpty(rewriter, loc, xtType, batch),
                   ArrayRef<int64_t>{0, 2, 3, 1})
                   ->getResult(0);
    auto dwtType = RankedTensorType::get(
        {resultType.getDimSize(0), resultType.getDimSize(2),
         resultType.getDimSize(3), resultType.getDimSize(1)},
        resultType.getElementType());
    Value init = createFilled(rewriter, loc, dwtType, {}, 0.0);
    // Loops: f i j c n y x.
    AffineExpr f, i, j, c, n, y, xx;
    bindDims(ctx, f, i, j, c, n, y, xx);
    ArrayRef<int64_t> s = op.getStride(), d = op.getDilation();
    SmallVector<AffineMap> maps{
        AffineMap::get(7, 0, {n, f, y, xx}, ctx),
        AffineMap::get(7, 0, {n, y * s[0] + i * d[0], xx * s[1] + j * d[1], c},
                       ctx),
        AffineMap::get(7, 0, {f, i, j, c}, ctx)};
    Value dwt = convolutionGeneric(rewriter, loc, dwtType, adaptor.getGrad(),
                                   xt, init, maps);
    rewriter.replaceOpWithNewOp<linalg::TransposeOp>(
        op, dwt, createEmpty(rewriter, loc, resultType, {}),
        ArrayRef<int64_t>{0, 3, 1, 2});
    return success();
  }
  LogicalResult
  matchAndRewrite(Conv2DGradFilterOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    Value x = padSpatial(rewriter, loc, adaptor.getInput(), op.getPadding(), 0);
    auto resultType = op.getType();
    if (resultType.getDimSize(1) >= kChannelsLast)
      return lowerChannelsLast(op, adaptor, x, rewriter);
    Value init = createFilled(rewriter, loc, resultType, {}, 0.0);
    // Loops: f c i j n y x.
    AffineExpr f, c, i, j, n, y, xx;
    bindDims(ctx, f, c, i, j, n, y, xx);
    ArrayRef<int64_t> s = op.getStride(), d = op.getDilation();
    SmallVector<AffineMap> maps{
        AffineMap::get(7, 0, {n, f, y, xx}, ctx),
        AffineMap::get(7, 0, {n, c, y * s[0] + i * d[0], xx * s[1] + j * d[1]},
                       ctx),
        AffineMap::get(7, 0, {f, c, i, j}, ctx)};
    rewriter.replaceOp(op, convolutionGeneric(rewriter, loc, resultType,
                                              adaptor.getGrad(), x, init,
                                              maps));
    return success();
  }
};

/// The transposed convolution: the output gradient is spread out by the
/// stride into a zero tensor padded by (K - 1) d, then correlated with the
/// flipped filter over the unpadded input positions only.
struct Conv2DGradInputLowering : OpConversionPattern<Conv2DGradInputOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(Conv2DGradInputOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    auto inType = op.getType(); // [N, C, H, W]
    auto gType = cast<RankedTensorType>(op.getGrad().getType());
    auto wType = cast<RankedTensorType>(op.getFilter().getType());
    ArrayRef<int64_t> s = op.getStride(), p = op.getPadding(),
                      d = op.getDilation();
    int64_t kh = wType.getDimSize(2), kw = wType.getDimSize(3);
    int64_t hp = inType.getDimSize(2) + 2 * p[0];
    int64_t wp = inType.getDimSize(3) + 2 * p[1];
    int64_t offH = (kh - 1) * d[0], offW = (kw - 1) * d[1];
    Type element = inType.getElementType();
    Value g = adaptor.getGrad();
    if (useFlatCorrelation(s, d, inType.getDimSize(3), kw) && p[0] < kh &&
        p[1] < kw) {
      // dx = g padded by K - 1 - p, correlated with the flipped filter:
      // loops (n, c, q, f, i, j) read w[f, c, i, j] and g's flipped window.
      AffineExpr bn, c, q, f, i, j;
      bindDims(ctx, bn, c, q, f, i, j);
      rewriter.replaceOp(
          op, flatCorrelation(rewriter, loc, g, {kh - 1 - p[0], kw - 1 - p[1]},
                              adaptor.getFilter(),
                              AffineMap::get(6, 0, {f, c, i, j}, ctx),
                              /*flip=*/true, inType));
      return success();
    }
    SmallVector<Value> batch = dynamicSizesOf(rewriter, loc, g);

    // The spread gradient: [N, F, Hp + (KH-1) d, Wp + (KW-1) d].
    auto spreadType = RankedTensorType::get(
        {gType.getDimSize(0), gType.getDimSize(1), hp + offH, wp + offW},
        element);
    Value zeros = createFilled(rewriter, loc, spreadType, batch, 0.0);
    OpFoldResult n = batch.empty() ? OpFoldResult(rewriter.getIndexAttr(
                                         gType.getDimSize(0)))
                                   : OpFoldResult(batch[0]);
    SmallVector<OpFoldResult> offsets{rewriter.getIndexAttr(0),
                                      rewriter.getIndexAttr(0),
                                      rewriter.getIndexAttr(offH),
                                      rewriter.getIndexAttr(offW)};
    SmallVector<OpFoldResult> sizes{
        n, rewriter.getIndexAttr(gType.getDimSize(1)),
        rewriter.getIndexAttr(gType.getDimSize(2)),
        rewriter.getIndexAttr(gType.getDimSize(3))};
    SmallVector<OpFoldResult> strides{
        rewriter.getIndexAttr(1), rewriter.getIndexAttr(1),
        rewriter.getIndexAttr(s[0]), rewriter.getIndexAttr(s[1])};
    Value spread = tensor::InsertSliceOp::create(rewriter, loc, g, zeros,
                                                 offsets, sizes, strides);

    // dx[n, c, y, x] = dxpad[n, c, y + p, x + p] = sum_{f, i, j}
    // spread[n, f, y + p + (KH-1-i) d, x + p + (KW-1-j) d] * w[f, c, i, j]:
    // only the unpadded part is computed.
    Value init = createFilled(rewriter, loc, inType, batch, 0.0);
    AffineExpr bn, c, y, x, f, i, j;
    bindDims(ctx, bn, c, y, x, f, i, j);
    SmallVector<AffineMap> maps{
        AffineMap::get(7, 0,
                       {bn, f, y + p[0] + (kh - 1) * d[0] - i * d[0],
                        x + p[1] + (kw - 1) * d[1] - j * d[1]},
                       ctx),
        AffineMap::get(7, 0, {f, c, i, j}, ctx),
        AffineMap::get(7, 0, {bn, c, y, x}, ctx)};
    rewriter.replaceOp(op, convolutionGeneric(rewriter, loc, inType, spread,
                                              adaptor.getFilter(), init,
                                              maps));
    return success();
  }
};

struct Pool2DLowering : OpConversionPattern<Pool2DOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(Pool2DOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    bool isMax = op.getKind() == PoolKind::max;
    Value x = padSpatial(rewriter, loc, adaptor.getInput(), op.getPadding(),
                         isMax ? -INFINITY : 0.0);
    auto resultType = op.getType();
    Type element = resultType.getElementType();
    SmallVector<Value> batch = dynamicSizesOf(rewriter, loc, adaptor.getInput());
    Value init =
        createFilled(rewriter, loc, resultType, batch, isMax ? -INFINITY : 0.0);
    ArrayRef<int64_t> k = op.getKernel();
    Value window = tensor::EmptyOp::create(rewriter, loc, k, element);
    Attribute strides = rewriter.getI64TensorAttr(op.getStride());
    Attribute dilations = rewriter.getI64TensorAttr({1, 1});
    Value pooled;
    if (isMax)
      pooled = linalg::PoolingNchwMaxOp::create(
                   rewriter, loc, TypeRange{resultType}, ValueRange{x, window},
                   ValueRange{init}, strides, dilations)
                   ->getResult(0);
    else
      pooled = linalg::PoolingNchwSumOp::create(
                   rewriter, loc, TypeRange{resultType}, ValueRange{x, window},
                   ValueRange{init}, strides, dilations)
                   ->getResult(0);
    if (!isMax) {
      Value scale = floatConstant(rewriter, loc, element, 1.0 / (k[0] * k[1]));
      Value out = createEmpty(rewriter, loc, resultType, batch);
      int64_t rank = resultType.getRank();
      SmallVector<AffineMap> maps(2, rewriter.getMultiDimIdentityMap(rank));
      SmallVector<utils::IteratorType> par(rank, utils::IteratorType::parallel);
      pooled = linalg::GenericOp::create(
                   rewriter, loc, TypeRange{resultType}, ValueRange{pooled},
                   ValueRange{out}, maps, par,
                   [&](OpBuilder &b, Location l, ValueRange a) {
                     linalg::YieldOp::create(
                         b, l, Value(arith::MulFOp::create(b, l, a[0], scale)));
                   })
                   .getResult(0);
    }
    rewriter.replaceOp(op, pooled);
    return success();
  }
};

/// dx[n, c, y, x] = sum over the windows that contain (y, x) of the window's
/// gradient (avg: divided by the window size; max: where x equals the
/// window's maximum). The window of a position is found in the body, so any
/// kernel, stride and padding work.
struct Pool2DGradLowering : OpConversionPattern<Pool2DGradOp> {
  using OpConversionPattern::OpConversionPattern;

  /// Whether the windows tile the input: stride = kernel, no padding, and
  /// sizes divisible by the kernel (the usual 2 x 2 pool).
  static bool isTiling(RankedTensorType in, ArrayRef<int64_t> k,
                       ArrayRef<int64_t> s, ArrayRef<int64_t> p) {
    return s == k && p[0] == 0 && p[1] == 0 &&
           in.getDimSize(2) % k[0] == 0 && in.getDimSize(3) % k[1] == 0;
  }

  /// Then every input position lies in exactly one window, (y / kh, x / kw):
  /// the gradient is elementwise over the input, with no search over the
  /// windows that could contain each position.
  LogicalResult lowerTiling(Pool2DGradOp op, OpAdaptor adaptor,
                            ArrayRef<Value> batch,
                            ConversionPatternRewriter &rewriter) const {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    bool isMax = op.getKind() == PoolKind::max;
    auto inType = op.getType();
    Type element = inType.getElementType();
    ArrayRef<int64_t> k = op.getKernel();
    Value init = createEmpty(rewriter, loc, inType, batch);
    AffineExpr n, c, h, w;
    bindDims(ctx, n, c, h, w);
    AffineMap at = AffineMap::get(4, 0, {n, c, h, w}, ctx);
    AffineMap window =
        AffineMap::get(4, 0, {n, c, h.floorDiv(k[0]), w.floorDiv(k[1])}, ctx);
    double scale = isMax ? 1.0 : 1.0 / (k[0] * k[1]);
    SmallVector<utils::IteratorType> iterators(4,
                                               utils::IteratorType::parallel);
    rewriter.replaceOpWithNewOp<linalg::GenericOp>(
        op, TypeRange{inType},
        ValueRange{adaptor.getInput(), adaptor.getOutput(), adaptor.getGrad()},
        ValueRange{init}, SmallVector<AffineMap>{at, window, window, at},
        iterators, [&](OpBuilder &b, Location l, ValueRange a) {
          Value result;
          if (isMax) {
            Value hit = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                              a[0], a[1]);
            result = arith::SelectOp::create(b, l, hit, a[2],
                                             floatConstant(b, l, element, 0.0));
          } else {
            result = arith::MulFOp::create(b, l, a[2],
                                           floatConstant(b, l, element, scale));
          }
          linalg::YieldOp::create(b, l, result);
        });
    return success();
  }
  LogicalResult
  matchAndRewrite(Pool2DGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *ctx = op.getContext();
    bool isMax = op.getKind() == PoolKind::max;
    auto inType = op.getType();
    auto outType = cast<RankedTensorType>(op.getOutput().getType());
    Type element = inType.getElementType();
    ArrayRef<int64_t> k = op.getKernel(), s = op.getStride(),
                      p = op.getPadding();
    SmallVector<Value> batch = dynamicSizesOf(rewriter, loc, adaptor.getInput());
    if (isTiling(inType, k, s, p))
      return lowerTiling(op, adaptor, batch, rewriter);
    Value init = createFilled(rewriter, loc, inType, batch, 0.0);
    Value window = tensor::EmptyOp::create(rewriter, loc, k, element);
    Value g = adaptor.getGrad(), y = adaptor.getOutput();
    AffineExpr n, c, h, w, i, j;
    bindDims(ctx, n, c, h, w, i, j);
    SmallVector<AffineMap> maps{AffineMap::get(6, 0, {n, c, h, w}, ctx),
                                AffineMap::get(6, 0, {i, j}, ctx),
                                AffineMap::get(6, 0, {n, c, h, w}, ctx)};
    auto par = utils::IteratorType::parallel;
    auto red = utils::IteratorType::reduction;
    SmallVector<utils::IteratorType> iterators{par, par, par, par, red, red};
    int64_t outH = outType.getDimSize(2), outW = outType.getDimSize(3);
    double scale = isMax ? 1.0 : 1.0 / (k[0] * k[1]);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{inType},
        ValueRange{adaptor.getInput(), window}, ValueRange{init}, maps,
        iterators, [&](OpBuilder &b, Location l, ValueRange a) {
          auto cst = [&](int64_t v) -> Value {
            return arith::ConstantIndexOp::create(b, l, v);
          };
          Value zero = cst(0);
          // The window (oy, ox) that has (y, x) at offset (i, j):
          // y + p - i = oy s. Valid when divisible and in range.
          auto locate = [&](int64_t dim, int64_t kDim, int64_t stride,
                            int64_t pad, int64_t outSize,
                            Value &valid) -> Value {
            Value pos = linalg::IndexOp::create(b, l, dim);
            Value off = linalg::IndexOp::create(b, l, kDim);
            Value t = arith::SubIOp::create(
                b, l, arith::AddIOp::create(b, l, pos, cst(pad)), off);
            Value q = arith::DivSIOp::create(b, l, t, cst(stride));
            Value r = arith::RemSIOp::create(b, l, t, cst(stride));
            Value ok = arith::AndIOp::create(
                b, l,
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge, t, zero),
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, r, zero));
            ok = arith::AndIOp::create(
                b, l, ok,
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, q,
                                      cst(outSize)));
            valid = valid ? arith::AndIOp::create(b, l, valid, ok).getResult()
                          : ok;
            // Clamped, so that the extract is always in bounds.
            Value lo = arith::MaxSIOp::create(b, l, q, zero);
            return arith::MinSIOp::create(b, l, lo, cst(outSize - 1));
          };
          Value valid;
          Value oy = locate(2, 4, s[0], p[0], outH, valid);
          Value ox = locate(3, 5, s[1], p[1], outW, valid);
          Value bn = linalg::IndexOp::create(b, l, 0);
          Value bc = linalg::IndexOp::create(b, l, 1);
          Value grad = tensor::ExtractOp::create(b, l, g,
                                                 ValueRange{bn, bc, oy, ox});
          if (isMax) {
            Value best = tensor::ExtractOp::create(b, l, y,
                                                   ValueRange{bn, bc, oy, ox});
            Value hit = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ,
                                              a[0], best);
            valid = arith::AndIOp::create(b, l, valid, hit);
          } else {
            grad = arith::MulFOp::create(b, l, grad,
                                         floatConstant(b, l, element, scale));
          }
          Value contribution = arith::SelectOp::create(
              b, l, valid, grad, floatConstant(b, l, element, 0.0));
          linalg::YieldOp::create(
              b, l, Value(arith::AddFOp::create(b, l, a[2], contribution)));
        });
    rewriter.replaceOp(op, generic.getResults());
    return success();
  }
};

} // namespace

void mlir::dlc::populateConvolutionLoweringPatterns(
    RewritePatternSet &patterns) {
  patterns.add<Conv2DLowering, Conv2DGradFilterLowering,
               Conv2DGradInputLowering, Pool2DLowering, Pool2DGradLowering>(
      patterns.getContext());
}
