// dlc-plan-memory: every buffer of a call lives in one caller-owned arena;
// buffers whose lifetimes do not overlap share its slots.
#include "dlc/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"

#include <limits>

namespace mlir::dlc {
#define GEN_PASS_DEF_PLANMEMORYPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;

namespace {

constexpr int64_t kAlignment = 64;

/// A bound on bytes as a polynomial in the batch size b: sum_k c[k] b^k.
using Polynomial = SmallVector<int64_t>;

void addScaled(Polynomial &into, const Polynomial &p, int64_t scale) {
  if (into.size() < p.size())
    into.resize(p.size(), 0);
  for (size_t k = 0; k < p.size(); ++k)
    into[k] += scale * p[k];
}

/// Whether `size` is the symbolic batch size: a memref.dim along a dynamic
/// dimension. In a dlc program every symbolic dimension is the batch (the
/// language has one symbolic size; reshapes keep it, broadcasts never mix
/// it with a static size), so any dynamic dimension will do.
bool isBatchSize(Value size) {
  auto dim = size.getDefiningOp<memref::DimOp>();
  if (!dim)
    return false;
  std::optional<int64_t> index = dim.getConstantIndex();
  auto type = dyn_cast<MemRefType>(dim.getSource().getType());
  return index && type && type.isDynamicDim(*index);
}

/// The trip count of a loop with constant bounds.
std::optional<int64_t> tripCount(scf::ForOp loop) {
  APInt lb, ub, step;
  if (!matchPattern(loop.getLowerBound(), m_ConstantInt(&lb)) ||
      !matchPattern(loop.getUpperBound(), m_ConstantInt(&ub)) ||
      !matchPattern(loop.getStep(), m_ConstantInt(&step)) || step.isZero())
    return std::nullopt;
  int64_t n = (ub.getSExtValue() - lb.getSExtValue() + step.getSExtValue() - 1) /
              step.getSExtValue();
  return std::max<int64_t>(n, 0);
}

/// The bytes of a buffer of `type` (its dynamic dimensions are the batch).
Polynomial sizeOf(MemRefType type) {
  int64_t bytes = std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
  for (int64_t d : type.getShape())
    if (!ShapedType::isDynamic(d))
      bytes *= d;
  Polynomial p(type.getNumDynamicDims() + 1, 0);
  p.back() = bytes;
  return p;
}

/// Whether `p` >= `q` for every batch size: coefficient by coefficient.
bool dominates(const Polynomial &p, const Polynomial &q) {
  for (size_t k = 0; k < std::max(p.size(), q.size()); ++k)
    if ((k < p.size() ? p[k] : 0) < (k < q.size() ? q[k] : 0))
      return false;
  return true;
}

/// Whether `op` allocates anywhere inside. Loops that do not (the kernels'
/// loops, with bounds that depend on the batch) need no plan.
bool allocates(Operation *op) {
  return op->walk([](memref::AllocOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

/// The bytes of a loop's slices, one per iteration, for a body of `body`
/// bytes: each slice starts at a multiple of the alignment, its stride the
/// body's bound rounded up (placeSlices), up to kAlignment - 1 more.
Polynomial sliceBytes(Polynomial body, int64_t trips) {
  body[0] += kAlignment - 1;
  Polynomial slices;
  addScaled(slices, body, trips);
  return slices;
}

/// The bytes one execution of `block` allocates (a bound), checking that
/// every allocation can be planned.
FailureOr<Polynomial> analyze(Block &block) {
  Polynomial total(1, 0);
  for (Operation &op : block) {
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      MemRefType type = alloc.getType();
      if (!type.getLayout().isIdentity())
        return alloc.emitError(
            "cannot plan a buffer with a non-identity layout");
      for (Value size : alloc.getDynamicSizes())
        if (!isBatchSize(size))
          return alloc.emitError("cannot plan a buffer whose size is not a "
                                 "function of the batch");
      Polynomial p = sizeOf(type);
      p[0] += kAlignment - 1;
      addScaled(total, p, 1);
    } else if (auto loop = dyn_cast<scf::ForOp>(op);
               loop && allocates(loop)) {
      std::optional<int64_t> trips = tripCount(loop);
      if (!trips)
        return loop.emitError("cannot plan the buffers of a loop without "
                              "constant bounds");
      FailureOr<Polynomial> body = analyze(*loop.getBody());
      if (failed(body))
        return failure();
      addScaled(total, sliceBytes(*body, *trips), 1);
    } else if (isa<memref::AllocaOp, memref::ReallocOp>(op)) {
      return op.emitError("cannot plan this allocation");
    } else if (op.getNumRegions() > 0) {
      WalkResult inner = op.walk([](memref::AllocOp alloc) {
        alloc.emitError("cannot plan an allocation inside this region");
        return WalkResult::interrupt();
      });
      if (inner.wasInterrupted())
        return failure();
    }
  }
  return total;
}

/// `c0 + c1 b + ...` evaluated at run time, rounded up to the alignment.
Value evaluate(OpBuilder &b, Location loc, const Polynomial &p, Value batch) {
  Value result = arith::ConstantIndexOp::create(b, loc, p[0]);
  Value power = arith::ConstantIndexOp::create(b, loc, 1);
  for (size_t k = 1; k < p.size(); ++k) {
    power = arith::MulIOp::create(b, loc, power, batch);
    Value term = arith::MulIOp::create(
        b, loc, power, arith::ConstantIndexOp::create(b, loc, p[k]));
    result = arith::AddIOp::create(b, loc, result, term);
  }
  Value mask = arith::ConstantIndexOp::create(b, loc, kAlignment - 1);
  Value notMask = arith::ConstantIndexOp::create(b, loc, ~(kAlignment - 1));
  return arith::AndIOp::create(b, loc,
                               arith::AddIOp::create(b, loc, result, mask),
                               notMask);
}

/// Replaces `alloc` by a view into `arena` at byte `offset`.
void replaceWithView(memref::AllocOp alloc, Value arena, Value offset) {
  OpBuilder b(alloc);
  auto view = memref::ViewOp::create(b, alloc.getLoc(), alloc.getType(), arena,
                                     offset, alloc.getDynamicSizes());
  alloc.replaceAllUsesWith(view.getResult());
  alloc.erase();
}

Value place(Block &block, Value arena, Value offset, Value batch);

/// Places the buffers of each iteration of `loop` in its own slice of
/// `stride` bytes, the slices one after the other from `start`.
void placeSlices(scf::ForOp loop, Value arena, Value start, Value stride,
                 Value batch) {
  OpBuilder b = OpBuilder::atBlockBegin(loop.getBody());
  Location loc = loop.getLoc();
  Value iteration = arith::DivSIOp::create(
      b, loc,
      arith::SubIOp::create(b, loc, loop.getInductionVar(),
                            loop.getLowerBound()),
      loop.getStep());
  Value base = arith::AddIOp::create(
      b, loc, start, arith::MulIOp::create(b, loc, iteration, stride));
  place(*loop.getBody(), arena, base, batch);
}

/// Replaces the allocations of `block` by views into `arena` from `offset`
/// on (bump allocation, inside a loop's slice); a loop gets one slice of
/// the arena per iteration, each as large as the bound of its body.
Value place(Block &block, Value arena, Value offset, Value batch) {
  for (Operation &op : llvm::make_early_inc_range(block)) {
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      OpBuilder b(alloc);
      Location loc = alloc.getLoc();
      MemRefType type = alloc.getType();
      int64_t staticBytes = sizeOf(type).back();
      Value bytes = arith::ConstantIndexOp::create(b, loc, staticBytes);
      for (Value size : alloc.getDynamicSizes())
        bytes = arith::MulIOp::create(b, loc, bytes, size);
      Value start = offset;
      Value mask = arith::ConstantIndexOp::create(b, loc, kAlignment - 1);
      Value notMask = arith::ConstantIndexOp::create(b, loc, ~(kAlignment - 1));
      Value aligned = arith::AndIOp::create(
          b, loc, arith::AddIOp::create(b, loc, bytes, mask), notMask);
      offset = arith::AddIOp::create(b, loc, offset, aligned);
      replaceWithView(alloc, arena, start);
    } else if (auto loop = dyn_cast<scf::ForOp>(op);
               loop && allocates(loop)) {
      OpBuilder b(loop);
      Value stride = evaluate(b, loop.getLoc(), *analyze(*loop.getBody()), batch);
      placeSlices(loop, arena, offset, stride, batch);
      offset = arith::AddIOp::create(
          b, loop.getLoc(), offset,
          arith::MulIOp::create(
              b, loop.getLoc(),
              arith::ConstantIndexOp::create(b, loop.getLoc(), *tripCount(loop)),
              stride));
    }
  }
  return offset;
}

/// The index of the last op of `entry` that uses the buffer `alloc`
/// allocates, through any value derived from it (views, casts, a loop's
/// results), or nullopt if the buffer escapes (returned). A use inside a
/// region counts as a use by the op of `entry` that holds it.
std::optional<int64_t>
lastUse(memref::AllocOp alloc, Block &entry,
        const DenseMap<Operation *, int64_t> &position) {
  int64_t last = position.lookup(alloc);
  SmallVector<Value> derived{alloc.getResult()};
  DenseSet<Value> seen{alloc.getResult()};
  while (!derived.empty()) {
    Value value = derived.pop_back_val();
    for (Operation *user : value.getUsers()) {
      Operation *top = entry.findAncestorOpInBlock(*user);
      if (!top || top->hasTrait<OpTrait::IsTerminator>())
        return std::nullopt;
      last = std::max(last, position.lookup(top));
      for (Value result : user->getResults())
        if (isa<BaseMemRefType>(result.getType()) && seen.insert(result).second)
          derived.push_back(result);
    }
  }
  return last;
}

/// Places the buffers of the function's body in slots of the arena: a slot
/// whose buffer is dead (its last use came before) takes the next buffer
/// that fits in it for every batch size (the smallest such slot), else the
/// buffer gets a new slot at the end. A loop's slices get a slot of their
/// own for the whole call (what an iteration yields may be read later).
/// Returns the arena's bound: the slots' sizes, each with room to align.
Polynomial placeReusing(Block &entry, Value arena, Value batch) {
  DenseMap<Operation *, int64_t> position;
  for (auto [i, op] : llvm::enumerate(entry))
    position[&op] = i;
  struct Slot {
    Polynomial offset, size;
    int64_t busyUntil; // the position of its buffer's last use
    Value start;       // the offset, computed before its first buffer
  };
  SmallVector<Slot> slots;
  Polynomial total(1, 0);
  auto addSlot = [&](const Polynomial &size, int64_t busyUntil) -> Slot & {
    slots.push_back({total, size, busyUntil, Value()});
    addScaled(total, size, 1);
    total[0] += kAlignment - 1;
    return slots.back();
  };
  constexpr int64_t forever = std::numeric_limits<int64_t>::max();
  for (Operation &op : llvm::make_early_inc_range(entry)) {
    int64_t here = position.lookup(&op);
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      Polynomial size = sizeOf(alloc.getType());
      int64_t until = lastUse(alloc, entry, position).value_or(forever);
      Slot *best = nullptr;
      for (Slot &slot : slots)
        if (slot.busyUntil < here && dominates(slot.size, size) &&
            (!best || dominates(best->size, slot.size)))
          best = &slot;
      if (best)
        best->busyUntil = until;
      Slot &slot = best ? *best : addSlot(size, until);
      if (!slot.start) {
        OpBuilder b(alloc);
        slot.start = evaluate(b, alloc.getLoc(), slot.offset, batch);
      }
      replaceWithView(alloc, arena, slot.start);
    } else if (auto loop = dyn_cast<scf::ForOp>(op);
               loop && allocates(loop)) {
      Polynomial body = *analyze(*loop.getBody());
      Polynomial offset =
          addSlot(sliceBytes(body, *tripCount(loop)), forever).offset;
      OpBuilder b(loop);
      placeSlices(loop, arena, evaluate(b, loop.getLoc(), offset, batch),
                  evaluate(b, loop.getLoc(), body, batch), batch);
    }
  }
  return total;
}

LogicalResult planFunction(func::FuncOp func) {
  Block &entry = func.getBody().front();
  if (failed(analyze(entry))) // every allocation can be planned
    return failure();

  MLIRContext *ctx = func.getContext();
  auto arenaType = MemRefType::get({ShapedType::kDynamic},
                                   IntegerType::get(ctx, 8));
  BlockArgument arena = entry.addArgument(arenaType, func.getLoc());
  SmallVector<Type> argTypes(entry.getArgumentTypes());
  func.setFunctionType(
      FunctionType::get(ctx, argTypes, func.getResultTypes()));

  // The batch size, for loops whose buffers depend on it.
  OpBuilder b = OpBuilder::atBlockBegin(&entry);
  Location loc = func.getLoc();
  Value batch = arith::ConstantIndexOp::create(b, loc, 0);
  for (BlockArgument arg : entry.getArguments()) {
    auto type = dyn_cast<MemRefType>(arg.getType());
    if (arg == arena || !type)
      continue;
    if (int64_t d = llvm::find_if(type.getShape(), ShapedType::isDynamic) -
                    type.getShape().begin();
        d < type.getRank()) {
      batch = memref::DimOp::create(b, loc, arg, d);
      break;
    }
  }
  Polynomial bytes = placeReusing(entry, arena, batch);
  func->setAttr("dlc.arena_bytes", DenseI64ArrayAttr::get(ctx, bytes));
  return success();
}

struct PlanMemoryPass
    : mlir::dlc::impl::PlanMemoryPassBase<PlanMemoryPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.isPublic())
        continue;
      if (failed(planFunction(func)))
        return signalPassFailure();
    }
  }
};

} // namespace
