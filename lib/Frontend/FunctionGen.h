// FunctionGen: the code generator of one function of a model (private to
// the frontend: MLIRGen.cpp drives it, FunctionGen.cpp evaluates
// expressions, Builtins.cpp the built-in ops).
#ifndef DLC_LIB_FRONTEND_FUNCTIONGEN_H
#define DLC_LIB_FRONTEND_FUNCTIONGEN_H

#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Frontend/MLIRGen.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"

#include <functional>
#include <map>

namespace dlc::detail {

using namespace mlir;
using namespace mlir::dlc;

/// Generates one function from the model's statements. Inputs that the
/// function does not take make every value that depends on them
/// "unavailable"; using such a value where it is needed is an error.
class FunctionGen {
public:
  FunctionGen(const Program &program, const Model &model, OpBuilder &builder,
              Type elementType)
      : program(program), model(model), b(builder), elementType(elementType) {}

  /// Binds a declared name to a block argument (or to "unavailable").
  void bind(const std::string &name, Value v, const std::string &missing) {
    values[name] = v;
    if (!v)
      unavailable[name] = missing;
  }
  /// Evaluates `e`; a null value means unavailable (see `missingInput`).
  FailureOr<Value> gen(const Expr &e);
  /// Evaluates every `name = expr` statement in order.
  LogicalResult genLets();
  /// The location of source position `l`; inside an inlined function, a
  /// call-site location (the callee's position, called from the caller's).
  Location loc(SourceLoc l) {
    Location here = toLocation(b.getContext(), program, l);
    for (auto it = callSites.rbegin(); it != callSites.rend(); ++it)
      here = CallSiteLoc::get(here, *it);
    return here;
  }
  InFlightDiagnostic error(SourceLoc l) { return emitError(loc(l)); }
  std::string missingInput;

private:
  template <typename OpTy>
  FailureOr<Value> create(SourceLoc l, ValueRange operands,
                          typename OpTy::Properties props = {});
  FailureOr<Value> genCall(const Expr &e);
  FailureOr<std::vector<int64_t>> intList(const Expr &e, bool allowBatch);
  FailureOr<std::vector<int64_t>> axesOf(const Expr &call);

  const Program &program;
  const Model &model;
  OpBuilder &b;
  Type elementType;
  FailureOr<Value> genUserCall(const Expr &e, const FunctionDef &fn);
  FailureOr<Value> genScan(const Expr &e);
  /// The values of `e` as a list: the elements of a list expression, or
  /// one value.
  FailureOr<SmallVector<Value>> genList(const Expr &e);

  std::map<std::string, Value> values;
  std::map<std::string, std::string> unavailable;
  SmallVector<Location> callSites; // of the inlined calls being generated
public:
  /// Dropout: in the loss, `makeCounter` adds the counter argument on first
  /// use; elsewhere (prediction) dropout is the identity.
  std::function<Value()> makeCounter;
  Value counter;
  int64_t dropoutSites = 0;
  bool training = false; // dropout is active only in the loss
private:
  SmallVector<StringRef> callStack; // function names, to reject recursion
};

template <typename OpTy>
FailureOr<Value> FunctionGen::create(SourceLoc l, ValueRange operands,
                                     typename OpTy::Properties props) {
  for (Value v : operands)
    if (!v)
      return Value(); // unavailable in this function
  SmallVector<Type> types;
  if constexpr (std::is_base_of_v<OpTrait::InferTypeOpAdaptor<OpTy>, OpTy>) {
    typename OpTy::Adaptor adaptor(operands, nullptr, props);
    if (failed(OpTy::inferReturnTypes(b.getContext(), loc(l), adaptor, types)))
      return failure();
  } else {
    types.push_back(operands[0].getType()); // same operand and result type
  }
  OperationState state(loc(l), OpTy::getOperationName());
  state.addOperands(operands);
  state.addTypes(types);
  state.useProperties(props);
  return b.create(state)->getResult(0);
}

} // namespace dlc::detail

#endif // DLC_LIB_FRONTEND_FUNCTIONGEN_H
