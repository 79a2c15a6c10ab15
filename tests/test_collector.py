"""chainrule.core.collector: acyclic graph nodes kept off Python's cyclic collector.

Whether it is on depends on the whole process (the first hook anywhere turns it off
for good), so each scenario runs in a fresh interpreter of its own: the same checks
whatever ran before. Each asserts what a regression would break: nodes untracked
once a collection looks at them, numbers unchanged, and every graph still freed,
by reference counting when it holds no cycle and by the collector when a hook or a
gradient stored with its graph closes one."""

import os
import subprocess
import sys
import textwrap

import pytest

PRELUDE = """
import gc, weakref
import numpy as np
import chainrule as cr
from chainrule.core import collector
from chainrule.core.graph import Node

def chain(x, n):
    y = x
    for _ in range(n):
        y = cr.sin(y) * 1.01 + y  # a unary op, a constant factor, a tensor sum
    return y

def nodes_of(t):
    seen, ids, todo = [], set(), [t._node]
    while todo:
        node = todo.pop()
        if node is None or id(node) in ids:
            continue
        seen.append(node)
        ids.add(id(node))
        for x in (node._in0, getattr(node, "_in1", None)):
            todo.append(x if type(x) is Node else getattr(x, "_node", None))
    return seen

def tracked(nodes):
    return sum(gc.is_tracked(n) for n in nodes)

assert collector.active(), collector.state.why
x = cr.tensor(np.linspace(-1.0, 1.0, 8), requires_grad=True)
"""


def _run(body: str) -> str:
    code = PRELUDE + textwrap.dedent(body)
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Exception ignored" not in done.stderr, done.stderr  # (in a callback, at exit)
    return done.stdout


def test_a_long_chain_is_untracked_and_its_gradient_unchanged():
    _run("""
        gc.disable()  # collections only where the test makes them
        y = chain(x, 2000)
        nodes = nodes_of(y)
        assert len(nodes) == 6000
        assert tracked(nodes) == 6000  # before any collection looked at them
        gc.collect(1)  # a younger collection, as a long forward pass triggers by itself
        assert tracked(nodes) == 0
        assert not any(type(o) is Node for o in gc.get_objects())
        y.sum().backward()
        untracked_grad = x.grad.data.copy()
        del y, nodes
        x.grad = None
        collector.stop("the same sweep with every node tracked")
        y = chain(x, 2000)
        gc.collect(1)
        assert tracked(nodes_of(y)) == 6000
        y.sum().backward()
        assert np.array_equal(x.grad.data, untracked_grad)
    """)


def test_a_dropped_untracked_graph_is_freed_by_reference_counting():
    _run("""
        y = chain(x, 300)
        gc.collect(1)
        refs = [weakref.ref(n) for n in nodes_of(y)]
        assert tracked(nodes_of(y)) == 0
        gc.disable()
        del y
        assert all(r() is None for r in refs)
        y = chain(x, 300)
        gc.collect(1)
        refs = [weakref.ref(n) for n in nodes_of(y)]
        y.sum().backward()  # the sweep frees saved values; the nodes go with y
        del y
        assert all(r() is None for r in refs)
    """)


def test_a_hook_tracks_every_node_again_and_its_cycle_is_collected():
    _run("""
        y = chain(x, 300)
        z = y * 2.0
        gc.collect(1)
        refs = [weakref.ref(n) for n in nodes_of(z)]
        assert tracked(nodes_of(z)) == 0
        # the hook refers to its own tensor: y -> node -> hooks -> closure -> y
        y.register_hook(lambda g, y=y: g + 0 * y.data)
        assert not collector.active()
        assert tracked(nodes_of(z)) == len(refs)
        gc.disable()
        del y, z
        assert any(r() is not None for r in refs)  # the cycle holds y's graph
        gc.collect()
        assert all(r() is None for r in refs)
    """)


def test_a_gradient_stored_with_its_graph_is_collected():
    _run("""
        y = chain(x, 300)
        gc.collect(1)
        refs = [weakref.ref(n) for n in nodes_of(y)] + [weakref.ref(x)]
        assert tracked(nodes_of(y)) == 0
        (y * y).sum().backward(create_graph=True)  # x.grad's graph refers back to x
        assert x.grad._node is not None and not collector.active()
        assert tracked(nodes_of(y)) == len(refs) - 1
        gc.disable()
        del x, y
        assert refs[-1]() is not None  # x -> x.grad -> its graph -> x
        gc.collect()
        assert all(r() is None for r in refs)
    """)


def test_setting_a_gradient_that_carries_a_graph_stops_it():
    _run("""
        w = cr.tensor(np.ones(8), requires_grad=True)
        w.grad = cr.tensor(np.ones(8))  # a constant: no cycle possible
        w.grad = np.ones(8)
        assert collector.active()
        w.grad = x * 2.0  # x's graph: x -> x.grad -> node -> x once stored in x
        assert not collector.active()
        assert "graph" in collector.state.why
    """)


def test_nodes_that_may_hold_anything_stay_tracked_with_their_users():
    _run("""
        double = cr.primitive(lambda a: 2 * a, name="double_made_on_the_fly")
        double.defvjp(lambda g, out, a: 2 * g)
        y = chain(double(chain(x, 100)), 100)  # its impl's closure is the user's
        gc.collect(1)
        order = sorted(nodes_of(y), key=lambda n: n.seq)
        first = next(i for i, n in enumerate(order) if n.prim is double)
        assert tracked(order[:first]) == 0
        assert tracked(order[first:]) == len(order) - first  # it and every later node
        y.sum().backward()
        x2 = cr.tensor(x.data, requires_grad=True)
        chain(2.0 * chain(x2, 100), 100).sum().backward()
        assert np.array_equal(x.grad.data, x2.grad.data)
    """)


def test_a_node_being_made_during_a_collection_is_looked_at_again():
    _run("""
        y = cr.sin(x)
        node = object.__new__(Node)  # as a hot path has it while a collection starts
        node.prim = y._node.prim
        collector._on_collection("start", {"generation": 1})
        assert gc.is_tracked(node) and len(collector.state.pending) == 1
        for slot in Node.__slots__:
            if slot not in ("__weakref__", "_hooks", "prim") and hasattr(y._node, slot):
                setattr(node, slot, getattr(y._node, slot))
        collector._on_collection("start", {"generation": 1})
        assert not gc.is_tracked(node) and collector.state.pending == []
    """)


@pytest.mark.parametrize("generation", [0, 1, 2])
def test_only_collections_that_promote_look(generation):
    out = _run(f"""
        gc.disable()
        y = chain(x, 50)
        collector._on_collection("start", {{"generation": {generation}}})
        print(tracked(nodes_of(y)))
    """)
    assert int(out) == (150 if generation == 0 else 0)


@pytest.mark.parametrize("on", [True, False])
def test_long_forward_passes_start_no_full_collection(on):
    # what a big import leaves behind (PyTorch: some 170,000 tracked objects), which
    # every full collection walks; 5 rounds of 21,000 nodes promote more than a quarter
    # of it when nodes stay tracked, which is what starts a full collection
    out = _run(f"""
        if not {on}:
            collector.stop("the comparison: every node tracked")
        ballast = [[] for _ in range(200_000)]
        gc.collect()
        full = []
        gc.callbacks.append(lambda phase, info: full.append(1)
                            if phase == "start" and info["generation"] == 2 else None)
        for _ in range(5):
            chain(x, 7000).sum().backward()
            x.grad = None
        print(len(full))
    """)
    assert (int(out) == 0) if on else (int(out) > 0)
