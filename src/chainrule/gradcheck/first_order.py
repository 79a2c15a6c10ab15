"""``gradcheck``: reverse and forward mode against the numerical engine.

Two checks, each in every requested mode: element by element (the whole
Jacobian, 2n evaluations of f) and along a few seeded random directions (two
evaluations each). The first disagreement, in the order of ``modes``, is
raised as a :class:`GradcheckError` naming the mode, the element and both
values, with a line on how the other modes fared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from chainrule.backend import xp
from chainrule.subgradients import KinkReport

from .directions import check_directions
from .elementwise import ad_jacobian, compare, numeric_jacobians, one_sided
from .options import MODES, Options, prepare_inputs, resolve_options
from .report import GradcheckError, Mismatch

__all__ = ["gradcheck", "run_checks"]


def gradcheck(f: Callable[..., Any], *inputs: Any, eps: float | None = None,
              atol: float | None = None, rtol: float | None = None,
              modes: str | Sequence[str] = MODES, random_directions: int = 2,
              elementwise: bool = True, method: str = "central", seed: int = 0) -> bool:
    """Check the derivatives of ``f`` at ``inputs``: AD against finite differences.

    Returns True, or raises :class:`GradcheckError` naming the mode that
    failed, the worst element (input, output index, input index) and both
    values; its ``mismatch`` attribute holds them as numbers.

    - ``modes``: ``"reverse"`` (VJPs) and/or ``"forward"`` (JVPs); both by default.
    - ``elementwise``: compare every entry of the Jacobian (reverse mode one
      VJP per output element, forward mode one batched ``jacfwd``) with
      ``chainrule.numerical.jacobian``: 2n evaluations of f for n input elements.
    - ``random_directions``: also compare ``J v`` (forward) and ``u^T J v``
      (reverse) with ``d/dt f(x + t v)`` for this many random unit directions
      v and cotangents u from ``numpy.random.default_rng(seed)``; two
      evaluations each, whatever the size of x. For large inputs use
      ``elementwise=False, random_directions=3``.
    - ``eps``: the finite-difference step (default: the engine's automatic
      step, ``eps**(1/3) * max(1, |x|)`` per element for central differences);
      ``method``: any ``chainrule.numerical`` method (default ``"central"``).
    - ``atol``, ``rtol``: an entry agrees when ``|ad - numeric| <= atol + rtol
      |numeric| + e``, ``e`` the engine's estimate of its own error. The
      defaults follow the least precise input dtype (see
      ``default_tolerances``): 1e-5 and 1e-4 for float64, 3.5e-4 and 3.5e-3
      for float32. AD runs in the inputs' dtypes; the numerical reference
      always in float64. Non-floating inputs are taken as float64.

    At a kink (the evaluation came within a step of one, see ``cr.kinks``)
    central differences give the midpoint of the one-sided slopes, which no
    convention has to match: an element then also passes if it lies between
    the backward and forward differences, a subgradient of the composite
    along that axis. Random directions that touch a kink are then left to the
    element check (a direction mixes the sides of several kinks, which no
    single subgradient has to match); with ``elementwise=False`` they are
    compared with the one-sided directional differences instead, which can
    reject a valid subgradient when several kinks are touched at once. f
    raising or returning NaN at a stencil point raises the engine's
    ``EvaluationError`` naming the point.

    >>> import numpy as np, chainrule as cr
    >>> cr.gradcheck(lambda x: cr.sin(x) * x, np.array([0.5, 1.5]))
    True
    >>> cr.gradcheck(cr.relu, np.array([0.0, 1.0]))   # relu'(0) = 0 lies in [0, 1]
    True
    >>> cr.gradcheck(lambda x: cr.sum(x ** 2), np.ones(1000, dtype=np.float32),
    ...              elementwise=False, random_directions=3)
    True
    """
    xs = prepare_inputs(inputs, "gradcheck")
    opts = resolve_options(xs, "gradcheck", eps=eps, atol=atol, rtol=rtol, modes=modes,
                           random_directions=random_directions, elementwise=elementwise,
                           method=method, seed=seed)
    run_checks(f, xs, opts, "gradcheck")
    return True


def run_checks(f: Callable[..., Any], xs: list[Any], opts: Options, name: str,
               mode_names: dict[str, str] | None = None) -> None:
    """Every requested check of f at xs; raises GradcheckError on the first failing mode."""
    mode_names = mode_names or {}
    xs64 = [xp.asarray(x, dtype=xp.float64) for x in xs]
    failures: dict[str, tuple[Mismatch, KinkReport | None]] = {}
    broken: dict[str, str] = {}
    if opts.elementwise:
        numeric = numeric_jacobians(f, xs64, opts)
        kink_tol = max((float(xp.max(d.step, initial=0.0)) for d in numeric), default=0.0)
        sides: dict[int, tuple[Any, Any]] = {}
        for mode in opts.modes:
            try:
                blocks, report = _guarded(ad_jacobian, name, mode, opts, f, xs, mode, kink_tol)
            except Exception as exc:
                if not failures:
                    raise
                broken[mode] = f"{type(exc).__name__}: {exc}"  # told beside the failure
                continue
            for j, (block, reference) in enumerate(zip(blocks, numeric)):
                if report and j not in sides:
                    sides[j] = one_sided(f, xs64, j, reference)
                found = compare(mode, j, xs64[j].ndim, block, reference, opts,
                                sides.get(j) if report else None)
                if found is not None:
                    failures[mode] = (found, report)
                    break
    if not failures and opts.random_directions:
        directions = _guarded(lambda: list(check_directions(f, xs, xs64, opts)), name, "", opts)
        for found, report in directions:
            failures.setdefault(found.mode, (found, report))
    if failures:
        _raise(failures, broken, opts, name, mode_names)


def _guarded(run: Callable[..., Any], name: str, mode: str, opts: Options, *args: Any) -> Any:
    """``run(*args)``, with a note on errors saying which check raised and how to skip it."""
    try:
        return run(*args)
    except Exception as exc:
        if hasattr(exc, "add_note"):  # Python 3.11+
            which = f"{mode} mode" if mode else "the random-direction check"
            exc.add_note(f"{name}: raised while checking {which}; modes=... and "
                         f"random_directions=... choose the checks (now modes={opts.modes}, "
                         f"random_directions={opts.random_directions})")
        raise


def _raise(failures: dict[str, tuple[Mismatch, KinkReport | None]], broken: dict[str, str],
           opts: Options, name: str, mode_names: dict[str, str]) -> None:
    first = next(m for m in opts.modes if m in failures)
    mismatch, report = failures[first]
    mismatch = dataclasses.replace(mismatch, mode=mode_names.get(first, first))
    dtype = "" if opts.dtype == xp.float64 else f", tolerances for {opts.dtype}"
    message = (f"{name}: {mismatch.sentence(opts.method, opts.seed)} "
               f"(atol={opts.atol:.3g}, rtol={opts.rtol:.3g}{dtype})")
    if mismatch.one_sided is not None:
        message += f"{mismatch.one_sided_text()}:\n{report}"
    for other in opts.modes:
        label = mode_names.get(other, other)
        if other == first:
            continue
        if other in failures:
            also = dataclasses.replace(failures[other][0], mode=label)
            message += f"\n{label} mode disagrees too: {also.sentence(opts.method, opts.seed)}"
        elif other in broken:
            message += f"\n{label} mode could not run: {broken[other]}"
        else:
            message += f"\n{label} mode agrees with the numerical derivative"
    if mismatch.direction is not None and opts.elementwise is False:
        message += "\n(run with elementwise=True to find the element)"
    raise GradcheckError(message, mismatch)
