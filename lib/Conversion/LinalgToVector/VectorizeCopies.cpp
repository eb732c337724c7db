// dlc-vectorize-copies: copies between buffers contiguous along their last
// dimension become vector loads and stores.
#include "dlc/Conversion/Passes.h"
#include "LoopUtils.h"

#include "mlir/IR/PatternMatch.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_VECTORIZECOPIESPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using mlir::dlc::buildLoopNestParallelFirst;
using mlir::dlc::isContiguousAlongLastDim;
using mlir::dlc::staticPoints;
using mlir::dlc::transposeSquare;

namespace {

/// `v` as a 1-D memref when its layout is the identity (contiguous).
Value flatten(RewriterBase &rewriter, Location loc, Value v) {
  auto type = cast<MemRefType>(v.getType());
  if (type.getRank() < 2 || !type.getLayout().isIdentity())
    return v;
  ReassociationIndices all;
  for (int64_t d = 0; d < type.getRank(); ++d)
    all.push_back(d);
  return memref::CollapseShapeOp::create(rewriter, loc, v,
                                         ArrayRef<ReassociationIndices>{all});
}

/// Copies `in` (or, without it, the scalar `fill`) into `out`: for the outer
/// indices, for j in [0, n) step lanes: out[.., j..] = in[.., j..] (the last
/// vector masked).
void vectorizeCopy(RewriterBase &rewriter, Operation *op, Value in, Value fill,
                   Value out, int64_t lanes, bool isParallel) {
  Location loc = op->getLoc();
  // Contiguous buffers are copied (filled) as one run: a 1-D linalg op,
  // which LLVM turns into memcpy (memset), and dlc-parallelize, when large,
  // into one parallel loop without index arithmetic.
  auto isIdentity = [](Value v) {
    return cast<MemRefType>(v.getType()).getLayout().isIdentity();
  };
  if (isIdentity(out) && (!in || isIdentity(in))) {
    out = flatten(rewriter, loc, out);
    if (in)
      linalg::CopyOp::create(rewriter, loc, flatten(rewriter, loc, in), out);
    else
      linalg::FillOp::create(rewriter, loc, ValueRange{fill}, ValueRange{out});
    rewriter.eraseOp(op);
    return;
  }
  auto type = cast<MemRefType>(out.getType());
  VectorType vectorType = VectorType::get({lanes}, type.getElementType());
  VectorType maskType = VectorType::get({lanes}, rewriter.getI1Type());
  Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
  Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
  Value step = arith::ConstantIndexOp::create(rewriter, loc, lanes);
  Value pass = arith::ConstantOp::create(rewriter, loc, vectorType,
                                         rewriter.getZeroAttr(vectorType));
  Value splat =
      fill ? vector::BroadcastOp::create(rewriter, loc, vectorType, fill)
                 .getResult()
           : Value();
  SmallVector<Value> ubs;
  for (int64_t d = 0; d < type.getRank(); ++d)
    ubs.push_back(memref::DimOp::create(rewriter, loc, out, d));
  SmallVector<Value> lbs(type.getRank(), zero), steps(type.getRank(), one);
  steps.back() = step;
  // With threads, a large copy's outermost loop is shared out (as
  // dlc-parallelize does for the loops it lowers).
  buildLoopNestParallelFirst(
      rewriter, loc, lbs, ubs, steps, isParallel && type.getRank() > 1,
      [&](OpBuilder &b, Location l, ValueRange ivs) {
        Value left = arith::SubIOp::create(b, l, ubs.back(), ivs.back());
        Value mask =
            vector::CreateMaskOp::create(b, l, maskType, ValueRange{left});
        Value v = splat ? splat
                        : vector::MaskedLoadOp::create(b, l, vectorType, in,
                                                       ivs, mask, pass)
                              .getResult();
        vector::MaskedStoreOp::create(b, l, out, ivs, mask, v);
      });
  rewriter.eraseOp(op);
}

/// What both lowerings of a transpose start from: loops over the output's
/// dimensions in its order (sizes from the input), stepping by `lanes` over
/// the dimensions `stepped` names, and the vector types.
struct TransposeLoops {
  Value in, out;
  int64_t rank;
  ArrayRef<int64_t> perm; // out dim k = in dim perm[k]
  VectorType vectorType, maskType;
  Value zero, step, pass;
  SmallVector<Value> lbs, ubs, steps;

