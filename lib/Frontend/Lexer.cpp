// The lexer of .dlg files.
#include "dlc/Frontend/Lexer.h"

#include <cctype>
#include <cstdlib>

using namespace dlc;

void Lexer::advance() {
  if (peek() == '\n') {
    ++line;
    col = 1;
  } else {
    ++col;
  }
  ++pos;
}

Token Lexer::next() {
  // Whitespace and comments.
  while (true) {
    char c = peek();
    if (c == '#') {
      while (peek() != '\n' && peek() != '\0')
        advance();
    } else if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      advance();
    } else {
      break;
    }
  }
  Token tok;
  tok.loc = {line, col};
  char c = peek();
  if (c == '\0' && pos >= source.size()) {
    tok.kind = Token::Kind::Eof;
    return tok;
  }
  if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
    size_t start = pos;
    while (std::isalnum(static_cast<unsigned char>(peek())) || peek() == '_')
      advance();
    tok.kind = Token::Kind::Ident;
    tok.text = source.substr(start, pos - start).str();
    return tok;
  }
  if (std::isdigit(static_cast<unsigned char>(c)) ||
      (c == '.' && std::isdigit(static_cast<unsigned char>(peek(1))))) {
    size_t start = pos;
    while (std::isdigit(static_cast<unsigned char>(peek())))
      advance();
    if (peek() == '.') {
      advance();
      while (std::isdigit(static_cast<unsigned char>(peek())))
        advance();
    }
    if (peek() == 'e' || peek() == 'E') {
      size_t save = pos;
      unsigned saveLine = line, saveCol = col;
      advance();
      if (peek() == '+' || peek() == '-')
        advance();
      if (!std::isdigit(static_cast<unsigned char>(peek()))) {
        pos = save;
        line = saveLine;
        col = saveCol;
      } else {
        while (std::isdigit(static_cast<unsigned char>(peek())))
          advance();
      }
    }
    tok.kind = Token::Kind::Number;
    tok.text = source.substr(start, pos - start).str();
    tok.number = std::strtod(tok.text.c_str(), nullptr);
    if (std::isalpha(static_cast<unsigned char>(peek())) || peek() == '_') {
      tok.kind = Token::Kind::Error;
      tok.text = "invalid number '" + tok.text + peek() + "'";
    }
    return tok;
  }
  if (c == '"') {
    advance();
    std::string value;
    while (peek() != '"') {
      if (peek() == '\n' || (peek() == '\0' && pos >= source.size())) {
        tok.kind = Token::Kind::Error;
        tok.text = "unterminated string";
        return tok;
      }
      value += peek();
      advance();
    }
    advance();
    tok.kind = Token::Kind::String;
    tok.text = value;
    return tok;
  }
  if (llvm::StringRef("{}()[],:=+-*/^@").contains(c) && c != '\0') {
    advance();
    tok.kind = Token::Kind::Punct;
    tok.text = std::string(1, c);
    return tok;
  }
  tok.kind = Token::Kind::Error;
  if (std::isprint(static_cast<unsigned char>(c)))
    tok.text = std::string("unexpected character '") + c + "'";
  else
    tok.text = "unexpected byte " + std::to_string(static_cast<unsigned char>(c));
  return tok;
}
