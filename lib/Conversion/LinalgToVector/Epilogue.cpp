// Epilogues of dlc-register-tile: matching the elementwise consumer of a
// contraction's output on buffers, and computing it on a tile's vectors.
#include "Epilogue.h"
#include "LoopUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// Whether `op` or an op nested in it has an operand in buffer `root`.
bool touches(Operation *op, Value root) {
  return op
      ->walk([&](Operation *nested) {
        for (Value v : nested->getOperands())
          if (isa<BaseMemRefType>(v.getType()) && rootOf(v) == root)
            return WalkResult::interrupt();
        return WalkResult::advance();
      })
      .wasInterrupted();
}

/// The buffers `op` (and the ops nested in it) read and write; false when
/// it has effects that name no buffer.
bool collectEffects(Operation *op, DenseSet<Value> &reads,
                    DenseSet<Value> &writes) {
  WalkResult result = op->walk([&](Operation *nested) {
    if (auto iface = dyn_cast<MemoryEffectOpInterface>(nested)) {
      SmallVector<MemoryEffects::EffectInstance> effects;
      iface.getEffects(effects);
      for (const MemoryEffects::EffectInstance &effect : effects) {
        bool isRead = isa<MemoryEffects::Read>(effect.getEffect());
        bool isWrite = isa<MemoryEffects::Write>(effect.getEffect());
        if (!isRead && !isWrite)
          continue; // allocation, free
        Value value = effect.getValue();
        if (!value)
          return WalkResult::interrupt();
        (isRead ? reads : writes).insert(rootOf(value));
      }
      return WalkResult::advance();
    }
    if (nested->hasTrait<OpTrait::HasRecursiveMemoryEffects>())
      return WalkResult::advance();
    // Unknown: every buffer it names may be written.
    for (Value v : nested->getOperands())
      if (isa<BaseMemRefType>(v.getType()))
        writes.insert(rootOf(v));
    return WalkResult::advance();
  });
  return !result.wasInterrupted();
}

/// Whether G's body can run on vectors: elementwise ops without regions.
bool isVectorizableBody(linalg::GenericOp g) {
  for (Operation &op : g.getBody()->without_terminator())
    if (op.getNumRegions() != 0 ||
        !(op.hasTrait<OpTrait::Elementwise>() || isa<arith::ConstantOp>(op)) ||
        llvm::any_of(op.getResultTypes(),
                     [](Type t) { return isa<ShapedType>(t); }))
      return false;
  return true;
}

/// Whether `map` reads consecutive elements along G's last loop, or none
/// of it (a broadcast).
bool isVectorMap(AffineMap map, unsigned last) {
  if (!map.isProjectedPermutation())
    return false;
  ArrayRef<AffineExpr> results = map.getResults();
  for (auto [k, e] : llvm::enumerate(results))
    if (e.isFunctionOfDim(last) && k + 1 != results.size())
      return false;
  return true;
}

} // namespace

