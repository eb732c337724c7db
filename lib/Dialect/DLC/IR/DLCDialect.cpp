// The dlc dialect: registration of its ops and interfaces.
#include "dlc/Dialect/DLC/IR/DLCDialect.h"
#include "dlc/Dialect/DLC/IR/DLCOps.h"

using namespace mlir;
using namespace mlir::dlc;

#include "dlc/Dialect/DLC/IR/DLCOpsDialect.cpp.inc"
#include "dlc/Dialect/DLC/IR/DLCEnums.cpp.inc"
#include "dlc/Dialect/DLC/IR/DLCInterfaces.cpp.inc"

void DLCDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dlc/Dialect/DLC/IR/DLCOps.cpp.inc"
      >();
}

Operation *DLCDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                           Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}
