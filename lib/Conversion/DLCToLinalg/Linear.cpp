// Lowering of dlc matmul, transpose and reshape.
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

/// A matmul of one output column over a reduction at least this long (a
/// vector of 16) is a row of dot products.
constexpr int64_t kOneColumnMinReduction = 16;

struct MatmulLowering : OpConversionPattern<MatmulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MatmulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    auto resultType = op.getType();
    int64_t lhsRank = op.getLhs().getType().getRank();
    int64_t rhsRank = op.getRhs().getType().getRank();
    SmallVector<Value> sizes;
    if (lhsRank == 2 && resultType.isDynamicDim(0))
      sizes.push_back(tensor::DimOp::create(rewriter, loc, lhs, 0));
    if (rhsRank == 2 && resultType.isDynamicDim(resultType.getRank() - 1))
      sizes.push_back(tensor::DimOp::create(rewriter, loc, rhs, 1));
    Value init = createFilled(rewriter, loc, resultType, sizes, 0.0);
    // Transposed operands (the gradients x^T @ dy and dy @ w^T) are read
    // through the matmul's indexing maps instead of being copied. The
    // register-tiled kernels take either layout: a transposed left operand
    // is broadcast element by element anyway, and a transposed right one
    // makes both operands contiguous along the reduction (a dot kernel,
    // whose sums across lanes at the end are worth it when the reduction is
    // long: 256 or more, or the batch).
    auto transposeOf = [](Value v) -> Value {
      auto t = v.getDefiningOp<TransposeOp>();
      return t && t.getPermutation() == ArrayRef<int64_t>{1, 0}
                 ? t.getOperand()
                 : Value();
    };
    Value lhsT, rhsT;
    if (lhsRank == 2 && rhsRank == 2) {
      lhsT = transposeOf(op.getLhs());
      rhsT = transposeOf(op.getRhs());
      int64_t k = op.getRhs().getType().getDimSize(0);
      int64_t n = op.getRhs().getType().getDimSize(1);
      if (rhsT && !ShapedType::isDynamic(k) && k < 256)
        rhsT = Value();
      // One output column (a discriminator's logit): a row of dot products
      // along the reduction, both operands read along it, instead of
      // vectors of 1 of 16 lanes. The right operand, K x 1, is its own
      // transpose: reshaped to 1 x K, not copied.
      if (!rhsT && n == 1 && !ShapedType::isDynamic(k) &&
          k >= kOneColumnMinReduction) {
        auto rhsType = op.getRhs().getType();
        Value column = tensor::CollapseShapeOp::create(
            rewriter, loc, rhs, ArrayRef<ReassociationIndices>{{0, 1}});
        rhsT = tensor::ExpandShapeOp::create(
            rewriter, loc,
            RankedTensorType::get({1, k}, rhsType.getElementType()), column,
            ArrayRef<ReassociationIndices>{{0, 1}});
      }
    }
    if (lhsT || rhsT) {
      MLIRContext *ctx = rewriter.getContext();
      AffineExpr i, j, k;
      bindDims(ctx, i, j, k);
      SmallVector<AffineMap> maps = {
          AffineMap::get(3, 0, lhsT ? ArrayRef{k, i} : ArrayRef{i, k}, ctx),
          AffineMap::get(3, 0, rhsT ? ArrayRef{j, k} : ArrayRef{k, j}, ctx),
          AffineMap::get(3, 0, {i, j}, ctx)};
      // A named matmul with transposing maps, not a generic: elementwise
      // fusion would otherwise fuse its producers into the contraction,
      // recomputing them in the inner loop.
      SmallVector<Value, 2> inputs{lhsT ? lhsT : lhs, rhsT ? rhsT : rhs};
      auto matmul = linalg::MatmulOp::create(
          rewriter, loc, TypeRange{resultType}, inputs, ValueRange{init},
          {rewriter.getNamedAttr("indexing_maps",
                                 rewriter.getAffineMapArrayAttr(maps))});
      rewriter.replaceOp(op, matmul->getResults());
      return success();
    }
    SmallVector<Value, 2> inputs{lhs, rhs}; // a ValueRange would dangle
    Operation *result;
    if (lhsRank == 2 && rhsRank == 2)
      result = linalg::MatmulOp::create(rewriter, loc, inputs, init);
    else if (lhsRank == 2)
      result = linalg::MatvecOp::create(rewriter, loc, inputs, init);
    else if (rhsRank == 2)
      result = linalg::VecmatOp::create(rewriter, loc, inputs, init);
    else
      result = linalg::DotOp::create(rewriter, loc, inputs, init);
    rewriter.replaceOp(op, result->getResults());
    return success();
  }
};

