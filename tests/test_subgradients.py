"""Every kink convention pinned with exact values, under each policy.

Central differences cannot check a convention (at a kink they return the
midpoint of the one-sided slopes), so these tests state the numbers. The
PyTorch policy is compared with PyTorch itself; the JAX policy with JAX's
documented rules (see docs/subgradients.md for the sources).
"""

import re
from pathlib import Path

import numpy as np
import pytest
import torch

import chainrule as cr
from chainrule.subgradients import POLICIES, TABLE, choice, current_policy

DOC = Path(__file__).resolve().parents[1] / "docs" / "subgradients.md"


def grads(f, *args):
    """Every argument's derivative of f at args (plain floats)."""
    out = cr.grad(f, argnums=tuple(range(len(args))))(*[float(a) for a in args])
    return tuple(float(g) for g in out)


# ----- the default policy: minimum norm over the differentiated arguments -----

@pytest.mark.parametrize("f, x, expected", [
    (cr.relu, 0.0, 0.0), (cr.relu, 1e-300, 1.0), (cr.relu, -1e-300, 0.0),
    (cr.abs, 0.0, 0.0), (cr.abs, -0.0, 0.0), (cr.abs, 2.0, 1.0), (cr.abs, -2.0, -1.0),
    (lambda x: cr.maximum(x, 0.0), 0.0, 0.0), (lambda x: cr.maximum(0.0, x), 0.0, 0.0),
    (lambda x: cr.minimum(x, 0.0), 0.0, 0.0), (lambda x: cr.minimum(x, 3.0), 3.0, 0.0),
    (lambda x: cr.clip(x, 0.0, 1.0), 0.0, 0.0), (lambda x: cr.clip(x, 0.0, 1.0), 1.0, 0.0),
    (lambda x: cr.clip(x, 0.0, 1.0), 0.5, 1.0), (lambda x: cr.clip(x, 1.0, 1.0), 1.0, 0.0),
    (lambda x: cr.clip(x, a_min=0.0), 0.0, 0.0), (lambda x: cr.clip(x, a_max=0.0), 0.0, 0.0),
    (lambda x: cr.sign(x) * 1.0, 0.0, 0.0),
])
def test_one_argument_conventions(f, x, expected):
    assert grads(f, x) == (expected,)


@pytest.mark.parametrize("f, args, expected", [
    (cr.maximum, (1.0, 1.0), (0.5, 0.5)), (cr.maximum, (2.0, 1.0), (1.0, 0.0)),
    (cr.minimum, (1.0, 1.0), (0.5, 0.5)), (cr.minimum, (2.0, 1.0), (0.0, 1.0)),
    # clip(x, lo, hi): the tie is shared by x and the bound it sits on
    (cr.clip, (0.0, 0.0, 1.0), (0.5, 0.5, 0.0)), (cr.clip, (1.0, 0.0, 1.0), (0.5, 0.0, 0.5)),
    (cr.clip, (-1.0, 0.0, 1.0), (0.0, 1.0, 0.0)), (cr.clip, (2.0, 0.0, 1.0), (0.0, 0.0, 1.0)),
    (cr.clip, (1.0, 1.0, 1.0), (1 / 3, 1 / 3, 1 / 3)),   # all three tie
    (cr.clip, (0.0, 1.0, 1.0), (0.0, 0.5, 0.5)),         # lo == hi above x: they tie
    (cr.clip, (0.5, 2.0, 1.0), (0.0, 0.0, 1.0)),         # lo > hi: NumPy returns hi
])
def test_ties_share_evenly_when_every_tied_argument_is_differentiated(f, args, expected):
    np.testing.assert_allclose(grads(f, *args), expected, rtol=0, atol=1e-15)


