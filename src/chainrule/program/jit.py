"""``cr.jit``: trace once per call signature, compile, and rerun the compiled program.

The signature of a call is the pytree structure of its arguments, the shape
and dtype of every number or array leaf, the values of the other leaves
(bools, None, strings) and of the static arguments. A new signature traces
again; a function retraced many times (shapes changing every call) gets a
warning, as JAX gives. Called on reverse-mode values (``grad(jit(f))``, float
arrays in, one float array out), the compiled program runs as one primitive
whose reverse rule is the jitted VJP program; on values of other transforms
(``jvp``, ``vmap``, ``jit`` inside ``make_program``) the function runs inline, so
the enclosing transform sees every operation: never a cached program standing
in for a derivative it cannot give.
"""

from __future__ import annotations

import functools
import os
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from chainrule.backend import ndarray, xp
from chainrule.core.config import state
from chainrule.core.trace import Traced
from chainrule.program.fuse import available as numba_available
from chainrule.program.fuse import fuse, warn_missing
from chainrule.program.ir import Const, Var
from chainrule.program.passes import optimistic, reuse_buffers, simplify
from chainrule.program.trace import Program, _concrete_leaf, abstract_leaf, trace_program
from chainrule.pytree import _sorted_keys, flatten, unflatten
from chainrule.subgradients.policy import current_policy
from chainrule.subgradients.recording import watch


def _as_primitive(jitted: Jitted, tree: Any) -> Any:
    """The jitted function of flat leaves as one primitive: its implementation is
    the compiled program, its reverse rule the jitted VJP (all cotangents from one
    call per backward sweep), its forward rule ``jvp`` through ``f``."""
    from chainrule.core.config import sweep_caches
    from chainrule.core.primitive import Primitive
    from chainrule.transforms.grad import vjp
    from chainrule.transforms.jvp import jvp

    f = jitted.f
    name = getattr(f, "__name__", "f")

    def flat_f(*xs: Any) -> Any:
        return f(*unflatten(tree, list(xs)))

    def pullback(*xs_and_g: Any) -> Any:
        *xs, g = xs_and_g
        return tuple(vjp(flat_f, *xs)[1](g))

    backward = Jitted(pullback, (), jitted.backend)
    cache: dict[tuple, tuple] = {}  # one sweep's cotangents, shared by the rules
    sweep_caches.append(cache)

    def impl(*xs: Any) -> Any:
        return jitted(*unflatten(tree, list(xs)))

    def vjp_rule(i: int, g: Any, out: Any, *xs: Any) -> Any:
        key = (id(g), id(out), *map(id, xs))
        hit = cache.get(key)
        if hit is None or hit[0] is not g or hit[1] is not out:
            hit = cache[key] = (g, out, backward(*xs, g))
        return hit[2][i]

    def jvp_rule(i: int, dx: Any, out: Any, *xs: Any) -> Any:
        tangents = [dx if j == i else None for j in range(len(xs))]
        return jvp(flat_f, xs, tangents)[1]

    prim = Primitive(f"jit({name})", impl, register=False)
    prim.defvjp_variadic(vjp_rule)
    prim.defjvp_variadic(jvp_rule)
    return prim


RETRACE_WARNING = 8  # distinct signatures of one jitted function before a warning


class _Compiled:
    """One cached program and its compiled function."""

    __slots__ = ("program", "fn", "out_tree", "single", "build")

    def __init__(self, program: Program, backend: str = "numpy") -> None:
        self.program = program
        outputs = []
        for x in program.outputs:  # a constant result is the caller's to change: read-only
            if isinstance(x, Const) and type(x.value) is ndarray:  # here, copied per call
                value = x.value.copy()
                value.flags.writeable = False
                x = Const(value)
            outputs.append(x)
        program = program.replace(outputs=outputs)
        fast = optimistic(program)
        if backend == "numba":
            fast = fuse(fast)
        if fast.fallback is not None:
            fast = fast.replace(fallback=reuse_buffers(fast.fallback))
        self.fn = reuse_buffers(fast).to_function()
        if program.draws:  # random numbers: drawn for each call, passed after the arguments
            self.fn = _drawing(self.fn, tuple(program.draws))
        self.out_tree = program.out_tree
        self.single = program.out_tree is not None and program.out_tree.kind == "leaf"
        # outputs that a ufunc, matmul or kernel made are fresh writable arrays, as
        # eager transforms return them; the others go through _plain
        made = {v.id: e for e in fast.eqns for v in e.outputs}
        fix = [i for i, x in enumerate(program.outputs)
               if not (isinstance(x, Var) and x.shape and _fresh_output(made.get(x.id)))]
        if self.single:
            self.build = (lambda outs: _plain(outs[0])) if fix else (lambda outs: outs[0])
        else:
            rebuild = _builder(program.out_tree)
            if not fix:
                self.build = lambda outs: rebuild(iter(outs))
            else:
                def build(outs: Any) -> Any:
                    outs = list(outs)
                    for i in fix:
                        outs[i] = _plain(outs[i])
                    return rebuild(iter(outs))
                self.build = build


