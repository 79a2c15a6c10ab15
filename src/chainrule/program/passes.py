"""Passes over programs: each a small function from a program to a new program.

* ``dce``: drop equations whose outputs nothing uses (every primitive is pure);
* ``cse``: one equation for repeated identical computations;
* ``fold``: evaluate equations whose inputs are all constants;
* ``identities``: x*1, x+0, x-0, x/1, x**1, x*0 (only for integers, where no NaN
  or infinity can hide), -(-x), transpose of transpose, reshape of reshape, a
  where with a constant condition;
* ``reuse_buffers``: an elementwise ufunc writes into a dead input's buffer (``out=``).

Passes never change a value except as stated: x+0 turns -0.0 into 0.0, which
compares equal (the only change, and no comparison or sign test can see it
through a gradient that NumPy computed the same way).
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import ndarray, xp
from chainrule.program.ir import Const, Eqn, Var
from chainrule.program.ir import ProgramData as Program


def _uses(program: Program) -> dict[int, int]:
    count: dict[int, int] = {}
    for eqn in program.eqns:
        for x in eqn.inputs:
            if isinstance(x, Var):
                count[x.id] = count.get(x.id, 0) + 1
    for x in program.outputs:
        if isinstance(x, Var):
            count[x.id] = count.get(x.id, 0) + 1
    return count


def dce(program: Program) -> Program:
    """Remove equations none of whose outputs is used."""
    live = {x.id for x in program.outputs if isinstance(x, Var)}
    kept = []
    for eqn in reversed(program.eqns):
        if any(v.id in live for v in eqn.outputs):
            kept.append(eqn)
            live.update(x.id for x in eqn.inputs if isinstance(x, Var))
    kept.reverse()
    return program.replace(eqns=kept)


def _substitute(program: Program, eqns: list[Eqn], subst: dict[int, Var | Const]) -> Program:
    def sub(x: Var | Const) -> Var | Const:
        while isinstance(x, Var) and x.id in subst:
            x = subst[x.id]
        return x

    new = []
    for eqn in eqns:
        inputs = [sub(x) for x in eqn.inputs]
        if inputs != eqn.inputs:
            eqn = Eqn(eqn.prim, inputs, eqn.params, eqn.outputs, eqn.line, eqn.part,
                      eqn.tuple_out, eqn.reuse)
        new.append(eqn)
    return program.replace(eqns=new, outputs=[sub(x) for x in program.outputs])


def _freeze(v: Any) -> Any:
    """A hashable key for a parameter or constant (raises TypeError if none)."""
    if isinstance(v, ndarray):
        return ("array", v.dtype.str, v.shape, v.tobytes())
    if isinstance(v, (tuple, list)):
        return (type(v).__name__, tuple(_freeze(p) for p in v))
    if isinstance(v, dict):
        return ("dict", tuple((k, _freeze(p)) for k, p in sorted(v.items())))
    if isinstance(v, slice):
        return ("slice", _freeze(v.start), _freeze(v.stop), _freeze(v.step))
    if isinstance(v, float) and v != v:
        return ("nan",)
    hash(v)
    return (type(v).__name__, v)


def cse(program: Program) -> Program:
    """Replace an equation by an earlier identical one (same primitive, inputs, params)."""
    seen: dict[Any, Eqn] = {}
    subst: dict[int, Var | Const] = {}
    kept = []
    for eqn in _substitute(program, program.eqns, {}).eqns:
        inputs = [subst.get(x.id, x) if isinstance(x, Var) else x for x in eqn.inputs]
        try:
            key = (id(eqn.prim),
                   tuple(("v", x.id) if isinstance(x, Var) else ("c", _freeze(x.value))
                         for x in inputs),
                   _freeze(eqn.params))
        except TypeError:  # an unhashable parameter: keep the equation as it is
            key = None
        if key is not None and key in seen:
            for old, new in zip(eqn.outputs, seen[key].outputs):
                subst[old.id] = new
            continue
        eqn = Eqn(eqn.prim, inputs, eqn.params, eqn.outputs, eqn.line, eqn.part,
                  eqn.tuple_out, eqn.reuse)
        if key is not None:
            seen[key] = eqn
        kept.append(eqn)
    return _substitute(program, kept, subst)


def fold(program: Program) -> Program:
    """Evaluate equations whose inputs are all constants, once, now."""
    subst: dict[int, Var | Const] = {}
    kept = []
    for eqn in _substitute(program, program.eqns, {}).eqns:
        inputs = [subst.get(x.id, x) if isinstance(x, Var) else x for x in eqn.inputs]
        if all(isinstance(x, Const) for x in inputs):
            result = eqn.prim.impl(*[x.value for x in inputs], **eqn.params)
            results = list(result) if eqn.tuple_out else [result]
            for var, value in zip(eqn.outputs, results):
                value = xp.asarray(value)
                if value.shape != var.shape or value.dtype != var.dtype:
                    break
                value.flags.writeable = False  # shared by every call of the program
                subst[var.id] = Const(value)
            else:
                continue
            for var in eqn.outputs:
                subst.pop(var.id, None)
        kept.append(Eqn(eqn.prim, inputs, eqn.params, eqn.outputs, eqn.line, eqn.part,
                        eqn.tuple_out, eqn.reuse))
    return _substitute(program, kept, subst)


def _is(x: Var | Const, number: float) -> bool:
    """Whether ``x`` is a constant equal to ``number`` everywhere."""
    if not isinstance(x, Const):
        return False
    v = x.value
    if isinstance(v, bool):
        return False
    try:
        arr = xp.asarray(v)
    except Exception:  # noqa: BLE001
        return False
    return arr.dtype.kind in "iuf" and arr.size > 0 and bool(xp.all(arr == number))


def _nonzero(x: Var | Const) -> bool:
    """Whether ``x`` is a constant with no zero element."""
    if not isinstance(x, Const):
        return False
    try:
        arr = xp.asarray(x.value)
    except Exception:  # noqa: BLE001
        return False
    return arr.dtype.kind in "iuf" and bool(xp.all(arr != 0))


def _same_as(x: Var | Const, var: Var) -> bool:
    """Whether ``x`` can stand for ``var`` (same shape and dtype: no broadcast or cast lost)."""
    return isinstance(x, Var) and x.shape == var.shape and x.dtype == var.dtype


def _identity(eqn: Eqn, producers: dict[int, Eqn]) -> Var | Const | None:
    """What the equation's single output equals without computing, or None."""
    name = eqn.prim.name
    ins = eqn.inputs
    out = eqn.outputs[0]
    if name == "keep_zeros" and _same_as(ins[2], out):
        if _nonzero(ins[0]):
            return ins[2]  # the mask selects where g == 0: nowhere
        if ins[0] is ins[1] is ins[2]:
            return ins[2]  # where(g == 0, 0, g) is g (but for the sign of a zero)
    if name == "reshape" and isinstance(ins[0], Var):
        x = ins[0]
        inner = producers.get(x.id)
        if inner is not None and inner.prim.name == "reshape" and not inner.tuple_out:
            x = inner.inputs[0]  # reshape of a reshape: one reshape of the first input
            if isinstance(x, Var) and _same_as(x, out):
                return x
            eqn.inputs = [x]
        if _same_as(x, out):
            return x
        return None
    if name == "transpose" and isinstance(ins[0], Var) and len(out.shape) <= 1 \
            and _same_as(ins[0], out):
        return ins[0]
    if name == "where" and len(ins) == 3 and isinstance(ins[0], Const) \
            and not eqn.params:
        cond = xp.asarray(ins[0].value)
        if cond.dtype.kind == "b" and cond.size and (cond.all() or not cond.any()):
            pick = ins[1] if cond.all() else ins[2]
            if _same_as(pick, out):
                return pick
    if eqn.params and name != "transpose":
        return None
    if name == "power" and len(ins) == 2 and _is(ins[1], 1) and _same_as(ins[0], out):
        return ins[0]  # pow(x, 1) is x exactly (IEEE 754), NaN and infinities too
    if name == "multiply" and len(ins) == 2:
        for a, b in ((ins[0], ins[1]), (ins[1], ins[0])):
            if _is(b, 1) and _same_as(a, out):
                return a
            if _is(b, 0) and isinstance(a, Var) and a.dtype.kind in "biu" \
                    and out.dtype.kind in "biu":
                return Const(xp.zeros(out.shape, out.dtype))
    if name == "add" and len(ins) == 2:
        for a, b in ((ins[0], ins[1]), (ins[1], ins[0])):
            if _is(b, 0) and _same_as(a, out):
                return a
    if name in ("subtract", "divide") and len(ins) == 2:
        if _is(ins[1], 0 if name == "subtract" else 1) and _same_as(ins[0], out):
            return ins[0]
    if name == "negative" and isinstance(ins[0], Var):
        inner = producers.get(ins[0].id)
        if inner is not None and inner.prim.name == "negative" and _same_as(inner.inputs[0], out):
            return inner.inputs[0]
    if name == "transpose" and isinstance(ins[0], Var):
        inner = producers.get(ins[0].id)
        if inner is not None and inner.prim.name == "transpose":
            x = inner.inputs[0]
            if isinstance(x, Var) and _same_as(x, out):
                n = len(x.shape)
                first = inner.params.get("axes") or tuple(reversed(range(n)))
                second = eqn.params.get("axes") or tuple(reversed(range(n)))
                if tuple(first[a] for a in second) == tuple(range(n)):
                    return x
    return None


