// RUN: dlc-opt %s -split-input-file -dlc-autodiff -verify-diagnostics
// dlc-autodiff fails loudly, at the op, when it cannot differentiate.

// An active op without a gradient rule.
func.func @no_rule(%w: tensor<f32> {dlc.param}) -> tensor<f32> attributes {dlc.loss} {
  // expected-error @+1 {{no gradient rule for 'arith.addf'}}
  %0 = arith.addf %w, %w : tensor<f32>
  return %0 : tensor<f32>
}

// -----

// The loss must be a scalar.
func.func @not_scalar(%w: tensor<3xf32> {dlc.param}) -> tensor<3xf32> attributes {dlc.loss} {
  // expected-error @+1 {{the loss must be a scalar}}
  %0 = dlc.exp %w : tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// The loss must depend on a parameter.
func.func @inactive(%w: tensor<f32> {dlc.param}, %x: tensor<f32>) -> tensor<f32> attributes {dlc.loss} {
  // expected-error @+1 {{the loss does not depend on any parameter}}
  %0 = dlc.exp %x : tensor<f32>
  return %0 : tensor<f32>
}
