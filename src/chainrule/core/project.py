"""Shapes of cotangents: which axes to sum so a cotangent fits its input.

Broadcasting is handled once, here and in the engine, never in rules.
"""

from __future__ import annotations


def sum_axes(shape: tuple[int, ...], target: tuple[int, ...]) -> tuple[tuple[int, ...], int]:
    """Axes of ``shape`` to sum (keeping dims) and leading axes to drop for ``target``.

    >>> sum_axes((4, 2, 3), (1, 3))
    ((0, 1), 1)
    """
    lead = len(shape) - len(target)
    if lead < 0:
        raise ValueError(f"cannot sum shape {shape} down to the larger shape {target}")
    axes = tuple(lead + i for i, n in enumerate(target) if n == 1 and shape[lead + i] != 1)
    return tuple(range(lead)) + axes, lead
