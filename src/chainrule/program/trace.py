"""The tracing level: run a function on abstract values and record a program.

A :class:`Tracer` stands for an array of known shape and dtype whose values
are unknown. Like a reverse-mode tensor or a forward-mode dual it is a
``Traced`` value at a transform level, so ``bind`` hands it every primitive
applied to it; instead of computing, it appends an equation to the program
being recorded. Transforms inside the traced function (``grad``, ``jvp``...)
get higher levels and run their own rules on tracers, so the derivative
program comes from the same VJP and JVP rules as eager derivatives.

The output's shape and dtype come from running the implementation on a
stand-in of the right shape and dtype (zeros, then an identity-like array
for operations such as ``inv`` that refuse zeros): NumPy's own rules decide,
so no primitive needs a shape rule of its own. Primitives whose output shape
depends on the values (``argwhere``, a boolean mask) are refused.
"""

from __future__ import annotations

import inspect
import linecache
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from chainrule.backend import ndarray, xp
from chainrule.core.config import transform_scope
from chainrule.core.escape import TracerConversionError
from chainrule.core.trace import Traced, describe
from chainrule.program.ir import Const, Eqn, ProgramData, Var
from chainrule.program.passes import simplify
from chainrule.program.source import to_function, to_source
from chainrule.pytree import flatten, leaf_paths, unflatten
from chainrule.tensor_numpy import ArrayOperators, NumpyInterface

_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
_LIBRARY_DIRS = (_HERE, os.path.dirname(os.path.abspath(xp.__file__)) + os.sep,
                 os.path.dirname(os.path.abspath(os.__file__)) + os.sep, "<frozen")

# output shapes that depend on the input values: no stand-in can tell them
VALUE_DEPENDENT = frozenset({"argwhere"})


class Program(ProgramData):
    """A straight-line program: inputs, equations in order, outputs.

    ``str(program)`` (``to_source()``) is runnable NumPy code; ``to_function()``
    compiles it; ``in_tree``/``out_tree`` give the arguments' and results' pytrees.
    """

    __hash__ = object.__hash__

    def to_source(self) -> str:
        return to_source(self)

    def to_function(self) -> Callable[..., Any]:
        """A plain NumPy function compiled from ``to_source()``: flat arrays in,
        a tuple of flat outputs out."""
        return to_function(self)

    def __call__(self, *args: Any) -> Any:
        """Run the program on (non-static) arguments shaped like the example ones."""
        leaves, _ = flatten(args)
        flat = [leaf for leaf in leaves if not _concrete_leaf(leaf)]
        fn = self.__dict__.get("_compiled")
        if fn is None:
            fn = self.__dict__["_compiled"] = self.to_function()
        return unflatten(self.out_tree, list(fn(*flat)))

    def __str__(self) -> str:
        return self.to_source()


class Trace:
    """The program being recorded at one level."""

    def __init__(self, level: int, name: str) -> None:
        self.level = level
        self.name = name
        self.eqns: list[Eqn] = []
        self.done = False
        self.lines: dict[int, str] = {}  # var id -> the line that made it
        self.draws: list[Draw] = []  # random numbers the function draws: program inputs
        self.state_read = ""  # a line that read or set a generator's state, if any


class Draw:
    """Random numbers a traced function draws: an input of its program, drawn anew
    from the same generator at every call (``rng`` as given to ``chainrule.random``:
    None for the module's generator, a seed, or a Generator), as eager mode would."""

    __slots__ = ("rng", "method", "size", "dtype", "var", "line")

    def __init__(self, rng: Any, method: str, size: tuple[int, ...], dtype: Any, var: Var,
                 line: str) -> None:
        self.rng, self.method, self.size, self.dtype = rng, method, size, dtype
        self.var, self.line = var, line

    def __call__(self) -> Any:
        from chainrule import random as cr_random

        return getattr(cr_random.generator(self.rng), self.method)(self.size, self.dtype)


_DRAWS = ("random", "standard_normal")  # (size, dtype) draws a program can take as inputs


