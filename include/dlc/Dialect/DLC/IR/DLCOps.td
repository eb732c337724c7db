// Ops of the dlc dialect.
#ifndef DLC_OPS_TD
#define DLC_OPS_TD

include "dlc/Dialect/DLC/IR/DLCBase.td"
include "dlc/Dialect/DLC/IR/DLCInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

def DLC_GradientOpInterfaceTrait :
    DeclareOpInterfaceMethods<DLC_GradientOpInterface>;

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

def DLC_ConstantOp : DLC_Op<"constant", [Pure, ConstantLike,
                                         InferTypeOpAdaptor]> {
  let summary = "A constant tensor";
  let description = [{
    A tensor whose value is known at compile time. Numeric literals of a
    model become scalar constants of the element type they combine with.

    ```mlir
    %c = dlc.constant dense<2.0> : tensor<f32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = "attr-dict $value";
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise binary ops (numpy broadcasting)
//===----------------------------------------------------------------------===//

class DLC_BinaryOp<string mnemonic, list<Trait> traits = []>
    : DLC_Op<mnemonic, !listconcat(traits, [Pure, InferTypeOpAdaptor,
                                            DLC_GradientOpInterfaceTrait])> {
  let arguments = (ins DLC_FloatTensor:$lhs, DLC_FloatTensor:$rhs);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
  let hasFolder = 1;
  let extraClassDefinition = [{
    ::mlir::OpFoldResult $cppClass::fold(FoldAdaptor adaptor) {
      return foldScalarBinary(getOperation(), adaptor.getLhs(),
                              adaptor.getRhs());
    }
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        Adaptor adaptor,
        ::llvm::SmallVectorImpl<::mlir::Type> &inferredReturnTypes) {
      return inferBroadcastType(location, adaptor.getLhs().getType(),
                                adaptor.getRhs().getType(),
                                inferredReturnTypes);
    }
  }];
}

def DLC_AddOp : DLC_BinaryOp<"add"> {
  let summary = "Elementwise addition with broadcasting";
  let description = [{
    ```mlir
    %r = dlc.add %a, %b : tensor<?x4xf32>, tensor<4xf32>
    ```
  }];
}

def DLC_SubOp : DLC_BinaryOp<"sub"> {
  let summary = "Elementwise subtraction with broadcasting";
  let description = [{
    ```mlir
    %r = dlc.sub %a, %b : tensor<?xf32>, tensor<?xf32>
    ```
  }];
}

def DLC_MulOp : DLC_BinaryOp<"mul"> {
  let summary = "Elementwise multiplication with broadcasting";
  let description = [{
    ```mlir
    %r = dlc.mul %a, %b : tensor<?x4xf32>, tensor<f32>
    ```
  }];
}

def DLC_DivOp : DLC_BinaryOp<"div"> {
  let summary = "Elementwise division with broadcasting";
  let description = [{
    ```mlir
    %r = dlc.div %a, %b : tensor<?x4xf32>, tensor<f32>
    ```
  }];
}

def DLC_PowOp : DLC_BinaryOp<"pow"> {
  let summary = "Elementwise power `lhs ^ rhs` with broadcasting";
  let description = [{
    Real power. A negative base gives NaN unless the exponent is a constant
    integer (then the sign is kept, as in numpy).

    ```mlir
    %r = dlc.pow %a, %two : tensor<?xf32>, tensor<f32>
    ```
  }];
}

//===----------------------------------------------------------------------===//
// Elementwise unary ops
//===----------------------------------------------------------------------===//

class DLC_UnaryOp<string mnemonic, string formula, list<Trait> traits = []>
    : DLC_Op<mnemonic, !listconcat(traits, [Pure, SameOperandsAndResultType,
                                            DLC_GradientOpInterfaceTrait])> {
  let summary = "Elementwise " # formula;
  let arguments = (ins DLC_FloatTensor:$operand);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = "$operand attr-dict `:` type($operand)";
  let description = "Computes `" # formula # "` for every element.\n\n"
    "```mlir\n%r = dlc." # mnemonic # " %x : tensor<?x4xf32>\n```";
}

def DLC_NegOp : DLC_UnaryOp<"neg", "-x">;
def DLC_ExpOp : DLC_UnaryOp<"exp", "exp(x)">;
def DLC_LogOp : DLC_UnaryOp<"log", "log(x)">;
def DLC_SqrtOp : DLC_UnaryOp<"sqrt", "sqrt(x)">;
def DLC_AbsOp : DLC_UnaryOp<"abs", "|x|">;
def DLC_ReluOp : DLC_UnaryOp<"relu", "max(x, 0)">;
def DLC_SigmoidOp : DLC_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def DLC_TanhOp : DLC_UnaryOp<"tanh", "tanh(x)">;
def DLC_ErfOp : DLC_UnaryOp<"erf", "erf(x)">;
def DLC_StopGradientOp : DLC_UnaryOp<"stop_gradient",
    "x, with a zero gradient (the value is a constant for autodiff)">;
def DLC_SignOp : DLC_UnaryOp<"sign", "sign(x) (-1, 0 or 1; zero gradient)">;
def DLC_StepOp : DLC_UnaryOp<"step", "x > 0 ? 1 : 0 (zero gradient)">;

class DLC_ParamUnaryOp<string mnemonic, string formula, dag attrs>
    : DLC_Op<mnemonic, [Pure, SameOperandsAndResultType,
                        DLC_GradientOpInterfaceTrait]> {
  let summary = "Elementwise " # formula;
  let arguments = !con((ins DLC_FloatTensor:$operand), attrs);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = "$operand attr-dict `:` type($operand)";
  let description = "Computes `" # formula # "` for every element.\n\n"
    "```mlir\n%r = dlc." # mnemonic # " %x {...} : tensor<?x4xf32>\n```";
}

def DLC_LeakyReluOp : DLC_ParamUnaryOp<"leaky_relu", "x > 0 ? x : alpha * x",
    (ins F64Attr:$alpha)>;
def DLC_EluOp : DLC_ParamUnaryOp<"elu", "x > 0 ? x : alpha * (exp(x) - 1)",
    (ins F64Attr:$alpha)>;
def DLC_ClipOp : DLC_ParamUnaryOp<"clip", "min(max(x, min), max)",
    (ins F64Attr:$min, F64Attr:$max)> {
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Comparison and selection (no gradient through the condition)
//===----------------------------------------------------------------------===//

def DLC_ComparePredicate : I64EnumAttr<"ComparePredicate", "",
    [I64EnumAttrCase<"eq", 0>, I64EnumAttrCase<"ne", 1>,
     I64EnumAttrCase<"lt", 2>, I64EnumAttrCase<"le", 3>,
     I64EnumAttrCase<"gt", 4>, I64EnumAttrCase<"ge", 5>]> {
  let cppNamespace = "::mlir::dlc";
}

def DLC_CompareOp : DLC_Op<"compare", [Pure, InferTypeOpAdaptor,
                                       DLC_GradientOpInterfaceTrait]> {
  let summary = "Elementwise comparison giving 1.0 (true) or 0.0 (false)";
  let description = [{
    Compares with numpy broadcasting. The result is a float tensor of 0s and
    1s (usable as a mask or a metric); it has no gradient.

    ```mlir
    %m = dlc.compare lt, %a, %b : tensor<?x4xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins DLC_ComparePredicate:$predicate, DLC_FloatTensor:$lhs,
                       DLC_FloatTensor:$rhs);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = [{
    $predicate `,` $lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)
  }];
}

