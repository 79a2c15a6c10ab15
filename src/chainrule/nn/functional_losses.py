"""Losses, with ``torch.nn.functional``'s names, arguments and semantics exactly.

Each takes ``reduction``: ``'mean'`` (the default), ``'sum'`` or ``'none'``
(one loss per element or sample). The classification losses take integer
class indices; ``cross_entropy`` also takes class probabilities. With class
weights, ``'mean'`` divides by the total weight of the targets, not by their
number (PyTorch's weighted mean). Targets and class weights are constants:
gradients flow to the input (and, for the regression losses, the target).

>>> import numpy as np, chainrule as cr
>>> logits = np.array([[2.0, 0.0, -1.0]])
>>> round(float(cr.nn.functional.cross_entropy(logits, np.array([0]))), 4)
0.1698
"""

from __future__ import annotations

from typing import Any

from chainrule import ops
from chainrule.backend import dtype_of, shape_of, xp
from chainrule.core.escape import carries_derivative, constant
from chainrule.ops.activations import log_softmax
from chainrule.ops.gather import index_values, traced_index

__all__ = [
    "mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss", "cross_entropy", "nll_loss",
    "binary_cross_entropy", "binary_cross_entropy_with_logits", "hinge_loss",
    "hinge_embedding_loss", "multi_margin_loss",
]


def _reduce(loss: Any, reduction: str, name: str) -> Any:
    if reduction == "mean":
        return ops.mean(loss)
    if reduction == "sum":
        return ops.sum(loss)
    if reduction == "none":
        return loss
    raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _plain(v: Any) -> Any:
    """The values of ``v`` outside every graph and transform, deliberately."""
    return constant(v)


def _same_shape(name: str, x: Any, target: Any) -> None:
    if tuple(shape_of(x)) != tuple(shape_of(target)):
        raise ValueError(f"{name}: input has shape {tuple(shape_of(x))} and target "
                         f"{tuple(shape_of(target))}; they must be the same")


# ----- regression -----

def mse_loss(x: Any, target: Any, reduction: str = "mean") -> Any:
    """(x - target)^2."""
    _same_shape("mse_loss", x, target)
    d = x - target
    return _reduce(d * d, reduction, "mse_loss")


def l1_loss(x: Any, target: Any, reduction: str = "mean") -> Any:
    """|x - target| (derivative 0 where they are equal)."""
    _same_shape("l1_loss", x, target)
    return _reduce(ops.abs(x - target), reduction, "l1_loss")


def huber_loss(x: Any, target: Any, reduction: str = "mean", delta: float = 1.0) -> Any:
    """d^2 / 2 where |d| < delta, else delta * (|d| - delta / 2), with d = x - target:
    quadratic near 0, linear (robust to outliers) beyond ``delta``.

    >>> import numpy as np
    >>> huber_loss(np.array([0.5, 3.0]), np.zeros(2), reduction="none")
    array([0.125, 2.5  ])
    """
    _same_shape("huber_loss", x, target)
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be positive, got {delta}")
    d = x - target
    a = ops.abs(d)
    loss = ops.where(a < delta, d * d * 0.5, (a - 0.5 * delta) * float(delta))
    return _reduce(loss, reduction, "huber_loss")


def smooth_l1_loss(x: Any, target: Any, reduction: str = "mean", beta: float = 1.0) -> Any:
    """Huber divided by ``beta``: d^2 / (2 beta) where |d| < beta, else |d| - beta / 2."""
    _same_shape("smooth_l1_loss", x, target)
    if beta < 0:
        raise ValueError(f"smooth_l1_loss: beta must be non-negative, got {beta}")
    d = x - target
    a = ops.abs(d)
    if beta == 0:
        return _reduce(a, reduction, "smooth_l1_loss")
    loss = ops.where(a < beta, d * d * (0.5 / beta), a - 0.5 * beta)
    return _reduce(loss, reduction, "smooth_l1_loss")


# ----- classification with class indices -----

def _class_layout(name: str, x: Any, target: Any) -> tuple[int, int]:
    """(class axis, number of classes) of input (C,), (N, C) or (N, C, d1, ...), after
    checking that an integer target has the input's shape without the class axis."""
    xs, ts = tuple(shape_of(x)), tuple(shape_of(target))
    if not xs:
        raise ValueError(f"{name}: input must have a class axis: (C,), (N, C) or "
                         f"(N, C, d1, ...), got a scalar")
    axis = 1 if len(xs) >= 2 else 0
    expected = xs[:axis] + xs[axis + 1:]
    if ts != expected:
        raise ValueError(f"{name}: input of shape {xs} has classes along axis {axis}, so the "
                         f"target must have shape {expected}, got {ts}")
    return axis, xs[axis]


