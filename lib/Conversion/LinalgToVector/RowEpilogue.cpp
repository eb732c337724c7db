// Row epilogues of dlc-register-tile: a classifier's loss (its softmax,
// cross-entropy and their gradient) computed on the logits kernel's tiles,
// each row of classes one vector in registers; and the same row ops, where
// no kernel takes them, as a loop over their rows.
#include "Epilogue.h"
#include "LoopUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"


using namespace mlir;
using namespace mlir::dlc;
using Access = Epilogue::Access;

namespace {

/// The reduction a combiner of a row op's output computes.
std::optional<vector::CombiningKind> kindOf(Operation *combiner) {
  if (isa<arith::AddFOp>(combiner))
    return vector::CombiningKind::ADD;
  if (isa<arith::MaximumFOp>(combiner))
    return vector::CombiningKind::MAXIMUMF;
  if (isa<arith::MinimumFOp>(combiner))
    return vector::CombiningKind::MINIMUMF;
  return std::nullopt;
}

/// The op of reduction `g`'s body that combines output `init` with what
/// the body computed (`out + x`, `max(out, x)`), when that is the only use
/// of the output's block argument.
Operation *combinerOf(linalg::GenericOp g, OpOperand &init) {
  BlockArgument out = g.getMatchingBlockArgument(&init);
  auto yield = cast<linalg::YieldOp>(g.getBody()->getTerminator());
  Value value = yield.getOperand(init.getOperandNumber() - g.getNumDpsInputs());
  Operation *combiner = value.getDefiningOp();
  if (!combiner || combiner->getBlock() != g.getBody() ||
      !kindOf(combiner) || !out.hasOneUse() ||
      *out.getUsers().begin() != combiner ||
      combiner->getOperand(0) == combiner->getOperand(1))
    return nullptr;
  return combiner;
}

/// The access of an operand of type `type` through `map` in a row op whose
/// loops have `ranges` (the rows first, the lanes last, ones between): each
/// index is the row, the lane (the last index, over the whole row) or 0 on
/// a dimension of one element.
std::optional<Access> accessOf(AffineMap map, ShapedType type,
                               ArrayRef<int64_t> ranges) {
  unsigned lane = ranges.size() - 1;
  bool row = false, col = false;
  ArrayRef<AffineExpr> results = map.getResults();
  for (auto [k, e] : llvm::enumerate(results)) {
    int64_t size = type.getDimSize(k);
    auto dim = dyn_cast<AffineDimExpr>(e);
    if (dim && dim.getPosition() == 0) {
      if (row || col)
        return std::nullopt;
      row = true;
    } else if (dim && dim.getPosition() == lane) {
      if (k + 1 != results.size() || size != ranges[lane])
        return std::nullopt;
      col = true;
    } else if (dim || isa<AffineConstantExpr>(e)) {
      if (size != 1 || (!dim && cast<AffineConstantExpr>(e).getValue() != 0))
        return std::nullopt;
    } else {
      return std::nullopt;
    }
  }
  if (row)
    return col ? Access::Element : Access::Row;
  return col ? Access::Column : Access::Scalar;
}

/// Lanes of a vector register for elements of `element`.
int64_t lanesFor(int64_t lanes, Type element) {
  return std::max<int64_t>(1, lanes * 32 / element.getIntOrFloatBitWidth());
}

/// Whether a buffer is its root seen through reshapes only, so that a row
/// and lane name the same element in both (row-major, no gaps).
bool isReshapeOfRoot(Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (auto expand = dyn_cast<memref::ExpandShapeOp>(def))
      v = expand.getSrc();
    else if (auto collapse = dyn_cast<memref::CollapseShapeOp>(def))
      v = collapse.getSrc();
    else if (isa<ViewLikeOpInterface>(def))
      return false;
    else
      break;
  }
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.getLayout().isIdentity();
}

