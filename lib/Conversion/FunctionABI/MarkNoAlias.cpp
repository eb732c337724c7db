// dlc-mark-noalias: the buffers of an entry point never overlap; LLVM is
// told so.
#include "dlc/Conversion/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_MARKNOALIASPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;

namespace {

/// Marks the aligned pointer of every memref argument of `func` noalias.
/// dlc-lower-function-abi made every argument a memref, which
/// convert-func-to-llvm expands to (allocated pointer, aligned pointer,
/// offset, sizes..., strides...): the pointers come in pairs. Every access
/// goes through the aligned pointer; the allocated one, the same address,
/// is not used.
LogicalResult markAlignedPointers(LLVM::LLVMFuncOp func) {
  auto isPointer = [](Type type) { return isa<LLVM::LLVMPointerType>(type); };
  ArrayRef<Type> types = func.getFunctionType().getParams();
  for (unsigned i = 0; i < types.size(); ++i) {
    if (!isPointer(types[i]))
      continue;
    if (i + 1 == types.size() || !isPointer(types[i + 1]))
      return func.emitError()
             << "argument " << i << " is a pointer outside a memref descriptor";
    func.setArgAttr(i + 1, LLVM::LLVMDialect::getNoAliasAttrName(),
                    UnitAttr::get(func.getContext()));
    ++i;
  }
  return success();
}

struct MarkNoAliasPass : mlir::dlc::impl::MarkNoAliasPassBase<MarkNoAliasPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<LLVM::LLVMFuncOp>()) {
      bool entry =
          func->hasAttr("dlc.train_step") || func->hasAttr("dlc.predict");
      // The C interface wrapper takes pointers to descriptors and calls the
      // function marked here (and inlines it).
      if (!entry || func.isExternal() ||
          func.getSymName().starts_with("_mlir_ciface_"))
        continue;
      if (failed(markAlignedPointers(func)))
        return signalPassFailure();
    }
  }
};
} // namespace
