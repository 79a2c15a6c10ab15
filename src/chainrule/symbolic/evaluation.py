"""Expressions to numbers: the DAG compiled into a list of NumPy steps.

``Compiled`` walks the DAG once, in topological order, and keeps for each
operation its primitive's implementation and the slots of its arguments;
calling it runs those steps on NumPy values, so each shared node is computed
once, and no source text is generated or evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chainrule.backend import xp
from chainrule.symbolic.errors import MissingVariableError
from chainrule.symbolic.names import BOOLEAN_RESULTS
from chainrule.symbolic.numbers import to_float
from chainrule.symbolic.walk import postorder, tree_size

if TYPE_CHECKING:
    from chainrule.symbolic.expr import Expr


def _as_float_array(value: Any, name: str) -> Any:
    array = xp.asarray(value)
    if array.dtype.kind in "biu":
        return array.astype(xp.float64)
    if array.dtype.kind != "f":
        raise TypeError(f"evaluate: the value of {name!r} must be real numbers, got dtype "
                        f"{array.dtype}")
    return array


def _boolean_as_float(impl: Callable[..., Any]) -> Callable[..., Any]:
    # comparisons are numbers (0.0 or 1.0) in expressions: (x > 0) + (x < 0) is 1, not True
    def run(*args: Any) -> Any:
        out = xp.asarray(impl(*args))
        floats = [a for a in args if getattr(a, "dtype", None) is not None]
        return out.astype(xp.result_type(*floats, xp.float16) if floats else xp.float64)

    return run


class Compiled:
    """A NumPy function of ``variables`` computing one or more expressions."""

    __slots__ = ("variables", "steps", "nslots", "consts", "inputs", "outputs", "structure")

    def __init__(self, outputs: list[Expr], variables: list[str], structure: Any) -> None:
        self.variables = variables
        self.structure = structure
        slot: dict[int, int] = {}
        self.consts: list[tuple[int, float]] = []
        self.inputs: list[int] = []
        self.steps: list[tuple[Callable[..., Any], tuple[int, ...], int]] = []
        position = {name: i for i, name in enumerate(variables)}
        inputs: dict[int, int] = {}
        for node in postorder(outputs):
            s = slot[id(node)] = len(slot)
            if node.prim is None and type(node.value) is str:  # a symbol
                if node.value not in position:
                    raise MissingVariableError(
                        f"evaluate: no value for the variable {node.value!r} (the expression "
                        f"uses {', '.join(sorted(names_used(outputs)))})")
                inputs[position[node.value]] = s
            elif node.prim is None:  # a number
                self.consts.append((s, to_float(node.value)))
            else:
                impl = node.prim.impl
                if node.prim.name in BOOLEAN_RESULTS:
                    impl = _boolean_as_float(impl)
                self.steps.append((impl, tuple(slot[id(a)] for a in node.args), s))
        self.inputs = [inputs.get(i, -1) for i in range(len(variables))]
        self.nslots = len(slot)
        self.outputs = [slot[id(o)] for o in outputs]

    def __call__(self, *values: Any) -> Any:
        if len(values) != len(self.variables):
            raise TypeError(f"expected {len(self.variables)} argument(s) "
                            f"({', '.join(self.variables)}), got {len(values)}")
        slots: list[Any] = [None] * self.nslots
        arrays = [_as_float_array(v, n) for v, n in zip(values, self.variables)]
        for s, v in zip(self.inputs, arrays):
            if s >= 0:
                slots[s] = v
        for s, c in self.consts:
            slots[s] = c
        for impl, args, s in self.steps:
            slots[s] = impl(*[slots[a] for a in args])
        shape = xp.broadcast_shapes(*[a.shape for a in arrays]) if arrays else ()
        results = []
        for s in self.outputs:
            r = xp.asarray(slots[s], dtype=None if arrays else xp.float64)
            if r.shape != shape:  # a constant part: same shape as the inputs
                r = xp.broadcast_to(r, shape).copy()
            results.append(r)
        return self._shape_results(results)

    def _shape_results(self, results: list[Any]) -> Any:
        if self.structure is None:
            return results[0]
        if self.structure == "list":
            return xp.stack(results) if results else xp.zeros((0,))
        rows, cols = self.structure
        if not results:
            return xp.zeros((rows, cols))
        return xp.stack(results).reshape((rows, cols, *results[0].shape))


def check_float_constants(expr: Expr) -> None:
    """SymbolicError naming the first exact number of ``expr`` that float64 cannot
    hold (``10**400``): evaluating would overflow."""
    for node in postorder([expr]):
        if node.prim is None and type(node.value) is not str:
            to_float(node.value)


def names_used(exprs: list[Expr]) -> set[str]:
    """The variables the expressions use."""
    return {n.value for n in postorder(exprs) if n.prim is None and type(n.value) is str}


def evaluate_expr(expr: Expr, values: dict[str, Any]) -> Any:
    """The value of ``expr`` given ``values`` for its variables (extra ones are
    ignored): a float for scalars, an array for arrays."""
    used = sorted(names_used([expr]))
    missing = [n for n in used if n not in values]
    if missing:
        brief = str(expr) if tree_size(expr) <= 60 else "the expression"
        raise MissingVariableError(f"evaluate: no value for the variable(s) "
                                   f"{', '.join(map(repr, missing))} of {brief}")
    result = Compiled([expr], used, None)(*[values[n] for n in used])
    return result.item() if result.ndim == 0 else result
