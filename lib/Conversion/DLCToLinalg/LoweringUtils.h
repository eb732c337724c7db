// Helpers shared by the dlc-to-linalg patterns.
#ifndef DLC_LIB_CONVERSION_DLCTOLINALG_LOWERINGUTILS_H
#define DLC_LIB_CONVERSION_DLCTOLINALG_LOWERINGUTILS_H

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"

namespace mlir::dlc {

/// The sizes of the dynamic dimensions of a numpy-broadcast result of
/// `operands`, read with tensor.dim from an operand that has the symbolic
/// dimension at the same (right-aligned) position.
SmallVector<Value> broadcastDynamicSizes(OpBuilder &b, Location loc,
                                         RankedTensorType resultType,
                                         ValueRange operands);

/// The indexing map of a right-aligned numpy-broadcast operand: size-1
/// dimensions that broadcast read index 0.
AffineMap broadcastIndexingMap(RankedTensorType operandType,
                               RankedTensorType resultType);

/// tensor.empty of `type`, with dynamic sizes in order.
Value createEmpty(OpBuilder &b, Location loc, RankedTensorType type,
                  ValueRange dynamicSizes);

/// A tensor of `type` filled with `value` (linalg.fill on tensor.empty).
Value createFilled(OpBuilder &b, Location loc, RankedTensorType type,
                   ValueRange dynamicSizes, double value);

/// The dynamic sizes of `value` (a ranked tensor), in order.
SmallVector<Value> dynamicSizesOf(OpBuilder &b, Location loc, Value value);

/// Offsets, sizes and unit strides of the slice of `source` that is
/// [start, start + size) along `axis` and whole along the other dimensions.
void sliceAlong(OpBuilder &b, Location loc, Value source, int64_t axis,
                OpFoldResult start, int64_t size,
                SmallVectorImpl<OpFoldResult> &offsets,
                SmallVectorImpl<OpFoldResult> &sizes,
                SmallVectorImpl<OpFoldResult> &strides);

/// A float constant of `type`.
Value floatConstant(OpBuilder &b, Location loc, Type type, double value);

} // namespace mlir::dlc

#endif // DLC_LIB_CONVERSION_DLCTOLINALG_LOWERINGUTILS_H
