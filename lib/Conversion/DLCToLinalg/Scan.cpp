// Lowering of dlc.scan to scf.for over tensors, and of dlc.fill.
#include "LoweringUtils.h"
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::dlc;

namespace {

struct ScanLowering : OpConversionPattern<ScanOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ScanOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto axis = static_cast<int64_t>(op.getAxis());
    int64_t length = op.getLength();
    unsigned numCarries = op.getInits().size();
    Block &body = op.getBody().front();
    auto yield = cast<YieldOp>(body.getTerminator());

    // Stacked outputs start empty; their batch size is the first
    // sequence's (every symbolic dimension is the batch).
    Value firstSeq = adaptor.getSequences()[0];
    SmallVector<Value> iterInit(adaptor.getInits());
    for (Value stacked : op.getStacked()) {
      auto type = cast<RankedTensorType>(stacked.getType());
      SmallVector<Value> sizes;
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (type.isDynamicDim(d))
          sizes.push_back(tensor::DimOp::create(rewriter, loc, firstSeq, 0));
      iterInit.push_back(createEmpty(rewriter, loc, type, sizes));
    }
    Value lb = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value ub = arith::ConstantIndexOp::create(rewriter, loc, length);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    auto loop = scf::ForOp::create(
        rewriter, loc, lb, ub, one, iterInit,
        [&](OpBuilder &b, Location l, Value iv, ValueRange iter) {
          Value t = iv;
          if (op.getReverse())
            t = arith::SubIOp::create(
                b, l, arith::ConstantIndexOp::create(b, l, length - 1), iv);
          IRMapping map;
          map.map(body.getArguments().take_front(numCarries),
                  iter.take_front(numCarries));
          for (auto [arg, seq] :
               llvm::zip(body.getArguments().slice(numCarries,
                                                   op.getSequences().size()),
                         adaptor.getSequences())) {
            SmallVector<OpFoldResult> offsets, sizes, strides;
            sliceAlong(b, l, seq, axis, t, 1, offsets, sizes, strides);
            Value slice = tensor::ExtractSliceOp::create(
                b, l, cast<RankedTensorType>(arg.getType()), seq, offsets,
                sizes, strides);
            map.map(arg, slice);
          }
          map.map(body.getArguments().take_back(op.getInvariants().size()),
                  adaptor.getInvariants());
          for (Operation &inner : body.without_terminator())
            b.clone(inner, map);
          SmallVector<Value> next;
          for (unsigned i = 0; i < numCarries; ++i)
            next.push_back(map.lookupOrDefault(yield.getOperand(i)));
          for (auto [j, stack] :
               llvm::enumerate(iter.drop_front(numCarries))) {
            Value y = map.lookupOrDefault(yield.getOperand(numCarries + j));
            SmallVector<OpFoldResult> offsets, sizes, strides;
            sliceAlong(b, l, stack, axis, t, 1, offsets, sizes, strides);
            next.push_back(tensor::InsertSliceOp::create(b, l, y, stack,
                                                         offsets, sizes,
                                                         strides));
          }
          scf::YieldOp::create(b, l, next);
        });
    rewriter.replaceOp(op, loop.getResults());
    return success();
  }
};

struct FillLowering : OpConversionPattern<FillOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(FillOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto type = op.getType();
    SmallVector<Value> sizes;
    if (type.getRank() > 0 && type.isDynamicDim(0))
      sizes.push_back(tensor::DimOp::create(rewriter, op.getLoc(),
                                            adaptor.getBatchOf(), 0));
    rewriter.replaceOp(op, createFilled(rewriter, op.getLoc(), type, sizes,
                                        op.getValue().convertToDouble()));
    return success();
  }
};

} // namespace

void mlir::dlc::populateScanLoweringPatterns(RewritePatternSet &patterns) {
  patterns.add<ScanLowering, FillLowering>(patterns.getContext());
}