def test_a_constant_in_the_tie_takes_the_share_to_zero():
    # clip with one differentiated bound: x and the constant bound tie -> 0
    both = cr.grad(lambda x, lo: cr.clip(x, lo, 1.0), argnums=(0, 1))(0.0, 0.0)
    assert [float(g) for g in both] == [0.5, 0.5]
    with_hi = cr.grad(lambda x, hi: cr.clip(x, 0.0, hi), argnums=(0, 1))(0.0, 1.0)
    assert [float(g) for g in with_hi] == [0.0, 0.0]  # x ties with the constant lo
    assert float(cr.grad(lambda lo: cr.clip(0.0, lo, 1.0))(0.0)) == 0.0


def test_relu_and_maximum_with_zero_agree_everywhere():
    xs = np.array([-2.0, -1e-12, 0.0, 1e-12, 3.0])
    a = cr.grad(lambda x: cr.sum(cr.relu(x)))(xs)
    b = cr.grad(lambda x: cr.sum(cr.maximum(x, 0.0)))(xs)
    c = cr.grad(lambda x: cr.sum(cr.maximum(x, np.zeros(5))))(xs)
    np.testing.assert_array_equal(a, [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, c)


def test_tensors_decide_by_requires_grad():
    x, y = cr.tensor(1.0, requires_grad=True), cr.tensor(1.0)
    cr.maximum(x, y).backward()
    assert float(x.grad) == 0.0
    x, y = cr.tensor(1.0, requires_grad=True), cr.tensor(1.0, requires_grad=True)
    cr.maximum(x, y).backward()
    assert (float(x.grad), float(y.grad)) == (0.5, 0.5)


def test_the_same_variable_twice_gives_the_true_derivative():
    assert grads(lambda x: cr.maximum(x, x), 2.0) == (1.0,)
    assert grads(lambda x: cr.clip(x, x, x), 2.0) == (1.0,)


def test_nested_transforms_decide_per_level():
    # the inner derivative treats x as a constant: d/dy max(x, y) at y == x is 0
    inner = lambda x: cr.grad(lambda y: cr.maximum(x, y))(1.0)  # noqa: E731
    assert float(inner(1.0)) == 0.0
    assert float(cr.grad(inner)(1.0)) == 0.0
    # the outer level differentiates both arguments of the maximum it records
    outer = cr.grad(lambda x: cr.maximum(x, x * 1.0) * cr.grad(lambda y: y * x)(1.0))
    assert float(outer(1.0)) == 2.0  # d/dx (x * x) = 2


def test_create_graph_passes_which_arguments_are_differentiated():
    x, y = cr.tensor(1.0, requires_grad=True), cr.tensor(1.0)
    (g,) = cr.vjp(lambda a: cr.maximum(a, 1.0), 1.0)[1](np.array(1.0))
    assert float(g) == 0.0
    out = cr.maximum(x, y) * x
    out.backward(create_graph=True)
    assert float(x.grad) == 1.0  # max(x, 1) * x at x = 1: share 0 * x + max = 1


def test_float32_stays_float32_through_ties():
    x = cr.tensor(np.zeros(3, np.float32), requires_grad=True)
    y = cr.tensor(np.zeros(3, np.float32), requires_grad=True)
    cr.sum(cr.maximum(x, y) + cr.clip(x, y, 1.0)).backward()
    assert x.grad.dtype == np.float32 and y.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad.data, [1.0, 1.0, 1.0])  # 1/2 + 1/2


def test_subgradient_property_for_the_convex_kinks():
    # a convex f: f(x + h) >= f(x) + g h for every h; maximum is convex jointly
    rng = np.random.default_rng(0)
    for f, x in [(cr.relu, 0.0), (cr.abs, 0.0), (lambda v: cr.maximum(v, 2.0), 2.0)]:
        (g,) = grads(f, x)
        for h in rng.uniform(-1, 1, 20):
            assert float(f(x + h)) >= float(f(x)) + g * h - 1e-15
    gx, gy = grads(cr.maximum, 1.0, 1.0)
    for hx, hy in rng.uniform(-1, 1, (20, 2)):
        assert float(cr.maximum(1.0 + hx, 1.0 + hy)) >= 1.0 + gx * hx + gy * hy - 1e-15
    # minimum is concave: its choice is a supergradient
    gx, gy = grads(cr.minimum, 1.0, 1.0)
    for hx, hy in rng.uniform(-1, 1, (20, 2)):
        assert float(cr.minimum(1.0 + hx, 1.0 + hy)) <= 1.0 + gx * hx + gy * hy + 1e-15


