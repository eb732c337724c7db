// The gradient of a scan: a reverse scan over the recorded carries.
//
// Forward:  c_{t+1}, y_t = f(c_t, x_t, p)   for t = 0 .. T-1
// Backward: for t = T-1 .. 0, with g_c the carry's cotangent (from the final
// carries' gradients), the body's vector-Jacobian product at (c_t, x_t, p)
// gives the cotangent of c_t, of x_t (stacked into the sequences' gradients)
// and of p (summed over the steps). The carries c_t come from a recording
// copy of the forward scan that also stacks them, and the next carries
// c_{t+1}: where the product reads a next carry (tanh's gradient reads its
// result), it reads the recorded one, and the forward step's recomputation
// of it (an Elman cell's matmuls) is dead.
#include "dlc/Dialect/DLC/IR/DLCOps.h"
#include "dlc/Dialect/DLC/IR/ReverseMode.h"

#include "mlir/IR/IRMapping.h"

using namespace mlir;
using namespace mlir::dlc;

/// A zero tensor shaped like `v` (its batch size included).
static Value zerosLike(OpBuilder &b, Location loc, Value v) {
  auto type = cast<RankedTensorType>(v.getType());
  Value zero = createScalarConstant(b, loc, type.getElementType(), 0.0);
  return BroadcastOp::create(b, loc, zero, v, ArrayRef<int64_t>{});
}

static RankedTensorType withStepDim(Type step, int64_t axis, int64_t length) {
  auto type = cast<RankedTensorType>(step);
  SmallVector<int64_t> shape(type.getShape());
  shape.insert(shape.begin() + axis, length);
  return RankedTensorType::get(shape, type.getElementType());
}

LogicalResult FillOp::buildGradients(OpBuilder &, ValueRange,
                                     SmallVectorImpl<Value> &out) {
  out.push_back(Value());
  return success();
}

