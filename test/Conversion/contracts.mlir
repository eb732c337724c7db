// RUN: dlc-opt %s -split-input-file -dlc-check-llvm-contract -verify-diagnostics
// The contract checks between stages name the first op that did not lower.

module {
  // expected-error @+1 {{'func.func' did not lower to the LLVM dialect}}
  func.func @f() {
    return
  }
}

// -----

module {
  llvm.func @g() {
    llvm.return
  }
}