def DLC_SelectOp : DLC_Op<"select", [Pure, InferTypeOpAdaptor,
                                     DLC_GradientOpInterfaceTrait]> {
  let summary = "Elementwise `condition != 0 ? on_true : on_false`";
  let description = [{
    All three operands broadcast together. The gradient flows to the chosen
    operand; the condition has none.

    ```mlir
    %r = dlc.select %c, %a, %b : tensor<?x4xf32>, tensor<?x4xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$condition, DLC_FloatTensor:$on_true,
                       DLC_FloatTensor:$on_false);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = [{
    $condition `,` $on_true `,` $on_false attr-dict `:` type($condition) `,`
    type($on_true) `,` type($on_false)
  }];
}

//===----------------------------------------------------------------------===//
// Loops over sequences
//===----------------------------------------------------------------------===//

def DLC_ScanOp : DLC_Op<"scan", [IsolatedFromAbove, AttrSizedOperandSegments,
    AttrSizedResultSegments, RecursiveMemoryEffects,
    SingleBlockImplicitTerminator<"YieldOp">, DLC_GradientOpInterfaceTrait]> {
  let summary = "A loop over the steps of sequences, carrying state";
  let description = [{
    For each step `t` of `axis` (from the last when `reverse`), the body
    receives the carries, the slices `sequences[..., t, ...]` and the
    invariants, and yields the next carries followed by per-step outputs.
    The results are the final carries, then each per-step output stacked
    along `axis`. All sequences have the same static length along `axis`.

    Autodiff treats the loop as a loop: the gradient is a reverse scan over
    the recorded carries (no unrolling). The forward scan also records each
    step's next carries: where the step's vector-Jacobian product reads
    one (tanh's gradient reads its result), it reads the recorded value,
    and the step's recomputation of it is dead. Canonicalization drops the
    sequences a body does not read and the stacked outputs nothing reads.

    ```mlir
    %h:1 = "dlc.scan"(%h0, %x, %w) ({
    ^bb0(%h: tensor<?x8xf32>, %xt: tensor<?x4xf32>, %w: tensor<4x8xf32>):
      %z = dlc.matmul %xt, %w : tensor<?x4xf32>, tensor<4x8xf32>
      %n = dlc.add %z, %h : tensor<?x8xf32>, tensor<?x8xf32>
      dlc.yield %n : tensor<?x8xf32>
    }) {axis = 1 : i64, operandSegmentSizes = array<i32: 1, 1, 1>,
        resultSegmentSizes = array<i32: 1, 0>}
      : (tensor<?x8xf32>, tensor<?x5x4xf32>, tensor<4x8xf32>) -> tensor<?x8xf32>
    ```
  }];
  let arguments = (ins Variadic<DLC_FloatTensor>:$inits,
                       Variadic<DLC_FloatTensor>:$sequences,
                       Variadic<DLC_FloatTensor>:$invariants,
                       I64Attr:$axis, UnitAttr:$reverse);
  let results = (outs Variadic<DLC_FloatTensor>:$finals,
                      Variadic<DLC_FloatTensor>:$stacked);
  let regions = (region SizedRegion<1>:$body);
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
  let extraClassDeclaration = [{
    /// The number of steps: the length of the sequences along `axis`.
    int64_t getLength();
  }];
}

def DLC_YieldOp : DLC_Op<"yield", [Pure, Terminator, HasParent<"ScanOp">,
                                   ReturnLike]> {
  let summary = "The next carries and the step's outputs of a scan body";
  let description = [{
    ```mlir
    dlc.yield %next, %out : tensor<?x8xf32>, tensor<?x8xf32>
    ```
  }];
  let arguments = (ins Variadic<DLC_FloatTensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let builders = [OpBuilder<(ins), [{ }]>];
}

def DLC_FillOp : DLC_Op<"fill", [Pure, DLC_GradientOpInterfaceTrait]> {
  let summary = "A constant tensor whose batch size is another tensor's";
  let description = [{
    A tensor of the result type filled with `value`; a symbolic first
    dimension takes `batch_of`'s first dimension. Used for initial states.

    ```mlir
    %h0 = dlc.fill %x {value = 0.0 : f64} : tensor<?x5x4xf32> -> tensor<?x8xf32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$batch_of, F64Attr:$value);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = "$batch_of attr-dict `:` type($batch_of) `->` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Dropout
//===----------------------------------------------------------------------===//

def DLC_DropoutOp : DLC_Op<"dropout", [Pure, AllTypesMatch<["operand", "result"]>,
                                       DLC_GradientOpInterfaceTrait]> {
  let summary = "Inverted dropout with a counter-based random mask";
  let description = [{
    Keeps each element with probability `1 - rate`, scaled by
    `1 / (1 - rate)`, and zeroes the others. The mask is a pure function of
    (`seed`, the scalar `counter`, the element's index): a counter-based
    generator (splitmix64 of the three), so the same seed and step give the
    same mask, and the gradient (the same dropout applied to the output's
    gradient) sees the same mask. The train step advances the counter.

    ```mlir
    %y = dlc.dropout %x, %step {rate = 0.2 : f64, seed = 7 : i64}
        : tensor<?x128xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$operand, DLC_FloatTensor:$counter,
                       F64Attr:$rate, I64Attr:$seed);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = [{
    $operand `,` $counter attr-dict `:` type($operand) `,` type($counter)
  }];
  let hasVerifier = 1;
}

def DLC_RandomNormalOp : DLC_Op<"random_normal", [Pure,
                                                 DLC_GradientOpInterfaceTrait]> {
  let summary = "Standard normal noise from a counter-based generator";
  let description = [{
    A tensor of the result type with N(0, 1) elements (Box-Muller on two
    splitmix64 uniforms of (`seed`, `counter`, index)); a symbolic first
    dimension takes `batch_of`'s. The same seed and counter give the same
    noise. No gradient.

    ```mlir
    %z = dlc.random_normal %x, %step {seed = 3 : i64}
        : tensor<?x2xf32>, tensor<f32> -> tensor<?x8xf32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$batch_of, DLC_FloatTensor:$counter,
                       I64Attr:$seed);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = [{
    $batch_of `,` $counter attr-dict `:` type($batch_of) `,` type($counter)
    `->` type($result)
  }];
}

//===----------------------------------------------------------------------===//
// Classification
//===----------------------------------------------------------------------===//

class DLC_SoftmaxLikeOp<string mnemonic, string what>
    : DLC_Op<mnemonic, [Pure, SameOperandsAndResultType,
                        DLC_GradientOpInterfaceTrait]> {
  let summary = what # " along one axis";
  let description = what # " along `axis` (negative counts from the end), "
    "computed stably (the maximum is subtracted first).\n\n"
    "```mlir\n%p = dlc." # mnemonic # " %z axis 1 : tensor<?x10xf32>\n```";
  let arguments = (ins DLC_FloatTensor:$operand, I64Attr:$axis);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = "$operand `axis` $axis attr-dict `:` type($operand)";
  let hasVerifier = 1;
}

def DLC_SoftmaxOp : DLC_SoftmaxLikeOp<"softmax", "Softmax">;
def DLC_LogSoftmaxOp : DLC_SoftmaxLikeOp<"log_softmax", "Log-softmax">;

def DLC_OneHotOp : DLC_Op<"one_hot", [Pure, InferTypeOpAdaptor,
                                      DLC_GradientOpInterfaceTrait]> {
  let summary = "One-hot encoding of integer labels held as floats";
  let description = [{
    Appends a dimension of size `classes`: element `[..., k]` is 1.0 where
    the label equals `k`, else 0.0 (a label outside `[0, classes)` gives a
    row of zeros). No gradient.

    ```mlir
    %h = dlc.one_hot %y classes 10 : tensor<?xf32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$labels,
                       ConfinedAttr<I64Attr, [IntPositive]>:$classes);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = "$labels `classes` $classes attr-dict `:` type($labels)";
}

def DLC_CrossEntropyOp : DLC_Op<"cross_entropy", [Pure, InferTypeOpAdaptor,
                                                  DLC_GradientOpInterfaceTrait]> {
  let summary = "Softmax cross-entropy with integer labels, averaged";
  let description = [{
    `mean_i(-log_softmax(logits)[i, labels[i]])` for logits `[batch, K]` and
    labels `[batch]` (class indices held as floats), as PyTorch's
    `F.cross_entropy`. The labels get no gradient.

    ```mlir
    %l = dlc.cross_entropy %z, %y : tensor<?x10xf32>, tensor<?xf32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$logits, DLC_FloatTensor:$labels);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = "$logits `,` $labels attr-dict `:` type($logits) `,` type($labels)";
}

def DLC_ArgmaxOp : DLC_Op<"argmax", [Pure, InferTypeOpAdaptor,
                                     DLC_GradientOpInterfaceTrait]> {
  let summary = "Index of the largest element along an axis, as a float";
  let description = [{
    Removes `axis`; the first index wins ties. No gradient.

    ```mlir
    %k = dlc.argmax %z axis 1 : tensor<?x10xf32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$operand, I64Attr:$axis);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = "$operand `axis` $axis attr-dict `:` type($operand)";
}

//===----------------------------------------------------------------------===//
// Linear algebra and layout
//===----------------------------------------------------------------------===//

def DLC_MatmulOp : DLC_Op<"matmul", [Pure, InferTypeOpAdaptor,
                                     DLC_GradientOpInterfaceTrait]> {
  let summary = "Matrix product (`@`)";
  let description = [{
    Matrix-matrix `[M,K] @ [K,N] -> [M,N]`, matrix-vector
    `[M,K] @ [K] -> [M]`, vector-matrix `[K] @ [K,N] -> [N]` and dot
    `[K] @ [K] -> []`, as in numpy for ranks 1 and 2.

    ```mlir
    %r = dlc.matmul %x, %w : tensor<?x4xf32>, tensor<4xf32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$lhs, DLC_FloatTensor:$rhs);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` type($lhs) `,` type($rhs)";
}

def DLC_TransposeOp : DLC_Op<"transpose", [Pure, InferTypeOpAdaptor,
                                           DLC_GradientOpInterfaceTrait]> {
  let summary = "Permutes the dimensions of a tensor";
  let description = [{
    Result dimension `i` is operand dimension `permutation[i]`.

    ```mlir
    %r = dlc.transpose %x [1, 0] : tensor<?x4xf32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$operand,
                       DenseI64ArrayAttr:$permutation);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = "$operand $permutation attr-dict `:` type($operand)";
}

def DLC_ReshapeOp : DLC_Op<"reshape", [Pure, DLC_GradientOpInterfaceTrait]> {
  let summary = "Gives a tensor a new shape with the same elements";
  let description = [{
    Row-major reshape. With a symbolic dimension, the reshape must only
    split or merge neighbouring dimensions (a collapse or an expansion).

    ```mlir
    %r = dlc.reshape %x : tensor<?xf32> -> tensor<?x1xf32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$operand);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = "$operand attr-dict `:` type($operand) `->` type($result)";
  let hasVerifier = 1;
}

def DLC_BroadcastOp : DLC_Op<"broadcast", [Pure, InferTypeOpAdaptor,
                                           DLC_GradientOpInterfaceTrait]> {
  let summary = "Broadcasts a tensor to the shape of another";
  let description = [{
    The result has the shape of `like` and the element type of `operand`.
    Operand dimension `i` becomes result dimension `dimensions[i]`; an operand
    dimension of static size 1 is repeated. Used by gradients of reductions.

    ```mlir
    %r = dlc.broadcast %g like %x [0] : tensor<?xf32>, tensor<?x4xf32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$operand, DLC_FloatTensor:$like,
                       DenseI64ArrayAttr:$dimensions);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = [{
    $operand `like` $like $dimensions attr-dict `:` type($operand) `,` type($like)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Convolution and pooling (NCHW)
//===----------------------------------------------------------------------===//

def DLC_Conv2DOp : DLC_Op<"conv2d", [Pure, InferTypeOpAdaptor,
                                     DLC_GradientOpInterfaceTrait]> {
  let summary = "2-D convolution, NCHW input and FCHW filter";
  let description = [{
    `out[n, f, y, x] = sum_{c, i, j} in[n, c, y*s + i*d - p, x*s + j*d - p]
    * filter[f, c, i, j]` with zero padding `p`, stride `s` and dilation `d`
    per spatial dimension (as PyTorch's `F.conv2d`, groups = 1).

    ```mlir
    %y = dlc.conv2d %x, %w stride [1, 1] padding [1, 1] dilation [1, 1]
        : tensor<?x1x8x8xf32>, tensor<16x1x3x3xf32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$input, DLC_FloatTensor:$filter,
                       DenseI64ArrayAttr:$stride, DenseI64ArrayAttr:$padding,
                       DenseI64ArrayAttr:$dilation);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $filter `stride` $stride `padding` $padding `dilation` $dilation
    attr-dict `:` type($input) `,` type($filter)
  }];
}

def DLC_Conv2DGradInputOp : DLC_Op<"conv2d_grad_input", [Pure,
    AllTypesMatch<["like", "result"]>]> {
  let summary = "Gradient of conv2d with respect to its input";
  let description = [{
    The transposed convolution of the output gradient with the filter, of the
    input's type (`like`). Built by conv2d's gradient rule.

    ```mlir
    %dx = dlc.conv2d_grad_input %g, %w like %x stride [1, 1] padding [1, 1]
        dilation [1, 1] : tensor<?x16x8x8xf32>, tensor<16x1x3x3xf32>, tensor<?x1x8x8xf32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$grad, DLC_FloatTensor:$filter,
                       DLC_FloatTensor:$like, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$padding, DenseI64ArrayAttr:$dilation);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = [{
    $grad `,` $filter `like` $like `stride` $stride `padding` $padding
    `dilation` $dilation attr-dict `:` type($grad) `,` type($filter) `,`
    type($like)
  }];
}

def DLC_Conv2DGradFilterOp : DLC_Op<"conv2d_grad_filter", [Pure,
    AllTypesMatch<["like", "result"]>]> {
  let summary = "Gradient of conv2d with respect to its filter";
  let description = [{
    `dfilter[f, c, i, j] = sum_{n, y, x} grad[n, f, y, x] *
    in[n, c, y*s + i*d - p, x*s + j*d - p]`, of the filter's type (`like`).

    ```mlir
    %dw = dlc.conv2d_grad_filter %x, %g like %w stride [1, 1] padding [1, 1]
        dilation [1, 1] : tensor<?x1x8x8xf32>, tensor<?x16x8x8xf32>, tensor<16x1x3x3xf32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$input, DLC_FloatTensor:$grad,
                       DLC_FloatTensor:$like, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$padding, DenseI64ArrayAttr:$dilation);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = [{
    $input `,` $grad `like` $like `stride` $stride `padding` $padding
    `dilation` $dilation attr-dict `:` type($input) `,` type($grad) `,`
    type($like)
  }];
}

def DLC_PoolKind : I64EnumAttr<"PoolKind", "",
    [I64EnumAttrCase<"max", 0>, I64EnumAttrCase<"avg", 1>]> {
  let cppNamespace = "::mlir::dlc";
}

def DLC_Pool2DOp : DLC_Op<"pool2d", [Pure, InferTypeOpAdaptor,
                                     DLC_GradientOpInterfaceTrait]> {
  let summary = "2-D max or average pooling, NCHW";
  let description = [{
    Max pooling pads with -inf; average pooling pads with zeros and divides
    by the window size (PyTorch's `count_include_pad=True`). Output sizes
    round down. The max gradient goes to every element equal to the
    window's maximum.

    ```mlir
    %y = dlc.pool2d max %x kernel [2, 2] stride [2, 2] padding [0, 0]
        : tensor<?x16x8x8xf32>
    ```
  }];
  let arguments = (ins DLC_PoolKind:$kind, DLC_FloatTensor:$input,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$padding);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = [{
    $kind $input `kernel` $kernel `stride` $stride `padding` $padding
    attr-dict `:` type($input)
  }];
}

def DLC_Pool2DGradOp : DLC_Op<"pool2d_grad", [Pure,
    AllTypesMatch<["input", "result"]>]> {
  let summary = "Gradient of pool2d with respect to its input";
  let description = [{
    Built by pool2d's gradient rule from the input, the pooled output and
    the output's gradient.

    ```mlir
    %dx = dlc.pool2d_grad max %x, %y, %g kernel [2, 2] stride [2, 2]
        padding [0, 0] : tensor<?x16x8x8xf32>, tensor<?x16x4x4xf32>,
        tensor<?x16x4x4xf32>
    ```
  }];
  let arguments = (ins DLC_PoolKind:$kind, DLC_FloatTensor:$input,
                       DLC_FloatTensor:$output, DLC_FloatTensor:$grad,
                       DenseI64ArrayAttr:$kernel, DenseI64ArrayAttr:$stride,
                       DenseI64ArrayAttr:$padding);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = [{
    $kind $input `,` $output `,` $grad `kernel` $kernel `stride` $stride
    `padding` $padding attr-dict `:` type($input) `,` type($output) `,`
    type($grad)
  }];
}

def DLC_ConcatOp : DLC_Op<"concat", [Pure, InferTypeOpAdaptor,
                                     DLC_GradientOpInterfaceTrait]> {
  let summary = "Joins tensors along an axis";
  let description = [{
    The operands have the same rank and sizes except along `axis`, which
    must be static (the batch is never concatenated).

    ```mlir
    %r = dlc.concat %a, %b axis 1 : tensor<?x3xf32>, tensor<?x2xf32>
    ```
  }];
  let arguments = (ins Variadic<DLC_FloatTensor>:$operands, I64Attr:$axis);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = "$operands `axis` $axis attr-dict `:` type($operands)";
}

def DLC_SliceOp : DLC_Op<"slice", [Pure, InferTypeOpAdaptor,
                                   DLC_GradientOpInterfaceTrait]> {
  let summary = "The elements start..end-1 along one static axis";
  let description = [{
    ```mlir
    %r = dlc.slice %x axis 1 start 0 end 2 : tensor<?x5xf32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$operand, I64Attr:$axis, I64Attr:$start,
                       I64Attr:$end);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = [{
    $operand `axis` $axis `start` $start `end` $end attr-dict `:` type($operand)
  }];
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class DLC_ReductionOp<string mnemonic, string what>
    : DLC_Op<mnemonic, [Pure, InferTypeOpAdaptor,
                        DLC_GradientOpInterfaceTrait]> {
  let summary = what # " over some or all dimensions";
  let description = what # " over the dimensions listed in `axes` (all "
    "dimensions when empty); `keepdims` keeps them with size 1.\n\n"
    "```mlir\n%r = dlc." # mnemonic # " %x axes [1] : tensor<?x4xf32>\n```";
  let arguments = (ins DLC_FloatTensor:$operand, DenseI64ArrayAttr:$axes,
                       UnitAttr:$keepdims);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = [{
    $operand `axes` $axes (`keepdims` $keepdims^)? attr-dict `:` type($operand)
  }];
}

def DLC_SumOp : DLC_ReductionOp<"sum", "Sum">;
def DLC_MeanOp : DLC_ReductionOp<"mean", "Arithmetic mean">;
def DLC_MaxOp : DLC_ReductionOp<"max", "Maximum (the gradient is shared by ties)">;
def DLC_MinOp : DLC_ReductionOp<"min", "Minimum (the gradient is shared by ties)">;

def DLC_SizeOp : DLC_Op<"size", [Pure, InferTypeOpAdaptor,
                                 DLC_GradientOpInterfaceTrait]> {
  let summary = "Number of elements along some dimensions, as a scalar";
  let description = [{
    The product of the sizes of the dimensions listed in `axes` (all when
    empty), as a 0-d tensor of the operand's element type. Symbolic sizes are
    read at run time. Its gradient is zero.

    ```mlir
    %n = dlc.size %x axes [0] : tensor<?x4xf32>
    ```
  }];
  let arguments = (ins DLC_FloatTensor:$operand, DenseI64ArrayAttr:$axes);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = "$operand `axes` $axes attr-dict `:` type($operand)";
}

//===----------------------------------------------------------------------===//
// Losses (mean over all elements; operands of the same shape)
//===----------------------------------------------------------------------===//

class DLC_LossOp<string mnemonic, string formula>
    : DLC_Op<mnemonic, [Pure, InferTypeOpAdaptor,
                        DLC_GradientOpInterfaceTrait]> {
  let description = "`mean(" # formula # ")` over all elements. Both "
    "operands must have the same shape (no broadcasting, so a `[batch, 1]` "
    "prediction is never silently compared against every `[batch]` target)."
    "\n\n```mlir\n%l = dlc." # mnemonic #
    " %pred, %target : tensor<?xf32>, tensor<?xf32>\n```";
  let arguments = (ins DLC_FloatTensor:$input, DLC_FloatTensor:$target);
  let results = (outs DLC_FloatTensor:$result);
  let assemblyFormat = "$input `,` $target attr-dict `:` type($input) `,` type($target)";
}

def DLC_MseOp : DLC_LossOp<"mse", "(input - target)^2"> {
  let summary = "Mean squared error";
}

def DLC_BceWithLogitsOp : DLC_LossOp<"bce_with_logits",
    "max(z, 0) - z * y + log(1 + exp(-|z|))"> {
  let summary = "Binary cross-entropy on logits (numerically stable)";
}

#endif // DLC_OPS_TD