def _drawing(fn: Callable[..., Any], draws: tuple) -> Callable[..., Any]:
    """``fn`` with its random inputs drawn at each call, in the order they were traced."""
    def run(*args: Any) -> Any:
        return fn(*args, *[draw() for draw in draws])
    run.__source__ = fn.__source__  # type: ignore[attr-defined]
    return run


def _fresh_output(eqn: Any) -> bool:
    """Whether an equation's outputs are arrays it allocated (writable, not views)."""
    if eqn is None:
        return False
    impl = eqn.prim.impl
    return (isinstance(impl, xp.ufunc) or eqn.prim.name == "matmul"
            or getattr(eqn.prim, "kernel_source", None) is not None)


def _plain(value: Any) -> Any:
    """What eager transforms hand back: a NumPy scalar for 0-d, a writable array else."""
    if type(value) is ndarray:
        if value.ndim == 0:
            return value[()]
        return value if value.flags.writeable else xp.array(value)
    return value


_ORDER: dict[tuple, tuple] = {}  # a dict's keys as inserted -> as pytree visits them


class _Unusual(Exception):
    """An argument the fast signature does not handle: take the general path."""


def _fast_into(x: Any, leaves: list[Any], key: list[Any]) -> None:
    t = type(x)
    if t is ndarray:
        leaves.append(x)
        key.append(x.shape)
        key.append(x.dtype)
    elif t is float or t is int:
        leaves.append(x)
        key.append(t)
    elif t is dict:
        inserted = tuple(x)
        order = _ORDER.get(inserted)
        if order is None:
            if len(_ORDER) > 4096:
                _ORDER.clear()
            order = _ORDER[inserted] = _sorted_keys(x)
        key.append(dict)
        key.append(inserted)
        for k in order:
            v = x[k]
            if type(v) is ndarray:  # inline: a dict of parameters is mostly arrays
                leaves.append(v)
                key.append(v.shape)
                key.append(v.dtype)
            else:
                _fast_into(v, leaves, key)
    elif t is tuple or t is list:
        key.append(t)
        key.append(len(x))
        for c in x:
            _fast_into(c, leaves, key)
    elif x is None:
        key.append(None)
    else:
        raise _Unusual


def _fast_signature(args: tuple) -> tuple[tuple, list[Any]] | None:
    """The cache key of a call whose arguments are arrays, Python numbers and plain
    dicts, lists and tuples of them (the training-step case), with its leaves in
    ``flatten``'s order, in one walk; None for anything else. Every container and
    dict key is in the key, so a different structure gets a different entry."""
    leaves: list[Any] = []
    key: list[Any] = [current_policy(), "fast"]
    try:
        for a in args:
            if type(a) is ndarray:
                leaves.append(a)
                key.append(a.shape)
                key.append(a.dtype)
            else:
                _fast_into(a, leaves, key)
    except _Unusual:
        return None
    return tuple(key), leaves


def _builder(tree: Any) -> Callable[[Any], Any]:
    """A function rebuilding ``tree``'s structure from an iterator of flat outputs
    (already plain), without walking the tree."""
    kind = tree.kind
    if kind == "leaf":
        return next
    if kind == "none":
        return lambda it: None
    subs = [_builder(c) for c in tree.children]
    if kind == "dict":
        keys = tree.meta
        if all(c.kind == "leaf" for c in tree.children):
            return lambda it: dict(zip(keys, it))
        return lambda it: {k: b(it) for k, b in zip(keys, subs)}
    if kind == "list":
        return lambda it: [b(it) for b in subs]
    if kind == "namedtuple":
        cls = tree.meta
        return lambda it: cls(*[b(it) for b in subs])
    return lambda it: tuple([b(it) for b in subs])


