//===- Passes.td - tilefuse pass definitions ---------------*- tablegen -*-===//
//
// The passes of the tilefuse pipeline, in pipeline order (see
// PassPipeline.h). Each runs on the module and transforms the epilogue
// region of every `tilefuse.matmul` in it.
//
//===----------------------------------------------------------------------===//
#ifndef TILEFUSE_PASSES_TD
#define TILEFUSE_PASSES_TD

include "mlir/Pass/PassBase.td"

def InlineBuiltins : Pass<"tilefuse-inline-builtins", "::mlir::ModuleOp"> {
  let summary = "Inline calls to built-in activation functions into epilogues";
  let description = [{
    The AST lowering emits one `func.func private @tf_builtin_<name>` per
    built-in the expression uses and calls it with `func.call`. This pass
    inlines every call inside a `tilefuse.matmul` region (repeatedly, since a
    built-in may call other built-ins), then erases the private functions left
    without uses. Afterwards the epilogue is one straight-line block that
    canonicalize and CSE can optimize across former call boundaries.

    Before:
    ```mlir
    func.func private @tf_builtin_relu(%x: f32) -> f32 { ... }
    tilefuse.matmul {...} {
    ^bb0(%x: f32):
      %y = func.call @tf_builtin_relu(%x) : (f32) -> f32
      tilefuse.yield %y : f32
    }
    ```
    After: the body of `@tf_builtin_relu` in place of the call, no function.

    Fails on a call to an unknown or external function, or on recursion.
  }];
  let dependentDialects = ["::mlir::func::FuncDialect"];
}

def Simplify : Pass<"tilefuse-simplify", "::mlir::ModuleOp"> {
  let summary = "Algebraic simplifications that are exact under IEEE-754";
  let description = [{
    Rewrites epilogue arithmetic only where the result is identical for every
    f32 input, including ±0, ±inf, NaN and subnormals (round-to-nearest):

      x / c        → x * (1/c)   when c is a power of two whose reciprocal is
                                 a normal f32 (both sides round the same
                                 exact value x·2^-k once)
      x - (-y)     → x + y       (subtraction is addition of the negation)
      x + (-y)     → x - y
      (-x) * c     → x * (-c)    for a constant c (rounding is sign-symmetric)
      (-x) / c     → x / (-c)    for a constant c
      -(x * c)     → x * (-c)    for a constant c, if x * c has no other use
      -(x / c)     → x / (-c)    likewise
      (-x) * (-y)  → x * y
      |(-x)|       → |x|
      pow(x, 0)    → 1           (C/IEEE pow: 1 for every x, NaN included)
      pow(x, 1)    → x
      pow(x, -1)   → 1 / x       (the exact value 1/x, rounded once)
      pow(x, 2)    → x * x       (the exact value x², rounded once)
      pow(x, 3)    → (x * x) * x special values agree (±0, ±inf, NaN); the
                                 two roundings are within 1 ulp, tighter than
                                 powf itself (2 ulp in CUDA), so not bit-exact
                                 against a correctly rounded x³ but never
                                 worse than the op it replaces.

    Rewrites the pass deliberately does NOT do (each has a counterexample):

      x + 0.0 → x          (-0 + 0 = +0)
      x * 0.0 → 0          (inf * 0 = NaN, -1 * 0 = -0)
      x - x   → 0          (inf - inf = NaN)
      x / x   → 1          (0/0, inf/inf)
      pow(x, 0.5) → sqrt(x) (pow(-0, .5) = +0 but sqrt(-0) = -0; pow(-inf, .5) = inf)
      sqrt(x * x) → |x|    (x * x overflows)
      x / c → x * (1/c)    for c not a power of two (1/c is rounded)

    Identities that upstream folders already handle (x * 1, x / 1, x - 0,
    x + (-0), -(-x)) are applied too, because the greedy driver folds.
  }];
}

