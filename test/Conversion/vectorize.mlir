// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-vectorize-linalg))' | FileCheck %s
// Static-shape linalg ops become vector ops; symbolic-batch ones with a
// small static row are tiled by rows and each row vectorized; the rest stay.

// CHECK-LABEL: func @static_update
// CHECK: vector.transfer_read
// CHECK: arith.mulf %{{.*}} : vector<4xf32>
// CHECK: arith.subf %{{.*}} : vector<4xf32>
// CHECK: vector.transfer_write
// CHECK-NOT: linalg.generic
func.func @static_update(%p: tensor<4xf32>, %g: tensor<4xf32>, %lr: tensor<f32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%p, %g, %lr : tensor<4xf32>, tensor<4xf32>, tensor<f32>) outs(%e : tensor<4xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32, %o: f32):
    %m = arith.mulf %c, %b : f32
    %s = arith.subf %a, %m : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Only the batch, no row: stays a loop.
// CHECK-LABEL: func @dynamic
// CHECK: linalg.generic
// CHECK-NOT: vector.transfer_read
func.func @dynamic(%x: tensor<?xf32>) -> tensor<?xf32> {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %x, %c0 : tensor<?xf32>
  %e = tensor.empty(%d) : tensor<?xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%x : tensor<?xf32>) outs(%e : tensor<?xf32>) {
  ^bb0(%a: f32, %o: f32):
    %n = arith.negf %a : f32
    linalg.yield %n : f32
  } -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// The row maximum of a [batch, 10] softmax: a loop over the batch
// (TilingInterface, tile size 1 on the batch), each row a vector<1x10>
// reduced along the classes as a tree: padded with -inf to 16 lanes, then
// halves combined (8, 4, 2, 1), then the accumulator.
// CHECK-LABEL: func @row_max
// CHECK-DAG: %[[NEG:.*]] = arith.constant dense<0xFF800000> : vector<10xf32>
// CHECK: scf.for %[[ROW:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%{{.*}} = %arg1)
// CHECK: tensor.extract_slice %arg0[%[[ROW]], 0] [1, 10] [1, 1]
// CHECK: %[[R:.*]] = vector.transfer_read %{{.*}} : tensor<1x10xf32>, vector<1x10xf32>
// CHECK: %[[ACC:.*]] = vector.transfer_read %{{.*}} : tensor<1xf32>, vector<1xf32>
// CHECK: %[[FLAT:.*]] = vector.shape_cast %[[R]] : vector<1x10xf32> to vector<10xf32>
// CHECK: %[[PAD:.*]] = vector.shuffle %[[FLAT]], %[[NEG]] [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10, 10, 10, 10]
// CHECK: %[[LO:.*]] = vector.shuffle %[[PAD]], %[[PAD]] [0, 1, 2, 3, 4, 5, 6, 7]
// CHECK: %[[HI:.*]] = vector.shuffle %[[PAD]], %[[PAD]] [8, 9, 10, 11, 12, 13, 14, 15]
// CHECK: arith.maxnumf %[[LO]], %[[HI]] : vector<8xf32>
// CHECK: arith.maxnumf %{{.*}} : vector<4xf32>
// CHECK: arith.maxnumf %{{.*}} : vector<2xf32>
// CHECK: %[[ONE:.*]] = arith.maxnumf %{{.*}} : vector<1xf32>
// CHECK: %[[M:.*]] = vector.extract %[[ONE]][0]
// CHECK: %[[A:.*]] = vector.extract %[[ACC]][0]
// CHECK: arith.maxnumf %[[M]], %[[A]] : f32
// CHECK: tensor.insert_slice
// CHECK-NOT: vector.multi_reduction
// CHECK-NOT: linalg.generic
func.func @row_max(%x: tensor<?x10xf32>, %init: tensor<?xf32>) -> tensor<?xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, c) -> (n, c)>, affine_map<(n, c) -> (n)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<?x10xf32>) outs(%init : tensor<?xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.maxnumf %a, %o : f32
    linalg.yield %m : f32
  } -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// A row's sum keeps its order (a tree would round differently): it stays a
// vector.multi_reduction, lowered as a chain.
// CHECK-LABEL: func @row_sum
// CHECK: vector.multi_reduction <add>, %{{.*}} [1] : vector<1x10xf32> to vector<1xf32>
// CHECK-NOT: vector.shuffle
func.func @row_sum(%x: tensor<?x10xf32>, %init: tensor<?xf32>) -> tensor<?xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, c) -> (n, c)>, affine_map<(n, c) -> (n)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<?x10xf32>) outs(%init : tensor<?xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %a, %o : f32
    linalg.yield %s : f32
  } -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// A read that broadcasts a row's scalar along the classes reads the scalar
