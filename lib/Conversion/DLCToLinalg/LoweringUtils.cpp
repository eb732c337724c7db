// Helpers shared by the dlc-to-linalg patterns.
#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::dlc;

SmallVector<Value> mlir::dlc::broadcastDynamicSizes(OpBuilder &b, Location loc,
                                                    RankedTensorType resultType,
                                                    ValueRange operands) {
  SmallVector<Value> sizes;
  int64_t rank = resultType.getRank();
  for (int64_t i = 0; i < rank; ++i) {
    if (!resultType.isDynamicDim(i))
      continue;
    Value size;
    for (Value operand : operands) {
      auto type = cast<RankedTensorType>(operand.getType());
      int64_t j = i - (rank - type.getRank());
      if (j >= 0 && type.isDynamicDim(j)) {
        size = tensor::DimOp::create(b, loc, operand, j);
        break;
      }
    }
    assert(size && "a dynamic result dimension comes from a dynamic operand");
    sizes.push_back(size);
  }
  return sizes;
}

AffineMap mlir::dlc::broadcastIndexingMap(RankedTensorType operandType,
                                          RankedTensorType resultType) {
  MLIRContext *ctx = operandType.getContext();
  int64_t rank = resultType.getRank();
  int64_t offset = rank - operandType.getRank();
  SmallVector<AffineExpr> exprs;
  for (int64_t j = 0; j < operandType.getRank(); ++j) {
    if (operandType.getDimSize(j) == 1 && resultType.getDimSize(j + offset) != 1)
      exprs.push_back(getAffineConstantExpr(0, ctx));
    else
      exprs.push_back(getAffineDimExpr(j + offset, ctx));
  }
  return AffineMap::get(rank, 0, exprs, ctx);
}

Value mlir::dlc::createEmpty(OpBuilder &b, Location loc, RankedTensorType type,
                             ValueRange dynamicSizes) {
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dynamicSizes);
}

Value mlir::dlc::floatConstant(OpBuilder &b, Location loc, Type type,
                               double value) {
  return arith::ConstantOp::create(b, loc, type, b.getFloatAttr(type, value));
}

Value mlir::dlc::createFilled(OpBuilder &b, Location loc, RankedTensorType type,
                              ValueRange dynamicSizes, double value) {
  Value empty = createEmpty(b, loc, type, dynamicSizes);
  Value scalar = floatConstant(b, loc, type.getElementType(), value);
  return linalg::FillOp::create(b, loc, scalar, empty).getResult(0);
}

SmallVector<Value> mlir::dlc::dynamicSizesOf(OpBuilder &b, Location loc,
                                             Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  SmallVector<Value> sizes;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      sizes.push_back(tensor::DimOp::create(b, loc, value, i));
  return sizes;
}

void mlir::dlc::sliceAlong(OpBuilder &b, Location loc, Value source,
                           int64_t axis, OpFoldResult start, int64_t size,
                           SmallVectorImpl<OpFoldResult> &offsets,
                           SmallVectorImpl<OpFoldResult> &sizes,
                           SmallVectorImpl<OpFoldResult> &strides) {
  auto type = cast<RankedTensorType>(source.getType());
  for (int64_t d = 0; d < type.getRank(); ++d) {
    offsets.push_back(d == axis ? start : OpFoldResult(b.getIndexAttr(0)));
    if (d == axis)
      sizes.push_back(b.getIndexAttr(size));
    else if (type.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, loc, source, d).getResult());
    else
      sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
    strides.push_back(b.getIndexAttr(1));
  }
}
