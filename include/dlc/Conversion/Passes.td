// Lowering passes: dlc to linalg, the function ABI, and the contract checks
// between stages.
#ifndef DLC_CONVERSION_PASSES_TD
#define DLC_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertDLCToLinalgPass : Pass<"dlc-convert-to-linalg", "ModuleOp"> {
  let summary = "Lowers dlc ops to linalg, tensor, arith and math on tensors";
  let description = [{
    Elementwise ops become `linalg.generic` ops with broadcasting indexing
    maps (ready for elementwise fusion), matmul becomes `linalg.matmul`,
    `linalg.matvec`, `linalg.vecmat` or `linalg.dot`, reductions become
    `linalg.generic` reductions, reshapes become `tensor.collapse_shape` /
    `tensor.expand_shape`, and losses are first decomposed into dlc ops.
    A cross-entropy reads each row's log-probability at the row's label
    (`tensor.extract` in a generic over the rows) rather than summing the
    product with a one-hot row over the classes (in order, one term not
    zero): the 64-128-10 MLP's step 14.2-14.6 -> 13.1-13.9 us, with the
    batch sum below. Symbolic dimensions are read with `tensor.dim`.
  }];
  let dependentDialects = [
    "::mlir::linalg::LinalgDialect", "::mlir::tensor::TensorDialect",
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect"];
}

def CheckLinalgContractPass : Pass<"dlc-check-linalg-contract", "ModuleOp"> {
  let summary = "Checks the contract of the linalg stage";
  let description = [{
    After `dlc-convert-to-linalg`: no dlc op is left, every value is a
    ranked tensor or a scalar, and functions hold a single block. Fails with
    an error located at the first op that breaks the contract.
  }];
}

