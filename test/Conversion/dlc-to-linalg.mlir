// RUN: dlc-opt %s -split-input-file -dlc-convert-to-linalg -dlc-check-linalg-contract | FileCheck %s
// dlc-convert-to-linalg lowers each op family to linalg on tensors.

// Broadcasting add: the scalar operand reads a 0-d map, the symbolic
// dimension is read with tensor.dim.
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[SCALAR:.*]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func @add_broadcast
// CHECK: %[[D:.*]] = tensor.dim %arg0, %{{.*}} : tensor<?xf32>
// CHECK: %[[E:.*]] = tensor.empty(%[[D]]) : tensor<?xf32>
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[SCALAR]], #[[ID]]], iterator_types = ["parallel"]}
// CHECK: arith.addf
func.func @add_broadcast(%a: tensor<?xf32>, %b: tensor<f32>) -> tensor<?xf32> {
  %0 = dlc.add %a, %b : tensor<?xf32>, tensor<f32>
  return %0 : tensor<?xf32>
}

// -----

// Matrix-vector products become linalg.matvec on a zero-filled init.
// CHECK-LABEL: func @matvec
// CHECK: linalg.fill
// CHECK: linalg.matvec ins(%arg0, %arg1 : tensor<?x4xf32>, tensor<4xf32>)
func.func @matvec(%a: tensor<?x4xf32>, %b: tensor<4xf32>) -> tensor<?xf32> {
  %0 = dlc.matmul %a, %b : tensor<?x4xf32>, tensor<4xf32>
  return %0 : tensor<?xf32>
}

// -----

// The gradients' transposed operands are read through the matmul's indexing
// maps (the transposes left behind are dead; canonicalization removes them;
// a named op, so that elementwise fusion leaves the contraction alone):
// x^T @ dy, and g @ w^T when the reduction is long (256 or more, or the
// batch). A short reduction keeps the copy.
// CHECK-DAG: #[[KI:.*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[KJ:.*]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[IJ:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[IK:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[JK:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func @matmul_transposed
// CHECK: linalg.matmul indexing_maps = [#[[KI]], #[[KJ]], #[[IJ]]] ins(%arg0, %arg1 : tensor<?x5xf32>, tensor<?x3xf32>)
// CHECK: linalg.matmul indexing_maps = [#[[IK]], #[[JK]], #[[IJ]]] ins(%arg2, %arg3 : tensor<?x256xf32>, tensor<5x256xf32>)
// CHECK: linalg.transpose ins(%arg4 : tensor<5x3xf32>)
// CHECK: linalg.matmul
func.func @matmul_transposed(%x: tensor<?x5xf32>, %dy: tensor<?x3xf32>, %g: tensor<?x256xf32>, %w: tensor<5x256xf32>, %v: tensor<5x3xf32>) -> (tensor<5x3xf32>, tensor<?x5xf32>, tensor<?x5xf32>) {
  %xt = dlc.transpose %x [1, 0] : tensor<?x5xf32>
  %dw = dlc.matmul %xt, %dy : tensor<5x?xf32>, tensor<?x3xf32>
  %wt = dlc.transpose %w [1, 0] : tensor<5x256xf32>
  %dx = dlc.matmul %g, %wt : tensor<?x256xf32>, tensor<256x5xf32>
  %vt = dlc.transpose %v [1, 0] : tensor<5x3xf32>
  %dz = dlc.matmul %dy, %vt : tensor<?x3xf32>, tensor<3x5xf32>
  return %dw, %dx, %dz : tensor<5x3xf32>, tensor<?x5xf32>, tensor<?x5xf32>
}

// -----

// CHECK-LABEL: func @matmul
// CHECK: linalg.matmul ins(%arg0, %arg1 : tensor<?x4xf64>, tensor<4x3xf64>)
func.func @matmul(%a: tensor<?x4xf64>, %b: tensor<4x3xf64>) -> tensor<?x3xf64> {
  %0 = dlc.matmul %a, %b : tensor<?x4xf64>, tensor<4x3xf64>
  return %0 : tensor<?x3xf64>
}

// -----

