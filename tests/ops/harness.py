"""The per-primitive spec table's machinery: one spec, every check.

A spec names a chainrule function, its PyTorch twin, the shapes of its
arguments (broadcasting ones included) and the domain its values are drawn
from, away from poles and kinks. The checks compare values, first and
second derivatives with PyTorch in float64, reverse mode with central
differences, and every JVP rule with central differences and with its VJP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

import chainrule as cr
from chainrule.core.primitive import registry


@dataclass
class Spec:
    name: str
    fn: Callable[..., Any]  # chainrule: arrays or tensors in
    torch_fn: Callable[..., Any]
    shapes: list[tuple[tuple[int, ...], ...]]  # argument shapes per case
    domain: tuple[float, float] = (-2.0, 2.0)
    domains: tuple[tuple[float, float], ...] | None = None  # per argument, overrides domain
    rtol: float = 1e-10
    atol: float = 1e-12
    second_order: bool = True
    numeric: bool = True  # False where float32 rounding defeats central differences
    gradcheck_tol: float = 1e-5
    make_args: Callable[[np.random.Generator, tuple], list[np.ndarray]] | None = None
    primitives: tuple[str, ...] = ()  # names in the registry this spec covers
    extra: dict = field(default_factory=dict)

    def args(self, rng: np.random.Generator, case: int) -> list[np.ndarray]:
        shapes = self.shapes[case % len(self.shapes)]
        if self.make_args is not None:
            return self.make_args(rng, shapes)
        out = []
        for i, shape in enumerate(shapes):
            lo, hi = self.domains[i] if self.domains else self.domain
            out.append(rng.uniform(lo, hi, size=shape))
        return out


def to_torch(args: list[np.ndarray], requires_grad: bool = True) -> list[torch.Tensor]:
    return [torch.tensor(a, dtype=torch.float64, requires_grad=requires_grad) for a in args]


def assert_close(actual: Any, expected: Any, rtol: float, atol: float, what: str) -> None:
    actual = np.asarray(getattr(actual, "data", actual), dtype=np.float64)
    if isinstance(expected, torch.Tensor):
        expected = expected.detach().numpy(force=True)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol, err_msg=what)


def check_value_and_grad(spec: Spec, args: list[np.ndarray]) -> None:
    """Value and every argument's gradient of sum(f * w) equal PyTorch's."""
    rng = np.random.default_rng(1)
    ts = [cr.tensor(a, requires_grad=True) for a in args]
    out = spec.fn(*ts)
    weight = rng.standard_normal(np.shape(out.data))
    if out.requires_grad:
        (out * weight).sum().backward()
    else:  # piecewise constant (floor, sign): no graph; every engine's derivative is 0
        nums = tuple(range(len(args)))
        zeros = cr.grad(lambda *xs: cr.sum(spec.fn(*xs) * weight), argnums=nums)(*args)
        for t, z in zip(ts, zeros):
            assert np.shape(z) == t.shape and not np.any(z), f"{spec.name}: nonzero {z}"
            t.grad = cr.tensor(z)

    tt = to_torch(args)
    tout = spec.torch_fn(*tt)
    assert_close(out, tout, spec.rtol, spec.atol, f"{spec.name} value")
    tloss = (tout * torch.tensor(weight)).sum()
    if tloss.requires_grad:
        tloss.backward()
    for i, (t, tref) in enumerate(zip(ts, tt)):
        expected = tref.grad if tref.grad is not None else torch.zeros_like(tref)
        if t.grad is None:  # no path recorded (through sign, floor): only right if torch's is 0
            assert not torch.any(expected), f"{spec.name}: no gradient for argument {i}"
            continue
        assert t.grad.dtype == t.dtype, f"{spec.name}: gradient dtype {t.grad.dtype}"
        assert_close(t.grad, expected, spec.rtol, spec.atol, f"{spec.name} grad of arg {i}")


def check_second_order(spec: Spec, args: list[np.ndarray]) -> None:
    """d/dx <grad f(x), v> (a Hessian-vector product) equals PyTorch's."""
    rng = np.random.default_rng(2)
    ts = [cr.tensor(a, requires_grad=True) for a in args]
    out = spec.fn(*ts)
    weight = rng.standard_normal(np.shape(out.data))
    directions = [rng.standard_normal(np.shape(a)) for a in args]
    if not out.requires_grad:  # a constant: PyTorch's second derivative must be 0 too
        firsts = [None] * len(ts)
    else:
        firsts = _grads(lambda: (out * weight).sum(), ts)
    inner = sum((g * d).sum() for g, d in zip(firsts, directions) if g is not None)
    seconds = _grads(lambda: inner, ts) if getattr(inner, "requires_grad", False) else None

    tt = to_torch(args)
    tout = spec.torch_fn(*tt)
    tloss = (tout * torch.tensor(weight)).sum()
    if not tloss.requires_grad:
        return
    tfirst = torch.autograd.grad(tloss, tt, create_graph=True, allow_unused=True)
    tinner = sum((g * torch.tensor(d)).sum() for g, d in zip(tfirst, directions)
                 if g is not None)
    if not isinstance(tinner, torch.Tensor) or not tinner.requires_grad:
        assert seconds is None or all(s is None or np.allclose(s.data, 0) for s in seconds)
        return
    tsecond = torch.autograd.grad(tinner, tt, allow_unused=True)
    for i, ts_i in enumerate(tsecond):
        expected = ts_i if ts_i is not None else torch.zeros_like(tt[i])
        actual = seconds[i] if seconds is not None and seconds[i] is not None else np.zeros(
            np.shape(args[i]))
        assert_close(actual, expected, spec.rtol * 100, spec.atol * 100,
                     f"{spec.name} second derivative, arg {i}")


