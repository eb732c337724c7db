// KernelEmitter (KernelEmitter.h): loops, cache blocks, packed panels and
// the outer-product register tiles of one contraction.
#include "KernelEmitter.h"
#include "LoopUtils.h"

#include "mlir/Dialect/Affine/Utils.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace mlir::dlc {

KernelEmitter::KernelEmitter(RewriterBase &rewriter, linalg::LinalgOp op,
                             const Contraction &c, int64_t lanes,
                             int64_t accumulators, bool parallel, bool zeroInit,
                             const mlir::dlc::Epilogue *epilogue, bool small,
                             int64_t l2Bytes)
    : rewriter(rewriter), op(op), c(c), lanes(lanes), parallel(parallel),
      zeroInit(zeroInit), small(small), epilogue(epilogue), loc(op.getLoc()),
      imageBlockBytes(l2Bytes / 4) {
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  for (Range range : op.createLoopRanges(rewriter, loc))
    sizes.push_back(getValueOrCreateConstantIndexOp(rewriter, loc, range.size));
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
    if (!ShapedType::isDynamic(ranges[*c.i])) {
      rows = std::min(rows, ranges[*c.i]);
    } else if (vectors == 4 && rows == 6 && !ShapedType::isDynamic(columns) &&
               columns <= 8 * lanes) {
      // Batch rows of an output at most 8 vectors wide: tiles of 8 rows
      // by 3 vectors (3 + 3 + 2 across 128 columns), not 6 by 4: batches
      // are mostly powers of two, and the 6-row tiles' last one, moved
      // back to the batch's end, recomputes up to 5 rows (4 of 32). The
      // Elman RNN (32 x 128 kernels) 531-536 -> 496-502 us a step, the
      // 64-128-10 MLP 13.04-13.24 -> 12.89-13.00 us. Wider outputs keep
      // 6 x 4 (the 784-1024-1024 MLP's batch of 256 wastes 0.8% with
      // them, and its 1024 columns split into 3s ran slower).
      vectors = 3;
      rows = 8;
    }
  }
  staticColumns = ShapedType::isDynamic(columns)
                      ? std::nullopt
                      : std::optional<int64_t>(columns);
}

