// Epilogues of dlc-register-tile: matching the elementwise consumer of a
// contraction's output on buffers, and computing it on a tile's vectors.
#include "Epilogue.h"
#include "LoopUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

using namespace mlir;
using namespace mlir::dlc;

bool mlir::dlc::collectEffects(Operation *op, DenseSet<Value> &reads,
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

namespace {

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

namespace {

/// Builds an epilogue stage by stage: generics that move up to the
/// contraction C one after another, each checked against the ops it jumps
/// over and the stages before it.
class EpilogueMatcher {
public:
  EpilogueMatcher(Operation *contraction, memref::AllocOp alloc)
      : contraction(contraction), out(alloc.getResult()),
        element(alloc.getType().getElementType()) {
    epilogue.outShape = llvm::to_vector(alloc.getType().getShape());
  }

  std::optional<Epilogue> match() {
    // The first op after C that names O; collapsed views of O on the way
    // are the stages' to read.
    Operation *op = contraction->getNextNode();
    for (; op; op = op->getNextNode()) {
      if (auto collapse = dyn_cast<memref::CollapseShapeOp>(op);
          collapse && collapse.getSrc() == out) {
        views.push_back(collapse);
        continue;
      }
      if (touches(op, out))
        break;
      if (!jumpOver(op))
        return std::nullopt;
    }
    auto first = dyn_cast_or_null<linalg::GenericOp>(op);
    if (!first || !addStage(first, /*first=*/true))
      return std::nullopt;
    // Later generics that read O or what earlier stages wrote (an Adam
    // update's m, v and parameter updates) join, while they can move up.
    int64_t scanned = 0;
    for (op = op->getNextNode(); op && scanned < kMaxScanned;
         op = op->getNextNode(), ++scanned) {
      auto generic = dyn_cast<linalg::GenericOp>(op);
      if (generic && readsStageData(generic) && addStage(generic, false))
        continue;
      if (!jumpOver(op))
        break;
    }
    if (!completeEpilogue(contraction, out, stageWrites.contains(out),
                          [&](Operation *op) { return isView(op); },
                          epilogue))
      return std::nullopt;
    return std::move(epilogue);
  }

private:
  /// Records an op that later stages move above; false if its effects
  /// cannot be named.
  bool jumpOver(Operation *op) {
    return collectEffects(op, betweenReads, betweenWrites);
  }

  bool isStage(Operation *op) {
    return llvm::any_of(epilogue.stages, [&](const Epilogue::Stage &stage) {
      return stage.op == op;
    });
  }
  bool isView(Operation *op) {
    return llvm::any_of(views, [&](memref::CollapseShapeOp view) {
      return view == op;
    });
  }
  bool isO(Value v) {
    return v == out || llvm::any_of(views, [&](memref::CollapseShapeOp view) {
             return view.getResult() == v;
           });
  }
  bool readsStageData(linalg::GenericOp g) {
    return llvm::any_of(g.getDpsInputs(), [&](Value v) {
      return isO(v) || stageWrites.contains(rootOf(v));
    });
  }

  /// Adds `g` as the next stage if it is elementwise over O's index space
  /// and can move up to C.
  bool addStage(linalg::GenericOp g, bool first) {
    if (!g.hasPureBufferSemantics() || g.hasIndexSemantics() ||
        g.getNumReductionLoops() != 0 || !isVectorizableBody(g))
      return false;
    unsigned loops = g.getNumLoops(), last = loops - 1;
    Epilogue::Stage stage{g, std::nullopt, {}, {}, {}};
    SmallVector<ReassociationIndices> groups;
    for (OpOperand *operand : g.getDpsInputOperands()) {
      Value v = operand->get();
      AffineMap map = g.getMatchingIndexingMap(operand);
      auto type = dyn_cast<MemRefType>(v.getType());
      if (!type || type.getElementType() != element)
        return false;
      if (isO(v)) {
        if (stage.input || !map.isIdentity())
          return false;
        stage.input = operand->getOperandNumber();
        if (v == out) {
          for (int64_t d = 0; d < type.getRank(); ++d)
            groups.push_back({d});
        } else {
          groups = v.getDefiningOp<memref::CollapseShapeOp>()
                       .getReassociationIndices();
        }
        continue;
      }
      Value root = rootOf(v);
      // What an earlier stage wrote is read where it was written, the
      // same element of the same view.
      if (stageWrites.contains(root)) {
        if (!map.isIdentity() || !written.contains(v) ||
            betweenWrites.contains(root))
          return false;
        continue;
      }
      if (!isVectorMap(map, last) ||
          (map.getNumResults() &&
           map.getResults().back().isFunctionOfDim(last) &&
           !isContiguousAlongLastDim(type)) ||
          betweenWrites.contains(root))
        return false;
    }
    if (first && !stage.input)
      return false;
    // All stages run over the first one's index space.
    if (first) {
      epilogue.groups = groups;
      shape = g.getStaticLoopRanges();
    } else if ((stage.input && groups != epilogue.groups) ||
               g.getStaticLoopRanges() != shape) {
      return false;
    }
    if (epilogue.groups.size() != loops)
      return false;
    // A stage writes while the kernel still reads its operands: what it
    // writes must be none of them, nothing it jumps over may use it, and
    // an input it also writes must be read in place.
    SmallVector<OpOperand *> renames;
    for (OpOperand &init : g.getDpsInitsMutable()) {
      Value v = init.get(), root = rootOf(v);
      auto type = dyn_cast<MemRefType>(v.getType());
      if (!type || type.getElementType() != element ||
          !isContiguousAlongLastDim(type) ||
          !g.getMatchingIndexingMap(&init).isIdentity() ||
          !g.getMatchingBlockArgument(&init).use_empty())
        return false;
      // (An activation's gradient written over the activation, which the
      // weight gradient's kernel reads first, is renamed.)
      OutputBuffer buffer =
          outputBuffer(g, init, out, betweenReads, betweenWrites);
      if (buffer == OutputBuffer::Blocked)
        return false;
      if (buffer == OutputBuffer::Renamed) {
        renames.push_back(&init);
        continue;
      }
      for (Value operand : contraction->getOperands())
        if (root != out && isa<BaseMemRefType>(operand.getType()) &&
            rootOf(operand) == root)
          return false;
      for (OpOperand *in : g.getDpsInputOperands())
        if (rootOf(in->get()) == root &&
            (in->get() != v || !g.getMatchingIndexingMap(in).isIdentity()))
          return false;
      // Earlier stages read it only where this one writes it.
      for (Epilogue::Stage earlier : epilogue.stages)
        for (OpOperand *in : earlier.op.getDpsInputOperands())
          if (rootOf(in->get()) == root &&
              (in->get() != v ||
               !earlier.op.getMatchingIndexingMap(in).isIdentity()))
            return false;
    }
    for (OpOperand *init : renames)
      renameOutput(g, *init);
    for (Value v : g.getDpsInits()) {
      stageWrites.insert(rootOf(v));
      written.insert(v);
    }
    epilogue.stages.push_back(stage);
    return true;
  }

  /// Ops after the first stage looked at for more stages.
  static constexpr int64_t kMaxScanned = 64;

  Operation *contraction;
  Value out;
  Type element;
  Epilogue epilogue;
  SmallVector<int64_t> shape;
  SmallVector<memref::CollapseShapeOp> views;
  DenseSet<Value> betweenReads, betweenWrites;
  /// Buffers the stages write, and the views they write them through.
  DenseSet<Value> stageWrites, written;
};

} // namespace

namespace {

/// Whether `g` may write a new buffer instead of its output `init`'s (see
/// outputBuffer): that buffer is allocated like `like`.
bool canRenameOutput(linalg::GenericOp g, OpOperand &init, Value like) {
  Value root = init.get();
  auto alloc = root.getDefiningOp<memref::AllocOp>();
  auto likeAlloc = like.getDefiningOp<memref::AllocOp>();
  if (!alloc || !likeAlloc || alloc.getType() != likeAlloc.getType() ||
      alloc.getDynamicSizes() != likeAlloc.getDynamicSizes() ||
      alloc->getBlock() != g->getBlock())
    return false;
  Block *block = g->getBlock();
  for (Operation *user : root.getUsers()) {
    Operation *owner = block->findAncestorOpInBlock(*user);
    if (!owner || isa<memref::DeallocOp, func::ReturnOp>(user))
      return false;
    if (owner == g || g->isBeforeInBlock(owner))
      continue;
    // A view made before g must not be used from g on.
    if (isa<ViewLikeOpInterface>(user))
      for (Operation *viewUser : user->getUsers()) {
        Operation *later = block->findAncestorOpInBlock(*viewUser);
        if (!later || later == g || g->isBeforeInBlock(later))
          return false;
      }
  }
  return true;
}

} // namespace

OutputBuffer mlir::dlc::outputBuffer(linalg::GenericOp g, OpOperand &init,
                                     Value out,
                                     const DenseSet<Value> &betweenReads,
                                     const DenseSet<Value> &betweenWrites) {
  Value root = rootOf(init.get());
  if (!betweenReads.contains(root) && !betweenWrites.contains(root))
    return OutputBuffer::Direct;
  return canRenameOutput(g, init, out) ? OutputBuffer::Renamed
                                       : OutputBuffer::Blocked;
}

void mlir::dlc::renameOutput(linalg::GenericOp g, OpOperand &init) {
  Value root = init.get();
  auto alloc = root.getDefiningOp<memref::AllocOp>();
  OpBuilder b(alloc);
  b.setInsertionPointAfter(alloc);
  Value fresh = b.clone(*alloc)->getResult(0);
  Block *block = g->getBlock();
  for (OpOperand &use : llvm::make_early_inc_range(root.getUses())) {
    Operation *owner = block->findAncestorOpInBlock(*use.getOwner());
    if (use.getOwner() == g ? &use == &init : g->isBeforeInBlock(owner))
      use.set(fresh);
  }
}

std::optional<SmallVector<Operation *>>
mlir::dlc::collectPrelude(Operation *contraction,
                          ArrayRef<linalg::GenericOp> stages,
                          ArrayRef<Operation *> stores) {
  // The values the stages use must exist at C: what comes from between
  // has to be free of effects (views, sizes, constants) or an allocation
  // (a stage's output) to move up; `stores` move up too, with what they
  // store.
  SmallVector<Value> worklist;
  DenseSet<Operation *> moved(stores.begin(), stores.end());
  for (Operation *store : stores)
    llvm::append_range(worklist, store->getOperands());
  for (linalg::GenericOp stage : stages) {
    Block *body = stage.getBody();
    llvm::append_range(worklist, stage->getOperands());
    body->walk([&](Operation *nested) {
      for (Value v : nested->getOperands())
        if (v.getParentBlock() != body)
          worklist.push_back(v);
    });
  }
  while (!worklist.empty()) {
    Operation *def = worklist.pop_back_val().getDefiningOp();
    if (!def || def->getBlock() != contraction->getBlock() ||
        !contraction->isBeforeInBlock(def) || moved.contains(def))
      continue;
    if (!(isMemoryEffectFree(def) || isa<memref::AllocOp>(def)) ||
        def->getNumRegions() != 0)
      return std::nullopt;
    moved.insert(def);
    llvm::append_range(worklist, def->getOperands());
  }
  SmallVector<Operation *> prelude = llvm::to_vector(moved);
  llvm::sort(prelude, [](Operation *x, Operation *y) {
    return x->isBeforeInBlock(y);
  });
  return prelude;
}

bool mlir::dlc::completeEpilogue(Operation *contraction, Value out,
                                 bool outWritten,
                                 function_ref<bool(Operation *)> ignore,
                                 Epilogue &epilogue,
                                 ArrayRef<Operation *> stores) {
  // O is stored too if anything but the stages reads it afterwards
  // (unless a stage overwrote it).
  SmallVector<linalg::GenericOp> ops;
  for (const Epilogue::Stage &stage : epilogue.stages)
    ops.push_back(stage.op);
  if (!outWritten)
    for (Operation *op = contraction->getNextNode(); op; op = op->getNextNode())
      if (!llvm::is_contained(ops, op) && !ignore(op) && touches(op, out)) {
        epilogue.storeOutput = true;
        break;
      }
  std::optional<SmallVector<Operation *>> prelude =
      collectPrelude(contraction, ops, stores);
  if (!prelude)
    return false;
  epilogue.prelude = std::move(*prelude);
  return true;
}

std::optional<Epilogue> mlir::dlc::matchEpilogue(Operation *contraction,
                                                 Value out) {
  auto alloc = out.getDefiningOp<memref::AllocOp>();
  if (!alloc || !alloc.getType().getLayout().isIdentity())
    return std::nullopt;
  return EpilogueMatcher(contraction, alloc).match();
}

namespace {

/// One stage of an epilogue at the stages' loop indices `loops`: loads its
/// other inputs there, computes its body on vectors, stores its results.
void emitStage(OpBuilder &b, Location loc, Epilogue::Stage stage, Value acc,
               ArrayRef<Value> loops, Value mask) {
  linalg::GenericOp g = stage.op;
  auto vectorType = cast<VectorType>(acc.getType());
  int64_t lanes = vectorType.getNumElements();
  auto indicesOf = [&](OpOperand *operand) {
    SmallVector<Value> idx;
    for (AffineExpr e : g.getMatchingIndexingMap(operand).getResults())
      idx.push_back(loops[cast<AffineDimExpr>(e).getPosition()]);
    return idx;
  };

  IRMapping mapping;
  unsigned last = g.getNumLoops() - 1;
  for (OpOperand *operand : g.getDpsInputOperands()) {
    BlockArgument arg = g.getMatchingBlockArgument(operand);
    if (operand->getOperandNumber() == stage.input) {
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
  cloneOnVectors(b, loc, g.getBody(), lanes, mapping);
  auto yield = cast<linalg::YieldOp>(g.getBody()->getTerminator());
  for (auto [init, value] :
       llvm::zip(g.getDpsInitsMutable(), yield.getValues())) {
    SmallVector<Value> idx = indicesOf(&init);
    Value result = vectorFor(b, loc, mapping, value, lanes);
    if (mask)
      vector::MaskedStoreOp::create(b, loc, init.get(), idx, mask, result);
    else
      vector::StoreOp::create(b, loc, result, init.get(), idx);
  }
}

} // namespace

void mlir::dlc::emitEpilogue(OpBuilder &b, Location loc,
                             const Epilogue &epilogue, Value acc,
                             ArrayRef<Value> outIndices, Value mask) {
  assert(!epilogue.rows && "row epilogues: emitRowEpilogue");
  auto index = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  // The stages' loop indices: O's, linearized within each collapsed group.
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
  for (const Epilogue::Stage &stage : epilogue.stages)
    emitStage(b, loc, stage, acc, loops, mask);
}
