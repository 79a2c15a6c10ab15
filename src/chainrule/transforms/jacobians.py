"""Jacobians and Hessians: jacfwd, jacrev, hessian, hvp.

``jvp`` runs the function once on :class:`~chainrule.forward.Dual` values.
``jacfwd`` does the same with all n basis tangents stacked in one
:class:`~chainrule.transforms.batching.Batched` tangent (one sweep, not n), and
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

from chainrule.backend import dtype_of, is_float_dtype, shape_of, xp
from chainrule.core.config import transform_scope
from chainrule.core.escape import register_transform
from chainrule.core.trace import Traced
from chainrule.forward import Dual
from chainrule.ops.shape import getitem, reshape, transpose
from chainrule.pytree import TreeDef, flatten, leaf_paths, unflatten
from chainrule.tensor import Tensor
from chainrule.transforms.batching import Batched
from chainrule.transforms.grad import (
    _argnums,
    _cotangents,
    _lift_tree,
    _name_after,
    _plain,
    _regroup,
    check_callable,
    grad,
)
from chainrule.transforms.jvp import _pair, jvp


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
register_transform(jacfwd, "jacfwd", "jac_f")
register_transform(jacrev, "jacrev", "jac_f")
register_transform(hessian, "hessian", "scalar_f")
register_transform(hvp, "hvp")