// One output column over a reduction of 16 or more (a discriminator's
// logit): the right operand, K x 1, reshaped to 1 x K (not copied), and the
// matmul reads both operands along the reduction (dot products). More
// columns, or a short reduction, stay a plain matmul.
// CHECK-DAG: #[[IK:.*]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[JK:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[IJ:.*]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func @few_columns
// CHECK: %[[C:.*]] = tensor.collapse_shape %arg1 {{\[}}[0, 1]] : tensor<64x1xf32> into tensor<64xf32>
// CHECK: %[[T:.*]] = tensor.expand_shape %[[C]] {{\[}}[0, 1]] output_shape [1, 64] : tensor<64xf32> into tensor<1x64xf32>
// CHECK: linalg.matmul indexing_maps = [#[[IK]], #[[JK]], #[[IJ]]] ins(%arg0, %[[T]] : tensor<?x64xf32>, tensor<1x64xf32>)
// CHECK: linalg.matmul ins(%arg2, %arg3 : tensor<?x8xf32>, tensor<8x1xf32>)
// CHECK: linalg.matmul ins(%arg4, %arg5 : tensor<?x64xf32>, tensor<64x2xf32>)
func.func @few_columns(%h: tensor<?x64xf32>, %w: tensor<64x1xf32>, %z: tensor<?x8xf32>, %v: tensor<8x1xf32>, %g: tensor<?x64xf32>, %u: tensor<64x2xf32>) -> (tensor<?x1xf32>, tensor<?x1xf32>, tensor<?x2xf32>) {
  %0 = dlc.matmul %h, %w : tensor<?x64xf32>, tensor<64x1xf32>
  %1 = dlc.matmul %z, %v : tensor<?x8xf32>, tensor<8x1xf32>
  %2 = dlc.matmul %g, %u : tensor<?x64xf32>, tensor<64x2xf32>
  return %0, %1, %2 : tensor<?x1xf32>, tensor<?x1xf32>, tensor<?x2xf32>
}

// -----

// A mean is a reduction followed by a division by the (runtime) count.
// CHECK-LABEL: func @mean
// CHECK: %[[N:.*]] = tensor.dim %arg0
// CHECK: arith.index_cast %[[N]]
// CHECK: arith.sitofp
// CHECK: linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK: arith.divf
func.func @mean(%a: tensor<?x4xf32>) -> tensor<4xf32> {
  %0 = dlc.mean %a axes [0] : tensor<?x4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Small integer powers are multiplications (exact for negative bases).
// CHECK-LABEL: func @square
// CHECK: linalg.generic
// CHECK: ^bb0(%[[X:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.mulf %[[X]], %[[X]]
// CHECK-NOT: math.powf
func.func @square(%a: tensor<?xf32>) -> tensor<?xf32> {
  %c = dlc.constant dense<2.0> : tensor<f32>
  %0 = dlc.pow %a, %c : tensor<?xf32>, tensor<f32>
  return %0 : tensor<?xf32>
}

// -----

// Losses are decomposed before lowering: bce uses the stable softplus form.
// CHECK-LABEL: func @bce
// CHECK: math.absf
// CHECK: math.exp
// CHECK: math.log
// CHECK: arith.maximumf
func.func @bce(%z: tensor<?xf32>, %y: tensor<?xf32>) -> tensor<f32> {
  %0 = dlc.bce_with_logits %z, %y : tensor<?xf32>, tensor<?xf32>
  return %0 : tensor<f32>
}

// -----

// Reshapes with a symbolic dimension are expansions or collapses.
// CHECK-LABEL: func @reshape
// CHECK: tensor.expand_shape %arg0 {{\[\[}}0, 1]]
func.func @reshape(%a: tensor<?xf32>) -> tensor<?x1xf32> {
  %0 = dlc.reshape %a : tensor<?xf32> -> tensor<?x1xf32>
  return %0 : tensor<?x1xf32>
}

// -----

// Transposes and broadcasts.
// CHECK-LABEL: func @layout
// CHECK: linalg.transpose ins(%arg0 : tensor<?x4xf32>) outs(%{{.*}} : tensor<4x?xf32>) permutation = [1, 0]
// CHECK: linalg.generic
func.func @layout(%a: tensor<?x4xf32>, %g: tensor<?xf32>) -> (tensor<4x?xf32>, tensor<?x4xf32>) {
  %0 = dlc.transpose %a [1, 0] : tensor<?x4xf32>
  %1 = dlc.broadcast %g like %a [0] : tensor<?xf32>, tensor<?x4xf32>
  return %0, %1 : tensor<4x?xf32>, tensor<?x4xf32>
}

// -----

// An image narrower than 16 columns is convolved over its padded width: the
// padded input (one more row at the bottom) is one row of 11 x 10 elements
// per channel, the output 8 rows of the padded width 10, read at
// q + 10 i + j, and the 8 real columns of each row are sliced out.
// CHECK-DAG: #[[IN:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d2 + d4 * 10 + d5)>
// CHECK-DAG: #[[W:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d3, d4, d5)>
// CHECK-DAG: #[[OUT:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2)>
// CHECK-LABEL: func @conv_narrow
// CHECK: tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 2, 1]
// CHECK: tensor.collapse_shape %{{.*}} {{\[}}[0], [1], [2, 3]] : tensor<?x4x11x10xf32> into tensor<?x4x110xf32>
// CHECK: linalg.generic {indexing_maps = [#[[IN]], #[[W]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
// CHECK-SAME: outs(%{{.*}} : tensor<?x16x80xf32>)
// CHECK: tensor.expand_shape %{{.*}} {{\[}}[0], [1], [2, 3]] output_shape [%{{.*}}, 16, 8, 10]
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0] [%{{.*}}, 16, 8, 8] [1, 1, 1, 1]
func.func @conv_narrow(%x: tensor<?x4x8x8xf32>, %w: tensor<16x4x3x3xf32>) -> tensor<?x16x8x8xf32> {
  %0 = dlc.conv2d %x, %w stride [1, 1] padding [1, 1] dilation [1, 1]
      : tensor<?x4x8x8xf32>, tensor<16x4x3x3xf32>
  return %0 : tensor<?x16x8x8xf32>
}

