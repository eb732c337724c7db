// dlc compile: print or write a chosen stage of the compiled model.
#include "Commands.h"

#include "dlc/Runtime/Engine.h"
#include "dlc/Runtime/Trainer.h"
#include "dlc/Target/Deploy.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"

using namespace llvm;
using namespace dlc;

enum class Emit { AST, DLC, Linalg, LLVMMLIR, LLVMIR, Asm, Obj };

static cl::opt<Emit> emit(
    "emit", cl::desc("The stage to write"), cl::Required,
    cl::values(clEnumValN(Emit::AST, "ast", "the parsed syntax tree"),
               clEnumValN(Emit::DLC, "dlc",
                          "dlc dialect: forward, gradient and train step"),
               clEnumValN(Emit::Linalg, "linalg", "linalg on tensors, fused"),
               clEnumValN(Emit::LLVMMLIR, "llvm-mlir", "the LLVM dialect"),
               clEnumValN(Emit::LLVMIR, "llvm", "LLVM IR, optimized at -O2"),
               clEnumValN(Emit::Asm, "asm", "target assembly"),
               clEnumValN(Emit::Obj, "obj", "a relocatable object file")),
    cl::sub(compileCmd), cl::cat(category));
static cl::opt<std::string> output("o", cl::desc("Output file ('-': stdout)"),
                                   cl::value_desc("file"), cl::init("-"),
                                   cl::sub(compileCmd), cl::cat(category));
static cl::opt<std::string>
    targetTriple("target-triple",
                 cl::desc("Target triple for llvm, asm and obj (default: "
                          "the host); the kernels' vector width follows it"),
                 cl::value_desc("triple"), cl::sub(compileCmd),
                 cl::cat(category));
static cl::opt<std::string>
    mcpu("mcpu",
         cl::desc("Target CPU for llvm, asm and obj (default: the host CPU "
                  "for the host triple, generic otherwise); its vector "
                  "extensions (AVX-512, AVX2) set the kernels' vector width"),
         cl::value_desc("cpu"), cl::sub(compileCmd), cl::cat(category));

enum class Entry { Predict, TrainStep, Both };
static cl::opt<std::string>
    headerFile("header",
               cl::desc("With --emit=obj: also write a C header for the "
                        "object, and make the object self-contained "
                        "(embedded weights, no dlc runtime)"),
               cl::value_desc("file"), cl::sub(compileCmd), cl::cat(category));
static cl::opt<Entry> entry(
    "entry", cl::desc("The entry points of the object (with --header)"),
    cl::values(clEnumValN(Entry::Predict, "predict", "PREFIX_predict"),
               clEnumValN(Entry::TrainStep, "train_step", "PREFIX_train_step"),
               clEnumValN(Entry::Both, "both", "both (default)")),
    cl::init(Entry::Both), cl::sub(compileCmd), cl::cat(category));
static cl::opt<std::string>
    weightsFile("weights",
                cl::desc("Embed these parameters (safetensors from dlc train "
                         "--save); default: the initializers' values"),
                cl::value_desc("file"), cl::sub(compileCmd), cl::cat(category));
static cl::opt<std::string>
    prefix("prefix",
           cl::desc("Prefix of every C symbol (default: the model's name)"),
           cl::value_desc("name"), cl::sub(compileCmd), cl::cat(category));
static cl::opt<int64_t> maxBatch(
    "max-batch",
    cl::desc("Batch size the object's built-in arena is sized for"),
    cl::init(256), cl::sub(compileCmd), cl::cat(category));

static bool writeOutput(StringRef contents) {
  if (output == "-") {
    outs() << contents;
    return true;
  }
  return writeOutputFile(output, contents);
}

/// LLVM IR, asm or an object file for the chosen target, into `result`.
static bool emitNative(Session &s, SmallVectorImpl<char> &result) {
  initializeNativeTarget();
  InitializeAllTargetInfos();
  InitializeAllTargets();
  InitializeAllTargetMCs();
  InitializeAllAsmPrinters();
  std::string tripleName =
      targetTriple.empty() ? sys::getDefaultTargetTriple() : targetTriple;
  Triple triple(Triple::normalize(tripleName));
  std::string error;
  const Target *target = TargetRegistry::lookupTarget(triple, error);
  if (!target) {
    Session::error("unsupported --target-triple '" + tripleName +
                   "': " + error);
    return false;
  }
  bool isHost = targetTriple.empty() ||
                triple == Triple(sys::getDefaultTargetTriple());
  std::string cpu = !mcpu.empty() ? std::string(mcpu)
                    : isHost      ? std::string(sys::getHostCPUName())
                                  : std::string("generic");
  std::string features;
  if (isHost && mcpu.empty()) {
    SubtargetFeatures f;
    for (auto &[name, enabled] : sys::getHostCPUFeatures())
      f.AddFeature(name, enabled);
    features = f.getString();
  }
  TargetOptions targetOptions;
  std::unique_ptr<TargetMachine> tm(target->createTargetMachine(
      triple, cpu, features, targetOptions, Reloc::PIC_, std::nullopt,
      CodeGenOptLevel::Aggressive));
  if (!tm) {
    Session::error("cannot create a target machine for '" + tripleName + "'");
    return false;
  }
  LLVMContext llvmContext;
  std::unique_ptr<Module> module =
      mlir::translateModuleToLLVMIR(s.module(), llvmContext);
  if (!module) {
    Session::error("translation to LLVM IR failed");
    return false;
  }
  module->setTargetTriple(triple);
  module->setDataLayout(tm->createDataLayout());
  if (Error err = optimizeLLVMModule(*module, tm.get())) {
    Session::error("LLVM optimization failed: " + toString(std::move(err)));
    return false;
  }
  raw_svector_ostream os(result);
  if (emit == Emit::LLVMIR) {
    module->print(os, nullptr);
  } else {
    legacy::PassManager pm;
    auto type = emit == Emit::Asm ? CodeGenFileType::AssemblyFile
                                  : CodeGenFileType::ObjectFile;
    if (tm->addPassesToEmitFile(pm, os, nullptr, type)) {
      Session::error("the target cannot emit this file type");
      return false;
    }
    pm.run(*module);
  }
  return true;
}

