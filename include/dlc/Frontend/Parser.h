// Lexer and recursive-descent parser of .dlg files.
#ifndef DLC_FRONTEND_PARSER_H
#define DLC_FRONTEND_PARSER_H

#include "dlc/Frontend/AST.h"

#include "llvm/ADT/StringRef.h"
#include <optional>

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace dlc {

/// Parses `source` (the contents of `filename`). Errors are reported as
/// `file:line:col: error: ...` through the context's diagnostic engine;
/// returns std::nullopt after the first one.
std::optional<Program> parseProgram(llvm::StringRef filename,
                                    llvm::StringRef source,
                                    mlir::MLIRContext *context);

} // namespace dlc

#endif // DLC_FRONTEND_PARSER_H
