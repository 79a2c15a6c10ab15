"""The element-by-element check: every entry of the Jacobian, AD against the numerical engine.

Reverse mode builds the Jacobian a row at a time (one VJP per output
element), forward mode all columns in one batched sweep (``jacfwd``); the
reference is ``chainrule.numerical.jacobian`` of f in float64, one input at a
time. Costs 2n evaluations of f for n input elements: thorough, but for
large inputs the random-direction check is the cheap alternative.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule import numerical
from chainrule.backend import xp
from chainrule.subgradients import KinkReport, kinks
from chainrule.transforms import jacfwd, vjp

from .options import Options
from .report import Mismatch

__all__ = ["ad_jacobian", "as_float64", "compare", "numeric_jacobians", "one_sided"]


def as_float64(x: Any) -> Any:
    """A value of f (array, number or Tensor) as a float64 array."""
    return xp.asarray(getattr(x, "data", x), dtype=xp.float64)


def partial_function(f: Callable[..., Any], xs64: list[Any], j: int) -> Callable[[Any], Any]:
    """f as a function of its j-th input alone, the others held at their values."""
    def f_j(xj: Any) -> Any:
        args = list(xs64)
        args[j] = xj
        return as_float64(f(*args))

    return f_j


def numeric_jacobians(f: Callable[..., Any], xs64: list[Any],
                      opts: Options) -> list[numerical.Derivative]:
    """The numerical Jacobian of f with respect to each input, shape ``out.shape + x.shape``."""
    return [numerical.jacobian(partial_function(f, xs64, j), x, method=opts.method,
                               step=opts.step) for j, x in enumerate(xs64)]


def one_sided(f: Callable[..., Any], xs64: list[Any], j: int,
              central: numerical.Derivative) -> tuple[Any, Any]:
    """Backward and forward differences of input j at the central stencil's steps."""
    if xs64[j].size == 0:
        return central.value, central.value
    f_j = partial_function(f, xs64, j)
    left = numerical.jacobian(f_j, xs64[j], method="backward", step=central.step)
    right = numerical.jacobian(f_j, xs64[j], method="forward", step=central.step)
    return left.value, right.value


def ad_jacobian(f: Callable[..., Any], xs: list[Any], mode: str, kink_tol: float
                ) -> tuple[list[Any], KinkReport]:
    """f's Jacobian blocks (one per input) by ``mode``, and the kinks the evaluation touched."""
    with kinks(tol=kink_tol) as report:
        if mode == "reverse":
            blocks = _reverse(f, xs)
        else:
            blocks = _forward(f, xs)
    return [as_float64(b) for b in blocks], report


def _reverse(f: Callable[..., Any], xs: list[Any]) -> list[Any]:
    out, vjp_fn = vjp(f, *xs)
    out = xp.asarray(getattr(out, "data", out))
    blocks = [xp.zeros(out.shape + x.shape) for x in xs]
    for k in range(out.size):  # one row of the Jacobian per output element
        basis = xp.zeros(out.size, dtype=out.dtype)
        basis[k] = 1
        for j, g in enumerate(vjp_fn(basis.reshape(out.shape))):
            blocks[j].reshape(out.size, -1)[k] = as_float64(g).reshape(-1)
    return blocks


def _forward(f: Callable[..., Any], xs: list[Any]) -> list[Any]:
    if sum(x.size for x in xs) == 0:  # no tangent to push: the Jacobian is empty
        out = as_float64(f(*xs))
        return [xp.zeros(out.shape + x.shape) for x in xs]
    return list(jacfwd(f, argnums=tuple(range(len(xs))))(*xs))


def compare(mode: str, j: int, x_ndim: int, analytic: Any, numeric: numerical.Derivative,
            opts: Options, sides: tuple[Any, Any] | None) -> Mismatch | None:
    """The worst element of input j beyond tolerance, or None if every element agrees.

    An element agrees when ``|analytic - numeric| <= atol + rtol |numeric| +
    error_estimate`` (the engine's own estimate of its error). With ``sides``
    (the evaluation touched a kink) it also agrees when it lies between the
    backward and forward differences: a subgradient of the composite there.
    """
    value = xp.asarray(numeric.value, dtype=xp.float64)
    if analytic.size == 0:  # nothing to compare (the engine never calls f for an empty x)
        return None
    if value.shape != analytic.shape:
        raise ValueError(f"gradcheck: {mode} mode gives a Jacobian block of shape "
                         f"{analytic.shape} for input {j}, the numerical one has shape "
                         f"{value.shape}")
    bound = opts.atol + opts.rtol * xp.abs(value) + xp.asarray(numeric.error_estimate)
    excess = xp.abs(analytic - value) - bound
    if sides is not None:
        left, right = sides
        low, high = xp.minimum(left, right), xp.maximum(left, right)
        slack = opts.atol + opts.rtol * xp.maximum(xp.abs(low), xp.abs(high))
        inside = (analytic >= low - slack) & (analytic <= high + slack)
        excess = xp.where(inside, -1.0, excess)
    worst = int(xp.argmax(excess))
    if excess.reshape(-1)[worst] <= 0:
        return None
    index = tuple(int(i) for i in xp.unravel_index(worst, excess.shape))
    n_out = excess.ndim - x_ndim
    return Mismatch(
        mode, float(analytic[index]), float(value[index]), float(excess[index]), input=j,
        output_index=index[:n_out], input_index=index[n_out:],
        one_sided=None if sides is None else (float(sides[0][index]), float(sides[1][index])))
