"""The fused backend: chains of elementwise equations become one loop kernel (numba).

Each elementwise primitive applied to small arrays costs a NumPy call (about
half a microsecond) whatever it computes; a chain of them, forward and
backward, is hundreds of calls. ``fuse`` finds groups of elementwise
equations of one output shape and writes each group as one Python loop over
the elements, with one scalar statement per equation, which numba compiles
to machine code: one call for the whole group, and the values used only
inside it never stored in memory.

The kernel text is generated from the traced program only (primitive names
mapped through a fixed table, numbers written by ``repr``), never from user
strings. It is written to a file under the cache directory named by its own
hash, so numba's on-disk cache (``cache=True``) keeps the machine code across
processes: ``$CHAINRULE_CACHE_DIR``, else ``$XDG_CACHE_HOME/chainrule``, else
``~/.cache/chainrule``.

Every scalar operation casts its operands to the dtype NumPy's loop would use
(a Python float constant to float32 beside a float32 array, as NumPy 2 does),
so each step rounds as the NumPy program does; only the elementary functions
(sin, exp, tanh, ...) may differ in the last bits, since numba calls the C
library where NumPy may use its own vectorized versions.
"""

from __future__ import annotations

import hashlib
import heapq
import importlib.util
import math
import os
import sys
import threading
import warnings
from typing import Any

from chainrule.backend import xp
from chainrule.core.primitive import registry
from chainrule.program.ir import Const, Eqn, Var
from chainrule.program.ir import ProgramData as Program

VERSION = "1"  # part of every kernel's text (and so of its file's hash)

# Elementary functions numba computes with the C library, one element at a time:
# NumPy's vectorized loops beat that on large arrays, so these join a group
# only while its arrays are small.
_TRANSCENDENTAL_MAX = 2048

# At most this many equations, and values read from outside, per kernel: numba's
# (LLVM's) compile time grows faster than a kernel's size, most with the number of
# arrays it reads, and one call per few hundred operations already costs little.
MAX_GROUP = 512
MAX_READS = 24

