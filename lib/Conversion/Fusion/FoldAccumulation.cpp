// dlc-fold-accumulation: a sum of a value and a matmul's product becomes
// the matmul accumulating into the value.
#include "dlc/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_FOLDACCUMULATIONPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;

namespace {

/// Whether `value` is a tensor filled with zeros.
bool isZeroFill(Value value) {
  auto fill = value.getDefiningOp<linalg::FillOp>();
  return fill && matchPattern(fill.value(), m_AnyZeroFloat());
}

/// `x + matmul(a, b, zeros)`, elementwise over the same shape, becomes
/// `matmul(a, b, x)`: the kernel starts from `x` instead of zeros, and the
/// loop that added the two is gone (a scan's weight gradient summed over
/// the time steps: 128 x 128 additions a step; the gradients of a weight
/// used twice, as a GAN's discriminator is on real and fake samples).
struct AccumulateIntoMatmul : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op.getNumDpsInputs() != 2 ||
        op.getNumDpsInits() != 1 ||
        op.getNumParallelLoops() != op.getNumLoops() ||
        !llvm::all_of(op.getIndexingMapsArray(),
                      [](AffineMap m) { return m.isIdentity(); }))
      return failure();
    Block *body = op.getBlock();
    auto add = dyn_cast<arith::AddFOp>(body->front());
    if (!add || body->getOperations().size() != 2 ||
        body->getTerminator()->getOperand(0) != add.getResult() ||
        !llvm::is_contained(add->getOperands(), body->getArgument(0)) ||
        !llvm::is_contained(add->getOperands(), body->getArgument(1)) ||
        add.getLhs() == add.getRhs())
      return failure();
    for (unsigned k = 0; k < 2; ++k) {
      Value product = op.getDpsInputOperand(k)->get();
      Value other = op.getDpsInputOperand(1 - k)->get();
      auto matmul = product.getDefiningOp<linalg::MatmulOp>();
      if (!matmul || !matmul->hasOneUse() ||
          !isZeroFill(matmul.getOutputs()[0]) ||
          other.getType() != product.getType() ||
          op.getResult(0).getType() != product.getType())
        continue;
      // The accumulator must exist where the matmul runs.
      if (Operation *def = other.getDefiningOp();
          def && def->getBlock() == matmul->getBlock() &&
          !def->isBeforeInBlock(matmul))
        continue;
      rewriter.modifyOpInPlace(matmul, [&] {
        matmul.getOutputsMutable()[0].set(other);
      });
      rewriter.replaceOp(op, matmul->getResults());
      return success();
    }
    return failure();
  }
};

struct FoldAccumulationPass
    : mlir::dlc::impl::FoldAccumulationPassBase<FoldAccumulationPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<AccumulateIntoMatmul>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
