"""Forward-mode transforms and Jacobians: jvp, linearize, jacfwd, jacrev, hessian, hvp.

``jvp`` runs the function once on :class:`~chainrule.forward.Dual` values.
``jacfwd`` does the same with all n basis tangents stacked in one
:class:`~chainrule.forward_batching.Batched` tangent (one sweep, not n), and
``jacrev`` sends all m basis cotangents through one backward sweep. Forward
is cheap when inputs are few, reverse when outputs are few. Every transform
takes a fresh level, so they nest in any order: ``hessian`` is
``jacfwd(jacrev(f))`` and ``hvp`` is forward over reverse, a small constant
times the cost of one gradient whatever the size of the input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from chainrule.backend import dtype_of, is_differentiable_dtype, is_float_dtype, shape_of, xp
from chainrule.core.config import transform_scope
from chainrule.core.escape import register_transform
from chainrule.core.graph import Node, topological_order
from chainrule.core.trace import Traced
from chainrule.core.wirtinger import refuse_complex_seed
from chainrule.forward import Dual, push_tangents
from chainrule.forward_batching import Batched
from chainrule.ops.shape import getitem, reshape, transpose
from chainrule.pytree import TreeDef, flatten, flatten_up_to, leaf_paths, tree_map, unflatten
from chainrule.tensor import Tensor
from chainrule.transforms import (
    _argnums,
    _cotangents,
    _gather_p,
    _lift_tree,
    _name_after,
    _plain,
    _regroup,
    _split_aux,
    _unwrap,
    check_callable,
    grad,
)


def _pair(primals: Any, tangents: Any, name: str, labels: tuple[str, str]
          ) -> tuple[list[Any], list[Any], TreeDef]:
    """Leaves of the primals and their tangents, checked pairwise.

    A tangent must match its primal's shape and (floating) dtype; ``None``
    means "no tangent". A Python number or list takes the primal's dtype.
    """
    p_label, t_label = labels
    p_leaves, tree = flatten(primals)
    t_leaves = flatten_up_to(tree, tangents, f"{name}: {t_label}")
    ps, ts = [], []
    for p, t, path in zip(p_leaves, t_leaves, leaf_paths(tree)):
        if not isinstance(p, Traced):
            p = xp.asarray(p)
        if t is not None:
            dtype = dtype_of(p)
            if not is_differentiable_dtype(dtype):
                raise TypeError(f"{name}: {p_label}{path} has dtype {dtype}, which cannot "
                                f"carry a tangent; give a floating primal (3.0, not 3) or "
                                f"None as its tangent")
            if shape_of(t) != shape_of(p):
                raise ValueError(f"{name}: {t_label}{path} has shape {shape_of(t)}, expected "
                                 f"{shape_of(p)} (the shape of {p_label}{path})")
            if isinstance(t, Traced) or hasattr(t, "dtype"):
                if dtype_of(t) != dtype:
                    raise TypeError(f"{name}: {t_label}{path} has dtype {dtype_of(t)}, "
                                    f"expected {dtype} (the dtype of {p_label}{path})")
                if not isinstance(t, Traced):
                    t = xp.asarray(t)
            else:  # a Python number or list: no dtype of its own
                t = xp.asarray(t)
                if t.dtype.kind == "c":
                    refuse_complex_seed(t.dtype, dtype, f"{name}: {t_label}{path}")
                t = t.astype(dtype, copy=False)
        ps.append(p)
        ts.append(t)
    return ps, ts, tree


def _positional(values: Any, name: str, label: str) -> tuple:
    if not isinstance(values, (tuple, list)):
        raise TypeError(f"{name}: {label} must be a tuple or list with one entry per "
                        f"argument of the function, got {type(values).__name__}; "
                        f"write ({label[:-1]},)")
    return tuple(values)


def _split(value: Any, level: int) -> tuple[Any, Any]:
    """Primal and tangent of one output leaf of a forward transform of ``level``."""
    if isinstance(value, Dual) and value._level == level:
        return _plain(value.primal), _plain(value.tangent)
    value = _plain(value)
    dtype = dtype_of(value)
    return value, xp.zeros(shape_of(value), dtype if is_float_dtype(dtype) else xp.float64)


def jvp(f: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any],
        has_aux: bool = False) -> Any:
    """Evaluate ``f(*primals)`` and its directional derivative along ``tangents``:
    ``(out, tangent_out)``, in one forward sweep.

    ``primals`` and ``tangents`` are tuples (one entry per argument, each a
    pytree); a tangent ``None`` holds its argument constant. With ``has_aux``
    ``f`` returns ``(out, aux)`` and so does this, after the tangent.

    >>> import chainrule as cr
    >>> out, slope = cr.jvp(lambda x: x**2 - 3*x - 2, (3.0,), (1.0,))
    >>> float(out), float(slope)
    (-2.0, 3.0)
    """
    check_callable(f, "jvp")
    primals = _positional(primals, "jvp", "primals")
    tangents = _positional(tangents, "jvp", "tangents")
    ps, ts, tree = _pair(primals, tangents, "jvp", ("primals", "tangents"))
    with transform_scope() as level:
        args = [p if t is None else Dual(p, t, level) for p, t in zip(ps, ts)]
        result = f(*unflatten(tree, args))
    out, aux = _split_aux(result, has_aux)
    outs, out_tree = flatten(out)
    pairs = [_split(o, level) for o in outs]
    value = unflatten(out_tree, [p for p, _ in pairs])
    tangent = unflatten(out_tree, [t for _, t in pairs])
    if has_aux:  # aux is not differentiated: only this level's duals are stripped
        return value, tangent, tree_map(
            lambda a: _plain(a.primal) if isinstance(a, Dual) and a._level == level else a, aux)
    return value, tangent


def linearize(f: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[..., Any]]:
    """Evaluate ``f`` once and return ``(out, jvp_fn)``; ``jvp_fn(*tangents)`` is the
    derivative at ``primals`` along ``tangents``.

    ``f`` runs once, recording its operations; each ``jvp_fn`` call then
    sweeps the JVP rules forward over that record, without running ``f``'s
    Python again (its branches stay as they went at ``primals``).

    >>> import chainrule as cr
    >>> out, jvp_fn = cr.linearize(cr.sin, 0.0)
    >>> float(out), float(jvp_fn(2.0))
    (0.0, 2.0)
    """
    check_callable(f, "linearize")
    with transform_scope() as level:
        lifted = [_lift_tree(x, i, "linearize", level) for i, x in enumerate(primals)]
        out = f(*[tree for tree, _, _ in lifted])
    outs, out_tree = flatten(out)
    inputs = [t for _, leaves, _ in lifted for t in leaves]
    order = _forward_order(outs, level)
    in_tree = flatten(tuple(tree for tree, _, _ in lifted))[1]

    def jvp_fn(*tangents: Any) -> Any:
        _, ts, _ = _pair(unflatten(in_tree, [t.data for t in inputs]), tangents, "linearize",
                         ("primals", "tangents"))
        known = {id(x): dx for x, dx in zip(inputs, ts)}  # leaves by tensor, the rest by node
        for node in order:
            dxs = [None] * len(node.inputs)
            for i in node.needs:
                x = node.inputs[i]
                dxs[i] = known.get(id(x) if x._node is None else id(x._node))
            known[id(node)] = push_tangents(node.prim, node.out, node.args, dxs, node.params)
        result = []
        for o in outs:
            t = None
            if isinstance(o, Tensor) and o._level == level:
                t = known.get(id(o) if o._node is None else id(o._node))
            result.append(_split(o, level)[1] if t is None else _plain(t))
        return unflatten(out_tree, result)

    return unflatten(out_tree, [_unwrap(o, level) for o in outs]), jvp_fn


def _forward_order(outs: list[Any], level: int) -> list[Node]:
    """The recorded nodes behind ``outs``, each after the nodes it depends on."""
    live = tuple(o for o in outs if isinstance(o, Tensor) and o._level == level
                 and o.requires_grad)
    if not live:
        return []
    root = Node(_gather_p, live, tuple(o.data for o in live), {}, None, tuple(range(len(live))))
    return [node for node in reversed(topological_order(root)) if node is not root]


def _float_leaves(x: Any, position: int, name: str) -> tuple[list[Any], TreeDef]:
    leaves, tree = flatten(x)
    checked = []
    for leaf, path in zip(leaves, leaf_paths(tree)):
        if not isinstance(leaf, Traced):
            leaf = xp.asarray(leaf)
        if not is_float_dtype(dtype_of(leaf)):
            if xp.dtype(dtype_of(leaf)).kind == "c":  # unit tangents would move u alone
                raise TypeError(f"{name}: argument {position}{path} is complex "
                                f"({dtype_of(leaf)}); {name} takes real inputs: use jacrev "
                                f"(rows dL/du + i dL/dv of real outputs), or jvp along "
                                f"complex tangents")
            raise TypeError(f"{name}: argument {position}{path} has dtype {dtype_of(leaf)}; "
                            f"only floating inputs can be differentiated")
        checked.append(leaf)
    return checked, tree


def _assemble(blocks: list[list[Any]], out_tree: TreeDef, in_trees: list[TreeDef],
              single: bool) -> Any:
    """Jacobian blocks (per output leaf, per input leaf) into the result's structure:
    the output's structure, each leaf holding the inputs' structure (a tuple of
    them for several argnums)."""
    per_out = []
    for row in blocks:
        groups = _regroup([_plain(b) for b in row], in_trees)
        per_out.append(groups[0] if single else tuple(groups))
    return unflatten(out_tree, per_out)


def jacfwd(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """``f`` -> its Jacobian by forward mode, of shape ``out.shape + x.shape``.

    All basis tangents go through ONE forward sweep, stacked along a hidden
    axis; cheap when inputs are few and outputs many.

    >>> import numpy as np, chainrule as cr
    >>> cr.jacfwd(lambda x: x[0] * x)(np.array([2.0, 3.0]))
    array([[4., 0.],
           [3., 2.]])
    """
    check_callable(f, "jacfwd")
    def jac_f(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "jacfwd")
        args = list(args)
        with transform_scope() as level, transform_scope() as batch_level:
            found = {n: _float_leaves(args[n], n, "jacfwd") for n in dict.fromkeys(nums)}
            leaves = [x for n in found for x in found[n][0]]
            total = sum(math.prod(shape_of(x)) for x in leaves)
            eye = xp.eye(total)
            start = 0
            duals = []
            for x in leaves:
                size, shape = math.prod(shape_of(x)), shape_of(x)
                basis = eye[:, start:start + size].reshape((total, *shape)).astype(dtype_of(x))
                tangent = basis[0] if total == 1 else Batched(basis, batch_level)
                duals.append(Dual(x, tangent, level))
                start += size
            start = 0
            for n, (group, tree) in found.items():
                args[n] = unflatten(tree, duals[start:start + len(group)])
                start += len(group)
            out = f(*args, **kwargs)
        outs, out_tree = flatten(out)
        spans = _offsets(leaves)
        first = dict(zip(found, _offsets([len(found[n][0]) for n in found])))
        blocks = []
        for o in outs:
            stacked = _stacked_tangent(o, level, batch_level, total)
            o_shape = shape_of(o)
            row = []
            for n in nums:
                for k in range(*first[n]):
                    lo, hi = spans[k]
                    block = stacked if (lo, hi) == (0, total) else getitem(stacked,
                                                                           (slice(lo, hi),))
                    block = transpose(reshape(block, (hi - lo, math.prod(o_shape))))
                    row.append(reshape(block, o_shape + shape_of(leaves[k])))
            blocks.append(row)
        return _assemble(blocks, out_tree, [found[n][1] for n in nums], isinstance(argnums, int))

    _name_after(jac_f, f, "jacfwd")
    return jac_f


def _offsets(items: list[Any]) -> list[tuple[int, int]]:
    """Consecutive [start, stop) spans: of each array's elements, or of counts."""
    spans, start = [], 0
    for x in items:
        size = x if isinstance(x, int) else math.prod(shape_of(x))
        spans.append((start, start + size))
        start += size
    return spans