def identities(program: Program) -> Program:
    """Apply the algebraic identities that never change a value (module docstring)."""
    subst: dict[int, Var | Const] = {}
    producers: dict[int, Eqn] = {}
    kept = []
    for eqn in program.eqns:
        inputs = [subst.get(x.id, x) if isinstance(x, Var) else x for x in eqn.inputs]
        eqn = Eqn(eqn.prim, inputs, eqn.params, eqn.outputs, eqn.line, eqn.part,
                  eqn.tuple_out, eqn.reuse)
        if len(eqn.outputs) == 1 and not eqn.tuple_out:
            same = _identity(eqn, producers)
            if same is not None:
                subst[eqn.outputs[0].id] = same
                continue
        for v in eqn.outputs:
            producers[v.id] = eqn
        kept.append(eqn)
    return _substitute(program, kept, subst)


def simplify(program: Program) -> Program:
    """The passes that keep every value: identities, folding, CSE, then dead code."""
    return dce(cse(fold(identities(program))))


def optimistic(program: Program) -> Program:
    """Skip every ``keep_zeros`` step (it returns its value unless its checked
    operand holds a NaN or infinity), check those operands once at the end, and
    fall back to the unchanged program if any is not finite: the same result, one
    check per program instead of one per elementwise rule."""
    checks: list[Var] = []
    subst: dict[int, Var | Const] = {}
    kept = []
    for eqn in program.eqns:
        inputs = [subst.get(x.id, x) if isinstance(x, Var) else x for x in eqn.inputs]
        if eqn.prim.name == "keep_zeros" and _same_as(inputs[2], eqn.outputs[0]):
            if isinstance(inputs[1], Var):
                if all(c is not inputs[1] for c in checks):
                    checks.append(inputs[1])
                subst[eqn.outputs[0].id] = inputs[2]
                continue
        kept.append(Eqn(eqn.prim, inputs, eqn.params, eqn.outputs, eqn.line, eqn.part,
                        eqn.tuple_out, eqn.reuse))
    if not checks:
        return program
    out = _substitute(program, kept, subst)
    return out.replace(checks=_uncovered(out.eqns, checks), fallback=program)


