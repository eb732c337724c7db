// dlc-vectorize-linalg: linalg ops with static shapes become vector ops;
// small ops over the batch, one row at a time.
#include "dlc/Conversion/Passes.h"
#include "LoopUtils.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_VECTORIZELINALGPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using mlir::dlc::isMulAdd;
using mlir::dlc::staticPoints;

namespace {
/// The largest iteration space vectorized as one vector (64 AVX-512 lanes
/// of f32 times 4 registers).
constexpr int64_t kMaxVectorElements = 256;

/// Whether `op`, with the batch among its loops, is vectorized a row at a
/// time: a generic whose static loops make a small row (the 10 classes of
/// a softmax or cross-entropy, which LLVM leaves scalar), other than a
/// contraction (dlc-register-tile's).
bool isRowVectorizable(linalg::LinalgOp op) {
  if (!isa<linalg::GenericOp>(op) || op.hasIndexSemantics() || isMulAdd(op))
    return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t points = staticPoints(ranges);
  return points >= 2 && points <= kMaxVectorElements;
}

struct VectorizeLinalgPass
    : mlir::dlc::impl::VectorizeLinalgPassBase<VectorizeLinalgPass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> candidates, rows;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op.hasPureTensorSemantics())
        return;
      if (op.hasDynamicShape()) {
        if (isRowVectorizable(op))
          rows.push_back(op);
        return;
      }
      // Without tiling, vectorizing a large op makes one huge vector that
      // LLVM unrolls (and compiles slowly); those stay loops for LLVM's loop
      // vectorizer (or dlc-register-tile, for contractions).
      if (staticPoints(op.getStaticLoopRanges()) > kMaxVectorElements)
        return;
      if (succeeded(linalg::vectorizeOpPrecondition(op)))
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    // Ops over the batch: the batch loop tiled by 1 (TilingInterface), each
    // row a static op to vectorize.
    for (linalg::LinalgOp op : rows) {
      SmallVector<OpFoldResult> sizes;
      for (int64_t range : op.getStaticLoopRanges())
        sizes.push_back(rewriter.getIndexAttr(ShapedType::isDynamic(range) ? 1 : 0));
      scf::SCFTilingOptions options;
      options.setTileSizes(sizes);
      rewriter.setInsertionPoint(op);
      FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
          rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled))
        continue; // stays a loop nest; not an error
      rewriter.replaceOp(op, tiled->replacements);
      for (Operation *row : tiled->tiledOps)
        if (auto linalgOp = dyn_cast<linalg::LinalgOp>(row);
            linalgOp && !linalgOp.hasDynamicShape() &&
            succeeded(linalg::vectorizeOpPrecondition(linalgOp)))
          candidates.push_back(linalgOp);
    }
    for (linalg::LinalgOp op : candidates) {
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::VectorizationResult> result =
          linalg::vectorize(rewriter, op);
      if (failed(result))
        continue; // stays a loop nest; not an error
      rewriter.replaceOp(op, result->replacements);
    }
  }
};
} // namespace
