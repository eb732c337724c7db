// RUN: dlc-opt %s -dlc-autodiff -canonicalize | FileCheck %s
// A scan's gradient: the recording scan stacks the carries at the start and
// at the end of each step. tanh's gradient reads the recorded next carry,
// so the reverse scan's body recomputes nothing of the step: its matmuls
// are the product's three (the carry's cotangent, u's and w's gradients),
// and what nothing reads (x's gradient) is dropped.
// CHECK-LABEL: func.func @elman_loss_grad
// CHECK: %{{.*}}, %[[REC:.*]]:2 = "dlc.scan"
// CHECK-COUNT-2: dlc.matmul
// CHECK: %[[T:.*]] = dlc.tanh
// CHECK: dlc.yield %[[T]], %{{.*}}, %[[T]] :
// CHECK: "dlc.scan"(%{{.*}}, %{{.*}}, %{{.*}}, %arg2, %[[REC]]#0, %[[REC]]#1, %arg0, %arg1)
// CHECK-SAME: reverse
// CHECK-NOT: dlc.tanh
// CHECK: dlc.mul %[[NEXT:arg[0-9]+]], %[[NEXT]]
// CHECK-COUNT-3: dlc.matmul
// CHECK-NOT: dlc.matmul
// CHECK: dlc.yield
func.func @elman_loss(%w: tensor<4x8xf32> {dlc.param, dlc.name = "w"}, %u: tensor<8x8xf32> {dlc.param, dlc.name = "u"}, %x: tensor<?x5x4xf32> {dlc.input}, %h0: tensor<?x8xf32> {dlc.input}) -> tensor<f32> attributes {dlc.loss} {
  %h:1 = "dlc.scan"(%h0, %x, %w, %u) ({
  ^bb0(%h: tensor<?x8xf32>, %xt: tensor<?x4xf32>, %wt: tensor<4x8xf32>, %ut: tensor<8x8xf32>):
    %z = dlc.matmul %xt, %wt : tensor<?x4xf32>, tensor<4x8xf32>
    %r = dlc.matmul %h, %ut : tensor<?x8xf32>, tensor<8x8xf32>
    %n = dlc.add %z, %r : tensor<?x8xf32>, tensor<?x8xf32>
    %t = dlc.tanh %n : tensor<?x8xf32>
    dlc.yield %t : tensor<?x8xf32>
  }) {axis = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 2>,
      resultSegmentSizes = array<i32: 1, 0>}
    : (tensor<?x8xf32>, tensor<?x5x4xf32>, tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<?x8xf32>
  %s = dlc.sum %h#0 axes [0, 1] : tensor<?x8xf32>
  return %s : tensor<f32>
}
