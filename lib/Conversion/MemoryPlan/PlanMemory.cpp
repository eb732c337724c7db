// dlc-plan-memory: every buffer of a call lives in one caller-owned arena.
#include "dlc/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"

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

/// Whether `op` allocates anywhere inside. Loops that do not (the kernels'
/// loops, with bounds that depend on the batch) need no plan.
bool allocates(Operation *op) {
  return op->walk([](memref::AllocOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
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
      int64_t bytes = std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
      for (int64_t d : type.getShape())
        if (!ShapedType::isDynamic(d))
          bytes *= d;
      Polynomial p(type.getNumDynamicDims() + 1, 0);
      p.back() = bytes;
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
      // Each iteration's slice starts at a multiple of the alignment: its
      // stride is the body's bound rounded up (place), up to
      // kAlignment - 1 more per iteration.
      (*body)[0] += kAlignment - 1;
      addScaled(total, *body, *trips);
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

/// Replaces the allocations of `block` by views into `arena` from `offset`
/// on (bump allocation); a loop gets one slice of the arena per iteration,
/// each as large as the bound of its body.
Value place(Block &block, Value arena, Value offset, Value batch) {
  for (Operation &op : llvm::make_early_inc_range(block)) {
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      OpBuilder b(alloc);
      Location loc = alloc.getLoc();
      MemRefType type = alloc.getType();
      int64_t elementBytes =
          std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
      int64_t staticBytes = elementBytes;
      for (int64_t d : type.getShape())
        if (!ShapedType::isDynamic(d))
          staticBytes *= d;
      Value bytes = arith::ConstantIndexOp::create(b, loc, staticBytes);
      for (Value size : alloc.getDynamicSizes())
        bytes = arith::MulIOp::create(b, loc, bytes, size);
      auto view = memref::ViewOp::create(b, loc, type, arena, offset,
                                         alloc.getDynamicSizes());
      Value mask = arith::ConstantIndexOp::create(b, loc, kAlignment - 1);
      Value notMask = arith::ConstantIndexOp::create(b, loc, ~(kAlignment - 1));
      Value aligned = arith::AndIOp::create(
          b, loc, arith::AddIOp::create(b, loc, bytes, mask), notMask);
      offset = arith::AddIOp::create(b, loc, offset, aligned);
      alloc.replaceAllUsesWith(view.getResult());
      alloc.erase();
    } else if (auto loop = dyn_cast<scf::ForOp>(op);
               loop && allocates(loop)) {
      Polynomial body = *analyze(*loop.getBody());
      OpBuilder b(loop);
      Location loc = loop.getLoc();
      Value stride = evaluate(b, loc, body, batch);
      Value trips = arith::ConstantIndexOp::create(b, loc, *tripCount(loop));
      Value start = offset;
      offset = arith::AddIOp::create(b, loc, offset,
                                     arith::MulIOp::create(b, loc, trips, stride));
      b.setInsertionPointToStart(loop.getBody());
      Value iteration = arith::DivSIOp::create(
          b, loc,
          arith::SubIOp::create(b, loc, loop.getInductionVar(),
                                loop.getLowerBound()),
          loop.getStep());
      Value base = arith::AddIOp::create(
          b, loc, start, arith::MulIOp::create(b, loc, iteration, stride));
      place(*loop.getBody(), arena, base, batch);
    }
  }
  return offset;
}

LogicalResult planFunction(func::FuncOp func) {
  Block &entry = func.getBody().front();
  FailureOr<Polynomial> bound = analyze(entry);
  if (failed(bound))
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
  Value offset = arith::ConstantIndexOp::create(b, loc, 0);
  place(entry, arena, offset, batch);
  func->setAttr("dlc.arena_bytes", DenseI64ArrayAttr::get(ctx, *bound));
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
