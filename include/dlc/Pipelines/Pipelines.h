// Named pipelines of dlc, shared by dlc, dlc-opt and the Python frontend.
#ifndef DLC_PIPELINES_PIPELINES_H
#define DLC_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
} // namespace mlir

namespace mlir::dlc {

/// Training: autodiff, then the optimizer update (see `dlc-optimizer`).
struct TrainingPipelineOptions
    : public PassPipelineOptions<TrainingPipelineOptions> {
  Option<std::string> optimizer{*this, "optimizer",
                                llvm::cl::desc("sgd, adam, adamw or rmsprop"),
                                llvm::cl::init("sgd")};
  Option<double> weightDecay{*this, "weight-decay",
                             llvm::cl::desc("Weight decay"),
                             llvm::cl::init(0.0)};
  Option<double> alpha{*this, "alpha",
                       llvm::cl::desc("RMSProp smoothing constant"),
                       llvm::cl::init(0.99)};
  Option<double> momentum{*this, "momentum", llvm::cl::desc("SGD momentum"),
                          llvm::cl::init(0.0)};
  Option<bool> nesterov{*this, "nesterov", llvm::cl::desc("Nesterov momentum"),
                        llvm::cl::init(false)};
  Option<double> beta1{*this, "beta1", llvm::cl::desc("Adam beta1"),
                       llvm::cl::init(0.9)};
  Option<double> beta2{*this, "beta2", llvm::cl::desc("Adam beta2"),
                       llvm::cl::init(0.999)};
  Option<double> epsilon{*this, "epsilon", llvm::cl::desc("Adam epsilon"),
                         llvm::cl::init(1e-8)};
};

/// CPU code generation.
struct CPUPipelineOptions : public PassPipelineOptions<CPUPipelineOptions> {
  Option<bool> fusion{*this, "fusion",
                      llvm::cl::desc("Fuse elementwise producers and consumers"),
                      llvm::cl::init(true)};
  Option<bool> vectorize{*this, "vectorize",
                         llvm::cl::desc("Vectorize linalg ops with static "
                                        "shapes"),
                         llvm::cl::init(true)};
  Option<bool> threads{*this, "threads",
                       llvm::cl::desc("Run the outer loops of large ops on "
                                      "OpenMP threads (needs libomp)"),
                       llvm::cl::init(false)};
  Option<int64_t> lanes{*this, "lanes",
                        llvm::cl::desc("f32 elements of the target's widest "
                                       "vector register (dlc-register-tile)"),
                        llvm::cl::init(16)};
  Option<int64_t> accumulators{
      *this, "accumulators",
      llvm::cl::desc("Vector registers a matmul/convolution kernel keeps as "
                     "accumulators (dlc-register-tile)"),
      llvm::cl::init(24)};
  Option<int64_t> l2Bytes{
      *this, "l2-bytes",
      llvm::cl::desc("The target's L2 cache per core in bytes: sizes the "
                     "kernels' cache blocks (dlc-register-tile)"),
      llvm::cl::init(1 << 20)};
};

/// dlc (forward) -> dlc with gradient and train-step functions.
void buildTrainingPipeline(OpPassManager &pm,
                           const TrainingPipelineOptions &options);
/// dlc -> linalg on tensors, fused.
void buildDLCToLinalgPipeline(OpPassManager &pm,
                              const CPUPipelineOptions &options);
/// linalg on tensors -> bufferized, vectorized loops -> LLVM dialect.
void buildLinalgToLLVMPipeline(OpPassManager &pm,
                               const CPUPipelineOptions &options);
/// The whole CPU pipeline: dlc -> LLVM dialect.
void buildCPUPipeline(OpPassManager &pm, const CPUPipelineOptions &options);

/// Registers the pipelines above as dlc-training, dlc-to-linalg,
/// dlc-linalg-to-llvm and dlc-cpu-pipeline.
void registerPipelines();

} // namespace mlir::dlc

#endif // DLC_PIPELINES_PIPELINES_H
