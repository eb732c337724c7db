// The kernel emitter of dlc-register-tile: for one contraction, the loops,
// cache blocks, packed panels and register tiles (KernelEmitter.cpp), dot
// tiles (DotTile.cpp) and epilogues (Epilogue.h).
#ifndef DLC_LIB_CONVERSION_LINALGTOVECTOR_KERNELEMITTER_H
#define DLC_LIB_CONVERSION_LINALGTOVECTOR_KERNELEMITTER_H

#include "Contraction.h"
#include "Epilogue.h"

#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace mlir::dlc {

/// Emits the loops and kernels of one contraction.
class KernelEmitter {
public:
  /// With `zeroInit`, the output holds zeros before the op (a fill the
  /// caller erases): accumulators start at zero instead of loading them.
  KernelEmitter(RewriterBase &rewriter, linalg::LinalgOp op,
                const Contraction &c, int64_t lanes, int64_t accumulators,
                bool parallel, bool zeroInit,
                const mlir::dlc::Epilogue *epilogue, bool small,
                int64_t l2Bytes);

  void emit();

private:
  /// Index constants, created once at the start of the op's block.
  Value index(int64_t value);
  Value add(Value x, int64_t offset);
  /// `n` rounded down to a multiple of `step`.
  Value floorTo(Value n, int64_t step);

  /// Builds `for iv in [lb, ub) step step` (an scf.parallel when asked) and
  /// calls `body` inside it.
  void loop(Value lb, Value ub, int64_t step, bool isParallel,
            function_ref<void(Value)> body);
  void loop(Value lb, Value ub, Value step, bool isParallel,
            function_ref<void(Value)> body);

  /// Rows per block of row tiles: 8 tiles, so that a block's rows of `a`
  /// stay in cache while it sweeps the columns; when the blocks are shared
  /// out to threads, fewer (down to one tile) so that there are about 16 of
  /// them and the threads' shares are even (a 256-row matmul on 2 threads:
  /// 1.53 -> 1.74-1.82x).
  Value rowsPerBlock(Value full, bool isParallel);

  void emitOuter(ArrayRef<unsigned> outer, SmallVector<Value> &ivs);

  /// Calls `body(start, count)` for tiles of `tile` iterations of
  /// [0, total), then for the rest: one tile of the static remainder, or
  /// single iterations when `total` is not known.
  void forTiles(Value total, int64_t tile, bool isParallel,
                function_ref<void(Value, int64_t)> body);

  /// Rows in blocks (a thread's share of the work when parallel); inside a
  /// block, columns outer, so that a column tile's vectors of `b` stay in
  /// cache while every row tile of the block reads them.
  void emitDot(SmallVector<Value> &ivs);

  /// Calls `body(begin, end, tileRows)` for the blocks of full row tiles
  /// (an scf.parallel over the blocks when the op is parallel and has no
  /// outer loop), then for the last rows: one tile of them when their
  /// number is known, else one row at a time. Without rows, once.
  void forRowBlocks(ArrayRef<Value> ivs,
                    function_ref<void(Value, Value, int64_t)> body);

  /// Whether the last partial tile of a dynamic number of rows may be a
  /// full tile that overlaps the one before: the rows computed twice must
  /// come out the same, so the accumulators start at zero (not from the
  /// output), in one block, and no epilogue updates a buffer in place.
  /// Small ops in functions of many kernels keep the one-row kernel:
  /// overlapping tiles in the GAN's 36 small matmuls cost 0.1 s of compile
  /// time for no measurable gain.
  bool overlapsRows();

  /// A tile's first row: `i0`, or for the last full tile of overlapping
  /// rows, no later than the last `rows` rows.
  Value rowStart(Value i0, int64_t tileRows);

  /// A dot tile: `tileRows x tileCols` vectors of partial sums along the
  /// reduction loop j, each added across its lanes into one output element.
  void emitDotTile(ArrayRef<Value> outerIvs, Value i0, int64_t tileRows,
                   Value c0, int64_t tileCols);

  /// Images per block of a reduction over the batch: as many as fit in
  /// a quarter of L2 in operands (one 3 x 32 x 32 CNN gradient image is
  /// 400 KB; 17 of the 1 x 8 x 8 CNN's fit), so that small images do not
  /// pay a parallel loop's start each (its 2-thread step: 1.50 -> 0.87 ms).
  int64_t imagesPerBlock();

  /// Calls `body` for each block of `size` iterations of the blocked
  /// reduction, with reductionBegin and reductionEnd set. Over an empty
  /// reduction, once (for an empty block) when the output's zero fill was
  /// dropped: the tiles still store their zeros.
  void forBlocks(int64_t size, function_ref<void()> body);

  void emitRows(SmallVector<Value> &ivs);

  /// Whether the current block of `b` is copied into a packed buffer
  /// first: a matmul's right operand `b[k, j]` with rows of at least 256
  /// elements. A column tile's panel of `b` then lies contiguous, one page
  /// per 16 steps of k instead of one per step, for every row tile that
  /// reads it.
  bool isPackable();

  /// Column tiles in the packed buffer: the full ones; a transposed `b`
  /// also its last, partial one, padded with zeros (its columns cannot be
  /// read from `b` with masked vector loads).
  int64_t packedTiles();

  /// packed[t, k - begin, :] = b[k, t * width .. (t + 1) * width) for the
  /// column tiles t of the current block of the reduction.
  void emitPack(ArrayRef<Value> ivs);

  /// packed[t, kk, jj] = b[t * width + jj, begin + kk], zero past the last
  /// column. Squares of `lanes x lanes` are read as vectors along rows of
  /// `b`, transposed in registers and stored as vectors along rows of the
  /// panel; the edges of the block, one element at a time.
  void emitTransposingPack(ArrayRef<Value> ivs, Value count);

  void emitRowBlocks(SmallVector<Value> &ivs);

  void emitOuterProductRows(SmallVector<Value> &ivs);

  /// Tiles of `tileRows` rows from `begin` to `end` (a multiple of
  /// `tileRows` apart) across every column.
  void emitColumns(SmallVector<Value> &ivs, Value begin, Value end,
                   int64_t tileRows);

  /// The row of the packed block for the reduction index in `p`.
  Value packedRow(OpBuilder &b, ArrayRef<Value> p);

  /// A zero vector, created once at the start of the op's block.
  Value zeroVector();

  SmallVector<Value> indices(OpBuilder &b, OpOperand *operand,
                             ArrayRef<Value> ivs);

  Value load(OpBuilder &b, OpOperand *operand, ArrayRef<Value> ivs, Value mask);
  Value loadAt(OpBuilder &b, Value memref, ValueRange idx, Value mask);

  /// Whether the current block of a blocked reduction is its first.
  Value isFirstBlock();

  /// The op's reduction loops other than `skip` (a dot tile's vector
  /// loop), with their bounds (the current block for the blocked one).
  struct ReductionLoops {
    SmallVector<unsigned> dims;
    SmallVector<Value> lbs, ubs, steps;
  };
  ReductionLoops reductionLoops(std::optional<unsigned> skip);

  /// One tile: `tileRows x count` accumulators at rows i0.. and columns
  /// j0..; `mask` (if any) applies to the last vector of each row.
  void emitTile(ArrayRef<Value> outerIvs, Value i0, int64_t tileRows, Value j0,
                int64_t count, Value mask);

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

} // namespace mlir::dlc

#endif // DLC_LIB_CONVERSION_LINALGTOVECTOR_KERNELEMITTER_H
