// RUN: dlc-opt %s -split-input-file -dlc-pool-first | FileCheck %s
// Max pooling moves before a ReLU and a per-channel (or scalar) bias: the
// same values and gradients, on a quarter of the elements.

// CHECK-LABEL: func @conv_block
// CHECK: %[[P:.*]] = dlc.pool2d max %arg0 kernel [2, 2] stride [2, 2] padding [0, 0] : tensor<?x4x8x8xf32>
// CHECK: %[[A:.*]] = dlc.add %[[P]], %arg1 : tensor<?x4x4x4xf32>, tensor<4x1x1xf32>
// CHECK: %[[R:.*]] = dlc.relu %[[A]]
// CHECK: return %[[R]]
func.func @conv_block(%x: tensor<?x4x8x8xf32>, %b: tensor<4x1x1xf32>) -> tensor<?x4x4x4xf32> {
  %0 = dlc.add %x, %b : tensor<?x4x8x8xf32>, tensor<4x1x1xf32>
  %1 = dlc.relu %0 : tensor<?x4x8x8xf32>
  %2 = dlc.pool2d max %1 kernel [2, 2] stride [2, 2] padding [0, 0] : tensor<?x4x8x8xf32>
  return %2 : tensor<?x4x4x4xf32>
}

// -----

// Without a bias; the bias as the sum's left operand.
// CHECK-LABEL: func @no_bias
// CHECK: %[[P:.*]] = dlc.pool2d max %arg0
// CHECK: dlc.relu %[[P]]
// CHECK-LABEL: func @bias_first
// CHECK: %[[P:.*]] = dlc.pool2d max %arg1
// CHECK: dlc.add %[[P]], %arg0
func.func @no_bias(%x: tensor<?x4x8x8xf32>) -> tensor<?x4x4x4xf32> {
  %1 = dlc.relu %x : tensor<?x4x8x8xf32>
  %2 = dlc.pool2d max %1 kernel [2, 2] stride [2, 2] padding [0, 0] : tensor<?x4x8x8xf32>
  return %2 : tensor<?x4x4x4xf32>
}
func.func @bias_first(%b: tensor<4x1x1xf32>, %x: tensor<?x4x8x8xf32>) -> tensor<?x4x4x4xf32> {
  %0 = dlc.add %b, %x : tensor<4x1x1xf32>, tensor<?x4x8x8xf32>
  %1 = dlc.relu %0 : tensor<?x4x8x8xf32>
  %2 = dlc.pool2d max %1 kernel [2, 2] stride [2, 2] padding [0, 0] : tensor<?x4x8x8xf32>
  return %2 : tensor<?x4x4x4xf32>
}

// -----

// A bias that varies within a window (per column) stays before the
// pooling; the ReLU still moves after it. Left alone: a ReLU read elsewhere
// too, average pooling, padding.
// CHECK-LABEL: func @left_alone
// CHECK: %[[A:.*]] = dlc.add %arg0, %arg1
// CHECK: %[[P:.*]] = dlc.pool2d max %[[A]]
// CHECK: dlc.relu %[[P]]
// CHECK: %[[R:.*]] = dlc.relu %arg0
// CHECK: dlc.pool2d max %[[R]]
// CHECK: %[[R2:.*]] = dlc.relu %arg0
// CHECK: dlc.pool2d avg %[[R2]]
// CHECK: %[[R3:.*]] = dlc.relu %arg0
// CHECK: dlc.pool2d max %[[R3]] kernel [2, 2] stride [2, 2] padding [1, 1]
func.func @left_alone(%x: tensor<?x4x8x8xf32>, %w: tensor<8xf32>) -> (tensor<?x4x4x4xf32>, tensor<?x4x4x4xf32>, tensor<?x4x8x8xf32>, tensor<?x4x4x4xf32>, tensor<?x4x5x5xf32>) {
  %0 = dlc.add %x, %w : tensor<?x4x8x8xf32>, tensor<8xf32>
  %1 = dlc.relu %0 : tensor<?x4x8x8xf32>
  %2 = dlc.pool2d max %1 kernel [2, 2] stride [2, 2] padding [0, 0] : tensor<?x4x8x8xf32>
  %3 = dlc.relu %x : tensor<?x4x8x8xf32>
  %4 = dlc.pool2d max %3 kernel [2, 2] stride [2, 2] padding [0, 0] : tensor<?x4x8x8xf32>
  %5 = dlc.relu %x : tensor<?x4x8x8xf32>
  %6 = dlc.pool2d avg %5 kernel [2, 2] stride [2, 2] padding [0, 0] : tensor<?x4x8x8xf32>
  %7 = dlc.relu %x : tensor<?x4x8x8xf32>
  %8 = dlc.pool2d max %7 kernel [2, 2] stride [2, 2] padding [1, 1] : tensor<?x4x8x8xf32>
  return %2, %4, %3, %6, %8 : tensor<?x4x4x4xf32>, tensor<?x4x4x4xf32>, tensor<?x4x8x8xf32>, tensor<?x4x4x4xf32>, tensor<?x4x5x5xf32>
}