/// `g` as a stage of a row epilogue (its operands' accesses), if it is a
/// row op (isRowOp).
std::optional<Epilogue::Stage> rowStageOf(linalg::GenericOp g, int64_t lanes) {
  if (!isRowOp(g, lanes))
    return std::nullopt;
  Epilogue::Stage stage{g, std::nullopt, {}, {}, {}};
  SmallVector<int64_t> ranges = g.getStaticLoopRanges();
  for (OpOperand &operand : g->getOpOperands())
    stage.access.push_back(*accessOf(g.getMatchingIndexingMap(&operand),
                                     cast<ShapedType>(operand.get().getType()),
                                     ranges));
  stage.start.resize(g.getNumDpsInits());
  stage.store.assign(g.getNumDpsInits(), true);
  return stage;
}

bool isReduction(linalg::GenericOp g) {
  return g.getIteratorTypesArray().back() == utils::IteratorType::reduction;
}

/// The reduction `kind` of `row`, combined with `start`: a sum adds its
/// elements in order (rounding as the loop over the row did), an extremum
/// is a tree (reduceAsTree).
Value reduceRow(OpBuilder &b, Location loc, vector::CombiningKind kind,
                Value row, Value start) {
  if (kind == vector::CombiningKind::ADD)
    return vector::ReductionOp::create(b, loc, kind, row, start);
  Type element = cast<VectorType>(row.getType()).getElementType();
  Value extremum = reduceAsTree(b, loc, kind, row,
                                extremumNeutral(b, kind, element));
  return vector::makeArithReduction(b, loc, kind, extremum, start);
}

/// Builds a row epilogue stage by stage (see matchRowEpilogue).
class RowEpilogueMatcher {
public:
  RowEpilogueMatcher(Operation *contraction, Value out, int64_t lanes)
      : contraction(contraction), out(out), lanes(lanes) {
    outShape = llvm::to_vector(cast<MemRefType>(out.getType()).getShape());
  }

  std::optional<Epilogue> match() {
    epilogue.rows = true;
    epilogue.output = out;
    written[out] = Access::Element;
    int64_t scanned = 0;
    for (Operation *op = contraction->getNextNode(); op && scanned < kMaxScanned;
         op = op->getNextNode(), ++scanned) {
      // A fill may be a reduction's start, which a later stage absorbs;
      // until then stages must not touch its buffer.
      if (auto fill = dyn_cast<linalg::FillOp>(op);
          fill && fill.hasPureBufferSemantics()) {
        fills.push_back(fill);
        continue;
      }
      // A scalar stored into a buffer of its own (the batch size a loss's
      // gradient divides by) moves up before C with what it stores.
      if (auto store = dyn_cast<memref::StoreOp>(op);
          store && canHoist(store)) {
        stores.push_back(store);
        continue;
      }
      auto g = dyn_cast<linalg::GenericOp>(op);
      if (g && readsStageData(g) && addStage(g))
        continue;
      if (!collectEffects(op, betweenReads, betweenWrites))
        break;
    }
    if (epilogue.stages.empty())
      return std::nullopt;
    // What only the stages read needs no store: the last stage writing a
    // buffer stores it when anything else reads it after C (or it is not
    // the function's own allocation).
    DenseSet<Value> later;
    for (Epilogue::Stage &stage : llvm::reverse(epilogue.stages))
      for (OpOperand &init : stage.op.getDpsInitsMutable()) {
        Value root = rootOf(init.get());
        stage.store[init.getOperandNumber() - stage.op.getNumDpsInputs()] =
            !later.contains(root) && isReadAfter(root);
        later.insert(root);
      }
    // A stage that reads from memory a buffer a stage writes would read it
    // updated when a tile computes its rows again.
    for (Value root : externalReads)
      if (stageWrites.contains(root))
        epilogue.repeatable = false;
    if (!completeEpilogue(
            contraction, out, stageWrites.contains(out),
            [](Operation *op) { return isa<ViewLikeOpInterface>(op); },
            epilogue, stores))
      return std::nullopt;
    return std::move(epilogue);
  }

private:
  bool isStage(Operation *op) {
    return llvm::any_of(epilogue.stages, [&](const Epilogue::Stage &stage) {
      return stage.op == op;
    });
  }
  bool readsStageData(linalg::GenericOp g) {
    return llvm::any_of(g.getDpsInputs(),
                        [&](Value v) { return written.contains(rootOf(v)); });
  }
  /// Whether an op other than the stages and the fills they absorb uses
  /// buffer `root` after C, or it is not allocated in the function.
  bool isReadAfter(Value root) {
    if (!root.getDefiningOp<memref::AllocOp>())
      return true;
    for (Operation *op = contraction->getNextNode(); op; op = op->getNextNode())
      if (!isStage(op) && !isa<ViewLikeOpInterface, memref::DeallocOp>(op) &&
          !llvm::is_contained(epilogue.absorbed, op) && touches(op, root))
        return true;
    return false;
  }

