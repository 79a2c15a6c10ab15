"""Forward mode on every spec of the table, to second order.

For each spec (every ``tests/ops/specs_*.py``): the JVP along a random
direction equals the Jacobian from jacrev times that direction, and from
central differences in float64; a JVP along a basis direction is the
matching column of jacrev's Jacobian; jacfwd's whole Jacobian (one batched
sweep) equals jacrev's. Second order: jvp of grad (forward over reverse)
and jvp of jvp (forward over forward) against PyTorch's double backward,
and jacfwd of jacrev (the Hessian) times the direction.
"""

import numpy as np
import pytest
import torch

import chainrule as cr
from tests.ops import harness
from tests.ops.test_primitives import _all_specs

SPECS = _all_specs()


def _contract(jacobians, tangents):
    """sum_i J_i . t_i over each input's axes: the directional derivative."""
    return sum(np.tensordot(np.asarray(j, dtype=np.float64), t, axes=np.ndim(t))
               for j, t in zip(jacobians, tangents))


def _numeric_jacobians(fn, args, h=1e-6):
    out = np.asarray(fn(*args), dtype=np.float64)
    jacobians = []
    for i, a in enumerate(args):
        jac = np.zeros(out.shape + np.shape(a))
        flat = jac.reshape(out.size, -1)
        for k in range(np.size(a)):
            step = np.zeros(np.size(a))
            step[k] = h
            step = step.reshape(np.shape(a))
            plus = [a + step if j == i else b for j, b in enumerate(args)]
            minus = [a - step if j == i else b for j, b in enumerate(args)]
            diff = (np.asarray(fn(*plus), dtype=np.float64) -
                    np.asarray(fn(*minus), dtype=np.float64)) / (2 * h)
            flat[:, k] = diff.reshape(-1)
        jacobians.append(jac)
    return jacobians


def _torch_hvp(spec, args, weight, directions):
    """PyTorch's d/dt grad <f(x + t v), w> at t = 0, per argument."""
    tt = harness.to_torch(args)
    tout = spec.torch_fn(*tt)
    firsts = torch.autograd.grad((tout * torch.tensor(weight)).sum(), tt, create_graph=True,
                                 allow_unused=True)
    inner = sum((g * torch.tensor(d)).sum() for g, d in zip(firsts, directions)
                if g is not None)
    if not isinstance(inner, torch.Tensor) or not inner.requires_grad:
        return [np.zeros(np.shape(a)) for a in args]
    seconds = torch.autograd.grad(inner, tt, allow_unused=True)
    return [np.zeros(np.shape(a)) if s is None else s.detach().numpy(force=True) for a, s in
            zip(args, seconds)]


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_jvp_is_a_column_of_the_jacobian(spec):
    rng = np.random.default_rng(5)
    for case in range(len(spec.shapes)):
        args = spec.args(rng, case)
        nums = tuple(range(len(args)))
        tangents = [rng.standard_normal(np.shape(a)) for a in args]
        out, t_out = cr.jvp(spec.fn, tuple(args), tuple(tangents))
        harness.assert_close(out, np.asarray(spec.fn(*args)), 0, 0, f"{spec.name} jvp value")
        rev = cr.jacrev(spec.fn, argnums=nums)(*args)
        fwd = cr.jacfwd(spec.fn, argnums=nums)(*args)
        for i, (jr, jf) in enumerate(zip(rev, fwd)):
            assert np.shape(jr) == np.shape(out) + np.shape(args[i])
            harness.assert_close(jf, jr, spec.rtol, spec.atol, f"{spec.name} jacfwd arg {i}")
        harness.assert_close(t_out, _contract(rev, tangents), spec.rtol * 10, spec.atol * 10,
                             f"{spec.name}: jvp vs jacrev")
        numeric = _numeric_jacobians(spec.fn, args) if spec.numeric else None
        if numeric is not None:
            np.testing.assert_allclose(t_out, _contract(numeric, tangents), rtol=1e-5,
                                       atol=1e-6, err_msg=f"{spec.name}: jvp vs central "
                                                          f"differences")
        # a basis direction picks one column of each Jacobian
        i = int(rng.integers(len(args)))
        if np.size(args[i]):
            k = int(rng.integers(np.size(args[i])))
            basis = [np.zeros(np.shape(a)) for a in args]
            basis[i].reshape(-1)[k] = 1.0
            column = cr.jvp(spec.fn, tuple(args), tuple(basis))[1]
            expected = np.asarray(rev[i]).reshape(np.shape(out) + (-1,))[..., k]
            harness.assert_close(column, expected, spec.rtol, spec.atol,
                                 f"{spec.name}: column {k} of arg {i}, jacrev")
            if numeric is not None:
                expected = numeric[i].reshape(np.shape(out) + (-1,))[..., k]
                np.testing.assert_allclose(column, expected, rtol=1e-5, atol=1e-6,
                                           err_msg=f"{spec.name}: column {k} of arg {i}, "
                                                   f"central differences")


@pytest.mark.parametrize("spec", [s for s in SPECS if s.second_order], ids=lambda s: s.name)
def test_second_order_forward_matches_torch(spec):
    rng = np.random.default_rng(6)
    for case in range(len(spec.shapes)):
        args = spec.args(rng, case)
        nums = tuple(range(len(args)))
        weight = rng.standard_normal(np.shape(np.asarray(spec.fn(*args))))
        directions = [rng.standard_normal(np.shape(a)) for a in args]
        expected = _torch_hvp(spec, args, weight, directions)

        def loss(*xs):
            return cr.sum(spec.fn(*xs) * weight)

        over_reverse = cr.jvp(cr.grad(loss, argnums=nums), tuple(args), tuple(directions))[1]
        tol = (spec.rtol * 100, spec.atol * 100)
        for i, (a, e) in enumerate(zip(over_reverse, expected)):
            harness.assert_close(a, e, *tol, f"{spec.name}: jvp of grad, arg {i}")

        def slope(*xs):
            return cr.jvp(loss, xs, tuple(directions))[1]

        curvature = cr.jvp(slope, tuple(args), tuple(directions))[1]  # v^T H v
        expected_curvature = sum(np.sum(e * d) for e, d in zip(expected, directions))
        harness.assert_close(curvature, expected_curvature, *tol, f"{spec.name}: jvp of jvp")
        if case == 0:
            hess = cr.jacfwd(cr.jacrev(loss, argnums=nums), argnums=nums)(*args)
            for i in nums:
                row = sum(np.tensordot(hess[i][j], directions[j], axes=np.ndim(directions[j]))
                          for j in nums)
                harness.assert_close(row, expected[i], *tol, f"{spec.name}: hessian, arg {i}")
