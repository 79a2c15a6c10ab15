"""The switches (gradient recording, anomaly detection) and transform levels.

The switches are per thread, as PyTorch's grad mode is: ``no_grad`` in one
thread never stops another from recording, and a new thread starts with the
defaults. Each thread's values live in a ``threading.local``; but reading one
costs several times a plain attribute, and the hot path reads them on every
operation, so it reads ``state`` instead: a plain object that holds a switch's
default while every thread has it (the common case, one attribute read), and
otherwise a stand-in whose truth is the calling thread's value.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator


class _Here(threading.local):
    """This thread's switches; the class attributes are a new thread's values."""

    grad_enabled = True
    anomaly = False


_here = _Here()


class _GradHere:
    """``state.grad_enabled`` while some thread has recording off: true or false as
    the calling thread has it."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return _here.grad_enabled


class _AnomalyHere:
    """``state.anomaly`` while some thread has anomaly mode on."""

    __slots__ = ()

    def __bool__(self) -> bool:
        return _here.anomaly


class _State:
    """What the hot path tests for truth: ``grad_enabled`` and ``anomaly``."""

    __slots__ = ("grad_enabled", "anomaly")

    def __init__(self) -> None:
        self.grad_enabled: object = True
        self.anomaly: object = False


state = _State()
_DEFAULTS = {"grad_enabled": True, "anomaly": False}
_STAND_INS = {"grad_enabled": _GradHere(), "anomaly": _AnomalyHere()}
_away = dict.fromkeys(_DEFAULTS, 0)  # how many threads have each switch off its default
_lock = threading.Lock()


def _switch(name: str, value: bool) -> None:
    """Set this thread's switch ``name``; ``state`` holds the default only while no
    thread is away from it (a thread leaves the default before its next operation
    can read ``state``, and is counted back only after it has returned to it)."""
    default = _DEFAULTS[name]
    with _lock:
        was_away = getattr(_here, name) != default
        setattr(_here, name, value)
        _away[name] += (value != default) - was_away
        setattr(state, name, default if _away[name] == 0 else _STAND_INS[name])


@contextlib.contextmanager
def _switched(name: str, value: bool) -> Iterator[None]:
    previous = getattr(_here, name)
    _switch(name, value)
    try:
        yield
    finally:
        _switch(name, previous)


# Transform levels, shared by every thread: each call hands out a number never
# handed out before (``next`` of a count is one step under the GIL), so a level
# is unique and a thread's nested transforms always get increasing ones.
_levels = itertools.count(1)
new_level = _levels.__next__  # a fresh level without a with-block (the hottest transform calls)

# Caches that a primitive's rules share within one backward sweep (the recurrence
# primitives' sweep back through time): the sweep clears them when it ends, so a
# cached result, whose recorded graph may hold the cotangent it is keyed by, never
# outlives the sweep (reverse.backward_pass; each has a ``clear()``, which forgets
# the calling thread's entries only).
sweep_caches: list = []


def is_grad_enabled() -> bool:
    """Whether operations on tensors currently record a graph (in this thread)."""
    return _here.grad_enabled


def no_grad() -> contextlib.AbstractContextManager[None]:
    """Record nothing inside the block (evaluation, parameter updates), in this thread.

    >>> import chainrule as cr
    >>> x = cr.tensor(2.0, requires_grad=True)
    >>> with cr.no_grad():
    ...     y = x * 3
    >>> y.requires_grad
    False
    """
    return _switched("grad_enabled", False)


def enable_grad() -> contextlib.AbstractContextManager[None]:
    """Record again inside a ``no_grad`` block."""
    return _switched("grad_enabled", True)


def set_grad_enabled(enabled: bool) -> contextlib.AbstractContextManager[None]:
    """Switch recording on or off for the block."""
    return _switched("grad_enabled", bool(enabled))


def detect_anomaly() -> contextlib.AbstractContextManager[None]:
    """Raise at the first primitive whose forward or backward makes NaN or Inf (in
    this thread).

    Nodes recorded inside the block remember the user's file and line, so
    the error says where the offending operation was written.
    """
    return _switched("anomaly", True)


class transform_scope:  # noqa: N801 - used like the context-manager functions above
    """A fresh level for one transform call, higher than every level before.

    Levels only grow (as HIPS autograd's trace ids do), so an inner
    transform's values always outrank those of the transforms around it,
    whatever other threads do meanwhile.
    A plain class rather than a generator: it runs on every transform call.
    """

    __slots__ = ()

    def __enter__(self) -> int:
        return new_level()

    def __exit__(self, *exc: object) -> None:
        return None
