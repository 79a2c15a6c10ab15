"""The backward sweep: cotangents flow from an output back to its inputs.

One pass in topological order over the recorded nodes. For each node the
primitive's VJP rules give the inputs' cotangents; the sweep sums each back
over broadcast axes and casts it to its input's dtype (rules never do), adds
it to whatever that input already received, and forgets the node's own
cotangent at once. Without ``create_graph`` the rules run on plain arrays
(fast); with it they run on tensors, so the sweep itself is recorded and can
be differentiated again.
"""

from __future__ import annotations

from typing import Any

from chainrule.backend import xp
from chainrule.core.config import state
from chainrule.core.graph import Node, topological_order
from chainrule.ops.shape import astype, sum_to


def _fit(gi: Any, ref: Any) -> Any:
    """The cotangent ``gi`` summed to ``ref``'s shape and cast to its dtype."""
    shape = ref.shape
    if gi.shape != shape:
        gi = sum_to(gi, shape)
    if gi.dtype != ref.dtype:
        gi = astype(gi, ref.dtype)
    return gi


def _check_finite(gi: Any, node: Node, i: int) -> None:
    data = getattr(gi, "data", gi)
    if not xp.all(xp.isfinite(data)):
        where = f" (created at {node.where})" if node.where else ""
        raise FloatingPointError(
            f"anomaly: the backward rule of {node.prim.name!r} for argument {i} "
            f"produced NaN or Inf{where}")


def backward_pass(root: Node, seed: Any, *, targets: set[int] | None = None,
                  create_graph: bool = False, retain_graph: bool = False
                  ) -> dict[int, tuple[Any, Any]]:
    """Sweep from ``root`` (its cotangent ``seed``) and return leaf cotangents.

    The result maps ``id(x)`` to ``(x, cotangent)`` for every leaf tensor
    reached, and for every target node (by node id) when ``targets`` is given;
    the sweep stops at target nodes instead of passing through them.
    """
    order = topological_order(root, targets)
    cots: dict[Node, Any] = {root: seed}
    found: dict[int, tuple[Any, Any]] = {}
    anomaly = state.anomaly
    for node in order:
        g = cots.pop(node, None)
        if g is None:  # a symbolic zero: nothing flows through this node
            continue
        if targets is not None and id(node) in targets:
            found[id(node)] = (node, g)
            continue
        prim = node.prim
        inputs = node.inputs
        params = node.params
        if create_graph:
            args = inputs
            out = prim(*inputs, **params)  # recomputed so the rule sees a live tensor
        else:
            args = node.args
            out = node.out
        rules = prim.vjps
        for i in node.needs:
            rule = rules[i]
            if rule is None:
                continue
            gi = rule(g, out, *args, **params)
            if gi is None:  # a symbolic zero
                continue
            ref = args[i]
            if gi.shape != ref.shape or gi.dtype != ref.dtype:
                gi = _fit(gi, ref)
            if anomaly:
                _check_finite(gi, node, i)
            x = inputs[i]
            xnode = x._node
            if xnode is None:  # a leaf: its cotangent is a result
                xkey = id(x)
                prev = found.get(xkey)
                found[xkey] = (x, gi if prev is None else prev[1] + gi)
            else:
                prev = cots.get(xnode)
                cots[xnode] = gi if prev is None else prev + gi
        if not retain_graph:
            node.free()
    return found