std::optional<Epilogue> mlir::dlc::matchEpilogue(Operation *contraction,
                                                 Value out) {
  auto alloc = out.getDefiningOp<memref::AllocOp>();
  if (!alloc || !alloc.getType().getLayout().isIdentity())
    return std::nullopt;
  auto outType = alloc.getType();
  // The first op after the contraction that names O; collapsed views of O
  // on the way are G's to read.
  SmallVector<Operation *> between;
  SmallVector<memref::CollapseShapeOp> views;
  linalg::GenericOp g;
  for (Operation *op = contraction->getNextNode(); op && !g;
       op = op->getNextNode()) {
    if (auto collapse = dyn_cast<memref::CollapseShapeOp>(op);
        collapse && collapse.getSrc() == out) {
      views.push_back(collapse);
      continue;
    }
    if (auto generic = dyn_cast<linalg::GenericOp>(op);
        generic && touches(op, out)) {
      g = generic;
      break;
    }
    if (touches(op, out))
      return std::nullopt;
    between.push_back(op);
  }
  if (!g || !g.hasPureBufferSemantics() || g.hasIndexSemantics() ||
      g.getNumReductionLoops() != 0 || !isVectorizableBody(g))
    return std::nullopt;

  Epilogue epilogue;
  epilogue.op = g;
  epilogue.outShape = llvm::to_vector(outType.getShape());
  unsigned loops = g.getNumLoops(), last = loops - 1;
  Type element = outType.getElementType();
  auto isO = [&](Value v) {
    return v == out || llvm::any_of(views, [&](memref::CollapseShapeOp view) {
             return view.getResult() == v;
           });
  };
  std::optional<unsigned> input;
  for (OpOperand *operand : g.getDpsInputOperands()) {
    Value v = operand->get();
    AffineMap map = g.getMatchingIndexingMap(operand);
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type || type.getElementType() != element)
      return std::nullopt;
    if (isO(v)) {
      if (input || !map.isIdentity())
        return std::nullopt;
      input = operand->getOperandNumber();
      if (v == out) {
        for (int64_t d = 0; d < outType.getRank(); ++d)
          epilogue.groups.push_back({d});
      } else {
        epilogue.groups =
            v.getDefiningOp<memref::CollapseShapeOp>().getReassociationIndices();
      }
      continue;
    }
    if (!isVectorMap(map, last) ||
        (map.getNumResults() && map.getResults().back().isFunctionOfDim(last) &&
         !isContiguousAlongLastDim(type)))
      return std::nullopt;
  }
  if (!input || epilogue.groups.size() != loops)
    return std::nullopt;
  epilogue.input = *input;
  for (OpOperand &init : g.getDpsInitsMutable()) {
    auto type = dyn_cast<MemRefType>(init.get().getType());
    if (!type || type.getElementType() != element ||
        !isContiguousAlongLastDim(type) ||
        !g.getMatchingIndexingMap(&init).isIdentity() ||
        !g.getMatchingBlockArgument(&init).use_empty())
      return std::nullopt;
  }

  // G moves up to the contraction: nothing between may write what G reads
  // or touch what G writes.
  DenseSet<Value> reads, writes;
  for (Operation *op : between)
    if (!collectEffects(op, reads, writes))
      return std::nullopt;
  for (OpOperand *operand : g.getDpsInputOperands())
    if (operand->getOperandNumber() != *input &&
        writes.contains(rootOf(operand->get())))
      return std::nullopt;
  // G writes while the kernel still reads its operands: what G writes must
  // be none of them, and an input G also writes must be read in place.
  bool writesOut = false;
  for (OpOperand &init : g.getDpsInitsMutable()) {
    Value root = rootOf(init.get());
    if (reads.contains(root) || writes.contains(root))
      return std::nullopt;
    for (Value operand : contraction->getOperands())
      if (root != out && isa<BaseMemRefType>(operand.getType()) &&
          rootOf(operand) == root)
        return std::nullopt;
    for (OpOperand *in : g.getDpsInputOperands())
      if (rootOf(in->get()) == root &&
          (in->get() != init.get() ||
           g.getMatchingIndexingMap(in) != g.getMatchingIndexingMap(&init)))
        return std::nullopt;
    writesOut |= root == out;
  }
  // The values G uses must exist at C: what comes from between C and G
  // has to be free of effects (views, sizes, constants) or an allocation
  // (G's output) to move up.
  SmallVector<Value> worklist(g->getOperands());
  g.getBody()->walk([&](Operation *nested) {
    for (Value v : nested->getOperands())
      if (v.getParentBlock() != g.getBody())
        worklist.push_back(v);
  });
  DenseSet<Operation *> moved;
  while (!worklist.empty()) {
    Operation *def = worklist.pop_back_val().getDefiningOp();
    if (!def || def->getBlock() != g->getBlock() ||
        !contraction->isBeforeInBlock(def) || moved.contains(def))
      continue;
    if (!(isMemoryEffectFree(def) || isa<memref::AllocOp>(def)) ||
        def->getNumRegions() != 0)
      return std::nullopt;
    moved.insert(def);
    llvm::append_range(worklist, def->getOperands());
  }
  epilogue.prelude = llvm::to_vector(moved);
  llvm::sort(epilogue.prelude, [](Operation *x, Operation *y) {
    return x->isBeforeInBlock(y);
  });

  // O is still needed if something after G reads it (unless G overwrote it).
  for (Operation *op = g->getNextNode(); op && !writesOut;
       op = op->getNextNode())
    if (touches(op, out)) {
      epilogue.storeOutput = true;
      break;
    }
  return epilogue;
}