# name -> (arity, template, transcendental): the scalar statement of a primitive.
# {0}, {1}, {2} are its operands (already cast to the loop dtype), {z} a zero and
# {one} a one of that dtype.
_OPS: dict[str, tuple[int, str, bool]] = {
    "add": (2, "{0} + {1}", False),
    "subtract": (2, "{0} - {1}", False),
    "multiply": (2, "{0} * {1}", False),
    "divide": (2, "{0} / {1}", False),
    "negative": (1, "-{0}", False),
    "square": (1, "{0} * {0}", False),
    "reciprocal": (1, "{one} / {0}", False),
    "sqrt": (1, "np.sqrt({0})", False),
    "abs": (1, "np.abs({0})", False),
    # numba's maximum and minimum propagate a NaN as NumPy's do (selects, no branches)
    "maximum": (2, "np.maximum({0}, {1})", False),
    "minimum": (2, "np.minimum({0}, {1})", False),
    "relu": (1, "np.maximum({0}, {z})", False),
    "greater": (2, "{0} > {1}", False),
    "greater_equal": (2, "{0} >= {1}", False),
    "less": (2, "{0} < {1}", False),
    "less_equal": (2, "{0} <= {1}", False),
    "equal": (2, "{0} == {1}", False),
    "not_equal": (2, "{0} != {1}", False),
    "where": (3, "{1} if {0} else {2}", False),
    "identity": (1, "{0}", False),
    "stop_gradient": (1, "{0}", False),
    "copy": (1, "{0}", False),
    "power": (2, "{0} ** {1}", True),
    "arctan2": (2, "np.arctan2({0}, {1})", True),
}
for _name in ("exp", "expm1", "log", "log1p", "log2", "log10", "sin", "cos", "tan",
              "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "arcsinh", "arctanh"):
    _OPS[_name] = (1, f"np.{_name}({{0}})", True)

# primitives whose result is bool, computed in the common dtype of the operands
_COMPARISONS = frozenset({"greater", "greater_equal", "less", "less_equal", "equal",
                          "not_equal"})
_FLOATS = ("float32", "float64")


# ----- where kernels live, and numba -----

def cache_dir() -> str:
    """The directory for compiled kernels (see the module docstring)."""
    path = os.environ.get("CHAINRULE_CACHE_DIR")
    if not path:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(
            os.path.expanduser("~"), ".cache")
        path = os.path.join(base, "chainrule")
    return os.path.join(path, "kernels")


_numba: Any = None
_lock = threading.Lock()


def load_numba() -> Any:
    """The numba module, or None when it is not installed (``pip install chainrule[jit]``)."""
    global _numba
    if _numba is None:
        try:
            import numba
        except ImportError:
            _numba = False
        else:
            _numba = numba
    return _numba or None


def available() -> bool:
    return load_numba() is not None


_loaded: dict[str, Any] = {}


def _kernel(source: str) -> Any:
    """The numba function defined by ``source``, from its file in the cache (written
    once, named by the text's hash, so numba's disk cache stays valid)."""
    digest = hashlib.sha256(source.encode()).hexdigest()[:24]
    fn = _loaded.get(digest)
    if fn is not None:
        return fn
    with _lock:
        folder = cache_dir()
        os.makedirs(folder, exist_ok=True)
        name = f"chainrule_kernel_{digest}"
        path = os.path.join(folder, name + ".py")
        try:
            with open(path, encoding="utf-8") as fh:
                same = fh.read() == source
        except OSError:
            same = False
        if not same:  # write beside, then rename: another process never reads half a file
            tmp = f"{path}.{os.getpid()}.tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(source)
            os.replace(tmp, path)
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # numba's cache finds the module by name when loading
        spec.loader.exec_module(module)
        fn = _loaded[digest] = module.kernel
    return fn


# ----- which equations fuse -----

def _loop_dtype(eqn: Eqn) -> Any:
    """The dtype the equation's scalar statement computes in, or None if it cannot fuse."""
    name = eqn.prim.name
    out = eqn.outputs[0]
    if name in _COMPARISONS:
        if out.dtype != xp.bool_:
            return None
        dtype = xp.result_type(*[x.dtype if isinstance(x, Var) else x.value
                                 for x in eqn.inputs])
        return dtype if dtype.name in _FLOATS else None
    if name == "where":
        return out.dtype if out.dtype.name in _FLOATS else None
    return out.dtype if out.dtype.name in _FLOATS else None


def _operand_ok(x: Var | Const, shape: tuple[int, ...], cond: bool) -> bool:
    """A value the kernel can read: a float (or, as a condition, bool) of a shape that
    broadcasts to the group's, or a scalar constant."""
    if isinstance(x, Const):
        v = x.value
        if isinstance(v, (bool, xp.bool_)):
            return cond
        if isinstance(v, (int, float)):
            return not cond
        if isinstance(v, xp.generic):
            return not cond and v.dtype.kind in "iuf"
        if not isinstance(v, xp.ndarray):
            return False
    dtype = xp.dtype(x.dtype)
    if (dtype.kind != "b") if cond else (dtype.name not in _FLOATS or not dtype.isnative):
        return False  # (numba reads native byte order only)
    xs = tuple(x.shape)
    if len(xs) > len(shape):
        return False
    return all(a == b or a == 1 for a, b in zip(xs[::-1], shape[::-1]))


def fusible(eqn: Eqn) -> tuple[int, ...] | None:
    """The group shape of an equation that can join a kernel, or None."""
    name = eqn.prim.name
    spec = _OPS.get(name)
    if spec is None or eqn.params or eqn.tuple_out or len(eqn.outputs) != 1 \
            or registry.get(name) is not eqn.prim or len(eqn.inputs) != spec[0]:
        return None
    shape = tuple(eqn.outputs[0].shape)
    if not shape or _loop_dtype(eqn) is None:
        return None
    if spec[2] and math.prod(shape) > _TRANSCENDENTAL_MAX:
        return None
    for k, x in enumerate(eqn.inputs):
        if not _operand_ok(x, shape, cond=name == "where" and k == 0):
            return None
    return shape


# ----- the pass -----

class _Group:
    __slots__ = ("shape", "members", "deps", "reads", "made")

    def __init__(self, shape: tuple[int, ...]) -> None:
        self.shape = shape
        self.members: list[int] = []
        self.deps: set[int] = set()  # groups whose values its members read, directly
        # or through equations outside any group
        self.reads: set[int] = set()  # ids of the values it reads from outside
        self.made: set[int] = set()


def _reaches(groups: list[_Group], start: set[int], target: int) -> bool:
    """Whether group ``target`` is among ``start`` or what they depend on."""
    stack, seen = list(start), set(start)
    while stack:
        g = stack.pop()
        if g == target:
            return True
        for d in groups[g].deps:
            if d not in seen:
                seen.add(d)
                stack.append(d)
    return False


def _groups(eqns: list[Eqn]) -> tuple[list[_Group], dict[int, int]]:
    """Groups of fusible equations of one shape (and which group each equation is in).

    An equation joins the latest group of its shape unless it reads a value that
    depends on that group through an equation outside it: then the group would
    have to run both before and after that equation, so a new group starts.
    Equations are reordered afterwards (``_schedule``), so a group needs no
    contiguous run of equations.
    """
    groups: list[_Group] = []
    latest: dict[tuple[int, ...], int] = {}
    group_of: dict[int, int] = {}  # equation index -> group
    made_by: dict[int, int] = {}  # var id -> group that makes it
    after: dict[int, set[int]] = {}  # var id made outside groups -> groups it depends on
    for i, eqn in enumerate(eqns):
        shape = fusible(eqn)
        g = latest.get(shape) if shape is not None else None
        deps: set[int] = set()
        for x in eqn.inputs:
            if isinstance(x, Var):
                h = made_by.get(x.id)
                if h is None:
                    deps |= after.get(x.id, set())
                elif h != g:
                    deps.add(h)
        if shape is None:
            for v in eqn.outputs:
                after[v.id] = deps
            continue
        reads = {x.id for x in eqn.inputs if isinstance(x, Var)}
        if g is None or len(groups[g].members) >= MAX_GROUP \
                or len(groups[g].reads | (reads - groups[g].made)) > MAX_READS \
                or _reaches(groups, deps, g):
            g = latest[shape] = len(groups)
            groups.append(_Group(shape))
        group = groups[g]
        group.members.append(i)
        group.deps |= deps
        group.reads |= reads - group.made
        group.made.update(v.id for v in eqn.outputs)
        group_of[i] = g
        for v in eqn.outputs:
            made_by[v.id] = g
    return groups, group_of


def _worth(group: _Group, eqns: list[Eqn]) -> bool:
    """Two or more equations, at least one of them more than a copy."""
    return len(group.members) >= 2 and any(
        _OPS[eqns[i].prim.name][1] != "{0}" for i in group.members)


def _schedule(units: list[tuple[int, list[int]]], eqns: list[Eqn]) -> list[int]:
    """An order of the units (key, equation indices) in which every value is made
    before it is read: Kahn's algorithm, taking the unit that came first in the
    original program among those ready."""
    unit_of: dict[int, int] = {}
    for u, (_, members) in enumerate(units):
        for i in members:
            for v in eqns[i].outputs:
                unit_of[v.id] = u
    waiting = [0] * len(units)
    readers: list[list[int]] = [[] for _ in units]
    for u, (_, members) in enumerate(units):
        sources = {unit_of[x.id] for i in members for x in eqns[i].inputs
                   if isinstance(x, Var) and x.id in unit_of} - {u}
        waiting[u] = len(sources)
        for s in sources:
            readers[s].append(u)
    ready = [(units[u][0], u) for u in range(len(units)) if not waiting[u]]
    heapq.heapify(ready)
    order = []
    while ready:
        _, u = heapq.heappop(ready)
        order.append(u)
        for r in readers[u]:
            waiting[r] -= 1
            if not waiting[r]:
                heapq.heappush(ready, (units[r][0], r))
    if len(order) != len(units):  # a cycle: the grouping above rules it out
        raise AssertionError("fuse: the groups depend on each other in a cycle")
    return order


class FusedPrimitive:
    """The primitive of a fused equation: its kernel and the kernel's text."""

    def __init__(self, impl: Any, source: str, index: int) -> None:
        self.name = f"fused{index}"
        self.impl = impl
        self.kernel_source = source


def _scalar(value: Any, dtype: Any) -> str:
    """Source for ``value`` cast to ``dtype`` as NumPy casts a constant operand."""
    v = xp.asarray(value).astype(dtype)[()]
    if dtype == xp.bool_:
        return repr(bool(v))
    f = float(v)
    if f != f:
        text = "np.nan"
    elif math.isinf(f):
        text = "np.inf" if f > 0 else "-np.inf"
    else:
        text = repr(f)
    return f"np.{dtype.name}({text})"


def kernel_source(eqns: list[Eqn], inputs: list[Var | Const], outputs: list[Var],
                  shape: tuple[int, ...]) -> str:
    """The numba kernel of one group: ``kernel(*inputs, *outputs)`` fills the outputs."""
    rank = len(shape)
    idx = [f"a{k}" for k in range(rank)]
    names: dict[int, str] = {}
    params = []
    loads = []
    pre = []
    for k, x in enumerate(inputs):
        p = f"i{k}"
        params.append(p)
        xs = tuple(x.shape)
        if not xs:  # a rank-0 value arrives as a NumPy scalar (the caller converts it)
            pre.append(f"    s{k} = {p}")
            expr = f"s{k}"
        else:
            lead = rank - len(xs)
            sub = ", ".join("0" if (d == 1 and shape[lead + j] != 1) else idx[lead + j]
                            for j, d in enumerate(xs))
            expr = f"{p}[{sub}]"
        key = id(x) if isinstance(x, Const) else x.id
        names[key] = f"v{len(names)}"
        loads.append(f"{names[key]} = {expr}")
    body = []
    dtypes: dict[str, Any] = {}
    for x in inputs:
        key = id(x) if isinstance(x, Const) else x.id
        dtypes[names[key]] = xp.dtype(x.dtype)
    for eqn in eqns:
        name = eqn.prim.name
        _, template, _ = _OPS[name]
        loop = _loop_dtype(eqn)
        args = []
        for j, x in enumerate(eqn.inputs):
            want = xp.dtype(xp.bool_) if name == "where" and j == 0 else loop
            if isinstance(x, Const) and (not isinstance(x.value, xp.ndarray)
                                         or id(x) not in names):
                args.append(_scalar(x.value, want))
                continue
            var = names[id(x) if isinstance(x, Const) else x.id]
            args.append(var if dtypes[var] == want else f"np.{want.name}({var})")
        out = eqn.outputs[0]
        target = f"v{len(names)}"
        names[out.id] = target
        dtypes[target] = xp.dtype(out.dtype)
        # numba types each of these scalar operations in its operands' dtype
        expr = template.format(*args, z=_scalar(0, loop), one=_scalar(1, loop))
        body.append(f"{target} = {expr}")
    stores = []
    for k, v in enumerate(outputs):
        p = f"o{k}"
        params.append(p)
        stores.append(f"{p}[{', '.join(idx)}] = {names[v.id]}")
    lines = [f"# chainrule fused kernel, format {VERSION}: generated from a traced program",
             "import numpy as np", "from numba import njit", "", "",
             '@njit(cache=True, nogil=True, error_model="numpy")',
             f"def kernel({', '.join(params)}):", *pre]
    lines.append(f"    {', '.join(f'n{k}' for k in range(rank))}, = o0.shape")
    indent = "    "
    for k in range(rank):
        lines.append(f"{indent}for {idx[k]} in range(n{k}):")
        indent += "    "
    lines += [indent + s for s in loads + body + stores]
    return "\n".join(lines) + "\n"


def fuse(program: Program) -> Program:
    """Replace groups of elementwise equations by one kernel call each (numba).

    Without numba the program is returned unchanged.
    """
    if not available():
        return program
    eqns = program.eqns
    groups, group_of = _groups(eqns)
    kept = [g for g in groups if _worth(g, eqns)]
    if not kept:
        return program
    readers: dict[int, set[int]] = {}  # var id -> indices of equations reading it
    for i, eqn in enumerate(eqns):
        for x in eqn.inputs:
            if isinstance(x, Var):
                readers.setdefault(x.id, set()).add(i)
    final = {x.id for x in [*program.outputs, *(program.checks or ())] if isinstance(x, Var)}
    fused: dict[int, Eqn] = {}  # id of a kept group -> its equation
    for n, g in enumerate(kept):
        members = set(g.members)
        made = {v.id for i in g.members for v in eqns[i].outputs}
        inputs: list[Var | Const] = []
        seen: set[int] = set()
        for i in g.members:
            for x in eqns[i].inputs:
                if isinstance(x, Var):
                    if x.id in made or x.id in seen:
                        continue
                    seen.add(x.id)
                    inputs.append(x)
                elif isinstance(x.value, xp.ndarray) and x.value.ndim and id(x) not in seen:
                    seen.add(id(x))
                    inputs.append(x)
        outputs = [v for i in g.members for v in eqns[i].outputs
                   if v.id in final or readers.get(v.id, set()) - members]
        if not outputs:
            continue
        source = kernel_source([eqns[i] for i in g.members], inputs, outputs, g.shape)
        try:
            impl = _kernel(source)
        except Exception as err:  # noqa: BLE001 - the NumPy program still runs
            warnings.warn(f"jit: the fused backend could not load a kernel ({err}); "
                          f"running those equations with NumPy", RuntimeWarning, stacklevel=2)
            continue
        first = eqns[g.members[0]]
        fused[id(g)] = Eqn(FusedPrimitive(impl, source, n), inputs, {}, outputs, first.line,
                           first.part, tuple_out=True)
    if not fused:
        return program
    units: list[tuple[int, list[int]]] = []
    unit_eqn: list[Eqn] = []
    for i, eqn in enumerate(eqns):
        g = groups[group_of[i]] if i in group_of else None
        if g is not None and id(g) in fused:
            if i == g.members[0]:
                units.append((i, g.members))
                unit_eqn.append(fused[id(g)])
            continue
        units.append((i, [i]))
        unit_eqn.append(eqn)
    return program.replace(eqns=[unit_eqn[u] for u in _schedule(units, eqns)])


def warn_missing() -> None:
    warnings.warn("jit(backend='numba'): numba is not installed, so the program runs "
                  "with NumPy (unfused); install it with pip install chainrule[jit]",
                  RuntimeWarning, stacklevel=3)
