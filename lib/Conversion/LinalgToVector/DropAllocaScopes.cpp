// dlc-drop-alloca-scopes: alloca scopes without allocas are inlined.
#include "dlc/Conversion/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_DROPALLOCASCOPESPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;

namespace {
struct DropAllocaScopesPass
    : mlir::dlc::impl::DropAllocaScopesPassBase<DropAllocaScopesPass> {
  void runOnOperation() override {
    SmallVector<memref::AllocaScopeOp> scopes;
    getOperation().walk([&](memref::AllocaScopeOp scope) {
      bool allocates = scope.walk([](memref::AllocaOp) {
                              return WalkResult::interrupt();
                            }).wasInterrupted();
      if (!allocates && scope.getNumResults() == 0)
        scopes.push_back(scope);
    });
    IRRewriter rewriter(&getContext());
    for (memref::AllocaScopeOp scope : scopes) {
      Block &body = scope.getBodyRegion().front();
      rewriter.eraseOp(body.getTerminator());
      rewriter.inlineBlockBefore(&body, scope);
      rewriter.eraseOp(scope);
    }
  }
};
} // namespace
