// The generic reverse walk of autodiff: one worklist over a block, a rule per
// op (GradientOpInterface), gradients accumulated with dlc.add.
#include "dlc/Dialect/DLC/IR/ReverseMode.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

#include "llvm/ADT/DenseSet.h"

using namespace mlir;
using namespace mlir::dlc;

/// Location of the ops that a rule builds: "gradient of dlc.matmul" at the
/// forward op's own source location.
static Location gradientLoc(Operation *op) {
  std::string name = ("gradient of " + op->getName().getStringRef()).str();
  return NameLoc::get(StringAttr::get(op->getContext(), name), op->getLoc());
}

FailureOr<SmallVector<Value>>
mlir::dlc::buildReverseMode(OpBuilder &b, Block &block,
                            ArrayRef<std::pair<Value, Value>> seeds,
                            ArrayRef<Value> wrt) {
  // Activity: the values that depend on a `wrt` value.
  llvm::DenseSet<Value> active(wrt.begin(), wrt.end());
  SmallVector<Operation *> activeOps;
  Operation *terminator =
      block.mightHaveTerminator() ? block.getTerminator() : nullptr;
  for (Operation &op : block) {
    if (&op == terminator || &op == &*b.getInsertionPoint())
      break;
    if (llvm::any_of(op.getOperands(),
                     [&](Value v) { return active.contains(v); })) {
      activeOps.push_back(&op);
      active.insert(op.result_begin(), op.result_end());
    }
  }

  llvm::DenseMap<Value, Value> grads;
  for (auto [value, seed] : seeds)
    if (seed && active.contains(value))
      grads[value] = seed;

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
    Block *insertBlock = b.getInsertionBlock();
    Block::iterator insertPoint = b.getInsertionPoint();
    Operation *before = insertPoint == insertBlock->begin()
                            ? nullptr
                            : &*std::prev(insertPoint);
    SmallVector<Value> operandGrads;
    if (failed(rule.buildGradients(b, resultGrads, operandGrads)))
      return failure();
    assert(operandGrads.size() == op->getNumOperands() &&
           "a rule returns one gradient per operand");
    Location loc = gradientLoc(op);
    for (Operation *it = before ? before->getNextNode() : &insertBlock->front();
         it && it != &*b.getInsertionPoint(); it = it->getNextNode())
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

  SmallVector<Value> result;
  for (Value v : wrt)
    result.push_back(grads.lookup(v));
  return result;
}
