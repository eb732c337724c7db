// Questions about a linalg op's indexing maps that the loop passes share.
#ifndef DLC_LIB_CONVERSION_LINALGTOVECTOR_LOOPANALYSIS_H
#define DLC_LIB_CONVERSION_LINALGTOVECTOR_LOOPANALYSIS_H

#include "mlir/IR/AffineExpr.h"

namespace mlir::dlc {

/// Whether `expr` is `d_pos` plus other terms (coefficient 1 on d_pos), so
/// that consecutive values of loop `pos` address consecutive elements.
inline bool hasUnitTerm(AffineExpr expr, unsigned pos) {
  if (auto dim = dyn_cast<AffineDimExpr>(expr))
    return dim.getPosition() == pos;
  if (auto bin = dyn_cast<AffineBinaryOpExpr>(expr);
      bin && bin.getKind() == AffineExprKind::Add)
    return hasUnitTerm(bin.getLHS(), pos) || hasUnitTerm(bin.getRHS(), pos);
  return false;
}

} // namespace mlir::dlc

#endif // DLC_LIB_CONVERSION_LINALGTOVECTOR_LOOPANALYSIS_H
