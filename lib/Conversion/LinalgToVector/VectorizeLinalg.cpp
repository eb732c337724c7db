// dlc-vectorize-linalg: linalg ops with static shapes become vector ops.
#include "dlc/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_VECTORIZELINALGPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;

namespace {
/// The largest iteration space vectorized as one vector (64 AVX-512 lanes
/// of f32 times 4 registers).
constexpr int64_t kMaxVectorElements = 256;

struct VectorizeLinalgPass
    : mlir::dlc::impl::VectorizeLinalgPassBase<VectorizeLinalgPass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> candidates;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op.hasPureTensorSemantics() || op.hasDynamicShape())
        return;
      // Without tiling, vectorizing a large op makes one huge vector that
      // LLVM unrolls (and compiles slowly); those stay loops for LLVM's loop
      // vectorizer until the tiled CPU pipeline handles them.
      int64_t points = 1;
      for (int64_t size : op.getStaticLoopRanges())
        points *= size;
      if (points > kMaxVectorElements)
        return;
      if (succeeded(linalg::vectorizeOpPrecondition(op)))
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
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
