"""Threads: the switches are per thread, levels stay unique, caches stay apart.

Independent graphs in different threads must get the gradients they would get
alone. Barriers force the interleavings that went wrong when the switches
(grad mode, anomaly mode, subgradient policy, kinks recording) and the
recurrence primitives' sweep cache were process-wide; a short switch interval
makes the threads take turns often between them.
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
from chainrule.core.config import transform_scope
from chainrule.ops import recurrent, recurrent_gru

TIMEOUT = 60.0


@pytest.fixture(autouse=True)
def _switch_often():
    """Let the interpreter switch threads every few microseconds during a test."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def run_threads(*workers):
    """Run ``worker(barrier)`` for each worker in its own thread; return their results.

    A worker that fails breaks the barrier, so the others stop instead of waiting
    forever, and its exception is raised here.
    """
    barrier = threading.Barrier(len(workers), timeout=TIMEOUT)
    results: list = [None] * len(workers)
    errors: list = [None] * len(workers)

    def run(i, worker):
        try:
            results[i] = worker(barrier)
        except BaseException as err:  # noqa: BLE001 - reported in the main thread
            errors[i] = err
            barrier.abort()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT * 2)
        assert not t.is_alive(), "a worker thread hung"
    first = [e for e in errors if e is not None and not isinstance(e, threading.BrokenBarrierError)]
    if first:
        raise first[0]
    for e in errors:
        if e is not None:
            raise e
    return results


class _NoBarrier:
    def wait(self):
        return 0


# --- training independent models at once -------------------------------------------------


