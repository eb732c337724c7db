// Epilogues of dlc-register-tile: the elementwise op that consumes a
// contraction's output (a bias add, an activation's gradient, an optimizer
// update), applied to the kernel's accumulators in registers instead of a
// pass of its own over the output.
#ifndef DLC_LIB_CONVERSION_LINALGTOVECTOR_EPILOGUE_H
#define DLC_LIB_CONVERSION_LINALGTOVECTOR_EPILOGUE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include <optional>

namespace mlir::dlc {

/// Elementwise `linalg.generic`s (stages) that read the output O of a
/// contraction C (or a collapse_shape of it), or what earlier stages wrote,
/// and can run at C's position, one tile at a time: nothing they move above
/// writes what they read or touches what they write. The first stage reads
/// O; later ones (an Adam update's v and parameter updates after its m)
/// may read only what earlier stages wrote, element for element.
struct Epilogue {
  struct Stage {
    linalg::GenericOp op;
    /// The stage's input that is O (or its collapsed view), if any.
    std::optional<unsigned> input;
  };
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

/// The epilogue for one vector of accumulators: `acc` holds O at indices
/// `outIndices` (its last along O's last dimension), `mask` (if any) its
/// valid lanes. For each stage in order: loads its other inputs there,
/// computes its body on vectors, stores its results.
void emitEpilogue(OpBuilder &b, Location loc, const Epilogue &epilogue,
                  Value acc, ArrayRef<Value> outIndices, Value mask);

} // namespace mlir::dlc

#endif // DLC_LIB_CONVERSION_LINALGTOVECTOR_EPILOGUE_H
