"""The fused backend (numba): elementwise chains as one kernel, equal to the NumPy
program and to eager mode within a few ulps; without numba, the NumPy program.

Kernels compile into a temporary cache directory (``CHAINRULE_CACHE_DIR``, set
in tests/conftest.py); the spec table's elementwise entries are checked in a few
large programs (all specs of one shape case and dtype at once) so that a few
dozen kernels compile, not hundreds (numba takes a fraction of a second each).
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import chainrule as cr
from chainrule.program import fuse
from chainrule.pytree import flatten
from tests.ops.specs_elementwise import SPECS
from tests.program.test_random_programs import build, steps

numba = pytest.importorskip("numba")

# spec "where" reads values with np.asarray: it cannot be traced (test_spec_table)
ELEMENTWISE = [s for s in SPECS if s.name != "where"]
FUSED = "a fused kernel (numba)"  # in the compiled source when a group fused
ULPS = 16  # elementary functions: numba's C library against NumPy's own loops (6 seen)


def _close(fused, reference, dtype, what):
    """Within ULPS units in the last place of the reference's magnitude (per array)."""
    a, b = np.asarray(fused), np.asarray(reference)
    assert a.shape == b.shape and a.dtype == b.dtype, f"{what}: {a.dtype}{a.shape} != " \
                                                      f"{b.dtype}{b.shape}"
    if a.dtype.kind == "b":
        np.testing.assert_array_equal(a, b, err_msg=what)
        return
    scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
    np.testing.assert_allclose(a, b, rtol=ULPS * np.finfo(dtype).eps,
                               atol=ULPS * np.finfo(dtype).eps * scale, err_msg=what)


def _sources(jitted):
    return "".join(c.fn.__source__ for c in jitted.cache.values())


def _all_specs(case, dtype):
    """One function computing every elementwise spec's value and gradients."""
    rng = np.random.default_rng(case)
    args, weights = {}, {}
    for spec in ELEMENTWISE:
        xs = [np.asarray(a, dtype) for a in spec.args(rng, case)]
        args[spec.name] = xs
        weights[spec.name] = rng.standard_normal(np.shape(spec.fn(*xs))).astype(dtype)

    def every(args):
        out = {}
        for spec in ELEMENTWISE:
            def loss(*xs, spec=spec):
                return cr.sum(spec.fn(*xs) * weights[spec.name])
            nums = tuple(range(len(args[spec.name])))
            out[spec.name] = cr.value_and_grad(loss, argnums=nums)(*args[spec.name])
        return out

    return every, args


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


# shape case 1 is (2, 3) for unary specs and (2, 3) with (3,) for binary ones; case 0
# is (3,) and (3,) with (3,); case 2 is () (nothing fuses) and (2, 1) with (1, 3)
@pytest.mark.parametrize(("case", "dtype"), [(1, "float64"), (1, "float32"), (0, "float32"),
                                             (2, "float64")])
def test_elementwise_specs_fused_equal_unfused_and_eager(case, dtype):
    every, args = _all_specs(case, dtype)
    eager = every(args)
    unfused = cr.jit(every)(args)
    fused_fn = cr.jit(every, backend="numba")
    fused = fused_fn(args)
    assert FUSED in _sources(fused_fn)
    for spec in ELEMENTWISE:
        e, _ = flatten(eager[spec.name])
        u, _ = flatten(unfused[spec.name])
        f, _ = flatten(fused[spec.name])
        for k, (ev, uv, fv) in enumerate(zip(e, u, f)):
            what = f"{spec.name} case {case} {dtype} output {k}"
            np.testing.assert_array_equal(uv, ev, err_msg=what + " (unfused)")
            _close(fv, ev, dtype, what + " (fused)")


@settings(max_examples=8, deadline=None)
@given(plan=steps, seed=st.integers(0, 2**31 - 1),
       dtype=st.sampled_from(["float64", "float32"]))
def test_random_programs_fused_equal_eager(plan, seed, dtype):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((3, 4)).astype(dtype)
    y = rng.standard_normal((3, 4)).astype(dtype)
    f = build(plan)
    vg = cr.value_and_grad(f, argnums=(0, 1))
    eager = vg(x, y)
    fused = cr.jit(vg, backend="numba")(x, y)
    e, _ = flatten(eager)
    g, _ = flatten(fused)
    for a, b in zip(g, e):
        if np.all(np.isfinite(b)):
            _close(a, b, dtype, f"plan {plan}")
        else:
            assert np.array_equal(np.isnan(a), np.isnan(b))


