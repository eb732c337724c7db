// AST helpers and the S-expression dump of `dlc compile --emit=ast`.
#include "dlc/Frontend/AST.h"

using namespace dlc;

const KeywordArg *Expr::findKeyword(llvm::StringRef name) const {
  for (const KeywordArg &kw : kwargs)
    if (kw.name == name)
      return &kw;
  return nullptr;
}

static void dumpExpr(const Expr &e, llvm::raw_ostream &os) {
  switch (e.kind) {
  case Expr::Kind::Number:
    os << e.text;
    return;
  case Expr::Kind::Name:
    os << e.text;
    return;
  case Expr::Kind::String:
    os << '"' << e.text << '"';
    return;
  case Expr::Kind::List:
    os << "[";
    for (size_t i = 0; i < e.args.size(); ++i) {
      os << (i ? " " : "");
      dumpExpr(*e.args[i], os);
    }
    os << "]";
    return;
  case Expr::Kind::Unary:
  case Expr::Kind::Binary:
    os << "(" << e.text;
    for (const ExprPtr &a : e.args) {
      os << " ";
      dumpExpr(*a, os);
    }
    os << ")";
    return;
  case Expr::Kind::Call:
    os << "(call " << e.text;
    for (const ExprPtr &a : e.args) {
      os << " ";
      dumpExpr(*a, os);
    }
    for (const KeywordArg &kw : e.kwargs) {
      os << " " << kw.name << ":";
      dumpExpr(*kw.value, os);
    }
    os << ")";
    return;
  }
}

static void dumpType(const TypeSpec &t, llvm::raw_ostream &os) {
  os << t.elementType << "[";
  for (size_t i = 0; i < t.dims.size(); ++i) {
    os << (i ? ", " : "");
    if (t.dims[i].symbolic)
      os << "batch";
    else
      os << t.dims[i].size;
  }
  os << "]";
}

void dlc::dumpAST(const Program &program, llvm::raw_ostream &os) {
  for (const FunctionDef &f : program.functions) {
    os << "(def " << f.name << " (";
    for (size_t i = 0; i < f.params.size(); ++i)
      os << (i ? " " : "") << f.params[i];
    os << ")\n";
    for (const Stmt &s : f.stmts) {
      os << "  (let " << s.name << " ";
      dumpExpr(*s.value, os);
      os << ")\n";
    }
    os << "  (return ";
    dumpExpr(*f.result, os);
    os << "))\n";
  }
  for (const Model &m : program.models) {
    os << "(model " << m.name << " @" << m.loc.line << ":" << m.loc.col
       << "\n";
    for (const Stmt &s : m.stmts) {
      os << "  (";
      switch (s.kind) {
      case Stmt::Kind::Input:
        os << "input " << s.name << " ";
        dumpType(s.type, os);
        break;
      case Stmt::Kind::Param:
        os << "param " << s.name << " ";
        dumpType(s.type, os);
        if (s.value) {
          os << " = ";
          dumpExpr(*s.value, os);
        }
        break;
      case Stmt::Kind::Let:
        os << "let " << s.name << " ";
        dumpExpr(*s.value, os);
        break;
      case Stmt::Kind::Minimize:
        os << "minimize ";
        dumpExpr(*s.value, os);
        if (!s.over.empty()) {
          os << " over [";
          for (size_t i = 0; i < s.over.size(); ++i)
            os << (i ? " " : "") << s.over[i].first;
          os << "]";
        }
        if (s.optimizer) {
          os << " using ";
          dumpExpr(*s.optimizer, os);
        }
        break;
      case Stmt::Kind::Output:
        os << "output " << (s.name.empty() ? "" : s.name + " = ");
        dumpExpr(*s.value, os);
        break;
      }
      os << ") @" << s.loc.line << ":" << s.loc.col << "\n";
    }
    os << ")\n";
  }
  for (const TrainBlock &t : program.trains) {
    os << "(train " << t.model << "\n";
    for (const TrainSetting &s : t.settings) {
      os << "  (" << s.key << " ";
      dumpExpr(*s.value, os);
      os << ")\n";
    }
    os << ")\n";
  }
}
