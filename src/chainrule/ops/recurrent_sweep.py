"""What the recurrence primitives (``lstm_sequence``, ``gru_sequence``) share: the cache
of the last sweep back through time, and stacking per-step values."""

from __future__ import annotations

import weakref
from threading import get_ident

from chainrule.backend import shape_of, xp
from chainrule.core.config import sweep_caches
from chainrule.ops.linalg import tensordot_p
from chainrule.ops.shape import concatenate, expand_dims

__all__: list[str] = []


def is_array(*values) -> bool:
    """Whether every value is a plain array (first-order reverse mode: no tracing)."""
    return all(type(v) is xp.ndarray for v in values)


def stack(values, axis):
    return concatenate([expand_dims(v, axis) for v in values], axis=axis)


def step_products(d, hs, h0):
    """sum over steps t of d_t h_{t-1}^T: the recurrent weight's cotangent from the
    cotangents ``d`` (L, R, N) of every step's product ``w_hh h_{t-1}``, the states
    ``hs`` (L, H, N) and ``h0`` (H, N), as one matrix product over every step."""
    steps = shape_of(d)[0]
    if is_array(d, hs, h0):  # (R, L N) @ (L N, H): the product wants both step-major
        n, batch = h0.shape
        h_prev = xp.empty((n, steps, batch), dtype=xp.result_type(hs, h0))
        h_prev[:, 0] = h0
        h_prev[:, 1:] = hs[:steps - 1].transpose(1, 0, 2)
        rows = d.transpose(1, 0, 2).reshape(d.shape[1], steps * batch)
        return rows @ h_prev.reshape(n, steps * batch).T
    h_prev = concatenate([expand_dims(h0, 0), hs[:steps - 1]], axis=0)
    return tensordot_p(d, h_prev, axes=((0, 2), (0, 2)))


class LastSweep(dict):
    """A primitive's reverse rules share one sweep back through time; the engine asks for
    them one after another with the same cotangent and output, so the last sweep is
    kept, keyed by weak references to those two: once the engine drops the cotangent,
    the sweep's arrays go too. With ``create_graph`` the kept result's graph holds the
    cotangent itself, so the backward sweep also clears the cache when it ends.

    Each thread has its own entry (by thread id), stored as one tuple so it is replaced
    in one step: a thread never sees another's sweep, and the end of one thread's
    backward clears its own entry only. A lost entry only costs a recomputation.

    The entries are the dict itself (thread id -> (ref to g, ref to out, result)), so
    the engine, which clears every cache in ``sweep_caches`` after each sweep, tells
    an empty one by its truth value without a call."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__()
        sweep_caches.append(self)

    def clear(self) -> None:  # this thread's entry only
        _pop(self, get_ident(), None)

    def get(self, g, out):  # (dict's get and pop are reached as _get and _pop)
        entry = _get(self, get_ident())
        if entry is not None and entry[0]() is g and entry[1]() is out:
            return entry[2]
        return None

    def put(self, g, out, result) -> None:
        try:
            g_ref = weakref.ref(g)
            entry = (g_ref, weakref.ref(out), result)
        except TypeError:  # a traced value without weak references: recompute instead
            return
        thread = get_ident()
        self[thread] = entry
        # the finalizer holds the weak reference only: with create_graph the result's
        # graph holds g, so holding the result would keep g alive
        weakref.finalize(g, self._forget, thread, g_ref)

    def _forget(self, thread, g_ref) -> None:  # may run in any thread (the collector's)
        entry = _get(self, thread)
        if entry is not None and entry[0] is g_ref:
            _pop(self, thread, None)


_get = dict.get
_pop = dict.pop
