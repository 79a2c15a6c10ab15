"""``functional_call``: a module run with parameters given as arguments.

The transforms differentiate and map functions of their arguments; a
module's parameters live inside it. ``functional_call(model, params, x)``
swaps the given values in for the call (and puts the module's own back
after, even on error), so ``cr.grad``, ``cr.vmap`` and the rest see the
parameters as arguments: ``vmap(grad(loss), in_axes=(None, 0, 0))`` over a
model gives per-example gradients.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chainrule.nn.module import Module

__all__ = ["functional_call"]


def functional_call(module: Module, params: Mapping[str, Any], args: Any,
                    kwargs: Mapping[str, Any] | None = None) -> Any:
    """``module(*args, **kwargs)`` with the parameters and buffers named in
    ``params`` (dotted names, as in ``named_parameters``) replaced by its values.

    >>> import numpy as np, chainrule as cr
    >>> layer = cr.nn.Linear(2, 1)
    >>> params = {"weight": np.array([[1.0, 2.0]]), "bias": np.array([0.5])}
    >>> cr.nn.functional_call(layer, params, (np.array([3.0, 4.0]),))
    array([11.5])
    """
    if not isinstance(params, Mapping):
        raise TypeError(f"functional_call: params must be a dict of dotted names to values "
                        f"(as model.named_parameters() gives), got {type(params).__name__}")
    args = args if isinstance(args, tuple) else (args,)
    swaps = []
    modules = dict(module.named_modules())
    try:
        for name, value in params.items():
            owner_name, _, leaf = name.rpartition(".")
            owner = modules.get(owner_name)
            table = None
            if owner is not None:
                for registry in ("_parameters", "_buffers"):
                    if leaf in getattr(owner, registry):
                        table = getattr(owner, registry)
                        break
            if table is None:
                known = ", ".join(n for n, _ in module.named_parameters())
                raise KeyError(f"functional_call: {type(module).__name__} has no parameter "
                               f"or buffer {name!r}; its parameters are: {known}")
            # the attribute the forward reads; the registries keep the module's own
            swaps.append((owner.__dict__, leaf, owner.__dict__[leaf]))
            owner.__dict__[leaf] = value
        return module(*args, **(kwargs or {}))
    finally:
        for table, leaf, old in reversed(swaps):
            table[leaf] = old
