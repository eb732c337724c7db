// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-collapse-elementwise))' | FileCheck %s
// Elementwise ops and reductions merge their contiguous static loops of one
// iterator type; the batch stays a dimension of its own.

// CHECK-LABEL: func @relu
// CHECK: tensor.collapse_shape %arg0 {{\[}}[0], [1, 2, 3]] : tensor<?x16x8x8xf32> into tensor<?x1024xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]}
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2, 3]]
func.func @relu(%x: tensor<?x16x8x8xf32>, %init: tensor<?x16x8x8xf32>) -> tensor<?x16x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %0 = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (n, c, h, w)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<?x16x8x8xf32>) outs(%init : tensor<?x16x8x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %zero : f32
    linalg.yield %m : f32
  } -> tensor<?x16x8x8xf32>
  return %0 : tensor<?x16x8x8xf32>
}

// -----

// A per-channel operand: (h, w) merge, c stays.
// CHECK-LABEL: func @channel_scale
// CHECK: tensor.collapse_shape %arg0 {{\[}}[0], [1], [2, 3]] : tensor<?x16x8x8xf32> into tensor<?x16x64xf32>
// CHECK: iterator_types = ["parallel", "parallel", "parallel"]
func.func @channel_scale(%x: tensor<?x16x8x8xf32>, %s: tensor<16xf32>, %init: tensor<?x16x8x8xf32>) -> tensor<?x16x8x8xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (c)>, affine_map<(n, c, h, w) -> (n, c, h, w)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %s : tensor<?x16x8x8xf32>, tensor<16xf32>) outs(%init : tensor<?x16x8x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %m = arith.mulf %a, %b : f32
    linalg.yield %m : f32
  } -> tensor<?x16x8x8xf32>
  return %0 : tensor<?x16x8x8xf32>
}

// -----

// A bias [16, 1, 1] read at (c, 0, 0) is read as [16] at (c): the op then
// merges (h, w). A reduction whose loops do not merge is left alone.
// CHECK-LABEL: func @left_alone
// CHECK: tensor.collapse_shape %arg1 {{\[}}[0, 1, 2]] : tensor<16x1x1xf32> into tensor<16xf32>
// CHECK: iterator_types = ["parallel", "parallel", "parallel"]} ins(%{{.*}}, %{{.*}} : tensor<?x16x64xf32>, tensor<16xf32>)
// CHECK-NOT: tensor.collapse_shape %arg3
// CHECK: iterator_types = ["parallel", "reduction"]
func.func @left_alone(%x: tensor<?x16x8x8xf32>, %b: tensor<16x1x1xf32>, %init: tensor<?x16x8x8xf32>, %y: tensor<?x64xf32>, %acc: tensor<?xf32>) -> (tensor<?x16x8x8xf32>, tensor<?xf32>) {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>, affine_map<(n, c, h, w) -> (c, 0, 0)>, affine_map<(n, c, h, w) -> (n, c, h, w)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %b : tensor<?x16x8x8xf32>, tensor<16x1x1xf32>) outs(%init : tensor<?x16x8x8xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %m = arith.addf %a, %c : f32
    linalg.yield %m : f32
  } -> tensor<?x16x8x8xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(n, k) -> (n, k)>, affine_map<(n, k) -> (n)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%y : tensor<?x64xf32>) outs(%acc : tensor<?xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %o : f32
    linalg.yield %s : f32
  } -> tensor<?xf32>
  return %0, %1 : tensor<?x16x8x8xf32>, tensor<?xf32>
}

// -----

// An update written in place into an argument (its init is the argument
// itself) collapses too; the pipeline runs CSE after this pass so that the
// input and the init are one reshape of the argument, and bufferization
// still writes in place.
// CHECK-LABEL: func @in_place_update
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0, 1]] : tensor<16x64xf32> into tensor<1024xf32>
// CHECK: iterator_types = ["parallel"]
func.func @in_place_update(%w: memref<16x64xf32>, %g: tensor<16x64xf32>) -> tensor<16x64xf32> {
  %t = bufferization.to_tensor %w restrict writable : memref<16x64xf32> to tensor<16x64xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%t, %g : tensor<16x64xf32>, tensor<16x64xf32>) outs(%t : tensor<16x64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.subf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<16x64xf32>
  return %0 : tensor<16x64xf32>
}

// -----

// A conv bias's gradient: the sum over each image's 8 x 8 pixels is one
// reduction of 64, the unit channel dimensions merge with the channels.
// CHECK-LABEL: func @pixel_sum
// CHECK: tensor.collapse_shape %arg0 {{\[}}[0], [1, 2, 3], [4, 5]] : tensor<?x32x1x1x8x8xf32> into tensor<?x32x64xf32>
// CHECK: iterator_types = ["parallel", "parallel", "reduction"]
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1, 2, 3]]
func.func @pixel_sum(%x: tensor<?x32x1x1x8x8xf32>, %acc: tensor<?x32x1x1xf32>) -> tensor<?x32x1x1xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, c, a, b, h, w) -> (n, c, a, b, h, w)>, affine_map<(n, c, a, b, h, w) -> (n, c, a, b)>],
                       iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x : tensor<?x32x1x1x8x8xf32>) outs(%acc : tensor<?x32x1x1xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %o : f32
    linalg.yield %s : f32
  } -> tensor<?x32x1x1xf32>
  return %0 : tensor<?x32x1x1xf32>
}
