//===- TilefuseOps.td - tilefuse operations ----------------*- tablegen -*-===//

#ifndef TILEFUSE_OPS_TD
#define TILEFUSE_OPS_TD

include "compiler/Dialect/TilefuseDialect.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/RegionKindInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/IR/BuiltinAttributes.td"

class Tilefuse_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tilefuse_Dialect, mnemonic, traits>;

def Tilefuse_FloatLike : AnyTypeOf<[F32, VectorOf<[F32]>]>;

//===----------------------------------------------------------------------===//
// tilefuse.matmul
//===----------------------------------------------------------------------===//

def Tilefuse_MatmulOp : Tilefuse_Op<"matmul", [
    SingleBlock, IsolatedFromAbove]> {
  let summary = "GEMM with a fused element-wise epilogue";
  let description = [{
    Describes one fused kernel:

      x      = alpha · (A · B) + bias[col] + beta · C          (single)
      gate   = A · W_gate,  up = A · W_up                      (gated)
      D[m,n] = epilogue(x | gate, up; params...)

    A is M×K row-major, B is K×N (`b_layout`: "row" or "col"), D is M×N in
    `output_type`. The op has no SSA operands: tensors are bound at launch.
    The region has one block whose arguments are the input(s) (`x`, or `gate`
    and `up` when `gated` is set) followed by one scalar per runtime parameter
    (`param_names`), then one per declared row input (`row_inputs`: a value
    per output row, e.g. a routing weight) and one per declared column input
    (`col_inputs`: a value per output column, e.g. a per-channel scale), all
    `f32` — or, after `tilefuse-vectorize-epilogue`, all `vector<Nxf32>` with
    N = `tile.vector_width` (the N lanes are consecutive columns of one row:
    a row input is the same in every lane). The block ends with
    `tilefuse.yield` of the result.

    A backward epilogue (made by `tilefuse-differentiate`) has `grad_wrt` set
    to the input it differentiates with respect to ("x", "gate" or "up"). Its
    block arguments are the incoming gradient `dy`, then the forward inputs
    and parameters as above, and it yields dy · ∂epilogue/∂grad_wrt. It reads
    no bias, residual or aux.

    Example:
    ```mlir
    tilefuse.matmul {input_type = bf16, output_type = bf16, b_layout = "row",
                     mode = "precise", param_names = ["a"], source = "leaky_relu(x, a)"} {
    ^bb0(%x: f32, %a: f32):
      %zero = arith.constant 0.0 : f32
      %pos = arith.cmpf ogt, %x, %zero : f32
      %neg = arith.mulf %a, %x : f32
      %y = arith.select %pos, %x, %neg : f32
      tilefuse.yield %y : f32
    }
    ```
  }];
  let arguments = (ins
    TypeAttr:$input_type,
    TypeAttr:$output_type,
    DefaultValuedStrAttr<StrAttr, "row">:$b_layout,
    DefaultValuedStrAttr<StrAttr, "precise">:$mode,
    DefaultValuedAttr<StrArrayAttr, "{}">:$param_names,
    DefaultValuedAttr<StrArrayAttr, "{}">:$row_inputs,
    DefaultValuedAttr<StrArrayAttr, "{}">:$col_inputs,
    UnitAttr:$gated,
    UnitAttr:$has_bias,
    UnitAttr:$has_residual,
    UnitAttr:$has_aux,
    OptionalAttr<Tilefuse_TileConfigAttr>:$tile,
    OptionalAttr<DenseI64ArrayAttr>:$shape_hint,
    DefaultValuedStrAttr<StrAttr, "">:$source,
    DefaultValuedStrAttr<StrAttr, "">:$grad_wrt
  );
  let regions = (region SizedRegion<1>:$epilogue);
  let assemblyFormat = "attr-dict-with-keyword $epilogue";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// True for a backward epilogue (tilefuse-differentiate's output).
    bool isBackward() { return !getGradWrt().empty(); }
    /// Inputs of the forward activation: 1 (x), or 2 (gate, up) if gated.
    unsigned getNumForwardInputs() { return getGated() ? 2 : 1; }
    /// Number of leading region arguments that are inputs: the forward
    /// inputs, preceded by the incoming gradient dy in a backward epilogue.
    unsigned getNumInputs() { return getNumForwardInputs() + (isBackward() ? 1 : 0); }
    /// Index of the first row-input block argument (after the parameters);
    /// the column inputs follow the row inputs.
    unsigned getFirstRowInputIndex() { return getNumInputs() + getParamNames().size(); }
    unsigned getFirstColInputIndex() { return getFirstRowInputIndex() + getRowInputs().size(); }
    ::mlir::Block &getBody() { return getEpilogue().front(); }
    YieldOp getYield();
  }];
}

def Tilefuse_YieldOp : Tilefuse_Op<"yield", [Pure, Terminator, HasParent<"MatmulOp">]> {
  let summary = "Result of the epilogue";
  let description = [{
    Terminates the epilogue region with the value stored to D: `f32` (or
    `vector<Nxf32>`) before output packing, or the packed output type
    (`bf16`, `f16`, or their vectors) after `tilefuse-vectorize-epilogue`.
  }];
  let arguments = (ins AnyType:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

//===----------------------------------------------------------------------===//
// Element-wise math beyond upstream `math`
//===----------------------------------------------------------------------===//

def Tilefuse_ErfcOp : Tilefuse_Op<"erfc", [Pure, ElementwiseMappable, SameOperandsAndResultType]> {
  let summary = "Complementary error function, erfc(x) = 1 - erf(x)";
  let description = [{
    Computed directly (not as 1 - erf) so that it stays accurate in the tail;
    GELU's erf form is written as 0.5·x·erfc(-x/√2) for that reason.
    CUDA: `erfcf`; CPU: libm `erfcf`.

    `%y = tilefuse.erfc %x : f32`
  }];
  let arguments = (ins Tilefuse_FloatLike:$operand);
  let results = (outs Tilefuse_FloatLike:$result);
  let assemblyFormat = "$operand attr-dict `:` type($result)";
}

def Tilefuse_ApproxOp : Tilefuse_Op<"approx", [Pure, ElementwiseMappable, SameOperandsAndResultType]> {
  let summary = "Hardware approximation of a special function (fast mode)";
  let description = [{
    Introduced by `tilefuse-choose-approximations` in `fast` mode. `fn` is one
    of the PTX `.approx` instructions; each carries the maximum relative error
    the PTX ISA documents, which the CPU evaluator reproduces as a worst-case
    model (the exact value with its significand truncated to `2^-bits`):

      fn      PTX                 bits
      exp2    ex2.approx.ftz.f32  22
      tanh    tanh.approx.f32     11
      rcp     rcp.approx.ftz.f32  23
      log2    lg2.approx.ftz.f32  22
      rsqrt   rsqrt.approx.f32    22
      sqrt    sqrt.approx.f32     23

    `%y = tilefuse.approx "tanh" %x : f32`
  }];
  let arguments = (ins StrAttr:$fn, Tilefuse_FloatLike:$operand);
  let results = (outs Tilefuse_FloatLike:$result);
  let assemblyFormat = "$fn $operand attr-dict `:` type($result)";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Documented precision of `fn` in bits (see table), or 0 if unknown.
    static int precisionBits(::llvm::StringRef fn);
  }];
}

#endif // TILEFUSE_OPS_TD
