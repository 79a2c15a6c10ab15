"""Custom derivatives: ``custom_vjp`` and ``custom_jvp`` decorators, with JAX's signatures.

Each decorated function becomes a user primitive (``chainrule.core.primitive``)
whose arguments are the leaves of its positional arguments, so every engine
reads its rules: reverse sweeps, forward duals, batched Jacobians, nesting,
``explain``. The other direction is derived from the one the user gives:

* ``custom_vjp`` in forward mode: the tangent is ``J @ dx`` with the rows of
  ``J`` found by one call of ``bwd`` on the stack of all basis cotangents
  (one batched sweep, cost grows with the output's size). That is reverse
  mode's derivative only if ``bwd`` is linear in ``g``; the same call runs
  ``bwd`` on probe cotangents (random directions at scales 1e-6 to 1e6, and a
  negated one) and forward mode is refused when they disagree (JAX refuses
  forward mode of every ``custom_vjp`` function). A probe check, not a proof:
  a ``bwd`` nonlinear only outside the probed scales would pass it;
* ``custom_jvp`` in reverse mode: the user's tangent rule is linear in the
  tangent, so its transpose is found by a reverse sweep through it.

Residuals of ``fwd`` computed on plain arrays are kept (by the output array's
identity, dropped with it) for the first-order sweep; with traced arguments
(a second derivative) ``fwd`` runs again so its residuals are differentiable.
The function must return one array: several outputs need several functions.
"""

from __future__ import annotations

import builtins
import functools
import weakref
from collections.abc import Callable
from typing import Any

from chainrule.backend import dtype_of, ndarray, shape_of, xp
from chainrule.core.config import sweep_caches, transform_scope
from chainrule.core.primitive import Primitive
from chainrule.core.trace import Traced
from chainrule.ops.linalg import tensordot
from chainrule.ops.reductions import sum as reduce_sum
from chainrule.ops.shape import broadcast_to, getitem, reshape
from chainrule.pytree import TreeDef, flatten, flatten_up_to, unflatten
from chainrule.tensor import Tensor
from chainrule.transforms.batching import OWN_RULES, Batched
from chainrule.transforms.grad import _cotangents

__all__ = ["custom_jvp", "custom_vjp"]


def _single_output(name: str, out: Any) -> Any:
    if isinstance(out, (tuple, list, dict)) or out is None:
        raise TypeError(f"{name}: the function returned {type(out).__name__}; a function "
                        f"with a custom derivative must return one array (give each output "
                        f"its own decorated function)")
    if not isinstance(out, Traced) and type(out) is not ndarray:
        out = xp.asarray(out)
    return out


def _arg_of_leaf(tree: TreeDef, nargs: int) -> list[int]:
    """For each leaf of the argument tuple, the positional argument holding it."""
    owners = []
    for k, sub in enumerate(tree.children):
        owners.extend([k] * sub.num_leaves)
    assert len(owners) == tree.num_leaves and len(tree.children) == nargs
    return owners


