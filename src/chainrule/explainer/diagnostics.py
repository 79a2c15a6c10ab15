"""What can make a derivative at a point untrustworthy, found and put in words.

Three things, each reported rather than hidden: a kink (a primitive at a point
where it has no derivative: the rule took a subgradient, by a stated
convention), a value or derivative that is NaN or infinite (a point outside a
primitive's domain, or a pole), and a point on the edge of the function's
domain (f is finite at the point but not right next to it, so no two-sided
derivative exists and whatever the rules return there is a convention).

>>> import chainrule as cr
>>> domain_problems(lambda x: x**x, [0.0], ["x"])[0].split(":")[0]
'the point is on the edge of the domain'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from chainrule.backend import xp

# a neighbour this close (relative) is "right next to" the point: only finiteness
# is checked there, so the step can be tiny without round-off mattering
PROBE = 64 * float(xp.finfo(xp.float64).eps)


def finite(value: Any) -> bool:
    """Whether every element of ``value`` (a tensor, array or number) is finite."""
    return bool(xp.all(xp.isfinite(xp.asarray(getattr(value, "data", value), dtype=float))))


def element_names(names: Sequence[str], args: Sequence[Any]) -> list[str]:
    """One name per scalar element: ``x`` for a scalar, ``w[0]``, ``w[1, 2]`` for arrays."""
    out = []
    for name, arg in zip(names, args):
        shape = xp.shape(arg)
        if shape == ():
            out.append(name)
            continue
        for index in xp.ndindex(*shape):
            out.append(f"{name}[{', '.join(str(i) for i in index)}]")
    return out


def flatten(args: Sequence[Any]) -> Any:
    """All arguments' elements in one float vector."""
    parts = [xp.asarray(a, dtype=xp.float64).reshape(-1) for a in args]
    return xp.concatenate(parts) if parts else xp.zeros(0)


def unflatten(vector: Any, args: Sequence[Any]) -> list[Any]:
    """``vector`` cut back into arrays shaped like ``args`` (0-d for scalars)."""
    out, start = [], 0
    for a in args:
        shape = xp.shape(a)
        size = int(xp.prod(shape)) if shape else 1
        out.append(xp.asarray(vector[start:start + size]).reshape(shape))
        start += size
    return out


def _value(f: Callable[..., Any], args: Sequence[Any]) -> float:
    with xp.errstate(all="ignore"):
        out = f(*args)
    array = xp.asarray(getattr(out, "data", out), dtype=float)
    return float(array.reshape(-1)[0]) if array.size == 1 else float(xp.sum(array))


def domain_problems(f: Callable[..., Any], args: Sequence[Any], names: Sequence[str]
                    ) -> list[str]:
    """f not finite at the point, or at a neighbour a hair away along one input."""
    point = flatten(args)
    labels = element_names(names, args)
    at = _at(labels, point)
    try:
        value = _value(f, list(args))
    except Exception as err:  # noqa: BLE001 - any failure to evaluate is the finding
        return [f"f cannot be evaluated at {at}: {str(err).splitlines()[0]}"]
    if not xp.isfinite(value):
        return [f"the point is outside the domain: f({at}) = {value}"]
    for i, label in enumerate(labels):
        h = PROBE * max(1.0, abs(float(point[i])))
        for sign, side in ((-1.0, "-"), (1.0, "+")):
            moved = point.copy()
            moved[i] += sign * h
            try:
                near = _value(f, unflatten(moved, args))
            except Exception:  # noqa: BLE001 - a neighbour that fails is outside the domain
                near = float("nan")
            if not xp.isfinite(near):
                return [f"the point is on the edge of the domain: f is finite at {at} but "
                        f"f = {near} at {label} {side} {h:.1e}, so no two-sided derivative "
                        f"exists there; a derivative computed there is the rules' "
                        f"convention, not a derivative"]
    return []


def _at(labels: Sequence[str], point: Any) -> str:
    shown = ", ".join(f"{n} = {float(v):g}" for n, v in zip(labels[:6], point[:6]))
    return shown + (", ..." if len(labels) > 6 else "")


def power_conventions(nodes: Sequence[Any], label: Callable[[Any], str], names: dict
                      ) -> list[str]:
    """``x**y`` at x == 0 == y with y differentiated: d/dy = 0**0 * log(0) = -inf,
    which the power rule takes as 0 (its limit for y > 0); a convention to say."""
    out = []
    for node in nodes:
        if node.prim.name != "power" or 1 not in node.needs:
            continue
        x, y = (xp.asarray(a, dtype=float) for a in node.args[:2])
        hit = xp.broadcast_to((x == 0) & (y == 0), xp.shape(node.out))
        if xp.any(hit):
            base, exponent = (label(v) for v in node.inputs[:2])
            out.append(f"{names[id(node)]} = {base}**{exponent} with base 0 and exponent 0: "
                       f"the derivative in the exponent, x**y * log(x), is -inf there; the "
                       f"power rule takes 0 (its limit for y > 0), a convention")
    return out


def kink_notes(report: Any, names_by_out: dict[int, str]) -> list[str]:
    """One line per recorded kink: where, the subdifferential, what the rule took, why."""
    from chainrule.subgradients import TABLE

    where = {id(event): names_by_out.get(key, "")
             for key, (_, event) in getattr(report, "_by_out", {}).items()}
    notes = []
    for event in report:
        kink = TABLE[event.kink]
        step = where.get(id(event)) or event.primitive
        took = "; ".join(", ".join(f"{v:g}" for v in chosen if v is not None)
                         for chosen in event.chosen[:3])
        notes.append(f"{step} = {event.primitive}(...) is at its kink ({kink.where}) in "
                     f"{event.count} element(s): subdifferential {event.subdifferentials[0]}, "
                     f"chainrule takes {took} ({event.policy} policy: "
                     f"{kink.says[event.policy]})")
    return notes
