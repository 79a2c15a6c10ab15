"""Complex values on a differentiated path are never silently dropped.

Every way of differentiating (tensor backward, grad, vjp, jvp, linearize,
jacfwd, jacrev, hessian, second order with create_graph) either refuses an
operation that turns a differentiated value complex, with an error naming it,
or (see the second half) differentiates it with PyTorch's convention.
"""

from __future__ import annotations

import numpy as np
import pytest

import chainrule as cr

C = np.array([[1.0 + 2.0j, -0.5j], [0.25, 3.0 - 1.0j]])


def _custom_complex(x):
    return x * (1 + 1j)


custom_complex = cr.primitive(_custom_complex, name="custom_complex_test")
custom_complex.defvjp(lambda g, out, x: g)
custom_complex.defjvp(lambda dx, out, x: dx)

# f(x) for a real (2, 2) x, with a complex intermediate whose derivative cannot be
# carried, and the name of the operation that makes it complex
REFUSED = {
    "astype": (lambda x: cr.sum(cr.abs(x.astype(np.complex128))), "astype"),
    "custom": (lambda x: cr.sum(cr.abs(custom_complex(x))), "custom_complex_test"),
    "where": (lambda x: cr.sum(cr.abs(cr.where(x > 0, x, 1j))), "where"),
    "concatenate": (lambda x: cr.sum(cr.abs(cr.concatenate([x, C]))), "concatenate"),
    "einsum": (lambda x: cr.sum(cr.abs(cr.einsum("ij,jk->ik", x, C))), "einsum"),
}


def _engines(f):
    x = np.array([[0.5, -1.0], [2.0, 0.75]])
    return {
        "grad": lambda: cr.grad(f)(x),
        "value_and_grad": lambda: cr.value_and_grad(f)(x),
        "vjp": lambda: cr.vjp(f, x)[1](1.0),
        "jvp": lambda: cr.jvp(f, (x,), (np.ones_like(x),)),
        "linearize": lambda: cr.linearize(f, x)[1](np.ones_like(x)),
        "jacfwd": lambda: cr.jacfwd(f)(x),
        "jacrev": lambda: cr.jacrev(f)(x),
        "hessian": lambda: cr.hessian(f)(x),
        "hvp": lambda: cr.hvp(f, x, np.ones_like(x)),
        "backward": lambda: f(cr.tensor(x, requires_grad=True)).backward(),
        "create_graph": lambda: _double_backward(f, x),
    }


def _double_backward(f, x):
    t = cr.tensor(x, requires_grad=True)
    y = cr.sum(t * t) + 0.0 * f(cr.tensor(x))  # f's input is a constant: fine
    y.backward(create_graph=True)
    cr.sum(f(t.grad)).backward()  # f on a gradient that requires grad


ENGINES = list(_engines(lambda x: x))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", list(REFUSED))
def test_complex_intermediate_is_refused_by_every_engine(case, engine):
    f, op = REFUSED[case]
    with pytest.raises(TypeError, match=rf"{op}: complex differentiation is not supported"):
        _engines(f)[engine]()


@pytest.mark.parametrize("f", [
    lambda x: cr.sum(cr.abs(x.astype(np.complex128))),
    lambda x: cr.sum(cr.abs(cr.where(x > 0, x, 1j))),
])
def test_complex_constant_paths_still_work(f):
    # no input needs a derivative: complex values are ordinary arrays
    x = np.array([[0.5, -1.0], [2.0, 0.75]])
    assert np.allclose(np.asarray(f(cr.tensor(x)).data), np.sum(np.abs(np.asarray(f(x)))))
    with cr.no_grad():
        y = f(cr.tensor(x, requires_grad=True))
    assert not y.requires_grad
    # a complex value made from a constant (stop_gradient) is a constant: derivative 0 there
    g = cr.grad(lambda x: cr.sum(x * x) + f(cr.stop_gradient(x)))(x)
    assert np.allclose(g, 2 * x)


def test_real_path_beside_a_complex_constant():
    x = np.array([0.5, -2.0])
    g = cr.grad(lambda x: cr.sum(x * cr.abs(C[0] * 2.0)))(x)
    assert np.allclose(g, np.abs(2.0 * C[0]))


COMPLEX_INPUT = np.array([1.0 + 1.0j, 2.0 - 0.5j])


@pytest.mark.parametrize("call", [
    lambda: cr.grad(lambda z: cr.sum(cr.abs(z)))(COMPLEX_INPUT),
    lambda: cr.grad(lambda z: cr.abs(z))(1.0 + 1.0j),
    lambda: cr.vjp(lambda z: z, COMPLEX_INPUT),
    lambda: cr.jacrev(lambda z: z)(COMPLEX_INPUT),
    lambda: cr.jacfwd(lambda z: z)(COMPLEX_INPUT),
    lambda: cr.jvp(lambda z: z, (COMPLEX_INPUT,), (COMPLEX_INPUT,)),
    lambda: cr.tensor(COMPLEX_INPUT, requires_grad=True),
    lambda: cr.tensor(COMPLEX_INPUT).requires_grad_(),
], ids=["grad", "grad_scalar", "vjp", "jacrev", "jacfwd", "jvp", "tensor", "requires_grad_"])
def test_complex_inputs_are_refused(call):
    with pytest.raises(TypeError, match="complex"):
        call()


@pytest.mark.parametrize("call", [
    lambda: (cr.tensor([1.0, 2.0], requires_grad=True) * 2).backward(np.array([1j, 1j])),
    lambda: cr.vjp(lambda x: x * 2, np.ones(2))[1](np.array([1j, 1j])),
    lambda: cr.vjp(lambda x: x * 2, np.ones(2))[1]([1j, 1j]),
    lambda: cr.jvp(lambda x: x * 2, (np.ones(2),), ([1j, 1j],)),
    lambda: cr.jvp(lambda x: x * 2, (np.ones(2),), (np.array([1j, 1j]),)),
], ids=["backward", "vjp_array", "vjp_list", "jvp_list", "jvp_array"])
def test_complex_seed_for_a_real_value_is_refused(call):
    # casting it would drop the imaginary part without a word
    with pytest.raises(TypeError, match="complex"):
        call()
