// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-transpose-narrow-products{lanes=16}))' | FileCheck %s
// dlc-transpose-narrow-products computes a product with few output columns
// transposed, so that dlc-register-tile's vectors run along its long side.

// A narrow layer's weight gradient h^T dy, dy of 2 columns: the product
// into a zero-filled 2 x 64, then transposed into the 64 x 2 destination.
// CHECK-DAG: #[[K_M:.*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[K_N:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[N_M:.*]] = affine_map<(d0, d1, d2) -> (d1, d0)>
// CHECK-LABEL: func @weight_gradient
// CHECK: %[[E:.*]] = tensor.empty() : tensor<64x2xf32>
// CHECK: %[[ET:.*]] = tensor.empty() : tensor<2x64xf32>
// CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[ET]] : tensor<2x64xf32>)
// CHECK: %[[T:.*]] = linalg.generic {indexing_maps = [#[[K_M]], #[[K_N]], #[[N_M]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %arg1 : tensor<?x64xf32>, tensor<?x2xf32>) outs(%[[Z]] : tensor<2x64xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: linalg.transpose ins(%[[T]] : tensor<2x64xf32>) outs(%[[E]] : tensor<64x2xf32>) permutation = [1, 0]
// CHECK-NOT: linalg.matmul
func.func @weight_gradient(%h: tensor<?x64xf32>, %dy: tensor<?x2xf32>) -> tensor<64x2xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<64x2xf32>) -> tensor<64x2xf32>
  %dw = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%h, %dy : tensor<?x64xf32>, tensor<?x2xf32>) outs(%z : tensor<64x2xf32>) -> tensor<64x2xf32>
  return %dw : tensor<64x2xf32>
}

// -----

// A forward product x w with w of 2 columns (x reads its rows with a
// stride, so the transposed product would not read them contiguously):
// the same product reading a transposed copy of w at (n, k), both
// operands along k.
// CHECK-DAG: #[[M_K:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[N_K:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[M_N:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func @forward
// CHECK: %[[Z:.*]] = linalg.fill
// CHECK: %[[ET:.*]] = tensor.empty() : tensor<2x64xf32>
// CHECK: %[[WT:.*]] = linalg.transpose ins(%arg1 : tensor<64x2xf32>) outs(%[[ET]] : tensor<2x64xf32>) permutation = [1, 0]
// CHECK: linalg.generic {indexing_maps = [#[[M_K]], #[[N_K]], #[[M_N]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%arg0, %[[WT]] : tensor<?x64xf32>, tensor<2x64xf32>) outs(%[[Z]] : tensor<?x2xf32>)
// CHECK-NOT: linalg.matmul
// Left alone: a product of 16 columns (its transpose would take as many
// vectors: 16 rows of 4 against 64 rows of 1),
// and a weight gradient with a dynamic M.
// CHECK-LABEL: func @wide
// CHECK: linalg.matmul
// CHECK-NOT: linalg.transpose
// CHECK-LABEL: func @dynamic_rows
// CHECK: linalg.matmul
// CHECK-NOT: linalg.transpose
func.func @forward(%x: tensor<?x64xf32>, %w: tensor<64x2xf32>) -> tensor<?x2xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x64xf32>
  %e = tensor.empty(%n) : tensor<?x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  %y = linalg.matmul ins(%x, %w : tensor<?x64xf32>, tensor<64x2xf32>) outs(%z : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
func.func @wide(%h: tensor<?x64xf32>, %dy: tensor<?x16xf32>) -> tensor<64x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x16xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<64x16xf32>) -> tensor<64x16xf32>
  %dw = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%h, %dy : tensor<?x64xf32>, tensor<?x16xf32>) outs(%z : tensor<64x16xf32>) -> tensor<64x16xf32>
  return %dw : tensor<64x16xf32>
}
func.func @dynamic_rows(%h: tensor<8x?xf32>, %dy: tensor<8x2xf32>) -> tensor<?x2xf32> {
  %zero = arith.constant 0.0 : f32
  %c1 = arith.constant 1 : index
  %m = tensor.dim %h, %c1 : tensor<8x?xf32>
  %e = tensor.empty(%m) : tensor<?x2xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<?x2xf32>) -> tensor<?x2xf32>
  %dw = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%h, %dy : tensor<8x?xf32>, tensor<8x2xf32>) outs(%z : tensor<?x2xf32>) -> tensor<?x2xf32>
  return %dw : tensor<?x2xf32>
}

// -----

// A product accumulating into a gradient (a layer used twice): it starts
// from the transposed accumulator.
// CHECK-LABEL: func @accumulating
// CHECK: %[[ET:.*]] = tensor.empty() : tensor<2x64xf32>
// CHECK: %[[START:.*]] = linalg.transpose ins(%arg2 : tensor<64x2xf32>) outs(%[[ET]] : tensor<2x64xf32>) permutation = [1, 0]
// CHECK: %[[T:.*]] = linalg.generic {{.*}} outs(%[[START]] : tensor<2x64xf32>)
// CHECK: linalg.transpose ins(%[[T]] : tensor<2x64xf32>) outs(%arg2 : tensor<64x2xf32>) permutation = [1, 0]
// CHECK-NOT: linalg.matmul
func.func @accumulating(%h: tensor<?x64xf32>, %dy: tensor<?x2xf32>, %acc: tensor<64x2xf32>) -> tensor<64x2xf32> {
  %dw = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%h, %dy : tensor<?x64xf32>, tensor<?x2xf32>) outs(%acc : tensor<64x2xf32>) -> tensor<64x2xf32>
  return %dw : tensor<64x2xf32>
}

// -----

// The 10 classes of a 128 x 10 weight gradient: 128 masked vectors a step,
// transposed 10 rows of 8 full ones.
// CHECK-LABEL: func @classes
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<10x128xf32>)
// CHECK: linalg.transpose ins(%{{.*}} : tensor<10x128xf32>) outs(%{{.*}} : tensor<128x10xf32>)
func.func @classes(%h: tensor<?x128xf32>, %dy: tensor<?x10xf32>) -> tensor<128x10xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<128x10xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<128x10xf32>) -> tensor<128x10xf32>
  %dw = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%h, %dy : tensor<?x128xf32>, tensor<?x10xf32>) outs(%z : tensor<128x10xf32>) -> tensor<128x10xf32>
  return %dw : tensor<128x10xf32>
}
