// dlc-check-linalg-contract: the contract between the dlc and linalg stages.
#include "dlc/Conversion/Passes.h"
#include "dlc/Dialect/DLC/IR/DLCDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CHECKLINALGCONTRACTPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;

namespace {
struct CheckLinalgContractPass
    : mlir::dlc::impl::CheckLinalgContractPassBase<CheckLinalgContractPass> {
  void runOnOperation() override {
    WalkResult result = getOperation().walk<WalkOrder::PreOrder>([](Operation *op) {
      if (isa<dlc::DLCDialect>(op->getDialect())) {
        op->emitError() << "'" << op->getName()
                        << "' was not lowered to linalg";
        return WalkResult::interrupt();
      }
      if (auto func = dyn_cast<func::FuncOp>(op);
          func && !func.isExternal() && !func.getBody().hasOneBlock()) {
        func.emitError("a lowered function must have a single block");
        return WalkResult::interrupt();
      }
      for (Type t : op->getResultTypes())
        if (isa<UnrankedTensorType>(t)) {
          op->emitError() << "unranked tensor " << t << " after lowering";
          return WalkResult::interrupt();
        }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
