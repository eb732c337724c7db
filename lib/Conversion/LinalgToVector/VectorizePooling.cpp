// dlc-vectorize-pooling: 2 x 2 max pooling with stride 2 as vector maxima.
#include "dlc/Conversion/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_VECTORIZEPOOLINGPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;

namespace {

bool isContiguousAlongLastDim(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.getRank() == 4 && type.isLastDimUnitStride();
}

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
  if (!isParallel) {
    scf::buildLoopNest(rewriter, loc, lbs, ubs, steps, body);
    rewriter.eraseOp(op);
    return;
  }
  // With threads, the batch loop is shared out.
  auto par = scf::ParallelOp::create(rewriter, loc, ValueRange{lbs[0]},
                                     ValueRange{ubs[0]}, ValueRange{steps[0]});
  {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(par.getBody()->getTerminator());
    Value n = par.getInductionVars()[0];
    scf::buildLoopNest(rewriter, loc, ArrayRef(lbs).drop_front(),
                       ArrayRef(ubs).drop_front(), ArrayRef(steps).drop_front(),
                       [&](OpBuilder &b, Location l, ValueRange ivs) {
                         body(b, l, {n, ivs[0], ivs[1], ivs[2]});
                       });
  }
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
          isContiguousAlongLastDim(op.getInputs()[0]) &&
          isContiguousAlongLastDim(op.getOutputs()[0]))
        pools.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::PoolingNchwMaxOp op : pools) {
      int64_t work = 1;
      for (int64_t d : cast<MemRefType>(op.getOutputs()[0].getType()).getShape())
        if (!ShapedType::isDynamic(d))
          work *= d;
      rewriter.setInsertionPoint(op);
      vectorize(rewriter, op, lanes, parallel && work >= minWork);
    }
  }
};

} // namespace
