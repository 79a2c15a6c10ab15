"""Values that would leave the graph: refused with an error naming what was called.

Inside a transform (``cr.grad``, ``cr.jvp``, ``cr.jacfwd``, ...) a traced value
carries a derivative. ``float(x)``, ``int(x)``, ``x.item()``, ``x.tolist()``,
``bool(x)``, the ``math`` module (which calls ``float``) and ``np.asarray`` /
``np.array([x, 2 * x])`` would keep its value but drop its derivative, so the
transform would silently return 0 for that path. As JAX does, chainrule refuses
them with :class:`TracerConversionError`.

What stays allowed, because no derivative is lost:

* ``shape``, ``dtype``, ``ndim``, ``size``, ``len`` and iteration of traced values;
* conversions of a value that carries no derivative at its level: a comparison
  (``if x > 0:`` branches on the current value; the transforms run eagerly, so
  each call differentiates the branch it took, which is how piecewise functions
  are written), an integer result (``int(cr.argmax(x))``), a value computed from
  constants only, or one made constant on purpose with ``cr.stop_gradient(x)``
  or ``x.detach()``;
* on the tensor API (level 0, no transform running) ``float(t)``, ``int(t)``,
  ``t.item()``, ``t.tolist()`` and ``bool(t)``, as in PyTorch: they obviously
  leave the graph. ``np.asarray(t)`` of a tensor that requires grad is refused
  there too (PyTorch refuses it as well), because NumPy calls it silently
  (``np.array([t1, t2])``, ``np.testing``); write ``t.detach().numpy()``.
"""

from __future__ import annotations

import linecache
import os
import re
import sys
import types
from typing import Any, NoReturn

from chainrule.backend import xp
from chainrule.core.trace import Traced, describe

FLOAT = "float()"
INT = "int()"
BOOL = "bool()"
ITEM = ".item()"
TOLIST = ".tolist()"
ARRAY = "np.asarray()"
NUMPY = ".numpy()"
TENSOR = "cr.tensor()"


class TracerConversionError(TypeError):
    """A value that carries a derivative was turned into a constant (a Python
    number, a bool or a plain array), which would silently make its derivative 0.

    The message names the conversion, the value (dtype and shape), the transform
    that traces it and what to write instead.
    """


_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_LIBRARY_DIRS = (_HERE, os.path.dirname(os.path.abspath(xp.__file__)) + os.sep)
_CODES: dict[types.CodeType, str] = {}  # a transform's running frame -> its public name


def register_transform(fn: Any, name: str, inner: str | None = None) -> None:
    """Let errors name the transform ``name`` when a frame of ``fn`` (or of the
    function ``inner`` defined in it, the one that runs the user's function) is
    on the stack. The transform modules register themselves; this layer cannot
    import them."""
    code = fn.__code__
    if inner is None:
        _CODES[code] = name
        return
    for const in code.co_consts:
        if isinstance(const, types.CodeType) and const.co_name == inner:
            _CODES[const] = name


def _transform_frames() -> list[tuple[str, Any]]:
    """The transforms running on this thread, innermost first: (name, frame)."""
    codes = _CODES
    found = []
    frame = sys._getframe(1)
    while frame is not None:
        name = codes.get(frame.f_code)
        if name is not None:
            found.append((name, frame))
        frame = frame.f_back
    return found


def transform_name(level: int) -> str | None:
    """The public transform that handed out ``level`` (``"grad"``, ``"jvp"``...),
    found on the call stack only when an error is raised, so the transforms pay
    nothing for it; None when no running transform owns the level."""
    frames = _transform_frames()
    for i, (name, frame) in enumerate(frames):
        local = frame.f_locals
        if level not in (local.get("level"), local.get("batch_level")):
            continue
        if name == "value_and_grad":  # cr.grad is value_and_grad plus a projection
            outer = [n for n, _ in frames[i + 1:] if n != "value_and_grad"]
            if outer and outer[0] == "grad":
                name = "grad"
        around = [n for n, _ in frames if n in ("hessian", "hvp")]
        if around and around[-1] != name:
            return f"cr.{name} (inside cr.{around[-1]})"
        return f"cr.{name}"
    return None


def _where(value: Any) -> str:
    level = getattr(value, "_level", 0)
    name = transform_name(level)
    if name is not None:
        return f"traced by {name}"
    kind = type(value).__name__
    family = {"Tensor": "a reverse-mode transform (cr.grad, cr.vjp, cr.jacrev, cr.linearize)",
              "Dual": "a forward-mode transform (cr.jvp, cr.jacfwd, cr.hessian, cr.hvp)",
              "Batched": "cr.jacfwd or cr.jacrev (a stack of tangents)"}.get(kind, "a transform")
    return f"traced by {family} at level {level}, which is no longer running"


