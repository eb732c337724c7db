// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-register-tile{lanes=16 accumulators=24 small-work=0 min-epilogue=0},canonicalize))' | FileCheck %s
// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-register-tile{lanes=16 accumulators=24 parallel=1 min-work=1 small-work=0},canonicalize))' | FileCheck %s --check-prefix=PAR
// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-register-tile{lanes=16 accumulators=24 full-tile-kernels=0},canonicalize))' | FileCheck %s --check-prefix=SMALL
// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-register-tile{lanes=16 accumulators=24},canonicalize))' | FileCheck %s --check-prefix=FEW
// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-register-tile{lanes=16 accumulators=24 full-tile-kernels=0 tiny-work=8192},canonicalize))' | FileCheck %s --check-prefix=TINY
// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-register-tile{lanes=16 accumulators=24 small-work=0 l2-bytes=524288},canonicalize))' | FileCheck %s --check-prefix=L2
// `out += a * b` ops become register tiles of vector FMAs; everything else
// is left to the later passes.

#mapA = affine_map<(i, j, k) -> (i, k)>
#mapB = affine_map<(i, j, k) -> (k, j)>
#mapC = affine_map<(i, j, k) -> (i, j)>

// 128 columns (8 vectors of 16) of batch rows: tiles of 8 rows by 3
// vectors (24 accumulators; 8 rows divide the usual batch sizes, where 6
// would recompute up to 5), the last 2 vectors a tile of 8 rows by 2, in
// blocks of 8 tiles (64 rows); then a one-row kernel for the last
// (batch % 8) rows.
// CHECK-LABEL: func @matmul
// CHECK-NOT: linalg.generic
// CHECK: scf.for %[[B:.*]] = %{{.*}} to %{{.*}} step %c64
// CHECK: scf.for %[[J:.*]] = %c0 to %c96 step %c48
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %c8
// CHECK-COUNT-24: vector.load %arg2
// CHECK: scf.for %[[K:.*]] = {{.*}} iter_args(
// CHECK-COUNT-3: vector.load %arg1
// CHECK: memref.load %arg0
// CHECK-COUNT-24: vector.fma
// CHECK: scf.yield
// CHECK-COUNT-24: vector.store
// CHECK: scf.for %{{.*}} step %c8
// CHECK-COUNT-16: vector.load %arg2
// CHECK: scf.for
// CHECK: vector.load %arg1[%{{.*}}, %c96]
// CHECK: vector.load %arg1[%{{.*}}, %c112]
// CHECK-COUNT-16: vector.fma
// The remaining rows, one at a time.
// CHECK: scf.for %{{.*}} = %c0 to %c96 step %c48
// CHECK: scf.for %{{.*}} step %c1
// CHECK-COUNT-3: vector.load %arg2
// CHECK: scf.for
// CHECK-COUNT-3: vector.fma
// CHECK: scf.for %{{.*}} step %c1
// CHECK-COUNT-2: vector.load %arg2
// CHECK: scf.for
// CHECK-COUNT-2: vector.fma
// CHECK-NOT: vector.fma
// CHECK: return
// A small op (32 x 128 points besides the batch) in a function of more
// than full-tile-kernels contractions keeps 12 accumulators: tiles of 3
// rows x 4 vectors; under tiny-work points, 8: tiles of 2 rows.
// The same op alone in its function (at most full-tile-kernels
// contractions) gets full tiles.
// FEW-LABEL: func @matmul
// FEW: scf.for %{{.*}} step %c8
// FEW-COUNT-24: vector.fma
// SMALL-LABEL: func @matmul
// SMALL: scf.for %{{.*}} step %c3
// SMALL-COUNT-12: vector.fma
// SMALL-NOT: vector.fma
// SMALL: scf.yield
// TINY-LABEL: func @matmul
// TINY: scf.for %{{.*}} step %c2
// TINY-COUNT-8: vector.fma
// TINY-NOT: vector.fma
// TINY: scf.yield
// PAR-LABEL: func @matmul
// PAR: arith.ceildivui %{{.*}}, %c128
// PAR: scf.parallel (%{{.*}}) = (%{{.*}}) to (%{{.*}}) step (%{{.*}})
// PAR: arith.minui
// PAR-NOT: scf.parallel
// PAR: return
func.func @matmul(%a: memref<?x32xf32>, %b: memref<32x128xf32>, %c: memref<?x128xf32>) {
  linalg.generic {indexing_maps = [#mapA, #mapB, #mapC],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x32xf32>, memref<32x128xf32>) outs(%c : memref<?x128xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A convolution's input gradient (x - kx: contiguous along x) on 6 columns:
// one masked vector (6 of 16 lanes), rows along the channels (c, which the
// filter reads and the gradient does not).
// CHECK-LABEL: func @conv_masked
// CHECK: scf.for %[[N:.*]] = %c0 to %{{.*}} step %c1
// CHECK: scf.for %[[Y:.*]] = %c0 to %c6 step %c1
// CHECK: %[[MASK:.*]] = vector.constant_mask [6] : vector<16xi1>
// CHECK-COUNT-4: vector.maskedload %arg2[{{.*}}], %[[MASK]]
// The kernel column kx (3 wide) is unrolled into the reduction's body.
// CHECK: scf.for %{{.*}} = %c0 to %c8
// CHECK: scf.for %{{.*}} = %c0 to %c3
// CHECK-NOT: scf.for
// CHECK: vector.maskedload %arg0[{{.*}}, %c2], %[[MASK]]
// CHECK-COUNT-4: vector.fma
// CHECK: vector.maskedload %arg0[{{.*}}, %c1], %[[MASK]]
// CHECK-COUNT-4: vector.fma
// CHECK: vector.maskedload %arg0[{{.*}}, %c0], %[[MASK]]
// CHECK-COUNT-4: vector.fma
// CHECK: scf.yield
// CHECK-COUNT-4: vector.maskedstore %arg2[{{.*}}], %[[MASK]]
// CHECK-NOT: vector.fma
// CHECK: return
// PAR-LABEL: func @conv_masked
// PAR: scf.parallel
// PAR-NOT: scf.parallel
// PAR: return
func.func @conv_masked(%dy: memref<?x8x8x8xf32>, %w: memref<8x4x3x3xf32>, %dx: memref<?x4x6x6xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, c, y, x, f, ky, kx) -> (n, f, y - ky + 2, x - kx + 2)>,
                                   affine_map<(n, c, y, x, f, ky, kx) -> (f, c, ky, kx)>,
                                   affine_map<(n, c, y, x, f, ky, kx) -> (n, c, y, x)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%dy, %w : memref<?x8x8x8xf32>, memref<8x4x3x3xf32>) outs(%dx : memref<?x4x6x6xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// Not `out += a * b`: left alone.
// CHECK-LABEL: func @max_reduction
// CHECK: linalg.generic
// CHECK-NOT: vector.fma
func.func @max_reduction(%a: memref<?x32xf32>, %b: memref<32x128xf32>, %c: memref<?x128xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j, k) -> (i, k)>, affine_map<(i, j, k) -> (k, j)>, affine_map<(i, j, k) -> (i, j)>],
                  iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<?x32xf32>, memref<32x128xf32>) outs(%c : memref<?x128xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.maximumf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A strided convolution reads its input with stride 2 along the output's
// last loop, and its only reduction both inputs read contiguously is 3 wide
// (under a quarter of a vector): left alone.
// CHECK-LABEL: func @strided
// CHECK: linalg.generic
// CHECK-NOT: vector.fma
func.func @strided(%x: memref<?x4x16x16xf32>, %w: memref<8x4x3x3xf32>, %y: memref<?x8x7x7xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, f, oy, ox, c, ky, kx) -> (n, c, oy * 2 + ky, ox * 2 + kx)>,
                                   affine_map<(n, f, oy, ox, c, ky, kx) -> (f, c, ky, kx)>,
                                   affine_map<(n, f, oy, ox, c, ky, kx) -> (n, f, oy, ox)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : memref<?x4x16x16xf32>, memref<8x4x3x3xf32>) outs(%y : memref<?x8x7x7xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A convolution's filter gradient: the output's last loop is the 3-wide
// kernel column, but both inputs are contiguous along the 20-wide reduction
// x. Dot tiles: filters x 3 kernel columns of partial sums along x (one
// full vector, then a masked one of 4 lanes), added across lanes at the end.
// Each step also holds its input vectors: (24 - 4) / 3 = 6 filters, then a
// tile of the other 2. The sum over the batch and pixels goes by blocks of
// images, outside every other loop (their operands stay in cache while
// every tile reads them): 39 images of 6,656 bytes fill the 256 KB block;
// each block's sums are added to the output.
// CHECK-LABEL: func @filter_gradient
// CHECK: scf.for %[[IMAGE:.*]] = %c0 to %{{.*}} step %c39 {
// CHECK: scf.for %{{.*}} = %c0 to %c4 step %c1
// CHECK: scf.for %{{.*}} = %c0 to %c3 step %c1
// CHECK: scf.for %{{.*}} = %[[IMAGE]] to %{{.*}} step %c1 iter_args
// CHECK: scf.for %{{.*}} = %c0 to %c6 step %c1 iter_args
// CHECK-COUNT-6: vector.load %arg0
// CHECK-COUNT-3: vector.load %arg1
// CHECK-COUNT-18: vector.fma
// CHECK: vector.constant_mask [4]
// CHECK-COUNT-6: vector.maskedload %arg0
// CHECK-COUNT-3: vector.maskedload %arg1
// CHECK-COUNT-18: vector.fma
// CHECK: scf.yield
// CHECK-COUNT-18: vector.reduction <add>
// CHECK: scf.for
// CHECK: scf.for
// CHECK-COUNT-2: vector.load %arg0[%{{.*}}, %c{{[67]}},
// CHECK-COUNT-3: vector.load %arg1
// CHECK-COUNT-6: vector.fma
// CHECK-COUNT-6: vector.fma
// CHECK-COUNT-6: vector.reduction <add>
// CHECK-NOT: vector.fma
// CHECK: return
func.func @filter_gradient(%dy: memref<?x8x6x20xf32>, %x: memref<?x4x8x22xf32>, %dw: memref<8x4x3x3xf32>) {
  linalg.generic {indexing_maps = [affine_map<(f, c, ky, kx, n, y, x) -> (n, f, y, x)>,
                                   affine_map<(f, c, ky, kx, n, y, x) -> (n, c, y + ky, x + kx)>,
                                   affine_map<(f, c, ky, kx, n, y, x) -> (f, c, ky, kx)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%dy, %x : memref<?x8x6x20xf32>, memref<?x4x8x22xf32>) outs(%dw : memref<8x4x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A matmul's right operand with 256-element rows over a reduction of
// unknown length (the batch): blocks of 512 steps of k, each block of b
// packed by column tiles (4 tiles of 64) into a buffer the kernels read
// contiguously; dlc-plan-memory later places the buffer in the arena.
// The block follows the L2 size: a block's panel of b (64 wide) and the
// rows of a 8 tiles read (48) fill a quarter of it, 512 steps of 448 bytes
// in 1 MB (the default), 256 in 512 KB.
// L2-LABEL: func @packed
// L2: memref.alloc() {alignment = 64 : i64} : memref<4x256x64xf32>
// L2: scf.for %{{.*}} = %c0 to %{{.*}} step %c256
// CHECK-LABEL: func @packed
// CHECK: %[[P:.*]] = memref.alloc() {alignment = 64 : i64} : memref<4x512x64xf32>
// CHECK: scf.for %[[KB:.*]] = %c0 to %{{.*}} step %c512
// CHECK: scf.for %[[T:.*]] = %c0 to %c4 step %c1
// CHECK: scf.for %[[KK:.*]] = %c0 to %{{.*}} step %c1
// CHECK-COUNT-4: vector.store %{{.*}}, %[[P]][%[[T]], %[[KK]], %c{{[0-9]+}}] : memref<4x512x64xf32>
// CHECK: scf.for %{{.*}} = %c0 to %c256 step %c64
// CHECK: scf.for %{{.*}} = %c0 to %c12 step %c6
// CHECK: scf.for %[[K:.*]] = %[[KB]] to %{{.*}} step %c1 iter_args
// CHECK: %[[ROW:.*]] = arith.subi %[[K]], %[[KB]]
// CHECK: vector.load %[[P]][%{{.*}}, %[[ROW]], %c0] : memref<4x512x64xf32>
// CHECK-COUNT-24: vector.fma
func.func @packed(%a: memref<12x?xf32>, %b: memref<?x256xf32>, %c: memref<12x256xf32>) {
  linalg.matmul ins(%a, %b : memref<12x?xf32>, memref<?x256xf32>) outs(%c : memref<12x256xf32>)
  return
}

// -----

// dy @ w^T: the right operand is read as w[j, k], not contiguous along the
// output's columns j. Still an outer product: the packing transposes each
// block of w into column tiles (5 tiles of 64 for 260 columns, the last
// padded with zeros), which the kernels, the masked last tile included,
// read as vectors. The packing reads squares of 16 x 16 as 16 vectors
// along rows of w, transposes them in 4 rounds of 16 shuffles and stores
// them along the panel's rows; the last 12 of the 300 columns of w and
// the last 4 of its 260 rows, one element at a time.
// CHECK-LABEL: func @transposed
// CHECK: %[[P:.*]] = memref.alloc() {alignment = 64 : i64} : memref<5x512x64xf32>
// CHECK: scf.for %[[T:.*]] = %c0 to %c5 step %c1
// CHECK: scf.for %[[JJ:.*]] = %c0 to %{{.*}} step %c16
// CHECK: scf.for %[[KK:.*]] = %c0 to %c288 step %c16
// CHECK-COUNT-16: vector.load %arg1
// CHECK-COUNT-64: vector.shuffle
// CHECK: vector.store %{{.*}}, %[[P]][%[[T]], %[[KK]], %[[JJ]]]
// CHECK-COUNT-15: vector.store
// CHECK: scf.for %{{.*}} = %c288 to %c300 step %c1
// CHECK: %[[V:.*]] = memref.load %arg1[%{{.*}}, %[[K:.*]]] : memref<260x300xf32>
// CHECK: memref.store %[[V]], %[[P]][%[[T]], %[[K]], %{{.*}}]
// CHECK: memref.load %arg1
// CHECK: memref.store %cst, %[[P]]
// CHECK: scf.for %{{.*}} = %c0 to %c256 step %c64
// CHECK: vector.load %[[P]]
// CHECK: vector.maskedload %arg2
// CHECK: vector.load %[[P]]
// CHECK: vector.maskedstore %arg2
func.func @transposed(%a: memref<?x300xf32>, %w: memref<260x300xf32>, %c: memref<?x260xf32>) {
  linalg.matmul indexing_maps = [affine_map<(i, j, k) -> (i, k)>, affine_map<(i, j, k) -> (j, k)>, affine_map<(i, j, k) -> (i, j)>]
      ins(%a, %w : memref<?x300xf32>, memref<260x300xf32>) outs(%c : memref<?x260xf32>)
  return
}

// -----

// A sum along contiguous pixels (a convolution bias's gradient): a dot
// tile without a second operand, 20 rows of vector partial sums (24
// accumulators less 4), added across lanes into the output at the end.
// CHECK-LABEL: func @bias_gradient
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c20
// CHECK: scf.for %{{.*}} = %c0 to %c32 step %c1 iter_args
// CHECK-COUNT-20: vector.load %arg0
// CHECK-COUNT-20: arith.addf %{{.*}} : vector<16xf32>
// CHECK: vector.reduction <add>, %{{.*}} fastmath<reassoc>
// CHECK-NOT: linalg.generic
func.func @bias_gradient(%dy: memref<?x8x1x1x32x32xf32>, %db: memref<?x8x1x1xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, c, a, b, h, w) -> (n, c, a, b, h, w)>, affine_map<(n, c, a, b, h, w) -> (n, c, a, b)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%dy : memref<?x8x1x1x32x32xf32>) outs(%db : memref<?x8x1x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %acc, %x : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// An output filled with zeros right before the op: the accumulators start
// at zero (no loads of the output) and the fill is gone. Blocked over an
// unknown reduction, only the first block starts at zero; the others load
// the sums so far.
// Starting from zero, the last rows of the batch (not a multiple of 8) are
// a full tile moved back to end at the last row: rows it shares with the
// tile before are computed twice, to the same values. With fewer rows than
// a tile, one row at a time.
// CHECK-LABEL: func @zero_init
// CHECK-NOT: linalg.fill
// CHECK: %[[ENOUGH:.*]] = arith.cmpi uge, %[[N:.*]], %c8
// CHECK: %[[LAST:.*]] = arith.subi %[[N]], %c8
// CHECK: %[[TILES:.*]] = arith.ceildivui %[[N]], %c8
// CHECK: %[[ROUNDED:.*]] = arith.muli %[[TILES]], %c8
// CHECK: %[[FULL:.*]] = arith.select %[[ENOUGH]], %[[ROUNDED]], %c0
// CHECK: scf.for %{{.*}} = %c0 to %[[FULL]] step %c64
// CHECK: scf.for %{{.*}} = %c0 to %c96 step %c48
// CHECK: scf.for %[[I0:.*]] = %{{.*}} to %{{.*}} step %c8 {
// CHECK: %[[START:.*]] = arith.minui %[[I0]], %[[LAST]]
// CHECK-NOT: vector.load %[[C:.*]]
// CHECK: scf.for {{.*}} iter_args(%{{.*}} = %cst,
// CHECK-COUNT-24: vector.fma
// CHECK: vector.store %{{.*}}, %alloc[%[[START]],
// CHECK: %[[SINGLES:.*]] = arith.select %[[ENOUGH]], %[[N]], %c0
// CHECK: scf.for %{{.*}} = %[[SINGLES]] to %[[N]] step %c1
// CHECK-LABEL: func @zero_init_blocked
// CHECK-NOT: linalg.fill
// An empty reduction still runs one (empty) block: the tiles store zeros.
// CHECK: %[[BLOCKS:.*]] = arith.maxui %{{.*}}, %c1
// CHECK: scf.for %[[KB:.*]] = %c0 to %[[BLOCKS]] step %c512
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[KB]], %c0
// CHECK: scf.if %[[FIRST]] -> (vector<16xf32>,
// CHECK-NEXT: scf.yield %cst, %cst,
// CHECK-NEXT: } else {
// CHECK-COUNT-24: vector.load %alloc[
// CHECK-LABEL: func @zero_init_dot
// CHECK-NOT: linalg.fill
// CHECK: vector.reduction <add>
// CHECK-NOT: memref.load %alloc
// CHECK: memref.store
// CHECK-LABEL: func @not_zero
// CHECK: linalg.fill ins(%cst
// CHECK-COUNT-24: vector.load %alloc[
// CHECK-LABEL: func @read_between
// CHECK: linalg.fill
// CHECK: memref.copy
// CHECK-COUNT-24: vector.load %alloc[
func.func @zero_init(%a: memref<?x32xf32>, %b: memref<32x128xf32>) -> memref<?x128xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = memref.dim %a, %c0 : memref<?x32xf32>
  %c = memref.alloc(%n) : memref<?x128xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<?x128xf32>)
  linalg.matmul ins(%a, %b : memref<?x32xf32>, memref<32x128xf32>) outs(%c : memref<?x128xf32>)
  return %c : memref<?x128xf32>
}
func.func @zero_init_blocked(%a: memref<128x?xf32>, %b: memref<?x64xf32>, %c: memref<128x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %t = memref.alloc() : memref<128x64xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<128x64xf32>)
  linalg.matmul ins(%a, %b : memref<128x?xf32>, memref<?x64xf32>) outs(%t : memref<128x64xf32>)
  memref.copy %t, %c : memref<128x64xf32> to memref<128x64xf32>
  return
}
func.func @zero_init_dot(%dy: memref<?x8x1x1x32x32xf32>, %db: memref<?x8x1x1xf32>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = memref.dim %dy, %c0 : memref<?x8x1x1x32x32xf32>
  %t = memref.alloc(%n) : memref<?x8x1x1xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<?x8x1x1xf32>)
  linalg.generic {indexing_maps = [affine_map<(n, c, a, b, h, w) -> (n, c, a, b, h, w)>, affine_map<(n, c, a, b, h, w) -> (n, c, a, b)>],
                  iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%dy : memref<?x8x1x1x32x32xf32>) outs(%t : memref<?x8x1x1xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %s = arith.addf %acc, %x : f32
    linalg.yield %s : f32
  }
  memref.copy %t, %db : memref<?x8x1x1xf32> to memref<?x8x1x1xf32>
  return
}
func.func @not_zero(%a: memref<128x32xf32>, %b: memref<32x64xf32>, %c: memref<128x64xf32>) {
  %one = arith.constant 1.0 : f32
  %t = memref.alloc() : memref<128x64xf32>
  linalg.fill ins(%one : f32) outs(%t : memref<128x64xf32>)
  linalg.matmul ins(%a, %b : memref<128x32xf32>, memref<32x64xf32>) outs(%t : memref<128x64xf32>)
  memref.copy %t, %c : memref<128x64xf32> to memref<128x64xf32>
  return
}
func.func @read_between(%a: memref<128x32xf32>, %b: memref<32x64xf32>, %c: memref<128x64xf32>, %d: memref<128x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %t = memref.alloc() : memref<128x64xf32>
  linalg.fill ins(%zero : f32) outs(%t : memref<128x64xf32>)
  memref.copy %t, %d : memref<128x64xf32> to memref<128x64xf32>
  linalg.matmul ins(%a, %b : memref<128x32xf32>, memref<32x64xf32>) outs(%t : memref<128x64xf32>)
  memref.copy %t, %c : memref<128x64xf32> to memref<128x64xf32>
  return
}