  /// Whether `store` can move up before C: it writes a buffer allocated
  /// after C that nothing between C and it (op or stage) uses, and what it
  /// stores (and where) is computed without effects.
  bool canHoist(memref::StoreOp store) {
    Value root = rootOf(store.getMemRef());
    auto alloc = root.getDefiningOp<memref::AllocOp>();
    if (!alloc || alloc->getBlock() != contraction->getBlock() ||
        !contraction->isBeforeInBlock(alloc) || betweenReads.contains(root) ||
        betweenWrites.contains(root) || pendingFill(root) ||
        llvm::any_of(epilogue.stages, [&](const Epilogue::Stage &stage) {
          return touches(stage.op, root);
        }))
      return false;
    SmallVector<Value> worklist(store->getOperands());
    while (!worklist.empty()) {
      Operation *def = worklist.pop_back_val().getDefiningOp();
      if (!def || def->getBlock() != contraction->getBlock() ||
          !contraction->isBeforeInBlock(def))
        continue;
      if (!(isMemoryEffectFree(def) || isa<memref::AllocOp>(def)) ||
          def->getNumRegions() != 0)
        return false;
      llvm::append_range(worklist, def->getOperands());
    }
    return true;
  }

  /// The fill of `root` not yet absorbed, if any.
  linalg::FillOp pendingFill(Value root) {
    for (linalg::FillOp fill : fills)
      if (!llvm::is_contained(epilogue.absorbed, fill.getOperation()) &&
          rootOf(fill.getOutputs()[0]) == root)
        return fill;
    return nullptr;
  }

