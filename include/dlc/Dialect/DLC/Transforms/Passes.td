// Passes on the dlc dialect: autodiff and the optimizer update.
#ifndef DLC_TRANSFORMS_PASSES_TD
#define DLC_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def PoolFirstPass : Pass<"dlc-pool-first", "ModuleOp"> {
  let summary = "Max pooling before a ReLU and a per-channel bias";
  let description = [{
    Before autodiff: `max_pool(relu(x + b))` with `b` a scalar or a
    per-channel `[C, 1, 1]` bias, the ReLU and the sum used only there, and
    no padding, becomes `relu(max_pool(x) + b)`. A maximum commutes with a
    non-decreasing function and with adding what is constant within its
    window (NaN propagates either way), so the values are the same and so
    are the gradients; the bias and the ReLU, and their gradients, run on
    the pooled tensor (a quarter of the elements for 2 x 2 windows).
  }];
  let dependentDialects = ["::mlir::dlc::DLCDialect"];
}

def AutodiffPass : Pass<"dlc-autodiff", "ModuleOp"> {
  let summary = "Reverse-mode differentiation of loss functions";
  let description = [{
    For every function marked `dlc.loss`, adds a function `<name>_grad` with
    the same arguments that returns the loss followed by the gradient of the
    loss with respect to every argument marked `dlc.param`, in order.

    One reverse walk over the body (a worklist of ops in reverse program
    order) asks each active op's `GradientOpInterface` for the gradients of
    its operands and accumulates them with `dlc.add`. Ops that do not depend
    on a parameter are not differentiated. An active op without a rule is a
    located error naming the op.
  }];
  let dependentDialects = ["::mlir::dlc::DLCDialect",
                           "::mlir::func::FuncDialect"];
}

def OptimizerPass : Pass<"dlc-optimizer", "ModuleOp"> {
  let summary = "Appends the optimizer update, giving one train-step function";
  let description = [{
    For every function `<name>_grad` made by `dlc-autodiff`, adds
    `<name>_train_step`: forward + backward + update in one function.

    Arguments: the parameters, then the optimizer state (per parameter: the
    momentum buffer for SGD with momentum; `m`, `v` for Adam, then a scalar
    step count), then the other inputs, then the scalar learning rate.
    Results: the updated parameters and state, then the loss. Each updated
    value carries `dlc.aliases = <argument index>`: the runtime keeps it in
    the same buffer (an in-place update).

    The update follows PyTorch's `torch.optim.SGD` (momentum, Nesterov,
    weight decay), `Adam`, `AdamW` (decoupled weight decay) and `RMSprop`
    (state `<p>.rmsprop_v`). The learning rate is an argument, so that a
    schedule can change it between steps.
  }];
  let options = [
    Option<"optimizer", "optimizer", "std::string", "\"sgd\"",
           "sgd, adam, adamw or rmsprop">,
    Option<"weightDecay", "weight-decay", "double", "0.0",
           "Weight decay (L2 added to the gradient; decoupled for adamw)">,
    Option<"alpha", "alpha", "double", "0.99", "RMSProp smoothing constant">,
    Option<"momentum", "momentum", "double", "0.0", "SGD momentum">,
    Option<"nesterov", "nesterov", "bool", "false", "Nesterov momentum">,
    Option<"beta1", "beta1", "double", "0.9", "Adam beta1">,
    Option<"beta2", "beta2", "double", "0.999", "Adam beta2">,
    Option<"epsilon", "epsilon", "double", "1e-8", "Adam epsilon">,
  ];
  let dependentDialects = ["::mlir::dlc::DLCDialect",
                           "::mlir::func::FuncDialect"];
}

#endif // DLC_TRANSFORMS_PASSES_TD
