"""A program as Python source over NumPy, and the function compiled from it.

``to_source`` writes one assignment per equation with named temporaries, the
forward part then the backward part, each group headed by a comment naming the
line of the user's code it came from. NumPy's ufuncs print as ``np.sin(t0)``;
other primitives as ``P.<name>(...)``, their NumPy implementations. The text
is only ever generated from a traced program (never from user strings), and
``to_function`` compiles exactly that text.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from chainrule.backend import ndarray, xp
from chainrule.core.primitive import registry
from chainrule.core.project import sum_axes
from chainrule.ops.gather import Slot
from chainrule.program.ir import Const, Var
from chainrule.program.ir import ProgramData as Program

_SMALL = 16  # arrays up to this many elements are written out in the source


def all_finite(arrays: tuple) -> bool:
    """Whether every number in ``arrays`` is finite: one dot product each (a sum of
    squares is finite exactly when every element is, unless it overflows, and then
    the caller only does the safe thing)."""
    for a in arrays:
        if type(a) is ndarray and a.dtype.kind == "f" and a.ndim:
            r = a.ravel()
            s = r @ r
            if not s - s == 0:
                return False
        elif not bool(xp.isfinite(a).all()):
            return False
    return True


class Impls:
    """``P``: the implementations of the registered primitives by name, so the
    printed source runs as it is (``from chainrule.program.source import P``).
    ``P.Slot`` marks where a traced index array goes in an indexing template."""

    Slot = Slot

    def __getattr__(self, name: str) -> Any:
        try:
            return registry[name].impl
        except KeyError:
            raise AttributeError(name) from None


P = Impls()


def _number(v: Any) -> str | None:
    """Source for a Python or NumPy number, or None."""
    if isinstance(v, bool) or v is None:
        return repr(v)
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            return "np.nan" if v != v else ("np.inf" if v > 0 else "-np.inf")
        return repr(v)
    if isinstance(v, xp.generic) and v.dtype.kind in "biuf":
        inner = _number(v.item())
        return f"np.{v.dtype.name}({inner})"
    return None


def _literal(v: Any) -> str | None:
    """Source that evaluates to ``v`` exactly, or None when there is none."""
    text = _number(v)
    if text is not None:
        return text
    if isinstance(v, str):
        return repr(v)
    if type(v) is Slot:
        return f"P.Slot({v.k})"
    if v is Ellipsis:
        return "..."
    if isinstance(v, slice):
        parts = [_literal(p) for p in (v.start, v.stop, v.step)]
        return None if None in parts else f"slice({', '.join(parts)})"
    if isinstance(v, xp.dtype):
        return f"np.dtype({v.str!r})" if v.names is None else None
    if isinstance(v, (tuple, list)):
        parts = [_literal(p) for p in v]
        if None in parts:
            return None
        if isinstance(v, tuple):
            return "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
        return "[" + ", ".join(parts) + "]"
    if isinstance(v, ndarray) and v.size <= _SMALL and v.dtype.kind in "biuf" \
            and v.dtype.names is None:
        items = _literal(v.tolist())
        if items is not None:
            return f"np.array({items}, dtype=np.dtype({v.dtype.str!r}))"
    return None


def _temp_like(name: str) -> bool:
    return name[:1] in "tcx" and name[1:].isdigit()


class _Writer:
    """Names for values, primitives and hoisted constants of one program."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.names: dict[int, str] = {}
        self.globals: dict[str, Any] = {"np": xp, "P": P}
        self.used: dict[str, Any] = {}  # registered implementations the text calls
        self.hoisted: dict[str, Any] = {}
        self.header: list[str] = []
        self.prims: dict[int, str] = {}
        self.consts = 0
        names = program.input_names or []
        taken = {"np", "P", program.name}
        for i, var in enumerate(program.inputs):
            name = names[i] if i < len(names) else ""
            if not name.isidentifier() or name in taken or _temp_like(name):
                name = f"x{i}" if len(program.inputs) > 1 else "x"
            taken.add(name)
            self.names[var.id] = name
        self.temps = 0

    def value(self, x: Var | Const) -> str:
        if isinstance(x, Var):
            return self.names[x.id]
        return self.hoist(x.value)

    def hoist(self, v: Any) -> str:
        text = _literal(v)
        if text is not None and not isinstance(v, ndarray):
            return text
        name = f"c{self.consts}"
        self.consts += 1
        self.globals[name] = v
        self.hoisted[name] = v  # the very array (read-only ones stay so), not the text's
        if text is not None:
            self.header.append(f"{name} = {text}")
        else:
            what = f"{v.dtype}{list(v.shape)}" if isinstance(v, ndarray) else type(v).__name__
            self.header.append(f"# {name}: a constant {what} held by the program")
        return name

    def callee(self, prim: Any) -> str:
        impl = prim.impl
        if isinstance(impl, xp.ufunc) and getattr(xp, impl.__name__, None) is impl:
            return f"np.{impl.__name__}"
        name = self.prims.get(id(prim))
        if name is None:
            if registry.get(prim.name) is prim:
                name = f"P.{prim.name}"
                self.used[prim.name] = prim.impl
            else:  # a primitive outside the table: the compiled function binds it
                base = "".join(c if c.isalnum() else "_" for c in prim.name)
                name = f"{base}_impl"
                while name in self.globals:
                    name += "_"
                self.globals[name] = impl
                kernel = getattr(prim, "kernel_source", None)
                if kernel is not None:
                    self.header.append(f"# {name}: a fused kernel (numba), compiled from:")
                    self.header += [f"#   {line}" for line in kernel.splitlines()]
                else:
                    self.header.append(f"# {name}: the implementation of primitive "
                                       f"{prim.name!r} (not in the table)")
            self.prims[id(prim)] = name
        return name

    def new(self, var: Var) -> str:
        name = f"t{self.temps}"
        self.temps += 1
        self.names[var.id] = name
        return name


