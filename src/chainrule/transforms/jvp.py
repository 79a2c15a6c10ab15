"""Forward-mode transforms: jvp (one sweep of duals) and linearize (one recorded
run, then forward sweeps over the record).

``jvp`` runs the function once on :class:`~chainrule.forward.Dual` values,
pushing the tangents through every primitive's JVP rule; ``linearize`` records
the function once at a transform level and replays the JVP rules over that
record for each tangent, without running the function's Python again.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.backend import dtype_of, is_differentiable_dtype, is_float_dtype, shape_of, xp
from chainrule.core.config import transform_scope
from chainrule.core.escape import register_transform
from chainrule.core.graph import Node, topological_order
from chainrule.core.trace import Traced
from chainrule.core.wirtinger import refuse_complex_seed
from chainrule.forward import Dual, push_tangents
from chainrule.pytree import TreeDef, flatten, flatten_up_to, leaf_paths, tree_map, unflatten
from chainrule.tensor import Tensor
from chainrule.transforms.grad import (
    _gather_p,
    _lift_tree,
    _plain,
    _split_aux,
    _unwrap,
    check_callable,
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




# errors about values that leave the graph name the transform that traced them
register_transform(jvp, "jvp")
register_transform(linearize, "linearize")
