// dlc-register-tile: matmuls and convolutions as register-tiled vector FMAs.
//
// For `out[.., i, .., j] += a[.. i ..] * b[.., j + ..]` the kernel holds a
// tile of `rows x vectors` output vectors in registers across the whole
// reduction; each reduction step loads `vectors` vectors of `b` and
// broadcasts `rows` scalars of `a`:
//
//   [for k0 in reduction step 512        (a matmul's long reduction)
//      packed = b[k0.., :] by column tiles]
//   for outer parallel loops / blocks of row tiles  (scf.parallel first)
//     for j0 in columns step vectors*lanes
//       for i0 in the block's rows step rows
//         acc = out[i0.., j0..]
//         for reduction loops: acc += broadcast(a[i0+r]) * b[j0..]
//         out[i0.., j0..] = acc
//
// Ops whose output has no long contiguous loop but whose inputs share a
// contiguous reduction get dot tiles instead (emitDot). The tile shapes
// follow the `lanes` and `accumulators` options (the target's vector width
// and register count); see the pass description in Passes.td.
#include "dlc/Conversion/Passes.h"
#include "Contraction.h"
#include "Epilogue.h"
#include "LoopUtils.h"

#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include <optional>

namespace mlir::dlc {
#define GEN_PASS_DEF_REGISTERTILEPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using mlir::dlc::batchReduction;
using mlir::dlc::Contraction;
using mlir::dlc::matchContraction;
using mlir::dlc::rootOf;
using mlir::dlc::staticPoints;
using mlir::dlc::transposeSquare;

namespace {


/// Emits the loops and kernels of one contraction.
class KernelEmitter {
public:
  /// With `zeroInit`, the output holds zeros before the op (a fill the
  /// caller erases): accumulators start at zero instead of loading them.
  KernelEmitter(RewriterBase &rewriter, linalg::LinalgOp op,
                const Contraction &c, int64_t lanes, int64_t accumulators,
                bool parallel, bool zeroInit,
                const mlir::dlc::Epilogue *epilogue, bool small,
                int64_t l2Bytes)
      : rewriter(rewriter), op(op), c(c), lanes(lanes), parallel(parallel),
        zeroInit(zeroInit), small(small), epilogue(epilogue),
        loc(op.getLoc()), imageBlockBytes(l2Bytes / 4) {
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    for (Range range : op.createLoopRanges(rewriter, loc))
      sizes.push_back(
          getValueOrCreateConstantIndexOp(rewriter, loc, range.size));
    Type element = cast<MemRefType>(c.out->get().getType()).getElementType();
    vectorType = VectorType::get({lanes}, element);
    maskType = VectorType::get({lanes}, rewriter.getI1Type());
    // A matmul's reduction block: its panel of `b` (4 vectors wide) and the
    // rows of `a` that 8 row tiles read fill a quarter of L2, in multiples
    // of 128 steps from 128 to 1024 (1 MB, 16 f32 lanes, 24 accumulators:
    // 512, the best of 128, 256 and 512 measured at 1024 and 2048).
    int64_t stepBytes = (4 * lanes + 8 * std::max<int64_t>(1, accumulators / 4)) *
                        std::max<int64_t>(1, element.getIntOrFloatBitWidth() / 8);
    reductionBlock =
        std::clamp<int64_t>(l2Bytes / 4 / stepBytes / 128 * 128, 128, 1024);
    if (op.getNumReductionLoops() == 1) {
      unsigned d = 0;
      while (op.getIteratorTypesArray()[d] != utils::IteratorType::reduction)
        ++d;
      if (ShapedType::isDynamic(ranges[d]) || ranges[d] > reductionBlock ||
          c.transposedB)
        blocked = d;
    } else if (std::optional<unsigned> d = batchReduction(op)) {
      // A reduction over the batch and more (a convolution's filter
      // gradient sums over images and pixels): one image at a time, outside
      // every other loop, so that the image's operands stay in cache while
      // every tile reads them (else each tile streams all images).
      blocked = *d;
      blockFirst = true;
    }
    if (c.kind == Contraction::Kind::Dot) {
      // Each step also holds `rows + cols` input vectors in registers.
      cols = c.col ? std::min<int64_t>(ranges[*c.col], 4) : 1;
      rows = std::max<int64_t>(1, (accumulators - 4) / cols);
      if (c.i && !ShapedType::isDynamic(ranges[*c.i]))
        rows = std::min(rows, ranges[*c.i]);
      if (!c.i)
        rows = 1;
      return;
    }
    int64_t columns = ranges[c.j];
    vectors = ShapedType::isDynamic(columns)
                  ? 4
                  : std::clamp<int64_t>(llvm::divideCeil(columns, lanes), 1, 4);
    rows = 1;
    if (c.i) {
      rows = std::max<int64_t>(1, accumulators / vectors);
      if (!ShapedType::isDynamic(ranges[*c.i]))
        rows = std::min(rows, ranges[*c.i]);
    }
    staticColumns = ShapedType::isDynamic(columns)
                        ? std::nullopt
                        : std::optional<int64_t>(columns);
  }

