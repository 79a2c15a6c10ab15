"""Random numbers under jit: each draw is an input of the program, drawn anew from
the same generator at every call (so a jitted step equals the eager one under the
same seed), never one draw frozen into the program; draws it cannot take are refused."""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

F = cr.nn.functional
X = np.linspace(-1.0, 1.0, 24).reshape(4, 6)


def test_dropout_masks_are_drawn_at_every_call_as_in_eager_mode():
    def f(x):
        return F.dropout(x, 0.5)

    cr.random.seed(0)
    eager = [f(X) for _ in range(3)]
    jf = cr.jit(f)
    cr.random.seed(0)
    jitted = [jf(X) for _ in range(3)]
    for a, b in zip(jitted, eager):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(jitted[0], jitted[1])  # never a repeated mask
    assert jf.traces == 1


def test_jitted_gradient_through_dropout_equals_eager():
    def loss(w, x):
        return cr.sum(F.dropout(cr.tanh(x * w), 0.3) ** 2)

    w = np.full((4, 6), 0.7)
    cr.random.seed(5)
    eager = [cr.value_and_grad(loss)(w, X) for _ in range(2)]
    step = cr.jit(cr.value_and_grad(loss))
    cr.random.seed(5)
    jitted = [step(w, X) for _ in range(2)]
    for (v, g), (ev, eg) in zip(jitted, eager):
        assert v == ev
        np.testing.assert_array_equal(g, eg)


def test_a_dropout_layer_with_its_own_generator():
    eager_layer = cr.nn.Dropout(0.5, generator=3)
    jit_layer = cr.nn.Dropout(0.5, generator=3)
    jf = cr.jit(lambda x: jit_layer(x))
    for _ in range(2):
        np.testing.assert_array_equal(jf(X), eager_layer(X))


def test_random_tensors_made_inside_are_refused():
    with pytest.raises(cr.TracerConversionError, match="random numbers drawn inside"):
        cr.jit(lambda x: x * cr.randn(4, 6))(X)


def test_other_draws_are_refused_by_name():
    with pytest.raises(TypeError, match="normal: a random draw inside a function traced"):
        cr.jit(lambda x: x * cr.random.generator().normal(size=(4, 6)))(X)


def test_make_program_refuses_draws():
    with pytest.raises(TypeError, match="make_program: the function draws random numbers"):
        cr.make_program(lambda x: F.dropout(x, 0.5))(X)


def test_draws_inside_checkpoint_are_refused_under_jit():
    def loss(x):
        return cr.sum(cr.checkpoint(lambda x: F.dropout(cr.sin(x), 0.5))(x))

    with pytest.raises(TypeError, match="random numbers drawn inside a primitive"):
        cr.jit(cr.grad(loss))(X)
    # without random numbers, checkpoint under jit is unaffected
    g = cr.jit(cr.grad(lambda x: cr.sum(cr.checkpoint(cr.sin)(x))))
    np.testing.assert_array_equal(g(X), np.cos(X))
