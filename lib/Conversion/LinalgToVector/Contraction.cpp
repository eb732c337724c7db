// Matching the contractions of dlc-register-tile (Contraction.h).
#include "Contraction.h"
#include "LoopUtils.h"

using namespace mlir;
using namespace mlir::dlc;

namespace {

/// Whether loop `dim` appears in `map`'s results.
bool dependsOn(AffineMap map, unsigned dim) {
  return llvm::any_of(map.getResults(), [&](AffineExpr e) {
    return e.isFunctionOfDim(dim);
  });
}

/// Whether `operand` reads consecutive elements along loop `d`: its last
/// index is `d` plus other loops, `d` appears nowhere else, and its memref
/// is contiguous along the last dimension.
bool isContiguousAlong(linalg::LinalgOp op, OpOperand *operand, unsigned d) {
  ArrayRef<AffineExpr> results =
      op.getMatchingIndexingMap(operand).getResults();
  return !results.empty() && hasUnitTerm(results.back(), d) &&
         llvm::none_of(results.drop_back(),
                       [&](AffineExpr e) { return e.isFunctionOfDim(d); }) &&
         isContiguousAlongLastDim(operand->get().getType());
}

/// Whether the op's body is `yield out + x` over its one input.
bool isSum(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  if (body->getNumArguments() != 2 || body->getOperations().size() != 2)
    return false;
  auto add = body->getTerminator()->getOperand(0).getDefiningOp<arith::AddFOp>();
  return add && llvm::is_contained(add->getOperands(), body->getArgument(0)) &&
         llvm::is_contained(add->getOperands(), body->getArgument(1));
}

/// A sum along a static reduction loop its input reads contiguously (a
/// bias's gradient over an image's pixels): a dot tile without `b`, its rows
/// along the output loop with the most iterations that the input reads.
/// Sums over the batch (a loss's mean) are small and stay loops.
std::optional<Contraction> matchSum(linalg::LinalgOp op, int64_t lanes) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 1 ||
      op.getNumDpsInits() != 1 || op.getNumReductionLoops() == 0 ||
      op.hasIndexSemantics() || !isSum(op))
    return std::nullopt;
  OpOperand *in = op.getDpsInputOperand(0), *out = op.getDpsInitOperand(0);
  if (!isa<FloatType>(cast<MemRefType>(out->get().getType()).getElementType()) ||
      !op.getMatchingIndexingMap(out).isProjectedPermutation())
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  auto extent = [&](unsigned d) {
    return ShapedType::isDynamic(ranges[d]) ? INT64_MAX : ranges[d];
  };
  std::optional<Contraction> c;
  for (auto [d, type] : llvm::enumerate(op.getIteratorTypesArray()))
    if (type == utils::IteratorType::reduction && extent(d) >= lanes &&
        extent(d) != INT64_MAX && isContiguousAlong(op, in, d) &&
        (!c || extent(d) > extent(c->j)))
      c = Contraction{Contraction::Kind::Dot, in, nullptr, out, unsigned(d),
                      std::nullopt, std::nullopt};
  if (!c)
    return std::nullopt;
  AffineMap inMap = op.getMatchingIndexingMap(in);
  for (AffineExpr e : op.getMatchingIndexingMap(out).getResults()) {
    unsigned d = cast<AffineDimExpr>(e).getPosition();
    if (dependsOn(inMap, d) && (!c->i || extent(d) > extent(*c->i)))
      c->i = d;
  }
  return c;
}

} // namespace

