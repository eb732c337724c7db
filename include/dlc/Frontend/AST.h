// The abstract syntax tree of .dlg files: models and train blocks.
#ifndef DLC_FRONTEND_AST_H
#define DLC_FRONTEND_AST_H

#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace dlc {

/// A position in the source file (1-based).
struct SourceLoc {
  unsigned line = 0;
  unsigned col = 0;
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

/// A keyword argument of a call: `name: value`.
struct KeywordArg {
  std::string name;
  SourceLoc loc;
  ExprPtr value;
};

/// An expression: numbers, names, strings, lists, operators and calls.
struct Expr {
  enum class Kind { Number, Name, String, List, Unary, Binary, Call };
  Kind kind;
  SourceLoc loc;
  double number = 0;             // Number
  std::string text;              // Name, String, Call callee, operator
  std::vector<ExprPtr> args;     // operands, list elements, positional args
  std::vector<KeywordArg> kwargs; // Call keyword arguments

  Expr(Kind kind, SourceLoc loc) : kind(kind), loc(loc) {}
  const KeywordArg *findKeyword(llvm::StringRef name) const;
};

/// One dimension of a declared type: a static size or the symbolic batch.
struct Dim {
  int64_t size = 0;
  bool symbolic = false;
};

/// A declared tensor type, e.g. `f32[batch, 4]` (a scalar has no dims).
struct TypeSpec {
  std::string elementType;
  std::vector<Dim> dims;
  SourceLoc loc;
};

/// A statement of a model body.
struct Stmt {
  enum class Kind { Input, Param, Let, Minimize, Output };
  Kind kind;
  SourceLoc loc;
  std::string name; // the declared or assigned name
  TypeSpec type;    // Input, Param
  ExprPtr value;    // Param initializer (may be null), Let, Minimize, Output
  // Minimize: `over [params]` (its parameter group) and `using optimizer(..)`.
  std::vector<std::pair<std::string, SourceLoc>> over;
  ExprPtr optimizer;
};

struct Model {
  std::string name;
  SourceLoc loc;
  std::vector<Stmt> stmts;
};

/// `key = value` in a train block.
struct TrainSetting {
  std::string key;
  SourceLoc loc;
  ExprPtr value;
};

struct TrainBlock {
  std::string model;
  SourceLoc loc;
  std::vector<TrainSetting> settings;
};

/// A reusable function, inlined at every call:
///   def name(a, b) { t = a @ b  return relu(t) }
struct FunctionDef {
  std::string name;
  SourceLoc loc;
  std::vector<std::string> params;
  std::vector<Stmt> stmts; // Let statements
  ExprPtr result;
};

struct Program {
  std::string filename;
  std::vector<FunctionDef> functions;
  std::vector<Model> models;
  std::vector<TrainBlock> trains;
};

/// Prints the tree as indented S-expressions (for `dlc compile --emit=ast`).
void dumpAST(const Program &program, llvm::raw_ostream &os);

} // namespace dlc

#endif // DLC_FRONTEND_AST_H
