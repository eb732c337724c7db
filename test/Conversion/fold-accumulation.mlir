// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-fold-accumulation))' | FileCheck %s
// A sum of a tensor and a matmul's product into zeros becomes the matmul
// accumulating into the tensor.

#id = affine_map<(i, j) -> (i, j)>

// A weight gradient summed over a loop's steps: the matmul accumulates into
// the loop-carried sum, the addition is gone.
// CHECK-LABEL: func @gradient_sum
// CHECK: scf.for {{.*}} iter_args(%[[SUM:.*]] = %arg2)
// CHECK: %[[M:.*]] = linalg.matmul ins(%arg0, %arg1 : tensor<128x32xf32>, tensor<32x128xf32>) outs(%[[SUM]] : tensor<128x128xf32>)
// CHECK-NOT: linalg.generic
// CHECK: scf.yield %[[M]]
func.func @gradient_sum(%a: tensor<128x32xf32>, %b: tensor<32x128xf32>, %init: tensor<128x128xf32>) -> tensor<128x128xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%sum = %init) -> tensor<128x128xf32> {
    %e = tensor.empty() : tensor<128x128xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<128x128xf32>) -> tensor<128x128xf32>
    %m = linalg.matmul ins(%a, %b : tensor<128x32xf32>, tensor<32x128xf32>) outs(%z : tensor<128x128xf32>) -> tensor<128x128xf32>
    %s = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
        ins(%sum, %m : tensor<128x128xf32>, tensor<128x128xf32>) outs(%e : tensor<128x128xf32>) {
    ^bb0(%x: f32, %y: f32, %o: f32):
      %t = arith.addf %x, %y : f32
      linalg.yield %t : f32
    } -> tensor<128x128xf32>
    scf.yield %s : tensor<128x128xf32>
  }
  return %r : tensor<128x128xf32>
}

// -----

#id = affine_map<(i, j) -> (i, j)>

// Two products summed (a weight used twice): the second accumulates into
// the first, whichever operand of the addition it is.
// CHECK-LABEL: func @two_products
// CHECK: %[[Z:.*]] = linalg.fill
// CHECK: %[[M1:.*]] = linalg.matmul ins(%arg0, %arg1 : {{.*}}) outs(%[[Z]] :
// CHECK: %[[M2:.*]] = linalg.matmul ins(%arg2, %arg3 : {{.*}}) outs(%[[M1]] :
// CHECK-NOT: linalg.generic
// CHECK: return %[[M2]]
func.func @two_products(%a: tensor<?x64xf32>, %b: tensor<64x16xf32>, %c: tensor<?x64xf32>, %d: tensor<64x16xf32>) -> tensor<?x16xf32> {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = tensor.dim %a, %c0 : tensor<?x64xf32>
  %e = tensor.empty(%n) : tensor<?x16xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<?x16xf32>) -> tensor<?x16xf32>
  %m1 = linalg.matmul ins(%a, %b : tensor<?x64xf32>, tensor<64x16xf32>) outs(%z : tensor<?x16xf32>) -> tensor<?x16xf32>
  %m2 = linalg.matmul ins(%c, %d : tensor<?x64xf32>, tensor<64x16xf32>) outs(%z : tensor<?x16xf32>) -> tensor<?x16xf32>
  %s = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m2, %m1 : tensor<?x16xf32>, tensor<?x16xf32>) outs(%e : tensor<?x16xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %t = arith.addf %x, %y : f32
    linalg.yield %t : f32
  } -> tensor<?x16xf32>
  return %s : tensor<?x16xf32>
}

// -----

#id = affine_map<(i, j) -> (i, j)>

// Not folded: a product read again elsewhere, a sum that is not a plain
// addition, a broadcast operand.
// CHECK-LABEL: func @left_alone
// CHECK-COUNT-3: linalg.generic
func.func @left_alone(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>, %x: tensor<8x8xf32>, %v: tensor<8xf32>) -> (tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<8x8xf32>) -> tensor<8x8xf32>
  %m = linalg.matmul ins(%a, %b : tensor<8x8xf32>, tensor<8x8xf32>) outs(%z : tensor<8x8xf32>) -> tensor<8x8xf32>
  %s = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %m : tensor<8x8xf32>, tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %t = arith.addf %p, %q : f32
    linalg.yield %t : f32
  } -> tensor<8x8xf32>
  %m2 = linalg.matmul ins(%b, %a : tensor<8x8xf32>, tensor<8x8xf32>) outs(%z : tensor<8x8xf32>) -> tensor<8x8xf32>
  %d = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %m2 : tensor<8x8xf32>, tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %t = arith.subf %p, %q : f32
    linalg.yield %t : f32
  } -> tensor<8x8xf32>
  %m3 = linalg.matmul ins(%a, %a : tensor<8x8xf32>, tensor<8x8xf32>) outs(%z : tensor<8x8xf32>) -> tensor<8x8xf32>
  %w = linalg.generic {indexing_maps = [affine_map<(i, j) -> (j)>, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%v, %m3 : tensor<8xf32>, tensor<8x8xf32>) outs(%e : tensor<8x8xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %t = arith.addf %p, %q : f32
    linalg.yield %t : f32
  } -> tensor<8x8xf32>
  return %s, %m, %d, %w : tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>, tensor<8x8xf32>
}