// -----

// Epilogues: the bias add after a matmul runs on the kernel's accumulators
// (bias loaded as vectors along the columns, the sum stored to the add's
// output, which is allocated after the matmul and moves up); the matmul's
// own output, read by nothing else, is not stored and its buffer is gone.
// CHECK-LABEL: func @bias_epilogue
// CHECK: %[[Z:.*]] = memref.alloc(%{{.*}}) : memref<?x128xf32>
// CHECK-NOT: memref.alloc
// CHECK: scf.for {{.*}} iter_args(
// CHECK-COUNT-24: vector.fma
// CHECK: %[[BIAS:.*]] = vector.load %arg2[%{{.*}}] : memref<128xf32>, vector<16xf32>
// CHECK: %[[SUM:.*]] = arith.addf %{{.*}}, %[[BIAS]] : vector<16xf32>
// CHECK: vector.store %[[SUM]], %[[Z]][
// CHECK-NOT: linalg.generic
// CHECK: return %[[Z]]
// By default (min-epilogue 65536) an output of 128 static elements keeps
// its bias add as a loop of its own when the kernel has full tiles (FEW);
// a small kernel (8 accumulators, in a function of many kernels: SMALL)
// leaves registers free and takes it as an epilogue.
// FEW-LABEL: func @bias_epilogue
// FEW: vector.fma
// FEW: linalg.generic
// FEW-LABEL: func @sgd_epilogue
// SMALL-LABEL: func @bias_epilogue
// SMALL: vector.fma
// SMALL: arith.addf %{{.*}} : vector<16xf32>
// SMALL-NOT: linalg.generic
// SMALL-LABEL: func @sgd_epilogue
func.func @bias_epilogue(%x: memref<?x32xf32>, %w: memref<32x128xf32>, %b: memref<128xf32>) -> memref<?x128xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x32xf32>
  %mm = memref.alloc(%n) : memref<?x128xf32>
  linalg.fill ins(%zero : f32) outs(%mm : memref<?x128xf32>)
  linalg.matmul ins(%x, %w : memref<?x32xf32>, memref<32x128xf32>) outs(%mm : memref<?x128xf32>)
  %z = memref.alloc(%n) : memref<?x128xf32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : memref<?x128xf32>, memref<128xf32>) outs(%z : memref<?x128xf32>) {
  ^bb0(%m: f32, %bias: f32, %o: f32):
    %s = arith.addf %m, %bias : f32
    linalg.yield %s : f32
  }
  return %z : memref<?x128xf32>
}