def _direct(eqn: Any, args: list[str]) -> str | None:
    """NumPy's own call for a few primitives whose implementations add only Python
    around it (argument checks, a generic path), where the program's fixed shapes
    make that work moot: the same computation, so the same numbers, bit for bit.
    None: call the implementation."""
    name = eqn.prim.name
    if registry.get(name) is not eqn.prim or eqn.reuse is not None:
        return None
    ins = eqn.inputs
    if not all(isinstance(x, Var) and x.shape for x in ins):
        return None
    if name == "matmul" and len(ins) == 2 and not eqn.params:
        return f"np.matmul({args[0]}, {args[1]})"
    if name == "transpose" and len(ins) == 1 and set(eqn.params) == {"axes"} \
            and eqn.params["axes"] is not None:
        return f"{args[0]}.transpose({tuple(eqn.params['axes'])!r})"
    if name == "sum" and len(ins) == 1 and xp.dtype(ins[0].dtype).kind == "f" \
            and set(eqn.params) <= {"axis", "keepdims"}:
        # np.sum of an array is np.add.reduce, without np.sum's Python layer
        return f"np.add.reduce({', '.join(args)})"
    if name == "sum_to" and len(ins) == 1 and xp.dtype(ins[0].dtype).kind == "f":
        shape, target = tuple(ins[0].shape), tuple(eqn.params["shape"])
        if len(shape) < len(target) or shape == target \
                or shape[len(shape) - len(target):] == target:
            return None  # (leading axes only: the implementation's matrix-vector product)
        axes, lead = sum_axes(shape, target)
        if not axes or (len(axes) > 1 and math.prod(shape) > 4096):
            return None  # the implementation's one-axis-at-a-time path: call it
        kept = tuple(1 if i in axes else n for i, n in enumerate(shape))
        text = f"np.add.reduce({args[0]}, axis={axes!r}, keepdims=True)"
        return text if kept == target else f"{text}.reshape({target!r})"
    return None


