// The dlc dialect: declaration.
#ifndef DLC_DIALECT_DLC_IR_DLCDIALECT_H
#define DLC_DIALECT_DLC_IR_DLCDIALECT_H

#include "mlir/IR/Dialect.h"

#include "dlc/Dialect/DLC/IR/DLCOpsDialect.h.inc"

#endif // DLC_DIALECT_DLC_IR_DLCDIALECT_H
