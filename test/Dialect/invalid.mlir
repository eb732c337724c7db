// RUN: dlc-opt %s -split-input-file -verify-diagnostics
// Verifiers and type inference reject malformed dlc IR with precise messages.

// Shapes that do not broadcast.
func.func @bad_broadcast(%a: tensor<3xf32>, %b: tensor<4xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{do not broadcast (dimension 0: 3 vs 4)}}
  %0 = dlc.add %a, %b : tensor<3xf32>, tensor<4xf32>
  return %0 : tensor<3xf32>
}

// -----

// Element types must match.
func.func @mixed_types(%a: tensor<3xf32>, %b: tensor<3xf64>) {
  // expected-error @+1 {{element types differ}}
  %0 = dlc.mul %a, %b : tensor<3xf32>, tensor<3xf64>
  return
}

// -----

// Contracting dimensions of a matmul must agree.
func.func @bad_matmul(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+1 {{contracting dimensions differ}}
  %0 = dlc.matmul %a, %b : tensor<2x3xf32>, tensor<4x5xf32>
  return
}

// -----

// Matmul takes ranks 1 and 2 only.
func.func @matmul_rank(%a: tensor<2x3x4xf32>, %b: tensor<4xf32>) {
  // expected-error @+1 {{matmul expects operands of rank 1 or 2}}
  %0 = dlc.matmul %a, %b : tensor<2x3x4xf32>, tensor<4xf32>
  return
}

// -----

// Reduction axes must be in range.
func.func @bad_axis(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{axis 2 is out of range}}
  %0 = dlc.sum %a axes [2] : tensor<2x3xf32>
  return
}

// -----

// A reshape keeps the number of elements.
func.func @bad_reshape(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{cannot reshape}}
  %0 = dlc.reshape %a : tensor<2x3xf32> -> tensor<7xf32>
  return
}

// -----

// A loss compares tensors of the same shape only.
func.func @bad_loss(%a: tensor<?x1xf32>, %b: tensor<?xf32>) {
  // expected-error @+1 {{mse expects a prediction and a target of the same type}}
  %0 = dlc.mse %a, %b : tensor<?x1xf32>, tensor<?xf32>
  return
}

// -----

// Transpose needs a permutation.
func.func @bad_perm(%a: tensor<2x3xf32>) {
  // expected-error @+1 {{invalid permutation}}
  %0 = dlc.transpose %a [0, 0] : tensor<2x3xf32>
  return
}

// -----

// Broadcast dimensions must fit.
func.func @bad_bcast(%a: tensor<3xf32>, %b: tensor<2x4xf32>) {
  // expected-error @+1 {{operand dimension 0 of size 3 cannot broadcast to size 4}}
  %0 = dlc.broadcast %a like %b [1] : tensor<3xf32>, tensor<2x4xf32>
  return
}

// -----

// Only f32 and f64 tensors.
func.func @bad_elem(%a: tensor<3xi32>) {
  // expected-error @+1 {{must be ranked tensor of 32-bit float or 64-bit float values}}
  %0 = dlc.exp %a : tensor<3xi32>
  return
}

// -----

// The symbolic batch size never meets a static size other than 1: it is
// unknown until run time.
func.func @batch_vs_static(%a: tensor<?xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{do not broadcast (dimension 0: the symbolic batch size against 3)}}
  %0 = dlc.add %a, %b : tensor<?xf32>, tensor<3xf32>
  return
}

// -----

func.func @batch_contraction(%a: tensor<4x?xf32>, %b: tensor<3x2xf32>) {
  // expected-error @+1 {{contracting dimensions differ: tensor<4x?xf32> @ tensor<3x2xf32> (batch vs 3)}}
  %0 = dlc.matmul %a, %b : tensor<4x?xf32>, tensor<3x2xf32>
  return
}
