// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-vectorize-pooling{lanes=16}))' | FileCheck %s
// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-vectorize-pooling{lanes=16 parallel=1 min-work=1}))' | FileCheck %s --check-prefix=PAR
// 2 x 2 max pooling with stride 2: per window row, 32 inputs split into
// even and odd lanes, maxima with the output, 16 outputs at a time.

// CHECK-LABEL: func @max_pool
// CHECK: scf.for %{{.*}} step %c16
// CHECK: %[[OUT:.*]] = vector.maskedload %arg2
// CHECK: %[[LO:.*]] = vector.maskedload %arg0
// CHECK: %[[HI:.*]] = vector.maskedload %arg0
// CHECK: %[[E:.*]] = vector.shuffle %[[LO]], %[[HI]] [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK: %[[O:.*]] = vector.shuffle %[[LO]], %[[HI]] [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]
// CHECK: %[[M1:.*]] = arith.maximumf %[[OUT]], %[[E]]
// CHECK: arith.maximumf %[[M1]], %[[O]]
// CHECK-COUNT-2: arith.maximumf
// CHECK: vector.maskedstore %arg2
// CHECK-NOT: linalg.pooling_nchw_max
// PAR-LABEL: func @max_pool
// PAR: scf.parallel
func.func @max_pool(%x: memref<?x8x32x32xf32>, %w: memref<2x2xf32>, %y: memref<?x8x16x16xf32>) {
  linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%x, %w : memref<?x8x32x32xf32>, memref<2x2xf32>) outs(%y : memref<?x8x16x16xf32>)
  return
}

// -----

// Rows of 8, half a vector: 8 rows, loaded one at a time and joined in
// pairs into 4 vectors, give one vector of 16 outputs (4 output rows of 4)
// of the contiguous output plane.
// CHECK-LABEL: func @max_pool_half_rows
// CHECK: %[[OUT:.*]] = memref.collapse_shape %arg2 {{\[}}[0], [1], [2, 3]] : memref<?x16x4x4xf32> into memref<?x16x16xf32>
// CHECK-COUNT-8: vector.load %arg0{{.*}} vector<8xf32>
// CHECK: %[[E:.*]] = vector.shuffle %{{.*}}, %{{.*}} [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30]
// CHECK: %[[O:.*]] = vector.shuffle %{{.*}}, %{{.*}} [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]
// CHECK: %[[M0:.*]] = arith.maximumf %[[E]], %[[O]]
// CHECK: vector.shuffle
// CHECK: vector.shuffle
// CHECK: %[[M1:.*]] = arith.maximumf
// CHECK: %[[U:.*]] = vector.shuffle %[[M0]], %[[M1]] [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19, 24, 25, 26, 27]
// CHECK: %[[D:.*]] = vector.shuffle %[[M0]], %[[M1]] [4, 5, 6, 7, 12, 13, 14, 15, 20, 21, 22, 23, 28, 29, 30, 31]
// CHECK: %[[INIT:.*]] = vector.load %[[OUT]]
// CHECK: %[[UD:.*]] = arith.maximumf %[[U]], %[[D]]
// CHECK: %[[R:.*]] = arith.maximumf %[[INIT]], %[[UD]]
// CHECK: vector.store %[[R]], %[[OUT]]
// CHECK-NOT: linalg.pooling_nchw_max
func.func @max_pool_half_rows(%x: memref<?x16x8x8xf32>, %w: memref<2x2xf32>, %y: memref<?x16x4x4xf32>) {
  linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%x, %w : memref<?x16x8x8xf32>, memref<2x2xf32>) outs(%y : memref<?x16x4x4xf32>)
  return
}

// -----