  void emit() {
    SmallVector<Value> ivs(op.getNumLoops(), Value());
    SmallVector<unsigned> outer;
    for (auto [d, type] : llvm::enumerate(op.getIteratorTypesArray()))
      if (type == utils::IteratorType::parallel && d != c.j && d != c.i &&
          d != c.col)
        outer.push_back(d);
    if (!blockFirst)
      return emitOuter(outer, ivs);
    forBlocks(imagesPerBlock(), [&] { emitOuter(outer, ivs); });
  }

private:
  /// Index constants, created once at the start of the op's block.
  Value index(int64_t value) {
    Value &constant = constants[value];
    if (!constant) {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(op->getBlock());
      constant = arith::ConstantIndexOp::create(rewriter, loc, value);
    }
    return constant;
  }
  Value add(Value x, int64_t offset) {
    return offset == 0 ? x
                       : rewriter.createOrFold<arith::AddIOp>(loc, x,
                                                              index(offset));
  }
  /// `n` rounded down to a multiple of `step`.
  Value floorTo(Value n, int64_t step) {
    if (step == 1)
      return n;
    Value rem = rewriter.createOrFold<arith::RemUIOp>(loc, n, index(step));
    return rewriter.createOrFold<arith::SubIOp>(loc, n, rem);
  }

  /// Builds `for iv in [lb, ub) step step` (an scf.parallel when asked) and
  /// calls `body` inside it.
  void loop(Value lb, Value ub, int64_t step, bool isParallel,
            function_ref<void(Value)> body) {
    loop(lb, ub, index(step), isParallel, body);
  }
  void loop(Value lb, Value ub, Value step, bool isParallel,
            function_ref<void(Value)> body) {
    OpBuilder::InsertionGuard guard(rewriter);
    Value iv;
    if (isParallel) {
      auto par = scf::ParallelOp::create(rewriter, loc, ValueRange{lb},
                                         ValueRange{ub}, ValueRange{step});
      rewriter.setInsertionPoint(par.getBody()->getTerminator());
      iv = par.getInductionVars()[0];
    } else {
      auto forOp = scf::ForOp::create(rewriter, loc, lb, ub, step);
      rewriter.setInsertionPoint(forOp.getBody()->getTerminator());
      iv = forOp.getInductionVar();
    }
    body(iv);
  }

  /// Rows per block of row tiles: 8 tiles, so that a block's rows of `a`
  /// stay in cache while it sweeps the columns; when the blocks are shared
  /// out to threads, fewer (down to one tile) so that there are about 16 of
  /// them and the threads' shares are even (a 256-row matmul on 2 threads:
  /// 1.53 -> 1.74-1.82x).
  Value rowsPerBlock(Value full, bool isParallel) {
    if (!isParallel)
      return index(rows * 8);
    Value perBlock = rewriter.createOrFold<arith::CeilDivUIOp>(
        loc, full, index(rows * 16));
    Value block = rewriter.createOrFold<arith::MulIOp>(loc, perBlock,
                                                       index(rows));
    block = rewriter.createOrFold<arith::MaxUIOp>(loc, block, index(rows));
    return rewriter.createOrFold<arith::MinUIOp>(loc, block, index(rows * 8));
  }

  void emitOuter(ArrayRef<unsigned> outer, SmallVector<Value> &ivs) {
    if (outer.empty())
      return emitRows(ivs);
    bool first = llvm::all_of(ivs, [](Value v) { return !v; });
    loop(index(0), sizes[outer.front()], 1, parallel && first, [&](Value iv) {
      ivs[outer.front()] = iv;
      emitOuter(outer.drop_front(), ivs);
    });
  }

  /// Calls `body(start, count)` for tiles of `tile` iterations of
  /// [0, total), then for the rest: one tile of the static remainder, or
  /// single iterations when `total` is not known.
  void forTiles(Value total, int64_t tile, bool isParallel,
                function_ref<void(Value, int64_t)> body) {
    Value full = floorTo(total, tile);
    std::optional<int64_t> known = getConstantIntValue(total);
    if (!known || *known >= tile)
      loop(index(0), full, tile, isParallel,
           [&](Value start) { body(start, tile); });
    if (known && *known % tile != 0)
      body(full, *known % tile);
    else if (!known && tile > 1)
      loop(full, total, 1, false, [&](Value start) { body(start, 1); });
  }

