"""Binding a primitive to its arguments, whatever kind of value they are.

Values that carry derivative information (reverse-mode tensors, forward-mode
duals, symbolic expressions) subclass :class:`Traced`. ``bind`` hands the
operation to the argument of the highest level, which records it and
evaluates the primal through ``bind`` again; plain arrays go straight to the
implementation. Levels keep nested transforms apart: an inner transform's
values always have a higher level than the values of an outer one.
"""

from __future__ import annotations

from typing import Any


class Traced:
    """Base of every value an engine intercepts.

    Subclasses define ``_level`` and ``_process(prim, args, params)``.
    """

    __slots__ = ()
    _level: int = 0

    def _process(self, prim: Any, args: tuple, params: dict) -> Any:  # pragma: no cover
        raise NotImplementedError


def bind(prim: Any, *args: Any, **params: Any) -> Any:
    """Apply ``prim`` to ``args``: delegate to the top traced value, if any."""
    top = None
    for a in args:
        if isinstance(a, Traced) and (top is None or a._level > top._level):
            top = a
    if top is None:
        return call_impl(prim, args, params)
    return top._process(prim, args, params)


def describe(value: Any) -> str:
    """Shape and dtype of an argument, for error messages."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is None:
        return type(value).__name__
    return f"{dtype}{list(shape)}"


def call_impl(prim: Any, args: tuple, params: dict) -> Any:
    """Run the implementation; name the operation and operands if it fails."""
    try:
        return prim.impl(*args, **params)
    except (ValueError, TypeError, IndexError, ArithmeticError) as err:
        operands = ", ".join(describe(a) for a in args)
        extra = f" with {params}" if params else ""
        message = f"{prim.name}: cannot apply to ({operands}){extra}: {err}"
        try:
            wrapped = type(err)(message)
        except Exception:  # an exception type with an unusual constructor
            wrapped = ValueError(message)
        raise wrapped from err