def _class_indices(name: str, target: Any, n_classes: int, ignore_index: int) -> Any:
    t = _plain(target)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{name}: the target must hold integer class indices, got dtype "
                        f"{t.dtype} (class probabilities go to cross_entropy)")
    bad = (t != ignore_index) & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(f"{name}: target {int(t[bad].ravel()[0])} is out of range for "
                         f"{n_classes} classes (valid: 0 to {n_classes - 1}, or "
                         f"ignore_index={ignore_index})")
    return t


def _class_weight(name: str, weight: Any, n_classes: int, dtype: Any) -> Any:
    if weight is None:
        return None
    if carries_derivative(weight):  # would silently get no derivative
        raise TypeError(f"{name}: the class weights carry a derivative, but the loss uses "
                        f"them as constants (PyTorch has no derivative for them either); "
                        f"pass cr.stop_gradient(weight) or weight.detach() to use their "
                        f"values")
    w = _plain(weight).astype(dtype)
    if w.shape != (n_classes,):
        raise ValueError(f"{name}: weight must have one entry per class, shape "
                         f"({n_classes},), got {w.shape}")
    return w


def _picked(x: Any, t: Any, axis: int, n_classes: int) -> Any:
    """x at each target's class: shape of ``t`` (ignored targets read class 0)."""
    ndim = len(shape_of(x))
    if ndim == 2:  # (N, C): one gather, the common case kept to a single graph node
        return ops.getitem(x, (xp.arange(t.shape[0]), t))
    if ndim == 1:
        return ops.getitem(x, int(t))
    rows = ops.reshape(ops.moveaxis(x, axis, -1), (-1, n_classes))
    flat = t.reshape(-1)
    return ops.reshape(ops.getitem(rows, (xp.arange(flat.size), flat)), t.shape)


def _nll_terms(name, logp, target, weight, ignore_index, axis, n_classes):
    """log p at each target, the targets' weights (None: each counts 1 and none is
    ignored), the mask of targets not ignored, and the class weights."""
    traced = traced_index(target)
    if traced is not None:
        return _nll_terms_traced(name, logp, traced, weight, ignore_index, axis, n_classes)
    dtype = dtype_of(logp)
    t = _class_indices(name, target, n_classes, ignore_index)
    w = _class_weight(name, weight, n_classes, dtype)
    keep = t != ignore_index
    if w is None and keep.all():
        return _picked(logp, t, axis, n_classes), None, keep, w
    safe = xp.where(keep, t, 0)
    per_target = keep.astype(dtype) if w is None else xp.where(keep, w[safe], 0).astype(dtype)
    return _picked(logp, safe, axis, n_classes), per_target, keep, w


def _nll_terms_traced(name, logp, t, weight, ignore_index, axis, n_classes):
    """``_nll_terms`` for targets mapped by vmap (or traced by jit): the same terms from
    operations that map (a gather per example), so each example reads its own target."""
    if xp.dtype(dtype_of(t)).kind not in "iu":
        raise TypeError(f"{name}: the target must hold integer class indices, got dtype "
                        f"{dtype_of(t)} (class probabilities go to cross_entropy)")
    values = index_values(t)  # every example's targets (None under jit: no numbers)
    if values is not None:
        bad = (values != ignore_index) & ((values < 0) | (values >= n_classes))
        if bad.any():
            raise IndexError(f"{name}: target {int(values[bad].ravel()[0])} is out of range "
                             f"for {n_classes} classes (valid: 0 to {n_classes - 1}, or "
                             f"ignore_index={ignore_index})")
    dtype = dtype_of(logp)
    w = _class_weight(name, weight, n_classes, dtype)
    keep = t != ignore_index
    safe = ops.where(keep, t, 0)
    shape = tuple(shape_of(safe))
    rows = ops.moveaxis(logp, axis, -1) if len(shape_of(logp)) > 1 else logp
    positions = tuple(xp.arange(d).reshape((-1,) + (1,) * (len(shape) - 1 - k))
                      for k, d in enumerate(shape))
    picked = ops.getitem(rows, (*positions, safe))
    per_target = ops.astype(keep, dtype) if w is None else ops.where(
        keep, ops.getitem(w, safe), xp.zeros((), dtype=dtype))
    return picked, per_target, keep, w