class TracedGenerator:
    """What ``chainrule.random.generator`` gives while a program is traced: each
    ``random``/``standard_normal`` draw becomes a program input (drawn at each call
    of the compiled program, never frozen at trace time); other draws are refused."""

    def __init__(self, trace: Trace, rng: Any) -> None:
        self._trace = trace
        self._rng = rng

    def _draw(self, method: str, size: Any = None, dtype: Any = xp.float64) -> Tracer:
        shape = () if size is None else tuple(size) if isinstance(size, (tuple, list)) \
            else (int(size),)
        var = Var(shape, xp.dtype(dtype))
        line = _user_line()
        self._trace.draws.append(Draw(self._rng, method, shape, xp.dtype(dtype), var, line))
        self._trace.lines[var.id] = line
        return Tracer(var, self._trace)

    def random(self, size: Any = None, dtype: Any = xp.float64) -> Tracer:
        return self._draw("random", size, dtype)

    def standard_normal(self, size: Any = None, dtype: Any = xp.float64) -> Tracer:
        return self._draw("standard_normal", size, dtype)

    @property
    def bit_generator(self) -> Any:
        # checkpoint saves and restores the state to replay its draws: a program's
        # draws are inputs, which that replay cannot reach (trace_program refuses both)
        self._trace.state_read = self._trace.state_read or _user_line()
        return _bit_generator_untraced(self._rng)

    def __getattr__(self, name: str) -> Any:
        raise TypeError(
            f"{name}: a random draw inside a function traced by {self._trace.name} "
            f"(chainrule.random's generator); a program can take only "
            f"{' and '.join(_DRAWS)} draws as inputs (drawn anew at every call). Draw "
            f"these numbers outside the function and pass them in as an argument")


def _concrete_leaf(leaf: Any) -> bool:
    """Leaves that stay concrete (part of the signature): bools, None, strings and
    anything that is not a number or array."""
    if isinstance(leaf, bool) or leaf is None:
        return True
    if isinstance(leaf, (int, float, complex, xp.generic, ndarray)):
        return False
    return not (hasattr(leaf, "shape") and hasattr(leaf, "dtype"))



def _bit_generator_untraced(rng: Any) -> Any:
    """The generator's bit generator, read without the tracing hook (checkpoint saves and
    restores its state; reading it must not count as a draw)."""
    from chainrule import random as cr_random

    hook, cr_random._trace_hook = cr_random._trace_hook, None
    try:
        return cr_random.generator(rng).bit_generator
    finally:
        cr_random._trace_hook = hook

def _user_line() -> str:
    """``file:line: source`` of the innermost frame outside chainrule and NumPy."""
    frame = sys._getframe(3)
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith("<frozen") or os.path.abspath(name).startswith(_LIBRARY_DIRS)):
            text = linecache.getline(name, frame.f_lineno).strip()
            return f"{os.path.basename(name)}:{frame.f_lineno}: {text}"
        frame = frame.f_back
    return ""


_SWEEPS = ("_sweep", "_sweep_plain")


def _sweep_origin(trace: Trace) -> str | None:
    """When a reverse sweep is running (this equation is part of a derivative), the
    line of the forward operation whose rule is running; None otherwise."""
    frame = sys._getframe(3)
    while frame is not None:
        code = frame.f_code
        if code.co_name in _SWEEPS and code.co_filename.endswith("reverse.py"):
            node = frame.f_locals.get("node")
            out = getattr(node, "out", None)
            while isinstance(out, Traced) and not isinstance(out, Tracer):
                out = getattr(out, "data", getattr(out, "primal", None))
            if isinstance(out, Tracer):
                return trace.lines.get(out.var.id, "")
            return ""
        frame = frame.f_back
    return None


def _standin(var: Var, kind: int) -> Any:
    """An array of ``var``'s shape and dtype: zeros, or (kind 1) an identity in the
    last two axes (for operations that refuse singular matrices), or ones."""
    if kind == 0:
        return xp.zeros(var.shape, var.dtype)
    if kind == 1 and len(var.shape) >= 2 and var.shape[-1] == var.shape[-2]:
        return xp.broadcast_to(xp.eye(var.shape[-1], dtype=var.dtype), var.shape).copy()
    return xp.ones(var.shape, var.dtype)


class _StandinGenerator:
    """The generator an implementation run on stand-ins sees (checkpoint runs the
    function it wraps): its state can be read, but a draw there is refused."""

    def __init__(self, rng: Any) -> None:
        self._rng = rng

    @property
    def bit_generator(self) -> Any:
        return _bit_generator_untraced(self._rng)

    def __getattr__(self, name: str) -> Any:
        raise RandomInPrimitiveError(
            f"{name}: random numbers drawn inside a primitive's implementation (such as "
            f"the function cr.checkpoint wraps) while a program is traced; the program "
            f"would freeze one draw. Draw them outside and pass them in as an argument")