// and broadcasts it (lowered as a read of the broadcast shape, it became a
// loop filling one lane at a time).
// CHECK-LABEL: func @row_broadcast
// CHECK: %[[S:.*]] = vector.transfer_read %{{.*}} : tensor<1xf32>, vector<1xf32>
// CHECK: vector.broadcast %[[S]] : vector<1xf32> to vector<10x1xf32>
// CHECK: vector.transpose
// CHECK: arith.subf %{{.*}} : vector<1x10xf32>
func.func @row_broadcast(%x: tensor<?x10xf32>, %m: tensor<?xf32>) -> tensor<?x10xf32> {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %x, %c0 : tensor<?x10xf32>
  %e = tensor.empty(%d) : tensor<?x10xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(n, c) -> (n, c)>, affine_map<(n, c) -> (n)>, affine_map<(n, c) -> (n, c)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %m : tensor<?x10xf32>, tensor<?xf32>) outs(%e : tensor<?x10xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.subf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

// A row's [?, 1] scalar (a keepdims sum) read along the classes through
// (n, c) -> (n, 0): the element, extracted, then broadcast (the transfer
// with that permutation map was filled one lane at a time).
// CHECK-LABEL: func @row_broadcast_keepdims
// CHECK: %[[S:.*]] = tensor.extract %{{.*}} : tensor<1x1xf32>
// CHECK: vector.broadcast %[[S]] : f32 to vector<1x10xf32>
// CHECK-NOT: permutation_map
// CHECK: arith.divf %{{.*}} : vector<1x10xf32>
func.func @row_broadcast_keepdims(%x: tensor<?x10xf32>, %m: tensor<?x1xf32>) -> tensor<?x10xf32> {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %x, %c0 : tensor<?x10xf32>
  %e = tensor.empty(%d) : tensor<?x10xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(n, c) -> (n, c)>, affine_map<(n, c) -> (n, 0)>, affine_map<(n, c) -> (n, c)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %m : tensor<?x10xf32>, tensor<?x1xf32>) outs(%e : tensor<?x10xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.divf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

// An elementwise row of 128 elements or more stays a loop (LLVM's loop
// vectorizer does better there); a reduction along such a row (which LLVM
// would keep in order, scalar) is vectorized a row at a time.
// CHECK-LABEL: func @elementwise_row_128
// CHECK-NOT: scf.for
// CHECK: linalg.generic
// CHECK-LABEL: func @reduction_row_128
// CHECK: scf.for
// CHECK: vector.multi_reduction
func.func @elementwise_row_128(%x: tensor<?x128xf32>, %b: tensor<128xf32>, %init: tensor<?x128xf32>) -> tensor<?x128xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, c) -> (n, c)>, affine_map<(n, c) -> (c)>, affine_map<(n, c) -> (n, c)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : tensor<?x128xf32>, tensor<128xf32>) outs(%init : tensor<?x128xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<?x128xf32>
  return %0 : tensor<?x128xf32>
}
func.func @reduction_row_128(%x: tensor<?x128xf32>, %init: tensor<?xf32>) -> tensor<?xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, c) -> (n, c)>, affine_map<(n, c) -> (n)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<?x128xf32>) outs(%init : tensor<?xf32>) {
  ^bb0(%a: f32, %o: f32):
    %s = arith.addf %o, %a : f32
    linalg.yield %s : f32
  } -> tensor<?xf32>
  return %0 : tensor<?xf32>
}

// -----

// An elementwise row of 64 that reads a contraction's output stays a
// linalg op (dlc-register-tile may compute it on the kernel's tiles); the
// same op on another input is vectorized a row at a time.
// CHECK-LABEL: func @epilogue_candidate
// CHECK: linalg.matmul
// CHECK-NOT: scf.for
// CHECK: linalg.generic
// CHECK-LABEL: func @not_epilogue_candidate
// CHECK: scf.for
// CHECK: arith.addf %{{.*}} : vector<1x64xf32>
func.func @epilogue_candidate(%x: tensor<?x32xf32>, %w: tensor<32x64xf32>, %b: tensor<64xf32>, %init: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %mm = linalg.matmul ins(%x, %w : tensor<?x32xf32>, tensor<32x64xf32>) outs(%init : tensor<?x64xf32>) -> tensor<?x64xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(n, c) -> (n, c)>, affine_map<(n, c) -> (c)>, affine_map<(n, c) -> (n, c)>], iterator_types = ["parallel", "parallel"]}
      ins(%mm, %b : tensor<?x64xf32>, tensor<64xf32>) outs(%init : tensor<?x64xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}
