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
#include "KernelEmitter.h"
#include "LoopUtils.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include <optional>

namespace mlir::dlc {
#define GEN_PASS_DEF_REGISTERTILEPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using mlir::dlc::Contraction;
using mlir::dlc::KernelEmitter;
using mlir::dlc::matchContraction;
using mlir::dlc::rootOf;
using mlir::dlc::staticPoints;

namespace {

/// The fill of zeros that `out`, an allocated buffer, gets before `op` with
/// nothing in between that uses the buffer (or a view of it).
linalg::FillOp zeroFillBefore(Operation *op, Value out) {
  Value root = rootOf(out);
  if (!root.getDefiningOp<memref::AllocOp>())
    return nullptr;
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    auto fill = dyn_cast<linalg::FillOp>(prev);
    if (fill && fill.getOutputs()[0] == out)
      return matchPattern(fill.value(), m_AnyZeroFloat()) ? fill : nullptr;
    if (mlir::dlc::touches(prev, root))
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

/// The accumulators of a kernel with a row epilogue (one vector a row).
constexpr int64_t kRowEpilogueAccumulators = 8;

struct RegisterTilePass
    : mlir::dlc::impl::RegisterTilePassBase<RegisterTilePass> {
  using Base::Base;

  void runOnOperation() override {
    SmallVector<std::pair<linalg::LinalgOp, Contraction>> candidates;
    // Row ops left for row epilogues are not kernels of their own (a row
    // sum over 16 classes would match as a one-input sum): an epilogue
    // takes them, or the loop over rows below.
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op->hasAttr(mlir::dlc::kRowOpAttr))
        return;
      if (std::optional<Contraction> c = matchContraction(op, lanes))
        candidates.push_back({op, *c});
    });
    IRRewriter rewriter(&getContext());
    // A function of few kernels affords full tiles for all of them (the
    // small MLP's 5: 16.6 -> 15.3 us a step, compile 0.26 -> 0.33 s).
    bool manyKernels =
        static_cast<int64_t>(candidates.size()) > fullTileKernels;
    for (auto &[op, c] : candidates) {
      int64_t work = staticPoints(op.getStaticLoopRanges());
      // In functions of many kernels, small ops (a few thousand points
      // besides the batch) keep half the registers, the smallest (bound
      // by loop overhead more than by FMAs) a third: faster to compile
      // (the GAN's 36 kernels: 1.56 -> 1.19 s with 8 for all), the rest
      // free for epilogues. 12 rather than 8 for the GAN's 128 x 64 x 64
      // matmuls: its step 57.1-57.9 -> 53.8-55.0 us, compile +0.04 s (16
      // or 24: the same step, 24 compiling 0.1 s slower).
      bool small = manyKernels && work < smallWork;
      int64_t budget =
          small ? std::min<int64_t>(accumulators, work < tinyWork ? 8 : 12)
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
      // On outputs of at least 64K static elements (a 256 KB pass over
      // memory saved), and on the small kernels' (8 or 12 accumulators,
      // the rest of the registers free for the epilogue: the GAN's 128 x
      // 64 activations, 65.8-66.6 -> 63.1-64.8 us a step). Full tiles of
      // smaller outputs are faster without: the small MLP's 64 x 128 bias
      // and ReLU as LLVM's loops 13.35-13.54 us, as epilogues 13.56-13.73.
      auto outType = cast<MemRefType>(c.out->get().getType());
      std::optional<mlir::dlc::Epilogue> epilogue;
      // Rows of at most one vector (a classifier's logits) take the row
      // ops that follow, reductions along the row included (the softmax,
      // cross-entropy and gradient of the loss), on any output.
      bool rowsFit = outType.getRank() == 2 &&
                     !ShapedType::isDynamic(outType.getDimSize(1)) &&
                     outType.getDimSize(1) <= elementLanes && c.i &&
                     op.getMatchingIndexingMap(c.out).getResults() ==
                         ArrayRef<AffineExpr>{rewriter.getAffineDimExpr(*c.i),
                                              rewriter.getAffineDimExpr(c.j)};
      if (fuseEpilogues && c.kind == Contraction::Kind::OuterProduct) {
        if (rowsFit)
          epilogue = mlir::dlc::matchRowEpilogue(op, c.out->get(), lanes);
        else if (outType.getRank() == 2 &&
                 (small || staticPoints(outType.getShape()) >= minEpilogue))
          epilogue = mlir::dlc::matchEpilogue(op, c.out->get());
      }
      // A row epilogue's code is repeated for each row of the tile: tiles
      // of 8 rows (8 accumulators, enough to keep the FMA units busy).
      // Softmax regression over 10 classes, 64 x 64 inputs: 1.66-1.70 us a
      // step with 8, 1.74-1.75 with 16 (and 0.04 s more to compile), 2.06
      // with 24.
      if (epilogue && epilogue->rows)
        budget = std::min<int64_t>(budget, kRowEpilogueAccumulators);
      if (epilogue)
        for (Operation *prelude : epilogue->prelude)
          rewriter.moveOpBefore(prelude, op);
      rewriter.setInsertionPoint(op);
      KernelEmitter(rewriter, op, c, elementLanes, budget,
                    parallel && work >= minWork, /*zeroInit=*/bool(fill),
                    epilogue ? &*epilogue : nullptr,
                    small, l2Bytes)
          .emit();
      Value out = c.out->get();
      rewriter.eraseOp(op);
      if (fill)
        rewriter.eraseOp(fill);
      if (epilogue) {
        // A row epilogue's temporaries may be left without a use.
        llvm::SetVector<Value> buffers;
        buffers.insert(out);
        for (mlir::dlc::Epilogue::Stage stage : epilogue->stages) {
          for (Value init : stage.op.getDpsInits())
            buffers.insert(rootOf(init));
          rewriter.eraseOp(stage.op);
        }
        for (Operation *fill : epilogue->absorbed)
          rewriter.eraseOp(fill);
        for (Value buffer : buffers)
          eraseIfUnused(rewriter, buffer);
      }
    }
    // Row ops that dlc-vectorize-linalg left for a row epilogue and no
    // kernel took: a loop over their rows, each row one vector.
    SmallVector<linalg::GenericOp> rowOps;
    getOperation().walk([&](linalg::GenericOp op) {
      if (op->hasAttr(mlir::dlc::kRowOpAttr))
        rowOps.push_back(op);
    });
    // Those whose operands the loop cannot load as vectors (a strided
    // view of a scan's buffer) are tiled by rows and vectorized by linalg
    // as dlc-vectorize-linalg would have.
    for (linalg::GenericOp op : rowOps) {
      op->removeAttr(mlir::dlc::kRowOpAttr);
      if (failed(mlir::dlc::emitRowLoop(rewriter, op, lanes)))
        (void)mlir::dlc::vectorizeByRows(rewriter, op); // else a loop nest
    }
  }
};

} // namespace
