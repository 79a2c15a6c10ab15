"""Finite-difference weights for any stencil (Fornberg's algorithm) and the standard stencils.

A finite-difference formula approximates the n-th derivative at 0 as

    f^(n)(0) ~= sum_k w_k f(z_k * h) / h**n

for a set of offsets z_k (the stencil). Fornberg's recurrence (Math. Comp. 51,
1988) builds the weights of every derivative order up to n for a growing
stencil, one point at a time, without solving a Vandermonde system (which is
badly conditioned). We run it in exact rational arithmetic: every float is a
rational number, so the weights come out exactly (a centre weight that should be
zero is exactly zero, symmetric weights are exactly symmetric) and are rounded to
float64 only at the end.
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike

from .validate import check_derivative_order, check_method, resolve_order

__all__ = ["MAX_STENCIL_POINTS", "fd_stencil", "fd_weights"]

# Beyond a few dozen points a stencil gains nothing in float64 (round-off grows as
# eps / h**n and the weights grow with the stencil) while the exact rational
# recurrence slows down steeply; so an order that needs more points is refused.
MAX_STENCIL_POINTS = 32


def fd_weights(offsets: ArrayLike, n: int = 1) -> np.ndarray:
    """Weights ``w`` with ``f^(n)(0) ~= sum(w * f(offsets * h)) / h**n``, for any stencil.

    Why: every finite-difference method here (and any one you invent, e.g. a
    one-sided stencil next to a domain boundary) is one set of offsets; the
    weights follow from them by Fornberg's algorithm, exactly. A stencil of
    ``m`` distinct points reaches accuracy order at least ``m - n``.

    >>> fd_weights([-1, 0, 1], 2)
    array([ 1., -2.,  1.])
    >>> fd_weights([-1, 1], 1)
    array([-0.5,  0.5])
    >>> fd_weights([0, 1, 2], 1)
    array([-1.5,  2. , -0.5])
    """
    n = check_derivative_order(n, allow_zero=True)
    z = np.asarray(offsets, dtype=float)
    if z.ndim != 1:
        raise ValueError(f"fd_weights needs a 1-D sequence of offsets; got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError(f"fd_weights needs finite offsets; got {z.tolist()}")
    if len(np.unique(z)) != len(z):
        raise ValueError(f"fd_weights needs distinct offsets; got {z.tolist()}")
    if len(z) > MAX_STENCIL_POINTS:
        raise ValueError(
            f"fd_weights supports stencils of at most {MAX_STENCIL_POINTS} points; got {len(z)}"
        )
    if len(z) < n + 1:
        raise ValueError(
            f"a derivative of order n={n} needs at least {n + 1} stencil points; "
            f"got {len(z)}: {z.tolist()}"
        )
    return np.array(_fornberg(tuple(z.tolist()), n), dtype=float)


@lru_cache(maxsize=256)
def _fornberg(offsets: tuple[float, ...], n: int) -> tuple[float, ...]:
    """Weights of the n-th derivative at 0 on ``offsets``, exact until the final rounding."""
    z = [Fraction(value) for value in offsets]
    # c[j][k]: weight of point j for the k-th derivative on the stencil built so far.
    c = [[Fraction(0)] * (n + 1) for _ in z]
    c[0][0] = Fraction(1)
    prev_product = Fraction(1)
    for i in range(1, len(z)):
        top = min(i, n)
        product = Fraction(1)
        for j in range(i):
            product *= z[i] - z[j]
        # The new point's weights come from the newest old point's weights before
        # they are updated below.
        newest = c[i - 1]
        for k in range(top, 0, -1):
            c[i][k] = prev_product * (k * newest[k - 1] - z[i - 1] * newest[k]) / product
        c[i][0] = -prev_product * z[i - 1] * newest[0] / product
        # Each old point's weights take the new point's factor (z_i - x) / (z_i - z_j).
        for j in range(i):
            gap = z[i] - z[j]
            for k in range(top, 0, -1):
                c[j][k] = (z[i] * c[j][k] - k * c[j][k - 1]) / gap
            c[j][0] = z[i] * c[j][0] / gap
        prev_product = product
    return tuple(float(row[n]) for row in c)


def fd_stencil(method: str = "central", n: int = 1, order: int | None = None) -> tuple[
    np.ndarray, np.ndarray
]:
    """Offsets and weights of a method's stencil for derivative ``n`` at accuracy ``order``.

    Why: ``derivative`` and the multivariate functions all take their stencil
    from here, so "central, n=2, order=4" means one thing everywhere. Central
    stencils are symmetric with ``2*floor((n+1)/2) - 1 + order`` points (points
    whose weight is exactly zero, like the centre of an odd derivative, are
    dropped, so they cost no evaluation); forward and backward stencils use
    ``n + order`` points on one side. ``order=None`` takes the method's default
    (2 for central, 1 for forward and backward).

    >>> offsets, weights = fd_stencil("central", n=1, order=4)
    >>> offsets
    array([-2., -1.,  1.,  2.])
    >>> weights * 12
    array([ 1., -8.,  8., -1.])
    >>> fd_stencil("forward", n=1)
    (array([0., 1.]), array([-1.,  1.]))
    """
    method = check_method(method, ("central", "forward", "backward"))
    n = check_derivative_order(n)
    order = resolve_order(method, order)
    size = 2 * ((n + 1) // 2) - 1 + order if method == "central" else n + order
    if size > MAX_STENCIL_POINTS:
        raise ValueError(
            f"method={method!r} with n={n} and order={order} needs a stencil of {size} points; "
            f"at most {MAX_STENCIL_POINTS} are supported (in float64, round-off of order "
            f"eps/h**n swamps what a higher accuracy order gains): lower n or order"
        )
    if method == "central":
        half = (n + 1) // 2 - 1 + order // 2
        offsets = np.arange(-half, half + 1, dtype=float)
    else:
        offsets = np.arange(n + order, dtype=float)
        if method == "backward":
            offsets = 0.0 - offsets[::-1]  # 0.0 - 0.0 is +0.0, not -0.0
    weights = fd_weights(offsets, n)
    keep = weights != 0.0
    return offsets[keep], weights[keep]