struct TransposeLowering : OpConversionPattern<TransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto resultType = op.getType();
    SmallVector<Value> sizes;
    for (auto [i, p] : llvm::enumerate(op.getPermutation()))
      if (resultType.isDynamicDim(i))
        sizes.push_back(
            tensor::DimOp::create(rewriter, loc, adaptor.getOperand(), p));
    Value init = createEmpty(rewriter, loc, resultType, sizes);
    auto transpose = linalg::TransposeOp::create(
        rewriter, loc, adaptor.getOperand(), init, op.getPermutation());
    rewriter.replaceOp(op, transpose->getResults());
    return success();
  }
};

struct ReshapeLowering : OpConversionPattern<ReshapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ReshapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto src = op.getOperand().getType();
    auto dst = op.getType();
    Value input = adaptor.getOperand();
    if (src == dst) {
      rewriter.replaceOp(op, input);
      return success();
    }
    if (src.getRank() > dst.getRank()) {
      if (auto reassociation = getReassociationIndicesForReshape(src, dst)) {
        rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(op, dst, input,
                                                             *reassociation);
        return success();
      }
    } else if (src.getRank() < dst.getRank()) {
      if (auto reassociation = getReassociationIndicesForReshape(dst, src)) {
        rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, dst, input,
                                                           *reassociation);
        return success();
      }
    }
    if (!src.hasStaticShape())
      return rewriter.notifyMatchFailure(
          op, "a reshape with a symbolic dimension must be a collapse or an "
              "expansion");
    // A general static reshape: collapse to 1-D, then expand.
    auto flat = RankedTensorType::get({src.getNumElements()},
                                      src.getElementType());
    SmallVector<ReassociationIndices> all(1);
    for (int64_t i = 0; i < src.getRank(); ++i)
      all[0].push_back(i);
    Value collapsed =
        tensor::CollapseShapeOp::create(rewriter, loc, flat, input, all);
    SmallVector<ReassociationIndices> allDst(1);
    for (int64_t i = 0; i < dst.getRank(); ++i)
      allDst[0].push_back(i);
    rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(op, dst, collapsed,
                                                       allDst);
    return success();
  }
};

struct SliceLowering : OpConversionPattern<SliceOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SliceOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto start = static_cast<int64_t>(op.getStart());
    auto end = static_cast<int64_t>(op.getEnd());
    SmallVector<OpFoldResult> offsets, sizes, strides;
    sliceAlong(rewriter, op.getLoc(), adaptor.getOperand(),
               static_cast<int64_t>(op.getAxis()),
               rewriter.getIndexAttr(start), end - start, offsets, sizes,
               strides);
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, op.getType(), adaptor.getOperand(), offsets, sizes, strides);
    return success();
  }
};

struct ConcatLowering : OpConversionPattern<ConcatOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConcatOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto axis = static_cast<int64_t>(op.getAxis());
    Value result = createEmpty(
        rewriter, loc, op.getType(),
        dynamicSizesOf(rewriter, loc, adaptor.getOperands()[0]));
    int64_t start = 0;
    for (Value v : adaptor.getOperands()) {
      int64_t size = cast<RankedTensorType>(v.getType()).getDimSize(axis);
      SmallVector<OpFoldResult> offsets, sizes, strides;
      sliceAlong(rewriter, loc, v, axis, rewriter.getIndexAttr(start), size,
                 offsets, sizes, strides);
      result = tensor::InsertSliceOp::create(rewriter, loc, v, result, offsets,
                                             sizes, strides);
      start += size;
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void mlir::dlc::populateLinearLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<MatmulLowering, TransposeLowering, ReshapeLowering,
               SliceLowering, ConcatLowering>(patterns.getContext());
}