// -----

// A weight gradient over the batch (a blocked reduction) and its SGD
// update through collapsed views (as dlc-collapse-elementwise leaves it),
// with an unrelated op in between: after the last block the tile updates
// the weights in place (w - lr * g, lr broadcast); earlier blocks store
// the partial sums.
// CHECK-LABEL: func @sgd_epilogue
// CHECK: scf.for %[[KB:.*]] = %c0 to %{{.*}} step %c512
// CHECK-COUNT-24: vector.fma
// CHECK: scf.if %{{.*}} {
// CHECK: %[[LR:.*]] = memref.load %arg3[] : memref<f32>
// CHECK: vector.broadcast %[[LR]]
// CHECK: vector.load %[[W:.*]][%{{.*}}] : memref<2048xf32>, vector<16xf32>
// CHECK: arith.mulf
// CHECK: arith.subf
// CHECK: vector.store %{{.*}}, %[[W]][%{{.*}}] : memref<2048xf32>, vector<16xf32>
// CHECK: } else {
// CHECK: vector.store %{{.*}}, %alloc[
// CHECK-NOT: linalg.generic {{.*}}memref<2048xf32>
// CHECK: return
func.func @sgd_epilogue(%x: memref<?x32xf32>, %dz: memref<?x64xf32>, %w: memref<32x64xf32>, %lr: memref<f32>, %other: memref<4xf32>) {
  %zero = arith.constant 0.0 : f32
  %g = memref.alloc() : memref<32x64xf32>
  linalg.fill ins(%zero : f32) outs(%g : memref<32x64xf32>)
  linalg.matmul indexing_maps = [affine_map<(i, j, k) -> (k, i)>, affine_map<(i, j, k) -> (k, j)>, affine_map<(i, j, k) -> (i, j)>]
      ins(%x, %dz : memref<?x32xf32>, memref<?x64xf32>) outs(%g : memref<32x64xf32>)
  linalg.fill ins(%zero : f32) outs(%other : memref<4xf32>)
  %wf = memref.collapse_shape %w [[0, 1]] : memref<32x64xf32> into memref<2048xf32>
  %gf = memref.collapse_shape %g [[0, 1]] : memref<32x64xf32> into memref<2048xf32>
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>, affine_map<(i) -> (i)>, affine_map<(i) -> (i)>],
                  iterator_types = ["parallel"]}
      ins(%wf, %lr, %gf : memref<2048xf32>, memref<f32>, memref<2048xf32>) outs(%wf : memref<2048xf32>) {
  ^bb0(%wi: f32, %r: f32, %gi: f32, %o: f32):
    %step = arith.mulf %r, %gi : f32
    %new = arith.subf %wi, %step : f32
    linalg.yield %new : f32
  }
  return
}

