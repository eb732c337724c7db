// dlc-lower-function-abi: tensor function boundaries become caller-owned
// memrefs, so that a train step updates parameters in the runtime's buffers.
#include "dlc/Conversion/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::dlc {
#define GEN_PASS_DEF_LOWERFUNCTIONABIPASS
#include "dlc/Conversion/Passes.h.inc"
} // namespace mlir::dlc

using namespace mlir;

namespace {

MemRefType memrefFor(Type type) {
  auto tensor = cast<RankedTensorType>(type);
  return MemRefType::get(tensor.getShape(), tensor.getElementType());
}

/// An elementwise update `new = f(old, ...)` of an argument (an optimizer
/// step) that writes a fresh tensor is made to write into `old` itself:
/// bufferization then updates the caller's buffer in place instead of
/// computing into a temporary and copying it back. Each element is read
/// before it is written; a later reader of the old value gets a copy from
/// bufferization's conflict analysis. A generic with several results (a
/// parameter's Adam update with its moments) updates each of its arguments
/// so.
void updateInPlace(Value result, bufferization::ToTensorOp old) {
  auto generic = result.getDefiningOp<linalg::GenericOp>();
  if (!generic || generic.getNumParallelLoops() != generic.getNumLoops())
    return;
  OpOperand *init =
      generic.getDpsInitOperand(cast<OpResult>(result).getResultNumber());
  if (!init->get().getDefiningOp<tensor::EmptyOp>() ||
      !generic.getMatchingIndexingMap(init).isIdentity() ||
      generic.payloadUsesValueFromOperand(init))
    return;
  bool readsOld = llvm::any_of(generic.getDpsInputOperands(), [&](OpOperand *in) {
    return in->get() == old.getResult() &&
           generic.getMatchingIndexingMap(in).isIdentity();
  });
  if (!readsOld)
    return;
  init->set(old.getResult());
  old.setWritable(true);
}

LogicalResult lowerABI(func::FuncOp func) {
  MLIRContext *ctx = func.getContext();
  Block &body = func.getBody().front();
  auto ret = cast<func::ReturnOp>(body.getTerminator());
  for (Type t : func.getArgumentTypes())
    if (!isa<RankedTensorType>(t))
      return func.emitError("expected ranked tensor arguments, got ") << t;

  // Inputs: tensor arguments become memrefs read through to_tensor.
  OpBuilder b = OpBuilder::atBlockBegin(&body);
  unsigned numArgs = func.getNumArguments();
  SmallVector<Value> buffers;
  SmallVector<bufferization::ToTensorOp> tensors;
  for (unsigned i = 0; i < numArgs; ++i) {
    BlockArgument arg = body.getArgument(i);
    MemRefType memref = memrefFor(arg.getType());
    arg.setType(memref);
    auto toTensor = bufferization::ToTensorOp::create(
        b, func.getLoc(),
        RankedTensorType::get(memref.getShape(), memref.getElementType()), arg,
        /*restrict=*/true, /*writable=*/false);
    arg.replaceAllUsesExcept(toTensor.getResult(), toTensor);
    buffers.push_back(arg);
    tensors.push_back(toTensor);
  }

  // Results: written into their aliased argument or a new output argument.
  b.setInsertionPoint(ret);
  for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
    Value dest;
    if (auto alias = func.getResultAttrOfType<IntegerAttr>(i, "dlc.aliases")) {
      unsigned index = alias.getInt();
      if (index >= numArgs || buffers[index].getType() != memrefFor(v.getType()))
        return func.emitError() << "result " << i
                                << " aliases an argument of another type";
      dest = buffers[index];
      updateInPlace(v, tensors[index]);
    } else {
      if (!isa<RankedTensorType>(v.getType()))
        return func.emitError("expected ranked tensor results");
      dest = body.addArgument(memrefFor(v.getType()), func.getLoc());
    }
    auto materialize = bufferization::MaterializeInDestinationOp::create(
        b, ret.getLoc(), TypeRange{}, v, dest);
    materialize.setWritable(true);
  }
  func::ReturnOp::create(b, ret.getLoc());
  ret.erase();

  // The roles and names of arguments stay with the runtime (ModelInfo);
  // the LLVM translation has no use for them.
  SmallVector<Type> argTypes(body.getArgumentTypes());
  func.setFunctionType(FunctionType::get(ctx, argTypes, {}));
  func.removeArgAttrsAttr();
  func.removeResAttrsAttr();
  func->setAttr("llvm.emit_c_interface", UnitAttr::get(ctx));
  return success();
}

struct LowerFunctionABIPass
    : mlir::dlc::impl::LowerFunctionABIPassBase<LowerFunctionABIPass> {
  void runOnOperation() override {
    for (auto func : getOperation().getOps<func::FuncOp>()) {
      if (func.isExternal() || !func.isPublic())
        continue;
      if (failed(lowerABI(func)))
        return signalPassFailure();
    }
  }
};

} // namespace
