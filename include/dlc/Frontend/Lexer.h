// The lexer of .dlg files.
#ifndef DLC_FRONTEND_LEXER_H
#define DLC_FRONTEND_LEXER_H

#include "dlc/Frontend/AST.h"

#include "llvm/ADT/StringRef.h"

namespace dlc {

struct Token {
  enum class Kind {
    Eof,
    Ident,
    Number,
    String,
    Punct, // one of { } ( ) [ ] , : = + - * / ^ @
    Error, // text holds the message
  };
  Kind kind = Kind::Eof;
  std::string text;
  double number = 0;
  SourceLoc loc;

  bool is(Kind k) const { return kind == k; }
  bool isPunct(char c) const {
    return kind == Kind::Punct && text.size() == 1 && text[0] == c;
  }
  bool isIdent(llvm::StringRef s) const {
    return kind == Kind::Ident && text == s;
  }
};

/// Splits a .dlg source into tokens. `#` starts a comment to end of line.
class Lexer {
public:
  explicit Lexer(llvm::StringRef source) : source(source) {}
  Token next();

private:
  char peek(size_t ahead = 0) const {
    return pos + ahead < source.size() ? source[pos + ahead] : '\0';
  }
  void advance();

  llvm::StringRef source;
  size_t pos = 0;
  unsigned line = 1, col = 1;
};

} // namespace dlc

#endif // DLC_FRONTEND_LEXER_H
