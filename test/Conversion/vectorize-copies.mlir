// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-vectorize-copies{lanes=16}))' | FileCheck %s
// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-vectorize-copies{lanes=16 parallel=1 min-work=1}))' | FileCheck %s --check-prefix=PAR
// Copies contiguous along the last dimension (here into the interior of a
// padded buffer) become masked vector copies along it.

// CHECK-LABEL: func @pad_interior
// CHECK: scf.for %[[N:.*]] =
// CHECK: scf.for %[[C:.*]] =
// CHECK: scf.for %[[Y:.*]] =
// CHECK: scf.for %[[X:.*]] = %{{.*}} to %{{.*}} step %c16
// CHECK: %[[M:.*]] = vector.create_mask
// CHECK: %[[V:.*]] = vector.maskedload %arg0[%[[N]], %[[C]], %[[Y]], %[[X]]], %[[M]]
// CHECK: vector.maskedstore %arg1[%[[N]], %[[C]], %[[Y]], %[[X]]], %[[M]], %[[V]]
// CHECK-NOT: linalg.copy
// PAR-LABEL: func @pad_interior
// PAR: scf.parallel
// PAR-NOT: scf.parallel
// PAR: vector.maskedstore
func.func @pad_interior(%x: memref<?x3x32x32xf32>, %pad: memref<?x3x32x32xf32, strided<[3468, 1156, 34, 1], offset: 35>>) {
  linalg.copy ins(%x : memref<?x3x32x32xf32>) outs(%pad : memref<?x3x32x32xf32, strided<[3468, 1156, 34, 1], offset: 35>>)
  return
}

// -----

// A copy whose last dimension is strided stays a linalg.copy.
// CHECK-LABEL: func @strided
// CHECK: linalg.copy
func.func @strided(%x: memref<8x8xf32, strided<[1, 8]>>, %y: memref<8x8xf32>) {
  linalg.copy ins(%x : memref<8x8xf32, strided<[1, 8]>>) outs(%y : memref<8x8xf32>)
  return
}

// -----

// Fills: linalg.fill, and a padded buffer's border (an op without inputs
// yielding a value from outside). A contiguous buffer is filled as one 1-D
// run (LLVM makes it a memset); a strided one with vector stores of a
// splat along its last dimension.
// CHECK-LABEL: func @fills
// CHECK: %[[FLAT:.*]] = memref.collapse_shape %arg0 {{\[}}[0, 1, 2]] : memref<?x64x36xf32> into memref<?xf32>
// CHECK: linalg.fill ins(%arg2 : f32) outs(%[[FLAT]] : memref<?xf32>)
// CHECK: %[[Z:.*]] = vector.broadcast %{{.*}} : f32 to vector<16xf32>
// CHECK: vector.maskedstore %arg1[{{.*}}], %{{.*}}, %[[Z]]
// CHECK-NOT: linalg.map
func.func @fills(%a: memref<?x64x36xf32>, %b: memref<?x3x32x32xf32, strided<[3468, 1156, 34, 1], offset: 35>>, %v: f32) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%v : f32) outs(%a : memref<?x64x36xf32>)
  linalg.map outs(%b : memref<?x3x32x32xf32, strided<[3468, 1156, 34, 1], offset: 35>>)
    (%init: f32) {
      linalg.yield %zero : f32
    }
  return
}

// -----

// NCHW -> NHWC with 32 channels: squares of 16 channels x 16 columns, read
// as 16 masked vectors along the input's W (rows past the channels masked
// off), transposed in 4 rounds of 16 shuffles, stored as 16 masked vectors
// along the output's C (rows past W masked off: the 34-wide row's last
// square has 2 columns).
// CHECK-LABEL: func @to_channels_last
// CHECK: scf.for %[[N:.*]] =
// CHECK: scf.for %[[Y:.*]] =
// CHECK: scf.for %[[X:.*]] = %{{.*}} to %{{.*}} step %c16
// CHECK: scf.for %[[C:.*]] = %{{.*}} to %{{.*}} step %c16
// CHECK: %[[WLEFT:.*]] = arith.subi %{{.*}}, %[[X]]
// CHECK: %[[W:.*]] = arith.minui %[[WLEFT]], %c16
// CHECK: %[[CLEFT:.*]] = arith.subi %{{.*}}, %[[C]]
// CHECK: %[[CN:.*]] = arith.minui %[[CLEFT]], %c16
// CHECK: %[[IN0:.*]] = arith.cmpi ult, %c0{{.*}}, %[[CN]]
// CHECK: %[[N0:.*]] = arith.select %[[IN0]], %[[W]], %c0
// CHECK: %[[M0:.*]] = vector.create_mask %[[N0]] : vector<16xi1>
// CHECK: vector.maskedload %arg0[%[[N]], %{{.*}}, %[[Y]], %[[X]]], %[[M0]]
// CHECK-COUNT-15: vector.maskedload %arg0
// CHECK-COUNT-64: vector.shuffle
// CHECK: %[[S0:.*]] = arith.select %{{.*}}, %[[CN]], %c0
// CHECK: %[[SM0:.*]] = vector.create_mask %[[S0]]
// CHECK: vector.maskedstore %arg1[%[[N]], %[[Y]], %{{.*}}, %[[C]]], %[[SM0]]
// CHECK-COUNT-15: vector.maskedstore %arg1
// CHECK-NOT: linalg.transpose
func.func @to_channels_last(%x: memref<?x32x34x34xf32>, %y: memref<?x34x34x32xf32>) {
  linalg.transpose ins(%x : memref<?x32x34x34xf32>) outs(%y : memref<?x34x34x32xf32>) permutation = [0, 2, 3, 1]
  return
}

// -----

// NCHW -> NHWC with 3 channels (squares would be mostly masked): vectors
// along the input's W, stored element by element along the output's C (the
// innermost loop); lanes past W are not stored.
// CHECK-LABEL: func @three_channels
// CHECK: scf.for %[[N:.*]] =
// CHECK: scf.for %[[Y:.*]] =
// CHECK: scf.for %[[X:.*]] = %{{.*}} to %{{.*}} step %c16
// CHECK: scf.for %[[C:.*]] =
// CHECK: %[[V:.*]] = vector.maskedload %arg0[%[[N]], %[[C]], %[[Y]], %[[X]]]
// CHECK: scf.if
// CHECK: %[[E:.*]] = vector.extract %[[V]][0]
// CHECK: memref.store %[[E]], %arg1[%[[N]], %[[Y]], %{{.*}}, %[[C]]]
// CHECK-NOT: linalg.transpose
func.func @three_channels(%x: memref<?x3x34x34xf32>, %y: memref<?x34x34x3xf32>) {
  linalg.transpose ins(%x : memref<?x3x34x34xf32>) outs(%y : memref<?x34x34x3xf32>) permutation = [0, 2, 3, 1]
  return
}
