"""jacfwd, jacrev, hessian and hvp: against PyTorch and central differences."""

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.forward import Dual
from chainrule.transforms import batching as forward_batching

RNG = np.random.default_rng(7)


def rosenbrock(x):
    return cr.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def torch_rosenbrock(x):
    return torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def sine_mix(x):
    return cr.sum(cr.sin(x) * x**2) + cr.sum(x) ** 2


def torch_sine_mix(x):
    return torch.sum(torch.sin(x) * x**2) + torch.sum(x) ** 2


@pytest.mark.parametrize("f, torch_f, n", [(rosenbrock, torch_rosenbrock, 2),
                                           (rosenbrock, torch_rosenbrock, 100),
                                           (sine_mix, torch_sine_mix, 7)],
                         ids=["rosenbrock2", "rosenbrock100", "sine_mix"])
def test_hessian_matches_torch(f, torch_f, n):
    x = RNG.uniform(-1.5, 1.5, n)
    h = cr.hessian(f)(x)
    expected = torch.func.hessian(torch_f)(torch.tensor(x)).numpy()
    assert h.shape == (n, n)
    np.testing.assert_allclose(h, expected, rtol=1e-10, atol=1e-10)
    v = RNG.standard_normal(n)
    np.testing.assert_allclose(cr.hvp(f, x, v), expected @ v, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(cr.jacrev(cr.jacfwd(f))(x), expected, rtol=1e-10, atol=1e-10)


def _mlp_loss(params, inputs, labels):
    hidden = cr.tanh(inputs @ params["w1"] + params["b1"])
    logits = hidden @ params["w2"] + params["b2"]
    picked = cr.sum(logits * cr.one_hot(labels, 3, dtype=np.float64), axis=1)
    return cr.mean(cr.logsumexp(logits, axis=1) - picked)


def _torch_mlp_loss(params, inputs, labels):
    hidden = torch.tanh(inputs @ params["w1"] + params["b1"])
    logits = hidden @ params["w2"] + params["b2"]
    return torch.nn.functional.cross_entropy(logits, labels)


def test_hessian_of_a_small_mlp_cross_entropy_matches_torch():
    params = {"w1": RNG.standard_normal((4, 5)) * 0.5, "b1": RNG.standard_normal(5) * 0.1,
              "w2": RNG.standard_normal((5, 3)) * 0.5, "b2": RNG.standard_normal(3) * 0.1}
    inputs, labels = RNG.standard_normal((6, 4)), RNG.integers(0, 3, 6)
    h = cr.hessian(_mlp_loss)(params, inputs, labels)
    t_params = {k: torch.tensor(v) for k, v in params.items()}
    expected = torch.func.hessian(_torch_mlp_loss)(t_params, torch.tensor(inputs),
                                                   torch.tensor(labels))
    assert set(h) == set(params)
    for a in params:
        assert set(h[a]) == set(params)
        for b in params:
            assert h[a][b].shape == params[a].shape + params[b].shape
            np.testing.assert_allclose(h[a][b], expected[a][b].numpy(), rtol=1e-9, atol=1e-12,
                                       err_msg=f"d2 loss / d{a} d{b}")
    v = {k: RNG.standard_normal(p.shape) for k, p in params.items()}
    hv = cr.hvp(lambda p: _mlp_loss(p, inputs, labels), params, v)
    for a in params:
        expected_hv = sum(np.tensordot(h[a][b], v[b], axes=v[b].ndim) for b in params)
        np.testing.assert_allclose(hv[a], expected_hv, rtol=1e-9, atol=1e-12)


def _numeric_jacobian(f, x, h=1e-6):
    out = np.asarray(f(x))
    jac = np.zeros(out.shape + x.shape)
    for k in range(x.size):
        step = np.zeros(x.size)
        step[k] = h
        step = step.reshape(x.shape)
        jac.reshape(out.size, -1)[:, k] = ((np.asarray(f(x + step)) - np.asarray(f(x - step)))
                                           / (2 * h)).reshape(-1)
    return jac


def _wide(x):  # R^(2x3) -> R^(4x2x3): more outputs than inputs, several primitive kinds
    a = cr.reshape(cr.sin(x), (6,))
    stacked = cr.stack([x, x * x, cr.exp(x) / 3.0, cr.tanh(x.T).T], axis=0)
    return stacked * cr.sum(a) + cr.cumsum(x, axis=1)


def _narrow(x):  # R^(3x4) -> R^2
    return cr.concatenate([cr.reshape(cr.max(x, axis=1, keepdims=True)[1:2], (1,)),
                           cr.expand_dims(cr.sum(cr.log1p(x * x) @ cr.ones(4)), 0)])


@pytest.mark.parametrize("f, shape", [(_wide, (2, 3)), (_narrow, (3, 4))], ids=["wide", "narrow"])
def test_jacfwd_equals_jacrev_equals_central_differences(f, shape):
    x = RNG.uniform(-1, 1, shape)
    jf, jr = cr.jacfwd(f)(x), cr.jacrev(f)(x)
    assert jf.shape == np.shape(f(x)) + shape
    np.testing.assert_allclose(jf, jr, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(jf, _numeric_jacobian(f, x), rtol=1e-6, atol=1e-8)


def test_the_generic_fallback_agrees_with_the_table(monkeypatch):
    x = RNG.uniform(-1, 1, (2, 3))
    expected_fwd, expected_rev = cr.jacfwd(_wide)(x), cr.jacrev(_wide)(x)
    monkeypatch.setattr(forward_batching, "batching_rule", lambda prim: None)
    np.testing.assert_allclose(cr.jacfwd(_wide)(x), expected_fwd, rtol=1e-14)
    np.testing.assert_allclose(cr.jacrev(_wide)(x), expected_rev, rtol=1e-14)
    z = RNG.uniform(-1, 1, (3, 4))
    np.testing.assert_allclose(cr.jacfwd(_narrow)(z), _numeric_jacobian(_narrow, z),
                               rtol=1e-6, atol=1e-8)


def test_a_user_primitive_without_a_batching_rule_goes_one_by_one():
    cube = cr.primitive(lambda x: x ** 3, name="cube_for_jacobians")
    cube.defvjp(lambda g, out, x: g * 3.0 * x * x)
    cube.defjvp(lambda dx, out, x: dx * 3.0 * x * x)
    x = np.array([1.0, 2.0, -0.5])
    expected = np.diag(3.0 * x * x)
    np.testing.assert_allclose(cr.jacfwd(cube)(x), expected)
    np.testing.assert_allclose(cr.jacrev(cube)(x), expected)
    np.testing.assert_allclose(cr.hessian(lambda v: cr.sum(cube(v)))(x), np.diag(6.0 * x))


def test_one_sweep_each_whatever_the_number_of_inputs_and_outputs():
    calls = []

    def f(x, y):
        calls.append(1)
        return cr.outer(cr.sin(x), y)

    x, y = RNG.standard_normal(5), RNG.standard_normal(4)
    jf = cr.jacfwd(f, argnums=(0, 1))(x, y)
    jr = cr.jacrev(f, argnums=(0, 1))(x, y)
    assert len(calls) == 2
    assert jf[0].shape == (5, 4, 5) and jf[1].shape == (5, 4, 4)
    for a, b in zip(jf, jr):
        np.testing.assert_allclose(a, b, rtol=1e-14)
    np.testing.assert_allclose(jf[1][:, :, 0], np.outer(np.sin(x), [1.0, 0.0, 0.0, 0.0]))


def test_hvp_costs_a_constant_number_of_operations_whatever_the_size(monkeypatch):
    counts = []
    process = Dual._process

    def counting(self, prim, args, params):
        counts[-1] += 1
        return process(self, prim, args, params)

    monkeypatch.setattr(Dual, "_process", counting)
    for n in (10, 1000):
        counts.append(0)
        x = RNG.uniform(-1, 1, n)
        hv = cr.hvp(rosenbrock, x, np.ones(n))
        assert hv.shape == (n,)
    assert counts[0] == counts[1] > 0


def test_jacobians_of_scalars_and_of_functions_ignoring_their_input():
    assert float(cr.jacfwd(cr.sin)(0.0)) == 1.0
    assert float(cr.jacrev(cr.sin)(0.0)) == 1.0
    np.testing.assert_array_equal(cr.jacfwd(lambda x: np.ones(2))(np.ones(3)), np.zeros((2, 3)))
    np.testing.assert_array_equal(cr.jacrev(lambda x: np.ones(2))(np.ones(3)), np.zeros((2, 3)))


def test_hessian_of_a_non_scalar_function_is_refused():
    with pytest.raises(TypeError, match=r"hessian: the function must return a scalar, it "
                                        r"returned shape \(3,\)"):
        cr.hessian(cr.sin)(np.ones(3))
    with pytest.raises(TypeError, match=r"hessian: .* returned a tuple of 2 values"):
        cr.hessian(lambda x: (cr.sum(x), cr.sum(x)))(np.ones(3))
    with pytest.raises(TypeError, match=r"grad: the function must return a scalar"):
        cr.hvp(cr.sin, np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match=r"hvp: v has shape \(2,\), expected \(3,\) \(the "
                                         r"shape of x\)"):
        cr.hvp(rosenbrock, np.ones(3), np.ones(2))