  /// Adds `g` as the next stage if it is a row op over O's rows that can
  /// move up to C.
  bool addStage(linalg::GenericOp g) {
    if (!g.hasPureBufferSemantics())
      return false;
    std::optional<Epilogue::Stage> stage = rowStageOf(g, lanes);
    SmallVector<int64_t> ranges = g.getStaticLoopRanges();
    if (!stage || ranges.front() != outShape.front() ||
        ranges.back() != outShape.back())
      return false;
    bool reduction = isReduction(g);
    // Its inputs: what O or earlier stages hold for the same row, or
    // buffers nothing in between writes.
    SmallVector<Value> reads;
    for (OpOperand *input : g.getDpsInputOperands()) {
      Value v = input->get(), root = rootOf(v);
      Access access = stage->access[input->getOperandNumber()];
      // (What a stage wrote and an op in between wrote again, a fill
      // included, is not in the registers any more.)
      if (auto it = written.find(root); it != written.end()) {
        if (it->second != access || !isReshapeOfRoot(v) ||
            betweenWrites.contains(root) || pendingFill(root))
          return false;
        continue;
      }
      reads.push_back(root);
      if (betweenWrites.contains(root) || pendingFill(root) ||
          ((access == Access::Element || access == Access::Column) &&
           !isContiguousAlongLastDim(v.getType())))
        return false;
    }
    // Its outputs: written at the row only, read by no op it jumps over
    // and by no stage other than at that row; a reduction's output filled
    // right before (its start).
    SmallVector<linalg::FillOp> absorbs;
    SmallVector<OpOperand *> renames;
    for (OpOperand &init : g.getDpsInitsMutable()) {
      Value v = init.get(), root = rootOf(v);
      Access access = stage->access[init.getOperandNumber()];
      if (access != (reduction ? Access::Row : Access::Element) ||
          !isReshapeOfRoot(v))
        return false;
      // (The logits' buffer, reused for a cross-entropy's gradient while
      // the loss's mean still reads it, is renamed.)
      OutputBuffer buffer =
          outputBuffer(g, init, out, betweenReads, betweenWrites);
      if (buffer == OutputBuffer::Blocked)
        return false;
      if (buffer == OutputBuffer::Renamed) {
        renames.push_back(&init);
        continue;
      }
      if (auto it = written.find(root); it != written.end() && it->second != access)
        return false;
      for (Value operand : contraction->getOperands())
        if (isa<BaseMemRefType>(operand.getType()) && root != out &&
            rootOf(operand) == root)
          return false;
      auto readsElsewhere = [&](Epilogue::Stage s) {
        for (OpOperand *in : s.op.getDpsInputOperands())
          if (rootOf(in->get()) == root &&
              s.access[in->getOperandNumber()] != access)
            return true;
        return false;
      };
      if (readsElsewhere(*stage) ||
          llvm::any_of(epilogue.stages, readsElsewhere))
        return false;
      linalg::FillOp fill = pendingFill(root);
      if (reduction) {
        Attribute start;
        if (!fill || fill.getOutputs()[0] != v ||
            !matchPattern(fill.value(), m_Constant(&start)) ||
            !isa<FloatAttr>(start))
          return false;
        stage->start[init.getOperandNumber() - g.getNumDpsInputs()] =
            cast<TypedAttr>(start);
        absorbs.push_back(fill);
      } else if (fill) {
        return false;
      }
    }
    llvm::append_range(externalReads, reads);
    for (OpOperand *init : renames)
      renameOutput(g, *init);
    for (OpOperand &init : g.getDpsInitsMutable()) {
      written[rootOf(init.get())] =
          stage->access[init.getOperandNumber()];
      stageWrites.insert(rootOf(init.get()));
    }
    for (linalg::FillOp fill : absorbs)
      epilogue.absorbed.push_back(fill);
    epilogue.stages.push_back(std::move(*stage));
    return true;
  }

  /// Ops after C looked at for stages.
  static constexpr int64_t kMaxScanned = 64;

  Operation *contraction;
  Value out;
  int64_t lanes;
  SmallVector<int64_t> outShape;
  Epilogue epilogue;
  /// What the stages (and the kernel, for O) write, by buffer: a value per
  /// element of the row or one for the row.
  DenseMap<Value, Access> written;
  DenseSet<Value> stageWrites;
  /// The buffers stages read from memory (not what O or a stage holds).
  SmallVector<Value> externalReads;
  SmallVector<linalg::FillOp> fills;
  /// Stores that move up before C (canHoist).
  SmallVector<Operation *> stores;
  DenseSet<Value> betweenReads, betweenWrites;
};