def _reduce_nll(picked: Any, per_target: Any, reduction: str) -> Any:
    """-w log p per target, reduced; 'mean' divides by the summed weights."""
    if per_target is None:
        if reduction == "mean":
            return -ops.mean(picked)
        return -ops.sum(picked) if reduction == "sum" else -picked
    loss = picked * per_target
    if reduction == "mean":
        return -ops.sum(loss) / per_target.sum()
    return -ops.sum(loss) if reduction == "sum" else -loss


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', "
                         f"got {reduction!r}")


def nll_loss(x: Any, target: Any, weight: Any = None, ignore_index: int = -100,
             reduction: str = "mean") -> Any:
    """-x[target] for log-probabilities ``x``, times the target class's weight; targets
    equal to ``ignore_index`` count for nothing. ``'mean'`` divides by the summed
    weights of the targets."""
    _check_reduction("nll_loss", reduction)
    axis, n = _class_layout("nll_loss", x, target)
    picked, per_target, _, _ = _nll_terms("nll_loss", x, target, weight, ignore_index, axis, n)
    return _reduce_nll(picked, per_target, reduction)


def cross_entropy(x: Any, target: Any, weight: Any = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Any:
    """Cross-entropy between the softmax of logits ``x`` and the target: integer class
    indices (with ``ignore_index``) or class probabilities of ``x``'s shape.

    ``label_smoothing`` e mixes the target with the uniform distribution,
    (1 - e) * target + e / C. Computed with ``log_softmax`` (no overflow).
    """
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], "
                         f"got {label_smoothing}")
    _check_reduction("cross_entropy", reduction)
    xs, ts = tuple(shape_of(x)), tuple(shape_of(target))
    if xs and ts == xs and dtype_of(target).kind == "f":
        return _soft_cross_entropy(x, target, weight, reduction, label_smoothing)
    axis, n = _class_layout("cross_entropy", x, target)
    logp = log_softmax(x, axis=axis)
    picked, per_target, keep, w = _nll_terms("cross_entropy", logp, target, weight,
                                             ignore_index, axis, n)
    loss = _reduce_nll(picked, per_target, reduction)
    if label_smoothing == 0.0:
        return loss
    weighted = logp if w is None else logp * w.reshape((-1,) + (1,) * (len(xs) - axis - 1))
    smooth = -ops.sum(weighted, axis=axis)
    if per_target is not None:  # some target ignored (or mapped: keep has no one value)
        smooth = smooth * ops.astype(keep, dtype_of(logp))
    if reduction == "mean":
        total = float(keep.sum()) if per_target is None else per_target.sum()
        smooth = ops.sum(smooth) / total
    elif reduction == "sum":
        smooth = ops.sum(smooth)
    return loss * (1.0 - label_smoothing) + smooth * (label_smoothing / n)


def _soft_cross_entropy(x, target, weight, reduction, label_smoothing):
    axis = 1 if len(shape_of(x)) >= 2 else 0
    n = shape_of(x)[axis]
    logp = log_softmax(x, axis=axis)
    if label_smoothing:
        target = target * (1.0 - label_smoothing) + label_smoothing / n
    w = _class_weight("cross_entropy", weight, n, dtype_of(logp))
    if w is not None:
        logp = logp * w.reshape((-1,) + (1,) * (len(shape_of(x)) - axis - 1))
    loss = -ops.sum(logp * target, axis=axis)
    return _reduce(loss, reduction, "cross_entropy")


# ----- binary classification -----

def _fits(name: str, what: str, value: Any, x: Any) -> None:
    """``value`` (a weight) must broadcast to the input's shape without enlarging it."""
    if value is None:
        return
    shape, xs = tuple(shape_of(value)), tuple(shape_of(x))
    try:
        fits = xp.broadcast_shapes(shape, xs) == xs
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{name}: {what} of shape {shape} does not broadcast to the input's "
                         f"shape {xs}")


def binary_cross_entropy_with_logits(x: Any, target: Any, weight: Any = None,
                                     reduction: str = "mean", pos_weight: Any = None) -> Any:
    """-[p t log s(x) + (1 - t) log(1 - s(x))], s the sigmoid, computed stably as
    (1 - t) x + (1 + (p - 1) t) softplus(-x); ``pos_weight`` p (one per class, the
    last axis) weighs the positive term, ``weight`` each element.

    >>> import numpy as np
    >>> float(binary_cross_entropy_with_logits(np.array([1000.0]), np.array([1.0])))
    0.0
    """
    name = "binary_cross_entropy_with_logits"
    _same_shape(name, x, target)
    _fits(name, "weight", weight, x)
    _fits(name, "pos_weight", pos_weight, x)
    negative_part = ops.softplus(-x)  # -log s(x), exact even for |x| in the thousands
    if pos_weight is None:
        loss = (1.0 - target) * x + negative_part
    else:
        loss = (1.0 - target) * x + ((pos_weight - 1.0) * target + 1.0) * negative_part
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy_with_logits")


