"""The optimizer base class: parameter groups, per-parameter state, step, state_dict.

Subclasses (``optimizers.py``) supply only the update rule of one parameter.
Updates work on the parameters' arrays in place, outside the graph, through
``tensor.changing``, which marks each parameter changed: a backward through a
graph recorded before the step refuses to use the new values.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from chainrule.backend import xp
from chainrule.core.config import enable_grad
from chainrule.tensor import Tensor, changing

__all__ = ["Optimizer"]


def _check_number(owner: str, name: str, value: Any, low: float = 0.0,
                  high: float | None = None, high_open: bool = False) -> None:
    """A hyperparameter must be a finite real number in [low, high] (or [low, high))."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) and value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        bound = "" if high is None else (f" and < {high:g}" if high_open else f" and <= {high:g}")
        raise ValueError(f"{owner}: {name} must be a finite number >= {low:g}{bound}, "
                         f"got {value!r}")


class Optimizer:
    """Base class: parameter groups, per-parameter state, ``step`` and ``zero_grad``.

    ``params`` is an iterable of tensors, or of dicts (parameter groups) each
    with a ``"params"`` list and hyperparameters overriding ``defaults``.
    Subclasses define ``_check`` (hyperparameters of one group), ``_init_state``
    and ``_update`` (one parameter's array, its gradient, its state, its group).
    """

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}  # tensors hash by identity
        self.param_groups: list[dict[str, Any]] = []
        if isinstance(params, (Tensor, dict)):
            raise TypeError(f"{self._name}: params must be an iterable of tensors or of "
                            f"parameter groups (dicts), got a single {type(params).__name__}")
        groups = list(params)
        if not groups:
            raise ValueError(f"{self._name}: got an empty parameter list; pass "
                             f"model.parameters() or a list of tensors with requires_grad=True")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    def add_param_group(self, group: dict[str, Any]) -> None:
        """Add a group of parameters with its own hyperparameters (e.g. a smaller lr)."""
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{self._name}: a parameter group is a dict with a 'params' key")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{self._name}: a parameter group has no parameters")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{self._name}: parameter {i} is a {type(p).__name__}, "
                                f"expected a Tensor with requires_grad=True")
            if p.dtype.kind != "f" or not isinstance(p.data, xp.ndarray):
                raise TypeError(f"{self._name}: parameter {i} has dtype {p.dtype}; only "
                                f"floating tensors can be optimized")
            if not p.is_leaf:
                raise ValueError(f"{self._name}: parameter {i} is the result of an operation, "
                                 f"not a leaf; optimize the tensors it was computed from")
            if id(p) in seen:
                raise ValueError(f"{self._name}: a parameter appears twice (in one group or "
                                 f"in two groups); each tensor may be listed once")
            seen.add(id(p))
        unknown = set(group) - set(self.defaults) - {"params", "initial_lr"}
        if unknown:
            raise TypeError(f"{self._name}: unknown hyperparameter(s) {sorted(unknown)}; "
                            f"known: {sorted(self.defaults)}")
        full = {**self.defaults, **group, "params": params}
        self._check(full)
        self.param_groups.append(full)

    def _check(self, group: dict[str, Any]) -> None:
        _check_number(self._name, "lr", group["lr"])
        _check_number(self._name, "weight_decay", group.get("weight_decay", 0.0))

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget every parameter's gradient before the next backward pass."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                p.grad = None if set_to_none else Tensor._wrap(xp.zeros_like(p.data), None)

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Update every parameter that has a gradient; return ``closure()`` if given.

        ``closure`` re-evaluates the model and returns the loss (it runs with
        gradient recording on), for optimizers that need it.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = self._grad_of(p)
                if group.get("maximize", False):
                    g = -g
                # in place, the sanctioned way: a backward through a graph recorded
                # before this step refuses to run instead of using the new values
                with changing(p) as data:
                    state = self.state.get(p)
                    if state is None:
                        state = self.state[p] = self._init_state(data, group)
                    self._update(data, g, state, group)
        return loss

    def _grad_of(self, p: Tensor) -> Any:
        g = p.grad.data if isinstance(p.grad, Tensor) else xp.asarray(p.grad)
        if g.shape != p.shape:
            raise ValueError(f"{self._name}: a parameter of shape {p.shape} has a gradient of "
                             f"shape {g.shape}")
        return g if g.dtype == p.dtype else g.astype(p.dtype)

    def _init_state(self, p: Any, group: dict[str, Any]) -> dict[str, Any]:
        return {}

    def _update(self, p: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        raise NotImplementedError

    # ----- saving and restoring (e.g. to resume training) -----
    def state_dict(self) -> dict[str, Any]:
        """A copy of the state and hyperparameters; parameters are named by position."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in group.items() if k != "params"}, "params": ids})
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                if p in self.state:
                    state[index[id(p)]] = {k: (v.copy() if isinstance(v, xp.ndarray) else v)
                                           for k, v in self.state[p].items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned; checked fully before anything changes."""
        groups = state_dict.get("param_groups") if isinstance(state_dict, dict) else None
        if not isinstance(groups, list) or len(groups) != len(self.param_groups):
            raise ValueError(f"{self._name}.load_state_dict: expected "
                             f"{len(self.param_groups)} parameter group(s), got "
                             f"{None if groups is None else len(groups)}")
        params = [p for group in self.param_groups for p in group["params"]]
        for i, (saved, group) in enumerate(zip(groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{self._name}.load_state_dict: group {i} has "
                                 f"{len(group['params'])} parameters, the saved one has "
                                 f"{len(saved['params'])}")
        new_state: dict[Tensor, dict[str, Any]] = {}
        for key, entry in state_dict.get("state", {}).items():
            if not isinstance(key, int) or not 0 <= key < len(params):
                raise ValueError(f"{self._name}.load_state_dict: state for unknown "
                                 f"parameter {key!r}")
            p = params[key]
            restored = {}
            for name, value in entry.items():
                if isinstance(value, xp.ndarray):
                    if value.shape != p.shape:
                        raise ValueError(f"{self._name}.load_state_dict: state {name!r} of "
                                         f"parameter {key} has shape {value.shape}, the "
                                         f"parameter has shape {p.shape}")
                    value = value.astype(p.dtype, copy=True)
                restored[name] = value
            new_state[p] = restored
        for saved, group in zip(groups, self.param_groups):
            group.update({k: v for k, v in saved.items() if k != "params"})
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{self._name} ("]
        for i, group in enumerate(self.param_groups):
            hyper = ", ".join(f"{k}={v}" for k, v in group.items() if k != "params")
            lines.append(f"  group {i}: {len(group['params'])} parameters, {hyper}")
        return "\n".join(lines) + "\n)"
