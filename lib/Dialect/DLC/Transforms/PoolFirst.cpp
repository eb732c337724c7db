// dlc-pool-first: max pooling before a ReLU and a per-channel bias, not
// after.
#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_POOLFIRSTPASS
#include "dlc/Dialect/DLC/Transforms/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// Whether `b`, added to an NCHW tensor, is the same within every window of
/// a pooling: a scalar, or a per-channel bias `[C, 1, 1]`.
bool isConstantPerWindow(Value b) {
  auto type = cast<RankedTensorType>(b.getType());
  int64_t rank = type.getRank();
  return rank == 0 || (rank >= 2 && type.getDimSize(rank - 1) == 1 &&
                       type.getDimSize(rank - 2) == 1);
}

/// max_pool(relu(x + b)) -> relu(max_pool(x) + b): a maximum commutes with
/// a non-decreasing function and with adding what is constant in its
/// window, NaN included (maximumf propagates it either way). The bias and
/// the ReLU then run on a quarter of the elements (2 x 2 windows), in the
/// forward pass and in the gradient: the 3 x 32 x 32 CNN's conv2 output is
/// 16 MB, its pooled output 4 MB. The gradient is the same: where a window
/// ties at zero after the ReLU, both forms give zero.
struct PoolBeforeReLU : OpRewritePattern<Pool2DOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(Pool2DOp pool,
                                PatternRewriter &rewriter) const override {
    if (pool.getKind() != PoolKind::max ||
        llvm::any_of(pool.getPadding(), [](int64_t p) { return p != 0; }))
      return failure();
    auto relu = pool.getInput().getDefiningOp<ReluOp>();
    if (!relu || !relu->hasOneUse())
      return failure();
    Value x = relu.getOperand();
    Value bias;
    if (auto add = x.getDefiningOp<AddOp>(); add && add->hasOneUse()) {
      auto inputType = cast<RankedTensorType>(pool.getInput().getType());
      for (auto [lhs, rhs] :
           {std::pair(add.getLhs(), add.getRhs()),
            std::pair(add.getRhs(), add.getLhs())})
        if (!bias && lhs.getType() == inputType && isConstantPerWindow(rhs)) {
          x = lhs;
          bias = rhs;
        }
    }
    Location loc = pool.getLoc();
    Value pooled =
        Pool2DOp::create(rewriter, loc, pool.getKind(), x, pool.getKernel(),
                         pool.getStride(), pool.getPadding());
    if (bias)
      pooled = AddOp::create(rewriter, loc, pooled, bias);
    rewriter.replaceOpWithNewOp<ReluOp>(pool, pooled);
    return success();
  }
};

struct PoolFirstPass : mlir::dlc::impl::PoolFirstPassBase<PoolFirstPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<PoolBeforeReLU>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
