// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-parallelize))' | FileCheck %s
// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-parallelize),convert-scf-to-openmp,dlc-drop-alloca-scopes)' | FileCheck %s --check-prefix=OMP
// Large ops get one scf.parallel (the outermost parallel loop); the rest of
// the nest stays sequential. Small ops are left to convert-linalg-to-loops.

// CHECK-LABEL: func @large
// CHECK: scf.parallel
// CHECK-NOT: scf.parallel
// CHECK: scf.for
// CHECK: scf.for
// OMP-LABEL: func @large
// OMP: omp.parallel
// OMP: omp.wsloop
// OMP-NOT: memref.alloca_scope
func.func @large(%a: memref<?x256xf32>, %b: memref<256x128xf32>, %c: memref<?x128xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d2)>],
                  iterator_types = ["parallel", "reduction", "parallel"]}
      ins(%a, %b : memref<?x256xf32>, memref<256x128xf32>) outs(%c : memref<?x128xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// CHECK-LABEL: func @small
// CHECK: linalg.matmul
// CHECK-NOT: scf.parallel
func.func @small(%a: memref<?x8xf32>, %b: memref<8x8xf32>, %c: memref<?x8xf32>) {
  linalg.matmul ins(%a, %b : memref<?x8xf32>, memref<8x8xf32>) outs(%c : memref<?x8xf32>)
  return
}
