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
      if (!fill.hasPureTensorSemantics())
        return;
      Block *block = fill->getBlock();
      if (!fill->getResult(0).hasOneUse() ||
          llvm::any_of(fill->getResult(0).getUsers(), [&](Operation *user) {
            return user->getBlock() != block;
          }))
        fills.push_back(fill);
    });
    OpBuilder builder(&getContext());
    for (linalg::FillOp fill : fills) {
      // The first user in the fill's block keeps it; every other user gets
      // its own copy, built right before it (and its own empty tensor, so
      // that nothing is shared for bufferization to copy), users inside
      // loops too (loop-invariant code motion hoists a loop's fills).
      SmallVector<OpOperand *> uses;
      OpOperand *keeper = nullptr;
      for (OpOperand &use : fill->getResult(0).getUses()) {
        uses.push_back(&use);
        Operation *user = use.getOwner();
        if (user->getBlock() == fill->getBlock() &&
            (!keeper || user->isBeforeInBlock(keeper->getOwner())))
          keeper = &use;
      }
      auto empty = fill.getOutputs()[0].getDefiningOp<tensor::EmptyOp>();
      for (OpOperand *use : uses) {
        if (use == keeper)
          continue;
        builder.setInsertionPoint(use->getOwner());
        IRMapping mapping;
        if (empty)
          mapping.map(empty.getResult(), builder.clone(*empty)->getResult(0));
        use->set(builder.clone(*fill, mapping)->getResult(0));
      }
      if (fill->use_empty()) {
        fill->erase();
        if (empty && empty->use_empty())
          empty->erase();
      }
    }
  }
};

} // namespace
