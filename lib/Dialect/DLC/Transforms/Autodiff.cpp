// dlc-autodiff: reverse-mode differentiation of loss functions.
#include "dlc/Dialect/DLC/IR/DLCOps.h"
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

/// Location of the ops that a rule builds: "gradient of dlc.matmul" at the
/// forward op's own source location.
Location gradientLoc(Operation *op) {
  std::string name = ("gradient of " + op->getName().getStringRef()).str();
  return NameLoc::get(StringAttr::get(op->getContext(), name), op->getLoc());
}

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

  // Activity: the values that depend on a parameter.
  llvm::DenseSet<Value> active(params.begin(), params.end());
  SmallVector<Operation *> activeOps;
  for (Operation &op : body.without_terminator()) {
    if (llvm::any_of(op.getOperands(),
                     [&](Value v) { return active.contains(v); })) {
      activeOps.push_back(&op);
      active.insert(op.result_begin(), op.result_end());
    }
  }
  if (!active.contains(loss))
    return emitError(loss.getLoc())
           << "the loss does not depend on any parameter";

  OpBuilder b(ret);
  llvm::DenseMap<Value, Value> grads;
  grads[loss] = createScalarConstant(b, loss.getLoc(),
                                     lossType.getElementType(), 1.0);

  // The reverse walk: active ops in reverse program order form the worklist.
  while (!activeOps.empty()) {
    Operation *op = activeOps.pop_back_val();
    SmallVector<Value> resultGrads;
    bool any = false;
    for (Value r : op->getResults()) {
      Value g = grads.lookup(r);
      any |= static_cast<bool>(g);
      resultGrads.push_back(g);
    }
    if (!any)
      continue;
    auto rule = dyn_cast<GradientOpInterface>(op);
    if (!rule)
      return op->emitError() << "no gradient rule for '" << op->getName()
                             << "'; it cannot be differentiated";
    Operation *before = ret->getPrevNode();
    SmallVector<Value> operandGrads;
    if (failed(rule.buildGradients(b, resultGrads, operandGrads)))
      return failure();
    assert(operandGrads.size() == op->getNumOperands() &&
           "a rule returns one gradient per operand");
    Location loc = gradientLoc(op);
    for (Operation *it = before ? before->getNextNode() : &body.front();
         it != ret; it = it->getNextNode())
      it->setLoc(loc);

    for (auto [operand, g] : llvm::zip(op->getOperands(), operandGrads)) {
      if (!g || !active.contains(operand))
        continue;
      if (g.getType() != operand.getType())
        return op->emitError() << "internal error: gradient rule built "
                               << g.getType() << " for an operand of type "
                               << operand.getType();
      Value &acc = grads[operand];
      acc = acc ? AddOp::create(b, loc, acc, g).getResult() : g;
    }
  }

  SmallVector<Value> results{loss};
  for (BlockArgument p : params) {
    Value g = grads.lookup(p);
    results.push_back(g ? g : zerosLike(b, func.getLoc(), p.getType()));
  }
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
