// RUN: dlc-opt %s -split-input-file -dlc-autodiff | FileCheck %s
// The gradient program is ordinary dlc IR: it prints and parses back.
// RUN: dlc-opt %s -split-input-file -dlc-autodiff -dlc-optimizer | dlc-opt -split-input-file | FileCheck %s
// dlc-autodiff adds <name>_grad returning the loss and one gradient per
// parameter; inputs get no gradient.

// Linear regression: d/dw = x^T (2 (x w + b - y) / n), d/db = sum(...).
// CHECK-LABEL: func.func @linreg_loss_grad
// CHECK-SAME: -> (tensor<f32>, tensor<4xf32>, tensor<f32>)
// CHECK-SAME: dlc.grad_of = @linreg_loss
// CHECK: %[[PRED:.*]] = dlc.add
// CHECK: %[[LOSS:.*]] = dlc.mse %[[PRED]]
// CHECK: dlc.size %[[PRED]] axes []
// CHECK: %[[DIFF:.*]] = dlc.sub %[[PRED]], %arg3
// CHECK: %[[DPRED:.*]] = dlc.mul %[[DIFF]]
// CHECK: %[[DB:.*]] = dlc.sum %[[DPRED]] axes [0]
// CHECK: %[[XT:.*]] = dlc.transpose %arg2 [1, 0]
// CHECK: %[[DW:.*]] = dlc.matmul %[[XT]], %[[DPRED]]
// CHECK: return %[[LOSS]], %[[DW]], %[[DB]]
func.func @linreg_loss(%w: tensor<4xf32> {dlc.param, dlc.name = "w"}, %b: tensor<f32> {dlc.param, dlc.name = "b"},
                       %x: tensor<?x4xf32> {dlc.input}, %y: tensor<?xf32> {dlc.input}) -> tensor<f32> attributes {dlc.loss} {
  %0 = dlc.matmul %x, %w : tensor<?x4xf32>, tensor<4xf32>
  %1 = dlc.add %0, %b : tensor<?xf32>, tensor<f32>
  %2 = dlc.mse %1, %y : tensor<?xf32>, tensor<?xf32>
  return %2 : tensor<f32>
}

// -----

// A parameter used twice accumulates both gradients with dlc.add.
// CHECK-LABEL: func.func @square_loss_grad
// CHECK: %[[ONE:.*]] = dlc.constant dense<1.0
// CHECK: %[[G1:.*]] = dlc.mul %[[ONE]], %arg0
// CHECK: %[[G2:.*]] = dlc.mul %{{.*}}, %arg0
// CHECK: %[[ACC:.*]] = dlc.add %[[G1]], %[[G2]]
// CHECK: return %{{.*}}, %[[ACC]]
func.func @square_loss(%w: tensor<f32> {dlc.param}) -> tensor<f32> attributes {dlc.loss} {
  %0 = dlc.mul %w, %w : tensor<f32>, tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Gradient ops carry the forward op's location, named "gradient of ...".
// RUN: dlc-opt %s -split-input-file -dlc-autodiff -mlir-print-debuginfo | FileCheck %s --check-prefix=LOC
// LOC-LABEL: func.func @located_loss_grad
// LOC: dlc.neg %arg0 : tensor<f32> loc(#[[FWD:loc[0-9]*]])
// LOC: dlc.neg %{{.*}} loc(#[[GRAD:loc[0-9]*]])
// LOC-DAG: #[[FWD]] = loc("model.dlg":3:7)
// LOC-DAG: #[[GRAD]] = loc("gradient of dlc.neg"(#[[FWD]]))
func.func @located_loss(%w: tensor<f32> {dlc.param}) -> tensor<f32> attributes {dlc.loss} {
  %0 = dlc.neg %w : tensor<f32> loc("model.dlg":3:7)
  return %0 : tensor<f32>
}

// -----

// No gradient flows through stop_gradient: only the second factor's remains.
// CHECK-LABEL: func.func @stopped_loss_grad
// CHECK: %[[S:.*]] = dlc.stop_gradient %arg0
// CHECK: %[[G:.*]] = dlc.mul %{{.*}}, %[[S]]
// CHECK-NOT: dlc.add
// CHECK: return %{{.*}}, %[[G]]
func.func @stopped_loss(%w: tensor<f32> {dlc.param}) -> tensor<f32> attributes {dlc.loss} {
  %0 = dlc.stop_gradient %w : tensor<f32>
  %1 = dlc.mul %0, %w : tensor<f32>, tensor<f32>
  return %1 : tensor<f32>
}
