// Ops of the dlc dialect and the helpers their definitions share.
#ifndef DLC_DIALECT_DLC_IR_DLCOPS_H
#define DLC_DIALECT_DLC_IR_DLCOPS_H

#include "dlc/Dialect/DLC/IR/DLCDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dlc/Dialect/DLC/IR/DLCEnums.h.inc"
#include "dlc/Dialect/DLC/IR/DLCInterfaces.h.inc"

namespace mlir::dlc {

/// Infers the numpy-broadcast result type of two ranked tensors. A symbolic
/// dimension matches another symbolic dimension or a size of 1; against a
/// static size it takes that size. Emits an error at `loc` when incompatible.
LogicalResult inferBroadcastType(std::optional<Location> loc, Type lhs,
                                 Type rhs, SmallVectorImpl<Type> &results);

/// Shape of reducing `type` over `axes` (all when empty); nullptr-free
/// failure with an error at `loc` for out-of-range or repeated axes.
FailureOr<RankedTensorType> inferReductionType(std::optional<Location> loc,
                                               RankedTensorType type,
                                               ArrayRef<int64_t> axes,
                                               bool keepdims);

/// The sorted list of reduced axes: `axes`, or every dimension when empty.
SmallVector<int64_t> normalizeAxes(ArrayRef<int64_t> axes, int64_t rank);

/// Folds a binary op (add, sub, mul, div, pow) of two splat constants into
/// a splat of the result type; null when it does not apply.
OpFoldResult foldScalarBinary(Operation *op, Attribute lhs, Attribute rhs);

/// A scalar (0-d) constant of `elementType`.
Value createScalarConstant(OpBuilder &builder, Location loc, Type elementType,
                           double value);

} // namespace mlir::dlc

#define GET_OP_CLASSES
#include "dlc/Dialect/DLC/IR/DLCOps.h.inc"

#endif // DLC_DIALECT_DLC_IR_DLCOPS_H