class Jitted:
    """A jitted function: call it like ``f``; ``lower``/``program`` show what runs."""

    def __init__(self, f: Callable[..., Any], static_argnums: Sequence[int],
                 backend: str = "numpy") -> None:
        self.f = f
        self.static_argnums = tuple(static_argnums)
        self.backend = backend
        self.cache: dict[Any, _Compiled] = {}
        self.traces = 0
        self._warned = False
        self._warned_numba = False
        self._prims: dict[Any, Any] = {}  # pytree of the arguments -> primitive (grad(jit))
        functools.update_wrapper(self, f)

    # ----- the signature -----
    def _static(self, nargs: int) -> tuple[int, ...]:
        out = []
        for s in self.static_argnums:
            if not -nargs <= s < nargs:
                raise ValueError(f"jit: static_argnums={self.static_argnums} is out of "
                                 f"range for a call with {nargs} positional argument(s)")
            out.append(s % nargs)
        return tuple(out)

    def _signature(self, args: tuple, static: tuple[int, ...]) -> tuple[Any, list[Any]]:
        key: list[Any] = [current_policy()]  # the kinked rules read it when traced
        flat: list[Any] = []
        for i, a in enumerate(args):
            if i in static:
                try:
                    hash(a)
                except TypeError:
                    raise TypeError(
                        f"jit: static argument {i} is a {type(a).__name__}, which is not "
                        f"hashable, so it cannot key the cache of compiled programs; pass "
                        f"a tuple instead of a list, or make it a non-static argument "
                        f"(arrays are traced by shape and dtype)") from None
                key.append(("static", type(a), a))
                continue
            leaves, tree = flatten(a)
            sig = []
            for leaf in leaves:
                if _concrete_leaf(leaf):
                    try:
                        hash(leaf)
                    except TypeError:
                        raise TypeError(
                            f"jit: argument {i} holds a {type(leaf).__name__}, which is "
                            f"neither an array nor hashable; pass arrays, numbers or "
                            f"hashable values (or mark the argument static)") from None
                    sig.append(("value", type(leaf), leaf))
                else:
                    shape, dtype = abstract_leaf(leaf)
                    sig.append((shape, dtype.str, type(leaf) is float or type(leaf) is int))
                    flat.append(leaf)
            key.append((tree, tuple(sig)))
        return tuple(key), flat

    def _compile(self, args: tuple, static: tuple[int, ...], key: Any) -> _Compiled:
        self.traces += 1
        if self.traces > RETRACE_WARNING and not self._warned:
            self._warned = True
            name = getattr(self.f, "__name__", "f")
            warnings.warn(f"jit({name}) has been traced {self.traces} times for different "
                          f"argument shapes, dtypes or static values: each new signature "
                          f"traces and compiles again. Keep shapes fixed (pad batches) or "
                          f"make the changing argument non-static", stacklevel=3)
        program = simplify(trace_program(self.f, args, static, name="cr.jit"))
        backend = self.backend
        if backend == "numba" and not numba_available():
            if not self._warned_numba:
                self._warned_numba = True
                warn_missing()
            backend = "numpy"
        compiled = _Compiled(program, backend)
        self.cache[key] = compiled
        return compiled

    def _quick_key(self, args: tuple) -> tuple | None:
        """The cache key of a call whose arguments are all arrays or floats (the
        common case), without the pytree walk; None for any other call."""
        if self.static_argnums:
            return None
        key: list[Any] = [current_policy()]  # the kinked rules read it when traced
        for a in args:
            t = type(a)
            if t is ndarray:
                key.append((a.shape, a.dtype))
            elif t is float:
                key.append(float)
            else:
                return None
        return tuple(key)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if state.anomaly or watch.active:
            # anomaly mode and kinks() look at every value as it is made: eagerly
            return self.f(*args, **kwargs)
        if kwargs:
            raise TypeError(f"jit({getattr(self.f, '__name__', 'f')}): keyword arguments "
                            f"{sorted(kwargs)} are not part of the cached signature; pass "
                            f"them positionally (static_argnums for non-arrays) or bind "
                            f"them first with functools.partial")
        quick = self._quick_key(args)
        if quick is not None:
            compiled = self.cache.get(quick)
            if compiled is not None:
                return compiled.build(compiled.fn(*args))
        fast = None if self.static_argnums else _fast_signature(args)
        if fast is not None:
            compiled = self.cache.get(fast[0])
            if compiled is not None:
                return compiled.build(compiled.fn(*fast[1]))
        leaves, tree = flatten(args)
        for leaf in leaves:
            if isinstance(leaf, Traced):  # under another transform
                return self._under_transform(args, leaves, tree)
        static = self._static(len(args))
        key, flat = self._signature(args, static)
        compiled = self.cache.get(key)
        if compiled is None:
            compiled = self._compile(args, static, key)
            if quick is not None:
                self.cache[quick] = compiled
        if fast is not None:
            self.cache[fast[0]] = compiled
        return compiled.build(compiled.fn(*flat))

    def _under_transform(self, args: tuple, leaves: list[Any], tree: Any) -> Any:
        """Called on values of an enclosing transform. Under reverse mode (grad, vjp),
        with float arrays in and one float array out, the compiled program runs as
        one primitive whose reverse rule is the jitted VJP program (``grad(jit(f))``
        reuses compiled code, to any order: the rule's own inputs may be traced
        again). Otherwise ``f`` runs inline, so the transform sees every operation."""
        from chainrule.tensor import Tensor

        if self.static_argnums or not self._primitive_ok(leaves, Tensor):
            return self.f(*args)
        plain = []
        for leaf in leaves:
            while isinstance(leaf, Traced):
                leaf = leaf.data
            plain.append(leaf)
        compiled = self._lookup(unflatten(tree, plain))
        out = compiled.program.outputs
        if not compiled.single or xp.dtype(out[0].dtype).kind != "f" \
                or compiled.program.draws:  # a VJP program would draw its own numbers
            return self.f(*args)
        prim = self._prims.get(tree)
        if prim is None:
            prim = self._prims[tree] = _as_primitive(self, tree)
        return prim(*leaves)

    @staticmethod
    def _primitive_ok(leaves: list[Any], tensor: type) -> bool:
        for leaf in leaves:
            if isinstance(leaf, Traced):
                if type(leaf) is not tensor:
                    return False  # forward mode, vmap, tracing: inline
                inner = leaf.data
                while isinstance(inner, Traced):
                    if type(inner) is not tensor:
                        return False
                    inner = inner.data
                dtype = getattr(inner, "dtype", None)
            elif type(leaf) is float:
                continue
            else:
                dtype = getattr(leaf, "dtype", None)
            if dtype is None or xp.dtype(dtype).kind != "f":
                return False
        return True

    def _lookup(self, args: tuple) -> _Compiled:
        static = self._static(len(args))
        key, _ = self._signature(args, static)
        compiled = self.cache.get(key)
        if compiled is None:
            compiled = self._compile(args, static, key)
        return compiled

    def lower(self, *args: Any) -> Program:
        """The (simplified) program a call with these arguments runs; traces if needed."""
        static = self._static(len(args))
        key, _ = self._signature(args, static)
        compiled = self.cache.get(key)
        if compiled is None:
            compiled = self._compile(args, static, key)
        return compiled.program

    program = lower

    def __repr__(self) -> str:
        return f"jit({getattr(self.f, '__name__', self.f)!r})"


