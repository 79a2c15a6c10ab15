"""The recorded graph and Python's cyclic garbage collector.

Every full collection walks every tracked object of the process, and a long forward
pass triggers full collections; so a recorded operation must leave as few tracked
objects behind as it can (pinned here: a regression fails), and a graph must still
never leak: freed by reference counting alone when it holds no cycle, and by the
collector when a hook closes one."""

import gc
import weakref

import numpy as np
import pytest

import chainrule as cr
from chainrule import reverse
from chainrule.core import collector

# What a recorded unary or binary operation leaves tracked once its output tensor is
# dropped and a collection has looked at it: nothing while chainrule.core.collector is
# active (it stops tracking acyclic nodes; tests/test_collector.py checks that in a
# fresh process), its node once a hook has turned that off (as an earlier test may
# have). Its inputs live in the node's slots (a result as its node, so the
# intermediate tensors go), its saved arrays in a tuple of untracked values
# (untracked by the collector's first look at it).
TRACKED_PER_OP = 1


def _tracked_after(build):
    """The tracked objects that ``build()``'s result holds and that did not exist
    before, by type name, after a full collection (which untracks tuples and dicts of
    untracked values): what the graph adds to every later full collection."""
    gc.collect()
    before = {id(o) for o in gc.get_objects()}
    kept = build()
    gc.collect()
    seen = {id(kept): kept}
    todo = [kept]
    while todo:
        for r in gc.get_referents(todo.pop()):
            if gc.is_tracked(r) and id(r) not in before and id(r) not in seen:
                seen[id(r)] = r
                todo.append(r)
    counts = {}
    for o in seen.values():
        name = type(o).__name__
        counts[name] = counts.get(name, 0) + 1
    return counts


@pytest.mark.parametrize("op", ["unary", "times_constant", "tensor_plus_tensor", "mixed"])
def test_tracked_objects_per_recorded_operation(op):
    x = cr.tensor(np.linspace(-1.0, 1.0, 5), requires_grad=True)

    def chain(n):
        def build():
            y = x
            for _ in range(n):
                if op == "unary":
                    y = cr.sin(y)
                elif op == "times_constant":
                    y = y * 1.01
                elif op == "tensor_plus_tensor":
                    y = y + x
                else:
                    y = cr.cos(cr.tanh(y) * 0.5 + y)
            return y
        return build

    # the difference between two chain lengths: what the test itself holds cancels
    short, long = _tracked_after(chain(100)), _tracked_after(chain(300))
    ops = 200 * (4 if op == "mixed" else 1)
    grew = {k: long.get(k, 0) - short.get(k, 0) for k in set(short) | set(long)}
    grew = {k: v for k, v in grew.items() if v}
    if collector.active():
        assert grew == {}
    else:
        assert sum(grew.values()) == TRACKED_PER_OP * ops, grew
        assert grew == {"Node": ops}
    y = chain(3)()
    y.sum().backward()  # the graph still works
    assert x.grad is not None


def _graph(kind):
    x = cr.tensor(np.linspace(-1.0, 1.0, 4), requires_grad=True)
    y = cr.sin(x) * 2.0
    z = cr.cos(y) + y
    if kind == "retain_grad":
        y.retain_grad()
    elif kind == "hook":
        y.register_hook(lambda g: g * 2)
    elif kind == "hook_on_itself":  # the hook refers to its tensor: a cycle through the graph
        y.register_hook(lambda g, y=y: g + 0 * y.data)
    elif kind == "leaf_hook_on_itself":
        x.register_hook(lambda g, x=x: g + 0 * x.data)
    loss = z.sum()
    refs = [weakref.ref(t) for t in (x, y, z, loss)]
    refs += [weakref.ref(t._node) for t in (y, z, loss)]
    return loss, refs


@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("kind", ["plain", "retain_grad", "hook", "hook_on_itself",
                                  "leaf_hook_on_itself"])
def test_a_discarded_graph_is_freed(kind, backward):
    enabled = gc.isenabled()
    gc.disable()
    # other tests (a docs page's hook on a tensor it keeps) may hold live entries
    tables_before = (set(reverse.node_hooks), set(reverse.leaf_hooks))
    try:
        loss, refs = _graph(kind)
        if backward:
            loss.backward()
        del loss
        alive = [r for r in refs if r() is not None]
        if kind.endswith("on_itself"):  # a cycle: the collector's job
            gc.collect()
            alive = [r for r in refs if r() is not None]
        assert alive == []  # without a cycle: by reference counting alone
        assert (set(reverse.node_hooks), set(reverse.leaf_hooks)) == tables_before
    finally:
        if enabled:
            gc.enable()


def test_a_removed_hook_stays_removed_after_its_tensor_is_gone():
    x = cr.tensor(1.0, requires_grad=True)
    y = x * 3.0
    handle = y.register_hook(lambda g: g * 2)
    del y
    handle.remove()  # its owner is gone: nothing to do, no error
    y = x * 3.0
    handle = y.register_hook(lambda g: g * 2)
    handle.remove()
    y.backward()
    assert float(x.grad) == 3.0