// -----

// No epilogue when an op between writes what the consumer reads (the
// bias): the consumer stays, the matmul stores its output.
// CHECK-LABEL: func @written_between
// CHECK-COUNT-24: vector.store
// CHECK: linalg.fill
// CHECK: linalg.generic
func.func @written_between(%x: memref<?x32xf32>, %w: memref<32x128xf32>, %b: memref<128xf32>, %z: memref<?x128xf32>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?x32xf32>
  %mm = memref.alloc(%n) : memref<?x128xf32>
  linalg.matmul ins(%x, %w : memref<?x32xf32>, memref<32x128xf32>) outs(%mm : memref<?x128xf32>)
  linalg.fill ins(%zero : f32) outs(%b : memref<128xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : memref<?x128xf32>, memref<128xf32>) outs(%z : memref<?x128xf32>) {
  ^bb0(%m: f32, %bias: f32, %o: f32):
    %s = arith.addf %m, %bias : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// An activation's gradient (dh * (h > 0)) written over the activation's
// buffer, which an op between the matmul and it still reads (the weight
// gradient's, here a copy): the epilogue writes a buffer of its own, and
// what comes after the gradient reads that one.
// CHECK-LABEL: func @renamed_gradient
// CHECK: %[[ACT:.*]] = memref.alloc(%{{.*}}) : memref<?x128xf32>
// CHECK: %[[NEW:.*]] = memref.alloc(%{{.*}}) : memref<?x128xf32>
// CHECK-NOT: memref.alloc
// CHECK: memref.copy %arg2, %[[ACT]]
// CHECK: vector.fma
// CHECK: vector.load %[[ACT]][
// CHECK: arith.select
// CHECK: vector.store %{{.*}}, %[[NEW]][
// CHECK: memref.copy %[[ACT]], %arg3
// CHECK-NOT: linalg.generic
// CHECK: memref.copy %[[NEW]], %arg4
func.func @renamed_gradient(%dy: memref<?x32xf32>, %w: memref<32x128xf32>, %h: memref<?x128xf32>, %seen: memref<?x128xf32>, %dh: memref<?x128xf32>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %n = memref.dim %dy, %c0 : memref<?x32xf32>
  %mm = memref.alloc(%n) : memref<?x128xf32>
  %act = memref.alloc(%n) : memref<?x128xf32>
  memref.copy %h, %act : memref<?x128xf32> to memref<?x128xf32>
  linalg.fill ins(%zero : f32) outs(%mm : memref<?x128xf32>)
  linalg.matmul ins(%dy, %w : memref<?x32xf32>, memref<32x128xf32>) outs(%mm : memref<?x128xf32>)
  memref.copy %act, %seen : memref<?x128xf32> to memref<?x128xf32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%mm, %act : memref<?x128xf32>, memref<?x128xf32>) outs(%act : memref<?x128xf32>) {
  ^bb0(%g: f32, %a: f32, %o: f32):
    %pos = arith.cmpf ogt, %a, %zero : f32
    %d = arith.select %pos, %g, %zero : f32
    linalg.yield %d : f32
  }
  memref.copy %act, %dh : memref<?x128xf32> to memref<?x128xf32>
  return
}

// -----

// A chain of stages: Adam's first- and second-moment updates both read the
// gradient; the parameter update reads what they wrote (element for
// element) and joins too. A later op reading a buffer written in between
// (the step size) stays.
// CHECK-LABEL: func @adam_stages
// CHECK: scf.if %{{.*}} {
// CHECK: vector.load %[[M:arg[0-9]+]][%{{.*}}] : memref<32x64xf32>, vector<16xf32>
// CHECK: vector.store %{{.*}}, %[[M]][
// CHECK: vector.load %[[V:arg[0-9]+]][%{{.*}}] : memref<32x64xf32>, vector<16xf32>
// CHECK: arith.mulf
// CHECK: vector.store %{{.*}}, %[[V]][
// CHECK: vector.load %[[W:arg[0-9]+]][%{{.*}}] : memref<32x64xf32>, vector<16xf32>
// CHECK: vector.load %[[M]][
// CHECK: vector.load %[[V]][
// CHECK: vector.store %{{.*}}, %[[W]][
// CHECK: } else {
// CHECK: memref.store %{{.*}}, %arg6[]
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @adam_stages(%x: memref<?x32xf32>, %dz: memref<?x64xf32>, %w: memref<32x64xf32>, %m: memref<32x64xf32>, %v: memref<32x64xf32>, %w2: memref<32x64xf32>, %step: memref<f32>) {
  %zero = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  %g = memref.alloc() : memref<32x64xf32>
  linalg.fill ins(%zero : f32) outs(%g : memref<32x64xf32>)
  linalg.matmul indexing_maps = [affine_map<(i, j, k) -> (k, i)>, affine_map<(i, j, k) -> (k, j)>, affine_map<(i, j, k) -> (i, j)>]
      ins(%x, %dz : memref<?x32xf32>, memref<?x64xf32>) outs(%g : memref<32x64xf32>)
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%m, %g : memref<32x64xf32>, memref<32x64xf32>) outs(%m : memref<32x64xf32>) {
  ^bb0(%mi: f32, %gi: f32, %o: f32):
    %a = arith.mulf %mi, %half : f32
    %s = arith.addf %a, %gi : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%v, %g : memref<32x64xf32>, memref<32x64xf32>) outs(%v : memref<32x64xf32>) {
  ^bb0(%vi: f32, %gi: f32, %o: f32):
    %sq = arith.mulf %gi, %gi : f32
    %s = arith.addf %vi, %sq : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%w, %m, %v : memref<32x64xf32>, memref<32x64xf32>, memref<32x64xf32>) outs(%w : memref<32x64xf32>) {
  ^bb0(%wi: f32, %mi: f32, %vi: f32, %o: f32):
    %r = arith.divf %mi, %vi : f32
    %s = arith.subf %wi, %r : f32
    linalg.yield %s : f32
  }
  memref.store %half, %step[] : memref<f32>
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> ()>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%w2, %step, %m : memref<32x64xf32>, memref<f32>, memref<32x64xf32>) outs(%w2 : memref<32x64xf32>) {
  ^bb0(%wi: f32, %st: f32, %mi: f32, %o: f32):
    %r = arith.mulf %st, %mi : f32
    %s = arith.subf %wi, %r : f32
    linalg.yield %s : f32
  }
  return
}
