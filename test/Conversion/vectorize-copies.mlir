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
