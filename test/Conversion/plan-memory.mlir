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
// 384 the slices use (a scan's gradient check wrote past its arena). The
// slices' slot counts 63 more, to align its start.
// CHECK-LABEL: func.func @loop
// CHECK-SAME: dlc.arena_bytes = array<i64: 633>
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

// -----

// Buffers whose lifetimes do not overlap share a slot: %a is dead after its
// fill, so %b, of the same size, takes its place; %c, alive together with
// %b, gets a slot of its own (sizes compare coefficient by coefficient, so
// it could not have taken %a's either: 16 bytes against 16 b). The arena
// holds two slots: (16 b + 63) + (16 + 63) bytes.
// CHECK-LABEL: func.func @reuse
// CHECK-SAME: dlc.arena_bytes = array<i64: 142, 16>
// CHECK: %[[A:.*]] = memref.view %{{.*}}[%[[OFF0:.*]]][%{{.*}}] : memref<?xi8> to memref<?x4xf32>
// CHECK: linalg.fill {{.*}} outs(%[[A]]
// CHECK: %[[B:.*]] = memref.view %{{.*}}[%[[OFF0]]][%{{.*}}] : memref<?xi8> to memref<?x4xf32>
// CHECK: %[[C:.*]] = memref.view %{{.*}}[%[[OFF1:.*]]][] : memref<?xi8> to memref<4xf32>
// CHECK: linalg.fill {{.*}} outs(%[[B]]
// CHECK: linalg.fill {{.*}} outs(%[[C]]
// CHECK: memref.copy %[[C]]
func.func @reuse(%x: memref<?x4xf32>, %out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %x, %c0 : memref<?x4xf32>
  %a = memref.alloc(%n) : memref<?x4xf32>
  linalg.fill ins(%zero : f32) outs(%a : memref<?x4xf32>)
  %b = memref.alloc(%n) : memref<?x4xf32>
  %c = memref.alloc() : memref<4xf32>
  linalg.fill ins(%zero : f32) outs(%b : memref<?x4xf32>)
  linalg.fill ins(%zero : f32) outs(%c : memref<4xf32>)
  memref.copy %c, %out : memref<4xf32> to memref<4xf32>
  return
}

// -----

// A buffer is alive until the last use of anything derived from it (here a
// collapsed view read inside a later loop), and a larger buffer never takes
// a smaller one's slot: three slots, 64 + 64 + 256 bytes and 63 each.
// CHECK-LABEL: func.func @alive_through_views
// CHECK-SAME: dlc.arena_bytes = array<i64: 573>
// CHECK-DAG: memref.view %{{.*}}[%[[OFF0:.*]]][] : memref<?xi8> to memref<2x8xf32>
// CHECK-DAG: memref.view %{{.*}}[%[[OFF1:.*]]][] : memref<?xi8> to memref<16xf32>
// CHECK-DAG: memref.view %{{.*}}[%[[OFF2:.*]]][] : memref<?xi8> to memref<64xf32>
func.func @alive_through_views(%x: memref<?x4xf32>, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc() : memref<2x8xf32>
  linalg.fill ins(%zero : f32) outs(%a : memref<2x8xf32>)
  %flat = memref.collapse_shape %a [[0, 1]] : memref<2x8xf32> into memref<16xf32>
  %b = memref.alloc() : memref<16xf32>
  linalg.fill ins(%zero : f32) outs(%b : memref<16xf32>)
  scf.for %i = %c0 to %c16 step %c1 {
    %v = memref.load %flat[%i] : memref<16xf32>
    memref.store %v, %out[%i] : memref<16xf32>
  }
  %big = memref.alloc() : memref<64xf32>
  linalg.fill ins(%zero : f32) outs(%big : memref<64xf32>)
  return
}

// -----

// A buffer that escapes (returned) keeps its slot to the end.
// CHECK-LABEL: func.func @escapes
// CHECK-SAME: dlc.arena_bytes = array<i64: 254>
func.func @escapes(%x: memref<?x4xf32>) -> memref<16xf32> {
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc() : memref<16xf32>
  linalg.fill ins(%zero : f32) outs(%a : memref<16xf32>)
  %b = memref.alloc() : memref<16xf32>
  linalg.fill ins(%zero : f32) outs(%b : memref<16xf32>)
  return %a : memref<16xf32>
}
