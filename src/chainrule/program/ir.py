"""The program representation: values, equations and programs (plain data).

A ``Var`` is a value of known shape and dtype, a ``Const`` a concrete value, an
``Eqn`` one primitive applied to them, and a ``ProgramData`` the inputs, the
equations in order and the outputs. Passes and printing read and build these.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from chainrule.backend import xp
from chainrule.pytree import TreeDef

_ids = itertools.count()


@dataclass(eq=False)
class Var:
    """One value of a program: an input or an equation's output."""

    shape: tuple[int, ...]
    dtype: Any
    id: int = field(default_factory=lambda: next(_ids))

    def __repr__(self) -> str:
        return f"Var({self.id}: {self.dtype}{list(self.shape)})"


@dataclass(eq=False)
class Const:
    """A concrete value used by an equation (a Python number or an array)."""

    value: Any

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(xp.shape(self.value))

    @property
    def dtype(self) -> Any:
        dtype = getattr(self.value, "dtype", None)
        return xp.result_type(self.value) if dtype is None else dtype


@dataclass(eq=False)
class Eqn:
    """``outputs = prim(*inputs, **params)``, with where in the user's code it came from.

    ``part`` is "forward" or "backward" (made by a reverse sweep); ``line`` is
    the user's source line (for a backward equation, the line of the forward
    operation it differentiates).
    """

    prim: Any
    inputs: list[Var | Const]
    params: dict
    outputs: list[Var]
    line: str = ""
    part: str = "forward"
    tuple_out: bool = False  # the implementation returns a tuple of outputs
    reuse: Var | None = None  # write the result into this dead input's buffer (out=)


@dataclass(eq=False)
class ProgramData:
    """Inputs, equations in order, outputs, and the pytree structures around them."""

    inputs: list[Var]
    eqns: list[Eqn]
    outputs: list[Var | Const]
    in_tree: TreeDef | None = None
    out_tree: TreeDef | None = None
    name: str = "program"
    input_names: list[str] | None = None  # names for the printed source
    # values that must all be finite for the outputs to stand (``passes.optimistic``):
    # otherwise the compiled function reruns ``fallback``, the program it came from
    checks: list[Var] | None = None
    fallback: Any = None
    # random draws (``trace.Draw``) the last inputs stand for: drawn at each call
    draws: list | None = None

    def replace(self, **changes: Any) -> Any:
        fields = dict(inputs=self.inputs, eqns=self.eqns, outputs=self.outputs,
                      in_tree=self.in_tree, out_tree=self.out_tree, name=self.name,
                      input_names=self.input_names, checks=self.checks,
                      fallback=self.fallback, draws=self.draws)
        fields.update(changes)
        return type(self)(**fields)

    def __repr__(self) -> str:
        return (f"<Program {self.name}: {len(self.inputs)} inputs, {len(self.eqns)} "
                f"equations, {len(self.outputs)} outputs>")
