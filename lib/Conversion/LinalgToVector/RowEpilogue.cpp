// Row epilogues of dlc-register-tile: a classifier's loss (its softmax,
// cross-entropy and their gradient) computed on the logits kernel's tiles,
// each row of classes one vector in registers; and the same row ops, where
// no kernel takes them, as a loop over their rows.
#include "Epilogue.h"
#include "LoopUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

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

/// What a reduction's lanes past the row's end hold: they change nothing.
double neutralOf(vector::CombiningKind kind) {
  switch (kind) {
  case vector::CombiningKind::MAXIMUMF:
    return -INFINITY;
  case vector::CombiningKind::MINIMUMF:
    return INFINITY;
  default:
    return -0.0; // x + -0 == x, also for x = -0
  }
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
  Epilogue::Stage stage{g, std::nullopt, {}, {}};
  SmallVector<int64_t> ranges = g.getStaticLoopRanges();
  for (OpOperand &operand : g->getOpOperands())
    stage.access.push_back(*accessOf(g.getMatchingIndexingMap(&operand),
                                     cast<ShapedType>(operand.get().getType()),
                                     ranges));
  stage.start.resize(g.getNumDpsInits());
  return stage;
}

bool isReduction(linalg::GenericOp g) {
  return g.getIteratorTypesArray().back() == utils::IteratorType::reduction;
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
      auto g = dyn_cast<linalg::GenericOp>(op);
      if (g && readsStageData(g) && addStage(g))
        continue;
      if (!collectEffects(op, betweenReads, betweenWrites))
        break;
    }
    if (epilogue.stages.empty())
      return std::nullopt;
    // O is stored too if anything but the stages reads it afterwards
    // (unless a stage overwrote it).
    if (!stageWrites.contains(out))
      for (Operation *op = contraction->getNextNode(); op;
           op = op->getNextNode())
        if (!isStage(op) && !isa<ViewLikeOpInterface>(op) && touches(op, out)) {
          epilogue.storeOutput = true;
          break;
        }
    SmallVector<linalg::GenericOp> ops;
    for (const Epilogue::Stage &stage : epilogue.stages)
      ops.push_back(stage.op);
    std::optional<SmallVector<Operation *>> prelude =
        collectPrelude(contraction, ops);
    if (!prelude)
      return std::nullopt;
    epilogue.prelude = std::move(*prelude);
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
    for (OpOperand *input : g.getDpsInputOperands()) {
      Value v = input->get(), root = rootOf(v);
      Access access = stage->access[input->getOperandNumber()];
      if (auto it = written.find(root); it != written.end()) {
        if (it->second != access || !isReshapeOfRoot(v))
          return false;
        continue;
      }
      if (betweenWrites.contains(root) || pendingFill(root) ||
          ((access == Access::Element || access == Access::Column) &&
           !isContiguousAlongLastDim(v.getType())))
        return false;
    }
    // Its outputs: written at the row only, read by no op it jumps over
    // and by no stage other than at that row; a reduction's output filled
    // right before (its start).
    SmallVector<linalg::FillOp> absorbs;
    for (OpOperand &init : g.getDpsInitsMutable()) {
      Value v = init.get(), root = rootOf(v);
      Access access = stage->access[init.getOperandNumber()];
      if (access != (reduction ? Access::Row : Access::Element) ||
          !isReshapeOfRoot(v) || betweenReads.contains(root) ||
          betweenWrites.contains(root))
        return false;
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
  SmallVector<linalg::FillOp> fills;
  DenseSet<Value> betweenReads, betweenWrites;
};