void mlir::dlc::emitEpilogue(OpBuilder &b, Location loc,
                             const Epilogue &epilogue, Value acc,
                             ArrayRef<Value> outIndices, Value mask) {
  linalg::GenericOp g = epilogue.op;
  auto vectorType = cast<VectorType>(acc.getType());
  int64_t lanes = vectorType.getNumElements();
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  // G's loop indices: O's, linearized within each collapsed group.
  SmallVector<Value> loops;
  for (const ReassociationIndices &group : epilogue.groups) {
    Value linear = outIndices[group.front()];
    for (int64_t d : llvm::drop_begin(group)) {
      linear = arith::MulIOp::create(b, loc, linear,
                                     index(epilogue.outShape[d]));
      linear = arith::AddIOp::create(b, loc, linear, outIndices[d]);
    }
    loops.push_back(linear);
  }
  auto indicesOf = [&](OpOperand *operand) {
    SmallVector<Value> idx;
    for (AffineExpr e : g.getMatchingIndexingMap(operand).getResults())
      idx.push_back(loops[cast<AffineDimExpr>(e).getPosition()]);
    return idx;
  };
  auto vectorOf = [&](Type scalar) {
    return VectorType::get({lanes}, scalar);
  };

  IRMapping mapping;
  unsigned last = g.getNumLoops() - 1;
  for (OpOperand *operand : g.getDpsInputOperands()) {
    BlockArgument arg = g.getMatchingBlockArgument(operand);
    if (operand->getOperandNumber() == epilogue.input) {
      mapping.map(arg, acc);
      continue;
    }
    SmallVector<Value> idx = indicesOf(operand);
    AffineMap map = g.getMatchingIndexingMap(operand);
    Value value;
    if (map.getNumResults() && map.getResults().back().isFunctionOfDim(last)) {
      value = mask ? vector::MaskedLoadOp::create(
                         b, loc, vectorType, operand->get(), idx, mask,
                         arith::ConstantOp::create(b, loc, vectorType,
                                                   b.getZeroAttr(vectorType)))
                         .getResult()
                   : vector::LoadOp::create(b, loc, vectorType, operand->get(),
                                            idx)
                         .getResult();
    } else {
      Value scalar = memref::LoadOp::create(b, loc, operand->get(), idx);
      value = vector::BroadcastOp::create(b, loc, vectorType, scalar);
    }
    mapping.map(arg, value);
  }
  for (Operation &op : g.getBody()->without_terminator()) {
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      Value scalar = b.clone(op)->getResult(0);
      mapping.map(constant.getResult(), vector::BroadcastOp::create(
                                            b, loc, vectorOf(scalar.getType()),
                                            scalar));
      continue;
    }
    SmallVector<Value> operands;
    for (Value v : op.getOperands()) {
      if (Value mapped = mapping.lookupOrNull(v)) {
        operands.push_back(mapped);
        continue;
      }
      // A scalar from outside the body.
      operands.push_back(
          vector::BroadcastOp::create(b, loc, vectorOf(v.getType()), v));
    }
    OperationState state(loc, op.getName());
    state.addOperands(operands);
    state.addAttributes(op.getAttrs());
    for (Type t : op.getResultTypes())
      state.addTypes(vectorOf(t));
    Operation *vectorOp = b.create(state);
    for (auto [from, to] : llvm::zip(op.getResults(), vectorOp->getResults()))
      mapping.map(from, to);
  }
  auto yield = cast<linalg::YieldOp>(g.getBody()->getTerminator());
  for (auto [init, value] :
       llvm::zip(g.getDpsInitsMutable(), yield.getValues())) {
    SmallVector<Value> idx = indicesOf(&init);
    Value result = mapping.lookupOrNull(value);
    if (!result) // a value from outside the body
      result = vector::BroadcastOp::create(b, loc, vectorType, value);
    if (mask)
      vector::MaskedStoreOp::create(b, loc, init.get(), idx, mask, result);
    else
      vector::StoreOp::create(b, loc, result, init.get(), idx);
  }
}
