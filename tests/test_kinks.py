"""cr.kinks(): which evaluations touched a kink, where, and what was chosen there;
and gradcheck's one-sided comparison at kinks."""

import inspect

import numpy as np
import pytest

import chainrule as cr
from chainrule.subgradients import watch


def _line(offset: int = 1) -> str:
    frame = inspect.currentframe().f_back
    return f"{__file__}:{frame.f_lineno + offset}"


def test_relu_event_names_the_line_the_elements_and_the_choice():
    x = np.array([-1.0, 0.0, 2.0, 0.0])
    with cr.kinks() as report:
        where = _line()
        cr.grad(lambda v: cr.sum(cr.relu(v)))(x)
    (event,) = report
    assert event.primitive == "relu"
    assert event.where == where
    assert (event.count, event.indices) == (2, [(1,), (3,)])
    assert event.points == [(0.0,), (0.0,)]
    assert event.interval(0) == (0.0, 1.0)
    assert event.chosen == [(0.0,), (0.0,)]
    assert event.policy == "min-norm"
    assert "relu at" in str(report) and "subdifferential [0, 1]" in str(report)


def test_abs_records_the_policy_and_its_choice():
    with cr.subgradient_policy("jax"), cr.kinks() as report:
        cr.grad(cr.abs)(0.0)
    assert report[0].interval() == (-1.0, 1.0)
    assert report[0].chosen == [(1.0,)]
    assert report[0].policy == "jax"


def test_the_choice_follows_which_arguments_are_differentiated():
    with cr.kinks() as report:
        y = cr.maximum(cr.tensor(3.0), 3.0)  # no derivative taken
        cr.grad(lambda x: cr.maximum(x, 3.0))(3.0)
        cr.grad(lambda x, z: cr.maximum(x, z), argnums=(0, 1))(3.0, 3.0)
    plain, one, both = report
    assert float(y) == 3.0
    assert plain.perturbed is None and plain.chosen == [(0.5, 0.5)]
    assert "no derivative rule ran yet" in str(plain)
    assert one.perturbed == (0,) and one.chosen == [(0.0, None)]
    assert both.perturbed == (0, 1) and both.chosen == [(0.5, 0.5)]
    assert both.subdifferentials == [[(1.0, 0.0), (0.0, 1.0)]]


def test_clip_reports_the_bound_it_sits_on():
    with cr.kinks() as report:
        cr.grad(lambda x: cr.sum(cr.clip(x, 0.0, 1.0)))(np.array([0.0, 0.5, 1.0]))
    (event,) = report
    assert event.indices == [(0,), (2,)]
    assert event.subdifferentials == [[(1.0, 0.0, 0.0), (0.0, 1.0, 0.0)],
                                      [(1.0, 0.0, 0.0), (0.0, 0.0, 1.0)]]
    assert event.chosen == [(0.0, None, None), (0.0, None, None)]


def test_minimum_and_broadcasting():
    with cr.kinks() as report:
        cr.minimum(np.array([[1.0], [2.0]]), np.array([2.0, 3.0]))
    (event,) = report
    assert event.indices == [(1, 0)] and event.points == [(2.0, 2.0)]


def test_tolerance_catches_near_misses_and_reports_the_derivative_taken():
    x = np.array([1e-9, -1e-9, 0.5])
    with cr.kinks() as exact:
        cr.grad(lambda v: cr.sum(cr.relu(v)))(x)
    with cr.kinks(tol=1e-6) as near:
        cr.grad(lambda v: cr.sum(cr.relu(v)))(x)
    assert not exact and str(exact) == "no kinks touched"
    (event,) = near
    assert event.indices == [(0,), (1,)]
    assert event.chosen == [(1.0,), (0.0,)]  # the ordinary derivatives on each side


def test_nothing_is_recorded_away_from_kinks_or_outside_the_block():
    with cr.kinks() as report:
        cr.grad(lambda v: cr.sum(cr.relu(v) + cr.abs(v)))(np.array([1.0, -2.0]))
    assert report == []
    assert not watch.active
    cr.relu(np.zeros(2))
    assert report == []


def test_nested_blocks_both_record_and_the_flag_clears():
    with cr.kinks() as outer:
        with cr.kinks() as inner:
            cr.abs(0.0)
        cr.relu(0.0)
        assert watch.active
    assert not watch.active
    assert [e.primitive for e in inner] == ["abs"]
    assert [e.primitive for e in outer] == ["abs", "relu"]


def test_many_elements_are_counted_but_only_some_listed():
    with cr.kinks() as report:
        cr.relu(np.zeros(100))
    assert report[0].count == 100 and len(report[0].indices) == 10


def test_forward_mode_records_too():
    with cr.kinks() as report:
        cr.jvp(cr.relu, (0.0,), (1.0,))
    assert [e.primitive for e in report] == ["relu"]


def test_bad_tolerance_is_refused():
    for tol in (-1.0, float("nan"), "0"):
        with pytest.raises(ValueError, match="kinks: tol must be a finite number >= 0"):
            with cr.kinks(tol=tol):
                pass
    assert not watch.active


# ----- gradcheck at kinks -----

@pytest.mark.parametrize("f, args", [
    (cr.relu, (np.array([0.0, 1.0, -1.0]),)),
    (cr.abs, (np.array([0.0, 1.0]),)),
    (cr.maximum, (np.array([0.0, 1.0]), np.array([0.0, 0.5]))),
    (lambda x: cr.clip(x, 0.0, 1.0), (np.array([0.0, 1.0, 0.5]),)),
    (lambda x: cr.sum(cr.abs(x)) + cr.max(x), (np.array([0.0, 2.0, 2.0]),)),
])
def test_gradcheck_accepts_a_subgradient_at_a_kink(f, args):
    assert cr.gradcheck(f, *args)


def test_gradcheck_rejects_a_composite_that_is_not_a_subgradient():
    g = lambda x: cr.relu(x) - cr.relu(-x)  # noqa: E731 - equals x; AD gives 0 at 0
    assert cr.gradcheck(g, np.array([1.0, -2.0]))
    with pytest.raises(cr.GradcheckError, match=r"(?s)one-sided differences give 1 and 1.*relu at"):
        cr.gradcheck(g, np.array([0.0]))


def test_gradcheck_away_from_kinks_still_uses_central_differences():
    wrong = cr.primitive(lambda x: x * x, name="wrong_square")
    wrong.defvjp(lambda g, out, x: g * 3 * x)
    with pytest.raises(cr.GradcheckError) as err:
        cr.gradcheck(wrong, np.array([1.0]))
    assert "one-sided" not in str(err.value)


def test_the_package_keeps_every_import_path():
    import chainrule.subgradients as sg
    from chainrule.subgradients import (
        POLICIES,
        TABLE,
        KinkReport,
        choice,
        kinks,
        summary,
        tie_weight,
    )

    assert kinks is cr.kinks and sg.watch is watch and sg.recording.KinkReport is KinkReport
    assert TABLE is sg.table.TABLE and POLICIES == ("min-norm", "pytorch", "jax")
    assert callable(choice) and callable(summary) and callable(tie_weight)
    assert cr.subgradient_policy is sg.policy.subgradient_policy
