// RUN: dlc-opt %s -split-input-file -dlc-autodiff -dlc-optimizer | FileCheck %s
// RUN: dlc-opt %s -split-input-file -dlc-autodiff "-dlc-optimizer=optimizer=sgd momentum=0.9 nesterov=true" | FileCheck %s --check-prefix=NESTEROV
// RUN: dlc-opt %s -split-input-file -dlc-autodiff "-dlc-optimizer=optimizer=adam" | FileCheck %s --check-prefix=ADAM

// Plain SGD: p - lr * g, updated in place (dlc.aliases), loss last.
// CHECK-LABEL: func.func @f_loss_train_step
// CHECK-SAME: %arg0: tensor<3xf32> {dlc.name = "p", dlc.param}
// CHECK-SAME: %arg2: tensor<f32> {dlc.lr, dlc.name = "lr"}
// CHECK-SAME: -> (tensor<3xf32> {dlc.aliases = 0 : i64}, tensor<f32> {dlc.name = "loss"})
// CHECK: %[[STEP:.*]] = dlc.mul %arg2, %{{.*}}
// CHECK: %[[NEW:.*]] = dlc.sub %arg0, %[[STEP]]
// CHECK: return %[[NEW]], %{{.*}}

// Nesterov: buf' = mu buf + g; p' = p - lr (g + mu buf').
// NESTEROV-LABEL: func.func @f_loss_train_step
// NESTEROV-SAME: {dlc.name = "p.momentum", dlc.state}
// NESTEROV-SAME: -> (tensor<3xf32> {dlc.aliases = 0 : i64}, tensor<3xf32> {dlc.aliases = 1 : i64}, tensor<f32> {dlc.name = "loss"})
// NESTEROV: %[[MB:.*]] = dlc.mul %{{.*}}, %arg1
// NESTEROV: %[[BUF:.*]] = dlc.add %[[MB]], %[[G:.*]] :
// NESTEROV: %[[MB2:.*]] = dlc.mul %{{.*}}, %[[BUF]]
// NESTEROV: %[[DIR:.*]] = dlc.add %[[G]], %[[MB2]]
// NESTEROV: dlc.mul %{{.*}}, %[[DIR]]

// Adam: state m, v per parameter and one step count; bias corrections from
// the incremented step.
// ADAM-LABEL: func.func @f_loss_train_step
// ADAM-SAME: {dlc.name = "p.adam_m", dlc.state}
// ADAM-SAME: {dlc.name = "p.adam_v", dlc.state}
// ADAM-SAME: {dlc.name = "adam.step", dlc.state}
// ADAM: %[[T:.*]] = dlc.add %arg3, %{{.*}} : tensor<f32>, tensor<f32>
// ADAM: dlc.pow %{{.*}}, %[[T]]
// ADAM: dlc.sqrt
// ADAM: return %{{.*}}, %{{.*}}, %{{.*}}, %[[T]], %{{.*}}
func.func @f_loss(%p: tensor<3xf32> {dlc.param, dlc.name = "p"}, %x: tensor<?x3xf32> {dlc.input, dlc.name = "x"}) -> tensor<f32> attributes {dlc.loss} {
  %0 = dlc.mul %x, %p : tensor<?x3xf32>, tensor<3xf32>
  %1 = dlc.mean %0 axes [] : tensor<?x3xf32>
  return %1 : tensor<f32>
}