def Differentiate : Pass<"tilefuse-differentiate", "::mlir::ModuleOp"> {
  let summary = "Replace each forward epilogue by its backward epilogue(s)";
  let description = [{
    For a forward `tilefuse.matmul` computing y = f(x; params) (or
    y = f(gate, up; params)), builds one backward matmul per input, tagged
    `grad_wrt = "x"` (or "gate" and "up"), whose region takes the incoming
    gradient `dy` before the forward arguments and yields dy · ∂f/∂input.
    The forward matmul is erased. Runs on the inlined scalar region (after
    tilefuse-inline-builtins, before tilefuse-choose-approximations so the
    derivative gets fast-mode approximations too, and before vectorization).

    Method: forward-mode (tangent) propagation over the straight-line
    region, one sweep per input, seeding the input's tangent with 1. The
    primal values are cloned and REUSED by the derivative (e.g. for
    d/dx erfc(u) the same u, for exp the forward exp(u) itself); CSE then
    merges what the sweeps share. Forward mode rather than reverse mode
    because the region has one output and at most two inputs, and because a
    select then chooses between the branches' tangents instead of feeding a
    zero adjoint into the untaken branch (0 · inf = NaN there).

    Rules (t(v) = tangent, primal values reused):
      a ± b, -a          t(a) ± t(b), -t(a)
      a · b              t(a)·b + a·t(b)
      a / b              (t(a) - y·t(b)) / b
      exp, exp2          y·t, y·ln2·t          expm1   exp(a)·t (not y + 1,
                                                 which rounds e^a to 1's ulp)
      log, log2, log1p   t/a, t/(a·ln2), t/(1 + a)
      sqrt, rsqrt        t/(2y), -y³/2·t
      tanh               sech²(a)·t = 4e/(1+e)²·t, e = exp(-2|a|)
                         (not 1 - y², which cancels for |a| > 4)
      erf, erfc          ±2/√π·exp(-a²)·t
      pow(a, b)          b·a^(b-1)·t(a) + y·log(a)·t(b)
      tilefuse.approx    the same rules on the approximated values
      cmpf, uitofp       no tangent (piecewise constant)

    Robust products: where a primal factor may be infinite and the
    tangent is exactly 0 (it underflowed: e.g. x · d/dx erfc(-x/√2) at
    x = +inf), the product is 0, not NaN: p·t becomes select(t == 0, t, p·t)
    unless one factor is a constant; t/p likewise.

    Kinks and branches (documented convention): the pass returns the
    derivative from the LEFT (the limit as the input approaches from below).
    It is the one convention under which one-sided derivatives compose by
    the chain rule, so smooth functions written with kinks inside (the
    library's sigmoid uses exp(-|x|), softplus max(x, 0)) still get their
    true derivative. A select whose condition compares p and q uses, where
    p == q, the branch the comparison takes just left of the point (decided
    by the tangents of p and q); max/min/abs at a tie take the tangent of
    the operand that wins just left. Hence relu'(0) = 0, leaky_relu'(0) = a
    and elu'(0) = a (as PyTorch), step'(x) = 0, |x|' at 0 = -1,
    clamp(x, lo, hi)' is 0 at lo and 1 at hi.

    Non-finite inputs: the derivative of the input being NaN is NaN (a
    final select); at ±inf it is the limit the formulas reach (robust
    products above), e.g. silu'(+inf) = 1, gelu'(-inf) = 0.

    Fails on an op without a rule (naming it), on a vectorized or already
    backward epilogue, and on a call left uninlined.
  }];
}

def ChooseApproximations : Pass<"tilefuse-choose-approximations", "::mlir::ModuleOp"> {
  let summary = "Replace special functions by hardware approximations in fast mode";
  let description = [{
    Reads each `tilefuse.matmul`'s `mode`. In "precise" mode nothing changes.
    In "fast" mode:

      math.exp(x)    → approx "exp2"(x * log2(e))   (exp(-y): y * -log2(e);
                                                     exp(y * c): y * (c·log2(e)))
      math.exp2(x)   → approx "exp2"(x)
      math.tanh(x)   → approx "tanh"(x)
      a / b          → a * approx "rcp"(b)
      a / c          → a * (1/c)      for a normal constant c with a normal 1/c
                                       (within 1.5 ulp of a / c, no SFU op)
      math.log(x)    → approx "log2"(x) * ln(2)
      math.log2(x)   → approx "log2"(x)
      math.rsqrt(x)  → approx "rsqrt"(x)
      math.sqrt(x)   → approx "sqrt"(x)

    erf, erfc, log1p, expm1 and powf stay precise: their hardware-friendly
    forms lose accuracy near zero where activations are sensitive.

    ```mlir
    %y = math.tanh %x : f32
    // becomes
    %y = tilefuse.approx "tanh" %x : f32
    ```
  }];
}

def SelectTileConfig : Pass<"tilefuse-select-tile-config", "::mlir::ModuleOp"> {
  let summary = "Attach the target's default tile configuration to each matmul";
  let description = [{
    A `tilefuse.matmul` without a `tile` attribute gets
    `make_target(arch)->default_tile(shape_hint)` (zeros when there is no
    hint). A `tile` set earlier (e.g. forced by the autotuner) is kept. CUDA
    emission reads the tile only from the IR.
  }];
  let options = [
    Option<"arch", "arch", "std::string", /*default=*/"\"sm_80\"",
           "Target architecture: sm_80, sm_86, sm_89, sm_90 or sm_90a">,
  ];
}

def VectorizeEpilogue : Pass<"tilefuse-vectorize-epilogue", "::mlir::ModuleOp"> {
  let summary = "Vectorize the epilogue over the accumulator fragment";
  let description = [{
    Rewrites the epilogue to compute on `vector<Nxf32>` with N =
    `tile.vector_width` (a matmul must have a tile first): block arguments are
    retyped, constants splatted, every element-wise op retyped (i1 results
    become `vector<Nxi1>`). For a bf16 or f16 output the yielded value is
    converted with one `arith.truncf` to `vector<Nxbf16>` / `vector<Nxf16>`,
    which the CUDA emitter maps to the packed conversion (cvt.rn.bf16x2.f32);
    f32 outputs yield the f32 vector. N = 1 still uses `vector<1xf32>`.

    ```mlir
    ^bb0(%x: f32):
      %c = arith.constant 2.0 : f32
      %y = arith.mulf %x, %c : f32
      tilefuse.yield %y : f32
    // becomes (tile.vector_width = 2, output_type = bf16)
    ^bb0(%x: vector<2xf32>):
      %c = arith.constant dense<2.0> : vector<2xf32>
      %y = arith.mulf %x, %c : vector<2xf32>
      %p = arith.truncf %y : vector<2xf32> to vector<2xbf16>
      tilefuse.yield %p : vector<2xbf16>
    ```

    Fails on an op that is not element-wise (it could not be vectorized).
  }];
}

#endif // TILEFUSE_PASSES_TD
