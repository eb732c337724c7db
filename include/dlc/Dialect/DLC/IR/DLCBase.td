// The dlc dialect and the base class of its ops.
#ifndef DLC_BASE_TD
#define DLC_BASE_TD

include "mlir/IR/OpBase.td"

def DLC_Dialect : Dialect {
  let name = "dlc";
  let cppNamespace = "::mlir::dlc";
  let summary = "Tensor-level ops of dlc models, their gradients and updates";
  let description = [{
    The dlc dialect holds a model as it is written in a `.dlg` file: ops on
    ranked tensors of `f32` or `f64` with static shapes, except for a symbolic
    (dynamic) batch dimension. Binary elementwise ops follow numpy
    broadcasting; a symbolic dimension is never broadcast (it must match).

    Autodiff (`dlc-autodiff`) differentiates a loss function into ordinary dlc
    IR through `GradientOpInterface`, and `dlc-optimizer` appends the
    parameter update, so that one function holds a whole training step.
  }];
  let hasConstantMaterializer = 1;
}

class DLC_Op<string mnemonic, list<Trait> traits = []>
    : Op<DLC_Dialect, mnemonic, traits>;

def DLC_FloatTensor : RankedTensorOf<[F32, F64]>;

#endif // DLC_BASE_TD
