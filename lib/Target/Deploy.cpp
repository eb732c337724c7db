// Deployment: entry points, linkage and embedded data of a compiled object.
#include "dlc/Target/Deploy.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"

#include <cctype>

using namespace dlc;
using namespace mlir;

bool dlc::isCIdentifier(llvm::StringRef name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  return llvm::all_of(name, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

LogicalResult dlc::selectEntryPoints(ModuleOp module, const DeploySpec &spec,
                                     std::string &error) {
  std::string predictName = spec.model.name + "_predict";
  std::string stepName = spec.model.name + "_loss_train_step";
  auto predict = module.lookupSymbol<func::FuncOp>(predictName);
  auto step = module.lookupSymbol<func::FuncOp>(stepName);
  if (spec.predict && !predict) {
    error = "model '" + spec.model.name +
            "' has no 'output' statement, so there is no predict entry";
    return failure();
  }
  if (spec.trainStep && !step) {
    error = "model '" + spec.model.name + "' has no train step";
    return failure();
  }
  SmallVector<func::FuncOp> erase;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (spec.predict && func == predict)
      func.setSymName(spec.prefix + "_predict_impl");
    else if (spec.trainStep && func == step)
      func.setSymName(spec.prefix + "_train_step_impl");
    else
      erase.push_back(func);
  }
  for (func::FuncOp func : erase)
    func.erase();
  return success();
}

LogicalResult dlc::finishDeployModule(ModuleOp module, DeploySpec &spec,
                                      std::string &error) {
  MLIRContext *ctx = module.getContext();
  std::string exported = "_mlir_ciface_" + spec.prefix + "_";
  spec.arena.assign(1, 0);
  for (auto func : module.getOps<LLVM::LLVMFuncOp>()) {
    if (func.isExternal())
      continue;
    if (auto arena = func->getAttrOfType<DenseI64ArrayAttr>("dlc.arena_bytes"))
      for (auto [i, c] : llvm::enumerate(arena.asArrayRef())) {
        if (spec.arena.size() <= i)
          spec.arena.resize(i + 1, 0);
        spec.arena[i] = std::max(spec.arena[i], c);
      }
    if (!func.getSymName().starts_with(exported))
      func.setLinkage(LLVM::Linkage::Internal);
    // dlc's own attributes have no meaning in the object.
    for (StringRef name : {"dlc.arena_bytes", "dlc.loss", "dlc.predict",
                           "dlc.train_step", "dlc.grad_of"})
      func->removeAttr(name);
  }

  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Location loc = module.getLoc();
  Type element = spec.model.isF64 ? Type(b.getF64Type()) : Type(b.getF32Type());
  int64_t count = std::max<size_t>(spec.params.size(), 1);
  SmallVector<Attribute> values;
  for (int64_t i = 0; i < count; ++i)
    values.push_back(b.getFloatAttr(
        element, i < (int64_t)spec.params.size() ? spec.params[i] : 0.0));
  auto tensorType = RankedTensorType::get({count}, element);
  LLVM::GlobalOp::create(b, loc, LLVM::LLVMArrayType::get(element, count),
                         /*isConstant=*/true, LLVM::Linkage::External,
                         spec.prefix + "_embedded_params",
                         DenseElementsAttr::get(tensorType, values),
                         /*alignment=*/64);

  int64_t arenaBytes = 0, power = 1;
  for (int64_t c : spec.arena) {
    arenaBytes += c * power;
    power *= spec.maxBatch;
  }
  arenaBytes = std::max<int64_t>((arenaBytes + 63) / 64 * 64, 64);
  LLVM::GlobalOp::create(
      b, loc, LLVM::LLVMArrayType::get(IntegerType::get(ctx, 8), arenaBytes),
      /*isConstant=*/false, LLVM::Linkage::External,
      spec.prefix + "_default_arena", LLVM::ZeroAttr::get(ctx),
      /*alignment=*/64);
  (void)error;
  return success();
}
