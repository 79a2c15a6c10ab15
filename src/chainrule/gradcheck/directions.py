"""The random-direction check: J v and u^T J v against one directional difference each.

For a random direction v (all inputs at once) the directional derivative
``d/dt f(x + t v)`` costs two evaluations of f whatever the size of x. Forward
mode must give it as ``J v`` (one JVP); reverse mode, for a random cotangent
u, must give ``u . d/dt f(x + t v)`` as ``<u^T J, v>`` (one VJP). So this is
the check that stays cheap for large inputs, and it also catches what basis
vectors cannot: a rule that is wrong only for tangents or cotangents other
than 0 and 1 (``dx**2`` in place of ``dx``). Directions and cotangents are
drawn from ``numpy.random.default_rng(seed)`` and scaled to unit length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from chainrule import numerical
from chainrule.backend import xp
from chainrule.subgradients import KinkReport, kinks
from chainrule.transforms import jvp, vjp

from .elementwise import as_float64
from .options import Options
from .report import Mismatch

__all__ = ["check_directions"]


def _unit(rng: Any, shapes: list[tuple[int, ...]], dtypes: list[Any]) -> list[Any]:
    """Random arrays of these shapes, of unit total 2-norm, rounded to their dtypes."""
    parts = [rng.standard_normal(shape) for shape in shapes]
    norm = float(xp.sqrt(sum(float(xp.sum(p * p)) for p in parts))) or 1.0
    return [(p / norm).astype(d) for p, d in zip(parts, dtypes)]


def _flat_function(f: Callable[..., Any], xs64: list[Any]) -> Callable[[Any], Any]:
    """f of all inputs flattened into one vector (the directional stencil moves them all)."""
    bounds = xp.cumsum([0] + [x.size for x in xs64])

    def f_flat(z: Any) -> Any:
        args = [z[lo:hi].reshape(x.shape) for lo, hi, x in zip(bounds[:-1], bounds[1:], xs64)]
        return as_float64(f(*args))

    return f_flat


def check_directions(f: Callable[..., Any], xs: list[Any], xs64: list[Any],
                     opts: Options) -> Iterator[tuple[Mismatch, KinkReport]]:
    """(Mismatch, kinks touched) per direction and mode that disagrees, in order of direction.

    At a kink one-sided directional derivatives bound a subgradient only when
    the kinks are separable, so when the element-by-element check ran (it
    handles kinks one coordinate at a time) a direction whose evaluation
    touched a kink is not compared; without it, the AD value must lie between
    the backward and forward directional differences.
    """
    rng = xp.random.default_rng(opts.seed)
    z = xp.concatenate([x.reshape(-1) for x in xs64])
    f_flat = _flat_function(f, xs64)
    scale = max(1.0, float(xp.max(xp.abs(z), initial=0.0)))
    for k in range(opts.random_directions):
        vs = _unit(rng, [x.shape for x in xs], [x.dtype for x in xs])
        v = xp.concatenate([as_float64(p).reshape(-1) for p in vs])
        size = float(xp.max(xp.abs(v), initial=0.0)) or 1.0
        move = opts.step if opts.step is not None else float(numerical.auto_step(0.0)) * scale
        derivative = numerical.directional_derivative(f_flat, z, v, method=opts.method,
                                                      step=move / size)
        value = xp.asarray(derivative.value, dtype=xp.float64)
        error = xp.asarray(derivative.error_estimate, dtype=xp.float64)
        u = _unit(rng, [value.shape], [xp.float64])[0]
        sides = None
        for mode in opts.modes:
            with kinks(tol=move) as report:
                analytic = _ad_value(f, xs, vs, u, mode)
            if report:
                if opts.elementwise:
                    continue
                if sides is None:
                    sides = [as_float64(numerical.directional_derivative(
                        f_flat, z, v, method=m, step=move / size)) for m in ("backward", "forward")]
            found = _compare(mode, k, analytic, value, error, u, opts, sides if report else None)
            if found is not None:
                yield found, report


def _ad_value(f: Callable[..., Any], xs: list[Any], vs: list[Any], u: Any, mode: str) -> Any:
    """J v (forward) or <u^T J, v> (reverse), in float64."""
    if mode == "forward":
        _, tangent = jvp(f, tuple(xs), tuple(vs))
        return as_float64(tangent)
    out, vjp_fn = vjp(f, *xs)
    out = xp.asarray(getattr(out, "data", out))
    cotangents = vjp_fn(u.astype(out.dtype).reshape(out.shape))
    return xp.asarray(sum(float(xp.vdot(as_float64(g), as_float64(p)))
                          for g, p in zip(cotangents, vs)))


def _compare(mode: str, k: int, analytic: Any, value: Any, error: Any, u: Any, opts: Options,
             sides: list[Any] | None) -> Mismatch | None:
    if mode == "reverse":  # both sides contracted with u: a single number
        value = xp.asarray(xp.vdot(u, value))
        error = xp.asarray(xp.vdot(xp.abs(u), error))
        if sides is not None:
            sides = [xp.asarray(xp.vdot(u, s)) for s in sides]
    if analytic.shape != value.shape:
        raise ValueError(f"gradcheck: {mode} mode gives shape {analytic.shape} along a "
                         f"direction, the numerical derivative has shape {value.shape}")
    if value.size == 0:
        return None
    excess = xp.abs(analytic - value) - (opts.atol + opts.rtol * xp.abs(value) + error)
    if sides is not None:
        low, high = xp.minimum(*sides), xp.maximum(*sides)
        slack = opts.atol + opts.rtol * xp.maximum(xp.abs(low), xp.abs(high))
        excess = xp.where((analytic >= low - slack) & (analytic <= high + slack), -1.0, excess)
    worst = int(xp.argmax(excess))
    if excess.reshape(-1)[worst] <= 0:
        return None
    index = tuple(int(i) for i in xp.unravel_index(worst, excess.shape))
    return Mismatch(mode, float(analytic[index]), float(value[index]), float(excess[index]),
                    output_index=index, direction=k,
                    one_sided=None if sides is None else (float(sides[0][index]),
                                                          float(sides[1][index])))
