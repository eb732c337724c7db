// Patterns that lower dlc ops to linalg on tensors, grouped by op family.
#ifndef DLC_CONVERSION_DLCTOLINALG_DLCTOLINALG_H
#define DLC_CONVERSION_DLCTOLINALG_DLCTOLINALG_H

#include "mlir/IR/PatternMatch.h"

namespace mlir::dlc {

/// Constants, elementwise unary and binary ops, and broadcasts.
void populateElementwiseLoweringPatterns(RewritePatternSet &patterns);
/// Matmul, transpose and reshape.
void populateLinearLoweringPatterns(RewritePatternSet &patterns);
/// Sum, mean, size, and the losses (decomposed into dlc ops).
void populateReductionLoweringPatterns(RewritePatternSet &patterns);
/// conv2d, pool2d and their gradients.
void populateConvolutionLoweringPatterns(RewritePatternSet &patterns);
/// scan (to scf.for over tensors) and fill.
void populateScanLoweringPatterns(RewritePatternSet &patterns);

} // namespace mlir::dlc

#endif // DLC_CONVERSION_DLCTOLINALG_DLCTOLINALG_H
