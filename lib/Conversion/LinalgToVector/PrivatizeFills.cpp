// dlc-privatize-fills: one fill per user of a filled tensor.
#include "dlc/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Builders.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_PRIVATIZEFILLSPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;

namespace {

struct PrivatizeFillsPass
    : mlir::dlc::impl::PrivatizeFillsPassBase<PrivatizeFillsPass> {
  void runOnOperation() override {
    SmallVector<linalg::FillOp> fills;
    getOperation().walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics() && !fill->getResult(0).hasOneUse())
        fills.push_back(fill);
    });
    OpBuilder builder(&getContext());
    for (linalg::FillOp fill : fills) {
      // The first user keeps the original; every other gets its own copy,
      // built right before it (and its own empty tensor, so that nothing
      // is shared for bufferization to copy).
      SmallVector<OpOperand *> uses;
      for (OpOperand &use : fill->getResult(0).getUses())
        if (use.getOwner()->getBlock() == fill->getBlock())
          uses.push_back(&use);
      llvm::sort(uses, [](OpOperand *x, OpOperand *y) {
        return x->getOwner()->isBeforeInBlock(y->getOwner());
      });
      auto empty = fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>();
      for (OpOperand *use : llvm::drop_begin(uses)) {
        builder.setInsertionPoint(use->getOwner());
        IRMapping mapping;
        if (empty)
          mapping.map(empty.getResult(), builder.clone(*empty)->getResult(0));
        use->set(builder.clone(*fill, mapping)->getResult(0));
      }
    }
  }
};

} // namespace
