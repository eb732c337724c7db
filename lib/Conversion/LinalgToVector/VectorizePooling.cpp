// dlc-vectorize-pooling: 2 x 2 max pooling with stride 2 as vector maxima.
#include "dlc/Conversion/Passes.h"
#include "LoopUtils.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_VECTORIZEPOOLINGPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using mlir::dlc::buildLoopNestParallelFirst;
using mlir::dlc::isContiguousAlongLastDim;
using mlir::dlc::staticPoints;

namespace {

bool allEqual(DenseIntElementsAttr attr, int64_t value) {
  return llvm::all_of(attr.getValues<int64_t>(),
                      [&](int64_t v) { return v == value; });
}

/// out[n, c, y, x0..] = max(out, in[n, c, 2y + r, 2 x0 + 2i + s]) over the
/// window (r, s): two vectors of 2 * lanes inputs per window row, split into
/// even and odd elements, whose maximum gives lanes outputs. max is exact
/// in any order, so this equals the loop nest's result.
void vectorize(RewriterBase &rewriter, linalg::PoolingNchwMaxOp op,
               int64_t lanes, bool isParallel) {
  Location loc = op.getLoc();
  Value in = op.getInputs()[0], out = op.getOutputs()[0];
  auto type = cast<MemRefType>(out.getType());
  VectorType vectorType = VectorType::get({lanes}, type.getElementType());
  VectorType maskType = VectorType::get({lanes}, rewriter.getI1Type());
  auto cst = [&](OpBuilder &b, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value pass = arith::ConstantOp::create(rewriter, loc, vectorType,
                                         rewriter.getZeroAttr(vectorType));
  SmallVector<Value> ubs, lbs, steps;
  for (int64_t d = 0; d < 4; ++d) {
    ubs.push_back(memref::DimOp::create(rewriter, loc, out, d));
    lbs.push_back(cst(rewriter, 0));
    steps.push_back(cst(rewriter, d == 3 ? lanes : 1));
  }
  Value inWidth = memref::DimOp::create(rewriter, loc, in, 3);
  SmallVector<int64_t> even, odd;
  for (int64_t i = 0; i < lanes; ++i) {
    even.push_back(2 * i);
    odd.push_back(2 * i + 1);
  }
  auto body = [&](OpBuilder &b, Location l, ValueRange ivs) {
        Value n = ivs[0], c = ivs[1], y = ivs[2], x0 = ivs[3];
        Value left = arith::SubIOp::create(b, l, ubs[3], x0);
        Value mask = vector::CreateMaskOp::create(b, l, maskType,
                                                  ValueRange{left});
        Value best = vector::MaskedLoadOp::create(
            b, l, vectorType, out, ValueRange{n, c, y, x0}, mask, pass);
        Value col = arith::MulIOp::create(b, l, x0, cst(b, 2));
        Value colHigh = arith::AddIOp::create(b, l, col, cst(b, lanes));
        // Input lanes in range: [col, min(col + 2 lanes, width)).
        Value leftIn = arith::SubIOp::create(b, l, inWidth, col);
        Value maskLow = vector::CreateMaskOp::create(b, l, maskType,
                                                     ValueRange{leftIn});
        Value leftHigh = arith::SubIOp::create(b, l, inWidth, colHigh);
        Value maskHigh = vector::CreateMaskOp::create(b, l, maskType,
                                                      ValueRange{leftHigh});
        for (int64_t r = 0; r < 2; ++r) {
          Value row = arith::AddIOp::create(
              b, l, arith::MulIOp::create(b, l, y, cst(b, 2)), cst(b, r));
          Value low = vector::MaskedLoadOp::create(
              b, l, vectorType, in, ValueRange{n, c, row, col}, maskLow, pass);
          Value high = vector::MaskedLoadOp::create(
              b, l, vectorType, in, ValueRange{n, c, row, colHigh}, maskHigh,
              pass);
          Value evens = vector::ShuffleOp::create(b, l, low, high, even);
          Value odds = vector::ShuffleOp::create(b, l, low, high, odd);
          best = arith::MaximumFOp::create(b, l, best, evens);
          best = arith::MaximumFOp::create(b, l, best, odds);
        }
        vector::MaskedStoreOp::create(b, l, out, ValueRange{n, c, y, x0},
                                      mask, best);
  };
  // With threads, the batch loop is shared out.
  buildLoopNestParallelFirst(rewriter, loc, lbs, ubs, steps, isParallel, body);
  rewriter.eraseOp(op);
}

/// The plane reassociation of a [N, C, H, W] buffer: [N, C, H * W].
SmallVector<ReassociationIndices> planeGroups() { return {{0}, {1}, {2, 3}}; }

/// Whether the pool's input rows are half a vector wide (8 of 16 lanes),
/// each contiguous, in planes of a multiple of 8 rows, its output planes
/// contiguous: then vectorizePlanes fills whole vectors, where `vectorize`
/// fills a quarter of each (4 outputs).
bool hasHalfVectorRows(linalg::PoolingNchwMaxOp op, int64_t lanes) {
  auto inType = cast<MemRefType>(op.getInputs()[0].getType());
  auto outType = cast<MemRefType>(op.getOutputs()[0].getType());
  ArrayRef<int64_t> in = inType.getShape(), out = outType.getShape();
  return lanes % 4 == 0 && in[3] * 2 == lanes && in[2] % 8 == 0 &&
         out[2] * 2 == in[2] && out[3] * 2 == in[3] &&
         inType.isLastDimUnitStride() &&
         memref::CollapseShapeOp::isGuaranteedCollapsible(outType,
                                                          planeGroups());
}

/// 2 x 2 max pooling of rows of lanes / 2 through whole vectors: 8 input
/// rows, each loaded alone and joined in pairs (4 vectors: the rows may lie
/// apart, a slice of a convolution computed over the padded width), give 4
/// output rows of lanes / 4, one vector of the contiguous output plane. Per
/// pair of vectors, the even and odd lanes of both (two shuffles) give the
/// maxima along rows; then the upper and lower rows of each pair (two more
/// shuffles) the maxima across them. With lanes = 16, for 4 outputs per
/// vector before (the 1 x 8 x 8 CNN's pooling: 160 us of a 0.8 ms step).
void vectorizePlanes(RewriterBase &rewriter, linalg::PoolingNchwMaxOp op,
                     int64_t lanes, bool isParallel) {
  Location loc = op.getLoc();
  Value in = op.getInputs()[0];
  Value out = memref::CollapseShapeOp::create(
      rewriter, loc, op.getOutputs()[0], planeGroups());
  auto type = cast<MemRefType>(out.getType());
  VectorType vectorType = VectorType::get({lanes}, type.getElementType());
  VectorType rowType = VectorType::get({lanes / 2}, type.getElementType());
  auto cst = [&](OpBuilder &b, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  int64_t groups = cast<MemRefType>(in.getType()).getDimSize(2) / 8;
  SmallVector<Value> lbs(3, cst(rewriter, 0)), steps(3, cst(rewriter, 1));
  SmallVector<Value> ubs{memref::DimOp::create(rewriter, loc, out, 0),
                         memref::DimOp::create(rewriter, loc, out, 1),
                         cst(rewriter, groups)};
  SmallVector<int64_t> even, odd, upper, lower;
  for (int64_t i = 0; i < lanes; ++i) {
    even.push_back(2 * i);
    odd.push_back(2 * i + 1);
  }
  // Per pair of vectors, lanes / 4 maxima per input row: rows 0-3 of the
  // first, 4-7 of the second. Output row k: input rows 2k and 2k + 1.
  int64_t quarter = lanes / 4;
  for (int64_t row = 0; row < 4; ++row)
    for (int64_t i = 0; i < quarter; ++i) {
      upper.push_back(2 * row * quarter + i);
      lower.push_back((2 * row + 1) * quarter + i);
    }
  SmallVector<int64_t> join;
  for (int64_t i = 0; i < lanes; ++i)
    join.push_back(i);
  auto body = [&](OpBuilder &b, Location l, ValueRange ivs) {
    Value n = ivs[0], c = ivs[1], g = ivs[2];
    SmallVector<Value> rows;
    for (int64_t k = 0; k < 4; ++k) {
      SmallVector<Value> pair;
      for (int64_t r = 0; r < 2; ++r) {
        Value row = arith::AddIOp::create(
            b, l, arith::MulIOp::create(b, l, g, cst(b, 8)),
            cst(b, 2 * k + r));
        pair.push_back(vector::LoadOp::create(
            b, l, rowType, in, ValueRange{n, c, row, cst(b, 0)}));
      }
      rows.push_back(vector::ShuffleOp::create(b, l, pair[0], pair[1], join));
    }
    SmallVector<Value> alongRows;
    for (int64_t k = 0; k < 4; k += 2) {
      Value evens = vector::ShuffleOp::create(b, l, rows[k], rows[k + 1], even);
      Value odds = vector::ShuffleOp::create(b, l, rows[k], rows[k + 1], odd);
      alongRows.push_back(arith::MaximumFOp::create(b, l, evens, odds));
    }
    Value ups = vector::ShuffleOp::create(b, l, alongRows[0], alongRows[1], upper);
    Value downs = vector::ShuffleOp::create(b, l, alongRows[0], alongRows[1], lower);
    Value at = arith::MulIOp::create(b, l, g, cst(b, lanes));
    Value best = vector::LoadOp::create(b, l, vectorType, out, ValueRange{n, c, at});
    best = arith::MaximumFOp::create(
        b, l, best, arith::MaximumFOp::create(b, l, ups, downs));
    vector::StoreOp::create(b, l, best, out, ValueRange{n, c, at});
  };
  buildLoopNestParallelFirst(rewriter, loc, lbs, ubs, steps, isParallel, body);
  rewriter.eraseOp(op);
}

/// How an operand of a pool gradient is read: at the op's own indices, or
/// at those of the 2 x 2 window holding them, (.., h floordiv 2, w floordiv 2).
enum class Access { Same, Window };

/// The accesses of an elementwise op that reads some operands per window
/// (a max-pool gradient, fused with its neighbours), or nothing.
std::optional<SmallVector<Access>> poolGradientAccesses(linalg::GenericOp op) {
  int64_t rank = op.getNumLoops();
  if (!op.hasPureBufferSemantics() || rank < 2 || op.hasIndexSemantics() ||
      op.getNumReductionLoops() != 0 || op.getNumDpsInits() != 1)
    return std::nullopt;
  MLIRContext *ctx = op.getContext();
  AffineMap same = AffineMap::getMultiDimIdentityMap(rank, ctx);
  SmallVector<AffineExpr> window(same.getResults());
  window[rank - 2] = window[rank - 2].floorDiv(2);
  window[rank - 1] = window[rank - 1].floorDiv(2);
  AffineMap windowMap = AffineMap::get(rank, 0, window, ctx);
  SmallVector<Access> accesses;
  bool anyWindow = false;
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type || !type.isLastDimUnitStride() ||
        !isa<FloatType, IntegerType>(type.getElementType()))
      return std::nullopt;
    if (map == same) {
      accesses.push_back(Access::Same);
    } else if (map == windowMap && !op.isDpsInit(&operand)) {
      accesses.push_back(Access::Window);
      anyWindow = true;
    } else {
      return std::nullopt;
    }
  }
  // The body must be elementwise arithmetic that maps onto vectors, and
  // must not read the output.
  if (op.payloadUsesValueFromOperand(op.getDpsInitOperand(0)))
    return std::nullopt;
  for (Operation &inner : op.getBlock()->without_terminator())
    if (!OpTrait::hasElementwiseMappableTraits(&inner) ||
        inner.getNumRegions() != 0)
      return std::nullopt;
  if (!anyWindow)
    return std::nullopt;
  return accesses;
}

/// The op as vectors of `lanes` along the last dimension (lanes even): an
/// operand read per window is loaded at half the width and each element
/// repeated twice (`vector.shuffle` [0, 0, 1, 1, ...]); the body's
/// arithmetic is cloned on vectors. Lanes past the end are masked.
void vectorizePoolGradient(RewriterBase &rewriter, linalg::GenericOp op,
                           ArrayRef<Access> accesses, int64_t lanes,
                           bool isParallel) {
  Location loc = op.getLoc();
  int64_t rank = op.getNumLoops();
  Value out = op.getDpsInitOperand(0)->get();
  auto cst = [&](OpBuilder &b, int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto vectorOf = [&](Type element, int64_t n) {
    return VectorType::get({n}, element);
  };
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d < rank; ++d) {
    lbs.push_back(cst(rewriter, 0));
    ubs.push_back(memref::DimOp::create(rewriter, loc, out, d));
    steps.push_back(cst(rewriter, d == rank - 1 ? lanes : 1));
  }
  SmallVector<int64_t> repeat;
  for (int64_t i = 0; i < lanes; ++i)
    repeat.push_back(i / 2);
  auto body = [&](OpBuilder &b, Location l, ValueRange ivs) {
    Value left = arith::SubIOp::create(b, l, ubs.back(), ivs.back());
    Value mask = vector::CreateMaskOp::create(
        b, l, vectorOf(b.getI1Type(), lanes), ValueRange{left});
    // Window operands: half as many elements, from (h / 2, w / 2).
    Value halfLeft = arith::CeilDivUIOp::create(b, l, left, cst(b, 2));
    Value halfMask = vector::CreateMaskOp::create(
        b, l, vectorOf(b.getI1Type(), lanes / 2), ValueRange{halfLeft});
    SmallVector<Value> windowIvs(ivs);
    windowIvs[rank - 2] = arith::DivUIOp::create(b, l, ivs[rank - 2], cst(b, 2));
    windowIvs[rank - 1] = arith::DivUIOp::create(b, l, ivs[rank - 1], cst(b, 2));
    IRMapping map;
    Block *block = op.getBlock();
    for (auto [k, input] : llvm::enumerate(op.getDpsInputOperands())) {
      Value memref = input->get();
      Type element = cast<MemRefType>(memref.getType()).getElementType();
      Value zero = arith::ConstantOp::create(
          b, l, vectorOf(element, lanes),
          b.getZeroAttr(vectorOf(element, lanes)));
      Value v;
      if (accesses[k] == Access::Same) {
        v = vector::MaskedLoadOp::create(b, l, vectorOf(element, lanes),
                                         memref, ivs, mask, zero);
      } else {
        Value halfZero = arith::ConstantOp::create(
            b, l, vectorOf(element, lanes / 2),
            b.getZeroAttr(vectorOf(element, lanes / 2)));
        Value half = vector::MaskedLoadOp::create(
            b, l, vectorOf(element, lanes / 2), memref, windowIvs, halfMask,
            halfZero);
        v = vector::ShuffleOp::create(b, l, half, half, repeat);
      }
      map.map(block->getArgument(k), v);
    }
    mlir::dlc::cloneOnVectors(b, l, block, lanes, map);
    Value result = mlir::dlc::vectorFor(
        b, l, map, block->getTerminator()->getOperand(0), lanes);
    vector::MaskedStoreOp::create(b, l, out, ivs, mask, result);
  };
  buildLoopNestParallelFirst(rewriter, loc, lbs, ubs, steps, isParallel, body);
  rewriter.eraseOp(op);
}

struct VectorizePoolingPass
    : mlir::dlc::impl::VectorizePoolingPassBase<VectorizePoolingPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::PoolingNchwMaxOp> pools;
    getOperation().walk([&](linalg::PoolingNchwMaxOp op) {
      auto window = dyn_cast<MemRefType>(op.getInputs()[1].getType());
      if (op.hasPureBufferSemantics() && window &&
          window.getShape() == ArrayRef<int64_t>{2, 2} &&
          allEqual(op.getStrides(), 2) && allEqual(op.getDilations(), 1) &&
          isContiguousAlongLastDim(op.getInputs()[0].getType()) &&
          isContiguousAlongLastDim(op.getOutputs()[0].getType()))
        pools.push_back(op);
    });
    SmallVector<std::pair<linalg::GenericOp, SmallVector<Access>>> gradients;
    getOperation().walk([&](linalg::GenericOp op) {
      if (std::optional<SmallVector<Access>> a = poolGradientAccesses(op))
        gradients.push_back({op, *a});
    });
    IRRewriter rewriter(&getContext());
    for (auto &[op, accesses] : gradients) {
      int64_t work = staticPoints(op.getStaticLoopRanges());
      rewriter.setInsertionPoint(op);
      vectorizePoolGradient(rewriter, op, accesses, lanes,
                            parallel && work >= minWork);
    }
    for (linalg::PoolingNchwMaxOp op : pools) {
      int64_t work = staticPoints(cast<MemRefType>(op.getOutputs()[0].getType()).getShape());
      rewriter.setInsertionPoint(op);
      if (hasHalfVectorRows(op, lanes))
        vectorizePlanes(rewriter, op, lanes, parallel && work >= minWork);
      else
        vectorize(rewriter, op, lanes, parallel && work >= minWork);
    }
  }
};

} // namespace
