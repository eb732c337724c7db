// dlc-merge-updates: an elementwise op whose result is both returned and
// read by another elementwise op merges into that op (an optimizer's state
// update into the parameter's update): one loop, several results.
#include "dlc/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_MERGEUPDATESPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;

namespace {

/// Whether the producer of `operand` merges into its consumer: both
/// elementwise over the same loops, in one block, and the producer's other
/// users only the function's return (its result is an output, such as an
/// Adam moment, which the merged op then yields as well). Upstream fusion
/// skips such producers (they have users other than the consumer), and
/// their loops stay separate: Adam was three loops over each parameter
/// (m, v, the update), each loading what the last stored.
bool mergesIntoConsumer(OpOperand *operand) {
  auto producer = operand->get().getDefiningOp<linalg::GenericOp>();
  auto consumer = dyn_cast<linalg::GenericOp>(operand->getOwner());
  if (!producer || !consumer || producer->getBlock() != consumer->getBlock() ||
      !producer.hasPureTensorSemantics() || !linalg::isElementwise(producer) ||
      !linalg::isElementwise(consumer) ||
      producer.getNumLoops() != consumer.getNumLoops() ||
      !linalg::areElementwiseOpsFusable(operand))
    return false;
  bool returned = false;
  for (Operation *user : producer->getUsers()) {
    if (user == consumer)
      continue;
    if (!isa<func::ReturnOp>(user))
      return false;
    returned = true;
  }
  return returned;
}

struct MergeIntoConsumer : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp consumer,
                                PatternRewriter &rewriter) const override {
    for (OpOperand *operand : consumer.getDpsInputOperands()) {
      if (!mergesIntoConsumer(operand))
        continue;
      Operation *producer = operand->get().getDefiningOp();
      FailureOr<linalg::ElementwiseOpFusionResult> fused =
          linalg::fuseElementwiseOps(rewriter, operand);
      if (failed(fused))
        return failure();
      for (auto [value, replacement] : fused->replacements)
        rewriter.replaceAllUsesWith(value, replacement);
      rewriter.eraseOp(consumer);
      if (producer->use_empty())
        rewriter.eraseOp(producer);
      return success();
    }
    return failure();
  }
};

struct MergeUpdatesPass
    : mlir::dlc::impl::MergeUpdatesPassBase<MergeUpdatesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<MergeIntoConsumer>(&getContext());
    // A merged op reads some inputs twice (the gradient, for m and for v):
    // once each, so that dlc-register-tile's epilogue matcher sees the
    // contraction's output read once.
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
