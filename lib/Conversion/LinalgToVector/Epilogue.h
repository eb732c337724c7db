// Epilogues of dlc-register-tile: the elementwise op that consumes a
// contraction's output (a bias add, an activation's gradient, an optimizer
// update), applied to the kernel's accumulators in registers instead of a
// pass of its own over the output; and row epilogues (RowEpilogue.cpp): the
// row ops of a loss on tiles whose rows fit one vector.
#ifndef DLC_LIB_CONVERSION_LINALGTOVECTOR_EPILOGUE_H
#define DLC_LIB_CONVERSION_LINALGTOVECTOR_EPILOGUE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/PatternMatch.h"

#include <optional>

namespace mlir::dlc {

/// Elementwise `linalg.generic`s (stages) that read the output O of a
/// contraction C (or a collapse_shape of it), or what earlier stages wrote,
/// and can run at C's position, one tile at a time: nothing they move above
/// writes what they read or touches what they write. The first stage reads
/// O; later ones (an Adam update's v and parameter updates after its m)
/// may read only what earlier stages wrote, element for element.
struct Epilogue {
  /// What a row epilogue's operand holds for the row a tile computes: one
  /// element per lane (`x[r, j]`), one value for the row (`max[r]`), one
  /// per lane for every row (a bias `b[j]`), or one in all.
  enum class Access { Element, Row, Column, Scalar };
  struct Stage {
    linalg::GenericOp op;
    /// The stage's input that is O (or its collapsed view), if any.
    std::optional<unsigned> input;
    /// Row epilogues: each operand's access, by operand number, and for a
    /// reduction along the row the value it starts from (the fill of its
    /// output the epilogue replaces), by init.
    SmallVector<Access> access;
    SmallVector<TypedAttr> start;
    /// Row epilogues, by init: whether the result must be stored (a later
    /// stage overwrites it, or nothing but the stages reads the buffer).
    SmallVector<bool> store;
  };
  /// A row epilogue (matchRowEpilogue): a tile's vector holds a whole row
  /// of O, and stages may reduce along it.
  bool rows = false;
  /// Row epilogues: the fills the reductions start from instead, and O
  /// (whose row the accumulator vector is).
  SmallVector<Operation *> absorbed;
  Value output;
  /// Row epilogues: whether computing a row again gives the same results
  /// (no stage reads from memory what a stage writes: what the stages
  /// compute passes between them in registers).
  bool repeatable = true;
  SmallVector<Stage> stages;
  /// How O's dimensions merge into the stages' loops (identity when the
  /// first stage reads O itself).
  SmallVector<ReassociationIndices> groups;
  /// O's sizes, to linearize its indices within a group.
  SmallVector<int64_t> outShape;
  /// Whether O must still be stored: something after the stages reads it.
  bool storeOutput = false;
  /// The ops between C and the stages that their operands come from (views
  /// of their buffers, their outputs' allocations), in order: they move up
  /// before C.
  SmallVector<Operation *> prelude;
};

/// The epilogue of a contraction `contraction` writing `out` (a buffer
/// allocated in the function), when there is one.
std::optional<Epilogue> matchEpilogue(Operation *contraction, Value out);

/// The buffers `op` (and the ops nested in it) read and write; false when
/// it has effects that name no buffer.
bool collectEffects(Operation *op, DenseSet<Value> &reads,
                    DenseSet<Value> &writes);

/// The ops between `contraction` and the ops of `stages` that the stages'
/// operands come from, in order, when all of them can move up before it
/// (free of effects, or allocations), with `stores` (stores into buffers
/// allocated after C that move up too) and what they store; nullopt
/// otherwise.
std::optional<SmallVector<Operation *>>
collectPrelude(Operation *contraction, ArrayRef<linalg::GenericOp> stages,
               ArrayRef<Operation *> stores = {});

/// The attribute dlc-vectorize-linalg marks the row ops it leaves for
/// dlc-register-tile with (row epilogues, or emitRowLoop).
inline constexpr llvm::StringLiteral kRowOpAttr = "dlc.row_op";

/// Completes `epilogue`, matched for `contraction` writing `out`: O must
/// still be stored when an op after C other than the stages (and those
/// `ignore` names: views) uses it, unless a stage overwrote it
/// (`outWritten`); the prelude (collectPrelude). False when that cannot
/// move.
bool completeEpilogue(Operation *contraction, Value out, bool outWritten,
                      function_ref<bool(Operation *)> ignore,
                      Epilogue &epilogue, ArrayRef<Operation *> stores = {});

/// Where stage `g` of the epilogue of a kernel writing `out` can write its
/// output `init`, given the buffers the ops between the kernel and `g`
/// read and write: its own buffer (no op between uses it), a new one
/// (bufferization reused a buffer they still use, which is allocated like
/// O, in `g`'s block, and every use of which from `g` on can move to the
/// new one: no view made before `g`, no deallocation or return), or
/// nowhere.
enum class OutputBuffer { Direct, Renamed, Blocked };
OutputBuffer outputBuffer(linalg::GenericOp g, OpOperand &init, Value out,
                          const DenseSet<Value> &betweenReads,
                          const DenseSet<Value> &betweenWrites);

/// Gives `g`'s output `init` a new buffer allocated like the old one, and
/// moves every use of the old one after `g` to it.
void renameOutput(linalg::GenericOp g, OpOperand &init);

/// Whether `op` is a row op of a row epilogue, on tensors or buffers: its
/// first loop parallel (the rows), the last one static, from 2 to `lanes`
/// points for its element type (one vector: a softmax's 10 classes), any
/// other loops of one point; its body elementwise (it may read its
/// indices), or, when the last loop is a reduction, combining each output
/// with `addf`, `maximumf` or `minimumf` (a row's sum or maximum).
bool isRowOp(linalg::GenericOp op, int64_t lanes);

/// The row epilogue of `contraction` writing `out`, a buffer of rows of at
/// most one vector of `lanes` elements (the logits of a classifier): the
/// row ops (isRowOp) that read O or what earlier stages wrote (a softmax,
/// a cross-entropy and its gradient) and can run at C's position, on the
/// rows of each tile. A reduction's output must be filled right before it
/// (its start, which the epilogue takes over).
std::optional<Epilogue> matchRowEpilogue(Operation *contraction, Value out,
                                         int64_t lanes);

/// A row op (isRowOp) on buffers left without a kernel to take it, as a
/// loop over its rows computing each on one vector of `lanes` elements.
LogicalResult emitRowLoop(RewriterBase &rewriter, linalg::GenericOp op,
                          int64_t lanes);

/// `op`, over the dynamic batch, tiled by one row (TilingInterface), each
/// row vectorized by linalg's vectorizer (on tensors or buffers;
/// dlc-vectorize-linalg's rows; defined in VectorizeLinalg.cpp). Failure
/// when it cannot be tiled.
LogicalResult vectorizeByRows(RewriterBase &rewriter, linalg::LinalgOp op);

/// The epilogue for one vector of accumulators: `acc` holds O at indices
/// `outIndices` (its last along O's last dimension), `mask` (if any) its
/// valid lanes. For each stage in order: loads its other inputs there,
/// computes its body on vectors, stores its results. Not for row epilogues
/// (emitRowEpilogue).
void emitEpilogue(OpBuilder &b, Location loc, const Epilogue &epilogue,
                  Value acc, ArrayRef<Value> outIndices, Value mask);

/// A row epilogue on a tile: `accs[r]` holds O's row `rows[r]` (its
/// first vector, from column 0). The stages' results stay in registers for
/// the stages after them.
void emitRowEpilogue(OpBuilder &b, Location loc, const Epilogue &epilogue,
                     ArrayRef<Value> accs, ArrayRef<Value> rows);

} // namespace mlir::dlc

#endif // DLC_LIB_CONVERSION_LINALGTOVECTOR_EPILOGUE_H