def test_fusion_keeps_the_order_of_a_chain_broken_by_matmul():
    """x -> tanh -> matmul -> + x -> ...: the value after the matmul cannot join the
    group before it (that would need the matmul's result before it is computed)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 4))

    def f(x):
        a = cr.sin(x) * 2.0
        b = a @ a
        return cr.sum(cr.cos(b + a) * a)

    jf = cr.jit(cr.value_and_grad(f), backend="numba")
    value, grad = jf(x)
    e_value, e_grad = cr.value_and_grad(f)(x)
    _close(value, e_value, "float64", "value")
    _close(grad, e_grad, "float64", "grad")
    assert _sources(jf).count("_impl(") >= 2  # more than one kernel: the chain was cut


def test_broadcast_and_noncontiguous_inputs():
    rng = np.random.default_rng(1)
    a = rng.standard_normal((5, 3)).T  # a transposed view
    b = rng.standard_normal(5)
    c = rng.standard_normal((3, 1))

    def f(a, b, c):
        return cr.tanh(a * b + c) - cr.square(b) * 0.5

    _close(cr.jit(f, backend="numba")(a, b, c), f(a, b, c), "float64", "broadcast")


def test_mlp_step_fused_equals_eager_in_float32():
    rng = np.random.default_rng(2)
    params = {"w": (rng.standard_normal((8, 16)) / 3).astype(np.float32),
              "b": np.zeros(16, np.float32),
              "v": (rng.standard_normal((16, 3)) / 4).astype(np.float32)}
    x = rng.standard_normal((32, 8)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[rng.integers(0, 3, 32)]

    def loss(p, x, y):
        h = cr.tanh(x @ p["w"] + p["b"])
        return -cr.mean(cr.sum(cr.log_softmax(h @ p["v"], axis=-1) * y, axis=-1))

    step = cr.jit(cr.value_and_grad(loss), backend="numba")
    value, grads = step(params, x, y)
    e_value, e_grads = cr.value_and_grad(loss)(params, x, y)
    assert FUSED in _sources(step)
    _close(value, e_value, "float32", "loss")
    for k in params:
        _close(grads[k], e_grads[k], "float32", k)


def test_kernels_are_cached_on_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("CHAINRULE_CACHE_DIR", str(tmp_path))
    source = ("import numpy as np\nfrom numba import njit\n\n\n"
              "@njit(cache=True)\ndef kernel(i0, o0):\n"
              "    for a0 in range(o0.shape[0]):\n        o0[a0] = i0[a0] * 2.0\n")
    fn = fuse._kernel(source)
    out = np.empty(3)
    fn(np.arange(3.0), out)
    np.testing.assert_array_equal(out, [0.0, 2.0, 4.0])
    folder = tmp_path / "kernels"
    files = sorted(p.name for p in folder.iterdir())
    assert any(name.endswith(".py") for name in files)
    cached = list((folder / "__pycache__").glob("*.nbi"))
    assert cached, "numba wrote no index of compiled machine code"


def test_without_numba_the_numpy_program_runs(monkeypatch):
    monkeypatch.setattr(fuse, "_numba", False)  # as if numba were not installed
    x = np.linspace(-1.0, 1.0, 6)

    def f(x):
        return cr.sum(cr.sin(x) * cr.cos(x) + x)

    jg = cr.jit(cr.grad(f), backend="numba")
    with pytest.warns(RuntimeWarning, match=r"numba is not installed.*chainrule\[jit\]"):
        got = jg(x)
    np.testing.assert_array_equal(got, cr.grad(f)(x))  # bit for bit: the NumPy program
    assert FUSED not in _sources(jg)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        jg(np.linspace(0.0, 1.0, 7))  # one warning per jitted function, not per trace


def test_unknown_backend_is_refused():
    with pytest.raises(ValueError, match="backend='gpu' is not one of"):
        cr.jit(lambda x: x, backend="gpu")


def test_cache_dir_follows_the_environment(monkeypatch):
    monkeypatch.delenv("CHAINRULE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    assert fuse.cache_dir() == os.path.join("/somewhere", "chainrule", "kernels")
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert fuse.cache_dir().startswith(os.path.expanduser("~"))


def test_big_endian_arrays_are_left_to_numpy():
    x = np.linspace(-1.0, 1.0, 6).astype(">f8")
    jf = cr.jit(lambda x: cr.sin(x) * 2.0 + x, backend="numba")
    np.testing.assert_array_equal(jf(x), np.sin(x) * 2.0 + x)
    assert FUSED not in _sources(jf)
