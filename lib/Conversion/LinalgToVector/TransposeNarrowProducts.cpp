// dlc-transpose-narrow-products: a product with a few output columns is
// computed transposed, so that its vectors run along the long side.
//
// A weight gradient of a narrow layer, `dw[m, n] = sum_b h[b, m] dy[b, n]`
// with n of 1 or 2 (a logit's or a generator's output layer), has
// dlc-register-tile's vectors along n: one masked vector per row of m, 1
// or 2 of its 16 lanes used. Its transpose `dwT[n, m]` reads `h` along m
// contiguously: vectors along m, n rows of them, a transposed copy of the
// n x m result after.
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

/// The output's two loops (rows m, columns n) of `op`, a contraction on
/// tensors over one reduction loop into an `[M, N]` whose N is narrow (at
/// most a quarter of a vector) and whose M fills vectors, when the input
/// that reads along m reads it contiguously.
std::optional<std::pair<unsigned, unsigned>> narrowLoops(linalg::LinalgOp op,
                                                         int64_t lanes) {
  if (!op.hasPureTensorSemantics() || !isMulAdd(op) ||
      op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() != 1 || op.getNumLoops() != 3 ||
      op.hasIndexSemantics())
    return std::nullopt;
  OpOperand *init = op.getDpsInitOperand(0);
  if (!isa<RankedTensorType>(init->get().getType()))
    return std::nullopt;
  AffineMap outMap = op.getMatchingIndexingMap(init);
  if (outMap.getNumResults() != 2 || !outMap.isProjectedPermutation())
    return std::nullopt;
  unsigned m = cast<AffineDimExpr>(outMap.getResult(0)).getPosition();
  unsigned n = cast<AffineDimExpr>(outMap.getResult(1)).getPosition();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (ShapedType::isDynamic(ranges[m]) || ShapedType::isDynamic(ranges[n]) ||
      ranges[n] > lanes / 4 || ranges[m] < lanes)
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
    IRRewriter rewriter(&getContext());
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
      auto transposed = linalg::GenericOp::create(
          rewriter, loc, TypeRange{start.getType()}, op.getDpsInputs(),
          ValueRange{start}, maps, op.getIteratorTypesArray(),
          [&](OpBuilder &b, Location l, ValueRange args) {
            IRMapping mapping;
            mapping.map(op.getBlock()->getArguments(), args);
            for (Operation &inner : op.getBlock()->without_terminator())
              b.clone(inner, mapping);
            linalg::YieldOp::create(
                b, l,
                mapping.lookup(op.getBlock()->getTerminator()->getOperand(0)));
          });
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
