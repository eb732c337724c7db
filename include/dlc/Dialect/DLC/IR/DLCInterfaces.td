// Op interfaces of the dlc dialect.
#ifndef DLC_INTERFACES_TD
#define DLC_INTERFACES_TD

include "mlir/IR/OpBase.td"

def DLC_GradientOpInterface : OpInterface<"GradientOpInterface"> {
  let cppNamespace = "::mlir::dlc";
  let description = [{
    The reverse-mode rule of a differentiable op: given the gradients of the
    loss with respect to the op's results, build the vector-Jacobian products
    with respect to its operands, as dlc ops inserted at the builder's point.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds the gradient of each operand from `resultGrads` (one per
        result; a null value means the result has no gradient). Fills
        `operandGrads` with one value per operand, or a null value where the
        operand gets no gradient (non-differentiable operand).
      }],
      "::llvm::LogicalResult", "buildGradients",
      (ins "::mlir::OpBuilder &":$builder,
           "::mlir::ValueRange":$resultGrads,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>
  ];
}

#endif // DLC_INTERFACES_TD
