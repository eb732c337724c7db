// dlc-transpose-narrow-products: products with a few output columns,
// rearranged so that dlc-register-tile's vectors run along a long side.
//
// dlc-register-tile runs vectors along a product's output columns: with a
// few of them (1 or 2 for a logit's or a generator's output layer, 10
// classes) one masked vector per row, few of its 16 lanes used. A weight
// gradient `dw[m, n] = sum_b h[b, m] dy[b, n]` is computed transposed,
// `dwT[n, m]` reading `h` along m (n rows of full vectors), then copied
// back. A forward product `y[b, n] = sum_k x[b, k] w[k, n]` with 1 or 2
// columns reads a transposed copy of `w` (a few hundred elements), so that
// both operands run along k: dot tiles.
#include "dlc/Conversion/Passes.h"
#include "LoopUtils.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_TRANSPOSENARROWPRODUCTSPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using mlir::dlc::isMulAdd;

namespace {

/// `op`'s body as a linalg.generic over the same loops, on `inputs` and
/// `inits` read through `maps`.
linalg::GenericOp cloneAsGeneric(RewriterBase &rewriter, linalg::LinalgOp op,
                                 ValueRange inputs, ValueRange inits,
                                 ArrayRef<AffineMap> maps) {
  auto generic = linalg::GenericOp::create(rewriter, op.getLoc(),
                                           TypeRange(inits), inputs, inits,
                                           maps, op.getIteratorTypesArray());
  rewriter.cloneRegionBefore(op->getRegion(0), generic.getRegion(),
                             generic.getRegion().end());
  return generic;
}

/// The largest transposed product copied back (elements: 64 KB of f32).
constexpr int64_t kMaxCopyBack = 16384;

/// The output's loops (rows m, columns n) of `op` when it is a matmul-like
/// contraction on tensors: two inputs, three loops, one of them a
/// reduction, into a 2-d output read through a permutation.
std::optional<std::pair<unsigned, unsigned>> productLoops(linalg::LinalgOp op) {
  if (!op.hasPureTensorSemantics() || !isMulAdd(op) ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 1 || op.getNumLoops() != 3 ||
      op.hasIndexSemantics())
    return std::nullopt;
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (outMap.getNumResults() != 2 || !outMap.isProjectedPermutation())
    return std::nullopt;
  return std::pair(cast<AffineDimExpr>(outMap.getResult(0)).getPosition(),
                   cast<AffineDimExpr>(outMap.getResult(1)).getPosition());
}

/// The output's two loops (rows m, columns n) of `op`, a contraction on
/// tensors over one reduction loop into an `[M, N]` whose transpose takes
/// fewer vectors and whose M fills them, when the input that reads along
/// m reads it contiguously.
std::optional<std::pair<unsigned, unsigned>> narrowLoops(linalg::LinalgOp op,
                                                         int64_t lanes) {
  auto loops = productLoops(op);
  if (!loops)
    return std::nullopt;
  unsigned m = loops->first, n = loops->second;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ShapedType::isDynamic(ranges[m]) || ShapedType::isDynamic(ranges[n]) ||
      ranges[m] < lanes)
    return std::nullopt;
  // Vector FMAs per reduction step: M rows of ceil(N / lanes) vectors, or
  // N rows of ceil(M / lanes); transposed when that saves a quarter and
  // the copy back stays in cache (at most 16K elements): N of 1 or 2, and
  // the 10 classes of a 128 x 10 weight gradient (128 masked vectors -> 80
  // full ones). The 3 x 32 x 32 CNN's 16384 x 10 dense gradient, copied
  // back through memory, made its step 1-3% slower.
  auto vectors = [&](int64_t extent) { return (extent + lanes - 1) / lanes; };
  if (4 * ranges[n] * vectors(ranges[m]) > 3 * ranges[m] * vectors(ranges[n]) ||
      ranges[m] * ranges[n] > kMaxCopyBack)
    return std::nullopt;
  // The input along m reads it last (contiguous), the other not at all.
  bool along = false;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    if (!map.isProjectedPermutation() || map.getNumResults() == 0)
      return std::nullopt;
    bool readsM = llvm::any_of(map.getResults(), [&](AffineExpr e) {
      return e.isFunctionOfDim(m);
    });
    if (!readsM)
      continue;
    if (!map.getResults().back().isFunctionOfDim(m) ||
        !isa<RankedTensorType>(input->get().getType()))
      return std::nullopt;
    along = true;
  }
  if (!along)
    return std::nullopt;
  return std::pair(m, n);
}

