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

// -----

// A fill hoisted out of a loop (loop-invariant code motion) that only a
// matmul inside the loop uses: the matmul gets its fill back inside the
// loop, right before it, and the hoisted one is erased.
// CHECK-LABEL: func @hoisted
// CHECK-NOT: linalg.fill
// CHECK: scf.for
// CHECK: %[[E:.*]] = tensor.empty
// CHECK: %[[F:.*]] = linalg.fill ins(%{{.*}}) outs(%[[E]]
// CHECK: linalg.matmul ins(%arg0, %arg1 : {{.*}}) outs(%[[F]]
// BUF-LABEL: func @hoisted
// BUF-NOT: memref.copy
// BUF: scf.for
// BUF: linalg.fill
// BUF: linalg.matmul
// BUF-NOT: memref.copy
func.func @hoisted(%a: tensor<8x4xf32>, %b: tensor<4x8xf32>, %init: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x8xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x8xf32>) -> tensor<8x8xf32>
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %init) -> tensor<8x8xf32> {
    %m = linalg.matmul ins(%a, %b : tensor<8x4xf32>, tensor<4x8xf32>) outs(%f : tensor<8x8xf32>) -> tensor<8x8xf32>
    %s = linalg.add ins(%acc, %m : tensor<8x8xf32>, tensor<8x8xf32>) outs(%acc : tensor<8x8xf32>) -> tensor<8x8xf32>
    scf.yield %s : tensor<8x8xf32>
  }
  return %r : tensor<8x8xf32>
}
