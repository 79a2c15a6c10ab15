"""Values that leave the graph are refused, never silently made constant.

Inside every transform, float(), int(), .item(), .tolist(), math.*, np.asarray,
np.array([...]) and bool() of a value that carries a derivative raise
TracerConversionError naming the call, the value and the transform; what loses
no derivative (shapes, comparisons, integer results, stop_gradient, level-0
float()) keeps working.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.core.escape import TracerConversionError, constant
from chainrule.forward import Dual
from chainrule.transforms.batching import Batched

# ----- every transform, running a body on its traced value -----


def _scalar(body):
    def f(x):
        body(x)
        return cr.sum(x * x)
    return f


def _vector(body):
    def f(x):
        body(x)
        return x * x
    return f


TRANSFORMS = {
    # name: (run(body, x0), the transform named in the message)
    "grad": (lambda body, x: cr.grad(_scalar(body))(x), "cr.grad"),
    "value_and_grad": (lambda body, x: cr.value_and_grad(_scalar(body))(x), "cr.value_and_grad"),
    "grad_argnums": (lambda body, x: cr.grad(lambda a, b: _scalar(body)(a) * b, (0, 1))(x, 2.0),
                     "cr.grad"),
    "grad_pytree": (lambda body, x: cr.grad(lambda p: _scalar(body)(p["w"]))({"w": x}),
                    "cr.grad"),
    "vjp": (lambda body, x: cr.vjp(_vector(body), x), "cr.vjp"),
    "jvp": (lambda body, x: cr.jvp(_vector(body), (x,), (np.ones_like(x),)), "cr.jvp"),
    "linearize": (lambda body, x: cr.linearize(_vector(body), x), "cr.linearize"),
    "jacfwd": (lambda body, x: cr.jacfwd(_vector(body))(x), "cr.jacfwd"),
    "jacrev": (lambda body, x: cr.jacrev(_vector(body))(x), "cr.jacrev"),
    "hessian": (lambda body, x: cr.hessian(_scalar(body))(x), "cr.hessian"),
    "hvp": (lambda body, x: cr.hvp(_scalar(body), x, np.ones_like(x)), "cr.hvp"),
    "grad_of_grad": (lambda body, x: cr.grad(lambda y: cr.sum(cr.grad(_scalar(body))(y)))(x),
                     "cr.grad"),
    "jvp_of_grad": (lambda body, x: cr.jvp(cr.grad(_scalar(body)), (x,), (np.ones_like(x),)),
                    "cr.grad"),
}


def _first(x):
    return x[0] * 1.0 if len(np.shape(x)) else x * 1.0


ESCAPES = {
    # name: (body, words the message must contain)
    "float": (lambda x: float(_first(x)), ["float()", "cr.sin"]),
    "int": (lambda x: int(_first(x)), ["int()"]),
    "item": (lambda x: _first(x).item(), [".item()"]),
    "tolist": (lambda x: x.tolist(), [".tolist()"]),
    "math.sin": (lambda x: math.sin(_first(x)), ["math.sin()", "cr.sin"]),
    "math.exp": (lambda x: math.exp(_first(x)), ["math.exp()"]),
    "np.asarray": (lambda x: np.asarray(x), ["np.asarray()", "cr.stack"]),
    "np.array": (lambda x: np.array([x, 2 * x]), ["np.array([...])", "cr.stack"]),
    "bool": (lambda x: bool(_first(x)), ["bool()", "cr.where", "x > 0"]),
}


@pytest.mark.parametrize("escape", sorted(ESCAPES))
@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
@settings(max_examples=4)
@given(n=st.integers(0, 3), dtype=st.sampled_from([np.float64, np.float32]),
       value=st.floats(0.25, 2.0))
def test_every_escape_is_refused_under_every_transform(transform, escape, n, dtype, value):
    run, transform_name = TRANSFORMS[transform]
    body, words = ESCAPES[escape]
    x = np.full((n,) if n else (), value, dtype=dtype)
    if n == 0 and escape in ("tolist", "np.asarray", "np.array"):
        x = np.full(1, value, dtype=dtype)
    with pytest.raises(TracerConversionError) as info:
        run(body, x)
    message = str(info.value)
    assert isinstance(info.value, TypeError)
    for word in [*words, transform_name, "stop_gradient", "silently"]:
        assert word in message, (word, message)
    assert np.dtype(dtype).name in message  # the value: its dtype and shape


def test_the_error_is_public_and_a_type_error():
    assert cr.TracerConversionError is TracerConversionError
    assert issubclass(cr.TracerConversionError, TypeError)
    assert "TracerConversionError" in cr.__all__


def test_the_message_names_the_shape_and_the_owning_transform():
    # x belongs to the outer grad; the conversion happens inside an inner jvp
    def outer(x):
        return cr.jvp(lambda y: y * float(x), (1.0,), (1.0,))[1]

    with pytest.raises(TracerConversionError, match=r"float64\[\].*traced by cr\.grad"):
        cr.grad(outer)(3.0)
    with pytest.raises(TracerConversionError, match=r"float32\[2, 3\].*traced by cr\.jacrev"):
        cr.jacrev(lambda x: np.asarray(x) * x)(np.ones((2, 3), np.float32))


def test_a_value_that_escaped_its_transform_is_refused_too():
    kept = []
    cr.grad(lambda x: kept.append(x) or x * x)(2.0)
    with pytest.raises(TracerConversionError, match="no longer running"):
        float(kept[0])


def test_cr_tensor_of_a_traced_value_is_refused():
    with pytest.raises(TracerConversionError, match=r"cr\.tensor\(\)"):
        cr.grad(lambda x: cr.tensor(x) * x)(2.0)
    with pytest.raises(TracerConversionError, match=r"np\.asarray"):
        cr.grad(lambda x: cr.sum(cr.tensor([x, x])))(2.0)


def test_numpy_method_of_a_traced_tensor_is_refused():
    with pytest.raises(TracerConversionError, match=r"\.numpy\(\)"):
        cr.grad(lambda x: x * x.numpy())(2.0)


def test_duals_and_stacks_of_tangents_refuse_every_conversion():
    d = Dual(np.array(2.0), np.array(1.0), 10**9)
    b = Batched(np.ones((2, 3)), 10**9)
    for value in (d, b):
        for convert in (float, int, bool, np.asarray, lambda v: v.item(), lambda v: v.tolist()):
            with pytest.raises(TracerConversionError):
                convert(value)


# ----- what keeps working -----


def piecewise(x):
    if x > 1.0:  # a comparison: no derivative lost
        return x**3
    return cr.sin(x)


@pytest.mark.parametrize("x0", [0.5, 2.0])
def test_comparisons_in_if_statements_work_under_every_transform(x0):
    d1 = 3 * x0**2 if x0 > 1 else math.cos(x0)
    d2 = 6 * x0 if x0 > 1 else -math.sin(x0)
    assert cr.grad(piecewise)(x0) == pytest.approx(d1)
    assert cr.jvp(piecewise, (x0,), (1.0,))[1] == pytest.approx(d1)
    assert cr.vjp(piecewise, x0)[1](1.0)[0] == pytest.approx(d1)
    assert cr.linearize(piecewise, x0)[1](1.0) == pytest.approx(d1)
    assert cr.jacfwd(piecewise)(x0) == pytest.approx(d1)
    assert cr.jacrev(piecewise)(x0) == pytest.approx(d1)
    assert cr.grad(cr.grad(piecewise))(x0) == pytest.approx(d2)
    assert cr.hessian(piecewise)(x0) == pytest.approx(d2)
    assert cr.hvp(piecewise, x0, 1.0) == pytest.approx(d2)


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
def test_shape_len_comparisons_and_constants_work_under_every_transform(transform):
    seen = {}

    def body(x):
        seen["shape"], seen["ndim"], seen["len"], seen["size"] = x.shape, x.ndim, len(x), x.size
        seen["dtype"] = x.dtype
        seen["rows"] = [row for row in x]
        seen["any"] = bool(x[0] > 0) and bool(cr.all(x > -10.0))
        seen["argmax"] = int(cr.argmax(x))
        seen["stopped"] = float(cr.stop_gradient(x)[1]) + float(cr.stop_gradient(x[1]))
        seen["array"] = np.asarray(cr.stop_gradient(x))
        seen["text"] = repr(x) + str(x)

    TRANSFORMS[transform][0](body, np.array([1.0, 3.0, 2.0]))
    assert seen["shape"] == (3,) and seen["ndim"] == 1 and seen["len"] == 3 and seen["size"] == 3
    assert seen["dtype"] == np.float64 and len(seen["rows"]) == 3 and seen["any"]
    assert seen["argmax"] == 1 and seen["stopped"] == 6.0
    np.testing.assert_array_equal(seen["array"], [1.0, 3.0, 2.0])


def test_detach_inside_a_transform_is_a_deliberate_constant():
    assert cr.grad(lambda x: x * float(x.detach()))(3.0) == 3.0
    assert cr.grad(lambda x: x * float(cr.stop_gradient(x)))(3.0) == 3.0
    assert cr.jvp(lambda x: x * float(cr.stop_gradient(x)), (3.0,), (1.0,))[1] == 3.0


def test_derivatives_stay_right_with_cr_stack_instead_of_np_array():
    g = cr.grad(lambda x: cr.sum(cr.stack([x, 2 * x]) ** 2))(3.0)
    assert g == pytest.approx(2 * 3.0 + 8 * 3.0)


def test_level_zero_conversions_stay_allowed():
    x = cr.tensor([1.5, 2.5], requires_grad=True)
    y = x * 2.0
    assert float(y[0]) == 3.0 and int(y[1]) == 5 and y[0].item() == 3.0
    assert y.tolist() == [3.0, 5.0] and bool(y[0] > 1) and bool(y[0])
    assert math.sin(y[0]) == pytest.approx(math.sin(3.0))
    np.testing.assert_array_equal(np.asarray(y.detach()), [3.0, 5.0])
    np.testing.assert_array_equal(y.detach().numpy(), [3.0, 5.0])
    np.testing.assert_array_equal(np.asarray(cr.tensor([1.0, 2.0])), [1.0, 2.0])


@given(n=st.integers(0, 4), dtype=st.sampled_from([np.float64, np.float32]))
def test_level_zero_numpy_conversion_of_a_tensor_that_requires_grad_is_refused(n, dtype):
    leaf = cr.tensor(np.ones(n, dtype), requires_grad=True)
    for t in (leaf, leaf * 2.0):
        with pytest.raises(TracerConversionError, match=r"requires grad.*detach\(\)"):
            np.asarray(t)
        with pytest.raises(TracerConversionError, match="detach"):
            np.array([t, t])
        with pytest.raises(TracerConversionError):
            np.testing.assert_allclose(t, np.ones(n))
        with pytest.raises(TracerConversionError, match=r"cr\.stack"):
            cr.tensor([t, t])  # was a silent copy cut off from the graph
    stacked = cr.stack([leaf, leaf * 2.0])  # on the graph
    cr.sum(stacked).backward()
    np.testing.assert_array_equal(leaf.grad.data, np.full(n, 3.0, dtype))


def test_library_layers_and_losses_run_under_forward_and_reverse_transforms():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 3))
    bn = cr.nn.BatchNorm1d(3, dtype="float64")
    for p in bn.parameters():  # else the gradients are tensors on their graph
        p.requires_grad_(False)
    probabilities = rng.uniform(0.1, 0.9, (4, 3))
    labels = (probabilities > 0.5) * 1.0

    def loss(w):
        h = cr.nn.functional.layer_norm(bn(x * w), (3,))
        p = cr.sigmoid(h)
        return (cr.nn.functional.binary_cross_entropy(p, labels)
                + cr.nn.functional.cross_entropy(h, np.array([0, 1, 2, 0]), label_smoothing=0.1)
                + cr.sum(cr.nn.functional.embedding(np.array([0, 2]), w[:, None] * 1.0,
                                                    padding_idx=0)))

    w = np.array([0.5, -1.0, 2.0])
    g_rev = cr.grad(loss)(w)
    g_fwd = cr.jacfwd(loss)(w)
    np.testing.assert_allclose(g_fwd, g_rev, rtol=1e-10, atol=1e-12)
    assert cr.hvp(loss, w, np.ones(3)).shape == (3,)


def test_constant_reads_the_value_of_any_traced_value_on_purpose():
    seen = []
    cr.jvp(lambda x: seen.append(constant(x)) or x, (np.array([1.0, 2.0]),),
           (np.array([1.0, 1.0]),))
    cr.grad(cr.grad(lambda x: seen.append(constant(x)) or x * x))(3.0)
    np.testing.assert_array_equal(seen[0], [1.0, 2.0])
    assert seen[1] == 3.0 and type(seen[1]) is np.ndarray


# ----- what a newcomer met -----


NOT_FUNCTIONS = [3, 2.5, "f", None, np.array([1.0])]


@pytest.mark.parametrize("f", NOT_FUNCTIONS)
def test_transforms_of_a_non_function_fail_at_once(f):
    for name, make in [("grad", lambda: cr.grad(f)),
                       ("value_and_grad", lambda: cr.value_and_grad(f)),
                       ("jacfwd", lambda: cr.jacfwd(f)), ("jacrev", lambda: cr.jacrev(f)),
                       ("hessian", lambda: cr.hessian(f)), ("vjp", lambda: cr.vjp(f, 1.0)),
                       ("jvp", lambda: cr.jvp(f, (1.0,), (1.0,))),
                       ("linearize", lambda: cr.linearize(f, 1.0)),
                       ("hvp", lambda: cr.hvp(f, 1.0, 1.0))]:
        with pytest.raises(TypeError, match=rf"^{name}: expected the function to transform.*"
                                            rf"{type(f).__name__}") as info:
            make()
        assert "a def or a lambda" in str(info.value)


@pytest.mark.parametrize("bad", [None, "abc", b"x", object()])
def test_grad_of_a_non_number_names_the_argument(bad):
    for make in (cr.grad, cr.value_and_grad):
        with pytest.raises(TypeError, match=r"^grad: argument 0 is .*not a number.*3\.0"):
            make(lambda x: x * x)(bad)
    with pytest.raises(TypeError, match=r"grad: argument 1 is .*not a number"):
        cr.grad(lambda x, y: x * y, argnums=(0, 1))(2.0, bad)


@given(data=st.one_of(
    st.text(min_size=1, max_size=5), st.binary(min_size=1, max_size=5),
    st.just(np.datetime64("2024-01-01")), st.just(np.timedelta64(3, "s")),
    st.just(np.zeros(2, dtype=[("a", "f8")])), st.just(np.zeros(2, dtype="V8")),
    st.just(None), st.just([object()]), st.just({"a": 1.0}),
    st.lists(st.text(min_size=1, max_size=3), min_size=1, max_size=3)))
def test_tensors_of_non_numbers_are_refused(data):
    with pytest.raises(TypeError, match=r"^tensor: cannot hold .*a tensor holds numbers"):
        cr.tensor(data)


def test_tensors_of_numbers_stay_allowed():
    for data, kind in [(True, "b"), (3, "i"), (np.uint8(3), "u"), (2.5, "f"), (1 + 2j, "c")]:
        assert cr.tensor(data).dtype.kind == kind
    with pytest.raises(TypeError, match="float"):
        cr.tensor([1.0], dtype=str)
    with pytest.raises(TypeError, match=r"cr\.tensor\(float\('2\.5'\)\)"):
        cr.tensor("2.5")


def test_reading_the_grad_of_a_non_leaf_warns():
    x = cr.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    cr.sum(y).backward()
    with pytest.warns(UserWarning, match=r"non-leaf.*multiply.*\.retain_grad\(\)"):
        assert y.grad is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(x.grad.data, [3.0, 3.0])  # a leaf: no warning
        assert cr.tensor(1.0).grad is None  # a leaf that does not require grad
        assert cr.tensor(1.0, requires_grad=True).grad is None  # before backward
        y.detach().grad  # noqa: B018 - detach makes a leaf
        x.zero_grad()
        assert x.grad is None


def test_a_non_leaf_grad_set_by_hand_reads_back_without_warning():
    y = cr.tensor(1.0, requires_grad=True) * 2.0
    y.grad = cr.tensor(5.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(y.grad) == 5.0


def test_the_numerical_oracle_reads_tensors_on_a_graph_but_refuses_traced_values():
    w = cr.tensor(2.0, requires_grad=True)  # f closes over a tensor that requires grad
    assert cr.numerical.derivative(lambda x: w * x**2, 1.5).value == pytest.approx(6.0)
    np.testing.assert_allclose(
        cr.numerical.gradient(lambda x: cr.sum(w * x**2), np.array([1.5, 2.0])).value,
        [6.0, 8.0], rtol=1e-8)
    # inside a transform, f closes over a traced value: its derivative would be lost
    with pytest.raises(TracerConversionError, match=r"traced by cr\.grad"):
        cr.grad(lambda v: v * cr.numerical.derivative(lambda x: v * x**2, 1.5).value)(2.0)


def test_class_weights_that_carry_a_derivative_are_refused_not_made_constant():
    logits = np.array([[1.0, 2.0, 0.5], [0.1, 0.2, 3.0]])
    labels = np.array([1, 2])
    loss = cr.nn.functional.cross_entropy
    with pytest.raises(TypeError, match=r"cross_entropy: the class weights carry a derivative"):
        cr.grad(lambda w: loss(logits, labels, weight=w))(np.ones(3))
    with pytest.raises(TypeError, match="stop_gradient"):
        cr.jvp(lambda w: loss(logits, labels, weight=w), (np.ones(3),), (np.ones(3),))
    with pytest.raises(TypeError, match="detach"):
        loss(logits, labels, weight=cr.tensor(np.ones(3), requires_grad=True))
    w = cr.tensor(np.ones(3), requires_grad=True)
    assert float(loss(logits, labels, weight=w.detach())) == float(loss(logits, labels))
    g = cr.grad(lambda x: loss(x, labels, weight=cr.stop_gradient(np.ones(3))))(logits)
    np.testing.assert_allclose(g, cr.grad(lambda x: loss(x, labels))(logits))