def LowerFunctionABIPass : Pass<"dlc-lower-function-abi", "ModuleOp"> {
  let summary = "Turns tensor function boundaries into caller-owned memrefs";
  let description = [{
    Every public function on tensors becomes a function on memrefs with no
    results, exported with `llvm.emit_c_interface`:
    each tensor argument becomes a memref argument (read through
    `bufferization.to_tensor restrict`); each result is written into a
    memref with `bufferization.materialize_in_destination`. A result with
    `dlc.aliases = i` is written into argument `i` (an in-place update);
    every other result gets a new output argument appended after the
    inputs, in result order. The caller owns every buffer.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect"];
}

def VectorizeLinalgPass : Pass<"dlc-vectorize-linalg", "func::FuncOp"> {
  let summary = "Vectorizes the linalg ops that linalg's vectorizer accepts";
  let description = [{
    Every linalg op on tensors with static shapes and at most 256 points in
    its iteration space that passes `linalg::vectorizeOpPrecondition`
    (larger ones would become one huge, unrolled vector) becomes vector
    transfers and vector arithmetic (reductions become
    `vector.multi_reduction`, contractions `vector.contract`). A
    `linalg.generic` over the symbolic batch whose static loops make a row
    of 2 to 256 points (a softmax or cross-entropy over 10 classes, which
    LLVM's loop vectorizer leaves scalar; an elementwise op only on rows
    under 128 points, since LLVM's own loops ran the small MLP's 64 x 128
    bias, ReLU and ReLU gradient in half the time) is tiled by one row along the
    batch through `TilingInterface` (`scf::tileUsingSCF`) and each row
    vectorized the same way: the 64-128-10 MLP's step went from 23 to 18
    us. Contractions (`out + x * y`) are left to `dlc-register-tile`;
    wider ops over the batch stay loops for LLVM's loop vectorizer. A sum
    over the batch into a scalar (a loss's mean, its arithmetic fused in)
    becomes an `scf.for` carrying the sum in a register, its addition
    `reassoc`, which LLVM's loop vectorizer sums in vector lanes; its inputs
    may be read along the loop through unit dimensions (a row's `[?, 1]`
    sum) and its body may read the loop's index (a cross-entropy's label
    pick) (as a loop
    nest over buffers the sum went through memory at every step, in order,
    and stayed scalar: the GAN's step 68 -> 62.5 us). The maximum (or
    minimum) of one short row becomes a tree: the row padded with the
    neutral element to a power of two, halves combined (a softmax's
    maximum over 10 classes was a chain of ten scalar `maximumf`s, each
    with its NaN checks); sums keep their order, which a tree would round
    differently. A read that broadcasts (a row's maximum along its classes)
    reads what it broadcasts and then broadcasts it
    (`populateVectorTransferPermutationMapLoweringPatterns`; lowered to
    loops, it filled the vector one lane at a time); a read of one element
    broadcast along the whole vector (a row's `[?, 1]` sum read along its
    classes through `(n, c) -> (n, 0)`, which those patterns leave as it
    is) extracts the element and broadcasts it. A row op may read its
    indices (the one-hot target in a cross-entropy's gradient: a vector of
    steps compared with the label).

    Row ops whose rows fit one vector of `lanes` (a softmax, cross-entropy
    and their gradient over 10 classes) and that read a contraction's output
    (through other such ops and reshapes) stay linalg, marked `dlc.row_op`:
    `dlc-register-tile` computes them on the contraction's tiles (a row
    epilogue), or else as a loop over their rows.
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", "16",
           "f32 elements per vector register (16 for AVX-512, 8 for AVX2)">,
  ];
  let dependentDialects = ["::mlir::vector::VectorDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TransposeNarrowProductsPass
    : Pass<"dlc-transpose-narrow-products", "func::FuncOp"> {
  let summary = "Computes a product with a few output columns transposed";
  let description = [{
    A contraction on tensors over one reduction loop into a static
    `[M, N]` whose input along M reads it as its last index (a narrow
    layer's weight gradient, `h^T dy`), when the transpose takes at most
    3/4 of the vector FMAs per reduction step (N rows of ceil(M / lanes)
    vectors against M rows of ceil(N / lanes): `dy` of 1 or 2 columns, or
    the 10 classes of a 128 x 10 gradient) and has at most 16K elements
    to copy back, becomes the same contraction into an `[N, M]` (zero-filled, or the
    transposed output it accumulates into: a layer used twice), then a
    `linalg.transpose` into the original's destination.
    `dlc-register-tile` then runs vectors along M (N rows of full vectors)
    instead of one masked vector per row of M with N of its lanes used.
    A forward product `x w` (`x` read at `(m, k)`, `w` a static `[K, N]`
    read at `(k, n)`, N at most `lanes / 4`, K at least `lanes`) reads a
    transposed copy of `w`
    at `(n, k)` instead: both operands run along k, and
    `dlc-register-tile` gives it dot tiles.
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", "16",
           "f32 elements per vector register (16 for AVX-512, 8 for AVX2)">,
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def InterchangeLoopsPass : Pass<"dlc-interchange-loops", "func::FuncOp"> {
  let summary = "Puts a contiguous parallel loop innermost in reductions";
  let description = [{
    A linalg op with reduction loops (matmul, convolutions, their
    gradients) lowers to loops in iterator order, which puts a reduction
    innermost: a strided dot product LLVM does not vectorize. When the
    output's last index is a loop `j` of at least 16 iterations (or the
    batch) that also indexes the last, contiguous dimension of an input
    with coefficient 1, the op is generalized and its loops reordered as
    (other parallel loops, reductions, `j`): the innermost loop becomes an
    axpy over contiguous rows, which LLVM vectorizes with the host's widest
    vectors.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def RegisterTilePass : Pass<"dlc-register-tile", "func::FuncOp"> {
  let summary = "Lowers matmuls and convolutions to register-tiled vector FMAs";
  let description = [{
    On buffers: a linalg op that computes `out += a * b` with reduction
    loops (matmul and its transposes, the convolutions and their gradients)
    becomes loops around a register-tiled micro-kernel, when its output's
    last index is a loop `j` that also indexes the contiguous last
    dimension of `b` with coefficient 1, and `a` does not depend on `j`.
    A loop `i` of the output that `a` depends on and `b` does not gives the
    tile's rows. The kernel keeps `rows x vectors` accumulators of `lanes`
    elements in registers for the whole reduction: per reduction step it
    loads `vectors` vectors of `b` once, broadcasts `rows` scalars of `a`,
    and issues `rows x vectors` FMAs. Tiles are chosen so that
    `rows x vectors <= accumulators` (rows up to the extent of `i`,
    vectors up to 4 and up to the extent of `j`; with 24 accumulators, 6 x
    4, or 8 x 3 when `i` is the dynamic batch and the output at most 8
    vectors wide: 8 divides the usual batch sizes, the Elman RNN's step
    531-536 -> 496-502 us); the last columns use
    masked loads and stores, the last rows a one-row kernel, or, when the
    accumulators start at zero in one block, no epilogue updates in place
    and the op is not small, a full tile moved back to end at the last row (rows it shares
    with the tile before are computed twice, to the same values; the RNN's
    32-row matmuls: its step 0.84 -> 0.80 ms). Loops run
    outer parallel dims, then blocks of rows, then columns, then rows
    inside the block, then the reductions, so that a block of `b` is reused
    from cache by every row block; a matmul's reduction longer than a block
    (or the batch) runs in blocks, and when `b`'s rows have 256 or
    more elements each block of `b` is first packed by column tiles into a
    buffer (`memref.alloc`, placed in the arena by `dlc-plan-memory`, which
    runs after this pass), so that a tile's panel is contiguous. The block
    follows `l2-bytes`, the target's L2 per core: a block's panel of `b`
    (4 vectors wide) and the rows of `a` that 8 row tiles read fill a
    quarter of it, rounded down to a multiple of 128 steps within 128-1024
    (1 MB with 16 lanes and 24 accumulators: 512 steps, a 128 KB panel and
    96 KB of rows; 512 beat 128 and 256 at 1024 and 2048 on this project's
    machine). A right
    operand read as `b[j, k]` (`dy @ w^T`, 256 or more columns) is an
    outer product too: its packing transposes it (zero-padding the last
    tile).

    When no output loop gives contiguous vectors of at least a vector's
    length but both inputs are contiguous along a reduction loop `j` (a
    convolution's filter gradient), or a one-input sum reads its input
    contiguously along a static reduction of at least a vector (a bias's
    gradient over pixels; then without `b`), dot tiles hold
    `rows x columns` vectors of partial sums along `j`, added across lanes
    (as a tree) into the output at the end.

    A reduction over the batch and more loops (a convolution's filter
    gradient, summed over images and pixels) runs by blocks of images (as
    many as fit in a quarter of `l2-bytes` of operands, at least one),
    outside all other
    loops, so that a block's operands stay in cache while every tile reads
    them (the 3 x 32 x 32 CNN's step: 52 -> 45 ms), and small images do not
    pay a parallel loop's start each.

    An output filled with zeros right before the op (nothing touching it
    in between) is not filled: the accumulators start at zero (before the
    first block of a blocked reduction) and the fill is erased.

    With `epilogues`, the elementwise ops that next use a matmul's output
    of at least `min-epilogue` static elements, or any output of a small
    kernel (below, whose 8 or 12 accumulators leave registers free)
    (`linalg.generic`s of parallel loops reading it, or its collapsed view,
    with an identity map: a bias add, an activation's gradient, an
    optimizer update; then ops reading what those wrote, element for
    element: Adam's second-moment update after its first) are computed on each tile's accumulators before they are
    stored (after the last block of a blocked reduction), and erased; the
    output is stored only if something after reads it. They apply when
    they can move up to the kernel: nothing they move above writes what
    they read or touches what they write, their bodies are elementwise
    arithmetic, their other operands are read along the output's last
    dimension or broadcast, and what they write is no operand of the
    kernel (see Epilogue.h). A consumer whose output buffer bufferization
    reused from a value an op in between still reads (an activation's
    gradient over the activation, read first by the weight gradient)
    writes a new buffer allocated like the output instead, and every use
    of the old one after it moves to the new one (the GAN: 53.7-54.4 ->
    52.9-53.3 us a step). Not on convolutions: their kernels got slower
    with the epilogue after them (the 3 x 32 x 32 CNN's step 43 -> 46 ms).

    A matmul whose output rows fit one vector (a classifier's logits: 10
    classes in 16 lanes) takes a row epilogue instead, on any output: the
    row ops after it that `dlc-vectorize-linalg` left as linalg
    (`dlc.row_op`) and that read its output or what earlier ones wrote,
    reductions along the row included: the bias add, a softmax's maximum,
    exponential and sum, the cross-entropy's `z - max` (RowEpilogue.cpp).
    A reduction starts from the constant its output was filled with right
    before (the fill is erased). Each row of the tile is one vector of the
    row's length; the stages run one after another, each across all the
    tile's rows (their chains side by side: a row at a time, softmax
    regression was 1.80 -> 2.03 us a step slower; side by side, 1.85-1.89
    -> 1.66-1.70 us faster), and what they compute passes between them in
    registers: a buffer is stored only where something after the stages
    reads it, and is erased otherwise (a stage does not read from registers
    a buffer that an op it moves above writes again, a fill included).
    Row ops are never kernels of their own (a row sum over 16 classes would
    match as a one-input sum). Such kernels keep 8 accumulators
    (tiles of 8 rows): the epilogue's code is repeated per row (24: 2.06
    us, and 0.1 s more to compile). Row ops no kernel takes (a later write
    blocks them, or the product has no kernel) become a loop over their
    rows, one vector each, the same code.

    In functions of more than `full-tile-kernels` contractions, ops of
    fewer than `small-work` static points (the batch counted as 1) keep at
    most 12 accumulators, those under `tiny-work` 8, and the last rows of
    a batch their own smaller tile: each kernel compiles faster (the GAN's
    36 kernels: 1.56 -> 1.19 s with 8 for all), the smallest ops are bound
    by loop overhead more than by FMAs, and the free registers hold
    epilogues (the GAN's 128 x 64 x 64 matmuls with 12 rather than 8: its
    step 57.1-57.9 -> 53.8-55.0 us, compile +0.04 s). A
    function with few kernels affords full tiles for all of them (the
    64-128-10 MLP's step: 16.6 -> 15.3 us, its compile 0.26 -> 0.33 s).

    With `parallel`, the outermost loop of an op with at least `min-work`
    static points is an `scf.parallel` (see `dlc-parallelize`). Each
    output element is accumulated in the op's reduction order whatever the
    tiling and the thread count. Below 65,536 points a kernel runs on one
    thread: starting a parallel region (about 2 us with libomp, paid even
    on one thread, since the JIT always emits the OpenMP loops) cost more
    than it saved on the Elman RNN's 96 kernels a step of 16,384 points
    (2 threads: 766 -> 490 us a step; 1 thread: 553 -> 488 us).
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", "16",
           "f32 elements of one vector register (16 for AVX-512, 8 for "
           "AVX2, 4 for SSE and NEON); f64 ops use half as many">,
    Option<"accumulators", "accumulators", "int64_t", "24",
           "Vector registers the kernel may keep as accumulators">,
    Option<"parallel", "parallel", "bool", "false",
           "Make the outermost loop of large ops an scf.parallel">,
    Option<"minWork", "min-work", "int64_t", "65536",
           "Smallest static iteration space run in parallel">,
    Option<"smallWork", "small-work", "int64_t", "16384",
           "Ops with a smaller static iteration space keep at most 12 "
           "accumulators (in functions of more than full-tile-kernels "
           "contractions)">,
    Option<"tinyWork", "tiny-work", "int64_t", "4096",
           "Small ops with a smaller static iteration space keep at most 8 "
           "accumulators">,
    Option<"fullTileKernels", "full-tile-kernels", "int64_t", "6",
           "Functions with at most this many contractions give small ops "
           "full tiles too">,
    Option<"fuseEpilogues", "epilogues", "bool", "true",
           "Compute the elementwise consumer of a kernel's output on its "
           "tiles">,
    Option<"l2Bytes", "l2-bytes", "int64_t", "1048576",
           "The target's L2 cache per core in bytes: sizes the cache blocks">,
    Option<"minEpilogue", "min-epilogue", "int64_t", "65536",
           "Smallest output (static elements) of a kernel with full tiles "
           "that gets an epilogue">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def CollapseElementwisePass : Pass<"dlc-collapse-elementwise", "func::FuncOp"> {
  let summary = "Merges the contiguous loops of elementwise ops and reductions";
  let description = [{
    On tensors: a `linalg.generic` whose consecutive static loops of one
    iterator type every operand indexes as one contiguous run (or not at
    all, a broadcast) is rewritten over the merged loops, with
    `tensor.collapse_shape` / `expand_shape` around it
    (`linalg::collapseOpIterationDims`). A bias add over
    `[batch, 16, 8, 8]` becomes one over `[batch, 16, 64]`, a ReLU one over
    `[batch, 1024]`: the innermost loop is long enough for LLVM to
    vectorize (an 8-iteration loop is not worth its runtime checks). A
    convolution bias's gradient, a sum over `[batch, 32, 1, 1, 8, 8]`'s
    pixels, sums runs of 64 that `dlc-register-tile` then sums with vectors
    (its rows of 8 had stayed scalar loops: 5% of the 1 x 8 x 8 CNN's
    step, 903 -> 799 us). The batch is never merged: every dynamic size stays the batch, which
    `dlc-plan-memory` relies on. Maps with constant indices are left alone.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def FoldAccumulationPass : Pass<"dlc-fold-accumulation", "func::FuncOp"> {
  let summary = "Folds a sum with a matmul's product into the matmul's accumulator";
  let description = [{
    On tensors, after elementwise fusion: a `linalg.generic` that only adds
    two tensors of one shape (identity maps), one of them the only use of a
    `linalg.matmul` into zeros, becomes that matmul accumulating into the
    other (`linalg.matmul` computes `out += a * b`), when the other exists
    before the matmul. A scan's weight gradient, summed over the time
    steps, and the gradients of a weight used twice (a GAN's discriminator
    on real and fake samples) then need no separate addition: the kernel
    loads the partial sum instead of starting from zero. The sum is
    associated differently (x + (a b) becomes (x + a b) term by term), a
    difference of rounding.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def MergeUpdatesPass : Pass<"dlc-merge-updates", "func::FuncOp"> {
  let summary = "Merges a returned elementwise result into the elementwise op that reads it";
  let description = [{
    On tensors, after elementwise fusion: an elementwise `linalg.generic`
    (`linalg::isElementwise`) whose result is read by another such generic
    over the same loops and is otherwise only returned (an optimizer's state:
    Adam's `m` and `v`, read by the parameter's update and returned to be
    kept) merges into its reader (`linalg::fuseElementwiseOps`), which
    then yields both results. Upstream fusion leaves a producer with other
    users alone, so Adam was three loops over each parameter (the moments,
    then the update), each loading what the one before stored; it is one
    loop now. `dlc-lower-function-abi` writes each result of the merged op
    into its argument's buffer in place, and `dlc-mark-noalias` lets LLVM
    vectorize the loop without overlap checks.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def PrivatizeFillsPass : Pass<"dlc-privatize-fills", "func::FuncOp"> {
  let summary = "Gives every user of a filled tensor a fill of its own";
  let description = [{
    On tensors, right before bufferization: CSE merges identical fills (the
    zeros that every matmul accumulates into), and bufferization then writes
    the shared zero buffer once and copies it for every other user. Each
    user after the first in the fill's block, and every user inside a loop
    (loop-invariant code motion hoists a loop's fills), gets its own
    `tensor.empty` + `linalg.fill` built right before it, so that each
    buffer is filled in place, and `dlc-register-tile` can drop a fill of
    zeros that its kernel's accumulators replace.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def VectorizeCopiesPass : Pass<"dlc-vectorize-copies", "func::FuncOp"> {
  let summary = "Copies buffers contiguous along their last dimension with vectors";
  let description = [{
    On buffers: a `linalg.copy` whose source and destination both have a
    unit-stride last dimension (a copy into a padded buffer's interior), and
    a fill of such a buffer (`linalg.fill`, or an op without inputs yielding
    a value from outside, as `tensor.pad`'s border), become loops over the
    other dimensions around masked vector loads and stores of `lanes`
    elements along the last one. Between contiguous buffers they become one
    1-D copy or fill instead (LLVM makes memcpy/memset of them, and
    `dlc-parallelize` one parallel loop without index arithmetic). A transpose
    that moves the input's contiguous last dimension (NCHW -> NHWC) reads
    it as vectors and stores the elements one by one, the output's last
    dimension innermost
    (with `parallel`, the outermost loop of a large copy is an
    `scf.parallel`). As plain loops these copies stay scalar: LLVM cannot
    prove that two views of the one arena do not overlap.
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", "16", "Elements of one vector">,
    Option<"parallel", "parallel", "bool", "false",
           "Make the outermost loop of large copies an scf.parallel">,
    Option<"minWork", "min-work", "int64_t", "16384",
           "Smallest static size copied in parallel">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def VectorizePoolingPass : Pass<"dlc-vectorize-pooling", "func::FuncOp"> {
  let summary = "2 x 2 max pooling with stride 2, and its gradient, on vectors";
  let description = [{
    On buffers: a `linalg.pooling_nchw_max` with a 2 x 2 window, stride 2
    and no dilation becomes loops over (n, c, y) around vectors of `lanes`
    outputs: per window row, two vector loads of `2 lanes` inputs split into
    even and odd elements (`vector.shuffle`), and their `arith.maximumf`
    with the output. The maximum is exact in any order, so the result is
    the loop nest's, NaN included. As a loop nest the stride-2 window stays
    scalar. Input rows of `lanes / 2` (8 x 8 images) in planes of a
    multiple of 8 rows are pooled a plane at a time instead: 8 rows, loaded
    one at a time (they may lie apart, a slice of a convolution computed
    over the padded width) and joined in pairs into 4 vectors, give one
    vector of outputs (4 rows of `lanes / 4`), where rows would give a
    quarter of a vector each (the 1 x 8 x 8 CNN's step 799 -> 655 us).

    Its gradient, an elementwise op that reads some operands per window at
    `(.., h floordiv 2, w floordiv 2)` (the pooled values and their
    gradient, fused with the ReLU mask before it), is vectorized along `w`
    too: those operands are loaded at half width with each lane repeated
    twice, and the body's elementwise arithmetic is cloned on vectors.
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", "16", "Outputs per vector">,
    Option<"parallel", "parallel", "bool", "false",
           "Share the batch loop of large pools out to threads (scf.parallel)">,
    Option<"minWork", "min-work", "int64_t", "4096",
           "Smallest static output size pooled in parallel">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect"];
}

def ApproximateMathPass : Pass<"dlc-approximate-math", "func::FuncOp"> {
  let summary = "Replaces f32 transcendental functions with polynomials";
  let description = [{
    `math.tanh`, `exp`, `expm1`, `log`, `log1p`, `log2`, `erf`, `atan`,
    `atan2`, `sin`, `cos` and `cbrt` on f32 (scalars and vectors) become
    MLIR's polynomial approximations (`populateMathPolynomialApproximationPatterns`):
    plain arithmetic that LLVM vectorizes, instead of scalar libm calls in
    every loop. f64 is left to libm (gradcheck runs in f64). The accuracy
    against libm is measured in test/Runtime/approximate-math.test.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::vector::VectorDialect"];
}

def ParallelizePass : Pass<"dlc-parallelize", "func::FuncOp"> {
  let summary = "Runs the outer parallel loops of large linalg ops on threads";
  let description = [{
    On buffers: a linalg op whose static iteration space (the batch counted
    as 1) has at least `min-work` points becomes loops whose outermost
    parallel loop is an `scf.parallel` (inner parallel loops stay
    sequential), which `convert-scf-to-openmp` turns into an OpenMP
    work-sharing loop. Smaller ops stay sequential: a parallel region costs
    microseconds, more than they take. Each output element is computed by
    one thread in the same order, so results do not depend on the number
    of threads.
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", "16384",
           "Smallest static iteration space run in parallel">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def DropAllocaScopesPass : Pass<"dlc-drop-alloca-scopes", "ModuleOp"> {
  let summary = "Inlines memref.alloca_scope regions that allocate nothing";
  let description = [{
    `convert-scf-to-openmp` wraps each parallel iteration in an
    `memref.alloca_scope`; with no `memref.alloca` inside (dlc plans all
    memory in the arena) the scope does nothing, and its single-block region
    would break once the loops inside become branches.
  }];
}

def PlanMemoryPass : Pass<"dlc-plan-memory", "ModuleOp"> {
  let summary = "Places every buffer of a function in one caller-owned arena";
  let description = [{
    After bufferization: every `memref.alloc` of a public function becomes
    a `memref.view` into a new last argument, `arena: memref<?xi8>`, at a
    64-byte-aligned offset, so that a call allocates nothing. Buffers of
    the function's body share slots when their lifetimes do not overlap: in
    program order, a buffer takes the smallest free slot that holds it for
    every batch size (a slot is free once the last use of its buffer,
    through any value derived from it, has passed), else a new one; a
    returned buffer keeps its slot. Allocation sizes may depend on the
    symbolic batch size (a `memref.dim` along a dynamic dimension); the arena's size
    is then a polynomial in the batch size `b`, recorded on the function as
    `dlc.arena_bytes = [c0, c1, ...]` (bytes <= c0 + c1 b + c2 b^2 ...).
    The caller passes an arena at least that large, aligned to 64 bytes.
    A loop with constant bounds (a scan) gets one slice of the arena per
    iteration, as large as the bound of its body, so that a value yielded by
    one iteration is never overwritten by the next; a loop that allocates
    nothing (a kernel's, over the batch) needs no plan. Fails on an
    allocation it cannot place (in another region, in a loop without
    constant bounds, or with a size that is not a function of the batch).
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def ExpandCopiesPass : Pass<"dlc-expand-copies", "ModuleOp"> {
  let summary = "Turns memref.copy into linalg.copy loops";
  let description = [{
    A `memref.copy` between non-contiguous views lowers to a call of
    `memrefCopy` in MLIR's runtime library, which neither the JIT nor a
    deployed object should need; as `linalg.copy` it becomes plain loops.
    A copy whose source and target are the same view (a row loop's result
    and its slot in the loop-carried buffer, once `dlc-plan-memory` placed
    both) is erased.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def MarkNoAliasPass : Pass<"dlc-mark-noalias", "ModuleOp"> {
  let summary = "Marks the buffers of a train step or predict function noalias";
  let description = [{
    After the conversion to the LLVM dialect: the aligned pointer of every
    memref argument of a function marked `dlc.train_step` or `dlc.predict`
    gets `llvm.noalias`. The ABI (`dlc-lower-function-abi`) already reads
    every argument through a `restrict` `bufferization.to_tensor`: the
    caller's buffers (parameters, optimizer state, inputs, outputs, the
    arena) never overlap, and the runtime and the deployed C API pass them
    so (docs/deploy.md). LLVM did not know it: a loop writing a parameter
    while reading its optimizer state and gradient was vectorized behind
    runtime overlap checks, or left scalar when the checks were too many
    (Adam's update of `m`, `v` and the parameter in one loop). The
    allocated pointer, the same address, is left unmarked: no access uses
    it. Fails if a pointer argument is not part of a memref descriptor.
  }];
}

def CheckLLVMContractPass : Pass<"dlc-check-llvm-contract", "ModuleOp"> {
  let summary = "Checks that only the LLVM dialect is left";
  let description = [{
    The last check before translation to LLVM IR: every op is in the
    `llvm` dialect (or `omp` on LLVM types, with threads; or is the module). Fails at the first op that did not
    lower, naming it.
  }];
}

#endif // DLC_CONVERSION_PASSES_TD
