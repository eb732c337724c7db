// Code generation of one optimized LLVM module as several object files, one
// per thread. LLVM generates code function by function, and after loop
// extraction (extractLargeLoops) a large train step is tens of functions
// (the GAN's, 62): they are split into parts of about equal size, each part
// is compiled in its own LLVMContext (a context is not thread-safe), and
// the JIT links the objects together.
#include "dlc/Runtime/Engine.h"

#include "llvm/Analysis/LoopInfo.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/SmallVectorMemoryBuffer.h"
#include "llvm/IR/Dominators.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Transforms/Utils/CodeExtractor.h"

#include <algorithm>
#include <numeric>
#include <thread>

using namespace llvm;

void dlc::extractLargeLoops(Module &module) {
  constexpr unsigned minFunction = 2000, minLoop = 32;
  SmallVector<llvm::Function *> large;
  for (llvm::Function &f : module)
    if (!f.isDeclaration() && f.getInstructionCount() >= minFunction)
      large.push_back(&f);
  for (llvm::Function *f : large) {
    DominatorTree dominators(*f);
    LoopInfo loops(dominators);
    // A loop that is the whole function stays.
    if (loops.getTopLevelLoops().size() < 2)
      continue;
    SmallVector<Loop *> topLevel(loops.begin(), loops.end());
    for (Loop *loop : topLevel) {
      size_t size = 0;
      for (BasicBlock *block : loop->blocks())
        size += block->size();
      if (size < minLoop || !loop->isLoopSimplifyForm())
        continue;
      // The extractor updates the dominator tree; the other loops' blocks
      // are untouched.
      CodeExtractorAnalysisCache cache(*f);
      CodeExtractor(loop->getBlocks(), &dominators).extractCodeRegion(cache);
    }
  }
}

/// Whether every definition of `module` can live in any part: no aliases,
/// comdats or appending globals (llvm.global_ctors), which tie definitions
/// together. dlc's modules have none; a module that has them is compiled
/// whole.
static bool isSplittable(const Module &module) {
  if (!module.alias_empty() || !module.ifunc_empty() ||
      !module.getComdatSymbolTable().empty())
    return false;
  return llvm::none_of(module.globals(), [](const GlobalVariable &g) {
    return g.hasAppendingLinkage();
  });
}

/// Generates an object file for `module` with a target machine of its own.
static Expected<std::unique_ptr<MemoryBuffer>>
emitObject(Module &module, orc::JITTargetMachineBuilder builder,
           StringRef name) {
  auto tm = builder.createTargetMachine();
  if (!tm)
    return tm.takeError();
  SmallVector<char, 0> object;
  raw_svector_ostream os(object);
  legacy::PassManager pm;
  if ((*tm)->addPassesToEmitFile(pm, os, nullptr, CodeGenFileType::ObjectFile))
    return createStringError("the target cannot emit object files");
  pm.run(module);
  return std::make_unique<SmallVectorMemoryBuffer>(std::move(object), name,
                                                   /*RequiresNullTerminator=*/false);
}

Expected<std::vector<std::unique_ptr<MemoryBuffer>>>
dlc::emitObjectsInParallel(Module &module,
                           const orc::JITTargetMachineBuilder &builder,
                           unsigned threads) {
  // Definitions by size (instructions), largest first; each goes to the part
  // with the fewest instructions so far.
  std::vector<std::pair<size_t, llvm::Function *>> functions;
  for (llvm::Function &f : module)
    if (!f.isDeclaration())
      functions.push_back({f.getInstructionCount(), &f});
  unsigned parts = std::min<size_t>(std::max(threads, 1u), functions.size());
  if (parts <= 1 || !isSplittable(module)) {
    auto object = emitObject(module, builder, "dlc.o");
    if (!object)
      return object.takeError();
    std::vector<std::unique_ptr<MemoryBuffer>> objects;
    objects.push_back(std::move(*object));
    return objects;
  }
  // Largest first; equal sizes in module order (the parts are deterministic).
  std::vector<size_t> order(functions.size());
  std::iota(order.begin(), order.end(), 0);
  llvm::sort(order, [&](size_t a, size_t b) {
    return std::make_pair(functions[b].first, a) <
           std::make_pair(functions[a].first, b);
  });
  StringMap<unsigned> owner;
  std::vector<size_t> load(parts, 0);
  for (size_t i : order) {
    auto [size, f] = functions[i];
    unsigned part = std::min_element(load.begin(), load.end()) - load.begin();
    load[part] += size;
    owner[f->getName()] = part;
  }

  // Every part must see the others' functions: internal ones become hidden
  // external ones (the names are unique in the module). Internal constants
  // (OpenMP's location strings) stay internal, a copy in every part: no
  // part then reads data from another's object, whose distance the linker
  // does not choose (a call too far away goes through a stub; a load has
  // none).
  for (GlobalValue &g : module.global_values()) {
    if (g.isDeclaration() || !g.hasLocalLinkage())
      continue;
    if (auto *variable = dyn_cast<GlobalVariable>(&g);
        variable && variable->isConstant())
      continue;
    if (!g.hasName())
      g.setName("dlc.global");
    g.setLinkage(GlobalValue::ExternalLinkage);
    g.setVisibility(GlobalValue::HiddenVisibility);
  }
  SmallVector<char, 0> bitcode;
  raw_svector_ostream os(bitcode);
  WriteBitcodeToFile(module, os);

  // Each part parses the module into its own context and keeps its own
  // definitions (the global variables stay in part 0, the internal
  // constants in every part).
  std::vector<std::unique_ptr<MemoryBuffer>> results(parts);
  std::vector<std::string> failures(parts);
  auto compilePart = [&](unsigned part) {
    LLVMContext context;
    auto parsed = parseBitcodeFile(
        MemoryBufferRef(StringRef(bitcode.data(), bitcode.size()), "dlc"),
        context);
    if (!parsed) {
      failures[part] = toString(parsed.takeError());
      return;
    }
    Module &m = **parsed;
    for (llvm::Function &f : m)
      if (!f.isDeclaration() && owner.lookup(f.getName()) != part)
        f.deleteBody();
    if (part != 0)
      for (GlobalVariable &g : m.globals())
        if (g.hasInitializer() && !g.hasLocalLinkage()) {
          g.setInitializer(nullptr);
          g.setLinkage(GlobalValue::ExternalLinkage);
        }
    auto object = emitObject(m, builder, "dlc-" + std::to_string(part) + ".o");
    if (object)
      results[part] = std::move(*object);
    else
      failures[part] = toString(object.takeError());
  };
  std::vector<std::thread> workers;
  for (unsigned part = 1; part < parts; ++part)
    workers.emplace_back(compilePart, part);
  compilePart(0);
  for (std::thread &worker : workers)
    worker.join();

  for (const std::string &failure : failures)
    if (!failure.empty())
      return createStringError(failure);
  return results;
}
