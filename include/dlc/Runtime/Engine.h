// The JIT: compiles an LLVM-dialect module once and calls its functions on
// runtime-owned buffers through the memref C interface.
#ifndef DLC_RUNTIME_ENGINE_H
#define DLC_RUNTIME_ENGINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/Timing.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace llvm {
class Error;
template <typename T> class Expected;
class MemoryBuffer;
class Module;
class TargetMachine;
namespace orc {
class JITTargetMachineBuilder;
class LLJIT;
} // namespace orc
} // namespace llvm

namespace dlc {

/// A host tensor in the model's element type (f32 or f64), 64-byte aligned.
class Buffer {
public:
  Buffer() = default;
  Buffer(std::vector<int64_t> shape, bool isF64);
  /// An untyped, 64-byte aligned buffer of `bytes` bytes (an arena).
  static Buffer bytes(int64_t bytes);
  Buffer(Buffer &&) = default;
  Buffer &operator=(Buffer &&) = default;

  const std::vector<int64_t> &shape() const { return dims; }
  int64_t numElements() const;
  bool isF64() const { return f64; }
  double get(int64_t i) const;
  void set(int64_t i, double v);
  void fill(double v);
  void *data() { return storage.get(); }
  const void *data() const { return storage.get(); }
  /// Changes the leading (batch) dimension; keeps capacity when shrinking.
  void setBatch(int64_t batch);

private:
  struct FreeDeleter {
    void operator()(void *p) const { std::free(p); }
  };
  std::vector<int64_t> dims;
  bool f64 = false;
  int64_t elementBytes = 4;
  int64_t capacity = 0;
  std::unique_ptr<void, FreeDeleter> storage;
};

/// One exported function, with its argument descriptors prepared once so that
/// a call costs a few stores and an indirect call.
class Function {
public:
  /// Binds the arguments for a call on `batch` rows; they must outlive the
  /// calls. The function's arena (its working memory, see dlc-plan-memory)
  /// is appended and grown when needed; nothing is allocated otherwise.
  void bind(std::vector<Buffer *> args, int64_t batch);
  void call();
  /// Bytes of working memory a call on `batch` rows needs.
  int64_t arenaBytes(int64_t batch) const;

private:
  friend class Engine;
  void refresh();
  void (*packed)(void **) = nullptr;
  std::vector<int64_t> arenaCoefficients;
  Buffer arena;
  std::vector<Buffer *> buffers;
  std::vector<std::vector<int64_t>> descriptors;
  std::vector<void *> descriptorPtrs;
  std::vector<void *> argPtrs;
};

struct EngineOptions {
  /// Threads of the module's OpenMP loops (> 1 loads the OpenMP runtime).
  int64_t threads = 1;
  /// Threads of LLVM code generation (emitObjectsInParallel); 0: all cores.
  /// The generated code is the same for any count.
  unsigned codegenThreads = 0;
  /// When given, gets the LLVM stages as nested scopes.
  mlir::TimingScope *timing = nullptr;
};

class Engine {
public:
  ~Engine();
  /// JIT-compiles `module` (LLVM dialect) at -O2 for the host CPU and its
  /// features. Returns nullptr and sets `error` on failure.
  static std::unique_ptr<Engine> create(mlir::ModuleOp module,
                                        std::string &error,
                                        const EngineOptions &options = {});
  /// Looks up a function lowered by dlc-lower-function-abi (linked when the
  /// engine was created).
  bool lookup(llvm::StringRef name, Function &fn, std::string &error);

private:
  Engine();
  struct Compiled {
    void (*packed)(void **);
    std::vector<int64_t> arenaCoefficients;
  };
  std::unique_ptr<llvm::orc::LLJIT> jit;
  llvm::StringMap<Compiled> functions;
};

/// Initializes the LLVM native target once per process.
void initializeNativeTarget();

/// dlc's LLVM optimization pipeline (the JIT's and the object files'): -O2
/// for the target (-O3 compiled the GAN 10% slower for no faster step: the
/// kernels are vector code already), with loop unrolling off (the generated
/// loop nests are many and static; unrolling them multiplied compile time
/// several times for little run-time gain), then extractLargeLoops. Code
/// generation is at -O3.
llvm::Error optimizeLLVMModule(llvm::Module &module,
                               llvm::TargetMachine *targetMachine);

/// Moves each top-level loop (of at least 32 instructions, in loop-simplify
/// form) of a function of at least 2,000 instructions into a function of
/// its own. LLVM's code generation of a function grows faster than its size
/// (loop strength reduction: 0.13 s over the GAN's one 9,000-instruction
/// step, 0.03 s over its loops as 62 functions), and functions can be
/// compiled in parallel (emitObjectsInParallel). Small functions stay
/// whole: a call per loop cost the 80 x 4 linear regression's 0.21 us step
/// 5%.
void extractLargeLoops(llvm::Module &module);

/// Generates object code for `module` (optimized) in up to `threads` parts
/// compiled in parallel, each in its own LLVMContext: the functions are
/// balanced by instruction count, internal symbols become hidden external
/// ones so the parts link. Modifies `module`'s linkage.
llvm::Expected<std::vector<std::unique_ptr<llvm::MemoryBuffer>>>
emitObjectsInParallel(llvm::Module &module,
                      const llvm::orc::JITTargetMachineBuilder &builder,
                      unsigned threads);

} // namespace dlc

#endif // DLC_RUNTIME_ENGINE_H
