// Registration of dialects, passes and pipelines for dlc's tools. The only
// file that includes MLIR's InitAll headers (they are slow to compile).
#include "dlc/InitAll.h"
#include "dlc/Conversion/Passes.h"
#include "dlc/Dialect/DLC/IR/DLCDialect.h"
#include "dlc/Dialect/DLC/Transforms/Passes.h"
#include "dlc/Pipelines/Pipelines.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

void mlir::dlc::registerAllDialects(DialectRegistry &registry) {
  registry.insert<DLCDialect>();
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
}

void mlir::dlc::registerAllPasses() {
  mlir::registerAllPasses();
  registerDLCPasses();
  registerDLCConversionPasses();
  registerPipelines();
}
