// Recursive-descent parser of .dlg files.
#include "dlc/Frontend/Parser.h"
#include "dlc/Frontend/Lexer.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Location.h"
#include "mlir/IR/MLIRContext.h"

#include <deque>

using namespace dlc;

namespace {

class Parser {
public:
  Parser(llvm::StringRef filename, llvm::StringRef source,
         mlir::MLIRContext *ctx)
      : filename(filename), lexer(source), ctx(ctx) {}

  std::optional<Program> parse();

private:
  const Token &peek(size_t ahead = 0) {
    while (buffer.size() <= ahead)
      buffer.push_back(lexer.next());
    return buffer[ahead];
  }
  Token take() {
    Token t = peek();
    buffer.pop_front();
    return t;
  }
  bool error(SourceLoc loc, const llvm::Twine &message) {
    if (!failed)
      mlir::emitError(mlir::FileLineColLoc::get(ctx, filename, loc.line,
                                                loc.col))
          << message.str();
    failed = true;
    return false;
  }
  std::string describe(const Token &t) {
    switch (t.kind) {
    case Token::Kind::Eof:
      return "end of file";
    case Token::Kind::Ident:
      return "'" + t.text + "'";
    case Token::Kind::Number:
      return "number " + t.text;
    case Token::Kind::String:
      return "string \"" + t.text + "\"";
    case Token::Kind::Punct:
      return "'" + t.text + "'";
    case Token::Kind::Error:
      return t.text;
    }
    return "token";
  }
  /// Reports a lexer error, or `expected` vs. what was found.
  bool unexpected(const Token &t, llvm::StringRef expected) {
    if (t.is(Token::Kind::Error))
      return error(t.loc, t.text);
    return error(t.loc, "expected " + expected + ", found " + describe(t));
  }
  bool expectPunct(char c) {
    if (peek().isPunct(c)) {
      take();
      return true;
    }
    return unexpected(peek(), std::string("'") + c + "'");
  }
  bool expectIdent(std::string &out, SourceLoc &loc, llvm::StringRef what) {
    if (!peek().is(Token::Kind::Ident))
      return unexpected(peek(), what);
    Token t = take();
    out = t.text;
    loc = t.loc;
    return true;
  }

  bool parseModel(Program &program);
  bool parseTrain(Program &program);
  bool parseFunction(Program &program);
  bool parseType(TypeSpec &type);
  ExprPtr parseBinaryLevel(llvm::StringRef ops, ExprPtr (Parser::*next)());
  ExprPtr parseExpr();
  ExprPtr parseMultiplicative();
  ExprPtr parseUnary();
  ExprPtr parsePower();
  ExprPtr parsePrimary();
  bool parseCallArgs(Expr &call);