/// For `op`, a contraction on tensors over one reduction loop k into an
/// `[M, N]` with N narrow, whose input along m reads k last (a layer's
/// forward product `x w` with `w` of 1 or 2 columns, `x` row-major): the
/// operand number of the other input, `w`, a static `[K, N]` read at
/// `(k, n)` along a k that fills vectors. Its transposed copy `[N, K]`
/// (a few hundred elements) reads k contiguously too: dlc-register-tile's
/// dot tiles, full vectors along k, instead of one masked vector per row.
std::optional<unsigned> narrowRightOperand(linalg::LinalgOp op,
                                           int64_t lanes) {
  auto loops = productLoops(op);
  if (!loops)
    return std::nullopt;
  unsigned m = loops->first, n = loops->second;
  unsigned k = 3 - m - n;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ShapedType::isDynamic(ranges[n]) || ranges[n] > lanes / 4 ||
      ShapedType::isDynamic(ranges[k]) || ranges[k] < lanes)
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  auto dims = [&](unsigned a, unsigned b) {
    return AffineMap::get(3, 0, {getAffineDimExpr(a, ctx),
                                 getAffineDimExpr(b, ctx)}, ctx);
  };
  std::optional<unsigned> right;
  bool left = false;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    auto type = dyn_cast<RankedTensorType>(input->get().getType());
    if (!type)
      return std::nullopt;
    if (map == dims(m, k))
      left = true;
    else if (map == dims(k, n) && type.hasStaticShape())
      right = input->getOperandNumber();
    else
      return std::nullopt;
  }
  if (!left)
    return std::nullopt;
  return right;
}

struct TransposeNarrowProductsPass
    : mlir::dlc::impl::TransposeNarrowProductsPassBase<
          TransposeNarrowProductsPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<std::tuple<linalg::LinalgOp, unsigned, unsigned>> products;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (auto loops = narrowLoops(op, lanes))
        products.push_back({op, loops->first, loops->second});
    });
    SmallVector<std::pair<linalg::LinalgOp, unsigned>> forward;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (auto right = narrowRightOperand(op, lanes))
        forward.push_back({op, *right});
    });
    IRRewriter rewriter(&getContext());
    for (auto [op, right] : forward) {
      // w^T, then the same product reading it at (n, k).
      Location loc = op.getLoc();
      rewriter.setInsertionPoint(op);
      OpOperand &operand = op->getOpOperand(right);
      auto type = cast<RankedTensorType>(operand.get().getType());
      Value empty = tensor::EmptyOp::create(
          rewriter, loc,
          ArrayRef<int64_t>{type.getDimSize(1), type.getDimSize(0)},
          type.getElementType());
      Value transposed =
          linalg::TransposeOp::create(rewriter, loc, operand.get(), empty,
                                      ArrayRef<int64_t>{1, 0})
              .getResult()[0];
      SmallVector<AffineMap> maps = op.getIndexingMapsArray();
      AffineMap map = maps[right];
      maps[right] = AffineMap::get(map.getNumDims(), 0,
                                   {map.getResult(1), map.getResult(0)},
                                   op.getContext());
      SmallVector<Value> inputs = op.getDpsInputs();
      inputs[right] = transposed;
      auto product =
          cloneAsGeneric(rewriter, op, inputs, op.getDpsInits(), maps);
      rewriter.replaceOp(op, product.getResults());
    }
    for (auto [op, m, n] : products) {
      Location loc = op.getLoc();
      rewriter.setInsertionPoint(op);
      auto outType = cast<RankedTensorType>(op->getResult(0).getType());
      Type element = outType.getElementType();
      // dwT[n, m] over the same loops and body, from zeros (a fill's)
      // or from the transposed output it accumulates into (a gradient
      // summed over two uses of a layer).
      Value init = op.getDpsInitOperand(0)->get();
      Value empty = tensor::EmptyOp::create(
          rewriter, loc,
          ArrayRef<int64_t>{outType.getDimSize(1), outType.getDimSize(0)},
          element);
      Value start;
      Value destination = init;
      auto fill = init.getDefiningOp<linalg::FillOp>();
      if (fill && matchPattern(fill.value(), m_AnyZeroFloat())) {
        start = linalg::FillOp::create(rewriter, loc, fill.value(), empty)
                    .getResult(0);
        // The copy back writes every element: no need for the zeros.
        destination = fill.getDpsInitOperand(0)->get();
      } else {
        start = linalg::TransposeOp::create(rewriter, loc, init, empty,
                                            ArrayRef<int64_t>{1, 0})
                    .getResult()[0];
      }
      SmallVector<AffineMap> maps = op.getIndexingMapsArray();
      MLIRContext *ctx = &getContext();
      maps.back() = AffineMap::get(
          op.getNumLoops(), 0,
          {getAffineDimExpr(n, ctx), getAffineDimExpr(m, ctx)}, ctx);
      auto transposed = cloneAsGeneric(rewriter, op, op.getDpsInputs(),
                                       ValueRange{start}, maps);
      Value back = linalg::TransposeOp::create(rewriter, loc,
                                               transposed.getResult(0),
                                               destination,
                                               ArrayRef<int64_t>{1, 0})
                       .getResult()[0];
      rewriter.replaceOp(op, back);
    }
  }
};

} // namespace
