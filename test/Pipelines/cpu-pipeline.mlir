// RUN: dlc-opt %s -dlc-training -dlc-cpu-pipeline | FileCheck %s
// RUN: dlc-opt %s -dlc-training -dlc-to-linalg | FileCheck %s --check-prefix=LINALG
// The named pipelines take a forward loss function all the way to LLVM.

// LINALG-LABEL: func.func @linreg_loss_train_step
// LINALG-SAME: -> (tensor<4xf32> {dlc.aliases = 0 : i64}, tensor<f32> {dlc.aliases = 1 : i64}, tensor<f32> {dlc.name = "loss"})
// LINALG-NOT: = dlc.
// LINALG: linalg.matvec
// LINALG: return

// CHECK-LABEL: llvm.func @linreg_loss_train_step
// CHECK-LABEL: llvm.func @_mlir_ciface_linreg_loss_train_step
// CHECK-NOT: func.func
func.func @linreg_loss(%w: tensor<4xf32> {dlc.param, dlc.name = "w"}, %b: tensor<f32> {dlc.param, dlc.name = "b"},
                       %x: tensor<?x4xf32> {dlc.input, dlc.name = "x"}, %y: tensor<?xf32> {dlc.input, dlc.name = "y"}) -> tensor<f32> attributes {dlc.loss} {
  %0 = dlc.matmul %x, %w : tensor<?x4xf32>, tensor<4xf32>
  %1 = dlc.add %0, %b : tensor<?xf32>, tensor<f32>
  %2 = dlc.mse %1, %y : tensor<?xf32>, tensor<?xf32>
  return %2 : tensor<f32>
}