def test_reductions_and_norm_follow_the_table():
    np.testing.assert_array_equal(cr.grad(cr.max)(np.array([1.0, 3.0, 3.0])), [0, 0.5, 0.5])
    np.testing.assert_array_equal(cr.grad(cr.min)(np.array([1.0, 1.0, 1.0])), [1 / 3] * 3)
    np.testing.assert_array_equal(cr.grad(cr.norm)(np.zeros(3)), [0, 0, 0])
    np.testing.assert_array_equal(cr.grad(cr.std)(np.full(3, 2.0)), [0, 0, 0])
    assert TABLE["max"].choice["min-norm"] == "split"
    assert TABLE["vector_norm"].choice["min-norm"] == 0.0


def test_sqrt_at_zero_keeps_its_infinite_slope():
    with np.errstate(divide="ignore"):
        assert float(cr.grad(cr.sqrt)(0.0)) == np.inf
    assert TABLE["sqrt"].choice["min-norm"] == np.inf


def test_sort_and_topk_follow_the_table():
    x = np.array([1.0, 3.0, 3.0])
    expected = {"min-norm": [0.0, 0.5, 0.5], "pytorch": [0.0, 1.0, 0.0], "jax": [0.0, 1.0, 0.0]}
    for policy in POLICIES:
        with cr.subgradient_policy(policy):
            assert TABLE["sort"].choice[policy] == choice("sort")
            np.testing.assert_array_equal(cr.grad(lambda v: cr.sort(v)[-2])(x), expected[policy])
            np.testing.assert_array_equal(cr.grad(lambda v: cr.topk(v, 1)[0][0])(x),
                                          expected[policy])


def _central_hessian(f, x, h=1e-5):
    g = cr.grad(f)
    return np.array([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in np.eye(len(x))])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_p_norm_hessian_at_a_zero_element_is_the_limit_plus_inf():
    """1 < p < 2: the gradient's entry at a zero element has a vertical tangent, so
    the Hessian's diagonal entry is +inf (times the cotangent's sign), the rest of its
    row and column 0, in every nesting of the two modes; p > 2 gives 0 there."""
    x = np.array([0.0, 1.0, -2.0])
    for weight in (1.0, -1.0):
        f = lambda v, w=weight: w * cr.norm(v, ord=1.5)  # noqa: E731
        reference = _central_hessian(f, x)[1:, 1:]  # smooth in the other elements
        for hess in (cr.hessian(f), cr.jacrev(cr.jacrev(f)), cr.jacfwd(cr.grad(f)),
                     cr.jacfwd(cr.jacfwd(f)), cr.jacrev(cr.jacfwd(f))):
            h = hess(x)
            assert h[0, 0] == weight * np.inf
            assert (h[0, 1:] == 0).all() and (h[1:, 0] == 0).all()
            np.testing.assert_allclose(h[1:, 1:], reference, rtol=1e-8)
    f = lambda v: cr.norm(v, ord=1.5)  # noqa: E731
    near = _central_hessian(f, np.array([1e-10, 1.0, -2.0]), h=1e-12)[0, 0]
    assert near > 1e4  # the limit from the right is +inf
    moved = cr.hvp(f, x, np.array([1.0, 0.0, 0.0]))
    assert moved[0] == np.inf and (moved[1:] == 0).all()
    assert np.isfinite(cr.hvp(f, x, np.array([0.0, 1.0, 1.0]))).all()  # 0 stays 0
    h3 = cr.hessian(lambda v: cr.norm(v, ord=3))(x)
    assert h3[0, 0] == 0 and (h3[0] == 0).all()