func.func @not_epilogue_candidate(%x: tensor<?x64xf32>, %b: tensor<64xf32>, %init: tensor<?x64xf32>) -> tensor<?x64xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, c) -> (n, c)>, affine_map<(n, c) -> (c)>, affine_map<(n, c) -> (n, c)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : tensor<?x64xf32>, tensor<64xf32>) outs(%init : tensor<?x64xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<?x64xf32>
  return %0 : tensor<?x64xf32>
}

// -----

// A row wider than 256 elements stays a loop (LLVM vectorizes it); so does
// a contraction over the batch (dlc-register-tile's).
// CHECK-LABEL: func @wide_row
// CHECK: linalg.generic
// CHECK-NOT: scf.for
// CHECK-LABEL: func @contraction
// CHECK: linalg.matmul
// CHECK-NOT: scf.for
func.func @wide_row(%x: tensor<?x1024xf32>, %init: tensor<?x1024xf32>) -> tensor<?x1024xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, c) -> (n, c)>, affine_map<(n, c) -> (n, c)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<?x1024xf32>) outs(%init : tensor<?x1024xf32>) {
  ^bb0(%a: f32, %o: f32):
    %m = arith.negf %a : f32
    linalg.yield %m : f32
  } -> tensor<?x1024xf32>
  return %0 : tensor<?x1024xf32>
}
func.func @contraction(%x: tensor<?x4xf32>, %w: tensor<4x8xf32>, %init: tensor<?x8xf32>) -> tensor<?x8xf32> {
  %0 = linalg.matmul ins(%x, %w : tensor<?x4xf32>, tensor<4x8xf32>) outs(%init : tensor<?x8xf32>) -> tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

// A sum over the batch into a scalar (a loss's mean, its arithmetic fused
// in) becomes a loop carrying the sum in a register, its addition
// reassociable, which LLVM vectorizes; as a loop nest over buffers the sum
// went through memory at every step.
// CHECK-LABEL: func @batch_sum
// CHECK: %[[START:.*]] = tensor.extract %arg1[]
// CHECK: %[[N:.*]] = tensor.dim %arg0
// CHECK: %[[SUM:.*]] = scf.for %[[I:.*]] = %{{.*}} to %[[N]] step %{{.*}} iter_args(%[[ACC:.*]] = %[[START]]) -> (f32)
// CHECK: %[[X:.*]] = tensor.extract %arg0[%[[I]]]
// CHECK: %[[A:.*]] = math.absf %[[X]]
// CHECK: %[[S:.*]] = arith.addf %[[ACC]], %[[A]] fastmath<reassoc>
// CHECK: scf.yield %[[S]]
// CHECK: tensor.insert %[[SUM]] into %arg1[]
// CHECK-NOT: linalg.generic
func.func @batch_sum(%x: tensor<?xf32>, %init: tensor<f32>) -> tensor<f32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%x : tensor<?xf32>) outs(%init : tensor<f32>) {
  ^bb0(%in: f32, %out: f32):
    %a = math.absf %in : f32
    %s = arith.addf %out, %a : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  return %r : tensor<f32>
}

// -----

// Inputs read along the loop through a unit dimension (a row's [?, 1]
// sum) or at a constant index, and the loop's index in the body (a
// cross-entropy picking each row's label), follow the scf.for's index.
// CHECK-LABEL: func @batch_sum_indexed
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: scf.for %[[I:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args
// CHECK-DAG: tensor.extract %arg0[%[[I]]]
// CHECK-DAG: tensor.extract %arg1[%[[I]], %[[C0]]]
// CHECK-DAG: tensor.extract %arg2[%[[C0]]]
// CHECK: %[[K:.*]] = arith.fptosi
// CHECK: %[[KI:.*]] = arith.index_cast %[[K]]
// CHECK: tensor.extract %arg3[%[[I]], %[[KI]]]
// CHECK: arith.addf %{{.*}} fastmath<reassoc>
// CHECK-NOT: linalg.generic
func.func @batch_sum_indexed(%y: tensor<?xf32>, %total: tensor<?x1xf32>, %b: tensor<1xf32>, %z: tensor<?x10xf32>, %init: tensor<f32>) -> tensor<f32> {
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0, 0)>, affine_map<(d0) -> (0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]}
      ins(%y, %total, %b : tensor<?xf32>, tensor<?x1xf32>, tensor<1xf32>) outs(%init : tensor<f32>) {
  ^bb0(%label: f32, %t: f32, %c: f32, %out: f32):
    %i = linalg.index 0 : index
    %k = arith.fptosi %label : f32 to i64
    %ki = arith.index_cast %k : i64 to index
    %v = tensor.extract %z[%i, %ki] : tensor<?x10xf32>
    %a = arith.subf %v, %t : f32
    %d = arith.addf %a, %c : f32
    %s = arith.addf %out, %d : f32
    linalg.yield %s : f32
  } -> tensor<f32>
  return %r : tensor<f32>
}

