"""Run a chainrule module and its PyTorch twin on the same weights and inputs.

Weights go across through ``state_dict`` (PyTorch's names must be ours),
both run in float64, and the outputs, the input gradients and every
parameter gradient of ``sum(output * w)`` (w random) are compared.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import chainrule as cr

torch.set_num_threads(1)  # these problems are tiny: a thread pool only costs time


def copy_from_torch(ours: cr.nn.Module, theirs: torch.nn.Module) -> None:
    """Load PyTorch's weights (and buffers) into ours, strictly: the names must match."""
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, (tuple, list)):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


def assert_close(actual: Any, expected: Any, what: str, rtol: float = 1e-10,
                 atol: float = 1e-12) -> None:
    actual = np.asarray(getattr(actual, "data", actual))
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy()
    assert actual.shape == tuple(np.shape(expected)), \
        f"{what}: shape {actual.shape} != {np.shape(expected)}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def compare(ours: cr.nn.Module, theirs: torch.nn.Module, *inputs: np.ndarray, seed: int = 0,
            grad_inputs: bool = True, copy: bool = True, rtol: float = 1e-10,
            atol: float = 1e-12, call: Any = None) -> None:
    """Same outputs and gradients (inputs and parameters) from both modules.

    ``call(module, *inputs)`` runs a module (default: ``module(*inputs)``);
    non-float inputs (indices) are passed as they are.
    """
    theirs = theirs.double()
    ours.double()
    if copy:
        copy_from_torch(ours, theirs)
    call = call or (lambda m, *xs: m(*xs))
    floats = [np.issubdtype(np.asarray(x).dtype, np.floating) for x in inputs]
    ours_in = [cr.tensor(x, requires_grad=grad_inputs) if f else x
               for x, f in zip(inputs, floats)]
    theirs_in = [torch.tensor(x, requires_grad=grad_inputs) if f else torch.as_tensor(x)
                 for x, f in zip(inputs, floats)]
    out = _leaves(call(ours, *ours_in))
    tout = _leaves(call(theirs, *theirs_in))
    assert len(out) == len(tout)
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal(np.shape(t.detach().numpy())) for t in tout]
    for i, (o, t) in enumerate(zip(out, tout)):
        assert_close(o, t, f"output {i}", rtol, atol)
    sum(cr.sum(o * w) for o, w in zip(out, weights)).backward()
    sum((t * torch.tensor(w)).sum() for t, w in zip(tout, weights)).backward()
    if grad_inputs:
        for i, (x, tx, f) in enumerate(zip(ours_in, theirs_in, floats)):
            if f:
                assert_close(x.grad, tx.grad, f"gradient of input {i}", rtol, atol)
    theirs_params = dict(theirs.named_parameters())
    names = [name for name, _ in ours.named_parameters()]
    assert names == list(theirs_params), f"parameter names {names} != {list(theirs_params)}"
    for name, p in ours.named_parameters():
        expected = theirs_params[name].grad
        if expected is None:
            expected = torch.zeros_like(theirs_params[name])
        assert p.grad is not None, f"no gradient for {name}"
        assert_close(p.grad, expected, f"gradient of {name}", rtol, atol)