class RandomInPrimitiveError(TypeError):
    pass


def _abstract_eval(prim: Any, inputs: list[Var | Const], params: dict) -> Any:
    """The implementation's result on stand-ins: only its shapes and dtypes are used."""
    from chainrule import random as cr_random

    error: Exception | None = None
    hook, cr_random._trace_hook = cr_random._trace_hook, _StandinGenerator
    try:
        for kind in (0, 1, 2):
            vals = [x.value if isinstance(x, Const) else _standin(x, kind) for x in inputs]
            try:
                with xp.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return prim.impl(*vals, **params)
            except RandomInPrimitiveError:
                raise
            except Exception as err:  # noqa: BLE001 - the next stand-in may suit it
                error = err
    finally:
        cr_random._trace_hook = hook
    operands = ", ".join(describe(x.value if isinstance(x, Const) else x) for x in inputs)
    raise TypeError(f"{prim.name}: cannot trace it on ({operands}) with {params}: its "
                    f"implementation fails on stand-in values of those shapes ({error})")


def _check_params(prim: Any, params: dict) -> None:
    for key, value in params.items():
        leaves, _ = flatten(value) if isinstance(value, (tuple, list, dict)) else ([value], None)
        for leaf in leaves:
            if isinstance(leaf, Traced):
                raise TypeError(
                    f"{prim.name}: its parameter {key}= is a traced value "
                    f"({describe(leaf)}); a program fixes parameters (indices, axes, "
                    f"shapes) when it is traced. Mark that argument static "
                    f"(cr.jit(f, static_argnums=...)) or use an operation taking the "
                    f"array as an argument (cr.take, cr.where)")
            if prim.name == "getitem" and getattr(leaf, "dtype", None) is not None \
                    and xp.dtype(leaf.dtype).kind == "b":
                raise TypeError(
                    "getitem: indexing with a boolean mask gives a shape that depends on "
                    "the values, which a traced program cannot know; select with "
                    "cr.where(mask, x, 0) instead")


class Tracer(ArrayOperators, NumpyInterface, Traced):
    """An abstract array (shape and dtype only) at the tracing level.

    Converting it to a Python value (``bool``, ``float``, ``int``, ``.item()``,
    ``np.asarray``) is refused: the program must not depend on values it does
    not have. Branch with ``cr.where`` or mark the argument static instead.
    """

    __slots__ = ("var", "trace", "_level")
    _abstract = True  # every number it carries is unknown (core.primitive.all_finite)

    def __init__(self, var: Var, trace: Trace) -> None:
        self.var = var
        self.trace = trace
        self._level = trace.level

    @property
    def shape(self) -> tuple[int, ...]:
        return self.var.shape

    @property
    def dtype(self) -> Any:
        return self.var.dtype

    def _process(self, prim: Any, args: tuple, params: dict) -> Any:
        trace = self.trace
        if trace.done:
            _escaped(self, prim.name)
        level = self._level
        inputs: list[Var | Const] = []
        for a in args:
            if isinstance(a, Tracer) and a._level == level:
                if a.trace.done:
                    _escaped(a, prim.name)
                inputs.append(a.var)
            elif isinstance(a, Traced):
                raise TypeError(
                    f"{prim.name}: the function traced by {trace.name} uses a value of "
                    f"another transform ({type(a).__name__} {describe(a)}) that it did not "
                    f"receive as an argument (a closure): its derivative would be lost. "
                    f"Pass it as an argument instead")
            elif type(a) is ndarray and a.flags.writeable:
                # captured arrays are constants of the program, read when it is traced
                # (as in jax.jit): a copy, so a later change in place never reaches
                # some cached programs (large constants) and not others (inlined ones)
                inputs.append(Const(a.copy()))
            else:
                inputs.append(Const(a))
        if prim.name in VALUE_DEPENDENT:
            raise TypeError(f"{prim.name}: its output shape depends on the values, which a "
                            f"traced program does not know ({trace.name}); use cr.where "
                            f"with a fixed shape instead")
        if params:
            _check_params(prim, params)
        result = _abstract_eval(prim, inputs, params)
        many = isinstance(result, (tuple, list))
        results = list(result) if many else [result]
        outputs = [Var(tuple(xp.shape(r)), xp.result_type(r)) for r in results]
        origin = _sweep_origin(trace)
        if origin is None:
            line, part = _user_line(), "forward"
        else:
            line, part = origin, "backward"
        trace.eqns.append(Eqn(prim, inputs, dict(params), outputs, line, part, many))
        for v in outputs:
            trace.lines[v.id] = line
        tracers = [Tracer(v, trace) for v in outputs]
        return tuple(tracers) if many else tracers[0]

    # ----- conversions: the values are unknown while tracing -----
    def __bool__(self) -> bool:
        _refuse_value(self, "bool()")

    def __float__(self) -> float:
        _refuse_value(self, "float()")

    def __int__(self) -> int:
        _refuse_value(self, "int()")

    def __index__(self) -> int:
        _refuse_value(self, "an index (operator.index)")

    def __complex__(self) -> complex:
        _refuse_value(self, "complex()")

    def __array__(self, dtype: Any = None, copy: Any = None) -> ndarray:
        _refuse_value(self, "np.asarray()")

    def item(self) -> Any:
        _refuse_value(self, ".item()")

    def tolist(self) -> Any:
        _refuse_value(self, ".tolist()")

    def __repr__(self) -> str:
        return f"Tracer({describe(self)}, {self.trace.name})"


