// RUN: dlc-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dlc-merge-updates))' | FileCheck %s
// An elementwise result that is returned and read by another elementwise op
// (an optimizer's state and the parameter's update) is computed in that op.

#id = affine_map<(i) -> (i)>
#scalar = affine_map<(i) -> ()>

// Adam's shape: m and v updated, then the parameter from both; one generic
// yields all three, reading the gradient once.
// CHECK-LABEL: func @adam
// CHECK: %[[R:.*]]:3 = linalg.generic
// CHECK-SAME: iterator_types = ["parallel"]
// CHECK-SAME: ins(%arg0, %arg4, %arg1, %arg3, %arg2 : tensor<64xf32>, tensor<f32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
// CHECK: math.sqrt
// CHECK: linalg.yield
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]#{{[0-2]}}, %[[R]]#{{[0-2]}}, %[[R]]#{{[0-2]}}
func.func @adam(%p: tensor<64xf32>, %m: tensor<64xf32>, %v: tensor<64xf32>, %g: tensor<64xf32>, %lr: tensor<f32>) -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) {
  %e = tensor.empty() : tensor<64xf32>
  %m2 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%m, %g : tensor<64xf32>, tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  %v2 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
      ins(%v, %g : tensor<64xf32>, tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %q = arith.mulf %b, %b : f32
    %s = arith.addf %a, %q : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  %p2 = linalg.generic {indexing_maps = [#id, #scalar, #id, #id, #id], iterator_types = ["parallel"]}
      ins(%p, %lr, %m2, %v2 : tensor<64xf32>, tensor<f32>, tensor<64xf32>, tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%a: f32, %l: f32, %mm: f32, %vv: f32, %o: f32):
    %r = math.sqrt %vv : f32
    %d = arith.divf %mm, %r : f32
    %u = arith.mulf %l, %d : f32
    %s = arith.subf %a, %u : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  return %p2, %m2, %v2 : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
}

// -----

#id = affine_map<(i) -> (i)>

// A producer read by another op as well as returned stays its own loop:
// merging would compute it where its first reader is, after its other.
// CHECK-LABEL: func @other_reader
// CHECK-COUNT-3: linalg.generic
func.func @other_reader(%x: tensor<64xf32>) -> (tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) {
  %e = tensor.empty() : tensor<64xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%i: f32, %o: f32):
    %s = arith.negf %i : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  %b = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%i: f32, %o: f32):
    %s = math.exp %i : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  %c = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : tensor<64xf32>) outs(%e : tensor<64xf32>) {
  ^bb0(%i: f32, %o: f32):
    %s = math.absf %i : f32
    linalg.yield %s : f32
  } -> tensor<64xf32>
  return %a, %b, %c : tensor<64xf32>, tensor<64xf32>, tensor<64xf32>
}

// -----

#id = affine_map<(i) -> (i)>
#row = affine_map<(i, j) -> (i)>
#id2 = affine_map<(i, j) -> (i, j)>

// A producer broadcast into its reader (other loops) stays apart: it would
// be computed once per point of the reader.
// CHECK-LABEL: func @broadcast
// CHECK-COUNT-2: linalg.generic
func.func @broadcast(%x: tensor<8xf32>, %y: tensor<8x4xf32>) -> (tensor<8xf32>, tensor<8x4xf32>) {
  %e = tensor.empty() : tensor<8xf32>
  %e2 = tensor.empty() : tensor<8x4xf32>
  %a = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%x : tensor<8xf32>) outs(%e : tensor<8xf32>) {
  ^bb0(%i: f32, %o: f32):
    %s = arith.negf %i : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  %b = linalg.generic {indexing_maps = [#row, #id2, #id2], iterator_types = ["parallel", "parallel"]}
      ins(%a, %y : tensor<8xf32>, tensor<8x4xf32>) outs(%e2 : tensor<8x4xf32>) {
  ^bb0(%i: f32, %j: f32, %o: f32):
    %s = arith.addf %i, %j : f32
    linalg.yield %s : f32
  } -> tensor<8x4xf32>
  return %a, %b : tensor<8xf32>, tensor<8x4xf32>
}
