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

/// A `linalg.generic` G with only parallel loops that reads the output O of
/// a contraction C (or a collapse_shape of it) elementwise, and can run at
/// C's position: nothing between C and G touches O, writes an operand of G,
/// or reads what G writes.
struct Epilogue {
  linalg::GenericOp op;
  /// G's input that is O (or its collapsed view).
  unsigned input = 0;
  /// How O's dimensions merge into G's loops (identity when G reads O).
  SmallVector<ReassociationIndices> groups;
  /// O's sizes, to linearize its indices within a group.
  SmallVector<int64_t> outShape;
  /// Whether O must still be stored: something after G reads it.
  bool storeOutput = false;
  /// The ops between C and G that G's operands come from (views of its
  /// buffers, its outputs' allocations), in order: they move up before C.
  SmallVector<Operation *> prelude;
};

/// G for a contraction `contraction` writing `out` (a buffer allocated in
/// the function), when there is one.
std::optional<Epilogue> matchEpilogue(Operation *contraction, Value out);

/// The epilogue for one vector of accumulators: `acc` holds O at indices
/// `outIndices` (its last along O's last dimension), `mask` (if any) its
/// valid lanes. Loads G's other inputs there, computes G's body on vectors,
/// stores G's results.
void emitEpilogue(OpBuilder &b, Location loc, const Epilogue &epilogue,
                  Value acc, ArrayRef<Value> outIndices, Value mask);

} // namespace mlir::dlc

#endif // DLC_LIB_CONVERSION_LINALGTOVECTOR_EPILOGUE_H
