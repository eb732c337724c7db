// dlc-collapse-elementwise: elementwise ops over contiguous dimensions become
// ops over fewer, longer dimensions.
#include "dlc/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_COLLAPSEELEMENTWISEPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;

namespace {

/// Runs of consecutive loops that every operand indexes as one contiguous
/// run (or not at all), greedily from the outermost; empty when nothing
/// merges.
SmallVector<ReassociationIndices> collapsibleRuns(linalg::LinalgOp op) {
  if (op.getNumReductionLoops() != 0 || op.getNumLoops() < 2 ||
      op.hasIndexSemantics() || !isa<linalg::GenericOp>(op))
    return {};
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  // collapseOpIterationDims handles permutations and broadcasts, not
  // constant indices (a [C, 1, 1] bias read at (c, 0, 0)).
  if (!llvm::all_of(maps, [](AffineMap m) { return m.isProjectedPermutation(); }))
    return {};
  // Only loops of static extent merge: the batch stays a dimension of its
  // own, so every dynamic size is still the batch (dlc-plan-memory relies
  // on it).
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  auto isStatic = [&](int64_t d) { return !ShapedType::isDynamic(ranges[d]); };
  SmallVector<ReassociationIndices> runs;
  ReassociationIndices run{0};
  for (int64_t d = 1; d < op.getNumLoops(); ++d) {
    ReassociationIndices longer = run;
    longer.push_back(d);
    if (isStatic(d) && isStatic(run.front()) &&
        linalg::areDimSequencesPreserved(maps, {longer})) {
      run = longer;
      continue;
    }
    runs.push_back(run);
    run = {d};
  }
  runs.push_back(run);
  if (runs.size() == op.getNumLoops())
    return {};
  // Only the runs that merge something are passed on.
  SmallVector<ReassociationIndices> merged;
  for (ReassociationIndices &r : runs)
    if (r.size() > 1)
      merged.push_back(r);
  return merged;
}

struct CollapseElementwisePass
    : mlir::dlc::impl::CollapseElementwisePassBase<CollapseElementwisePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    linalg::populateCollapseDimensions(patterns, collapsibleRuns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