/// Computes `stage` for row `row`, on one vector of the row's length.
/// `values` holds what the kernel and earlier stages computed for the row,
/// by buffer (a vector for a row of elements, a scalar for a row's value);
/// the stage reads them from there and adds what it writes.
void emitRowStage(OpBuilder &b, Location loc, const Epilogue::Stage &stage,
                  Value row, DenseMap<Value, Value> &values) {
  linalg::GenericOp g = stage.op;
  unsigned lane = g.getNumLoops() - 1;
  int64_t width = g.getStaticLoopRanges().back();
  Type element = getElementTypeOrSelf(g.getDpsInits()[0].getType());
  auto vectorType = VectorType::get({width}, element);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  auto indicesOf = [&](OpOperand *operand) {
    SmallVector<Value> idx;
    for (AffineExpr e : g.getMatchingIndexingMap(operand).getResults()) {
      auto dim = dyn_cast<AffineDimExpr>(e);
      idx.push_back(dim && dim.getPosition() == 0 ? row : zero);
    }
    return idx;
  };
  auto splat = [&](Value scalar) {
    return vector::BroadcastOp::create(
               b, loc, VectorType::get({width}, scalar.getType()), scalar)
        .getResult();
  };

  IRMapping mapping;
  for (OpOperand *operand : g.getDpsInputOperands()) {
    Access access = stage.access[operand->getOperandNumber()];
    Value value;
    if (auto it = values.find(rootOf(operand->get())); it != values.end()) {
      value = access == Access::Row ? splat(it->second) : it->second;
    } else if (access == Access::Element || access == Access::Column) {
      value = vector::LoadOp::create(b, loc, vectorType, operand->get(),
                                     indicesOf(operand));
    } else {
      value = splat(
          memref::LoadOp::create(b, loc, operand->get(), indicesOf(operand)));
    }
    mapping.map(g.getMatchingBlockArgument(operand), value);
  }
  // The loops' indices: a vector of steps along the row.
  Block *body = g.getBody();
  for (auto index : body->getOps<linalg::IndexOp>()) {
    Value v;
    if (index.getDim() == lane)
      v = vector::StepOp::create(
          b, loc, VectorType::get({width}, b.getIndexType()));
    else
      v = splat(index.getDim() == 0 ? row : zero);
    mapping.map(index.getResult(), v);
  }
  bool reduction = isReduction(g);
  SmallVector<Operation *> combiners;
  if (reduction)
    for (OpOperand &init : g.getDpsInitsMutable())
      combiners.push_back(combinerOf(g, init));
  cloneOnVectors(b, loc, body, width, mapping, [&](Operation &op) {
    return isa<linalg::IndexOp>(op) || llvm::is_contained(combiners, &op);
  });

  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  for (OpOperand &init : g.getDpsInitsMutable()) {
    unsigned k = init.getOperandNumber() - g.getNumDpsInputs();
    SmallVector<Value> idx = indicesOf(&init);
    Value result;
    if (reduction) {
      Operation *combiner = combiners[k];
      BlockArgument outArg = g.getMatchingBlockArgument(&init);
      Value x = combiner->getOperand(0) == outArg ? combiner->getOperand(1)
                                                  : combiner->getOperand(0);
      Value start =
          stage.start[k]
              ? arith::ConstantOp::create(b, loc, stage.start[k]).getResult()
              : memref::LoadOp::create(b, loc, init.get(), idx).getResult();
      result = reduceRow(b, loc, *kindOf(combiner),
                         vectorFor(b, loc, mapping, x, width), start);
      if (stage.store[k])
        memref::StoreOp::create(b, loc, result, init.get(), idx);
    } else {
      result = vectorFor(b, loc, mapping, yield.getOperand(k), width);
      if (stage.store[k])
        vector::StoreOp::create(b, loc, result, init.get(), idx);
    }
    values[rootOf(init.get())] = result;
  }
}

} // namespace

