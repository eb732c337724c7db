// RUN: dlc-opt %s -dlc-expand-copies | FileCheck %s
// memref.copy becomes linalg.copy (loops, no call into MLIR's runtime
// library); a copy of a view onto itself is dropped.

// CHECK-LABEL: func @copies
// CHECK: linalg.copy ins(%arg0 : memref<4x10xf32, strided<[16, 1]>>) outs(%arg1 : memref<4x10xf32>)
// CHECK-NOT: memref.copy
// CHECK-NOT: linalg.copy
// CHECK: return
func.func @copies(%a: memref<4x10xf32, strided<[16, 1]>>, %b: memref<4x10xf32>) {
  memref.copy %a, %b : memref<4x10xf32, strided<[16, 1]>> to memref<4x10xf32>
  memref.copy %b, %b : memref<4x10xf32> to memref<4x10xf32>
  return
}
