// Deployment: a model compiled to a self-contained object and a C header.
#ifndef DLC_TARGET_DEPLOY_H
#define DLC_TARGET_DEPLOY_H

#include "dlc/Frontend/MLIRGen.h"

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace dlc {

/// What `dlc compile --header` puts in the object and the header.
struct DeploySpec {
  std::string prefix;      // C identifier prefixing every symbol
  bool predict = true;     // export PREFIX_predict
  bool trainStep = false;  // export PREFIX_train_step
  int64_t maxBatch = 256;  // sizes the default arena
  std::string sourceFile;  // for the header's comment
  ModelInfo model;
  TrainConfig config;
  std::vector<double> params;   // embedded, all parameters in order
  std::vector<int64_t> arena;   // dlc.arena_bytes, the max over entries
};

/// Whether `name` can prefix C identifiers.
bool isCIdentifier(llvm::StringRef name);

/// Before lowering: keeps only the requested entry points of a module made
/// by the training pipeline, renamed to `<prefix>_predict_impl` and
/// `<prefix>_train_step_impl`. Fails with a message when an entry point is
/// missing.
mlir::LogicalResult selectEntryPoints(mlir::ModuleOp module,
                                      const DeploySpec &spec,
                                      std::string &error);

/// After lowering to the LLVM dialect: reads the arena polynomial of the
/// entry points into `spec`, gives every other function internal linkage,
/// and adds the embedded parameters and the default arena as globals.
mlir::LogicalResult finishDeployModule(mlir::ModuleOp module,
                                       DeploySpec &spec, std::string &error);

/// The documented C99/C++ header of the object.
std::string generateCHeader(const DeploySpec &spec);

} // namespace dlc

#endif // DLC_TARGET_DEPLOY_H
