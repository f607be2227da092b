#!/usr/bin/env bash
# The main demo: installs what is missing, builds, then compiles a few
# activations, prints their IR stages and CUDA, and evaluates them on the CPU.
# The build's progress goes to stderr, so `scripts/demo.sh > demo.txt` keeps
# only the demo's own output in the file while the terminal shows progress.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
if [[ -x build/tools/tilefuse/tilefuse ]]; then
  echo "demo: checking packages and the build (seconds when up to date), then the demo (under a minute)" >&2
else
  echo "demo: installs missing packages, builds tilefuse (a cold build takes about 10 minutes on a" \
       "2-core machine; progress below), then runs the demo (under a minute)" >&2
fi
scripts/setup.sh >&2
scripts/build.sh >&2
echo "demo: built after $((SECONDS - started)) s; running the demo" >&2
tf=build/tools/tilefuse/tilefuse

banner() { printf '\n=== %s ===\n' "$*"; }

banner 'QuickGELU written by hand: AST, tilefuse dialect, lowered IR'
for stage in ast mlir lowered; do
  echo "--- stage: $stage"
  $tf emit --expr 'x * sigmoid(1.702 * x)' --stage $stage
done

banner 'SwiGLU epilogue as CUDA (sm_90a, bf16 out)'
$tf emit --expr 'silu(gate) * up' --stage cuda --arch sm_90a

banner 'Mish in fast mode: the approximations chosen'
$tf emit --expr 'mish(x)' --stage lowered --mode fast

banner 'CPU evaluation of the lowered epilogue'
echo 'x*sigmoid(1.702*x) at x = -2, -1, 0, 1, 2:'
$tf eval --expr 'x*sigmoid(1.702*x)' --x=-2,-1,0,1,2
echo 'leaky_relu(x, a) with a = 0.2 at x = -5, 5:'
$tf eval --expr 'leaky_relu(x, a)' --param a=0.2 --x=-5,5
echo 'swiglu at (gate, up) = (1, 2), (-inf, 3):'
$tf eval --expr swiglu --gate=1,-inf --up=2,3

banner 'Numerical check against the float64 reference'
$tf check --expr gelu

elapsed=$((SECONDS - started))
echo "demo: done in $((elapsed / 60)) min $((elapsed % 60)) s" >&2
