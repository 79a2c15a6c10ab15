"""The switches (gradient recording, anomaly detection) and transform levels.

The switches are per thread, as PyTorch's grad mode is: ``no_grad`` in one
thread never stops another from recording, and a new thread starts with the
defaults. They live in one ``threading.local`` whose class attributes are the
defaults, so the hot path still reads a single attribute.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator


class _State(threading.local):
    """This thread's switches; the class attributes are a new thread's values."""

    grad_enabled = True
    anomaly = False


state = _State()

# Transform levels, shared by every thread: each call hands out a number never
# handed out before (``next`` of a count is one step under the GIL), so a level
# is unique and a thread's nested transforms always get increasing ones.
_levels = itertools.count(1)

# Caches that a primitive's rules share within one backward sweep (the recurrence
# primitives' sweep back through time): the sweep clears them when it ends, so a
# cached result, whose recorded graph may hold the cotangent it is keyed by, never
# outlives the sweep (reverse.backward_pass; each has a ``clear()``, which forgets
# the calling thread's entries only).
sweep_caches: list = []


def is_grad_enabled() -> bool:
    """Whether operations on tensors currently record a graph."""
    return state.grad_enabled


@contextlib.contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    previous = state.grad_enabled
    state.grad_enabled = enabled
    try:
        yield
    finally:
        state.grad_enabled = previous


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Record nothing inside the block (evaluation, parameter updates), in this thread.

    >>> import chainrule as cr
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> with cr.no_grad():
    ...     y = x * 3
    >>> y.requires_grad
    False
    """
    return _grad_mode(False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Record again inside a ``no_grad`` block."""
    return _grad_mode(True)


def set_grad_enabled(enabled: bool) -> contextlib.AbstractContextManager[None]:
    """Switch recording on or off for the block."""
    return _grad_mode(bool(enabled))


@contextlib.contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise at the first primitive whose forward or backward makes NaN or Inf (in
    this thread).

    Nodes recorded inside the block remember the user's file and line, so
    the error says where the offending operation was written.
    """
    previous = state.anomaly
    state.anomaly = True
    try:
        yield
    finally:
        state.anomaly = previous


class transform_scope:  # noqa: N801 - used like the context-manager functions above
    """A fresh level for one transform call, higher than every level before.

    Levels only grow (as HIPS autograd's trace ids do), so an inner
    transform's values always outrank those of the transforms around it,
    whatever other threads do meanwhile.
    A plain class rather than a generator: it runs on every transform call.
    """

    __slots__ = ()

    def __enter__(self) -> int:
        return next(_levels)

    def __exit__(self, *exc: object) -> None:
        return None