  TransposeLoops(RewriterBase &rewriter, linalg::TransposeOp op,
                 int64_t lanes, function_ref<bool(int64_t)> stepped)
      : in(op.getInput()), out(op.getInit()),
        rank(cast<MemRefType>(in.getType()).getRank()),
        perm(op.getPermutation()) {
    Location loc = op.getLoc();
    Type element = cast<MemRefType>(in.getType()).getElementType();
    vectorType = VectorType::get({lanes}, element);
    maskType = VectorType::get({lanes}, rewriter.getI1Type());
    zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    step = arith::ConstantIndexOp::create(rewriter, loc, lanes);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    pass = arith::ConstantOp::create(rewriter, loc, vectorType,
                                     rewriter.getZeroAttr(vectorType));
    for (int64_t k = 0; k < rank; ++k) {
      lbs.push_back(zero);
      ubs.push_back(memref::DimOp::create(rewriter, loc, in, perm[k]));
      steps.push_back(stepped(k) ? step : one);
    }
  }
};

/// A transpose that moves the input's contiguous last dimension (NCHW ->
/// NHWC): loops in the output's order, the input's last dimension in steps
/// of `lanes` read as one vector, its elements stored one by one. The
/// output's last dimension is the innermost loop, so the few output cache
/// lines a vector's elements go to are filled before they are left.
void vectorizeTranspose(RewriterBase &rewriter, linalg::TransposeOp op,
                        int64_t lanes, bool isParallel) {
  Location loc = op.getLoc();
  ArrayRef<int64_t> perm = op.getPermutation();
  int64_t rank = perm.size();
  TransposeLoops t(rewriter, op, lanes,
                   [&](int64_t k) { return perm[k] == rank - 1; });
  Value in = t.in, out = t.out, pass = t.pass;
  VectorType vectorType = t.vectorType, maskType = t.maskType;
  ArrayRef<Value> ubs = t.ubs;
  int64_t vectorLoop = llvm::find(perm, rank - 1) - perm.begin();
  auto body = [&](OpBuilder &b, Location l, ValueRange outIvs) {
    SmallVector<Value> inIvs(rank);
    for (int64_t k = 0; k < rank; ++k)
      inIvs[perm[k]] = outIvs[k];
    Value left = arith::SubIOp::create(b, l, ubs[vectorLoop],
                                       outIvs[vectorLoop]);
    Value mask = vector::CreateMaskOp::create(b, l, maskType, ValueRange{left});
    Value v = vector::MaskedLoadOp::create(b, l, vectorType, in, inIvs, mask,
                                           pass);
    Value count = arith::MinUIOp::create(
        b, l, left, arith::ConstantIndexOp::create(b, l, lanes));
    // Elements past the end (the masked lanes) are not stored.
    for (int64_t e = 0; e < lanes; ++e) {
      Value index = arith::ConstantIndexOp::create(b, l, e);
      Value inside = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult,
                                           index, count);
      auto guard = scf::IfOp::create(b, l, inside, /*withElse=*/false);
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(&guard.getThenRegion().front());
      SmallVector<Value> outIdx(outIvs);
      outIdx[vectorLoop] = arith::AddIOp::create(b, l, outIvs[vectorLoop], index);
      Value x = vector::ExtractOp::create(b, l, v, ArrayRef<int64_t>{e});
      memref::StoreOp::create(b, l, x, out, outIdx);
    }
  };
  buildLoopNestParallelFirst(rewriter, loc, t.lbs, t.ubs, t.steps,
                             isParallel && vectorLoop != 0, body);
  rewriter.eraseOp(op);
}