  /// Rows in blocks (a thread's share of the work when parallel); inside a
  /// block, columns outer, so that a column tile's vectors of `b` stay in
  /// cache while every row tile of the block reads them.
  void emitDot(SmallVector<Value> &ivs) {
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

  /// Calls `body(begin, end, tileRows)` for the blocks of full row tiles
  /// (an scf.parallel over the blocks when the op is parallel and has no
  /// outer loop), then for the last rows: one tile of them when their
  /// number is known, else one row at a time. Without rows, once.
  void forRowBlocks(ArrayRef<Value> ivs,
                    function_ref<void(Value, Value, int64_t)> body) {
    if (!c.i)
      return body(Value(), Value(), 1);
    Value total = sizes[*c.i];
    std::optional<int64_t> known = getConstantIntValue(total);
    bool noOuter = llvm::all_of(ivs, [](Value v) { return !v; });
    if (!known && rows > 1 && overlapsRows()) {
      // Full tiles up to the last row, the last one moved back to end
      // there (rowStart): the rows it shares with the one before are
      // computed twice, to the same values. Fewer rows than a tile: one
      // row at a time.
      Value enough = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::uge, total, index(rows));
      lastTile = arith::SubIOp::create(rewriter, loc, total, index(rows));
      Value rounded = arith::MulIOp::create(
          rewriter, loc,
          arith::CeilDivUIOp::create(rewriter, loc, total, index(rows)),
          index(rows));
      Value full = arith::SelectOp::create(rewriter, loc, enough, rounded,
                                           index(0));
      Value block = rowsPerBlock(full, parallel && noOuter);
      loop(index(0), full, block, parallel && noOuter, [&](Value start) {
        Value next = arith::AddIOp::create(rewriter, loc, start, block);
        Value end = arith::MinUIOp::create(rewriter, loc, next, full);
        body(start, end, rows);
      });
      Value singles = arith::SelectOp::create(rewriter, loc, enough, total,
                                              index(0));
      body(singles, total, 1);
      lastTile = Value();
      return;
    }
    Value full = floorTo(total, rows);
    Value block = rowsPerBlock(full, parallel && noOuter);
    loop(index(0), full, block, parallel && noOuter, [&](Value start) {
      Value next = arith::AddIOp::create(rewriter, loc, start, block);
      Value end = arith::MinUIOp::create(rewriter, loc, next, full);
      body(start, end, rows);
    });
    if (known && *known % rows != 0)
      body(full, total, *known % rows);
    else if (!known && rows > 1)
      body(full, total, 1);
  }

  /// Whether the last partial tile of a dynamic number of rows may be a
  /// full tile that overlaps the one before: the rows computed twice must
  /// come out the same, so the accumulators start at zero (not from the
  /// output), in one block, and no epilogue updates a buffer in place.
  /// Small ops (few thousand points besides the batch) keep the one-row
  /// kernel: overlapping tiles in the GAN's 36 small matmuls cost 0.1 s of
  /// compile time for no measurable gain.
  bool overlapsRows() {
    if (!zeroInit || blocked || small)
      return false;
    if (!epilogue)
      return true;
    // Nothing a stage writes may be read by a stage (a second run of the
    // tile would read it updated).
    DenseSet<Value> written;
    for (mlir::dlc::Epilogue::Stage stage : epilogue->stages)
      for (Value init : stage.op.getDpsInits())
        written.insert(rootOf(init));
    for (mlir::dlc::Epilogue::Stage stage : epilogue->stages)
      for (Value in : stage.op.getDpsInputs())
        if (written.contains(rootOf(in)))
          return false;
    return true;
  }

  /// A tile's first row: `i0`, or for the last full tile of overlapping
  /// rows, no later than the last `rows` rows.
  Value rowStart(Value i0, int64_t tileRows) {
    if (!lastTile || tileRows == 1)
      return i0;
    return arith::MinUIOp::create(rewriter, loc, i0, lastTile);
  }

