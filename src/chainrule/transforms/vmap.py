"""``vmap``: a function of one example mapped over an axis of its arguments.

The mapped arguments enter as :class:`~chainrule.transforms.batching.Batched`
values of a fresh level, the stack along a hidden leading axis; every
primitive the function applies acts on the whole stack through the batching
table (the one that makes ``jacfwd`` and ``jacrev`` one sweep). Levels keep
it composable: ``vmap(grad(loss), in_axes=(None, 0, 0))`` is per-example
gradients, ``grad`` of a ``vmap``-ed function differentiates through the
stack, and ``vmap`` nests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chainrule.backend import shape_of, xp
from chainrule.core.config import transform_scope
from chainrule.core.escape import register_transform
from chainrule.core.trace import Traced
from chainrule.ops.shape import broadcast_to, moveaxis
from chainrule.pytree import TreeDef, flatten, leaf_paths, unflatten
from chainrule.transforms.batching import Batched
from chainrule.transforms.grad import _name_after, check_callable

__all__ = ["vmap"]


def _axes_for(spec: Any, value: Any, where: str, what: str,
              tree: TreeDef | None = None) -> list[Any]:
    """One axis (an int or None) per leaf of ``value``, from ``spec``: an int or None
    for the whole value, or a container of the value's structure (a prefix of it).
    ``tree``, when given, is ``value``'s structure (``flatten``'s), so it is not
    flattened again."""
    if tree is None:
        tree = flatten(value)[1]
    if spec is None or (isinstance(spec, int) and not isinstance(spec, bool)):
        return [spec] * tree.num_leaves
    if isinstance(spec, (tuple, list)) and isinstance(value, (tuple, list)) \
            and len(spec) == len(value):
        return [a for k, (s, v, t) in enumerate(zip(spec, value, tree.children))
                for a in _axes_for(s, v, f"{where}[{k}]", what, t)]
    if isinstance(spec, dict) and isinstance(value, dict) and set(spec) == set(value):
        return [a for k, t in zip(tree.meta, tree.children)  # flatten's key order
                for a in _axes_for(spec[k], value[k], f"{where}[{k!r}]", what, t)]
    raise ValueError(f"vmap: {what}{where} is {spec!r:.60}, which does not fit the "
                     f"{type(value).__name__} it describes; give an int (the mapped axis), "
                     f"None (not mapped) or a {type(value).__name__} of them with the same "
                     f"structure")


def vmap(f: Callable[..., Any], in_axes: Any = 0, out_axes: Any = 0) -> Callable[..., Any]:
    """``f`` mapped over axis ``in_axes`` of its arguments; results stacked on ``out_axes``.

    ``in_axes`` is an int or None for every argument, or a tuple with one entry per
    positional argument, each an int, None (the argument is shared, not mapped)
    or a pytree of them matching the argument. ``out_axes`` likewise for the result.

    >>> import numpy as np, chainrule as cr
    >>> cr.vmap(lambda a, b: a @ b, in_axes=(0, None))(np.ones((3, 2)), np.arange(2.0))
    array([1., 1., 1.])
    """
    check_callable(f, "vmap")

    def vmapped(*args: Any, **kwargs: Any) -> Any:
        if isinstance(in_axes, (tuple, list)):
            if len(in_axes) != len(args):
                raise ValueError(f"vmap: in_axes has {len(in_axes)} entries for a call with "
                                 f"{len(args)} positional argument(s); give one per argument "
                                 f"(None for an argument that is not mapped)")
            spec: Any = tuple(in_axes)
        else:
            spec = in_axes
        leaves, tree = flatten(args)
        axes = _axes_for(spec, args, "", "in_axes", tree)
        size = first = None
        for k, (leaf, axis) in enumerate(zip(leaves, axes)):
            if axis is None:
                continue
            shape = shape_of(leaf)
            if not -len(shape) <= axis < len(shape):
                raise ValueError(f"vmap: in_axes says axis {axis} for argument"
                                 f"{leaf_paths(tree)[k]}, which has shape {shape}: out of "
                                 f"range")
            n = shape[axis]
            if size is None:
                size, first = n, k
            elif n != size:
                paths = leaf_paths(tree)  # only an error needs them
                raise ValueError(f"vmap: mapped axes have different sizes: argument"
                                 f"{paths[first]} has {size}, argument{paths[k]} has {n} "
                                 f"(axis {axis}); every mapped argument needs the same size")
        if size is None:
            raise ValueError("vmap: in_axes maps no argument (all None); map at least one")
        with transform_scope() as level:
            inside = []
            for leaf, axis in zip(leaves, axes):
                if axis is None:
                    inside.append(leaf)
                    continue
                if not isinstance(leaf, Traced):
                    leaf = xp.asarray(leaf)
                inside.append(Batched(leaf if axis % len(shape_of(leaf)) == 0
                                      else moveaxis(leaf, axis, 0), level))
            out = f(*unflatten(tree, inside), **kwargs)
        outs, out_tree = flatten(out)
        if isinstance(out_axes, (tuple, list)) and not isinstance(out, (tuple, list)):
            raise ValueError(f"vmap: out_axes is a {type(out_axes).__name__} but the "
                             f"function returned {type(out).__name__}")
        o_axes = _axes_for(out_axes, out, "", "out_axes", out_tree)
        results = []
        for k, (o, axis) in enumerate(zip(outs, o_axes)):
            mapped = isinstance(o, Batched) and o._level == level
            if axis is None:
                if mapped:
                    raise ValueError(f"vmap: out_axes is None for output"
                                     f"{leaf_paths(out_tree)[k]}, but it depends on the "
                                     f"mapped arguments; give it an axis")
                results.append(o)
                continue
            data = o.data if mapped else broadcast_to(
                o if isinstance(o, Traced) else xp.asarray(o), (size, *shape_of(o)))
            ndim = len(shape_of(data))
            if not -ndim <= axis < ndim:
                raise ValueError(f"vmap: out_axes says axis {axis} for output"
                                 f"{leaf_paths(out_tree)[k]}, which has {ndim} dimension(s) "
                                 f"once stacked: out of range")
            if axis % ndim:
                data = moveaxis(data, 0, axis)
            if not isinstance(data, Traced) and not data.flags.writeable:
                data = xp.array(data)  # the caller's: writable, not a broadcast view
            results.append(data)
        return unflatten(out_tree, results)

    _name_after(vmapped, f, "vmap")
    return vmapped


register_transform(vmap, "vmap", "vmapped")
