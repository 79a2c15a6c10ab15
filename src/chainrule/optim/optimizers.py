"""Gradient-based optimizers with PyTorch's update formulas and defaults.

An optimizer holds groups of parameters (tensors with ``requires_grad=True``)
and, on ``step()``, moves each parameter that has a ``.grad`` in place. The
arithmetic follows PyTorch's single-tensor implementations operation by
operation (the same order of multiplications and the same lerp), so a
float64 trajectory agrees with ``torch.optim`` to rounding. Updates work on
the parameters' arrays in place, outside the graph: an update is not part of
any derivative, and a backward through a graph recorded before the step
refuses to run (the parameters' versions say they changed). Gradients are
only read, never written.

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
from collections.abc import Iterable
from typing import Any

from chainrule.backend import xp
from chainrule.optim.optimizer import Optimizer, _check_number

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW"]


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
