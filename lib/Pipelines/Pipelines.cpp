// The named pipelines of dlc: training, dlc -> linalg, linalg -> LLVM.
#include "dlc/Pipelines/Pipelines.h"
#include "dlc/Conversion/Passes.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;
using namespace mlir::dlc;

/// Appends upstream passes given in textual form. These names are MLIR's
/// own pass flags; a typo here is a bug in dlc, so it aborts.
static void addPipeline(OpPassManager &pm, StringRef pipeline) {
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("dlc: invalid built-in pipeline");
}

void mlir::dlc::buildTrainingPipeline(OpPassManager &pm,
                                      const TrainingPipelineOptions &options) {
  pm.addPass(createPoolFirstPass());
  pm.addPass(createAutodiffPass());
  OptimizerPassOptions opt;
  opt.optimizer = options.optimizer;
  opt.momentum = options.momentum;
  opt.nesterov = options.nesterov;
  opt.beta1 = options.beta1;
  opt.beta2 = options.beta2;
  opt.epsilon = options.epsilon;
  opt.weightDecay = options.weightDecay;
  opt.alpha = options.alpha;
  pm.addPass(createOptimizerPass(opt));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::dlc::buildDLCToLinalgPipeline(OpPassManager &pm,
                                         const CPUPipelineOptions &options) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createConvertDLCToLinalgPass());
  pm.addPass(createCheckLinalgContractPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  if (options.fusion) {
    addPipeline(pm, "func.func(linalg-fuse-elementwise-ops)");
    pm.addNestedPass<func::FuncOp>(createFoldAccumulationPass());
    pm.addNestedPass<func::FuncOp>(createMergeUpdatesPass());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
  // Loop-invariant ops out of the scan loops: the transposed weights a
  // reverse scan's step multiplies by, once instead of at every step.
  pm.addPass(createLoopInvariantCodeMotionPass());
}

void mlir::dlc::buildLinalgToLLVMPipeline(OpPassManager &pm,
                                          const CPUPipelineOptions &options) {
  pm.addPass(createLowerFunctionABIPass());
  if (options.vectorize) {
    pm.addNestedPass<func::FuncOp>(createCollapseElementwisePass());
    pm.addPass(createCanonicalizerPass());
    // One reshape per value: an in-place update's input and init must be
    // the same value for bufferization to write in place.
    pm.addPass(createCSEPass());
    TransposeNarrowProductsPassOptions narrow;
    narrow.lanes = options.lanes;
    pm.addNestedPass<func::FuncOp>(createTransposeNarrowProductsPass(narrow));
    VectorizeLinalgPassOptions vectorize;
    vectorize.lanes = options.lanes;
    pm.addNestedPass<func::FuncOp>(createVectorizeLinalgPass(vectorize));
    pm.addPass(createCanonicalizerPass());
    pm.addNestedPass<func::FuncOp>(createInterchangeLoopsPass());
  }
  // Each op accumulating into zeros gets its own fill (CSE shared them):
  // bufferization would copy the shared one.
  pm.addNestedPass<func::FuncOp>(createPrivatizeFillsPass());
  // An op whose result is inserted into a larger tensor (a pool's gradient
  // into the zero-padded spread of the transposed convolution) writes into
  // that tensor's slice instead of a buffer of its own that is then copied
  // (16 MB a step in the 3 x 32 x 32 CNN).
  addPipeline(pm, "eliminate-empty-tensors");
  // Loops (scan) yield new tensors each step. Every buffer is then placed in
  // the caller's arena: a call allocates nothing, so nothing is freed.
  addPipeline(pm, "one-shot-bufferize{allow-return-allocs-from-loops},"
                  "canonicalize,cse");
  // The kernels come before memory planning: packed panels of a matmul's
  // operand are buffers of the arena too.
  if (options.vectorize) {
    RegisterTilePassOptions tile;
    tile.lanes = options.lanes;
    tile.accumulators = options.accumulators;
    tile.parallel = options.threads;
    tile.fuseEpilogues = options.fusion;
    tile.l2Bytes = options.l2Bytes;
    pm.addNestedPass<func::FuncOp>(createRegisterTilePass(tile));
  }
  pm.addPass(createPlanMemoryPass());
  pm.addPass(createExpandCopiesPass());
  if (options.vectorize) {
    VectorizeCopiesPassOptions copies;
    copies.lanes = options.lanes;
    copies.parallel = options.threads;
    pm.addNestedPass<func::FuncOp>(createVectorizeCopiesPass(copies));
    VectorizePoolingPassOptions pooling;
    pooling.lanes = options.lanes;
    pooling.parallel = options.threads;
    pm.addNestedPass<func::FuncOp>(createVectorizePoolingPass(pooling));
  }
  pm.addPass(createCanonicalizerPass());
  if (options.threads)
    pm.addNestedPass<func::FuncOp>(createParallelizePass());
  if (options.vectorize)
    pm.addNestedPass<func::FuncOp>(createApproximateMathPass());
  addPipeline(pm, "func.func(convert-linalg-to-loops),"
                  "func.func(lower-vector-multi-reduction),"
                  "convert-vector-to-scf,lower-affine,"
                  "expand-strided-metadata,lower-affine");
  if (options.threads) {
    addPipeline(pm, "convert-scf-to-openmp");
    pm.addPass(createDropAllocaScopesPass());
  }
  // Math before vectors: convert-math-to-libm unrolls vector math it has
  // no intrinsic for (f64 erf) into vector extracts and inserts, which
  // convert-vector-to-llvm then lowers.
  addPipeline(pm, "convert-scf-to-cf,canonicalize,"
                  "convert-math-to-llvm,convert-math-to-libm,"
                  "convert-vector-to-llvm,"
                  "finalize-memref-to-llvm,convert-arith-to-llvm,"
                  "convert-index-to-llvm,convert-cf-to-llvm,"
                  "convert-func-to-llvm,convert-ub-to-llvm");
  if (options.threads)
    addPipeline(pm, "convert-openmp-to-llvm");
  addPipeline(pm, "reconcile-unrealized-casts,canonicalize,cse");
  pm.addPass(createMarkNoAliasPass());
  pm.addPass(createCheckLLVMContractPass());
}

void mlir::dlc::buildCPUPipeline(OpPassManager &pm,
                                 const CPUPipelineOptions &options) {
  buildDLCToLinalgPipeline(pm, options);
  buildLinalgToLLVMPipeline(pm, options);
}

void mlir::dlc::registerPipelines() {
  PassPipelineRegistration<TrainingPipelineOptions>(
      "dlc-training", "Autodiff and optimizer update: dlc -> train step",
      buildTrainingPipeline);
  PassPipelineRegistration<CPUPipelineOptions>(
      "dlc-to-linalg", "Lower dlc to fused linalg on tensors",
      buildDLCToLinalgPipeline);
  PassPipelineRegistration<CPUPipelineOptions>(
      "dlc-linalg-to-llvm",
      "Bufferize, vectorize and lower linalg on tensors to the LLVM dialect",
      buildLinalgToLLVMPipeline);
  PassPipelineRegistration<CPUPipelineOptions>(
      "dlc-cpu-pipeline", "The whole CPU pipeline: dlc -> LLVM dialect",
      buildCPUPipeline);
}
