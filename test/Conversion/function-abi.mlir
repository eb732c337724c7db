// RUN: dlc-opt %s -split-input-file -dlc-lower-function-abi | FileCheck %s
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

// -----

// An update with several results (Adam's moment and the parameter, merged
// by dlc-merge-updates) writes each into its own argument: both inits
// become the arguments' tensors, made writable.
#id = affine_map<(i) -> (i)>
// CHECK-LABEL: func.func @merged_update
// CHECK-SAME: (%[[P:[a-z0-9]+]]: memref<8xf32>, %[[M:[a-z0-9]+]]: memref<8xf32>, %[[G:[a-z0-9]+]]: memref<8xf32>)
// CHECK-DAG: %[[PT:.*]] = bufferization.to_tensor %[[P]] restrict writable
// CHECK-DAG: %[[MT:.*]] = bufferization.to_tensor %[[M]] restrict writable
// CHECK: linalg.generic {{.*}} outs(%[[MT]], %[[PT]] : tensor<8xf32>, tensor<8xf32>)
// CHECK: bufferization.materialize_in_destination %{{.*}} in writable %[[P]]
// CHECK: bufferization.materialize_in_destination %{{.*}} in writable %[[M]]
func.func @merged_update(%p: tensor<8xf32>, %m: tensor<8xf32>, %g: tensor<8xf32>) -> (tensor<8xf32> {dlc.aliases = 0 : i64}, tensor<8xf32> {dlc.aliases = 1 : i64}) {
  %e = tensor.empty() : tensor<8xf32>
  %r:2 = linalg.generic {indexing_maps = [#id, #id, #id, #id, #id], iterator_types = ["parallel"]}
      ins(%p, %m, %g : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) outs(%e, %e : tensor<8xf32>, tensor<8xf32>) {
  ^bb0(%pv: f32, %mv: f32, %gv: f32, %o0: f32, %o1: f32):
    %m2 = arith.addf %mv, %gv : f32
    %p2 = arith.subf %pv, %m2 : f32
    linalg.yield %m2, %p2 : f32, f32
  } -> (tensor<8xf32>, tensor<8xf32>)
  return %r#1, %r#0 : tensor<8xf32>, tensor<8xf32>
}