LogicalResult ScanOp::buildGradients(OpBuilder &b, ValueRange grads,
                                     SmallVectorImpl<Value> &out) {
  Location loc = getLoc();
  auto axis = static_cast<int64_t>(getAxis());
  int64_t length = getLength();
  unsigned numCarries = getInits().size();
  unsigned numSeqs = getSequences().size();
  unsigned numInvariants = getInvariants().size();
  unsigned numStacked = getStacked().size();
  Block &body = getBody().front();
  auto yield = cast<YieldOp>(body.getTerminator());

  // 1. The forward scan, made to also stack the carries at the start and at
  //    the end of every step: a recording copy right after it takes over
  //    its uses (the original is then dead and removed by canonicalization).
  SmallVector<Type> recordTypes(getFinals().getTypes());
  llvm::append_range(recordTypes, getStacked().getTypes());
  for (int history = 0; history < 2; ++history) // start, then end of a step
    for (Value init : getInits())
      recordTypes.push_back(withStepDim(init.getType(), axis, length));
  OpBuilder::InsertPoint backwardPoint = b.saveInsertionPoint();
  b.setInsertionPointAfter(getOperation());
  auto record = ScanOp::create(
      b, loc, ArrayRef<Type>(recordTypes).take_front(numCarries),
      ArrayRef<Type>(recordTypes).drop_front(numCarries), getInits(),
      getSequences(), getInvariants(), getAxisAttr(), getReverseAttr());
  {
    OpBuilder::InsertionGuard guard(b);
    Block *copy = b.createBlock(&record.getBody(), {}, body.getArgumentTypes(),
                                SmallVector<Location>(body.getNumArguments(),
                                                      loc));
    IRMapping map;
    map.map(body.getArguments(), copy->getArguments());
    for (Operation &op : body.without_terminator())
      b.clone(op, map);
    SmallVector<Value> values;
    for (Value v : yield.getOperands())
      values.push_back(map.lookup(v));
    llvm::append_range(values, copy->getArguments().take_front(numCarries));
    for (Value v : yield.getOperands().take_front(numCarries))
      values.push_back(map.lookup(v));
    YieldOp::create(b, loc, values);
  }
  for (unsigned i = 0; i < numCarries; ++i)
    getFinals()[i].replaceAllUsesWith(record.getFinals()[i]);
  for (unsigned j = 0; j < numStacked; ++j)
    getStacked()[j].replaceAllUsesWith(record.getStacked()[j]);
  b.restoreInsertionPoint(backwardPoint);
  // The carries at the start of each step, then at its end.
  ValueRange history = record.getStacked().drop_front(numStacked);

  // 2. The reverse scan. Carries: the carries' cotangents, then the
  //    invariants' accumulated gradients. Sequences: the forward sequences,
  //    the recorded carries (at the start, then at the end of each step),
  //    the stacked outputs' cotangents. Invariants:
  //    the forward invariants.
  SmallVector<Value> inits;
  for (unsigned i = 0; i < numCarries; ++i)
    inits.push_back(grads[i] ? grads[i] : zerosLike(b, loc, getInits()[i]));
  for (Value p : getInvariants())
    inits.push_back(zerosLike(b, loc, p));
  SmallVector<Value> seqs(getSequences());
  llvm::append_range(seqs, history);
  for (unsigned j = 0; j < numStacked; ++j)
    seqs.push_back(grads[numCarries + j]
                       ? grads[numCarries + j]
                       : zerosLike(b, loc, getStacked()[j]));
  SmallVector<Type> finalTypes;
  for (Value v : inits)
    finalTypes.push_back(v.getType());
  SmallVector<Type> stackedTypes;
  for (Value s : getSequences())
    stackedTypes.push_back(s.getType());
  UnitAttr reverse = getReverse() ? UnitAttr() : b.getUnitAttr();
  auto backward = ScanOp::create(b, loc, finalTypes, stackedTypes, inits, seqs,
                                 getInvariants(), getAxisAttr(), reverse);

  SmallVector<Type> argTypes;
  for (Value v : inits)
    argTypes.push_back(v.getType());
  for (Value s : seqs) {
    auto type = cast<RankedTensorType>(s.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape.erase(shape.begin() + axis);
    argTypes.push_back(RankedTensorType::get(shape, type.getElementType()));
  }
  llvm::append_range(argTypes, getInvariants().getTypes());
  OpBuilder::InsertionGuard guard(b);
  Block *step = b.createBlock(&backward.getBody(), {}, argTypes,
                              SmallVector<Location>(argTypes.size(), loc));
  ValueRange carryGrads = step->getArguments().take_front(numCarries);
  ValueRange accumulators =
      step->getArguments().slice(numCarries, numInvariants);
  ValueRange slices =
      step->getArguments().slice(numCarries + numInvariants, numSeqs);
  ValueRange carries = step->getArguments().slice(
      numCarries + numInvariants + numSeqs, numCarries);
  ValueRange nextCarries = step->getArguments().slice(
      numCarries + numInvariants + numSeqs + numCarries, numCarries);
  ValueRange stackedGrads = step->getArguments().slice(
      numCarries + numInvariants + numSeqs + 2 * numCarries, numStacked);
  ValueRange invariants = step->getArguments().take_back(numInvariants);

  // The forward step at (c_t, x_t, p), then its vector-Jacobian product.
  IRMapping map;
  map.map(body.getArguments().take_front(numCarries), carries);
  map.map(body.getArguments().slice(numCarries, numSeqs), slices);
  map.map(body.getArguments().take_back(numInvariants), invariants);
  for (Operation &op : body.without_terminator())
    b.clone(op, map);
  SmallVector<std::pair<Value, Value>> seeds;
  for (unsigned i = 0; i < numCarries; ++i)
    seeds.push_back({map.lookupOrDefault(yield.getOperand(i)), carryGrads[i]});
  for (unsigned j = 0; j < numStacked; ++j)
    seeds.push_back({map.lookupOrDefault(yield.getOperand(numCarries + j)),
                     stackedGrads[j]});
  SmallVector<Value> wrt(carries);
  llvm::append_range(wrt, slices);
  llvm::append_range(wrt, invariants);
  // A yielded value that is directly a block argument passes its seed on.
  FailureOr<SmallVector<Value>> vjp = buildReverseMode(b, *step, seeds, wrt);
  if (failed(vjp))
    return failure();
  for (auto [value, seed] : seeds)
    for (auto [k, w] : llvm::enumerate(wrt))
      if (value == w)
        (*vjp)[k] = (*vjp)[k] ? AddOp::create(b, loc, (*vjp)[k], seed).getResult()
                              : seed;
  // The product reads the recorded next carries, not their recomputation.
  for (unsigned i = 0; i < numCarries; ++i) {
    Value recomputed = map.lookupOrDefault(yield.getOperand(i));
    if (recomputed.getParentBlock() == step && !isa<BlockArgument>(recomputed))
      recomputed.replaceAllUsesWith(nextCarries[i]);
  }

  SmallVector<Value> next;
  for (unsigned i = 0; i < numCarries; ++i)
    next.push_back((*vjp)[i] ? (*vjp)[i] : zerosLike(b, loc, carries[i]));
  for (unsigned k = 0; k < numInvariants; ++k) {
    Value g = (*vjp)[numCarries + numSeqs + k];
    next.push_back(g ? AddOp::create(b, loc, accumulators[k], g).getResult()
                     : accumulators[k]);
  }
  for (unsigned j = 0; j < numSeqs; ++j) {
    Value g = (*vjp)[numCarries + j];
    next.push_back(g ? g : zerosLike(b, loc, slices[j]));
  }
  YieldOp::create(b, loc, next);

  // Operand gradients: inits, sequences, invariants.
  for (unsigned i = 0; i < numCarries; ++i)
    out.push_back(backward.getFinals()[i]);
  for (unsigned j = 0; j < numSeqs; ++j)
    out.push_back(backward.getStacked()[j]);
  for (unsigned k = 0; k < numInvariants; ++k)
    out.push_back(backward.getFinals()[numCarries + k]);
  return success();
}
