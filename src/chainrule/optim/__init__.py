"""Optimizers, learning-rate schedules, gradient clipping and ``minimize``.

The deep-learning loop, PyTorch style:

>>> import chainrule as cr
>>> w = cr.tensor([2.0, -1.0], requires_grad=True)
>>> opt = cr.optim.Adam([w], lr=0.1)
>>> for _ in range(3):
...     opt.zero_grad()
...     loss = (w * w).sum()
...     loss.backward()
...     opt.step()
>>> w.numpy().round(3)
array([ 1.701, -0.702])

the calculus-course one, a plain function of an array (``minimize``; and for
non-smooth objectives ``subgradient_method`` and proximal gradient, ``ista``
and ``fista``):

>>> float(cr.optim.minimize(lambda x: (x - 2.0)**2, 0.0, method="gd").x)
1.99999...
"""

from chainrule.optim import proximal, subgradient
from chainrule.optim.clipping import clip_grad_norm_, clip_grad_value_
from chainrule.optim.minimize import MinimizeResult, minimize
from chainrule.optim.optimizers import SGD, Adagrad, Adam, AdamW, Optimizer, RMSprop
from chainrule.optim.proximal import *  # noqa: F403 - its __all__, listed below
from chainrule.optim.schedules import (
    CosineAnnealingLR,
    ExponentialLR,
    LambdaLR,
    LinearLR,
    LRScheduler,
    MultiStepLR,
    SequentialLR,
    StepLR,
)
from chainrule.optim.subgradient import *  # noqa: F403 - its __all__, listed below

__all__ = [
    "Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW",
    "LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LinearLR",
    "LambdaLR", "SequentialLR",
    "clip_grad_norm_", "clip_grad_value_",
    "minimize", "MinimizeResult",
    # methods for non-smooth objectives (subgradient.py, proximal.py)
    *subgradient.__all__, *proximal.__all__,
]
