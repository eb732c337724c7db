// A dlc session: diagnostics, parsing, MLIRGen and the pipelines.
#include "Commands.h"
#include "Session.h"

#include "dlc/Runtime/Checkpoint.h"

#include "dlc/Frontend/Parser.h"
#include "dlc/InitAll.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/WithColor.h"

#include <unistd.h>

using namespace dlc;

static mlir::DialectRegistry &registry() {
  static mlir::DialectRegistry r = [] {
    mlir::DialectRegistry reg;
    mlir::dlc::registerAllDialects(reg);
    return reg;
  }();
  return r;
}

Session::Session(const CommonOptions &options)
    : options(options), ctx(registry(), mlir::MLIRContext::Threading::DISABLED) {
  ctx.loadAllAvailableDialects();
  handler = std::make_unique<mlir::SourceMgrDiagnosticHandler>(sourceMgr, &ctx);
  if (options.timing) {
    timingManager.setEnabled(true);
    rootTiming = timingManager.getRootScope();
  }
}

Session::~Session() = default;

void Session::error(const llvm::Twine &message) {
  llvm::WithColor::error(llvm::errs(), "dlc") << message << "\n";
}

bool Session::load() {
  auto file = llvm::MemoryBuffer::getFile(options.file, /*IsText=*/true);
  if (!file) {
    error(options.file + ": cannot read file: " + file.getError().message());
    return false;
  }
  llvm::StringRef source = (*file)->getBuffer();
  sourceMgr.AddNewSourceBuffer(std::move(*file), llvm::SMLoc());
  mlir::TimingScope scope = rootTiming.nest("parse + MLIRGen");
  prog = parseProgram(options.file, source, &ctx);
  if (!prog)
    return false;
  if (prog->models.empty()) {
    mlir::emitError(mlir::FileLineColLoc::get(&ctx, options.file, 1, 1))
        << "the file defines no model";
    return false;
  }
  moduleOp = generateModule(*prog, prog->models.front(), &ctx, modelInfo,
                            options.promoteToF64);
  return static_cast<bool>(moduleOp);
}