bool mlir::dlc::isRowOp(linalg::GenericOp op, int64_t lanes) {
  unsigned loops = op.getNumLoops();
  // Products (a row's sum of squares, `out + p * p`) are the kernels'.
  if (loops < 2 || op.getNumDpsInits() == 0 || isMulAdd(op))
    return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (iterators.front() != utils::IteratorType::parallel)
    return false;
  for (unsigned d = 1; d + 1 < loops; ++d)
    if (ranges[d] != 1)
      return false;
  Type element = getElementTypeOrSelf(op.getDpsInits()[0].getType());
  if (!isa<FloatType>(element))
    return false;
  int64_t width = ranges.back();
  if (ShapedType::isDynamic(width) || width < 2 ||
      width > lanesFor(lanes, element))
    return false;
  bool reduction = isReduction(op);
  for (OpOperand &operand : op->getOpOperands()) {
    auto type = dyn_cast<ShapedType>(operand.get().getType());
    if (!type || type.getElementType() != element)
      return false;
    std::optional<Access> access =
        accessOf(op.getMatchingIndexingMap(&operand), type, ranges);
    if (!access)
      return false;
    // On buffers, vectors along the row need unit stride.
    if (isa<MemRefType>(type) &&
        (*access == Access::Element || *access == Access::Column) &&
        !isContiguousAlongLastDim(type))
      return false;
    if (op.isDpsInit(&operand) &&
        *access != (reduction ? Access::Row : Access::Element))
      return false;
  }
  for (Operation &nested : op.getBody()->without_terminator())
    if (!isa<linalg::IndexOp, arith::ConstantOp>(nested) &&
        (nested.getNumRegions() != 0 ||
         !nested.hasTrait<OpTrait::Elementwise>() ||
         llvm::any_of(nested.getResultTypes(),
                      [](Type t) { return isa<ShapedType>(t); })))
      return false;
  for (OpOperand &init : op.getDpsInitsMutable())
    if (reduction ? !combinerOf(op, init)
                  : !op.getMatchingBlockArgument(&init).use_empty())
      return false;
  return true;
}

std::optional<Epilogue> mlir::dlc::matchRowEpilogue(Operation *contraction,
                                                    Value out, int64_t lanes) {
  auto alloc = out.getDefiningOp<memref::AllocOp>();
  if (!alloc || !alloc.getType().getLayout().isIdentity() ||
      alloc.getType().getRank() != 2)
    return std::nullopt;
  return RowEpilogueMatcher(contraction, out, lanes).match();
}

void mlir::dlc::emitRowEpilogue(OpBuilder &b, Location loc,
                                const Epilogue &epilogue, ArrayRef<Value> accs,
                                ArrayRef<Value> rows) {
  // Each row's elements: the first lanes of its accumulator (the kernel's
  // only vector along the row, from column 0).
  int64_t width = cast<MemRefType>(epilogue.output.getType()).getDimSize(1);
  SmallVector<DenseMap<Value, Value>> values(accs.size());
  for (auto [acc, rowValues] : llvm::zip(accs, values)) {
    Value row = acc;
    if (width < cast<VectorType>(acc.getType()).getNumElements())
      row = vector::ExtractStridedSliceOp::create(b, loc, acc, {0}, {width},
                                                  {1});
    rowValues[epilogue.output] = row;
  }
  // Stage by stage, each for all the rows: the rows' chains (a sum's
  // ordered additions, the exponential's polynomial) are independent, and
  // side by side the core overlaps them (row by row, the tile's epilogue
  // waited on each row's chain: softmax regression 1.80 -> 2.03 us).
  for (const Epilogue::Stage &stage : epilogue.stages)
    for (auto [row, rowValues] : llvm::zip(rows, values))
      emitRowStage(b, loc, stage, row, rowValues);
}

LogicalResult mlir::dlc::emitRowLoop(RewriterBase &rewriter,
                                     linalg::GenericOp op, int64_t lanes) {
  if (!op.hasPureBufferSemantics())
    return failure();
  std::optional<Epilogue::Stage> stage = rowStageOf(op, lanes);
  if (!stage)
    return failure();
  // The rows: the size of the output's row dimension (an output is read
  // by row, isRowOp).
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  OpOperand *init = op.getDpsInitOperand(0);
  std::optional<unsigned> rowDim =
      op.getMatchingIndexingMap(init).getResultPosition(
          rewriter.getAffineDimExpr(0));
  Value rows = memref::DimOp::create(rewriter, loc, init->get(), *rowDim);
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  scf::ForOp::create(rewriter, loc, zero, rows,
                     arith::ConstantIndexOp::create(rewriter, loc, 1),
                     ValueRange{},
                     [&](OpBuilder &b, Location l, Value row, ValueRange) {
                       DenseMap<Value, Value> values;
                       emitRowStage(b, l, *stage, row, values);
                       scf::YieldOp::create(b, l);
                     });
  rewriter.eraseOp(op);
  return success();
}