  /// A dot tile: `tileRows x tileCols` vectors of partial sums along the
  /// reduction loop j, each added across its lanes into one output element.
  void emitDotTile(ArrayRef<Value> outerIvs, Value i0, int64_t tileRows,
                   Value c0, int64_t tileCols) {
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
    Value full = blockedJ ? rewriter.createOrFold<arith::AddIOp>(
                               loc, begin,
                               floorTo(rewriter.createOrFold<arith::SubIOp>(
                                           loc, total, begin),
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
          next.push_back(
              arith::AddFOp::create(b, loc, partial[r], aVectors[r]));
        return next;
      }
      for (int64_t k = 0; k < tileCols; ++k) {
        if (c.col)
          p[*c.col] = colIndex[k];
        bVectors.push_back(load(b, c.b, p, mask));
      }
      for (int64_t r = 0; r < tileRows; ++r)
        for (int64_t k = 0; k < tileCols; ++k)
          next.push_back(vector::FMAOp::create(
              b, loc, aVectors[r], bVectors[k], partial[r * tileCols + k]));
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
    SmallVector<unsigned> reductions;
    SmallVector<Value> lbs, ubs, steps;
    for (auto [d, type] : llvm::enumerate(op.getIteratorTypesArray()))
      if (type == utils::IteratorType::reduction && d != c.j) {
        reductions.push_back(d);
        bool isBlocked = blocked && d == *blocked;
        lbs.push_back(isBlocked ? reductionBegin : index(0));
        ubs.push_back(isBlocked ? reductionEnd : sizes[d]);
        steps.push_back(index(1));
      }
    scf::ValueVector sums;
    if (reductions.empty()) {
      sums = alongJ(rewriter, ivs, acc);
    } else {
      sums = scf::buildLoopNest(
                 rewriter, loc, lbs, ubs, steps, acc,
                 [&](OpBuilder &b, Location, ValueRange reductionIvs,
                     ValueRange partial) {
                   SmallVector<Value> p(ivs);
                   for (auto [d, iv] : llvm::zip(reductions, reductionIvs))
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
                arith::ConstantOp::create(
                    rewriter, loc, rewriter.getZeroAttr(old.getType())),
                old);
          updated = arith::AddFOp::create(rewriter, loc, old, sum);
        }
        memref::StoreOp::create(rewriter, loc, updated, c.out->get(), idx);
      }
  }

  /// Images per block of a reduction over the batch: as many as fit in
  /// a quarter of L2 in operands (one 3 x 32 x 32 CNN gradient image is
  /// 400 KB; 17 of the 1 x 8 x 8 CNN's fit), so that small images do not
  /// pay a parallel loop's start each (its 2-thread step: 1.50 -> 0.87 ms).
  int64_t imagesPerBlock() {
    int64_t bytes = 0;
    for (OpOperand *operand : op.getDpsInputOperands()) {
      auto type = cast<MemRefType>(operand->get().getType());
      bytes += staticPoints(type.getShape()) *
               std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
    }
    return std::max<int64_t>(1, imageBlockBytes / std::max<int64_t>(bytes, 1));
  }

  /// Calls `body` for each block of `size` iterations of the blocked
  /// reduction, with reductionBegin and reductionEnd set. Over an empty
  /// reduction, once (for an empty block) when the output's zero fill was
  /// dropped: the tiles still store their zeros.
  void forBlocks(int64_t size, function_ref<void()> body) {
    Value total = sizes[*blocked];
    Value end = zeroInit ? rewriter.createOrFold<arith::MaxUIOp>(loc, total,
                                                                 index(1))
                         : total;
    loop(index(0), end, size, false, [&](Value start) {
      reductionBegin = start;
      reductionEnd =
          arith::MinUIOp::create(rewriter, loc, add(start, size), total);
      body();
    });
  }

  void emitRows(SmallVector<Value> &ivs) {
    // A matmul's single long reduction is cut into blocks of reductionBlock
    // steps: each block's panel of `b` stays in cache while every row tile reads it,
    // and the rows of `a` that a block of row tiles reads stay in cache
    // across all column tiles. Accumulators go through the output between
    // blocks, in f32 as in registers: the sums are the same.
    if (blocked && !blockFirst) {
      if (isPackable())
        packed = memref::AllocOp::create(
            rewriter, loc,
            MemRefType::get({packedTiles(), reductionBlock, vectors * lanes},
                            vectorType.getElementType()),
            rewriter.getI64IntegerAttr(64));
      forBlocks(reductionBlock, [&] {
        if (packed)
          emitPack(ivs);
        emitRowBlocks(ivs);
      });
      return;
    }
    emitRowBlocks(ivs);
  }

  /// Whether the current block of `b` is copied into a packed buffer
  /// first: a matmul's right operand `b[k, j]` with rows of at least 256
  /// elements. A column tile's panel of `b` then lies contiguous, one page
  /// per 16 steps of k instead of one per step, for every row tile that
  /// reads it.
  bool isPackable() {
    if (c.transposedB)
      return true;
    if (c.kind != Contraction::Kind::OuterProduct || !staticColumns ||
        *staticColumns < 256 || *staticColumns < vectors * lanes)
      return false;
    AffineMap map = op.getMatchingIndexingMap(c.b);
    return map.getNumResults() == 2 && map.getResult(0).isFunctionOfDim(*blocked) &&
           isa<AffineDimExpr>(map.getResult(0)) &&
           map.getResult(1) == getAffineDimExpr(c.j, op.getContext());
  }

  /// Column tiles in the packed buffer: the full ones; a transposed `b`
  /// also its last, partial one, padded with zeros (its columns cannot be
  /// read from `b` with masked vector loads).
  int64_t packedTiles() {
    int64_t width = vectors * lanes;
    return c.transposedB ? llvm::divideCeil(*staticColumns, width)
                         : *staticColumns / width;
  }

  /// packed[t, k - begin, :] = b[k, t * width .. (t + 1) * width) for the
  /// column tiles t of the current block of the reduction.
  void emitPack(ArrayRef<Value> ivs) {
    int64_t width = vectors * lanes;
    int64_t tiles = packedTiles();
    Value count = arith::SubIOp::create(rewriter, loc, reductionEnd,
                                        reductionBegin);
    if (c.transposedB)
      return emitTransposingPack(ivs, count);
    loop(index(0), index(tiles), 1, parallel, [&](Value t) {
      Value j0 = arith::MulIOp::create(rewriter, loc, t, index(width));
      loop(index(0), count, 1, false, [&](Value kk) {
        SmallVector<Value> p(ivs);
        p[*blocked] = arith::AddIOp::create(rewriter, loc, reductionBegin, kk);
        for (int64_t v = 0; v < vectors; ++v) {
          p[c.j] = add(j0, v * lanes);
          Value row = load(rewriter, c.b, p, Value());
          vector::StoreOp::create(rewriter, loc, row, packed,
                                  ValueRange{t, kk, index(v * lanes)});
        }
      });
    });
  }

  /// packed[t, kk, jj] = b[t * width + jj, begin + kk], zero past the last
  /// column. Squares of `lanes x lanes` are read as vectors along rows of
  /// `b`, transposed in registers and stored as vectors along rows of the
  /// panel; the edges of the block, one element at a time.
  void emitTransposingPack(ArrayRef<Value> ivs, Value count) {
    int64_t width = vectors * lanes;
    Value zero = arith::ConstantOp::create(
        rewriter, loc, rewriter.getZeroAttr(vectorType.getElementType()));
    bool squares = llvm::isPowerOf2_64(lanes) && lanes > 1;
    loop(index(0), index(packedTiles()), 1, parallel, [&](Value t) {
      Value j0 = arith::MulIOp::create(rewriter, loc, t, index(width));
      Value left = arith::SubIOp::create(rewriter, loc, index(*staticColumns),
                                         j0);
      Value real = arith::MinUIOp::create(rewriter, loc, left, index(width));
      // Elements [jLo, jHi) x [kLo, kHi) of the tile, one at a time.
      auto elements = [&](Value jLo, Value jHi, Value kLo, Value kHi) {
        loop(jLo, jHi, 1, false, [&](Value jj) {
          loop(kLo, kHi, 1, false, [&](Value kk) {
            SmallVector<Value> p(ivs);
            p[c.j] = arith::AddIOp::create(rewriter, loc, j0, jj);
            p[*blocked] =
                arith::AddIOp::create(rewriter, loc, reductionBegin, kk);
            Value v = memref::LoadOp::create(rewriter, loc, c.b->get(),
                                             indices(rewriter, c.b, p));
            memref::StoreOp::create(rewriter, loc, v, packed,
                                    ValueRange{t, kk, jj});
          });
        });
      };
      if (!squares) {
        elements(index(0), real, index(0), count);
      } else {
        Value jFull = floorTo(real, lanes), kFull = floorTo(count, lanes);
        loop(index(0), jFull, lanes, false, [&](Value jj) {
          loop(index(0), kFull, lanes, false, [&](Value kk) {
            SmallVector<Value> square;
            SmallVector<Value> p(ivs);
            p[*blocked] = arith::AddIOp::create(rewriter, loc, reductionBegin,
                                                kk);
            Value row = arith::AddIOp::create(rewriter, loc, j0, jj);
            for (int64_t r = 0; r < lanes; ++r) {
              p[c.j] = add(row, r);
              square.push_back(load(rewriter, c.b, p, Value()));
            }
            transposeSquare(rewriter, loc, square);
            for (int64_t r = 0; r < lanes; ++r)
              vector::StoreOp::create(rewriter, loc, square[r], packed,
                                      ValueRange{t, add(kk, r), jj});
          });
        });
        elements(index(0), jFull, kFull, count); // the last columns of k
        elements(jFull, real, index(0), count);  // the last rows of b
      }
      loop(real, index(width), 1, false, [&](Value jj) {
        loop(index(0), count, 1, false, [&](Value kk) {
          memref::StoreOp::create(rewriter, loc, zero, packed,
                                  ValueRange{t, kk, jj});
        });
      });
    });
  }

  void emitRowBlocks(SmallVector<Value> &ivs) {
    if (c.kind == Contraction::Kind::Dot)
      return emitDot(ivs);
    emitOuterProductRows(ivs);
  }

  void emitOuterProductRows(SmallVector<Value> &ivs) {
    forRowBlocks(ivs, [&](Value begin, Value end, int64_t tileRows) {
      emitColumns(ivs, begin, end, tileRows);
    });
  }

  /// Tiles of `tileRows` rows from `begin` to `end` (a multiple of
  /// `tileRows` apart) across every column.
  void emitColumns(SmallVector<Value> &ivs, Value begin, Value end,
                   int64_t tileRows) {
    int64_t width = vectors * lanes;
    Value columns = sizes[c.j];
    Value full = staticColumns ? index(*staticColumns / width * width)
                               : floorTo(columns, width);
    auto overRows = [&](Value j0, int64_t count, Value mask) {
      if (!c.i)
        return emitTile(ivs, Value(), 1, j0, count, mask);
      loop(begin, end, tileRows, false, [&](Value i0) {
        emitTile(ivs, rowStart(i0, tileRows), tileRows, j0, count, mask);
      });
    };
    if (!staticColumns || *staticColumns >= width)
      loop(index(0), full, width, false,
           [&](Value j0) { overRows(j0, vectors, Value()); });
    if (staticColumns) {
      int64_t rest = *staticColumns % width;
      if (rest == 0)
        return;
      Value mask;
      if (rest % lanes != 0)
        mask = vector::CreateMaskOp::create(rewriter, loc, maskType,
                                            ValueRange{index(rest % lanes)});
      overRows(full, llvm::divideCeil(rest, lanes), mask);
      return;
    }
    loop(full, columns, lanes, false, [&](Value j0) {
      Value left = arith::SubIOp::create(rewriter, loc, columns, j0);
      Value count = arith::MinUIOp::create(rewriter, loc, left, index(lanes));
      Value mask = vector::CreateMaskOp::create(rewriter, loc, maskType,
                                                ValueRange{count});
      overRows(j0, 1, mask);
    });
  }

  /// The row of the packed block for the reduction index in `p`.
  Value packedRow(OpBuilder &b, ArrayRef<Value> p) {
    return arith::SubIOp::create(b, loc, p[*blocked], reductionBegin);
  }

  /// A zero vector, created once at the start of the op's block.
  Value zeroVector() {
    if (!zero) {
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(op->getBlock());
      zero = arith::ConstantOp::create(rewriter, loc, vectorType,
                                       rewriter.getZeroAttr(vectorType));
    }
    return zero;
  }

  SmallVector<Value> indices(OpBuilder &b, OpOperand *operand,
                             ArrayRef<Value> ivs) {
    SmallVector<Value> result;
    for (AffineExpr e : op.getMatchingIndexingMap(operand).getResults())
      result.push_back(affine::expandAffineExpr(b, loc, e, ivs, {}));
    return result;
  }

  Value load(OpBuilder &b, OpOperand *operand, ArrayRef<Value> ivs,
             Value mask) {
    return loadAt(b, operand->get(), indices(b, operand, ivs), mask);
  }
  Value loadAt(OpBuilder &b, Value memref, ValueRange idx, Value mask) {
    if (!mask)
      return vector::LoadOp::create(b, loc, vectorType, memref, idx);
    return vector::MaskedLoadOp::create(b, loc, vectorType, memref, idx, mask,
                                        zeroVector());
  }

  /// Whether the current block of a blocked reduction is its first.
  Value isFirstBlock() {
    return rewriter.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                                reductionBegin, index(0));
  }

