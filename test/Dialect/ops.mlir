// RUN: dlc-opt %s | dlc-opt | FileCheck %s
// Every dlc op prints and parses back.

// CHECK-LABEL: func @elementwise
func.func @elementwise(%a: tensor<?x4xf32>, %b: tensor<4xf32>, %s: tensor<f32>) -> tensor<?x4xf32> {
  // CHECK: dlc.constant dense<2.000000e+00> : tensor<f32>
  %c = dlc.constant dense<2.0> : tensor<f32>
  // CHECK: dlc.add %{{.*}}, %{{.*}} : tensor<?x4xf32>, tensor<4xf32>
  %0 = dlc.add %a, %b : tensor<?x4xf32>, tensor<4xf32>
  // CHECK: dlc.sub
  %1 = dlc.sub %0, %s : tensor<?x4xf32>, tensor<f32>
  // CHECK: dlc.mul
  %2 = dlc.mul %1, %c : tensor<?x4xf32>, tensor<f32>
  // CHECK: dlc.div
  %3 = dlc.div %2, %b : tensor<?x4xf32>, tensor<4xf32>
  // CHECK: dlc.pow
  %4 = dlc.pow %3, %c : tensor<?x4xf32>, tensor<f32>
  // CHECK: dlc.neg
  %5 = dlc.neg %4 : tensor<?x4xf32>
  // CHECK: dlc.exp
  %6 = dlc.exp %5 : tensor<?x4xf32>
  // CHECK: dlc.log
  %7 = dlc.log %6 : tensor<?x4xf32>
  // CHECK: dlc.sqrt
  %8 = dlc.sqrt %7 : tensor<?x4xf32>
  // CHECK: dlc.abs
  %9 = dlc.abs %8 : tensor<?x4xf32>
  // CHECK: dlc.relu
  %10 = dlc.relu %9 : tensor<?x4xf32>
  // CHECK: dlc.sigmoid
  %11 = dlc.sigmoid %10 : tensor<?x4xf32>
  // CHECK: dlc.tanh
  %12 = dlc.tanh %11 : tensor<?x4xf32>
  // CHECK: dlc.sign
  %13 = dlc.sign %12 : tensor<?x4xf32>
  // CHECK: dlc.step
  %14 = dlc.step %13 : tensor<?x4xf32>
  return %14 : tensor<?x4xf32>
}

// CHECK-LABEL: func @structure
func.func @structure(%x: tensor<?x4xf32>, %w: tensor<4x3xf32>, %v: tensor<4xf32>, %y: tensor<?xf32>) -> tensor<f32> {
  // CHECK: dlc.matmul %{{.*}}, %{{.*}} : tensor<?x4xf32>, tensor<4x3xf32>
  %0 = dlc.matmul %x, %w : tensor<?x4xf32>, tensor<4x3xf32>
  // CHECK: dlc.matmul %{{.*}}, %{{.*}} : tensor<?x4xf32>, tensor<4xf32>
  %1 = dlc.matmul %x, %v : tensor<?x4xf32>, tensor<4xf32>
  // CHECK: dlc.transpose %{{.*}} [1, 0] : tensor<?x3xf32>
  %2 = dlc.transpose %0 [1, 0] : tensor<?x3xf32>
  // CHECK: dlc.sum %{{.*}} axes [0] keepdims : tensor<3x?xf32>
  %3 = dlc.sum %2 axes [0] keepdims : tensor<3x?xf32>
  // CHECK: dlc.mean %{{.*}} axes [] : tensor<1x?xf32>
  %4 = dlc.mean %3 axes [] : tensor<1x?xf32>
  // CHECK: dlc.reshape %{{.*}} : tensor<?xf32> -> tensor<?x1xf32>
  %5 = dlc.reshape %1 : tensor<?xf32> -> tensor<?x1xf32>
  // CHECK: dlc.broadcast %{{.*}} like %{{.*}} [0] : tensor<?xf32>, tensor<?x4xf32>
  %6 = dlc.broadcast %1 like %x [0] : tensor<?xf32>, tensor<?x4xf32>
  // CHECK: dlc.size %{{.*}} axes [0] : tensor<?x4xf32>
  %7 = dlc.size %6 axes [0] : tensor<?x4xf32>
  // CHECK: dlc.mse
  %8 = dlc.mse %1, %y : tensor<?xf32>, tensor<?xf32>
  // CHECK: dlc.bce_with_logits
  %9 = dlc.bce_with_logits %1, %y : tensor<?xf32>, tensor<?xf32>
  %10 = dlc.add %8, %9 : tensor<f32>, tensor<f32>
  %11 = dlc.add %10, %4 : tensor<f32>, tensor<f32>
  %12 = dlc.add %11, %7 : tensor<f32>, tensor<f32>
  return %12 : tensor<f32>
}
