// dlc-parallelize: the outer parallel loop of a large linalg op becomes an
// scf.parallel (and then an OpenMP work-sharing loop).
#include "dlc/Conversion/Passes.h"
#include "LoopUtils.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_PARALLELIZEPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;

namespace {

/// Rewrites an scf.parallel without reductions as nested scf.for loops.
void sequentialize(RewriterBase &rewriter, scf::ParallelOp loop) {
  rewriter.setInsertionPoint(loop);
  Location loc = loop.getLoc();
  IRMapping map;
  OpBuilder::InsertionGuard guard(rewriter);
  for (auto [iv, lb, ub, step] :
       llvm::zip(loop.getInductionVars(), loop.getLowerBound(),
                 loop.getUpperBound(), loop.getStep())) {
    auto forOp = scf::ForOp::create(rewriter, loc, lb, ub, step);
    map.map(iv, forOp.getInductionVar());
    rewriter.setInsertionPoint(forOp.getBody()->getTerminator());
  }
  for (Operation &op : loop.getBody()->without_terminator())
    rewriter.clone(op, map);
  rewriter.eraseOp(loop);
}

struct ParallelizePass
    : mlir::dlc::impl::ParallelizePassBase<ParallelizePass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> large;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op.hasPureBufferSemantics() || op.getNumParallelLoops() == 0)
        return;
      if (mlir::dlc::staticPoints(op.getStaticLoopRanges()) >= minWork)
        large.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : large) {
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::LinalgLoops> loops =
          linalg::linalgOpToParallelLoops(rewriter, op);
      if (failed(loops))
        continue;
      rewriter.eraseOp(op);
      // Only the outermost parallel loop runs on threads.
      SmallVector<scf::ParallelOp> inner;
      for (Operation *loop : *loops)
        if (auto parallel = dyn_cast<scf::ParallelOp>(loop);
            parallel && parallel->getParentOfType<scf::ParallelOp>())
          inner.push_back(parallel);
      for (scf::ParallelOp loop : llvm::reverse(inner))
        sequentialize(rewriter, loop);
    }
  }
};

} // namespace
