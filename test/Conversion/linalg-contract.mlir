// RUN: dlc-opt %s -dlc-check-linalg-contract -verify-diagnostics
// A dlc op left after lowering breaks the linalg stage's contract.

func.func @f(%a: tensor<3xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'dlc.exp' was not lowered to linalg}}
  %0 = dlc.exp %a : tensor<3xf32>
  return %0 : tensor<3xf32>
}
