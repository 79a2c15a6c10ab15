"""Losses as modules (``criterion = nn.CrossEntropyLoss(); criterion(logits, y)``),
each calling its function in ``chainrule.nn.functional``."""

from __future__ import annotations

from typing import Any

from chainrule.nn import functional_losses as L
from chainrule.nn.module import Module

__all__ = ["MSELoss", "L1Loss", "HuberLoss", "SmoothL1Loss", "CrossEntropyLoss", "NLLLoss",
           "BCELoss", "BCEWithLogitsLoss", "HingeLoss", "HingeEmbeddingLoss",
           "MultiMarginLoss"]

_REDUCTIONS = ("mean", "sum", "none")


class _Loss(Module):
    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in _REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: reduction must be 'mean', 'sum' or "
                             f"'none', got {reduction!r}")
        self.reduction = reduction

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}" if self.reduction != "mean" else ""


class MSELoss(_Loss):
    """Squared error, ``functional.mse_loss``."""

    def forward(self, x: Any, target: Any) -> Any:
        return L.mse_loss(x, target, self.reduction)


class L1Loss(_Loss):
    """Absolute error, ``functional.l1_loss``."""

    def forward(self, x: Any, target: Any) -> Any:
        return L.l1_loss(x, target, self.reduction)


class HuberLoss(_Loss):
    """Quadratic within ``delta``, linear beyond, ``functional.huber_loss``."""

    def __init__(self, reduction: str = "mean", delta: float = 1.0) -> None:
        super().__init__(reduction)
        self.delta = delta

    def forward(self, x: Any, target: Any) -> Any:
        return L.huber_loss(x, target, self.reduction, self.delta)


class SmoothL1Loss(_Loss):
    """Huber divided by ``beta``, ``functional.smooth_l1_loss``."""

    def __init__(self, reduction: str = "mean", beta: float = 1.0) -> None:
        super().__init__(reduction)
        self.beta = beta

    def forward(self, x: Any, target: Any) -> Any:
        return L.smooth_l1_loss(x, target, self.reduction, self.beta)


class CrossEntropyLoss(_Loss):
    """Cross-entropy from logits, ``functional.cross_entropy``.

    >>> import numpy as np, chainrule as cr
    >>> loss = cr.nn.CrossEntropyLoss(label_smoothing=0.1)
    >>> round(float(loss(np.array([[2.0, 0.0, -1.0]]), np.array([0]))), 4)
    0.3365
    """

    def __init__(self, weight: Any = None, ignore_index: int = -100, reduction: str = "mean",
                 label_smoothing: float = 0.0) -> None:
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index
        self.label_smoothing = label_smoothing

    def forward(self, x: Any, target: Any) -> Any:
        return L.cross_entropy(x, target, self.weight, self.ignore_index, self.reduction,
                               self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of log-probabilities, ``functional.nll_loss``."""

    def __init__(self, weight: Any = None, ignore_index: int = -100,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight, self.ignore_index = weight, ignore_index

    def forward(self, x: Any, target: Any) -> Any:
        return L.nll_loss(x, target, self.weight, self.ignore_index, self.reduction)


class BCELoss(_Loss):
    """Binary cross-entropy of probabilities, ``functional.binary_cross_entropy``."""

    def __init__(self, weight: Any = None, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.weight = weight

    def forward(self, x: Any, target: Any) -> Any:
        return L.binary_cross_entropy(x, target, self.weight, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy from logits, stably:
    ``functional.binary_cross_entropy_with_logits``."""

    def __init__(self, weight: Any = None, reduction: str = "mean",
                 pos_weight: Any = None) -> None:
        super().__init__(reduction)
        self.weight, self.pos_weight = weight, pos_weight

    def forward(self, x: Any, target: Any) -> Any:
        return L.binary_cross_entropy_with_logits(x, target, self.weight, self.reduction,
                                                  self.pos_weight)


class HingeLoss(_Loss):
    """The binary SVM hinge max(0, margin - t x) for t = +-1, ``functional.hinge_loss``."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, x: Any, target: Any) -> Any:
        return L.hinge_loss(x, target, self.margin, self.reduction)


class HingeEmbeddingLoss(_Loss):
    """x for t = 1, max(0, margin - x) for t = -1, ``functional.hinge_embedding_loss``."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.margin = margin

    def forward(self, x: Any, target: Any) -> Any:
        return L.hinge_embedding_loss(x, target, self.margin, self.reduction)


class MultiMarginLoss(_Loss):
    """The multi-class hinge loss, ``functional.multi_margin_loss``."""

    def __init__(self, p: int = 1, margin: float = 1.0, weight: Any = None,
                 reduction: str = "mean") -> None:
        super().__init__(reduction)
        self.p, self.margin, self.weight = p, margin, weight

    def forward(self, x: Any, target: Any) -> Any:
        return L.multi_margin_loss(x, target, self.p, self.margin, self.weight, self.reduction)
