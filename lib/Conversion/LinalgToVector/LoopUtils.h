// What the loop passes of LinalgToVector share: questions about indexing
// maps and buffers, and a loop nest builder.
#ifndef DLC_LIB_CONVERSION_LINALGTOVECTOR_LOOPUTILS_H
#define DLC_LIB_CONVERSION_LINALGTOVECTOR_LOOPUTILS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/IR/BuiltinTypes.h"

#include <cmath>

namespace mlir::dlc {

/// Whether `expr` is `d_pos` plus other terms (coefficient 1 on d_pos), so
/// that consecutive values of loop `pos` address consecutive elements.
inline bool hasUnitTerm(AffineExpr expr, unsigned pos) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr))
    return dim.getPosition() == pos;
  if (auto bin = dyn_cast<AffineBinaryOpExpr>(expr);
      bin && bin.getKind() == AffineExprKind::Add)
    return hasUnitTerm(bin.getLHS(), pos) || hasUnitTerm(bin.getRHS(), pos);
  return false;
}

/// Whether the op's body is `yield out + x * y` over its two inputs.
inline bool isMulAdd(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  if (body->getNumArguments() != 3 || body->getOperations().size() != 3)
    return false;
  auto add = body->getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value out = body->getArgument(2);
  Value product = add.getLhs() == out   ? add.getRhs()
                  : add.getRhs() == out ? add.getLhs()
                                        : Value();
  auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
  if (!mul)
    return false;
  Value x = body->getArgument(0), y = body->getArgument(1);
  return (mul.getLhs() == x && mul.getRhs() == y) ||
         (mul.getLhs() == y && mul.getRhs() == x);
}

/// The buffer a memref value is a view of.
inline Value rootOf(Value memref) {
  while (auto view = memref.getDefiningOp<ViewLikeOpInterface>())
    memref = view.getViewSource();
  return memref;
}

/// Whether `op` or an op nested in it has an operand in buffer `root` (a
/// view of it included).
inline bool touches(Operation *op, Value root) {
  return op
      ->walk([&](Operation *nested) {
        for (Value v : nested->getOperands())
          if (isa<BaseMemRefType>(v.getType()) && rootOf(v) == root)
            return WalkResult::interrupt();
        return WalkResult::advance();
      })
      .wasInterrupted();
}

/// Whether `type` is a memref of rank >= 1 whose last dimension has unit
/// stride (vectors load along it).
inline bool isContiguousAlongLastDim(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  return memref && memref.getRank() > 0 && memref.isLastDimUnitStride();
}

/// The product of the static sizes: the work of an op whose symbolic
/// dimension (the batch) counts as 1, for the passes' size thresholds.
inline int64_t staticPoints(ArrayRef<int64_t> sizes) {
  int64_t points = 1;
  for (int64_t size : sizes)
    if (!ShapedType::isDynamic(size))
      points *= size;
  return points;
}

/// scf::buildLoopNest, with the outermost loop an scf.parallel when
/// `parallelFirst` (its threads each run the inner loops sequentially).
inline void
buildLoopNestParallelFirst(OpBuilder &builder, Location loc,
                           ArrayRef<Value> lbs, ArrayRef<Value> ubs,
                           ArrayRef<Value> steps, bool parallelFirst,
                           function_ref<void(OpBuilder &, Location, ValueRange)>
                               body) {
  if (!parallelFirst || lbs.empty()) {
    scf::buildLoopNest(builder, loc, lbs, ubs, steps, body);
    return;
  }
  auto loop = scf::ParallelOp::create(builder, loc, ValueRange{lbs[0]},
                                      ValueRange{ubs[0]}, ValueRange{steps[0]});
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPoint(loop.getBody()->getTerminator());
  Value outer = loop.getInductionVars()[0];
  scf::buildLoopNest(builder, loc, lbs.drop_front(), ubs.drop_front(),
                     steps.drop_front(),
                     [&](OpBuilder &b, Location l, ValueRange inner) {
                       SmallVector<Value> ivs{outer};
                       ivs.append(inner.begin(), inner.end());
                       body(b, l, ivs);
                     });
}

/// The vector standing for scalar `v` in a body cloned onto vectors of
/// `lanes`: its mapping, or a splat of it (a value from outside the body).
inline Value vectorFor(OpBuilder &b, Location loc, IRMapping &mapping, Value v,
                      int64_t lanes) {
  if (Value mapped = mapping.lookupOrNull(v))
    return mapped;
  return vector::BroadcastOp::create(
      b, loc, VectorType::get({lanes}, v.getType()), v);
}

