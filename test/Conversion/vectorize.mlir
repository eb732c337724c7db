// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-vectorize-linalg))' | FileCheck %s
// Static-shape linalg ops become vector ops; symbolic-batch ones stay.

// CHECK-LABEL: func @static_update
// CHECK: vector.transfer_read
// CHECK: arith.mulf %{{.*}} : vector<4xf32>
// CHECK: arith.subf %{{.*}} : vector<4xf32>
// CHECK: vector.transfer_write
// CHECK-NOT: linalg.generic
func.func @static_update(%p: tensor<4xf32>, %g: tensor<4xf32>, %lr: tensor<f32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%p, %g, %lr : tensor<4xf32>, tensor<4xf32>, tensor<f32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %o: f32):
    %m = arith.mulf %c, %b : f32
    %s = arith.subf %a, %m : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func @dynamic
// CHECK: linalg.generic
// CHECK-NOT: vector.transfer_read
func.func @dynamic(%x: tensor<?xf32>) -> tensor<?xf32> {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %x, %c0 : tensor<?xf32>
  %e = tensor.empty(%d) : tensor<?xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%x : tensor<?xf32>) outs(%e : tensor<?xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<?xf32>
  return %0 : tensor<?xf32>
}