# A NaN or infinity in any input element of these reaches the output (inf * 0 and
# inf - inf are NaN, a sum keeps it), so a check of the output covers the input.
_PROPAGATING = frozenset({"add", "subtract", "multiply", "negative", "sum", "sum_to"})


def _uncovered(eqns: list[Eqn], checks: list[Var]) -> list[Var]:
    """The checks not implied by another check further down a chain of operations
    that carry every non-finite number through (one check then serves a chain)."""
    checked = {c.id for c in checks}
    reaches: set[int] = set()  # values whose non-finite numbers reach a checked value
    for eqn in reversed(eqns):
        if eqn.prim.name not in _PROPAGATING or eqn.tuple_out:
            continue
        out = eqn.outputs[0].id
        if out in checked or out in reaches:
            reaches.update(x.id for x in eqn.inputs if isinstance(x, Var))
    return [c for c in checks if c.id not in reaches]


# Primitives that return a new array of their own (never a view of an input):
# their outputs' buffers may be written into once dead.
_FRESH = frozenset({"matmul"})


def _fresh(eqn: Eqn) -> bool:
    return isinstance(eqn.prim.impl, xp.ufunc) or eqn.prim.name in _FRESH


def reuse_buffers(program: Program) -> Program:
    """Let a unary or binary ufunc write its result into an input's buffer when that
    input is an array this program made (a ufunc or matmul result, never a view,
    an argument or a constant), of the result's shape and dtype, used nowhere
    after. Consumers that could keep a view of it (anything but ufuncs and matmul)
    rule the buffer out."""
    last_use: dict[int, int] = {}
    viewed: set[int] = set()
    for i, eqn in enumerate(program.eqns):
        for x in eqn.inputs:
            if isinstance(x, Var):
                last_use[x.id] = i
                if not _fresh(eqn):
                    viewed.add(x.id)
    for x in [*program.outputs, *(program.checks or ())]:
        if isinstance(x, Var):
            last_use[x.id] = len(program.eqns)
    owned: set[int] = set()
    new = []
    for i, eqn in enumerate(program.eqns):
        reuse = None
        impl = eqn.prim.impl
        if isinstance(impl, xp.ufunc) and impl.nout == 1 and not eqn.params \
                and len(eqn.inputs) == impl.nin:
            out = eqn.outputs[0]
            for x in eqn.inputs:
                if isinstance(x, Var) and x.id in owned and last_use.get(x.id) == i \
                        and x.id not in viewed and x.shape == out.shape \
                        and x.dtype == out.dtype and len(out.shape) > 0 \
                        and sum(1 for y in eqn.inputs if y is x) == 1:
                    reuse = x
                    break
        if reuse is not None:
            eqn = Eqn(eqn.prim, eqn.inputs, eqn.params, eqn.outputs, eqn.line, eqn.part,
                      eqn.tuple_out, reuse)
        if _fresh(eqn) and not eqn.tuple_out:
            owned.update(v.id for v in eqn.outputs)
        new.append(eqn)
    return program.replace(eqns=new)
