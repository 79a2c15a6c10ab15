"""Gradient-based optimizers with PyTorch's update formulas and defaults.

An optimizer holds groups of parameters (tensors with ``requires_grad=True``)
and, on ``step()``, moves each parameter that has a ``.grad`` in place. The
arithmetic follows PyTorch's single-tensor implementations operation by
operation (the same order of multiplications and the same lerp), so a
float64 trajectory agrees with ``torch.optim`` to rounding. Updates work on
the parameters' arrays directly, outside the graph: an update is not part of
any derivative. Gradients are only read, never written, because the backward
sweep may hand two leaves the same cotangent array.

>>> import chainrule as cr
>>> w = cr.tensor([1.0, -2.0], requires_grad=True)
>>> opt = cr.optim.SGD([w], lr=0.1)
>>> (w * w).sum().backward()          # grad = 2w
>>> opt.step()
>>> w
tensor([ 0.8, -1.6], requires_grad=True)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from chainrule.backend import xp
from chainrule.core.config import enable_grad
from chainrule.tensor import Tensor

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]


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
                if not p.data.flags.writeable:  # e.g. a read-only view: update a copy
                    p.data = p.data.copy()
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = self._init_state(p.data, group)
                self._update(p.data, g, state, group)
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


def _lerp_(a: Any, b: Any, weight: float) -> None:
    """a <- a + weight * (b - a), in place, with PyTorch's two-sided formula."""
    if weight < 0.5:
        a += weight * (b - a)
    else:  # more accurate near weight = 1
        a[...] = b - (b - a) * (1.0 - weight)


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum and weight decay.

    With momentum m, dampening d and weight decay wd, one step is
    ``g = grad + wd * p; buf = m * buf + (1 - d) * g`` (``buf = g`` on the
    first step); ``p -= lr * (g + m * buf if nesterov else buf)``.

    >>> import chainrule as cr
    >>> w = cr.tensor([1.0], requires_grad=True)
    >>> opt = cr.optim.SGD([w], lr=0.5, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad(); (w * w).sum().backward(); opt.step()
    >>> w
    tensor([-0.9], requires_grad=True)
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3, momentum: float = 0.0,
                 dampening: float = 0.0, weight_decay: float = 0.0, nesterov: bool = False,
                 *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        _check_number("SGD", "momentum", group["momentum"])
        _check_number("SGD", "dampening", group["dampening"], low=-math.inf)
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError("SGD: nesterov=True needs momentum > 0 and dampening = 0")

    def _update(self, p: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        wd, momentum = group["weight_decay"], group["momentum"]
        if wd != 0:
            g = g + wd * p
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = g.copy()
            else:
                buf *= momentum
                buf += (1.0 - group["dampening"]) * g
            g = g + momentum * buf if group["nesterov"] else buf
        p -= group["lr"] * g


class Adagrad(Optimizer):
    """Adagrad: each coordinate's step shrinks with its summed squared gradients.

    ``sum += g * g; p -= lr / (1 + (t - 1) * lr_decay) * g / (sqrt(sum) + eps)``.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, lr_decay: float = 0.0,
                 weight_decay: float = 0.0, initial_accumulator_value: float = 0.0,
                 eps: float = 1e-10, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        for name in ("lr_decay", "initial_accumulator_value", "eps"):
            _check_number("Adagrad", name, group[name])

    def _init_state(self, p: Any, group: dict[str, Any]) -> dict[str, Any]:
        return {"step": 0.0, "sum": xp.full_like(p, group["initial_accumulator_value"])}

    def _update(self, p: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["step"] += 1.0
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        clr = group["lr"] / (1 + (state["step"] - 1) * group["lr_decay"])
        state["sum"] += g * g
        std = xp.sqrt(state["sum"])
        std += group["eps"]
        p += (-clr * g) / std


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root mean square of recent gradients.

    ``v = alpha * v + (1 - alpha) * g * g``; ``p -= lr * g / (sqrt(v) + eps)``;
    ``centered`` subtracts the squared running mean of g from v first, and
    ``momentum`` accumulates ``g / (sqrt(v) + eps)`` in a buffer.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-2, alpha: float = 0.99,
                 eps: float = 1e-8, weight_decay: float = 0.0, momentum: float = 0.0,
                 centered: bool = False, *, maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        for name in ("alpha", "eps", "momentum"):
            _check_number("RMSprop", name, group[name])

    def _init_state(self, p: Any, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": 0.0, "square_avg": xp.zeros_like(p)}
        if group["momentum"] > 0:
            state["momentum_buffer"] = xp.zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = xp.zeros_like(p)
        return state

    def _update(self, p: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["step"] += 1.0
        alpha = group["alpha"]
        if group["weight_decay"] != 0:
            g = g + group["weight_decay"] * p
        square_avg = state["square_avg"]
        square_avg *= alpha
        square_avg += (1.0 - alpha) * g * g
        if group["centered"]:
            grad_avg = state["grad_avg"]
            _lerp_(grad_avg, g, 1.0 - alpha)
            avg = xp.sqrt(square_avg - grad_avg * grad_avg)
        else:
            avg = xp.sqrt(square_avg)
        avg += group["eps"]
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf *= group["momentum"]
            buf += g / avg
            p -= group["lr"] * buf
        else:
            p += (-group["lr"] * g) / avg


class Adam(Optimizer):
    """Adam: steps by bias-corrected running means of the gradient and its square.

    ``m = lerp(m, g, 1 - beta1)``; ``v = beta2 * v + (1 - beta2) * g * g``;
    ``p -= lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)``.
    ``weight_decay`` adds ``wd * p`` to the gradient (L2 regularization);
    ``amsgrad`` divides by the running maximum of v instead.
    """

    _decoupled = False

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize))

    def _check(self, group: dict[str, Any]) -> None:
        super()._check(group)
        _check_number(self._name, "eps", group["eps"])
        betas = group["betas"]
        if not (isinstance(betas, (tuple, list)) and len(betas) == 2):
            raise ValueError(f"{self._name}: betas must be a pair (beta1, beta2), got {betas!r}")
        for i, beta in enumerate(betas):
            _check_number(self._name, f"betas[{i}]", beta, high=1.0, high_open=True)

    def _init_state(self, p: Any, group: dict[str, Any]) -> dict[str, Any]:
        state = {"step": 0.0, "exp_avg": xp.zeros_like(p), "exp_avg_sq": xp.zeros_like(p)}
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = xp.zeros_like(p)
        return state

    def _update(self, p: Any, g: Any, state: dict[str, Any], group: dict[str, Any]) -> None:
        state["step"] += 1.0
        step = state["step"]
        lr, wd, (beta1, beta2) = group["lr"], group["weight_decay"], group["betas"]
        if wd != 0:
            if self._decoupled:  # AdamW: shrink the weights, leave the gradient alone
                p *= 1.0 - lr * wd
            else:
                g = g + wd * p
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        _lerp_(exp_avg, g, 1.0 - beta1)
        exp_avg_sq *= beta2
        exp_avg_sq += (1.0 - beta2) * g * g
        step_size = lr / (1.0 - beta1**step)
        bias_correction2_sqrt = (1.0 - beta2**step) ** 0.5
        if group["amsgrad"]:
            xp.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            denom = xp.sqrt(state["max_exp_avg_sq"]) / bias_correction2_sqrt
        else:
            denom = xp.sqrt(exp_avg_sq) / bias_correction2_sqrt
        denom += group["eps"]
        p += (-step_size * exp_avg) / denom


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p *= 1 - lr * wd`` before the Adam step.

    Unlike Adam's ``weight_decay`` (an L2 term in the gradient, which the
    adaptive denominator then rescales), the decay here shrinks every weight
    by the same factor. Default ``weight_decay=1e-2`` as in PyTorch.
    """

    _decoupled = True

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         amsgrad=amsgrad, maximize=maximize)