  std::string filename;
  Lexer lexer;
  mlir::MLIRContext *ctx;
  std::deque<Token> buffer;
  bool failed = false;
};

std::optional<Program> Parser::parse() {
  Program program;
  program.filename = filename;
  while (!peek().is(Token::Kind::Eof)) {
    if (peek().isIdent("model")) {
      if (!parseModel(program))
        return std::nullopt;
    } else if (peek().isIdent("train")) {
      if (!parseTrain(program))
        return std::nullopt;
    } else if (peek().isIdent("def")) {
      if (!parseFunction(program))
        return std::nullopt;
    } else {
      unexpected(peek(), "'model', 'train' or 'def'");
      return std::nullopt;
    }
  }
  return program;
}

bool Parser::parseModel(Program &program) {
  take(); // model
  Model model;
  if (!expectIdent(model.name, model.loc, "a model name") || !expectPunct('{'))
    return false;
  while (!peek().isPunct('}')) {
    Stmt stmt;
    const Token &t = peek();
    stmt.loc = t.loc;
    if (t.isIdent("input") || t.isIdent("param")) {
      stmt.kind = t.isIdent("input") ? Stmt::Kind::Input : Stmt::Kind::Param;
      take();
      SourceLoc nameLoc;
      if (!expectIdent(stmt.name, nameLoc, "a name") || !expectPunct(':') ||
          !parseType(stmt.type))
        return false;
      stmt.loc = nameLoc;
      if (stmt.kind == Stmt::Kind::Param && peek().isPunct('=')) {
        take();
        if (!(stmt.value = parseExpr()))
          return false;
      }
    } else if (t.isIdent("minimize") || t.isIdent("output")) {
      stmt.kind =
          t.isIdent("minimize") ? Stmt::Kind::Minimize : Stmt::Kind::Output;
      take();
      // `output name = expr` names the output; `output expr` does not.
      if (stmt.kind == Stmt::Kind::Output && peek().is(Token::Kind::Ident) &&
          peek(1).isPunct('=')) {
        stmt.name = take().text;
        take(); // =
      }
      if (!(stmt.value = parseExpr()))
        return false;
      stmt.loc = stmt.value->loc;
      if (stmt.kind == Stmt::Kind::Minimize && peek().isIdent("over")) {
        take();
        if (!expectPunct('['))
          return false;
        while (!peek().isPunct(']')) {
          std::string name;
          SourceLoc loc;
          if (!expectIdent(name, loc, "a parameter name"))
            return false;
          stmt.over.push_back({name, loc});
          if (peek().isPunct(']'))
            break;
          if (!peek().isPunct(','))
            return unexpected(peek(), "',' or ']'");
          take();
        }
        take(); // ]
      }
      if (stmt.kind == Stmt::Kind::Minimize && peek().isIdent("using")) {
        take();
        if (!(stmt.optimizer = parsePrimary()))
          return false;
      }
    } else if (t.is(Token::Kind::Ident) && peek(1).isPunct('=')) {
      stmt.kind = Stmt::Kind::Let;
      stmt.name = take().text;
      take(); // =
      if (!(stmt.value = parseExpr()))
        return false;
    } else if (t.is(Token::Kind::Eof)) {
      return error(t.loc, "expected '}' to close model '" + model.name + "'");
    } else {
      return unexpected(t, "a statement (input, param, name = expression, "
                           "minimize or output)");
    }
    model.stmts.push_back(std::move(stmt));
  }
  take(); // }
  program.models.push_back(std::move(model));
  return true;
}

bool Parser::parseFunction(Program &program) {
  take(); // def
  FunctionDef fn;
  if (!expectIdent(fn.name, fn.loc, "a function name") || !expectPunct('('))
    return false;
  while (!peek().isPunct(')')) {
    std::string param;
    SourceLoc loc;
    if (!expectIdent(param, loc, "a parameter name"))
      return false;
    if (llvm::is_contained(fn.params, param))
      return error(loc, "parameter '" + param + "' given twice");
    fn.params.push_back(param);
    if (peek().isPunct(')'))
      break;
    if (!peek().isPunct(','))
      return unexpected(peek(), "',' or ')'");
    take();
  }
  take(); // )
  if (!expectPunct('{'))
    return false;
  while (!peek().isIdent("return")) {
    if (!(peek().is(Token::Kind::Ident) && peek(1).isPunct('=')))
      return unexpected(peek(), "'name = expression' or 'return'");
    Stmt stmt;
    stmt.kind = Stmt::Kind::Let;
    stmt.loc = peek().loc;
    stmt.name = take().text;
    take(); // =
    if (!(stmt.value = parseExpr()))
      return false;
    fn.stmts.push_back(std::move(stmt));
  }
  take(); // return
  if (!(fn.result = parseExpr()) || !expectPunct('}'))
    return false;
  for (const FunctionDef &other : program.functions)
    if (other.name == fn.name)
      return error(fn.loc, "redefinition of function '" + fn.name + "'");
  program.functions.push_back(std::move(fn));
  return true;
}

bool Parser::parseTrain(Program &program) {
  take(); // train
  TrainBlock block;
  if (!expectIdent(block.model, block.loc, "the name of the model to train") ||
      !expectPunct('{'))
    return false;
  while (!peek().isPunct('}')) {
    if (peek().is(Token::Kind::Eof))
      return error(peek().loc, "expected '}' to close the train block");
    TrainSetting setting;
    if (!expectIdent(setting.key, setting.loc, "a setting name") ||
        !expectPunct('='))
      return false;
    if (!(setting.value = parseExpr()))
      return false;
    block.settings.push_back(std::move(setting));
  }
  take(); // }
  program.trains.push_back(std::move(block));
  return true;
}

bool Parser::parseType(TypeSpec &type) {
  const Token &t = peek();
  type.loc = t.loc;
  if (!t.isIdent("f32") && !t.isIdent("f64"))
    return unexpected(t, "an element type (f32 or f64)");
  type.elementType = take().text;
  if (!peek().isPunct('['))
    return true;
  take();
  while (true) {
    const Token &d = peek();
    if (d.isIdent("batch")) {
      take();
      type.dims.push_back({0, true});
    } else if (d.is(Token::Kind::Number)) {
      if (d.number != static_cast<int64_t>(d.number) || d.number < 1)
        return error(d.loc, "a dimension must be a positive integer, found " +
                                d.text);
      type.dims.push_back({static_cast<int64_t>(take().number), false});
    } else {
      return unexpected(d, "a dimension (a positive integer or 'batch')");
    }
    if (peek().isPunct(']')) {
      take();
      return true;
    }
    if (!peek().isPunct(','))
      return unexpected(peek(), "',' or ']'");
    take();
  }
}

/// One left-associative level of binary operators: `next (op next)*`.
ExprPtr Parser::parseBinaryLevel(llvm::StringRef ops,
                                 ExprPtr (Parser::*next)()) {
  ExprPtr lhs = (this->*next)();
  while (lhs && peek().is(Token::Kind::Punct) && ops.contains(peek().text)) {
    Token op = take();
    ExprPtr rhs = (this->*next)();
    if (!rhs)
      return nullptr;
    auto e = std::make_unique<Expr>(Expr::Kind::Binary, op.loc);
    e->text = op.text;
    e->args.push_back(std::move(lhs));
    e->args.push_back(std::move(rhs));
    lhs = std::move(e);
  }
  return lhs;
}

ExprPtr Parser::parseExpr() {
  return parseBinaryLevel("+-", &Parser::parseMultiplicative);
}

ExprPtr Parser::parseMultiplicative() {
  return parseBinaryLevel("*/@", &Parser::parseUnary);
}

ExprPtr Parser::parseUnary() {
  if (peek().isPunct('-')) {
    Token op = take();
    ExprPtr operand = parseUnary();
    if (!operand)
      return nullptr;
    auto e = std::make_unique<Expr>(Expr::Kind::Unary, op.loc);
    e->text = "-";
    e->args.push_back(std::move(operand));
    return e;
  }
  return parsePower();
}

ExprPtr Parser::parsePower() {
  ExprPtr base = parsePrimary();
  if (!base || !peek().isPunct('^'))
    return base;
  Token op = take();
  ExprPtr exponent = parseUnary(); // right-associative: a^b^c = a^(b^c)
  if (!exponent)
    return nullptr;
  auto e = std::make_unique<Expr>(Expr::Kind::Binary, op.loc);
  e->text = "^";
  e->args.push_back(std::move(base));
  e->args.push_back(std::move(exponent));
  return e;
}

ExprPtr Parser::parsePrimary() {
  const Token &t = peek();
  if (t.is(Token::Kind::Number)) {
    auto e = std::make_unique<Expr>(Expr::Kind::Number, t.loc);
    e->number = t.number;
    e->text = t.text;
    take();
    return e;
  }
  if (t.is(Token::Kind::String)) {
    auto e = std::make_unique<Expr>(Expr::Kind::String, t.loc);
    e->text = t.text;
    take();
    return e;
  }
  if (t.is(Token::Kind::Ident)) {
    Token name = take();
    if (peek().isPunct('(')) {
      auto call = std::make_unique<Expr>(Expr::Kind::Call, name.loc);
      call->text = name.text;
      if (!parseCallArgs(*call))
        return nullptr;
      return call;
    }
    auto e = std::make_unique<Expr>(Expr::Kind::Name, name.loc);
    e->text = name.text;
    return e;
  }
  if (t.isPunct('(')) {
    take();
    ExprPtr inner = parseExpr();
    if (!inner || !expectPunct(')'))
      return nullptr;
    return inner;
  }
  if (t.isPunct('[')) {
    auto list = std::make_unique<Expr>(Expr::Kind::List, t.loc);
    take();
    while (!peek().isPunct(']')) {
      ExprPtr element = parseExpr();
      if (!element)
        return nullptr;
      list->args.push_back(std::move(element));
      if (peek().isPunct(']'))
        break;
      if (!peek().isPunct(',')) {
        unexpected(peek(), "',' or ']'");
        return nullptr;
      }
      take();
    }
    take();
    return list;
  }
  unexpected(t, "an expression");
  return nullptr;
}

bool Parser::parseCallArgs(Expr &call) {
  take(); // (
  while (!peek().isPunct(')')) {
    if (peek().is(Token::Kind::Ident) && peek(1).isPunct(':')) {
      KeywordArg kw;
      Token name = take();
      take(); // :
      kw.name = name.text;
      kw.loc = name.loc;
      for (const KeywordArg &other : call.kwargs)
        if (other.name == kw.name)
          return error(name.loc, "argument '" + kw.name + "' given twice");
      if (!(kw.value = parseExpr()))
        return false;
      call.kwargs.push_back(std::move(kw));
    } else {
      if (!call.kwargs.empty())
        return error(peek().loc,
                     "positional argument after a keyword argument");
      ExprPtr arg = parseExpr();
      if (!arg)
        return false;
      call.args.push_back(std::move(arg));
    }
    if (peek().isPunct(')'))
      break;
    if (!peek().isPunct(','))
      return unexpected(peek(), "',' or ')'");
    take();
  }
  take(); // )
  return true;
}

} // namespace

std::optional<Program> dlc::parseProgram(llvm::StringRef filename,
                                         llvm::StringRef source,
                                         mlir::MLIRContext *context) {
  return Parser(filename, source, context).parse();
}