/// Clones the elementwise ops of `body` (a linalg.generic's, its block
/// arguments already mapped to vectors in `mapping`) onto vectors of
/// `lanes`; constants and scalars from outside the body become splats.
/// The yielded values' vectors: vectorFor(.., yielded value, ..).
/// Ops for which `skip` holds are left out (the caller maps what it needs
/// of them).
inline void cloneOnVectors(OpBuilder &b, Location loc, Block *body,
                           int64_t lanes, IRMapping &mapping,
                           function_ref<bool(Operation &)> skip = nullptr) {
  for (Operation &op : body->without_terminator()) {
    if (skip && skip(op))
      continue;
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      Value scalar = b.clone(op)->getResult(0);
      mapping.map(constant.getResult(),
                  vectorFor(b, loc, mapping, scalar, lanes));
      continue;
    }
    OperationState state(loc, op.getName());
    for (Value v : op.getOperands())
      state.addOperands(vectorFor(b, loc, mapping, v, lanes));
    state.addAttributes(op.getAttrs());
    for (Type t : op.getResultTypes())
      state.addTypes(VectorType::get({lanes}, t));
    Operation *vectorOp = b.create(state);
    mapping.map(op.getResults(), vectorOp->getResults());
  }
}

/// The neutral element of an extremum `kind` of float `type`, or null for
/// other kinds: sums keep their order (a tree would round differently, and
/// a loss near zero is the difference of such sums).
inline TypedAttr extremumNeutral(Builder &b, vector::CombiningKind kind,
                                 Type type) {
  switch (kind) {
  case vector::CombiningKind::MAXIMUMF:
  case vector::CombiningKind::MAXNUMF:
    return b.getFloatAttr(type, -INFINITY);
  case vector::CombiningKind::MINIMUMF:
  case vector::CombiningKind::MINNUMF:
    return b.getFloatAttr(type, INFINITY);
  default:
    return nullptr;
  }
}

/// The extremum `kind` of the 1-D vector `row` as a tree: the row padded
/// with `neutral` to a power of two, then halves combined, log2 steps (a
/// chain, or LLVM's expansion of `vector.reduce.fmaximum`, waits on each
/// element's NaN checks in turn). An extremum does not depend on the order.
inline Value reduceAsTree(OpBuilder &b, Location loc,
                          vector::CombiningKind kind, Value row,
                          TypedAttr neutral) {
  auto type = cast<VectorType>(row.getType());
  int64_t lanes = type.getNumElements();
  int64_t width = llvm::PowerOf2Ceil(lanes);
  if (width != lanes) {
    Value fill = arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, neutral));
    SmallVector<int64_t> mask(width, lanes);
    for (int64_t i = 0; i < lanes; ++i)
      mask[i] = i;
    row = vector::ShuffleOp::create(b, loc, row, fill, mask);
  }
  for (; width > 1; width /= 2) {
    SmallVector<int64_t> low, high;
    for (int64_t i = 0; i < width / 2; ++i) {
      low.push_back(i);
      high.push_back(width / 2 + i);
    }
    row = vector::makeArithReduction(
        b, loc, kind, vector::ShuffleOp::create(b, loc, row, row, low),
        vector::ShuffleOp::create(b, loc, row, row, high));
  }
  return vector::ExtractOp::create(b, loc, row, 0);
}

/// Transposes `square`, n vectors of n elements (n a power of 2), in
/// log2(n) rounds of two-input shuffles: the round of stride s swaps bit s
/// of every element's row and column where they differ, pairing rows i and
/// i + s. n^2 elements in n log2(n) shuffles (AVX-512: 64 vpermt2ps and
/// kin for 16 x 16).
inline void transposeSquare(OpBuilder &builder, Location loc,
                            SmallVectorImpl<Value> &square) {
  int64_t n = square.size();
  for (int64_t s = n / 2; s >= 1; s /= 2) {
    SmallVector<int64_t> low, high;
    for (int64_t col = 0; col < n; ++col) {
      bool set = col & s;
      low.push_back(set ? n + col - s : col);
      high.push_back(set ? n + col : col + s);
    }
    SmallVector<Value> next(square.begin(), square.end());
    for (int64_t i = 0; i < n; ++i) {
      if (i & s)
        continue;
      next[i] = vector::ShuffleOp::create(builder, loc, square[i],
                                          square[i + s], low);
      next[i + s] = vector::ShuffleOp::create(builder, loc, square[i],
                                              square[i + s], high);
    }
    square.assign(next.begin(), next.end());
  }
}

} // namespace mlir::dlc

#endif // DLC_LIB_CONVERSION_LINALGTOVECTOR_LOOPUTILS_H
