"""PyTorch references and the torch_eager / torch_compile peers.

x is M x K, weights are nn.Linear weights (N x K); gated activations take
two weights (W_gate, W_up), like the tilefuse op with two weight matrices.
"""
import torch
import torch.nn.functional as F

from workload import MISH_TEXT


def activation_fn(name):
    """act(z) for a single-input activation, act(gate, up) for a gated one (torch ops)."""
    table = {
        "relu": F.relu,
        "gelu": F.gelu,  # erf form, as tilefuse's gelu
        "gelu_tanh": lambda z: F.gelu(z, approximate="tanh"),
        "silu": F.silu,
        MISH_TEXT: lambda z: z * torch.tanh(F.softplus(z)),  # written out, as a user would
        "swiglu": lambda g, u: F.silu(g) * u,
        "geglu": lambda g, u: F.gelu(g) * u,
    }
    return table[name]


def eager_fn(name, gated):
    """The unfused path users write: GEMM(s) in bf16, then the activation as separate kernels."""
    act = activation_fn(name)
    if gated:
        return lambda x, w_gate, w_up: act(x @ w_gate.t(), x @ w_up.t())
    return lambda x, w: act(x @ w.t())


def compiled_fn(name, gated):
    """torch.compile(mode="max-autotune") of the same function: Inductor may fuse the
    activation into a Triton GEMM template's epilogue; it autotunes GEMM backends."""
    return torch.compile(eager_fn(name, gated), mode="max-autotune", dynamic=False, fullgraph=True)


def reference(name, gated, x, weights):
    """float64 reference of the same layer (on the GPU: float64 GEMMs are exact enough and fast
    enough at these sizes; inputs are the bf16 values themselves)."""
    act = activation_fn(name)
    x64 = x.double()
    if gated:
        return act(x64 @ weights[0].double().t(), x64 @ weights[1].double().t())
    return act(x64 @ weights[0].double().t())
