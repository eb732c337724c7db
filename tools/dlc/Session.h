// A dlc session: the model file, its diagnostics, and the compilation stages
// that every command shares.
#ifndef DLC_TOOLS_DLC_SESSION_H
#define DLC_TOOLS_DLC_SESSION_H

#include "dlc/Frontend/MLIRGen.h"
#include "dlc/Runtime/Engine.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/Timing.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/TargetParser/Triple.h"

#include <memory>
#include <optional>

namespace mlir {
class SourceMgrDiagnosticHandler;
class PassManager;
} // namespace mlir

namespace dlc {

/// Options every command shares.
struct CommonOptions {
  std::string file;
  bool timing = false;
  bool printIRAfterAll = false;
  bool fusion = true;
  bool promoteToF64 = false; // build an f32 model in f64 (gradcheck)
  int64_t threads = 1; // threads of the OpenMP loops
  unsigned jitThreads = 0; // threads of the JIT's code generation (0: all)
  bool openmp = false;  // large ops become OpenMP loops (needs libomp)
  // The target's widest vector in f32 lanes, and the vector registers a
  // matmul/convolution kernel keeps as accumulators (dlc-register-tile).
  int64_t vectorLanes = 16;
  int64_t accumulators = 24;
  // The target's L2 cache per core, which sizes the kernels' cache blocks:
  // this machine's (sysconf) unless compiling for a named target.
  int64_t l2Bytes = 1 << 20;
};

/// This machine's L2 cache per core (1 MB if the system does not say).
int64_t hostL2Bytes();

/// Sets `vectorLanes` and `accumulators` for a target: 16/24 with AVX-512,
/// 8/12 with AVX (16 registers), 4/24 on AArch64 (32 NEON registers), else
/// 4/12. `hasFeature` answers for LLVM feature names ("avx512f").
void setVectorShape(CommonOptions &options, const llvm::Triple &triple,
                    llvm::function_ref<bool(llvm::StringRef)> hasFeature);

class Session {
public:
  explicit Session(const CommonOptions &options);
  ~Session();

  /// Reads and parses the model file and generates the dlc module of its
  /// first model. Errors are printed as file:line:col.
  bool load();
  /// Adds the training functions (autodiff + optimizer) to the module.
  bool addTraining(const TrainConfig &config);
  /// Adds only the gradient functions (for gradcheck).
  bool addGradients();
  /// Lowers the module to linalg on tensors.
  bool lowerToLinalg();
  /// Lowers linalg on tensors to the LLVM dialect.
  bool lowerToLLVM();

  mlir::MLIRContext &context() { return ctx; }
  mlir::ModuleOp module() { return *moduleOp; }
  const Program &program() const { return *prog; }
  const Model &model() const { return prog->models.front(); }
  const ModelInfo &info() const { return modelInfo; }
  mlir::TimingScope &timing() { return rootTiming; }
  /// The JIT's options from the command line; `timing` nests its stages.
  EngineOptions engineOptions(mlir::TimingScope *timing = nullptr) const {
    return {options.threads, options.jitThreads, timing};
  }
  /// Prints "dlc: error: ..." for errors that have no source location.
  static void error(const llvm::Twine &message);

private:
  bool run(mlir::PassManager &pm, llvm::StringRef stage);

  const CommonOptions &options;
  mlir::MLIRContext ctx;
  llvm::SourceMgr sourceMgr;
  std::unique_ptr<mlir::SourceMgrDiagnosticHandler> handler;
  std::optional<Program> prog;
  mlir::OwningOpRef<mlir::ModuleOp> moduleOp;
  ModelInfo modelInfo;
  mlir::DefaultTimingManager timingManager;
  mlir::TimingScope rootTiming;
};

} // namespace dlc

#endif // DLC_TOOLS_DLC_SESSION_H