def _refuse_value(t: Tracer, what: str) -> None:
    line = _user_line()
    at = f" at {line}" if line else ""
    random = {d.var.id for d in t.trace.draws}
    for eqn in t.trace.eqns:  # (an error path: one scan for what the draws reach)
        if any(isinstance(x, Var) and x.id in random for x in eqn.inputs):
            random.update(v.id for v in eqn.outputs)
    if t.var.id in random:
        raise TracerConversionError(
            f"{what} of random numbers drawn inside a function traced by {t.trace.name}"
            f"{at}: a program takes its draws as inputs, drawn anew at each call, but "
            f"this one was turned into a concrete array (as cr.randn and cr.rand do), "
            f"which would freeze one draw into the program. Draw the numbers outside "
            f"the function and pass them in as an argument")
    raise TracerConversionError(
        f"{what} of a traced value ({describe(t)}, traced by {t.trace.name}){at}: a "
        f"program records operations on shapes and dtypes only, so Python cannot read its "
        f"values (an 'if', 'while', float() or np.asarray on it). Select with "
        f"cr.where(cond, a, b) instead of branching, or mark the argument static "
        f"(cr.jit(f, static_argnums=...)) so each value gets its own program")


def _escaped(t: Tracer, what: str) -> None:
    raise TypeError(
        f"{what}: a traced value ({describe(t)}) was used after {t.trace.name} finished "
        f"tracing: it escaped the function (a side effect, such as appending it to a "
        f"global list or storing it on an object). A traced function must return what it "
        f"computes instead")


def abstract_leaf(leaf: Any) -> tuple[tuple[int, ...], Any]:
    """The (shape, dtype) a numeric argument leaf is traced as."""
    if isinstance(leaf, (ndarray, xp.generic)):
        return tuple(leaf.shape), leaf.dtype
    if isinstance(leaf, (int, float, complex)):
        arr = xp.asarray(leaf)
        return (), arr.dtype
    return tuple(leaf.shape), xp.dtype(leaf.dtype)


