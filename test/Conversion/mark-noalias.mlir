// RUN: dlc-opt %s -split-input-file -verify-diagnostics -dlc-mark-noalias | FileCheck %s
// The aligned pointer of every memref argument of an entry point is
// noalias; the allocated pointer (same address, never accessed) and the
// C interface wrapper (pointers to descriptors) are left alone.

// CHECK-LABEL: llvm.func @step(
// CHECK-SAME: %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr {llvm.noalias}, %{{.*}}: i64, %{{.*}}: i64, %{{.*}}: i64,
// CHECK-SAME: %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr {llvm.noalias}, %{{.*}}: i64)
// CHECK-LABEL: llvm.func @_mlir_ciface_step(
// CHECK-NOT: llvm.noalias
// CHECK-LABEL: llvm.func @helper(
// CHECK-NOT: llvm.noalias
module {
  llvm.func @step(%a0: !llvm.ptr, %a1: !llvm.ptr, %o: i64, %s: i64, %t: i64,
                  %b0: !llvm.ptr, %b1: !llvm.ptr, %bo: i64) attributes {dlc.train_step} {
    llvm.return
  }
  llvm.func @_mlir_ciface_step(%a: !llvm.ptr, %b: !llvm.ptr) attributes {dlc.train_step} {
    llvm.return
  }
  llvm.func @helper(%a0: !llvm.ptr, %a1: !llvm.ptr) {
    llvm.return
  }
}

// -----

// A pointer that is not half of a descriptor's pair breaks the ABI's
// contract: nothing is marked.
module {
  // expected-error @below {{argument 1 is a pointer outside a memref descriptor}}
  llvm.func @predict(%n: i64, %p: !llvm.ptr, %m: i64) attributes {dlc.predict} {
    llvm.return
  }
}
