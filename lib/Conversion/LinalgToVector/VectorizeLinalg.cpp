// dlc-vectorize-linalg: linalg ops with static shapes become vector ops;
// small ops over the batch, one row at a time.
#include "dlc/Conversion/Passes.h"
#include "Epilogue.h"
#include "LoopUtils.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace mlir::dlc {
#define GEN_PASS_DEF_VECTORIZELINALGPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using mlir::dlc::isMulAdd;
using mlir::dlc::staticPoints;

namespace {
/// The largest iteration space vectorized as one vector (64 AVX-512 lanes
/// of f32 times 4 registers).
constexpr int64_t kMaxVectorElements = 256;

/// The shortest row of an elementwise op over the batch that stays a loop
/// nest for LLVM's loop vectorizer: on rows of 128 (the 64-128-10 MLP's
/// bias and ReLU, ReLU's gradient) LLVM's loops took half the time of the
/// rows as vectors (the step 13.8-14.2 -> 13.6-13.8 us); on rows of 64
/// (the GAN's) they were slower (64.6-65.9 -> 66.3-67.1 us).
constexpr int64_t kMinLoopRow = 128;

/// The shortest row of an elementwise op reading a contraction's output
/// that stays a linalg op, for `dlc-register-tile` to compute on the
/// kernel's tiles (the GAN's bias adds, ReLUs and ReLU gradients over rows
/// of 64, as epilogues: 65.8-66.6 -> 63.1-64.8 us a step). Rows of 10
/// classes stay rows of vectors (their bias add would be a loop LLVM
/// leaves scalar when the kernel takes no epilogue).
constexpr int64_t kMinEpilogueRow = 64;

/// Whether `op` reads the output of a contraction.
bool readsContraction(linalg::LinalgOp op) {
  return llvm::any_of(op.getDpsInputs(), [](Value v) {
    auto producer = v.getDefiningOp<linalg::LinalgOp>();
    return producer && isMulAdd(producer);
  });
}

/// Whether `op`, with the batch among its loops, is vectorized a row at a
/// time: a generic whose static loops make a small row (the 10 classes of
/// a softmax or cross-entropy, which LLVM leaves scalar), other than a
/// contraction (dlc-register-tile's). Reductions along rows of up to 256
/// points (which LLVM would keep in order, scalar), elementwise ops along
/// rows shorter than `kMinLoopRow`, or than `kMinEpilogueRow` when they
/// read a contraction's output (an epilogue's candidates).
bool isRowVectorizable(linalg::LinalgOp op) {
  if (!isa<linalg::GenericOp>(op) || isMulAdd(op))
    return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  int64_t points = staticPoints(ranges);
  int64_t longest = kMaxVectorElements;
  if (op.getNumReductionLoops() == 0)
    longest = (readsContraction(op) ? kMinEpilogueRow : kMinLoopRow) - 1;
  return points >= 2 && points <= longest;
}

/// Whether `op` sums over one dynamic loop into a scalar (a loss's mean
/// over the batch, the loss's arithmetic fused in), its inputs read along
/// the loop or broadcast.
bool isBatchSum(linalg::LinalgOp op) {
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!generic || op.getNumLoops() != 1 || op.getNumReductionLoops() != 1 ||
      !op.hasDynamicShape() || op.getNumDpsInits() != 1 ||
      op.getRank(op.getDpsInitOperand(0)) != 0)
    return false;
  bool alongLoop = false;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    if (map.isIdentity())
      alongLoop = true;
    // Broadcast, or along the loop through unit dimensions ([?, 1]).
    else if (!llvm::all_of(map.getResults(), [](AffineExpr e) {
               return isa<AffineDimExpr>(e) || isa<AffineConstantExpr>(e);
             }))
      return false;
  }
  Value out = generic.getBlock()->getArguments().back();
  auto add = generic.getBlock()->getTerminator()->getOperand(0)
                 .getDefiningOp<arith::AddFOp>();
  return alongLoop && add && llvm::is_contained(add->getOperands(), out) &&
         add.getLhs() != add.getRhs() && out.hasOneUse();
}

