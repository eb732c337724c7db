// dlc-expand-copies: memref.copy becomes linalg.copy (plain loops, no call
// into MLIR's runtime library); a copy of a view onto itself is dropped.
#include "dlc/Conversion/Passes.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_EXPANDCOPIESPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;

namespace {
struct ExpandCopiesPass
    : mlir::dlc::impl::ExpandCopiesPassBase<ExpandCopiesPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp op) { copies.push_back(op); });
    IRRewriter rewriter(&getContext());
    for (memref::CopyOp copy : copies) {
      // After dlc-plan-memory a row loop's result and its slot in the
      // loop-carried buffer are often one view: copying it onto itself is
      // a no-op that would still read and write it.
      if (copy.getSource() == copy.getTarget()) {
        rewriter.eraseOp(copy);
        continue;
      }
      rewriter.setInsertionPoint(copy);
      linalg::CopyOp::create(rewriter, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      rewriter.eraseOp(copy);
    }
  }
};
} // namespace
