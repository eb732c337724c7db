// dlc-convert-to-linalg: the pass that lowers the dlc dialect to linalg.
#include "dlc/Conversion/DLCToLinalg/DLCToLinalg.h"
#include "dlc/Conversion/Passes.h"
#include "dlc/Dialect/DLC/IR/DLCDialect.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Transforms/DialectConversion.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_CONVERTDLCTOLINALGPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;
using namespace mlir::dlc;

namespace {
struct ConvertDLCToLinalgPass
    : mlir::dlc::impl::ConvertDLCToLinalgPassBase<ConvertDLCToLinalgPass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<DLCDialect>();
    target.addLegalDialect<linalg::LinalgDialect, tensor::TensorDialect,
                           arith::ArithDialect, math::MathDialect,
                           func::FuncDialect, scf::SCFDialect>();
    RewritePatternSet patterns(ctx);
    populateElementwiseLoweringPatterns(patterns);
    populateLinearLoweringPatterns(patterns);
    populateReductionLoweringPatterns(patterns);
    populateConvolutionLoweringPatterns(patterns);
    populateScanLoweringPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