// -----

// A row op that reads its indices (a one-hot target in a cross-entropy's
// gradient) is vectorized a row at a time too: the class index a vector
// of steps.
// CHECK-LABEL: func @row_with_index
// CHECK: scf.for
// CHECK: vector.step
// CHECK: arith.cmpf oeq
// CHECK: vector.transfer_write
func.func @row_with_index(%y: tensor<?xf32>, %p: tensor<?x10xf32>, %init: tensor<?x10xf32>) -> tensor<?x10xf32> {
  %0 = linalg.generic {indexing_maps = [affine_map<(n, c) -> (n)>, affine_map<(n, c) -> (n, c)>, affine_map<(n, c) -> (n, c)>], iterator_types = ["parallel", "parallel"]}
      ins(%y, %p : tensor<?xf32>, tensor<?x10xf32>) outs(%init : tensor<?x10xf32>) {
  ^bb0(%label: f32, %prob: f32, %o: f32):
    %k = linalg.index 1 : index
    %ki = arith.index_cast %k : index to i64
    %kf = arith.sitofp %ki : i64 to f32
    %hit = arith.cmpf oeq, %label, %kf : f32
    %one = arith.constant 1.0 : f32
    %zero = arith.constant 0.0 : f32
    %t = arith.select %hit, %one, %zero : f32
    %g = arith.subf %prob, %t : f32
    linalg.yield %g : f32
  } -> tensor<?x10xf32>
  return %0 : tensor<?x10xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d1)>
#row = affine_map<(d0, d1) -> (d0)>

// Row ops after a product whose rows fit one vector (10 of 16 lanes): the
// bias add and the row maximum stay linalg, marked for dlc-register-tile's
// row epilogue; the same ops on
// rows that do not read a product are vectorized a row at a time.
// CHECK-LABEL: func @row_epilogue
// CHECK: linalg.matmul
// CHECK: linalg.generic {{.*}} attrs = {dlc.row_op}
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}} attrs = {dlc.row_op}
// CHECK: arith.maximumf
// CHECK: scf.for
// CHECK: vector.transfer_read
// CHECK-NOT: dlc.row_op
// CHECK: return
func.func @row_epilogue(%x: tensor<?x64xf32>, %w: tensor<64x10xf32>,
                        %b: tensor<10xf32>, %o: tensor<?x10xf32>)
    -> (tensor<?xf32>, tensor<?x10xf32>) {
  %c0 = arith.constant 0 : index
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %n = tensor.dim %x, %c0 : tensor<?x64xf32>
  %e = tensor.empty(%n) : tensor<?x10xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<?x10xf32>) -> tensor<?x10xf32>
  %z = linalg.matmul ins(%x, %w : tensor<?x64xf32>, tensor<64x10xf32>)
                     outs(%f : tensor<?x10xf32>) -> tensor<?x10xf32>
  %l = linalg.generic {indexing_maps = [#id, #col, #id],
                       iterator_types = ["parallel", "parallel"]}
      ins(%z, %b : tensor<?x10xf32>, tensor<10xf32>) outs(%e : tensor<?x10xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  } -> tensor<?x10xf32>
  %me = tensor.empty(%n) : tensor<?xf32>
  %mf = linalg.fill ins(%ninf : f32) outs(%me : tensor<?xf32>) -> tensor<?xf32>
  %m = linalg.generic {indexing_maps = [#id, #row],
                       iterator_types = ["parallel", "reduction"]}
      ins(%l : tensor<?x10xf32>) outs(%mf : tensor<?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %max = arith.maximumf %in, %out : f32
    linalg.yield %max : f32
  } -> tensor<?xf32>
  %o2 = linalg.generic {indexing_maps = [#id, #col, #id],
                        iterator_types = ["parallel", "parallel"]}
      ins(%o, %b : tensor<?x10xf32>, tensor<10xf32>) outs(%e : tensor<?x10xf32>) {
  ^bb0(%in: f32, %bias: f32, %out: f32):
    %s = arith.addf %in, %bias : f32
    linalg.yield %s : f32
  } -> tensor<?x10xf32>
  return %m, %o2 : tensor<?xf32>, tensor<?x10xf32>
}
