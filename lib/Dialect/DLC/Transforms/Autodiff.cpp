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

/// Differentiates objective `objective` of `func` (already a copy) in
/// place with respect to the parameters `group` (argument indices): appends
/// the backward ops and returns (loss, d loss / d param...).
LogicalResult differentiate(func::FuncOp func, unsigned objective,
                            ArrayRef<int64_t> group) {
  Block &body = func.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  if (objective >= ret.getNumOperands())
    return func.emitError("objective ")
           << objective << " is not a result of the loss function";
  Value loss = ret.getOperand(objective);
  auto lossType = cast<RankedTensorType>(loss.getType());
  if (lossType.getRank() != 0)
    return emitError(loss.getLoc())
           << "the loss must be a scalar, got " << lossType
           << " (reduce it with mean or sum)";

  SmallVector<BlockArgument> params;
  for (int64_t i : group)
    params.push_back(body.getArgument(i));

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
      // The objectives: from dlc.objectives, or one over every parameter.
      SmallVector<SmallVector<int64_t>> groups;
      if (auto objectives = loss->getAttrOfType<ArrayAttr>("dlc.objectives")) {
        for (Attribute o : objectives) {
          auto params = cast<DictionaryAttr>(o).getAs<DenseI64ArrayAttr>(
              "params");
          if (!params) {
            loss.emitError("dlc.objectives entries need a 'params' array");
            return signalPassFailure();
          }
          groups.push_back(llvm::to_vector(params.asArrayRef()));
        }
      } else {
        groups.emplace_back();
        for (unsigned i = 0; i < loss.getNumArguments(); ++i)
          if (loss.getArgAttr(i, "dlc.param"))
            groups.back().push_back(i);
      }
      for (auto [k, group] : llvm::enumerate(groups)) {
        std::string name = (loss.getSymName() + "_grad" +
                            (k ? std::to_string(k) : std::string()))
                               .str();
        if (module.lookupSymbol(name)) {
          loss.emitError() << "'" << name << "' already exists";
          return signalPassFailure();
        }
        auto grad = cast<func::FuncOp>(loss->clone());
        grad.setSymName(name);
        grad->removeAttr("dlc.loss");
        grad->removeAttr("dlc.objectives");
        grad->setAttr("dlc.grad_of",
                      FlatSymbolRefAttr::get(loss.getSymNameAttr()));
        grad->setAttr("dlc.objective",
                      IntegerAttr::get(IntegerType::get(&getContext(), 64), k));
        grad->setAttr("dlc.group",
                      DenseI64ArrayAttr::get(&getContext(), group));
        if (auto objectives = loss->getAttrOfType<ArrayAttr>("dlc.objectives"))
          if (Attribute settings = cast<DictionaryAttr>(objectives[k])
                                       .get("optimizer"))
            grad->setAttr("dlc.optimizer", settings);
        module.push_back(grad);
        if (failed(differentiate(grad, k, group)))
          return signalPassFailure();
      }
    }
  }
};

} // namespace