// The same rows 10 apart (a slice of a convolution computed over the padded
// width): each row loaded alone, two joined per vector.
// CHECK-LABEL: func @max_pool_half_rows_strided
// CHECK-NOT: memref.collapse_shape %arg0
// CHECK: %[[OUT:.*]] = memref.collapse_shape %arg2
// CHECK: %[[R0:.*]] = vector.load %arg0{{.*}} vector<8xf32>
// CHECK: %[[R1:.*]] = vector.load %arg0{{.*}} vector<8xf32>
// CHECK: vector.shuffle %[[R0]], %[[R1]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]
// CHECK: vector.store %{{.*}}, %[[OUT]]
func.func @max_pool_half_rows_strided(%x: memref<?x16x8x8xf32, strided<[1280, 80, 10, 1]>>, %w: memref<2x2xf32>, %y: memref<?x16x4x4xf32>) {
  linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%x, %w : memref<?x16x8x8xf32, strided<[1280, 80, 10, 1]>>, memref<2x2xf32>) outs(%y : memref<?x16x4x4xf32>)
  return
}

// -----

// Other windows and strides stay loops.
// CHECK-LABEL: func @overlapping
// CHECK: linalg.pooling_nchw_max
func.func @overlapping(%x: memref<?x8x32x32xf32>, %w: memref<3x3xf32>, %y: memref<?x8x15x15xf32>) {
  linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
    ins(%x, %w : memref<?x8x32x32xf32>, memref<3x3xf32>) outs(%y : memref<?x8x15x15xf32>)
  return
}

// -----

// A max-pool gradient fused with a ReLU mask: elementwise, with the pooled
// values and their gradient read per 2 x 2 window. Those are loaded at half
// width and each lane repeated twice; the body runs on vectors.
// CHECK-LABEL: func @pool_gradient
// CHECK: scf.for %{{.*}} step %c16
// CHECK: vector.maskedload %arg0{{.*}} vector<16xf32>
// CHECK: %[[H:.*]] = vector.maskedload %arg1{{.*}} vector<8xf32>
// CHECK: vector.shuffle %[[H]], %[[H]] [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7]
// CHECK: arith.cmpf oeq, %{{.*}} : vector<16xf32>
// CHECK: arith.select %{{.*}} : vector<16xi1>, vector<16xf32>
// CHECK: vector.maskedstore %arg4
// CHECK-NOT: linalg.generic
func.func @pool_gradient(%x: memref<?x8x32x32xf32>, %y: memref<?x8x16x16xf32>, %g: memref<?x8x16x16xf32>, %pre: memref<?x8x32x32xf32>, %dx: memref<?x8x32x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h, w)>,
                                   affine_map<(n, c, h, w) -> (n, c, h floordiv 2, w floordiv 2)>,
                                   affine_map<(n, c, h, w) -> (n, c, h floordiv 2, w floordiv 2)>,
                                   affine_map<(n, c, h, w) -> (n, c, h, w)>,
                                   affine_map<(n, c, h, w) -> (n, c, h, w)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %y, %g, %pre : memref<?x8x32x32xf32>, memref<?x8x16x16xf32>, memref<?x8x16x16xf32>, memref<?x8x32x32xf32>)
      outs(%dx : memref<?x8x32x32xf32>) {
  ^bb0(%a: f32, %m: f32, %d: f32, %p: f32, %o: f32):
    %pos = arith.cmpf ogt, %p, %zero : f32
    %mask = arith.select %pos, %one, %zero : f32
    %hit = arith.cmpf oeq, %a, %m : f32
    %r = arith.select %hit, %d, %zero : f32
    %v = arith.mulf %r, %mask : f32
    linalg.yield %v : f32
  }
  return
}

// -----

// A body that reads the output is left alone.
// CHECK-LABEL: func @reads_output
// CHECK: linalg.generic
func.func @reads_output(%y: memref<?x8x16x16xf32>, %dx: memref<?x8x32x32xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, c, h, w) -> (n, c, h floordiv 2, w floordiv 2)>,
                                   affine_map<(n, c, h, w) -> (n, c, h, w)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%y : memref<?x8x16x16xf32>) outs(%dx : memref<?x8x32x32xf32>) {
  ^bb0(%m: f32, %o: f32):
    %v = arith.addf %m, %o : f32
    linalg.yield %v : f32
  }
  return
}