# ----- the PyTorch policy, against PyTorch -----

def _torch_grads(f, *args):
    ts = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    f(*ts).sum().backward()
    return tuple(float(t.grad) if t.grad is not None else 0.0 for t in ts)


POINTS = [-1.0, 0.0, 0.5, 1.0, 2.0]


@pytest.mark.parametrize("ours, theirs, arity", [
    (cr.relu, torch.relu, 1),
    (cr.abs, torch.abs, 1),
    (cr.maximum, torch.maximum, 2),
    (cr.minimum, torch.minimum, 2),
    (lambda x: cr.maximum(x, 1.0), lambda x: torch.maximum(x, torch.tensor(1.0)), 1),
    (lambda x: cr.clip(x, 0.0, 1.0), lambda x: torch.clamp(x, 0.0, 1.0), 1),
    (lambda x: cr.clip(x, a_min=0.5), lambda x: torch.clamp(x, min=0.5), 1),
    (cr.clip, torch.clamp, 3),
])
def test_pytorch_policy_matches_pytorch(ours, theirs, arity):
    grid = np.array(np.meshgrid(*[POINTS] * arity)).reshape(arity, -1).T
    with cr.subgradient_policy("pytorch"):
        for point in grid:
            expected = _torch_grads(theirs, *point)
            assert grads(ours, *point) == pytest.approx(expected, abs=0), point


def test_pytorch_policy_reductions_match_amax_and_norm():
    x = np.array([1.0, 3.0, 3.0, 0.0])
    with cr.subgradient_policy("pytorch"):
        ours_max = cr.grad(cr.max)(x)
        ours_norm = cr.grad(cr.norm)(np.zeros(3))
        ours_std = cr.grad(cr.std)(np.full(3, 2.0))
    t = torch.tensor(x, requires_grad=True)
    torch.amax(t).backward()
    np.testing.assert_array_equal(ours_max, t.grad.numpy())
    t0 = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    torch.linalg.norm(t0).backward()
    np.testing.assert_array_equal(ours_norm, t0.grad.numpy())
    t2 = torch.full((3,), 2.0, dtype=torch.float64, requires_grad=True)
    torch.std(t2, correction=0).backward()
    np.testing.assert_array_equal(ours_std, t2.grad.numpy())
    # torch.max(dim) gives the whole gradient to one index instead (documented)
    t3 = torch.tensor(x, requires_grad=True)
    torch.max(t3, dim=0).values.backward()
    assert t3.grad.numpy().tolist().count(1.0) == 1


# ----- the JAX policy, from JAX's documented rules -----

@pytest.mark.parametrize("f, args, expected", [
    (cr.abs, (0.0,), (1.0,)),                      # select(x >= 0, g, -g)
    (cr.abs, (-1.0,), (-1.0,)),
    (cr.relu, (0.0,), (0.0,)),                     # jax.nn.relu's custom JVP
    (lambda x: cr.maximum(x, 0.0), (0.0,), (0.5,)),  # lax.max: _balanced_eq
    (cr.maximum, (1.0, 1.0), (0.5, 0.5)),
    (cr.minimum, (1.0, 1.0), (0.5, 0.5)),
    (lambda x: cr.clip(x, 0.0, 1.0), (0.0,), (0.5,)),  # minimum(hi, maximum(lo, x))
    (lambda x: cr.clip(x, 0.0, 1.0), (1.0,), (0.5,)),
    (cr.clip, (0.0, 0.0, 1.0), (0.5, 0.5, 0.0)),
    (cr.clip, (1.0, 1.0, 1.0), (0.25, 0.25, 0.5)),
    (cr.clip, (2.0, 0.0, 1.0), (0.0, 0.0, 1.0)),
])
def test_jax_policy(f, args, expected):
    with cr.subgradient_policy("jax"):
        assert grads(f, *args) == expected


