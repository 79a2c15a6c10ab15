"""Turning a symbolic expression into a chainrule function.

The function calls the same primitives the expression names, through the
normal binding, so it runs on arrays, tensors and every transform: the
command line differentiates typed-in formulas with all four methods this way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any


def expression_function(expr: Any, names: Sequence[str]) -> Callable[..., Any]:
    """``expr`` as a function of its symbols, in the order of ``names``
    (tested through the ``diff`` and ``explain`` commands)."""
    from chainrule.symbolic.walk import postorder

    names = list(names)
    missing = sorted(set(expr.free_symbols) - set(names))
    if missing:
        raise ValueError(f"no value for {', '.join(missing)}: give it with --at "
                         f"{missing[0]}=VALUE")
    nodes = postorder([expr])
    position = {name: i for i, name in enumerate(names)}

    def f(*values: Any) -> Any:
        env: dict[int, Any] = {}
        for node in nodes:
            if node.prim is not None:
                env[id(node)] = node.prim(*[env[id(a)] for a in node.args])
            elif node.is_symbol:
                env[id(node)] = values[position[node.value]]
            else:
                env[id(node)] = float(node.value)
        return env[id(expr)]

    f.__name__ = "f"
    return f
