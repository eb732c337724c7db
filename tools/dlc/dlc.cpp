// dlc: the command-line driver (train, compile, gradcheck).
#include "Commands.h"
#include "Session.h"
#include "llvm/TargetParser/Host.h"

#include "dlc/InitAll.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"

#include <thread>

using namespace llvm;

namespace dlc {
cl::OptionCategory category("dlc options");
cl::SubCommand trainCmd("train", "Train a model with the JIT and report "
                                 "train and test metrics");
cl::SubCommand compileCmd("compile", "Compile a model's train step and "
                                     "predict function to a chosen stage");
cl::SubCommand cvCmd("cv", "K-fold cross-validation: train on K-1 folds, "
                           "evaluate on the last, report mean and std");
cl::SubCommand predictCmd("predict",
                          "Run a trained model's output on new inputs");
cl::SubCommand gradcheckCmd(
    "gradcheck", "Check the autodiff gradient of a model's loss against "
                 "central finite differences, in f64 (f32 models promoted)");

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<model.dlg>"),
                                      cl::Required, cl::sub(trainCmd),
                                      cl::sub(compileCmd),
                                      cl::sub(gradcheckCmd), cl::sub(predictCmd),
                                      cl::sub(cvCmd),
                                      cl::cat(category));
static cl::opt<bool>
    timing("timing",
           cl::desc("Print the time of every pass and of the JIT compile"),
           cl::sub(trainCmd), cl::sub(compileCmd), cl::sub(gradcheckCmd),
           cl::sub(predictCmd), cl::sub(cvCmd), cl::cat(category));
static cl::opt<bool> printIRAfterAll(
    "mlir-print-ir-after-all",
    cl::desc("Print the IR after every pass (to stderr)"), cl::sub(trainCmd),
    cl::sub(compileCmd), cl::sub(gradcheckCmd), cl::cat(category));
static cl::opt<bool>
    noFusion("no-fusion",
             cl::desc("Skip elementwise fusion (for differential testing)"),
             cl::sub(trainCmd), cl::sub(compileCmd), cl::cat(category));

static cl::opt<int64_t> threads(
    "threads",
    cl::desc("Threads for large ops (OpenMP; default: all cores for train, "
             "cv and predict, 1 for compile, whose object then needs no "
             "OpenMP runtime)"),
    cl::value_desc("N"), cl::init(0), cl::sub(trainCmd), cl::sub(compileCmd),
    cl::sub(predictCmd), cl::sub(cvCmd), cl::cat(category));

static cl::opt<unsigned> jitThreads(
    "jit-threads",
    cl::desc("Threads of the JIT's LLVM code generation (default: all cores; "
             "the generated code is the same for any N)"),
    cl::value_desc("N"), cl::init(0), cl::sub(trainCmd), cl::sub(predictCmd),
    cl::sub(cvCmd), cl::sub(gradcheckCmd), cl::cat(category));

CommonOptions commonOptions() {
  CommonOptions o;
  o.file = inputFile;
  o.timing = timing;
  o.printIRAfterAll = printIRAfterAll;
  o.fusion = !noFusion;
  o.jitThreads = jitThreads;
  o.threads = threads > 0 ? int64_t(threads)
              : compileCmd   ? 1
                             : std::max<int64_t>(
                                   1, std::thread::hardware_concurrency());
  // The JIT always uses OpenMP loops for large ops (also faster on one
  // thread: each parallel loop body is an outlined function LLVM optimizes
  // better); an object only when asked, since it then needs libomp.
  o.openmp = compileCmd ? o.threads > 1 : true;
  // The JIT's kernels (and an object's, unless compile names a target) are
  // shaped for this machine's vectors.
  StringMap<bool> features = sys::getHostCPUFeatures();
  setVectorShape(o, Triple(sys::getProcessTriple()),
                 [&](StringRef f) { return features.lookup(f); });
  o.l2Bytes = hostL2Bytes();
  return o;
}
} // namespace dlc

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  mlir::dlc::registerAllPasses();
  cl::HideUnrelatedOptions(dlc::category);
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "dlc 0.1 (MLIR " << LLVM_VERSION_STRING << ")\n";
  });
  if (!cl::ParseCommandLineOptions(
          argc, argv,
          "dlc: a deep-learning graph compiler on MLIR\n\n"
          "  dlc train FILE.dlg      train with the JIT, print metrics\n"
          "  dlc compile FILE.dlg    emit ast, dlc, linalg, llvm-mlir, llvm, "
          "asm or obj\n"
          "  dlc predict FILE.dlg    run a trained model on new inputs\n"
          "  dlc cv FILE.dlg         k-fold cross-validation\n"
          "  dlc gradcheck FILE.dlg  check gradients by finite differences\n\n"
          "Run 'dlc SUBCOMMAND --help' for the options of each.\n",
          &errs()))
    return 1;
  if (dlc::threads.getNumOccurrences() && dlc::threads < 1) {
    errs() << "dlc: error: --threads must be at least 1\n";
    return 1;
  }
  if (dlc::jitThreads.getNumOccurrences() && dlc::jitThreads < 1) {
    errs() << "dlc: error: --jit-threads must be at least 1\n";
    return 1;
  }
  if (dlc::trainCmd)
    return dlc::runTrain();
  if (dlc::compileCmd)
    return dlc::runCompile();
  if (dlc::gradcheckCmd)
    return dlc::runGradcheck();
  if (dlc::predictCmd)
    return dlc::runPredict();
  if (dlc::cvCmd)
    return dlc::runCrossValidate();
  errs() << "dlc: error: expected a subcommand (train, cv, compile, predict "
            "or gradcheck); see 'dlc --help'\n";
  return 1;
}