BACKENDS = ("numpy", "numba")


def jit(f: Callable[..., Any], static_argnums: int | Sequence[int] = (),
        backend: str | None = None) -> Jitted:
    """Compile ``f`` into a straight-line NumPy program per call signature.

    ``backend="numba"`` (``pip install chainrule[jit]``) also fuses chains of
    elementwise operations into compiled loop kernels, cached on disk; without
    numba it warns and runs the NumPy program. The default is
    ``$CHAINRULE_JIT_BACKEND``, else ``"numpy"``.

    >>> import chainrule as cr
    >>> df = cr.jit(cr.grad(lambda x: x**2 - 3*x - 2))
    >>> float(df(3.0)), float(df(5.0)), df.traces
    (3.0, 7.0, 1)
    """
    if not callable(f):
        raise TypeError(f"jit: expected a function, got {type(f).__name__}; write "
                        f"cr.jit(f) or decorate a def with @cr.jit")
    nums = (static_argnums,) if isinstance(static_argnums, int) else tuple(static_argnums)
    for n in nums:
        if not isinstance(n, int):
            raise TypeError(f"jit: static_argnums must be integers, got {static_argnums!r}")
    if backend is None:
        backend = os.environ.get("CHAINRULE_JIT_BACKEND") or "numpy"
    if backend not in BACKENDS:
        raise ValueError(f"jit: backend={backend!r} is not one of {BACKENDS}; "
                         f"'numba' fuses elementwise chains (pip install chainrule[jit])")
    return Jitted(f, nums, backend)