def _fused_call(w: _Writer, eqn: Any, args: list[str]) -> list[str]:
    """A fused kernel's call: its outputs allocated, then filled by one call
    (rank-0 inputs passed as NumPy scalars, which is how the kernel reads them)."""
    args = [f"np.{xp.dtype(x.dtype).name}({a})" if not x.shape else a
            for x, a in zip(eqn.inputs, args)]
    lines = []
    for v in eqn.outputs:
        dtype = xp.dtype(v.dtype)
        lines.append(f"    {w.new(v)} = np.empty({v.shape!r}, np.{dtype.name})")
    outs = [w.names[v.id] for v in eqn.outputs]
    lines.append(f"    {w.callee(eqn.prim)}({', '.join(args + outs)})")
    return lines


def _lines(program: Program) -> tuple[list[str], dict[str, Any]]:
    w = _Writer(program)
    body: list[str] = []
    part = None
    line = None
    for eqn in program.eqns:
        if eqn.part != part:
            part = eqn.part
            line = None
            body.append("    # " + ("forward" if part == "forward" else
                                    "backward: the derivative, from the VJP/JVP rules"))
        if eqn.line != line:
            line = eqn.line
            if line:
                prefix = "from " if part == "forward" else "rule of "
                body.append(f"    # {prefix}{line}")
        args = [w.value(x) for x in eqn.inputs]
        for key, v in eqn.params.items():
            args.append(f"{key}={_literal(v) or w.hoist(v)}")
        if eqn.reuse is not None:
            args.append(f"out={w.names[eqn.reuse.id]}")
        if getattr(eqn.prim, "kernel_source", None) is not None:
            body += _fused_call(w, eqn, args)
            continue
        call = _direct(eqn, args) or f"{w.callee(eqn.prim)}({', '.join(args)})"
        targets = [w.new(v) for v in eqn.outputs]
        lhs = ", ".join(targets) + ("," if eqn.tuple_out and len(targets) == 1 else "")
        body.append(f"    {lhs} = {call}")
    if program.checks:
        names = ", ".join(w.value(x) for x in program.checks)
        w.globals["_all_finite"] = all_finite
        w.globals["_fallback"] = program.fallback
        params_ = ", ".join(w.names[v.id] for v in program.inputs)
        body.append("    # keep_zeros steps skipped above: they change nothing unless one of")
        body.append("    # these holds a NaN or infinity; then run the program with them")
        body.append(f"    if not _all_finite(({names}{',' if len(program.checks) == 1 else ''})):")
        body.append(f"        return _fallback({params_})")
    outs = [w.value(x) for x in program.outputs]
    body.append("    return (" + ", ".join(outs) + ("," if len(outs) == 1 else "") + ")")
    params = ", ".join(w.names[v.id] for v in program.inputs)
    head = ["import numpy as np", "from chainrule.program.source import P", ""]
    head += w.header + ([""] if w.header else [])
    text = head + [f"def {program.name}({params}):"] + body
    w.globals["_used"] = w.used
    w.globals["_hoisted"] = w.hoisted
    return text, w.globals


def to_source(program: Program) -> str:
    """The program as a Python function over NumPy (a string)."""
    text, _ = _lines(program)
    return "\n".join(text) + "\n"


def to_function(program: Program) -> Callable[..., tuple]:
    """Compile ``to_source(program)``: a NumPy function returning a tuple of outputs."""
    if program.checks and isinstance(program.fallback, Program):  # compile it first
        program = program.replace(fallback=to_function(program.fallback))
    text, namespace = _lines(program)
    source = "\n".join(text) + "\n"
    code = compile(source, f"<chainrule program {program.name}>", "exec")
    exec(code, namespace)  # noqa: S102 - text generated from a traced program only
    namespace["P"] = SimpleNamespace(Slot=Slot, **namespace.get("_used", {}))
    namespace.update(namespace["_hoisted"])
    fn = namespace[program.name]
    fn.__source__ = source
    return fn
