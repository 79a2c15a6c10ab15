"""What the recurrence primitives (``lstm_sequence``, ``gru_sequence``) share: the cache
of the last sweep back through time, and stacking per-step values."""

from __future__ import annotations

import weakref

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


class LastSweep:
    """A primitive's reverse rules share one sweep back through time; the engine asks for
    them one after another with the same cotangent and output, so the last sweep is
    kept, keyed by weak references to those two: once the engine drops the cotangent,
    the sweep's arrays go too. With ``create_graph`` the kept result's graph holds the
    cotangent itself, so the backward sweep also clears the cache when it ends."""

    __slots__ = ("keys", "result")

    def __init__(self) -> None:
        self.keys: tuple = ()
        self.result = None
        sweep_caches.append(self)

    def clear(self) -> None:
        self.keys, self.result = (), None

    def get(self, g, out):
        if self.keys and self.keys[0]() is g and self.keys[1]() is out:
            return self.result
        return None

    def put(self, g, out, result) -> None:
        try:
            keys = (weakref.ref(g), weakref.ref(out))
        except TypeError:  # a traced value without weak references: recompute instead
            return
        self.keys, self.result = keys, result
        weakref.finalize(g, self._forget, keys)

    def _forget(self, keys) -> None:
        if self.keys is keys:
            self.keys, self.result = (), None