  /// One tile: `tileRows x count` accumulators at rows i0.. and columns
  /// j0..; `mask` (if any) applies to the last vector of each row.
  void emitTile(ArrayRef<Value> outerIvs, Value i0, int64_t tileRows, Value j0,
                int64_t count, Value mask) {
    SmallVector<Value> ivs(outerIvs);
    auto at = [&](int64_t r, int64_t v) {
      SmallVector<Value> p(ivs);
      if (c.i)
        p[*c.i] = add(i0, r);
      p[c.j] = add(j0, v * lanes);
      return p;
    };
    auto maskOf = [&](int64_t v) { return v == count - 1 ? mask : Value(); };

    // The accumulators start from the output, or from zero when it holds
    // zeros (before a blocked reduction's first block only).
    SmallVector<SmallVector<Value>> outIndices;
    for (int64_t r = 0; r < tileRows; ++r)
      for (int64_t v = 0; v < count; ++v)
        outIndices.push_back(indices(rewriter, c.out, at(r, v)));
    auto loadAccumulators = [&](OpBuilder &b) {
      scf::ValueVector acc;
      for (auto [n, idx] : llvm::enumerate(outIndices))
        acc.push_back(loadAt(b, c.out->get(), idx, maskOf(n % count)));
      return acc;
    };
    scf::ValueVector acc;
    if (!zeroInit) {
      acc = loadAccumulators(rewriter);
    } else if (!blocked) {
      acc.assign(outIndices.size(), zeroVector());
    } else {
      auto first = scf::IfOp::create(
          rewriter, loc, isFirstBlock(),
          [&](OpBuilder &b, Location) {
            scf::YieldOp::create(
                b, loc, SmallVector<Value>(outIndices.size(), zeroVector()));
          },
          [&](OpBuilder &b, Location) {
            scf::YieldOp::create(b, loc, loadAccumulators(b));
          });
      acc = scf::ValueVector(first.getResults());
    }

    SmallVector<unsigned> reductions;
    SmallVector<Value> lbs, ubs, steps;
    for (auto [d, type] : llvm::enumerate(op.getIteratorTypesArray()))
      if (type == utils::IteratorType::reduction) {
        reductions.push_back(d);
        bool isBlocked = blocked && d == *blocked;
        lbs.push_back(isBlocked ? reductionBegin : index(0));
        ubs.push_back(isBlocked ? reductionEnd : sizes[d]);
        steps.push_back(index(1));
      }
    // The column tile's panel in the packed block of `b`.
    bool fromPacked =
        packed && (c.transposedB || (!mask && count == vectors));
    Value packedTile;
    if (fromPacked)
      packedTile = arith::DivUIOp::create(rewriter, loc, j0,
                                          index(vectors * lanes));
    // Row and column indices are computed once, outside the reduction.
    SmallVector<Value> rowIndex, columnIndex;
    for (int64_t r = 0; r < tileRows; ++r)
      rowIndex.push_back(c.i ? add(i0, r) : Value());
    for (int64_t v = 0; v < count; ++v)
      columnIndex.push_back(add(j0, v * lanes));

    // The innermost reduction loop, when it is a short static one (a
    // convolution's 3-wide kernel column), is unrolled: as a loop it would
    // cost as much in control as in FMAs.
    std::optional<unsigned> unrolled;
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (!reductions.empty() && reductions.back() != blocked &&
        !ShapedType::isDynamic(ranges[reductions.back()]) &&
        ranges[reductions.back()] <= kMaxUnrolled) {
      unrolled = reductions.pop_back_val();
      lbs.pop_back();
      ubs.pop_back();
      steps.pop_back();
    }
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, lbs, ubs, steps, acc,
        [&](OpBuilder &b, Location, ValueRange reductionIvs,
            ValueRange partial) -> scf::ValueVector {
          SmallVector<Value> p(ivs);
          for (auto [d, iv] : llvm::zip(reductions, reductionIvs))
            p[d] = iv;
          scf::ValueVector next(partial);
          auto step = [&] {
            SmallVector<Value> bVectors;
            for (int64_t v = 0; v < count; ++v) {
              p[c.j] = columnIndex[v];
              bVectors.push_back(
                  fromPacked
                      ? vector::LoadOp::create(
                            b, loc, vectorType, packed,
                            ValueRange{packedTile, packedRow(b, p),
                                       index(v * lanes)})
                            .getResult()
                      : load(b, c.b, p, maskOf(v)));
            }
            for (int64_t r = 0; r < tileRows; ++r) {
              if (c.i)
                p[*c.i] = rowIndex[r];
              Value scalar = memref::LoadOp::create(b, loc, c.a->get(),
                                                    indices(b, c.a, p));
              Value splat =
                  vector::BroadcastOp::create(b, loc, vectorType, scalar);
              for (int64_t v = 0; v < count; ++v)
                next[r * count + v] = vector::FMAOp::create(
                    b, loc, splat, bVectors[v], next[r * count + v]);
            }
          };
          if (!unrolled) {
            step();
            return next;
          }
          for (int64_t u = 0; u < ranges[*unrolled]; ++u) {
            p[*unrolled] = arith::ConstantIndexOp::create(b, loc, u);
            step();
          }
          return next;
        });

