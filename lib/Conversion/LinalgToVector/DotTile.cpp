// KernelEmitter's dot tiles (KernelEmitter.h): partial sums along a
// reduction both inputs read contiguously (a convolution's filter gradient,
// a bias gradient over pixels), added across lanes into the output.
#include "KernelEmitter.h"
#include "LoopUtils.h"

#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::dlc {

void KernelEmitter::emitDot(SmallVector<Value> &ivs) {
  auto block = [&](Value begin, Value end, int64_t tileRows) {
    auto tiles = [&](Value c0, int64_t tileCols) {
      if (!c.i)
        return emitDotTile(ivs, Value(), 1, c0, tileCols);
      loop(begin, end, tileRows, false, [&](Value i0) {
        emitDotTile(ivs, rowStart(i0, tileRows), tileRows, c0, tileCols);
      });
    };
    if (!c.col)
      return tiles(Value(), 1);
    forTiles(sizes[*c.col], cols, false, tiles);
  };
  forRowBlocks(ivs, block);
}

void KernelEmitter::emitDotTile(ArrayRef<Value> outerIvs, Value i0,
                                int64_t tileRows, Value c0, int64_t tileCols) {
  SmallVector<Value> ivs(outerIvs);
  SmallVector<Value> rowIndex, colIndex;
  for (int64_t r = 0; r < tileRows; ++r)
    rowIndex.push_back(c.i ? add(i0, r) : Value());
  for (int64_t k = 0; k < tileCols; ++k)
    colIndex.push_back(c.col ? add(c0, k) : Value());
  // The vector loop runs over [begin, total): all of it, or the current
  // block of a blocked reduction.
  bool blockedJ = blocked && *blocked == c.j;
  Value begin = blockedJ ? reductionBegin : index(0);
  Value total = blockedJ ? reductionEnd : sizes[c.j];
  Value full =
      blockedJ
          ? rewriter.createOrFold<arith::AddIOp>(
                loc, begin,
                floorTo(rewriter.createOrFold<arith::SubIOp>(loc, total, begin),
                        lanes))
          : floorTo(total, lanes);
  std::optional<int64_t> known =
      blockedJ ? std::nullopt : getConstantIntValue(total);

  // One step along j: tileRows vectors of a, tileCols vectors of b.
  auto step = [&](OpBuilder &b, SmallVector<Value> p, Value j0,
                  ValueRange partial, Value mask) {
    p[c.j] = j0;
    SmallVector<Value> aVectors, bVectors;
    for (int64_t r = 0; r < tileRows; ++r) {
      if (c.i)
        p[*c.i] = rowIndex[r];
      aVectors.push_back(load(b, c.a, p, mask));
    }
    scf::ValueVector next;
    if (!c.b) { // a sum: acc += a
      for (int64_t r = 0; r < tileRows; ++r)
        next.push_back(arith::AddFOp::create(b, loc, partial[r], aVectors[r]));
      return next;
    }
    for (int64_t k = 0; k < tileCols; ++k) {
      if (c.col)
        p[*c.col] = colIndex[k];
      bVectors.push_back(load(b, c.b, p, mask));
    }
    for (int64_t r = 0; r < tileRows; ++r)
      for (int64_t k = 0; k < tileCols; ++k)
        next.push_back(vector::FMAOp::create(b, loc, aVectors[r], bVectors[k],
                                             partial[r * tileCols + k]));
    return next;
  };
  auto alongJ = [&](OpBuilder &b, SmallVector<Value> p,
                    ValueRange partial) -> scf::ValueVector {
    scf::ValueVector result;
    if (known && *known / lanes <= kMaxUnrolled) {
      // A few vectors (a 32-wide image row): unrolled, like a short
      // reduction loop in the outer-product kernel.
      result = scf::ValueVector(partial);
      for (int64_t v = 0; v < *known / lanes; ++v)
        result = step(b, p, index(v * lanes), result, Value());
    } else {
      auto main = scf::ForOp::create(
          b, loc, begin, full, index(lanes), partial,
          [&](OpBuilder &nb, Location, Value j0, ValueRange args) {
            scf::YieldOp::create(nb, loc, step(nb, p, j0, args, Value()));
          });
      result = scf::ValueVector(main.getResults());
    }
    if (known && *known % lanes != 0) {
      Value mask = vector::CreateMaskOp::create(
          b, loc, maskType, ValueRange{index(*known % lanes)});
      result = step(b, p, full, result, mask);
    } else if (!known) {
      auto rest = scf::ForOp::create(
          b, loc, full, total, index(lanes), result,
          [&](OpBuilder &nb, Location, Value j0, ValueRange args) {
            Value left = arith::SubIOp::create(nb, loc, total, j0);
            Value mask = vector::CreateMaskOp::create(nb, loc, maskType,
                                                      ValueRange{left});
            scf::YieldOp::create(nb, loc, step(nb, p, j0, args, mask));
          });
      result = scf::ValueVector(rest.getResults());
    }
    return result;
  };

  SmallVector<Value> acc(tileRows * tileCols, zeroVector());
  ReductionLoops loops = reductionLoops(c.j);
  // Named, not bound (lambdas below capture them).
  SmallVector<unsigned> &reductions = loops.dims;
  SmallVector<Value> &lbs = loops.lbs, &ubs = loops.ubs, &steps = loops.steps;
  scf::ValueVector sums;
  if (reductions.empty()) {
    sums = alongJ(rewriter, ivs, acc);
  } else {
    sums = scf::buildLoopNest(rewriter, loc, lbs, ubs, steps, acc,
                              [&](OpBuilder &b, Location,
                                  ValueRange reductionIvs, ValueRange partial) {
                                SmallVector<Value> p(ivs);
                                for (auto [d, iv] :
                                     llvm::zip(reductions, reductionIvs))
                                  p[d] = iv;
                                return alongJ(b, p, partial);
                              })
               .results;
  }
  for (int64_t r = 0; r < tileRows; ++r)
    for (int64_t k = 0; k < tileCols; ++k) {
      SmallVector<Value> p(ivs);
      if (c.i)
        p[*c.i] = rowIndex[r];
      if (c.col)
        p[*c.col] = colIndex[k];
      SmallVector<Value> idx = indices(rewriter, c.out, p);
      // The lanes are added as a tree (reassoc): a fixed order all the
      // same, so results do not depend on the tiling or thread count.
      Value sum = vector::ReductionOp::create(
          rewriter, loc, vector::CombiningKind::ADD, sums[r * tileCols + k],
          arith::FastMathFlags::reassoc);
      Value updated = sum;
      if (!zeroInit || blocked) {
        Value old = memref::LoadOp::create(rewriter, loc, c.out->get(), idx);
        if (zeroInit) // zero before the first block
          old = arith::SelectOp::create(
              rewriter, loc, isFirstBlock(),
              arith::ConstantOp::create(rewriter, loc,
                                        rewriter.getZeroAttr(old.getType())),
              old);
        updated = arith::AddFOp::create(rewriter, loc, old, sum);
      }
      memref::StoreOp::create(rewriter, loc, updated, c.out->get(), idx);
    }
}

} // namespace mlir::dlc
