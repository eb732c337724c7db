// dlc-vectorize-copies: copies between buffers contiguous along their last
// dimension become vector loads and stores.
#include "dlc/Conversion/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_VECTORIZECOPIESPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;

namespace {

bool isContiguousAlongLastDim(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  return memref && memref.getRank() > 0 && memref.isLastDimUnitStride();
}

/// for the outer indices: for j in [0, n) step lanes: out[.., j..] = in[.., j..]
/// (the last vector masked).
void vectorizeCopy(RewriterBase &rewriter, linalg::CopyOp op, int64_t lanes,
                   bool isParallel) {
  Location loc = op.getLoc();
  Value in = op.getInputs()[0], out = op.getOutputs()[0];
  auto type = cast<MemRefType>(in.getType());
  VectorType vectorType = VectorType::get({lanes}, type.getElementType());
  VectorType maskType = VectorType::get({lanes}, rewriter.getI1Type());
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  Value step = arith::ConstantIndexOp::create(rewriter, loc, lanes);
  Value pass = arith::ConstantOp::create(rewriter, loc, vectorType,
                                         rewriter.getZeroAttr(vectorType));
  SmallVector<Value> ubs;
  for (int64_t d = 0; d < type.getRank(); ++d)
    ubs.push_back(memref::DimOp::create(rewriter, loc, in, d));
  SmallVector<Value> lbs(type.getRank(), zero), steps(type.getRank(), one);
  steps.back() = step;
  auto copyNest = [&](OpBuilder &builder, ValueRange outerIvs) {
    size_t skip = outerIvs.size();
    scf::buildLoopNest(
        builder, loc, ArrayRef(lbs).drop_front(skip),
        ArrayRef(ubs).drop_front(skip), ArrayRef(steps).drop_front(skip),
        [&](OpBuilder &b, Location l, ValueRange innerIvs) {
          SmallVector<Value> ivs(outerIvs);
          ivs.append(innerIvs.begin(), innerIvs.end());
          Value left = arith::SubIOp::create(b, l, ubs.back(), ivs.back());
          Value mask = vector::CreateMaskOp::create(b, l, maskType,
                                                    ValueRange{left});
          Value v = vector::MaskedLoadOp::create(b, l, vectorType, in, ivs,
                                                 mask, pass);
          vector::MaskedStoreOp::create(b, l, out, ivs, mask, v);
        });
  };
  // With threads, a large copy's outermost loop is shared out (as
  // dlc-parallelize does for the loops it lowers).
  if (isParallel && type.getRank() > 1) {
    auto par = scf::ParallelOp::create(rewriter, loc, ValueRange{lbs[0]},
                                       ValueRange{ubs[0]},
                                       ValueRange{steps[0]});
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(par.getBody()->getTerminator());
    copyNest(rewriter, par.getInductionVars());
  } else {
    copyNest(rewriter, ValueRange{});
  }
  rewriter.eraseOp(op);
}

struct VectorizeCopiesPass
    : mlir::dlc::impl::VectorizeCopiesPassBase<VectorizeCopiesPass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<linalg::CopyOp> copies;
    getOperation().walk([&](linalg::CopyOp op) {
      if (op.hasPureBufferSemantics() &&
          isContiguousAlongLastDim(op.getInputs()[0].getType()) &&
          isContiguousAlongLastDim(op.getOutputs()[0].getType()))
        copies.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::CopyOp op : copies) {
      int64_t work = 1;
      for (int64_t d : cast<MemRefType>(op.getInputs()[0].getType()).getShape())
        if (!ShapedType::isDynamic(d))
          work *= d;
      rewriter.setInsertionPoint(op);
      vectorizeCopy(rewriter, op, lanes, parallel && work >= minWork);
    }
  }
};

} // namespace