    auto storeOutput = [&](OpBuilder &b) {
      for (int64_t r = 0; r < tileRows; ++r)
        for (int64_t v = 0; v < count; ++v) {
          Value value = nest.results[r * count + v];
          ArrayRef<Value> idx = outIndices[r * count + v];
          if (Value m = maskOf(v))
            vector::MaskedStoreOp::create(b, loc, c.out->get(), idx, m, value);
          else
            vector::StoreOp::create(b, loc, value, c.out->get(), idx);
        }
    };
    auto finish = [&](OpBuilder &b) {
      for (int64_t r = 0; r < tileRows; ++r)
        for (int64_t v = 0; v < count; ++v)
          mlir::dlc::emitEpilogue(b, loc, *epilogue,
                                  nest.results[r * count + v],
                                  outIndices[r * count + v], maskOf(v));
      if (epilogue->storeOutput)
        storeOutput(b);
    };
    if (!epilogue)
      return storeOutput(rewriter);
    if (!blocked)
      return finish(rewriter);
    // Blocked: the sums are final after the last block only.
    Value isLast = rewriter.createOrFold<arith::CmpIOp>(
        loc, arith::CmpIPredicate::eq, reductionEnd, sizes[*blocked]);
    auto last = scf::IfOp::create(rewriter, loc, isLast, /*withElse=*/true);
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(last.thenBlock()->getTerminator());
    finish(rewriter);
    rewriter.setInsertionPoint(last.elseBlock()->getTerminator());
    storeOutput(rewriter);
  }

