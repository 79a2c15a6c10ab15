"""Forward mode: a value travels with its tangent (a dual number).

A :class:`Dual` of level L holds a primal and a tangent. Applying a
primitive to it evaluates the primitive on the primals, through ``bind``
again so an enclosing transform records too, and pushes the tangents
through the primitive's JVP rules: the same table the reverse sweep and the
symbolic engine read. The engine, not the rules, broadcasts each tangent
contribution to the output's shape and casts it to its dtype.

Levels keep nested transforms apart: a Dual of level L only unwraps Duals of
level L, and a tangent may itself be a value of an enclosing transform (a
tensor being recorded, another Dual), so forward over reverse, reverse over
forward and forward over forward all come from the same ``_process``.
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import dtype_of, ndarray, shape_of, xp
from chainrule.core.escape import RefusesConversions
from chainrule.core.trace import Traced, bind
from chainrule.core.wirtinger import complex_twin, refuse_complex, varies_for_complex
from chainrule.ops.complex_numbers import to_dtype
from chainrule.ops.shape import broadcast_to
from chainrule.tensor_numpy import ArrayOperators, NumpyInterface


def fit_tangent(t: Any, out: Any) -> Any:
    """A tangent contribution broadcast to the output's shape and cast to its dtype
    (a real output keeps the real part of a complex contribution)."""
    shape = shape_of(out)
    if shape_of(t) != shape:
        t = broadcast_to(t, shape)
    dtype = dtype_of(out)
    if dtype_of(t) != dtype:
        t = to_dtype(t, dtype)
    return t


def push_tangents(prim: Any, out: Any, primals: tuple, tangents: list, params: dict) -> Any:
    """The output tangent of ``prim``: the sum of its JVP rules over the arguments
    that carry a tangent, or None when nothing reaches the output (a constant)."""
    rules = prim.jvps
    if rules is None:
        if prim in varies_for_complex and out.dtype.kind == "c":  # sign(z): not a constant
            refuse_complex(prim, primals, out)
        return None
    kind = out.dtype.kind
    if kind == "f" and _complex_tangent(tangents):  # a real result of a complex argument?
        kind = "c"
    if kind != "f":
        if kind != "c":
            return None  # an integer or boolean result: a constant
        rules = complex_twin(prim, primals, out).jvps  # complex rules, or a refusal
    if getattr(prim, "takes_perturbed", False):  # e.g. maximum(x, c): 0 at a tie, not 1/2
        params = {**params, "perturbed": tuple(i for i, dx in enumerate(tangents)
                                               if dx is not None)}
    total = None
    for i, dx in enumerate(tangents):
        if dx is None:
            continue
        rule = rules[i]
        if rule is None:
            continue
        t = rule(dx, out, *primals, **params)
        if t is None:  # a symbolic zero
            continue
        t = fit_tangent(t, out)
        total = t if total is None else total + t
    return total


def _complex_tangent(tangents: list) -> bool:
    """Whether a tangent (which has its primal's dtype) is complex."""
    try:
        for dx in tangents:
            if dx is not None and dx.dtype.kind == "c":
                return True
    except AttributeError:  # a Python number, in a Dual made by hand
        return any(dx is not None and dtype_of(dx).kind == "c" for dx in tangents)
    return False


class Dual(RefusesConversions, ArrayOperators, NumpyInterface, Traced):
    """A primal value and its tangent at one forward-mode level.

    Users meet Duals inside the function given to ``jvp`` or ``jacfwd``:
    they behave like arrays (operators, NumPy functions, ``shape``, ``len``);
    Python control flow branches on comparisons (plain booleans), and
    ``float``, ``bool``, ``.item()`` or ``np.asarray`` of a Dual are refused
    with :class:`~chainrule.core.escape.TracerConversionError`, since they would
    drop its tangent.

    >>> from chainrule.core.config import transform_scope
    >>> with transform_scope() as level:
    ...     y = Dual(2.0, 1.0, level) ** 2 + 3.0
    >>> float(y.primal), float(y.tangent)
    (7.0, 4.0)
    """

    __slots__ = ("primal", "tangent", "_level")

    def __init__(self, primal: Any, tangent: Any, level: int) -> None:
        self.primal = primal
        self.tangent = tangent
        self._level = level

    def _process(self, prim: Any, args: tuple, params: dict) -> Any:
        level = self._level
        primals = []
        tangents = []
        for a in args:
            if isinstance(a, Dual) and a._level == level:
                primals.append(a.primal)
                tangents.append(a.tangent)
            else:  # a constant here (maybe a value of another transform)
                primals.append(a)
                tangents.append(None)
        primals = tuple(primals)
        out = bind(prim, *primals, **params)  # enclosing transforms record here
        if not isinstance(out, Traced) and type(out) is not ndarray:
            out = xp.asarray(out)
        tangent = push_tangents(prim, out, primals, tangents, params)
        if tangent is None:
            return out
        return Dual(out, tangent, level)

    # ----- array-like properties: what shape_of, dtype_of and the transforms read -----
    @property
    def shape(self) -> tuple[int, ...]:
        return shape_of(self.primal)

    @property
    def dtype(self) -> Any:
        return dtype_of(self.primal)

    def __repr__(self) -> str:
        return f"Dual(primal={self.primal!r}, tangent={self.tangent!r}, level={self._level})"