/// The reduction as an scf.for carrying the sum in a register, its
/// additions reassociable: LLVM's loop vectorizer then sums in vector
/// lanes. As a loop nest over buffers the sum goes through memory each
/// step, in order, and stays scalar (the GAN's three losses: 5% of its
/// step). The sum is associated differently from the loop's order.
void sumInRegisters(IRRewriter &rewriter, linalg::GenericOp op) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  auto readsAlongLoop = [&](OpOperand *input) {
    return op.getMatchingIndexingMap(input).isIdentity();
  };
  Value init = op.getDpsInitOperand(0)->get();
  Value start = tensor::ExtractOp::create(rewriter, loc, init, ValueRange{});
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  Value n = linalg::createOrFoldDimOp(
      rewriter, loc,
      (*llvm::find_if(op.getDpsInputOperands(), readsAlongLoop))->get(), 0);
  Block *body = op.getBlock();
  auto loop = scf::ForOp::create(
      rewriter, loc, zero, n, one, ValueRange{start},
      [&](OpBuilder &b, Location l, Value i, ValueRange carried) {
        IRMapping map;
        for (OpOperand *input : op.getDpsInputOperands()) {
          SmallVector<Value> indices;
          for (AffineExpr e : op.getMatchingIndexingMap(input).getResults())
            indices.push_back(
                isa<AffineDimExpr>(e)
                    ? i
                    : arith::ConstantIndexOp::create(
                          b, l, cast<AffineConstantExpr>(e).getValue())
                          .getResult());
          map.map(body->getArgument(input->getOperandNumber()),
                  tensor::ExtractOp::create(b, l, input->get(), indices));
        }
        map.map(body->getArguments().back(), carried[0]);
        for (Operation &inner : body->without_terminator()) {
          // The op's one loop is the scf.for's.
          if (auto index = dyn_cast<linalg::IndexOp>(inner)) {
            map.map(index.getResult(), i);
            continue;
          }
          b.clone(inner, map);
        }
        Value sum = map.lookup(body->getTerminator()->getOperand(0));
        cast<arith::AddFOp>(sum.getDefiningOp())
            .setFastmath(arith::FastMathFlags::reassoc);
        scf::YieldOp::create(b, l, sum);
      });
  Value result = tensor::InsertOp::create(rewriter, loc, loop.getResult(0),
                                          init, ValueRange{});
  rewriter.replaceOp(op, result);
}

/// The most lanes of a row reduced as a tree (`reduceRowAsTree`).
constexpr int64_t kMaxTreeLanes = 64;

/// The extremum of one short row (a softmax's maximum over 10 classes) as
/// a tree: the row padded with the neutral element to a power of two, then
/// halves combined, log2 steps. Lowered as an inner reduction, the row
/// became a chain of scalar `maximumf`s, each with its NaN checks and
/// each waiting on the last. An extremum does not depend on the order.
LogicalResult reduceRowAsTree(RewriterBase &rewriter,
                              vector::MultiDimReductionOp op) {
  VectorType source = op.getSourceVectorType();
  int64_t lanes = source.getNumElements();
  auto resultType = dyn_cast<VectorType>(op.getDestType());
  Type element = source.getElementType();
  if (!isa<FloatType>(element) || source.isScalable() || lanes < 2 ||
      lanes > kMaxTreeLanes ||
      (resultType && resultType.getNumElements() != 1) ||
      isa<vector::MaskOp>(op->getParentOp()))
    return failure();
  TypedAttr neutral =
      mlir::dlc::extremumNeutral(rewriter, op.getKind(), element);
  if (!neutral)
    return failure();
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  Value row = vector::ShapeCastOp::create(
      rewriter, loc, VectorType::get({lanes}, element), op.getSource());
  Value extremum =
      mlir::dlc::reduceAsTree(rewriter, loc, op.getKind(), row, neutral);
  Value acc = op.getAcc();
  if (resultType)
    acc = vector::ExtractOp::create(
        rewriter, loc, acc, SmallVector<int64_t>(resultType.getRank(), 0));
  Value result =
      vector::makeArithReduction(rewriter, loc, op.getKind(), extremum, acc);
  if (resultType)
    result = vector::BroadcastOp::create(rewriter, loc, resultType, result);
  rewriter.replaceOp(op, result);
  return success();
}

/// A read of one element broadcast along every vector dimension (a row's
/// [1, 1] sum read as the row's 1 x 10 vector: map (d0, d1) -> (d0, 0))
/// as that element, extracted, then broadcast. The permutation-map
/// lowering leaves it a transfer that LLVM fills lane by lane.
struct ReadElementThenBroadcast : OpRewritePattern<vector::TransferReadOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::TransferReadOp op,
                                PatternRewriter &rewriter) const override {
    VectorType type = op.getVectorType();
    AffineMap map = op.getPermutationMap();
    auto source = dyn_cast<RankedTensorType>(op.getBase().getType());
    if (!source || op.getMask() || type.isScalable() ||
        type.getNumElements() < 2 ||
        !llvm::all_of(op.getInBoundsValues(), [](bool b) { return b; }))
      return failure();
    // Every dimension the vector reads along is one element long.
    for (auto [d, e] : llvm::enumerate(map.getResults())) {
      if (isa<AffineDimExpr>(e)) {
        if (type.getDimSize(d) != 1)
          return failure();
        continue;
      }
      auto c = dyn_cast<AffineConstantExpr>(e);
      if (!c || c.getValue() != 0)
        return failure();
    }
    Value element = tensor::ExtractOp::create(rewriter, op.getLoc(),
                                              op.getBase(), op.getIndices());
    rewriter.replaceOpWithNewOp<vector::BroadcastOp>(op, type, element);
    return success();
  }
};

