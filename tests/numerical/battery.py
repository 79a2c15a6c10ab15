"""A battery of functions and points on which a finite difference's error estimate must be honest.

Each case is (name, f, x, exact, options): ``exact(m, x)`` is the derivative
in closed form for a math module m (mpmath at 40 digits when installed, NumPy
otherwise), or None where f has no derivative at x (a kink or jump: the only
honest answers there are a refusal or ``converged=False``). ``options`` are
keyword arguments for ``derivative`` (a step the user chose). Shared by
``test_battery.py`` and ``benchmarks/bench_numerical.py``.
"""

from __future__ import annotations

import math

import numpy as np

from chainrule import numerical

try:
    import mpmath
except ImportError:  # float64 closed forms, exact to a few ulps
    mpmath = None


def _relu(x):
    return np.maximum(x, 0.0)


CASES = [
    # smooth, well scaled
    ("exp", np.exp, -3.0, lambda m, x: m.exp(x), {}),
    ("exp", np.exp, 0.5, lambda m, x: m.exp(x), {}),
    ("exp", np.exp, 10.0, lambda m, x: m.exp(x), {}),
    ("sin", np.sin, -2.0, lambda m, x: m.cos(x), {}),
    ("sin", np.sin, 0.5, lambda m, x: m.cos(x), {}),
    ("log", np.log, 3.0, lambda m, x: 1 / x, {}),
    ("x**x", lambda x: x**x, 0.5, lambda m, x: x**x * (m.log(x) + 1), {}),
    ("x**x", lambda x: x**x, 3.0, lambda m, x: x**x * (m.log(x) + 1), {}),
    ("atan", np.arctan, 1.0, lambda m, x: 1 / (1 + x**2), {}),
    ("sqrt", np.sqrt, 2.0, lambda m, x: 1 / (2 * m.sqrt(x)), {}),
    ("cosh", np.cosh, 1.0, lambda m, x: m.sinh(x), {}),
    ("runge", lambda x: 1 / (1 + 25 * x**2), 0.3, lambda m, x: -50 * x / (1 + 25 * x**2) ** 2, {}),
    ("x**3 (f'=0)", lambda x: x**3, 0.0, lambda m, x: 3 * x**2, {}),
    ("cos (f'=0)", np.cos, 0.0, lambda m, x: -m.sin(x), {}),
    ("erf-like", lambda x: np.exp(-x * x), 1.5, lambda m, x: -2 * x * m.exp(-x * x), {}),
    # oscillating
    ("sin(2000x)", lambda x: np.sin(2000 * x), 0.5, lambda m, x: 2000 * m.cos(2000 * x), {}),
    ("sin(1e4 x)", lambda x: np.sin(1e4 * x), 0.3, lambda m, x: 1e4 * m.cos(1e4 * x), {}),
    ("cos(50x)e^x", lambda x: np.cos(50 * x) * np.exp(x), 1.0,
     lambda m, x: (m.cos(50 * x) - 50 * m.sin(50 * x)) * m.exp(x), {}),
    ("sin(1/x)", lambda x: np.sin(1 / x), 0.05, lambda m, x: -m.cos(1 / x) / x**2, {}),
    ("sin(x^2)", lambda x: np.sin(x * x), 30.0, lambda m, x: 2 * x * m.cos(x * x), {}),
    # large |x|
    ("sin", np.sin, 1e6, lambda m, x: m.cos(x), {}),
    ("sin", np.sin, 1e8, lambda m, x: m.cos(x), {}),
    ("cos", np.cos, 1e5, lambda m, x: -m.sin(x), {}),
    ("log", np.log, 1e6, lambda m, x: 1 / x, {}),
    ("exp(x/1e6)", lambda x: np.exp(x / 1e6), 1e6, lambda m, x: m.exp(x / 1e6) / 1e6, {}),
    ("x**2", lambda x: x**2, 1e8, lambda m, x: 2 * x, {}),
    ("sqrt", np.sqrt, 1e10, lambda m, x: 1 / (2 * m.sqrt(x)), {}),
    ("tanh(x-1e4)", lambda x: np.tanh(x - 1e4), 1e4, lambda m, x: 1 - m.tanh(x - 1e4) ** 2, {}),
    # tiny |x|
    ("log", np.log, 1e-7, lambda m, x: 1 / x, {}),
    ("log", np.log, 1e-10, lambda m, x: 1 / x, {}),
    ("sqrt", np.sqrt, 1e-8, lambda m, x: 1 / (2 * m.sqrt(x)), {}),
    ("1/x", lambda x: 1 / x, 1e-5, lambda m, x: -1 / x**2, {}),
    ("sin", np.sin, 1e-12, lambda m, x: m.cos(x), {}),
    ("atan(1e8 x)", lambda x: np.arctan(1e8 * x), 1e-9, lambda m, x: 1e8 / (1 + (1e8 * x) ** 2),
     {}),
    # near poles
    ("tan", np.tan, 1.57, lambda m, x: 1 / m.cos(x) ** 2, {}),
    ("tan", np.tan, 1.5707, lambda m, x: 1 / m.cos(x) ** 2, {}),
    ("1/(x-1)", lambda x: 1 / (x - 1), 0.999, lambda m, x: -1 / (x - 1) ** 2, {}),
    ("1/x", lambda x: 1 / x, 1e-3, lambda m, x: -1 / x**2, {}),
    ("log|x-2|", lambda x: np.log(np.abs(x - 2)), 1.9999, lambda m, x: 1 / (x - 2), {}),
    # kinks and jumps at x (no derivative) and near x (a derivative exists)
    ("abs", np.abs, 0.0, None, {}),
    ("relu", _relu, 0.0, None, {}),
    ("max(x, 1)", lambda x: np.maximum(x, 1.0), 1.0, None, {}),
    ("sign", np.sign, 0.0, None, {}),
    ("floor", np.floor, 2.0, None, {}),
    ("abs", np.abs, 1e-9, lambda m, x: 1.0, {}),
    ("relu", _relu, -3e-7, lambda m, x: 0.0, {}),
    ("floor", np.floor, 2.0000001, lambda m, x: 0.0, {}),
    # steps the user chose
    ("exp", np.exp, 1.0, lambda m, x: m.exp(x), {"step": 0.5}),
    ("sin", np.sin, 1.0, lambda m, x: m.cos(x), {"step": 1.0}),
    ("sin(2000x)", lambda x: np.sin(2000 * x), 0.5, lambda m, x: 2000 * m.cos(2000 * x),
     {"step": 1e-3}),
    ("log", np.log, 1.0, lambda m, x: 1 / x, {"step": 0.9}),
    ("tan", np.tan, 1.5, lambda m, x: 1 / m.cos(x) ** 2, {"step": 0.05}),
    ("sin", np.sin, 1e6, lambda m, x: m.cos(x), {"step": 1e-3}),
    ("abs", np.abs, 0.3, lambda m, x: 1.0, {"step": 0.5}),
]