void KernelEmitter::emit() {
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

Value KernelEmitter::index(int64_t value) {
  Value &constant = constants[value];
  if (!constant) {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(op->getBlock());
    constant = arith::ConstantIndexOp::create(rewriter, loc, value);
  }
  return constant;
}

Value KernelEmitter::add(Value x, int64_t offset) {
  return offset == 0
             ? x
             : rewriter.createOrFold<arith::AddIOp>(loc, x, index(offset));
}

Value KernelEmitter::floorTo(Value n, int64_t step) {
  if (step == 1)
    return n;
  Value rem = rewriter.createOrFold<arith::RemUIOp>(loc, n, index(step));
  return rewriter.createOrFold<arith::SubIOp>(loc, n, rem);
}

void KernelEmitter::loop(Value lb, Value ub, int64_t step, bool isParallel,
                         function_ref<void(Value)> body) {
  loop(lb, ub, index(step), isParallel, body);
}

void KernelEmitter::loop(Value lb, Value ub, Value step, bool isParallel,
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

Value KernelEmitter::rowsPerBlock(Value full, bool isParallel) {
  if (!isParallel)
    return index(rows * 8);
  Value perBlock =
      rewriter.createOrFold<arith::CeilDivUIOp>(loc, full, index(rows * 16));
  Value block =
      rewriter.createOrFold<arith::MulIOp>(loc, perBlock, index(rows));
  block = rewriter.createOrFold<arith::MaxUIOp>(loc, block, index(rows));
  return rewriter.createOrFold<arith::MinUIOp>(loc, block, index(rows * 8));
}

void KernelEmitter::emitOuter(ArrayRef<unsigned> outer,
                              SmallVector<Value> &ivs) {
  if (outer.empty())
    return emitRows(ivs);
  bool first = llvm::all_of(ivs, [](Value v) { return !v; });
  loop(index(0), sizes[outer.front()], 1, parallel && first, [&](Value iv) {
    ivs[outer.front()] = iv;
    emitOuter(outer.drop_front(), ivs);
  });
}

void KernelEmitter::forTiles(Value total, int64_t tile, bool isParallel,
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

void KernelEmitter::forRowBlocks(
    ArrayRef<Value> ivs, function_ref<void(Value, Value, int64_t)> body) {
  if (!c.i)
    return body(Value(), Value(), 1);
  Value total = sizes[*c.i];
  std::optional<int64_t> known = getConstantIntValue(total);
  bool isParallel = parallel && llvm::all_of(ivs, [](Value v) { return !v; });
  // Blocks of full tiles over [0, full), in parallel when asked.
  auto fullTiles = [&](Value full) {
    Value block = rowsPerBlock(full, isParallel);
    loop(index(0), full, block, isParallel, [&](Value start) {
      Value next = arith::AddIOp::create(rewriter, loc, start, block);
      Value end = arith::MinUIOp::create(rewriter, loc, next, full);
      body(start, end, rows);
    });
  };
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
    fullTiles(
        arith::SelectOp::create(rewriter, loc, enough, rounded, index(0)));
    Value singles =
        arith::SelectOp::create(rewriter, loc, enough, total, index(0));
    body(singles, total, 1);
    lastTile = Value();
    return;
  }
  Value full = floorTo(total, rows);
  fullTiles(full);
  if (known && *known % rows != 0)
    body(full, total, *known % rows);
  else if (!known && rows > 1)
    body(full, total, 1);
}

bool KernelEmitter::overlapsRows() {
  if (!zeroInit || blocked || small)
    return false;
  if (!epilogue)
    return true;
  if (epilogue->rows)
    return epilogue->repeatable;
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

Value KernelEmitter::rowStart(Value i0, int64_t tileRows) {
  if (!lastTile || tileRows == 1)
    return i0;
  return arith::MinUIOp::create(rewriter, loc, i0, lastTile);
}

int64_t KernelEmitter::imagesPerBlock() {
  int64_t bytes = 0;
  for (OpOperand *operand : op.getDpsInputOperands()) {
    auto type = cast<MemRefType>(operand->get().getType());
    bytes += staticPoints(type.getShape()) *
             std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
  }
  return std::max<int64_t>(1, imageBlockBytes / std::max<int64_t>(bytes, 1));
}

void KernelEmitter::forBlocks(int64_t size, function_ref<void()> body) {
  Value total = sizes[*blocked];
  Value end = zeroInit
                  ? rewriter.createOrFold<arith::MaxUIOp>(loc, total, index(1))
                  : total;
  loop(index(0), end, size, false, [&](Value start) {
    reductionBegin = start;
    reductionEnd =
        arith::MinUIOp::create(rewriter, loc, add(start, size), total);
    body();
  });
}

void KernelEmitter::emitRows(SmallVector<Value> &ivs) {
  // A matmul's single long reduction is cut into blocks of reductionBlock
  // steps: each block's panel of `b` stays in cache while every row tile reads
  // it, and the rows of `a` that a block of row tiles reads stay in cache
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

bool KernelEmitter::isPackable() {
  if (c.transposedB)
    return true;
  if (c.kind != Contraction::Kind::OuterProduct || !staticColumns ||
      *staticColumns < 256 || *staticColumns < vectors * lanes)
    return false;
  AffineMap map = op.getMatchingIndexingMap(c.b);
  return map.getNumResults() == 2 &&
         map.getResult(0).isFunctionOfDim(*blocked) &&
         isa<AffineDimExpr>(map.getResult(0)) &&
         map.getResult(1) == getAffineDimExpr(c.j, op.getContext());
}

int64_t KernelEmitter::packedTiles() {
  int64_t width = vectors * lanes;
  return c.transposedB ? llvm::divideCeil(*staticColumns, width)
                       : *staticColumns / width;
}

void KernelEmitter::emitPack(ArrayRef<Value> ivs) {
  int64_t width = vectors * lanes;
  int64_t tiles = packedTiles();
  Value count =
      arith::SubIOp::create(rewriter, loc, reductionEnd, reductionBegin);
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

void KernelEmitter::emitTransposingPack(ArrayRef<Value> ivs, Value count) {
  int64_t width = vectors * lanes;
  Value zero = arith::ConstantOp::create(
      rewriter, loc, rewriter.getZeroAttr(vectorType.getElementType()));
  bool squares = llvm::isPowerOf2_64(lanes) && lanes > 1;
  loop(index(0), index(packedTiles()), 1, parallel, [&](Value t) {
    Value j0 = arith::MulIOp::create(rewriter, loc, t, index(width));
    Value left =
        arith::SubIOp::create(rewriter, loc, index(*staticColumns), j0);
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
          p[*blocked] =
              arith::AddIOp::create(rewriter, loc, reductionBegin, kk);
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

void KernelEmitter::emitRowBlocks(SmallVector<Value> &ivs) {
  if (c.kind == Contraction::Kind::Dot)
    return emitDot(ivs);
  emitOuterProductRows(ivs);
}

void KernelEmitter::emitOuterProductRows(SmallVector<Value> &ivs) {
  forRowBlocks(ivs, [&](Value begin, Value end, int64_t tileRows) {
    emitColumns(ivs, begin, end, tileRows);
  });
}

void KernelEmitter::emitColumns(SmallVector<Value> &ivs, Value begin, Value end,
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

Value KernelEmitter::packedRow(OpBuilder &b, ArrayRef<Value> p) {
  return arith::SubIOp::create(b, loc, p[*blocked], reductionBegin);
}

Value KernelEmitter::zeroVector() {
  if (!zero) {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(op->getBlock());
    zero = arith::ConstantOp::create(rewriter, loc, vectorType,
                                     rewriter.getZeroAttr(vectorType));
  }
  return zero;
}

SmallVector<Value> KernelEmitter::indices(OpBuilder &b, OpOperand *operand,
                                          ArrayRef<Value> ivs) {
  SmallVector<Value> result;
  for (AffineExpr e : op.getMatchingIndexingMap(operand).getResults())
    result.push_back(affine::expandAffineExpr(b, loc, e, ivs, {}));
  return result;
}

Value KernelEmitter::load(OpBuilder &b, OpOperand *operand, ArrayRef<Value> ivs,
                          Value mask) {
  return loadAt(b, operand->get(), indices(b, operand, ivs), mask);
}

Value KernelEmitter::loadAt(OpBuilder &b, Value memref, ValueRange idx,
                            Value mask) {
  if (!mask)
    return vector::LoadOp::create(b, loc, vectorType, memref, idx);
  return vector::MaskedLoadOp::create(b, loc, vectorType, memref, idx, mask,
                                      zeroVector());
}

Value KernelEmitter::isFirstBlock() {
  return rewriter.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                              reductionBegin, index(0));
}

KernelEmitter::ReductionLoops
KernelEmitter::reductionLoops(std::optional<unsigned> skip) {
  ReductionLoops loops;
  for (auto [d, type] : llvm::enumerate(op.getIteratorTypesArray())) {
    if (type != utils::IteratorType::reduction || d == skip)
      continue;
    bool isBlocked = blocked && d == *blocked;
    loops.dims.push_back(d);
    loops.lbs.push_back(isBlocked ? reductionBegin : index(0));
    loops.ubs.push_back(isBlocked ? reductionEnd : sizes[d]);
    loops.steps.push_back(index(1));
  }
  return loops;
}

void KernelEmitter::emitTile(ArrayRef<Value> outerIvs, Value i0,
                             int64_t tileRows, Value j0, int64_t count,
                             Value mask) {
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

  ReductionLoops loops = reductionLoops(std::nullopt);
  // Named, not bound (lambdas below capture them).
  SmallVector<unsigned> &reductions = loops.dims;
  SmallVector<Value> &lbs = loops.lbs, &ubs = loops.ubs, &steps = loops.steps;
  // The column tile's panel in the packed block of `b`.
  bool fromPacked = packed && (c.transposedB || (!mask && count == vectors));
  Value packedTile;
  if (fromPacked)
    packedTile =
        arith::DivUIOp::create(rewriter, loc, j0, index(vectors * lanes));
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
            bVectors.push_back(fromPacked
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
            Value scalar =
                memref::LoadOp::create(b, loc, c.a->get(), indices(b, c.a, p));
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
    if (epilogue->rows) {
      // One vector per row (count == 1): the tile's rows side by side.
      SmallVector<Value> rowIndices;
      for (int64_t r = 0; r < tileRows; ++r)
        rowIndices.push_back(outIndices[r * count].front());
      mlir::dlc::emitRowEpilogue(b, loc, *epilogue, nest.results, rowIndices);
      if (epilogue->storeOutput)
        storeOutput(b);
      return;
    }
    for (int64_t r = 0; r < tileRows; ++r)
      for (int64_t v = 0; v < count; ++v)
        mlir::dlc::emitEpilogue(b, loc, *epilogue, nest.results[r * count + v],
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

} // namespace mlir::dlc
