// RUN: dlc-opt %s -split-input-file -dlc-plan-memory -verify-diagnostics | FileCheck %s
// Every buffer becomes a 64-byte aligned view into one trailing arena
// argument; the arena's size is a polynomial in the batch size.

// CHECK-LABEL: func.func @step
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<?x4xf32>, %[[ARENA:[a-z0-9]+]]: memref<?xi8>
// CHECK-SAME: dlc.arena_bytes = array<i64: 158, 16>
// CHECK-NOT: memref.alloc
// CHECK: memref.view %[[ARENA]][%{{.*}}][%{{.*}}] : memref<?xi8> to memref<?x4xf32>
// CHECK: memref.view %[[ARENA]][%{{.*}}][] : memref<?xi8> to memref<4xf64>
func.func @step(%x: memref<?x4xf32>) {
  %c0 = arith.constant 0 : index
  %b = memref.dim %x, %c0 : memref<?x4xf32>
  %0 = memref.alloc(%b) : memref<?x4xf32>
  %1 = memref.alloc() : memref<4xf64>
  return
}

// -----

// A loop gets one slice of the arena per iteration, so a buffer yielded by
// one iteration survives the next. Each slice is the body's bound (64 + 63
// bytes) rounded up to the alignment (128), so the arena's bound counts
// 3 x (64 + 63 + 63) bytes; 3 x (64 + 63) = 381 was 3 bytes short of the
// 384 the slices use (a scan's gradient check wrote past its arena).
// CHECK-LABEL: func.func @loop
// CHECK-SAME: dlc.arena_bytes = array<i64: 570>
// CHECK: scf.for %[[IV:.*]] =
// CHECK: %[[K:.*]] = arith.divsi
// CHECK: %[[SLOT:.*]] = arith.muli %[[K]]
// CHECK: memref.view %{{.*}}[%{{.*}}][] : memref<?xi8> to memref<16xf32>
func.func @loop(%x: memref<?x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  scf.for %i = %c0 to %c3 step %c1 {
    %0 = memref.alloc() : memref<16xf32>
  }
  return
}

// -----

// A size that is not the batch cannot be planned.
func.func @unplannable(%n: index) {
  // expected-error @+1 {{cannot plan a buffer whose size is not a function of the batch}}
  %0 = memref.alloc(%n) : memref<?xf32>
  return
}

// -----

// A loop that allocates nothing needs no plan, whatever its bounds (the
// kernels' loops over the batch); one that allocates needs constant ones.
// CHECK-LABEL: func.func @kernel_loops
// CHECK-SAME: dlc.arena_bytes = array<i64: 127>
// CHECK: memref.view
// CHECK: scf.for
func.func @kernel_loops(%x: memref<?x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?x4xf32>
  %buf = memref.alloc() : memref<16xf32>
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.load %x[%i, %c0] : memref<?x4xf32>
    memref.store %v, %buf[%c0] : memref<16xf32>
  }
  return
}

// -----

func.func @allocating_loop(%x: memref<?x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %n = memref.dim %x, %c0 : memref<?x4xf32>
  // expected-error @+1 {{cannot plan the buffers of a loop without constant bounds}}
  scf.for %i = %c0 to %n step %c1 {
    %0 = memref.alloc() : memref<16xf32>
  }
  return
}
