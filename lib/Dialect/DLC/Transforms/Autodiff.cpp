// dlc-autodiff: reverse-mode differentiation of loss functions.
#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Dialect/DLC/IR/ReverseMode.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_AUTODIFFPASS
#include "dlc/Dialect/DLC/Transforms/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {

Value zerosLike(OpBuilder &b, Location loc, Type type) {
  auto tensorType = cast<RankedTensorType>(type);
  auto attr = DenseElementsAttr::get(
      tensorType,
      b.getFloatAttr(tensorType.getElementType(), 0.0).getValue());
  return ConstantOp::create(b, loc, attr);
}

/// Differentiates `func` (already a copy) in place: appends the backward
/// ops and returns (loss, d loss / d param...).
LogicalResult differentiate(func::FuncOp func) {
  Block &body = func.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  if (ret.getNumOperands() != 1)
    return func.emitError("a loss function returns exactly one value");
  Value loss = ret.getOperand(0);
  auto lossType = cast<RankedTensorType>(loss.getType());
  if (lossType.getRank() != 0)
    return emitError(loss.getLoc())
           << "the loss must be a scalar, got " << lossType
           << " (reduce it with mean or sum)";

  SmallVector<BlockArgument> params;
  for (BlockArgument arg : body.getArguments())
    if (func.getArgAttr(arg.getArgNumber(), "dlc.param"))
      params.push_back(arg);

  OpBuilder b(ret);
  Value one = createScalarConstant(b, loss.getLoc(), lossType.getElementType(),
                                   1.0);
  SmallVector<Value> wrt(params.begin(), params.end());
  FailureOr<SmallVector<Value>> grads =
      buildReverseMode(b, body, {{loss, one}}, wrt);
  if (failed(grads))
    return failure();
  if (llvm::all_of(*grads, [](Value g) { return !g; }))
    return emitError(loss.getLoc())
           << "the loss does not depend on any parameter";

  SmallVector<Value> results{loss};
  for (auto [p, g] : llvm::zip(params, *grads))
    results.push_back(g ? g : zerosLike(b, func.getLoc(), p.getType()));
  func::ReturnOp::create(b, ret.getLoc(), results);
  ret.erase();
  func.removeResAttrsAttr();
  func.setFunctionType(FunctionType::get(
      func.getContext(), func.getArgumentTypes(), ValueRange(results).getTypes()));
  return success();
}

struct AutodiffPass : mlir::dlc::impl::AutodiffPassBase<AutodiffPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> losses;
    for (auto func : module.getOps<func::FuncOp>())
      if (func->hasAttr("dlc.loss"))
        losses.push_back(func);
    for (func::FuncOp loss : losses) {
      std::string name = (loss.getSymName() + "_grad").str();
      if (module.lookupSymbol(name)) {
        loss.emitError() << "'" << name << "' already exists";
        return signalPassFailure();
      }
      auto grad = cast<func::FuncOp>(loss->clone());
      grad.setSymName(name);
      grad->removeAttr("dlc.loss");
      grad->setAttr("dlc.grad_of", FlatSymbolRefAttr::get(loss.getSymNameAttr()));
      module.push_back(grad);
      if (failed(differentiate(grad)))
        return signalPassFailure();
    }
  }
};

} // namespace