def _data(seed, steps=6, batch=4, features=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((steps, batch, features)), rng.standard_normal((batch, 1))


def _model(kind, seed):
    if kind == "lstm":
        core = nn.LSTM(3, 5, generator=seed, dtype=np.float64)
    elif kind == "gru":
        core = nn.GRU(3, 5, generator=seed, dtype=np.float64)
    else:
        core = nn.Sequential(nn.Linear(3, 8, generator=seed, dtype=np.float64), nn.Tanh(),
                             nn.Linear(8, 5, generator=seed + 1, dtype=np.float64))
    head = nn.Linear(5, 1, generator=seed + 2, dtype=np.float64)
    return core, head


def _predict(kind, core, head, x):
    if kind == "lstm":
        out, (h, _) = core(x)
        return head(out[-1])
    if kind == "gru":
        out, h = core(x)
        return head(out[-1])
    return head(core(x).mean(axis=0))


def _train(kind, seed, barrier, steps=3):
    """A few Adam steps; the losses, the final parameters and every step's gradients."""
    core, head = _model(kind, seed)
    params = list(core.parameters()) + list(head.parameters())
    opt = cr.optim.Adam(params, lr=0.05)
    x, y = _data(seed)
    losses, grads = [], []
    for _ in range(steps):
        barrier.wait()  # every thread builds its graph at the same time ...
        loss = ((_predict(kind, core, head, cr.tensor(x)) - cr.tensor(y)) ** 2).mean()
        opt.zero_grad()
        barrier.wait()  # ... and sweeps back at the same time
        loss.backward()
        grads.append([p.grad.numpy().copy() for p in params])
        opt.step()
        losses.append(float(loss.detach().numpy()))
    return losses, [p.detach().numpy().copy() for p in params], grads


def _evaluate(barrier, steps=3):
    """Another thread evaluating under ``no_grad`` the whole time the others train."""
    core, head = _model("lstm", 99)
    x, _ = _data(99)
    seen = []
    with cr.no_grad():
        for _ in range(steps):
            barrier.wait()
            out = _predict("lstm", core, head, cr.tensor(x))
            seen.append(out.requires_grad)
            barrier.wait()
    return seen


JOBS = [("lstm", 0), ("gru", 1), ("mlp", 2), ("lstm", 3), ("gru", 4)]


def test_training_in_threads_matches_serial():
    serial = [_train(kind, seed, _NoBarrier()) for kind, seed in JOBS]
    workers = [lambda b, k=kind, s=seed: _train(k, s, b) for kind, seed in JOBS]
    *parallel, seen = run_threads(*workers, _evaluate)
    assert seen == [False, False, False]
    for (kind, seed), ours, alone in zip(JOBS, parallel, serial):
        np.testing.assert_allclose(ours[0], alone[0], rtol=0, atol=1e-12, err_msg=kind)
        for step, (got, want) in enumerate(zip(ours[2], alone[2])):
            for g, w in zip(got, want):
                np.testing.assert_allclose(g, w, rtol=0, atol=1e-12,
                                           err_msg=f"{kind} {seed} gradient at step {step}")
        for p, q in zip(ours[1], alone[1]):
            np.testing.assert_allclose(p, q, rtol=0, atol=1e-12, err_msg=f"{kind} {seed}")


# --- the switches ------------------------------------------------------------------------


def test_no_grad_in_one_thread_does_not_stop_recording_in_another():
    def quiet(barrier):
        with cr.no_grad():
            barrier.wait()  # the other thread records now
            barrier.wait()
            return cr.is_grad_enabled()

    def recording(barrier):
        barrier.wait()
        x = cr.tensor([1.0, 2.0], requires_grad=True)
        y = (x * x).sum()
        enabled = cr.is_grad_enabled()
        barrier.wait()
        y.backward()
        return enabled, y.requires_grad, x.grad.numpy().tolist()

    off, (enabled, recorded, grad) = run_threads(quiet, recording)
    assert off is False
    assert enabled and recorded and grad == [2.0, 4.0]


def test_set_grad_enabled_and_enable_grad_are_per_thread():
    def toggler(barrier):
        with cr.set_grad_enabled(False):
            barrier.wait()
            with cr.enable_grad():
                barrier.wait()
                inner = cr.is_grad_enabled()
                barrier.wait()
            barrier.wait()
            return inner, cr.is_grad_enabled()

    def watcher(barrier):
        with cr.no_grad():
            seen = []
            for _ in range(4):
                barrier.wait()
                seen.append(cr.is_grad_enabled())
            return seen

    (inner, outer), seen = run_threads(toggler, watcher)
    assert (inner, outer) == (True, False)
    assert seen == [False] * 4


def test_a_new_thread_starts_with_the_defaults():
    box = {}

    def child():
        box["grad"] = cr.is_grad_enabled()
        box["policy"] = cr.subgradients.current_policy()
        x = cr.tensor(0.0, requires_grad=True)
        box["log"] = float(cr.log(x).detach().numpy())  # anomaly mode off: no error

    with cr.no_grad(), cr.subgradient_policy("jax"), cr.detect_anomaly():
        t = threading.Thread(target=child)
        t.start()
        t.join(TIMEOUT)
        assert not cr.is_grad_enabled()
    assert box == {"grad": True, "policy": "min-norm", "log": -np.inf}


def test_anomaly_mode_is_per_thread():
    def strict(barrier):
        with cr.detect_anomaly():
            barrier.wait()
            barrier.wait()
            x = cr.tensor(0.0, requires_grad=True)
            with pytest.raises(FloatingPointError, match="log"):
                cr.log(x)
        return True

    def relaxed(barrier):
        barrier.wait()
        x = cr.tensor([0.0, 1.0], requires_grad=True)
        y = cr.log(x)
        barrier.wait()
        y.sum().backward()
        return y.detach().numpy().tolist(), x.grad.numpy().tolist()

    ok, (values, grad) = run_threads(strict, relaxed)
    assert ok
    assert values == [-np.inf, 0.0] and grad == [np.inf, 1.0]


@pytest.mark.parametrize("policy", ["pytorch", "jax"])
def test_subgradient_policy_is_per_thread(policy):
    f = cr.grad(lambda x: cr.maximum(x, 1.0))
    with cr.subgradient_policy(policy):
        expected = float(f(1.0))
    assert expected != float(f(1.0))  # the policies differ here

    def chosen(barrier):
        with cr.subgradient_policy(policy):
            barrier.wait()
            barrier.wait()
            return float(f(1.0)), cr.subgradients.current_policy()

    def default(barrier):
        barrier.wait()
        got = float(f(1.0))
        barrier.wait()
        return got, cr.subgradients.current_policy()

    assert run_threads(chosen, default) == [(expected, policy), (0.0, "min-norm")]


def test_kinks_recording_is_per_thread():
    def recorder(barrier):
        with cr.kinks() as report:
            barrier.wait()  # the other thread evaluates relu at its kink now
            barrier.wait()
            cr.relu(cr.tensor([0.0, 1.0]))
        return [(e.primitive, e.indices) for e in report]

    def other(barrier):
        barrier.wait()
        cr.relu(cr.tensor([2.0, 0.0, 0.0]))
        cr.abs(cr.tensor(0.0))
        with cr.kinks() as mine:
            cr.maximum(cr.tensor(1.0), cr.tensor(1.0))
        barrier.wait()
        return [e.primitive for e in mine]

    seen, mine = run_threads(recorder, other)
    assert seen == [("relu", [(0,)])]
    assert mine == ["maximum"]


def test_switches_nested_at_random_in_several_threads():
    """Each thread opens and closes random nested switch blocks, in step with the
    others; at every step its operations follow its own switches. Afterwards the
    shared fast path (``state``) holds the defaults again."""
    from chainrule.core.config import state

    def nest(barrier, seed, depth=0, expected=(True, False)):
        rng = np.random.default_rng(seed)
        seen = []
        for _ in range(6):
            kind, value = rng.integers(4), bool(rng.integers(2))
            if kind == 0:
                block, now = cr.no_grad(), (False, expected[1])
            elif kind == 1:
                block, now = cr.enable_grad(), (True, expected[1])
            elif kind == 2:
                block, now = cr.set_grad_enabled(value), (value, expected[1])
            else:
                block, now = cr.detect_anomaly(), (expected[0], True)
            with block:
                barrier.wait()
                x = cr.tensor(1.0, requires_grad=True)
                y = x * 2.0
                seen.append((cr.is_grad_enabled(), bool(state.anomaly), y.requires_grad)
                            == (now[0], now[1], now[0]))
                if depth < 2:
                    seen += nest(barrier, seed * 7 + 1, depth + 1, now)
                barrier.wait()
            seen.append((cr.is_grad_enabled(), bool(state.anomaly)) == expected)
        return seen

    results = run_threads(*[lambda b, s=s: nest(b, s) for s in range(4)])
    assert all(all(seen) for seen in results)
    assert state.grad_enabled is True and state.anomaly is False


# --- levels and caches -------------------------------------------------------------------


def _tracer(frame, event, arg):
    """A line tracer (as coverage and debuggers install): Python code runs between the
    lines of every function, so a thread can be switched out between any two of them."""
    return _tracer


def test_transform_levels_stay_unique_and_increasing_across_threads():
    def take(barrier, n=5000):
        barrier.wait()
        levels = []
        sys.settrace(_tracer)
        try:
            for _ in range(n):
                with transform_scope() as level:
                    levels.append(level)
        finally:
            sys.settrace(None)
        return levels

    taken = run_threads(*[take] * 4)
    for levels in taken:
        assert all(a < b for a, b in zip(levels, levels[1:]))
    every = [level for levels in taken for level in levels]
    assert len(set(every)) == len(every)


@pytest.mark.parametrize("module", [recurrent, recurrent_gru], ids=["lstm", "gru"])
def test_sweep_cache_entries_are_per_thread(module):
    cache = module._last_sweep
    g, out = np.ones(3), np.zeros(3)
    result = (np.arange(3.0),)

    def owner(barrier):
        cache.put(g, out, result)
        barrier.wait()  # the other thread looks, then sweeps (and clears) its own
        barrier.wait()
        kept = cache.get(g, out)
        cache.clear()
        return kept, cache.get(g, out)

    def other(barrier):
        barrier.wait()
        seen = cache.get(g, out)  # the same keys, but not this thread's entry
        _train("lstm" if module is recurrent else "gru", 7, _NoBarrier(), steps=1)
        barrier.wait()
        return seen

    (kept, after), seen = run_threads(owner, other)
    assert seen is None
    assert kept is result and after is None


def _f(x):
    return cr.sum(cr.tanh(x) * cr.maximum(x, 0.5) + cr.sin(x) ** 2)


def _transforms(barrier, policy):
    """grad, grad of grad, jacfwd, hessian and jvp of one function; the function waits at
    the barrier, so every thread is inside its transforms at once."""
    def f(x):
        barrier.wait()
        return _f(x)

    x = np.array([0.5, -0.3, 1.2])
    with cr.subgradient_policy(policy):
        return [np.asarray(v) for v in (
            cr.grad(f)(x),
            cr.grad(lambda x: cr.grad(f)(x)[0])(x),
            cr.jacfwd(cr.grad(f))(x),
            cr.hessian(f)(x),
            cr.jvp(f, (x,), (np.ones(3),))[1],
        )]


def test_transforms_in_many_threads_match_serial():
    policies = ["min-norm", "pytorch", "jax", "min-norm"] * 2
    serial = [_transforms(_NoBarrier(), p) for p in policies]
    parallel = run_threads(*[lambda b, p=p: _transforms(b, p) for p in policies])
    for p, ours, alone in zip(policies, parallel, serial):
        for a, b in zip(ours, alone):
            np.testing.assert_array_equal(a, b, err_msg=p)
    # the policies differ at the tie x = 0.5, so a shared switch would show
    assert serial[0][0][0] != serial[1][0][0]


def test_symbolic_nodes_stay_unique_across_threads():
    """Expressions are hash-consed: a symbol or node is one object, and derivatives
    compare symbols by identity, so two threads making the same new name at once
    must get the same object (else d/dx of the other thread's x is silently 0)."""
    from chainrule.symbolic import symbol

    names = [f"thread_symbol_{i}" for i in range(3000)]

    def make(barrier):
        barrier.wait()
        sys.settrace(_tracer)
        try:
            made = [symbol(n) for n in names]
            return made, [cr.sin(s) * s for s in made]
        finally:
            sys.settrace(None)

    runs = run_threads(*[make] * 4)
    for made, exprs in runs[1:]:
        assert all(a is b for a, b in zip(made, runs[0][0]))
        assert all(a is b for a, b in zip(exprs, runs[0][1]))
