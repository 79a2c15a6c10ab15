"""What the recurrence primitives (``lstm_sequence``, ``gru_sequence``) share: the cache
of the last sweep back through time, and stacking per-step values."""

from __future__ import annotations

import weakref

from chainrule.backend import xp
from chainrule.ops.shape import concatenate, expand_dims

__all__: list[str] = []


def is_array(*values) -> bool:
    """Whether every value is a plain array (first-order reverse mode: no tracing)."""
    return all(type(v) is xp.ndarray for v in values)


def stack(values, axis):
    return concatenate([expand_dims(v, axis) for v in values], axis=axis)


class LastSweep:
    """A primitive's reverse rules share one sweep back through time; the engine asks for
    them one after another with the same cotangent and output, so the last sweep is
    kept, keyed by weak references to those two: once the engine drops the cotangent,
    the sweep's arrays go too."""

    __slots__ = ("keys", "result")

    def __init__(self) -> None:
        self.keys: tuple = ()
        self.result = None

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
