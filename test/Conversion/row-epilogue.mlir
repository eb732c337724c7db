// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-register-tile{lanes=16 accumulators=24},canonicalize))' | FileCheck %s
// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-register-tile{lanes=16 accumulators=24 epilogues=0},canonicalize))' | FileCheck %s --check-prefix=LOOP
// Row epilogues: row ops after a contraction whose rows fit one vector
// (10 classes in 16 lanes) run on the kernel's tiles, the rows in
// registers; row ops no kernel takes become loops over their rows.

#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
#row = affine_map<(d0, d1) -> (d0)>

// A softmax of `x w + b`: the bias add, the row maximum (its fill of -inf
// the start), the exponential of the difference, the row sum (from its
// fill of 0) and the division, all on tiles of 8 rows, stage by stage
// across the rows. Only the probabilities are stored: the logits, maxima
// and sums live in registers, their buffers erased.
// CHECK-LABEL: func @softmax
// CHECK-NOT: linalg.
// CHECK-NOT: memref.alloc
// CHECK: scf.for %{{.*}} step %c8
// CHECK: scf.for {{.*}} iter_args(
// CHECK-COUNT-8: vector.fma
// CHECK: scf.yield
// CHECK-COUNT-8: vector.extract_strided_slice {{.*}} {offsets = [0], sizes = [10], strides = [1]} : vector<16xf32> to vector<10xf32>
// CHECK-COUNT-8: arith.addf {{.*}} : vector<10xf32>
// CHECK: vector.shuffle {{.*}} : vector<10xf32>, vector<10xf32>
// CHECK: arith.maximumf {{.*}} : vector<8xf32>
// CHECK: arith.maximumf {{.*}} : vector<4xf32>
// CHECK: arith.maximumf {{.*}} : vector<2xf32>
// CHECK: arith.maximumf {{.*}} : vector<1xf32>
// CHECK: math.exp {{.*}} : vector<10xf32>
// CHECK: vector.reduction <add>, {{.*}} : vector<10xf32> into f32
// CHECK-COUNT-8: vector.store {{.*}}, %arg3[{{.*}}] : memref<?x10xf32>, vector<10xf32>
// CHECK-NOT: memref.store
// CHECK: scf.yield
func.func @softmax(%x: memref<?x64xf32>, %w: memref<64x10xf32>,
                   %b: memref<10xf32>, %p: memref<?x10xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %n = memref.dim %x, %c0 : memref<?x64xf32>
  %z = memref.alloc(%n) {alignment = 64 : i64} : memref<?x10xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<?x10xf32>)
  linalg.matmul ins(%x, %w : memref<?x64xf32>, memref<64x10xf32>)
                outs(%z : memref<?x10xf32>)
  linalg.generic {indexing_maps = [#id, #col, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%z, %b : memref<?x10xf32>, memref<10xf32>)
      outs(%z : memref<?x10xf32>) attrs = {dlc.row_op} {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  }
  %m = memref.alloc(%n) {alignment = 64 : i64} : memref<?xf32>
  linalg.fill ins(%ninf : f32) outs(%m : memref<?xf32>)
  linalg.generic {indexing_maps = [#id, #row],
                  iterator_types = ["parallel", "reduction"]}
      ins(%z : memref<?x10xf32>) outs(%m : memref<?xf32>)
      attrs = {dlc.row_op} {
  ^bb0(%in: f32, %out: f32):
    %max = arith.maximumf %in, %out : f32
    linalg.yield %max : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%z, %m : memref<?x10xf32>, memref<?xf32>)
      outs(%z : memref<?x10xf32>) attrs = {dlc.row_op} {
  ^bb0(%in: f32, %max: f32, %out: f32):
    %d = arith.subf %in, %max : f32
    %e = math.exp %d : f32
    linalg.yield %e : f32
  }
  %s = memref.alloc(%n) {alignment = 64 : i64} : memref<?xf32>
  linalg.fill ins(%zero : f32) outs(%s : memref<?xf32>)
  linalg.generic {indexing_maps = [#id, #row],
                  iterator_types = ["parallel", "reduction"]}
      ins(%z : memref<?x10xf32>) outs(%s : memref<?xf32>)
      attrs = {dlc.row_op} {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [#id, #row, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%z, %s : memref<?x10xf32>, memref<?xf32>)
      outs(%p : memref<?x10xf32>) attrs = {dlc.row_op} {
  ^bb0(%in: f32, %sum: f32, %out: f32):
    %q = arith.divf %in, %sum : f32
    linalg.yield %q : f32
  }
  return
}

// Without epilogues the same row ops are loops over their rows, one
// vector of 10 per row; a reduction starts from its buffer's fill.
// LOOP-LABEL: func @softmax
// LOOP-NOT: linalg.generic
// LOOP: scf.for %{{.*}} step %c24
// LOOP: vector.maskedstore {{.*}} : memref<?x10xf32>, vector<16xi1>, vector<16xf32>
// LOOP: scf.for %[[R:.*]] = %c0 to %{{.*}} step %c1 {
// LOOP-NEXT: vector.load %{{.*}}[%[[R]], %c0] : memref<?x10xf32>, vector<10xf32>
// LOOP-NEXT: vector.load %arg2[%c0] : memref<10xf32>, vector<10xf32>
// LOOP: vector.store
// LOOP: linalg.fill
// LOOP: scf.for %[[R:.*]] = %c0 to %{{.*}} step %c1 {
// LOOP: %[[START:.*]] = memref.load %{{.*}}[%[[R]]] : memref<?xf32>
// LOOP: arith.maximumf %{{.*}}, %[[START]] : f32
// LOOP: memref.store

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>

// The bias is written between the product and its add: the add cannot
// run on the tiles before that write, so the kernel stores the logits and
// the add is a loop over rows.
// CHECK-LABEL: func @blocked
// CHECK: vector.fma
// CHECK: memref.store %{{.*}}, %arg2
// CHECK: scf.for %[[R:.*]] = %c0 to %{{.*}} step %c1
// CHECK: vector.load %{{.*}}[%[[R]], %c0] : memref<?x10xf32>, vector<10xf32>
func.func @blocked(%x: memref<?x64xf32>, %w: memref<64x10xf32>,
                   %b: memref<10xf32>, %p: memref<?x10xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %x, %c0 : memref<?x64xf32>
  %z = memref.alloc(%n) {alignment = 64 : i64} : memref<?x10xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<?x10xf32>)
  linalg.matmul ins(%x, %w : memref<?x64xf32>, memref<64x10xf32>)
                outs(%z : memref<?x10xf32>)
  memref.store %zero, %b[%c0] : memref<10xf32>
  linalg.generic {indexing_maps = [#id, #col, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%z, %b : memref<?x10xf32>, memref<10xf32>)
      outs(%p : memref<?x10xf32>) attrs = {dlc.row_op} {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  }
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#all = affine_map<(d0, d1) -> ()>

// A cross-entropy's gradient on its own: per row, the probabilities
// minus the one-hot label (a vector of steps compared with the row's
// label), over the batch size.
// CHECK-LABEL: func @gradient
// CHECK-NOT: linalg.generic
// CHECK: scf.for %[[R:.*]] = %c0 to %{{.*}} step %c1
// CHECK-DAG: vector.load %arg0[%[[R]], %c0] : memref<?x10xf32>, vector<10xf32>
// CHECK-DAG: memref.load %arg1[%[[R]]] : memref<?xf32>
// CHECK-DAG: memref.load %arg2[] : memref<f32>
// CHECK-DAG: vector.step : vector<10xindex>
// CHECK: arith.cmpf oeq, {{.*}} : vector<10xf32>
// CHECK: vector.store {{.*}}, %arg3[%[[R]], %c0] : memref<?x10xf32>, vector<10xf32>
func.func @gradient(%prob: memref<?x10xf32>, %label: memref<?xf32>,
                    %size: memref<f32>, %grad: memref<?x10xf32>) {
  %one = arith.constant 1.0 : f32
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id, #row, #all, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%prob, %label, %size : memref<?x10xf32>, memref<?xf32>, memref<f32>)
      outs(%grad : memref<?x10xf32>) attrs = {dlc.row_op} {
  ^bb0(%p: f32, %y: f32, %n: f32, %out: f32):
    %j = linalg.index 1 : index
    %ji = arith.index_cast %j : index to i64
    %jf = arith.sitofp %ji : i64 to f32
    %hit = arith.cmpf oeq, %y, %jf : f32
    %t = arith.select %hit, %one, %zero : f32
    %d = arith.subf %p, %t : f32
    %g = arith.divf %d, %n : f32
    linalg.yield %g : f32
  }
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// Bufferization put the gradient in the logits' buffer, which a loop in
// between still reads (a loss's mean at each label): the gradient stage
// writes a buffer of its own, and what comes after reads that one.
// CHECK-LABEL: func @renamed
// CHECK: %[[Z:.*]] = memref.alloc
// CHECK: %[[G:.*]] = memref.alloc
// CHECK: scf.for %{{.*}} step %c8
// CHECK: math.exp
// CHECK: vector.store %{{.*}}, %[[Z]]
// CHECK: arith.mulf
// CHECK: vector.store %{{.*}}, %[[G]]
// CHECK: scf.for
// CHECK: memref.load %[[Z]]
// CHECK: memref.copy %[[G]], %arg3
func.func @renamed(%x: memref<?x64xf32>, %w: memref<64x10xf32>,
                   %sum: memref<f32>, %grad: memref<?x10xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %two = arith.constant 2.0 : f32
  %n = memref.dim %x, %c0 : memref<?x64xf32>
  %z = memref.alloc(%n) {alignment = 64 : i64} : memref<?x10xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<?x10xf32>)
  linalg.matmul ins(%x, %w : memref<?x64xf32>, memref<64x10xf32>)
                outs(%z : memref<?x10xf32>)
  linalg.generic {indexing_maps = [#id, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%z : memref<?x10xf32>) outs(%z : memref<?x10xf32>)
      attrs = {dlc.row_op} {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  %total = scf.for %r = %c0 to %n step %c1 iter_args(%acc = %zero) -> (f32) {
    %v = memref.load %z[%r, %c0] : memref<?x10xf32>
    %a = arith.addf %acc, %v : f32
    scf.yield %a : f32
  }
  memref.store %total, %sum[] : memref<f32>
  linalg.generic {indexing_maps = [#id, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%z : memref<?x10xf32>) outs(%z : memref<?x10xf32>)
      attrs = {dlc.row_op} {
  ^bb0(%in: f32, %out: f32):
    %g = arith.mulf %in, %two : f32
    linalg.yield %g : f32
  }
  memref.copy %z, %grad : memref<?x10xf32> to memref<?x10xf32>
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// A row op writing a strided view (a scan's step along its last axis):
// rows of vectors cannot be stored there, so it is tiled by rows and each
// row vectorized by linalg's vectorizer (transfers).
// CHECK-LABEL: func @strided
// CHECK-NOT: linalg.generic
// CHECK: scf.for
// CHECK: vector.transfer_read
// CHECK: math.tanh {{.*}} : vector<1x2xf32>
// CHECK: vector.transfer_write
func.func @strided(%a: memref<?x2xf32>, %buf: memref<?x2x4xf32>, %t: index) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %a, %c0 : memref<?x2xf32>
  %step = memref.subview %buf[0, 0, %t] [%n, 2, 1] [1, 1, 1]
      : memref<?x2x4xf32> to memref<?x2xf32, strided<[8, 4], offset: ?>>
  linalg.generic {indexing_maps = [#id, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<?x2xf32>)
      outs(%step : memref<?x2xf32, strided<[8, 4], offset: ?>>)
      attrs = {dlc.row_op} {
  ^bb0(%in: f32, %out: f32):
    %h = math.tanh %in : f32
    linalg.yield %h : f32
  }
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#all = affine_map<(d0, d1) -> ()>

// The batch size a gradient divides by, stored into a buffer of its own
// after the product: the store moves up before the kernel (what it stores
// has no effects), and the division runs on the tiles.
// CHECK-LABEL: func @hoisted_store
// CHECK: %[[SZ:.*]] = memref.alloc() : memref<f32>
// CHECK: memref.store %{{.*}}, %[[SZ]][] : memref<f32>
// CHECK: scf.for %{{.*}} step %c8
// CHECK: memref.load %[[SZ]][] : memref<f32>
// CHECK: arith.divf {{.*}} : vector<10xf32>
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @hoisted_store(%x: memref<?x64xf32>, %w: memref<64x10xf32>,
                         %g: memref<?x10xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %n = memref.dim %x, %c0 : memref<?x64xf32>
  %z = memref.alloc(%n) {alignment = 64 : i64} : memref<?x10xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<?x10xf32>)
  linalg.matmul ins(%x, %w : memref<?x64xf32>, memref<64x10xf32>)
                outs(%z : memref<?x10xf32>)
  %ni = arith.index_cast %n : index to i64
  %nf = arith.sitofp %ni : i64 to f32
  %sz = memref.alloc() : memref<f32>
  memref.store %nf, %sz[] : memref<f32>
  linalg.generic {indexing_maps = [#id, #all, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%z, %sz : memref<?x10xf32>, memref<f32>)
      outs(%g : memref<?x10xf32>) attrs = {dlc.row_op} {
  ^bb0(%in: f32, %size: f32, %out: f32):
    %q = arith.divf %in, %size : f32
    linalg.yield %q : f32
  }
  return
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// A row sum on the tiles, then an op in between writes its buffer again
// (bufferization reused it): the op after that reads what that op wrote,
// not the sum in registers, so it is no stage; it is a loop over rows
// reading the buffer.
// CHECK-LABEL: func @rewritten_between
// CHECK: scf.for %{{.*}} step %c8
// CHECK: vector.reduction <add>
// CHECK: memref.store %{{.*}}, %[[S:.*]][%{{.*}}] : memref<?xf32>
// CHECK: linalg.fill ins(%{{.*}}) outs(%[[S]]
// CHECK: scf.for %[[R:.*]] = %c0 to %{{.*}} step %c1 {
// CHECK: memref.load %[[S]][%[[R]]] : memref<?xf32>
func.func @rewritten_between(%x: memref<?x64xf32>, %w: memref<64x10xf32>,
                             %seen: memref<?xf32>, %g: memref<?x10xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  %n = memref.dim %x, %c0 : memref<?x64xf32>
  %z = memref.alloc(%n) {alignment = 64 : i64} : memref<?x10xf32>
  linalg.fill ins(%zero : f32) outs(%z : memref<?x10xf32>)
  linalg.matmul ins(%x, %w : memref<?x64xf32>, memref<64x10xf32>)
                outs(%z : memref<?x10xf32>)
  %s = memref.alloc(%n) {alignment = 64 : i64} : memref<?xf32>
  linalg.fill ins(%zero : f32) outs(%s : memref<?xf32>)
  linalg.generic {indexing_maps = [#id, #row],
                  iterator_types = ["parallel", "reduction"]}
      ins(%z : memref<?x10xf32>) outs(%s : memref<?xf32>)
      attrs = {dlc.row_op} {
  ^bb0(%in: f32, %out: f32):
    %sum = arith.addf %in, %out : f32
    linalg.yield %sum : f32
  }
  memref.copy %s, %seen : memref<?xf32> to memref<?xf32>
  linalg.fill ins(%half : f32) outs(%s : memref<?xf32>)
  linalg.generic {indexing_maps = [#id, #row, #id],
                  iterator_types = ["parallel", "parallel"]}
      ins(%z, %s : memref<?x10xf32>, memref<?xf32>)
      outs(%g : memref<?x10xf32>) attrs = {dlc.row_op} {
  ^bb0(%in: f32, %k: f32, %out: f32):
    %q = arith.mulf %in, %k : f32
    linalg.yield %q : f32
  }
  return
}
