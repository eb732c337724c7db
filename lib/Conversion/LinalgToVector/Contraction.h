// The contractions dlc-register-tile lowers: `out += a * b` ops on buffers,
// and the roles of their operands and loops in a register tile.
#ifndef DLC_LIB_CONVERSION_LINALGTOVECTOR_CONTRACTION_H
#define DLC_LIB_CONVERSION_LINALGTOVECTOR_CONTRACTION_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>

namespace mlir::dlc {

/// The roles of a `out += a * b` op's operands and loops.
struct Contraction {
  enum class Kind {
    /// Vectors along an output loop `j`: acc[i][j..] += a[i] * b[j..].
    OuterProduct,
    /// Vectors along a reduction loop `j` both inputs read contiguously:
    /// acc[i][col] += a[i][j..] * b[col][j..], summed across lanes at the
    /// end (a convolution's filter gradient, where the output's last loop
    /// is the 3-wide kernel column).
    Dot,
  };
  Kind kind = Kind::OuterProduct;
  OpOperand *a = nullptr;   // outer product: does not depend on j
  OpOperand *b = nullptr;   // contiguous along j
  OpOperand *out = nullptr;
  unsigned j = 0;            // the vector loop
  std::optional<unsigned> i; // rows: a depends on it, b does not
  std::optional<unsigned> col; // dot: b depends on it, a does not (static)
  /// Outer product whose `b` is read as b[j, k] (`dy @ w^T`): the packing
  /// of each block of `b` transposes it.
  bool transposedB = false;
};

/// The roles of `op`'s operands and loops when it is a contraction the
/// kernels handle with `lanes`-element vectors: an outer product, a dot
/// product or a one-input sum (see Contraction).
std::optional<Contraction> matchContraction(linalg::LinalgOp op,
                                            int64_t lanes);

/// The batch loop of an op that reduces over the batch and other loops (a
/// convolution's filter gradient): its outermost reduction loop, when that
/// has a dynamic extent.
std::optional<unsigned> batchReduction(linalg::LinalgOp op);

} // namespace mlir::dlc

#endif // DLC_LIB_CONVERSION_LINALGTOVECTOR_CONTRACTION_H
