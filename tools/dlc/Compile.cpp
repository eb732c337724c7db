// dlc compile: print or write a chosen stage of the compiled model.
#include "Commands.h"

#include "dlc/Runtime/Engine.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
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
               clEnumValN(Emit::LLVMIR, "llvm", "LLVM IR, optimized at -O3"),
               clEnumValN(Emit::Asm, "asm", "target assembly"),
               clEnumValN(Emit::Obj, "obj", "a relocatable object file")),
    cl::sub(compileCmd), cl::cat(category));
static cl::opt<std::string> output("o", cl::desc("Output file ('-': stdout)"),
                                   cl::value_desc("file"), cl::init("-"),
                                   cl::sub(compileCmd), cl::cat(category));
static cl::opt<std::string>
    targetTriple("target-triple",
                 cl::desc("Target triple for llvm, asm and obj (default: "
                          "the host)"),
                 cl::value_desc("triple"), cl::sub(compileCmd),
                 cl::cat(category));
static cl::opt<std::string>
    mcpu("mcpu",
         cl::desc("Target CPU for llvm, asm and obj (default: the host CPU "
                  "for the host triple, generic otherwise)"),
         cl::value_desc("cpu"), cl::sub(compileCmd), cl::cat(category));

static bool writeOutput(StringRef contents) {
  if (output == "-") {
    outs() << contents;
    return true;
  }
  return writeOutputFile(output, contents);
}

/// LLVM IR, asm or an object file for the chosen target.
static bool emitNative(Session &s) {
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
  if (Error err = mlir::makeOptimizingTransformer(3, 0, tm.get())(module.get())) {
    Session::error("LLVM optimization failed: " + toString(std::move(err)));
    return false;
  }
  SmallString<0> buffer;
  raw_svector_ostream os(buffer);
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
  return writeOutput(buffer);
}

int dlc::runCompile() {
  CommonOptions options = commonOptions();
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
  return emitNative(s) ? 0 : 1;
}
