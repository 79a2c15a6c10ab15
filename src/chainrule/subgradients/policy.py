"""Which framework's choices the kinked rules take: the policy switch."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

POLICIES = ("min-norm", "pytorch", "jax")


class _State(threading.local):
    """This thread's policy (a new thread starts with the default, as with ``no_grad``)."""

    policy = "min-norm"


_state = _State()


def current_policy() -> str:
    """The name of the subgradient policy in force."""
    return _state.policy


@contextlib.contextmanager
def subgradient_policy(name: str) -> Iterator[str]:
    """Take ``name``'s choices at every kink inside the block (in this thread).

    ``"min-norm"`` (the default) takes the smallest subgradient; ``"pytorch"``
    and ``"jax"`` reproduce those frameworks' choices (see ``TABLE``).

    >>> import chainrule as cr
    >>> both = cr.grad(lambda x, y: cr.maximum(x, y), argnums=(0, 1))
    >>> [float(g) for g in both(1.0, 1.0)]
    [0.5, 0.5]
    >>> float(cr.grad(lambda x: cr.maximum(x, 1.0))(1.0))
    0.0
    >>> with cr.subgradient_policy("pytorch"):
    ...     float(cr.grad(lambda x: cr.maximum(x, 1.0))(1.0))
    0.5
    """
    if name not in POLICIES:
        raise ValueError(f"subgradient_policy: unknown policy {name!r}; choose one of "
                         f"{', '.join(repr(p) for p in POLICIES)}")
    previous = _state.policy
    _state.policy = name
    try:
        yield name
    finally:
        _state.policy = previous