def binary_cross_entropy(x: Any, target: Any, weight: Any = None,
                         reduction: str = "mean") -> Any:
    """-[t log x + (1 - t) log(1 - x)] for probabilities ``x``; each log is clamped at
    -100 as in PyTorch. Prefer ``binary_cross_entropy_with_logits`` (stable)."""
    _same_shape("binary_cross_entropy", x, target)
    _fits("binary_cross_entropy", "weight", weight, x)
    values = _plain(x)
    if values.size and (values.min() < 0 or values.max() > 1):
        raise ValueError("binary_cross_entropy: the input must hold probabilities in "
                         "[0, 1]; for logits use binary_cross_entropy_with_logits")
    log_x = ops.maximum(ops.log(x), -100.0)
    log_not_x = ops.maximum(ops.log(1.0 - x), -100.0)
    loss = -(target * log_x + (1.0 - target) * log_not_x)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction, "binary_cross_entropy")


# ----- hinge losses -----

def hinge_loss(x: Any, target: Any, margin: float = 1.0, reduction: str = "mean") -> Any:
    """The binary (SVM) hinge max(0, margin - t x), for scores x and labels t of 1 or -1.

    Its derivative at the kink t x = margin is 0, relu's convention (the
    minimum-norm subgradient); the labels are constants.

    >>> import numpy as np
    >>> hinge_loss(np.array([2.0, 0.5, -1.0]), np.array([1, 1, -1]), reduction="none")
    array([0. , 0.5, 0. ])
    """
    _same_shape("hinge_loss", x, target)
    t = _plain(target)
    if not xp.isin(t, (-1, 1)).all():
        raise ValueError("hinge_loss: targets must be 1 or -1 (for labels y in {0, 1} "
                         "pass 2 * y - 1)")
    loss = ops.relu(float(margin) - x * t.astype(dtype_of(x)))
    return _reduce(loss, reduction, "hinge_loss")


def hinge_embedding_loss(x: Any, target: Any, margin: float = 1.0,
                         reduction: str = "mean") -> Any:
    """PyTorch's HingeEmbeddingLoss, for targets t of +1 or -1 (x is typically a
    distance): x where t = 1, max(0, margin - x) where t = -1.

    >>> import numpy as np
    >>> hinge_embedding_loss(np.array([0.3, 0.3]), np.array([1, -1]), reduction="none")
    array([0.3, 0.7])
    """
    _same_shape("hinge_embedding_loss", x, target)
    t = _plain(target)
    if not xp.isin(t, (-1, 1)).all():
        raise ValueError("hinge_embedding_loss: targets must be 1 or -1")
    loss = ops.where(t == 1, x, ops.relu(float(margin) - x))
    return _reduce(loss, reduction, "hinge_embedding_loss")


def multi_margin_loss(x: Any, target: Any, p: int = 1, margin: float = 1.0, weight: Any = None,
                      reduction: str = "mean") -> Any:
    """PyTorch's MultiMarginLoss, the multi-class hinge loss (Weston & Watkins): for
    scores x (N, C) or (C,) and class indices y,
    sum over i != y of max(0, margin - x[y] + x[i])^p, divided by C (p is 1 or 2);
    ``weight[y]`` scales each sample's loss, and ``'mean'`` is the plain mean.

    >>> import numpy as np
    >>> float(multi_margin_loss(np.array([[0.1, 0.2, 0.4, 0.8]]), np.array([3])))
    0.325
    """
    if p not in (1, 2):
        raise ValueError(f"multi_margin_loss: p must be 1 or 2, got {p!r}")
    if len(shape_of(x)) not in (1, 2):
        raise ValueError(f"multi_margin_loss: input must be (N, C) or (C,), got "
                         f"{tuple(shape_of(x))}")
    axis, n = _class_layout("multi_margin_loss", x, target)
    t = _class_indices("multi_margin_loss", target, n, ignore_index=-(2 ** 62))
    dtype = dtype_of(x)
    picked = _picked(x, t, axis, n)
    gap = ops.relu(ops.expand_dims(float(margin) - picked, -1) + x)
    if p == 2:
        gap = gap * gap
    others = (xp.arange(n) != t[..., None]).astype(dtype)  # the true class does not count
    per_sample = ops.sum(gap * others, axis=-1) / float(n)
    w = _class_weight("multi_margin_loss", weight, n, dtype)
    if w is not None:
        per_sample = per_sample * w[t]
    return _reduce(per_sample, reduction, "multi_margin_loss")
