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

LogicalResult planFunction(func::FuncOp func) {
  SmallVector<memref::AllocOp> allocs;
  WalkResult walk = func.walk([&](Operation *op) {
    if (auto alloc = dyn_cast<memref::AllocOp>(op)) {
      if (alloc->getBlock() != &func.getBody().front()) {
        alloc.emitError("cannot plan an allocation inside a loop or region");
        return WalkResult::interrupt();
      }
      allocs.push_back(alloc);
    } else if (isa<memref::AllocaOp, memref::ReallocOp>(op)) {
      op->emitError("cannot plan this allocation");
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();

  MLIRContext *ctx = func.getContext();
  Block &entry = func.getBody().front();
  auto arenaType = MemRefType::get({ShapedType::kDynamic},
                                   IntegerType::get(ctx, 8));
  BlockArgument arena = entry.addArgument(arenaType, func.getLoc());
  SmallVector<Type> argTypes(entry.getArgumentTypes());
  func.setFunctionType(
      FunctionType::get(ctx, argTypes, func.getResultTypes()));

  // Bump allocation in program order. The offset is computed at run time
  // from the dynamic sizes; the bound is a polynomial in the batch size.
  SmallVector<int64_t> coefficients(1, 0);
  OpBuilder b(ctx);
  b.setInsertionPointToStart(&entry);
  Location loc = func.getLoc();
  Value offset = arith::ConstantIndexOp::create(b, loc, 0);
  for (memref::AllocOp alloc : allocs) {
    MemRefType type = alloc.getType();
    if (!type.getLayout().isIdentity())
      return alloc.emitError("cannot plan a buffer with a non-identity layout");
    for (Value size : alloc.getDynamicSizes())
      if (!isBatchSize(size))
        return alloc.emitError(
            "cannot plan a buffer whose size is not a function of the batch");
    int64_t elementBytes =
        std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
    int64_t staticBytes = elementBytes;
    for (int64_t d : type.getShape())
      if (!ShapedType::isDynamic(d))
        staticBytes *= d;
    size_t degree = type.getNumDynamicDims();
    if (coefficients.size() <= degree)
      coefficients.resize(degree + 1, 0);
    coefficients[degree] += staticBytes;
    coefficients[0] += kAlignment - 1;

    b.setInsertionPoint(alloc);
    Value bytes = arith::ConstantIndexOp::create(b, loc, staticBytes);
    for (Value size : alloc.getDynamicSizes())
      bytes = arith::MulIOp::create(b, loc, bytes, size);
    auto view = memref::ViewOp::create(b, alloc.getLoc(), type, arena, offset,
                                       alloc.getDynamicSizes());
    Value mask = arith::ConstantIndexOp::create(b, loc, kAlignment - 1);
    Value padded = arith::AddIOp::create(b, loc, bytes, mask);
    Value notMask = arith::ConstantIndexOp::create(b, loc, ~(kAlignment - 1));
    Value aligned = arith::AndIOp::create(b, loc, padded, notMask);
    offset = arith::AddIOp::create(b, loc, offset, aligned);
    alloc.replaceAllUsesWith(view.getResult());
    alloc.erase();
  }
  func->setAttr("dlc.arena_bytes", DenseI64ArrayAttr::get(ctx, coefficients));
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