/// The same transpose, when the output is contiguous along its last
/// dimension too, by squares: `lanes` vectors along the input's last
/// dimension (w) from consecutive positions of the output's last (c),
/// transposed in registers, stored as `lanes` vectors along c. Masks cut
/// the squares at the edges (a 34-wide padded image row: two squares of
/// 16 and one of 2 columns).
void transposeBySquares(RewriterBase &rewriter, linalg::TransposeOp op,
                        int64_t lanes, bool isParallel) {
  Location loc = op.getLoc();
  ArrayRef<int64_t> perm = op.getPermutation();
  int64_t rank = perm.size();
  // Out loops w (reading the input's last dimension) and c (the output's
  // last) step by squares.
  int64_t w = llvm::find(perm, rank - 1) - perm.begin(), c = rank - 1;
  TransposeLoops t(rewriter, op, lanes,
                   [&](int64_t k) { return k == w || k == c; });
  Value in = t.in, out = t.out, pass = t.pass, zero = t.zero, step = t.step;
  VectorType vectorType = t.vectorType, maskType = t.maskType;
  ArrayRef<Value> ubs = t.ubs;
  auto body = [&](OpBuilder &b, Location l, ValueRange outIvs) {
    auto constant = [&](int64_t v) {
      return arith::ConstantIndexOp::create(b, l, v).getResult();
    };
    auto countFrom = [&](int64_t k) { // valid lanes of the square along k
      Value left = arith::SubIOp::create(b, l, ubs[k], outIvs[k]);
      return arith::MinUIOp::create(b, l, left, step).getResult();
    };
    Value wCount = countFrom(w), cCount = countFrom(c);
    // Row r of the square, masked to `count` lanes while r < `rows`.
    auto rowMask = [&](int64_t r, Value rows, Value count) {
      Value inside = arith::CmpIOp::create(b, l, arith::CmpIPredicate::ult,
                                           constant(r), rows);
      Value n = arith::SelectOp::create(b, l, inside, count, zero);
      return vector::CreateMaskOp::create(b, l, maskType, ValueRange{n});
    };
    SmallVector<Value> square;
    SmallVector<Value> inIvs(rank);
    for (int64_t k = 0; k < rank; ++k)
      inIvs[perm[k]] = outIvs[k];
    for (int64_t r = 0; r < lanes; ++r) {
      SmallVector<Value> idx(inIvs);
      idx[perm[c]] = arith::AddIOp::create(b, l, outIvs[c], constant(r));
      square.push_back(vector::MaskedLoadOp::create(
          b, l, vectorType, in, idx, rowMask(r, cCount, wCount), pass));
    }
    transposeSquare(b, l, square);
    for (int64_t r = 0; r < lanes; ++r) {
      SmallVector<Value> idx(outIvs);
      idx[w] = arith::AddIOp::create(b, l, outIvs[w], constant(r));
      vector::MaskedStoreOp::create(b, l, out, idx,
                                    rowMask(r, wCount, cCount), square[r]);
    }
  };
  buildLoopNestParallelFirst(rewriter, loc, t.lbs, t.ubs, t.steps,
                             isParallel && w != 0 && c != 0, body);
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
    // Fills: linalg.fill, and ops without inputs that yield a value from
    // outside (a padded buffer's border, from tensor.pad).
    SmallVector<std::pair<Operation *, Value>> fills;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
          !isContiguousAlongLastDim(op.getDpsInitOperand(0)->get().getType()))
        return;
      if (auto fill = dyn_cast<linalg::FillOp>(op.getOperation())) {
        fills.push_back({op, fill.getInputs()[0]});
        return;
      }
      if (op.getNumDpsInputs() != 0 || op.hasIndexSemantics() ||
          op.getNumReductionLoops() != 0)
        return;
      Block *body = op.getBlock();
      Value yielded = body->getTerminator()->getOperand(0);
      if (body->getOperations().size() == 1 &&
          yielded.getParentBlock() != body)
        fills.push_back({op, yielded});
    });
    SmallVector<linalg::TransposeOp> transposes;
    getOperation().walk([&](linalg::TransposeOp op) {
      int64_t rank = op.getPermutation().size();
      if (op.hasPureBufferSemantics() && rank > 1 &&
          op.getPermutation().back() != rank - 1 &&
          isContiguousAlongLastDim(op.getInput().getType()))
        transposes.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::TransposeOp op : transposes) {
      int64_t work = staticPoints(cast<MemRefType>(op.getInput().getType()).getShape());
      rewriter.setInsertionPoint(op);
      // Squares pay off when both dimensions they cut fill half a vector.
      ArrayRef<int64_t> shape = cast<MemRefType>(op.getInput().getType()).getShape();
      int64_t rank = shape.size();
      auto wide = [&](int64_t size) {
        return ShapedType::isDynamic(size) || size >= lanes / 2;
      };
      bool squares =
          llvm::isPowerOf2_64(lanes) && lanes > 1 &&
          isContiguousAlongLastDim(op.getInit().getType()) &&
          wide(shape[rank - 1]) && wide(shape[op.getPermutation()[rank - 1]]);
      if (squares)
        transposeBySquares(rewriter, op, lanes, parallel && work >= minWork);
      else
        vectorizeTranspose(rewriter, op, lanes, parallel && work >= minWork);
    }
    for (linalg::CopyOp op : copies) {
      int64_t work = staticPoints(cast<MemRefType>(op.getInputs()[0].getType()).getShape());
      rewriter.setInsertionPoint(op);
      vectorizeCopy(rewriter, op, op.getInputs()[0], Value(),
                    op.getOutputs()[0], lanes, parallel && work >= minWork);
    }
    for (auto [op, value] : fills) {
      Value out = cast<linalg::LinalgOp>(op).getDpsInitOperand(0)->get();
      int64_t work = staticPoints(cast<MemRefType>(out.getType()).getShape());
      rewriter.setInsertionPoint(op);
      vectorizeCopy(rewriter, op, Value(), value, out, lanes,
                    parallel && work >= minWork);
    }
  }
};

} // namespace