/// Vectorizes `op` (linalg's vectorizer) in place.
LogicalResult vectorizeOp(RewriterBase &rewriter, linalg::LinalgOp op) {
  rewriter.setInsertionPoint(op);
  FailureOr<linalg::VectorizationResult> result =
      linalg::vectorize(rewriter, op);
  if (failed(result))
    return failure();
  rewriter.replaceOp(op, result->replacements);
  return success();
}

/// The row ops (mlir::dlc::isRowOp) that read the output of a contraction
/// whose rows fit one vector, directly or through other such row ops and
/// reshapes: a classifier's softmax, cross-entropy and their gradient,
/// which dlc-register-tile computes on the logits' tiles.
DenseSet<Operation *> rowEpilogueOps(func::FuncOp func, int64_t lanes) {
  DenseSet<Value> chain;
  DenseSet<Operation *> ops;
  func.walk([&](Operation *op) {
    auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
    if (linalgOp && linalgOp.hasPureTensorSemantics() && isMulAdd(linalgOp)) {
      auto type = cast<RankedTensorType>(op->getResult(0).getType());
      if (type.getRank() == 2 && !type.isDynamicDim(1))
        chain.insert(op->getResult(0));
      return;
    }
    if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op)) {
      if (chain.contains(op->getOperand(0)))
        chain.insert(op->getResult(0));
      return;
    }
    auto generic = dyn_cast<linalg::GenericOp>(op);
    if (!generic || !generic.hasPureTensorSemantics() ||
        !mlir::dlc::isRowOp(generic, lanes) ||
        llvm::none_of(generic.getDpsInputs(),
                      [&](Value v) { return chain.contains(v); }))
      return;
    ops.insert(op);
    for (Value result : op->getResults())
      chain.insert(result);
  });
  return ops;
}

} // namespace

LogicalResult mlir::dlc::vectorizeByRows(RewriterBase &rewriter,
                                         linalg::LinalgOp op) {
  // The batch loop tiled by 1 (TilingInterface), each row a static op to
  // vectorize.
  SmallVector<OpFoldResult> sizes;
  for (int64_t range : op.getStaticLoopRanges())
    sizes.push_back(
        rewriter.getIndexAttr(ShapedType::isDynamic(range) ? 1 : 0));
  scf::SCFTilingOptions options;
  options.setTileSizes(sizes);
  rewriter.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> tiled = scf::tileUsingSCF(
      rewriter, cast<TilingInterface>(op.getOperation()), options);
  if (failed(tiled))
    return failure();
  if (op->getNumResults())
    rewriter.replaceOp(op, tiled->replacements);
  else
    rewriter.eraseOp(op);
  for (Operation *row : tiled->tiledOps)
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(row);
        linalgOp && !linalgOp.hasDynamicShape() &&
        succeeded(linalg::vectorizeOpPrecondition(linalgOp)))
      (void)vectorizeOp(rewriter, linalgOp);
  return success();
}

namespace {

struct VectorizeLinalgPass
    : mlir::dlc::impl::VectorizeLinalgPassBase<VectorizeLinalgPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> candidates, rows, sums;
    DenseSet<Operation *> rowEpilogue = rowEpilogueOps(getOperation(), lanes);
    for (Operation *op : rowEpilogue)
      op->setAttr(mlir::dlc::kRowOpAttr, UnitAttr::get(&getContext()));
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op.hasPureTensorSemantics() || rowEpilogue.contains(op))
        return;
      if (isBatchSum(op)) {
        sums.push_back(op);
        return;
      }
      if (op.hasDynamicShape()) {
        if (isRowVectorizable(op))
          rows.push_back(op);
        return;
      }
      // Without tiling, vectorizing a large op makes one huge vector that
      // LLVM unrolls (and compiles slowly); those stay loops for LLVM's loop
      // vectorizer (or dlc-register-tile, for contractions).
      if (staticPoints(op.getStaticLoopRanges()) > kMaxVectorElements)
        return;
      if (succeeded(linalg::vectorizeOpPrecondition(op)))
        candidates.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : sums)
      sumInRegisters(rewriter, cast<linalg::GenericOp>(op.getOperation()));
    for (linalg::LinalgOp op : rows)
      (void)mlir::dlc::vectorizeByRows(rewriter, op); // else a loop nest
    for (linalg::LinalgOp op : candidates)
      (void)vectorizeOp(rewriter, op); // else a loop nest; not an error
    SmallVector<vector::MultiDimReductionOp> reductions;
    getOperation().walk(
        [&](vector::MultiDimReductionOp op) { reductions.push_back(op); });
    for (vector::MultiDimReductionOp op : reductions)
      (void)reduceRowAsTree(rewriter, op); // else lowered as before
    // A read that broadcasts (a row's maximum along its 10 classes) reads
    // what it broadcasts, then broadcasts it: lowered to loops, it was
    // filled lane by lane.
    RewritePatternSet transfers(&getContext());
    vector::populateVectorTransferPermutationMapLoweringPatterns(transfers);
    transfers.add<ReadElementThenBroadcast>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(transfers))))
      return signalPassFailure();
  }
};
} // namespace