class _Base:
    """What both decorators share: one primitive per argument structure."""

    kind = "custom"

    def __init__(self, fun: Callable[..., Any]) -> None:
        if not callable(fun):
            raise TypeError(f"{self.kind}: expected a function to decorate, got "
                            f"{type(fun).__name__}")
        self.fun = fun
        self.name = getattr(fun, "__name__", "custom")
        self._prims: dict[Any, tuple[Primitive, TreeDef]] = {}
        self._inside = 0  # > 0 while fwd runs: a call of the function there is plain
        functools.update_wrapper(self, fun)

    def _ready(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def _make(self, tree: TreeDef) -> Primitive:  # pragma: no cover - overridden
        raise NotImplementedError

    def __call__(self, *args: Any) -> Any:
        self._ready()
        if self._inside:  # fwd (or a rule) calling the function itself: its plain value
            return self.fun(*args)
        leaves, tree = flatten(args)
        entry = self._prims.get(tree)
        if entry is None:
            entry = self._prims[tree] = (self._make(tree), tree)
        return entry[0](*leaves)

    def _call(self, tree: TreeDef, leaves: tuple) -> Any:
        return self.fun(*unflatten(tree, list(leaves)))

    def _plain(self, f: Callable[..., Any]) -> Callable[..., Any]:
        """``f`` (a rule) run with calls of the function inside it plain."""
        def run(*args: Any) -> Any:
            self._inside += 1
            try:
                return f(*args)
            finally:
                self._inside -= 1
        return run

    def _batchable(self, prim: Primitive, tree: TreeDef) -> Primitive:
        """``prim`` with a batching rule: under vmap the function and its rules run
        once on the whole stack (a decorated function of the stacks, its rules
        vmapped), not once per example."""
        versions: dict[tuple, Any] = {}

        def rule(_prim: Any, vals: list, batched: list, params: dict) -> Any:
            key = tuple(batched)
            version = versions.get(key)
            if version is None:
                axes = tuple(unflatten(tree, [0 if b else None for b in batched]))
                version = versions[key] = self._batched(tree, axes, key)
            return version(*unflatten(tree, vals))

        OWN_RULES[prim] = rule
        return prim

    def _batched(self, tree: TreeDef, axes: tuple, batched: tuple) -> Any:
        raise NotImplementedError  # pragma: no cover - overridden


def _vmapped(f: Callable[..., Any], in_axes: Any) -> Callable[..., Any]:
    from chainrule.transforms.vmap import vmap  # vmap imports the batching table too

    return vmap(f, in_axes=in_axes)


def _sum_shared(cts: tuple, tree: TreeDef, batched: tuple) -> tuple:
    """Stacked cotangents (one per example) of the arguments; an argument shared by
    every example (not mapped) gets their sum."""
    if all(batched):
        return cts
    out, j = [], 0
    for ct, sub in zip(cts, tree.children):
        flags = batched[j:j + sub.num_leaves]
        j += sub.num_leaves
        if ct is None or all(flags):
            out.append(ct)
            continue
        leaves = flatten_up_to(sub, ct, "custom_vjp: bwd's cotangent")
        out.append(unflatten(sub, [c if b or c is None else reduce_sum(c, axis=0)
                                   for c, b in zip(leaves, flags)]))
    return tuple(out)


class custom_vjp(_Base):  # noqa: N801 - named as in JAX
    """A function with its own reverse rule: ``f.defvjp(fwd, bwd)``.

    ``fwd(*args)`` returns ``(out, residuals)``; ``bwd(residuals, g)`` returns a
    tuple with one cotangent per positional argument (``None`` for zero).

    >>> import chainrule as cr
    >>> @cr.custom_vjp
    ... def clip_gradient(lo, hi, x):
    ...     return x
    >>> clip_gradient.defvjp(lambda lo, hi, x: (x, (lo, hi)),
    ...                      lambda res, g: (None, None, cr.clip(g, *res)))
    >>> float(cr.grad(lambda x: 3.0 * clip_gradient(-1.0, 1.0, x))(2.0))
    1.0
    """

    kind = "custom_vjp"

    def __init__(self, fun: Callable[..., Any]) -> None:
        super().__init__(fun)
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[..., Any] | None = None

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        """Give the rule: ``fwd`` (output and residuals) and ``bwd`` (cotangents)."""
        if not callable(fwd) or not callable(bwd):
            raise TypeError(f"custom_vjp {self.name}: defvjp(fwd, bwd) takes two functions")
        self.fwd, self.bwd = fwd, bwd
        self._prims.clear()

    def _ready(self) -> None:
        if self.fwd is None:
            raise TypeError(f"custom_vjp {self.name}: no rule yet; call "
                            f"{self.name}.defvjp(fwd, bwd) before calling it")

    def _make(self, tree: TreeDef) -> Primitive:
        name = self.name
        nargs = len(tree.children)
        arg_trees = tree.children
        stash: dict[int, tuple[Any, Any]] = {}  # id(out) -> (weakref to out, residuals)
        cache: dict[tuple, tuple] = {}  # the cotangents of one node, for each of its rules
        sweep_caches.append(cache)

        def run_fwd(leaves: tuple) -> tuple[Any, Any]:
            self._inside += 1
            try:
                result = self.fwd(*unflatten(tree, list(leaves)))
            finally:
                self._inside -= 1
            if not (isinstance(result, tuple) and len(result) == 2):
                raise TypeError(f"custom_vjp {name}: fwd must return a pair (output, "
                                f"residuals), it returned {type(result).__name__}")
            return _single_output(f"custom_vjp {name}", result[0]), result[1]

        def impl(*leaves: Any) -> Any:
            out, res = run_fwd(leaves)
            if type(out) is ndarray:
                key = id(out)
                stash[key] = (weakref.ref(out, lambda _r, k=key: stash.pop(k, None)), res)
            return out

        def residuals(out: Any, leaves: tuple) -> Any:
            if type(out) is ndarray and not any(isinstance(a, Traced) for a in leaves):
                hit = stash.get(id(out))
                if hit is not None and hit[0]() is out:
                    return hit[1]
            return run_fwd(leaves)[1]  # traced arguments: residuals on the graph

        def cotangents(g: Any, out: Any, leaves: tuple) -> list[Any]:
            key = (id(g), id(out), *map(id, leaves))
            hit = cache.get(key)
            if hit is not None and hit[0] is g and hit[1] is out:
                return hit[2]
            cts = self.bwd(residuals(out, leaves), g)
            flat = _check_cotangents(name, cts, nargs, arg_trees, leaves)
            cache[key] = (g, out, flat)
            return flat

        def vjp_rule(i: int, g: Any, out: Any, *leaves: Any) -> Any:
            return _leaf_cotangent(name, cotangents(g, out, leaves), i, leaves[i])

        def jvp_rule(i: int, dx: Any, out: Any, *leaves: Any) -> Any:
            shape = shape_of(out)
            m = 1
            for d in shape:
                m *= d
            probes = _probes(m)
            with transform_scope() as level:
                # the m basis cotangents (the rows of J) and the probes in one call of bwd
                basis = xp.concatenate([xp.eye(m), probes]).astype(dtype_of(out), copy=False)
                stack = reshape(basis, (m + len(probes), *shape))
                flat = _check_cotangents(name, self.bwd(residuals(out, leaves),
                                                        Batched(stack, level)),
                                         nargs, arg_trees, leaves)
            row = _leaf_cotangent(name, flat, i, leaves[i])
            if row is None:
                return None
            if isinstance(row, Batched) and row._level == level:
                rows = row.data
            else:  # the same cotangent for every cotangent g: linear only if it is zero
                rows = broadcast_to(row, (m + len(probes), *shape_of(leaves[i])))
            _check_linear(name, i, rows, probes, m)
            rows = getitem(rows, (builtins.slice(0, m),))
            nd = len(shape_of(leaves[i]))
            return reshape(tensordot(rows, dx, axes=(tuple(range(1, nd + 1)),
                                                     tuple(range(nd)))), shape)

        prim = Primitive(name, impl, register=False)
        prim.defvjp_variadic(vjp_rule)
        prim.defjvp_variadic(jvp_rule)
        return self._batchable(prim, tree)

    def _batched(self, tree: TreeDef, axes: tuple, batched: tuple) -> Any:
        nargs = len(tree.children)
        fwd, bwd = self._plain(self.fwd), self.bwd
        version = custom_vjp(_vmapped(self._plain(self.fun), axes))
        version.name = self.name

        def fwd_b(*args: Any) -> Any:
            return _vmapped(fwd, axes)(*args)

        def bwd_b(res: Any, g: Any) -> tuple:
            gone: list[int] = []

            def some(r: Any, gi: Any) -> tuple:  # vmap stacks arrays; None means zero
                cts = bwd(r, gi)
                if not isinstance(cts, (tuple, list)) or len(cts) != nargs:
                    return cts  # wrong: the caller's check names it
                gone[:] = [k for k, c in enumerate(cts) if c is None]
                return tuple(c for c in cts if c is not None)

            got = _vmapped(some, (0, 0))(res, g)
            if not isinstance(got, tuple):
                return got
            it = iter(got)
            cts = tuple(None if k in gone else next(it) for k in range(nargs))
            return _sum_shared(cts, tree, batched)

        version.defvjp(fwd_b, bwd_b)
        return version


# scales of the probe cotangents: a clip, a norm bound or a threshold anywhere in this
# range (relative to the unit basis cotangents) makes some probe disagree
_PROBE_SCALES = (1e-6, 1e-3, 0.37, 3.1, 1e3, 1e6)


def _probes(m: int) -> Any:
    """Fixed cotangents (random directions at many scales, and a negated one) on which
    ``bwd`` must agree with its rows on the basis, if it is linear in ``g``."""
    rng = xp.random.default_rng(1729)
    directions = rng.standard_normal((len(_PROBE_SCALES), m))
    directions /= xp.maximum(xp.sqrt(xp.sum(directions ** 2, axis=1, keepdims=True)), 1e-300)
    scaled = directions * xp.asarray(_PROBE_SCALES)[:, None]
    return xp.concatenate([scaled, -xp.ones((1, m))])


def _check_linear(name: str, i: int, rows: Any, probes: Any, m: int) -> None:
    """Refuse forward mode when ``bwd`` is not linear in its cotangent ``g``.

    Forward mode finds the tangent as ``J @ dx`` with ``J``'s rows from ``bwd`` on
    the basis cotangents; that is the derivative reverse mode uses only if
    ``bwd(res, g) == g @ J`` for every ``g``. A nonlinear ``bwd`` (gradient clipping,
    normalizing) would give forward-mode numbers that silently differ from
    reverse mode's, so it is checked on the probe cotangents, at these residuals.
    """
    data, stacks = _numbers(rows)
    if data is None:  # a traced program: no numbers to check the rule on
        raise TypeError(
            f"custom_vjp {name}: forward mode (jvp, jacfwd, hessian) derives the tangent "
            f"from bwd, which must be checked linear in the cotangent on concrete numbers; "
            f"inside a traced program (jit, make_program) it cannot be. Give the function a "
            f"forward rule with cr.custom_jvp, or use reverse mode (grad, vjp, jacrev)")
    n = len(probes)
    lead = 1  # stacks of enclosing vmaps or Jacobians: one check per element
    for d in data.shape[:stacks]:
        lead *= d
    flat = data.reshape(lead, m + n, -1)
    big = xp.complex128 if flat.dtype.kind == "c" else xp.float64
    jac = flat[:, :m].astype(big)
    want = xp.matmul(probes, jac)
    got = flat[:, m:].astype(big)
    eps = xp.finfo(flat.dtype).eps if flat.dtype.kind in "fc" else xp.finfo(float).eps
    bound = 10 * xp.sqrt(eps) * (xp.matmul(xp.abs(probes), xp.abs(jac)) + xp.abs(got)) + 1e-300
    with xp.errstate(invalid="ignore"):
        close = (xp.abs(got - want) <= bound) | (xp.isnan(got) & xp.isnan(want)) | (got == want)
    if not xp.all(close):
        raise ValueError(
            f"custom_vjp {name}: forward mode (jvp, jacfwd, hessian) needs bwd to be "
            f"linear in the cotangent g, and it is not: for argument leaf {i}, "
            f"bwd(residuals, g) differs from the sum of its values on the basis "
            f"cotangents (a bwd that clips, normalizes or thresholds g). Its forward-mode "
            f"derivative is not defined by bwd, so it is refused rather than differ "
            f"silently from reverse mode. Use reverse mode (grad, vjp, jacrev), or give the "
            f"function a forward rule with cr.custom_jvp")


def _numbers(value: Any) -> tuple[Any, int]:
    """The array inside a traced value and how many stacks (Batched layers, each a
    leading axis) it holds; (None, 0) for a traced program's abstract value."""
    stacks = 0
    while isinstance(value, Traced):
        if isinstance(value, Batched):
            stacks += 1
        inner = getattr(value, "primal", None)
        if inner is None:
            inner = getattr(value, "data", None)
        if inner is None:
            return None, 0
        value = inner
    return xp.asarray(value), stacks


def _check_cotangents(name: str, cts: Any, nargs: int, arg_trees: list[TreeDef],
                      leaves: tuple) -> list[Any]:
    """``bwd``'s result as one cotangent (or None) per leaf, its structure checked
    (shapes are checked by ``_leaf_cotangent`` for the leaves that need one)."""
    if not isinstance(cts, (tuple, list)) or len(cts) != nargs:
        got = (f"a {type(cts).__name__} of {len(cts)}" if isinstance(cts, (tuple, list))
               else type(cts).__name__)
        raise TypeError(f"custom_vjp {name}: bwd must return a tuple of {nargs} cotangent(s), "
                        f"one per positional argument (None for no cotangent); it returned "
                        f"{got}")
    flat: list[Any] = []
    for k, (ct, sub) in enumerate(zip(cts, arg_trees)):
        if ct is None:
            flat.extend([None] * sub.num_leaves)
        else:
            flat.extend(flatten_up_to(sub, ct, f"custom_vjp {name}: bwd's cotangent {k}"))
    return flat


def _leaf_cotangent(name: str, flat: list[Any], j: int, x: Any, batched: bool = False) -> Any:
    """Leaf ``j``'s cotangent from ``bwd``, its shape checked against the primal ``x``."""
    ct = flat[j]
    if ct is None:
        return None
    if isinstance(ct, (int, float)) and not isinstance(ct, bool):
        ct = xp.asarray(ct, dtype=dtype_of(x))
    if shape_of(ct) != shape_of(x):
        raise ValueError(f"custom_vjp {name}: bwd's cotangent for leaf {j} of the arguments "
                         f"has shape {shape_of(ct)}, expected {shape_of(x)} (the shape of "
                         f"that argument); sum it over broadcast axes in bwd")
    return ct


class custom_jvp(_Base):  # noqa: N801 - named as in JAX
    """A function with its own forward rule: ``f.defjvp(rule)`` with
    ``rule(primals, tangents) -> (out, tangent_out)``, or ``f.defjvps(*rules)``
    with ``rule_k(t_k, out, *args)`` the tangent caused by argument k's tangent.

    >>> import chainrule as cr
    >>> @cr.custom_jvp
    ... def log1pexp(x):
    ...     return cr.log1p(cr.exp(x))
    >>> log1pexp.defjvps(lambda t, out, x: t * (1.0 - 1.0 / (1.0 + cr.exp(x))))
    >>> float(cr.grad(log1pexp)(100.0))
    1.0
    """

    kind = "custom_jvp"

    def __init__(self, fun: Callable[..., Any]) -> None:
        super().__init__(fun)
        self.jvp: Callable[..., Any] | None = None
        self.jvps: tuple[Callable[..., Any] | None, ...] | None = None

    def defjvp(self, jvp: Callable[..., Any]) -> None:
        """Give the rule ``jvp(primals, tangents) -> (primal_out, tangent_out)``."""
        if not callable(jvp):
            raise TypeError(f"custom_jvp {self.name}: defjvp takes one function")
        self.jvp, self.jvps = jvp, None
        self._prims.clear()

    def defjvps(self, *rules: Callable[..., Any] | None) -> None:
        """One rule per positional argument, ``rule(t, out, *args)``; None for none."""
        self.jvp, self.jvps = None, rules
        self._prims.clear()

    def _ready(self) -> None:
        if self.jvp is None and self.jvps is None:
            raise TypeError(f"custom_jvp {self.name}: no rule yet; call "
                            f"{self.name}.defjvp(rule) or .defjvps(...) before calling it")

    def _make(self, tree: TreeDef) -> Primitive:
        name = self.name
        nargs = len(tree.children)
        owner = _arg_of_leaf(tree, nargs)
        if self.jvps is not None and len(self.jvps) != nargs:
            raise TypeError(f"custom_jvp {name}: defjvps gave {len(self.jvps)} rule(s) for a "
                            f"call with {nargs} positional argument(s); give one per argument")

        def tangent(i: int, dx: Any, out: Any, leaves: tuple) -> Any:
            """The output tangent when only leaf ``i`` moves, by ``dx``."""
            tangents = [dx if j == i else _zeros(x) for j, x in enumerate(leaves)]
            if self.jvps is not None:
                rule = self.jvps[owner[i]]
                if rule is None:
                    return None
                args = unflatten(tree, list(leaves))
                t_tree = unflatten(tree, tangents).__getitem__(owner[i])
                t = rule(t_tree, out, *args)
            else:
                result = self.jvp(tuple(unflatten(tree, list(leaves))),
                                  tuple(unflatten(tree, tangents)))
                if not (isinstance(result, tuple) and len(result) == 2):
                    raise TypeError(f"custom_jvp {name}: the rule must return a pair "
                                    f"(primal_out, tangent_out), it returned "
                                    f"{type(result).__name__}")
                t = result[1]
            t = _single_output(f"custom_jvp {name}", t) if t is not None else None
            if t is not None and shape_of(t) != shape_of(out):
                t = broadcast_to(t, shape_of(out))
            return t

        def jvp_rule(i: int, dx: Any, out: Any, *leaves: Any) -> Any:
            return tangent(i, dx, out, leaves)

        def vjp_rule(i: int, g: Any, out: Any, *leaves: Any) -> Any:
            # the transpose of the linear map dx -> tangent(i, dx): a reverse sweep through it
            x = leaves[i]
            with transform_scope() as level:
                d = Tensor._wrap(xp.zeros(shape_of(x), dtype=dtype_of(x)), None, level)
                d.requires_grad = True
                t = tangent(i, d, out, leaves)
                if t is None:
                    return None
                found = _cotangents([t], [g], level)
            return found.get(id(d))

        prim = Primitive(name, lambda *leaves: _single_output(
            f"custom_jvp {name}", self._call(tree, leaves)), register=False)
        prim.defvjp_variadic(vjp_rule)
        prim.defjvp_variadic(jvp_rule)
        return self._batchable(prim, tree)

    def _batched(self, tree: TreeDef, axes: tuple, batched: tuple) -> Any:
        version = custom_jvp(_vmapped(self._plain(self.fun), axes))
        version.name = self.name
        if self.jvps is None:
            version.defjvp(_vmapped(self._plain(self.jvp), (axes, axes)))
        else:
            version.defjvps(*[None if r is None else _vmapped(self._plain(r),
                                                              (axes[k], 0, *axes))
                              for k, r in enumerate(self.jvps)])
        return version


def _zeros(x: Any) -> Any:
    dtype = xp.dtype(dtype_of(x))
    if dtype.kind not in "fc":
        dtype = xp.dtype(xp.float64)
    return xp.zeros(shape_of(x), dtype=dtype)
