"""The jitted function's per-call path: the one-walk signature of arrays, numbers and
plain containers, and the outputs it hands back, against the general path."""

from __future__ import annotations

import numpy as np

import chainrule as cr
from chainrule.program.jit import _fast_signature
from chainrule.pytree import flatten


def test_fast_signature_lists_leaves_in_flatten_order():
    args = ({"w": np.ones(2), "b": [np.zeros(1), 2.0], "a": None}, np.ones(3), 4)
    key, leaves = _fast_signature(args)
    expected, _ = flatten(args)
    assert len(leaves) == len(expected)
    assert all(a is b for a, b in zip(leaves, expected))


def test_fast_signature_separates_structures_shapes_dtypes_and_number_types():
    x = np.ones(3)
    keys = [_fast_signature(a)[0] for a in [
        (x,), (x.astype(np.float32),), (np.ones(4),), ([x],), ((x,),),
        ({"a": x},), ({"b": x},), (1.0,), (1,), (None,)]]
    assert len(set(keys)) == len(keys)
    assert _fast_signature((np.float64(1.0),)) is None  # NumPy scalars: general path
    assert _fast_signature((True,)) is None  # bools are static values


def test_dict_key_order_does_not_change_results_or_retrace():
    def f(p, x):
        return {"out": p["w"] * x - p["b"], "w": p["w"]}

    jf = cr.jit(f)
    w, b, x = np.array([1.0, 2.0]), np.array([0.5, 0.25]), np.array([3.0, 4.0])
    first = jf({"w": w, "b": b}, x)
    second = jf({"b": b, "w": w}, x)  # the same dict built in another order
    for got in (first, second):
        np.testing.assert_array_equal(got["out"], f({"w": w, "b": b}, x)["out"])
        np.testing.assert_array_equal(got["w"], w)
    assert jf.traces == 1
    jf({"w": w, "b": b, "c": b}, x)  # another key: another structure
    assert jf.traces == 2


def test_int_and_float_arguments_get_their_own_programs():
    jf = cr.jit(lambda a, b: a * b)
    assert jf(np.ones(2, np.int64), 3).dtype == np.int64
    assert jf(np.ones(2, np.int64), 3.0).dtype == np.float64
    assert jf.traces == 2


def test_outputs_are_writable_and_not_shared_between_calls():
    step = cr.jit(cr.value_and_grad(lambda p, x: cr.sum(cr.tanh(p["w"] @ x))))
    p, x = {"w": np.ones((2, 3))}, np.ones(3)
    value, grads = step(p, x)
    assert isinstance(value, np.floating)
    grads["w"][0, 0] = 100.0  # the caller's to change
    again = step(p, x)[1]["w"]
    assert again[0, 0] != 100.0 and again.flags.writeable
