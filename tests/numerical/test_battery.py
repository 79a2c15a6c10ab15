"""Honest error estimates: on a battery of 54 functions and points, the estimate bounds the error.

The battery (``battery.py``) has smooth functions, oscillating ones, points
near poles, kinks and jumps (at x, where no derivative exists, and near x),
large and tiny |x|, and steps chosen by the user. A result is honest when its
error estimate bounds the true error, or when it says it cannot be trusted:
``converged=False`` (the flag) or a refusal (an exception, e.g. the complex
step on a non-analytic f). Where f has no derivative at x only the flag or a
refusal is honest. The issue's bar: at least 95% bounded or flagged, none off
by more than 10x; we hold every method to 100%, none beyond 1x.
"""

import collections

import numpy as np
import pytest
from battery import CASES, run_case

METHODS = ("central", "richardson", "complex")


def test_the_battery_is_broad():
    assert len(CASES) >= 50
    names = {case[0] for case in CASES}
    assert len(names) >= 30
    assert sum(case[3] is None for case in CASES) >= 5  # no derivative at x
    assert sum("step" in case[4] for case in CASES) >= 5  # steps the user chose
    assert any(abs(case[2]) >= 1e6 for case in CASES) and any(0 < abs(case[2]) <= 1e-7
                                                               for case in CASES)


@pytest.mark.parametrize("method", METHODS)
def test_every_estimate_is_honest(method):
    rows = [run_case(case, method) for case in CASES]
    verdicts = collections.Counter(row["verdict"] for row in rows)
    wrong = [(r["name"], r["x"], r["value"], r["estimate"], r["error"]) for r in rows
             if r["verdict"] in ("WRONG", "within 10x")]
    assert not wrong, f"{method}: estimates that do not bound the error: {wrong}"
    honest = verdicts["bounded"] + verdicts["flagged"] + verdicts["refused"]
    assert honest == len(CASES)
    # and most answers are usable: the flag and refusals are kept for real trouble
    usable = verdicts["bounded"]
    assert usable >= (0.9 if method != "complex" else 0.75) * len(CASES)


@pytest.mark.parametrize("method", ("central", "richardson"))
def test_no_derivative_at_x_is_always_flagged(method):
    for case in CASES:
        if case[3] is None:
            row = run_case(case, method)
            assert row["verdict"] == "flagged", (case[0], case[2])


def test_the_issue_examples():
    # sin(2000 x) at 0.5: central differences claimed 4.5e-11 for an error of 2.7e-2
    exact = 2000 * np.cos(1000.0)
    from chainrule.numerical import derivative
    for method in ("central", "richardson"):
        d = derivative(lambda x: np.sin(2000 * x), 0.5, method=method)
        assert d.converged and abs(float(d) - exact) <= d.error_estimate <= 1e-7 * abs(exact)
    # sin at 1e6: -0.035 with an estimate of 2e-17 (the step was 6.06)
    d = derivative(np.sin, 1e6)
    assert abs(float(d) - np.cos(1e6)) <= d.error_estimate <= 1e-9
    assert d.step < 1e-3
    # tan at 1.57: Richardson gave -13,406 for 1.577e6
    exact = 1 / np.cos(1.57) ** 2
    d = derivative(np.tan, 1.57, method="richardson")
    assert d.converged and abs(float(d) - exact) <= d.error_estimate <= 1e-8 * exact
    # log at 1e-7: Richardson refused (its step could not shrink below x)
    d = derivative(np.log, 1e-7, method="richardson")
    assert d.converged and abs(float(d) - 1e7) <= d.error_estimate <= 1e-3