  RewriterBase &rewriter;
  linalg::LinalgOp op;
  const Contraction &c;
  int64_t lanes;
  bool parallel;
  bool zeroInit;
  /// Whether the op is small (see `small-work`).
  bool small;
  /// The elementwise consumer of the output, computed on the tiles (after
  /// a blocked reduction's last block).
  const mlir::dlc::Epilogue *epilogue;
  Location loc;
  SmallVector<Value> sizes;
  llvm::SmallDenseMap<int64_t, Value> constants;
  VectorType vectorType, maskType;
  Value zero;
  int64_t vectors = 1, rows = 1, cols = 1;
  /// The blocked reduction loop (a matmul's) and the current block.
  std::optional<unsigned> blocked;
  /// While emitting overlapping row tiles: the first row of the last one.
  Value lastTile;
  /// Whether the blocks are the outermost loop (a batch reduction among
  /// others), not inside the outer parallel loops (a matmul's).
  bool blockFirst = false;
  Value reductionBegin, reductionEnd;
  /// The current block of `b`, packed by column tiles (isPackable).
  Value packed;
  /// Steps of a matmul's blocked reduction (from the L2 size).
  int64_t reductionBlock = 512;
  /// Operand bytes per block of a reduction over images (a quarter of L2).
  int64_t imageBlockBytes;
  /// The longest innermost reduction loop unrolled into the kernel.
  static constexpr int64_t kMaxUnrolled = 4;
  std::optional<int64_t> staticColumns;
};

/// The fill of zeros that `out`, an allocated buffer, gets before `op` with
/// nothing in between that uses the buffer (or a view of it).
linalg::FillOp zeroFillBefore(Operation *op, Value out) {
  Value root = rootOf(out);
  if (!root.getDefiningOp<memref::AllocOp>())
    return nullptr;
  auto usesRoot = [&](Operation *other) {
    return other
        ->walk([&](Operation *nested) {
          return llvm::any_of(nested->getOperands(),
                              [&](Value v) {
                                return isa<BaseMemRefType>(v.getType()) &&
                                       rootOf(v) == root;
                              })
                     ? WalkResult::interrupt()
                     : WalkResult::advance();
        })
        .wasInterrupted();
  };
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    auto fill = dyn_cast<linalg::FillOp>(prev);
    if (fill && fill.getOutputs()[0] == out)
      return matchPattern(fill.value(), m_AnyZeroFloat()) ? fill : nullptr;
    if (usesRoot(prev))
      return nullptr;
  }
  return nullptr;
}

