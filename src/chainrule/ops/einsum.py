"""einsum: any contraction written in Einstein's index notation, as one primitive.

The public ``einsum`` turns NumPy's subscripts (implicit output, '...')
into explicit ones without '...'; the primitive only ever sees those. The
cotangent of an operand is another einsum: of the output cotangent with
the other operands, where an identity matrix restores a repeated index
('ii') and a broadcast restores an index summed away within one operand.
"""

from __future__ import annotations

import functools
import math
import string
from collections import Counter
from typing import Any

from chainrule.backend import dtype_of, shape_of, xp
from chainrule.core.primitive import Primitive
from chainrule.ops.shape import broadcast_to, reshape

__all__ = ["einsum"]

_LABELS = string.ascii_letters


@functools.lru_cache(maxsize=512)
def _einsum_explicit(subscripts: str, shapes: tuple[tuple[int, ...], ...]) -> str:
    """``subscripts`` for operands of ``shapes`` as 'ij,jk->ik': '...' spelled out
    with spare letters, the implicit output made explicit, sizes checked."""
    spec = subscripts.replace(" ", "")
    lhs, arrow, rhs = spec.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"einsum: {subscripts!r} names {len(terms)} operand(s), "
                         f"got {len(shapes)}")
    for term in [*terms, rhs]:
        bad = [c for c in term.replace("...", "", 1) if c not in _LABELS]
        if bad:
            raise ValueError(f"einsum: invalid character {bad[0]!r} in {subscripts!r}: use "
                             f"letters and at most one '...' per operand")
    spare = [c for c in _LABELS if c not in spec]
    n_ell = max([len(s) - len(t) + 3 for t, s in zip(terms, shapes) if "..." in t], default=0)
    ell = "".join(spare[:n_ell])
    explicit = []
    for i, (term, shape) in enumerate(zip(terms, shapes)):
        named = len(term) - 3 if "..." in term else len(term)
        if named > len(shape) or (named < len(shape) and "..." not in term):
            raise ValueError(f"einsum: operand {i} has shape {shape} but its subscripts "
                             f"{term!r} name {named} dimension(s)")
        explicit.append(term.replace("...", ell[n_ell - len(shape) + named:]))
    if not arrow:  # implicit mode: '...' axes, then indices used once, alphabetically
        counts = Counter("".join(explicit))
        rhs = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    elif "..." in rhs:
        rhs = rhs.replace("...", ell)
    elif n_ell:
        raise ValueError(f"einsum: {subscripts!r} has '...' in an input, so its output "
                         f"needs '...' too")
    for c in rhs:
        if rhs.count(c) > 1 or not any(c in t for t in explicit):
            raise ValueError(f"einsum: output index {c!r} of {subscripts!r} must appear "
                             f"once in the output and in some input")
    sizes: dict[str, int] = {}
    for i, (term, shape) in enumerate(zip(explicit, shapes)):
        for c, n in zip(term, shape):
            m = sizes.setdefault(c, n)
            if n != m and 1 not in (n, m):
                what = "a '...' axis" if c in ell else f"index {c!r}"
                raise ValueError(f"einsum: {what} has size {m} in one operand and {n} in "
                                 f"operand {i}; shapes {list(shapes)} for {subscripts!r}")
            sizes[c] = max(n, m)
    return ",".join(explicit) + "->" + rhs


@functools.lru_cache(maxsize=512)
def _einsum_is_big(subscripts: str, shapes: tuple[tuple[int, ...], ...]) -> bool:
    # einsum's own loop wins on small problems; a BLAS contraction path on big ones
    sizes: dict[str, int] = {}
    for term, shape in zip(subscripts.split("->")[0].split(","), shapes):
        sizes.update(zip(term, shape))
    return len(shapes) > 1 and math.prod(sizes.values()) > 65536


def _einsum_impl(*operands, subscripts):
    big = _einsum_is_big(subscripts, tuple(xp.shape(op) for op in operands))
    return xp.einsum(subscripts, *operands, optimize=big)


@functools.lru_cache(maxsize=512)
def _einsum_vjp_plan(subscripts: str, i: int, shape: tuple[int, ...]):
    """How operand ``i``'s cotangent comes from g and the other operands: the
    subscripts, the sizes of identity matrices for repeated indices, and the
    axes only operand ``i`` has (summed away, so spread back)."""
    lhs, out = subscripts.split("->")
    terms = lhs.split(",")
    spare = iter(c for c in _LABELS if c not in subscripts)
    result: list[str] = []
    eyes: list[tuple[str, int]] = []
    for c, n in zip(terms[i], shape):
        if c in result:  # 'ii': the cotangent lives on a diagonal; an identity puts it there
            fresh = next(spare)
            eyes.append((c + fresh, n))
            result.append(fresh)
        else:
            result.append(c)
    inputs = [out] + [t for j, t in enumerate(terms) if j != i] + [e for e, _ in eyes]
    available = set("".join(inputs))
    spec = ",".join(inputs) + "->" + "".join(c for c in result if c in available)
    missing = tuple(p for p, c in enumerate(result) if c not in available)
    return spec, tuple(n for _, n in eyes), missing


def _einsum_vjp(i, g, out, *operands, subscripts):
    x = operands[i]
    spec, eye_sizes, missing = _einsum_vjp_plan(subscripts, i, shape_of(x))
    eyes = [xp.eye(n, dtype=dtype_of(g)) for n in eye_sizes]
    gx = einsum_p(g, *operands[:i], *operands[i + 1:], *eyes, subscripts=spec)
    if missing:
        kept = list(shape_of(gx))
        for p in missing:
            kept.insert(p, 1)
        full = tuple(shape_of(x)[p] if p in missing else n for p, n in enumerate(kept))
        gx = broadcast_to(reshape(gx, tuple(kept)), full)
    return gx


einsum_p = Primitive("einsum", _einsum_impl)
einsum_p.defvjp_variadic(_einsum_vjp)
einsum_p.defjvp_variadic(lambda i, dx, out, *operands, subscripts:
                         einsum_p(*operands[:i], dx, *operands[i + 1:], subscripts=subscripts))


def einsum(subscripts: str, *operands: Any, optimize: Any = None) -> Any:
    """Like ``numpy.einsum`` with a subscripts string, explicit ('ij,jk->ik') or
    implicit ('ij,jk'), with '...' and repeated indices ('ii->i').

    ``optimize`` is accepted for NumPy compatibility; chainrule picks the path.

    >>> import numpy as np, chainrule as cr
    >>> float(cr.einsum("ii", np.eye(3)))
    3.0
    """
    if not isinstance(subscripts, str):
        raise TypeError("einsum: the first argument must be a subscripts string such as "
                        "'ij,jk->ik' (the sublist form is not supported)")
    if not operands:
        raise ValueError("einsum: needs at least one operand")
    spec = _einsum_explicit(subscripts, tuple(shape_of(op) for op in operands))
    return einsum_p(*operands, subscripts=spec)