# ----- the switch itself -----

def test_policy_is_restored_after_an_error():
    with pytest.raises(RuntimeError):
        with cr.subgradient_policy("jax"):
            assert current_policy() == "jax"
            raise RuntimeError("boom")
    assert current_policy() == "min-norm"
    assert choice("abs") == 0.0


def test_unknown_policy_names_the_choices():
    with pytest.raises(ValueError, match=r"unknown policy 'torch'.*'min-norm', 'pytorch', 'jax'"):
        with cr.subgradient_policy("torch"):
            pass


def test_policies_nest():
    with cr.subgradient_policy("pytorch"):
        with cr.subgradient_policy("jax"):
            assert grads(cr.abs, 0.0) == (1.0,)
        assert grads(lambda x: cr.clip(x, 0.0, 1.0), 0.0) == (1.0,)
    assert grads(cr.abs, 0.0) == (0.0,)


def test_rules_read_the_policy_when_they_run():
    x = cr.tensor(0.0, requires_grad=True)
    with cr.subgradient_policy("jax"):
        y = cr.abs(x)
    y.backward()  # outside the block: the default
    assert float(x.grad) == 0.0


# ----- the table and its documentation -----

def test_every_policy_has_a_choice_and_words_for_every_entry():
    for name, kink in TABLE.items():
        assert set(kink.choice) == set(POLICIES) == set(kink.says), name
        assert kink.why and kink.subdifferential and kink.where


def test_every_entry_is_watched_and_kinked_primitives_state_their_convention():
    for name, kink in TABLE.items():  # max pooling reports its windows itself
        assert (kink.detect is not None) == (name != "max_pool"), name
    reductions = cr.ops.reductions
    for prim in (cr.relu, cr.abs, cr.sign, cr.maximum, cr.minimum, cr.ops.nonsmooth.clip_p,
                 reductions.max_p, reductions.min_p, reductions.std_p, reductions.vector_norm_p,
                 cr.ops.sorting.sort_p, cr.ops.sorting.topk_p):
        assert TABLE[prim.name].says["min-norm"] in prim.kink
    assert cr.maximum.takes_perturbed and not cr.relu.takes_perturbed


def test_the_document_has_a_row_for_every_entry():
    text = DOC.read_text()
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    for name in TABLE:
        assert any(f"`{name}`" in row for row in rows), name


def test_the_document_examples_run():
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)
    assert len(blocks) >= 5
    namespace: dict = {}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)  # noqa: S102 - our own document


# ----- forward mode reads the same rules -----

def test_forward_mode_conventions():
    def tangent(f, x, dx=1.0):
        return float(cr.jvp(f, (x,), (dx,))[1])

    assert tangent(cr.relu, 0.0) == 0.0 and tangent(cr.abs, 0.0) == 0.0
    assert tangent(lambda x: cr.maximum(x, x), 1.0) == 1.0  # both arguments move
    assert float(cr.jvp(cr.maximum, (1.0, 1.0), (1.0, 0.0))[1]) == 0.5
    with cr.subgradient_policy("jax"):
        assert tangent(cr.abs, 0.0) == 1.0
        assert tangent(lambda x: cr.clip(x, 0.0, 1.0), 1.0) == 0.5
    with cr.subgradient_policy("pytorch"):
        assert tangent(lambda x: cr.clip(x, 0.0, 1.0), 1.0) == 1.0


def test_forward_mode_tie_with_a_constant_takes_zero():
    assert float(cr.jvp(lambda x: cr.maximum(x, 0.0), (0.0,), (1.0,))[1]) == 0.0
    # both arguments perturbed: the tie splits evenly, as in reverse mode
    assert float(cr.jvp(lambda x, y: cr.maximum(x, y), (0.0, 0.0), (1.0, 0.0))[1]) == 0.5
