"""Indexing by integer arrays that are themselves values of a transform.

``x[idx]`` fixes ``idx`` as a parameter of ``getitem``: right for plain
index arrays, but an index mapped by ``vmap`` is a different array for every
example, and an index traced by ``jit`` has no values yet. Such an index is an
argument instead: ``gather(x, *arrays, index=template)`` where the template
is the index with a :class:`Slot` where each traced array goes. Its reverse
rule is ``scatter`` (repeated positions accumulating), whose reverse rule is
``gather`` again; the index arrays get no derivative. The batching rules
(``chainrule.transforms.batching``) give each example its own index.
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import dtype_of, shape_of, xp
from chainrule.core.primitive import Primitive, registry
from chainrule.core.trace import Traced

__all__: list[str] = []


class Slot:
    """The place of the ``k``-th index array (an argument) in an index template."""

    __slots__ = ("k",)

    def __init__(self, k: int) -> None:
        self.k = k

    def __repr__(self) -> str:
        return f"Slot({self.k})"

    def __eq__(self, other: object) -> bool:
        return type(other) is Slot and other.k == self.k

    def __hash__(self) -> int:
        return hash(("Slot", self.k))


def fill(index: tuple, arrays: tuple) -> tuple:
    """The template with each slot replaced by its array."""
    return tuple(arrays[e.k] if type(e) is Slot else e for e in index)


def _gather_impl(x: Any, *arrays: Any, index: tuple) -> Any:
    return xp.asarray(x)[fill(index, arrays)]


def _scatter_impl(g: Any, *arrays: Any, shape: tuple, index: tuple) -> Any:
    out = xp.zeros(shape, dtype=dtype_of(g))
    xp.add.at(out, fill(index, arrays), g)  # repeated positions accumulate
    return out


gather_p = Primitive("gather", _gather_impl)
scatter_p = Primitive("scatter", _scatter_impl)
gather_p.defvjp_variadic(lambda i, g, out, x, *arrays, index: None if i else
                         scatter_p(g, *arrays, shape=shape_of(x), index=index))
gather_p.defjvp_variadic(lambda i, dx, out, x, *arrays, index: None if i else
                         gather_p(dx, *arrays, index=index))
scatter_p.defvjp_variadic(lambda i, g, out, dx, *arrays, shape, index: None if i else
                          gather_p(g, *arrays, index=index))
scatter_p.defjvp_variadic(lambda i, ddx, out, dx, *arrays, shape, index: None if i else
                          scatter_p(ddx, *arrays, shape=shape, index=index))


def has_traced(index: Any) -> bool:
    """Whether an index (a tuple of its parts, normalized) holds a traced array."""
    return any(isinstance(e, Traced) for e in index)


def gather(x: Any, index: tuple) -> Any:
    """``x[index]`` where some parts of ``index`` are traced integer arrays."""
    template, arrays = [], []
    for e in index:
        if isinstance(e, Traced):
            if xp.dtype(dtype_of(e)).kind not in "iu":
                raise TypeError(
                    f"getitem: an index traced by a transform (mapped by vmap, traced by "
                    f"jit) must hold integers, got dtype {dtype_of(e)}; a boolean mask "
                    f"gives each example a result of its own length: select with "
                    f"cr.where(mask, x, 0) instead")
            template.append(Slot(len(arrays)))
            arrays.append(e)
        else:
            template.append(e)
    return gather_p(x, *arrays, index=tuple(template))


def traced_index(v: Any) -> Any:
    """The traced array to gather with when an index ``v`` is a value of a transform
    (mapped by vmap, traced by jit), else None (a plain array, or a tensor holding one:
    its values are the index)."""
    while isinstance(v, Traced):
        if type(v).__name__ != "Tensor":
            return v
        v = v.data
    return None


def index_values(v: Any) -> Any:
    """The numbers of an index for range checks: under vmap the whole stack (every
    example must be in range), under jit None (no numbers yet)."""
    while isinstance(v, Traced):
        inner = getattr(v, "primal", None)
        if inner is None:
            inner = getattr(v, "data", None)
        if inner is None:
            return None
        v = inner
    return xp.asarray(v)


def check_range(name: str, values: Any, n: int, what: str = "index") -> None:
    """Refuse an index out of ``[-n, n)`` by name (no-op without numbers)."""
    if values is None or not values.size:
        return
    if values.dtype.kind not in "iu":
        raise TypeError(f"{name}: indices must be integers, got dtype {values.dtype}")
    low, high = values.min(), values.max()
    if low < -n or high >= n:
        bad = low if low < -n else high
        raise IndexError(f"{name}: {what} {int(bad)} is out of bounds for an axis of size {n}")


def take_traced(name: str, a: Any, indices: Any, axis: int | None) -> Any:
    """``take`` with traced indices: a gather, its range checked where there are numbers."""
    if xp.dtype(dtype_of(indices)).kind not in "iu":
        raise TypeError(f"{name}: indices must be integers, got dtype {dtype_of(indices)}")
    shape = tuple(shape_of(a))
    if axis is None:  # of ``a`` flattened
        size = 1
        for d in shape:
            size *= d
        a, shape, axis = registry["reshape"](a, shape=(size,)), (size,), 0
    if not -len(shape) <= axis < len(shape):
        raise ValueError(f"{name}: axis {axis} is out of range for an array with "
                         f"{len(shape)} dimension(s)")
    axis %= len(shape)
    check_range(name, index_values(indices), shape[axis])
    return gather(a, (slice(None),) * axis + (indices,))


# ----- Taylor series rules (run by chainrule.transforms.taylor; chainrule.ops.series) -----

from chainrule.ops import series as _s  # noqa: E402

for _prim in (gather_p, scatter_p):  # linear in the values; the index arrays are constants
    _s.defseries(_prim, _s.linear_in_first(_prim))