def _grads(make_out: Callable[[], Any], ts: list) -> list:
    for t in ts:
        t.grad = None
    make_out().backward(create_graph=True)
    return [t.grad for t in ts]


def jvp_by_rules(spec: Spec, args: list[np.ndarray], tangents: list[np.ndarray]) -> np.ndarray:
    """The output tangent from the JVP rules of the primitive(s) the spec wraps.

    Only for specs that wrap exactly one primitive call: ``fn`` is re-run on
    a recording tensor to find the node, then the node's JVP rules are
    applied to the tangents on plain arrays.
    """
    ts = [cr.tensor(a, requires_grad=True) for a in args]
    out = spec.fn(*ts)
    node = out._node
    total = np.zeros(np.shape(out.data))
    if node is None:  # a primitive without rules: a constant, tangent 0
        assert not out.requires_grad
        return total
    index = {id(t): i for i, t in enumerate(ts)}
    for j in node.needs:
        rule = node.prim.jvps[j]
        if rule is None:
            continue
        dx = tangents[index[id(node.inputs[j])]]
        contribution = rule(dx, node.out, *node.args, **node.params)
        if contribution is not None:
            total = total + np.broadcast_to(contribution, total.shape)
    return total


def check_jvp(spec: Spec, args: list[np.ndarray]) -> None:
    """JVP rules agree with central differences and with the VJP (dot-product test)."""
    rng = np.random.default_rng(3)
    tangents = [rng.standard_normal(np.shape(a)) for a in args]
    jvp = jvp_by_rules(spec, args, tangents)
    h = 1e-6
    plus = np.asarray(cr.tensor(0.0) + spec.fn(*[a + h * t for a, t in zip(args, tangents)]))
    minus = np.asarray(cr.tensor(0.0) + spec.fn(*[a - h * t for a, t in zip(args, tangents)]))
    numeric = (plus - minus) / (2 * h)
    np.testing.assert_allclose(jvp, numeric, rtol=1e-5, atol=1e-6,
                               err_msg=f"{spec.name}: JVP vs central differences")
    weight = rng.standard_normal(np.shape(jvp))
    _, vjp_fn = cr.vjp(spec.fn, *args)
    cotangents = vjp_fn(weight)
    lhs = float(np.sum(weight * jvp))
    rhs = float(sum(np.sum(c * t) for c, t in zip(cotangents, tangents)))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-10,
                               err_msg=f"{spec.name}: <g, J dx> != <J^T g, dx>")


def registered_primitives() -> set[str]:
    return set(registry)
