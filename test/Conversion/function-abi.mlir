// RUN: dlc-opt %s -dlc-lower-function-abi | FileCheck %s
// Tensor boundaries become caller-owned memrefs: an aliased result is written
// into its argument (in place), other results into new output arguments.

// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[P:[a-z0-9]+]]: memref<3xf32>, %[[X:[a-z0-9]+]]: memref<?x3xf32>, %[[OUT:[a-z0-9]+]]: memref<f32>)
// CHECK-SAME: attributes {llvm.emit_c_interface}
// CHECK: %[[PT:.*]] = bufferization.to_tensor %[[P]] restrict
// CHECK: %[[XT:.*]] = bufferization.to_tensor %[[X]] restrict
// CHECK: bufferization.materialize_in_destination %{{.*}} in writable %[[P]]
// CHECK: bufferization.materialize_in_destination %{{.*}} in writable %[[OUT]]
// CHECK: return
// CHECK-NOT: dlc.
func.func @step(%p: tensor<3xf32> {dlc.param}, %x: tensor<?x3xf32>) -> (tensor<3xf32> {dlc.aliases = 0 : i64}, tensor<f32> {dlc.name = "loss"}) {
  %c = arith.constant dense<1.0> : tensor<f32>
  %p2 = arith.addf %p, %p : tensor<3xf32>
  return %p2, %c : tensor<3xf32>, tensor<f32>
}