def exact_value(formula, x: float) -> float:
    if mpmath is None:
        return float(formula(np, np.float64(x)))
    mpmath.mp.dps = 40
    return float(formula(mpmath, mpmath.mpf(x)))


def run_case(case, method: str) -> dict:
    """One case by one method: value, estimate, true error and the verdict.

    Verdicts: ``bounded`` (converged and true error <= estimate), ``within 10x``
    (converged, true error <= 10 x estimate), ``flagged`` (converged=False),
    ``refused`` (raised), ``WRONG`` (converged, off by more than 10x).
    """
    name, f, x, formula, options = case
    row = {"name": name, "x": x, "method": method, "step": options.get("step"), "calls": 0}
    try:
        with np.errstate(all="ignore"):
            d = numerical.derivative(f, x, method=method, **options)
    except (ValueError, TypeError) as exc:
        row.update(verdict="refused", value=math.nan, estimate=math.nan, error=math.nan,
                   note=type(exc).__name__)
        return row
    row.update(value=float(d), estimate=float(d.error_estimate), calls=d.evaluations, note="")
    if formula is None:  # no derivative at x: only a flag is honest
        row["error"] = math.inf
        row["verdict"] = "flagged" if not d.converged else "WRONG"
        return row
    error = abs(float(d) - exact_value(formula, x))
    row["error"] = error
    if not d.converged:
        row["verdict"] = "flagged"
    elif error <= d.error_estimate:
        row["verdict"] = "bounded"
    elif error <= 10 * d.error_estimate:
        row["verdict"] = "within 10x"
    else:
        row["verdict"] = "WRONG"
    return row


def battery(methods=("central", "richardson")) -> list[dict]:
    return [run_case(case, method) for method in methods for case in CASES]