/// `--emit=obj --header`: a self-contained object and its C header, both
/// written only when both are ready.
static int compileForDeployment(Session &s, const TrainConfig &config) {
  if (emit != Emit::Obj)
    return Session::error("--header needs --emit=obj"), 1;
  if (output == "-")
    return Session::error("--header needs an object file: give -o FILE"), 1;
  DeploySpec spec;
  spec.model = s.info();
  spec.config = config;
  spec.prefix = prefix.empty() ? spec.model.name : std::string(prefix);
  spec.sourceFile = sys::path::filename(s.program().filename).str();
  if (!isCIdentifier(spec.prefix))
    return Session::error("--prefix '" + spec.prefix +
                          "' is not a C identifier"),
           1;
  if (maxBatch < 1)
    return Session::error("--max-batch must be at least 1"), 1;
  spec.maxBatch = maxBatch;
  spec.predict = entry != Entry::TrainStep;
  spec.trainStep = entry != Entry::Predict;
  if (spec.model.objectives.size() > 1 || spec.model.predictUsesCounter)
    return Session::error("objects and headers are not generated yet for "
                          "models with several objectives or a noise "
                          "output ('" + spec.model.name + "')"),
           1;
  if (spec.trainStep && spec.model.inputs.size() != 2)
    return Session::error("the train_step entry needs a model with two "
                          "inputs (features, target); '" +
                          spec.model.name + "' has " +
                          std::to_string(spec.model.inputs.size())),
           1;

  std::vector<Buffer> params = initialParameters(spec.model, config);
  if (!weightsFile.empty()) {
    std::vector<std::string> stateNames;
    for (const TensorInfo &t : optimizerState(spec.model, config))
      stateNames.push_back(t.name);
    std::string error;
    if (!loadCheckpoint(weightsFile, spec.model, params, stateNames, nullptr,
                        error))
      return errs() << error << "\n", 1;
  }
  for (const Buffer &p : params)
    for (int64_t i = 0; i < p.numElements(); ++i)
      spec.params.push_back(p.get(i));

  std::string error;
  if (mlir::failed(selectEntryPoints(s.module(), spec, error)))
    return Session::error(error), 1;
  if (!s.lowerToLinalg() || !s.lowerToLLVM())
    return 1;
  if (mlir::failed(finishDeployModule(s.module(), spec, error)))
    return Session::error(error), 1;
  SmallString<0> object;
  if (!emitNative(s, object))
    return 1;
  std::string header = generateCHeader(spec);
  if (!writeOutput(object))
    return 1;
  if (!writeOutputFile(headerFile, header)) {
    sys::fs::remove(output); // no partial output
    return 1;
  }
  return 0;
}

/// Kernels shaped for the target named by --target-triple/--mcpu (the host
/// otherwise, as commonOptions() sets).
static void setTargetVectorShape(CommonOptions &options) {
  if (targetTriple.empty() && mcpu.empty())
    return;
  InitializeAllTargetInfos();
  InitializeAllTargets();
  InitializeAllTargetMCs();
  Triple triple(Triple::normalize(
      targetTriple.empty() ? sys::getDefaultTargetTriple() : targetTriple));
  std::string error;
  const Target *target = TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return; // emitNative reports it
  std::string cpu = mcpu.empty() ? std::string("generic") : std::string(mcpu);
  std::unique_ptr<MCSubtargetInfo> info(
      target->createMCSubtargetInfo(triple, cpu, ""));
  if (!info)
    return;
  setVectorShape(options, triple, [&](StringRef f) {
    return info->checkFeatures(("+" + f).str());
  });
  // A named target's cache sizes are not known here: 1 MB of L2.
  options.l2Bytes = 1 << 20;
}

int dlc::runCompile() {
  CommonOptions options = commonOptions();
  setTargetVectorShape(options);
  Session s(options);
  if (!s.load())
    return 1;
  if (emit == Emit::AST) {
    std::string text;
    raw_string_ostream os(text);
    dumpAST(s.program(), os);
    return writeOutput(text) ? 0 : 1;
  }
  TrainConfig config;
  if (mlir::failed(
          readTrainConfig(s.program(), s.model(), &s.context(), config)) ||
      !s.addTraining(config))
    return 1;
  if (!headerFile.empty())
    return compileForDeployment(s, config);
  auto printModule = [&] {
    std::string text;
    raw_string_ostream os(text);
    s.module().print(os);
    return writeOutput(text) ? 0 : 1;
  };
  if (emit == Emit::DLC)
    return printModule();
  if (!s.lowerToLinalg())
    return 1;
  if (emit == Emit::Linalg)
    return printModule();
  if (!s.lowerToLLVM())
    return 1;
  if (emit == Emit::LLVMMLIR)
    return printModule();
  SmallString<0> buffer;
  return emitNative(s, buffer) && writeOutput(buffer) ? 0 : 1;
}
