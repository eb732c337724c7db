// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-privatize-fills))' | FileCheck %s
// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-privatize-fills),one-shot-bufferize{bufferize-function-boundaries})' | FileCheck %s --check-prefix=BUF
// Zeros shared by several matmuls (as CSE leaves them): each matmul gets a
// fill of its own, so that bufferization fills each buffer in place
// instead of copying the shared one.

// CHECK-LABEL: func @shared
// CHECK: %[[E0:.*]] = tensor.empty
// CHECK: %[[F0:.*]] = linalg.fill ins(%{{.*}}) outs(%[[E0]]
// CHECK: linalg.matmul ins(%arg0, %arg1 : {{.*}}) outs(%[[F0]]
// CHECK: %[[E1:.*]] = tensor.empty
// CHECK: %[[F1:.*]] = linalg.fill ins(%{{.*}}) outs(%[[E1]]
// CHECK: linalg.matmul ins(%arg0, %arg2 : {{.*}}) outs(%[[F1]]
// BUF-LABEL: func @shared
// BUF-NOT: memref.copy
// BUF: linalg.fill
// BUF: linalg.matmul
// BUF: linalg.fill
// BUF: linalg.matmul
// BUF-NOT: memref.copy
func.func @shared(%a: tensor<8x4xf32>, %b: tensor<4x8xf32>, %c: tensor<4x8xf32>) -> (tensor<8x8xf32>, tensor<8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x8xf32>) -> tensor<8x8xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f : tensor<8x8xf32>) -> tensor<8x8xf32>
  %1 = linalg.matmul ins(%a, %c : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f : tensor<8x8xf32>) -> tensor<8x8xf32>
  return %0, %1 : tensor<8x8xf32>, tensor<8x8xf32>
}