def constant(value: Any) -> Any:
    """The current value of ``value`` as a plain array, cut off from every graph and
    transform on purpose: the library's own reads of statistics kept outside the
    graph (running means), range checks and drawings. Never for a value whose
    derivative matters; users write ``cr.stop_gradient`` or ``detach``.
    """
    while isinstance(value, Traced):
        if getattr(value, "stacked", False):  # under vmap: the stack, not one example's
            raise NotImplementedError(
                "this operation reads its argument's concrete values (a range check, a "
                "statistic, an index), which under cr.vmap are a whole stack of examples, "
                "not one: it cannot be mapped yet; compute it outside vmap or with "
                "operations that map (for class indices: cr.one_hot)")
        inner = getattr(value, "primal", getattr(value, "data", value))
        if inner is value:
            raise TypeError(f"{type(value).__name__} has no concrete value")
        value = inner
    return xp.asarray(value)


def carries_derivative(value: Any) -> bool:
    """Whether ``value`` carries derivative information at some level: a tensor that
    requires grad, a dual, a stack of tangents (or a constant tensor of a transform
    holding one of them)."""
    while isinstance(value, Traced):
        if getattr(value, "requires_grad", True):
            return True
        value = value.data
    return False


def _user_line() -> str:
    """Source of the first line outside chainrule and NumPy on the stack ('' if none)."""
    frame = sys._getframe(2)
    while frame is not None:
        if not os.path.abspath(frame.f_code.co_filename).startswith(_LIBRARY_DIRS):
            return linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
        frame = frame.f_back
    return ""


_MATH_CALL = re.compile(r"\bmath\.(\w+)\s*\(")
_ARRAY_OF_LIST = re.compile(r"\b(?:np|numpy)\.(?:as)?array\s*\(\s*[\[(]")

_INSTEAD = {
    FLOAT: "use chainrule operations on the value itself (cr.sin(x), not math.sin(x); "
           "x * 2.0, not float(x) * 2.0)",
    INT: "use chainrule operations on the value itself; int() of an index made by "
         "cr.argmax or of a comparison is allowed",
    ITEM: "use the value itself in chainrule operations (x, or x[i] for one element)",
    TOLIST: "index the value (x[i]) or iterate over it (for row in x) to keep derivatives",
    BOOL: "branch on a comparison, which carries no derivative (if x > 0: is allowed), "
          "or select with cr.where(x > 0, a, b)",
    ARRAY: "build arrays of traced values with cr.stack([x, 2 * x]) (not np.array), "
           "apply NumPy functions to the value directly (np.sin(x) stays on the graph)",
    NUMPY: "use the value itself in chainrule (or NumPy) operations",
    TENSOR: "use the value itself (it is already a tensor), or cr.stack([...]) to build one",
}


def refuse(value: Any, what: str) -> NoReturn:
    """Raise :class:`TracerConversionError` for ``what`` (FLOAT, BOOL, ARRAY...) of
    ``value``, a traced value that carries a derivative."""
    if getattr(value, "_level", 0) == 0:  # the tensor API: only np.asarray is refused
        raise TracerConversionError(
            f"{what} of a tensor that requires grad ({describe(value)}): NumPy would get "
            f"its values cut off from the graph, so derivatives through it would "
            f"silently be 0 (PyTorch refuses this too). Write t.detach().numpy() for the "
            f"values, or cr.stack([t1, t2]) to build a tensor from tensors on the graph")
    called = what
    line = _user_line()
    if what in (FLOAT, INT):
        match = _MATH_CALL.search(line)
        if match:
            called = f"math.{match.group(1)}() (it calls {what})"
        elif what == FLOAT:
            called = "float() (math.sin and the other math functions call it too)"
    elif what == ARRAY:
        if _ARRAY_OF_LIST.search(line) and "asarray" not in line:
            called = "np.array([...]) (NumPy calls np.asarray on each element)"
        else:
            called = "np.asarray() (np.array and other NumPy conversions call it)"
    if what == BOOL:
        consequence = ("its truth value (x != 0) is a constant, and 'if x:', 'x or y' or "
                       "'not x' on a float value that carries a derivative is almost always "
                       "a mistake that would silently change the derivative")
    else:
        consequence = ("the result would be a constant, so the derivative through it "
                       "would silently be 0")
    raise TracerConversionError(
        f"{called} of a {describe(value)} value that carries a derivative ({_where(value)}): "
        f"{consequence}. Instead, {_INSTEAD[what]}; if a constant is really meant, write "
        f"cr.stop_gradient(x) first (x.detach() on tensors)")


class RefusesConversions:
    """Mixin for traced values that always carry derivative information (forward-mode
    duals, stacks of tangents, Taylor series): every conversion to a Python value or a
    plain array would drop it, so each is refused (comparisons give plain booleans,
    so ``if x > 0:`` still works)."""

    __slots__ = ()

    def __bool__(self) -> bool:
        refuse(self, BOOL)

    def __float__(self) -> float:
        refuse(self, FLOAT)

    def __int__(self) -> int:
        refuse(self, INT)

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        refuse(self, ARRAY)

    def item(self) -> Any:
        refuse(self, ITEM)

    def tolist(self) -> Any:
        refuse(self, TOLIST)