def _stacked_tangent(o: Any, level: int, batch_level: int, total: int) -> Any:
    """An output's tangents, one row per basis tangent: shape (total, *out.shape)."""
    shape = shape_of(o)
    if not (isinstance(o, Dual) and o._level == level):
        dtype = dtype_of(o)
        return xp.zeros((total, *shape), dtype if is_float_dtype(dtype) else xp.float64)
    t = o.tangent
    if isinstance(t, Batched) and t._level == batch_level:
        return t.data
    return reshape(t, (1, *shape))  # total == 1: the tangent was not stacked


def jacrev(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """``f`` -> its Jacobian by reverse mode, of shape ``out.shape + x.shape``.

    All basis cotangents go through ONE backward sweep, stacked along a
    hidden axis; cheap when outputs are few and inputs many.

    >>> import numpy as np, chainrule as cr
    >>> cr.jacrev(lambda x: x[0] * x)(np.array([2.0, 3.0]))
    array([[4., 0.],
           [3., 2.]])
    """
    check_callable(f, "jacrev")
    def jac_f(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums(argnums, len(args), "jacrev")
        args = list(args)
        with transform_scope() as level:
            lifted = {}
            for n in dict.fromkeys(nums):
                args[n], *lifted[n] = _lift_tree(args[n], n, "jacrev", level)
            out = f(*args, **kwargs)
        outs, out_tree = flatten(out)
        spans = _offsets(outs)
        total = spans[-1][1] if spans else 0
        with transform_scope() as batch_level:
            seeds = _basis_cotangents(outs, spans, total, batch_level)
            found = _cotangents(outs, seeds, level, retain_graph=False)
        blocks = [[] for _ in outs]
        for n in nums:
            for t in lifted[n][0]:
                stacked = _stacked_cotangent(found.get(id(t)), t, batch_level, total)
                for j, (o, (lo, hi)) in enumerate(zip(outs, spans)):
                    block = stacked if (lo, hi) == (0, total) else getitem(stacked,
                                                                           (slice(lo, hi),))
                    blocks[j].append(reshape(block, shape_of(o) + shape_of(t)))
        return _assemble(blocks, out_tree, [lifted[n][1] for n in nums],
                         isinstance(argnums, int))

    _name_after(jac_f, f, "jacrev")
    return jac_f


def _basis_cotangents(outs: list[Any], spans: list[tuple[int, int]], total: int,
                      batch_level: int) -> list[Any]:
    """One stacked seed per output leaf: together, the rows of the identity."""
    eye = xp.eye(total)
    seeds = []
    for i, (o, (lo, hi)) in enumerate(zip(outs, spans)):
        if xp.dtype(dtype_of(o)).kind == "c":  # a real unit cotangent would see only Re(o)
            raise TypeError(f"jacrev: output leaf {i} is complex ({dtype_of(o)}); jacrev needs "
                            f"real outputs: use jacfwd for real inputs, or vjp with the "
                            f"cotangents you mean")
        dtype = dtype_of(o) if is_float_dtype(dtype_of(o)) else xp.float64
        basis = eye[:, lo:hi].reshape((total, *shape_of(o))).astype(dtype)
        seeds.append(basis[0] if total == 1 else Batched(basis, batch_level))
    return seeds


def _stacked_cotangent(g: Any, t: Tensor, batch_level: int, total: int) -> Any:
    """An input's cotangents, one row per basis cotangent: shape (total, *t.shape)."""
    shape = shape_of(t)
    if g is None:
        return xp.zeros((total, *shape), dtype=dtype_of(t))
    if isinstance(g, Batched) and g._level == batch_level:
        return g.data
    return reshape(g, (1, *shape))  # total == 1: the seed was not stacked


def hessian(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """``f`` -> its matrix of second derivatives, ``jacfwd(jacrev(f))``.

    ``f`` must return a scalar; the result has shape ``x.shape + x.shape``
    (pytrees of them for pytree arguments).

    >>> import numpy as np, chainrule as cr
    >>> cr.hessian(lambda x: x[0] ** 2 * x[1])(np.array([1.0, 2.0]))
    array([[4., 2.],
           [2., 0.]])
    """
    check_callable(f, "hessian")
    def scalar_f(*args: Any, **kwargs: Any) -> Any:
        out = f(*args, **kwargs)
        leaves, _ = flatten(out)
        if len(leaves) != 1 or math.prod(shape_of(leaves[0])) != 1 or leaves[0] is not out:
            what = (f"shape {shape_of(out)}" if len(leaves) == 1 and leaves[0] is out
                    else f"a {type(out).__name__} of {len(leaves)} values")
            raise TypeError(f"hessian: the function must return a scalar, it returned "
                            f"{what}; use jacfwd(jacrev(f)) for the second derivatives of "
                            f"a vector function")
        return out

    scalar_f.__name__ = getattr(f, "__name__", "f")
    hess_f = jacfwd(jacrev(scalar_f, argnums), argnums)
    _name_after(hess_f, f, "hessian")
    return hess_f


def hvp(f: Callable[..., Any], x: Any, v: Any) -> Any:
    """The Hessian of the scalar function ``f`` at ``x`` times ``v``, without forming
    the Hessian: forward mode over the gradient, a small constant times the cost
    of one gradient. ``x`` may be a pytree, ``v`` of the same structure.

    >>> import numpy as np, chainrule as cr
    >>> cr.hvp(lambda x: (x ** 3).sum(), np.array([1.0, 2.0]), np.array([1.0, 0.0]))
    array([6., 0.])
    """
    check_callable(f, "hvp")
    _pair(x, v, "hvp", ("x", "v"))  # errors name x and v rather than a jvp's tuples
    return jvp(grad(f), (x,), (v,))[1]


# errors about values that leave the graph name the transform that traced them
register_transform(jvp, "jvp")
register_transform(linearize, "linearize")
register_transform(jacfwd, "jacfwd", "jac_f")
register_transform(jacrev, "jacrev", "jac_f")
register_transform(hessian, "hessian", "scalar_f")
register_transform(hvp, "hvp")