/// Erases a buffer (and its views) that nothing reads or writes any more:
/// the output of a contraction whose epilogue wrote elsewhere.
void eraseIfUnused(RewriterBase &rewriter, Value buffer) {
  for (Operation *user : llvm::make_early_inc_range(buffer.getUsers()))
    if (isa<ViewLikeOpInterface>(user) && user->use_empty())
      rewriter.eraseOp(user);
  if (buffer.use_empty())
    if (Operation *alloc = buffer.getDefiningOp<memref::AllocOp>())
      rewriter.eraseOp(alloc);
}

struct RegisterTilePass
    : mlir::dlc::impl::RegisterTilePassBase<RegisterTilePass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<std::pair<linalg::LinalgOp, Contraction>> candidates;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (std::optional<Contraction> c = matchContraction(op, lanes))
        candidates.push_back({op, *c});
    });
    IRRewriter rewriter(&getContext());
    for (auto &[op, c] : candidates) {
      int64_t work = staticPoints(op.getStaticLoopRanges());
      // Small ops (a few thousand points besides the batch) are bound by
      // loop overhead, not FMAs: a third of the registers does as well and
      // compiles faster (the GAN's step: 1.56 -> 1.19 s, same speed).
      int64_t budget = work < smallWork ? std::min<int64_t>(accumulators, 8)
                                         : accumulators;
      // `lanes` counts f32 elements: a vector register holds half as many
      // f64 (the f64 models of gradcheck).
      int64_t bits = cast<MemRefType>(c.out->get().getType())
                         .getElementTypeBitWidth();
      int64_t elementLanes = std::max<int64_t>(1, lanes * 32 / bits);
      // A fill of zeros right before the op is the accumulators' start.
      linalg::FillOp fill = zeroFillBefore(op, c.out->get());
      // The elementwise ops consuming the output, computed on the tiles of
      // matmuls. Not on convolutions: their kernels got slower with the
      // epilogue's code after them (the 3 x 32 x 32 CNN's step 43 -> 46 ms,
      // LLVM moving accumulators between registers) and compile slower
      // (0.06 s), for a pass over an output that is small next to the work.
      // Only on outputs of at least 64K static elements (a 256 KB pass
      // over memory saved): on smaller ones the separate loop runs from
      // cache as fast, and the epilogue's code in every tile kernel cost
      // compile time (the GAN's Adam updates: 0.85 -> 1.0 s).
      auto outType = cast<MemRefType>(c.out->get().getType());
      std::optional<mlir::dlc::Epilogue> epilogue;
      if (fuseEpilogues && c.kind == Contraction::Kind::OuterProduct &&
          outType.getRank() == 2 &&
          staticPoints(outType.getShape()) >= minEpilogue)
        epilogue = mlir::dlc::matchEpilogue(op, c.out->get());
      if (epilogue)
        for (Operation *prelude : epilogue->prelude)
          rewriter.moveOpBefore(prelude, op);
      rewriter.setInsertionPoint(op);
      KernelEmitter(rewriter, op, c, elementLanes, budget,
                    parallel && work >= minWork, /*zeroInit=*/bool(fill),
                    epilogue ? &*epilogue : nullptr,
                    /*small=*/work < smallWork, l2Bytes)
          .emit();
      Value out = c.out->get();
      rewriter.eraseOp(op);
      if (fill)
        rewriter.eraseOp(fill);
      if (epilogue) {
        for (const mlir::dlc::Epilogue::Stage &stage : epilogue->stages)
          rewriter.eraseOp(stage.op);
        eraseIfUnused(rewriter, out);
      }
    }
  }
};

} // namespace
