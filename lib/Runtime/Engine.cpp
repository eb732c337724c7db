// The JIT: the LLVM module optimized at -O2 for the host CPU, compiled to
// objects on all cores and linked by ORC's LLJIT; functions are called
// through the memref C interface with descriptors prepared once.
#include "dlc/Runtime/Engine.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/Module.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Transforms/Utils/LoopSimplify.h"
#include "llvm/Support/TargetSelect.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

using namespace dlc;

Buffer::Buffer(std::vector<int64_t> shape, bool isF64)
    : dims(std::move(shape)), f64(isF64), elementBytes(isF64 ? 8 : 4) {
  capacity = numElements();
  size_t bytes = std::max<int64_t>(capacity, 1) * elementBytes;
  bytes = (bytes + 63) / 64 * 64;
  storage.reset(std::aligned_alloc(64, bytes));
  std::memset(storage.get(), 0, bytes);
}

Buffer Buffer::bytes(int64_t bytes) {
  Buffer b({(bytes + 3) / 4}, /*isF64=*/false);
  b.elementBytes = 1;
  b.dims = {bytes};
  return b;
}

int64_t Buffer::numElements() const {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= d;
  return n;
}

double Buffer::get(int64_t i) const {
  return f64 ? static_cast<const double *>(data())[i]
             : static_cast<const float *>(data())[i];
}

void Buffer::set(int64_t i, double v) {
  if (f64)
    static_cast<double *>(data())[i] = v;
  else
    static_cast<float *>(data())[i] = static_cast<float>(v);
}

void Buffer::fill(double v) {
  for (int64_t i = 0, n = numElements(); i < n; ++i)
    set(i, v);
}

void Buffer::setBatch(int64_t batch) {
  assert(!dims.empty() && "only batched buffers change size");
  int64_t rest = 1;
  for (size_t k = 1; k < dims.size(); ++k)
    rest *= dims[k];
  if (batch * rest > capacity) {
    std::vector<int64_t> bigger = dims;
    bigger[0] = batch;
    *this = Buffer(std::move(bigger), f64);
    return;
  }
  dims[0] = batch;
}

int64_t Function::arenaBytes(int64_t batch) const {
  int64_t bytes = 0, power = 1;
  for (int64_t c : arenaCoefficients) {
    bytes += c * power;
    power *= batch;
  }
  return bytes;
}

void Function::bind(std::vector<Buffer *> args, int64_t batch) {
  int64_t needed = std::max<int64_t>(arenaBytes(batch), 1);
  if (arena.shape().empty() || arena.shape()[0] < needed)
    arena = Buffer::bytes(needed);
  buffers = std::move(args);
  buffers.push_back(&arena);
  refresh();
}

void Function::refresh() {
  // A memref descriptor: {allocated, aligned, offset, sizes[r], strides[r]}.
  descriptors.resize(buffers.size());
  descriptorPtrs.resize(buffers.size());
  argPtrs.resize(buffers.size());
  for (size_t i = 0; i < buffers.size(); ++i) {
    const std::vector<int64_t> &shape = buffers[i]->shape();
    size_t rank = shape.size();
    std::vector<int64_t> &d = descriptors[i];
    d.assign(3 + 2 * rank, 0);
    auto ptr = reinterpret_cast<int64_t>(buffers[i]->data());
    d[0] = ptr;
    d[1] = ptr;
    d[2] = 0;
    int64_t stride = 1;
    for (size_t k = rank; k-- > 0;) {
      d[3 + k] = shape[k];
      d[3 + rank + k] = stride;
      stride *= shape[k];
    }
    descriptorPtrs[i] = d.data();
    argPtrs[i] = &descriptorPtrs[i];
  }
}

void Function::call() { packed(argPtrs.data()); }

void dlc::initializeNativeTarget() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

llvm::Error dlc::optimizeLLVMModule(llvm::Module &module,
                                    llvm::TargetMachine *targetMachine) {
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = false;
  tuning.LoopInterleaving = true;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PassBuilder pb(targetMachine, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::ModulePassManager mpm =
      pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O2);
  mpm.addPass(
      llvm::createModuleToFunctionPassAdaptor(llvm::LoopSimplifyPass()));
  mpm.run(module, mam);
  extractLargeLoops(module);
  return llvm::Error::success();
}

Engine::Engine() = default;
Engine::~Engine() = default;

/// Adds `_mlir_<name>(void **args)` for every C-interface function `name`:
/// it loads argument i from *args[i] and calls `name` (Function::call's
/// convention). dlc's C-interface functions return nothing.
static void addPackedWrappers(llvm::Module &module) {
  llvm::LLVMContext &context = module.getContext();
  auto *ptr = llvm::PointerType::getUnqual(context);
  auto *type = llvm::FunctionType::get(llvm::Type::getVoidTy(context), {ptr},
                                       /*isVarArg=*/false);
  for (llvm::Function &f : llvm::make_early_inc_range(module)) {
    if (f.isDeclaration() || !f.getName().starts_with("_mlir_ciface_") ||
        !f.getReturnType()->isVoidTy())
      continue;
    auto *wrapper =
        llvm::Function::Create(type, llvm::GlobalValue::ExternalLinkage,
                               "_mlir_" + f.getName(), module);
    llvm::IRBuilder<> b(llvm::BasicBlock::Create(context, "entry", wrapper));
    llvm::SmallVector<llvm::Value *> args;
    for (llvm::Argument &arg : f.args()) {
      llvm::Value *slot =
          b.CreateConstGEP1_64(ptr, wrapper->getArg(0), arg.getArgNo());
      args.push_back(b.CreateLoad(arg.getType(), b.CreateLoad(ptr, slot)));
    }
    b.CreateCall(&f, args);
    b.CreateRetVoid();
  }
}

