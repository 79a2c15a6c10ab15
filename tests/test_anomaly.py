"""Anomaly mode: the first NaN or Inf names its primitive and the user's line."""

import inspect
import re

import numpy as np
import pytest

import chainrule as cr


def _here(offset: int = 1) -> str:
    """``file:line`` of the caller's line plus ``offset``, as a regex."""
    frame = inspect.currentframe().f_back
    return re.escape(f"{__file__}:{frame.f_lineno + offset}")


def test_forward_nan_names_the_primitive_and_this_line():
    x = cr.tensor(-1.0, requires_grad=True)
    with cr.detect_anomaly(), np.errstate(invalid="ignore"):
        where = _here(2)
        with pytest.raises(FloatingPointError, match=rf"'log' produced NaN or Inf at {where}"):
            cr.log(x)


def test_forward_inf_through_numpy_dispatch_names_this_line():
    x = cr.tensor([0.0, 1.0], requires_grad=True)
    with cr.detect_anomaly(), np.errstate(divide="ignore"):
        where = _here(2)
        with pytest.raises(FloatingPointError, match=rf"'divide' produced NaN .*{where}"):
            np.sum(1.0 / x, axis=0)


def test_forward_check_covers_constant_tensors_too():
    with cr.detect_anomaly(), np.errstate(invalid="ignore"):
        with pytest.raises(FloatingPointError, match="'sqrt'"):
            cr.sqrt(cr.tensor([-4.0]))


def test_backward_inf_names_the_primitive_and_where_it_was_created():
    x = cr.tensor(0.0, requires_grad=True)
    with cr.detect_anomaly(), np.errstate(divide="ignore"):
        where = _here()
        y = cr.sqrt(x)  # finite value 0, infinite slope
        with pytest.raises(FloatingPointError,
                           match=rf"backward rule of 'sqrt'.*NaN or Inf \(created at {where}\)"):
            y.backward()


def test_backward_inf_inside_grad():
    f = lambda x: cr.sqrt(x) * 2.0 + x  # noqa: E731 - an infinite slope at 0
    where = re.escape(f"{__file__}:{f.__code__.co_firstlineno}")  # the lambda's line
    with cr.detect_anomaly(), np.errstate(divide="ignore", invalid="ignore"):
        with pytest.raises(FloatingPointError, match=rf"backward rule of 'sqrt'.*{where}"):
            cr.grad(f)(0.0)


def test_outside_the_block_nothing_is_checked():
    with np.errstate(divide="ignore", invalid="ignore"):
        x = cr.tensor(0.0, requires_grad=True)
        y = cr.sqrt(x)
        y.backward()
        assert np.isinf(x.grad.item())
        assert np.isnan(cr.log(cr.tensor(-1.0)).item())
        with cr.detect_anomaly():
            pass
        assert np.isnan(cr.log(cr.tensor(-1.0, requires_grad=True)).item())


def test_anomaly_mode_ends_with_its_block_even_after_an_error():
    with pytest.raises(FloatingPointError):
        with cr.detect_anomaly(), np.errstate(invalid="ignore"):
            cr.log(cr.tensor(-1.0))
    with np.errstate(invalid="ignore"):
        assert np.isnan(cr.log(cr.tensor(-1.0)).item())  # no error any more


def test_finite_computations_pass_unchanged():
    x = cr.tensor([0.5, 2.0], requires_grad=True)
    with cr.detect_anomaly():
        cr.sum(cr.log(x) * cr.sqrt(x)).backward()
    root = np.sqrt(x.data)
    np.testing.assert_allclose(x.grad.data, 1 / root + np.log(x.data) / (2 * root))