def trace_program(f: Callable[..., Any], args: Sequence[Any], static: Sequence[int] = (),
                  name: str = "cr.make_program") -> Program:
    """Run ``f(*args)`` on abstract values and return its program.

    Arguments at positions ``static`` stay concrete (as do bools, None and other
    non-numeric leaves); every number or array leaf of the others becomes a
    program input of its shape and dtype.
    """
    args = tuple(args)
    from chainrule import random as cr_random

    with transform_scope() as level:
        trace = Trace(level, name)
        outer_hook = cr_random._trace_hook
        cr_random._trace_hook = lambda rng: TracedGenerator(trace, rng)
        inputs: list[Var] = []
        names: list[str] = []
        call_args = []
        params = _parameter_names(f)
        for i, a in enumerate(args):
            if i in static:
                call_args.append(a)
                continue
            leaves, tree = flatten(a)
            base = params[i] if i < len(params) else f"a{i}"
            paths = leaf_paths(tree)
            new = []
            for leaf, path in zip(leaves, paths):
                if _concrete_leaf(leaf):
                    new.append(leaf)
                    continue
                if isinstance(leaf, Traced):
                    raise TypeError(f"{name}: argument {i} is a traced value "
                                    f"({describe(leaf)}); trace with plain arrays")
                shape, dtype = abstract_leaf(leaf)
                var = Var(shape, dtype)
                inputs.append(var)
                names.append(base + "".join(c if c.isalnum() else "_" for c in path)
                             .replace("__", "_").rstrip("_"))
                new.append(Tracer(var, trace))
            call_args.append(unflatten(tree, new))
        try:
            out = f(*call_args)
        finally:
            trace.done = True
            cr_random._trace_hook = outer_hook
    if trace.draws and trace.state_read:
        raise TypeError(
            f"{name}: the function draws random numbers ({trace.draws[0].line}) and reads "
            f"or sets the generator's state ({trace.state_read}), as checkpoint does to "
            f"replay its draws; a traced program takes its draws as inputs, which such a "
            f"replay cannot reach. Draw the numbers outside and pass them in")
    for k, draw in enumerate(trace.draws):
        inputs.append(draw.var)
        names.append(f"random{k}")
    _, in_tree = flatten(tuple(a for i, a in enumerate(args) if i not in static))
    out_leaves, out_tree = flatten(out)
    outputs: list[Var | Const] = []
    for leaf in out_leaves:
        if isinstance(leaf, Tracer) and leaf.trace is trace:
            outputs.append(leaf.var)
        elif isinstance(leaf, Traced):
            raise TypeError(f"{name}: the function returned a value of another trace or "
                            f"transform ({type(leaf).__name__} {describe(leaf)}); return "
                            f"values computed from its arguments")
        else:
            outputs.append(Const(leaf))
    fname = "".join(c if c.isalnum() else "_" for c in getattr(f, "__name__", "f")).strip("_")
    if not fname.isidentifier() or fname in ("lambda", "np", "P"):
        fname = "f"
    program = Program(inputs, trace.eqns, outputs, in_tree, out_tree, fname, names)
    program.draws = trace.draws or None
    return program


def _closed_over(f: Any) -> Any:
    """The function a transform's wrapper closes over (its free variable ``f``)."""
    code = getattr(f, "__code__", None)
    if code is None or not f.__closure__:
        return None
    for name, cell in zip(code.co_freevars, f.__closure__):
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if name in ("f", "fun", "vg", "fn") and callable(value):
            return value
    return None


def _parameter_names(f: Callable[..., Any]) -> list[str]:
    """The names of ``f``'s positional parameters (through transforms' wrappers)."""
    while True:
        inner = getattr(f, "__wrapped__", None) or getattr(f, "f", None) or _closed_over(f)
        try:
            sig = inspect.signature(f)
        except (TypeError, ValueError):
            return []
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        names = [p.name for p in sig.parameters.values() if p.kind in kinds]
        if names or inner is None or not callable(inner):
            return names
        f = inner


def make_program(f: Callable[..., Any], static_argnums: int | Sequence[int] = ()
                 ) -> Callable[..., Program]:
    """``make_program(f)(*example_args)``: the straight-line program ``f`` runs.

    The example arguments give shapes and dtypes only (their values are never
    read); static arguments are used as they are.

    >>> import chainrule as cr
    >>> prog = cr.make_program(cr.grad(lambda x: x**2 - 3*x - 2))(3.0)
    >>> float(prog.to_function()(3.0)[0])
    3.0
    """
    if not callable(f):
        raise TypeError(f"make_program: expected a function, got {type(f).__name__}; "
                        f"write cr.make_program(f)(*example_args)")
    static = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)

    def build(*args: Any) -> Program:
        nums = tuple(s % len(args) for s in static) if args else ()
        program = trace_program(f, args, nums)
        if program.draws:
            raise TypeError(
                f"make_program: the function draws random numbers "
                f"({program.draws[0].line}), which a program takes as inputs drawn at "
                f"each call: cr.jit(f) does that; for make_program, draw them outside "
                f"and pass them in as an argument")
        return simplify(program)

    return build