/// Computes `stage` for row `row` (lanes from `j0`, `mask` the valid ones)
/// on vectors of `lanes`. `values` holds what the kernel and earlier stages
/// computed for the row, by buffer (a vector per row of elements, a scalar
/// per row value); the stage reads them from there and adds what it writes.
void emitRowStage(OpBuilder &b, Location loc, const Epilogue::Stage &stage,
                  Value row, Value j0, Value mask, int64_t lanes,
                  DenseMap<Value, Value> &values) {
  linalg::GenericOp g = stage.op;
  unsigned lane = g.getNumLoops() - 1;
  Type element = getElementTypeOrSelf(g.getDpsInits()[0].getType());
  auto vectorType = VectorType::get({lanes}, element);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  auto loopIndex = [&](unsigned d) {
    return d == 0 ? row : d == lane ? j0 : zero;
  };
  auto indicesOf = [&](OpOperand *operand) {
    SmallVector<Value> idx;
    for (AffineExpr e : g.getMatchingIndexingMap(operand).getResults()) {
      auto dim = dyn_cast<AffineDimExpr>(e);
      idx.push_back(dim ? loopIndex(dim.getPosition()) : zero);
    }
    return idx;
  };
  auto splat = [&](Value scalar) {
    return vector::BroadcastOp::create(
               b, loc, VectorType::get({lanes}, scalar.getType()), scalar)
        .getResult();
  };

  IRMapping mapping;
  for (OpOperand *operand : g.getDpsInputOperands()) {
    Access access = stage.access[operand->getOperandNumber()];
    Value value;
    if (auto it = values.find(rootOf(operand->get())); it != values.end()) {
      value = access == Access::Row ? splat(it->second) : it->second;
    } else if (access == Access::Element || access == Access::Column) {
      SmallVector<Value> idx = indicesOf(operand);
      value = mask ? vector::MaskedLoadOp::create(
                         b, loc, vectorType, operand->get(), idx, mask,
                         arith::ConstantOp::create(b, loc, vectorType,
                                                   b.getZeroAttr(vectorType)))
                         .getResult()
                   : vector::LoadOp::create(b, loc, vectorType, operand->get(),
                                            idx)
                         .getResult();
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
    if (index.getDim() == lane) {
      v = vector::StepOp::create(
          b, loc, VectorType::get({lanes}, b.getIndexType()));
      if (!matchPattern(j0, m_Zero()))
        v = arith::AddIOp::create(b, loc, v, splat(j0));
    } else {
      v = splat(loopIndex(index.getDim()));
    }
    mapping.map(index.getResult(), v);
  }
  bool reduction = isReduction(g);
  SmallVector<Operation *> combiners;
  if (reduction)
    for (OpOperand &init : g.getDpsInitsMutable())
      combiners.push_back(combinerOf(g, init));
  cloneOnVectors(b, loc, body, lanes, mapping, [&](Operation &op) {
    return isa<linalg::IndexOp>(op) || llvm::is_contained(combiners, &op);
  });

  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  for (OpOperand &init : g.getDpsInitsMutable()) {
    unsigned k = init.getOperandNumber() - g.getNumDpsInputs();
    SmallVector<Value> idx = indicesOf(&init);
    Value result;
    if (reduction) {
      // The row's reduction, in order from the start (a sum rounds as
      // the loop over the row did); lanes past the row neutral.
      Operation *combiner = combiners[k];
      BlockArgument outArg = g.getMatchingBlockArgument(&init);
      Value x = combiner->getOperand(0) == outArg ? combiner->getOperand(1)
                                                  : combiner->getOperand(0);
      Value vx = vectorFor(b, loc, mapping, x, lanes);
      vector::CombiningKind kind = *kindOf(combiner);
      if (mask)
        vx = arith::SelectOp::create(
            b, loc, mask, vx,
            arith::ConstantOp::create(
                b, loc,
                DenseElementsAttr::get(
                    vectorType, b.getFloatAttr(element, neutralOf(kind)))));
      Value start =
          stage.start[k]
              ? arith::ConstantOp::create(b, loc, stage.start[k]).getResult()
              : memref::LoadOp::create(b, loc, init.get(), idx).getResult();
      result = vector::ReductionOp::create(b, loc, kind, vx, start);
      memref::StoreOp::create(b, loc, result, init.get(), idx);
    } else {
      result = vectorFor(b, loc, mapping, yield.getOperand(k), lanes);
      if (mask)
        vector::MaskedStoreOp::create(b, loc, init.get(), idx, mask, result);
      else
        vector::StoreOp::create(b, loc, result, init.get(), idx);
    }
    values[rootOf(init.get())] = result;
  }
}

} // namespace

bool mlir::dlc::isRowOp(linalg::GenericOp op, int64_t lanes) {
  unsigned loops = op.getNumLoops();
  if (loops < 2 || op.getNumDpsInits() == 0)
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
                                const Epilogue &epilogue, Value acc,
                                ArrayRef<Value> outIndices, Value mask) {
  DenseMap<Value, Value> values;
  values[epilogue.output] = acc;
  int64_t lanes = cast<VectorType>(acc.getType()).getNumElements();
  for (const Epilogue::Stage &stage : epilogue.stages)
    emitRowStage(b, loc, stage, outIndices[0], outIndices[1], mask, lanes,
                 values);
}

LogicalResult mlir::dlc::emitRowLoop(RewriterBase &rewriter,
                                     linalg::GenericOp op, int64_t lanes) {
  if (!op.hasPureBufferSemantics())
    return failure();
  std::optional<Epilogue::Stage> stage = rowStageOf(op, lanes);
  if (!stage)
    return failure();
  // The rows: the size of the row dimension of an operand that has one.
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Value rows;
  for (OpOperand &operand : op->getOpOperands()) {
    Access access = stage->access[operand.getOperandNumber()];
    if (access != Access::Element && access != Access::Row)
      continue;
    AffineMap map = op.getMatchingIndexingMap(&operand);
    for (auto [k, e] : llvm::enumerate(map.getResults()))
      if (auto dim = dyn_cast<AffineDimExpr>(e); dim && dim.getPosition() == 0)
        rows = memref::DimOp::create(rewriter, loc, operand.get(), k);
    break;
  }
  if (!rows)
    return failure();
  Type element = getElementTypeOrSelf(op.getDpsInits()[0].getType());
  int64_t vectorLanes = lanesFor(lanes, element);
  int64_t width = op.getStaticLoopRanges().back();
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value mask;
  if (width < vectorLanes)
    mask = vector::CreateMaskOp::create(
        rewriter, loc, VectorType::get({vectorLanes}, rewriter.getI1Type()),
        ValueRange{arith::ConstantIndexOp::create(rewriter, loc, width)});
  scf::ForOp::create(rewriter, loc, zero, rows,
                     arith::ConstantIndexOp::create(rewriter, loc, 1),
                     ValueRange{},
                     [&](OpBuilder &b, Location l, Value row, ValueRange) {
                       DenseMap<Value, Value> values;
                       emitRowStage(b, l, *stage, row, zero, mask, vectorLanes,
                                    values);
                       scf::YieldOp::create(b, l);
                     });
  rewriter.eraseOp(op);
  return success();
}
