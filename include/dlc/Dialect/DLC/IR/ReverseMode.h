// The generic reverse walk of autodiff, shared by dlc-autodiff and the
// gradient rules of ops with regions (scan).
#ifndef DLC_DIALECT_DLC_IR_REVERSEMODE_H
#define DLC_DIALECT_DLC_IR_REVERSEMODE_H

#include "mlir/IR/Builders.h"

namespace mlir::dlc {

/// Builds the vector-Jacobian products of the ops of `block` (its top-level
/// ops before the terminator) at the builder's insertion point, which must
/// be at the end of `block` (before the terminator).
///
/// `seeds` pairs values defined or used in the block with their cotangents;
/// `wrt` lists the values to differentiate with respect to (block arguments
/// or values from above). Only ops that depend on a `wrt` value are
/// differentiated (activity analysis). Returns one gradient per `wrt` value,
/// null where none flows. Fails, at the op, on an active op without a rule.
FailureOr<SmallVector<Value>>
buildReverseMode(OpBuilder &builder, Block &block,
                 ArrayRef<std::pair<Value, Value>> seeds, ArrayRef<Value> wrt);

} // namespace mlir::dlc

#endif // DLC_DIALECT_DLC_IR_REVERSEMODE_H