// -----

// Its input gradient likewise: the output gradient padded by K - 1 - p,
// read through the flipped window, the filter through plain indices.
// CHECK-DAG: #[[G:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d3, d2 + (-d4 + 2) * 10 + -d5 + 2)>
// CHECK-DAG: #[[WG:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d1, d4, d5)>
// CHECK-LABEL: func @conv_narrow_grad_input
// CHECK: tensor.pad %arg0 low[0, 0, 1, 1] high[0, 0, 2, 1]
// CHECK: linalg.generic {indexing_maps = [#[[G]], #[[WG]], #{{.*}}]
// CHECK-SAME: outs(%{{.*}} : tensor<?x4x80xf32>)
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0] [%{{.*}}, 4, 8, 8] [1, 1, 1, 1]
func.func @conv_narrow_grad_input(%g: tensor<?x16x8x8xf32>, %w: tensor<16x4x3x3xf32>, %x: tensor<?x4x8x8xf32>) -> tensor<?x4x8x8xf32> {
  %0 = dlc.conv2d_grad_input %g, %w like %x stride [1, 1] padding [1, 1]
      dilation [1, 1] : tensor<?x16x8x8xf32>, tensor<16x4x3x3xf32>, tensor<?x4x8x8xf32>
  return %0 : tensor<?x4x8x8xf32>
}

// -----

// 16 columns or more (or a stride): linalg's named convolution as before.
// CHECK-LABEL: func @conv_wide
// CHECK: linalg.conv_2d_nchw_fchw
func.func @conv_wide(%x: tensor<?x3x32x32xf32>, %w: tensor<8x3x3x3xf32>) -> tensor<?x8x32x32xf32> {
  %0 = dlc.conv2d %x, %w stride [1, 1] padding [1, 1] dilation [1, 1]
      : tensor<?x3x32x32xf32>, tensor<8x3x3x3xf32>
  return %0 : tensor<?x8x32x32xf32>
}

// -----

// cross_entropy reads each row's shifted logit at its label (tensor.extract
// in the body) instead of summing a one-hot product over the classes; a
// label that is no class contributes 0 (as one_hot matches nowhere).
// CHECK-LABEL: func @cross_entropy
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%arg1, %{{.*}} : tensor<?xf32>, tensor<?x1xf32>)
// CHECK: %[[LO:.*]] = arith.cmpf oge
// CHECK: %[[HI:.*]] = arith.cmpf olt
// CHECK: %[[IN:.*]] = arith.andi %[[LO]], %[[HI]]
// CHECK: %[[SAFE:.*]] = arith.select %[[IN]]
// CHECK: %[[K:.*]] = arith.fptosi %[[SAFE]]
// CHECK: %[[KF:.*]] = arith.sitofp %[[K]]
// CHECK: %[[INT:.*]] = arith.cmpf oeq, %[[KF]]
// CHECK: %[[VALID:.*]] = arith.andi %[[IN]], %[[INT]]
// CHECK: %[[COL:.*]] = arith.select %[[VALID]], %[[K]]
// CHECK: %[[COLI:.*]] = arith.index_cast %[[COL]]
// CHECK: %[[ROW:.*]] = linalg.index 0
// CHECK: tensor.extract %{{.*}}[%[[ROW]], %[[COLI]]] : tensor<?x10xf32>
// CHECK: math.log
// CHECK: arith.select %[[VALID]]
// CHECK-NOT: linalg.index 1
func.func @cross_entropy(%z: tensor<?x10xf32>, %y: tensor<?xf32>) -> tensor<f32> {
  %0 = dlc.cross_entropy %z, %y : tensor<?x10xf32>, tensor<?xf32>
  return %0 : tensor<f32>
}
