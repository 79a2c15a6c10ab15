"""Seedable random tensors: one module-level generator, or your own.

>>> import chainrule as cr
>>> cr.random.seed(0)
>>> a = cr.randn(3)
>>> cr.random.seed(0)
>>> bool((cr.randn(3) == a).all())
True
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import xp

_generator = xp.random.default_rng()
# set while a program is traced (chainrule.program.trace): draws become its inputs
_trace_hook: Any = None


def seed(value: int | None) -> None:
    """Reset the module's generator, so random tensors repeat."""
    global _generator
    _generator = xp.random.default_rng(value)


def generator(rng: Any = None) -> Any:
    """The generator to use: the one given, a new one from an int seed, or the module's."""
    if _trace_hook is not None:
        return _trace_hook(rng)
    if rng is None:
        return _generator
    if isinstance(rng, (int, xp.integer)):
        return xp.random.default_rng(int(rng))
    if isinstance(rng, xp.random.Generator):
        return rng
    raise TypeError(f"expected a numpy.random.Generator or an int seed, got {type(rng).__name__}")