std::optional<Contraction>
mlir::dlc::matchContraction(linalg::LinalgOp op, int64_t lanes) {
  if (std::optional<Contraction> sum = matchSum(op, lanes))
    return sum;
  if (!op.hasPureBufferSemantics() || op.getNumDpsInputs() != 2 ||
      op.getNumDpsInits() != 1 || op.getNumReductionLoops() == 0 ||
      op.hasIndexSemantics() || !isMulAdd(op))
    return std::nullopt;
  OpOperand *out = op.getDpsInitOperand(0);
  auto outType = cast<MemRefType>(out->get().getType());
  if (!isa<FloatType>(outType.getElementType()) ||
      !isContiguousAlongLastDim(out->get().getType()))
    return std::nullopt;
  AffineMap outMap = op.getMatchingIndexingMap(out);
  if (!outMap.isProjectedPermutation())
    return std::nullopt;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  auto extent = [&](unsigned d) {
    return ShapedType::isDynamic(ranges[d]) ? INT64_MAX : ranges[d];
  };
  auto mapOf = [&](OpOperand *operand) {
    return op.getMatchingIndexingMap(operand);
  };
  OpOperand *x = op.getDpsInputOperand(0), *y = op.getDpsInputOperand(1);

  std::optional<Contraction> outer;
  unsigned last = cast<AffineDimExpr>(outMap.getResults().back()).getPosition();
  for (auto [a, b] : {std::pair(x, y), std::pair(y, x)})
    if (!outer && !dependsOn(mapOf(a), last) && isContiguousAlong(op, b, last))
      outer = Contraction{Contraction::Kind::OuterProduct, a, b, out, last,
                          std::nullopt, std::nullopt};
  // A matmul's right operand read as b[j, k] (dy @ w^T) with at least 256
  // columns: still an outer product, through panels that the packing
  // transposes (a dot kernel's 9 row streams 4 KB apart are slower).
  if (!outer && op.getNumReductionLoops() == 1 && extent(last) >= 256 &&
      extent(last) != INT64_MAX) {
    unsigned k = 0;
    while (op.getIteratorTypesArray()[k] != utils::IteratorType::reduction)
      ++k;
    MLIRContext *ctx = op.getContext();
    AffineMap transposed = AffineMap::get(
        op.getNumLoops(), 0,
        {getAffineDimExpr(last, ctx), getAffineDimExpr(k, ctx)}, ctx);
    for (auto [a, b] : {std::pair(x, y), std::pair(y, x)})
      if (!outer && !dependsOn(mapOf(a), last) && mapOf(b) == transposed &&
          isContiguousAlongLastDim(b->get().getType())) {
        outer = Contraction{Contraction::Kind::OuterProduct, a, b, out, last,
                            std::nullopt, std::nullopt};
        outer->transposedB = true;
      }
  }
  std::optional<Contraction> dot;
  for (auto [d, type] : llvm::enumerate(op.getIteratorTypesArray()))
    if (type == utils::IteratorType::reduction && extent(d) >= lanes / 4 &&
        isContiguousAlong(op, x, d) && isContiguousAlong(op, y, d) &&
        (!dot || extent(d) > extent(dot->j)))
      dot = Contraction{Contraction::Kind::Dot, x, y, out, unsigned(d),
                        std::nullopt, std::nullopt};
  // Full vectors along the output beat everything; else the longer of the
  // two vector loops.
  std::optional<Contraction> c = outer;
  if (dot && (!outer || (extent(last) < lanes && extent(dot->j) > extent(last))))
    c = dot;
  if (!c)
    return std::nullopt;

  // Rows: the output loop with the most iterations (the batch counts as
  // many) that `a` reads along and `b` does not. A dot's columns: the last
  // output loop with a static extent that `b` reads along and `a` does not.
  AffineMap aMap = mapOf(c->a), bMap = mapOf(c->b);
  for (AffineExpr e : outMap.getResults()) {
    unsigned d = cast<AffineDimExpr>(e).getPosition();
    if (c->kind == Contraction::Kind::OuterProduct && d == c->j)
      continue;
    if (dependsOn(aMap, d) && !dependsOn(bMap, d) &&
        (!c->i || extent(d) > extent(*c->i)))
      c->i = d;
    if (c->kind == Contraction::Kind::Dot && dependsOn(bMap, d) &&
        !dependsOn(aMap, d) && !ShapedType::isDynamic(ranges[d]))
      c->col = d;
  }
  return c;
}

/// The batch loop of an op that reduces over the batch and other loops (a
/// convolution's filter gradient): its outermost reduction loop, when that
/// has a dynamic extent.
std::optional<unsigned> mlir::dlc::batchReduction(linalg::LinalgOp op) {
  if (op.getNumReductionLoops() < 2)
    return std::nullopt;
  unsigned d = 0;
  while (op.getIteratorTypesArray()[d] != utils::IteratorType::reduction)
    ++d;
  if (!ShapedType::isDynamic(op.getStaticLoopRanges()[d]))
    return std::nullopt;
  return d;
}