std::unique_ptr<Engine> Engine::create(mlir::ModuleOp module,
                                       std::string &error,
                                       const EngineOptions &options) {
  mlir::TimingScope none;
  mlir::TimingScope &parent = options.timing ? *options.timing : none;
  initializeNativeTarget();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder) {
    error = llvm::toString(builder.takeError());
    return nullptr;
  }
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  auto tm = builder->createTargetMachine();
  if (!tm) {
    error = llvm::toString(tm.takeError());
    return nullptr;
  }

  mlir::TimingScope stage = parent.nest("translate to LLVM IR");
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, context);
  if (!llvmModule) {
    error = "translation to LLVM IR failed";
    return nullptr;
  }
  llvmModule->setDataLayout((*tm)->createDataLayout());
  llvmModule->setTargetTriple((*tm)->getTargetTriple());
  addPackedWrappers(*llvmModule);
  stage.stop();
  stage = parent.nest("LLVM -O2, loop extraction");
  if (llvm::Error err = optimizeLLVMModule(*llvmModule, tm->get())) {
    error = llvm::toString(std::move(err));
    return nullptr;
  }
  // Code generation on every core by default: compiling is done before the
  // first step, so it does not compete with the step's threads.
  unsigned codegenThreads = options.codegenThreads
                                ? options.codegenThreads
                                : std::max(1u, std::thread::hardware_concurrency());
  stage.stop();
  stage = parent.nest("code generation (" + std::to_string(codegenThreads) +
                      " threads)");
  auto objects = emitObjectsInParallel(*llvmModule, *builder, codegenThreads);
  if (!objects) {
    error = llvm::toString(objects.takeError());
    return nullptr;
  }

  stage.stop();
  stage = parent.nest("link");
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(*builder).create();
  if (!jit) {
    error = llvm::toString(jit.takeError());
    return nullptr;
  }
  llvm::orc::JITDylib &dylib = (*jit)->getMainJITDylib();
  char prefix = (*jit)->getDataLayout().getGlobalPrefix();
  bool usesOpenMP = false;
  module.walk([&](mlir::Operation *op) {
    if (op->getName().getDialectNamespace() == "omp")
      usesOpenMP = true;
  });
  if (usesOpenMP) {
    // The OpenMP runtime reads the thread count when it starts.
    ::setenv("OMP_NUM_THREADS", std::to_string(options.threads).c_str(), 1);
    auto openmp = llvm::orc::DynamicLibrarySearchGenerator::Load(
        DLC_OPENMP_LIBRARY, prefix);
    if (!openmp) {
      llvm::consumeError(openmp.takeError());
      error = std::string("threads need the OpenMP runtime ") +
              DLC_OPENMP_LIBRARY +
              " (Debian package libomp-22-dev; scripts/setup.sh installs "
              "it)";
      return nullptr;
    }
    dylib.addGenerator(std::move(*openmp));
  }
  for (std::unique_ptr<llvm::MemoryBuffer> &object : *objects) {
    if (llvm::Error err = (*jit)->addObjectFile(std::move(object))) {
      error = llvm::toString(std::move(err));
      return nullptr;
    }
  }
  // Every function planned by dlc-plan-memory (those with a C interface),
  // with its working memory; looking them up here links the objects, so
  // that the link is done (and timed) once, not at the first call.
  auto result = std::unique_ptr<Engine>(new Engine());
  result->jit = std::move(*jit);
  for (auto func : module.getOps<mlir::LLVM::LLVMFuncOp>()) {
    auto arena = func->getAttrOfType<mlir::DenseI64ArrayAttr>("dlc.arena_bytes");
    // (The C-interface wrappers carry their function's attributes.)
    if (!arena || func.getName().starts_with("_mlir_ciface_"))
      continue;
    auto packed =
        result->jit->lookup(("_mlir__mlir_ciface_" + func.getName()).str());
    if (!packed) {
      error = llvm::toString(packed.takeError());
      return nullptr;
    }
    result->functions[func.getName()] = {
        packed->toPtr<void (*)(void **)>(),
        std::vector<int64_t>(arena.asArrayRef().begin(),
                             arena.asArrayRef().end())};
  }
  return result;
}

bool Engine::lookup(llvm::StringRef name, Function &fn, std::string &error) {
  auto it = functions.find(name);
  if (it == functions.end()) {
    error = ("no compiled function '" + name + "' with planned working memory")
                .str();
    return false;
  }
  fn.packed = it->second.packed;
  fn.arenaCoefficients = it->second.arenaCoefficients;
  return true;
}
