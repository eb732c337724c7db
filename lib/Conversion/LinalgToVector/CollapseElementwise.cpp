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

/// Runs of consecutive loops of one iterator type that every operand
/// indexes as one contiguous run (or not at all), greedily from the
/// outermost; empty when nothing merges. Reductions too: a conv bias's
/// gradient sums 8 x 8 pixels as one run of 64, which dlc-register-tile
/// sums with vectors (its rows of 8 were scalar loops).
SmallVector<ReassociationIndices> collapsibleRuns(linalg::LinalgOp op) {
  if (op.getNumLoops() < 2 || op.hasIndexSemantics() ||
      !isa<linalg::GenericOp>(op))
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
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<ReassociationIndices> runs;
  ReassociationIndices run{0};
  for (int64_t d = 1; d < op.getNumLoops(); ++d) {
    ReassociationIndices longer = run;
    longer.push_back(d);
    if (isStatic(d) && isStatic(run.front()) &&
        iterators[d] == iterators[run.front()] &&
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

/// An input read at a constant 0 along a dimension of size 1 (a conv bias
/// `[C, 1, 1]` read at `(c, 0, 0)`) is read through a collapsed tensor
/// without those dimensions, so that the op's maps are projected
/// permutations again.
void dropUnitConstantIndices(linalg::GenericOp op, OpBuilder &b) {
  for (OpOperand *input : op.getDpsInputOperands()) {
    auto type = dyn_cast<RankedTensorType>(input->get().getType());
    AffineMap map = op.getMatchingIndexingMap(input);
    if (!type || type.getRank() == 0)
      continue;
    SmallVector<int64_t> kept;
    for (auto [k, e] : llvm::enumerate(map.getResults())) {
      auto cst = dyn_cast<AffineConstantExpr>(e);
      if (!(cst && cst.getValue() == 0 && type.getDimSize(k) == 1))
        kept.push_back(k);
    }
    if (kept.size() == map.getNumResults())
      continue;
    // Each kept dimension takes the dropped ones after it; the first kept
    // one also those before it. With none kept, the result is 0-d.
    SmallVector<ReassociationIndices> groups;
    if (!kept.empty()) {
      for (int64_t k = 0; k < type.getRank(); ++k) {
        if (llvm::is_contained(kept, k) && k != kept.front())
          groups.push_back({});
        if (groups.empty())
          groups.push_back({});
        groups.back().push_back(k);
      }
    }
    SmallVector<int64_t> shape;
    SmallVector<AffineExpr> results;
    for (int64_t k : kept) {
      shape.push_back(type.getDimSize(k));
      results.push_back(map.getResult(k));
    }
    b.setInsertionPoint(op);
    Value collapsed = tensor::CollapseShapeOp::create(
        b, op.getLoc(), RankedTensorType::get(shape, type.getElementType()),
        input->get(), groups);
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    maps[input->getOperandNumber()] =
        AffineMap::get(map.getNumDims(), 0, results, op.getContext());
    input->set(collapsed);
    op.setIndexingMapsAttr(b.getAffineMapArrayAttr(maps));
  }
}

struct CollapseElementwisePass
    : mlir::dlc::impl::CollapseElementwisePassBase<CollapseElementwisePass> {
  void runOnOperation() override {
    OpBuilder builder(&getContext());
    getOperation().walk([&](linalg::GenericOp op) {
      if (op.getNumReductionLoops() == 0 && !op.hasIndexSemantics())
        dropUnitConstantIndices(op, builder);
    });
    RewritePatternSet patterns(&getContext());
    linalg::populateCollapseDimensions(patterns, collapsibleRuns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
