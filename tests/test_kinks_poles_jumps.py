"""cr.kinks() at poles of the derivative (sqrt, cbrt at 0) and at jumps (sign, floor,
ceil, round); and the hooks' cost when no block is open (none: one flag)."""

import math

import numpy as np
import pytest

import chainrule as cr
from chainrule.ops import nondiff
from chainrule.subgradients import Jump, Pole, watch

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def test_sqrt_at_zero_is_a_one_sided_pole_with_an_infinite_slope():
    with cr.kinks() as report:
        cr.jacrev(cr.sqrt)(np.array([0.0, 1.0]))
    (event,) = report
    assert (event.primitive, event.indices, event.points) == ("sqrt", [(0,)], [(0.0,)])
    assert event.subdifferentials == [Pole(None, math.inf)]
    assert event.chosen == [(math.inf,)]
    assert "tends to +inf from the right (undefined on the left)" in str(event)
    with pytest.raises(ValueError, match="no subdifferential at a pole"):
        event.interval()


def test_sqrt_near_zero_reports_the_finite_slope_taken():
    with cr.kinks(tol=1e-9) as report:
        cr.sqrt(np.array([1e-12, 4.0]))
    assert report[0].indices == [(0,)]
    assert report[0].chosen[0][0] == pytest.approx(0.5 / 1e-6, rel=1e-12)


def test_cbrt_has_the_pole_on_both_sides():
    with cr.kinks() as report:
        cr.grad(cr.cbrt)(0.0)
    assert report[0].subdifferentials == [Pole(math.inf, math.inf)]
    assert report[0].chosen == [(math.inf,)]


def test_a_where_branch_that_is_not_taken_still_shows_its_pole():
    # the gradient is 0 (tests/test_nan_free.py), but sqrt was evaluated at 0
    with cr.kinks() as report:
        g = cr.grad(lambda x: cr.where(x > 0, cr.sqrt(x), 0.0))(0.0)
    assert float(g) == 0.0 and [e.primitive for e in report] == ["sqrt"]


def test_sign_jumps_at_zero_and_takes_zero():
    with cr.kinks() as report:
        cr.sign(np.array([0.0, 2.0, -0.0]))
    (event,) = report
    assert event.indices == [(0,), (2,)]
    assert event.subdifferentials == [Jump(-1.0, 1.0)] * 2 and event.chosen == [(0.0,)] * 2
    assert "a jump from -1 to 1" in str(event)


def test_rules_use_an_unwatched_sign():
    # abs's rule is sign(x); the 3-norm's rule too: neither is the user's jump
    with cr.kinks() as report:
        cr.grad(cr.abs)(0.0)
        cr.grad(lambda v: cr.norm(v, ord=3))(np.array([0.0, 1.0]))
    assert [e.primitive for e in report] == ["abs"]


@pytest.mark.parametrize("prim, x, jumps", [
    (nondiff.floor, [1.0, 1.5, -2.0], {(0,): (0.0, 1.0), (2,): (-3.0, -2.0)}),
    (nondiff.ceil, [1.0, 1.5], {(0,): (1.0, 2.0)}),
    (nondiff.round, [0.5, 2.5, 1.2, -0.5], {(0,): (0.0, 1.0), (1,): (2.0, 3.0),
                                             (3,): (-1.0, 0.0)}),
])
def test_floor_ceil_round_detect_their_jumps(prim, x, jumps):
    x = np.array(x)
    with cr.kinks() as report:
        prim(x)  # the hooked implementation reports
    (event,) = report
    assert {ix: (s.left, s.right) for ix, s in zip(event.indices, event.subdifferentials)} \
        == jumps
    assert event.chosen == [(0.0,)] * len(jumps)


def test_integers_never_sit_on_a_jump_and_tol_widens():
    with cr.kinks(tol=1e-6) as report:
        watch.check(nondiff.floor, (np.arange(3),), np.arange(3))
        watch.check(nondiff.floor, (np.array([2.0 - 1e-9]),), np.array([1.0]))
    (event,) = report
    assert event.subdifferentials == [Jump(1.0, 2.0)]


def test_floor_ceil_round_report_through_the_public_functions():
    with cr.kinks() as report:
        cr.floor(np.array([1.0, 1.5]))
        cr.ceil(np.array([0.5]))  # no jump: nothing
        cr.round(np.array([2.5]))
        cr.round(np.array([2.5]), decimals=1)  # other parameters: not watched
    assert [e.primitive for e in report] == ["floor", "round"]


# ----- no block open: the hooks read one flag and nothing else -----

def test_hooks_do_nothing_outside_a_block(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("a hook ran with no kinks() block open")

    monkeypatch.setattr(type(watch), "check", boom)
    monkeypatch.setattr(type(watch), "record", boom)
    z = np.zeros((1, 1, 2, 2))
    for f in (cr.relu, cr.abs, cr.sign, cr.sqrt, cr.cbrt, cr.max, cr.min, cr.norm, cr.std,
              lambda v: cr.maximum(v, 0.0), lambda v: cr.clip(v, 0.0, 1.0),
              lambda v: cr.max_pool2d(v, 2)):
        f(z)
    cr.grad(lambda v: cr.sum(cr.max_pool2d(v, 2)) + cr.norm(v))(z)
    assert not watch.active