bool Session::run(mlir::PassManager &pm, llvm::StringRef stage) {
  if (options.printIRAfterAll) {
    pm.enableIRPrinting(
        /*shouldPrintBeforePass=*/nullptr,
        /*shouldPrintAfterPass=*/
        [](mlir::Pass *, mlir::Operation *) { return true; },
        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
  }
  mlir::TimingScope scope = rootTiming.nest(stage);
  if (options.timing)
    pm.enableTiming(scope);
  if (mlir::failed(pm.run(*moduleOp))) {
    error("compilation failed in stage '" + stage + "'");
    return false;
  }
  return true;
}

bool Session::addTraining(const TrainConfig &config) {
  // Dropout masks depend on the train block's seed: mix it into each site's.
  moduleOp->walk([&](mlir::dlc::DropoutOp op) {
    uint64_t z = config.seed * 0x9E3779B97F4A7C15ull + op.getSeed();
    z = (z ^ (z >> 31)) * 0xBF58476D1CE4E5B9ull;
    op.setSeed(static_cast<int64_t>((z ^ (z >> 29)) & 0x7fffffffffffffffull));
  });
  // Objectives with their own optimizer carry it to dlc-optimizer.
  for (auto func : moduleOp->getOps<mlir::func::FuncOp>()) {
    auto objectives = func->getAttrOfType<mlir::ArrayAttr>("dlc.objectives");
    if (!objectives)
      continue;
    mlir::Builder b(&ctx);
    llvm::SmallVector<mlir::Attribute> updated;
    for (auto [k, o] : llvm::enumerate(objectives)) {
      auto dict = llvm::cast<mlir::DictionaryAttr>(o);
      if (k >= config.objectiveOptimizers.size() ||
          !config.objectiveOptimizers[k]) {
        updated.push_back(dict);
        continue;
      }
      const OptimizerSettings &os = *config.objectiveOptimizers[k];
      llvm::SmallVector<mlir::NamedAttribute> entries(dict.getValue());
      entries.push_back(b.getNamedAttr(
          "optimizer",
          b.getDictionaryAttr({
              b.getNamedAttr("optimizer", b.getStringAttr(os.optimizer)),
              b.getNamedAttr("momentum", b.getF64FloatAttr(os.momentum)),
              b.getNamedAttr("beta1", b.getF64FloatAttr(os.beta1)),
              b.getNamedAttr("beta2", b.getF64FloatAttr(os.beta2)),
              b.getNamedAttr("epsilon", b.getF64FloatAttr(os.epsilon)),
              b.getNamedAttr("weight_decay", b.getF64FloatAttr(os.weightDecay)),
              b.getNamedAttr("alpha", b.getF64FloatAttr(os.alpha)),
              b.getNamedAttr("nesterov", b.getBoolAttr(os.nesterov)),
          })));
      updated.push_back(b.getDictionaryAttr(entries));
    }
    func->setAttr("dlc.objectives", b.getArrayAttr(updated));
  }
  mlir::PassManager pm(&ctx);
  mlir::dlc::TrainingPipelineOptions opts;
  opts.optimizer = config.optimizer;
  opts.momentum = config.momentum;
  opts.nesterov = config.nesterov;
  opts.beta1 = config.beta1;
  opts.beta2 = config.beta2;
  opts.epsilon = config.epsilon;
  opts.weightDecay = config.weightDecay;
  opts.alpha = config.alpha;
  mlir::dlc::buildTrainingPipeline(pm, opts);
  if (!run(pm, "autodiff + optimizer"))
    return false;
  // The train step holds the forward and backward passes; the separate
  // loss and gradient functions would only be compiled for nothing.
  llvm::SmallVector<mlir::Operation *> unused;
  for (mlir::Operation &op : moduleOp->getBody()->getOperations())
    if (op.hasAttr("dlc.loss") || op.hasAttr("dlc.grad_of"))
      unused.push_back(&op);
  for (mlir::Operation *op : unused)
    op->erase();
  return true;
}

bool Session::addGradients() {
  mlir::PassManager pm(&ctx);
  if (mlir::failed(mlir::parsePassPipeline("dlc-autodiff,canonicalize,cse", pm,
                                           llvm::errs())))
    return false;
  return run(pm, "autodiff");
}

bool Session::lowerToLinalg() {
  mlir::PassManager pm(&ctx);
  mlir::dlc::CPUPipelineOptions opts;
  opts.fusion = options.fusion;
  mlir::dlc::buildDLCToLinalgPipeline(pm, opts);
  return run(pm, "dlc -> linalg");
}

void dlc::setVectorShape(CommonOptions &options, const llvm::Triple &triple,
                         llvm::function_ref<bool(llvm::StringRef)> hasFeature) {
  options.vectorLanes = 4;
  options.accumulators = 12;
  if (triple.isX86() && hasFeature("avx512f")) {
    options.vectorLanes = 16;
    options.accumulators = 24;
  } else if (triple.isX86() && hasFeature("avx")) {
    options.vectorLanes = 8;
  } else if (triple.isAArch64()) {
    options.accumulators = 24;
  }
}

int64_t dlc::hostL2Bytes() {
  long bytes = ::sysconf(_SC_LEVEL2_CACHE_SIZE);
  return bytes > 0 ? bytes : 1 << 20;
}

bool Session::lowerToLLVM() {
  mlir::PassManager pm(&ctx);
  mlir::dlc::CPUPipelineOptions opts;
  opts.fusion = options.fusion;
  opts.threads = options.openmp;
  opts.lanes = options.vectorLanes;
  opts.accumulators = options.accumulators;
  opts.l2Bytes = options.l2Bytes;
  mlir::dlc::buildLinalgToLLVMPipeline(pm, opts);
  return run(pm, "linalg -> LLVM dialect");
}

bool dlc::writeOutputFile(const std::string &path, llvm::StringRef contents) {
  std::string error;
  if (writeFileAtomically(path, contents, error))
    return true;
  Session::error(error);
  return false;
}
